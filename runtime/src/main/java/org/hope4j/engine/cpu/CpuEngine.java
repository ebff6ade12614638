package org.hope4j.engine.cpu;

import java.util.LinkedHashMap;
import java.util.Map;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;

/**
 * The CPU engine: plain Java for element-wise work and the memory recurrence, {@link Blas} (OpenBLAS
 * through JavaCPP, or a Java fallback) for matrix products. Mirrors model-export/hope_export/model.py
 * ({@code memory_chunk}, {@code _span}, {@code _accumulate}, {@code _apply_updates}) line by line.
 */
final class CpuEngine implements Engine {
    private static final int TYPES = 5; // k, v, memory, eta, alpha
    private static final int MEM_MEM = 2;

    private final EngineSpec spec;
    private final Blas blas;
    private final int d, nb, h, dh, r, f1, f2, v;
    private final int[] rowType;
    private final boolean[] plastic;
    private final float[] lr1, lr2;
    /** Decay to the prior of L1 and L2 per block (0: the plain Eq. 71 step). */
    private final float[] decay1, decay2;

    // L0: per block, per head [R, dh]
    private final float[][][] init, w0, wt;
    private final float[][] bEta, bAlpha; // per block [H * 5]
    // CMS: per block
    private final float[][] norm1, norm2, up1, down1, up2, down2, gUp1, gDown1, gUp2, gDown2;
    private final float[][] up1Init, down1Init, up2Init, down2Init;
    private final float[] normF, head;

    private final Cache learnSpan, longSpan, pending;
    private Cache span;
    private boolean hasPending;
    private boolean closed;

    // scratch
    private final float[] uh, qh, proj, kk, vv, vn, pred, tgt, err, ee, coef, kq, wdiff, p2, cum, memI, memD, decay;
    private final float[] dl, dh0, delta, ds1, da1, dz3, d3, ds2, da2, tmp, tmpSmall;

    /** What the error signal of a run of positions needs, kept from the forward pass. */
    private static final class Cache {
        final int rows;
        final float[][] x2, z2, a2, s2, x3, z3, a1, s1;
        /** sigmoid of a1 and a2, kept from the forward pass so the error signal needs no exp. */
        final float[][] g2, g1;
        final float[] xf, logits;

        Cache(int rows, int nb, int d, int f1, int f2) {
            this.rows = rows;
            x2 = new float[nb][rows * d];
            z2 = new float[nb][rows * d];
            a2 = new float[nb][rows * f2];
            s2 = new float[nb][rows * f2];
            x3 = new float[nb][rows * d];
            z3 = new float[nb][rows * d];
            a1 = new float[nb][rows * f1];
            s1 = new float[nb][rows * f1];
            g2 = new float[nb][rows * f2];
            g1 = new float[nb][rows * f1];
            xf = new float[rows * d];
            logits = new float[rows * EngineSpec.VOCAB];
        }
    }

    private int spanRows;

