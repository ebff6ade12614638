package org.hope4j.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.junit.jupiter.api.Test;

/**
 * Learners opened on one bundle object run on one set of frozen graphs (ONNX Runtime sessions where a call needs them,
 * closed with the last of them; the mixers' weights in Java) and stay independent.
 */
class SharedSessionsTest {
    private static final byte[] TEXT = ("Learners on one bundle share its frozen segments; each keeps its own state, and what one learns "
            + "the other does not see. ").repeat(6).getBytes(StandardCharsets.UTF_8);

    @Test
    void learnersOnOneBundleShareTheSessionsAndStayIndependent() {
        Bundle b = Bundle.load(BundleSource.directory(FrozenGraphsTest.DEFAULT));
        LearnerOptions o = LearnerOptions.defaults();
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        double alone;
        double aloneScore;
        try (Learner other = Hope.open(Bundle.load(BundleSource.directory(FrozenGraphsTest.DEFAULT)), o)) {
            aloneScore = other.score(TEXT).bitsPerByte(); // score changes nothing
            alone = other.observe(TEXT).bitsPerByte();
        }
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get());
        Learner a = Hope.open(b, o);
        int per = FrozenGraphs.OPEN_SESSIONS.get() - before;
        // on the CPU with OpenBLAS and the Vector API (the build's tests) every call runs in Java: no session at all
        boolean inJava = FrozenGraphs.javaRows("cpu") == Integer.MAX_VALUE;
        assertTrue(inJava ? per == 0 : per >= 3, "a learner opened " + per + " sessions");
        Learner c = Hope.open(b, o);
        assertEquals(before + per, FrozenGraphs.OPEN_SESSIONS.get(), "the second learner on the bundle opened none");
        try (Learner separate = Hope.open(b, o.withGraphThreads(2))) {
            assertEquals(before + 2 * per, FrozenGraphs.OPEN_SESSIONS.get(), "other graph options: sessions of their own");
        }
        assertEquals(before + per, FrozenGraphs.OPEN_SESSIONS.get());
        double learnedA = a.observe(TEXT).bitsPerByte();
        assertEquals(alone, learnedA, 0.0, "a shared session computes what a learner's own does");
        assertEquals(aloneScore, c.score(TEXT).bitsPerByte(), 0.0, "the other learner learned nothing from the first");
        a.close(); // the first learner, whose sessions they are: the second still runs on them
        assertEquals(before + per, FrozenGraphs.OPEN_SESSIONS.get());
        try (Learner d = Hope.open(b, o)) { // found through the second learner's view
            assertEquals(before + per, FrozenGraphs.OPEN_SESSIONS.get());
            assertEquals(alone, d.observe(TEXT).bitsPerByte(), 0.0);
            assertEquals(alone, c.observe(TEXT).bitsPerByte(), 0.0);
            // a sleep runs on the same sessions too
            c.sleep(org.hope4j.sleep.SleepRequest.builder().budget(new org.hope4j.sleep.SleepBudget(64, java.time.Duration.ofMinutes(5))).build());
            assertEquals(before + per, FrozenGraphs.OPEN_SESSIONS.get());
        }
        c.close();
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "the last learner closed every session");
    }
}
