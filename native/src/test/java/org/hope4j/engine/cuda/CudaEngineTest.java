package org.hope4j.engine.cuda;

import java.util.Map;
import java.util.Random;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.FailoverEngine;
import org.hope4j.engine.cpu.CpuBackend;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA engine against the CPU engine call by call, on synthetic inputs that exercise what the
 * golden stream may not: pieces crossing L0 chunk ends, spans longer than an L1 period with learning
 * off, the held position, a logits gradient, resets, and a state moved from one backend to the other.
 * Runs only with {@code -Dhope4j.test.cuda=1} (fails if CUDA is absent).
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaEngineTest {
    static EngineSpec spec;
    static Map<String, Tensor> plastic;

    @BeforeAll
    static void specOfTheDefaultBundle() {
        new CudaBackendProvider().probe(); // fails loudly when CUDA is absent
        try (Learner l = Hope.open(Golden.BUNDLE, LearnerOptions.defaults().withBackend("cpu"))) {
            spec = Streams.of(l).engine().spec();
        }
        plastic = Golden.BUNDLE.plastic();
    }

    static float[] random(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * scale;
        }
        return a;
    }

    static void close(float[] gpu, float[] cpu, double tol, String what) {
        double e = Golden.relErr(gpu, cpu);
        assertTrue(e <= tol, what + ": max relative error " + e + " > " + tol);
    }

    static void sameState(Engine gpu, Engine cpu, double tol, String when) {
        Map<String, Tensor> a = gpu.exportState();
        Map<String, Tensor> b = cpu.exportState();
        assertEquals(b.keySet(), a.keySet(), when);
        for (String k : b.keySet()) {
            assertArrayEquals(b.get(k).shape(), a.get(k).shape(), k);
            close(a.get(k).data(), b.get(k).data(), tol, when + " " + k);
        }
    }

    @Test
    void everyLevelCallMatchesTheCpuEngine() {
        callByCall(spec, plastic);
    }

    @Test
    void everyLevelCallMatchesTheCpuEngineWithDecayToThePrior() {
        // lambda per block and level (the default bundle has none); steps after the first start away from theta0
        EngineSpec decayed = spec.withDecay(new float[] {0.05f, 0.1f, 0.2f, 0.02f}, new float[] {0.03f, 0.3f, 0.0f, 0.08f});
        callByCall(decayed, plastic);
    }

    static void callByCall(EngineSpec spec, Map<String, Tensor> plastic) {
        int d = spec.dModel();
        int v = EngineSpec.VOCAB;
        int c1 = spec.c1();
        Random r = new Random(7);
        try (Engine gpu = new CudaBackendProvider().open(spec, plastic); Engine cpu = CpuBackend.openJava(spec, plastic)) {
            sameState(gpu, cpu, 0, "initial");
            long pos = 0;
            int[] spans = {c1, 3, 5, 1, c1 - 9, 7, c1, 2 * c1, spec.maxSpan()};
            for (int si = 0; si < spans.length; si++) {
                int m = spans[si];
                boolean learnCms = m <= c1 && (pos % c1) + m <= c1;
                boolean learnL0 = si % 4 != 3;
                float[] x = null;
                for (int b = 0; b < spec.nBlocks(); b++) {
                    float[] q = random(r, m * d, 1f);
                    float[] u = random(r, m * d, 1f);
                    float[] og = new float[m * d];
                    float[] oc = new float[m * d];
                    gpu.memory(b, q, u, m, pos, learnL0, og);
                    cpu.memory(b, q, u, m, pos, learnL0, oc);
                    close(og, oc, 1e-4, "memory block " + b + " span " + si);
                    x = random(r, m * d, 1f);
                    float[] yg = new float[m * d];
                    float[] yc = new float[m * d];
                    gpu.cms(b, x, m, yg);
                    cpu.cms(b, x, m, yc);
                    close(yg, yc, 1e-4, "cms block " + b + " span " + si);
                }
                float[] lg = new float[m * v];
                float[] lc = new float[m * v];
                gpu.head(x, m, lg);
                cpu.head(x, m, lc);
                close(lg, lc, 1e-4, "head span " + si);
                if (learnCms) {
                    if (gpu.hasPending()) {
                        byte t = (byte) r.nextInt(256);
                        gpu.accumulatePending(t, true, true);
                        cpu.accumulatePending(t, true, true);
                    }
                    byte[] targets = new byte[m + 3];
                    r.nextBytes(targets);
                    gpu.accumulate(m - 1, targets, 3, true, si % 2 == 0);
                    cpu.accumulate(m - 1, targets, 3, true, si % 2 == 0);
                    if (si == 4) {
                        float[] dl = random(r, 2 * v, 0.01f);
                        gpu.accumulateLogitGradient(2, dl, true, true);
                        cpu.accumulateLogitGradient(2, dl, true, true);
                    }
                    gpu.holdPending();
                    cpu.holdPending();
                    sameState(gpu, cpu, 1e-4, "after the gradients of span " + si);
                    gpu.step(true, si % 3 == 0);
                    cpu.step(true, si % 3 == 0);
                } else {
                    gpu.dropPending();
                    cpu.dropPending();
                }
                sameState(gpu, cpu, 1e-4, "after span " + si);
                pos += m;
            }
            gpu.resetLevel(Level.L1);
            cpu.resetLevel(Level.L1);
            sameState(gpu, cpu, 1e-4, "after resetting L1");
            // a state moves between backends
            gpu.importState(cpu.exportState());
            sameState(gpu, cpu, 0, "after importing the CPU state");
            assertThrows(IllegalArgumentException.class, () -> gpu.resetLevel(Level.E));
            assertThrows(IllegalArgumentException.class, () -> gpu.cms(0, new float[d], spec.maxSpan() + 1, new float[d]));
        }
    }

    @Test
    void theStagingBuffersArePageLockedOnAGpu() {
        CudaBackendProvider p = new CudaBackendProvider();
        p.probe();
        try (CudaEngine e = (CudaEngine) ((FailoverEngine) p.open(spec, plastic)).current()) {
            // the emulator has no page-locked memory; a real driver pins the four staging buffers
            assertEquals(!p.describe().contains("cuda-emu"), e.pinnedStaging(), p.describe());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        Engine e = new CudaBackendProvider().open(spec, plastic);
        e.close();
        e.close();
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.step(true, true));
        assertTrue(ex.getMessage().contains("CudaEngine"), ex.getMessage());
    }
}
