package org.hope4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A span longer than an L1 chunk runs every block in one shared set of buffers and keeps of each block only its first
 * chunk of rows and its last row. The CMS levels and the head work row by row, so what the error signal and a held
 * position take from a long span must equal what they take from a short span of just those rows: the same gradient sums
 * and held activations, and the same logits for every row.
 */
class LongSpanTest {
    static Bundle bundle;
    static EngineSpec spec;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
        spec = EngineSpec.of(bundle.manifest(), false, 1.0);
    }

    /** Runs rows [from, from + m) of {@code x} (per block) through every block and the head; returns the logits. */
    private static float[] span(Engine e, float[][] x, int from, int m) {
        int d = spec.dModel();
        float[] out = new float[m * d];
        for (int b = 0; b < spec.nBlocks(); b++) {
            float[] in = java.util.Arrays.copyOfRange(x[b], from * d, (from + m) * d);
            e.cms(b, in, m, out);
        }
        float[] logits = new float[m * EngineSpec.VOCAB];
        e.head(java.util.Arrays.copyOfRange(x[spec.nBlocks()], from * d, (from + m) * d), m, logits);
        return logits;
    }

    private static float[][] inputs(int rows, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[spec.nBlocks() + 1][rows * spec.dModel()];
        for (float[] a : x) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5f * Math.max(1f, Math.abs(want[i])), what + " [" + i + "]");
        }
    }

    @Test
    void aLongSpanGivesTheSameLogitsGradientsAndHeldRowAsShortSpansOfItsRows() {
        int c1 = spec.c1();
        int m = spec.maxSpan() - 3; // longer than a chunk, ragged
        assertTrue(m > c1, "the bundled model's longest span exceeds an L1 chunk");
        float[][] x = inputs(m, 7);
        byte[] targets = new byte[m];
        new Random(8).nextBytes(targets);
        int k = c1 - 5;
        try (Engine longE = new CpuBackend().open(spec, bundle.plastic());
                Engine shortE = new CpuBackend().open(spec, bundle.plastic())) {
            // a short span first, so the long span must overwrite the chunk's buffers, not find its rows there by chance
            span(longE, inputs(c1, 9), 0, c1);
            float[] logits = span(longE, x, 0, m);
            longE.accumulate(k, targets, 0, true, true);
            for (int from = 0; from < m; from += c1) {
                int n = Math.min(c1, m - from);
                float[] part = span(shortE, x, from, n);
                assertClose(part, java.util.Arrays.copyOfRange(logits, from * EngineSpec.VOCAB, (from + n) * EngineSpec.VOCAB), "logits of rows " + from);
            }
            span(shortE, x, 0, c1);
            shortE.accumulate(k, targets, 0, true, true);
            Map<String, Tensor> a = longE.exportState();
            Map<String, Tensor> b = shortE.exportState();
            for (int blk = 0; blk < spec.nBlocks(); blk++) {
                for (String g : new String[] {"l1.g_up", "l1.g_down", "l2.g_up", "l2.g_down"}) {
                    String key = "blocks." + blk + "." + g;
                    float[] want = b.get(key).data();
                    assertTrue(spec.plastic()[blk] == hasNonZero(want), key + " holds a gradient exactly where the block learns");
                    assertClose(want, a.get(key).data(), key);
                }
            }
            // the held position is the long span's last row, of every block
            span(longE, x, 0, m);
            longE.holdPending();
            span(shortE, x, m - 1, 1);
            shortE.holdPending();
            assertTrue(longE.hasPending() && shortE.hasPending());
            Map<String, Tensor> pa = longE.exportState();
            Map<String, Tensor> pb = shortE.exportState();
            int held = 0;
            for (Map.Entry<String, Tensor> e : pb.entrySet()) {
                if (e.getKey().contains("pending.")) {
                    assertClose(e.getValue().data(), pa.get(e.getKey()).data(), e.getKey());
                    held++;
                }
            }
            assertTrue(held >= 10, "held tensors compared: " + held);
            longE.accumulatePending(targets[0], true, true);
            shortE.accumulatePending(targets[0], true, true);
            a = longE.exportState();
            b = shortE.exportState();
            assertClose(b.get("blocks.0.l1.g_up").data(), a.get("blocks.0.l1.g_up").data(), "after the held row");
        }
    }

    @Test
    void aLongSpanIsOneBlocksWorthOfBuffersNotOnePerBlock() throws ReflectiveOperationException {
        try (Engine e = new CpuBackend().open(spec, bundle.plastic())) {
            span(e, inputs(spec.maxSpan(), 3), 0, spec.maxSpan());
            java.lang.reflect.Field f = CpuEngine.class.getDeclaredField("longSpan");
            f.setAccessible(true);
            SpanCache c = (SpanCache) f.get(e);
            assertEquals(spec.maxSpan(), c.rows);
            assertEquals(1, c.x2.length, "one block's buffers, shared by every block in turn");
        }
    }

    private static boolean hasNonZero(float[] a) {
        for (float v : a) {
            if (v != 0f) {
                return true;
            }
        }
        return false;
    }

    @Test
    void theSameInputGivesTheSameLogitsWhetherReadInOneLongSpanOrManyShortOnes() {
        // bit for bit on the Java BLAS, whose products do not depend on the number of rows
        float[][] x = inputs(spec.maxSpan(), 11);
        try (Engine a = CpuBackend.openJava(spec, bundle.plastic()); Engine b = CpuBackend.openJava(spec, bundle.plastic())) {
            float[] whole = span(a, x, 0, spec.maxSpan());
            for (int from = 0; from < spec.maxSpan(); from += spec.c1()) {
                float[] part = span(b, x, from, spec.c1());
                assertArrayEquals(part, java.util.Arrays.copyOfRange(whole, from * EngineSpec.VOCAB, (from + spec.c1()) * EngineSpec.VOCAB));
            }
        }
    }
}
