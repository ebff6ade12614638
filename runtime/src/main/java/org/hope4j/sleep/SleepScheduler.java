package org.hope4j.sleep;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Runs a {@link Sleeper} when the device is idle (ARCHITECTURE.md §3): no {@link #touch()} for
 * {@link SchedulerOptions#idleAfter()}, at least {@link SchedulerOptions#minGap()} since the last
 * completed sleep, and the {@link DevicePolicy} allows it. Beside this idle trigger it offers the
 * paper's own, {@link #levelBoundary(String)}, and a synchronous {@link #sleepNow(String)} for the
 * command line.
 *
 * <p>One daemon thread, {@value #THREAD_NAME}, checks every {@link SchedulerOptions#checkEvery()}
 * and runs the idle and level-boundary sleeps; at most one sleep runs at a time. Every call of the
 * application (the {@code Learner} makes it on every user call) must call {@link #touch()}: it
 * records activity and preempts a running sleep, whose sleeper then returns
 * {@link SleepReport.Preempted} promptly. {@code touch()} does not wait for that.
 *
 * <p>Events go to the {@link SleepListener}s and to {@link System.Logger} (one INFO line per sleep
 * start and finish with its figures; skipped sleeps at DEBUG). A listener, policy or sleeper that
 * throws is logged and does not stop the scheduler. Thread-safe. {@link #close()} stops the thread
 * and preempts a running sleep; it is idempotent.
 *
 * <pre>{@code
 * try (SleepScheduler sleep = new SleepScheduler(sleeper,
 *         new LinuxDevicePolicy(PolicyOptions.defaults()), SchedulerOptions.defaults())) {
 *     sleep.touch(); // on every user call
 * }
 * }</pre>
 */
public final class SleepScheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SleepScheduler.class.getName());
    /** Name of the scheduler's daemon thread. */
    public static final String THREAD_NAME = "hope4j-sleep";
    /** How long {@link #close()} waits for a preempted sleep to return. */
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    private final Sleeper sleeper;
    private final DevicePolicy policy;
    private final SchedulerOptions options;
    private final long idleNanos;
    private final long minGapNanos;
    private final List<SleepListener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock sleepLock = new ReentrantLock();
    /** Bumped by every touch(); a sleep is preempted once it differs from its value at the start. */
    private final AtomicLong activity = new AtomicLong();
    private final AtomicReference<SleepReport> lastReport = new AtomicReference<>();
    private final AtomicBoolean closeCalled = new AtomicBoolean();
    private final List<Runnable> closeHooks = new CopyOnWriteArrayList<>();
    private final AtomicBoolean boundaryPending = new AtomicBoolean();
    private final ScheduledExecutorService executor;
    private volatile long lastActivityNanos;
    /** End of the last committed or rolled-back sleep; valid once {@code slept}. */
    private volatile long lastSleepEndNanos;
    private volatile boolean slept;
    private volatile boolean sleeping;
    private volatile boolean closed;
    private volatile Thread thread;

    /**
     * Starts the scheduler's daemon thread; the idle time counts from now.
     *
     * @param sleeper what one sleep does
     * @param policy whether the device may sleep; {@link DevicePolicy#always()} for idle time alone
     * @param options when to sleep
     * @throws IllegalArgumentException if an argument is {@code null}
     */
    public SleepScheduler(Sleeper sleeper, DevicePolicy policy, SchedulerOptions options) {
        if (sleeper == null || policy == null || options == null) {
            throw new IllegalArgumentException("sleeper, policy and options must not be null, found "
                    + sleeper + ", " + policy + ", " + options);
        }
        this.sleeper = sleeper;
        this.policy = policy;
        this.options = options;
        this.idleNanos = nanos(options.idleAfter());
        this.minGapNanos = nanos(options.minGap());
        this.lastActivityNanos = options.ticker().getAsLong();
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, THREAD_NAME);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        long every = nanos(options.checkEvery());
        executor.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.NANOSECONDS);
    }

    /**
     * The options this scheduler runs with.
     *
     * @return the options given at construction
     */
    public SchedulerOptions options() {
        return options;
    }

    /**
     * Records user activity and preempts a running sleep. Call it on every user call; it is cheap
     * and never blocks. Ignored after {@link #close()}.
     */
    public void touch() {
        lastActivityNanos = options.ticker().getAsLong();
        activity.incrementAndGet();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true from the start of the first {@code close()}, even while it is still running
     */
    public boolean isClosed() {
        return closeCalled.get();
    }

    /**
     * Runs {@code hook} once when this scheduler is closed, before it stops (e.g. to detach it from its learner).
     *
     * @param hook run on the thread of the first {@link #close()}, before a running sleep is preempted; a hook
     *     added after that never runs
     * @throws IllegalArgumentException if {@code hook} is {@code null}
     */
    public void onClose(Runnable hook) {
        if (hook == null) {
            throw new IllegalArgumentException("hook must not be null");
        }
        closeHooks.add(hook);
    }

    /**
     * Adds a listener for sleep events.
     *
     * @param listener receives every event from now on, on the scheduler's thread or that of
     *     {@link #sleepNow(String)}; one added twice is called twice
     * @throws IllegalArgumentException if {@code listener} is {@code null}
     */
    public void addListener(SleepListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        listeners.add(listener);
    }

    /**
     * Removes a listener added with {@link #addListener}; no effect if it was not added.
     *
     * @param listener the listener to remove (one registration of it, if it was added more than once)
     */
    public void removeListener(SleepListener listener) {
        listeners.remove(listener);
    }

    /**
     * The report of the most recent sleep, if any has finished.
     *
     * @return the last report of any trigger, preempted sleeps included; empty before the first sleep ends
     */
    public Optional<SleepReport> lastReport() {
        return Optional.ofNullable(lastReport.get());
    }

    /**
     * Whether a sleep is running now.
     *
     * @return true while a sleep of this scheduler runs, on its thread or in {@link #sleepNow(String)}
     */
    public boolean sleeping() {
        return sleeping;
    }

    /**
     * Runs one sleep now on the calling thread, whatever the idle time, minimum gap and device
     * policy (the caller asked for it). Waits first for a running sleep to end. Still preempted by
     * {@link #touch()} and {@link #close()}.
     *
     * @param trigger what asked for it, e.g. {@code "cli"}; reported in {@link SleepEvent.Started}
     * @return what the sleep did
     * @throws IllegalArgumentException if {@code trigger} is {@code null} or blank
     * @throws IllegalStateException if the scheduler is closed, or if called from inside a sleep
     *     (from a listener)
     */
    public SleepReport sleepNow(String trigger) {
        if (trigger == null || trigger.isBlank()) {
            throw new IllegalArgumentException("trigger must not be blank, found " + trigger);
        }
        ensureOpen();
        if (sleepLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("SleepScheduler: sleepNow called from inside a sleep");
        }
        sleepLock.lock();
        try {
            ensureOpen();
            return runSleep(trigger, activity.get());
        } finally {
            sleepLock.unlock();
        }
    }

    /**
     * The paper's trigger: a level reached its scheduled update boundary. If
     * {@link SchedulerOptions#sleepAtLevelBoundary()} is set, starts a sleep at once on the
     * scheduler's thread (this call does not wait), whatever the idle time but subject to the
     * minimum gap and the device policy ({@link SleepEvent.Skipped} otherwise). A {@link #touch()}
     * after this call preempts that sleep. Does nothing if the option is off, a boundary sleep is
     * already pending, or the scheduler is closed.
     *
     * @param level the level whose boundary it is, e.g. {@code "L1"}
     * @throws IllegalArgumentException if {@code level} is {@code null} or blank
     */
    public void levelBoundary(String level) {
        if (level == null || level.isBlank()) {
            throw new IllegalArgumentException("level must not be blank, found " + level);
        }
        if (!options.sleepAtLevelBoundary() || closed || !boundaryPending.compareAndSet(false, true)) {
            return;
        }
        long count = activity.get();
        try {
            executor.execute(() -> {
                boundaryPending.set(false);
                guarded(() -> attempt("level boundary " + level, count));
            });
        } catch (RejectedExecutionException e) {
            boundaryPending.set(false); // closed meanwhile
        }
    }

    /**
     * Stops the scheduler: preempts a running sleep, waits (up to 10 s) for it to return and for
     * the daemon thread to end. Idempotent.
     */
    @Override
    public void close() {
        if (!closeCalled.compareAndSet(false, true)) {
            return;
        }
        try {
            closeHooks.forEach(Runnable::run);
        } finally {
            closed = true; // the running sleep's preempted flag now reads true; a hook that throws does not keep it running
            executor.shutdown();
        }
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return; // closed from a listener on the scheduler's own thread: it ends after this sleep
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
            if (executor.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "SleepScheduler closed, but the sleeper did not return within "
                        + CLOSE_WAIT_MILLIS + " ms of being preempted; its daemon thread finishes on its own");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One periodic check on the scheduler's thread; package-private so tests can drive it. */
    void tick() {
        guarded(() -> {
            long count = activity.get(); // before reading the idle time: a touch in between preempts
            long idle = options.ticker().getAsLong() - lastActivityNanos;
            if (closed || idle < idleNanos) {
                return;
            }
            attempt("idle", count);
        });
    }

    /** Checks gap and policy, then sleeps unless another sleep is running. */
    private void attempt(String trigger, long count) {
        if (closed) {
            return;
        }
        if (sleeping) {
            LOG.log(Level.DEBUG, () -> "sleep (" + trigger + ") not started: another sleep is running");
            return;
        }
        if (slept) {
            long since = options.ticker().getAsLong() - lastSleepEndNanos;
            if (since < minGapNanos) {
                skip(trigger + ": last sleep ended " + human(since) + " ago, min gap " + human(minGapNanos));
                return;
            }
        }
        DevicePolicy.Decision decision;
        try {
            decision = policy.check();
            if (decision == null) {
                decision = new DevicePolicy.Decision(false, "not allowed: policy gave no decision");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "device policy failed", e);
            decision = new DevicePolicy.Decision(false, "not allowed: policy failed: " + e);
        }
        if (!decision.allowed()) {
            skip(trigger + ": " + decision.reason());
            return;
        }
        if (!sleepLock.tryLock()) {
            return; // a sleepNow got in first
        }
        try {
            if (!closed) {
                runSleep(trigger, count);
            }
        } finally {
            sleepLock.unlock();
        }
    }

    /** Runs the sleeper under {@link #sleepLock}; preempted once {@link #activity} moves from {@code count}. */
    private SleepReport runSleep(String trigger, long count) {
        BooleanSupplier preempted = () -> closed || activity.get() != count;
        long start = options.ticker().getAsLong();
        sleeping = true;
        try {
            SleepBudget budget = options.budget();
            LOG.log(Level.INFO, () -> String.format(Locale.ROOT, "sleep started (%s): budget %d bytes, %s",
                    trigger, budget.maxBytes(), human(nanos(budget.maxTime()))));
            emit(new SleepEvent.Started(options.clock().instant(), trigger));
            SleepReport report;
            try {
                report = sleeper.sleep(budget, preempted, this::emit);
                if (report == null) {
                    report = failed(start, "sleeper returned no report");
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sleeper failed; nothing was committed", e);
                report = failed(start, "sleeper failed: " + e);
            }
            if (!(report instanceof SleepReport.Preempted)) {
                lastSleepEndNanos = options.ticker().getAsLong();
                slept = true;
            }
            lastReport.set(report);
            sleeping = false;
            SleepReport finished = report;
            LOG.log(Level.INFO, () -> describe(finished));
            emit(new SleepEvent.Finished(report));
            return report;
        } finally {
            sleeping = false;
        }
    }

    private SleepReport failed(long start, String reason) {
        double seconds = Math.max(0, options.ticker().getAsLong() - start) / 1e9;
        return new SleepReport.RolledBack(0, seconds, Double.NaN, Double.NaN, Double.NaN, Double.NaN, reason);
    }

    private void skip(String reason) {
        LOG.log(Level.DEBUG, () -> "sleep skipped: " + reason);
        emit(new SleepEvent.Skipped(reason));
    }

    private void emit(SleepEvent event) {
        for (SleepListener listener : listeners) {
            try {
                listener.on(event);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "sleep listener " + listener + " failed on " + event, t);
            }
        }
    }

    /** Keeps the periodic task alive: an exception would cancel it for good. */
    private static void guarded(Runnable body) {
        try {
            body.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "sleep check failed; will check again", t);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("SleepScheduler is closed");
        }
    }

    static String describe(SleepReport report) {
        if (report instanceof SleepReport.Committed c) {
            return String.format(Locale.ROOT, "sleep committed after %.2f s: %d bytes consolidated, recent %.3f -> %.3f"
                    + " bits/byte, probe %.3f -> %.3f bits/byte (%s)", c.seconds(), c.consolidatedBytes(),
                    c.recentBitsPerByteBefore(), c.recentBitsPerByteAfter(), c.probeBitsPerByteBefore(),
                    c.probeBitsPerByteAfter(), c.reason());
        }
        if (report instanceof SleepReport.RolledBack r) {
            return String.format(Locale.ROOT, "sleep rolled back after %.2f s: %d bytes consolidated, recent %.3f ->"
                    + " %.3f bits/byte, probe %.3f -> %.3f bits/byte (%s)", r.seconds(), r.consolidatedBytes(),
                    r.recentBitsPerByteBefore(), r.recentBitsPerByteAfter(), r.probeBitsPerByteBefore(),
                    r.probeBitsPerByteAfter(), r.reason());
        }
        return String.format(Locale.ROOT, "sleep preempted after %.3f s (%s)", report.seconds(), report.reason());
    }

    private static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String human(long nanos) {
        Duration d = Duration.ofNanos(nanos);
        if (d.toMinutes() >= 1) {
            return d.toMinutes() + " min " + d.toSecondsPart() + " s";
        }
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}
