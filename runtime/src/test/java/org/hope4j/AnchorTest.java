package org.hope4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pretrained anchor (LearnerOptions.anchorShare): every prediction is the fixed-share mixture
 * of the adapted model and the bundle's pretrained model reading the same bytes. Checked with the
 * neural levels alone (E off), so that the mixture is the whole prediction.
 */
class AnchorTest {
    static Bundle bundle;
    /** A new domain: machine-written log lines, nothing like the general prose below. */
    static final byte[] DOMAIN = logLines(12288);
    static byte[] prose;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
        prose = bundle.bytes("probe.txt");
    }

    static byte[] logLines(int n) {
        Random r = new Random(7);
        String[] verbs = {"GET", "POST", "PUT", "DELETE"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < n) {
            sb.append(String.format("2026-11-%02d %02d:%02d:%02d %s /api/v%d/items/%d %d %d%n", 1 + r.nextInt(28), r.nextInt(24), r.nextInt(60),
                    r.nextInt(60), verbs[r.nextInt(4)], 1 + r.nextInt(3), r.nextInt(100000), r.nextBoolean() ? 200 : 404, r.nextInt(9000)));
        }
        return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    static Learner neural(double share, double rateScale) {
        return Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null).withAnchorShare(share).withRateScale(rateScale));
    }

    @Test
    void withCmsLevelsThatNeverStepTheMixtureIsThePretrainedModel() {
        // both experts then read the same bytes with the same weights and L0 rules: any misalignment of
        // positions, chunks or contexts between the two streams would show here
        Score with;
        Score without;
        try (Learner l = neural(1.0 / 256, 0)) {
            with = l.observe(DOMAIN).plus(l.observe(prose));
        }
        try (Learner l = neural(0, 0)) {
            without = l.observe(DOMAIN).plus(l.observe(prose));
        }
        assertEquals(without.bits() / without.scoredBytes(), with.bits() / with.scoredBytes(), 1e-5);
    }

    @Test
    void theMixtureCodesWithinTheFixedShareBoundOfEachExpert() {
        double share = 1.0 / 256;
        Path dir = tmp.resolve("s");
        Score mixture;
        try (Learner l = neural(share, 1)) {
            l.observe(DOMAIN);
            l.save(dir);
            mixture = l.score(prose);
        }
        Score adapted;
        try (Learner l = neural(0, 1)) {
            l.restore(dir); // the same CMS levels and L0 context; the anchor's tensors are not read
            adapted = l.score(prose);
        }
        Score pretrained;
        try (Learner l = neural(0, 0)) {
            l.observe(DOMAIN); // what the anchor is: the bundle's CMS levels with the domain in L0's context
            pretrained = l.score(prose);
        }
        long n = mixture.scoredBytes();
        double bound = Math.log(1 / share) / Math.log(2) + n * Math.log(1 / (1 - share)) / Math.log(2) + 1e-3 * n;
        assertTrue(mixture.bits() <= adapted.bits() + bound, "mixture " + mixture.bits() + " vs adapted " + adapted.bits());
        assertTrue(mixture.bits() <= pretrained.bits() + bound, "mixture " + mixture.bits() + " vs pretrained " + pretrained.bits());
        // and the domain did what the anchor guards against: the adapted model alone is clearly worse
        assertTrue(adapted.bits() > pretrained.bits() + bound, "adapted " + adapted.bits() + " pretrained " + pretrained.bits());
    }

    @Test
    void learningADomainLeavesOtherTextNearlyAsThePretrainedModelScoresIt() {
        double before;
        try (Learner l = neural(LearnerOptions.DEFAULT_ANCHOR_SHARE, 1)) {
            before = l.score(prose).bitsPerByte();
        }
        double anchored;
        try (Learner l = neural(LearnerOptions.DEFAULT_ANCHOR_SHARE, 1)) {
            l.observe(DOMAIN);
            anchored = l.score(prose).bitsPerByte();
        }
        double alone;
        try (Learner l = neural(0, 1)) {
            l.observe(DOMAIN);
            alone = l.score(prose).bitsPerByte();
        }
        assertTrue(anchored <= before * 1.02, "after the domain " + anchored + " vs pretrained " + before);
        assertTrue(alone - before > 4 * (anchored - before), "without the anchor " + alone + ", with it " + anchored + ", pretrained " + before);
    }

    @Test
    void aSavedStateContinuesExactlyAndOneSavedWithoutTheAnchorOpens() {
        Path plain = tmp.resolve("plain");
        try (Learner l = neural(0, 1)) {
            l.observe(DOMAIN);
            l.save(plain);
        }
        try (Learner l = neural(1.0 / 256, 1)) {
            l.restore(plain);
            assertEquals(0.5, Streams.of(l).adaptedWeight());
            assertEquals(DOMAIN.length, l.position());
            assertTrue(Double.isFinite(l.observe(prose).bitsPerByte()));
        }
        Path dir = tmp.resolve("anchored");
        Score uninterrupted;
        double weight;
        try (Learner l = neural(1.0 / 256, 1)) {
            l.observe(DOMAIN);
            l.save(dir);
            uninterrupted = l.observe(prose);
            weight = Streams.of(l).adaptedWeight();
        }
        try (Learner l = neural(1.0 / 256, 1)) {
            l.restore(dir);
            Score resumed = l.observe(prose);
            assertEquals(uninterrupted.bits(), resumed.bits(), 1e-9);
            assertEquals(weight, Streams.of(l).adaptedWeight());
        }
    }

    @Test
    void aBadAnchorWeightIsRefusedAndChangesNothing() {
        try (Learner l = neural(1.0 / 256, 1)) {
            l.observe(DOMAIN);
            HopeStream s = Streams.of(l);
            HopeStream.Snapshot good = s.snapshot();
            Map<String, Tensor> bad = new LinkedHashMap<>(good.tensors());
            bad.put("anchor.weight", new Tensor("anchor.weight", new int[] {1}, new float[] {Float.NaN}));
            StateException e = assertThrows(StateException.class, () -> s.restore(new HopeStream.Snapshot(bad, 5, new long[3])));
            assertTrue(e.getMessage().contains("anchor.weight"), e.getMessage());
            assertEquals(DOMAIN.length, s.position());
            assertEquals(good.tensors().get("anchor.weight").data()[0], s.snapshot().tensors().get("anchor.weight").data()[0]);
        }
    }

    @Test
    void theShareIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> LearnerOptions.defaults().withAnchorShare(0.6));
        assertThrows(IllegalArgumentException.class, () -> LearnerOptions.defaults().withAnchorShare(Double.NaN));
    }
}
