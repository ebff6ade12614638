package org.hope4j.level;

/**
 * The element-wise loops the CPU engine runs most (a quarter of its time in plain loops): the CMS
 * levels' activation and its gradient, the finiteness checks and the weight update. Two
 * implementations: {@link #SCALAR}, plain Java, and {@code org.hope4j.level.simd.VectorKernels}, the incubating Vector API
 * (JDK 17+, taken when the JVM runs with {@code --add-modules jdk.incubator.vector}, as the
 * {@code hope4j} launcher and the build's tests do). {@link #active()} says which one runs.
 *
 * <p>Both give the same results bit for bit: the sigmoid's {@code e^x} is {@link Ops#expf}, built
 * from additions and multiplications (a vectorised {@code Math.exp} gives other bits compiled than
 * interpreted, so a learner's numbers would depend on the JIT). Every element is computed the same way
 * wherever it sits in an array (the vector tail runs masked lanes), so reading a text in one call or in
 * pieces gives the same numbers.
 */
public interface Kernels {
    /**
     * {@code g = sigmoid(a)}, {@code s = a g} (SiLU) over {@code [0, n)}.
     *
     * @param a the pre-activations; not changed
     * @param g receives the sigmoids
     * @param s receives the activations
     * @param n number of elements
     */
    void sigmoidSilu(float[] a, float[] g, float[] s, int n);

    /**
     * {@code da = ds · g (1 + a (1 - g))}: the error at the pre-activation through SiLU, over {@code [0, n)}.
     *
     * @param ds the error at the activation
     * @param a the pre-activations
     * @param g their sigmoids
     * @param da receives the error at the pre-activations; may be {@code ds} itself
     * @param n number of elements
     */
    void siluBackward(float[] ds, float[] a, float[] g, float[] da, int n);

    /**
     * Whether every value of {@code a} is finite (no NaN, no infinity).
     *
     * @param a the values
     * @param n how many, from index 0
     * @return true if all {@code n} are finite
     */
    boolean finite(float[] a, int n);

    /**
     * {@code out = w - lambda (w - w0) - lr g} (with {@code lambda = 0}: exactly {@code w - lr g}), in
     * model.py's order of operations.
     *
     * @param w the weights
     * @param w0 the prior they decay to (not read when {@code lambda} is 0)
     * @param g the summed gradients
     * @param lambda the decay to the prior
     * @param lr the learning rate
     * @param out receives the new weights
     * @param n number of elements
     * @return whether every new weight is finite
     */
    boolean update(float[] w, float[] w0, float[] g, float lambda, float lr, float[] out, int n);

    /**
     * {@code out[oo, oo + n) = x[xo, xo + k) W}, W row-major {@code [k, n]}: one row through a frozen projection
     * (sums in the order of k; the Vector API's with fused multiply-adds, so the last bits may differ).
     *
     * @param x the input row
     * @param xo where it starts in {@code x}
     * @param k its length
     * @param w the weights, {@code k * n} values
     * @param n the output's length
     * @param out receives the output; not overlapping the input
     * @param oo where it starts in {@code out}
     */
    void gemv(float[] x, int xo, int k, float[] w, int n, float[] out, int oo);

    /**
     * {@code out[oo + j] = x[xo, xo + k) · W[j]} for j in {@code [0, n)}, W row-major {@code [n, k]}: one row through
     * the transpose of W (each output a dot product of two contiguous runs).
     *
     * @param x the input row
     * @param xo where it starts in {@code x}
     * @param k its length
     * @param w the weights, {@code n * k} values
     * @param n the output's length
     * @param out receives the output; not overlapping the input
     * @param oo where it starts in {@code out}
     */
    void gemvT(float[] x, int xo, int k, float[] w, int n, float[] out, int oo);

    /**
     * The sum of squares of {@code x[xo, xo + n)} in one fixed order, the same in every implementation: eight partial
     * sums (element {@code i} added, squared, to sum {@code i mod 8}, in increasing {@code i}), combined as
     * {@code ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))}. The frozen mixers' norms use it: a plain running sum
     * is one long chain of dependent additions.
     *
     * @param x the values
     * @param xo where they start
     * @param n how many
     * @return the sum of their squares
     */
    float sumSquares(float[] x, int xo, int n);

    /**
     * What this implementation is, for reports.
     *
     * @return for example {@code "Vector API, 16 float lanes"} or {@code "scalar Java"}
     */
    String describe();

    /** Plain Java loops. */
    Kernels SCALAR = new Kernels() {
        @Override
        public void sigmoidSilu(float[] a, float[] g, float[] s, int n) {
            for (int i = 0; i < n; i++) {
                g[i] = Ops.sigmoidf(a[i]);
                s[i] = a[i] * g[i];
            }
        }

        @Override
        public void siluBackward(float[] ds, float[] a, float[] g, float[] da, int n) {
            for (int i = 0; i < n; i++) {
                da[i] = ds[i] * Ops.siluGrad(a[i], g[i]);
            }
        }

        @Override
        public boolean finite(float[] a, int n) {
            float z = 0f; // stays 0 unless some value is NaN or infinite
            for (int i = 0; i < n; i++) {
                z += a[i] - a[i];
            }
            return z == 0f;
        }

        @Override
        public void gemv(float[] x, int xo, int k, float[] w, int n, float[] out, int oo) {
            java.util.Arrays.fill(out, oo, oo + n, 0f);
            for (int i = 0; i < k; i++) {
                float xi = x[xo + i];
                int r = i * n;
                for (int j = 0; j < n; j++) {
                    out[oo + j] += xi * w[r + j];
                }
            }
        }

        @Override
        public void gemvT(float[] x, int xo, int k, float[] w, int n, float[] out, int oo) {
            for (int j = 0; j < n; j++) {
                float a = 0f;
                int r = j * k;
                for (int i = 0; i < k; i++) {
                    a += x[xo + i] * w[r + i];
                }
                out[oo + j] = a;
            }
        }

        @Override
        public boolean update(float[] w, float[] w0, float[] g, float lambda, float lr, float[] out, int n) {
            float z = 0f;
            if (lambda == 0f) {
                for (int i = 0; i < n; i++) {
                    out[i] = w[i] - lr * g[i];
                    z += out[i] - out[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = w[i] - lambda * (w[i] - w0[i]) - lr * g[i];
                    z += out[i] - out[i];
                }
            }
            return z == 0f;
        }

        @Override
        public float sumSquares(float[] x, int xo, int n) {
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                int o = xo + i;
                s0 += x[o] * x[o];
                s1 += x[o + 1] * x[o + 1];
                s2 += x[o + 2] * x[o + 2];
                s3 += x[o + 3] * x[o + 3];
                s4 += x[o + 4] * x[o + 4];
                s5 += x[o + 5] * x[o + 5];
                s6 += x[o + 6] * x[o + 6];
                s7 += x[o + 7] * x[o + 7];
            }
            return Ops.sumSquaresTail(x, xo, i, n, s0, s1, s2, s3, s4, s5, s6, s7);
        }

        @Override
        public String describe() {
            return "scalar Java";
        }
    };

    /**
     * The kernels this JVM runs: the Vector API's when the module {@code jdk.incubator.vector} is in the
     * boot layer and {@code -Dhope4j.vector=false} is not set, else {@link #SCALAR}.
     *
     * @return the active implementation, chosen once
     */
    static Kernels active() {
        return Ops.KERNELS;
    }
}
