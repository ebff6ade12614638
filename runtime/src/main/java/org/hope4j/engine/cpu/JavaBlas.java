package org.hope4j.engine.cpu;

import org.hope4j.level.Blas;

/** Plain-Java fallback of {@link Blas}: loops the JIT vectorises (inner loop over contiguous rows). */
final class JavaBlas implements Blas {
    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
        if (beta != 1f) {
            for (int i = 0; i < m * n; i++) {
                c[i] = beta == 0f ? 0f : c[i] * beta;
            }
        }
        if (!transB) {
            // C[i, :] += alpha * A[i, p] * B[p, :]
            for (int i = 0; i < m; i++) {
                int ci = i * n;
                for (int p = 0; p < k; p++) {
                    // no skip of zero terms: 0 * NaN is NaN here as in OpenBLAS, so a NaN spreads the same way on both
                    float av = alpha * (transA ? a[p * m + i] : a[i * k + p]);
                    int bp = p * n;
                    for (int j = 0; j < n; j++) {
                        c[ci + j] += av * b[bp + j];
                    }
                }
            }
        } else {
            // C[i, j] += alpha * dot(A[i, :], B[j, :])
            float[] row = transA ? new float[k] : null;
            for (int i = 0; i < m; i++) {
                float[] ar = a;
                int ai = i * k;
                if (transA) {
                    for (int p = 0; p < k; p++) {
                        row[p] = a[p * m + i];
                    }
                    ar = row;
                    ai = 0;
                }
                for (int j = 0; j < n; j++) {
                    int bj = j * k;
                    float s = 0f;
                    for (int p = 0; p < k; p++) {
                        s += ar[ai + p] * b[bj + p];
                    }
                    c[i * n + j] += alpha * s;
                }
            }
        }
    }

    @Override
    public String describe() {
        return "plain Java loops";
    }
}
