package org.hope4j.learner;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Sampling;
import org.hope4j.bundle.Bundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle anchor: while the CMS levels hold the bundle's weights the pretrained anchor would repeat the
 * learner's own computation, so it is not run, and it takes the learner's context when the CMS levels first
 * step. Everything a caller sees must be what running the anchor all along gives.
 */
class IdleAnchorTest {
    static Bundle bundle;
    static byte[] prose;
    static final byte[] DOMAIN = ("[2026-11-30 12:00:01] GET /api/v1/items/4711 200 1532\n"
            + "[2026-11-30 12:00:02] POST /api/v2/items 201 88\n").repeat(40).getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
        prose = java.util.Arrays.copyOf(bundle.bytes("probe.txt"), 1500);
    }

    @AfterEach
    void restoreFlag() {
        HopeStream.skipIdleAnchor = true;
    }

    private static LearnerOptions options() {
        return LearnerOptions.defaults().withBackend("cpu");
    }

    /** Every figure of a session that scores, generates, observes, saves, reopens and scores again. */
    private List<Object> session(boolean skip, Path dir) {
        HopeStream.skipIdleAnchor = skip;
        List<Object> out = new ArrayList<>();
        try (Learner l = Hope.open(bundle, options())) {
            HopeStream s = Streams.of(l);
            out.add(l.score(prose).bits());
            assertEquals(skip, s.anchorIdle(), "a fresh learner's anchor repeats it");
            out.add(l.generate("The ".getBytes(StandardCharsets.US_ASCII), 24, new Sampling(0.8, 0, 7), null));
            out.add(l.observe(java.util.Arrays.copyOf(prose, 20)).bits());
            assertEquals(skip, s.anchorIdle(), "20 bytes are shorter than L1's period: no step yet");
            out.add(l.observe(DOMAIN).bits());
            assertFalse(s.anchorIdle(), "the CMS levels stepped");
            out.add(l.score(prose).bits());
            out.add(l.generate("GET ".getBytes(StandardCharsets.US_ASCII), 24, new Sampling(0.8, 0, 7), null));
            l.save(dir);
        }
        try (Learner l = Hope.open(bundle, options())) {
            l.restore(dir);
            assertFalse(Streams.of(l).anchorIdle(), "a state read from a file never leaves the anchor idle");
            out.add(l.score(prose).bits());
            out.add(l.observe(DOMAIN).bits());
        }
        return out;
    }

    @Test
    void theIdleAnchorChangesNothingACallerSees() {
        List<Object> skipped = session(true, tmp.resolve("a"));
        List<Object> run = session(false, tmp.resolve("b"));
        assertEquals(run.size(), skipped.size());
        for (int i = 0; i < run.size(); i++) {
            if (run.get(i) instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) skipped.get(i), "figure " + i);
            } else {
                assertEquals((double) run.get(i), (double) skipped.get(i), 0.0, "figure " + i);
            }
        }
    }

    @Test
    void aPretrainedLearnerNeverRunsTheAnchorAndAFreshContextKeepsItAwakeOnceTheCmsLevelsLearned() {
        try (Learner l = Hope.open(bundle, options())) {
            HopeStream s = Streams.of(l);
            l.score(prose);
            l.generate("The ".getBytes(StandardCharsets.US_ASCII), 8, new Sampling(1, 0, 1), null);
            assertTrue(s.anchorIdle());
            assertEquals(0, s.anchorPosition(), "the anchor read nothing");
            assertFalse(s.anchorOpened(), "an anchor that was only ever idle has no engine yet");
            l.observe(java.util.Arrays.copyOf(prose, 40));
            assertFalse(s.anchorOpened(), "40 bytes: no CMS step yet");
            l.save(tmp.resolve("idle"));
            assertFalse(s.anchorOpened(), "saving an idle anchor needs no engine");
            l.observe(DOMAIN);
            assertTrue(s.anchorOpened(), "the first CMS step woke the anchor: its engine opened");
            assertFalse(s.anchorIdle());
            assertEquals(s.position(), s.anchorPosition(), "woken, the anchor follows");
            s.resetContext();
            assertFalse(s.anchorIdle(), "the CMS levels differ from the bundle's");
        }
    }
}
