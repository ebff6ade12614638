package org.hope4j;

/**
 * The levels that learn on the device (ARCHITECTURE.md §1). L3 never changes on the device. E is
 * the episodic level (exact context statistics and a match model, mixed with the neural levels).
 */
public enum Level {
    /** The self-modifying Titans memories, updated every L0 chunk. */
    L0,
    /** The fast CMS MLP of every block. */
    L1,
    /** The mid CMS MLP of every block. */
    L2,
    /**
     * The episodic level and its mixer: updated at every byte. Frozen, it still predicts and learns
     * within a call, then returns to what it held before the call (as L0 does in {@code score}).
     */
    E;

    /**
     * Whether this is a level of the neural engine (L0, L1, L2).
     *
     * @return true for L0, L1 and L2; false for the episodic level E
     */
    public boolean neural() {
        return this != E;
    }
}
