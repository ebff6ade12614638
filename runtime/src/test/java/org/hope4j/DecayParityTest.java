package org.hope4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Manifest;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.cpu.CpuBackend;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU learner against the reference with decay to the prior on L1 and L2, on the fixture
 * {@code decay-golden/} (regenerate: {@code /usr/bin/python3 -m hope_export.decay_golden --out
 * ../runtime/src/test/resources/org/hope4j/decay-golden} from {@code model-export/}): a small seeded
 * model whose manifest gives {@code decay} per block beside the rates (L1 0.05 / 0.1, L2 0.08 / 0.04),
 * periods 16 / 32 / 128, and the float64 reference's run over its 400-byte stream with every level
 * learning (12 L1 and 3 L2 updates). Tolerances of the manifest: logits 1e-4, weights 1e-3
 * (max |actual - expected| / max(1, max |expected|)).
 */
class DecayParityTest {
    static final Path DIR = Path.of("src/test/resources/org/hope4j/decay-golden");
    private static final System.Logger LOG = System.getLogger(DecayParityTest.class.getName());
    static Bundle bundle;
    static byte[] stream;
    static Safetensors.File golden;
    static Manifest.Tolerances tol;

    @BeforeAll
    static void load() {
        assertTrue(Files.isRegularFile(DIR.resolve("manifest.json")), "the fixture is missing: " + DIR.toAbsolutePath());
        bundle = Bundle.load(BundleSource.directory(DIR));
        stream = bundle.bytes("golden/stream.bin");
        golden = Safetensors.read(bundle.bytes("golden/learn_on.safetensors"), "golden/learn_on.safetensors");
        tol = bundle.manifest().golden().tolerances();
    }

