package org.hope4j.learner;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.hope4j.HopeException;
import org.hope4j.Level;
import org.hope4j.Score;
import org.hope4j.StateException;
import org.hope4j.StateKey;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.consolidation.Consolidation;
import org.hope4j.consolidation.ExperienceBuffer;
import org.hope4j.consolidation.ExpertPool;
import org.hope4j.consolidation.SleepSession;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.state.StateLock;
import org.hope4j.state.StateStore;

/**
 * Everything a learner has learned, beyond its stream's position: the engine's levels and E (through
 * the stream), the frozen levels, L2's expert pool, the recent experience, and a version bumped by
 * every change. Saves and restores it (through {@link StateStore}) and is what a sleep reads at its
 * start and swaps at its end ({@link SleepSession.Host}).
 *
 * <p>Not thread-safe by itself: every method runs under the learner's monitor ({@code lock}), which
 * {@link #start} and {@link #commit} take themselves since a sleep calls them from its own thread.
 */
public final class LearnedState implements SleepSession.Host {
    private final Object lock;
    private final HopeStream stream;
    private final Reader reader;
    private final byte[] probe;
    private final EpisodicLevel episodic;
    private final String bundleSha, plasticSha;
    private final StateKey key;
    private final Set<Level> frozen = EnumSet.noneOf(Level.class);
    private ExperienceBuffer experience;
    private ExpertPool pool;
    private volatile long version;
    private volatile boolean closing;
    private final Map<Path, StateLock> locks = new HashMap<>();

    /**
     * A fresh state: no level frozen, empty experience, an empty expert pool of the default sleep configuration,
     * version 0.
     *
     * @param lock the learner's monitor
     * @param stream the learner's stream, whose engine holds the neural levels (its spec sizes the expert pool)
     * @param reader the learner's reader over {@code stream} and {@code episodic} (a sleep's commit scores the retention probe with it)
     * @param episodic E, or null
     * @param experienceBytes how many of the most recently learned bytes to keep for sleep, 0 or more (0 keeps
     *     nothing; negative is an {@link IllegalArgumentException})
     * @param bundle the bundle, which a saved state is tied to (its SHA-256 and its plastic weights')
     * @param key seals every saved file (AES-256-GCM), or null
     */
    public LearnedState(Object lock, HopeStream stream, Reader reader, EpisodicLevel episodic, int experienceBytes, Bundle bundle, StateKey key) {
        this.lock = lock;
        this.reader = reader;
        this.probe = bundle.probe();
        this.key = key;
        this.stream = stream;
        this.episodic = episodic;
        this.bundleSha = bundle.sha256();
        this.plasticSha = bundle.manifest().files().getOrDefault(bundle.manifest().plastic(), "unknown");
        experience = new ExperienceBuffer(experienceBytes);
        pool = emptyPool(SleepConfig.defaults());
    }

    private ExpertPool emptyPool(SleepConfig c) {
        var s = stream.engine().spec();
        return new ExpertPool(c.poolSize(), s.nBlocks(), s.dModel(), s.midHidden(), c.rank());
    }

    /**
     * The levels that do not learn (the live set).
     *
     * @return the set itself, not a copy: adding or removing a level changes what the next read learns
     */
    public Set<Level> frozen() {
        return frozen;
    }

    /**
     * Which neural levels learn now.
     *
     * @return each of L0, L1 and L2 learning unless it is in {@link #frozen}
     */
    public Learning learning() {
        return new Learning(!frozen.contains(Level.L0), !frozen.contains(Level.L1), !frozen.contains(Level.L2));
    }

    /**
     * The recent experience (what sleep consolidates from).
     *
     * @return the live buffer (a {@link #restore} replaces it with another)
     */
    public ExperienceBuffer experience() {
        return experience;
    }

    /**
     * Learns {@code data[off, off+len)} through {@code reader} (a frozen E keeps its tables) and keeps it as experience.
     *
     * @param reader the learner's reader over this state's stream
     * @param data the bytes to learn
     * @param off index of the first byte in {@code data}
     * @param len number of bytes, 0 or more
     * @return {@code len} bytes read, the bytes scored and their summed bits, and the engine's rollbacks during the call
     */
    public Score learn(Reader reader, byte[] data, int off, int len) {
        long refused = stream.engine().rollbacks();
        double[] r = reader.learn(data, off, len, learning(), frozen.contains(Level.E));
        experience.append(data, off, len);
        return new Score(len, (long) r[1], r[0], stream.engine().rollbacks() - refused);
    }

