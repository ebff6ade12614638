package org.hope4j;

/**
 * How {@link Learner#generate} picks each byte.
 *
 * @param temperature softmax temperature; 0 = greedy
 * @param topK keep the k most likely bytes (0 = all 256)
 * @param seed random seed (same seed, state and prompt = same text)
 */
public record Sampling(double temperature, int topK, long seed) {
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, found " + temperature);
        }
        if (topK < 0 || topK > 256) {
            throw new IllegalArgumentException("topK must be in 0..256, found " + topK);
        }
    }

    /** temperature 0.8, top-40, seed 0. */
    public static Sampling defaults() {
        return new Sampling(0.8, 40, 0L);
    }

    /** Always the most likely byte. */
    public static Sampling greedy() {
        return new Sampling(0, 0, 0L);
    }

    public Sampling withTemperature(double value) {
        return new Sampling(value, topK, seed);
    }

    public Sampling withTopK(int value) {
        return new Sampling(temperature, value, seed);
    }

    public Sampling withSeed(long value) {
        return new Sampling(temperature, topK, value);
    }
}
