package org.hope4j.consolidation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.learner.Streams;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One sleep of the Java runtime against the PyTorch reference ({@code hope_export/sleep.py}) on
 * the fixture {@code sleep-golden/} (regenerate: {@code /usr/bin/python3 -m hope_export.sleep golden
 * --out ../runtime/src/test/resources/org/hope4j/sleep-golden} from {@code model-export/}): a small
 * seeded model observes 3.5 KiB of experience with every level learning (L1 at rate 0.05, so the
 * teacher differs visibly from the student), then sleeps with the deterministic configuration
 * (no sampled, anchor or dream windows; a fixed number of steps), so both sides draw the same
 * windows and start the same expert from the same SplitMix64 seed.
 *
 * <p>Tolerances, for float32 arithmetic against the reference run in float64: bits/byte figures
 * within 1e-4 absolute; the expert's factors and L2 after the sleep within 1e-3 of the tensor's
 * max-abs (max |actual - expected| / max |expected|); step count, slot and the guard's decision
 * exact.
 */
class SleepParityTest {
    /** The fixture; {@code -Dhope4j.sleepGolden=DIR} runs the same checks on another one (e.g. more steps). */
    static final Path DIR = Path.of(System.getProperty("hope4j.sleepGolden", "src/test/resources/org/hope4j/sleep-golden"));
    static final double BITS_TOL = 1e-4;
    static final double REL_TOL = 1e-3;
    private static final System.Logger LOG = System.getLogger(SleepParityTest.class.getName());

    static Safetensors.File golden;
    static Consolidation.Result result;
    static SleepReport report;
    static Map<String, Tensor> teacher;
    static Map<String, Tensor> committed;
    static Map<String, Tensor> plastic;

    @BeforeAll
    static void sleepOnce() {
        assertTrue(Files.isRegularFile(DIR.resolve("manifest.json")), "the fixture is missing: " + DIR.toAbsolutePath());
        Bundle bundle = Bundle.load(BundleSource.directory(DIR));
        golden = Safetensors.read(bundle.bytes("golden/sleep.safetensors"), "golden/sleep.safetensors");
        float[] e = golden.tensors().get("experience").data();
        byte[] experience = new byte[e.length];
        for (int i = 0; i < e.length; i++) {
            experience[i] = (byte) (int) e[i];
        }
        Map<String, String> m = golden.metadata();
        try (Learner learner = Hope.load(DIR, LearnerOptions.defaults().withBackend("cpu"))) {
            learner.observe(experience);
            teacher = Streams.of(learner).snapshot().tensors();
            report = learner.sleep(SleepRequest.builder().budget(new SleepBudget(Long.parseLong(m.get("maxBytes")), Duration.ofMinutes(5))).config(config(m)).build());
            result = SleepSession.lastOnThisThread();
            committed = Streams.of(learner).snapshot().tensors();
            plastic = bundle.plastic();
        }
        assertNotNull(result, "the learner recorded no sleep");
    }

    @AfterAll
    static void done() {
        golden = null;
        result = null;
        report = null;
        teacher = null;
        committed = null;
        plastic = null;
    }

    static SleepConfig config(Map<String, String> m) {
        return SleepConfig.builder().poolSize(i(m, "poolSize")).rank(i(m, "rank")).windowBytes(i(m, "windowBytes"))
                .learningRate(d(m, "learningRate")).sampledFraction(d(m, "sampledFraction")).anchorFraction(d(m, "anchorFraction"))
                .anchorWindows(i(m, "anchorWindows")).promptBytes(i(m, "promptBytes")).dream(b(m, "dream")).dreamCandidates(i(m, "dreamCandidates"))
                .dreamSteps(i(m, "dreamSteps")).heldOutBytes(i(m, "heldOutBytes")).evalBytes(i(m, "evalBytes")).probeBound(d(m, "probeBound"))
                .prune(b(m, "prune")).steps(i(m, "steps")).checkEvery(i(m, "checkEvery")).patience(i(m, "patience"))
                .clearExperience(b(m, "clearExperience")).seed(Long.parseLong(m.get("config.seed"))).build();
    }

    private static int i(Map<String, String> m, String k) {
        return Integer.parseInt(m.get("config." + k));
    }

    private static double d(Map<String, String> m, String k) {
        return Double.parseDouble(m.get("config." + k));
    }

    private static boolean b(Map<String, String> m, String k) {
        return Boolean.parseBoolean(m.get("config." + k));
    }

