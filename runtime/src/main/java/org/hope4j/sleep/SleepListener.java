package org.hope4j.sleep;

/**
 * Receives {@link SleepEvent}s. Called on the scheduler's thread (or the thread of
 * {@link SleepScheduler#sleepNow(String)}); keep it short. An exception it throws is logged and
 * otherwise ignored.
 */
@FunctionalInterface
public interface SleepListener {

    /** One event. */
    void on(SleepEvent e);
}
