package org.hope4j;

import java.util.List;

/**
 * How a {@link Learner} runs. Immutable; start from {@link #defaults()} or {@link #builder()} and
 * change it with {@link #toBuilder()} or the {@code with…} methods.
 *
 * <pre>{@code
 * LearnerOptions options = LearnerOptions.builder().experienceBytes(1 << 20).stateKey(key).build();
 * }</pre>
 *
 * @param backend engine backend: "auto" (best available, quiet fallback to CPU), "cpu" or "cuda"
 *     (fails loudly when unavailable)
 * @param graphProvider ONNX Runtime execution provider for the frozen segments: "cpu", "cuda" or
 *     "tensorrt" (falls back to CPU with one log line)
 * @param graphThreads ONNX Runtime intra-op threads
 * @param deviceId GPU device id of the CUDA engine and of CUDA/TensorRT graphs (default: {@code -Dhope4j.cuda.device}, else 0)
 * @param experienceBytes how many of the most recently observed bytes the learner keeps (in memory
 *     and, on {@link Learner#save}, on disk with owner-only permissions) for sleep to consolidate;
 *     0 keeps none
 * @param singleTimescale a baseline for benchmarks, not for use: L2 steps every L1 period at L1's
 *     rate, so every plastic weight learns at one rate and one frequency (naive fine-tuning instead
 *     of a continuum of levels)
 * @param rateScale multiplies the inner learning rates of L1 and L2 (1 = the bundle's rates, which
 *     pre-training meta-learned on 512-byte sequences; 0 = the CMS levels never step, as if frozen).
 *     The bundle's rates adapt fastest; on long streams that change domain a smaller scale forgets
 *     less (README, "Continual learning across domains", has the measured trade-off)
 * @param stateKey encrypts everything the learner saves (its state, its experience buffer, its episodic
 *     tables) with AES-256-GCM, and opens what it restores; {@code null}: plain files (owner-only)
 * @param episodic sizes and rates of the episodic level E, mixed into every prediction; {@code null}
 *     switches it off (the neural levels alone)
 * @param anchorShare the switch rate of the pretrained anchor: every prediction mixes what the CMS
 *     levels learned with the bundle's pretrained model (a second engine whose L1 and L2 never
 *     learn), the weights following which of the two predicted the recent bytes better (fixed share),
 *     so that learning one domain cannot make other text much worse than the pretrained model
 *     (README, "Forgetting"); it costs a second forward pass. 0 switches the anchor off
 */
