package org.hope4j.learner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.hope4j.BitsSink;
import org.hope4j.Learner;
import org.hope4j.Level;
import org.hope4j.Sampling;
import org.hope4j.Score;
import org.hope4j.StateKey;
import org.hope4j.bundle.Bundle;
import org.hope4j.consolidation.IdleSleep;
import org.hope4j.consolidation.SleepSession;
import org.hope4j.engine.BackendInfo;
import org.hope4j.engine.Engine;
import org.hope4j.engine.FailoverEngine;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.hope4j.sleep.SleepScheduler;

/**
 * The {@link Learner}: its locking over {@link Reader} (reading), {@link LearnedState} (what was learned, saved
 * with the state store) and {@link SleepSession}. Calls that read or learn preempt a running sleep, then take the
 * lock ({@link #call}); queries take the lock only ({@code synchronized}); the fixed accessors, the sleep (it works
 * on a copy and locks only to commit) and {@code close} take none.
 */
public final class HopeLearner implements Learner {
    private final Bundle bundle;
    private final FrozenGraphs graphs;
    private final BackendInfo backendInfo;
    private final HopeStream stream;
    private final Reader reader;
    private final LearnedState state;
    private final SleepSession sleeps;
    private final IdleSleep idle = new IdleSleep();
    private volatile boolean closed;

