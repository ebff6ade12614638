package org.hope4j.engine.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Manifest;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA engine against the reference with decay to the prior on L1 and L2: runtime's fixture
 * {@code decay-golden/} (a small seeded model, lambda per block and level in its manifest, 12 L1 and
 * 3 L2 updates over 400 bytes with every level learning; see runtime DecayParityTest), whole and in
 * random pieces, at the manifest's tolerances (logits 1e-4, weights 1e-3). Runs only with
 * {@code -Dhope4j.test.cuda=1} and then fails if CUDA is absent.
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaDecayParityTest {
    static final Path DIR = Path.of("../runtime/src/test/resources/org/hope4j/decay-golden");
    private static final System.Logger LOG = System.getLogger(CudaDecayParityTest.class.getName());

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2})
    void logitsAndLevelsMatchTheReference(long seed) {
        assertTrue(Files.isRegularFile(DIR.resolve("manifest.json")), "the fixture is missing: " + DIR.toAbsolutePath());
        Bundle bundle = Bundle.load(BundleSource.directory(DIR));
        byte[] stream = bundle.bytes("golden/stream.bin");
        Safetensors.File golden = Safetensors.read(bundle.bytes("golden/learn_on.safetensors"), "golden/learn_on.safetensors");
        Manifest.Tolerances tol = bundle.manifest().golden().tolerances();
        int[] sizes = seed == 0 ? new int[] {stream.length} : pieces(stream.length, seed);
        try (Learner learner = Hope.open(bundle, LearnerOptions.defaults().withBackend("cuda").withEpisodic(null))) {
            assertEquals("cuda", learner.backendInfo().selected());
            HopeStream s = Streams.of(learner);
            EngineSpec spec = s.engine().spec();
            assertTrue(spec.hasDecay());
            assertArrayEquals(EngineSpec.of(bundle.manifest(), false, 1.0).decay1(), spec.decay1());
            float[] logits = new float[stream.length * EngineSpec.VOCAB];
            int off = 0;
            for (int n : sizes) {
                s.read(stream, off, n, Learning.ON, (pos, lg, row) ->
                        System.arraycopy(lg, row * EngineSpec.VOCAB, logits, (int) pos * EngineSpec.VOCAB, EngineSpec.VOCAB));
                off += n;
            }
            double e = Golden.relErr(logits, golden.tensors().get("logits").data());
            assertTrue(e <= tol.logitsMaxRel(), "cuda decay logits: max relative error " + e + " > " + tol.logitsMaxRel());
            Map<String, Tensor> state = s.snapshot().tensors();
            double worst = 0;
            double levels = 0;
            for (Map.Entry<String, Tensor> ent : golden.tensors().entrySet()) {
                String k = ent.getKey();
                if (k.equals("logits")) {
                    continue;
                }
                double se = Golden.relErr(state.get(k).data(), ent.getValue().data());
                assertTrue(se <= tol.weightsMaxRel(), "cuda decay " + k + ": max relative error " + se + " > " + tol.weightsMaxRel());
                worst = Math.max(worst, se);
                if (k.contains(".l1.") || k.contains(".l2.")) {
                    levels = Math.max(levels, se);
                }
            }
            long[] counts = s.counts();
            Map<String, String> meta = golden.metadata();
            assertEquals(Long.parseLong(meta.get("count_l1")), counts[1]);
            assertEquals(Long.parseLong(meta.get("count_l2")), counts[2]);
            LOG.log(System.Logger.Level.INFO, "cuda decay parity ({0} pieces): logits max rel error {1}, L1/L2 max rel error {2}, state {3}",
                    sizes.length, String.format("%.2e", e), String.format("%.2e", levels), String.format("%.2e", worst));
        }
    }

    static int[] pieces(int length, long seed) {
        java.util.Random r = new java.util.Random(seed);
        java.util.List<Integer> out = new java.util.ArrayList<>();
        int left = length;
        while (left > 0) {
            int n = Math.min(left, 1 + r.nextInt(r.nextBoolean() ? 5 : 70));
            out.add(n);
            left -= n;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
