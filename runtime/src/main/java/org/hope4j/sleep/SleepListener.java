package org.hope4j.sleep;

/**
 * Receives {@link SleepEvent}s. Called on the scheduler's thread (or the thread of
 * {@link SleepScheduler#sleepNow(String)}); keep it short. An exception it throws is logged and
 * otherwise ignored.
 */
@FunctionalInterface
public interface SleepListener {

    /**
     * One event.
     *
     * @param e the event: {@link SleepEvent.Started}, {@link SleepEvent.Phase}, {@link SleepEvent.Finished}
     *     or {@link SleepEvent.Skipped}; never {@code null}
     */
    void on(SleepEvent e);
}
