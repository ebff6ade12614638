package org.hope4j.device.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Score;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's profiles without HTTP: names, lazy opening, saving and closing driven by counted ticks. */
class ProfilesTest {
    static final byte[] TEXT = "Monday: water the tomatoes. Tuesday: call the plumber about the sink. ".repeat(20).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    Profiles profiles(int maxOpen, long saveEvery, int evictAfter) {
        Profiles.Options o = new Profiles.Options(tmp.resolve("root"), maxOpen, saveEvery, evictAfter, false, DevicePolicy.always(),
                SchedulerOptions.defaults(), dir -> resume(Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu").withEpisodic(null)
                        .withAnchorShare(0)), dir));
        return new Profiles(o, new ServeMetrics());
    }

    static Learner resume(Learner l, Path dir) {
        if (Learner.hasSavedState(dir)) {
            l.restore(dir);
        }
        return l;
    }

    @Test
    void namesArePlainAndDirectoriesOwnerOnly() throws Exception {
        try (Profiles p = profiles(2, 1 << 20, 3)) {
            for (String bad : List.of("", "..", "../x", "a/b", "A", "-x", "a b", "x".repeat(65), "é")) {
                ApiException e = assertThrows(ApiException.class, () -> p.create(bad), bad);
                assertEquals("bad_profile_name", e.code());
                assertEquals(400, e.status());
            }
            assertTrue(p.create("notes_1"));
            assertFalse(p.create("notes_1"));
            assertEquals(List.of("notes_1"), p.names());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("root/profiles/notes_1"))));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("root"))));
            assertEquals(404, assertThrows(ApiException.class, () -> p.with("nobody", e -> null)).status());
        }
    }

    @Test
    void ticksSaveWhatIsUnsavedAndCloseIdleProfiles() {
        try (Profiles p = profiles(4, 1 << 20, 2)) {
            p.create("a");
            Score s = p.with("a", e -> {
                Score sc = e.learner.observe(TEXT);
                p.learned(e, sc);
                return sc;
            });
            assertEquals(TEXT.length, s.bytes());
            assertFalse(Learner.hasSavedState(p.stateDir("a")), "below --save-every nothing is saved at once");
            p.tick();
            assertTrue(Learner.hasSavedState(p.stateDir("a")), "a tick saves what is unsaved");
            assertEquals(List.of("a"), p.openNames());
            p.tick();
            assertEquals(List.of(), p.openNames(), "idle for evictAfterTicks ticks: closed");
            long pos = p.with("a", e -> e.learner.position()); // reopened from its saved state
            assertEquals(TEXT.length, pos);
        }
    }

    @Test
    void saveEveryBytesAndMaxOpenAndOneSleepAtATime() {
        try (Profiles p = profiles(1, TEXT.length, 100)) {
            p.create("a");
            p.create("b");
            p.with("a", e -> {
                p.learned(e, e.learner.observe(TEXT));
                return null;
            });
            assertTrue(Learner.hasSavedState(p.stateDir("a")), "--save-every reached: saved at once");
            p.with("b", e -> e.learner.position());
            assertEquals(List.of("b"), p.openNames(), "max open 1: opening b closed a");
            assertTrue(p.holdDevice("a"));
            assertFalse(p.holdDevice("b"), "one sleep at a time on the device");
            assertEquals("a", p.sleepingProfile());
            p.releaseDevice("a");
            assertTrue(p.holdDevice("b"));
        }
    }

    @Test
    void deleteErasesEverything() {
        try (Profiles p = profiles(2, 1, 100)) {
            p.create("gone");
            p.with("gone", e -> {
                p.learned(e, e.learner.observe(TEXT));
                return null;
            });
            assertTrue(p.delete("gone"));
            assertFalse(Files.exists(tmp.resolve("root/profiles/gone")));
            assertFalse(p.delete("gone"));
            assertEquals(List.of(), p.openNames());
        }
    }
}
