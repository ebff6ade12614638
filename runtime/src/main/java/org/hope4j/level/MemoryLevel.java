package org.hope4j.level;

import java.util.Arrays;

/**
 * L0 of one block: the self-modifying Titans memories of its heads (HOPE-MODEL.md §2, Eqs. 86-97),
 * chunk-wise (Eqs. 90-91). Each head holds one matrix of {@code R = 3 dh + 10} rows: the key, value
 * and main memories ({@code dh} rows each) and the rate and retention projections (5 rows each). A
 * chunk of {@code c0} positions reads the memory as it stood at the chunk start ({@code w0}) plus the
 * closed-form effect of the chunk's own writes so far; the chunk end commits {@code wt}.
 *
 * <p>Mirrors model.py's {@code memory_chunk} line by line. A write that leaves a non-finite value is
 * rolled back to the chunk-start value and counted ({@link #rollbacks}). Not thread-safe.
 */
public final class MemoryLevel {
    /** Memory types of a head: key, value, main memory, rate (eta), retention (alpha). */
    static final int TYPES = 5;
    private static final int MEM = 2;

    private static final System.Logger LOG = System.getLogger(MemoryLevel.class.getName());
    private final Blas blas;
    private long rollbacks;
    private final int d, h, dh, r, c0;
    private final float etaMax, eps;
    private final int[] rowType;
    /** Per head [R, dh]: the pretrained value, the value at the chunk start, the current value. */
    private final float[][] init, w0, wt;
    /** Per head and type: the biases of the rate and the retention gates [H * 5]. */
    private final float[] bEta, bAlpha;
    // scratch of one piece (at most one chunk)
    private final float[] uh, qh, proj, kk, vv, vn, pred, tgt, err, ee, coef, kq, wdiff, p2, cum, memI, memD, decay;

    /**
     * A level at its pretrained memories.
     *
     * @param blas the matrix products' implementation
     * @param dModel the model width D, a positive multiple of {@code heads}; {@code dh = D / heads}
     * @param heads number of heads H
     * @param chunk the chunk length {@code c0} in positions: the state is committed every {@code c0} stream positions
     * @param etaMax the largest inner learning rate: each rate is {@code etaMax * sigmoid(.)}
     * @param eps the l2 norm's epsilon for the keys and values
     * @param mem the pretrained memories [H, R, dh] (flat); copied
     * @param bEta the biases of the rate gates [H, 5] (one per head and memory type); kept, not copied
     * @param bAlpha the biases of the retention gates [H, 5]; kept, not copied
     * @throws IllegalArgumentException if {@code heads} or {@code chunk} is not positive, {@code dModel} is not a
     *     positive multiple of {@code heads}, or an array's length is not the one its shape gives
     */
    public MemoryLevel(Blas blas, int dModel, int heads, int chunk, float etaMax, float eps, float[] mem, float[] bEta, float[] bAlpha) {
        if (heads <= 0 || chunk <= 0 || dModel <= 0 || dModel % heads != 0) {
            throw new IllegalArgumentException("a memory level needs heads > 0, chunk > 0 and dModel a positive multiple of heads, found dModel "
                    + dModel + ", heads " + heads + ", chunk " + chunk);
        }
        int rows = 3 * (dModel / heads) + 2 * TYPES;
        checkLength("mem", mem, (long) heads * rows * (dModel / heads));
        checkLength("bEta", bEta, (long) heads * TYPES);
        checkLength("bAlpha", bAlpha, (long) heads * TYPES);
        this.blas = blas;
        d = dModel;
        h = heads;
        dh = d / h;
        r = 3 * dh + 2 * TYPES;
        c0 = chunk;
        this.etaMax = etaMax;
        this.eps = eps;
        this.bEta = bEta;
        this.bAlpha = bAlpha;
        rowType = new int[r];
        for (int i = 0; i < r; i++) {
            rowType[i] = i < 3 * dh ? i / dh : (i < 3 * dh + TYPES ? 3 : 4);
        }
        init = new float[h][];
        w0 = new float[h][];
        wt = new float[h][];
        for (int hh = 0; hh < h; hh++) {
            init[hh] = Arrays.copyOfRange(mem, hh * r * dh, (hh + 1) * r * dh);
            w0[hh] = init[hh].clone();
            wt[hh] = init[hh].clone();
        }
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
    }

    /**
     * Rows of one head's memory matrix.
     *
     * @return {@code R = 3 dh + 10}
     */
    public int rows() {
        return r;
    }

    /**
     * Reads {@code m} positions starting at stream position {@code pos}: {@code q}, {@code u} [m, D]
     * in, the reads {@code o} [m, D] out. When {@code learn}, every position also writes, and the state
     * is committed at each chunk end; otherwise the memory only reads ({@code o = M_memory q}).
     *
     * @param q the queries [m, D] (head {@code hh} in columns {@code hh dh .. (hh+1) dh}), from index 0
     * @param u the inputs the keys, values and gates are projected from [m, D], from index 0
     * @param m number of positions (rows)
     * @param pos stream position of the first row (0 or more); {@code pos % c0} places the chunk ends
     * @param learn whether every position also writes to the memories (false: they only read the current memories)
     * @param o receives the reads [m, D], from index 0
     */
    public void read(float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        int start = 0;
        long p = pos;
        while (start < m) {
            int mm = Math.min(m - start, c0 - (int) (p % c0));
            for (int hh = 0; hh < h; hh++) {
                piece(hh, q, u, start, mm, learn, o);
            }
            start += mm;
            p += mm;
            if (p % c0 == 0) {
                for (int hh = 0; hh < h; hh++) {
                    System.arraycopy(wt[hh], 0, w0[hh], 0, r * dh);
                }
            }
        }
    }

