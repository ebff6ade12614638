package org.hope4j.sleep;

/**
 * What one sleep does (HOPE-MODEL.md §3, Hope4J's variant): how big the L2 expert pool is, how the
 * new expert trains, whether it dreams, and the retention bound that guards the commit. Immutable;
 * start from {@link #defaults()} and change with the {@code with…} methods. How much a sleep may
 * spend is a {@link SleepBudget}.
 *
 * @param poolSize experts in L2's pool per plastic block; when all are taken the oldest is folded
 *     into L2 (or pruned, see {@code prune}) so the model never grows
 * @param rank rank of each expert's low-rank change of L2's up and down matrices
 * @param windowBytes bytes per distillation window
 * @param learningRate Adam step size of the expert
 * @param sampledFraction share of the windows sampled from the teacher and the student (half each)
 *     instead of taken from the experience; 0 distils on the experience alone
 * @param anchorFraction share of the windows that anchor general knowledge: texts the student
 *     samples from its own start (L1 reset, before this sleep) with no prompt, distilled from that
 *     start, so the expert learns what L1 knew without drifting on everything else
 * @param anchorWindows how many such texts are sampled per sleep (then reused)
 * @param promptBytes context from the experience that starts a sampled window or a dream
 * @param dream whether to dream after consolidating
 * @param dreamCandidates dreams tried per sleep
 * @param dreamSteps training steps on each dream before it is judged
 * @param heldOutBytes the newest experience bytes kept out of training: dreams are judged on them
 * @param evalBytes at most this many of the newest experience bytes measure the recent bits/byte
 * @param probeBound largest relative rise of the retention probe's bits/byte a commit may carry
 *     (0.01 = 1 %)
 * @param prune when the pool is full: {@code false} folds the oldest expert into L2 (it stays
 *     learned), {@code true} prunes it (its change is taken back out of L2, as the paper resets
 *     the sender's experts)
 * @param steps fixed number of distillation steps; 0 = as many as the budget allows
 * @param checkEvery every this many steps the student is checked (bits/byte of the held-out
 *     experience, and the probe); the sleep keeps the best checkpoint whose probe is within bound,
 *     since distilling through the residual teach signal drifts once it has taken what it can;
 *     0 = no checks, the last step is kept
 * @param patience checks without a better checkpoint before the consolidation stops early
 * @param clearExperience whether a committed sleep empties the experience buffer
 * @param clearEpisodic whether a committed sleep empties the episodic level's tables (E): what stays is
 *     what the neural levels hold (L2's new expert), as in a hippocampus that hands its episodes over
 * @param episodicAge on a committed sleep that keeps E, every context slot's count is capped at this
 *     value (its probability and last bits stay; {@link org.hope4j.level.EpisodicLevel#age}): E's
 *     statistics still predict but new text overrides them fast, so a new domain after the sleep
 *     meets less stale confidence; {@value #EPISODIC_KEEP} leaves the counts as they are; default
 *     {@value #DEFAULT_EPISODIC_AGE}
 * @param episodicConfidence on a committed sleep that keeps E, the share of each context slot's
 *     confidence (its probability's distance from 1/2) that stays ({@link
 *     org.hope4j.level.EpisodicLevel#age(int, double)}); 1 leaves the probabilities; default
 *     {@value #DEFAULT_EPISODIC_CONFIDENCE}. A sleep that ages E (either value below its "keep") guards
 *     general text with the learner as it will run: while the learner (anchor and E) scores the bundle's
 *     retention probe more than {@code probeBound} above the pretrained learner, E's maps are recalibrated,
 *     then E is aged further (counts 0, half the confidence left, matches forgotten), then emptied; the
 *     report's reason says which step held and the probe figures
 * @param seed seed of the windows, samples and expert initialisation
 */
