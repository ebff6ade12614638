package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main command as a user runs it: the launcher {@code device/hope4j} and the shaded jar in
 * its own JVM (natives, embedded bundle and services all come from the jar), on the demo (through the
 * launcher, so within its bounded heap) and on a JSON command (with {@code java -jar}).
 */
class PackagedJarIT {
    @TempDir
    Path tmp;

    static Path jar() {
        Path jar = Path.of(System.getProperty("user.dir")).resolve("../device/target/hope4j.jar").normalize();
        assertTrue(Files.isRegularFile(jar), "the fat jar must be built before this test: " + jar);
        return jar;
    }

    static String[] run(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out: " + cmd);
        return new String[] {Integer.toString(p.exitValue()), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8)};
    }

    /** Runs {@code device/hope4j} with this JVM as its java, its cache under {@code tmp}, and {@code env} added. */
    static String[] launch(Path cwd, Path cache, java.util.Map<String, String> env, String... args) throws Exception {
        Path launcher = jar().getParent().getParent().resolve("hope4j");
        List<String> cmd = new ArrayList<>(List.of("sh", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        pb.environment().remove("HOPE4J_JAR");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out: " + cmd);
        return new String[] {Integer.toString(p.exitValue()), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8)};
    }

    /**
     * The launcher: its first model-loading command writes an owner-only class-data archive, the next
     * maps it; it runs the Vector API kernels, or the scalar ones with HOPE4J_VECTOR=0; its heap bound is
     * the one it says.
     */
    @Test
    void theLauncherKeepsAnArchiveAndRunsTheVectorKernels() throws Exception {
        Path cache = tmp.resolve("cache");
        String[] r = launch(tmp, cache, java.util.Map.of(), "info", "--json");
        assertEquals("0", r[0], r[2]);
        String described = JsonParser.parseString(r[1].strip()).getAsJsonObject().get("backend_description").getAsString();
        assertTrue(described.contains("element-wise: Vector API"), described);
        List<Path> archives;
        try (var files = Files.list(cache.resolve("hope4j"))) {
            archives = files.filter(f -> f.getFileName().toString().endsWith(".jsa")).toList();
        }
        assertEquals(1, archives.size(), "one archive: " + archives);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(archives.get(0))));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(cache.resolve("hope4j"))));
        r = launch(tmp, cache, java.util.Map.of("JAVA_OPTS", "-Xlog:class+load=info -XX:+PrintFlagsFinal"), "info", "--json");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("source: shared objects file (top)"), "the second run maps the archive");
        assertTrue(r[1].matches("(?s).*MaxHeapSize\\s+=\\s+201326592\\b.*"), "192 MB of heap for info");
        assertTrue(r[1].matches("(?s).*InitialHeapSize\\s+=\\s+33554432\\b.*"), "the heap starts at 32 MB");
        assertTrue(r[1].matches("(?s).*MinHeapFreeRatio\\s+=\\s+10\\b.*") && r[1].matches("(?s).*MaxHeapFreeRatio\\s+=\\s+20\\b.*"),
                "and grows as its live data needs");
        // a heap in gigabytes, or one too small to start at 32 MB, keeps the collector's defaults (and the JVM starts)
        for (String heap : new String[] {"1g", "48m", "64M"}) {
            r = launch(tmp, cache, java.util.Map.of("HOPE4J_HEAP", heap, "JAVA_OPTS", "-XX:+PrintFlagsFinal"), "--version");
            assertEquals("0", r[0], heap + ": " + r[2]);
            assertEquals(heap.equals("64M"), r[1].matches("(?s).*MinHeapFreeRatio\\s+=\\s+10\\b.*"), heap);
        }
        r = launch(tmp, cache, java.util.Map.of("HOPE4J_VECTOR", "0"), "info", "--json");
        assertEquals("0", r[0], r[2]);
        described = JsonParser.parseString(r[1].strip()).getAsJsonObject().get("backend_description").getAsString();
        assertTrue(described.contains("element-wise: scalar Java"), described);
        assertTrue(!r[2].contains("incubator"), "no incubator warning without the module: " + r[2]);
    }

    /** An archive the JVM cannot use (here: one written for another jar) is skipped without a word on standard output. */
    @Test
    void anArchiveForAnotherJarIsSkippedSilently() throws Exception {
        Path cache = tmp.resolve("cache");
        Path a = Files.copy(jar(), tmp.resolve("a.jar"));
        Path b = Files.copy(jar(), tmp.resolve("b.jar"));
        String[] r = launch(tmp, cache, java.util.Map.of("HOPE4J_JAR", a.toString()), "info", "--json");
        assertEquals("0", r[0], r[2]);
        List<Path> first = archives(cache);
        r = launch(tmp, cache, java.util.Map.of("HOPE4J_JAR", b.toString()), "info", "--json");
        assertEquals("0", r[0], r[2]);
        List<Path> both = archives(cache);
        assertEquals(1, first.size());
        assertEquals(2, both.size(), "one archive per jar: " + both);
        Path ofB = both.stream().filter(p -> !p.equals(first.get(0))).findFirst().orElseThrow();
        Files.copy(ofB, first.get(0), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        r = launch(tmp, cache, java.util.Map.of("HOPE4J_JAR", a.toString()), "info", "--json");
        assertEquals("0", r[0], r[2]);
        JsonParser.parseString(r[1]).getAsJsonObject(); // all of standard output is the one JSON object
        assertEquals(1, r[1].strip().lines().count(), r[1]);
    }

    /** Each rebuilt or upgraded jar writes an archive of its own: the launcher keeps the four used last, not every one. */
    @Test
    void oldArchivesArePrunedToTheFourUsedLast() throws Exception {
        Path cache = tmp.resolve("cache");
        Path dir = Files.createDirectories(cache.resolve("hope4j"));
        java.nio.file.attribute.FileTime now = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis());
        for (int i = 1; i <= 6; i++) {
            // older jars' archives, cds-1 the least recently used
            Path old = Files.write(dir.resolve("cds-" + i + ".jsa"), new byte[] {1});
            Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(now.toMillis() - (10 - i) * 3_600_000L));
        }
        Files.write(dir.resolve("other.txt"), new byte[] {1}); // not an archive: left alone
        String[] r = launch(tmp, cache, java.util.Map.of(), "info", "--json");
        assertEquals("0", r[0], r[2]);
        List<String> left = archives(cache).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(4, left.size(), "the new archive and the three used last: " + left);
        assertTrue(left.containsAll(List.of("cds-4.jsa", "cds-5.jsa", "cds-6.jsa")), left.toString());
        assertTrue(Files.exists(dir.resolve("other.txt")));
        // using an archive makes it the most recent: a fifth jar's archive then prunes cds-4, not the one just used
        Path used = archives(cache).stream().filter(p -> !p.getFileName().toString().matches("cds-[456]\\.jsa")).findFirst().orElseThrow();
        Files.setLastModifiedTime(used, java.nio.file.attribute.FileTime.fromMillis(now.toMillis() - 20 * 3_600_000L));
        r = launch(tmp, cache, java.util.Map.of(), "--version");
        assertEquals("0", r[0], r[2]);
        assertTrue(Files.getLastModifiedTime(used).toMillis() > now.toMillis() - 3_600_000L, "touched as it was used");
        Path other = Files.copy(jar(), tmp.resolve("other.jar"));
        r = launch(tmp, cache, java.util.Map.of("HOPE4J_JAR", other.toString()), "info", "--json");
        assertEquals("0", r[0], r[2]);
        left = archives(cache).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(4, left.size(), left.toString());
        assertTrue(!left.contains("cds-4.jsa") && left.contains(used.getFileName().toString()), left.toString());
    }

    private static List<Path> archives(Path cache) throws Exception {
        try (var files = Files.list(cache.resolve("hope4j"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).sorted().toList();
        }
    }

    @Test
    void theLauncherSaysWhatIsMissing() throws Exception {
        String[] r = launch(tmp, tmp.resolve("cache"), java.util.Map.of("HOPE4J_JAR", tmp.resolve("nothing.jar").toString()), "info");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("nothing.jar not found: build it first with: mvn -B -q -DskipTests package"), r[2]);
    }

    @Test
    void demoRunsThroughTheLauncherAndWritesItsCurve() throws Exception {
        String[] r = launch(tmp, tmp.resolve("cache"), java.util.Map.of(), "demo", "--out", "demo-out");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("frozen") && r[1].contains("learning") && r[1].contains("bits/byte"), r[1]);
        assertTrue(r[1].contains("reloaded learned state"), r[1]);
        Path png = tmp.resolve("demo-out/learning-curve.png");
        assertTrue(Files.size(png) > 10_000, "a real PNG");
        byte[] head = Files.readAllBytes(png);
        assertEquals((byte) 0x89, head[0]);
        assertEquals('P', head[1]);
        assertTrue(Files.isRegularFile(tmp.resolve("demo-out/state/learner.state")));
    }

    @Test
    void scoreJsonFromTheJar() throws Exception {
        Path f = tmp.resolve("t.txt");
        Files.writeString(f, "A short text to score, read by the packaged program. ".repeat(10));
        String[] r = run(tmp, "score", "--json", f.toString());
        assertEquals("0", r[0], r[2]);
        var j = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(Files.size(f), j.get("bytes").getAsLong());
        double bpb = j.get("bits_per_byte").getAsDouble();
        assertTrue(bpb > 0.1 && bpb < 8, "the pretrained model beats a uniform guess: " + bpb);
    }
}
