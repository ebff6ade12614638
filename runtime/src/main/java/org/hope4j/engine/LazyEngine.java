package org.hope4j.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;

/**
 * An engine opened on its first use that needs one: until then it is the engine its opener would return, in the state
 * {@code pristine} (an engine just opened on the same bundle exported it), which it answers from memory. The
 * pretrained anchor of a learner is one: while the learner's CMS levels hold the bundle's weights the anchor is idle
 * (its computation would repeat the learner's), so a {@code score} or {@code generate} with the pretrained model, and
 * a learner that has not yet taken a CMS step, never open it and its engine's 13 MB of weights and buffers.
 *
 * <p>Unopened, {@link #exportState} returns a copy of {@code pristine}, {@link #resetLevel} and {@link #dropPending}
 * change nothing (the pristine state has nothing to reset or drop), {@link #hasPending} is false and
 * {@link #rollbacks} 0; every other call opens the engine first ({@link #attachMixers} too: whether an engine runs
 * whole spans is its own answer). Not thread-safe, as any engine.
 */
public final class LazyEngine implements Engine {
    private final EngineSpec spec;
    private final Supplier<Engine> opener;
    private Map<String, Tensor> pristine;
    private Engine engine;
    private boolean closed;

    /**
     * An engine to open when first needed.
     *
     * @param spec the spec the opened engine will have
     * @param pristine the state of a freshly opened engine of this kind ({@link #exportState} of one), kept until the
     *     engine opens; not changed, and not to be changed by the caller
     * @param opener opens the engine (the same backend, spec and plastic tensors that {@code pristine} came from)
     */
    public LazyEngine(EngineSpec spec, Map<String, Tensor> pristine, Supplier<Engine> opener) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.pristine = Objects.requireNonNull(pristine, "pristine");
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    /**
     * Whether the engine has been opened.
     *
     * @return true once a call needed the engine itself
     */
    public boolean opened() {
        return engine != null;
    }

    private Engine engine() {
        if (engine == null) {
            if (closed) {
                throw new IllegalStateException("engine is closed");
            }
            engine = opener.get();
            pristine = null;
        }
        return engine;
    }

    @Override
    public EngineSpec spec() {
        return spec;
    }

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        engine().memory(block, q, u, m, pos, learn, o);
    }

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        engine().cms(block, x, m, out);
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        engine().head(x, m, logits);
    }

    @Override
    public boolean attachMixers(Mixers mixers) {
        return engine().attachMixers(mixers);
    }

    @Override
    public void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
        engine().span(data, off, m, pos, learn, logits);
    }

    @Override
    public float[] mixerConv(int block) {
        return engine().mixerConv(block);
    }

    @Override
    public void setMixerConv(int block, float[] conv) {
        engine().setMixerConv(block, conv);
    }

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        engine().accumulate(k, targets, off, l1, l2);
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        engine().accumulateLogitGradient(k, dLogits, l1, l2);
    }

    @Override
    public void holdPending() {
        engine().holdPending();
    }

    @Override
    public boolean hasPending() {
        return engine != null && engine.hasPending();
    }

    @Override
    public void accumulatePending(byte target, boolean l1, boolean l2) {
        engine().accumulatePending(target, l1, l2);
    }

    @Override
    public void dropPending() {
        if (engine != null) {
            engine.dropPending();
        } else if (closed) {
            throw new IllegalStateException("engine is closed");
        }
    }

    @Override
    public void step(boolean l1, boolean l2) {
        engine().step(l1, l2);
    }

    @Override
    public void resetLevel(Level level) {
        if (engine != null) {
            engine.resetLevel(level);
        } else if (closed) {
            throw new IllegalStateException("engine is closed");
        }
    }

    @Override
    public long rollbacks() {
        return engine == null ? 0 : engine.rollbacks();
    }

    @Override
    public Map<String, Tensor> exportState() {
        if (engine != null) {
            return engine.exportState();
        }
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        Map<String, Tensor> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : pristine.entrySet()) {
            Tensor t = e.getValue();
            copy.put(e.getKey(), new Tensor(t.name(), t.shape(), t.data().clone()));
        }
        return copy;
    }

    @Override
    public void importState(Map<String, Tensor> state) {
        engine().importState(state);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pristine = null;
        if (engine != null) {
            engine.close();
        }
    }
}
