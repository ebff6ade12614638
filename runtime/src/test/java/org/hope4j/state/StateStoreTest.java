package org.hope4j.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The metadata checksum of a saved state. */
class StateStoreTest {
    /** A value holding "\nkey=value" could pose as another entry under the line digest of versions 2 and 3. */
    @Test
    void aValueCannotPoseAsAnotherEntry() {
        String v = Integer.toString(StateStore.VERSION);
        Map<String, String> one = Map.of("format_version", v, "frozen", "L1\nposition=7");
        Map<String, String> two = Map.of("format_version", v, "frozen", "L1", "position", "7");
        assertNotEquals(StateStore.metaSha(one), StateStore.metaSha(two));
        assertNotEquals(StateStore.metaSha(Map.of("format_version", v, "a", "b=c")), StateStore.metaSha(Map.of("format_version", v, "a=b", "c")));
    }

    /** States written by versions 2 and 3 keep verifying: their digest is the one they were written with. */
    @Test
    void olderStatesAreDigestedAsTheyWereWritten() {
        for (String old : new String[] {"2", "3"}) {
            Map<String, String> one = Map.of("format_version", old, "frozen", "L1\nposition=7");
            Map<String, String> two = Map.of("format_version", old, "frozen", "L1", "position", "7");
            assertEquals(StateStore.metaSha(one), StateStore.metaSha(two), "the line digest of version " + old);
        }
        // sha256 of "format_version=3\nfrozen=L1\nposition=7\n", computed outside Java
        assertEquals("522e4136ea6fbe4523939a7c7d5ee6f0e3805bf0a9bce23b5dfc1037096b9008", StateStore.metaSha(Map.of("format_version", "3", "frozen", "L1", "position", "7")));
    }

    /** The digest skips its own entry. */
    @Test
    void theDigestSkipsItself() {
        Map<String, String> m = Map.of("format_version", "4", "position", "12");
        java.util.Map<String, String> with = new java.util.HashMap<>(m);
        with.put("metadata_sha256", "0".repeat(64));
        assertEquals(StateStore.metaSha(m), StateStore.metaSha(with));
    }
}
