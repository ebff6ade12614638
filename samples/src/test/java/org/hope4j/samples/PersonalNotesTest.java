package org.hope4j.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hope4j.Score;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersonalNotesTest {
    @TempDir
    Path tmp;

    @Test
    void learnsAcrossSessionsAndCompletes() throws Exception {
        Path note = tmp.resolve("note.txt");
        Files.writeString(note, "Monday: water the tomatoes, call the plumber about the kitchen sink.\n".repeat(8));
        Path state = tmp.resolve("state");
        StringBuilder c = new StringBuilder();
        Score first = PersonalNotes.run(state, List.of(note), "Monday: water", c);
        assertTrue(Files.isRegularFile(state.resolve("learner.state")));
        assertTrue(c.length() > 0, "a completion was generated");
        Score second = PersonalNotes.run(state, List.of(note), null, null);
        // the second session starts from the first one's learned state: the same note costs fewer bits
        assertTrue(second.bitsPerByte() < first.bitsPerByte(), first.bitsPerByte() + " -> " + second.bitsPerByte());
    }
}
