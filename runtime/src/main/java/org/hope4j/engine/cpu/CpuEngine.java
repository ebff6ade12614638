package org.hope4j.engine.cpu;

import java.util.LinkedHashMap;
import java.util.Map;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.StateLayout;
import org.hope4j.level.Blas;
import org.hope4j.level.CmsLevel;
import org.hope4j.level.MemoryLevel;
import org.hope4j.level.Ops;

/**
 * The CPU engine: the levels of every block ({@link MemoryLevel} L0, {@link CmsLevel} L2 then L1)
 * and the head, run over a span, with the error signal that trains L1 and L2 (the residual teach
 * signal). Plain Java for element-wise work, {@link Blas} (OpenBLAS through JavaCPP, or a Java
 * fallback) for matrix products. Mirrors model-export/hope_export/model.py ({@code _span},
 * {@code _accumulate}, {@code _apply_updates}).
 */
final class CpuEngine implements Engine {
    private final EngineSpec spec;
    private final Blas blas;
    private final int d, nb, v;
    private final boolean[] plastic;
    private final MemoryLevel[] l0;
    private final CmsLevel[] l1, l2;
    private final float[] normF, head;

    /**
     * The activations of the current span, per block: a span of at most one L1 chunk (learning) runs in these buffers;
     * of a longer span (reading with the CMS levels frozen) they keep each block's first chunk of rows, which is all the
     * error signal can use of it ({@link #accumulate} takes at most one chunk from its start).
     */
    private final SpanCache learnSpan;
    private final SpanCache pending;
    /**
     * The working buffers of spans longer than an L1 chunk: one block's worth (nb = 1), which every block reuses in
     * turn, so a long span costs 1.3 MB instead of 5.2 MB; made at the first such span, so an engine that only learns,
     * such as a learner's anchor in observe, never holds them. Each block's first chunk of rows goes to
     * {@link #learnSpan} and its last row to {@link #tail} as the block finishes.
     */
    private SpanCache longSpan;
    /** The last row of every block of the current long span: what {@link #holdPending} keeps of it. */
    private final SpanCache tail;
    /** Whether the current span is longer than an L1 chunk (its rows are in longSpan, learnSpan and tail). */
    private boolean spanIsLong;
    private int spanRows;
    private boolean hasPending;
    private boolean closed;
    private long stepRollbacks, nonFinitePredictions;
    private static final System.Logger LOG = System.getLogger(CpuEngine.class.getName());

    // scratch of the error signal (at most one L1 chunk) and of the head
    private final float[] dl, dh0, delta, ds1, da1, dz3, d3, ds2, da2, zf, zfSmall;

    CpuEngine(EngineSpec spec, Map<String, Tensor> init, Blas blas) {
        this.spec = spec;
        this.blas = blas;
        d = spec.dModel();
        nb = spec.nBlocks();
        v = EngineSpec.VOCAB;
        plastic = spec.plastic();
        int h = spec.nHeads();
        int r = spec.memRows();
        int f1 = spec.fastHidden();
        int f2 = spec.midHidden();
        l0 = new MemoryLevel[nb];
        l1 = new CmsLevel[nb];
        l2 = new CmsLevel[nb];
        for (int b = 0; b < nb; b++) {
            String p = "blocks." + b + ".";
            l0[b] = new MemoryLevel(blas, d, h, spec.c0(), spec.etaMax(), spec.eps(), take(init, p + "l0.init", h * r * spec.headDim()),
                    take(init, p + "l0.b_eta", h * 5), take(init, p + "l0.b_alpha", h * 5));
            l2[b] = new CmsLevel(blas, d, f2, spec.eps(), spec.lr2()[b], spec.decay2()[b], take(init, p + "l2.norm", d),
                    take(init, p + "l2.up", f2 * d), take(init, p + "l2.down", d * f2));
            l1[b] = new CmsLevel(blas, d, f1, spec.eps(), spec.lr1()[b], spec.decay1()[b], take(init, p + "l1.norm", d),
                    take(init, p + "l1.up", f1 * d), take(init, p + "l1.down", d * f1));
        }
        normF = take(init, "head.norm", d);
        head = take(init, "head.weight", v * d);
        int k1 = spec.c1(); // gradients are taken over at most one L1 chunk
        learnSpan = new SpanCache(k1, nb, d, f1, f2);
        pending = new SpanCache(1, nb, d, f1, f2);
        tail = new SpanCache(1, nb, d, f1, f2);
        dl = new float[k1 * v];
        dh0 = new float[k1 * d];
        delta = new float[k1 * d];
        ds1 = new float[k1 * f1];
        da1 = new float[k1 * f1];
        dz3 = new float[k1 * d];
        d3 = new float[k1 * d];
        ds2 = new float[k1 * f2];
        da2 = new float[k1 * f2];
        zf = new float[spec.maxSpan() * d];
        zfSmall = new float[k1 * d];
    }

