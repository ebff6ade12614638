package org.hope4j;

import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java learner against the reference's golden vectors (model-export, float64, stored as
 * float32). Tolerances are the manifest's golden.tolerances: max |actual - expected| / max(1, max |expected|)
 * (1e-4 on logits and 1e-3 on weights after the 1 KiB stream in the default bundle) — float32 arithmetic against a
 * float64 reference over 1,024 positions and 15 L1 / 3 L2 update steps.
 */
class ParityTest {
    private static final System.Logger LOG = System.getLogger(ParityTest.class.getName());
    static Bundle bundle;
    static byte[] stream;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
        stream = bundle.bytes("golden/stream.bin");
    }

    @AfterAll
    static void done() {
        bundle = null;
    }

    static Safetensors.File golden(String name) {
        return Safetensors.read(bundle.bytes("golden/" + name), "golden/" + name);
    }

    static double relErr(float[] actual, float[] expected) {
        double maxDiff = 0;
        double maxAbs = 1;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
        }
        return maxDiff / maxAbs;
    }

    static Learning learningOf(String run) {
        return switch (run) {
            case "learn_on" -> Learning.ON;
            case "learn_off" -> Learning.OFF;
            case "learn_l0" -> Learning.L0_ONLY;
            default -> throw new IllegalArgumentException(run);
        };
    }

    static float[] runPieces(Learner learner, Learning l, int[] sizes) {
        float[] all = new float[stream.length * EngineSpec.VOCAB];
        HopeStream s = Streams.of(learner);
        int off = 0;
        for (int n : sizes) {
            s.read(stream, off, n, l, (pos, logits, row) ->
                    System.arraycopy(logits, row * EngineSpec.VOCAB, all, (int) pos * EngineSpec.VOCAB, EngineSpec.VOCAB));
            off += n;
        }
        assertEquals(stream.length, off);
        return all;
    }

    static int[] randomSizes(long seed) {
        Random r = new Random(seed);
        int left = stream.length;
        java.util.List<Integer> sizes = new java.util.ArrayList<>();
        while (left > 0) {
            int n = Math.min(left, 1 + r.nextInt(r.nextBoolean() ? 5 : 150));
            sizes.add(n);
            left -= n;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest
    @CsvSource({"learn_on, 0", "learn_on, 1", "learn_on, 2", "learn_off, 0", "learn_l0, 3"})
    void logitsAndStateMatchTheReference(String run, long seed) {
        Safetensors.File g = golden(run + ".safetensors");
        int[] sizes = seed == 0 ? new int[] {stream.length} : randomSizes(seed);
        try (Learner learner = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"))) {
            float[] logits = runPieces(learner, learningOf(run), sizes);
            var tol = bundle.manifest().golden().tolerances();
            double e = relErr(logits, g.tensors().get("logits").data());
            assertTrue(e <= tol.logitsMaxRel(), run + " logits: max relative error " + e + " > " + tol.logitsMaxRel());
            double worstState = 0;
            Map<String, Tensor> state = Streams.of(learner).snapshot().tensors();
            int compared = 0;
            for (Map.Entry<String, Tensor> ent : g.tensors().entrySet()) {
                if (ent.getKey().equals("logits")) {
                    continue;
                }
                Tensor mine = state.get(ent.getKey());
                assertTrue(mine != null, "no state tensor " + ent.getKey());
                double se = relErr(mine.data(), ent.getValue().data());
                assertTrue(se <= tol.weightsMaxRel(), run + " " + ent.getKey() + ": max relative error " + se + " > " + tol.weightsMaxRel());
                worstState = Math.max(worstState, se);
                compared++;
            }
            assertEquals(run.equals("learn_off") ? 0 : (run.equals("learn_on") ? 28 : 12), compared);
            LOG.log(System.Logger.Level.INFO, "parity {0} ({1} pieces): logits max rel error {2}, state max rel error {3}",
                    run, sizes.length, String.format("%.2e", e), String.format("%.2e", worstState));
            long[] counts = Streams.of(learner).counts();
            Map<String, String> meta = g.metadata();
            assertEquals(Long.parseLong(meta.get("count_l0")), counts[0]);
            assertEquals(Long.parseLong(meta.get("count_l1")), counts[1]);
            assertEquals(Long.parseLong(meta.get("count_l2")), counts[2]);
            assertEquals(Long.parseLong(meta.get("pos")), Streams.of(learner).position());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 37})
    void onnxSegmentsMatchTheReference(int n) {
        Safetensors.File g = golden("segments.safetensors");
        var mc = bundle.manifest().model();
        int d = mc.dModel();
        double tol = bundle.manifest().golden().tolerances().segmentsMaxAbs();
        try (var graphs = new org.hope4j.graph.FrozenGraphs(bundle, org.hope4j.graph.FrozenGraphs.Options.defaults(), 64)) {
            float[] tok = g.tensors().get("embed.n" + n + ".tokens").data();
            byte[] bytes = new byte[n];
            for (int i = 0; i < n; i++) {
                bytes[i] = (byte) (int) tok[i];
            }
            float[] x = new float[n * d];
            graphs.embed(bytes, 0, n, x);
            assertTrue(relErr(x, g.tensors().get("embed.n" + n + ".x").data()) <= tol);
            for (int b = 0; b < mc.nBlocks(); b++) {
                String p = "block" + b + ".n" + n + ".";
                float[] q = new float[n * d];
                float[] u = new float[n * d];
                float[] cs = new float[(mc.convWidth() - 1) * 2 * d];
                graphs.mixerIn(b, g.tensors().get(p + "x").data(), n, g.tensors().get(p + "conv_state").data(), q, u, cs);
                assertTrue(relErr(q, g.tensors().get(p + "q").data()) <= tol, p + "q");
                assertTrue(relErr(u, g.tensors().get(p + "u").data()) <= tol, p + "u");
                assertTrue(relErr(cs, g.tensors().get(p + "conv_state_out").data()) <= tol, p + "conv_state_out");
                float[] x2 = new float[n * d];
                graphs.mixerOut(b, g.tensors().get(p + "x").data(), g.tensors().get(p + "o").data(), n, x2);
                assertTrue(relErr(x2, g.tensors().get(p + "x2").data()) <= tol, p + "x2");
            }
        }
    }
}
