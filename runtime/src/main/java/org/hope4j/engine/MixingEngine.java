package org.hope4j.engine;

import java.util.Map;
import java.util.Objects;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;

/**
 * Whole spans ({@link Engine#span}) for an engine that runs only levels: the mixers on the host around it
 * ({@link HostSpan}), the conv states held here. A {@link FailoverEngine} whose primary ran whole spans moves to its
 * fallback through one, so the learner's stream keeps calling {@link #span}; tests compare the whole-span path of a
 * stream with the host one through it. Every other call goes to the wrapped engine. Not thread-safe, as any engine.
 */
public final class MixingEngine implements Engine {
    private final Engine engine;
    private HostSpan host;

    /**
     * Wraps an engine that takes the mixers when offered ({@link #attachMixers}).
     *
     * @param engine the levels (taken over: closed by this one)
     */
    public MixingEngine(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /**
     * Wraps an engine, with the mixers taken.
     *
     * @param engine the levels (taken over: closed by this one)
     * @param mixers the model's frozen half
     */
    public MixingEngine(Engine engine, Mixers mixers) {
        this(engine);
        attachMixers(mixers);
    }

    /**
     * The wrapped engine.
     *
     * @return the engine that runs the levels
     */
    public Engine levels() {
        return engine;
    }

    @Override
    public boolean attachMixers(Mixers mixers) {
        if (host == null) {
            host = new HostSpan(mixers, engine.spec());
        }
        return true;
    }

    private HostSpan host() {
        if (host == null) {
            throw new UnsupportedOperationException("MixingEngine: no mixers taken yet (attachMixers)");
        }
        return host;
    }

    @Override
    public void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
        host().run(engine, data, off, m, pos, learn, logits);
    }

    @Override
    public float[] mixerConv(int block) {
        return host().conv(block);
    }

    @Override
    public void setMixerConv(int block, float[] conv) {
        host().setConv(block, conv);
    }

    @Override
    public EngineSpec spec() {
        return engine.spec();
    }

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        engine.memory(block, q, u, m, pos, learn, o);
    }

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        engine.cms(block, x, m, out);
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        engine.head(x, m, logits);
    }

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        engine.accumulate(k, targets, off, l1, l2);
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        engine.accumulateLogitGradient(k, dLogits, l1, l2);
    }

    @Override
    public void holdPending() {
        engine.holdPending();
    }

    @Override
    public boolean hasPending() {
        return engine.hasPending();
    }

    @Override
    public void accumulatePending(byte target, boolean l1, boolean l2) {
        engine.accumulatePending(target, l1, l2);
    }

    @Override
    public void dropPending() {
        engine.dropPending();
    }

    @Override
    public void step(boolean l1, boolean l2) {
        engine.step(l1, l2);
    }

    @Override
    public void resetLevel(Level level) {
        engine.resetLevel(level);
    }

    @Override
    public long rollbacks() {
        return engine.rollbacks();
    }

    @Override
    public Map<String, Tensor> exportState() {
        return engine.exportState();
    }

    @Override
    public void importState(Map<String, Tensor> state) {
        engine.importState(state);
    }

    @Override
    public void close() {
        engine.close();
    }
}
