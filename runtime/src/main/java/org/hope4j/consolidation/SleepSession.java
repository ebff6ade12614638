package org.hope4j.consolidation;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;
import org.hope4j.EpisodicConfig;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backend;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Reader;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepListener;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;

/**
 * The sleeps of one learner (ARCHITECTURE.md §3, HOPE-MODEL.md §3): one at a time, each on a private
 * copy of the learned state in the session's own workspace (frozen graphs and two engines, teacher
 * and student, opened at the first sleep), then one atomic swap through the {@link Host}.
 *
 * <p>The learner stays usable while a sleep runs: any change of its state, its closing, or the
 * caller's preemption stops the sleep within one step and leaves the state exactly as it was.
 */
public final class SleepSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SleepSession.class.getName());
    private LearnerProbe learnerProbe; // under the session's lock

    /**
     * What a commit did.
     *
     * @param refused null when committed, else why nothing was committed (e.g. the state changed meanwhile)
     * @param episodic what happened to E (aged, aged further, emptied, kept, with the learner's probe), or null without E
     */
    public record Commit(String refused, String episodic) {
    }

    /** What a sleep needs from its learner; {@link #start} and {@link #commit} run under the learner's lock. */
    public interface Host {
        /**
         * A copy of what the sleep consolidates, and the state's version it was taken at.
         *
         * @param config the configuration of the sleep about to run (a host may shape an empty pool to its
         *     pool size and rank)
         * @return the sleep's private copy, taken at one version; never {@code null}
         */
        Start start(SleepConfig config);

        /**
         * Whether the learner is closing.
         *
         * @return true once the learner began to close: a running sleep stops, and no new one starts
         */
        boolean isClosing();

        /**
         * The version of the learner's state (bumped by every change).
         *
         * @return the version now; a sleep whose start was taken at another version stops and commits nothing
         */
        long version();

        /**
         * Swaps {@code r} in if the state is still at {@code version}: L2 and the pool take the new
         * expert, L1 is reset, the experience is cleared if the config says so, and the state is saved
         * into {@code stateDir} unless it is null; a save that fails undoes the swap and throws. E is aged (or emptied) as
         * the config says, and aged further, or emptied, while the learner's probe stands above the pretrained learner's by
         * more than the config's bound.
         *
         * @param version the version the sleep's copy was taken at ({@link Start#version()})
         * @param live the tensors the sleep started from ({@link Start#live()}); the result's L2 tensors replace theirs
         * @param r an accepted consolidation: its {@code l2After}, {@code expert}, {@code slot} and {@code evictedSlot}
         * @param config the sleep's configuration (e.g. whether the experience is cleared)
         * @param stateDir the directory to save the new state into, or {@code null} not to save it
         * @param pretrainedProbe the pretrained learner's bits/byte on the bundle's retention probe (the bundle's model and an
         *     empty E shaped like the given one, from an empty context), for the guard of E's aging; computed on first use
         * @return what the commit did
         */
        Commit commit(long version, Map<String, Tensor> live, Consolidation.Result r, SleepConfig config, Path stateDir,
                ToDoubleFunction<EpisodicLevel> pretrainedProbe);

        /**
         * L2's expert pool now.
         *
         * @return how many of the pool's slots hold an expert, and how many slots there are
         */
        SleepFigures.Experts experts();
    }

    /**
     * A sleep's private copy: the stream's tensors, the expert pool, the recent experience, the version.
     *
     * @param live the stream's state tensors by name, L2's among them
     * @param pool a copy of the learner's expert pool, which the sleep reads and never changes
     * @param experience the recent experience, oldest byte first
     * @param version the version of the learner's state the copy was taken at
     * @param episodic the learner's episodic level, whose configuration and prior shape the pretrained learner the
     *     commit's guard compares with (nothing else of it is read outside the learner's lock); {@code null} without E
     */
    public record Start(Map<String, Tensor> live, ExpertPool pool, byte[] experience, long version, EpisodicLevel episodic) {
    }

    private final Bundle bundle;
    private final Backend backend;
    private final FrozenGraphs graphs;
    private final EngineSpec spec;
    private final int deviceId;
    private final ReentrantLock lock = new ReentrantLock();
    private Workspace workspace;
    private volatile SleepReport lastReport;
    /** The last consolidation run on this thread: the figures and the expert behind a report, for tests of the algorithm. */
    private static final ThreadLocal<Consolidation.Result> LAST_ON_THREAD = new ThreadLocal<>();
    /** Tests only: replaces the pretrained learner's probe figure the commit guards E's aging with (this thread's sleeps). */
    static final ThreadLocal<java.util.function.DoubleUnaryOperator> REFERENCE_ON_THREAD = new ThreadLocal<>();
    private boolean closed;

    /**
     * The sleeps of one learner; nothing is opened until the first sleep.
     *
     * @param bundle the learner's model bundle: frozen graphs, plastic tensors, retention probe and rehearsal text
     * @param backend the compute backend the teacher and student engines are opened on
     * @param graphs the learner's frozen graphs: a sleep runs on a {@link FrozenGraphs#view view} of their sessions
     * @param spec the shape of the engines (blocks, widths, spans)
     * @param deviceId the accelerator the engines run on ({@code LearnerOptions.deviceId}); a backend without
     *     devices ignores it
     */
    public SleepSession(Bundle bundle, Backend backend, FrozenGraphs graphs, EngineSpec spec, int deviceId) {
        this.bundle = bundle;
        this.backend = backend;
        this.graphs = graphs;
        this.spec = spec;
        this.deviceId = deviceId;
    }

    /**
     * The report of the last sleep of this learner (from any thread), or {@code null} before the first.
     *
     * @return the last report of {@link #sleep}, or {@code null}
     */
    public SleepReport lastReport() {
        return lastReport;
    }

    /** The consolidation behind the last sleep that ran on the calling thread, or {@code null}: its expert, its every figure. */
    static Consolidation.Result lastOnThisThread() {
        return LAST_ON_THREAD.get();
    }

    /**
     * One sleep on the calling thread: consolidation of the recent experience from L1 into a new
     * expert of L2, dreaming, the retention-probe guard, then the swap (saved into the request's
     * {@code saveTo} in the same critical section, unless it is null).
     *
     * @param host the learner: the copy a sleep starts from, its version and closing flag, and the commit
     * @param request the budget, what to do, the extra preemption, the listener and where a commit is saved
     * @return never {@code null}: {@link SleepReport.Committed}; {@link SleepReport.RolledBack} when the guard
     *     refused, the experience was too short, the deadline passed or the bundle has no retention probe; or
     *     {@link SleepReport.Preempted} when another sleep of this learner runs, the learner is closing, its
     *     state changed, or {@code preempted} turned {@code true}
     */
    public SleepReport sleep(Host host, SleepRequest request) {
        SleepReport r = run(host, request.budget(), request.config(), request.preempted(), request.listener(), request.saveTo());
        lastReport = r;
        return r;
    }

    private SleepReport run(Host host, SleepBudget budget, SleepConfig config, BooleanSupplier preempted, SleepListener listener,
            Path stateDir) {
        long t0 = System.nanoTime();
        if (host.isClosing()) {
            return new SleepReport.Preempted("the learner is closing", 0);
        }
        if (!lock.tryLock()) {
            // close() holds the lock while it frees the learner: say so rather than blame another sleep
            return new SleepReport.Preempted(host.isClosing() ? "the learner is closing" : "another sleep of this learner is running", 0);
        }
        try {
            if (closed) {
                return new SleepReport.Preempted("the learner is closing", 0);
            }
            Start s = host.start(config);
            byte[] probe = bundle.probe();
            if (probe == null) {
                return new SleepReport.RolledBack(0, seconds(t0), Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                        bundle.describe() + " has no retention probe (manifest probe): a sleep cannot be guarded, nothing was committed");
            }
            BooleanSupplier stop = () -> host.isClosing() || host.version() != s.version() || preempted.getAsBoolean();
            Consolidation.Result r = workspace().consolidation.run(s.live(), s.pool(), s.experience(), probe, bundle.rehearsal(), config, budget,
                    stop, listener);
            LAST_ON_THREAD.set(r);
            if (r.preempted()) {
                return new SleepReport.Preempted(host.isClosing() ? "the learner is closing" : host.version() != s.version()
                        ? "the learner's state changed" : "a user call came in", seconds(t0));
            }
            if (!r.accepted()) {
                return new SleepReport.RolledBack(r.consolidatedBytes(), seconds(t0), r.recentBefore(), r.recentAfter(),
                        r.probeBefore(), r.probeAfter(), r.reason(), figures(r, host.experts()));
            }
            java.util.function.DoubleUnaryOperator seam = REFERENCE_ON_THREAD.get();
            Commit c = host.commit(s.version(), s.live(), r, config, stateDir,
                    like -> seam == null ? pretrainedLearnerProbe(like, probe) : seam.applyAsDouble(pretrainedLearnerProbe(like, probe)));
            if (c.refused() != null) {
                return new SleepReport.Preempted(c.refused(), seconds(t0));
            }
            LOG.log(System.Logger.Level.DEBUG, "sleep committed: {0}", r.reason());
            return new SleepReport.Committed(r.consolidatedBytes(), seconds(t0), r.recentBefore(), r.recentAfter(),
                    r.probeBefore(), r.probeAfter(), r.reason() + String.format(Locale.ROOT,
                            "; recent with L1 reset and no sleep: %.4f bits/byte", r.recentResetOnly())
                            + (c.episodic() == null ? "" : "; " + c.episodic()), figures(r, host.experts()));
        } finally {
            lock.unlock();
        }
    }

    private static SleepFigures figures(Consolidation.Result r, SleepFigures.Experts experts) {
        return new SleepFigures(r.steps(), r.keptStep(), r.dreamsKept(), r.dreamsTried(), r.recentResetOnly(), r.probePretrained(), r.probeResetOnly(),
                r.slot(), r.evictedSlot(), experts);
    }

    /**
     * The pretrained learner's bits/byte on {@code probe}: the bundle's model (L1 and L2 as shipped; the anchor mixes the same
     * model, so it changes nothing) with an empty E shaped like {@code live}, from an empty context, as a fresh learner
     * scores it. Run on the workspace's teacher engine (after the consolidation: it reloads the live state at each sleep's
     * start); computed once per configuration of E. It empties the learner's own E for that reading and puts it back
     * ({@link #probeWithEmpty}), so it runs only inside the commit, under the learner's lock.
     */
    private double pretrainedLearnerProbe(EpisodicLevel live, byte[] probe) {
        if (learnerProbe == null || !learnerProbe.config().equals(live.config())) {
            Workspace w = workspace();
            HopeStream s = new HopeStream(w.g, w.teacher, bundle.manifest().model().convWidth());
            s.resetContext();
            w.teacher.resetLevel(org.hope4j.Level.L1);
            w.teacher.resetLevel(org.hope4j.Level.L2);
            learnerProbe = new LearnerProbe(live.config(), probeWithEmpty(s, live, probe));
            LOG.log(System.Logger.Level.DEBUG, "pretrained learner on the retention probe: {0} bits/byte", learnerProbe.bitsPerByte());
        }
        return learnerProbe.bitsPerByte();
    }

    /**
     * The bits/byte {@code s} gives {@code probe} with {@code e} emptied, as with a new E of its shape; {@code e} ends
     * exactly as it began. {@code e} is emptied in place and put back from a deflated copy (a few MB), where a new E of
     * the same shape would take its whole tables again (33 MB by default: the peak of a sleep's commit).
     *
     * @param s the stream to read with (its episodic level is set to {@code e} for the reading, then to none)
     * @param e the episodic level, not in a transaction; no one else may use it meanwhile
     * @param probe the bytes to score
     * @return bits per scored byte
     */
    static double probeWithEmpty(HopeStream s, EpisodicLevel e, byte[] probe) {
        byte[] kept = e.deflated();
        try {
            e.reset();
            double[] r = new Reader(s, e).scoreOnce(probe, true);
            return r[0] / Math.max(1, r[1]);
        } finally {
            s.setEpisodic(null);
            e.restoreDeflated(kept);
        }
    }

    private record LearnerProbe(EpisodicConfig config, double bitsPerByte) {
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private Workspace workspace() {
        if (workspace == null) {
            workspace = new Workspace();
        }
        return workspace;
    }

    /** The sleep's own copy of the model: two engines (teacher and student) and a view of the learner's frozen graphs. */
    private final class Workspace {
        final FrozenGraphs g;
        final Engine teacher;
        final Engine student;
        final Consolidation consolidation;

        Workspace() {
            g = graphs.view(spec.maxSpan());
            Engine t = null;
            try {
                t = backend.open(spec, bundle.plastic(), deviceId);
                teacher = t;
                student = backend.open(spec, bundle.plastic(), deviceId);
            } catch (RuntimeException e) {
                if (t != null) {
                    t.close();
                }
                g.close();
                throw e;
            }
            int conv = bundle.manifest().model().convWidth();
            consolidation = new Consolidation(new HopeStream(g, teacher, conv), new HopeStream(g, student, conv));
        }

        void close() {
            teacher.close();
            student.close();
            g.close();
        }
    }

    /**
     * Waits for a running sleep to stop (the host reports {@link Host#isClosing}), then runs
     * {@code release} and frees the workspace; later sleeps are refused.
     *
     * @param release run under the session's lock once no sleep is running (e.g. the learner freeing its
     *     state); run on every call, also once the session is closed; not {@code null}
     */
    public void close(Runnable release) {
        lock.lock();
        try {
            release.run();
            if (!closed) {
                closed = true;
                if (workspace != null) {
                    workspace.close();
                    workspace = null;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        close(() -> { });
    }
}
