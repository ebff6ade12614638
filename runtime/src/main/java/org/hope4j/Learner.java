package org.hope4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.hope4j.bundle.Bundle;
import org.hope4j.engine.BackendInfo;
import org.hope4j.engine.Engine;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.LearnedState;
import org.hope4j.learner.Reader;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepListener;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepScheduler;
import org.hope4j.sleep.SleepSession;
import org.hope4j.state.StateStore;

/**
 * A Hope model that keeps learning from the bytes it reads, on this device.
 *
 * <p>{@link #observe} reads text and learns from it (every level at its own period);
 * {@link #score} measures bits/byte without changing anything; {@link #generate} continues a prompt;
 * {@link #save}/{@link #restore} persist what was learned atomically; {@link #sleep} consolidates it.
 * The work is done by {@link Reader} (reading), {@link LearnedState} (what was learned, saved with
 * {@link StateStore}) and {@link SleepSession}; this class is the public contract and its locking.
 *
 * <p><b>Thread safety:</b> every public method that reads or changes the learner takes its lock
 * ({@code synchronized}, after preempting a running sleep): calls from several threads are safe and
 * run one at a time. A sleep works on a copy outside the lock and takes it only to commit; the
 * bundle, backend and provider accessors return fixed values. A learner is not a pool: use one
 * learner per stream of text. {@link #close()} frees the native resources; any later call throws
 * {@link IllegalStateException}.
 */
public final class Learner implements AutoCloseable {
    private final Bundle bundle;
    private final FrozenGraphs graphs;
    private final BackendInfo backendInfo;
    private final HopeStream stream;
    private final Reader reader;
    private final LearnedState state;
    private final SleepSession sleeps;
    private volatile SleepScheduler scheduler, owned; // the one user calls preempt; the one close() stops
    private volatile boolean closed;