    /**
     * Wires a learner (for {@link org.hope4j.Hope}).
     *
     * @param bundle the bundle it runs
     * @param graphs its frozen segments
     * @param engine the plastic levels' engine
     * @param anchor the pretrained anchor's engine (its CMS levels never learn), or null; closing the learner closes both
     * @param anchorShare the anchor's share of the mixture
     * @param info the backend selection
     * @param experienceBytes the experience buffer's size
     * @param sleeps the sleep session (its own copy of the model, opened on the first sleep)
     * @param episodic the episodic level E, or null
     * @param key the state key, or null
     */
    public HopeLearner(Bundle bundle, FrozenGraphs graphs, Engine engine, Engine anchor, double anchorShare, BackendInfo info,
            int experienceBytes, SleepSession sleeps, EpisodicLevel episodic, StateKey key) {
        this.bundle = bundle;
        this.graphs = graphs;
        this.backendInfo = info;
        this.sleeps = sleeps;
        this.stream = new HopeStream(graphs, engine, bundle.manifest().model().convWidth());
        if (anchor != null) {
            stream.setAnchor(new HopeStream(graphs, anchor, bundle.manifest().model().convWidth()), anchorShare);
        }
        this.reader = new Reader(stream, episodic);
        this.state = new LearnedState(this, stream, reader, episodic, experienceBytes, bundle, key);
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("Learner is closed");
        }
    }

    /** A user call: preempts a running sleep (outside the lock), then runs {@code body} under the lock on an open learner. */
    private <T> T call(Supplier<T> body) {
        idle.touch();
        synchronized (this) {
            open();
            return body.get();
        }
    }

    /** A call that learns: a running sleep will not commit onto the state, and an L1 boundary reaches the scheduler. */
    private Score learning(Supplier<Score> body) {
        return call(() -> {
            state.changed();
            long l1 = stream.counts()[1];
            Score s = body.get();
            idle.stepped(l1, stream.counts()[1]); // the paper's trigger
            return s;
        });
    }

    @Override
    public Score observe(byte[] data, BitsSink surprise) {
        return learning(() -> {
            stream.setBitsSink(surprise);
            try {
                return state.learn(reader, data, 0, data.length);
            } finally {
                stream.setBitsSink(null);
            }
        });
    }

    @Override
    public Score observe(InputStream in) throws IOException {
        IOException[] failed = new IOException[1];
        Score total = learning(() -> {
            Score sum = Score.empty();
            byte[] buf = new byte[1 << 16]; // 64 KiB per engine call
            try {
                for (int n; (n = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                    sum = sum.plus(state.learn(reader, buf, 0, n));
                }
            } catch (IOException e) {
                failed[0] = e; // the chunks before it stay learned
            }
            return sum;
        });
        if (failed[0] != null) {
            throw failed[0];
        }
        return total;
    }

    @Override
    public Score score(byte[] data) {
        return call(() -> {
            double[] r = reader.score(data, state.learning().l0());
            return new Score(data.length, (long) r[1], r[0]);
        });
    }

    @Override
    public byte[] generate(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink) {
        return call(() -> reader.generate(prompt, maxBytes, state.learning().l0(), sampling, sink));
    }

    @Override
    public synchronized void freeze(Level level) {
        open();
        state.frozen().add(Objects.requireNonNull(level, "level"));
    }

    @Override
    public synchronized void unfreeze(Level level) {
        open();
        state.frozen().remove(level);
    }

    @Override
    public synchronized Set<Level> frozenLevels() {
        open();
        return state.frozen().isEmpty() ? EnumSet.noneOf(Level.class) : EnumSet.copyOf(state.frozen());
    }

    @Override
    public void reset(Level level) {
        call(() -> {
            state.reset(level);
            return null;
        });
    }

    @Override
    public synchronized long position() {
        open();
        return stream.position();
    }

    @Override
    public synchronized Map<Level, Long> updateCounts() {
        open();
        return state.updateCounts();
    }

    @Override
    public synchronized byte[] recentExperience() {
        open();
        return state.experience().contents();
    }

    @Override
    public synchronized void clearExperience() {
        open();
        state.experience().clear();
    }

    @Override
    public BackendInfo backendInfo() {
        if (stream.engine() instanceof FailoverEngine f && f.failure() != null) {
            // the selected backend failed for good and the learner went on on the fallback engine: say so
            Map<String, String> status = new java.util.LinkedHashMap<>(backendInfo.status());
            status.put(backendInfo.selected(), "failed: " + f.failure());
            status.put(f.fallbackName(), "selected");
            return new BackendInfo(f.fallbackName(), f.fallbackName() + " (" + backendInfo.selected() + " failed: " + f.failure() + ")",
                    status);
        }
        return backendInfo;
    }

    @Override
    public String graphProvider() {
        return graphs.provider();
    }

    @Override
    public Bundle bundle() {
        return bundle;
    }

    /**
     * The live stream this learner reads with, for the project's tools and tests through {@link Streams} (not a copy,
     * not thread-safe: no other thread may use the learner).
     *
     * @return the stream
     * @throws IllegalStateException if this learner is closed
     */
    synchronized HopeStream stream() {
        open();
        return stream;
    }

    @Override
    public synchronized void save(Path dir) {
        open();
        state.save(dir);
    }

    @Override
    public void restore(Path dir) {
        call(() -> {
            state.restore(dir);
            return null;
        });
    }

    @Override
    public SleepScheduler sleepWhenIdle(DevicePolicy policy, SchedulerOptions when, SleepConfig config, Path stateDir) {
        open();
        Objects.requireNonNull(config, "config");
        return idle.start((budget, preempted, listener) -> sleep(new SleepRequest(budget, config, preempted, listener, stateDir)), policy, when);
    }

    @Override
    public SleepReport sleep(SleepRequest request) {
        return sleeps.sleep(state, Objects.requireNonNull(request, "request"));
    }

    @Override
    public Optional<SleepReport> lastSleep() {
        return Optional.ofNullable(sleeps.lastReport());
    }

    @Override
    public synchronized SleepFigures.Experts expertsInUse() {
        open();
        return state.experts();
    }

    @Override
    public void close() {
        idle.stop();
        state.closing();
        sleeps.close(() -> {
            synchronized (this) {
                if (!closed) {
                    closed = true;
                    state.release();
                    stream.closeEngines();
                    graphs.close();
                }
            }
        });
    }
}
