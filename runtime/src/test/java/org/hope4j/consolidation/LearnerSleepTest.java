package org.hope4j.consolidation;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.learner.Streams;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepFixture;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.hope4j.sleep.SleepScheduler;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sleep on the default model: consolidation keeps what L1 learned, the guard, preemption, the pool, persistence. */
class LearnerSleepTest {
    static Bundle bundle;
    /** What the learner observes: structured log lines unlike the pre-training prose. */
    static final byte[] EXPERIENCE = SleepFixture.text(1, 12288);
    /** Quick sleeps for the tests that are not about how much a sleep learns. */
    static final SleepConfig QUICK = SleepConfig.defaults().withSteps(6).withDream(false).withAnchor(0, 0).withSampledFraction(0)
            .withEvalBytes(2048);
    static final SleepBudget LONG = new SleepBudget(1 << 20, Duration.ofMinutes(5));

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
    }

    /** Sleep distils the neural levels (teacher and student run without the episodic level E), so these learners have no E. */
    static Learner learner() {
        return Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null));
    }

    static Map<String, Tensor> state(Learner l) {
        return Streams.of(l).snapshot().tensors();
    }

    static SleepReport sleep(Learner l, SleepConfig c, SleepBudget b, Path dir) {
        return l.sleep(SleepRequest.builder().budget(b).config(c).saveTo(dir).build());
    }

    @Test
    void consolidationKeepsPartOfTheOnlineGainWithL1ResetAndGeneralTextWithinBound() {
        double pretrained;
        try (Learner fresh = learner()) {
            byte[] eval = java.util.Arrays.copyOfRange(EXPERIENCE, Math.max(0, EXPERIENCE.length - SleepConfig.defaults().evalBytes()), EXPERIENCE.length);
            pretrained = fresh.score(eval).bitsPerByte(); // a fresh learner reads from a fresh context too
        }
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            List<SleepEvent> events = new CopyOnWriteArrayList<>();
            // a fixed number of steps (time is only an upper bound), so a busy machine gives the same sleep
            SleepReport r = l.sleep(SleepRequest.builder().budget(new SleepBudget(1 << 20, Duration.ofMinutes(30))).config(SleepConfig.defaults().withSteps(500)).listener(events::add).build());
            Consolidation.Result x = SleepSession.lastOnThisThread();
            System.out.printf("sleep: pretrained %.4f, online %.4f, L1 reset without sleep %.4f, after sleep %.4f; probe %.4f -> %.4f"
                    + " (pretrained model %.4f, L1 reset without sleep %.4f); %d steps, dreams %d/%d, %.1f s%n", pretrained, x.recentBefore(),
                    x.recentResetOnly(), x.recentAfter(), x.probeBefore(), x.probeAfter(), x.probePretrained(), x.probeResetOnly(), x.steps(),
                    x.dreamsKept(), x.dreamsTried(), r.seconds());
            assertInstanceOf(SleepReport.Committed.class, r, r.reason());
            double gain = pretrained - x.recentBefore();
            assertTrue(gain > 1.0, "online learning gains on the fixture: " + gain);
            assertTrue(x.recentResetOnly() > x.recentBefore() + 0.5 * gain, "resetting L1 alone loses most of the gain");
            // a good part of the gain is kept with L1 reset, while general text stays within 1 % of what L1 reset alone leaves
            // (measured: 37 %; the guard against the teacher this replaced let the expert keep 61 % by damaging general text)
            assertTrue(pretrained - x.recentAfter() >= 0.25 * gain, "after the sleep, with L1 reset, a good part of the gain is kept: "
                    + (pretrained - x.recentAfter()) / gain);
            assertTrue(x.recentAfter() < x.recentResetOnly() - 0.2, "the sleep keeps more than resetting L1 alone");
            // the guard's reference is the pretrained model (the bundle's L1 and L2), which the fresh learner's probe score is
            // the guard's references: the pretrained model, and L1 reset without the sleep (the expert adds no damage)
            assertTrue(x.probeAfter() <= Math.max(x.probePretrained(), x.probeResetOnly()) * 1.01, "probe within 1 %");
            try (Learner fresh = learner()) {
                assertEquals(fresh.score(bundle.probe()).bitsPerByte(), x.probePretrained(), 1e-4, "the pretrained model's probe");
            }
            assertEquals(x.recentAfter(), r instanceof SleepReport.Committed c ? c.recentBitsPerByteAfter() : 0, 0);
            // the live learner now runs the student: L1 at its pretrained value, one expert in use
            Map<String, Tensor> init = bundle.plastic();
            Map<String, Tensor> now = state(l);
            for (int b = 0; b < bundle.manifest().model().nBlocks(); b++) {
                assertArrayEquals(init.get("blocks." + b + ".l1.up").data(), now.get("blocks." + b + ".l1.up").data());
                assertArrayEquals(x.l2After().get("blocks." + b + ".l2.up").data(), now.get("blocks." + b + ".l2.up").data());
            }
            assertEquals(new SleepFigures.Experts(1, 4), l.expertsInUse());
            assertTrue(events.stream().anyMatch(e -> e instanceof SleepEvent.Phase p && p.name().equals("consolidate")));
            assertTrue(events.stream().anyMatch(e -> e instanceof SleepEvent.Phase p && p.name().equals("probe") && p.progress() == 1));
        }
    }

    @Test
    void aSleepAgainstAClosingLearnerSaysSo() {
        Learner l = learner();
        l.observe(EXPERIENCE);
        l.close();
        SleepReport r = sleep(l, QUICK, LONG, null);
        assertInstanceOf(SleepReport.Preempted.class, r, r.reason());
        assertTrue(r.reason().contains("closing"), r.reason());
    }

    @Test
    void aForcedRegressionRollsBackAndChangesNothing() {
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            Map<String, Tensor> before = state(l);
            SleepReport r = sleep(l, QUICK.withSteps(20).withLearningRate(0.5), LONG, null);
            assertInstanceOf(SleepReport.RolledBack.class, r, r.reason());
            assertTrue(r.reason().contains("retention probe at") || r.reason().contains("NaN"), r.reason());
            assertEquals(before, state(l));
            assertEquals(new SleepFigures.Experts(0, 4), l.expertsInUse());
        }
    }

    @Test
    void nonFiniteValuesRollBack() {
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            Map<String, Tensor> before = state(l);
            SleepReport r = sleep(l, QUICK.withSteps(3).withLearningRate(1e30), LONG, null);
            assertInstanceOf(SleepReport.RolledBack.class, r, r.reason());
            assertTrue(r.reason().contains("NaN or infinite") || r.reason().contains("retention probe at"), r.reason());
            assertEquals(before, state(l));
        }
    }

    @Test
    void tooLittleExperienceRollsBackWithTheReason() {
        try (Learner l = learner()) {
            l.observe("short");
            SleepReport r = sleep(l, QUICK, LONG, null);
            assertInstanceOf(SleepReport.RolledBack.class, r);
            assertTrue(r.reason().startsWith("nothing to consolidate"), r.reason());
        }
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            // plenty of experience, but a byte budget below one window: the budget is named, not the experience
            SleepReport r = sleep(l, QUICK, new SleepBudget(QUICK.windowBytes() - 1, Duration.ofMinutes(5)), null);
            assertInstanceOf(SleepReport.RolledBack.class, r);
            assertTrue(r.reason().startsWith("the budget's 127 bytes are fewer than one window of 128 bytes"), r.reason());
        }
    }

    @Test
    void aUserCallPreemptsTheSleepAndTheStateIsUntouched() throws Exception {
        try (Learner l = learner();
                SleepScheduler s = l.sleepWhenIdle(DevicePolicy.always(),
                        SchedulerOptions.defaults().withBudget(new SleepBudget(1 << 20, Duration.ofMinutes(2))), SleepConfig.defaults(), null)) {
            l.observe(EXPERIENCE);
            Map<String, Tensor> before = state(l);
            CountDownLatch consolidating = new CountDownLatch(1);
            s.addListener(e -> {
                if (e instanceof SleepEvent.Phase p && p.name().equals("consolidate")) {
                    consolidating.countDown();
                }
            });
            AtomicReference<SleepReport> report = new AtomicReference<>();
            AtomicReference<Long> ended = new AtomicReference<>();
            Thread t = new Thread(() -> {
                report.set(s.sleepNow("test"));
                ended.set(System.nanoTime());
            });
            t.start();
            assertTrue(consolidating.await(60, TimeUnit.SECONDS), "the sleep reached consolidation");
            Thread.sleep(300);
            long call = System.nanoTime();
            l.score("a user call".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            long answered = System.nanoTime();
            t.join(10_000);
            assertNotNull(report.get(), "the sleep returned");
            assertInstanceOf(SleepReport.Preempted.class, report.get(), report.get().reason());
            System.out.printf("preemption: the user call was answered after %.1f ms, the sleep stopped %.1f ms after the call%n",
                    (answered - call) / 1e6, (ended.get() - call) / 1e6);
            assertTrue(ended.get() - call < TimeUnit.SECONDS.toNanos(2), "the sleep stops promptly");
            assertEquals(before, state(l));
            assertEquals(new SleepFigures.Experts(0, 4), l.expertsInUse());
        }
    }

    @Test
    void aCommitIsSavedWithThePoolAndRestores() {
        Path dir = tmp.resolve("state");
        Map<String, Tensor> after;
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            SleepReport r = sleep(l, QUICK, LONG, dir);
            assertInstanceOf(SleepReport.Committed.class, r, r.reason());
            after = state(l);
        }
        try (Learner l = learner()) {
            l.restore(dir);
            assertEquals(after, state(l));
            assertEquals(new SleepFigures.Experts(1, 4), l.expertsInUse());
            assertEquals(EXPERIENCE.length, l.recentExperience().length);
        }
    }

    @Test
    void aFullPoolFoldsOrPrunesItsOldestExpert() {
        for (boolean prune : new boolean[] {false, true}) {
            SleepConfig one = QUICK.withPoolSize(1).withPrune(prune);
            try (Learner l = learner()) {
                l.observe(EXPERIENCE);
                assertInstanceOf(SleepReport.Committed.class, sleep(l, one, LONG, null));
                Expert first = SleepSession.lastOnThisThread().expert();
                Map<String, Tensor> mid = state(l);
                l.observe(SleepFixture.text(2, 4096));
                Map<String, Tensor> beforeSecond = state(l);
                SleepReport r = sleep(l, one.withSeed(9), LONG, null);
                assertInstanceOf(SleepReport.Committed.class, r, r.reason());
                Consolidation.Result x = SleepSession.lastOnThisThread();
                assertEquals(0, x.evictedSlot());
                assertTrue(r.reason().contains(prune ? "pruned" : "folded"), r.reason());
                assertArrayEquals(new int[] {1, 1}, new int[] {l.expertsInUse().inUse(), l.expertsInUse().slots()});
                // the public report carries the same figures
                SleepFigures f = l.lastSleep().orElseThrow().figures();
                assertEquals(x.steps(), f.steps());
                assertEquals(0, f.evictedSlot());
                assertEquals(x.probePretrained(), f.probePretrained());
                assertEquals(new SleepFigures.Experts(1, 1), f.experts());
                // L2 after = L2 before the sleep (- the old expert when pruning) + the new expert
                int nb = bundle.manifest().model().nBlocks();
                for (int b = 0; b < nb; b++) {
                    float[] up = beforeSecond.get("blocks." + b + ".l2.up").data().clone();
                    float[] down = beforeSecond.get("blocks." + b + ".l2.down").data().clone();
                    if (prune) {
                        first.addTo(b, up, down, -1f);
                    }
                    x.expert().addTo(b, up, down, 1f);
                    float[] got = state(l).get("blocks." + b + ".l2.down").data();
                    for (int i = 0; i < down.length; i++) {
                        assertEquals(down[i], got[i], 1e-5f);
                    }
                }
                assertTrue(mid != null);
            }
        }
    }

    @Test
    void aCommitCanClearTheExperience() {
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            SleepReport r = sleep(l, QUICK.withClearExperience(true), LONG, null);
            assertInstanceOf(SleepReport.Committed.class, r, r.reason());
            assertEquals(0, l.recentExperience().length);
        }
    }

    @Test
    void thePapersTriggerSleepsAtAnL1Boundary() throws Exception {
        try (Learner l = learner()) {
            List<SleepEvent> events = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            try (SleepScheduler s = l.sleepWhenIdle(DevicePolicy.always(), SchedulerOptions.defaults().withSleepAtLevelBoundary(true), QUICK, null)) {
                s.addListener(e -> {
                    events.add(e);
                    if (e instanceof SleepEvent.Finished) {
                        done.countDown();
                    }
                });
                l.observe(EXPERIENCE); // crosses many L1 boundaries; the idle trigger is 5 minutes away
                assertTrue(done.await(120, TimeUnit.SECONDS), "a boundary sleep ran");
            }
            assertTrue(events.stream().anyMatch(e -> e instanceof SleepEvent.Started st && st.trigger().equals("level boundary L1")),
                    events.toString());
        }
    }

    @Test
    void theIdleSchedulerSleepsTheLearnerAndSavesTheCommit() throws Exception {
        Path dir = tmp.resolve("idle");
        try (Learner l = learner()) {
            l.observe(EXPERIENCE);
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<SleepReport> report = new AtomicReference<>();
            try (SleepScheduler s = l.sleepWhenIdle(DevicePolicy.always(),
                    SchedulerOptions.defaults().withIdleAfter(Duration.ofMillis(200)).withCheckEvery(Duration.ofMillis(50)), QUICK, dir)) {
                s.addListener(e -> {
                    if (e instanceof SleepEvent.Finished f) {
                        report.set(f.report());
                        done.countDown();
                    }
                });
                assertTrue(done.await(120, TimeUnit.SECONDS), "an idle sleep ran");
            }
            assertInstanceOf(SleepReport.Committed.class, report.get(), report.get().reason());
            try (Learner back = learner()) {
                back.restore(dir);
                assertEquals(state(l), state(back));
            }
        }
    }

    @Test
    void closingTheLearnerStopsTheSchedulerItMadeAndClosingTheSchedulerDetachesIt() throws Exception {
        SleepScheduler kept;
        try (Learner l = learner()) {
            SleepScheduler s = l.sleepWhenIdle(DevicePolicy.always(), SchedulerOptions.defaults(), QUICK, null);
            s.close(); // detaches: user calls no longer reach it
            l.observe(EXPERIENCE);
            kept = l.sleepWhenIdle(DevicePolicy.always(), SchedulerOptions.defaults(), QUICK, null);
        }
        assertTrue(kept.isClosed(), "the learner's close stops the scheduler it made");
        kept.touch(); // ignored after close
        kept.close(); // idempotent
    }

    @Test
    void aCommitCanAgeTheEpisodicTables() {
        byte[] again = java.util.Arrays.copyOfRange(EXPERIENCE, 4096, 8192);
        // E kept as it is; counts capped at 0; the default (counts capped at 1, half of each slot's confidence kept)
        SleepConfig[] arms = {QUICK.withEpisodicAge(SleepConfig.EPISODIC_KEEP, 1), QUICK.withEpisodicAge(0, 1),
            QUICK.withEpisodicAge(SleepConfig.DEFAULT_EPISODIC_AGE, SleepConfig.DEFAULT_EPISODIC_CONFIDENCE)};
        double[] bits = new double[arms.length];
        for (int k = 0; k < arms.length; k++) {
            try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"))) {
                l.observe(EXPERIENCE);
                long read = l.updateCounts().get(org.hope4j.Level.E);
                SleepReport r = sleep(l, arms[k].withProbeBound(1.0), LONG, null);
                assertInstanceOf(SleepReport.Committed.class, r, r.reason());
                assertEquals(read, l.updateCounts().get(org.hope4j.Level.E), "E keeps what it read (aged or not)");
                bits[k] = l.score(again).bitsPerByte();
            }
        }
        // the same sleep (seeded) every time: only E's tables differ, so text E has seen costs a little more
        for (int k = 1; k < arms.length; k++) {
            assertTrue(bits[k] > bits[0] && bits[k] < 1.25 * bits[0], "arm " + k + ": " + bits[k] + " against kept " + bits[0]);
        }
        assertThrows(IllegalArgumentException.class, () -> QUICK.withEpisodicAge(32));
    }

    /** The percentages of a commit's E figure: "E aged (the learner's probe +0.12 % ...; aged: +1.30 %, ...)". */
    static double[] percents(String reason) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([+-]\\d+\\.\\d+) %").matcher(reason.substring(reason.indexOf("; E ")));
        List<Double> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(Double.parseDouble(m.group(1)));
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void aCommitAgesEFurtherOrEmptiesItWhileTheLearnersProbeStandsAboveThePretrainedLearners() {
        LearnerOptions withE = LearnerOptions.defaults().withBackend("cpu");
        byte[] probe = bundle.probe();
        double pretrained;
        try (Learner fresh = Hope.open(bundle, withE)) {
            pretrained = fresh.score(probe).bitsPerByte();
        }
        Path start = tmp.resolve("start");
        try (Learner l = Hope.open(bundle, withE)) {
            l.observe(EXPERIENCE);
            l.save(start);
        }
        SleepConfig c = QUICK.withProbeBound(1.0); // the consolidation's guard lets it commit; the seam below moves E's guard
        // within the bound: E only aged, and the figure is the learner's probe against what a fresh learner scores
        try (Learner l = Hope.open(bundle, withE)) {
            l.restore(start);
            SleepReport r = sleep(l, c, LONG, null);
            assertInstanceOf(SleepReport.Committed.class, r, r.reason());
            assertTrue(r.reason().contains("; E aged (the learner's probe "), r.reason());
            double now = l.score(probe).bitsPerByte();
            assertEquals(100 * (now / pretrained - 1), percents(r.reason())[0], 0.011, r.reason());
            assertTrue(l.updateCounts().get(org.hope4j.Level.E) > 0);
        }
        // the pretrained learner's figure made small: every step stays above the bound, so E is emptied
        double reference = 0.5;
        double[] steps; // the probe after aging, after recalibrating, after aging further
        try (Learner l = Hope.open(bundle, withE)) {
            l.restore(start);
            SleepSession.REFERENCE_ON_THREAD.set(x -> reference);
            SleepReport r = sleep(l, c, LONG, null);
            assertInstanceOf(SleepReport.Committed.class, r, r.reason());
            assertTrue(r.reason().contains("; E emptied ("), r.reason());
            assertEquals(0, l.updateCounts().get(org.hope4j.Level.E), "E read nothing since it was emptied");
            double[] p = percents(r.reason());
            assertEquals(4, p.length, r.reason());
            steps = new double[] {reference * (1 + p[1] / 100), reference * (1 + p[2] / 100), reference * (1 + p[3] / 100)};
            assertEquals(100 * (l.score(probe).bitsPerByte() / reference - 1), p[0], 0.011, r.reason());
            assertTrue(steps[2] < steps[0], "aging further and forgetting the matches lowers the probe: " + r.reason());
        } finally {
            SleepSession.REFERENCE_ON_THREAD.remove();
        }
        // a figure between two steps: the first step below it is taken, and E keeps its tables
        String[] expect = {"; E aged and its maps recalibrated (", "; E aged further, its maps recalibrated and its matches forgotten ("};
        int separated = 0;
        for (int k = 0; k < 2; k++) {
            if (!(steps[k + 1] < steps[k])) {
                continue; // this step did not lower the probe here: no figure separates it from the one before
            }
            separated++;
            double between = (steps[k] + steps[k + 1]) / 2 / (1 + c.probeBound());
            try (Learner l = Hope.open(bundle, withE)) {
                l.restore(start);
                SleepSession.REFERENCE_ON_THREAD.set(x -> between);
                SleepReport r = sleep(l, c, LONG, null);
                assertTrue(r.reason().contains(expect[k]), r.reason());
                assertTrue(l.updateCounts().get(org.hope4j.Level.E) > 0, "E keeps its tables");
            } finally {
                SleepSession.REFERENCE_ON_THREAD.remove();
            }
        }
        assertTrue(separated >= 1, "some step between aging and emptying lowered the probe: " + java.util.Arrays.toString(steps));
    }

    @Test
    void aCommitWhoseSaveFailsIsUndone() throws Exception {
        java.nio.file.Path notADir = tmp.resolve("a-file");
        java.nio.file.Files.writeString(notADir, "x");
        byte[] probe = java.util.Arrays.copyOfRange(EXPERIENCE, 2048, 6144);
        // the commit ages E (the default) or empties it: either way E comes back from the commit's (deflated) copy
        for (boolean clearE : new boolean[] {false, true}) {
            try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"))) {
                l.observe(EXPERIENCE);
                double before = l.score(probe).bitsPerByte();
                Map<org.hope4j.Level, Long> counts = l.updateCounts();
                byte[] experience = l.recentExperience();
                // the state directory's parent is a file: the save inside the commit fails after the swap
                assertThrows(org.hope4j.StateException.class, () -> sleep(l,
                        QUICK.withProbeBound(1.0).withClearExperience(true).withClearEpisodic(clearE), LONG, notADir.resolve("state")));
                assertEquals(0, l.expertsInUse().inUse(), "no expert was added");
                assertEquals(before, l.score(probe).bitsPerByte(), 0.0, "L1, L2 and E are as they were before the sleep");
                assertEquals(counts, l.updateCounts());
                assertArrayEquals(experience, l.recentExperience(), "the experience is back");
                // the same sleep with a directory that works commits
                SleepReport r = sleep(l, QUICK.withProbeBound(1.0).withClearEpisodic(clearE), LONG, tmp.resolve("state-" + clearE));
                assertInstanceOf(SleepReport.Committed.class, r, r.reason());
                assertEquals(1, l.expertsInUse().inUse());
                if (clearE) {
                    assertEquals(0L, l.updateCounts().get(org.hope4j.Level.E), "this commit empties E");
                }
            }
        }
    }

    @Test
    void aCommitCanHandTheEpisodesOverAndEmptyTheEpisodicTables() {
        for (boolean clear : new boolean[] {false, true}) {
            try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"))) {
                l.observe(EXPERIENCE);
                long read = l.updateCounts().get(org.hope4j.Level.E);
                assertTrue(read > 0);
                SleepReport r = sleep(l, QUICK.withProbeBound(1.0).withClearEpisodic(clear), LONG, null);
                assertInstanceOf(SleepReport.Committed.class, r, r.reason());
                assertEquals(clear ? 0L : read, l.updateCounts().get(org.hope4j.Level.E), "E " + (clear ? "emptied" : "kept"));
            }
        }
    }
}
