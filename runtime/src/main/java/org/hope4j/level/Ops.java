package org.hope4j.level;

/**
 * The element-wise pieces of the model (model-export/hope_export/model.py: {@code rmsnorm},
 * {@code rmsnorm_backward}, {@code l2norm}, {@code silu_grad}, softmax), in float with the reference's
 * order of operations. Rows are contiguous: row {@code t} of an [m, n] array starts at {@code t * n}.
 */
public final class Ops {
    /** The element-wise kernels this JVM runs (see {@link Kernels#active()}). */
    static final Kernels KERNELS = pickKernels();

    private Ops() {
    }

    private static Kernels pickKernels() {
        if (!Boolean.parseBoolean(System.getProperty("hope4j.vector", "true")) || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Kernels.SCALAR;
        }
        try {
            return (Kernels) Class.forName("org.hope4j.level.simd.VectorKernels").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            System.getLogger(Ops.class.getName()).log(System.Logger.Level.WARNING, "the Vector API kernels could not load, using scalar Java: {0}",
                    e.toString());
            return Kernels.SCALAR;
        }
    }

    /**
     * {@code out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * g} for the m rows of width {@code d}.
     *
     * @param x the input rows [m, d], from index 0; not changed
     * @param m number of rows
     * @param d row width (the model width)
     * @param g the norm's gain, one per column [d]
     * @param eps added to the mean square before the square root (keeps a zero row finite)
     * @param out receives the normalised rows [m, d], from index 0; may be {@code x} itself
     */
    public static void rmsnorm(float[] x, int m, int d, float[] g, float eps, float[] out) {
        for (int t = 0; t < m; t++) {
            rmsnormRow(x, t * d, d, g, eps, out, t * d);
        }
    }

    /**
     * {@link #rmsnorm} of one row: {@code out[oo, oo + d) = x[xo, xo + d) / sqrt(mean(x^2) + eps) * g}.
     *
     * @param x the input; not changed
     * @param xo where the row starts in {@code x}
     * @param d row width
     * @param g the norm's gain [d]
     * @param eps added to the mean square before the square root
     * @param out receives the normalised row; may be {@code x} itself at the same offset
     * @param oo where it starts in {@code out}
     */
    public static void rmsnormRow(float[] x, int xo, int d, float[] g, float eps, float[] out, int oo) {
        float ss = 0f;
        for (int i = 0; i < d; i++) {
            ss += x[xo + i] * x[xo + i];
        }
        float rr = (float) (1.0 / Math.sqrt(ss / d + eps));
        for (int i = 0; i < d; i++) {
            out[oo + i] = x[xo + i] * rr * g[i];
        }
    }

    /**
     * The gradient of {@link #rmsnorm}: {@code dx = r (g dy) - x r^3 mean(x g dy)}, r = (mean x^2 + eps)^-1/2.
     *
     * @param x the forward input rows [m, d] (not the normalised ones), from index 0
     * @param m number of rows
     * @param d row width
     * @param g the norm's gain [d], as in the forward pass
     * @param eps as in the forward pass
     * @param dy the error at the norm's output [m, d], from index 0
     * @param dx receives the error at the norm's input [m, d], from index 0 (the gain's gradient is not computed); may be
     *     {@code dy} itself
     */
    public static void rmsnormBackward(float[] x, int m, int d, float[] g, float eps, float[] dy, float[] dx) {
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

    /**
     * {@code out[oo, oo+n) = x[xo, xo+n) / sqrt(|x|^2 + eps)}.
     *
     * @param x holds the vector to normalise; not changed
     * @param xo index of the vector's first value in {@code x}
     * @param out receives the normalised vector; may be {@code x} itself at the same offset
     * @param oo index of the first result in {@code out}
     * @param n length of the vector
     * @param eps added to the squared length before the square root (keeps a zero vector finite)
     */
    public static void l2norm(float[] x, int xo, float[] out, int oo, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += x[xo + i] * x[xo + i];
        }
        float rr = (float) (1.0 / Math.sqrt(ss + eps));
        for (int i = 0; i < n; i++) {
            out[oo + i] = x[xo + i] * rr;
        }
    }

