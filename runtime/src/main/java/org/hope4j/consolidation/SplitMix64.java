package org.hope4j.consolidation;

/**
 * The random numbers of sleep: SplitMix64 (Steele, Lea, Flood 2014), written the same way in the
 * PyTorch reference ({@code hope_export/sleep.py}) so that both pick the same windows and start the
 * same experts from the same seed. Not thread-safe.
 */
final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
        state = seed;
    }

    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) from the top 53 bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, n), {@code n > 0}: {@code floor(nextDouble() * n)}. */
    int nextInt(int n) {
        return (int) Math.floor(nextDouble() * n);
    }
}
