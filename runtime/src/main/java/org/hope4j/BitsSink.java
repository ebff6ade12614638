package org.hope4j;

/**
 * Receives the bits of every scored byte, in stream order: what {@link Learner#observe(byte[], BitsSink)} paid for
 * each byte before learning from it. An unusual log line or a typo stands out as a run of high values.
 */
@FunctionalInterface
public interface BitsSink {
    /**
     * Byte {@code position} of the stream cost {@code bits} under the learner's prediction.
     *
     * @param position stream position (0-based) of the scored byte
     * @param bits {@code -log2} of the probability the learner gave it (with E and the anchor when they are on)
     */
    void accept(long position, double bits);
}
