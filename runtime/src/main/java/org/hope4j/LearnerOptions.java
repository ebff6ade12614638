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
        double rateScale, EpisodicConfig episodic, StateKey stateKey, double anchorShare) {
    /** The largest {@code rateScale}: past it the scaled rates overflow the levels' values within a few steps. */
    public static final double MAX_RATE_SCALE = 100;
    /** The anchor's switch rate by default: see README, "Forgetting", for the measurement that chose it. */
    public static final double DEFAULT_ANCHOR_SHARE = 1.0 / 256;

    /**
     * Checks every value; see the record's description for what each one means.
     *
     * @param backend engine backend: "auto", "cpu" or "cuda"; not null or blank (an unknown name is refused only when a
     *     learner opens, with {@link BackendUnavailableException})
     * @param graphProvider "cpu", "cuda" or "tensorrt" (exactly, lower case); not null (null throws {@link NullPointerException})
     * @param graphThreads ONNX Runtime intra-op threads, {@code >= 1}
     * @param deviceId GPU device id, {@code >= 0}
     * @param experienceBytes bytes of recent experience kept, {@code >= 0} (0 keeps none)
     * @param singleTimescale the naive fine-tuning baseline for benchmarks; false in normal use
     * @param rateScale multiplier of L1's and L2's inner learning rates, in [0, {@link #MAX_RATE_SCALE}]
     * @param episodic sizes and rates of the episodic level E, or {@code null} for none
     * @param stateKey the key that encrypts saved state, or {@code null} for plain files
     * @param anchorShare the pretrained anchor's switch rate, in [0, 0.5] (0 = no anchor)
     * @throws IllegalArgumentException naming the first value out of range ({@code rateScale} or {@code anchorShare} NaN included)
     */
    public LearnerOptions {
        if (backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("backend must be auto or a backend name, found " + backend);
        }
        if (graphProvider == null || !List.of("cpu", "cuda", "tensorrt").contains(graphProvider)) {
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
     *
     * @return the default options: no state key, {@link EpisodicConfig#defaults()} for E
     * @throws IllegalArgumentException if {@code -Dhope4j.cuda.device} is set to a negative number (a value that is not an
     *     integer is ignored: device 0)
     */
    public static LearnerOptions defaults() {
        return new LearnerOptions("auto", "cpu", 1, Integer.getInteger("hope4j.cuda.device", 0), 65536, false, 1.0,
                EpisodicConfig.defaults(), null, DEFAULT_ANCHOR_SHARE);
    }

    /**
     * A builder starting from {@link #defaults()}.
     *
     * @return a new builder holding the default values
     * @throws IllegalArgumentException if {@code -Dhope4j.cuda.device} is set to a negative number
     */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /**
     * A builder starting from these options.
     *
     * @return a new builder holding this record's values; changing it does not change this record
     */
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

    /**
     * The episodic level's sizes and rates; {@code null}: no episodic level (the neural levels alone).
     *
     * @param value the episodic level's configuration, or {@code null}
     * @return a copy of these options with {@code episodic} replaced
     */
    public LearnerOptions withEpisodic(EpisodicConfig value) {
        return toBuilder().episodic(value).build();
    }

    /**
     * The engine backend.
     *
     * @param value "auto" (best available, falling back to CPU), "cpu" or "cuda" (fails when the learner opens if unavailable)
     * @return a copy of these options with {@code backend} replaced
     * @throws IllegalArgumentException if {@code value} is null or blank
     */
    public LearnerOptions withBackend(String value) {
        return toBuilder().backend(value).build();
    }

    /**
     * The ONNX Runtime execution provider of the frozen segments.
     *
     * @param value "cpu", "cuda" or "tensorrt"; not null
     * @return a copy of these options with {@code graphProvider} replaced
     * @throws IllegalArgumentException if {@code value} is not one of those three
     * @throws NullPointerException if {@code value} is null
     */
    public LearnerOptions withGraphProvider(String value) {
        return toBuilder().graphProvider(value).build();
    }

    /**
     * The ONNX Runtime intra-op threads.
     *
     * @param value the thread count, {@code >= 1}
     * @return a copy of these options with {@code graphThreads} replaced
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public LearnerOptions withGraphThreads(int value) {
        return toBuilder().graphThreads(value).build();
    }

    /**
     * The GPU of the CUDA engine and of CUDA/TensorRT graphs.
     *
     * @param value the CUDA device id, {@code >= 0}
     * @return a copy of these options with {@code deviceId} replaced
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public LearnerOptions withDeviceId(int value) {
        return toBuilder().deviceId(value).build();
    }

    /**
     * The single-timescale baseline (benchmarks only; see {@link #singleTimescale()}).
     *
     * @param value true for naive fine-tuning (L2 steps with L1), false for the continuum of levels
     * @return a copy of these options with {@code singleTimescale} replaced
     */
    public LearnerOptions withSingleTimescale(boolean value) {
        return toBuilder().singleTimescale(value).build();
    }

    /**
     * How much recent experience the learner keeps for sleep.
     *
     * @param value the number of most recently observed bytes kept, {@code >= 0}; 0 keeps none
     * @return a copy of these options with {@code experienceBytes} replaced
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public LearnerOptions withExperienceBytes(int value) {
        return toBuilder().experienceBytes(value).build();
    }

    /**
     * The multiplier of L1's and L2's inner learning rates.
     *
     * @param value in [0, {@link #MAX_RATE_SCALE}]; 1 = the bundle's rates, 0 = the CMS levels never step
     * @return a copy of these options with {@code rateScale} replaced
     * @throws IllegalArgumentException if {@code value} is NaN or outside that range
     */
    public LearnerOptions withRateScale(double value) {
        return toBuilder().rateScale(value).build();
    }

    /**
     * Encrypts what the learner saves and opens what it restores with {@code value}; {@code null}: plain files.
     *
     * @param value the AES-256-GCM key, or {@code null}
     * @return a copy of these options with {@code stateKey} replaced
     */
    public LearnerOptions withStateKey(StateKey value) {
        return toBuilder().stateKey(value).build();
    }

    /**
     * The pretrained anchor's switch rate; 0: no anchor (the adapted model alone, half the compute).
     *
     * @param value the switch rate, in [0, 0.5]; the default is {@link #DEFAULT_ANCHOR_SHARE}
     * @return a copy of these options with {@code anchorShare} replaced
     * @throws IllegalArgumentException if {@code value} is NaN or outside [0, 0.5]
     */
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
        private EpisodicConfig episodic;
        private StateKey stateKey;
        private double anchorShare;

        private Builder() {
        }

        /**
         * Sets {@code backend}.
         *
         * @param v see {@link LearnerOptions#backend()}; checked by {@link #build()}: not null or blank
         * @return this builder
         */
        public Builder backend(String v) {
            backend = v;
            return this;
        }

        /**
         * Sets {@code graphProvider}.
         *
         * @param v see {@link LearnerOptions#graphProvider()}; checked by {@link #build()}: "cpu", "cuda" or "tensorrt"
         * @return this builder
         */
        public Builder graphProvider(String v) {
            graphProvider = v;
            return this;
        }

        /**
         * Sets {@code graphThreads}.
         *
         * @param v see {@link LearnerOptions#graphThreads()}; checked by {@link #build()}: {@code >= 1}
         * @return this builder
         */
        public Builder graphThreads(int v) {
            graphThreads = v;
            return this;
        }

        /**
         * Sets {@code deviceId}.
         *
         * @param v see {@link LearnerOptions#deviceId()}; checked by {@link #build()}: {@code >= 0}
         * @return this builder
         */
        public Builder deviceId(int v) {
            deviceId = v;
            return this;
        }

        /**
         * Sets {@code experienceBytes}.
         *
         * @param v see {@link LearnerOptions#experienceBytes()}; checked by {@link #build()}: {@code >= 0}
         * @return this builder
         */
        public Builder experienceBytes(int v) {
            experienceBytes = v;
            return this;
        }

        /**
         * Sets {@code singleTimescale}.
         *
         * @param v see {@link LearnerOptions#singleTimescale()}; any value
         * @return this builder
         */
        public Builder singleTimescale(boolean v) {
            singleTimescale = v;
            return this;
        }

        /**
         * Sets {@code rateScale}.
         *
         * @param v see {@link LearnerOptions#rateScale()}; checked by {@link #build()}: in [0, {@link LearnerOptions#MAX_RATE_SCALE}]
         * @return this builder
         */
        public Builder rateScale(double v) {
            rateScale = v;
            return this;
        }

        /**
         * Sets {@code episodic}.
         *
         * @param v see {@link LearnerOptions#episodic()}; {@code null}: no episodic level
         * @return this builder
         */
        public Builder episodic(EpisodicConfig v) {
            episodic = v;
            return this;
        }

        /**
         * Sets {@code stateKey}.
         *
         * @param v see {@link LearnerOptions#stateKey()}; {@code null}: plain files
         * @return this builder
         */
        public Builder stateKey(StateKey v) {
            stateKey = v;
            return this;
        }

        /**
         * Sets {@code anchorShare}.
         *
         * @param v see {@link LearnerOptions#anchorShare()}; checked by {@link #build()}: in [0, 0.5]
         * @return this builder
         */
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