    /** Records a change of the learned state: a running sleep will not commit onto it. */
    public void changed() {
        version++;
    }

    /** Stops running sleeps from committing, for good. */
    public void closing() {
        closing = true;
    }

    /**
     * Resets {@code level} to its pretrained value (E: empty tables). Counts as a change ({@link #changed}).
     *
     * @param level L0, L1 or L2 (reset in every block), or E (nothing to reset when the learner has none)
     */
    public void reset(Level level) {
        changed();
        if (level != Level.E) {
            stream.resetLevel(level);
        } else if (episodic != null) {
            episodic.reset();
        }
    }

    /**
     * Update counts of L0, L1, L2 (and the bytes E has read, when it is on).
     *
     * @return a new map, in order L0 (chunk commits), L1 (steps), L2 (steps) and, with E, E (bytes read)
     */
    public Map<Level, Long> updateCounts() {
        long[] c = stream.counts();
        Map<Level, Long> m = new LinkedHashMap<>();
        m.put(Level.L0, c[0]);
        m.put(Level.L1, c[1]);
        m.put(Level.L2, c[2]);
        if (episodic != null) {
            m.put(Level.E, episodic.position());
        }
        return m;
    }

    /** L2's expert pool: experts in use and the pool's size. */
    @Override
    public SleepFigures.Experts experts() {
        synchronized (lock) {
            return new SleepFigures.Experts(pool.used(), pool.slots());
        }
    }

    /**
     * Saves everything into {@code dir} ({@link StateStore#save}). The first save into a directory
     * takes its {@link StateLock}, held until {@link #release}: one writer per state.
     *
     * @param dir the state directory; created with its parents if missing
     * @throws StateException if the directory cannot be created, another learner holds its lock, the state holds
     *     NaN or an infinity, or a file cannot be written (the state on disk then stays as it was)
     */
    public void save(Path dir) {
        Path locked = StateStore.directory(dir).toAbsolutePath().normalize();
        if (!locks.containsKey(locked)) {
            locks.put(locked, StateLock.acquire(locked));
        }
        StateStore.save(dir, new StateStore.Contents(stream.snapshot(), frozen, pool, experience, episodic, bundleSha, plasticSha, key));
    }

    /** Releases the state directories this learner saved into (it is closing: no save follows). */
    public void release() {
        locks.values().forEach(StateLock::close);
        locks.clear();
    }

    /**
     * Replaces everything with the state in {@code dir}, all or nothing ({@link StateStore#read} verifies it first).
     * Counts as a change ({@link #changed}).
     *
     * @param dir a state directory written by {@link #save} for the same bundle
     * @throws StateException naming the state file if it is missing, does not verify, belongs to another bundle, or
     *     does not fit this learner's engine or E (the stream is then put back as it was)
     */
    public void restore(Path dir) {
        var es = stream.engine().spec();
        StateStore.Loaded l = StateStore.read(dir, bundleSha, plasticSha, pool, es.nBlocks(), es.dModel(), es.midHidden(), experience.capacity(), key);
        HopeStream.Snapshot before = stream.snapshot();
        try {
            stream.restore(l.snapshot());
            if (episodic != null) {
                l.loadEpisodic(episodic, dir);
            }
        } catch (RuntimeException e) {
            stream.restore(before);
            // every refusal names the file: the engine's checks (a tensor's name or size) do not know it
            throw e instanceof HopeException && String.valueOf(e.getMessage()).contains(l.file().toString()) ? e
                    : new StateException(l.file() + ": " + e.getMessage(), e);
        }
        changed();
        pool = l.pool();
        experience = l.experience();
        frozen.clear();
        frozen.addAll(l.frozen());
    }

    // ---------------------------------------------------------------------------------------------
    // what a sleep sees