public record SleepConfig(int poolSize, int rank, int windowBytes, double learningRate, double sampledFraction,
        double anchorFraction, int anchorWindows, int promptBytes, boolean dream, int dreamCandidates, int dreamSteps, int heldOutBytes, int evalBytes,
        double probeBound, boolean prune, int steps, int checkEvery, int patience, boolean clearExperience, boolean clearEpisodic, int episodicAge,
        double episodicConfidence, long seed) {
    /** {@code episodicAge} that leaves E's counts as they are (no count reaches it). */
    public static final int EPISODIC_KEEP = 31;
    /** The default {@code episodicAge}. */
    public static final int DEFAULT_EPISODIC_AGE = 1;
    /** The default {@code episodicConfidence}. */
    public static final double DEFAULT_EPISODIC_CONFIDENCE = 0.5;

    /**
     * Checks every value; the ranges below are the ones enforced.
     *
     * @param poolSize experts per plastic block, at least 1
     * @param rank each expert's rank, at least 1
     * @param windowBytes bytes per distillation window, at least 2 and more than {@code promptBytes}
     * @param learningRate the expert's Adam step size, positive and finite
     * @param sampledFraction share of sampled windows, in [0, 1]
     * @param anchorFraction share of anchor windows, in [0, 1 - sampledFraction]
     * @param anchorWindows anchor texts sampled per sleep, at least 0, and at least 1 when {@code anchorFraction} is above 0
     * @param promptBytes prompt bytes of a sampled window or a dream, at least 1 and less than {@code windowBytes}
     * @param dream whether to dream after consolidating
     * @param dreamCandidates dreams tried per sleep, at least 0
     * @param dreamSteps training steps on each dream, at least 0
     * @param heldOutBytes newest experience bytes kept out of training, at least 0
     * @param evalBytes most newest experience bytes that measure the recent bits/byte, at least 1
     * @param probeBound largest relative rise of the probe's bits/byte (0.01 = 1 %), at least 0 and finite
     * @param prune {@code true} prunes the oldest expert of a full pool, {@code false} folds it into L2
     * @param steps fixed number of distillation steps, at least 0 (0: as many as the budget allows)
     * @param checkEvery steps between checks of the student, at least 0 (0: no checks, the last step is kept)
     * @param patience checks without a better checkpoint before stopping early, at least 1
     * @param clearExperience whether a committed sleep empties the experience buffer
     * @param clearEpisodic whether a committed sleep empties the episodic level's tables
     * @param episodicAge cap on E's slot counts after a committed sleep that keeps E, in 0..{@value SleepConfig#EPISODIC_KEEP} (that
     *     value: counts left as they are)
     * @param episodicConfidence share of each E slot's confidence kept after a committed sleep that keeps E, in [0, 1]
     * @param seed seed of the windows, samples and expert initialisation (any value)
     * @throws IllegalArgumentException naming the first value out of its range
     */
    public SleepConfig {
        if (episodicAge < 0 || episodicAge > EPISODIC_KEEP) {
            throw new IllegalArgumentException("episodicAge must be in 0.." + EPISODIC_KEEP + ", found " + episodicAge);
        }
        if (!(episodicConfidence >= 0 && episodicConfidence <= 1)) {
            throw new IllegalArgumentException("episodicConfidence must be in [0, 1], found " + episodicConfidence);
        }
        positive(poolSize, "poolSize");
        positive(rank, "rank");
        if (windowBytes < 2) {
            throw new IllegalArgumentException("windowBytes must be >= 2, found " + windowBytes);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be > 0 and finite, found " + learningRate);
        }
        if (!(sampledFraction >= 0 && sampledFraction <= 1)) {
            throw new IllegalArgumentException("sampledFraction must be in [0, 1], found " + sampledFraction);
        }
        if (!(anchorFraction >= 0 && anchorFraction <= 1) || sampledFraction + anchorFraction > 1) {
            throw new IllegalArgumentException("anchorFraction must be in [0, 1 - sampledFraction], found " + anchorFraction);
        }
        if (anchorWindows < 0 || (anchorFraction > 0 && anchorWindows == 0)) {
            throw new IllegalArgumentException("anchorWindows must be >= 0, and > 0 when anchorFraction > 0, found " + anchorWindows);
        }
        positive(promptBytes, "promptBytes");
        if (promptBytes >= windowBytes) {
            throw new IllegalArgumentException("promptBytes must be < windowBytes (" + windowBytes + "), found " + promptBytes);
        }
        if (dreamCandidates < 0 || dreamSteps < 0 || heldOutBytes < 0 || steps < 0) {
            throw new IllegalArgumentException("dreamCandidates, dreamSteps, heldOutBytes and steps must be >= 0, found "
                    + dreamCandidates + ", " + dreamSteps + ", " + heldOutBytes + ", " + steps);
        }
        positive(evalBytes, "evalBytes");
        if (checkEvery < 0 || patience < 1) {
            throw new IllegalArgumentException("checkEvery must be >= 0 and patience >= 1, found " + checkEvery + ", " + patience);
        }
        if (!(probeBound >= 0) || Double.isInfinite(probeBound)) {
            throw new IllegalArgumentException("probeBound must be >= 0 and finite, found " + probeBound);
        }
    }

    private static void positive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, found " + v);
        }
    }

    /**
     * 4 experts of rank 8, windows of 128 bytes, Adam at 0.001, a tenth of the windows sampled,
     * half of all windows anchor windows (64 of them), 4 dreams of 2 steps judged on the newest 2 KiB,
     * recent bits/byte over at most 16 KiB, a 1 % probe bound, fold when full, 600 steps (the
     * budget's time is only an upper bound), a check every 25 steps with a patience of 8 checks (the
     * expert's first steps often hold the most that general text allows), the experience kept, the
     * episodic tables kept but aged (counts capped at 1, half of each slot's confidence kept), seed 1.
     *
     * @return the default configuration
     */
    public static SleepConfig defaults() {
        return builder().build();
    }

    /**
     * Whether a committed sleep ages the episodic level: it keeps E ({@link #clearEpisodic()} false) and caps its counts
     * below {@value #EPISODIC_KEEP} or keeps less than all of its confidence. Such a commit is guarded by the retention
     * probe against the pretrained learner.
     *
     * @return true when a commit ages E
     */
    public boolean agesEpisodic() {
        return !clearEpisodic && (episodicAge < EPISODIC_KEEP || episodicConfidence < 1);
    }

    /**
     * A builder starting from {@link #defaults()}.
     *
     * @return a new builder holding the default values
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from this configuration.
     *
     * @return a new builder holding this configuration's values; changing it leaves this configuration as it is
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.poolSize = poolSize;
        b.rank = rank;
        b.windowBytes = windowBytes;
        b.learningRate = learningRate;
        b.sampledFraction = sampledFraction;
        b.anchorFraction = anchorFraction;
        b.anchorWindows = anchorWindows;
        b.promptBytes = promptBytes;
        b.dream = dream;
        b.dreamCandidates = dreamCandidates;
        b.dreamSteps = dreamSteps;
        b.heldOutBytes = heldOutBytes;
        b.evalBytes = evalBytes;
        b.probeBound = probeBound;
        b.prune = prune;
        b.steps = steps;
        b.checkEvery = checkEvery;
        b.patience = patience;
        b.clearExperience = clearExperience;
        b.clearEpisodic = clearEpisodic;
        b.episodicAge = episodicAge;
        b.episodicConfidence = episodicConfidence;
        b.seed = seed;
        return b;
    }

    /**
     * This configuration with another {@code poolSize}.
     *
     * @param value experts per plastic block, at least 1
     * @return a new configuration, equal to this one but for {@code poolSize}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withPoolSize(int value) {
        return toBuilder().poolSize(value).build();
    }

    /**
     * This configuration with another {@code rank}.
     *
     * @param value each expert's rank, at least 1
     * @return a new configuration, equal to this one but for {@code rank}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withRank(int value) {
        return toBuilder().rank(value).build();
    }

    /**
     * This configuration with another {@code windowBytes}.
     *
     * @param value bytes per distillation window, at least 2 and more than {@code promptBytes}
     * @return a new configuration, equal to this one but for {@code windowBytes}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withWindowBytes(int value) {
        return toBuilder().windowBytes(value).build();
    }

    /**
     * This configuration with another {@code learningRate}.
     *
     * @param value the expert's Adam step size, positive and finite
     * @return a new configuration, equal to this one but for {@code learningRate}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withLearningRate(double value) {
        return toBuilder().learningRate(value).build();
    }

    /**
     * This configuration with another {@code sampledFraction}.
     *
     * @param value share of sampled windows, in [0, 1]
     * @return a new configuration, equal to this one but for {@code sampledFraction}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withSampledFraction(double value) {
        return toBuilder().sampledFraction(value).build();
    }

    /**
     * This configuration with other anchor windows.
     *
     * @param fraction the new {@code anchorFraction}: share of anchor windows, in [0, 1 - sampledFraction]
     * @param windows the new {@code anchorWindows}: anchor texts sampled per sleep, at least 0, and at least 1 when
     *     {@code anchorFraction} is above 0
     * @return a new configuration, equal to this one but for {@code anchorFraction} and {@code anchorWindows}
     * @throws IllegalArgumentException if either value is out of range
     */
    public SleepConfig withAnchor(double fraction, int windows) {
        return toBuilder().anchorFraction(fraction).anchorWindows(windows).build();
    }

    /**
     * This configuration with another {@code dream}.
     *
     * @param value whether to dream after consolidating
     * @return a new configuration, equal to this one but for {@code dream}
     */
    public SleepConfig withDream(boolean value) {
        return toBuilder().dream(value).build();
    }

    /**
     * This configuration with other dream counts.
     *
     * @param candidates the new {@code dreamCandidates}: dreams tried per sleep, at least 0
     * @param stepsEach the new {@code dreamSteps}: training steps on each dream, at least 0
     * @return a new configuration, equal to this one but for {@code dreamCandidates} and {@code dreamSteps}
     * @throws IllegalArgumentException if either value is negative
     */
    public SleepConfig withDreams(int candidates, int stepsEach) {
        return toBuilder().dreamCandidates(candidates).dreamSteps(stepsEach).build();
    }

    /**
     * This configuration with another {@code heldOutBytes}.
     *
     * @param value newest experience bytes kept out of training, at least 0
     * @return a new configuration, equal to this one but for {@code heldOutBytes}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withHeldOutBytes(int value) {
        return toBuilder().heldOutBytes(value).build();
    }

    /**
     * This configuration with another {@code evalBytes}.
     *
     * @param value most newest experience bytes that measure the recent bits/byte, at least 1
     * @return a new configuration, equal to this one but for {@code evalBytes}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withEvalBytes(int value) {
        return toBuilder().evalBytes(value).build();
    }

    /**
     * This configuration with another {@code probeBound}.
     *
     * @param value largest relative rise of the probe's bits/byte (0.01 = 1 %), at least 0 and finite
     * @return a new configuration, equal to this one but for {@code probeBound}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withProbeBound(double value) {
        return toBuilder().probeBound(value).build();
    }

    /**
     * This configuration with another {@code prune}.
     *
     * @param value {@code true} prunes the oldest expert of a full pool, {@code false} folds it into L2
     * @return a new configuration, equal to this one but for {@code prune}
     */
    public SleepConfig withPrune(boolean value) {
        return toBuilder().prune(value).build();
    }

    /**
     * This configuration with another {@code steps}.
     *
     * @param value fixed number of distillation steps, at least 0 (0: as many as the budget allows)
     * @return a new configuration, equal to this one but for {@code steps}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withSteps(int value) {
        return toBuilder().steps(value).build();
    }

    /**
     * This configuration with other checkpoint checks.
     *
     * @param every the new {@code checkEvery}: steps between checks of the student, at least 0 (0: no checks, the last step is kept)
     * @param patienceChecks the new {@code patience}: checks without a better checkpoint before stopping early, at least 1
     * @return a new configuration, equal to this one but for {@code checkEvery} and {@code patience}
     * @throws IllegalArgumentException if either value is out of range
     */
    public SleepConfig withChecks(int every, int patienceChecks) {
        return toBuilder().checkEvery(every).patience(patienceChecks).build();
    }

    /**
     * This configuration with another {@code clearExperience}.
     *
     * @param value whether a committed sleep empties the experience buffer
     * @return a new configuration, equal to this one but for {@code clearExperience}
     */
    public SleepConfig withClearExperience(boolean value) {
        return toBuilder().clearExperience(value).build();
    }

    /**
     * This configuration with another {@code seed}.
     *
     * @param value seed of the windows, samples and expert initialisation (any value)
     * @return a new configuration, equal to this one but for {@code seed}
     */
    public SleepConfig withSeed(long value) {
        return toBuilder().seed(value).build();
    }

    /**
     * This configuration with another {@code clearEpisodic}.
     *
     * @param value whether a committed sleep empties the episodic level's tables
     * @return a new configuration, equal to this one but for {@code clearEpisodic}
     */
    public SleepConfig withClearEpisodic(boolean value) {
        return toBuilder().clearEpisodic(value).build();
    }

    /**
     * This configuration with another {@code episodicAge}.
     *
     * @param value cap on E's slot counts after a committed sleep that keeps E, in 0..{@value SleepConfig#EPISODIC_KEEP} (that value:
     *     counts left as they are)
     * @return a new configuration, equal to this one but for {@code episodicAge}
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SleepConfig withEpisodicAge(int value) {
        return toBuilder().episodicAge(value).build();
    }

    /**
     * As {@link #withEpisodicAge} with the share of each slot's confidence kept.
     *
     * @param maxCount the new {@code episodicAge}: cap on E's slot counts after a committed sleep that keeps E, in
     *     0..{@value SleepConfig#EPISODIC_KEEP} (that value: counts left as they are)
     * @param confidence the new {@code episodicConfidence}: share of each E slot's confidence kept after a committed sleep that keeps E,
     *     in [0, 1]
     * @return a new configuration, equal to this one but for {@code episodicAge} and {@code episodicConfidence}
     * @throws IllegalArgumentException if either value is out of range
     */
    public SleepConfig withEpisodicAge(int maxCount, double confidence) {
        return toBuilder().episodicAge(maxCount).episodicConfidence(confidence).build();
    }

    /**
     * Builds a {@link SleepConfig}; every value starts at the default and is checked by {@link #build()}.
     * Each setter is named after the component it sets (see the record's parameters).
     */
    public static final class Builder {
        private int poolSize = 4;
        private int rank = 8;
        private int windowBytes = 128;
        private double learningRate = 1e-3;
        private double sampledFraction = 0.1;
        private double anchorFraction = 0.5;
        private int anchorWindows = 64;
        private int promptBytes = 32;
        private boolean dream = true;
        private int dreamCandidates = 4;
        private int dreamSteps = 2;
        private int heldOutBytes = 2048;
        private int evalBytes = 16384;
        private double probeBound = 0.01;
        private boolean prune;
        private int steps = 600;
        private int checkEvery = 25;
        private int patience = 8;
        private boolean clearExperience;
        private boolean clearEpisodic;
        private int episodicAge = DEFAULT_EPISODIC_AGE;
        private double episodicConfidence = DEFAULT_EPISODIC_CONFIDENCE;
        private long seed = 1;

        private Builder() {
        }

        /**
         * Sets {@code poolSize}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#poolSize()}: experts per plastic block, at least 1
         * @return this builder
         */
        public Builder poolSize(int v) {
            poolSize = v;
            return this;
        }

        /**
         * Sets {@code rank}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#rank()}: each expert's rank, at least 1
         * @return this builder
         */
        public Builder rank(int v) {
            rank = v;
            return this;
        }

        /**
         * Sets {@code windowBytes}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#windowBytes()}: bytes per distillation window, at least 2 and more than {@code promptBytes}
         * @return this builder
         */
        public Builder windowBytes(int v) {
            windowBytes = v;
            return this;
        }

        /**
         * Sets {@code learningRate}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#learningRate()}: the expert's Adam step size, positive and finite
         * @return this builder
         */
        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        /**
         * Sets {@code sampledFraction}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#sampledFraction()}: share of sampled windows, in [0, 1]
         * @return this builder
         */
        public Builder sampledFraction(double v) {
            sampledFraction = v;
            return this;
        }

        /**
         * Sets {@code anchorFraction}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#anchorFraction()}: share of anchor windows, in [0, 1 - sampledFraction]
         * @return this builder
         */
        public Builder anchorFraction(double v) {
            anchorFraction = v;
            return this;
        }

        /**
         * Sets {@code anchorWindows}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#anchorWindows()}: anchor texts sampled per sleep, at least 0, and at least 1 when
         *     {@code anchorFraction} is above 0
         * @return this builder
         */
        public Builder anchorWindows(int v) {
            anchorWindows = v;
            return this;
        }

        /**
         * Sets {@code promptBytes}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#promptBytes()}: prompt bytes of a sampled window or a dream, at least 1 and less than
         *     {@code windowBytes}
         * @return this builder
         */
        public Builder promptBytes(int v) {
            promptBytes = v;
            return this;
        }

        /**
         * Sets {@code dream} (any value is valid).
         *
         * @param v see {@link SleepConfig#dream()}: whether to dream after consolidating
         * @return this builder
         */
        public Builder dream(boolean v) {
            dream = v;
            return this;
        }

        /**
         * Sets {@code dreamCandidates}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#dreamCandidates()}: dreams tried per sleep, at least 0
         * @return this builder
         */
        public Builder dreamCandidates(int v) {
            dreamCandidates = v;
            return this;
        }

        /**
         * Sets {@code dreamSteps}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#dreamSteps()}: training steps on each dream, at least 0
         * @return this builder
         */
        public Builder dreamSteps(int v) {
            dreamSteps = v;
            return this;
        }

        /**
         * Sets {@code heldOutBytes}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#heldOutBytes()}: newest experience bytes kept out of training, at least 0
         * @return this builder
         */
        public Builder heldOutBytes(int v) {
            heldOutBytes = v;
            return this;
        }

        /**
         * Sets {@code evalBytes}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#evalBytes()}: most newest experience bytes that measure the recent bits/byte, at least 1
         * @return this builder
         */
        public Builder evalBytes(int v) {
            evalBytes = v;
            return this;
        }

        /**
         * Sets {@code probeBound}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#probeBound()}: largest relative rise of the probe's bits/byte (0.01 = 1 %), at least 0 and finite
         * @return this builder
         */
        public Builder probeBound(double v) {
            probeBound = v;
            return this;
        }

        /**
         * Sets {@code prune} (any value is valid).
         *
         * @param v see {@link SleepConfig#prune()}: {@code true} prunes the oldest expert of a full pool, {@code false} folds it into L2
         * @return this builder
         */
        public Builder prune(boolean v) {
            prune = v;
            return this;
        }

        /**
         * Sets {@code steps}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#steps()}: fixed number of distillation steps, at least 0 (0: as many as the budget allows)
         * @return this builder
         */
        public Builder steps(int v) {
            steps = v;
            return this;
        }

        /**
         * Sets {@code checkEvery}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#checkEvery()}: steps between checks of the student, at least 0 (0: no checks, the last step is
         *     kept)
         * @return this builder
         */
        public Builder checkEvery(int v) {
            checkEvery = v;
            return this;
        }

        /**
         * Sets {@code patience}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#patience()}: checks without a better checkpoint before stopping early, at least 1
         * @return this builder
         */
        public Builder patience(int v) {
            patience = v;
            return this;
        }

        /**
         * Sets {@code clearExperience} (any value is valid).
         *
         * @param v see {@link SleepConfig#clearExperience()}: whether a committed sleep empties the experience buffer
         * @return this builder
         */
        public Builder clearExperience(boolean v) {
            clearExperience = v;
            return this;
        }

        /**
         * Sets {@code clearEpisodic} (any value is valid).
         *
         * @param v see {@link SleepConfig#clearEpisodic()}: whether a committed sleep empties the episodic level's tables
         * @return this builder
         */
        public Builder clearEpisodic(boolean v) {
            clearEpisodic = v;
            return this;
        }

        /**
         * Sets {@code episodicAge}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#episodicAge()}: cap on E's slot counts after a committed sleep that keeps E, in
         *     0..{@value SleepConfig#EPISODIC_KEEP} (that value: counts left as they are)
         * @return this builder
         */
        public Builder episodicAge(int v) {
            episodicAge = v;
            return this;
        }

        /**
         * Sets {@code episodicConfidence}; the value is checked by {@link #build()}.
         *
         * @param v see {@link SleepConfig#episodicConfidence()}: share of each E slot's confidence kept after a committed sleep that
         *     keeps E, in [0, 1]
         * @return this builder
         */
        public Builder episodicConfidence(double v) {
            episodicConfidence = v;
            return this;
        }

        /**
         * Sets {@code seed} (any value is valid).
         *
         * @param v see {@link SleepConfig#seed()}: seed of the windows, samples and expert initialisation (any value)
         * @return this builder
         */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /**
         * The configuration.
         *
         * @return a checked {@link SleepConfig}
         * @throws IllegalArgumentException naming the first value out of range
         */
        public SleepConfig build() {
            return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream,
                    dreamCandidates, dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience,
                    clearEpisodic, episodicAge, episodicConfidence, seed);
        }
    }
}
