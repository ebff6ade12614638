package org.hope4j.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;

/**
 * The golden parity check of runtime's ParityTest, for any backend: the default bundle's golden runs
 * (model-export's float64 reference) through a learner, read whole or in random pieces. Tolerances of
 * the manifest: max |actual - expected| / max(1, max |expected|) of 1e-4 on logits and 1e-3 on the
 * weights after the 1 KiB stream.
 */
final class Golden {
    private static final System.Logger LOG = System.getLogger(Golden.class.getName());
    static final Bundle BUNDLE = Bundle.loadDefault();
    static final byte[] STREAM = BUNDLE.bytes("golden/stream.bin");

    private Golden() {
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

    static int[] randomSizes(long seed) {
        if (seed == 0) {
            return new int[] {STREAM.length};
        }
        Random r = new Random(seed);
        int left = STREAM.length;
        List<Integer> sizes = new ArrayList<>();
        while (left > 0) {
            int n = Math.min(left, 1 + r.nextInt(r.nextBoolean() ? 5 : 150));
            sizes.add(n);
            left -= n;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    static Learning learningOf(String run) {
        return switch (run) {
            case "learn_on" -> Learning.ON;
            case "learn_off" -> Learning.OFF;
            case "learn_l0" -> Learning.L0_ONLY;
            default -> throw new IllegalArgumentException(run);
        };
    }

    /** Runs golden run {@code run} on backend {@code backend} ("auto", "cpu", "cuda"); returns the backend used. */
    static String check(String backend, String run, long seed) {
        Safetensors.File g = Safetensors.read(BUNDLE.bytes("golden/" + run + ".safetensors"), "golden/" + run + ".safetensors");
        int[] sizes = randomSizes(seed);
        try (Learner learner = Hope.open(BUNDLE, LearnerOptions.defaults().withBackend(backend))) {
            float[] logits = new float[STREAM.length * EngineSpec.VOCAB];
            HopeStream s = Streams.of(learner);
            int off = 0;
            for (int n : sizes) {
                s.read(STREAM, off, n, learningOf(run), (pos, lg, row) ->
                        System.arraycopy(lg, row * EngineSpec.VOCAB, logits, (int) pos * EngineSpec.VOCAB, EngineSpec.VOCAB));
                off += n;
            }
            String used = learner.backendInfo().selected();
            double e = relErr(logits, g.tensors().get("logits").data());
            assertTrue(e <= 1e-4, used + " " + run + " logits: max relative error " + e + " > 1e-4");
            Map<String, Tensor> state = s.snapshot().tensors();
            double worst = 0;
            int compared = 0;
            for (Map.Entry<String, Tensor> ent : g.tensors().entrySet()) {
                if (ent.getKey().equals("logits")) {
                    continue;
                }
                Tensor mine = state.get(ent.getKey());
                assertNotNull(mine, used + ": no state tensor " + ent.getKey());
                double se = relErr(mine.data(), ent.getValue().data());
                assertTrue(se <= 1e-3, used + " " + run + " " + ent.getKey() + ": max relative error " + se + " > 1e-3");
                worst = Math.max(worst, se);
                compared++;
            }
            assertEquals(run.equals("learn_off") ? 0 : (run.equals("learn_on") ? 28 : 12), compared);
            long[] counts = s.counts();
            Map<String, String> meta = g.metadata();
            assertEquals(Long.parseLong(meta.get("count_l0")), counts[0]);
            assertEquals(Long.parseLong(meta.get("count_l1")), counts[1]);
            assertEquals(Long.parseLong(meta.get("count_l2")), counts[2]);
            assertEquals(Long.parseLong(meta.get("pos")), s.position());
            LOG.log(System.Logger.Level.INFO, "parity {0} on {1} ({2} pieces): logits max rel error {3}, state max rel error {4}",
                    run, used, sizes.length, String.format("%.2e", e), String.format("%.2e", worst));
            return used;
        }
    }
}
