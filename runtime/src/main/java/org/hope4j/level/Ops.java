package org.hope4j.level;

/**
 * The element-wise pieces of the model (model-export/hope_export/model.py: {@code rmsnorm},
 * {@code rmsnorm_backward}, {@code l2norm}, {@code silu_grad}, softmax), in float with the reference's
 * order of operations. Rows are contiguous: row {@code t} of an [m, n] array starts at {@code t * n}.
 */
public final class Ops {
    private Ops() {
    }

    /** {@code out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * g} for the m rows of width {@code d}. */
    public static void rmsnorm(float[] x, int m, int d, float[] g, float eps, float[] out) {
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

    /** The gradient of {@link #rmsnorm}: {@code dx = r (g dy) - x r^3 mean(x g dy)}, r = (mean x^2 + eps)^-1/2. */
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

    /** {@code out[oo, oo+n) = x[xo, xo+n) / sqrt(|x|^2 + eps)}. */
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

    /** {@code out[oo, oo+n) = softmax(x[xo, xo+n))}, max-shifted, summed in double. */
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

    /** {@code -log2 softmax(x[xo, xo+n))[k]}: the bits of outcome {@code k}. */
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

    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** d silu / dx at {@code x}, given {@code s = sigmoid(x)}. */
    public static float siluGrad(float x, float s) {
        return s * (1f + x * (1f - s));
    }
}
