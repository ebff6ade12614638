package org.hope4j.level;

/**
 * The logistic domain in fixed point, shared by the episodic level and its mixer: probabilities in
 * 12 bits ({@code 0..4095} for 0..1), their logit ("stretch") in 8 fractional bits
 * ({@code -2047..2047} for about -8..8). Integer only, so that the Python reference
 * ({@code hope_export/episodic.py}) computes exactly the same numbers.
 */
final class Logistic {
    /** squash at d = -2048, -1920, ..., 2048 (steps of 128): 4096 / (1 + e^(-d/256)). */
    private static final int[] KNOTS = {1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047,
            2549, 2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094};
    private static final short[] STRETCH = new short[4096];
    /** -log2(k / 4096) for k = 0..4096 (k = 0 never occurs: probabilities are clamped to 1..4095). */
    private static final double[] COST = new double[4097];

    static {
        int pi = 0;
        for (int x = -2047; x <= 2047; x++) {
            int v = squash(x);
            for (int i = pi; i <= v; i++) {
                STRETCH[i] = (short) x;
            }
            pi = v + 1;
        }
        for (int i = pi; i < 4096; i++) {
            STRETCH[i] = 2047;
        }
        for (int k = 1; k <= 4096; k++) {
            COST[k] = -Math.log(k / 4096.0) / Math.log(2);
        }
    }

    private Logistic() {
    }

    /** 4096 / (1 + e^(-d/256)), piecewise linear between 33 knots; 0 below -2047, 4095 above 2047. */
    static int squash(int d) {
        if (d > 2047) {
            return 4095;
        }
        if (d < -2047) {
            return 0;
        }
        int w = d & 127;
        int i = (d >> 7) + 16;
        return (KNOTS[i] * (128 - w) + KNOTS[i + 1] * w + 64) >> 7;
    }

    /** The inverse of {@link #squash}: the smallest d with squash(d) >= p. */
    static int stretch(int p) {
        return STRETCH[p];
    }

    /** Bits of an event of probability {@code k / 4096}. */
    static double cost(int k) {
        return COST[k];
    }

    /** {@code v} clamped to {@code [lo, hi]}. */
    static int clamp(int v, int lo, int hi) {
        return v < lo ? lo : Math.min(v, hi);
    }
}