    static int[] sizes(long seed) {
        if (seed == 0) {
            return new int[] {stream.length};
        }
        Random r = new Random(seed);
        int left = stream.length;
        java.util.List<Integer> out = new java.util.ArrayList<>();
        while (left > 0) {
            int n = Math.min(left, 1 + r.nextInt(r.nextBoolean() ? 5 : 70));
            out.add(n);
            left -= n;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static float[] read(HopeStream s, int[] sizes) {
        float[] all = new float[stream.length * EngineSpec.VOCAB];
        int off = 0;
        for (int n : sizes) {
            s.read(stream, off, n, Learning.ON, (pos, lg, row) ->
                    System.arraycopy(lg, row * EngineSpec.VOCAB, all, (int) pos * EngineSpec.VOCAB, EngineSpec.VOCAB));
            off += n;
        }
        return all;
    }

    /** Worst relative error over the golden's state tensors (conv, L0, L1, L2 of every block); asserts each within tolerance if {@code check}. */
    static double stateError(Map<String, Tensor> state, boolean check, String levelPrefix) {
        double worst = 0;
        for (Map.Entry<String, Tensor> ent : golden.tensors().entrySet()) {
            String k = ent.getKey();
            if (k.equals("logits") || (levelPrefix != null && !k.contains(levelPrefix))) {
                continue;
            }
            Tensor mine = state.get(k);
            assertTrue(mine != null, "no state tensor " + k);
            double e = ParityTest.relErr(mine.data(), ent.getValue().data());
            if (check) {
                assertTrue(e <= tol.weightsMaxRel(), k + ": max relative error " + e + " > " + tol.weightsMaxRel());
            }
            worst = Math.max(worst, e);
        }
        return worst;
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2})
    void logitsAndLevelsMatchTheReference(long seed) {
        int[] sizes = sizes(seed);
        try (Learner learner = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            EngineSpec spec = Streams.of(learner).engine().spec();
            var levels = bundle.manifest().levels();
            for (int b = 0; b < spec.nBlocks(); b++) {
                assertEquals((float) levels.get(1).decay().get(b).doubleValue(), spec.decay1()[b]);
                assertEquals((float) levels.get(2).decay().get(b).doubleValue(), spec.decay2()[b]);
            }
            HopeStream s = Streams.of(learner);
            float[] logits = read(s, sizes);
            double e = ParityTest.relErr(logits, golden.tensors().get("logits").data());
            assertTrue(e <= tol.logitsMaxRel(), "logits: max relative error " + e + " > " + tol.logitsMaxRel());
            Map<String, Tensor> state = s.snapshot().tensors();
            double worst = stateError(state, true, null);
            double levelsWorst = Math.max(stateError(state, true, ".l1."), stateError(state, true, ".l2."));
            assertEquals(14, golden.tensors().size() - 1);
            Map<String, String> meta = golden.metadata();
            long[] counts = s.counts();
            assertEquals(Long.parseLong(meta.get("count_l0")), counts[0]);
            assertEquals(Long.parseLong(meta.get("count_l1")), counts[1]);
            assertEquals(Long.parseLong(meta.get("count_l2")), counts[2]);
            assertEquals(12, counts[1]);
            assertEquals(3, counts[2]);
            assertEquals(Long.parseLong(meta.get("pos")), s.position());
            LOG.log(System.Logger.Level.INFO, "decay parity ({0} pieces): logits max rel error {1}, L1/L2 max rel error {2}, state {3}",
                    sizes.length, String.format("%.2e", e), String.format("%.2e", levelsWorst), String.format("%.2e", worst));
        }
    }

    @Test
    void withoutTheDecayTheFixtureIsMissed() {
        // the same engine without decay (the old rule): the fixture sees the difference far beyond its tolerances
        EngineSpec spec = EngineSpec.of(bundle.manifest(), false, 1.0).withDecay(null, null);
        try (Engine engine = CpuBackend.openJava(spec, bundle.plastic());
             FrozenGraphs graphs = new FrozenGraphs(bundle, FrozenGraphs.Options.defaults(), spec.maxSpan())) {
            HopeStream s = new HopeStream(graphs, engine, bundle.manifest().model().convWidth());
            float[] logits = read(s, sizes(0));
            double e = ParityTest.relErr(logits, golden.tensors().get("logits").data());
            double w = Math.min(stateError(s.snapshot().tensors(), false, "blocks.0.l2.up"), stateError(s.snapshot().tensors(), false, ".l1."));
            LOG.log(System.Logger.Level.INFO, "without decay: logits max rel error {0}, L1 / L2 block 0 up {1}", String.format("%.2e", e),
                    String.format("%.2e", w));
            assertTrue(e > 100 * tol.logitsMaxRel(), "logits without decay: " + e);
            assertTrue(w > 2 * tol.weightsMaxRel(), "weights without decay: " + w);
        }
    }

    @Test
    void rateScaleScalesTheRatesNotTheDecays() {
        Manifest mf = bundle.manifest();
        EngineSpec base = EngineSpec.of(mf, false, 1.0);
        EngineSpec half = EngineSpec.of(mf, false, 0.5);
        EngineSpec none = EngineSpec.of(mf, false, 0.0);
        for (int b = 0; b < base.nBlocks(); b++) {
            assertEquals(0.5f * base.lr1()[b], half.lr1()[b], 1e-12f);
            assertEquals(0.5f * base.lr2()[b], half.lr2()[b], 1e-12f);
            assertEquals(0f, none.lr1()[b]);
        }
        assertArrayEquals(base.decay1(), half.decay1());
        assertArrayEquals(base.decay2(), half.decay2());
        assertArrayEquals(base.decay1(), none.decay1());
        EngineSpec single = EngineSpec.of(mf, true, 1.0);
        assertArrayEquals(base.decay1(), single.decay2());
        assertArrayEquals(base.lr1(), single.lr2());
        assertEquals(base.c1(), single.c2());
        // a bundle without decay (the sleep fixture's): every lambda 0
        EngineSpec plain = EngineSpec.of(Bundle.load(BundleSource.directory(Path.of("src/test/resources/org/hope4j/sleep-golden"))).manifest(), false, 1.0);
        assertTrue(!plain.hasDecay());
        assertArrayEquals(new float[plain.nBlocks()], plain.decay1());
        // the default model was pre-trained with the decay to the prior, and its manifest carries it
        assertTrue(EngineSpec.of(Bundle.loadDefault().manifest(), false, 1.0).hasDecay());
    }
}