    static double relErr(float[] actual, float[] expected) {
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    private static float[] golden(String name) {
        Tensor t = golden.tensors().get(name);
        assertNotNull(t, "golden/sleep.safetensors has no tensor " + name);
        return t.data();
    }

    @Test
    void stepsSlotAndDecisionMatch() {
        Map<String, String> m = golden.metadata();
        assertEquals(Integer.parseInt(m.get("steps")), result.steps(), "steps");
        assertEquals(Integer.parseInt(m.get("slot")), result.slot(), "slot");
        assertEquals(Integer.parseInt(m.get("evictedSlot")), result.evictedSlot(), "evicted slot");
        assertEquals(Long.parseLong(m.get("consolidatedBytes")), result.consolidatedBytes(), "consolidated bytes");
        assertEquals(Boolean.parseBoolean(m.get("accepted")), result.accepted(), "guard decision: " + result.reason());
        assertEquals(result.accepted(), report instanceof SleepReport.Committed, "report " + report);
    }

    /** The teacher (the state after observe) against the reference's: the sleep starts from the same model. */
    @Test
    void teacherMatches() {
        StringBuilder sb = new StringBuilder();
        double worst = 0;
        for (String name : golden.tensors().keySet()) {
            if (!name.startsWith("teacher.")) {
                continue;
            }
            String key = name.substring("teacher.".length());
            double err = relErr(teacher.get(key).data(), golden(name));
            worst = Math.max(worst, err);
            sb.append(String.format(Locale.ROOT, "%s %.2e; ", key, err));
        }
        LOG.log(System.Logger.Level.INFO, "sleep parity, teacher after observe (max rel): " + sb);
        assertTrue(worst <= REL_TOL, "the observed state differs by more than " + REL_TOL + " of its max-abs: " + sb);
    }

    /** A committed sleep leaves L2 = base + expert (the reference's l2After) and L1 at its pretrained value. */
    @Test
    void commitSwapsL2AndResetsL1() {
        assertTrue(result.accepted(), "the fixture's sleep is meant to commit: " + result.reason());
        for (int b = 0; b < result.expert().nb; b++) {
            for (String w : new String[] {"up", "down"}) {
                String l2 = "blocks." + b + ".l2." + w;
                assertTrue(java.util.Arrays.equals(result.l2After().get(l2).data(), committed.get(l2).data()), l2 + " is not l2After");
                String l1 = "blocks." + b + ".l1." + w;
                assertTrue(java.util.Arrays.equals(plastic.get(l1).data(), committed.get(l1).data()), l1 + " is not reset");
            }
        }
    }

    @Test
    void bitsPerByteMatch() {
        Map<String, String> m = golden.metadata();
        double[] actual = {result.recentBefore(), result.recentResetOnly(), result.recentAfter(), result.probeBefore(), result.probeAfter(),
                result.probePretrained(), result.probeResetOnly()};
        String[] names = {"recentBefore", "recentResetOnly", "recentAfter", "probeBefore", "probeAfter", "probePretrained", "probeResetOnly"};
        StringBuilder sb = new StringBuilder();
        double worst = 0;
        for (int k = 0; k < names.length; k++) {
            double expected = Double.parseDouble(m.get(names[k]));
            double err = Math.abs(actual[k] - expected);
            worst = Math.max(worst, err);
            sb.append(String.format(Locale.ROOT, "%s %.6f vs %.6f (%.2e); ", names[k], actual[k], expected, err));
        }
        LOG.log(System.Logger.Level.INFO, "sleep parity, bits/byte: " + sb);
        assertTrue(worst <= BITS_TOL, "bits/byte differ by more than " + BITS_TOL + ": " + sb);
    }

    @Test
    void expertFactorsMatch() {
        Expert e = result.expert();
        assertNotNull(e, "no expert");
        StringBuilder sb = new StringBuilder();
        double worst = 0;
        for (int b = 0; b < e.nb; b++) {
            float[][] actual = {e.u[b], e.v[b], e.p[b], e.q[b]};
            String[] names = {"u", "v", "p", "q"};
            for (int k = 0; k < 4; k++) {
                double err = relErr(actual[k], golden("expert.blocks." + b + "." + names[k]));
                worst = Math.max(worst, err);
                sb.append(String.format(Locale.ROOT, "%d.%s %.2e; ", b, names[k], err));
            }
        }
        LOG.log(System.Logger.Level.INFO, "sleep parity, expert factors (max rel): " + sb);
        assertTrue(worst <= REL_TOL, "expert factors differ by more than " + REL_TOL + " of their max-abs: " + sb);
    }

    @Test
    void l2AfterMatches() {
        StringBuilder sb = new StringBuilder();
        double worst = 0;
        for (Map.Entry<String, Tensor> t : result.l2After().entrySet()) {
            double err = relErr(t.getValue().data(), golden("l2After." + t.getKey()));
            worst = Math.max(worst, err);
            sb.append(String.format(Locale.ROOT, "%s %.2e; ", t.getKey(), err));
        }
        LOG.log(System.Logger.Level.INFO, "sleep parity, L2 after (max rel): " + sb);
        assertTrue(worst <= REL_TOL, "L2 after the sleep differs by more than " + REL_TOL + " of its max-abs: " + sb);
    }
}