public record LearnerOptions(String backend, String graphProvider, int graphThreads, int deviceId, int experienceBytes, boolean singleTimescale,
        double rateScale, org.hope4j.level.EpisodicConfig episodic, org.hope4j.state.StateKey stateKey, double anchorShare) {
    /** The largest {@code rateScale}: past it the scaled rates overflow the levels' values within a few steps. */
    public static final double MAX_RATE_SCALE = 100;
    /** The anchor's switch rate by default: see README, "Forgetting", for the measurement that chose it. */
    public static final double DEFAULT_ANCHOR_SHARE = 1.0 / 256;

    public LearnerOptions {
        if (backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("backend must be auto or a backend name, found " + backend);
        }
        if (!List.of("cpu", "cuda", "tensorrt").contains(graphProvider)) {
            throw new IllegalArgumentException("graphProvider must be cpu, cuda or tensorrt, found " + graphProvider);
        }
        if (graphThreads < 1) {
            throw new IllegalArgumentException("graphThreads must be >= 1, found " + graphThreads);
        }
        if (deviceId < 0) {
            throw new IllegalArgumentException("deviceId must be >= 0, found " + deviceId);
        }
        if (experienceBytes < 0) {
            throw new IllegalArgumentException("experienceBytes must be >= 0, found " + experienceBytes);
        }
        if (!(anchorShare >= 0 && anchorShare <= 0.5)) {
            throw new IllegalArgumentException("anchorShare must be a number in [0, 0.5], found " + anchorShare);
        }
        if (!(rateScale >= 0 && rateScale <= MAX_RATE_SCALE)) {
            throw new IllegalArgumentException("rateScale must be a number in [0, " + (int) MAX_RATE_SCALE + "], found " + rateScale);
        }
    }

    /**
     * auto backend, CPU graphs, one thread, device {@code -Dhope4j.cuda.device} (else 0), 64 KiB of recent experience, the bundle's rates,
     * E on, the pretrained anchor on (share 1/256).
     */
    public static LearnerOptions defaults() {
        return new LearnerOptions("auto", "cpu", 1, Integer.getInteger("hope4j.cuda.device", 0), 65536, false, 1.0,
                org.hope4j.level.EpisodicConfig.defaults(), null, DEFAULT_ANCHOR_SHARE);
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.backend = backend;
        b.graphProvider = graphProvider;
        b.graphThreads = graphThreads;
        b.deviceId = deviceId;
        b.experienceBytes = experienceBytes;
        b.singleTimescale = singleTimescale;
        b.rateScale = rateScale;
        b.episodic = episodic;
        b.stateKey = stateKey;
        b.anchorShare = anchorShare;
        return b;
    }

    /** The episodic level's sizes and rates; {@code null}: no episodic level (the neural levels alone). */
    public LearnerOptions withEpisodic(org.hope4j.level.EpisodicConfig value) {
        return toBuilder().episodic(value).build();
    }

    public LearnerOptions withBackend(String value) {
        return toBuilder().backend(value).build();
    }

    public LearnerOptions withGraphProvider(String value) {
        return toBuilder().graphProvider(value).build();
    }

    public LearnerOptions withGraphThreads(int value) {
        return toBuilder().graphThreads(value).build();
    }

    public LearnerOptions withDeviceId(int value) {
        return toBuilder().deviceId(value).build();
    }

    public LearnerOptions withSingleTimescale(boolean value) {
        return toBuilder().singleTimescale(value).build();
    }

    public LearnerOptions withExperienceBytes(int value) {
        return toBuilder().experienceBytes(value).build();
    }

    public LearnerOptions withRateScale(double value) {
        return toBuilder().rateScale(value).build();
    }

    /** Encrypts what the learner saves and opens what it restores with {@code value}; {@code null}: plain files. */
    public LearnerOptions withStateKey(org.hope4j.state.StateKey value) {
        return toBuilder().stateKey(value).build();
    }

    /** The pretrained anchor's switch rate; 0: no anchor (the adapted model alone, half the compute). */
    public LearnerOptions withAnchorShare(double value) {
        return toBuilder().anchorShare(value).build();
    }

    /**
     * Builds {@link LearnerOptions}; {@link #builder()} starts from the defaults and {@link #build()}
     * checks every value. Each setter is named after the component it sets (see the record's parameters).
     */
    public static final class Builder {
        private String backend;
        private String graphProvider;
        private int graphThreads;
        private int deviceId;
        private int experienceBytes;
        private boolean singleTimescale;
        private double rateScale;
        private org.hope4j.level.EpisodicConfig episodic;
        private org.hope4j.state.StateKey stateKey;
        private double anchorShare;

        private Builder() {
        }

        /** @param v see {@link LearnerOptions#backend()} @return this builder */
        public Builder backend(String v) {
            backend = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#graphProvider()} @return this builder */
        public Builder graphProvider(String v) {
            graphProvider = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#graphThreads()} @return this builder */
        public Builder graphThreads(int v) {
            graphThreads = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#deviceId()} @return this builder */
        public Builder deviceId(int v) {
            deviceId = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#experienceBytes()} @return this builder */
        public Builder experienceBytes(int v) {
            experienceBytes = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#singleTimescale()} @return this builder */
        public Builder singleTimescale(boolean v) {
            singleTimescale = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#rateScale()} @return this builder */
        public Builder rateScale(double v) {
            rateScale = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#episodic()} @return this builder */
        public Builder episodic(org.hope4j.level.EpisodicConfig v) {
            episodic = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#stateKey()} @return this builder */
        public Builder stateKey(org.hope4j.state.StateKey v) {
            stateKey = v;
            return this;
        }

        /** @param v see {@link LearnerOptions#anchorShare()} @return this builder */
        public Builder anchorShare(double v) {
            anchorShare = v;
            return this;
        }

        /**
         * The options.
         *
         * @return checked {@link LearnerOptions}
         * @throws IllegalArgumentException naming the first value out of range
         */
        public LearnerOptions build() {
            return new LearnerOptions(backend, graphProvider, graphThreads, deviceId, experienceBytes, singleTimescale, rateScale, episodic,
                    stateKey, anchorShare);
        }
    }
}
