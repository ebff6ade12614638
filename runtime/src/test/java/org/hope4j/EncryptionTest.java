package org.hope4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Encryption at rest (StateKey, AES-256-GCM): with a key no byte sequence of the user's text appears in
 * the state directory (a planted phrase is searched for in every file, temp files included); the right
 * key restores exactly, no key or a wrong key is a clear error that changes nothing.
 */
class EncryptionTest {
    static final String PHRASE = "planted-phrase-7f3a: meet me at the old mill at nine";
    static final byte[] TEXT = ("Diary. " + PHRASE + ". Then groceries and the dentist.\n").repeat(40).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    static Learner learner(StateKey key) {
        return Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu").withStateKey(key));
    }

    static StateKey randomKey() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return StateKey.of(raw);
    }

    /** Files of {@code dir} (recursively) holding {@code needle}. */
    static List<Path> holding(Path dir, byte[] needle) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).filter(p -> {
                try {
                    byte[] b = Files.readAllBytes(p);
                    outer:
                    for (int i = 0; i + needle.length <= b.length; i++) {
                        for (int j = 0; j < needle.length; j++) {
                            if (b[i + j] != needle[j]) {
                                continue outer;
                            }
                        }
                        return true;
                    }
                    return false;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
        }
    }

    @Test
    void withAKeyThePlantedPhraseIsNowhereOnDiskAndOnlyThatKeyOpensTheState() throws Exception {
        byte[] needle = "meet me at the old mill".getBytes(StandardCharsets.UTF_8);
        Path plain = tmp.resolve("plain");
        try (Learner l = learner(null)) {
            l.observe(TEXT);
            l.save(plain);
        }
        assertFalse(holding(plain, needle).isEmpty(), "the search finds the phrase in a plain state (the experience buffer holds the text)");

        StateKey key = randomKey();
        Path sealed = tmp.resolve("sealed");
        long position;
        double score;
        try (Learner l = learner(key)) {
            l.observe(TEXT);
            l.save(sealed);
            position = l.position();
            score = l.score("Then groceries.").bitsPerByte();
        }
        assertEquals(List.of(), holding(sealed, needle), "no file of the encrypted state holds the phrase");
        byte[] meta = "hope4j-state".getBytes(StandardCharsets.US_ASCII); // the state's metadata, in plain files
        assertFalse(holding(plain, meta).isEmpty());
        assertEquals(List.of(), holding(sealed, meta), "not even the state's metadata is readable");

        try (Learner back = learner(key)) {
            back.restore(sealed);
            assertEquals(position, back.position());
            assertEquals(score, back.score("Then groceries.").bitsPerByte(), 1e-9);
        }
        try (Learner noKey = learner(null)) {
            StateException e = assertThrows(StateException.class, () -> noKey.restore(sealed));
            assertTrue(e.getMessage().contains("learner.state: the file is encrypted"), e.getMessage());
            assertEquals(0, noKey.position(), "nothing changed");
        }
        try (Learner wrong = learner(randomKey())) {
            StateException e = assertThrows(StateException.class, () -> wrong.restore(sealed));
            assertTrue(e.getMessage().contains("cannot be decrypted with this key"), e.getMessage());
            assertEquals(0, wrong.position(), "nothing changed");
        }
        // a keyed learner reads a plain state (written before it had a key) and seals it at its next save
        try (Learner l = learner(key)) {
            l.restore(plain);
            l.save(plain);
        }
        assertEquals(List.of(), holding(plain, needle));
    }

    @Test
    void keyFilesAreOwnerOnlyAndNeverLogged() throws Exception {
        Path file = tmp.resolve("state.key");
        StateKey made = StateKey.generate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(made.toString().contains(Files.readString(file).strip()), "toString hides the key");
        Path dir = tmp.resolve("s");
        try (Learner l = learner(made)) {
            l.observe(TEXT);
            l.save(dir);
        }
        try (Learner l = learner(StateKey.fromFile(file))) {
            l.restore(dir); // the file's key is the key that sealed it
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        StateException e = assertThrows(StateException.class, () -> StateKey.fromFile(file));
        assertTrue(e.getMessage().contains("may be read by others") && e.getMessage().contains("chmod 600"), e.getMessage());
        Path junk = Files.writeString(tmp.resolve("junk.key"), "not a key");
        Files.setPosixFilePermissions(junk, PosixFilePermissions.fromString("rw-------"));
        e = assertThrows(StateException.class, () -> StateKey.fromFile(junk));
        assertTrue(e.getMessage().contains("not a state key"), e.getMessage());
    }
}
