package org.hope4j.device;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepFigures;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hope4j sleep}: one sleep of a saved learner now (ARCHITECTURE.md §3). A commit is saved
 * into the state directory atomically; a rollback leaves it as it was.
 */
@Command(name = "sleep", mixinStandardHelpOptions = true,
        description = "Consolidate the recent experience of a saved learner now: L1 into a new expert of L2, guarded by the retention probe.")
final class Sleep implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    Main.Common common = new Main.Common();
    @Option(names = "--state", paramLabel = "DIR", required = true, description = "state directory written by observe (saved again on commit)")
    Path state;
    @Option(names = "--steps", defaultValue = "600", description = "distillation steps (the budget, the same on any machine;"
            + " the sleep may stop earlier when its checkpoints stop improving) (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--seconds", defaultValue = "900", description = "upper bound on the time the steps may take; measuring does not count"
            + " (default: ${DEFAULT-VALUE})")
    int seconds;
    @Option(names = "--deadline", paramLabel = "SECONDS", defaultValue = "1800", description = "wall-clock limit of the whole sleep, every"
            + " phase included (measuring, consolidating, dreaming, the guard): when it passes the sleep stops and commits nothing"
            + " (default: ${DEFAULT-VALUE})")
    int deadline;
    @Option(names = "--bytes", defaultValue = "65536", description = "most bytes of experience to consolidate (default: ${DEFAULT-VALUE})")
    int bytes;
    @Option(names = "--probe-bound", defaultValue = "0.01", description = "largest relative rise of the probe's bits/byte against the"
            + " larger of the pretrained model's and L1 reset's without the sleep; a commit that ages E then also holds the learner's"
            + " probe (anchor and E) within it of the pretrained learner's: E's maps recalibrated, then E aged further, then emptied,"
            + " as far as needed (default: ${DEFAULT-VALUE})")
    double probeBound;
    @Option(names = "--no-dream", description = "skip dreaming")
    boolean noDream;
    @Option(names = "--clear-episodic", description = "a commit also empties the episodic level's tables (E): what the learner keeps"
            + " of the text is then what L2's new expert holds")
    boolean clearEpisodic;
    @Option(names = "--age-episodic", paramLabel = "N", description = "a commit caps the count of every context slot of the"
            + " episodic level (E) at N (0..31; 31 keeps the counts): E keeps what it read but new text overrides it fast"
            + " (default: " + SleepConfig.DEFAULT_EPISODIC_AGE + ")")
    Integer ageEpisodic;
    @Option(names = "--episodic-confidence", paramLabel = "F", description = "a commit keeps the share F (0..1; 1 keeps the"
            + " probabilities) of every context slot's confidence, its probability's distance from 1/2: E still leans the way it"
            + " learned, less surely (default: " + SleepConfig.DEFAULT_EPISODIC_CONFIDENCE + ")")
    Double episodicConfidence;
    @Option(names = "--keep-episodic", description = "a commit leaves the episodic level exactly as it is (--age-episodic 31"
            + " --episodic-confidence 1)")
    boolean keepEpisodic;
    @Option(names = "--json", description = "print one JSON line")
    boolean json;

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be >= 1, found " + steps);
        }
        if (seconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be >= 1, found " + seconds);
        }
        if (deadline < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--deadline must be >= 1, found " + deadline);
        }
        if (bytes < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--bytes must be >= 1, found " + bytes);
        }
        if (!(probeBound >= 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--probe-bound must be >= 0, found " + probeBound);
        }
        if (ageEpisodic != null && (ageEpisodic < 0 || ageEpisodic > SleepConfig.EPISODIC_KEEP)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--age-episodic must be in 0.." + SleepConfig.EPISODIC_KEEP
                    + ", found " + ageEpisodic);
        }
        if (episodicConfidence != null && !(episodicConfidence >= 0 && episodicConfidence <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--episodic-confidence must be in [0, 1], found " + episodicConfidence);
        }
        int given = (clearEpisodic ? 1 : 0) + (keepEpisodic ? 1 : 0) + (ageEpisodic != null || episodicConfidence != null ? 1 : 0);
        if (given > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--clear-episodic, --keep-episodic and --age-episodic/--episodic-confidence exclude each other");
        }
        if (!Learner.hasSavedState(state)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--state: " + state
                    + " holds no saved learner (learner.state); run hope4j observe --state " + state + " FILE first");
        }
        SleepConfig.Builder b = SleepConfig.builder().probeBound(probeBound).dream(!noDream).steps(steps).clearEpisodic(clearEpisodic);
        if (keepEpisodic) {
            b.episodicAge(SleepConfig.EPISODIC_KEEP).episodicConfidence(1);
        }
        if (ageEpisodic != null) {
            b.episodicAge(ageEpisodic);
        }
        if (episodicConfidence != null) {
            b.episodicConfidence(episodicConfidence);
        }
        SleepConfig config = b.build();
        try (Learner l = common.open(state)) {
            SleepReport r = l.sleep(SleepRequest.builder().budget(new SleepBudget(bytes, Duration.ofSeconds(seconds), Duration.ofSeconds(deadline))).config(config).listener(e -> {
                if (!json && e instanceof SleepEvent.Phase p) {
                    System.err.printf(Locale.ROOT, "\rsleep: %s %3.0f%%   ", p.name(), 100 * p.progress());
                    System.err.flush();
                }
            }).saveTo(state).build());
            if (!json) {
                System.err.println();
            }
            System.out.println(json ? json(r, l) : text(r, l));
            return 0;
        }
    }

    /** The report's JSON with what else the sleep measured. */
    static String json(SleepReport r, Learner l) {
        JsonObject o = JsonParser.parseString(r.toJson()).getAsJsonObject();
        SleepFigures x = r.figures();
        if (x != SleepFigures.NONE) {
            o.addProperty("recent_bits_per_byte_reset_only", Double.isFinite(x.recentResetOnly()) ? x.recentResetOnly() : null);
            o.addProperty("steps", x.steps());
            o.addProperty("probe_bits_per_byte_pretrained", Double.isFinite(x.probePretrained()) ? x.probePretrained() : null);
            o.addProperty("probe_bits_per_byte_reset_only", Double.isFinite(x.probeResetOnly()) ? x.probeResetOnly() : null);
            o.addProperty("dreams_kept", x.dreamsKept());
            o.addProperty("dreams_tried", x.dreamsTried());
        }
        SleepFigures.Experts pool = l.expertsInUse();
        o.addProperty("experts_in_use", pool.inUse());
        o.addProperty("expert_slots", pool.slots());
        return new com.google.gson.GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(o);
    }

    private static String text(SleepReport r, Learner l) {
        if (r instanceof SleepReport.Committed c) {
            return String.format(Locale.ROOT, "committed in %.1f s: %d bytes consolidated; recent text %.4f -> %.4f bits/byte"
                    + " with L1 reset (%.4f without the sleep); probe %.4f -> %.4f bits/byte", c.seconds(), c.consolidatedBytes(),
                    c.recentBitsPerByteBefore(), c.recentBitsPerByteAfter(), c.figures().recentResetOnly(),
                    c.probeBitsPerByteBefore(), c.probeBitsPerByteAfter());
        }
        return (r.committed() ? "committed: " : "not committed: ") + r.reason();
    }
}
