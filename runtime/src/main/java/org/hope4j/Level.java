package org.hope4j;

/** The plastic levels of a Hope model (ARCHITECTURE.md §1). L3 never changes on the device. */
public enum Level {
    /** The self-modifying Titans memories, updated every L0 chunk. */
    L0,
    /** The fast CMS MLP of every block. */
    L1,
    /** The mid CMS MLP of every block. */
    L2
}
