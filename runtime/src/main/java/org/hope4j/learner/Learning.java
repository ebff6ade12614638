package org.hope4j.learner;

/**
 * Which levels learn while a stream is read. All false = the frozen model.
 *
 * @param l0 the L0 memories update per chunk
 * @param l1 the fast CMS level takes its steps
 * @param l2 the mid CMS level takes its steps
 */
public record Learning(boolean l0, boolean l1, boolean l2) {
    /** Every level learns. */
    public static final Learning ON = new Learning(true, true, true);
    /** Nothing learns. */
    public static final Learning OFF = new Learning(false, false, false);
    /** Only the in-context memory: what scoring uses. */
    public static final Learning L0_ONLY = new Learning(true, false, false);

    /**
     * Whether a CMS level learns.
     *
     * @return true if L1 or L2 learns (the stream then accumulates gradients and keeps spans within one L1 period)
     */
    public boolean cms() {
        return l1 || l2;
    }
}
