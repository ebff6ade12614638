package org.hope4j.tests;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.StateException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full disk never costs the saved state (issue 17): on a small tmpfs (mounted by the test; CI runs
 * as root) a learner saves, the disk is filled, the learner reads on and saves again: the save fails
 * with a {@link StateException} naming the file and the cause, the state on disk still loads and
 * gives exactly the figures it gave before, and once space is back the next save succeeds and leaves
 * no temporary file behind.
 */
class FullDiskIT {
    @TempDir
    Path tmp;

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out.strip());
        }
    }

    private static Map<String, String> files(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                m.put(f.getFileName().toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
            }
        }
        return m;
    }

    private static byte[] text(int n, int seed) {
        StringBuilder b = new StringBuilder();
        java.util.Random r = new java.util.Random(seed);
        String[] words = {"the", "sensor", "reported", "a", "reading", "of", "degrees", "at", "noon", "and", "then", "again", "later"};
        while (b.length() < n) {
            b.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        }
        return b.substring(0, n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aFullDiskLeavesThePreviousStateIntact() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("small-disk"));
        try {
            run(List.of("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt.toString()));
        } catch (IOException e) {
            Assumptions.abort("a tmpfs cannot be mounted here (needs root): " + e.getMessage());
        }
        try {
            Path state = mnt.resolve("state");
            byte[] probe = text(2000, 7);
            double saved;
            try (Learner l = Hope.loadDefault()) {
                l.observe(text(6000, 1));
                l.save(state);
                saved = l.score(probe).bitsPerByte();
            }
            Map<String, String> before = files(state);
            // fill the disk, then read on and try to save
            Path filler = mnt.resolve("filler");
            try (OutputStream out = Files.newOutputStream(filler)) {
                byte[] block = new byte[64 * 1024];
                while (true) {
                    out.write(block);
                }
            } catch (IOException full) {
                assertTrue(String.valueOf(full.getMessage()).contains("No space left"), String.valueOf(full));
            }
            try (Learner l = Hope.loadDefault(state)) {
                assertEquals(saved, l.score(probe).bitsPerByte(), 0.0, "the saved state loads");
                l.observe(text(6000, 2));
                StateException e = assertThrows(StateException.class, () -> l.save(state));
                assertTrue(e.getMessage().startsWith(state.toString()), e.getMessage());
                assertTrue(e.getMessage().contains("No space left"), e.getMessage());
            }
            Map<String, String> after = files(state);
            after.remove(".lock");
            before.remove(".lock");
            for (Map.Entry<String, String> f : before.entrySet()) {
                assertEquals(f.getValue(), after.get(f.getKey()), f.getKey() + " is unchanged");
            }
            try (Learner l = Hope.loadDefault(state)) {
                assertEquals(saved, l.score(probe).bitsPerByte(), 0.0, "the state on disk is the one saved before the disk filled");
            }
            // space back: the next save succeeds and leaves only the state's own files
            Files.delete(filler);
            try (Learner l = Hope.loadDefault(state)) {
                l.observe(text(6000, 3));
                l.save(state);
            }
            try (Stream<Path> s = Files.list(state)) {
                List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
                assertTrue(names.stream().noneMatch(n -> n.contains(".tmp") || n.startsWith(".hope4j-")), "no temporary file left: " + names);
                assertEquals(1, names.stream().filter(n -> n.startsWith("episodic-")).count(), "one episodic table: " + names);
            }
        } finally {
            run(List.of("umount", "-l", mnt.toString()));
        }
    }
}
