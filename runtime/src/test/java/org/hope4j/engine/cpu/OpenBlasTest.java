package org.hope4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * OpenBLAS through the per-thread native operand buffers: arrays longer than the operands (the engines pass buffers
 * sized for their longest span), every transpose form and beta, buffers that grow between calls, two threads at once.
 * The reference is the plain-Java fallback ({@link JavaBlasTest} holds it to the definition).
 */
class OpenBlasTest {
    private static final OpenBlas BLAS = OpenBlas.load(1);

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    /** One product into arrays {@code extra} longer than its operands; checks it against JavaBlas and that nothing else moved. */
    private static void check(SplittableRandom r, boolean ta, boolean tb, int m, int n, int k, float beta, int extra) {
        float[] a = random(r, m * k + extra);
        float[] b = random(r, k * n + extra);
        float[] c = random(r, m * n + extra);
        if (beta == 0f) {
            c[0] = Float.NaN; // beta 0: C's old values are not read
        }
        float[] a0 = a.clone();
        float[] b0 = b.clone();
        float[] want = c.clone();
        new JavaBlas().sgemm(ta, tb, m, n, k, 0.75f, a, b, beta, want);
        BLAS.sgemm(ta, tb, m, n, k, 0.75f, a, b, beta, c);
        String where = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " beta=" + beta;
        for (int i = 0; i < m * n; i++) {
            assertFalse(Float.isNaN(c[i]), where + ": element " + i + " is NaN");
            assertEquals(want[i], c[i], 1e-5f * k, where + ": element " + i);
        }
        for (int i = m * n; i < c.length; i++) {
            assertEquals(want[i], c[i], where + ": C past its m x n values is not written (index " + i + ")");
        }
        assertArrayEquals(a0, a, where + ": A unchanged");
        assertArrayEquals(b0, b, where + ": B unchanged");
    }

    @Test
    void everyFormAndBetaAgreesWithTheDefinitionOnLongerArrays() {
        SplittableRandom r = new SplittableRandom(7);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 1f, -0.5f}) {
                    check(r, ta, tb, 5, 7, 11, beta, 13);
                    check(r, ta, tb, 16, 32, 32, beta, 0);
                }
            }
        }
    }

    @Test
    void theBuffersGrowAndShrinkBetweenCalls() {
        SplittableRandom r = new SplittableRandom(11);
        // small, then larger than the first buffers (4096 floats), then small again: stale values past the operands never leak in
        int[][] shapes = {{3, 4, 5}, {64, 128, 96}, {200, 300, 150}, {2, 3, 2}, {64, 512, 128}, {1, 1, 1}};
        for (int[] s : shapes) {
            check(r, false, true, s[0], s[1], s[2], 0f, 7);
            check(r, true, false, s[0], s[1], s[2], 1f, 0);
        }
    }

    @Test
    void twoThreadsUseBuffersOfTheirOwn() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                long seed = 100 + t;
                runs.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < 200; i++) {
                        int m = 1 + r.nextInt(40);
                        int n = 2 + r.nextInt(40);
                        int k = 1 + r.nextInt(40);
                        check(r, r.nextBoolean(), r.nextBoolean(), m, n, k, r.nextBoolean() ? 0f : 1f, r.nextInt(5));
                    }
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
