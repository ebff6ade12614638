package org.hope4j.sleep;

import java.time.Clock;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When the {@link SleepScheduler} sleeps. Immutable; start from {@link #defaults()} and change with
 * the {@code with…} methods.
 *
 * @param idleAfter how long without {@link SleepScheduler#touch()} before the device counts as idle
 * @param checkEvery how often the scheduler's thread looks at idle time and the device policy
 * @param budget what each sleep may spend
 * @param minGap least time from the end of one completed sleep (committed or rolled back) to the
 *     start of the next idle sleep; preempted sleeps do not count
 * @param sleepAtLevelBoundary whether {@link SleepScheduler#levelBoundary(String)} starts a sleep
 *     (the paper's own trigger: sleep at a faster level's scheduled update boundary)
 * @param clock wall clock for the time stamps of {@link SleepEvent.Started}
 * @param ticker monotonic nanoseconds for idle time, gaps and durations ({@code System::nanoTime};
 *     a manual counter in tests)
 */
public record SchedulerOptions(Duration idleAfter, Duration checkEvery, SleepBudget budget, Duration minGap,
        boolean sleepAtLevelBoundary, Clock clock, LongSupplier ticker) {
    /**
     * Checks every component (the class comment says what each means).
     *
     * @param idleAfter time without {@link SleepScheduler#touch()} before the device counts as idle; {@code >= 0}
     * @param checkEvery period of the scheduler's checks; {@code > 0}
     * @param budget what each sleep may spend; not {@code null}
     * @param minGap least time from the end of one completed sleep to the start of the next idle sleep; {@code >= 0}
     * @param sleepAtLevelBoundary whether {@link SleepScheduler#levelBoundary(String)} starts a sleep
     * @param clock wall clock for the time stamps of {@link SleepEvent.Started}; not {@code null}
     * @param ticker monotonic nanoseconds for idle time, gaps and durations; not {@code null}
     * @throws IllegalArgumentException if a component is {@code null}, a duration is negative, or
     *     {@code checkEvery} is zero
     */
    public SchedulerOptions {
        if (idleAfter == null || idleAfter.isNegative()) {
            throw new IllegalArgumentException("idleAfter must be >= 0, found " + idleAfter);
        }
        if (checkEvery == null || checkEvery.isNegative() || checkEvery.isZero()) {
            throw new IllegalArgumentException("checkEvery must be > 0, found " + checkEvery);
        }
        if (budget == null) {
            throw new IllegalArgumentException("budget must not be null");
        }
        if (minGap == null || minGap.isNegative()) {
            throw new IllegalArgumentException("minGap must be >= 0, found " + minGap);
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null");
        }
        if (ticker == null) {
            throw new IllegalArgumentException("ticker must not be null");
        }
    }

    /**
     * Idle after 5 minutes, checked every 10 seconds, {@link SleepBudget#defaults()}, at least 30
     * minutes between sleeps, no level-boundary sleeps, system clock and {@code System::nanoTime}.
     *
     * @return the default options
     */
    public static SchedulerOptions defaults() {
        return new SchedulerOptions(Duration.ofMinutes(5), Duration.ofSeconds(10), SleepBudget.defaults(),
                Duration.ofMinutes(30), false, Clock.systemUTC(), System::nanoTime);
    }

    /**
     * These options with another idle time.
     *
     * @param value time without {@link SleepScheduler#touch()} before the device counts as idle; {@code >= 0}
     * @return a copy of these options with that idle time
     * @throws IllegalArgumentException if {@code value} is {@code null} or negative
     */
    public SchedulerOptions withIdleAfter(Duration value) {
        return new SchedulerOptions(value, checkEvery, budget, minGap, sleepAtLevelBoundary, clock, ticker);
    }

    /**
     * These options with another check period.
     *
     * @param value how often the scheduler's thread looks at idle time and the device policy; {@code > 0}
     * @return a copy of these options with that period
     * @throws IllegalArgumentException if {@code value} is {@code null}, zero or negative
     */
    public SchedulerOptions withCheckEvery(Duration value) {
        return new SchedulerOptions(idleAfter, value, budget, minGap, sleepAtLevelBoundary, clock, ticker);
    }

    /**
     * These options with another budget.
     *
     * @param value what each sleep may spend (bytes, consolidation time, deadline); not {@code null}
     * @return a copy of these options with that budget
     * @throws IllegalArgumentException if {@code value} is {@code null}
     */
    public SchedulerOptions withBudget(SleepBudget value) {
        return new SchedulerOptions(idleAfter, checkEvery, value, minGap, sleepAtLevelBoundary, clock, ticker);
    }

    /**
     * These options with another minimum gap between sleeps.
     *
     * @param value least time from the end of one completed sleep to the start of the next idle sleep;
     *     {@code >= 0}
     * @return a copy of these options with that gap
     * @throws IllegalArgumentException if {@code value} is {@code null} or negative
     */
    public SchedulerOptions withMinGap(Duration value) {
        return new SchedulerOptions(idleAfter, checkEvery, budget, value, sleepAtLevelBoundary, clock, ticker);
    }

    /**
     * These options with level-boundary sleeps on or off.
     *
     * @param value whether {@link SleepScheduler#levelBoundary(String)} starts a sleep
     * @return a copy of these options with that setting
     */
    public SchedulerOptions withSleepAtLevelBoundary(boolean value) {
        return new SchedulerOptions(idleAfter, checkEvery, budget, minGap, value, clock, ticker);
    }

    /**
     * These options with another wall clock.
     *
     * @param value the clock for the time stamps of {@link SleepEvent.Started}; not {@code null}
     * @return a copy of these options with that clock
     * @throws IllegalArgumentException if {@code value} is {@code null}
     */
    public SchedulerOptions withClock(Clock value) {
        return new SchedulerOptions(idleAfter, checkEvery, budget, minGap, sleepAtLevelBoundary, value, ticker);
    }

    /**
     * These options with another ticker.
     *
     * @param value monotonic nanoseconds for idle time, gaps and durations ({@code System::nanoTime}, or a
     *     manual counter in tests); not {@code null}
     * @return a copy of these options with that ticker
     * @throws IllegalArgumentException if {@code value} is {@code null}
     */
    public SchedulerOptions withTicker(LongSupplier value) {
        return new SchedulerOptions(idleAfter, checkEvery, budget, minGap, sleepAtLevelBoundary, clock, value);
    }
}
