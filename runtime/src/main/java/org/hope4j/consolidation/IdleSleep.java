package org.hope4j.consolidation;

import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepScheduler;
import org.hope4j.sleep.Sleeper;

/**
 * A learner's link to its idle-time {@link SleepScheduler}: user calls preempt a running sleep and report L1's
 * update boundaries (the paper's trigger); the learner owns at most one scheduler and stops it when it closes.
 */
public final class IdleSleep {
    private volatile SleepScheduler scheduler; // the one user calls preempt (cleared when it closes)
    private volatile SleepScheduler owned; // the one close() stops

    /** A user call is coming: preempts a running sleep (call outside the learner's lock). */
    public void touch() {
        SleepScheduler s = scheduler;
        if (s != null) {
            s.touch();
        }
    }

    /**
     * Reports an L1 update boundary to the scheduler if L1 stepped during a call.
     *
     * @param l1Before L1's update count before the call
     * @param l1After L1's update count after it
     */
    public void stepped(long l1Before, long l1After) {
        SleepScheduler s = scheduler;
        if (s != null && l1After > l1Before) {
            s.levelBoundary("L1");
        }
    }

    /**
     * Starts a scheduler running {@code sleeper}, closing the one started before (two would take turns sleeping the
     * same state).
     *
     * @param sleeper one sleep of the learner
     * @param policy whether the device may sleep now
     * @param when idle time, gap between sleeps, whether to sleep at L1 boundaries
     * @return the running scheduler
     */
    public SleepScheduler start(Sleeper sleeper, DevicePolicy policy, SchedulerOptions when) {
        SleepScheduler previous = owned;
        if (previous != null) {
            previous.close();
        }
        SleepScheduler s = new SleepScheduler(sleeper, policy, when);
        s.onClose(() -> scheduler = scheduler == s ? null : scheduler);
        scheduler = s;
        owned = s;
        return s;
    }

    /** Stops the scheduler this learner started, if any (its running sleep first). */
    public void stop() {
        SleepScheduler s = owned;
        if (s != null) {
            s.close();
        }
    }
}