    @Override
    public SleepSession.Start start(SleepConfig config) {
        synchronized (lock) {
            if (pool.used() == 0 && (pool.slots() != config.poolSize() || pool.rank() != config.rank())) {
                pool = emptyPool(config);
            }
            return new SleepSession.Start(stream.snapshot().tensors(), pool.copy(), experience.contents(), version, episodic);
        }
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public SleepSession.Commit commit(long v0, Map<String, Tensor> live, Consolidation.Result r, SleepConfig config, Path stateDir,
            ToDoubleFunction<EpisodicLevel> pretrainedProbe) {
        synchronized (lock) {
            if (closing || version != v0) {
                return new SleepSession.Commit("the learner's state changed before the commit", null);
            }
            // what the swap replaces, so that a commit whose save fails leaves memory as it left the disk
            HopeStream.Snapshot streamBefore = stateDir != null ? stream.snapshot() : null;
            ExpertPool poolBefore = pool;
            byte[] experienceBefore = stateDir != null && config.clearExperience() ? experience.contents() : null;
            // E's whole state, deflated (a few MB: its tables are mostly empty slots; a raw copy of them was the peak of a
            // sleeping learner's heap)
            byte[] episodicBefore = stateDir != null && episodic != null ? episodic.deflated() : null;
            // the swap: L2 takes the consolidated weights, the pool the expert, L1 its pretrained value
            Map<String, Tensor> next = new LinkedHashMap<>(live);
            next.putAll(r.l2After());
            ExpertPool nextPool = pool.copy();
            nextPool.commit(r.slot(), r.evictedSlot(), r.expert());
            stream.restore(new HopeStream.Snapshot(next, stream.position(), stream.counts()));
            stream.engine().resetLevel(Level.L1);
            pool = nextPool;
            changed();
            if (config.clearExperience()) {
                experience.clear();
            }
            String episodicDone = null;
            if (config.clearEpisodic() && episodic != null) {
                episodic.reset(); // the episodes are handed over: what stays is what the neural levels learned
                episodicDone = "E emptied";
            } else if (episodic != null && config.agesEpisodic()) {
                episodicDone = ageGuarded(config, pretrainedProbe);
            } else if (episodic != null) {
                episodicDone = "E kept";
            }
            if (stateDir != null) {
                try {
                    save(stateDir);
                } catch (RuntimeException e) {
                    stream.restore(streamBefore);
                    pool = poolBefore;
                    if (experienceBefore != null) {
                        experience.append(experienceBefore, 0, experienceBefore.length); // the buffer was emptied above
                    }
                    if (episodicBefore != null) {
                        episodic.restoreDeflated(episodicBefore);
                    }
                    changed();
                    throw e;
                }
            }
            return new SleepSession.Commit(null, episodicDone);
        }
    }

    /**
     * Ages E as {@code config} says; then, while the learner (anchor and E included) scores the bundle's retention probe
     * more than {@code config.probeBound()} above the pretrained learner, takes the next, stronger step: recalibrates
     * E's maps, then ages it further (counts 0, half the confidence left) and forgets its matches, and at last empties
     * it: the sleep's guard of general text, applied to the learner as it will run, with the mildest step that holds.
     * Measured after 48 KB of each of nine real-text formats: aging alone left the probe above 1 % on four (log, HTML,
     * CSV, minified JavaScript); recalibrating brought three of them within it, the third step the fourth (README "Sleep").
     */
    private String ageGuarded(SleepConfig config, ToDoubleFunction<EpisodicLevel> pretrainedProbe) {
        episodic.age(config.episodicAge(), config.episodicConfidence());
        byte[] probe = this.probe;
        if (probe == null || probe.length < 2 || pretrainedProbe == null) {
            return "E aged";
        }
        double reference = pretrainedProbe.applyAsDouble(episodic);
        double bound = reference * (1 + config.probeBound());
        String[] steps = {"E aged", "E aged and its maps recalibrated", "E aged further, its maps recalibrated and its matches forgotten",
            "E emptied"};
        StringBuilder before = new StringBuilder();
        for (int step = 0; ; step++) {
            if (step == 1) {
                episodic.recalibrate();
            } else if (step == 2) {
                episodic.age(0, 0.5); // the maps are still those step 1 recalibrated (scoring the probe changes nothing)
                episodic.forgetMatches();
            } else if (step == 3) {
                episodic.reset();
            }
            double bits = probeBits(probe);
            if (!(bits > bound) || step == 3) {
                return String.format(Locale.ROOT, "%s (the learner's probe %+.2f %% against the pretrained learner's, bound %.2f %%%s)",
                        steps[step], 100 * (bits / reference - 1), 100 * config.probeBound(), before);
            }
            before.append(String.format(Locale.ROOT, "; %s: %+.2f %%", step == 0 ? "aged" : step == 1 ? "recalibrated" : "aged further",
                    100 * (bits / reference - 1)));
        }
    }

    /** The live learner's bits/byte on {@code data}, read after the stream (nothing changes). */
    private double probeBits(byte[] data) {
        double[] r = reader.score(data, learning().l0());
        return r[0] / Math.max(1, r[1]);
    }
}
