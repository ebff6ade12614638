package org.hope4j.samples;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.Sampling;
import org.hope4j.Score;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.LinuxDevicePolicy;
import org.hope4j.sleep.PolicyOptions;
import org.hope4j.sleep.SchedulerOptions;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepScheduler;

/**
 * A long-running notes service with sleep: it learns every note as it is written, and when the
 * user has been idle (and the device is on mains power, cool and not busy) it sleeps: what the
 * fast level learned is consolidated into the mid level and the commit is saved into the user's
 * state directory. Any call during a sleep stops the sleep at once; nothing is lost either way.
 *
 * <pre>{@code
 * try (NotesService notes = NotesService.open(stateDir)) {
 *     notes.write("Monday: water the tomatoes.");
 *     System.out.println(notes.complete("Monday:"));
 * } // idle time in between lets it sleep
 * }</pre>
 */
public final class NotesService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NotesService.class.getName());
    private final Path stateDir;
    private final Learner learner;
    private final SleepScheduler scheduler;

    private NotesService(Path stateDir, DevicePolicy policy, SchedulerOptions when, SleepConfig sleep) {
        this.stateDir = stateDir;
        this.learner = Hope.loadDefault(stateDir); // continue where the last session stopped, sleeps included
        // every call below preempts a running sleep; each commit is saved into stateDir with the swap
        scheduler = learner.sleepWhenIdle(policy, when, sleep, stateDir);
        scheduler.addListener(e -> {
            if (e instanceof SleepEvent.Finished f) {
                LOG.log(System.Logger.Level.INFO, "notes: " + f.report().toJson());
            }
        });
    }

    /** A service that sleeps after 5 idle minutes when {@link LinuxDevicePolicy} allows it. */
    public static NotesService open(Path stateDir) {
        return new NotesService(stateDir, new LinuxDevicePolicy(PolicyOptions.defaults()),
                SchedulerOptions.defaults().withIdleAfter(Duration.ofMinutes(5)).withMinGap(Duration.ofMinutes(10)), SleepConfig.defaults());
    }

    /** A service with its own device policy and schedule (tests, other platforms). */
    public static NotesService open(Path stateDir, DevicePolicy policy, SchedulerOptions when) {
        return new NotesService(stateDir, policy, when, SleepConfig.defaults());
    }

    /** As {@link #open(Path, DevicePolicy, SchedulerOptions)} with its own sleep configuration (e.g. a fixed step count). */
    public static NotesService open(Path stateDir, DevicePolicy policy, SchedulerOptions when, SleepConfig sleep) {
        return new NotesService(stateDir, policy, when, sleep);
    }

    /** Learns a note and saves the state (atomically). Returns its bits/byte, scored before learning it. */
    public Score write(String note) {
        Score s = learner.observe(note);
        learner.save(stateDir);
        return s;
    }

    /** Completes a prompt in the user's own style, learning nothing. */
    public String complete(String prompt) {
        return learner.generate(prompt, 80, Sampling.defaults().withSeed(1));
    }

    /** What the last sleep did, if one has finished. */
    public Optional<SleepReport> lastSleep() {
        return scheduler.lastReport();
    }

    /** Experts of L2's pool in use: one per committed sleep, up to the pool's size. */
    public int expertsInUse() {
        return learner.expertsInUse().inUse();
    }

    @Override
    public void close() {
        learner.close(); // stops the scheduler first: a running sleep leaves the state it started from
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: NotesService STATE_DIR NOTE...   (then idles 30 s so it may sleep)");
            System.exit(2);
        }
        try (NotesService notes = open(Path.of(args[0]), DevicePolicy.always(), SchedulerOptions.defaults()
                .withIdleAfter(Duration.ofSeconds(2)).withBudget(new SleepBudget(65536, Duration.ofSeconds(20))))) {
            for (int i = 1; i < args.length; i++) {
                Score s = notes.write(args[i]);
                System.out.printf(Locale.ROOT, "learned %d bytes at %.3f bits/byte%n", s.bytes(), s.bitsPerByte());
            }
            for (int t = 0; t < 30 && notes.lastSleep().isEmpty(); t++) {
                Thread.sleep(1000);
            }
            System.out.println(notes.lastSleep().map(SleepReport::toJson).orElse("no sleep yet"));
        }
    }
}
