package org.hope4j;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.hope4j.bundle.Bundle;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Streams;
import org.hope4j.level.EpisodicLevel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The learner with its episodic level E: recall, score without side effects, persistence, switches. */
class EpisodicLearnerTest {
    static Bundle bundle;
    /** A real paragraph (407 bytes of the GPL preamble) and real filler text, from the test resources. */
    static byte[] paragraph, filler;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        bundle = Bundle.loadDefault();
        byte[] probe = bundle.probe();
        byte[] rehearsal = bundle.rehearsal();
        paragraph = Arrays.copyOfRange(probe, 100, 507);
        filler = rehearsal;
    }

    static Learner learner() {
        return Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"));
    }

    static String digest(Learner l) {
        return Streams.of(l).episodic().digest();
    }

    static byte[] base64(int bytes) {
        byte[] raw = new byte[bytes];
        new java.util.Random(42).nextBytes(raw);
        return Arrays.copyOf(java.util.Base64.getEncoder().encode(raw), bytes);
    }

    /** A JSON list of records (seeded): the shape of a config or data file, regular and repetitive. */
    static byte[] records(int bytes) {
        java.util.Random r = new java.util.Random(3);
        String[] scopes = {"I", "M", "S"};
        String[] types = {"L", "E", "A", "C", "H"};
        StringBuilder sb = new StringBuilder("{\n  \"records\": [\n");
        for (int i = 0; sb.length() < bytes; i++) {
            StringBuilder name = new StringBuilder();
            int n = 3 + r.nextInt(8);
            for (int j = 0; j < n; j++) {
                name.append((char) ((j == 0 ? 'A' : 'a') + r.nextInt(26)));
            }
            sb.append("    {\n      \"id\": \"").append((char) ('a' + i / 676 % 26)).append((char) ('a' + i / 26 % 26)).append((char) ('a' + i % 26))
                    .append("\",\n      \"name\": \"").append(name).append("\",\n      \"scope\": \"").append(scopes[r.nextInt(3)])
                    .append("\",\n      \"type\": \"").append(types[r.nextInt(5)]).append("\"\n    },\n");
        }
        return Arrays.copyOf(sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), bytes);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void aPassageReadAgainKilobytesLaterIsRecalled() {
        byte[] b64 = base64(349);
        for (int gap : new int[] {1024, 8192}) {
            byte[] gapText = Arrays.copyOfRange(filler, 0, gap);
            byte[] lead = concat(paragraph, gapText);
            byte[] leadB64 = concat(b64, gapText);
            // score: E learns inside the call and the call leaves the learner as it was
            try (Learner l = learner()) {
                double first = l.score(paragraph).bitsPerByte();
                double second = (l.score(concat(lead, paragraph)).bits() - l.score(lead).bits()) / paragraph.length;
                assertTrue(second <= 0.3, "score, gap " + gap + ": the second copy costs " + second + " bits/byte (first " + first + ")");
                double b64second = (l.score(concat(leadB64, b64)).bits() - l.score(leadB64).bits()) / b64.length;
                assertTrue(b64second <= 0.5, "score, gap " + gap + ": the second copy of base64 costs " + b64second);
            }
            // observe: prequential, piece by piece
            try (Learner l = learner()) {
                l.observe(lead);
                double second = l.observe(paragraph).bitsPerByte();
                assertTrue(second <= 0.3, "observe, gap " + gap + ": the second copy costs " + second + " bits/byte");
                l.observe(leadB64);
                double b64second = l.observe(b64).bitsPerByte();
                assertTrue(b64second <= 0.5, "observe, gap " + gap + ": the second copy of base64 costs " + b64second);
            }
        }
    }

    @Test
    void scoreAndGenerateLeaveTheEpisodicLevelAsItWas() {
        try (Learner l = learner()) {
            l.observe(Arrays.copyOf(filler, 3000));
            String before = digest(l);
            Score a = l.score(Arrays.copyOfRange(filler, 3000, 9000));
            assertEquals(before, digest(l));
            Score b = l.score(Arrays.copyOfRange(filler, 3000, 9000));
            assertEquals(a.bits(), b.bits(), 0.0);
            byte[] g1 = l.generate("The ".getBytes(), 40, new Sampling(0.8, 0, 7), null);
            assertEquals(before, digest(l));
            byte[] g2 = l.generate("The ".getBytes(), 40, new Sampling(0.8, 0, 7), null);
            assertArrayEquals(g1, g2);
            assertEquals(40, g1.length);
        }
    }

    @Test
    void theMixtureBeatsTheNeuralLevelsAloneOnStructuredText() throws Exception {
        byte[] json = records(12_000);
        double mixed;
        double neural;
        try (Learner l = learner()) {
            mixed = l.observe(json).bitsPerByte();
            assertEquals(json.length, l.updateCounts().get(Level.E));
        }
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            neural = l.observe(json).bitsPerByte();
            assertEquals(null, l.updateCounts().get(Level.E));
        }
        assertTrue(mixed < 0.8 * neural, "mixture " + mixed + " vs neural alone " + neural);
    }

    @Test
    void savedEpisodicTablesRestoreExactlyAndOldFilesGo() throws Exception {
        Path dir = tmp.resolve("state");
        byte[] a = Arrays.copyOf(filler, 4000);
        byte[] b = Arrays.copyOfRange(filler, 4000, 6000);
        Score uninterrupted;
        String saved;
        try (Learner l = learner()) {
            l.observe(Arrays.copyOf(filler, 500));
            l.save(dir);
            l.observe(a);
            l.save(dir);
            saved = digest(l);
            uninterrupted = l.observe(b);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("episodic-")).toList();
        }
        assertEquals(1, files.size(), "one episodic file after two saves: " + files);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.get(0))));
        try (Learner l = learner()) {
            l.restore(dir);
            assertEquals(saved, digest(l));
            assertEquals(uninterrupted.bits(), l.observe(b).bits(), 1e-9);
        }
    }

    @Test
    void aCorruptEpisodicFileIsRefusedAndChangesNothing() throws Exception {
        Path dir = tmp.resolve("state");
        try (Learner l = learner()) {
            l.observe(Arrays.copyOf(filler, 3000));
            l.save(dir);
        }
        Path file;
        try (Stream<Path> s = Files.list(dir)) {
            file = s.filter(p -> p.getFileName().toString().startsWith("episodic-")).findFirst().orElseThrow();
        }
        byte[] raw = Files.readAllBytes(file);
        raw[raw.length / 2] ^= 0x10;
        Files.write(file, raw);
        try (Learner l = learner()) {
            l.observe(Arrays.copyOf(filler, 100));
            String before = digest(l);
            long pos = l.position();
            StateException e = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
            assertEquals(before, digest(l));
            assertEquals(pos, l.position());
        }
        // the tables cut short behind every checksum (inflated, truncated, deflated under a new digest and name, the state
        // re-signed): the refusal says the data ends early (MutationIT found the message "corrupt episodic tables: null")
        Files.write(file, good(file, raw));
        Path cut = EpisodicFiles.reseal(dir, file, b -> Arrays.copyOf(b, b.length / 2));
        try (Learner l = learner()) {
            StateException e = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e.getMessage().contains(cut.getFileName().toString()) && e.getMessage().contains("ends early"), e.getMessage());
        }
        Files.delete(cut);
        try (Learner l = learner()) {
            StateException e = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
    }

    /** The file as saved (the flipped byte flipped back). */
    private static byte[] good(Path file, byte[] flipped) {
        byte[] b = flipped.clone();
        b[b.length / 2] ^= 0x10;
        return b;
    }


    @Test
    void resetAndFreezeOfTheEpisodicLevel() {
        try (Learner l = learner()) {
            String fresh = digest(l);
            l.observe(Arrays.copyOf(filler, 2000));
            String learned = digest(l);
            assertNotEquals(fresh, learned);
            l.freeze(Level.E);
            l.observe(Arrays.copyOfRange(filler, 2000, 3000));
            assertEquals(learned, digest(l), "a frozen E keeps what it held");
            l.unfreeze(Level.E);
            l.reset(Level.E);
            assertEquals(fresh, digest(l));
            assertEquals(0L, l.updateCounts().get(Level.E));
        }
    }

    @Test
    void withoutTheEpisodicLevelTheLearnerIsTheNeuralModel() {
        byte[] text = Arrays.copyOf(filler, 1500);
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            Score s = l.score(text);
            // the neural levels' own bits, summed from the logits the stream hands out
            HopeStream st = Streams.of(l);
            double[] bits = {0};
            st.read(text, 0, text.length, org.hope4j.learner.Learning.L0_ONLY, (pos, lg, row) -> {
                if (pos + 1 < text.length) {
                    bits[0] += HopeStream.bitsOf(lg, row * 256, text[(int) pos + 1]);
                }
            });
            assertEquals(bits[0], s.bits(), 1e-6);
            assertEquals(null, st.episodic());
        }
    }

    @Test
    void everyScoredByteHasItsSurprise() {
        byte[] text = Arrays.copyOf(filler, 3000);
        try (Learner a = learner(); Learner b = learner()) {
            double[] sum = {0};
            long[] n = {0};
            long[] last = {-1};
            Score s = a.observe(text, (pos, bits) -> {
                assertEquals(last[0] + 1 == 0 ? 1 : last[0] + 1, pos, "positions in order, from the first scored byte");
                last[0] = pos;
                sum[0] += bits;
                n[0]++;
            });
            assertEquals(s.scoredBytes(), n[0]);
            assertEquals(s.bits(), sum[0], 1e-9);
            assertEquals(s.bits(), b.observe(text).bits(), 0.0, "the sink changes nothing");
        }
    }
}
