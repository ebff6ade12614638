package org.hope4j.engine.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The CUDA engine on shapes the default model does not have (issue 16): widths and hidden sizes that
 * are not multiples of the 16 x 16 GEMM tile, other head sizes and counts, other L0/L1 periods, and an
 * L0 chunk so large that the memory kernel needs the dynamic shared-memory opt-in (more than 48 KiB).
 * Each runs the call-by-call comparison with the CPU engine of {@link CudaEngineTest} on random weights.
 * Runs only with {@code -Dhope4j.test.cuda=1} (under cuda-emu in CI).
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaShapesTest {
    @BeforeAll
    static void cuda() {
        new CudaBackendProvider().probe(); // fails loudly when CUDA is absent
    }

    /** A spec of these shapes (3 blocks, block 1 frozen) and random plastic weights of a plausible scale. */
    static void check(int d, int heads, int fast, int mid, int c0, int c1, long seed) {
        int dh = d / heads;
        int r = 3 * dh + 10;
        int nb = 3;
        float[] lr1 = {0.05f, 0.02f, 0.07f};
        float[] lr2 = {0.004f, 0.006f, 0.003f};
        boolean[] plastic = {true, false, true};
        EngineSpec spec = new EngineSpec(d, nb, heads, dh, r, mid, fast, c0, c1, 4 * c1, 0.0625f, 1e-6f, lr1, lr2, plastic,
                new float[] {0.02f, 0f, 0.01f}, new float[] {0.005f, 0f, 0f});
        Random rnd = new Random(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (int b = 0; b < nb; b++) {
            String p = "blocks." + b + ".";
            put(w, p + "l0.init", new int[] {heads, r, dh}, rnd, 0.1f, 0f);
            put(w, p + "l0.b_eta", new int[] {heads * 5}, rnd, 0.5f, -2f);
            put(w, p + "l0.b_alpha", new int[] {heads * 5}, rnd, 0.5f, 3f);
            put(w, p + "l2.norm", new int[] {d}, rnd, 0.1f, 1f);
            put(w, p + "l2.up", new int[] {mid, d}, rnd, (float) (1 / Math.sqrt(d)), 0f);
            put(w, p + "l2.down", new int[] {d, mid}, rnd, (float) (0.5 / Math.sqrt(mid)), 0f);
            put(w, p + "l1.norm", new int[] {d}, rnd, 0.1f, 1f);
            put(w, p + "l1.up", new int[] {fast, d}, rnd, (float) (1 / Math.sqrt(d)), 0f);
            put(w, p + "l1.down", new int[] {d, fast}, rnd, (float) (0.5 / Math.sqrt(fast)), 0f);
        }
        put(w, "head.norm", new int[] {d}, rnd, 0.1f, 1f);
        put(w, "head.weight", new int[] {EngineSpec.VOCAB, d}, rnd, (float) (1 / Math.sqrt(d)), 0f);
        CudaEngineTest.callByCall(spec, w);
    }

    private static void put(Map<String, Tensor> w, String name, int[] shape, Random rnd, float scale, float mean) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = mean + scale * (float) rnd.nextGaussian();
        }
        w.put(name, new Tensor(name, shape, a));
    }

    @Test
    void raggedTilesAndOtherHeads() {
        // d = 40 (2.5 tiles), 5 heads of 8, hidden 24 and 56: no dimension is a multiple of 16; periods 8 / 32
        check(40, 5, 24, 56, 8, 32, 11);
    }

    @Test
    void oneWideHead() {
        // one head of 48 (memRows 154), hidden 80 and 36, periods 16 / 48 (an L1 period that is not a power of two)
        check(48, 1, 80, 36, 16, 48, 12);
    }

    @Test
    void theSharedMemoryOptInPath() {
        // c0 = 32, head size 48: the memory kernel needs about 80 KiB of dynamic shared memory (opt-in above 48 KiB)
        check(96, 2, 64, 32, 32, 64, 13);
    }
}