    CpuEngine(EngineSpec spec, Map<String, Tensor> plasticInit, Blas blas) {
        this.spec = spec;
        this.blas = blas;
        d = spec.dModel();
        nb = spec.nBlocks();
        h = spec.nHeads();
        dh = spec.headDim();
        r = spec.memRows();
        f1 = spec.fastHidden();
        f2 = spec.midHidden();
        v = EngineSpec.VOCAB;
        plastic = spec.plastic();
        lr1 = spec.lr1();
        lr2 = spec.lr2();
        decay1 = spec.decay1();
        decay2 = spec.decay2();
        rowType = new int[r];
        for (int i = 0; i < r; i++) {
            rowType[i] = i < 3 * dh ? i / dh : (i < 3 * dh + TYPES ? 3 : 4);
        }
        init = new float[nb][h][];
        w0 = new float[nb][h][];
        wt = new float[nb][h][];
        bEta = new float[nb][];
        bAlpha = new float[nb][];
        norm1 = new float[nb][];
        norm2 = new float[nb][];
        up1 = new float[nb][];
        down1 = new float[nb][];
        up2 = new float[nb][];
        down2 = new float[nb][];
        up1Init = new float[nb][];
        down1Init = new float[nb][];
        up2Init = new float[nb][];
        down2Init = new float[nb][];
        gUp1 = new float[nb][f1 * d];
        gDown1 = new float[nb][d * f1];
        gUp2 = new float[nb][f2 * d];
        gDown2 = new float[nb][d * f2];
        for (int b = 0; b < nb; b++) {
            float[] mem = take(plasticInit, "blocks." + b + ".l0.init", h * r * dh);
            for (int hh = 0; hh < h; hh++) {
                init[b][hh] = java.util.Arrays.copyOfRange(mem, hh * r * dh, (hh + 1) * r * dh);
                w0[b][hh] = init[b][hh].clone();
                wt[b][hh] = init[b][hh].clone();
            }
            bEta[b] = take(plasticInit, "blocks." + b + ".l0.b_eta", h * TYPES);
            bAlpha[b] = take(plasticInit, "blocks." + b + ".l0.b_alpha", h * TYPES);
            norm2[b] = take(plasticInit, "blocks." + b + ".l2.norm", d);
            up2Init[b] = take(plasticInit, "blocks." + b + ".l2.up", f2 * d);
            down2Init[b] = take(plasticInit, "blocks." + b + ".l2.down", d * f2);
            norm1[b] = take(plasticInit, "blocks." + b + ".l1.norm", d);
            up1Init[b] = take(plasticInit, "blocks." + b + ".l1.up", f1 * d);
            down1Init[b] = take(plasticInit, "blocks." + b + ".l1.down", d * f1);
            up1[b] = up1Init[b].clone();
            down1[b] = down1Init[b].clone();
            up2[b] = up2Init[b].clone();
            down2[b] = down2Init[b].clone();
        }
        normF = take(plasticInit, "head.norm", d);
        head = take(plasticInit, "head.weight", v * d);
        int rows = spec.maxSpan();
        learnSpan = new Cache(spec.c1(), nb, d, f1, f2);
        longSpan = new Cache(rows, nb, d, f1, f2);
        span = learnSpan;
        pending = new Cache(1, nb, d, f1, f2);
        int c1 = rows;
        // L0 scratch holds one piece (at most an L0 chunk): JavaCPP copies whole Java arrays in and
        // out of every native call, so native operands are sized to what a call uses
        int c0 = spec.c0();
        uh = new float[c0 * dh];
        qh = new float[c0 * dh];
        proj = new float[c0 * r];
        kk = new float[c0 * dh];
        vv = new float[c0 * dh];
        vn = new float[c0 * dh];
        pred = new float[c0 * r];
        tgt = new float[c0 * r];
        err = new float[c0 * r];
        ee = new float[c0 * TYPES];
        coef = new float[c0 * r];
        kq = new float[c0 * c0];
        wdiff = new float[r * dh];
        p2 = new float[c0 * dh];
        cum = new float[c0 * TYPES];
        memI = new float[dh * dh];
        memD = new float[dh * dh];
        decay = new float[TYPES];
        int k1 = spec.c1(); // gradients are taken over at most one L1 chunk
        dl = new float[k1 * v];
        dh0 = new float[k1 * d];
        delta = new float[k1 * d];
        ds1 = new float[k1 * f1];
        da1 = new float[k1 * f1];
        dz3 = new float[k1 * d];
        d3 = new float[k1 * d];
        ds2 = new float[k1 * f2];
        da2 = new float[k1 * f2];
        tmp = new float[c1 * d];
        tmpSmall = new float[k1 * d];
    }

    private static float[] take(Map<String, Tensor> t, String name, int size) {
        Tensor x = t.get(name);
        if (x == null) {
            throw new StateException("plastic tensor " + name + " is missing");
        }
        if (x.data().length != size) {
            throw new StateException("plastic tensor " + name + " has " + x.data().length + " values, expected " + size);
        }
        return x.data().clone();
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

    // ---------------------------------------------------------------------------------------------
    // L0: self-modifying Titans memories (HOPE-MODEL.md §2, Eqs. 86-97; chunk-wise semantics Eqs. 90-91)

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        open();
        int c0 = spec.c0();
        int start = 0;
        long p = pos;
        while (start < m) {
            int off = (int) (p % c0);
            int mm = Math.min(m - start, c0 - off);
            for (int hh = 0; hh < h; hh++) {
                memoryPiece(block, hh, q, u, start, mm, learn, o);
            }
            start += mm;
            p += mm;
            if (p % c0 == 0) {
                for (int hh = 0; hh < h; hh++) {
                    System.arraycopy(wt[block][hh], 0, w0[block][hh], 0, r * dh);
                }
            }
        }
    }

