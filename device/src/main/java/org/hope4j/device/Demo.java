package org.hope4j.device;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.Level;
import org.hope4j.Score;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The README's main command: the embedded model reads a text it never saw in pre-training (the
 * GNU GPL v3, legal English; the pre-training corpus is books, speeches and the Brown corpus),
 * first frozen, then learning; it saves and reloads the state and shows the gain survives on the
 * text's held-out tail; it writes a PNG learning curve.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Watch the embedded model learn a new kind of text, on this machine.")
final class Demo implements Callable<Integer> {
    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "hope4j-demo", description = "where the state and the plot go (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--window", defaultValue = "1024", description = "bytes per point of the learning curve (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--sleep-seconds", defaultValue = "20", description = "time budget of the demo's consolidation steps (the sleep's measurements come on top); 0 skips the sleep (default: ${DEFAULT-VALUE})")
    int sleepSeconds;

    @Override
    public Integer call() throws IOException {
        byte[] text;
        try (InputStream in = Demo.class.getResourceAsStream("demo-text.txt")) {
            if (in == null) {
                throw new IllegalStateException("demo-text.txt is missing from the jar");
            }
            text = in.readAllBytes();
        }
        if (window < 16) {
            throw new IllegalArgumentException("--window must be >= 16, found " + window);
        }
        int split = (int) (text.length * 0.8);
        byte[] learn = Arrays.copyOfRange(text, 0, split);
        byte[] tail = Arrays.copyOfRange(text, split, text.length);
        Files.createDirectories(out);
        Path state = out.resolve("state");
        System.out.printf(Locale.ROOT, "Hope4J demo: %d bytes of the GNU GPL v3 (a kind of text the model never saw), learning on the first %d.%n",
                text.length, learn.length);
        List<Double> xs = new ArrayList<>();
        List<Double> frozenCurve = new ArrayList<>();
        List<Double> learnCurve = new ArrayList<>();
        learnAndSave(learn, state, xs, frozenCurve, learnCurve);
        // one learner at a time: the demo runs in the launcher's bounded heap
        double before = scoreWith(null, tail);
        double after = scoreWith(state, tail);
        System.out.printf(Locale.ROOT, "held-out tail (%d bytes), scored without learning: pretrained %.3f bits/byte, reloaded learned state %.3f bits/byte%n",
                tail.length, before, after);
        if (sleepSeconds > 0) {
            sleep(state, tail);
        }
        Path png = out.resolve("learning-curve.png");
        // every learner is closed: one full collection hands their heap back (the launcher's heap keeps at most 20 % free
        // over its live data) before the chart loads Java 2D and its fonts (about 15 MB), which was the demo's peak
        System.gc();
        XYChart chart = new XYChartBuilder().width(1000).height(500).title("Hope4J learning the GPL v3 on this device")
                .xAxisTitle("bytes read").yAxisTitle("bits/byte (per " + window + "-byte window)").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        chart.addSeries("frozen levels (pretrained weights; L0 and E read in context)", xs, frozenCurve);
        chart.addSeries("learning (L1 and L2 take their steps too)", xs, learnCurve);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.out.println("learning curve written to " + png);
        return 0;
    }

    /**
     * Reads {@code learn} with a frozen and a learning learner side by side, window by window (the curves), prints the
     * figures and saves the learning one into {@code state}; both are closed and unreachable when this returns.
     */
    private void learnAndSave(byte[] learn, Path state, List<Double> xs, List<Double> frozenCurve, List<Double> learnCurve) {
        Score frozen = Score.empty();
        Score learned = Score.empty();
        long t0 = System.nanoTime();
        try (Learner ref = common.openUnsaved(null); Learner l = common.open()) {
            System.out.println("backend: " + l.backendInfo().description() + "; frozen segments on " + l.graphProvider());
            ref.freeze(Level.L1);
            ref.freeze(Level.L2);
            ref.freeze(Level.E); // the episodic level reads each window in context and keeps nothing

            Main.Progress progress = new Main.Progress("learning", learn.length, System.err);
            for (int off = 0; off < learn.length; off += window) {
                byte[] part = Arrays.copyOfRange(learn, off, Math.min(learn.length, off + window));
                Score f = ref.observe(part);
                Score s = l.observe(part);
                frozen = frozen.plus(f);
                learned = learned.plus(s);
                xs.add((double) (off + part.length));
                frozenCurve.add(f.bitsPerByte());
                learnCurve.add(s.bitsPerByte());
                progress.update(off + part.length, learned.bitsPerByte());
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "read %d bytes twice in %.1f s: frozen %.3f bits/byte, learning %.3f bits/byte (%.1f%% fewer bits)%n",
                    learn.length, secs, frozen.bitsPerByte(), learned.bitsPerByte(), 100 * (1 - learned.bitsPerByte() / frozen.bitsPerByte()));
            System.out.println("updates: " + l.updateCounts());
            l.save(state);
            System.out.println("state saved to " + state);
        }
    }

    /**
     * {@code text}'s bits/byte under the pretrained model ({@code state} null) or a saved state, with a learner of its own
     * that is closed and unreachable when this returns: a learner left in a local variable of {@link #call} would stay
     * reachable (an interpreted frame keeps its slots) and hold its 60 MB through the sleep.
     */
    private double scoreWith(Path state, byte[] text) {
        try (Learner l = common.openUnsaved(state)) {
            return l.score(text).bitsPerByte();
        }
    }

    /** The offline phase: consolidate what L1 learned into L2 (a new expert), then free L1. */
    private void sleep(Path state, byte[] tail) {
        System.out.printf(Locale.ROOT, "sleeping (consolidation steps for at most %d s, its measurements besides): distilling the learned state into a new low-rank expert of L2 with L1 reset,"
                + " guarded by a retention probe of general prose%n", sleepSeconds);
        try (Learner l = common.open(state)) {
            SleepReport r = l.sleep(SleepRequest.builder().budget(new SleepBudget(64 * 1024, Duration.ofSeconds(sleepSeconds))).config(SleepConfig.defaults()).listener(e -> {
                if (e instanceof SleepEvent.Phase p) {
                    System.err.printf(Locale.ROOT, "\rsleep: %-11s %3.0f%%   ", p.name(), 100 * p.progress());
                    System.err.flush();
                }
            }).saveTo(state).build());
            System.err.println();
            if (r instanceof SleepReport.Committed c) {
                System.out.printf(Locale.ROOT, "sleep committed in %.1f s: recent text %.3f bits/byte learned -> %.3f with L1 reset"
                        + " (%.3f if L1 were reset without the sleep); probe %.3f -> %.3f bits/byte%n", c.seconds(),
                        c.recentBitsPerByteBefore(), c.recentBitsPerByteAfter(), c.figures().recentResetOnly(), c.probeBitsPerByteBefore(),
                        c.probeBitsPerByteAfter());
                System.out.printf(Locale.ROOT, "held-out tail after the sleep (L1 free again, L2 holds what it learned): %.3f bits/byte%n",
                        l.score(tail).bitsPerByte());
            } else {
                System.out.println("sleep did not commit: " + r.reason());
            }
        }
    }
}
