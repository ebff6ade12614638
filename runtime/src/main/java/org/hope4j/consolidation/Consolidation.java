package org.hope4j.consolidation;

import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.HopeStream;
import org.hope4j.level.Ops;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepListener;

/**
 * One sleep's work, Hope4J's variant of the sleep paper (HOPE-MODEL.md §3), on a workspace of its
 * own: the live learner is never touched here, so a sleep can be dropped at any moment.
 *
 * <ol>
 *   <li><b>Teacher</b> = the current model. <b>Student</b> = the same model with L1 reset to its
 *       pretrained value and one new low-rank {@link Expert} switched on in L2 (in a free slot of
 *       the pool; when the pool is full its oldest expert is folded into L2, or pruned).</li>
 *   <li><b>Consolidation:</b> only the expert trains (Adam), by distillation: the mean over a
 *       window's positions of KL(teacher || student) on next-byte distributions, each window read
 *       from a fresh context. Windows come from the experience, or (a {@code sampledFraction} of
 *       them) are continuations of an experience prompt sampled from the teacher or the student,
 *       or (an {@code anchorFraction}) are anchors: windows of general text (the bundle's rehearsal
 *       text; without one, the student's own samples) distilled from the pretrained model (the
 *       bundle's L1 and L2), which keep, or bring back, what the model knew of everything else. The gradient reaches the expert through the
 *       device's residual teach signal.</li>
 *   <li><b>Dreaming:</b> continuations sampled from the teacher; each is trained on for a few
 *       steps and kept only if the bits/byte of held-out experience (the newest bytes, never
 *       trained on) improves.</li>
 *   <li><b>Guard:</b> bits/byte of the retention probe (general text shipped in the bundle) with the
 *       student must not exceed by more than {@code probeBound} the larger of the <em>pretrained</em>
 *       model's (L1 and L2 as the bundle ships them) and the figure with L1 reset and no sleep — not
 *       the teacher's, which may already have forgotten: the expert itself may not damage general
 *       text, and need not beat the pretrained model; the checkpoints use the same limit; every value must be finite. The caller commits the
 *       {@link Result} with one atomic swap, or drops it.</li>
 * </ol>
 *
 * <p>Every figure is measured from a fresh context (L0 at its initial value), so it shows what the
 * weights hold. "After" figures are the student's, i.e. with L1 reset. The reference
 * {@code model-export/hope_export/sleep.py} runs the same algorithm; with the same seed and
 * {@code sampledFraction = 0} and no dreams both take the same steps.
 */
public final class Consolidation {
    private static final System.Logger LOG = System.getLogger(Consolidation.class.getName());
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double ADAM_EPS = 1e-8;
    /** Bytes scored between two looks at the preemption flag. */
    private static final int SCORE_PIECE = 256;

    private final HopeStream teacher;
    private final HopeStream student;
    private final EngineSpec spec;
    private final int nb, d, f2, vocab;
    /** Scratch of a distillation step: d loss / d logits of one span, and one student distribution. */
    private final float[] dl, pS;

    /**
     * What a sleep produced; {@link #accepted} says whether it may be committed. A bits/byte figure the
     * sleep did not get to measure is {@code NaN}.
     *
     * @param accepted whether the student passed every check (steps taken, every value finite, the retention
     *     probe within its bound), so that the caller may commit it
     * @param preempted whether the preemption flag stopped the sleep; a passed deadline is not a preemption
     *     (both flags are then {@code false})
     * @param reason why the sleep ended the way it did, in words, with its figures
     * @param consolidatedBytes bytes of experience the expert was trained on (at most the budget's
     *     {@code maxBytes}); 0 when the sleep stopped early or had too little experience
     * @param recentBefore bits/byte of the live model (the teacher) on the newest experience
     * @param recentResetOnly bits/byte on the newest experience with L1 reset and no new expert
     * @param recentAfter bits/byte of the student (L1 reset, the new expert on) on the newest experience
     * @param probeBefore bits/byte of the live model on the retention probe
     * @param probeAfter bits/byte of the student on the retention probe: the figure the guard judges
     * @param probePretrained bits/byte of the pretrained model (the bundle's L1 and L2) on the retention probe
     * @param probeResetOnly bits/byte on the retention probe with L1 reset and no new expert
     * @param steps distillation steps taken
     * @param keptStep the step of the checkpoint whose expert was kept, or the last step when there was no
     *     check; -1 when no expert was kept
     * @param dreamsKept dreams kept (each made the held-out experience better)
     * @param dreamsTried dreams tried
     * @param slot the pool slot the new expert takes, or -1 when the sleep did not get that far
     * @param evictedSlot the slot whose old expert was folded into L2 or pruned to make room, or -1
     * @param expert the trained expert, or {@code null} when the sleep stopped early, had too little
     *     experience, or no checkpoint kept the retention probe within its bound
     * @param l2After L2's {@code blocks.<b>.l2.up} and {@code blocks.<b>.l2.down} tensors with the expert
     *     added: what a commit puts into the state; {@code null} when {@code expert} is
     */
    public record Result(boolean accepted, boolean preempted, String reason, long consolidatedBytes,
            double recentBefore, double recentResetOnly, double recentAfter, double probeBefore, double probeAfter,
            double probePretrained, double probeResetOnly, int steps, int keptStep, int dreamsKept, int dreamsTried, int slot, int evictedSlot, Expert expert,
            Map<String, Tensor> l2After) {
    }

