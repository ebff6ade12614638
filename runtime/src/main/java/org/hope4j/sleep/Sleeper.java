package org.hope4j.sleep;

import java.util.function.BooleanSupplier;

/**
 * One sleep: consolidation and dreaming (ARCHITECTURE.md §3), plugged into the
 * {@link SleepScheduler}. The scheduler decides when; the sleeper decides what.
 *
 * <p>Contract: work on a copy and commit with one atomic swap, keep within the budget, report
 * {@link SleepEvent.Phase} progress through the listener if it likes, and poll {@code preempted}
 * often (every few milliseconds of work): once it returns {@code true}, stop, leave the live
 * state as it was and return {@link SleepReport.Preempted} promptly. A sleeper that throws is
 * reported as {@link SleepReport.RolledBack}.
 */
@FunctionalInterface
public interface Sleeper {

    /**
     * Runs one sleep on the calling thread.
     *
     * @param budget bytes and time this sleep may spend
     * @param preempted turns {@code true} when a user call or closing the scheduler wants the sleep
     *     to stop; cheap to poll, safe from any thread
     * @param listener where to send {@link SleepEvent.Phase} events; never {@code null}
     * @return what the sleep did; never {@code null}
     */
    SleepReport sleep(SleepBudget budget, BooleanSupplier preempted, SleepListener listener);
}
