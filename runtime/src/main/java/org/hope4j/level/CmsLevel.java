package org.hope4j.level;

import java.util.Arrays;

/**
 * One CMS level (L1 fast or L2 mid) of one block: {@code y = x + down silu(up RMSNorm(x))} (Eq. 70),
 * with its gradient sums and its update step (Eq. 71 with the decay to the prior of dynamic
 * evaluation). The level only updates at its period: {@link #accumulate} sums the gradients of the
 * positions of a chunk, taken at the level's current value; {@link #step} applies them.
 *
 * <p>Mirrors model.py's {@code cms_forward}, {@code _accumulate} and {@code _apply_updates}. The
 * caller keeps the forward activations a span's error signal needs. Not thread-safe.
 */
public final class CmsLevel {
    private final Blas blas;
    private final int d, f;
    private final float eps, lr, lambda;
    private final float[] norm;
    /** The pretrained weights [f, d] and [d, f] (the prior). */
    private final float[] upInit, downInit;
    /**
     * The weights: the prior's own arrays until a step or a load changes them (a level that never learns, such as an
     * anchor's or a frozen teacher's, holds no copy), then arrays of their own.
     */
    private float[] up, down;
    /** The gradient sums: made at the first {@link #accumulate} or {@link #step} (null: all zero). */
    private float[] gUp, gDown;
    /** The next values, checked before they replace the weights: made at the first {@link #step}, then swapped with them. */
    private float[] nextUp, nextDown;

    /**
     * A level at its pretrained value, with empty gradient sums.
     *
     * @param blas the matrix products' implementation
     * @param dModel the model width D: rows of {@code x}, {@code z} and {@code out}
     * @param hidden the level's hidden width F
     * @param eps the RMSNorm's epsilon
     * @param lr the level's learning rate (0: the gradient sums have no effect)
     * @param lambda its decay to the prior, the share of {@code w - w0} removed per step (0: the plain step)
     * @param norm the RMSNorm's gain [D]; kept, not copied
     * @param up the pretrained up projection [F, D]; the level works on a copy and keeps this array as its prior, so the
     *     caller must not change it afterwards
     * @param down the pretrained down projection [D, F]; copied and kept as {@code up} is
     */
    public CmsLevel(Blas blas, int dModel, int hidden, float eps, float lr, float lambda, float[] norm, float[] up, float[] down) {
        this.blas = blas;
        d = dModel;
        f = hidden;
        this.eps = eps;
        this.lr = lr;
        this.lambda = lambda;
        this.norm = norm;
        upInit = up;
        downInit = down;
        this.up = up;
        this.down = down;
    }

    /** The gradient sums, made (zero) if they are not yet. */
    private void sums() {
        if (gUp == null) {
            gUp = new float[f * d];
            gDown = new float[d * f];
        }
    }

    /** The weights as arrays of their own, ready to be written. */
    private void own() {
        if (up == upInit) {
            up = upInit.clone();
        }
        if (down == downInit) {
            down = downInit.clone();
        }
    }

    /**
     * Hidden width.
     *
     * @return F, the width of the activations {@code a}, {@code g} and {@code s}
     */
    public int hidden() {
        return f;
    }

    /**
     * {@code out = x + down silu(up z)}, {@code z = RMSNorm(x)} over {@code m} rows, keeping the
     * normalised input {@code z} [m, d], the pre-activation {@code a}, its sigmoid {@code g} and the
     * activation {@code s} [m, f] for the error signal.
     *
     * @param x the level's input [m, D], from index 0; not changed
     * @param m number of positions (rows)
     * @param z receives the normalised input [m, D]
     * @param a receives the hidden pre-activation {@code up z} [m, F]
     * @param g receives {@code sigmoid(a)} [m, F]
     * @param s receives the activation {@code silu(a) = a g} [m, F]
     * @param out receives the output {@code x + down s} [m, D]; may be {@code x} itself
     */
    public void forward(float[] x, int m, float[] z, float[] a, float[] g, float[] s, float[] out) {
        Ops.rmsnorm(x, m, d, norm, eps, z);
        blas.sgemm(false, true, m, f, d, 1f, z, up, 0f, a);
        Ops.KERNELS.sigmoidSilu(a, g, s, m * f);
        System.arraycopy(x, 0, out, 0, m * d);
        blas.sgemm(false, true, m, d, f, 1f, s, down, 1f, out);
    }

    /**
     * The error at the hidden pre-activation: {@code da = (dy down) * silu'(a)} [k, f], through {@code ds}.
     *
     * @param dy the error at the level's output [k, D]
     * @param k number of positions (rows)
     * @param a the hidden pre-activation {@link #forward} kept [k, F]
     * @param g its sigmoid, as {@link #forward} kept it [k, F]
     * @param ds scratch: receives {@code dy down}, the error at the activation [k, F]
     * @param da receives the error at the pre-activation [k, F]; may be {@code ds} itself
     */
    public void hiddenError(float[] dy, int k, float[] a, float[] g, float[] ds, float[] da) {
        blas.sgemm(false, false, k, f, d, 1f, dy, down, 0f, ds);
        Ops.KERNELS.siluBackward(ds, a, g, da, k * f);
    }