    /**
     * The clock every time of a sleep is read from ({@link System#nanoTime} but in tests, which move it
     * to make a deadline pass in a chosen phase without waiting for it).
     */
    static volatile java.util.function.LongSupplier clock = System::nanoTime;

    /** Thrown inside to unwind when the sleep is preempted. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /**
     * @param teacher a stream on an engine of its own (its state is overwritten)
     * @param student another stream on another engine (its state is overwritten)
     */
    public Consolidation(HopeStream teacher, HopeStream student) {
        this.teacher = teacher;
        this.student = student;
        this.spec = teacher.engine().spec();
        nb = spec.nBlocks();
        d = spec.dModel();
        f2 = spec.midHidden();
        vocab = EngineSpec.VOCAB;
        dl = new float[spec.c1() * vocab];
        pS = new float[vocab];
    }

    /**
     * Runs one sleep on {@code live} (a stream snapshot's tensors) and its expert {@code pool} (read
     * only), consolidating from {@code experience}; never changes them.
     *
     * @param live the live stream's state tensors by name, L2's {@code blocks.<b>.l2.up} and {@code .down}
     *     among them; loaded into the teacher and the student
     * @param pool the learner's expert pool: where the new expert goes (a free slot, else the oldest
     *     expert's) and its rank; its count of sleeps seeds the random numbers
     * @param experience the recent experience, oldest byte first. With dreams on, the newest
     *     {@code cfg.heldOutBytes()} (at most a quarter) are held out to judge them; at most
     *     {@code budget.maxBytes()} of the newest other bytes are trained on, and fewer than
     *     {@code cfg.windowBytes()} of those give a result that is not accepted
     * @param probe the retention probe (general text shipped in the bundle) the guard measures; not
     *     {@code null}; under 2 bytes it cannot be measured and the result is not accepted
     * @param rehearsal general text the anchor windows are cut from, or {@code null} (or shorter than a
     *     window) to sample the anchors from the student instead
     * @param cfg how to consolidate: windows, learning rate, sampled and anchor fractions, checks, dreams,
     *     the probe bound, the seed
     * @param budget the most bytes of experience to train on, the time for consolidation steps
     *     (measurement excluded), and the deadline of the whole run
     * @param preempted polled every 256 bytes scored, every byte sampled and every step; once it returns
     *     {@code true} the run stops and returns a result with {@code preempted} set
     * @param listener receives {@link SleepEvent.Phase} events ("evaluate", "consolidate", "dream",
     *     "probe") on the calling thread; not {@code null}
     * @return what the sleep produced, never {@code null}; accepted only if it took steps, every value is
     *     finite and the retention probe stayed within its bound. When the budget's deadline passes the
     *     result is neither accepted nor preempted and carries no figures
     */
    public Result run(Map<String, Tensor> live, ExpertPool pool, byte[] experience, byte[] probe, byte[] rehearsal,
            SleepConfig cfg, SleepBudget budget, BooleanSupplier preempted, SleepListener listener) {
        long t0 = clock.getAsLong();
        long deadline = t0 + budget.maxTime().toNanos();
        // the whole sleep's deadline, looked at wherever a preemption is (every 256 bytes scored, every step)
        long hard = t0 + budget.deadline().toNanos();
        boolean[] late = new boolean[1];
        String[] phase = {"start"};
        BooleanSupplier stop = () -> preempted.getAsBoolean() || (late[0] = clock.getAsLong() - hard > 0);
        SleepListener tracked = e -> {
            if (e instanceof SleepEvent.Phase p) {
                phase[0] = p.name();
            }
            listener.on(e);
        };
        try {
            return runInner(live, pool, experience, probe, rehearsal, cfg, budget, stop, tracked, t0, deadline, hard);
        } catch (Stop s) {
            if (late[0]) {
                return nothing(false, String.format(Locale.ROOT, "the sleep's deadline (%.1f s) passed in its %s phase; nothing was"
                        + " committed", budget.deadline().toMillis() / 1e3, phase[0]));
            }
            return nothing(true, "preempted");
        }
    }