    private static float[] take(Map<String, Tensor> t, String name, int size) {
        return StateLayout.data(t, name, size).clone();
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("CpuEngine is closed");
        }
    }

    @Override
    public EngineSpec spec() {
        return spec;
    }

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        open();
        l0[block].read(q, u, m, pos, learn, o);
    }

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        open();
        if (block == 0) {
            useSpan(m);
        }
        spanRows = m;
        SpanCache c = spanIsLong ? longSpan : learnSpan;
        int cb = spanIsLong ? 0 : block;
        System.arraycopy(x, 0, c.x2[cb], 0, m * d);
        l2[block].forward(c.x2[cb], m, c.z2[cb], c.a2[cb], c.g2[cb], c.s2[cb], c.x3[cb]);
        l1[block].forward(c.x3[cb], m, c.z3[cb], c.a1[cb], c.g1[cb], c.s1[cb], out);
        if (spanIsLong) {
            learnSpan.copyBlock(longSpan, 0, 0, block, learnSpan.rows);
            tail.copyBlock(longSpan, 0, m - 1, block, 1);
        }
    }

    /** Spans that fit an L1 chunk run in the chunk's buffers; a longer one in the long span's, made at the first. */
    private void useSpan(int m) {
        if (m > spec.maxSpan()) {
            throw new IllegalArgumentException("span of " + m + " positions exceeds the engine's maximum span " + spec.maxSpan());
        }
        spanIsLong = m > learnSpan.rows;
        if (spanIsLong && longSpan == null) {
            longSpan = new SpanCache(spec.maxSpan(), 1, d, spec.fastHidden(), spec.midHidden());
        }
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        open();
        useSpan(m);
        SpanCache span = spanIsLong ? longSpan : learnSpan;
        float[] z = spanIsLong ? zf : zfSmall;
        System.arraycopy(x, 0, span.xf, 0, m * d);
        Ops.rmsnorm(x, m, d, normF, spec.eps(), z);
        blas.sgemm(false, true, m, v, d, 1f, z, head, 0f, span.logits);
        for (int t = 0; t < m; t++) {
            float c = 0f; // stays 0 unless the row holds a NaN or an infinity
            for (int i = t * v; i < (t + 1) * v; i++) {
                c += span.logits[i] - span.logits[i];
            }
            if (c != 0f) {
                // a non-finite prediction never reaches the caller (bits, the episodic mixer): uniform instead
                java.util.Arrays.fill(span.logits, t * v, (t + 1) * v, 0f);
                nonFinitePredictions++;
            }
        }
        System.arraycopy(span.logits, 0, logits, 0, m * v);
        if (spanIsLong) {
            learnSpan.copyHead(longSpan, 0, learnSpan.rows);
            tail.copyHead(longSpan, m - 1, 1);
        }
        spanRows = m;
    }

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        open();
        checkK("accumulate", k);
        accumulate(learnSpan, k, targets, off, l1, l2);
    }

    private void checkK(String op, int k) {
        if (k > spanRows || k > dl.length / v) {
            throw new IllegalArgumentException(op + " of " + k + " positions of a span of " + spanRows + " (at most " + dl.length / v
                    + " per call: one L1 chunk)");
        }
    }

    private void accumulate(SpanCache c, int k, byte[] targets, int off, boolean l1, boolean l2) {
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        // d CE / d logits = softmax - onehot
        for (int t = 0; t < k; t++) {
            Ops.softmax(c.logits, t * v, dl, t * v, v);
            dl[t * v + (targets[off + t] & 0xff)] -= 1f;
        }
        backward(c, k, l1, l2);
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        open();
        checkK("accumulateLogitGradient", k);
        if (dLogits.length < k * v) {
            throw new IllegalArgumentException("dLogits holds " + dLogits.length + " values, expected at least " + k * v);
        }
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        System.arraycopy(dLogits, 0, dl, 0, k * v);
        backward(learnSpan, k, l1, l2);
    }

    /**
     * From {@code dl} = d loss / d logits [k, V]: the teach signal {@code delta} at the head's input,
     * which every block's L1 receives (the residual stream carries it unchanged past the frozen
     * parts); L2 receives it back through its block's own L1 as well.
     */
    private void backward(SpanCache c, int k, boolean learn1, boolean learn2) {
        blas.sgemm(false, false, k, d, v, 1f, dl, head, 0f, dh0);
        Ops.rmsnormBackward(c.xf, k, d, normF, spec.eps(), dh0, delta);
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            l1[b].hiddenError(delta, k, c.a1[b], c.g1[b], ds1, da1);
            if (learn1 && !l1[b].accumulate(delta, da1, k, c.s1[b], c.z3[b])) {
                refused("L1 (gradient)", b);
            }
            if (learn2) {
                l1[b].inputError(da1, k, c.x3[b], dz3, d3);
                for (int i = 0; i < k * d; i++) {
                    d3[i] += delta[i];
                }
                l2[b].hiddenError(d3, k, c.a2[b], c.g2[b], ds2, da2);
                if (!l2[b].accumulate(d3, da2, k, c.s2[b], c.z2[b])) {
                    refused("L2 (gradient)", b);
                }
            }
        }
    }

    @Override
    public void holdPending() {
        open();
        if (spanIsLong) {
            pending.takeRow(tail, 0);
        } else {
            pending.takeRow(learnSpan, spanRows - 1);
        }
        hasPending = pending.finite();
        if (!hasPending) {
            nonFinitePredictions++; // its activations overflowed: it will not be learned from
        }
    }

    @Override
    public boolean hasPending() {
        return hasPending;
    }

    @Override
    public void accumulatePending(byte target, boolean l1, boolean l2) {
        open();
        if (!hasPending) {
            return;
        }
        accumulate(pending, 1, new byte[] {target}, 0, l1, l2);
        hasPending = false;
    }

    @Override
    public void dropPending() {
        hasPending = false;
    }

    @Override
    public void step(boolean learn1, boolean learn2) {
        open();
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            if (learn1 && !l1[b].step()) {
                refused("L1", b);
            }
            if (learn2 && !l2[b].step()) {
                refused("L2", b);
            }
        }
    }

    private void refused(String level, int b) {
        stepRollbacks++;
        LOG.log(System.Logger.Level.WARNING, "{0} of block {1}: the update was not finite and was not applied", level, b);
    }

    @Override
    public long rollbacks() {
        long n = stepRollbacks + nonFinitePredictions;
        for (MemoryLevel m : l0) {
            n += m.rollbacks();
        }
        return n;
    }

    @Override
    public void resetLevel(Level level) {
        open();
        for (int b = 0; b < nb; b++) {
            switch (level) {
                case L0 -> l0[b].reset();
                case L1 -> l1[b].reset();
                case L2 -> l2[b].reset();
                default -> throw new IllegalArgumentException("the engine holds L0, L1 and L2, not " + level);
            }
        }
    }

    @Override
    public Map<String, Tensor> exportState() {
        open();
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (StateLayout.Entry e : StateLayout.of(spec, hasPending)) {
            float[] data = switch (e.key()) {
                case "l0.w0" -> l0[e.block()].chunkStart();
                case "l0.wt" -> l0[e.block()].current();
                default -> e.key().startsWith("pending.") ? array(e).clone() : cms(e).copy(e.key().substring(3));
            };
            s.put(e.name(), new Tensor(e.name(), e.shape(), data));
        }
        return s;
    }

    @Override
    public void importState(Map<String, Tensor> s) {
        open();
        var layout = StateLayout.check(spec, s); // every tensor before anything changes
        for (StateLayout.Entry e : layout) {
            float[] data = s.get(e.name()).data();
            switch (e.key()) {
                case "l0.w0" -> l0[e.block()].set(data, s.get("blocks." + e.block() + ".l0.wt").data());
                case "l0.wt" -> { }
                default -> {
                    if (e.key().startsWith("pending.")) {
                        System.arraycopy(data, 0, array(e), 0, data.length);
                    } else {
                        cms(e).load(e.key().substring(3), data);
                    }
                }
            }
        }
        hasPending = StateLayout.hasPending(s);
        if (hasPending) {
            pending.refreshGates();
        }
    }

    /** The live array behind a pending state entry. */
    private float[] array(StateLayout.Entry e) {
        return pending.pending(e.key(), Math.max(e.block(), 0));
    }

    /** The CMS level behind a state entry other than L0's and the pending ones. */
    private CmsLevel cms(StateLayout.Entry e) {
        return (e.key().startsWith("l1.") ? l1 : l2)[e.block()];
    }

    @Override
    public void close() {
        closed = true;
    }
}
