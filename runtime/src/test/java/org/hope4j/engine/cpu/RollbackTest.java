package org.hope4j.engine.cpu;

import java.util.Map;
import java.util.Random;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.state.StateStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite or rolled back: a NaN injected into a gradient, an overflowing CMS rate and an overflowing L0
 * rate each end in a counted rollback and a finite state, never in a saved non-finite one (a state
 * tensor holding NaN is refused at restore: LearnerTest).
 */
class RollbackTest {
    static Bundle bundle;
    static EngineSpec spec;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
        spec = EngineSpec.of(bundle.manifest(), false, 1.0);
    }

    @Test
    void aNanInAGradientIsNotAppliedAndTheLevelKeepsItsValue() {
        try (Engine e = new CpuBackend().open(spec, bundle.plastic())) {
            Map<String, Tensor> s = e.exportState();
            s.get("blocks.1.l1.g_up").data()[7] = Float.NaN;
            s.get("blocks.2.l2.g_down").data()[3] = 1f; // a finite gradient elsewhere is applied
            e.importState(s);
            float[] before = s.get("blocks.1.l1.up").data().clone();
            float[] l2Before = s.get("blocks.2.l2.down").data().clone();
            e.step(true, true);
            assertEquals(1, e.rollbacks(), "block 1's L1 step is refused, nothing else");
            Map<String, Tensor> after = e.exportState();
            assertArrayEquals(before, after.get("blocks.1.l1.up").data(), "the refused level keeps its value");
            assertEquals(0f, after.get("blocks.1.l1.g_up").data()[7], "its gradient sum is cleared");
            assertTrue(l2Before[3] != after.get("blocks.2.l2.down").data()[3], "the finite step elsewhere was applied");
            assertNull(StateStore.firstNonFinite(after));
        }
    }

    @Test
    void anOverflowingCmsRateIsNotAppliedAndAbsurdRatesAreRefusedUpFront() {
        float[] huge = new float[spec.nBlocks()];
        java.util.Arrays.fill(huge, 1e38f);
        EngineSpec hot = new EngineSpec(spec.dModel(), spec.nBlocks(), spec.nHeads(), spec.headDim(), spec.memRows(), spec.midHidden(),
                spec.fastHidden(), spec.c0(), spec.c1(), spec.c2(), spec.etaMax(), spec.eps(), huge, spec.lr2(), spec.plastic(), spec.decay1(),
                spec.decay2());
        try (Engine e = new CpuBackend().open(hot, bundle.plastic())) {
            Map<String, Tensor> s = e.exportState();
            java.util.Arrays.fill(s.get("blocks.0.l1.g_up").data(), 100f); // a plain gradient times 1e38 overflows
            e.importState(s);
            float[] before = s.get("blocks.0.l1.up").data().clone();
            e.step(true, false);
            assertEquals(1, e.rollbacks());
            assertArrayEquals(before, e.exportState().get("blocks.0.l1.up").data());
            assertNull(StateStore.firstNonFinite(e.exportState()));
        }
        // the options and the manifest bound the rates, so such a rate never reaches a learner (CLI: --rate-scale 1e30)
        var err = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> LearnerOptions.defaults().withRateScale(1e30));
        assertTrue(err.getMessage().startsWith("rateScale must be a number in [0, 100]"), err.getMessage());
    }

    @Test
    void anOverflowingMemoryRateIsRolledBackToTheChunkStart() {
        EngineSpec hot = new EngineSpec(spec.dModel(), spec.nBlocks(), spec.nHeads(), spec.headDim(), spec.memRows(), spec.midHidden(),
                spec.fastHidden(), spec.c0(), spec.c1(), spec.c2(), 1e38f, spec.eps(), spec.lr1(), spec.lr2(), spec.plastic(), spec.decay1(),
                spec.decay2());
        int m = spec.c0();
        int d = spec.dModel();
        Random rnd = new Random(3);
        float[] q = new float[m * d];
        float[] u = new float[m * d];
        for (int i = 0; i < m * d; i++) {
            q[i] = (float) rnd.nextGaussian() * 50;
            u[i] = (float) rnd.nextGaussian() * 50;
        }
        float[] o = new float[m * d];
        try (Engine e = new CpuBackend().open(hot, bundle.plastic())) {
            float[] start = e.exportState().get("blocks.0.l0.wt").data();
            e.memory(0, q, u, m, 0, true, o);
            assertTrue(e.rollbacks() > 0, "the writes overflowed and were refused");
            Map<String, Tensor> after = e.exportState();
            assertNull(StateStore.firstNonFinite(after));
            // a head whose write overflowed went back to its chunk-start value
            float[] wt = after.get("blocks.0.l0.wt").data();
            int per = wt.length / spec.nHeads();
            int back = 0;
            for (int h = 0; h < spec.nHeads(); h++) {
                back += java.util.Arrays.equals(start, h * per, (h + 1) * per, wt, h * per, (h + 1) * per) ? 1 : 0;
            }
            assertEquals(e.rollbacks(), back, "as many heads at their chunk-start value as rollbacks");
        }
    }
}
