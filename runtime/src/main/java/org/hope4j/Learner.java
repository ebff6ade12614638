package org.hope4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.hope4j.bundle.Bundle;
import org.hope4j.engine.BackendInfo;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.hope4j.sleep.SleepScheduler;

/**
 * A Hope model that keeps learning from the bytes it reads, on this device.
 *
 * <p>{@link #observe} reads text and learns from it (every level at its own period);
 * {@link #score} measures bits/byte without changing anything; {@link #generate} continues a prompt;
 * {@link #save}/{@link #restore} persist what was learned atomically; {@link #sleep} consolidates it.
 * This interface is the public contract; {@link Hope} opens the implementation, which locks and delegates to
 * the internal reader, learned state (saved in the state store) and sleep session. It is not meant to be
 * implemented outside this library.
 *
 * <p><b>Thread safety:</b> every method that reads or changes the learner takes its lock (a call that
 * reads or learns preempts a running sleep first): calls from several threads are safe and
 * run one at a time. A sleep works on a copy outside the lock and takes it only to commit; the
 * bundle, backend and provider accessors return fixed values. A learner is not a pool: use one
 * learner per stream of text. {@link #close()} frees the native resources; any later call throws
 * {@link IllegalStateException} (not repeated below), except {@link #sleep} (a sleep racing {@code close}
 * returns {@link SleepReport.Preempted}), {@link #lastSleep}, {@code close} and the fixed accessors.
 */
public interface Learner extends AutoCloseable {
    /**
     * Reads {@code data} and learns from it. Each byte is scored before anything learns from it (prequential).
     *
     * @param data the bytes to learn from, continuing the stream read so far; not null, may be empty
     * @return the bits {@code data} cost before it was learned, with the updates refused as non-finite in {@code rollbacks}
     */
    default Score observe(byte[] data) {
        return observe(data, null);
    }

    /**
     * As {@link #observe(byte[])}, handing the surprise of every scored byte (its bits before learning from it) to
     * {@code surprise}: an unusual log line or a typo stands out as a run of high values.
     *
     * @param data the bytes to learn from, continuing the stream read so far; not null, may be empty
     * @param surprise called on the calling thread, during this call, once per scored byte in stream order; or {@code null}
     * @return the bits {@code data} cost before it was learned, with the updates refused as non-finite in {@code rollbacks}
     */
    Score observe(byte[] data, BitsSink surprise);

