package org.hope4j.level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The element-wise kernels the JVM runs (the Vector API's under the build's tests, which add the
 * incubating module) against the scalar ones, bit for bit, at every length from 0 to 70 (so every tail
 * of a 4, 8 or 16-lane vector), and an element's value the same wherever it sits in an array.
 */
class KernelsTest {
    private static final Kernels K = Kernels.active();

    private static float[] values(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(-12, 12);
        }
        return a;
    }

    @Test
    void theBuildsTestsRunTheVectorKernels() {
        // surefire runs with --add-modules jdk.incubator.vector (pom.xml), as the hope4j launcher does
        assertTrue(K.describe().startsWith("Vector API"), K.describe());
    }

    @Test
    void sigmoidAndSiluEqualTheScalarPathBitForBit() {
        for (int n = 0; n <= 70; n++) {
            float[] a = values(n, n);
            if (n > 6) {
                a[0] = 0f;
                a[1] = 80f;
                a[2] = -80f;
                a[3] = -1e-30f;
                a[4] = 1000f;
                a[5] = -1000f;
                a[6] = Float.NaN;
            }
            float[] g = new float[n];
            float[] s = new float[n];
            float[] g0 = new float[n];
            float[] s0 = new float[n];
            K.sigmoidSilu(a, g, s, n);
            Kernels.SCALAR.sigmoidSilu(a, g0, s0, n);
            assertArrayEqualsBits(g0, g, "sigmoid, n " + n);
            assertArrayEqualsBits(s0, s, "silu, n " + n);
        }
    }

    /** The norms' sum of squares: the same bits on both paths at every length and offset, and the sum it defines. */
    @Test
    void sumSquaresEqualsTheScalarPathBitForBitInItsFixedOrder() {
        for (int n = 0; n <= 150; n++) {
            for (int off : new int[] {0, 3, 8}) {
                float[] x = values(off + n + 5, 31L * n + off);
                float want = Kernels.SCALAR.sumSquares(x, off, n);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(K.sumSquares(x, off, n)), "n " + n + " offset " + off);
                // the order it defines: eight running sums by index mod 8, combined pairwise
                float[] p = new float[8];
                for (int i = 0; i < n; i++) {
                    p[i & 7] += x[off + i] * x[off + i];
                }
                float order = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
                assertEquals(Float.floatToRawIntBits(order), Float.floatToRawIntBits(want), "n " + n);
                double exact = 0;
                for (int i = 0; i < n; i++) {
                    exact += (double) x[off + i] * x[off + i];
                }
                assertEquals(exact, want, 1e-5 * Math.max(1, exact));
            }
        }
    }

    /** One row through a projection and its transpose: the Vector API's fused multiply-adds against the scalar sums, at every tail shape. */
    @Test
    void gemvMatchesTheScalarPathWithinRounding() {
        int[] ks = {1, 13, 128, 512};
        int[] ns = {1, 5, 16, 17, 63, 64, 70, 128, 256};
        for (int k : ks) {
            for (int n : ns) {
                float[] x = values(k + 3, 31L * k + n);
                float[] w = values(k * n, 7L * k + n);
                float[] got = new float[n + 2];
                float[] want = new float[n + 2];
                got[0] = want[0] = 42f;
                got[n + 1] = want[n + 1] = -42f;
                K.gemv(x, 3, k, w, n, got, 1);
                Kernels.SCALAR.gemv(x, 3, k, w, n, want, 1);
                assertEquals(42f, got[0], "nothing written before the output");
                assertEquals(-42f, got[n + 1], "nothing written after the output");
                double scale = 0;
                for (int i = 0; i < k; i++) {
                    scale += Math.abs(x[3 + i]) * 12; // |w| <= 12: a bound of every sum's magnitude
                }
                for (int j = 1; j <= n; j++) {
                    assertEquals(want[j], got[j], 2e-6 * scale, "k " + k + ", n " + n + ", column " + (j - 1));
                }
                // the transpose: W read as [n, k]
                float[] gotT = new float[n + 2];
                float[] wantT = new float[n + 2];
                gotT[n + 1] = -42f;
                K.gemvT(x, 3, k, w, n, gotT, 1);
                Kernels.SCALAR.gemvT(x, 3, k, w, n, wantT, 1);
                assertEquals(-42f, gotT[n + 1], "gemvT writes nothing after the output");
                for (int j = 1; j <= n; j++) {
                    double dot = 0;
                    for (int i = 0; i < k; i++) {
                        dot += (double) x[3 + i] * w[(j - 1) * k + i];
                    }
                    assertEquals(dot, gotT[j], 2e-6 * scale, "gemvT against the double sum: k " + k + ", n " + n);
                    assertEquals(wantT[j], gotT[j], 2e-6 * scale, "gemvT k " + k + ", n " + n + ", column " + (j - 1));
                }
            }
        }
    }

    /** The float e^x both paths use: within 2 ulp of the double one over the range a sigmoid needs, and its limits. */
    @Test
    void expfIsWithinTwoUlp() {
        for (float x = -87f; x <= 88f; x += 0.0137f) {
            double want = Math.exp(x);
            float got = Ops.expf(x);
            assertEquals(want, got, 2 * Math.ulp((float) want), "e^" + x);
        }
        assertEquals(1f, Ops.expf(0f));
        assertEquals(Ops.expf(-87f), Ops.expf(-1e9f));
        assertEquals(Ops.expf(88f), Ops.expf(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(Ops.expf(Float.NaN)));
        for (float x = -30f; x <= 30f; x += 0.01f) {
            assertEquals(Ops.sigmoid(x), Ops.sigmoidf(x), 1.2e-7f, "sigmoid(" + x + ")");
        }
        assertEquals(0f, Ops.sigmoidf(-1000f), 1e-37f);
        assertEquals(1f, Ops.sigmoidf(1000f));
    }

    @Test
    void aValueDoesNotDependOnWhereItSits() {
        float[] a = values(67, 7);
        float[] g = new float[67];
        float[] s = new float[67];
        K.sigmoidSilu(a, g, s, 67);
        for (int shift = 1; shift < 17; shift++) {
            float[] b = new float[67 + shift];
            System.arraycopy(a, 0, b, shift, 67);
            float[] gb = new float[b.length];
            float[] sb = new float[b.length];
            K.sigmoidSilu(b, gb, sb, b.length);
            for (int i = 0; i < 67; i++) {
                assertEquals(g[i], gb[i + shift], "sigmoid of element " + i + " moved by " + shift);
                assertEquals(s[i], sb[i + shift], "silu of element " + i + " moved by " + shift);
            }
        }
    }

    @Test
    void siluBackwardAndUpdateEqualTheScalarPathBitForBit() {
        for (int n = 0; n <= 70; n++) {
            float[] a = values(n, 100 + n);
            float[] ds = values(n, 200 + n);
            float[] g = new float[n];
            Kernels.SCALAR.sigmoidSilu(a, g, new float[n], n);
            float[] da = new float[n];
            float[] da0 = new float[n];
            K.siluBackward(ds, a, g, da, n);
            Kernels.SCALAR.siluBackward(ds, a, g, da0, n);
            assertArrayEqualsBits(da0, da, "siluBackward, n " + n);
            float[] w0 = values(n, 300 + n);
            for (float lambda : new float[] {0f, 0.01f}) {
                float[] out = new float[n];
                float[] out0 = new float[n];
                assertTrue(K.update(a, w0, ds, lambda, 0.05f, out, n));
                assertTrue(Kernels.SCALAR.update(a, w0, ds, lambda, 0.05f, out0, n));
                assertArrayEqualsBits(out0, out, "update, lambda " + lambda + ", n " + n);
            }
        }
    }

    @Test
    void aNanOrAnInfinityAnywhereIsFound() {
        for (int n = 1; n <= 40; n++) {
            for (int at = 0; at < n; at++) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] a = values(n, n);
                    assertTrue(K.finite(a, n));
                    a[at] = bad;
                    assertFalse(K.finite(a, n), bad + " at " + at + " of " + n);
                    assertTrue(K.finite(a, at), "only the first " + at + " values are looked at");
                    float[] out = new float[n];
                    assertFalse(K.update(a, a, new float[n], 0f, 0.1f, out, n), "an update to " + bad + " at " + at + " of " + n);
                }
            }
        }
    }

    private static void assertArrayEqualsBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " at " + i + ": " + want[i] + " vs " + got[i]);
        }
    }
}
