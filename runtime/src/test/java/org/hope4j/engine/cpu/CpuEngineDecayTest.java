package org.hope4j.engine.cpu;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.hope4j.Level;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU engine's L1/L2 step with decay to the prior, element by element against its formula
 * {@code theta <- theta - lambda (theta - theta0) - eta G} (model.py {@code _apply_updates}), on the
 * decay fixture's small model (lambda and eta differ per block and level) with synthetic activations:
 * lambda = 0 is the plain Eq. 71 step bit for bit, lambda > 0 the formula bit for bit, theta0 the
 * bundle's initial value (not the value at the previous step).
 */
class CpuEngineDecayTest {
    static final Path DIR = Path.of("src/test/resources/org/hope4j/decay-golden");
    static Bundle bundle;
    static EngineSpec spec;
    static Map<String, Tensor> plastic;

    @BeforeAll
    static void load() {
        bundle = Bundle.load(BundleSource.directory(DIR));
        spec = EngineSpec.of(bundle.manifest(), false, 1.0);
        plastic = bundle.plastic();
    }

    /** One L1 chunk of random activations through every block and the head, its gradients summed (not stepped). */
    static void feed(Engine e, Random r) {
        int m = spec.c1();
        int d = spec.dModel();
        float[] out = new float[m * d];
        for (int b = 0; b < spec.nBlocks(); b++) {
            float[] x = new float[m * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            e.cms(b, x, m, out);
        }
        e.head(out, m, new float[m * EngineSpec.VOCAB]);
        byte[] targets = new byte[m];
        r.nextBytes(targets);
        e.accumulate(m, targets, 0, true, true);
    }

    static float[] data(Map<String, Tensor> s, String name) {
        return s.get(name).data();
    }

    /**
     * Steps {@code rounds} times (each after one chunk) and checks every L1/L2 weight of every block
     * against the formula with {@code spec}'s rates and decays; returns how many weights the decay term changed.
     */
    static long stepsFollowTheFormula(EngineSpec s, int rounds) {
        long decayed = 0;
        Random r = new Random(5);
        try (Engine e = new CpuEngine(s, plastic, new JavaBlas())) {
            for (int round = 0; round < rounds; round++) {
                final int at = round;
                feed(e, r);
                Map<String, Tensor> before = e.exportState();
                e.step(true, true);
                Map<String, Tensor> after = e.exportState();
                for (int b = 0; b < s.nBlocks(); b++) {
                    for (String lv : new String[] {"l1", "l2"}) {
                        float lr = (lv.equals("l1") ? s.lr1() : s.lr2())[b];
                        float lam = (lv.equals("l1") ? s.decay1() : s.decay2())[b];
                        for (String w : new String[] {"up", "down"}) {
                            String name = "blocks." + b + "." + lv + "." + w;
                            float[] theta = data(before, name);
                            float[] g = data(before, "blocks." + b + "." + lv + ".g_" + w);
                            float[] theta0 = data(plastic, name);
                            float[] now = data(after, name);
                            float[] gNow = data(after, "blocks." + b + "." + lv + ".g_" + w);
                            for (int i = 0; i < theta.length; i++) {
                                float plain = theta[i] - lr * g[i];
                                float want = lam == 0f ? plain : theta[i] - lam * (theta[i] - theta0[i]) - lr * g[i];
                                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(now[i]),
                                        () -> "step " + at + " " + name + ": expected " + want);
                                assertEquals(0f, gNow[i], name + " gradient sum not cleared");
                                if (want != plain) {
                                    decayed++;
                                }
                            }
                        }
                    }
                }
            }
        }
        return decayed;
    }

    @Test
    void theFixtureHasDecayPerBlockAndLevel() {
        assertTrue(spec.hasDecay());
        assertEquals(0.05f, spec.decay1()[0], 1e-7f);
        assertEquals(0.1f, spec.decay1()[1], 1e-7f);
        assertEquals(0.08f, spec.decay2()[0], 1e-7f);
        assertEquals(0.04f, spec.decay2()[1], 1e-7f);
    }

    @Test
    void zeroDecayIsThePlainStepBitForBit() {
        EngineSpec plain = spec.withDecay(null, null);
        assertTrue(!plain.hasDecay());
        assertEquals(0, stepsFollowTheFormula(plain, 3));
        // the constructor without decays is the same engine
        EngineSpec old = new EngineSpec(spec.dModel(), spec.nBlocks(), spec.nHeads(), spec.headDim(), spec.memRows(), spec.midHidden(),
                spec.fastHidden(), spec.c0(), spec.c1(), spec.c2(), spec.etaMax(), spec.eps(), spec.lr1(), spec.lr2(), spec.plastic());
        assertEquals(0, stepsFollowTheFormula(old, 2));
    }

    @Test
    void decayStepsFollowTheFormulaBitForBit() {
        // the first step starts at theta0 (no decay term); the later ones pull back towards it
        assertEquals(0, stepsFollowTheFormula(spec, 1));
        assertTrue(stepsFollowTheFormula(spec, 3) > 0);
    }

    @Test
    void decayIsBoundedByThePriorAndResetKeepsIt() {
        // many chunks: with decay the level stays nearer its initial value than without
        double[] dist = new double[2];
        EngineSpec[] specs = {spec, spec.withDecay(null, null)};
        for (int k = 0; k < 2; k++) {
            Random r = new Random(9);
            try (Engine e = new CpuEngine(specs[k], plastic, new JavaBlas())) {
                for (int i = 0; i < 12; i++) {
                    feed(e, r);
                    e.step(true, i % 4 == 3);
                }
                float[] w = data(e.exportState(), "blocks.1.l1.down");
                float[] w0 = data(plastic, "blocks.1.l1.down");
                for (int i = 0; i < w.length; i++) {
                    dist[k] += (w[i] - w0[i]) * (double) (w[i] - w0[i]);
                }
                e.resetLevel(Level.L1);
                assertEquals(0, java.util.Arrays.compare(w0, data(e.exportState(), "blocks.1.l1.down")));
            }
        }
        assertTrue(dist[0] < dist[1], "with decay " + dist[0] + ", without " + dist[1]);
    }

    @Test
    void gradientsOverMoreThanOneL1ChunkAreRefusedWithTheBound() {
        // a read-only span longer than an L1 chunk (score reads up to maxSpan positions at once)
        int m = Math.min(spec.maxSpan(), 3 * spec.c1() + 8);
        int d = spec.dModel();
        Random r = new Random(3);
        try (Engine e = new CpuEngine(spec, plastic, new JavaBlas())) {
            float[] out = new float[m * d];
            for (int b = 0; b < spec.nBlocks(); b++) {
                float[] x = new float[m * d];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                e.cms(b, x, m, out);
            }
            e.head(out, m, new float[m * EngineSpec.VOCAB]);
            IllegalArgumentException ex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> e.accumulate(m, new byte[m], 0, true, true));
            assertTrue(ex.getMessage().contains("at most " + spec.c1()), ex.getMessage());
            IllegalArgumentException ex2 = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> e.accumulateLogitGradient(m, new float[m * EngineSpec.VOCAB], true, true));
            assertTrue(ex2.getMessage().contains("at most " + spec.c1()), ex2.getMessage());
            // within one chunk it works on the same span
            e.accumulate(spec.c1(), new byte[spec.c1()], 0, true, true);
        }
    }
}
