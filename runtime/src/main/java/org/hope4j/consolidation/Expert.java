package org.hope4j.consolidation;

/**
 * One masked low-rank expert of L2 (HOPE-MODEL.md §3): in every plastic block it changes L2's
 * matrices by {@code ΔUp = P Q} ([F2, r] [r, D]) and {@code ΔDown = U V} ([D, r] [r, F2]). Switched
 * on, the level computes {@code (Down + ΔDown) SiLU((Up + ΔUp) RMSNorm(x))}; the change is exact to
 * fold into L2 or to take back out. Arrays are indexed by block; blocks that do not learn hold
 * zeros. Mutable: sleep trains it in place.
 */
public final class Expert {
    final int nb, d, f2, rank;
    final float[][] u, v, p, q;

    Expert(int nb, int d, int f2, int rank) {
        this.nb = nb;
        this.d = d;
        this.f2 = f2;
        this.rank = rank;
        u = new float[nb][d * rank];
        v = new float[nb][rank * f2];
        p = new float[nb][f2 * rank];
        q = new float[nb][rank * d];
    }

    /**
     * A new expert that changes nothing yet: {@code U = P = 0}, {@code V} and {@code Q} uniform in
     * ±1/sqrt(fan-in) from {@code rng}, drawn block by block, V before Q, row-major.
     */
    static Expert fresh(int nb, int d, int f2, int rank, boolean[] plastic, SplitMix64 rng) {
        Expert e = new Expert(nb, d, f2, rank);
        double av = 1 / Math.sqrt(f2);
        double aq = 1 / Math.sqrt(d);
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            for (int i = 0; i < e.v[b].length; i++) {
                e.v[b][i] = (float) ((2 * rng.nextDouble() - 1) * av);
            }
            for (int i = 0; i < e.q[b].length; i++) {
                e.q[b][i] = (float) ((2 * rng.nextDouble() - 1) * aq);
            }
        }
        return e;
    }

    Expert copy() {
        Expert e = new Expert(nb, d, f2, rank);
        for (int b = 0; b < nb; b++) {
            System.arraycopy(u[b], 0, e.u[b], 0, u[b].length);
            System.arraycopy(v[b], 0, e.v[b], 0, v[b].length);
            System.arraycopy(p[b], 0, e.p[b], 0, p[b].length);
            System.arraycopy(q[b], 0, e.q[b], 0, q[b].length);
        }
        return e;
    }

    /** Overwrites this expert's factors with {@code o}'s (same shapes). */
    void copyFrom(Expert o) {
        for (int b = 0; b < nb; b++) {
            System.arraycopy(o.u[b], 0, u[b], 0, u[b].length);
            System.arraycopy(o.v[b], 0, v[b], 0, v[b].length);
            System.arraycopy(o.p[b], 0, p[b], 0, p[b].length);
            System.arraycopy(o.q[b], 0, q[b], 0, q[b].length);
        }
    }

    /** {@code up += sign * P Q} and {@code down += sign * U V} of block {@code b}. */
    void addTo(int b, float[] up, float[] down, float sign) {
        lowRankAdd(p[b], q[b], f2, rank, d, up, sign);
        lowRankAdd(u[b], v[b], d, rank, f2, down, sign);
    }

    /** out[m, n] += sign * a[m, k] b[k, n]. */
    static void lowRankAdd(float[] a, float[] bm, int m, int k, int n, float[] out, float sign) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                float x = sign * a[i * k + j];
                if (x == 0f) {
                    continue;
                }
                int bo = j * n;
                int oo = i * n;
                for (int c = 0; c < n; c++) {
                    out[oo + c] += x * bm[bo + c];
                }
            }
        }
    }

    /** Whether every value is finite. */
    boolean finite() {
        for (float[][] t : new float[][][] {u, v, p, q}) {
            for (float[] a : t) {
                for (float x : a) {
                    if (!Float.isFinite(x)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }
}
