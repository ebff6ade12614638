package org.hope4j.engine;

import java.lang.System.Logger;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.hope4j.BackendException;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;

/**
 * An engine that moves to a second one when the first fails for good. A GPU engine whose context is lost (a faulting
 * kernel, an Xid, a driver reset: CUDA's sticky errors) answers every later call with an error, which would leave its
 * learner unable to read, score or save. On the first {@link BackendException} of the primary engine this one closes
 * it, opens the fallback (the CPU engine), imports the last snapshot of the state, logs once what was lost, and runs
 * the call again on the fallback; a failure of the fallback itself is thrown.
 *
 * <p>Snapshots (host copies of {@link #exportState}) are taken when the engine opens, whenever a state is imported or
 * exported (a restore, a save, a sleep), and after every {@code snapshotEvery} Eq. 71 steps; what the primary learnt
 * since the last one is lost. The fallback has not run the span the failure interrupted, so until it has run every
 * block's CMS levels and the head once, the span's error signal is not taken ({@link #accumulate},
 * {@link #accumulateLogitGradient} do nothing) and no position is held ({@link #holdPending} drops it). A primary
 * that ran whole spans ({@link #attachMixers}) hands over to the fallback as a {@link MixingEngine} (the mixers on the
 * host) unless the fallback takes the mixers itself; the snapshots then hold the conv states too, and a whole span
 * on the fallback makes its error signal valid again.
 *
 * <p>Not thread-safe, as any engine.
 */
public final class FailoverEngine implements Engine {
    private static final Logger LOG = System.getLogger(FailoverEngine.class.getName());

    private final String name;
    private final String fallbackName;
    private final Supplier<Engine> fallback;
    private final int snapshotEvery;
    private Engine engine;
    private Engine primary;
    private Map<String, Tensor> snapshot;
    /** The mixers the primary took ({@link #attachMixers}), or null; then also the conv states of the snapshot. */
    private Mixers mixers;
    private float[][] convSnapshot;
    private int stepsSinceSnapshot;
    private String failure;
    /** After a failover: the blocks whose CMS levels the fallback has run since, and whether a head followed them. */
    private final Set<Integer> blocksRun = new HashSet<>();
    private boolean spanValid = true;

    /**
     * Wraps an opened engine.
     *
     * @param primary the engine that may fail for good (taken over: closed by this one)
     * @param fallback opens the engine to move to (same spec and plastic tensors), called at most once
     * @param snapshotEvery Eq. 71 steps between snapshots of the state (0: only at opening, import and export)
     * @param name the primary engine in messages, e.g. "cuda (device 0)"
     * @param fallbackName the backend the fallback engine belongs to, e.g. "cpu"
     */
    public FailoverEngine(Engine primary, Supplier<Engine> fallback, int snapshotEvery, String name, String fallbackName) {
        this.primary = Objects.requireNonNull(primary, "primary");
        this.engine = primary;
        this.fallback = Objects.requireNonNull(fallback, "fallback");
        if (snapshotEvery < 0) {
            throw new IllegalArgumentException("snapshotEvery must be >= 0, found " + snapshotEvery);
        }
        this.snapshotEvery = snapshotEvery;
        this.name = Objects.requireNonNull(name, "name");
        this.fallbackName = Objects.requireNonNull(fallbackName, "fallbackName");
        try {
            this.snapshot = primary.exportState();
        } catch (RuntimeException e) {
            primary.close();
            throw e;
        }
    }

    /**
     * The engine that now computes: the primary, or after a failover the fallback.
     *
     * @return the engine calls go to
     */
    public Engine current() {
        return engine;
    }

    /**
     * The backend this engine moves to when the primary fails.
     *
     * @return its name, e.g. "cpu"
     */
    public String fallbackName() {
        return fallbackName;
    }

    /**
     * Why this engine failed over.
     *
     * @return the primary engine's error, or null while it runs
     */
    public String failure() {
        return failure;
    }

    private interface Call<T> {
        T run(Engine e);
    }

    private <T> T call(Call<T> c) {
        if (primary == null) {
            return c.run(engine);
        }
        try {
            return c.run(engine);
        } catch (BackendException e) {
            failOver(e);
            return c.run(engine);
        }
    }

    private void run(Consumer<Engine> c) {
        call(e -> {
            c.accept(e);
            return null;
        });
    }

