package org.hope4j;

/**
 * Bits/byte over some bytes.
 *
 * @param bytes bytes read
 * @param scoredBytes bytes that had a prediction (all but the very first byte of a fresh stream)
 * @param bits total bits (-log2 of each scored byte's predicted probability)
 * @param rollbacks updates refused during the call because they would have left NaN or infinite values
 *     (each rolled back to its chunk-start value and logged), and non-finite predictions replaced by
 *     the uniform one; 0 in normal use
 */
public record Score(long bytes, long scoredBytes, double bits, long rollbacks) {
    /**
     * A score without rollbacks.
     *
     * @param bytes bytes read
     * @param scoredBytes bytes that had a prediction (all but the very first byte of a fresh stream)
     * @param bits total bits (-log2 of each scored byte's predicted probability)
     */
    public Score(long bytes, long scoredBytes, double bits) {
        this(bytes, scoredBytes, bits, 0);
    }

    /**
     * bits / scoredBytes, or NaN when nothing was scored.
     *
     * @return the mean bits per scored byte (8 = no better than uniform over 256 values), or NaN if {@code scoredBytes} is 0
     */
    public double bitsPerByte() {
        return scoredBytes == 0 ? Double.NaN : bits / scoredBytes;
    }

    /**
     * The sum of two scores.
     *
     * @param o the score to add; not null
     * @return a new score whose four components are the sums of this one's and {@code o}'s
     */
    public Score plus(Score o) {
        return new Score(bytes + o.bytes, scoredBytes + o.scoredBytes, bits + o.bits, rollbacks + o.rollbacks);
    }

    /**
     * Nothing read.
     *
     * @return a score of 0 bytes, 0 bits and 0 rollbacks (its {@link #bitsPerByte()} is NaN)
     */
    public static Score empty() {
        return new Score(0, 0, 0);
    }
}
