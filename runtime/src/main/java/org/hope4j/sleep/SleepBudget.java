package org.hope4j.sleep;

import java.time.Duration;

/**
 * How much one sleep may do. Immutable; start from {@link #defaults()} and change with the
 * {@code with…} methods. The {@link Sleeper} keeps within it; the scheduler only hands it over.
 *
 * <p>Two times, for two purposes. {@code maxTime} is the time for consolidation steps: measuring
 * (the figures before and after, the guard's references) does not use it up, so a busy machine still
 * gets its steps (the steps themselves are counted by {@link SleepConfig#steps()}). {@code deadline}
 * is the wall-clock limit of the whole sleep, honoured in every phase (measuring, consolidating,
 * dreaming, the guard): when it passes the sleep stops where it is and commits nothing. Consolidation
 * ends early enough for one more checkpoint and the final measurement to finish before the deadline
 * (estimated from how fast the first measurements ran), whatever {@code maxTime} says.
 *
 * @param maxBytes most bytes of recorded experience one sleep consolidates, {@code > 0}
 * @param maxTime most wall time of consolidation steps (measurement excluded), {@code > 0}
 * @param deadline most wall time of the whole sleep, every phase included, {@code > 0}
 */
public record SleepBudget(long maxBytes, Duration maxTime, Duration deadline) {
    /** The deadline a budget gets when none is given: ten minutes, or twice {@code maxTime} if that is longer. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(10);

    /**
     * Checks every component.
     *
     * @param maxBytes most bytes of recorded experience one sleep consolidates, {@code > 0}
     * @param maxTime most wall time of consolidation steps (measurement excluded), {@code > 0}
     * @param deadline most wall time of the whole sleep, every phase included, {@code > 0}; it is not
     *     checked against {@code maxTime}
     * @throws IllegalArgumentException if {@code maxBytes} is not above 0, or a time is {@code null}, zero
     *     or negative
     */
    public SleepBudget {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be > 0, found " + maxBytes);
        }
        if (maxTime == null || maxTime.isNegative() || maxTime.isZero()) {
            throw new IllegalArgumentException("maxTime must be > 0, found " + maxTime);
        }
        if (deadline == null || deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be > 0, found " + deadline);
        }
    }

    /**
     * A budget with the default deadline (ten minutes, or twice {@code maxTime} if that is longer).
     *
     * @param maxBytes most bytes of recorded experience one sleep consolidates, {@code > 0}
     * @param maxTime most wall time of consolidation steps (measurement excluded), {@code > 0}
     * @throws IllegalArgumentException if {@code maxBytes} is not above 0, or {@code maxTime} is
     *     {@code null}, zero or negative
     */
    public SleepBudget(long maxBytes, Duration maxTime) {
        this(maxBytes, maxTime, maxTime == null ? null : longer(DEFAULT_DEADLINE, maxTime.multipliedBy(2)));
    }

    private static Duration longer(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /**
     * 64 KiB, 60 seconds of consolidation, the whole sleep within ten minutes.
     *
     * @return the default budget
     */
    public static SleepBudget defaults() {
        return new SleepBudget(64 * 1024, Duration.ofSeconds(60));
    }

    /**
     * The same budget with another amount of experience.
     *
     * @param value most bytes of recorded experience one sleep consolidates, {@code > 0}
     * @return a copy of this budget with that amount (the times are kept)
     * @throws IllegalArgumentException if {@code value} is not above 0
     */
    public SleepBudget withMaxBytes(long value) {
        return new SleepBudget(value, maxTime, deadline);
    }

    /**
     * The same budget with another consolidation time (the deadline is kept).
     *
     * @param value most wall time of consolidation steps (measurement excluded), {@code > 0}; the deadline
     *     is not moved to fit it: a consolidation time near or past the deadline ends the steps in time to
     *     measure and commit before the deadline
     * @return a copy of this budget with that consolidation time
     * @throws IllegalArgumentException if {@code value} is {@code null}, zero or negative
     */
    public SleepBudget withMaxTime(Duration value) {
        return new SleepBudget(maxBytes, value, deadline);
    }

    /**
     * The same budget with another deadline for the whole sleep.
     *
     * @param value most wall time of the whole sleep, every phase included, {@code > 0}
     * @return a copy of this budget with that deadline
     * @throws IllegalArgumentException if {@code value} is {@code null}, zero or negative
     */
    public SleepBudget withDeadline(Duration value) {
        return new SleepBudget(maxBytes, maxTime, value);
    }
}
