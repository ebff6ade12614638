package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection: a process that learns and saves in a loop is killed with SIGKILL at random
 * moments (often in the middle of a save); every time, the state on disk must load and verify.
 */
class CrashDuringSaveTest {
    @TempDir
    Path tmp;

    @Test
    void killDashNineNeverLeavesAnUnloadableState() throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectories(dir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rnd = new Random(42);
        int kills = 0;
        long positions = -1;
        for (int round = 0; round < 4; round++) {
            Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"), SaveLoop.class.getName(), dir.toString()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                // wait for at least one more completed save, then kill at a random moment
                Path marker = dir.resolve("saves.txt");
                String before = Files.exists(marker) ? Files.readString(marker) : "";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && (!Files.exists(marker) || Files.readString(marker).equals(before))) {
                    assertTrue(p.isAlive(), "the save loop died on its own");
                    Thread.sleep(20);
                }
                Thread.sleep(rnd.nextInt(400));
            } finally {
                p.destroyForcibly(); // SIGKILL on Linux
                p.waitFor(30, TimeUnit.SECONDS);
            }
            kills++;
            try (Learner l = Hope.loadDefault()) {
                l.restore(dir); // throws if the file were torn
                assertTrue(l.position() > positions || l.position() > 0, "restored state has learned positions");
                positions = l.position();
            }
            try (var files = Files.list(dir)) {
                // a leftover temp file from the killed save is allowed; the state file itself is whole
                assertTrue(files.anyMatch(f -> f.getFileName().toString().equals("learner.state")));
            }
        }
        assertTrue(kills == 4);
    }
}
