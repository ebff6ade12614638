package org.hope4j.engine.cuda;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.cpu.CpuBackend;
import org.hope4j.state.StateStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite or rolled back on the GPU (issue 17), against the CPU engine (runtime's RollbackTest): a NaN in
 * a gradient sum, an overflowing CMS rate, an overflowing L0 rate, a non-finite prediction and a held
 * position whose activations overflowed end the same way on both engines: the same refusals counted,
 * the same finite state. Runs only with {@code -Dhope4j.test.cuda=1} (under cuda-emu in CI).
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaRollbackTest {
    static EngineSpec spec;
    static Map<String, Tensor> plastic;

    @BeforeAll
    static void load() {
        CudaEngineTest.specOfTheDefaultBundle();
        spec = CudaEngineTest.spec;
        plastic = CudaEngineTest.plastic;
    }

    private static EngineSpec with(float etaMax, float[] lr1) {
        return new EngineSpec(spec.dModel(), spec.nBlocks(), spec.nHeads(), spec.headDim(), spec.memRows(), spec.midHidden(),
                spec.fastHidden(), spec.c0(), spec.c1(), spec.c2(), etaMax, spec.eps(), lr1, spec.lr2(), spec.plastic(), spec.decay1(),
                spec.decay2());
    }

    private static void sameFiniteState(Engine gpu, Engine cpu, String when) {
        CudaEngineTest.sameState(gpu, cpu, 2e-5, when);
        assertNull(StateStore.firstNonFinite(gpu.exportState()), when);
        assertEquals(cpu.rollbacks(), gpu.rollbacks(), when + ": refusals counted alike");
    }

    @Test
    void aNanInAGradientSumIsNotApplied() {
        try (Engine gpu = new CudaBackendProvider().open(spec, plastic); Engine cpu = new CpuBackend().open(spec, plastic)) {
            Map<String, Tensor> s = cpu.exportState();
            s.get("blocks.1.l1.g_up").data()[7] = Float.NaN;
            s.get("blocks.2.l2.g_down").data()[3] = 1f; // a finite gradient elsewhere is applied
            gpu.importState(s);
            cpu.importState(s);
            float[] before = s.get("blocks.1.l1.up").data().clone();
            gpu.step(true, true);
            cpu.step(true, true);
            assertEquals(1, gpu.rollbacks(), "block 1's L1 step is refused, nothing else");
            assertArrayEquals(before, gpu.exportState().get("blocks.1.l1.up").data(), "the refused level keeps its value");
            sameFiniteState(gpu, cpu, "after the step");
        }
    }

    @Test
    void anOverflowingCmsRateIsNotApplied() {
        float[] huge = new float[spec.nBlocks()];
        Arrays.fill(huge, 1e38f);
        EngineSpec hot = with(spec.etaMax(), huge);
        try (Engine gpu = new CudaBackendProvider().open(hot, plastic); Engine cpu = new CpuBackend().open(hot, plastic)) {
            Map<String, Tensor> s = cpu.exportState();
            Arrays.fill(s.get("blocks.0.l1.g_up").data(), 100f); // a plain gradient times 1e38 overflows
            gpu.importState(s);
            cpu.importState(s);
            gpu.step(true, false);
            cpu.step(true, false);
            assertEquals(1, gpu.rollbacks());
            sameFiniteState(gpu, cpu, "after the overflowing step");
        }
    }

    @Test
    void anOverflowingMemoryRateIsRolledBackToTheChunkStart() {
        EngineSpec hot = with(1e38f, spec.lr1());
        int m = spec.c0();
        int d = spec.dModel();
        Random rnd = new Random(3);
        float[] q = CudaEngineTest.random(rnd, m * d, 50f);
        float[] u = CudaEngineTest.random(rnd, m * d, 50f);
        try (Engine gpu = new CudaBackendProvider().open(hot, plastic); Engine cpu = new CpuBackend().open(hot, plastic)) {
            float[] og = new float[m * d];
            float[] oc = new float[m * d];
            gpu.memory(0, q, u, m, 0, true, og);
            cpu.memory(0, q, u, m, 0, true, oc);
            assertTrue(gpu.rollbacks() > 0, "the writes overflowed and were refused");
            sameFiniteState(gpu, cpu, "after the overflowing writes");
        }
    }

    @Test
    void aNonFinitePredictionBecomesUniformAndAPoisonedHeldRowIsNotLearned() {
        int m = 4;
        int d = spec.dModel();
        float[] x = CudaEngineTest.random(new Random(5), m * d, 1f);
        x[2 * d + 5] = Float.POSITIVE_INFINITY; // row 2 of the head's input
        try (Engine gpu = new CudaBackendProvider().open(spec, plastic); Engine cpu = new CpuBackend().open(spec, plastic)) {
            float[] lg = new float[m * 256];
            float[] lc = new float[m * 256];
            gpu.head(x, m, lg);
            cpu.head(x, m, lc);
            for (int i = 2 * 256; i < 3 * 256; i++) {
                assertEquals(0f, lg[i], "the poisoned row is uniform");
            }
            CudaEngineTest.close(lg, lc, 2e-5, "logits");
            assertEquals(1, gpu.rollbacks());
            assertEquals(cpu.rollbacks(), gpu.rollbacks());
            // a span whose last row overflowed in the CMS levels: the held row is refused on both engines
            float[] big = CudaEngineTest.random(new Random(6), m * d, 1f);
            big[(m - 1) * d + 3] = Float.NaN;
            float[] og = new float[m * d];
            float[] oc = new float[m * d];
            gpu.cms(0, big, m, og);
            cpu.cms(0, big, m, oc);
            gpu.head(og, m, lg);
            cpu.head(oc, m, lc);
            gpu.holdPending();
            cpu.holdPending();
            assertFalse(gpu.hasPending(), "a held row that is not finite is not kept");
            assertEquals(cpu.hasPending(), gpu.hasPending());
            assertEquals(cpu.rollbacks(), gpu.rollbacks(), "the uniform prediction and the refused row, counted alike");
        }
    }
}
