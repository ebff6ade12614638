package org.hope4j.tests;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;

/** Child process for {@link CrashDuringSleepTest}: observes, sleeps and commits into its state directory until it is killed. */
public final class SleepLoop {
    private SleepLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        SleepConfig quick = SleepConfig.defaults().withSteps(25).withDreams(1, 1).withAnchor(0.3, 2).withEvalBytes(1024)
                .withHeldOutBytes(512);
        SleepBudget budget = new SleepBudget(1 << 16, Duration.ofSeconds(30));
        try (Learner l = Hope.loadDefault()) {
            if (Files.exists(dir.resolve("learner.state"))) {
                l.restore(dir);
            }
            for (int i = 0; ; i++) {
                String text = String.format(Locale.ROOT, "Entry %d: the pump in room %d ran for %d minutes; pressure held at %d kPa.%n",
                        i, i % 7, 10 + i % 50, 90 + i % 20).repeat(30);
                l.observe(text.getBytes(StandardCharsets.UTF_8));
                l.save(dir);
                Files.writeString(dir.resolve("sleeping.txt"), Integer.toString(i + 1));
                SleepReport r = l.sleep(budget, quick, () -> false, e -> { }, dir);
                Files.writeString(dir.resolve("slept.txt"), (i + 1) + " " + r.committed());
            }
        }
    }
}