    /** A sleep that measured and changed nothing: no figures, no expert. */
    private static Result nothing(boolean preempted, String reason) {
        return new Result(false, preempted, reason, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                0, -1, 0, 0, -1, -1, null, null);
    }

    private Result runInner(Map<String, Tensor> live, ExpertPool pool, byte[] experience, byte[] probe, byte[] rehearsal, SleepConfig cfg,
            SleepBudget budget, BooleanSupplier preempted, SleepListener listener, long t0, long deadline, long hard) {
        boolean[] plastic = spec.plastic();
        int n = experience.length;
        int heldOut = cfg.dream() && cfg.dreamCandidates() > 0 ? Math.min(cfg.heldOutBytes(), n / 4) : 0;
        int trainEnd = n - heldOut;
        int trainLen = (int) Math.min(trainEnd, budget.maxBytes());
        int trainStart = trainEnd - trainLen;
        if (budget.maxBytes() < cfg.windowBytes()) {
            return nothing(false, "the budget's " + budget.maxBytes() + " bytes are fewer than one window of " + cfg.windowBytes()
                    + " bytes: nothing can be consolidated");
        }
        if (trainLen < cfg.windowBytes()) {
            return nothing(false, "nothing to consolidate: " + n + " bytes of experience, a sleep needs at least " + (cfg.windowBytes() + heldOut));
        }
        SplitMix64 rng = new SplitMix64(cfg.seed() + 0x9E3779B9L * pool.sleeps());
        // the slot: a free one, else the oldest expert is folded into L2 or pruned out of it
        int slot = pool.freeSlot();
        int evicted = -1;
        Map<String, Tensor> base = copyL2(live);
        if (slot < 0) {
            slot = pool.oldestSlot();
            evicted = slot;
            if (cfg.prune()) {
                Expert old = pool.expert(slot);
                for (int b = 0; b < nb; b++) {
                    old.addTo(b, base.get(up(b)).data(), base.get(down(b)).data(), -1f);
                }
            }
        }
        Expert expert = Expert.fresh(nb, d, f2, pool.rank(), plastic, rng);
        Adam adam = new Adam(expert);

        // teacher = the live model; student = live with L1 reset and L2 = base (+ the expert)
        teacher.engine().importState(live);
        student.engine().importState(live);
        student.engine().resetLevel(org.hope4j.Level.L1);
        Map<String, Tensor> studentState = student.engine().exportState();
        zeroGradients(studentState);
        setStudentL2(studentState, base, expert);

        byte[] eval = java.util.Arrays.copyOfRange(experience, Math.max(0, n - cfg.evalBytes()), n);
        listener.on(new SleepEvent.Phase("evaluate", 0));
        long e0 = clock.getAsLong();
        double recentBefore = bitsPerByte(teacher, eval, preempted);
        double probeBefore = bitsPerByte(teacher, probe, preempted);
        // the guard's reference: the bundle's pretrained model (L1 and L2 as shipped, no expert)
        teacher.engine().resetLevel(org.hope4j.Level.L1);
        teacher.engine().resetLevel(org.hope4j.Level.L2);
        double probePretrained = bitsPerByte(teacher, probe, preempted);
        double recentResetOnly = bitsPerByte(student, eval, preempted);
        double probeResetOnly = bitsPerByte(student, probe, preempted);
        double evalSeconds = (clock.getAsLong() - e0) / 1e9;
        double bytesPerSecond = (2.0 * eval.length + probe.length) / Math.max(evalSeconds, 1e-6);
        long finalEvalNanos = (long) ((eval.length + probe.length) / bytesPerSecond * 1.3e9);
        listener.on(new SleepEvent.Phase("evaluate", 1));

        // anchors: general text (windows of the bundle's rehearsal text, or, without one, texts the
        // student samples from its start) with the pretrained model's distributions as targets, which
        // pull what online learning moved in L2 back toward the pretrained model on general text
        int w = cfg.windowBytes();
        int anchors = cfg.anchorFraction() > 0 ? cfg.anchorWindows() : 0;
        boolean rehearse = rehearsal != null && rehearsal.length >= w;
        byte[][] anchorText = new byte[anchors][w];
        float[][] anchorProbs = new float[anchors][w * vocab];
        for (int a = 0; a < anchors; a++) {
            if (rehearse) {
                int at = rng.nextInt(rehearsal.length - w + 1);
                System.arraycopy(rehearsal, at, anchorText[a], 0, w);
            } else {
                anchorText[a][0] = '\n';
                sampleFrom(student, anchorText[a], 1, rng, preempted);
            }
            probs(teacher, anchorText[a], anchorProbs[a], preempted);
        }
        teacher.engine().importState(live);

        // consolidation: distil the teacher into the expert. The budget's time bounds consolidation,
        // not measurement: what the measuring so far took, and every checkpoint's, moves the deadline.
        long now = clock.getAsLong();
        deadline += now - t0;
        // whatever maxTime says, consolidation ends in time for one more checkpoint and the final
        // measurement before the whole sleep's deadline (else a maxTime near or past the deadline
        // would let the steps run into it and the sleep would commit nothing)
        long last = hard - 2 * finalEvalNanos;
        long remaining = deadline - now - finalEvalNanos;
        long consolidateEnd = Math.min(now + (long) (remaining * (heldOut > 0 ? 0.8 : 1.0)), last);
        deadline = Math.min(deadline, last);
        byte[] window = new byte[w];
        float[] pT = new float[w * vocab];
        int steps = 0;
        double klSum = 0;
        int klCount = 0;
        // checkpoints: the held-out experience (or, without one, the newest eval bytes) and the probe
        byte[] val = heldOut > 0 ? java.util.Arrays.copyOfRange(experience, n - heldOut, n)
                : java.util.Arrays.copyOfRange(eval, Math.max(0, eval.length - 2048), eval.length);
        // the guard: the expert may not leave general text more than probeBound worse than the pretrained
        // model, or than resetting L1 alone leaves it when online learning already moved L2 further away
        double probeRef = Math.max(probePretrained, probeResetOnly);
        double probeLimit = probeRef * (1 + cfg.probeBound());
        Checkpoint best = null;
        int checks = 0;
        listener.on(new SleepEvent.Phase("consolidate", 0));
        check(preempted);
        while (cfg.steps() > 0 ? steps < cfg.steps() && clock.getAsLong() < deadline : clock.getAsLong() < consolidateEnd) {
            double r = rng.nextDouble();
            if (r < cfg.sampledFraction() / 2) {
                sampleWindow(teacher, experience, trainStart, trainLen, cfg.promptBytes(), window, rng, preempted);
            } else if (r < cfg.sampledFraction()) {
                sampleWindow(student, experience, trainStart, trainLen, cfg.promptBytes(), window, rng, preempted);
            } else if (r < cfg.sampledFraction() + cfg.anchorFraction()) {
                int a = rng.nextInt(anchors);
                klSum += distilStep(anchorText[a], anchorProbs[a], expert, adam, cfg.learningRate(), studentState, base, preempted);
                klCount++;
                steps++;
            } else {
                int s = trainStart + rng.nextInt(trainLen - w + 1);
                System.arraycopy(experience, s, window, 0, w);
            }
            if (r >= cfg.sampledFraction() + cfg.anchorFraction() || r < cfg.sampledFraction()) {
                probs(teacher, window, pT, preempted);
                klSum += distilStep(window, pT, expert, adam, cfg.learningRate(), studentState, base, preempted);
                klCount++;
                steps++;
            }
            if (cfg.checkEvery() > 0 && steps % cfg.checkEvery() == 0) {
                checks++;
                long c0 = clock.getAsLong();
                Checkpoint c = check(val, probe, probeLimit, expert, adam, steps, preempted);
                long spent = clock.getAsLong() - c0;
                deadline = Math.min(deadline + spent, last);
                consolidateEnd = Math.min(consolidateEnd + spent, last);
                if (c.better(best)) {
                    best = c;
                } else if (best != null && checks - best.check(cfg.checkEvery()) >= cfg.patience()) {
                    break; // no better checkpoint for a while: distillation has taken what it can
                }
            }
            if (steps % 10 == 0) {
                double frac = cfg.steps() > 0 ? (double) steps / cfg.steps()
                        : Math.min(1, (clock.getAsLong() - now) / (double) Math.max(1, consolidateEnd - now));
                listener.on(new SleepEvent.Phase("consolidate", frac));
                double kl = klSum / klCount;
                int st = steps;
                LOG.log(Level.DEBUG, () -> String.format(Locale.ROOT, "sleep: %d steps, KL %.5f nats/byte", st, kl));
                klSum = 0;
                klCount = 0;
            }
        }
        if (cfg.checkEvery() > 0 && steps >= cfg.checkEvery()) {
            if (steps % cfg.checkEvery() != 0) {
                Checkpoint c = check(val, probe, probeLimit, expert, adam, steps, preempted);
                if (c.better(best)) {
                    best = c;
                }
            }
            if (best == null) {
                listener.on(new SleepEvent.Phase("consolidate", 1));
                return new Result(false, false, String.format(Locale.ROOT, "no checkpoint of %d steps kept the retention probe within"
                        + " %.2f %% of %.4f bits/byte (pretrained model %.4f, L1 reset without the sleep %.4f, the model before the sleep %.4f);"
                        + " nothing was committed", steps, 100 * cfg.probeBound(), probeRef, probePretrained, probeResetOnly, probeBefore), trainLen,
                        recentBefore, recentResetOnly, Double.NaN, probeBefore, Double.NaN, probePretrained, probeResetOnly, steps, -1, 0, 0, slot, evicted, null, null);
            }
            expert.copyFrom(best.expert);
            adam.copyFrom(best.adam);
            setStudentL2(studentState, base, expert);
        }
        int keptStep = best == null ? steps : best.step;
        listener.on(new SleepEvent.Phase("consolidate", 1));

        // dreaming: keep a dream only if held-out experience gets better
        int kept = 0;
        int tried = 0;
        if (heldOut > 0) {
            byte[] held = java.util.Arrays.copyOfRange(experience, n - heldOut, n);
            double heldBits = bitsPerByte(student, held, preempted);
            listener.on(new SleepEvent.Phase("dream", 0));
            check(preempted);
            for (int c = 0; c < cfg.dreamCandidates() && clock.getAsLong() < deadline - finalEvalNanos; c++) {
                tried++;
                sampleWindow(teacher, experience, trainStart, trainLen, cfg.promptBytes(), window, rng, preempted);
                probs(teacher, window, pT, preempted);
                Expert saved = expert.copy();
                Adam savedAdam = adam.copy();
                for (int s = 0; s < cfg.dreamSteps(); s++) {
                    distilStep(window, pT, expert, adam, cfg.learningRate(), studentState, base, preempted);
                }
                double bits = bitsPerByte(student, held, preempted);
                if (bits < heldBits && bitsPerByte(student, probe, preempted) <= probeLimit) {
                    heldBits = bits;
                    kept++;
                } else {
                    expert.copyFrom(saved);
                    adam.copyFrom(savedAdam);
                    setStudentL2(studentState, base, expert);
                    student.engine().importState(studentState);
                }
                listener.on(new SleepEvent.Phase("dream", (c + 1.0) / cfg.dreamCandidates()));
            }
        }

        // the guard
        listener.on(new SleepEvent.Phase("probe", 0));
        double recentAfter = bitsPerByte(student, eval, preempted);
        double probeAfter = bitsPerByte(student, probe, preempted);
        listener.on(new SleepEvent.Phase("probe", 1));
        Map<String, Tensor> l2After = copyL2(base);
        for (int b = 0; b < nb; b++) {
            expert.addTo(b, l2After.get(up(b)).data(), l2After.get(down(b)).data(), 1f);
        }
        String figures = String.format(Locale.ROOT, "%d steps, the expert of step %d kept, %d of %d dreams kept", steps, keptStep,
                kept, tried);
        boolean finite = expert.finite() && Double.isFinite(recentAfter) && Double.isFinite(probeAfter) && finiteAll(l2After);
        boolean accepted;
        String reason;
        if (steps == 0) {
            accepted = false;
            reason = "the budget left no time for a consolidation step (" + figures + "); L1 keeps what it learned";
        } else if (!finite) {
            accepted = false;
            reason = "a value is NaN or infinite after consolidation (" + figures + ")";
        } else if (probeAfter > probeLimit) {
            accepted = false;
            reason = String.format(Locale.ROOT, "retention probe at %.4f bits/byte, above %.4f + %.2f %% (%+.2f %% against the pretrained model,"
                    + " %+.2f %% against L1 reset without the sleep, %+.2f %% against the model before the sleep) (%s)", probeAfter, probeRef,
                    100 * cfg.probeBound(), 100 * (probeAfter / probePretrained - 1), 100 * (probeAfter / probeResetOnly - 1),
                    100 * (probeAfter / probeBefore - 1), figures);
        } else {
            accepted = true;
            reason = String.format(Locale.ROOT, "probe within bound (%+.2f %% against the pretrained model, %+.2f %% against L1 reset without"
                    + " the sleep, bound %.2f %% of the larger; %+.2f %% against the model before the sleep); %s; expert in slot %d%s",
                    100 * (probeAfter / probePretrained - 1), 100 * (probeAfter / probeResetOnly - 1), 100 * cfg.probeBound(),
                    100 * (probeAfter / probeBefore - 1), figures, slot,
                    evicted < 0 ? "" : (cfg.prune() ? " (its old expert pruned)" : " (its old expert folded into L2)"));
        }
        return new Result(accepted, false, reason, trainLen, recentBefore, recentResetOnly, recentAfter, probeBefore,
                probeAfter, probePretrained, probeResetOnly, steps, keptStep, kept, tried, slot, evicted, expert, l2After);
    }

