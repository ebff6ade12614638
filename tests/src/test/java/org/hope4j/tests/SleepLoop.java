package org.hope4j.tests;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;

/**
 * Child process for {@link CrashDuringSleepIT}: observes, sleeps and commits into its state directory
 * until it is killed. Prints (stdout, flushed) {@code phase <name>} for every phase of a sleep and,
 * after each sleep, {@code committed <experts in use>} (the commit is saved before the sleep returns)
 * or {@code not-committed}.
 */
public final class SleepLoop {
    private SleepLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        // this loop tests durability, not the guard: a loose probe bound lets most sleeps commit
        SleepConfig quick = SleepConfig.defaults().withSteps(25).withDreams(1, 1).withAnchor(0.3, 2).withEvalBytes(1024)
                .withHeldOutBytes(512).withProbeBound(0.5);
        // steps bound this sleep; the time bound is a generous ceiling it never reaches
        SleepBudget budget = new SleepBudget(1 << 16, Duration.ofMinutes(10));
        try (Learner l = Hope.loadDefault()) {
            if (Learner.hasSavedState(dir)) {
                l.restore(dir);
            }
            for (int i = 0; ; i++) {
                String text = String.format(Locale.ROOT, "Entry %d: the pump in room %d ran for %d minutes; pressure held at %d kPa.%n",
                        i, i % 7, 10 + i % 50, 90 + i % 20).repeat(30);
                l.observe(text.getBytes(StandardCharsets.UTF_8));
                l.save(dir);
                SleepReport r = l.sleep(SleepRequest.builder().budget(budget).config(quick).listener(e -> {
                    if (e instanceof org.hope4j.sleep.SleepEvent.Phase ph) {
                        say("phase " + ph.name());
                    }
                }).saveTo(dir).build());
                say(r.committed() ? "committed " + l.expertsInUse().inUse() : "not-committed " + r.reason());
            }
        }
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
