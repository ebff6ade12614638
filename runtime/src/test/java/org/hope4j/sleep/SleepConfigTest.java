package org.hope4j.sleep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SleepConfigTest {
    @Test
    void theBuilderStartsFromTheDefaultsAndRoundTrips() {
        SleepConfig d = SleepConfig.defaults();
        assertEquals(d, SleepConfig.builder().build());
        assertEquals(d, d.toBuilder().build());
        assertEquals(600, d.steps());
        assertEquals(SleepConfig.DEFAULT_EPISODIC_AGE, d.episodicAge());
        assertEquals(SleepConfig.DEFAULT_EPISODIC_CONFIDENCE, d.episodicConfidence());
        SleepConfig c = SleepConfig.builder().poolSize(2).rank(4).windowBytes(64).learningRate(3e-4).sampledFraction(0.2)
                .anchorFraction(0.3).anchorWindows(8).promptBytes(16).dream(false).dreamCandidates(1).dreamSteps(3).heldOutBytes(512)
                .evalBytes(4096).probeBound(0.02).prune(true).steps(50).checkEvery(5).patience(2).clearExperience(true)
                .clearEpisodic(true).episodicAge(0).episodicConfidence(0.25).seed(9).build();
        assertEquals(new SleepConfig(2, 4, 64, 3e-4, 0.2, 0.3, 8, 16, false, 1, 3, 512, 4096, 0.02, true, 50, 5, 2, true, true, 0, 0.25, 9), c);
        assertEquals(c, c.toBuilder().build());
        assertNotEquals(d, d.withSteps(599));
        assertEquals(d.toBuilder().steps(599).build(), d.withSteps(599));
        assertEquals(d.toBuilder().episodicAge(0).episodicConfidence(1).build(), d.withEpisodicAge(0, 1));
        assertEquals(d.toBuilder().anchorFraction(0.25).anchorWindows(3).build(), d.withAnchor(0.25, 3));
    }

    @Test
    void buildRefusesAValueOutOfRangeNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SleepConfig.builder().episodicConfidence(1.5).build());
        assertTrue(e.getMessage().startsWith("episodicConfidence must be in [0, 1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SleepConfig.builder().episodicAge(32).build());
        assertTrue(e.getMessage().startsWith("episodicAge must be in 0..31"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SleepConfig.defaults().toBuilder().promptBytes(200).build());
        assertTrue(e.getMessage().startsWith("promptBytes must be < windowBytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SleepConfig.defaults().withEpisodicAge(2, Double.NaN));
    }
}