    /** Positions [start, start+mm) of head {@code hh}, all inside one chunk. */
    private void piece(int hh, float[] q, float[] u, int start, int mm, boolean learn, float[] o) {
        float[] wT = wt[hh];
        int memOff = 2 * dh * dh;
        for (int s = 0; s < mm; s++) {
            int src = (start + s) * d + hh * dh;
            System.arraycopy(u, src, uh, s * dh, dh);
            System.arraycopy(q, src, qh, s * dh, dh);
        }
        if (!learn) {
            System.arraycopy(wT, memOff, memD, 0, dh * dh);
            blas.sgemm(false, true, mm, dh, dh, 1f, qh, memD, 0f, p2);
            scatter(p2, mm, o, start, hh);
            return;
        }
        float[] wS = w0[hh];
        float[] wI = init[hh];
        // projections at the chunk-start state: P = U W0^T  [mm, R]
        blas.sgemm(false, true, mm, r, dh, 1f, uh, wS, 0f, proj);
        for (int s = 0; s < mm; s++) {
            int ps = s * r;
            // k = l2norm(M_k u), v = M_v u, vn = l2norm(v)
            Ops.l2norm(proj, ps, kk, s * dh, dh, eps);
            System.arraycopy(proj, ps + dh, vv, s * dh, dh);
            Ops.l2norm(proj, ps + dh, vn, s * dh, dh, eps);
            for (int j = 0; j < TYPES; j++) {
                ee[s * TYPES + j] = etaMax * Ops.sigmoid(proj[ps + 3 * dh + j] + bEta[hh * TYPES + j]);
                // cumulative log retention inside the piece (log sigmoid, stable)
                float za = proj[ps + 3 * dh + TYPES + j] + bAlpha[hh * TYPES + j];
                float logA = (float) -Math.log1p(Math.exp(-za));
                cum[s * TYPES + j] = (s == 0 ? 0f : cum[(s - 1) * TYPES + j]) + logA;
            }
        }
        // predictions and self-generated targets at the chunk-start state (Eqs. 94-97)
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
        // in closed form over the piece: A_s = prod_{r<=s} a_r (Titans' parallel form)
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
            float as = (float) Math.exp(cum[s * TYPES + MEM]);
            for (int i = 0; i < dh; i++) {
                p2[s * dh + i] += as * coef[s * dh + i];
            }
            for (int rr = 0; rr <= s; rr++) {
                float w = (float) Math.exp(cum[s * TYPES + MEM] - cum[rr * TYPES + MEM]) * ee[rr * TYPES + MEM] * kq[s * mm + rr];
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
        if (!Ops.KERNELS.finite(wT, r * dh)) {
            // a non-finite write (an overflowing rate): the head goes back to its chunk-start value
            System.arraycopy(w0[hh], 0, wT, 0, r * dh);
            rollbacks++;
            LOG.log(System.Logger.Level.WARNING, "L0: a memory update was not finite and was rolled back to the chunk start");
        }
    }

    /**
     * Updates rolled back because they were not finite, since this level was made.
     *
     * @return the number of head-pieces whose write was rolled back (not cleared by {@link #reset})
     */
    public long rollbacks() {
        return rollbacks;
    }

    /** Writes head {@code hh}'s reads [mm, dh] into o [., D] at positions start... */
    private void scatter(float[] src, int mm, float[] o, int start, int hh) {
        for (int s = 0; s < mm; s++) {
            System.arraycopy(src, s * dh, o, (start + s) * d + hh * dh, dh);
        }
    }

    /** Back to the pretrained memories. */
    public void reset() {
        for (int hh = 0; hh < h; hh++) {
            System.arraycopy(init[hh], 0, w0[hh], 0, r * dh);
            System.arraycopy(init[hh], 0, wt[hh], 0, r * dh);
        }
    }

    /**
     * The chunk-start memories [H, R, dh] (a copy).
     *
     * @return a new flat array of {@code H * R * dh} values: the state the current chunk's projections use
     */
    public float[] chunkStart() {
        return concat(w0);
    }

    /**
     * The current memories [H, R, dh] (a copy).
     *
     * @return a new flat array of {@code H * R * dh} values: the state with the current chunk's writes so far
     */
    public float[] current() {
        return concat(wt);
    }

    /**
     * Replaces the chunk-start and current memories, each [H, R, dh].
     *
     * @param chunkStart the new chunk-start memories, {@code H * R * dh} values (as {@link #chunkStart()} returns them); copied
     * @param current the new current memories, {@code H * R * dh} values (as {@link #current()} returns them); copied
     */
    public void set(float[] chunkStart, float[] current) {
        for (int hh = 0; hh < h; hh++) {
            System.arraycopy(chunkStart, hh * r * dh, w0[hh], 0, r * dh);
            System.arraycopy(current, hh * r * dh, wt[hh], 0, r * dh);
        }
    }

    private float[] concat(float[][] perHead) {
        float[] out = new float[h * r * dh];
        for (int hh = 0; hh < h; hh++) {
            System.arraycopy(perHead[hh], 0, out, hh * r * dh, r * dh);
        }
        return out;
    }

    private static void checkLength(String name, float[] a, long want) {
        if (a == null || a.length != want) {
            throw new IllegalArgumentException("a memory level's " + name + " must hold " + want + " values, found "
                    + (a == null ? "null" : Integer.toString(a.length)));
        }
    }
}
