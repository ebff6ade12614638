package org.hope4j.learner;

import java.util.Objects;
import org.hope4j.Learner;

/**
 * A learner's live stream, for this project's tools, benchmarks and parity tests (the CLI's episodic replay, the
 * CUDA engine's comparison with the CPU engine). The package is not exported: a library user has no way to reach
 * the levels behind the learner's lock. The stream is not thread-safe: no other thread may use the learner.
 */
public final class Streams {
    private Streams() {
    }

    /**
     * The live stream {@code learner} reads with (not a copy: reading through it changes the learner).
     *
     * @param learner an open learner from {@link org.hope4j.Hope}; not null
     * @return its stream
     * @throws IllegalStateException if the learner is closed
     * @throws IllegalArgumentException if {@code learner} is not this library's implementation
     */
    public static HopeStream of(Learner learner) {
        if (!(Objects.requireNonNull(learner, "learner") instanceof HopeLearner h)) {
            throw new IllegalArgumentException("not a learner opened by org.hope4j.Hope: " + learner.getClass().getName());
        }
        return h.stream();
    }
}
