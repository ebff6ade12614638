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
 * Fault injection: a process that observes, sleeps and commits in a loop is killed with SIGKILL at
 * random moments of its sleeps (consolidating, dreaming, measuring, committing, saving); every
 * time, the state on disk must load and verify, with its expert pool.
 */
class CrashDuringSleepTest {
    @TempDir
    Path tmp;

    @Test
    void killDashNineDuringASleepNeverLeavesAnUnloadableState() throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectories(dir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rnd = new Random(7);
        int committedSeen = 0;
        for (int round = 0; round < 4; round++) {
            Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"), SleepLoop.class.getName(), dir.toString()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                // wait until a new sleep has started, then kill at a random moment inside it
                Path marker = dir.resolve("sleeping.txt");
                String before = Files.exists(marker) ? Files.readString(marker) : "";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (System.nanoTime() < deadline && (!Files.exists(marker) || Files.readString(marker).equals(before))) {
                    assertTrue(p.isAlive(), "the sleep loop died on its own");
                    Thread.sleep(20);
                }
                Thread.sleep(rnd.nextInt(round < 2 ? 2500 : 6000));
            } finally {
                p.destroyForcibly(); // SIGKILL on Linux
                p.waitFor(30, TimeUnit.SECONDS);
            }
            try (Learner l = Hope.loadDefault()) {
                l.restore(dir); // throws if the state were torn or failed its checksum
                int[] pool = l.expertsInUse();
                assertTrue(pool[0] >= 0 && pool[0] <= pool[1], "the pool is consistent");
                committedSeen = Math.max(committedSeen, pool[0]);
                assertTrue(l.position() > 0, "restored state has learned positions");
            }
        }
        System.out.println("kill -9 during sleep: 4 kills, state always loaded; experts in use at most " + committedSeen);
    }
}
