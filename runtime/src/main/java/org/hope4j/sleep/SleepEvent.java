package org.hope4j.sleep;

import java.time.Instant;

/** What the {@link SleepScheduler} tells its {@link SleepListener}s. */
public sealed interface SleepEvent {

    /**
     * A sleep began.
     *
     * @param at when, by the scheduler's clock
     * @param trigger what started it: {@code "idle"}, {@code "level boundary L1"} (for level L1), or the
     *     trigger given to {@link SleepScheduler#sleepNow(String)}
     */
    record Started(Instant at, String trigger) implements SleepEvent {
        /**
         * Checks the components.
         *
         * @param at when the sleep began, by the scheduler's clock; not {@code null}
         * @param trigger what started it; not {@code null}
         * @throws IllegalArgumentException if either is {@code null}
         */
        public Started {
            if (at == null || trigger == null) {
                throw new IllegalArgumentException("at and trigger must not be null, found " + at + ", " + trigger);
            }
        }
    }

    /**
     * A running sleep's progress, sent by the {@link Sleeper}.
     *
     * @param name the phase, e.g. "consolidate", "dream", "probe"
     * @param progress fraction of that phase done, in [0, 1]
     */
    record Phase(String name, double progress) implements SleepEvent {
        /**
         * Checks the components.
         *
         * @param name the phase, e.g. "consolidate"; not {@code null}
         * @param progress fraction of that phase done, in [0, 1]
         * @throws IllegalArgumentException if {@code name} is {@code null} or {@code progress} is outside
         *     [0, 1] or NaN
         */
        public Phase {
            if (name == null) {
                throw new IllegalArgumentException("phase name must not be null");
            }
            if (!(progress >= 0 && progress <= 1)) {
                throw new IllegalArgumentException("progress must be in [0, 1], found " + progress);
            }
        }
    }

    /**
     * A sleep ended.
     *
     * @param report what it did
     */
    record Finished(SleepReport report) implements SleepEvent {
        /**
         * Checks the report.
         *
         * @param report what the sleep did; not {@code null}
         * @throws IllegalArgumentException if {@code report} is {@code null}
         */
        public Finished {
            if (report == null) {
                throw new IllegalArgumentException("report must not be null");
            }
        }
    }

    /**
     * The device was idle long enough (or a level boundary asked) but no sleep started.
     *
     * @param reason why not, after the trigger: the {@link DevicePolicy}'s reason or the minimum gap,
     *     e.g. {@code "idle: not allowed: battery 23% < 50%"}
     */
    record Skipped(String reason) implements SleepEvent {
        /**
         * Checks the reason.
         *
         * @param reason why no sleep started, after the trigger; not {@code null}
         * @throws IllegalArgumentException if {@code reason} is {@code null}
         */
        public Skipped {
            if (reason == null) {
                throw new IllegalArgumentException("reason must not be null");
            }
        }
    }
}
