package org.hope4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The plain-Java BLAS fallback: every transpose form against a triple loop, and NaN spread as BLAS spreads it. */
class JavaBlasTest {
    private static float at(float[] x, boolean trans, int rows, int cols, int r, int c) {
        return trans ? x[c * rows + r] : x[r * cols + c];
    }

    @ParameterizedTest
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void everyTransposeFormEqualsTheDefinition(boolean ta, boolean tb) {
        int m = 5;
        int n = 7;
        int k = 11;
        SplittableRandom r = new SplittableRandom(ta ? (tb ? 1 : 2) : (tb ? 3 : 4));
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (float[] x : new float[][] {a, b, c}) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble(-1, 1);
            }
        }
        a[3] = 0f; // a zero term must be summed like any other
        float[] want = c.clone();
        float alpha = 0.75f;
        float beta = -0.5f;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += at(a, ta, m, k, i, p) * at(b, tb, k, n, p, j);
                }
                want[i * n + j] = (float) (beta * want[i * n + j] + alpha * s);
            }
        }
        new JavaBlas().sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
        for (int i = 0; i < c.length; i++) {
            assertEquals(want[i], c[i], 1e-5f, "element " + i);
        }
    }

    /** 0 · NaN is NaN (IEEE 754, and OpenBLAS): a NaN in B reaches C through a zero in A (it was skipped before). */
    @ParameterizedTest
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void aNanInBSpreadsThroughAZeroInA(boolean ta, boolean tb) {
        int m = 2;
        int n = 2;
        int k = 3;
        float[] a = new float[m * k]; // all zeros
        float[] b = new float[k * n];
        b[0] = Float.NaN;
        float[] c = new float[m * n];
        new JavaBlas().sgemm(ta, tb, m, n, k, 1f, a, b, 0f, c);
        assertTrue(Float.isNaN(c[0]), "C[0,0] = " + c[0]);
    }
}
