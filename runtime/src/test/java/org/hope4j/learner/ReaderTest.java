package org.hope4j.learner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.hope4j.EpisodicConfig;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.level.EpisodicLevel;
import org.junit.jupiter.api.Test;

/** {@link Reader#scoreOnce}: the bits of {@link Reader#score} without putting E back, and the stream as it began. */
class ReaderTest {

    @Test
    void scoreOnceGivesScoresBitsAndLeavesTheStreamButNotEAsTheyWere() {
        Bundle bundle = Bundle.loadDefault();
        byte[] probe = bundle.probe();
        byte[] before = java.util.Arrays.copyOf(bundle.rehearsal(), 3000);
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            HopeStream s = Streams.of(l);
            l.observe(before); // a stream in mid-text, whose CMS levels have stepped
            EpisodicConfig config = EpisodicConfig.defaults();
            EpisodicLevel kept = new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle));
            EpisodicLevel thrown = new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle));
            String empty = kept.digest();
            assertEquals(empty, thrown.digest());
            var stateBefore = s.snapshot();
            double[] a = new Reader(s, kept).score(probe, true);
            double[] b = new Reader(s, thrown).scoreOnce(probe, true);
            assertArrayEquals(a, b, 0.0, "the same bits, bit for bit");
            assertEquals(empty, kept.digest(), "score puts E back");
            assertNotEquals(empty, thrown.digest(), "scoreOnce does not: E learned the probe");
            s.setEpisodic(null);
            var stateAfter = s.snapshot();
            assertEquals(stateBefore.position(), stateAfter.position());
            for (var e : stateBefore.tensors().entrySet()) {
                assertArrayEquals(e.getValue().data(), stateAfter.tensors().get(e.getKey()).data(), e.getKey());
            }
        }
    }
}
