package org.hope4j.sleep;

/**
 * What one sleep did: it {@link Committed committed} its consolidated copy, {@link RolledBack rolled
 * back} (the retention probe degraded past its bound, or the sleep failed) leaving the old state
 * intact, or was {@link Preempted preempted} by a user call before it could finish.
 *
 * <p>Bits/byte figures are measured on recent experience and on the retention probe (held-out
 * general text), before and after the sleep. A figure that was not measured is {@code NaN} and
 * appears as {@code null} in {@link #toJson()}.
 */
public sealed interface SleepReport {

    /**
     * Wall time the sleep took, in seconds.
     *
     * @return seconds from the start of the sleep until it ended or stopped; finite and {@code >= 0}
     */
    double seconds();

    /**
     * Why the sleep ended the way it did, in words.
     *
     * @return the reason; never {@code null}
     */
    String reason();

    /**
     * What else the sleep measured and did (steps, the guard's references, dreams, the expert's slot); {@link SleepFigures#NONE} if nothing.
     *
     * @return the figures; {@link SleepFigures#NONE} for {@link Preempted} and for a report made without figures
     */
    default SleepFigures figures() {
        return SleepFigures.NONE;
    }

    /**
     * True only for {@link Committed}.
     *
     * @return whether the sleep's consolidated state replaced the live state
     */
    default boolean committed() {
        return this instanceof Committed;
    }

    /**
     * One JSON object with the keys {@code committed, reason, consolidated_bytes, seconds,
     * recent_bits_per_byte_before, recent_bits_per_byte_after, probe_bits_per_byte_before,
     * probe_bits_per_byte_after}, in that order. For {@link Preempted} the byte count and
     * bits/byte figures are {@code null}; so is any figure that is not finite.
     *
     * @return the report as one JSON object on one line
     */
    default String toJson() {
        return ReportJson.toJson(this);
    }

    /**
     * The sleep's consolidated state replaced the live state in one atomic swap.
     *
     * @param consolidatedBytes bytes of experience consolidated
     * @param seconds wall time of the sleep
     * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep
     * @param recentBitsPerByteAfter bits/byte on recent experience after the sleep
     * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep
     * @param probeBitsPerByteAfter bits/byte on the retention probe after the sleep
     * @param reason why it committed
     * @param figures what else it measured and did
     */
    record Committed(long consolidatedBytes, double seconds, double recentBitsPerByteBefore,
            double recentBitsPerByteAfter, double probeBitsPerByteBefore, double probeBitsPerByteAfter,
            String reason, SleepFigures figures) implements SleepReport {
        /**
         * Checks the components.
         *
         * @param consolidatedBytes bytes of experience consolidated, {@code >= 0}
         * @param seconds wall time of the sleep, in seconds; finite and {@code >= 0}
         * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep; {@code >= 0}, or {@code NaN}
         * @param recentBitsPerByteAfter bits/byte on recent experience after the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteAfter bits/byte on the retention probe after the sleep; {@code >= 0}, or {@code NaN}
         * @param reason why it committed; not {@code null}
         * @param figures what else it measured and did; not {@code null} ({@link SleepFigures#NONE} if nothing)
         * @throws IllegalArgumentException if {@code consolidatedBytes} is negative, {@code seconds} is negative
         *     or not finite, {@code reason} or {@code figures} is {@code null}, or a bits/byte figure is negative
         */
        public Committed {
            ReportJson.validate(consolidatedBytes, seconds, reason, recentBitsPerByteBefore,
                    recentBitsPerByteAfter, probeBitsPerByteBefore, probeBitsPerByteAfter);
            if (figures == null) {
                throw new IllegalArgumentException("figures must not be null (SleepFigures.NONE if nothing was measured)");
            }
        }

        /**
         * A report without further figures ({@link SleepFigures#NONE}).
         *
         * @param consolidatedBytes bytes of experience consolidated, {@code >= 0}
         * @param seconds wall time of the sleep, in seconds; finite and {@code >= 0}
         * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep; {@code >= 0}, or {@code NaN}
         * @param recentBitsPerByteAfter bits/byte on recent experience after the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteAfter bits/byte on the retention probe after the sleep; {@code >= 0}, or {@code NaN}
         * @param reason why it committed; not {@code null}
         * @throws IllegalArgumentException if {@code consolidatedBytes} is negative, {@code seconds} is negative
         *     or not finite, {@code reason} is {@code null}, or a bits/byte figure is negative
         */
        public Committed(long consolidatedBytes, double seconds, double recentBitsPerByteBefore, double recentBitsPerByteAfter,
                double probeBitsPerByteBefore, double probeBitsPerByteAfter, String reason) {
            this(consolidatedBytes, seconds, recentBitsPerByteBefore, recentBitsPerByteAfter, probeBitsPerByteBefore,
                    probeBitsPerByteAfter, reason, SleepFigures.NONE);
        }
    }