    /** {@code anchor}: the pretrained anchor's engine (its CMS levels never learn), or null. Closing the learner closes both engines. */
    Learner(Bundle bundle, FrozenGraphs graphs, Engine engine, Engine anchor, double anchorShare, BackendInfo info, int experienceBytes,
            SleepSession sleeps, EpisodicLevel episodic, org.hope4j.state.StateKey key) {
        this.bundle = bundle;
        this.graphs = graphs;
        this.backendInfo = info;
        this.sleeps = sleeps;
        this.stream = new HopeStream(graphs, engine, bundle.manifest().model().convWidth());
        if (anchor != null) {
            stream.setAnchor(new HopeStream(graphs, anchor, bundle.manifest().model().convWidth()), anchorShare);
        }
        this.reader = new Reader(stream, episodic);
        this.state = new LearnedState(this, stream, episodic, experienceBytes, bundle, key);
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("Learner is closed");
        }
    }

    /** Tells an attached scheduler about a user call: it preempts a running sleep (outside the lock). */
    private void touch() {
        SleepScheduler s = scheduler;
        if (s != null) {
            s.touch();
        }
    }

    /** A user call: preempts a running sleep (outside the lock), then runs {@code body} under the lock on an open learner. */
    private <T> T call(Supplier<T> body) {
        touch();
        synchronized (this) {
            open();
            return body.get();
        }
    }

    /** Reads {@code data} and learns from it. Each byte is scored before anything learns from it (prequential). */
    public Score observe(byte[] data) {
        return observe(data, null);
    }

    /**
     * As {@link #observe(byte[])}, handing the surprise of every scored byte (its bits under the
     * learner's prediction, before learning from it) to {@code surprise} as {@code (position, bits)}:
     * an unusual log line or a typo stands out as a run of high values ({@code null}: no sink).
     */
    public Score observe(byte[] data, HopeStream.BitsSink surprise) {
        return call(() -> {
            stream.setBitsSink(surprise);
            try {
                long l1 = begin();
                return ended(l1, state.learn(reader, data, 0, data.length));
            } finally {
                stream.setBitsSink(null);
            }
        });
    }

    /** {@link #observe(byte[])} of the UTF-8 bytes of {@code text}. */
    public synchronized Score observe(String text) {
        return observe(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Streams {@code in} to its end through {@link #observe(byte[])} in bounded memory. */
    public Score observe(InputStream in) throws IOException {
        touch();
        synchronized (this) {
            open();
            long l1 = begin();
            Score total = Score.empty();
            byte[] buf = new byte[1 << 16]; // 64 KiB per engine call
            int n;
            while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
                total = total.plus(state.learn(reader, buf, 0, n));
            }
            return ended(l1, total);
        }
    }

    private long begin() {
        state.changed(); // a running sleep will not commit onto this state
        return stream.counts()[1];
    }

    /** The paper's trigger: tells an attached scheduler when L1 reached an update boundary during the call. */
    private Score ended(long l1Before, Score s) {
        SleepScheduler sc = scheduler;
        if (sc != null && stream.counts()[1] > l1Before) {
            sc.levelBoundary("L1");
        }
        return s;
    }

    /**
     * Bits/byte of {@code data} read from the current state with the CMS levels frozen (the L0
     * memory reads in context, as in inference). The learner's state is left exactly as it was.
     */
    public Score score(byte[] data) {
        return call(() -> {
            double[] r = reader.score(data, state.learning().l0());
            return new Score(data.length, (long) r[1], r[0]);
        });
    }

    /** {@link #score(byte[])} of the UTF-8 bytes of {@code text}. */
    public synchronized Score score(String text) {
        return score(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Continues {@code prompt} by up to {@code maxBytes} bytes, handing each byte to {@code sink} as
     * soon as it is chosen. Reads the prompt and its own output in context (L0) without learning;
     * the learner's state is left exactly as it was. Returns the generated bytes.
     */
    public byte[] generate(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink) {
        return call(() -> reader.generate(prompt, maxBytes, state.learning().l0(), sampling, sink));
    }

    /** {@link #generate(byte[], int, Sampling, Consumer)} of a UTF-8 prompt, without a sink. */
    public synchronized String generate(String prompt, int maxBytes, Sampling sampling) {
        return new String(generate(prompt.getBytes(StandardCharsets.UTF_8), maxBytes, sampling, null), StandardCharsets.UTF_8);
    }

    /** Stops {@code level} from learning (it keeps its current value) until {@link #unfreeze}. */
    public synchronized void freeze(Level level) {
        open();
        state.frozen().add(level);
    }

    /** Lets {@code level} learn again. */
    public synchronized void unfreeze(Level level) {
        open();
        state.frozen().remove(level);
    }

    /** The levels that currently do not learn. */
    public synchronized Set<Level> frozenLevels() {
        return state.frozen().isEmpty() ? EnumSet.noneOf(Level.class) : EnumSet.copyOf(state.frozen());
    }

    /** Resets {@code level} of every block to its pretrained value (and clears its pending gradients); E empties its tables. */
    public void reset(Level level) {
        call(() -> {
            state.reset(level);
            return null;
        });
    }

    /** Positions read since the stream began (or since the restored state began). */
    public synchronized long position() {
        open();
        return stream.position();
    }

    /** Update counts of L0, L1 and L2 since the stream began (and the bytes E has read, when it is on). */
    public synchronized Map<Level, Long> updateCounts() {
        open();
        return state.updateCounts();
    }

    /** A copy of the most recently observed bytes (oldest first), what sleep consolidates from. */
    public synchronized byte[] recentExperience() {
        open();
        return state.experience().contents();
    }

    /** Forgets the recent experience (in memory; the next {@link #save} writes the empty buffer). */
    public synchronized void clearExperience() {
        open();
        state.experience().clear();
    }

    /** Which backend runs the plastic levels and why the others do not (fixed at load: not synchronized). */
    public BackendInfo backendInfo() {
        return backendInfo;
    }

    /** The execution provider of the frozen segments. */
    public String graphProvider() {
        return graphs.provider();
    }

    /** The bundle this learner runs. */
    public Bundle bundle() {
        return bundle;
    }

    /** Internal, for this project's parity tests and benchmarks: the stream (not thread-safe: no other thread may use the learner). */
    public synchronized HopeStream stream() {
        open();
        return stream;
    }

    /** Whether {@code dir} holds a saved state that {@link #restore} can try to load. */
    public static boolean hasSavedState(Path dir) {
        return StateStore.exists(dir);
    }

    /**
     * Saves the whole learned state into {@code dir} (created if needed), every file written atomically and
     * owner-only: a crash leaves the old state or the new one. A state holding NaN or an infinity is refused
     * and the old one stays. The first save locks {@code dir} until {@link #close}: another learner saving there is refused.
     */
    public synchronized void save(Path dir) {
        open();
        state.save(dir);
    }

    /**
     * Replaces the current state with the one saved in {@code dir}. Every file and field is verified
     * (format, version, bundle, both checksums, finite values, every tensor's shape, the episodic
     * tables) before anything changes: on any error the current state is untouched and a
     * {@link StateException} names the file and field.
     */
    public void restore(Path dir) {
        call(() -> {
            state.restore(dir);
            return null;
        });
    }

    /**
     * Idle-time sleep in one call: a {@link SleepScheduler} that runs {@link #sleep} with {@code config} when this
     * learner has been idle per {@code when} and {@code policy} allows, each commit saved into {@code stateDir}
     * (unless null) in the swap's critical section, so what is on disk is what runs. Every later user call
     * preempts a running sleep; L1 update boundaries are reported to it. Closing it, or this learner, stops it.
     */
    public SleepScheduler sleepWhenIdle(DevicePolicy policy, SchedulerOptions when, SleepConfig config, Path stateDir) {
        Objects.requireNonNull(config, "config");
        SleepScheduler s = new SleepScheduler((budget, preempted, listener) -> sleep(budget, config, preempted, listener, stateDir), policy, when);
        s.onClose(() -> scheduler = scheduler == s ? null : scheduler);
        scheduler = s;
        owned = s;
        return s;
    }

    /** One sleep now with the default budget and configuration, on the calling thread; nothing is saved. */
    public SleepReport sleep() {
        return sleep(SleepBudget.defaults(), SleepConfig.defaults(), () -> false, e -> { }, null);
    }

    /**
     * One sleep on the calling thread (see {@link org.hope4j.sleep.Consolidation}): the recent experience
     * distilled from L1 into a new expert of L2, dreams, the retention-probe guard, one atomic swap. It works on
     * a private copy: a call that changes the learner's state, {@link #close}, or {@code preempted} turning true
     * stops it within one step and leaves the state exactly as it was. {@code budget}: what it may spend;
     * {@code stateDir}: where a commit is saved with the swap, or {@code null}. Returns
     * {@link SleepReport.Committed} (L1 reset, L2 holds what it knew), {@link SleepReport.RolledBack} or {@link SleepReport.Preempted}.
     */
    public SleepReport sleep(SleepBudget budget, SleepConfig config, BooleanSupplier preempted, SleepListener listener, Path stateDir) {
        return sleeps.sleep(state, budget, config, preempted, listener, stateDir);
    }

    /**
     * The report of this learner's last sleep, whoever started it ({@link #sleep}, or the idle-time
     * scheduler of {@link #sleepWhenIdle}), with its {@link SleepReport#figures() figures}; empty before
     * the first.
     */
    public Optional<SleepReport> lastSleep() {
        return Optional.ofNullable(sleeps.lastReport());
    }

    /** L2's expert pool: experts in use (one per committed sleep) and the pool's size. */
    public synchronized SleepFigures.Experts expertsInUse() {
        return state.experts();
    }

    /** Frees the native resources; a running sleep is stopped first (it leaves the state as it was). */
    @Override
    public void close() {
        SleepScheduler s = owned;
        if (s != null) {
            s.close();
        }
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