    /** Positions [start, start+mm) of one head, all inside one L0 chunk. */
    private void memoryPiece(int b, int hh, float[] q, float[] u, int start, int mm, boolean learn, float[] o) {
        float[] wT = wt[b][hh];
        int memOff = 2 * dh * dh;
        for (int s = 0; s < mm; s++) {
            int src = (start + s) * d + hh * dh;
            System.arraycopy(u, src, uh, s * dh, dh);
            System.arraycopy(q, src, qh, s * dh, dh);
        }
        if (!learn) {
            // o = M_memory q for every position (the memory does not change)
            System.arraycopy(wT, memOff, memD, 0, dh * dh);
            blas.sgemm(false, true, mm, dh, dh, 1f, qh, memD, 0f, p2);
            scatter(p2, mm, o, start, hh);
            return;
        }
        float[] wS = w0[b][hh];
        float[] wI = init[b][hh];
        float eta = spec.etaMax();
        // projections at the chunk-start state: P = U W0^T  [mm, R]
        blas.sgemm(false, true, mm, r, dh, 1f, uh, wS, 0f, proj);
        for (int s = 0; s < mm; s++) {
            int ps = s * r;
            // k = l2norm(M_k u), v = M_v u, vn = l2norm(v)
            l2norm(proj, ps, kk, s * dh, dh, spec.eps());
            System.arraycopy(proj, ps + dh, vv, s * dh, dh);
            l2norm(proj, ps + dh, vn, s * dh, dh, spec.eps());
            for (int j = 0; j < TYPES; j++) {
                ee[s * TYPES + j] = eta * sigmoid(proj[ps + 3 * dh + j] + bEta[b][hh * TYPES + j]);
                // cumulative log retention inside the piece (log sigmoid, stable)
                float za = proj[ps + 3 * dh + TYPES + j] + bAlpha[b][hh * TYPES + j];
                float logA = (float) -Math.log1p(Math.exp(-za));
                cum[s * TYPES + j] = (s == 0 ? 0f : cum[(s - 1) * TYPES + j]) + logA;
            }
        }
        // predictions and self-generated targets at the chunk-start state (Eq. 94-97)
        blas.sgemm(false, true, mm, r, dh, 1f, kk, wS, 0f, pred);
        blas.sgemm(false, true, mm, r, dh, 1f, vn, wS, 0f, tgt);
        for (int s = 0; s < mm; s++) {
            int ps = s * r;
            System.arraycopy(vv, s * dh, tgt, ps + 2 * dh, dh); // the main memory's target is v itself
            for (int i = 0; i < r; i++) {
                err[ps + i] = pred[ps + i] - tgt[ps + i];
            }
        }
        // DGD with retention towards the initial state, M_s = I + a_s (M_{s-1} - I) - e_s err_s k_s^T,
        // in closed form over the piece: A_s = prod_{r<=s} a_r (Titans' parallel form).
        int last = (mm - 1) * TYPES;
        for (int i = 0; i < r * dh; i++) {
            wdiff[i] = wT[i] - wI[i];
        }
        // reads, before the commit: o_s = I q_s + A_s (W_t - I) q_s - sum_{r<=s} (A_s / A_r) e_r (k_r . q_s) err_r
        System.arraycopy(wI, memOff, memI, 0, dh * dh);
        System.arraycopy(wdiff, memOff, memD, 0, dh * dh);
        blas.sgemm(false, true, mm, dh, dh, 1f, qh, memI, 0f, p2);
        blas.sgemm(false, true, mm, dh, dh, 1f, qh, memD, 0f, coef);
        blas.sgemm(false, true, mm, mm, dh, 1f, qh, kk, 0f, kq);
        for (int s = 0; s < mm; s++) {
            float as = (float) Math.exp(cum[s * TYPES + MEM_MEM]);
            for (int i = 0; i < dh; i++) {
                p2[s * dh + i] += as * coef[s * dh + i];
            }
            for (int rr = 0; rr <= s; rr++) {
                float w = (float) Math.exp(cum[s * TYPES + MEM_MEM] - cum[rr * TYPES + MEM_MEM]) * ee[rr * TYPES + MEM_MEM] * kq[s * mm + rr];
                int er = rr * r + 2 * dh;
                for (int i = 0; i < dh; i++) {
                    p2[s * dh + i] -= w * err[er + i];
                }
            }
        }
        scatter(p2, mm, o, start, hh);
        // commit: W = I + A_last (W_t - I) - sum_s (A_last / A_s) e_s err_s k_s^T
        for (int s = 0; s < mm; s++) {
            for (int ty = 0; ty < TYPES; ty++) {
                decay[ty] = (float) Math.exp(cum[last + ty] - cum[s * TYPES + ty]) * ee[s * TYPES + ty];
            }
            for (int i = 0; i < r; i++) {
                coef[s * r + i] = decay[rowType[i]] * err[s * r + i];
            }
        }
        for (int i = 0; i < r; i++) {
            float al = (float) Math.exp(cum[last + rowType[i]]);
            int row = i * dh;
            for (int j = 0; j < dh; j++) {
                wT[row + j] = wI[row + j] + al * wdiff[row + j];
            }
        }
        blas.sgemm(true, false, r, dh, mm, -1f, coef, kk, 1f, wT);
    }

