package org.hope4j.tests;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Level;
import org.hope4j.Sampling;
import org.hope4j.bundle.Bundle;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17, R4: eight threads share one learner (four observe, two score, one generates, one saves)
 * while a ninth sleeps again and again; every call completes, the learner ends at exactly the number
 * of bytes observed, its update counts match that position, and what was saved loads. Sized by
 * counts, not time: {@code -Dhope4j.concurrency.rounds} (default 6 per thread in CI; the README's
 * campaign ran 700: 11 minutes).
 */
class ConcurrencyIT {
    static final int ROUNDS = Integer.getInteger("hope4j.concurrency.rounds", 6);

    @TempDir
    Path tmp;

    @Test
    void eightThreadsAndASleepEndWithExactCountsAndALoadableState() throws Exception {
        byte[] text = Bundle.loadDefault().bytes("rehearsal.txt");
        Path dir = tmp.resolve("state");
        AtomicLong observed = new AtomicLong();
        AtomicInteger sleeps = new AtomicInteger();
        AtomicInteger committed = new AtomicInteger();
        AtomicInteger saves = new AtomicInteger();
        long position;
        Map<Level, Long> counts;
        try (Learner l = Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu"))) {
            l.observe(Arrays.copyOf(text, 4096)); // experience for the first sleep
            observed.addAndGet(4096);
            ExecutorService pool = Executors.newFixedThreadPool(9);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int k = t;
                fs.add(pool.submit(() -> {
                    for (int r = 0; r < ROUNDS; r++) {
                        int off = (int) ((long) (k * ROUNDS + r) * 613 % (text.length - 700));
                        byte[] piece = Arrays.copyOfRange(text, off, off + 100 + (k * 37 + r * 11) % 600);
                        switch (k) {
                            case 0, 1, 2, 3 -> {
                                l.observe(piece);
                                observed.addAndGet(piece.length);
                            }
                            case 4, 5 -> assertTrue(Double.isFinite(l.score(piece).bitsPerByte()));
                            case 6 -> assertEquals(32, l.generate(piece, 32, Sampling.defaults().withSeed(r), null).length);
                            default -> {
                                l.save(dir);
                                saves.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            fs.add(pool.submit(() -> {
                for (int r = 0; r < Math.max(2, ROUNDS / 3); r++) {
                    SleepReport rep = l.sleep(SleepRequest.builder().budget(SleepBudget.defaults()).config(SleepConfig.defaults().withSteps(8)).build());
                    sleeps.incrementAndGet();
                    if (rep.committed()) {
                        committed.incrementAndGet();
                    }
                }
                return null;
            }));
            pool.shutdown();
            // a hang detector, not a timing assertion: the counts above decide the work
            assertTrue(pool.awaitTermination(2, TimeUnit.HOURS), "a call never returned (deadlock?)");
            for (Future<?> f : fs) {
                f.get(); // rethrows any failure of a worker
            }
            position = l.position();
            counts = l.updateCounts();
            // and one sleep with nobody else around: it may commit or roll back, never move the stream
            SleepReport last = l.sleep(SleepRequest.builder().budget(SleepBudget.defaults()).config(SleepConfig.defaults().withSteps(8)).build());
            if (last.committed()) {
                committed.incrementAndGet();
            }
            assertTrue(!(last instanceof SleepReport.Preempted), "nothing preempted the last sleep: " + last.reason());
            assertEquals(position, l.position());
            l.save(dir);
        }
        assertEquals(observed.get(), position, "the learner read exactly the bytes observed, no more, no less");
        long c1 = counts.get(Level.L1);
        assertTrue(Math.abs(c1 - position / 64) <= 1, "L1 stepped once per 64 bytes: " + c1 + " steps at position " + position);
        assertEquals(ROUNDS, saves.get(), "every save returned");
        assertTrue(sleeps.get() >= 2, "the sleeps ran");
        try (Learner back = Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu"))) {
            back.restore(dir);
            assertEquals(position, back.position(), "the final save loads at the final position");
        }
        System.out.printf("concurrency: %d rounds per thread, %d bytes observed, %d sleeps (%d committed), %d saves%n", ROUNDS, observed.get(),
                sleeps.get(), committed.get(), saves.get());
    }
}
