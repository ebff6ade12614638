package org.hope4j.consolidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hope4j.EpisodicConfig;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Reader;
import org.hope4j.learner.Streams;
import org.hope4j.level.EpisodicLevel;
import org.junit.jupiter.api.Test;

/**
 * The sleep's pretrained reference reads the probe with the learner's own E emptied and put back, not with a new E of
 * the same shape (its whole tables again): the same bits as a new E, bit for bit, and E exactly as it was.
 */
class ProbeWithEmptyTest {

    @Test
    void theLearnersEEmptiedGivesANewEsBitsAndIsPutBackExactly() throws java.io.IOException {
        Bundle bundle = Bundle.loadDefault();
        byte[] probe = bundle.probe();
        byte[] text = java.util.Arrays.copyOf(bundle.rehearsal(), 6000);
        EpisodicConfig config = EpisodicConfig.defaults();
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            HopeStream s = Streams.of(l);
            EpisodicLevel e = new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle));
            String empty = e.digest();
            new Reader(s, e).learn(text, 0, text.length, Learning.OFF, false); // E learns the text, the neural levels stay
            s.setEpisodic(null);
            String learned = e.digest();
            assertNotEquals(empty, learned);
            // a copy through the save format (read into fresh arrays), to learn on beside it afterwards
            EpisodicLevel twin = new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle));
            java.io.ByteArrayOutputStream saved = new java.io.ByteArrayOutputStream();
            try (java.io.DataOutputStream out = new java.io.DataOutputStream(saved)) {
                e.writeTo(out);
            }
            twin.readFrom(new java.io.DataInputStream(new java.io.ByteArrayInputStream(saved.toByteArray())));
            double[] fresh = new Reader(s, new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle))).score(probe, true);
            s.setEpisodic(null);
            double got = SleepSession.probeWithEmpty(s, e, probe);
            assertEquals(fresh[0] / fresh[1], got, 0.0, "the same bits as a new E of the same shape");
            assertEquals(learned, e.digest(), "E is put back exactly");
            // and it learns on as the untouched copy does, from the same place of the same stream
            byte[] more = java.util.Arrays.copyOfRange(bundle.rehearsal(), 6000, 8000);
            HopeStream.Snapshot at = s.snapshot();
            new Reader(s, e).learn(more, 0, more.length, Learning.OFF, false);
            s.restore(at);
            new Reader(s, twin).learn(more, 0, more.length, Learning.OFF, false);
            assertNotEquals(learned, e.digest());
            assertEquals(twin.digest(), e.digest());
        }
    }

    @Test
    void anEmptiedLevelIsANewOneAndAForeignCopyIsRefused() {
        Bundle bundle = Bundle.loadDefault();
        EpisodicConfig config = EpisodicConfig.defaults();
        EpisodicLevel a = new EpisodicLevel(config, EpisodicLevel.Prior.of(bundle));
        String fresh = a.digest();
        byte[] copy = a.deflated();
        EpisodicLevel small = new EpisodicLevel(new EpisodicConfig(14, 16, 14, 4, 30, 10, 6, 2, 512), EpisodicLevel.Prior.neutral());
        assertThrows(IllegalStateException.class, () -> small.restoreDeflated(copy), "another shape's copy");
        a.begin();
        assertThrows(IllegalStateException.class, () -> a.restoreDeflated(copy), "inside a transaction");
        a.rollback();
        a.restoreDeflated(copy);
        assertEquals(fresh, a.digest());
    }
}