    // ---------------------------------------------------------------------------------------------

    private static String up(int b) {
        return "blocks." + b + ".l2.up";
    }

    private static String down(int b) {
        return "blocks." + b + ".l2.down";
    }

    private Map<String, Tensor> copyL2(Map<String, Tensor> from) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int b = 0; b < nb; b++) {
            for (String name : new String[] {up(b), down(b)}) {
                Tensor t = from.get(name);
                m.put(name, new Tensor(name, t.shape(), t.data().clone()));
            }
        }
        return m;
    }

    private static boolean finiteAll(Map<String, Tensor> m) {
        for (Tensor t : m.values()) {
            for (float x : t.data()) {
                if (!Float.isFinite(x)) {
                    return false;
                }
            }
        }
        return true;
    }

    private void zeroGradients(Map<String, Tensor> state) {
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            if (e.getKey().contains(".g_")) {
                java.util.Arrays.fill(e.getValue().data(), 0f);
            }
        }
    }

    /** The student's L2 = base + the expert, gradient sums zero; loaded into the student engine. */
    private void setStudentL2(Map<String, Tensor> state, Map<String, Tensor> base, Expert expert) {
        for (int b = 0; b < nb; b++) {
            float[] u = state.get(up(b)).data();
            float[] dn = state.get(down(b)).data();
            System.arraycopy(base.get(up(b)).data(), 0, u, 0, u.length);
            System.arraycopy(base.get(down(b)).data(), 0, dn, 0, dn.length);
            expert.addTo(b, u, dn, 1f);
            java.util.Arrays.fill(state.get("blocks." + b + ".l2.g_up").data(), 0f);
            java.util.Arrays.fill(state.get("blocks." + b + ".l2.g_down").data(), 0f);
        }
        student.engine().importState(state);
    }

    private static void check(BooleanSupplier preempted) {
        if (preempted.getAsBoolean()) {
            throw new Stop();
        }
    }

    /** Bits/byte of {@code data} read from a fresh context (CMS fixed, L0 in context). */
    private double bitsPerByte(HopeStream s, byte[] data, BooleanSupplier preempted) {
        if (data.length < 2) {
            return Double.NaN;
        }
        s.resetContext();
        double[] bits = {0};
        for (int off = 0; off < data.length; off += SCORE_PIECE) {
            check(preempted);
            int len = Math.min(SCORE_PIECE, data.length - off);
            int base = off;
            s.forward(data, off, len, true, spec.maxSpan(), (start, m, logits) -> {
                for (int j = 0; j < m; j++) {
                    int g = base + start + j;
                    if (g + 1 < data.length) {
                        bits[0] += HopeStream.bitsOf(logits, j * vocab, data[g + 1]);
                    }
                }
            });
        }
        return bits[0] / (data.length - 1);
    }

    /** Softmax of the row at {@code off} of {@code lg} into {@code out[oo, oo+256)}. */
    private void softmax(float[] lg, int off, float[] out, int oo) {
        Ops.softmax(lg, off, out, oo, vocab);
    }

    /** A model's next-byte distributions over a window read from a fresh context. */
    private void probs(HopeStream model, byte[] window, float[] pT, BooleanSupplier preempted) {
        check(preempted);
        model.resetContext();
        model.forward(window, 0, window.length, true, spec.maxSpan(), (start, m, logits) -> {
            for (int j = 0; j < m; j++) {
                softmax(logits, j * vocab, pT, (start + j) * vocab);
            }
        });
    }

    /**
     * Fills {@code window}: a prompt of {@code promptBytes} from the training part of the
     * experience, then bytes sampled (temperature 1) from {@code model}.
     */
    private void sampleWindow(HopeStream model, byte[] experience, int trainStart, int trainLen, int promptBytes,
            byte[] window, SplitMix64 rng, BooleanSupplier preempted) {
        int s = trainStart + rng.nextInt(trainLen - promptBytes + 1);
        System.arraycopy(experience, s, window, 0, promptBytes);
        sampleFrom(model, window, promptBytes, rng, preempted);
    }

    /** Reads {@code window[0, promptBytes)} from a fresh context, then samples the rest from {@code model}. */
    private void sampleFrom(HopeStream model, byte[] window, int promptBytes, SplitMix64 rng, BooleanSupplier preempted) {
        model.resetContext();
        float[] last = new float[vocab];
        HopeStream.SpanSink keepLast = (start, m, logits) -> softmax(logits, (m - 1) * vocab, last, 0);
        check(preempted);
        model.forward(window, 0, promptBytes, true, spec.maxSpan(), keepLast);
        for (int i = promptBytes; i < window.length; i++) {
            check(preempted);
            double u = rng.nextDouble();
            int pick = vocab - 1;
            for (int j = 0; j < vocab; j++) {
                u -= last[j];
                if (u < 0) {
                    pick = j;
                    break;
                }
            }
            window[i] = (byte) pick;
            if (i + 1 < window.length) {
                model.forward(window, i, 1, true, 1, keepLast);
            }
        }
    }

    /**
     * One Adam step of the expert on one window: the student reads it from a fresh context, the
     * gradient of mean KL(teacher || student) (= (p_student - p_teacher) / W at the logits) goes
     * through the teach signal into L2's gradient sums, and from there to the expert's factors.
     * Returns the window's mean KL in nats.
     */
    private double distilStep(byte[] window, float[] pT, Expert expert, Adam adam, double lr, Map<String, Tensor> state,
            Map<String, Tensor> base, BooleanSupplier preempted) {
        check(preempted);
        int w = window.length;
        double[] kl = {0};
        student.resetContext();
        student.forward(window, 0, w, true, spec.c1(), (start, m, logits) -> {
            for (int j = 0; j < m; j++) {
                softmax(logits, j * vocab, pS, 0);
                int t = (start + j) * vocab;
                for (int c = 0; c < vocab; c++) {
                    float pt = pT[t + c];
                    dl[j * vocab + c] = (pS[c] - pt) / w;
                    if (pt > 0) {
                        kl[0] += pt * (Math.log(pt) - Math.log(Math.max(pS[c], 1e-30f)));
                    }
                }
            }
            student.engine().accumulateLogitGradient(m, dl, false, true);
        });
        Map<String, Tensor> g = student.engine().exportState();
        adam.step(expert, g, spec.plastic(), lr);
        setStudentL2(state, base, expert);
        return kl[0] / w;
    }

    /** A copy of the expert at a check, with its held-out bits/byte; only checks within the probe bound are kept. */
    private record Checkpoint(int step, double heldOut, Expert expert, Adam adam) {
        boolean better(Checkpoint other) {
            return heldOut < Double.POSITIVE_INFINITY && (other == null || heldOut < other.heldOut);
        }

        /** The number of the check this checkpoint was taken at. */
        int check(int every) {
            return step / every;
        }
    }

    /** Measures the student now: held-out bits/byte if the probe is within its limit, else +infinity. */
    private Checkpoint check(byte[] val, byte[] probe, double probeLimit, Expert expert, Adam adam, int step,
            BooleanSupplier preempted) {
        double pr = bitsPerByte(student, probe, preempted);
        double v = pr <= probeLimit ? bitsPerByte(student, val, preempted) : Double.POSITIVE_INFINITY;
        int st = step;
        LOG.log(Level.DEBUG, () -> String.format(Locale.ROOT, "sleep check at %d steps: probe %.4f (limit %.4f), held-out %.4f", st,
                pr, probeLimit, v));
        return new Checkpoint(step, v, expert.copy(), adam.copy());
    }

    /** Adam over an expert's factors; its moments live beside it. */
    static final class Adam {
        final Expert m, v;
        int t;

        Adam(Expert like) {
            m = new Expert(like.nb, like.d, like.f2, like.rank);
            v = new Expert(like.nb, like.d, like.f2, like.rank);
        }

        Adam copy() {
            Adam a = new Adam(m);
            a.m.copyFrom(m);
            a.v.copyFrom(v);
            a.t = t;
            return a;
        }

        void copyFrom(Adam o) {
            m.copyFrom(o.m);
            v.copyFrom(o.v);
            t = o.t;
        }

        /**
         * With G_down = dL/dDown [D, F2] and G_up = dL/dUp [F2, D] from the engine's L2 sums:
         * dU = G_down V^T, dV = U^T G_down, dP = G_up Q^T, dQ = P^T G_up; then one Adam step.
         */
        void step(Expert e, Map<String, Tensor> state, boolean[] plastic, double lr) {
            t++;
            double c1 = 1 - Math.pow(BETA1, t);
            double c2 = 1 - Math.pow(BETA2, t);
            int d = e.d;
            int f2 = e.f2;
            int r = e.rank;
            for (int b = 0; b < e.nb; b++) {
                if (!plastic[b]) {
                    continue;
                }
                float[] gDown = state.get("blocks." + b + ".l2.g_down").data();
                float[] gUp = state.get("blocks." + b + ".l2.g_up").data();
                float[] du = new float[d * r];
                float[] dv = new float[r * f2];
                float[] dp = new float[f2 * r];
                float[] dq = new float[r * d];
                grads(gDown, e.u[b], e.v[b], d, f2, r, du, dv);
                grads(gUp, e.p[b], e.q[b], f2, d, r, dp, dq);
                update(e.u[b], m.u[b], v.u[b], du, lr, c1, c2);
                update(e.v[b], m.v[b], v.v[b], dv, lr, c1, c2);
                update(e.p[b], m.p[b], v.p[b], dp, lr, c1, c2);
                update(e.q[b], m.q[b], v.q[b], dq, lr, c1, c2);
            }
        }

        /** For W = A B with A [rows, r], B [r, cols] and G = dL/dW: dA = G B^T, dB = A^T G. */
        private static void grads(float[] g, float[] a, float[] bm, int rows, int cols, int r, float[] da, float[] db) {
            for (int i = 0; i < rows; i++) {
                int go = i * cols;
                for (int k = 0; k < r; k++) {
                    int bo = k * cols;
                    double s = 0;
                    for (int c = 0; c < cols; c++) {
                        s += g[go + c] * bm[bo + c];
                    }
                    da[i * r + k] = (float) s;
                    float aik = a[i * r + k];
                    if (aik != 0f) {
                        for (int c = 0; c < cols; c++) {
                            db[bo + c] += aik * g[go + c];
                        }
                    }
                }
            }
        }

        private static void update(float[] w, float[] m1, float[] m2, float[] g, double lr, double c1, double c2) {
            for (int i = 0; i < w.length; i++) {
                m1[i] = (float) (BETA1 * m1[i] + (1 - BETA1) * g[i]);
                m2[i] = (float) (BETA2 * m2[i] + (1 - BETA2) * g[i] * g[i]);
                double mh = m1[i] / c1;
                double vh = m2[i] / c2;
                w[i] -= (float) (lr * mh / (Math.sqrt(vh) + ADAM_EPS));
            }
        }
    }
}
