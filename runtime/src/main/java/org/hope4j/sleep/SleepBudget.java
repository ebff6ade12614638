package org.hope4j.sleep;

import java.time.Duration;

/**
 * How much one sleep may do. Immutable; start from {@link #defaults()} and change with the
 * {@code with…} methods. The {@link Sleeper} keeps within it; the scheduler only hands it over.
 *
 * @param maxBytes most bytes of recorded experience one sleep consolidates, {@code > 0}
 * @param maxTime most wall time one sleep runs, {@code > 0}
 */
public record SleepBudget(long maxBytes, Duration maxTime) {
    public SleepBudget {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be > 0, found " + maxBytes);
        }
        if (maxTime == null || maxTime.isNegative() || maxTime.isZero()) {
            throw new IllegalArgumentException("maxTime must be > 0, found " + maxTime);
        }
    }

    /** 64 KiB, 60 seconds. */
    public static SleepBudget defaults() {
        return new SleepBudget(64 * 1024, Duration.ofSeconds(60));
    }

    public SleepBudget withMaxBytes(long value) {
        return new SleepBudget(value, maxTime);
    }

    public SleepBudget withMaxTime(Duration value) {
        return new SleepBudget(maxBytes, value);
    }
}