    private void failOver(BackendException e) {
        Engine failed = primary;
        primary = null;
        failure = e.getMessage();
        try {
            failed.close();
        } catch (RuntimeException closing) {
            e.addSuppressed(closing); // a lost context may refuse to free; its memory goes with the context
        }
        Engine next = fallback.get();
        try {
            next.importState(snapshot);
            if (mixers != null) {
                if (!next.attachMixers(mixers)) {
                    next = new MixingEngine(next, mixers);
                }
                for (int b = 0; b < convSnapshot.length; b++) {
                    next.setMixerConv(b, convSnapshot[b]);
                }
            }
        } catch (RuntimeException importing) {
            next.close();
            importing.addSuppressed(e);
            throw importing;
        }
        engine = next;
        spanValid = false;
        blocksRun.clear();
        LOG.log(Logger.Level.WARNING, name + " failed (" + e.getMessage() + "); continuing on the fallback engine from the last "
                + "snapshot of the state (taken at opening, at each import or export of the state and every " + snapshotEvery
                + " steps): what was learnt since is lost");
    }

    private void snapshotIfDue() {
        if (primary != null && snapshotEvery > 0 && ++stepsSinceSnapshot >= snapshotEvery) {
            stepsSinceSnapshot = 0;
            Map<String, Tensor> s;
            try {
                s = primary.exportState();
            } catch (BackendException e) {
                failOver(e); // the step itself went through on the primary; its state is what cannot be read
                return;
            }
            snapshot(s);
        }
    }

    @Override
    public EngineSpec spec() {
        return engine.spec();
    }

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        run(e -> e.memory(block, q, u, m, pos, learn, o));
    }

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        run(e -> e.cms(block, x, m, out));
        if (!spanValid) {
            blocksRun.add(block);
        }
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        run(e -> e.head(x, m, logits));
        if (!spanValid && blocksRun.size() == engine.spec().nBlocks()) {
            spanValid = true;
        }
    }

    /**
     * Takes {@code state} (the primary's, just read or set; owned from now on) as the snapshot, with the primary's conv states where it
     * took the mixers; a failure to read those fails over from the previous snapshot, which is then kept.
     */
    private void snapshot(Map<String, Tensor> state) {
        float[][] c = null;
        if (mixers != null) {
            try {
                c = new float[engine.spec().nBlocks()][];
                for (int b = 0; b < c.length; b++) {
                    c[b] = primary.mixerConv(b);
                }
            } catch (BackendException e) {
                failOver(e);
                return;
            }
        }
        snapshot = state;
        stepsSinceSnapshot = 0;
        if (c != null) {
            convSnapshot = c;
        }
    }

    @Override
    public boolean attachMixers(Mixers m) {
        boolean taken = call(e -> e.attachMixers(m));
        if (taken && primary != null) {
            EngineSpec spec = engine.spec();
            // taken: every conv state zero until set (setMixerConv)
            convSnapshot = new float[spec.nBlocks()][(m.convWidth() - 1) * 2 * spec.dModel()];
            mixers = m;
        }
        return taken;
    }

    @Override
    public void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
        run(e -> e.span(data, off, m, pos, learn, logits));
        spanValid = true; // every block and the head ran on the engine that now computes
    }

    @Override
    public float[] mixerConv(int block) {
        return call(e -> e.mixerConv(block));
    }

    @Override
    public void setMixerConv(int block, float[] conv) {
        run(e -> e.setMixerConv(block, conv));
        if (primary != null && mixers != null) {
            // the context the stream hands over as it starts whole spans, or sets with a restore (whose import then
            // snapshots the state and these again): the snapshot's from now on
            convSnapshot[block] = conv.clone();
        }
    }

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        run(e -> {
            if (spanValid) {
                e.accumulate(k, targets, off, l1, l2);
            }
        });
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        run(e -> {
            if (spanValid) {
                e.accumulateLogitGradient(k, dLogits, l1, l2);
            }
        });
    }

    @Override
    public void holdPending() {
        run(e -> {
            if (spanValid) {
                e.holdPending();
            } else {
                e.dropPending();
            }
        });
    }

    @Override
    public boolean hasPending() {
        return engine.hasPending();
    }

    @Override
    public void accumulatePending(byte target, boolean l1, boolean l2) {
        run(e -> e.accumulatePending(target, l1, l2));
    }

    @Override
    public void dropPending() {
        engine.dropPending();
    }

    @Override
    public void step(boolean l1, boolean l2) {
        run(e -> e.step(l1, l2));
        snapshotIfDue();
    }

    @Override
    public void resetLevel(Level level) {
        run(e -> e.resetLevel(level));
    }

    @Override
    public long rollbacks() {
        return call(Engine::rollbacks);
    }

    @Override
    public Map<String, Tensor> exportState() {
        Map<String, Tensor> s = call(Engine::exportState);
        if (primary != null) {
            snapshot(copy(s)); // the caller may change the arrays it was given
        }
        return s;
    }

    @Override
    public void importState(Map<String, Tensor> state) {
        run(e -> e.importState(state));
        if (primary != null) {
            snapshot(copy(state));
        }
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> state) {
        Map<String, Tensor> c = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor t = e.getValue();
            c.put(e.getKey(), new Tensor(t.name(), t.shape(), t.data().clone()));
        }
        return c;
    }

    @Override
    public void close() {
        engine.close();
    }
}
