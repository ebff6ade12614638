package org.hope4j.consolidation;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.hope4j.Learner;
import org.hope4j.bundle.Tensor;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sleep honours its deadline in every phase (issue 17): the clock jumps past the deadline when the
 * chosen phase begins, and the sleep must stop in that phase, commit nothing and leave the learner as
 * it was. The clock is the sleep's own (moved by the test), so nothing here waits or depends on time.
 */
class SleepDeadlineTest {
    /** Small but complete sleeps: a few steps, dreaming on (so every phase runs). */
    static final SleepConfig CONFIG = SleepConfig.defaults().withSteps(6).withEvalBytes(2048).withAnchor(0, 0).withSampledFraction(0)
            .withDreams(1, 2);

    @org.junit.jupiter.api.BeforeAll
    static void load() {
        LearnerSleepTest.load();
    }

    @AfterEach
    void realClock() {
        Consolidation.clock = System::nanoTime;
    }

    @ParameterizedTest
    @ValueSource(strings = {"evaluate", "consolidate", "dream", "probe"})
    void theDeadlinePassingInAnyPhaseEndsTheSleepWithNothingCommitted(String phase) {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Consolidation.clock = now::get;
        SleepBudget budget = new SleepBudget(1 << 20, Duration.ofMinutes(5), Duration.ofSeconds(30));
        try (Learner l = LearnerSleepTest.learner()) {
            l.observe(LearnerSleepTest.EXPERIENCE);
            Map<String, Tensor> before = LearnerSleepTest.state(l);
            long position = l.position();
            SleepFigures.Experts experts = l.expertsInUse();
            List<String> phases = new CopyOnWriteArrayList<>();
            SleepReport r = l.sleep(SleepRequest.builder().budget(budget).config(CONFIG).listener(e -> {
                if (e instanceof SleepEvent.Phase p && p.progress() == 0) {
                    phases.add(p.name());
                    if (p.name().equals(phase)) {
                        now.addAndGet(Duration.ofSeconds(31).toNanos()); // the deadline passes as this phase begins
                    }
                }
            }).build());
            assertTrue(phases.contains(phase), "the sleep reached the " + phase + " phase: " + phases);
            assertEquals(phase, phases.get(phases.size() - 1), "no later phase began: " + phases);
            SleepReport.RolledBack rb = assertInstanceOf(SleepReport.RolledBack.class, r, r.toString());
            assertTrue(rb.reason().contains("deadline") && rb.reason().contains(phase + " phase"), rb.reason());
            assertEquals(position, l.position());
            assertEquals(experts, l.expertsInUse());
            assertEquals(r, l.lastSleep().orElseThrow(), "the last report is this one");
            Map<String, Tensor> after = LearnerSleepTest.state(l);
            assertEquals(before.keySet(), after.keySet());
            for (String k : before.keySet()) {
                assertArrayEquals(before.get(k).data(), after.get(k).data(), k + " changed");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void withoutTheDeadlineTheSameSleepRunsEveryPhase() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Consolidation.clock = now::get;
        try (Learner l = LearnerSleepTest.learner()) {
            l.observe(LearnerSleepTest.EXPERIENCE);
            List<String> phases = new CopyOnWriteArrayList<>();
            SleepReport r = l.sleep(SleepRequest.builder().budget(new SleepBudget(1 << 20, Duration.ofMinutes(5), Duration.ofSeconds(30))).config(CONFIG).listener(e -> {
                if (e instanceof SleepEvent.Phase p && p.progress() == 0) {
                    phases.add(p.name());
                }
            }).build());
            assertEquals(List.of("evaluate", "consolidate", "dream", "probe"), phases);
            assertFalse(r.reason().contains("deadline"), r.reason());
        }
    }

    /**
     * A sleep bounded by time (no step count) whose consolidation time is longer than its deadline ends
     * its steps in time to measure and commit (it ran into the deadline and committed nothing before).
     * The clock moves 250 ms at every reading, so time is counted in the sleep's own work.
     */
    @org.junit.jupiter.api.Test
    void aConsolidationTimeBeyondTheDeadlineStillLeavesTimeToCommit() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Consolidation.clock = () -> now.addAndGet(Duration.ofMillis(250).toNanos());
        SleepConfig timeBound = CONFIG.withSteps(0).withDream(false);
        try (Learner l = LearnerSleepTest.learner()) {
            l.observe(LearnerSleepTest.EXPERIENCE);
            SleepReport r = l.sleep(SleepRequest.builder().budget(new SleepBudget(1 << 20, Duration.ofMinutes(5), Duration.ofSeconds(60))).config(timeBound).build());
            assertFalse(r.reason().contains("deadline"), r.reason());
            assertTrue(r.figures().steps() > 0, r.toString());
        }
    }

    @org.junit.jupiter.api.Test
    void aBudgetNamesABadDeadlineAndDefaultsToTenMinutesOrTwiceTheConsolidationTime() {
        assertEquals(SleepBudget.DEFAULT_DEADLINE, SleepBudget.defaults().deadline());
        assertEquals(Duration.ofMinutes(30), new SleepBudget(1, Duration.ofMinutes(15)).deadline());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SleepBudget.defaults().withDeadline(Duration.ZERO));
        assertTrue(e.getMessage().contains("deadline"), e.getMessage());
    }
}