    /**
     * {@link #observe(byte[])} of the UTF-8 bytes of {@code text}.
     *
     * @param text the text to learn from; not null, may be empty
     * @return the bits its UTF-8 bytes cost before they were learned (counts are in bytes, not characters)
     */
    default Score observe(String text) {
        return observe(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Streams {@code in} to its end through {@link #observe(byte[])} in bounded memory (64 KiB chunks).
     *
     * @param in the bytes to learn from, read until it ends; not null; left open
     * @return the sum of the chunks' scores
     * @throws IOException if reading {@code in} fails; the chunks read before the failure stay learned
     */
    Score observe(InputStream in) throws IOException;

    /**
     * Bits/byte of {@code data} read from the current state with the CMS levels frozen (the L0 memory reads in
     * context, as in inference). The learner's state is left exactly as it was.
     *
     * @param data the bytes to measure, as if they continued the stream read so far; not null, may be empty
     * @return the bits of {@code data} ({@code rollbacks} is always 0)
     */
    Score score(byte[] data);

    /**
     * {@link #score(byte[])} of the UTF-8 bytes of {@code text}.
     *
     * @param text the text to measure; not null, may be empty
     * @return the bits of its UTF-8 bytes (counts are in bytes, not characters)
     */
    default Score score(String text) {
        return score(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Continues {@code prompt} by {@code maxBytes} bytes, handing each to {@code sink} as soon as it is chosen. Reads
     * the prompt and its own output in context (L0) without learning; the learner's state is left exactly as it was.
     *
     * @param prompt the bytes to continue, read after the stream read so far; not null, may be empty (then the output
     *     continues the stream itself; a learner that has read nothing starts with a space)
     * @param maxBytes how many bytes to generate, {@code >= 0}
     * @param sampling how each byte is picked (temperature, top-k, seed); not null
     * @param sink receives each byte, as a new one-byte array, on the calling thread before the next is chosen; or {@code null}
     * @return a new array of the {@code maxBytes} generated bytes, without the prompt
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     */
    byte[] generate(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink);

    /**
     * {@link #generate(byte[], int, Sampling, Consumer)} of a UTF-8 prompt, without a sink.
     *
     * @param prompt the text to continue; not null, may be empty
     * @param maxBytes how many bytes (not characters) to generate, {@code >= 0}
     * @param sampling how each byte is picked; not null
     * @return the generated bytes decoded as UTF-8, without the prompt (invalid UTF-8, such as a character cut at
     *     {@code maxBytes}, becomes U+FFFD)
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     */
    default String generate(String prompt, int maxBytes, Sampling sampling) {
        return new String(generate(prompt.getBytes(StandardCharsets.UTF_8), maxBytes, sampling, null), StandardCharsets.UTF_8);
    }

    /**
     * Stops {@code level} from learning (it keeps its current value) until {@link #unfreeze}; freezing twice does nothing.
     *
     * @param level the level to freeze; not null
     */
    void freeze(Level level);

    /**
     * Lets {@code level} learn again; unfreezing a level that learns does nothing.
     *
     * @param level the level to unfreeze; not null
     */
    void unfreeze(Level level);

    /**
     * The levels that currently do not learn.
     *
     * @return a new set (a copy), empty when every level learns
     */
    Set<Level> frozenLevels();

    /**
     * Resets {@code level} of every block to its pretrained value (and clears its pending gradients); E empties its tables.
     *
     * @param level the level to reset; not null; {@link Level#E} does nothing when the learner has no episodic level
     */
    void reset(Level level);

    /**
     * Bytes observed since the stream began (or since the restored state began); {@link #score} and {@link #generate}
     * do not move it.
     *
     * @return the stream position
     */
    long position();

    /**
     * Update counts of L0, L1 and L2 since the stream began (and the bytes E has read, when it is on).
     *
     * @return a new map, in the order L0, L1, L2 (then E, only when the learner has an episodic level)
     */
    Map<Level, Long> updateCounts();

    /**
     * A copy of the most recently observed bytes (oldest first), what sleep consolidates from.
     *
     * @return a new array of at most {@link LearnerOptions#experienceBytes()} bytes; empty when nothing was observed
     *     since the buffer was last cleared
     */
    byte[] recentExperience();

    /** Forgets the recent experience (in memory; the next {@link #save} writes the empty buffer). */
    void clearExperience();

    /**
     * Which backend runs the plastic levels and why the others do not (fixed at load).
     *
     * @return the selected backend's name and description and the status of every candidate
     */
    BackendInfo backendInfo();

    /**
     * The execution provider of the frozen segments.
     *
     * @return "cpu", "cuda" or "tensorrt": the one actually in use, which may be a fallback from the one asked for
     */
    String graphProvider();

    /**
     * The bundle this learner runs.
     *
     * @return the bundle it was opened on (the same instance)
     */
    Bundle bundle();

    /**
     * Whether {@code dir} holds a saved state that {@link #restore} can try to load (its contents are not checked).
     *
     * @param dir the state directory; not null; it need not exist
     * @return true if {@code dir} holds a state file
     */
    static boolean hasSavedState(Path dir) {
        return org.hope4j.state.StateStore.exists(dir);
    }

    /**
     * Saves the whole learned state into {@code dir} (created if needed), every file written atomically and
     * owner-only: a crash leaves the old state or the new one. A state holding NaN or an infinity is refused and the
     * old one stays. The first save locks {@code dir} until {@link #close}: another learner saving there is refused.
     *
     * @param dir the state directory; not null
     * @throws StateException naming the directory or file if it cannot be created, locked or written, another learner
     *     holds its lock, or the state holds NaN or an infinity
     */
    void save(Path dir);

    /**
     * Replaces the current state with the one saved in {@code dir}. Every file and field is verified (format, version,
     * bundle, checksums, finite values, every tensor's shape, the episodic tables) before anything changes.
     *
     * @param dir the state directory a learner on the same bundle (and with the same state key) saved into; not null
     * @throws StateException naming the file and field if {@code dir} holds no state or any check fails; the current
     *     state is then untouched
     */
    void restore(Path dir);

    /**
     * Idle-time sleep in one call: a {@link SleepScheduler} that runs {@link #sleep} with {@code config} when this
     * learner has been idle per {@code when} and {@code policy} allows, each commit saved into {@code stateDir} (unless
     * null) in the swap's critical section. Every later user call preempts a running sleep; L1 update boundaries are
     * reported to it. Closing it, or this learner, stops it; a second call closes the scheduler the first made.
     *
     * @param policy whether the device may sleep now (power, heat, load, time of day); not null
     * @param when how long the learner must be idle, the minimum gap between sleeps, whether to sleep at L1 boundaries; not null
     * @param config what each sleep does; not null
     * @param stateDir where each committed sleep is saved, or {@code null} to save nothing
     * @return the scheduler, already running on its own daemon thread
     * @throws NullPointerException if {@code config} is null
     * @throws IllegalArgumentException if {@code policy} or {@code when} is null
     */
    SleepScheduler sleepWhenIdle(DevicePolicy policy, SchedulerOptions when, SleepConfig config, Path stateDir);

    /**
     * One sleep now, on the calling thread: {@link #sleep(SleepRequest)} of {@link SleepRequest#defaults()} (nothing saved).
     *
     * @return what the sleep did: committed, rolled back or preempted (also when the learner is closed or closing)
     * @throws BackendException if the sleep's own copy of the model (graphs and engines) cannot be opened
     */
    default SleepReport sleep() {
        return sleep(SleepRequest.defaults());
    }

    /**
     * One sleep on the calling thread: the recent experience distilled from L1 into a new expert of L2, dreams, the
     * retention-probe guard, one atomic swap. It works on a private copy: a call that changes the learner's state,
     * {@link #close}, or the request's {@code preempted} turning true stops it within one step and leaves the state
     * exactly as it was.
     *
     * @param request what the sleep may spend and does, what else stops it, its listener, where a commit is saved; not null
     * @return {@link SleepReport.Committed} (L1 reset, L2 holds what it knew), {@link SleepReport.RolledBack}, or
     *     {@link SleepReport.Preempted} (also when the learner is closed or closing, or another sleep of it is running)
     * @throws StateException if the request saves and saving the committed state fails: the swap is then undone, so the
     *     learner runs what the disk holds (the state before the sleep)
     * @throws BackendException if the sleep's own copy of the model (graphs and engines) cannot be opened
     */
    SleepReport sleep(SleepRequest request);

    /**
     * The report of this learner's last sleep, whoever started it ({@link #sleep} or the idle-time scheduler), with
     * its {@link SleepReport#figures() figures}.
     *
     * @return the last sleep's report, or empty if no sleep of this learner has returned a report yet
     */
    Optional<SleepReport> lastSleep();

    /**
     * L2's expert pool: experts in use (one per committed sleep) and the pool's size.
     *
     * @return the number of experts holding a consolidated sleep and the number of slots
     */
    SleepFigures.Experts expertsInUse();

    /** Frees the native resources; a running sleep is stopped first (it leaves the state as it was). */
    @Override
    void close();
}
