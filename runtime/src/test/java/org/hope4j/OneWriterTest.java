package org.hope4j;

import java.nio.file.Files;
import java.nio.file.Path;
import org.hope4j.state.StateLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One writer per state directory (StateLock): a second learner saving there is refused, a dead writer's litter is removed. */
class OneWriterTest {
    @TempDir
    Path tmp;

    static Learner learner() {
        return Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu").withEpisodic(null));
    }

    @Test
    void aSecondLearnerSavingTheSameDirectoryIsRefusedUntilTheFirstCloses() throws Exception {
        Path dir = tmp.resolve("state");
        Learner first = learner();
        try (Learner second = learner()) {
            first.observe("The first writer learns this line.");
            first.save(dir);
            byte[] saved = Files.readAllBytes(dir.resolve("learner.state"));
            second.observe("The second writer learns another line, longer than the first one.");
            StateException e = assertThrows(StateException.class, () -> second.save(dir));
            assertTrue(e.getMessage().startsWith(dir + ": another learner is saving into this state directory (in this process)"),
                    e.getMessage());
            assertArrayEquals(saved, Files.readAllBytes(dir.resolve("learner.state")), "the first writer's state is untouched");
            first.save(dir); // the holder keeps saving
            first.close();
            second.save(dir); // the lock went with the first learner
            try (Learner back = learner()) {
                back.restore(dir);
                assertTrue(back.position() == second.position(), "the second writer's state is on disk now");
            }
        } finally {
            first.close();
        }
    }

    @Test
    void theFirstSaveRemovesTheTempFilesOfAWriterThatDied() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("state"));
        Path litter = dir.resolve(".learner.state.0123456789ab.tmp");
        Path other = dir.resolve("notes.txt");
        Files.write(litter, new byte[1000]);
        Files.writeString(other, "not ours");
        try (Learner l = learner()) {
            l.observe("some text");
            l.save(dir);
        }
        assertFalse(Files.exists(litter), "a dead writer's temp file is removed once the directory is locked");
        assertTrue(Files.exists(other), "other files stay");
        assertTrue(Files.exists(dir.resolve(StateLock.FILE)));
    }

    @Test
    void aFifoOrADeviceLinkInPlaceOfTheStateIsRefusedAtOnce() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("odd"));
        Path state = dir.resolve("learner.state");
        org.junit.jupiter.api.Assertions.assertEquals(0, new ProcessBuilder("mkfifo", state.toString()).start().waitFor());
        try (Learner l = learner()) {
            assertFalse(Learner.hasSavedState(dir), "a FIFO is no saved state");
            StateException e = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e.getMessage().equals(state + " is not a regular file (a FIFO, socket or device)"), e.getMessage());
            Files.delete(state);
            Files.createSymbolicLink(state, Path.of("/dev/zero"));
            e = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e.getMessage().contains("learner.state is a symbolic link out of"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertEquals(0, l.position(), "nothing changed");
        }
    }
}
