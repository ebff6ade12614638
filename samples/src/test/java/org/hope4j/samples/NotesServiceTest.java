package org.hope4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotesServiceTest {
    @TempDir
    Path tmp;

    @Test
    void sleepsWhenIdleAndTheNextSessionContinuesFromTheCommit() throws Exception {
        Path state = tmp.resolve("state");
        String week = ("Monday: water the tomatoes, call the plumber about the kitchen sink.\n"
                + "Tuesday: pay the electricity bill, pick up the parcel at the post office.\n").repeat(40);
        SleepReport report;
        SchedulerOptions quick = SchedulerOptions.defaults().withIdleAfter(Duration.ofMillis(300)).withCheckEvery(Duration.ofMillis(100))
                .withBudget(new SleepBudget(65536, Duration.ofMinutes(20)));
        // a fixed number of steps (the time budget is only an upper bound): a busy machine gives the same sleep
        try (NotesService notes = NotesService.open(state, DevicePolicy.always(), quick, SleepConfig.defaults().withSteps(200))) {
            notes.write(week);
            long deadline = System.nanoTime() + Duration.ofMinutes(25).toNanos();
            while (notes.lastSleep().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            report = notes.lastSleep().orElseThrow();
        }
        assertTrue(report.committed(), report.reason());
        try (NotesService again = NotesService.open(state, DevicePolicy.always(), SchedulerOptions.defaults())) {
            assertEquals(1, again.expertsInUse(), "the committed sleep's expert was saved and restored");
            assertTrue(again.complete("Monday:").length() > 0);
        }
    }
}
