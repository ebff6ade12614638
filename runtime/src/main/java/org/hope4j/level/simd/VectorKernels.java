package org.hope4j.level.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.hope4j.level.Kernels;
import org.hope4j.level.Ops;

/**
 * {@link Kernels} on the incubating Vector API, at the processor's preferred width. Loaded by name only
 * when the module {@code jdk.incubator.vector} is present (see {@link Kernels#active()}). Whole vectors
 * first, then the tail with the same operations under a mask, so an element's value never depends on
 * where it sits; every operation is the scalar path's, in its order, so the bits are the scalar path's.
 * Not part of the API (its package is left out of the javadoc, which would need the incubating module).
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ROUND_BITS = Float.floatToRawIntBits(Ops.ROUND);

    /** The kernels at the preferred species; loaded by name from {@code Ops}. */
    public VectorKernels() {
    }

    @Override
    public void sigmoidSilu(float[] a, float[] g, float[] s, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            FloatVector sg = sigmoid(x);
            sg.intoArray(g, i);
            x.mul(sg).intoArray(s, i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector x = FloatVector.fromArray(S, a, i, m);
            FloatVector sg = sigmoid(x);
            sg.intoArray(g, i, m);
            x.mul(sg).intoArray(s, i, m);
        }
    }

    /** {@link Ops#sigmoidf} lane by lane. */
    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    /** {@link Ops#expf} lane by lane, the same operations in the same order (so the same bits). */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(-87f).min(88f);
        FloatVector t = c.mul(Ops.LOG2E).add(Ops.ROUND);
        FloatVector n = t.sub(Ops.ROUND);
        FloatVector r = c.sub(n.mul(Ops.LN2_HI));
        r = r.sub(n.mul(Ops.LN2_LO));
        FloatVector p = r.mul(Ops.P0).add(Ops.P1);
        p = p.mul(r).add(Ops.P2);
        p = p.mul(r).add(Ops.P3);
        p = p.mul(r).add(Ops.P4);
        p = p.mul(r).add(Ops.P5);
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        IntVector k = t.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector scale = k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(scale);
    }

    @Override
    public void siluBackward(float[] ds, float[] a, float[] g, float[] da, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector grad = siluGrad(FloatVector.fromArray(S, a, i), FloatVector.fromArray(S, g, i));
            FloatVector.fromArray(S, ds, i).mul(grad).intoArray(da, i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector grad = siluGrad(FloatVector.fromArray(S, a, i, m), FloatVector.fromArray(S, g, i, m));
            FloatVector.fromArray(S, ds, i, m).mul(grad).intoArray(da, i, m);
        }
    }

    /** {@code s (1 + x (1 - s))}: {@link Ops#siluGrad}'s operations in its order. */
    private static FloatVector siluGrad(FloatVector x, FloatVector s) {
        return s.mul(x.mul(s.neg().add(1f)).add(1f));
    }

    @Override
    public boolean finite(float[] a, int n) {
        FloatVector z = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            z = z.add(x.sub(x)); // 0 in every lane unless a value is NaN or infinite
        }
        if (i < n) {
            FloatVector x = FloatVector.fromArray(S, a, i, S.indexInRange(i, n)); // masked-off lanes read 0
            z = z.add(x.sub(x));
        }
        return z.reduceLanes(VectorOperators.ADD) == 0f;
    }

    @Override
    public boolean update(float[] w, float[] w0, float[] g, float lambda, float lr, float[] out, int n) {
        FloatVector z = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector o = next(FloatVector.fromArray(S, w, i), lambda == 0f ? null : FloatVector.fromArray(S, w0, i),
                    FloatVector.fromArray(S, g, i), lambda, lr);
            o.intoArray(out, i);
            z = z.add(o.sub(o));
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector o = next(FloatVector.fromArray(S, w, i, m), lambda == 0f ? null : FloatVector.fromArray(S, w0, i, m),
                    FloatVector.fromArray(S, g, i, m), lambda, lr);
            o.intoArray(out, i, m);
            z = z.add(o.sub(o));
        }
        return z.reduceLanes(VectorOperators.ADD) == 0f;
    }

    @Override
    public void gemv(float[] x, int xo, int k, float[] w, int n, float[] out, int oo) {
        final int l = S.length();
        int j = 0;
        for (; j + 4 * l <= n; j += 4 * l) { // four vectors of the output held in registers through all of k
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < k; i++) {
                FloatVector xi = FloatVector.broadcast(S, x[xo + i]);
                int r = i * n + j;
                a0 = FloatVector.fromArray(S, w, r).fma(xi, a0);
                a1 = FloatVector.fromArray(S, w, r + l).fma(xi, a1);
                a2 = FloatVector.fromArray(S, w, r + 2 * l).fma(xi, a2);
                a3 = FloatVector.fromArray(S, w, r + 3 * l).fma(xi, a3);
            }
            a0.intoArray(out, oo + j);
            a1.intoArray(out, oo + j + l);
            a2.intoArray(out, oo + j + 2 * l);
            a3.intoArray(out, oo + j + 3 * l);
        }
        for (; j + l <= n; j += l) {
            FloatVector a0 = FloatVector.zero(S);
            for (int i = 0; i < k; i++) {
                a0 = FloatVector.fromArray(S, w, i * n + j).fma(FloatVector.broadcast(S, x[xo + i]), a0);
            }
            a0.intoArray(out, oo + j);
        }
        for (; j < n; j++) {
            float a = 0f;
            for (int i = 0; i < k; i++) {
                a += x[xo + i] * w[i * n + j];
            }
            out[oo + j] = a;
        }
    }

    @Override
    public void gemvT(float[] x, int xo, int k, float[] w, int n, float[] out, int oo) {
        final int l = S.length();
        final int end = S.loopBound(k);
        for (int j = 0; j < n; j++) {
            int r = j * k;
            FloatVector a = FloatVector.zero(S);
            int i = 0;
            for (; i < end; i += l) {
                a = FloatVector.fromArray(S, w, r + i).fma(FloatVector.fromArray(S, x, xo + i), a);
            }
            float sum = a.reduceLanes(VectorOperators.ADD);
            for (; i < k; i++) {
                sum += x[xo + i] * w[r + i];
            }
            out[oo + j] = sum;
        }
    }

    /** {@code w - lambda (w - w0) - lr g}, or {@code w - lr g} when {@code w0} is null (lambda 0). */
    private static FloatVector next(FloatVector w, FloatVector w0, FloatVector g, float lambda, float lr) {
        FloatVector step = g.mul(lr);
        return w0 == null ? w.sub(step) : w.sub(w.sub(w0).mul(lambda)).sub(step);
    }

    /** Four lanes: partial sums 0-3 in one vector, 4-7 in another (on every platform, NEON included). */
    private static final VectorSpecies<Float> S4 = FloatVector.SPECIES_128;

    @Override
    public float sumSquares(float[] x, int xo, int n) {
        FloatVector a = FloatVector.zero(S4);
        FloatVector b = a;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            FloatVector u = FloatVector.fromArray(S4, x, xo + i);
            FloatVector v = FloatVector.fromArray(S4, x, xo + i + 4);
            a = a.add(u.mul(u)); // a multiply then an add, each rounded, as the scalar s += x * x
            b = b.add(v.mul(v));
        }
        return Ops.sumSquaresTail(x, xo, i, n, a.lane(0), a.lane(1), a.lane(2), a.lane(3), b.lane(0), b.lane(1), b.lane(2), b.lane(3));
    }

    @Override
    public String describe() {
        return "Vector API, " + S.length() + " float lanes";
    }
}
