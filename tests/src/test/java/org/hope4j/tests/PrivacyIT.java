package org.hope4j.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Privacy by proof: the packaged program learns a file and saves its state under
 * {@code strace -f -e trace=network} (Debian's strace; tests/run-all.sh installs it). It must never
 * connect, bind, listen, accept or send on anything but a Unix-domain socket: no byte of its user's
 * text can leave the machine. (The JDK's NIO start-up probes whether IPv6 and SO_REUSEPORT exist by
 * opening sockets it never connects; {@code socket()} alone is not network use.) Every file it writes
 * into the state directory is owner-only. Native libraries load from an owner-only cache, extracted
 * once, and nothing is left in the temp directory.
 */
class PrivacyIT {
    @TempDir
    Path tmp;

    @Test
    void observeAndSaveUseNoNetworkAndWriteOwnerOnlyFiles() throws Exception {
        Path text = tmp.resolve("diary.txt");
        Files.writeString(text, "Dear diary, nothing here may leave this machine. ".repeat(200));
        Path state = tmp.resolve("state");
        Path trace = tmp.resolve("trace.txt");
        List<String> cmd = new ArrayList<>(List.of("strace", "-f", "-e", "trace=network", "-o", trace.toString(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", PackagedJarIT.jar().toString(),
                "observe", "--json", "--state", state.toString(), text.toString()));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out");
        assertEquals(0, p.exitValue(), out);
        List<String> calls = Files.readAllLines(trace);
        assertTrue(calls.size() > 0, "strace recorded the run");
        List<String> network = calls.stream()
                .filter(l -> l.matches(".*\\b(connect|bind|listen|accept4?|sendto|sendmsg|sendmmsg)\\(.*"))
                .filter(l -> !l.contains("sa_family=AF_UNIX"))
                .toList();
        assertEquals(List.of(), network, "network calls other than Unix-domain ones");
        try (Stream<Path> files = Files.walk(state)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
                assertTrue(perms.stream().noneMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS")), f + ": " + perms);
            }
        }
    }

    @Test
    void nativeLibrariesLoadFromAnOwnerOnlyCacheAndNothingIsLeftInTheTempDirectory() throws Exception {
        Path cache = tmp.resolve("cache");
        Path temp = Files.createDirectories(tmp.resolve("java-tmp"));
        Path text = Files.writeString(tmp.resolve("t.txt"), "A few bytes to score. ".repeat(20));
        java.nio.file.attribute.FileTime first = null;
        for (int run = 0; run < 2; run++) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dhope4j.cache.dir=" + cache,
                    "-Djava.io.tmpdir=" + temp, "-Dhope4j.graph.javaRows=0", "-jar", PackagedJarIT.jar().toString(), "score", "--json", text.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out");
            assertEquals(0, p.exitValue(), out);
            try (Stream<Path> left = Files.list(temp)) {
                assertEquals(List.of(), left.toList(), "nothing is extracted into (or left in) the temp directory");
            }
            Path ort;
            try (Stream<Path> dirs = Files.list(cache)) {
                ort = dirs.filter(d -> d.getFileName().toString().startsWith("onnxruntime-")).findFirst().orElseThrow();
            }
            for (Path d : List.of(cache, cache.resolve("javacpp"), ort)) {
                assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
            }
            java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(ort.resolve("libonnxruntime.so"));
            if (first == null) {
                first = t;
            } else {
                assertEquals(first, t, "the second start loads the cached library instead of extracting it again");
            }
        }
    }
}