    /**
     * Adds the gradients of {@code k} positions to the sums: {@code gDown += dy^T s}, {@code gUp += da^T z}.
     * Sums that turn non-finite are dropped (back to their chunk-start value, 0) and this returns false.
     *
     * @param dy the error at the level's output [k, D]
     * @param da the error at the hidden pre-activation [k, F], from {@link #hiddenError}
     * @param k number of positions (rows)
     * @param s the activation {@link #forward} kept [k, F]
     * @param z the normalised input {@link #forward} kept [k, D]
     * @return true if both sums are still finite; false if they were not and were cleared
     */
    public boolean accumulate(float[] dy, float[] da, int k, float[] s, float[] z) {
        sums();
        blas.sgemm(true, false, d, f, k, 1f, dy, s, 1f, gDown);
        blas.sgemm(true, false, f, d, k, 1f, da, z, 1f, gUp);
        if (finite(gDown) && finite(gUp)) {
            return true;
        }
        Arrays.fill(gUp, 0f);
        Arrays.fill(gDown, 0f);
        return false;
    }

    private static boolean finite(float[] a) {
        return Ops.KERNELS.finite(a, a.length);
    }

    /**
     * The error at the level's input through the MLP branch (the caller adds the residual):
     * {@code dx = RMSNorm'(x)(da up)}, through {@code dz} [k, d].
     *
     * @param da the error at the hidden pre-activation [k, F], from {@link #hiddenError}
     * @param k number of positions (rows)
     * @param x the level's input [k, D], as given to {@link #forward}
     * @param dz scratch: receives {@code da up}, the error at the normalised input [k, D]
     * @param dx receives the error at the input through the MLP branch [k, D]; may be {@code dz} itself
     */
    public void inputError(float[] da, int k, float[] x, float[] dz, float[] dx) {
        blas.sgemm(false, false, k, d, f, 1f, da, up, 0f, dz);
        Ops.rmsnormBackward(x, k, d, norm, eps, dz, dx);
    }

    /**
     * Eq. 71 with decay to the prior: {@code w <- w - lambda (w - w0) - lr g}, then clears the sums. An
     * update that would leave a non-finite value (an overflowing rate, a poisoned gradient) is not
     * applied: the level keeps its value (the chunk-start value) and this returns false.
     *
     * @return true if the update was applied; false if it was dropped (the sums are cleared either way)
     */
    public boolean step() {
        sums();
        if (nextUp == null) {
            nextUp = new float[f * d];
            nextDown = new float[d * f];
        }
        boolean finite = next(up, upInit, gUp, nextUp) & next(down, downInit, gDown, nextDown);
        if (finite) { // the next values become the weights; the weights' arrays, unless they are the prior's, the next ones
            float[] u = up;
            float[] w = down;
            up = nextUp;
            down = nextDown;
            nextUp = u == upInit ? new float[f * d] : u;
            nextDown = w == downInit ? new float[d * f] : w;
        }
        Arrays.fill(gUp, 0f);
        Arrays.fill(gDown, 0f);
        return finite;
    }

    /**
     * {@code out = w - lambda (w - w0) - lr g} in model.py's order of operations (lambda = 0: exactly
     * {@code w - lr g}, no decay term computed); whether every value is finite.
     */
    private boolean next(float[] w, float[] w0, float[] g, float[] out) {
        return Ops.KERNELS.update(w, w0, g, lambda, lr, out, w.length);
    }

    /** Back to the pretrained weights (the prior's arrays again, no copy held), sums cleared. */
    public void reset() {
        up = upInit;
        down = downInit;
        if (gUp != null) {
            Arrays.fill(gUp, 0f);
            Arrays.fill(gDown, 0f);
        }
    }

    /**
     * A copy of one of the level's tensors by state name.
     *
     * @param name {@code up} ([F, D]), {@code down} ([D, F]), {@code g_up} ([F, D]) or {@code g_down} ([D, F])
     * @return a fresh array (the sums' are zero where none were taken)
     * @throws IllegalArgumentException if {@code name} is none of the four
     */
    public float[] copy(String name) {
        float[] a = switch (name) {
            case "up" -> up;
            case "down" -> down;
            case "g_up" -> gUp;
            case "g_down" -> gDown;
            default -> throw new IllegalArgumentException("a CMS level holds up, down, g_up and g_down, not " + name);
        };
        return a == null ? new float[f * d] : a.clone();
    }

    /**
     * Sets one of the level's tensors by state name. Zero sums into a level that holds none keep it holding none.
     *
     * @param name {@code up}, {@code down}, {@code g_up} or {@code g_down}
     * @param data the values, {@code F * D} of them; copied
     * @throws IllegalArgumentException if {@code name} is none of the four or {@code data} has another length
     */
    public void load(String name, float[] data) {
        if (data.length != f * d) {
            throw new IllegalArgumentException("a CMS level's " + name + " holds " + f * d + " values, not " + data.length);
        }
        float[] to;
        switch (name) {
            case "up", "down" -> {
                boolean isUp = name.equals("up");
                if ((isUp ? up == upInit : down == downInit) && Arrays.equals(data, isUp ? upInit : downInit)) {
                    return; // the prior's values: the level keeps sharing the prior's array
                }
                own();
                to = isUp ? up : down;
            }
            case "g_up", "g_down" -> {
                if (gUp == null && allZero(data)) {
                    return;
                }
                sums();
                to = name.equals("g_up") ? gUp : gDown;
            }
            default -> throw new IllegalArgumentException("a CMS level holds up, down, g_up and g_down, not " + name);
        }
        System.arraycopy(data, 0, to, 0, data.length);
    }

    private static boolean allZero(float[] a) {
        for (float x : a) {
            if (x != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Which arrays the level holds beyond its prior, for memory accounting and tests.
     *
     * @return whether it holds weights of its own (it stepped or was loaded since it was made or reset) and gradient sums
     */
    public boolean[] holds() {
        return new boolean[] {up != upInit || down != downInit, gUp != null};
    }
}