    /**
     * {@code out[oo, oo+n) = softmax(x[xo, xo+n))}, max-shifted, summed in double.
     *
     * @param x holds the logits; not changed
     * @param xo index of the first of the {@code n} logits in {@code x}
     * @param out receives the probabilities (they sum to 1); may be {@code x} itself at the same offset
     * @param oo index of the first probability in {@code out}
     * @param n number of outcomes, at least 1
     */
    public static void softmax(float[] x, int xo, float[] out, int oo, int n) {
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

    /**
     * {@code -log2 softmax(x[xo, xo+n))[k]}: the bits of outcome {@code k}.
     *
     * @param x holds the logits; not changed
     * @param xo index of the first of the {@code n} logits in {@code x}
     * @param n number of outcomes, at least 1
     * @param k the outcome, in [0, n), relative to {@code xo}
     * @return the outcome's code length in bits, 0 or more (computed in the log domain, so finite for finite logits)
     */
    public static double bits(float[] x, int xo, int n, int k) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[xo + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[xo + i] - max);
        }
        return -(x[xo + k] - max - Math.log(sum)) / Math.log(2);
    }

    /**
     * The logistic function {@code 1 / (1 + e^-x)}, computed in double.
     *
     * @param x the argument (a logit)
     * @return {@code sigmoid(x)} in [0, 1]
     */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** 1.5 * 2^23: added to a float below 2^22 in magnitude, it leaves the nearest integer in the low mantissa bits. */
    public static final float ROUND = 12582912f;
    /** log2(e). */
    public static final float LOG2E = 1.44269504f;
    /** ln(2), high part: few enough bits that {@code n * LN2_HI} is exact for every {@code |n| <= 128}. */
    public static final float LN2_HI = 0.693359375f;
    /** ln(2) - LN2_HI. */
    public static final float LN2_LO = -2.12194440e-4f;
    /** {@link #expf}'s polynomial (Cephes' minimax of {@code (e^r - 1 - r) / r^2} on [-ln2/2, ln2/2]): the r^5 coefficient. */
    public static final float P0 = 1.9875691500e-4f;
    /** The r^4 coefficient. */
    public static final float P1 = 1.3981999507e-3f;
    /** The r^3 coefficient. */
    public static final float P2 = 8.3334519073e-3f;
    /** The r^2 coefficient. */
    public static final float P3 = 4.1665795894e-2f;
    /** The r coefficient. */
    public static final float P4 = 1.6666665459e-1f;
    /** The constant term. */
    public static final float P5 = 5.0000001201e-1f;

    /**
     * {@code e^x} in float, within 2 ulp, from additions, multiplications and the exponent's bits only, in
     * a fixed order: the Vector API kernels compute the very same bits lane by lane (where a vectorised
     * {@code Math.exp} would give other bits compiled than interpreted), so results never depend on
     * which kernels run, or on whether the JIT compiled them yet.
     *
     * @param x the exponent; below -87 it is taken as -87 (giving about 1.6e-38), above 88 as 88
     * @return {@code e^x}
     */
    public static float expf(float x) {
        float c = Math.min(Math.max(x, -87f), 88f);
        float t = c * LOG2E + ROUND;
        float n = t - ROUND; // round(x log2 e), ties to even
        float r = c - n * LN2_HI;
        r = r - n * LN2_LO;
        float p = P0 * r + P1;
        p = p * r + P2;
        p = p * r + P3;
        p = p * r + P4;
        p = p * r + P5;
        float y = p * (r * r) + r + 1f;
        int k = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUND);
        return y * Float.intBitsToFloat((k + 127) << 23);
    }

    /**
     * The end of {@link Kernels#sumSquares}: the elements from {@code i} (a multiple of 8) to {@code n} added to their
     * partial sums, then the sums combined in the fixed order. Shared by every implementation so they agree bit for bit.
     *
     * @param x the values
     * @param xo where they start
     * @param i the first element not yet added, a multiple of 8
     * @param n how many in all
     * @param s0 partial sum 0 (elements 0, 8, 16, ...)
     * @param s1 partial sum 1
     * @param s2 partial sum 2
     * @param s3 partial sum 3
     * @param s4 partial sum 4
     * @param s5 partial sum 5
     * @param s6 partial sum 6
     * @param s7 partial sum 7
     * @return the sum of squares
     */
    public static float sumSquaresTail(float[] x, int xo, int i, int n, float s0, float s1, float s2, float s3, float s4, float s5,
            float s6, float s7) {
        for (; i < n; i++) {
            float v = x[xo + i] * x[xo + i];
            switch (i & 7) {
                case 0 -> s0 += v;
                case 1 -> s1 += v;
                case 2 -> s2 += v;
                case 3 -> s3 += v;
                case 4 -> s4 += v;
                case 5 -> s5 += v;
                case 6 -> s6 += v;
                default -> s7 += v;
            }
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * The logistic function {@code 1 / (1 + e^-x)} through {@link #expf}: what the CMS levels' kernels compute.
     *
     * @param x the argument
     * @return {@code sigmoid(x)} in [0, 1]
     */
    public static float sigmoidf(float x) {
        return 1f / (expf(-x) + 1f);
    }

    /**
     * d silu / dx at {@code x}, given {@code s = sigmoid(x)}.
     *
     * @param x the pre-activation
     * @param s {@code sigmoid(x)}, as the forward pass kept it
     * @return {@code s (1 + x (1 - s))}, the derivative of {@code x sigmoid(x)}
     */
    public static float siluGrad(float x, float s) {
        return s * (1f + x * (1f - s));
    }
}
