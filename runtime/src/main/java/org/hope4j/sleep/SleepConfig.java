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
 *     meets less stale confidence; {@value #EPISODIC_KEEP} (the default) leaves the counts as they are
 * @param seed seed of the windows, samples and expert initialisation
 */
public record SleepConfig(int poolSize, int rank, int windowBytes, double learningRate, double sampledFraction,
        double anchorFraction, int anchorWindows, int promptBytes, boolean dream, int dreamCandidates, int dreamSteps, int heldOutBytes, int evalBytes,
        double probeBound, boolean prune, int steps, int checkEvery, int patience, boolean clearExperience, boolean clearEpisodic, int episodicAge, long seed) {
    /** {@code episodicAge} that leaves E's counts as they are (no count reaches it). */
    public static final int EPISODIC_KEEP = 31;

    public SleepConfig {
        if (episodicAge < 0 || episodicAge > EPISODIC_KEEP) {
            throw new IllegalArgumentException("episodicAge must be in 0.." + EPISODIC_KEEP + ", found " + episodicAge);
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
     * half of them anchor windows (64 of them), 4 dreams of 2 steps judged on the newest 2 KiB,
     * recent bits/byte over at most 16 KiB, a 1 % probe bound, fold when full, 600 steps (the
     * budget's time is only an upper bound), a check every 25 steps with a patience of 8 checks (the
     * expert's first steps often hold the most that general text allows), the experience and the episodic
     * tables are kept, seed 1.
     */
    public static SleepConfig defaults() {
        return new SleepConfig(4, 8, 128, 1e-3, 0.1, 0.5, 64, 32, true, 4, 2, 2048, 16384, 0.01, false, 600, 25, 8, false, false, EPISODIC_KEEP, 1);
    }

    public SleepConfig withPoolSize(int value) {
        return new SleepConfig(value, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withRank(int value) {
        return new SleepConfig(poolSize, value, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withWindowBytes(int value) {
        return new SleepConfig(poolSize, rank, value, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withLearningRate(double value) {
        return new SleepConfig(poolSize, rank, windowBytes, value, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withSampledFraction(double value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, value, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withAnchor(double fraction, int windows) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, fraction, windows, promptBytes, dream,
                dreamCandidates, dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withDream(boolean value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, value, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withDreams(int candidates, int stepsEach) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, candidates,
                stepsEach, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withHeldOutBytes(int value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, value, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withEvalBytes(int value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, value, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withProbeBound(double value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, value, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withPrune(boolean value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, value, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withSteps(int value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, value, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withChecks(int every, int patienceChecks) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream,
                dreamCandidates, dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, every, patienceChecks, clearExperience, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withClearExperience(boolean value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, value, clearEpisodic, episodicAge, seed);
    }

    public SleepConfig withSeed(long value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, episodicAge, value);
    }

    public SleepConfig withClearEpisodic(boolean value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, value, episodicAge, seed);
    }

    public SleepConfig withEpisodicAge(int value) {
        return new SleepConfig(poolSize, rank, windowBytes, learningRate, sampledFraction, anchorFraction, anchorWindows, promptBytes, dream, dreamCandidates,
                dreamSteps, heldOutBytes, evalBytes, probeBound, prune, steps, checkEvery, patience, clearExperience, clearEpisodic, value, seed);
    }
}
