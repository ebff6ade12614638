package org.hope4j.sleep;

/**
 * What else a sleep measured and did, beyond the before/after figures of its {@link SleepReport}:
 * the figures its decision rests on. A figure that was not measured is {@code NaN} (bits/byte) or
 * {@code -1} (a slot); {@link #NONE} is the value of a sleep that measured nothing (preempted, or
 * too little experience).
 *
 * @param steps distillation steps taken
 * @param keptStep the step whose expert was kept (the best checkpoint), or the last step
 * @param dreamsKept dreams kept (each made the held-out experience better)
 * @param dreamsTried dreams tried
 * @param recentResetOnly bits/byte on the recent experience with L1 reset and no sleep: what the sleep has to beat
 * @param probePretrained bits/byte of the bundle's pretrained model on the retention probe: the guard's reference
 * @param probeResetOnly bits/byte on the retention probe with L1 reset and no sleep: the guard's other reference
 * @param expertSlot the slot of L2's expert pool the new expert went to, or -1
 * @param evictedSlot the slot whose old expert was folded into L2 or pruned to make room, or -1
 * @param experts the learner's expert pool after the sleep
 */
public record SleepFigures(int steps, int keptStep, int dreamsKept, int dreamsTried, double recentResetOnly, double probePretrained,
                           double probeResetOnly, int expertSlot, int evictedSlot, Experts experts) {
    /** A sleep that measured nothing. */
    public static final SleepFigures NONE = new SleepFigures(0, -1, 0, 0, Double.NaN, Double.NaN, Double.NaN, -1, -1, Experts.NONE);

    /**
     * Checks the counts and the pool.
     *
     * @param steps distillation steps taken, {@code >= 0}
     * @param keptStep the step whose expert was kept (the best checkpoint), or the last step; -1 when none
     * @param dreamsKept dreams kept, {@code >= 0}
     * @param dreamsTried dreams tried, at least {@code dreamsKept}
     * @param recentResetOnly bits/byte on the recent experience with L1 reset and no sleep, or {@code NaN}
     * @param probePretrained bits/byte of the bundle's pretrained model on the retention probe, or {@code NaN}
     * @param probeResetOnly bits/byte on the retention probe with L1 reset and no sleep, or {@code NaN}
     * @param expertSlot the slot of L2's expert pool the new expert went to, or -1
     * @param evictedSlot the slot whose old expert was folded into L2 or pruned to make room, or -1
     * @param experts the learner's expert pool after the sleep; not {@code null} ({@link Experts#NONE} if unknown)
     * @throws IllegalArgumentException if a count is negative, more dreams were kept than tried, or
     *     {@code experts} is {@code null}
     */
    public SleepFigures {
        if (steps < 0 || dreamsKept < 0 || dreamsTried < dreamsKept) {
            throw new IllegalArgumentException("steps and dreams must be >= 0 (kept <= tried), found " + steps + ", " + dreamsKept + "/" + dreamsTried);
        }
        if (experts == null) {
            throw new IllegalArgumentException("experts must not be null");
        }
    }

    /**
     * L2's pool of experts (one per committed sleep, ARCHITECTURE.md §3).
     *
     * @param inUse experts holding a consolidated sleep
     * @param slots the pool's size; once every slot is in use, the next sleep folds or prunes the oldest
     */
    public record Experts(int inUse, int slots) {
        /** No pool (nothing measured). */
        public static final Experts NONE = new Experts(0, 0);

        /**
         * Checks the counts.
         *
         * @param inUse experts holding a consolidated sleep, from 0 to {@code slots}
         * @param slots the pool's size
         * @throws IllegalArgumentException if {@code inUse} is negative or above {@code slots}
         */
        public Experts {
            if (inUse < 0 || slots < inUse) {
                throw new IllegalArgumentException("experts in use must be in 0.." + slots + ", found " + inUse);
            }
        }
    }
}
