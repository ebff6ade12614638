package org.hope4j;

import java.util.Arrays;
import java.util.Random;

/**
 * How {@link Learner#generate} picks each byte.
 *
 * @param temperature softmax temperature; 0 = greedy
 * @param topK keep the k most likely bytes (0 = all 256)
 * @param seed random seed (same seed, state and prompt = same text)
 */
public record Sampling(double temperature, int topK, long seed) {
    /**
     * Checks the values.
     *
     * @param temperature softmax temperature; 0 = greedy; must be finite and {@code >= 0}
     * @param topK keep the k most likely bytes (0 = all 256); must be in 0..256
     * @param seed random seed (same seed, state and prompt = same text); any value
     * @throws IllegalArgumentException if {@code temperature} is negative, NaN or infinite, or {@code topK} is outside 0..256
     */
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, found " + temperature);
        }
        if (topK < 0 || topK > 256) {
            throw new IllegalArgumentException("topK must be in 0..256, found " + topK);
        }
    }

    /**
     * temperature 0.8, top-40, seed 0.
     *
     * @return the default sampling
     */
    public static Sampling defaults() {
        return new Sampling(0.8, 40, 0L);
    }

    /**
     * Always the most likely byte.
     *
     * @return sampling at temperature 0 (top-k and seed 0, unused)
     */
    public static Sampling greedy() {
        return new Sampling(0, 0, 0L);
    }

    /**
     * A copy with another temperature.
     *
     * @param value the new softmax temperature; 0 = greedy; must be finite and {@code >= 0}
     * @return a new sampling with this one's top-k and seed
     * @throws IllegalArgumentException if {@code value} is negative, NaN or infinite
     */
    public Sampling withTemperature(double value) {
        return new Sampling(value, topK, seed);
    }

    /**
     * A copy with another top-k.
     *
     * @param value how many of the most likely bytes to keep, in 0..256 (0 = all 256)
     * @return a new sampling with this one's temperature and seed
     * @throws IllegalArgumentException if {@code value} is outside 0..256
     */
    public Sampling withTopK(int value) {
        return new Sampling(temperature, value, seed);
    }

    /**
     * A copy with another random seed.
     *
     * @param value the new seed; any value
     * @return a new sampling with this one's temperature and top-k
     */
    public Sampling withSeed(long value) {
        return new Sampling(temperature, topK, value);
    }

    /**
     * Picks a byte from {@code logits} [256]: greedy at temperature 0, else from the tempered top-k softmax.
     *
     * @param logits unnormalized log-probabilities, one per byte value (index = byte); not null, not changed.
     *     Bytes tied with the k-th largest logit are all kept
     * @param rnd the random source; one {@code nextDouble()} is drawn per call above temperature 0, none at 0
     * @return the chosen index, in {@code [0, logits.length)} (0 for an empty array or when no logit is usable, e.g. all NaN)
     */
    public int pick(float[] logits, Random rnd) {
        int n = logits.length;
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double cutoff = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < n) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            cutoff = sorted[n - topK];
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = logits[i] < cutoff ? 0 : Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = rnd.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            u -= p[i];
            if (u <= 0 && p[i] > 0) {
                return i;
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            if (p[i] > 0) {
                return i;
            }
        }
        return 0;
    }
}
