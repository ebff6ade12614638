package org.hope4j;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU learner against the float64 reference over a long run (ARCHITECTURE.md: parity after 1,000
 * update steps): the default bundle reads 64 KiB with every level learning -- 1,023 L1 and 255 L2
 * steps with the bundle's decay to the prior, 4,096 L0 chunks. Compared: the logits of the last 256
 * positions and every L0/L1/L2 tensor at the end, at the manifest's tolerances. The fixture
 * {@code long-parity.safetensors} comes from {@code python3 -m hope_export.long_golden} (model-export/);
 * the stream is built from the bundle (its rehearsal text then its probe, repeated), as there.
 */
class LongParityTest {
    static final Path FIXTURE = Path.of("src/test/resources/org/hope4j/long-parity.safetensors");
    private static final System.Logger LOG = System.getLogger(LongParityTest.class.getName());

    static byte[] longStream(Bundle b, int n) {
        ByteArrayOutputStream base = new ByteArrayOutputStream();
        base.writeBytes(b.rehearsal());
        base.writeBytes(b.probe());
        byte[] one = base.toByteArray();
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = one[i % one.length];
        }
        return out;
    }

    @Test
    void aThousandUpdateStepsStayWithinTheManifestTolerances() throws Exception {
        assertTrue(Files.isRegularFile(FIXTURE), "the fixture is missing: " + FIXTURE.toAbsolutePath());
        Bundle bundle = Bundle.loadDefault();
        Safetensors.File g = Safetensors.read(Files.readAllBytes(FIXTURE), FIXTURE.toString());
        Map<String, String> meta = g.metadata();
        int n = Integer.parseInt(meta.get("stream_bytes"));
        int keep = Integer.parseInt(meta.get("keep_logits"));
        byte[] stream = longStream(bundle, n);
        int v = EngineSpec.VOCAB;
        float[] last = new float[keep * v];
        try (Learner learner = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            HopeStream s = Streams.of(learner);
            s.read(stream, 0, n, Learning.ON, (pos, logits, row) -> {
                if (pos >= n - keep) {
                    System.arraycopy(logits, row * v, last, (int) (pos - (n - keep)) * v, v);
                }
            });
            long[] counts = s.counts();
            assertEquals(Long.parseLong(meta.get("count_l1")), counts[1]);
            assertEquals(Long.parseLong(meta.get("count_l2")), counts[2]);
            assertEquals(Long.parseLong(meta.get("count_l0")), counts[0]);
            assertTrue(counts[1] >= 1000, "the fixture covers " + counts[1] + " L1 steps, fewer than 1,000");
            var tol = bundle.manifest().golden().tolerances();
            double e = ParityTest.relErr(last, g.tensors().get("logits").data());
            assertTrue(e <= tol.logitsMaxRel(), "logits of the last " + keep + " positions: max relative error " + e);
            Map<String, Tensor> state = s.snapshot().tensors();
            double worst = 0;
            int compared = 0;
            for (Map.Entry<String, Tensor> ent : g.tensors().entrySet()) {
                if (ent.getKey().equals("logits")) {
                    continue;
                }
                double se = ParityTest.relErr(state.get(ent.getKey()).data(), ent.getValue().data());
                assertTrue(se <= tol.weightsMaxRel(), ent.getKey() + ": max relative error " + se + " > " + tol.weightsMaxRel());
                worst = Math.max(worst, se);
                compared++;
            }
            assertEquals(6 * bundle.manifest().model().nBlocks(), compared);
            LOG.log(System.Logger.Level.INFO, "long parity over {0} L1 steps: logits {1}, state {2}", counts[1],
                    String.format("%.2e", e), String.format("%.2e", worst));
        }
    }
}