    /** Writes head {@code hh}'s reads [mm, dh] into o [., D] at positions start... */
    private void scatter(float[] src, int mm, float[] o, int start, int hh) {
        for (int s = 0; s < mm; s++) {
            System.arraycopy(src, s * dh, o, (start + s) * d + hh * dh, dh);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // CMS levels L2 (mid) and L1 (fast): y = x + MLP(RMSNorm(x)) (Eq. 70)

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        open();
        if (block == 0) {
            useSpan(m);
        }
        spanRows = m;
        Cache c = span;
        System.arraycopy(x, 0, c.x2[block], 0, m * d);
        mlpForward(c.x2[block], m, norm2[block], up2[block], down2[block], f2, c.z2[block], c.a2[block], c.g2[block], c.s2[block], c.x3[block]);
        mlpForward(c.x3[block], m, norm1[block], up1[block], down1[block], f1, c.z3[block], c.a1[block], c.g1[block], c.s1[block], out);
    }

    /** Spans that fit an L1 chunk use exactly-sized buffers (JavaCPP copies whole arrays per native call). */
    private void useSpan(int m) {
        if (m > longSpan.rows) {
            throw new IllegalArgumentException("span of " + m + " positions exceeds the engine's maximum span " + longSpan.rows);
        }
        span = m <= learnSpan.rows ? learnSpan : longSpan;
    }

    private void mlpForward(float[] x, int m, float[] g, float[] up, float[] down, int f, float[] z, float[] a, float[] sg, float[] s,
            float[] out) {
        rmsnorm(x, m, g, z);
        blas.sgemm(false, true, m, f, d, 1f, z, up, 0f, a);
        for (int i = 0; i < m * f; i++) {
            sg[i] = sigmoid(a[i]);
            s[i] = a[i] * sg[i]; // silu
        }
        System.arraycopy(x, 0, out, 0, m * d);
        blas.sgemm(false, true, m, d, f, 1f, s, down, 1f, out);
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        open();
        useSpan(m);
        float[] zf = m <= learnSpan.rows ? tmpSmall : tmp;
        System.arraycopy(x, 0, span.xf, 0, m * d);
        rmsnorm(x, m, normF, zf);
        blas.sgemm(false, true, m, v, d, 1f, zf, head, 0f, span.logits);
        System.arraycopy(span.logits, 0, logits, 0, m * v);
        spanRows = m;
    }

    // ---------------------------------------------------------------------------------------------
    // error signal and update steps (HOPE-MODEL.md §1, Eq. 71; the residual teach signal)

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        open();
        if (k > spanRows || k > dl.length / v) {
            throw new IllegalArgumentException("accumulate " + k + " positions of a span of " + spanRows + " (at most " + dl.length / v
                    + " per call: one L1 chunk)");
        }
        accumulate(span, k, targets, off, l1, l2);
    }

