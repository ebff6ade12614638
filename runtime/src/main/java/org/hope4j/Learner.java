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
 * {@link IllegalStateException}, except {@link #sleep} (a sleep racing {@code close} returns
 * {@link SleepReport.Preempted}), {@link #lastSleep} and the fixed accessors.
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

    /**
     * Reads {@code data} and learns from it. Each byte is scored before anything learns from it (prequential).
     *
     * @param data the bytes to learn from, continuing the stream read so far; not null, may be empty
     * @return the bits {@code data} cost before it was learned, with the updates refused as non-finite in {@code rollbacks}
     * @throws IllegalStateException if this learner is closed
     */
    public Score observe(byte[] data) {
        return observe(data, null);
    }

    /**
     * As {@link #observe(byte[])}, handing the surprise of every scored byte (its bits under the
     * learner's prediction, before learning from it) to {@code surprise} as {@code (position, bits)}:
     * an unusual log line or a typo stands out as a run of high values ({@code null}: no sink).
     *
     * @param data the bytes to learn from, continuing the stream read so far; not null, may be empty
     * @param surprise called on the calling thread, during this call, once per scored byte in stream order, with the
     *     byte's position in the whole stream and its bits; or {@code null}
     * @return the bits {@code data} cost before it was learned, with the updates refused as non-finite in {@code rollbacks}
     * @throws IllegalStateException if this learner is closed
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

    /**
     * {@link #observe(byte[])} of the UTF-8 bytes of {@code text}.
     *
     * @param text the text to learn from; not null, may be empty
     * @return the bits its UTF-8 bytes cost before they were learned (counts are in bytes, not characters)
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized Score observe(String text) {
        return observe(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Streams {@code in} to its end through {@link #observe(byte[])} in bounded memory.
     *
     * @param in the bytes to learn from, read in chunks of up to 64 KiB until it ends; not null; left open
     * @return the sum of the chunks' scores
     * @throws IOException if reading {@code in} fails; the chunks read before the failure stay learned
     * @throws IllegalStateException if this learner is closed
     */
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
     *
     * @param data the bytes to measure, as if they continued the stream read so far; not null, may be empty
     * @return the bits of {@code data} ({@code rollbacks} is always 0)
     * @throws IllegalStateException if this learner is closed
     */
    public Score score(byte[] data) {
        return call(() -> {
            double[] r = reader.score(data, state.learning().l0());
            return new Score(data.length, (long) r[1], r[0]);
        });
    }

    /**
     * {@link #score(byte[])} of the UTF-8 bytes of {@code text}.
     *
     * @param text the text to measure; not null, may be empty
     * @return the bits of its UTF-8 bytes (counts are in bytes, not characters)
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized Score score(String text) {
        return score(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Continues {@code prompt} by up to {@code maxBytes} bytes, handing each byte to {@code sink} as
     * soon as it is chosen. Reads the prompt and its own output in context (L0) without learning;
     * the learner's state is left exactly as it was. Returns the generated bytes.
     *
     * @param prompt the bytes to continue, read after the stream read so far; not null, may be empty (then the output
     *     continues the stream itself; a learner that has read nothing starts with a space)
     * @param maxBytes how many bytes to generate, {@code >= 0}
     * @param sampling how each byte is picked (temperature, top-k, seed); not null
     * @param sink receives each byte, as a new one-byte array, on the calling thread before the next is chosen; or {@code null}
     * @return a new array of the generated bytes (the code always generates {@code maxBytes} of them; the prompt is not included)
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     * @throws IllegalStateException if this learner is closed
     */
    public byte[] generate(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink) {
        return call(() -> reader.generate(prompt, maxBytes, state.learning().l0(), sampling, sink));
    }

    /**
     * {@link #generate(byte[], int, Sampling, Consumer)} of a UTF-8 prompt, without a sink.
     *
     * @param prompt the text to continue; not null, may be empty
     * @param maxBytes how many bytes (not characters) to generate, {@code >= 0}
     * @param sampling how each byte is picked; not null
     * @return the generated bytes decoded as UTF-8, without the prompt; bytes that do not form valid UTF-8 (such as a
     *     character cut at {@code maxBytes}) become U+FFFD
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized String generate(String prompt, int maxBytes, Sampling sampling) {
        return new String(generate(prompt.getBytes(StandardCharsets.UTF_8), maxBytes, sampling, null), StandardCharsets.UTF_8);
    }

    /**
     * Stops {@code level} from learning (it keeps its current value) until {@link #unfreeze}.
     *
     * @param level the level to freeze; not null; freezing a frozen level does nothing
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized void freeze(Level level) {
        open();
        state.frozen().add(level);
    }

    /**
     * Lets {@code level} learn again.
     *
     * @param level the level to unfreeze; not null; unfreezing a level that learns does nothing
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized void unfreeze(Level level) {
        open();
        state.frozen().remove(level);
    }

    /**
     * The levels that currently do not learn.
     *
     * @return a new set (a copy: changing it changes nothing here), empty when every level learns
     */
    public synchronized Set<Level> frozenLevels() {
        open();
        return state.frozen().isEmpty() ? EnumSet.noneOf(Level.class) : EnumSet.copyOf(state.frozen());
    }

    /**
     * Resets {@code level} of every block to its pretrained value (and clears its pending gradients); E empties its tables.
     *
     * @param level the level to reset; not null; {@link Level#E} does nothing when the learner has no episodic level
     * @throws IllegalStateException if this learner is closed
     */
    public void reset(Level level) {
        call(() -> {
            state.reset(level);
            return null;
        });
    }

    /**
     * Positions read since the stream began (or since the restored state began).
     *
     * @return the number of bytes observed; {@link #score} and {@link #generate} do not move it
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized long position() {
        open();
        return stream.position();
    }

    /**
     * Update counts of L0, L1 and L2 since the stream began (and the bytes E has read, when it is on).
     *
     * @return a new map, in the order L0, L1, L2 (then E, only when the learner has an episodic level)
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized Map<Level, Long> updateCounts() {
        open();
        return state.updateCounts();
    }

    /**
     * A copy of the most recently observed bytes (oldest first), what sleep consolidates from.
     *
     * @return a new array of at most {@link LearnerOptions#experienceBytes()} bytes; empty when it is 0 or nothing was
     *     observed since the buffer was last cleared
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized byte[] recentExperience() {
        open();
        return state.experience().contents();
    }

    /**
     * Forgets the recent experience (in memory; the next {@link #save} writes the empty buffer).
     *
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized void clearExperience() {
        open();
        state.experience().clear();
    }

    /**
     * Which backend runs the plastic levels and why the others do not (fixed at load: not synchronized).
     *
     * @return the selected backend's name and description and the status of every candidate; also after {@link #close}
     */
    public BackendInfo backendInfo() {
        return backendInfo;
    }

    /**
     * The execution provider of the frozen segments.
     *
     * @return "cpu", "cuda" or "tensorrt": the one actually in use, which may be a fallback from the one asked for
     */
    public String graphProvider() {
        return graphs.provider();
    }

    /**
     * The bundle this learner runs.
     *
     * @return the bundle it was opened on (the same instance, not a copy); also after {@link #close}
     */
    public Bundle bundle() {
        return bundle;
    }

    /**
     * Internal, for this project's parity tests and benchmarks: the stream (not thread-safe: no other thread may use the learner).
     *
     * @return the live stream this learner reads with (not a copy: reading through it changes the learner)
     * @throws IllegalStateException if this learner is closed
     */
    public synchronized HopeStream stream() {
        open();
        return stream;
    }

    /**
     * Whether {@code dir} holds a saved state that {@link #restore} can try to load.
     *
     * @param dir the state directory; not null; it need not exist
     * @return true if {@code dir} holds a state file ({@code learner.state}); its contents are not checked, so a restore
     *     may still refuse it
     */
    public static boolean hasSavedState(Path dir) {
        return StateStore.exists(dir);
    }

    /**
     * Saves the whole learned state into {@code dir} (created if needed), every file written atomically and
     * owner-only: a crash leaves the old state or the new one. A state holding NaN or an infinity is refused
     * and the old one stays. The first save locks {@code dir} until {@link #close}: another learner saving there is refused.
     *
     * @param dir the state directory; not null
     * @throws StateException naming the directory or file if it cannot be created, locked or written, another learner
     *     holds its lock, or the state holds NaN or an infinity
     * @throws IllegalStateException if this learner is closed
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
     *
     * @param dir the state directory a learner on the same bundle (and with the same state key) saved into; not null
     * @throws StateException if {@code dir} holds no state or any check fails; the current state is then untouched
     * @throws IllegalStateException if this learner is closed
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
     * preempts a running sleep; L1 update boundaries are reported to it. Closing it, or this learner, stops it; a
     * second call closes the scheduler the first made (two would take turns sleeping the same state).
     *
     * @param policy whether the device may sleep now (power, heat, load, time of day); not null
     * @param when how long the learner must be idle, the minimum gap between sleeps, whether to sleep at L1 boundaries; not null
     * @param config what each sleep does; not null
     * @param stateDir where each committed sleep is saved, or {@code null} to save nothing
     * @return the scheduler, already running on its own daemon thread; close it to stop idle-time sleep
     * @throws NullPointerException if {@code config} is null
     * @throws IllegalArgumentException if {@code policy} or {@code when} is null
     */
    public SleepScheduler sleepWhenIdle(DevicePolicy policy, SchedulerOptions when, SleepConfig config, Path stateDir) {
        open();
        Objects.requireNonNull(config, "config");
        SleepScheduler previous = owned;
        if (previous != null) {
            previous.close();
        }
        SleepScheduler s = new SleepScheduler((budget, preempted, listener) -> sleep(budget, config, preempted, listener, stateDir), policy, when);
        s.onClose(() -> scheduler = scheduler == s ? null : scheduler);
        scheduler = s;
        owned = s;
        return s;
    }

    /**
     * One sleep now with the default budget and configuration, on the calling thread; nothing is saved.
     *
     * @return what the sleep did: committed, rolled back or preempted (also when the learner is closed or closing)
     * @throws BackendException if the sleep's own copy of the model (graphs and engines) cannot be opened
     */
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
     *
     * @param budget what the sleep may spend (bytes of experience, consolidation time, overall deadline); not null
     * @param config what the sleep does (pool size, expert rank, steps, the retention guard's bound, what a commit clears); not null
     * @param preempted polled during the sleep; returning true stops it, leaving the state as it was; not null
     * @param listener receives the sleep's events (phases and progress) on the calling thread; not null
     * @param stateDir where a commit is saved with the swap, or {@code null} to save nothing
     * @return what the sleep did; {@link SleepReport.Preempted} also when the learner is closed or closing, or another sleep
     *     of this learner is running
     * @throws StateException if {@code stateDir} is not null and saving the committed state fails: the swap is then
     *     undone, so the learner runs what the disk holds (the state before the sleep)
     * @throws BackendException if the sleep's own copy of the model (graphs and engines) cannot be opened
     */
    public SleepReport sleep(SleepBudget budget, SleepConfig config, BooleanSupplier preempted, SleepListener listener, Path stateDir) {
        return sleeps.sleep(state, budget, config, preempted, listener, stateDir);
    }

    /**
     * The report of this learner's last sleep, whoever started it ({@link #sleep}, or the idle-time
     * scheduler of {@link #sleepWhenIdle}), with its {@link SleepReport#figures() figures}; empty before
     * the first.
     *
     * @return the last sleep's report, or empty if no sleep of this learner has returned a report yet
     */
    public Optional<SleepReport> lastSleep() {
        return Optional.ofNullable(sleeps.lastReport());
    }

    /**
     * L2's expert pool: experts in use (one per committed sleep) and the pool's size.
     *
     * @return the number of experts holding a consolidated sleep and the number of slots
     */
    public synchronized SleepFigures.Experts expertsInUse() {
        open();
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
