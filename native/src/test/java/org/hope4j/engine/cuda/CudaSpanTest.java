package org.hope4j.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.MixingEngine;
import org.hope4j.engine.cpu.CpuBackend;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Whole spans on the GPU (the embedding and every block's mixers fused into the L0 and CMS kernels) against the same
 * spans with the mixers on the host around the CPU engine ({@link MixingEngine}): logits, conv states, the learnt
 * state and the held position, within CudaEngineTest's 1e-4, over spans of every kind HopeStream runs (L1 periods
 * learning, pieces crossing L0 chunk ends, one-byte decoding, long spans reading with the CMS levels fixed, ragged row
 * counts); and a learner on the cuda backend runs its spans whole and scores as the CPU learner does. Under cuda-emu the
 * two tests of host logic run in the forward order only (the kernels' barriers are what the other orders test).
 * Runs only with {@code -Dhope4j.test.cuda=1} (fails if CUDA is absent).
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaSpanTest {
    static EngineSpec spec;
    static Map<String, Tensor> plastic;
    static FrozenGraphs graphs;

    @BeforeAll
    static void open() {
        new CudaBackendProvider().probe();
        try (Learner l = Hope.open(Golden.BUNDLE, LearnerOptions.defaults().withBackend("cpu"))) {
            spec = Streams.of(l).engine().spec();
        }
        plastic = Golden.BUNDLE.plastic();
        graphs = new FrozenGraphs(Golden.BUNDLE, FrozenGraphs.Options.defaults(), spec.maxSpan());
    }

    @AfterAll
    static void close() {
        graphs.close();
    }

    @Test
    void wholeSpansMatchTheMixersOnTheHost() {
        int c1 = spec.c1();
        int v = EngineSpec.VOCAB;
        // {positions, CMS learning}: L1 periods, pieces crossing L0 chunk ends, one byte, long spans with the CMS fixed
        // (kept short: under cuda-emu a learning span costs some 15 s of CPU per order)
        int[][] schedule = {{c1, 1}, {37, 1}, {27, 1}, {1, 1}, {spec.maxSpan(), 0}, {3, 1}};
        Random r = new Random(11);
        byte[] text = new byte[8192];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) (r.nextInt(4) == 0 ? ' ' : 'a' + r.nextInt(26));
        }
        try (CudaEngine gpu = new CudaEngine(spec, plastic, 0);
             Engine cpu = new MixingEngine(CpuBackend.openJava(spec, plastic))) {
            assertTrue(gpu.attachMixers(graphs));
            assertTrue(cpu.attachMixers(graphs));
            long pos = 0;
            int at = 0;
            for (int si = 0; si < schedule.length; si++) {
                int m = schedule[si][0];
                boolean cms = schedule[si][1] == 1;
                for (Engine e : new Engine[] {gpu, cpu}) {
                    if (e.hasPending()) {
                        if (cms) {
                            e.accumulatePending(text[at], true, true);
                        } else {
                            e.dropPending();
                        }
                    }
                    if (cms && pos > 0 && pos % c1 == 0) {
                        e.step(true, pos % spec.c2() == 0);
                    }
                }
                float[] lg = new float[m * v];
                float[] lc = new float[m * v];
                gpu.span(text, at, m, pos, true, lg);
                cpu.span(text, at, m, pos, true, lc);
                CudaEngineTest.close(lg, lc, 1e-4, "logits of span " + si + " (" + m + " positions from " + pos + ")");
                if (cms) {
                    int known = si % 3 == 2 ? m - 1 : m; // the last row's next byte not yet known: held
                    gpu.accumulate(known, text, at + 1, true, true);
                    cpu.accumulate(known, text, at + 1, true, true);
                    if (known < m) {
                        gpu.holdPending();
                        cpu.holdPending();
                        assertEquals(cpu.hasPending(), gpu.hasPending(), "held after span " + si);
                    }
                }
                for (int b = 0; b < spec.nBlocks(); b++) {
                    CudaEngineTest.close(gpu.mixerConv(b), cpu.mixerConv(b), 1e-4, "conv state of block " + b + " after span " + si);
                }
                pos += m;
                at += m;
            }
            CudaEngineTest.sameState(gpu, cpu, 1e-4, "after the schedule");
            assertEquals(0, gpu.rollbacks(), "nothing refused or replaced");
        }
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "EMU_ORDER", matches = "reverse|random", disabledReason = "host logic: one order suffices")
    void targetsThatAreNotTheSpansOwnBytesAreCopiedIn() {
        int c1 = spec.c1();
        byte[] text = new byte[c1 + 1];
        new Random(5).nextBytes(text);
        byte[] other = text.clone();
        other[7] ^= 1;
        try (CudaEngine gpu = new CudaEngine(spec, plastic, 0);
             Engine cpu = new MixingEngine(CpuBackend.openJava(spec, plastic))) {
            gpu.attachMixers(graphs);
            cpu.attachMixers(graphs);
            float[] lg = new float[c1 * EngineSpec.VOCAB];
            gpu.span(text, 0, c1, 0, true, lg);
            cpu.span(text, 0, c1, 0, true, lg);
            long copies = gpu.costs()[1];
            gpu.accumulate(c1, other, 1, true, true);
            cpu.accumulate(c1, other, 1, true, true);
            assertEquals(copies + 1, gpu.costs()[1], "targets that differ from the span's bytes go over the bus");
            gpu.step(true, true);
            cpu.step(true, true);
            CudaEngineTest.sameState(gpu, cpu, 1e-4, "after learning other targets");
            // a span at the end of its array takes no next byte along: the targets inside it are still its own bytes
            gpu.span(text, 1, c1, c1, true, lg);
            cpu.span(text, 1, c1, c1, true, lg);
            copies = gpu.costs()[1];
            gpu.accumulate(c1 - 1, text, 2, true, true);
            assertEquals(copies, gpu.costs()[1], "the span's own bytes as targets: no copy");
            cpu.accumulate(c1 - 1, text, 2, true, true);
            gpu.step(true, false);
            cpu.step(true, false);
            CudaEngineTest.sameState(gpu, cpu, 1e-4, "after a span at the end of its array");
        }
    }

    @Test
    void withoutTheMixersASpanIsRefused() {
        try (CudaEngine gpu = new CudaEngine(spec, plastic, 0)) {
            assertThrows(UnsupportedOperationException.class, () -> gpu.span(new byte[4], 0, 4, 0, false, new float[4 * EngineSpec.VOCAB]));
            assertThrows(UnsupportedOperationException.class, () -> gpu.mixerConv(0));
            gpu.attachMixers(graphs);
            assertThrows(IllegalArgumentException.class, () -> gpu.setMixerConv(0, new float[3]));
            assertThrows(IllegalArgumentException.class, () -> gpu.span(new byte[4], 0, 5, 0, false, new float[5 * EngineSpec.VOCAB]));
        }
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "EMU_ORDER", matches = "reverse|random", disabledReason = "host logic: one order suffices")
    void aLearnerOnTheGpuRunsWholeSpansAndScoresAsTheCpuLearner() {
        byte[] text = Arrays.copyOf(Golden.BUNDLE.rehearsal(), 100); // a step at 64: the anchor runs too
        double[] bits = new double[2];
        String[] backends = {"cpu", "cuda"};
        for (int i = 0; i < 2; i++) {
            try (Learner l = Hope.open(Golden.BUNDLE, LearnerOptions.defaults().withBackend(backends[i]))) {
                HopeStream s = Streams.of(l);
                bits[i] = l.observe(text).bits();
                assertEquals(i == 1, s.spansOnEngine(), backends[i] + ": spans on the engine");
            }
        }
        assertEquals(bits[0], bits[1], Math.abs(bits[0]) * 1e-4, "bits of the cuda learner against the cpu learner");
    }
}
