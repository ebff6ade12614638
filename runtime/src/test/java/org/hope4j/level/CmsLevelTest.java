package org.hope4j.level;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A CMS level holds copies of its weights and its gradient sums only once it learns: a level that never steps (an
 * anchor's, a frozen teacher's) shares its prior's arrays and holds no sums, with the same results as before.
 */
class CmsLevelTest {
    private static final int D = 8, F = 12;
    private static final float LR = 0.05f, LAMBDA = 0.1f;

    /** Plain loops, in one fixed order, so the test can repeat a product exactly. */
    private static final Blas LOOPS = new Blas() {
        @Override
        public void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0f;
                    for (int p = 0; p < k; p++) {
                        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                    }
                    c[i * n + j] = alpha * s + (beta == 0f ? 0f : beta * c[i * n + j]);
                }
            }
        }

        @Override
        public String describe() {
            return "test loops";
        }
    };

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * 0.3f;
        }
        return a;
    }

    private final Random rnd = new Random(7);
    private final float[] norm = random(rnd, D);
    private final float[] up0 = random(rnd, F * D);
    private final float[] down0 = random(rnd, D * F);

    private CmsLevel level() {
        return new CmsLevel(LOOPS, D, F, 1e-6f, LR, LAMBDA, norm, up0.clone(), down0.clone());
    }

    private static float[] forward(CmsLevel l, float[] x, int m) {
        float[] z = new float[m * D];
        float[] a = new float[m * F];
        float[] g = new float[m * F];
        float[] s = new float[m * F];
        float[] out = new float[m * D];
        l.forward(x, m, z, a, g, s, out);
        return out;
    }

    /** One chunk's gradient sums, as the CPU engine takes them: forward, hidden error, accumulate. */
    private static void learn(CmsLevel l, float[] x, float[] dy, int m) {
        float[] z = new float[m * D];
        float[] a = new float[m * F];
        float[] g = new float[m * F];
        float[] s = new float[m * F];
        float[] out = new float[m * D];
        l.forward(x, m, z, a, g, s, out);
        float[] da = new float[m * F];
        l.hiddenError(dy, m, a, g, da, da);
        assertTrue(l.accumulate(dy, da, m, s, z));
    }

    @Test
    void aLevelThatNeverLearnsHoldsNoCopiesAndExportsZeroSums() {
        CmsLevel l = level();
        float[] x = random(rnd, 3 * D);
        float[] before = forward(l, x, 3);
        assertArrayEquals(new boolean[] {false, false}, l.holds());
        assertArrayEquals(new float[F * D], l.copy("g_up"));
        assertArrayEquals(new float[D * F], l.copy("g_down"));
        assertArrayEquals(up0, l.copy("up"));
        // a state import of the prior's values and of zero sums (an anchor's, a fresh learner's) keeps it so
        l.load("up", up0.clone());
        l.load("down", down0.clone());
        l.load("g_up", new float[F * D]);
        l.load("g_down", new float[D * F]);
        assertArrayEquals(new boolean[] {false, false}, l.holds());
        assertArrayEquals(before, forward(l, x, 3));
        assertThrows(IllegalArgumentException.class, () -> l.copy("w"));
        assertThrows(IllegalArgumentException.class, () -> l.load("up", new float[3]));
    }

    @Test
    void stepsFollowTheUpdateRuleAndNeverWriteThePrior() {
        float[] priorUp = up0.clone();
        CmsLevel l = new CmsLevel(LOOPS, D, F, 1e-6f, LR, LAMBDA, norm, priorUp, down0.clone());
        float[] expectUp = up0.clone();
        for (int step = 0; step < 3; step++) {
            float[] x = random(rnd, 4 * D);
            float[] dy = random(rnd, 4 * D);
            learn(l, x, dy, 4);
            float[] g = l.copy("g_up");
            for (float v : g) {
                assertTrue(Float.isFinite(v));
            }
            assertArrayEquals(new boolean[] {step > 0, true}, l.holds());
            assertTrue(l.step());
            for (int i = 0; i < expectUp.length; i++) {
                expectUp[i] = expectUp[i] - LAMBDA * (expectUp[i] - up0[i]) - LR * g[i];
            }
            assertArrayEquals(expectUp, l.copy("up"), 1e-6f, "step " + step);
            assertArrayEquals(new float[F * D], l.copy("g_up"), "the sums are cleared");
            assertArrayEquals(up0, priorUp, "the prior is never written");
            assertArrayEquals(new boolean[] {true, true}, l.holds());
        }
        // back to the prior: no copy held, the pretrained outputs
        l.reset();
        assertArrayEquals(new boolean[] {false, true}, l.holds());
        float[] x = random(rnd, 2 * D);
        assertArrayEquals(forward(level(), x, 2), forward(l, x, 2));
        assertArrayEquals(up0, priorUp);
    }

    @Test
    void aNonFiniteUpdateLeavesTheWeightsAndAnImportRoundTrips() {
        CmsLevel l = level();
        float[] g = new float[F * D];
        g[5] = Float.NaN;
        l.load("g_up", g);
        assertArrayEquals(new boolean[] {false, true}, l.holds());
        assertFalse(l.step(), "a NaN sum is not applied");
        assertArrayEquals(up0, l.copy("up"));
        assertEquals(0f, l.copy("g_up")[5], "the sums are cleared either way");
        float[] up = random(rnd, F * D);
        l.load("up", up);
        assertArrayEquals(up, l.copy("up"));
        assertArrayEquals(new boolean[] {true, true}, l.holds());
        up[0] = 99f;
        assertFalse(l.copy("up")[0] == 99f, "load copies");
    }
}
