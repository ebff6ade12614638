package org.hope4j.state;

import java.nio.file.Path;
import org.hope4j.EpisodicConfig;
import org.hope4j.StateException;
import org.hope4j.level.EpisodicLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpisodicFileTest {
    @TempDir
    Path dir;

    @Test
    void aRecordedNameThatIsNoFileNameIsAStateExceptionNamingTheField() {
        EpisodicLevel level = new EpisodicLevel(new EpisodicConfig(14, 16, 14, 4, 30, 10, 6, 2, 512), EpisodicLevel.Prior.neutral());
        String digest = "0".repeat(64);
        StateException e = assertThrows(StateException.class, () -> EpisodicFile.load(level, dir, "episodic-a\0b.state", digest, null));
        assertTrue(e.getMessage().contains("episodic_file"), e.getMessage());
        e = assertThrows(StateException.class, () -> EpisodicFile.load(level, dir, "episodic-../x.state", digest, null));
        assertTrue(e.getMessage().contains("episodic_file"), e.getMessage());
        e = assertThrows(StateException.class, () -> EpisodicFile.load(level, dir, "episodic-missing.state", digest, null));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }
}
