package org.hope4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LearnerOptionsTest {
    @Test
    void theBuilderStartsFromTheDefaultsAndRoundTrips() {
        LearnerOptions d = LearnerOptions.defaults();
        assertEquals(d, LearnerOptions.builder().build());
        assertEquals(d, d.toBuilder().build());
        LearnerOptions o = LearnerOptions.builder().backend("cpu").graphProvider("cuda").graphThreads(3).deviceId(1).experienceBytes(7)
                .singleTimescale(true).rateScale(0.5).episodic(null).stateKey(null).anchorShare(0).build();
        assertEquals(new LearnerOptions("cpu", "cuda", 3, 1, 7, true, 0.5, null, null, 0), o);
        assertEquals(o, o.toBuilder().build());
        assertNull(d.withEpisodic(null).episodic());
        assertEquals(EpisodicConfig.defaults(), d.episodic());
        assertEquals(d.toBuilder().rateScale(0.25).build(), d.withRateScale(0.25));
        assertEquals(d.toBuilder().anchorShare(0).build(), d.withAnchorShare(0));
    }

    @Test
    void buildRefusesAValueOutOfRangeNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnerOptions.builder().graphThreads(0).build());
        assertTrue(e.getMessage().startsWith("graphThreads must be >= 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LearnerOptions.builder().rateScale(101).build());
        assertTrue(e.getMessage().startsWith("rateScale must be a number in [0, 100]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LearnerOptions.builder().graphProvider(null).build());
        assertTrue(e.getMessage().startsWith("graphProvider must be cpu, cuda or tensorrt, found null"), e.getMessage());
    }
}