    private void accumulate(Cache c, int k, byte[] targets, int off, boolean l1, boolean l2) {
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        // d CE / d logits = softmax - onehot
        for (int t = 0; t < k; t++) {
            softmax(c.logits, t * v, dl, t * v, v);
            dl[t * v + (targets[off + t] & 0xff)] -= 1f;
        }
        backward(c, k, l1, l2);
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        open();
        if (k > spanRows || k > dl.length / v) {
            throw new IllegalArgumentException("accumulateLogitGradient of " + k + " positions of a span of " + spanRows
                    + " (at most " + dl.length / v + " per call: one L1 chunk)");
        }
        if (dLogits.length < k * v) {
            throw new IllegalArgumentException("dLogits holds " + dLogits.length + " values, expected at least " + k * v);
        }
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        System.arraycopy(dLogits, 0, dl, 0, k * v);
        backward(span, k, l1, l2);
    }

    /** From {@code dl} = d loss / d logits [k, V]: delta = rmsnorm_backward(xf, normF, dl head), then into the levels. */
    private void backward(Cache c, int k, boolean l1, boolean l2) {
        blas.sgemm(false, false, k, d, v, 1f, dl, head, 0f, dh0);
        rmsnormBackward(c.xf, k, normF, dh0, delta);
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            // fast level L1: <delta, MLP1(z3)>
            blas.sgemm(false, false, k, f1, d, 1f, delta, down1[b], 0f, ds1);
            for (int i = 0; i < k * f1; i++) {
                da1[i] = ds1[i] * siluGrad(c.a1[b][i], c.g1[b][i]);
            }
            if (l1) {
                blas.sgemm(true, false, d, f1, k, 1f, delta, c.s1[b], 1f, gDown1[b]);
                blas.sgemm(true, false, f1, d, k, 1f, da1, c.z3[b], 1f, gUp1[b]);
            }
            if (l2) {
                // back through the block's own fast MLP (exact), then into the mid level L2
                blas.sgemm(false, false, k, d, f1, 1f, da1, up1[b], 0f, dz3);
                rmsnormBackward(c.x3[b], k, norm1[b], dz3, d3);
                for (int i = 0; i < k * d; i++) {
                    d3[i] += delta[i];
                }
                blas.sgemm(false, false, k, f2, d, 1f, d3, down2[b], 0f, ds2);
                for (int i = 0; i < k * f2; i++) {
                    da2[i] = ds2[i] * siluGrad(c.a2[b][i], c.g2[b][i]);
                }
                blas.sgemm(true, false, d, f2, k, 1f, d3, c.s2[b], 1f, gDown2[b]);
                blas.sgemm(true, false, f2, d, k, 1f, da2, c.z2[b], 1f, gUp2[b]);
            }
        }
    }

    @Override
    public void holdPending() {
        open();
        int last = spanRows - 1;
        Cache c = span;
        Cache p = pending;
        for (int b = 0; b < nb; b++) {
            System.arraycopy(c.x2[b], last * d, p.x2[b], 0, d);
            System.arraycopy(c.z2[b], last * d, p.z2[b], 0, d);
            System.arraycopy(c.a2[b], last * f2, p.a2[b], 0, f2);
            System.arraycopy(c.s2[b], last * f2, p.s2[b], 0, f2);
            System.arraycopy(c.x3[b], last * d, p.x3[b], 0, d);
            System.arraycopy(c.z3[b], last * d, p.z3[b], 0, d);
            System.arraycopy(c.a1[b], last * f1, p.a1[b], 0, f1);
            System.arraycopy(c.s1[b], last * f1, p.s1[b], 0, f1);
            System.arraycopy(c.g2[b], last * f2, p.g2[b], 0, f2);
            System.arraycopy(c.g1[b], last * f1, p.g1[b], 0, f1);
        }
        System.arraycopy(c.xf, last * d, p.xf, 0, d);
        System.arraycopy(c.logits, last * v, p.logits, 0, v);
        hasPending = true;
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
    public void step(boolean l1, boolean l2) {
        open();
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            // Eq. 71 with decay to the prior: theta <- theta - lambda (theta - theta0) - eta * sum of the chunk's
            // per-position gradients (taken at theta); theta0 = the bundle's initial value, kept for resetLevel too
            if (l1) {
                stepClear(up1[b], up1Init[b], gUp1[b], lr1[b], decay1[b]);
                stepClear(down1[b], down1Init[b], gDown1[b], lr1[b], decay1[b]);
            }
            if (l2) {
                stepClear(up2[b], up2Init[b], gUp2[b], lr2[b], decay2[b]);
                stepClear(down2[b], down2Init[b], gDown2[b], lr2[b], decay2[b]);
            }
        }
    }

    /**
     * {@code w <- w - lambda (w - w0) - lr g; g <- 0}, in model.py's order of operations; lambda = 0 is
     * the plain step {@code w -= lr g} exactly (no decay term is computed).
     */
    static void stepClear(float[] w, float[] w0, float[] g, float lr, float lambda) {
        if (lambda == 0f) {
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr * g[i];
                g[i] = 0f;
            }
            return;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = w[i] - lambda * (w[i] - w0[i]) - lr * g[i];
            g[i] = 0f;
        }
    }

    @Override
    public void resetLevel(String level) {
        open();
        for (int b = 0; b < nb; b++) {
            switch (level) {
                case "L0" -> {
                    for (int hh = 0; hh < h; hh++) {
                        System.arraycopy(init[b][hh], 0, w0[b][hh], 0, r * dh);
                        System.arraycopy(init[b][hh], 0, wt[b][hh], 0, r * dh);
                    }
                }
                case "L1" -> {
                    System.arraycopy(up1Init[b], 0, up1[b], 0, up1[b].length);
                    System.arraycopy(down1Init[b], 0, down1[b], 0, down1[b].length);
                    java.util.Arrays.fill(gUp1[b], 0f);
                    java.util.Arrays.fill(gDown1[b], 0f);
                }
                case "L2" -> {
                    System.arraycopy(up2Init[b], 0, up2[b], 0, up2[b].length);
                    System.arraycopy(down2Init[b], 0, down2[b], 0, down2[b].length);
                    java.util.Arrays.fill(gUp2[b], 0f);
                    java.util.Arrays.fill(gDown2[b], 0f);
                }
                default -> throw new IllegalArgumentException("level must be L0, L1 or L2, found " + level);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // state

    @Override
    public Map<String, Tensor> exportState() {
        open();
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (int b = 0; b < nb; b++) {
            String p = "blocks." + b + ".";
            s.put(p + "l0.w0", new Tensor(p + "l0.w0", new int[] {h, r, dh}, concat(w0[b])));
            s.put(p + "l0.wt", new Tensor(p + "l0.wt", new int[] {h, r, dh}, concat(wt[b])));
            put(s, p + "l1.up", new int[] {f1, d}, up1[b]);
            put(s, p + "l1.down", new int[] {d, f1}, down1[b]);
            put(s, p + "l2.up", new int[] {f2, d}, up2[b]);
            put(s, p + "l2.down", new int[] {d, f2}, down2[b]);
            put(s, p + "l1.g_up", new int[] {f1, d}, gUp1[b]);
            put(s, p + "l1.g_down", new int[] {d, f1}, gDown1[b]);
            put(s, p + "l2.g_up", new int[] {f2, d}, gUp2[b]);
            put(s, p + "l2.g_down", new int[] {d, f2}, gDown2[b]);
            if (hasPending) {
                String q = p + "pending.";
                put(s, q + "x2", new int[] {d}, pending.x2[b]);
                put(s, q + "z2", new int[] {d}, pending.z2[b]);
                put(s, q + "a2", new int[] {f2}, pending.a2[b]);
                put(s, q + "s2", new int[] {f2}, pending.s2[b]);
                put(s, q + "x3", new int[] {d}, pending.x3[b]);
                put(s, q + "z3", new int[] {d}, pending.z3[b]);
                put(s, q + "a1", new int[] {f1}, pending.a1[b]);
                put(s, q + "s1", new int[] {f1}, pending.s1[b]);
            }
        }
        if (hasPending) {
            put(s, "pending.xf", new int[] {d}, pending.xf);
            put(s, "pending.logits", new int[] {v}, pending.logits);
        }
        return s;
    }

    private static void put(Map<String, Tensor> s, String name, int[] shape, float[] data) {
        s.put(name, new Tensor(name, shape, data.clone()));
    }

    private float[] concat(float[][] perHead) {
        float[] out = new float[h * r * dh];
        for (int hh = 0; hh < h; hh++) {
            System.arraycopy(perHead[hh], 0, out, hh * r * dh, r * dh);
        }
        return out;
    }

    @Override
    public void importState(Map<String, Tensor> s) {
        open();
        for (int b = 0; b < nb; b++) {
            String p = "blocks." + b + ".";
            float[] a = take(s, p + "l0.w0", h * r * dh);
            float[] c = take(s, p + "l0.wt", h * r * dh);
            for (int hh = 0; hh < h; hh++) {
                System.arraycopy(a, hh * r * dh, w0[b][hh], 0, r * dh);
                System.arraycopy(c, hh * r * dh, wt[b][hh], 0, r * dh);
            }
            copy(s, p + "l1.up", up1[b]);
            copy(s, p + "l1.down", down1[b]);
            copy(s, p + "l2.up", up2[b]);
            copy(s, p + "l2.down", down2[b]);
            copy(s, p + "l1.g_up", gUp1[b]);
            copy(s, p + "l1.g_down", gDown1[b]);
            copy(s, p + "l2.g_up", gUp2[b]);
            copy(s, p + "l2.g_down", gDown2[b]);
        }
        hasPending = s.containsKey("pending.xf");
        if (hasPending) {
            for (int b = 0; b < nb; b++) {
                String q = "blocks." + b + ".pending.";
                copy(s, q + "x2", pending.x2[b]);
                copy(s, q + "z2", pending.z2[b]);
                copy(s, q + "a2", pending.a2[b]);
                copy(s, q + "s2", pending.s2[b]);
                copy(s, q + "x3", pending.x3[b]);
                copy(s, q + "z3", pending.z3[b]);
                copy(s, q + "a1", pending.a1[b]);
                copy(s, q + "s1", pending.s1[b]);
                for (int i = 0; i < f2; i++) {
                    pending.g2[b][i] = sigmoid(pending.a2[b][i]);
                }
                for (int i = 0; i < f1; i++) {
                    pending.g1[b][i] = sigmoid(pending.a1[b][i]);
                }
            }
            copy(s, "pending.xf", pending.xf);
            copy(s, "pending.logits", pending.logits);
        }
    }

    private static void copy(Map<String, Tensor> s, String name, float[] dst) {
        System.arraycopy(take(s, name, dst.length), 0, dst, 0, dst.length);
    }

    @Override
    public void close() {
        closed = true;
    }

    // ---------------------------------------------------------------------------------------------
    // element-wise pieces (model.py: rmsnorm, rmsnorm_backward, silu_grad, l2norm)

    private void rmsnorm(float[] x, int m, float[] g, float[] out) {
        float eps = spec.eps();
        for (int t = 0; t < m; t++) {
            int o = t * d;
            float ss = 0f;
            for (int i = 0; i < d; i++) {
                ss += x[o + i] * x[o + i];
            }
            float rr = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int i = 0; i < d; i++) {
                out[o + i] = x[o + i] * rr * g[i];
            }
        }
    }

    /** dx = r (g dy) - x r^3 mean(x g dy), r = (mean x^2 + eps)^-1/2. */
    private void rmsnormBackward(float[] x, int m, float[] g, float[] dy, float[] dx) {
        float eps = spec.eps();
        for (int t = 0; t < m; t++) {
            int o = t * d;
            float ss = 0f;
            float dot = 0f;
            for (int i = 0; i < d; i++) {
                ss += x[o + i] * x[o + i];
                dot += x[o + i] * g[i] * dy[o + i];
            }
            float rr = (float) (1.0 / Math.sqrt(ss / d + eps));
            float c = rr * rr * rr * dot / d;
            for (int i = 0; i < d; i++) {
                dx[o + i] = rr * g[i] * dy[o + i] - x[o + i] * c;
            }
        }
    }

    private static void l2norm(float[] x, int xo, float[] out, int oo, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += x[xo + i] * x[xo + i];
        }
        float rr = (float) (1.0 / Math.sqrt(ss + eps));
        for (int i = 0; i < n; i++) {
            out[oo + i] = x[xo + i] * rr;
        }
    }

    private static void softmax(float[] x, int xo, float[] out, int oo, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[xo + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - max);
            out[oo + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            out[oo + i] *= inv;
        }
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** d silu / dx at {@code x}, given {@code s = sigmoid(x)}. */
    static float siluGrad(float x, float s) {
        return s * (1f + x * (1f - s));
    }
}