    /**
     * The sleep finished but its result was thrown away; the live state is unchanged. Also the
     * report for a {@link Sleeper} that failed (figures {@code NaN}).
     *
     * @param consolidatedBytes bytes of experience the discarded sleep consolidated
     * @param seconds wall time of the sleep
     * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep
     * @param recentBitsPerByteAfter bits/byte on recent experience with the discarded result
     * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep
     * @param probeBitsPerByteAfter bits/byte on the retention probe with the discarded result
     * @param reason why it rolled back, e.g. which bound the probe crossed
     * @param figures what else it measured and did
     */
    record RolledBack(long consolidatedBytes, double seconds, double recentBitsPerByteBefore,
            double recentBitsPerByteAfter, double probeBitsPerByteBefore, double probeBitsPerByteAfter,
            String reason, SleepFigures figures) implements SleepReport {
        /**
         * Checks the components.
         *
         * @param consolidatedBytes bytes of experience the discarded sleep consolidated, {@code >= 0}
         * @param seconds wall time of the sleep, in seconds; finite and {@code >= 0}
         * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep; {@code >= 0}, or {@code NaN}
         * @param recentBitsPerByteAfter bits/byte on recent experience with the discarded result; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteAfter bits/byte on the retention probe with the discarded result; {@code >= 0}, or {@code NaN}
         * @param reason why it rolled back; not {@code null}
         * @param figures what else it measured and did; not {@code null} ({@link SleepFigures#NONE} if nothing)
         * @throws IllegalArgumentException if {@code consolidatedBytes} is negative, {@code seconds} is negative
         *     or not finite, {@code reason} or {@code figures} is {@code null}, or a bits/byte figure is negative
         */
        public RolledBack {
            ReportJson.validate(consolidatedBytes, seconds, reason, recentBitsPerByteBefore,
                    recentBitsPerByteAfter, probeBitsPerByteBefore, probeBitsPerByteAfter);
            if (figures == null) {
                throw new IllegalArgumentException("figures must not be null (SleepFigures.NONE if nothing was measured)");
            }
        }

        /**
         * A report without further figures ({@link SleepFigures#NONE}).
         *
         * @param consolidatedBytes bytes of experience the discarded sleep consolidated, {@code >= 0}
         * @param seconds wall time of the sleep, in seconds; finite and {@code >= 0}
         * @param recentBitsPerByteBefore bits/byte on recent experience before the sleep; {@code >= 0}, or {@code NaN}
         * @param recentBitsPerByteAfter bits/byte on recent experience with the discarded result; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteBefore bits/byte on the retention probe before the sleep; {@code >= 0}, or {@code NaN}
         * @param probeBitsPerByteAfter bits/byte on the retention probe with the discarded result; {@code >= 0}, or {@code NaN}
         * @param reason why it rolled back; not {@code null}
         * @throws IllegalArgumentException if {@code consolidatedBytes} is negative, {@code seconds} is negative
         *     or not finite, {@code reason} is {@code null}, or a bits/byte figure is negative
         */
        public RolledBack(long consolidatedBytes, double seconds, double recentBitsPerByteBefore, double recentBitsPerByteAfter,
                double probeBitsPerByteBefore, double probeBitsPerByteAfter, String reason) {
            this(consolidatedBytes, seconds, recentBitsPerByteBefore, recentBitsPerByteAfter, probeBitsPerByteBefore,
                    probeBitsPerByteAfter, reason, SleepFigures.NONE);
        }
    }

    /**
     * A user call (or closing the scheduler) interrupted the sleep; the live state is unchanged.
     *
     * @param reason what preempted it
     * @param seconds wall time from the start of the sleep until it stopped
     */
    record Preempted(String reason, double seconds) implements SleepReport {
        /**
         * Checks the components.
         *
         * @param reason what preempted it; not {@code null}
         * @param seconds wall time from the start of the sleep until it stopped, in seconds; finite and {@code >= 0}
         * @throws IllegalArgumentException if {@code reason} is {@code null}, or {@code seconds} is negative or not finite
         */
        public Preempted {
            ReportJson.validate(0, seconds, reason);
        }
    }
}
