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
 * The README's main command as a user runs it: the shaded jar in its own JVM (natives, embedded
 * bundle and services all come from the jar), on the demo and on a JSON command.
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

    @Test
    void demoRunsFromTheJarAndWritesItsCurve() throws Exception {
        String[] r = run(tmp, "demo", "--out", "demo-out");
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
