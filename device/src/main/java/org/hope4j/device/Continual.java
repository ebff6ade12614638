package org.hope4j.device;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.hope4j.Learner;
import org.hope4j.Level;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Continual-learning benchmark: the pre-trained model streams through text domains that differ from
 * its pre-training prose, one after another; after each stage every domain's held-out text is scored
 * (the R matrix). Domains come from Debian packages present on a base system: legal text
 * ({@code base-files}' licences, GPL-3 excluded because the demo uses it), Python source
 * ({@code libpython3.11-minimal}) and technical documentation ({@code perl-modules-5.36}'s
 * perldiag.pod). SHA-256 of each domain's extracted text is reported.
 *
 * <p>Metrics in bits/byte (lower is better). R[i][j] is domain j's held-out score after stage i
 * (R[0] = before any stage; domain j, counted from 0, is studied in stage j+1; T stages):
 * final average = mean_j R[T][j]; backward transfer BWT = mean_{j<T-1} (R[j+1][j] - R[T][j])
 * (negative = later stages hurt earlier domains); forgetting = mean_{j<T-1} max(0, R[T][j] -
 * min_{j+1<=i<T} R[i][j]); forward transfer FWT = mean_{j>=1} (R[0][j] - R[j][j]) (the gain on a
 * domain from the stages before it, relative to the pre-trained model).
 *
 * <p>Reference rows ({@code peers}, option {@code --peers}): 7-Zip's PPMd (order 8) and zpaq {@code -m5},
 * run as external processes (Debian {@code 7zip}, {@code zpaq}; see {@link Peers}). Per domain: cold (the
 * held-out text alone) and primed with the domain's own training text; per order: an R matrix whose row i
 * codes each held-out text after the training text of stages 1..i in one stream (row 0 = cold), with the
 * same metrics as the arms. A compressor forgets only what its window or memory drops.
 */
@Command(name = "continual", mixinStandardHelpOptions = true, description = "Continual-learning benchmark across text domains (R matrix, transfer, forgetting).")
final class Continual implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--train-bytes", defaultValue = "49152", description = "bytes of each domain streamed in its stage (default: ${DEFAULT-VALUE})")
    int trainBytes;
    @Option(names = "--heldout-bytes", defaultValue = "8192", description = "held-out bytes per domain (default: ${DEFAULT-VALUE})")
    int heldoutBytes;
    @Option(names = "--orders", defaultValue = "3", description = "domain orders (rotations) to run, 1-3 (default: ${DEFAULT-VALUE})")
    int orders;
    @Option(names = "--root", defaultValue = "/", description = "file-system root holding the Debian files (default: ${DEFAULT-VALUE})")
    Path root;
    @Option(names = "--sleep-steps", defaultValue = "600", description = "distillation steps of each sleep of the online_sleep arm;"
            + " fixed, so the result does not depend on the machine's load (default: ${DEFAULT-VALUE})")
    int sleepSteps;
    @Option(names = "--sleep-seconds", defaultValue = "600", description = "time limit of each sleep (default: ${DEFAULT-VALUE})")
    int sleepSeconds;
    @Option(names = "--arms", split = ",", description = "arms to run (default: all): frozen, l0_only, online, online_sleep, naive_finetune")
    List<String> armNames;
    @Option(names = "--peers", split = ",", defaultValue = "ppmd,zpaq", description = "reference compressors to measure: ppmd (7-Zip PPMd o8),"
            + " zpaq (-m5), or none (default: ${DEFAULT-VALUE})")
    List<String> peerNames;
    @Option(names = "--json", description = "print one JSON line")
    boolean json;
    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON here")
    Path out;
    @Option(names = "--plot", paramLabel = "PNG", description = "write the online arm's held-out curves here")
    Path plot;

    record Domain(String name, String source, byte[] train, byte[] heldout, String sha256) {
    }

    /**
     * name, frozen levels (the frozen and L0-only arms are neural baselines: their episodic level E is
     * frozen too, so it learns within a call and keeps nothing), timescales ("multi" = the bundle's
     * levels; "single" = naive fine-tuning),
     * whether the learner sleeps after each stage.
     */
    static final String[][] ARMS = {{"frozen", "L0,L1,L2,E", "multi", "awake"}, {"l0_only", "L1,L2,E", "multi", "awake"},
        {"online", "", "multi", "awake"}, {"online_sleep", "", "multi", "sleep"}, {"naive_finetune", "", "single", "awake"}};

    @Override
    public Integer call() throws IOException {
        if (trainBytes < 64 || heldoutBytes < 64) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--train-bytes and --heldout-bytes must be >= 64");
        }
        if (sleepSeconds < 1 || sleepSteps < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sleep-seconds and --sleep-steps must be >= 1, found "
                    + sleepSeconds + ", " + sleepSteps);
        }
        if (orders < 1 || orders > 3) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--orders must be 1, 2 or 3, found " + orders);
        }
        List<String> known = Stream.of(ARMS).map(a -> a[0]).toList();
        if (armNames != null && (armNames.isEmpty() || !known.containsAll(armNames))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--arms must name some of " + String.join(", ", known) + ", found " + armNames);
        }
        List<Peers> peers = new ArrayList<>();
        if (!(peerNames.size() == 1 && peerNames.get(0).equals("none"))) {
            for (String name : peerNames) {
                Peers.Tool tool;
                try {
                    tool = Peers.Tool.of(name);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--peers must name some of ppmd, zpaq, or none, found " + peerNames);
                }
                try {
                    peers.add(Peers.of(tool));
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(e.getMessage() + " (or --peers none)", e);
                }
            }
        }
        List<Domain> domains = List.of(
                domain("legal", "base-files: usr/share/common-licenses/{GPL-2,LGPL-2.1,MPL-2.0,Apache-2.0,Artistic,GFDL-1.3}",
                        Stream.of("GPL-2", "LGPL-2.1", "MPL-2.0", "Apache-2.0", "Artistic", "GFDL-1.3").map(f -> root.resolve("usr/share/common-licenses").resolve(f)).toList()),
                domain("python", "libpython3.11-minimal: usr/lib/python3.11/*.py in name order", pythonFiles()),
                domain("docs", "perl-modules-5.36: usr/share/perl/5.36/pod/perldiag.pod", List.of(root.resolve("usr/share/perl/5.36/pod/perldiag.pod"))));
        Map<String, Object> result = new LinkedHashMap<>();
        List<Map<String, Object>> domainInfo = new ArrayList<>();
        for (Domain d : domains) {
            domainInfo.add(Map.of("name", d.name(), "source", d.source(), "train_bytes", d.train().length, "heldout_bytes", d.heldout().length, "sha256", d.sha256()));
        }
        result.put("domains", domainInfo);
        result.put("rate_scale", common.rateScale);
        Map<String, Object> arms = new LinkedHashMap<>();
        double[][] onlineCurve = null;
        for (String[] arm : ARMS) {
            if (armNames != null && !armNames.contains(arm[0])) {
                continue;
            }
            List<Map<String, Object>> runs = new ArrayList<>();
            for (int o = 0; o < orders; o++) {
                List<Domain> order = new ArrayList<>();
                for (int i = 0; i < domains.size(); i++) {
                    order.add(domains.get((i + o) % domains.size()));
                }
                common.singleTimescale = arm[2].equals("single");
                List<Map<String, Object>> sleeps = new ArrayList<>();
                double[][] r = runOrder(order, arm[1], arm[0] + " order " + (o + 1), arm[3].equals("sleep") ? sleeps : null);
                if (arm[0].equals("online") && o == 0) {
                    onlineCurve = r;
                }
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("order", order.stream().map(Domain::name).toList());
                run.put("R", r);
                run.putAll(metrics(r));
                if (arm[3].equals("sleep")) {
                    run.put("sleeps", sleeps);
                }
                runs.add(run);
            }
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("frozen_levels", arm[1]);
            a.put("runs", runs);
            for (String m : List.of("final_average", "bwt", "forgetting", "fwt")) {
                double sum = 0;
                for (Map<String, Object> run : runs) {
                    sum += (double) run.get(m);
                }
                a.put(m + "_mean", sum / runs.size());
            }
            arms.put(arm[0], a);
        }
        result.put("arms", arms);
        Map<String, Object> peerRows = new LinkedHashMap<>();
        for (Peers p : peers) {
            peerRows.put(p.tool().key, peerRow(p, domains));
        }
        result.put("peers", peerRows);
        result.put("notes", List.of(
                "R[i][j]: held-out bits/byte of domain j (in the run's order) after stage i; row 0 = before any stage",
                "held-out scoring reads with the arm's frozen levels and restores the state afterwards",
                "frozen: no level learns (L0 memory does not update); l0_only: L0 updates, CMS frozen; online: every level learns",
                "online_sleep: as online, and after each stage one sleep (--sleep-steps distillation steps, the stage's bytes) consolidates L1 into"
                        + " a new expert of L2 and resets L1; R rows are measured after the sleep; 'sleeps' lists each sleep's report",
                "naive_finetune: every plastic weight (L1 and L2) steps every L1 period at L1's rate: one rate, one timescale, L0 as online",
                "orders are rotations of (legal, python, docs); the model is deterministic, so orders stand in for seeds",
                "rate_scale multiplies the L1/L2 inner rates of every arm (1 = the bundle's meta-learned rates)",
                "peers: reference compressors, not arms; per domain cold (held-out alone) and primed_own_train (the domain's training text"
                        + " then its held-out text, one stream); R row i = each held-out text coded after the training text of stages 1..i in"
                        + " one stream, bits/byte = 8 (|code(primer + heldout)| - |code(primer)|) / |heldout|, container overhead excluded"));
        String text = new GsonBuilder().serializeNulls().serializeSpecialFloatingPointValues().create().toJson(result);
        if (out != null) {
            Files.writeString(out, text + "\n");
        }
        if (plot != null && onlineCurve != null) {
            writePlot(onlineCurve, domains, plot);
        }
        if (json) {
            System.out.println(text);
        } else {
            printTable(arms, peerRows);
        }
        return 0;
    }

    private List<Path> pythonFiles() throws IOException {
        Path dir = root.resolve("usr/lib/python3.11");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("domain python: " + dir + " is missing (Debian package libpython3.11-minimal)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".py")).sorted().toList();
        }
    }

    private Domain domain(String name, String source, List<Path> files) {
        int need = trainBytes + heldoutBytes;
        byte[] buf = new byte[need];
        int n = 0;
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalStateException("domain " + name + ": " + f + " is missing (" + source + ")");
            }
            try {
                byte[] b = Files.readAllBytes(f);
                int take = Math.min(b.length, need - n);
                System.arraycopy(b, 0, buf, n, take);
                n += take;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (n == need) {
                break;
            }
        }
        if (n < need) {
            throw new IllegalStateException("domain " + name + ": only " + n + " bytes in " + source + ", need " + need);
        }
        // held-out = the last heldoutBytes of the extract, train = the rest before it
        return new Domain(name, source, Arrays.copyOfRange(buf, 0, trainBytes), Arrays.copyOfRange(buf, trainBytes, need), org.hope4j.bundle.Bundle.sha256(buf));
    }

    private double[][] runOrder(List<Domain> order, String frozenLevels, String label, List<Map<String, Object>> sleeps) {
        int t = order.size();
        double[][] r = new double[t + 1][t];
        try (Learner l = common.open()) {
            for (String lv : frozenLevels.split(",")) {
                if (!lv.isBlank()) {
                    l.freeze(Level.valueOf(lv));
                }
            }
            Main.Progress progress = new Main.Progress("continual " + label, (long) t * trainBytes, json ? null : System.err);
            for (int i = 0; i <= t; i++) {
                if (i > 0) {
                    l.observe(order.get(i - 1).train());
                    progress.update((long) i * trainBytes, r[i - 1][i - 1]);
                    if (sleeps != null) {
                        SleepReport rep = l.sleep(SleepRequest.builder().budget(new SleepBudget(trainBytes, Duration.ofSeconds(sleepSeconds))).config(SleepConfig.defaults().withSteps(sleepSteps)).build());
                        sleeps.add(com.google.gson.JsonParser.parseString(Sleep.json(rep, l)).getAsJsonObject().asMap().entrySet().stream()
                                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue(), (a, b) -> a, LinkedHashMap::new)));
                    }
                }
                for (int j = 0; j < t; j++) {
                    r[i][j] = l.score(order.get(j).heldout()).bitsPerByte();
                }
            }
        }
        return r;
    }

    /** One peer's reference rows: per domain cold and primed with its own training text; per order an R matrix and its metrics. */
    private Map<String, Object> peerRow(Peers p, List<Domain> domains) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("method", p.tool().method());
        List<Map<String, Object>> perDomain = new ArrayList<>();
        for (Domain d : domains) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("cold", p.cold(d.heldout()));
            m.put("primed_own_train", p.primed(d.train(), d.heldout()));
            perDomain.add(m);
        }
        row.put("domains", perDomain);
        List<Map<String, Object>> runs = new ArrayList<>();
        for (int o = 0; o < orders; o++) {
            List<Domain> order = new ArrayList<>();
            for (int i = 0; i < domains.size(); i++) {
                order.add(domains.get((i + o) % domains.size()));
            }
            int t = order.size();
            double[][] r = new double[t + 1][t];
            java.io.ByteArrayOutputStream primer = new java.io.ByteArrayOutputStream();
            for (int i = 0; i <= t; i++) {
                if (i > 0) {
                    primer.writeBytes(order.get(i - 1).train());
                }
                byte[] pr = primer.toByteArray();
                for (int j = 0; j < t; j++) {
                    r[i][j] = p.primed(pr, order.get(j).heldout());
                }
            }
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("order", order.stream().map(Domain::name).toList());
            run.put("R", r);
            run.putAll(metrics(r));
            runs.add(run);
        }
        row.put("runs", runs);
        for (String m : List.of("final_average", "bwt", "forgetting", "fwt")) {
            double sum = 0;
            for (Map<String, Object> run : runs) {
                sum += (double) run.get(m);
            }
            row.put(m + "_mean", sum / runs.size());
        }
        return row;
    }

    /** Final average, BWT, forgetting and FWT of an R matrix (see the class comment). */
    static Map<String, Object> metrics(double[][] r) {
        int t = r[0].length;
        double avg = 0;
        for (int j = 0; j < t; j++) {
            avg += r[t][j];
        }
        double bwt = 0;
        double forget = 0;
        for (int j = 0; j < t - 1; j++) {
            bwt += r[j + 1][j] - r[t][j];
            double best = Double.POSITIVE_INFINITY;
            for (int i = j + 1; i < t; i++) {
                best = Math.min(best, r[i][j]);
            }
            forget += Math.max(0, r[t][j] - best);
        }
        double fwt = 0;
        for (int j = 1; j < t; j++) {
            fwt += r[0][j] - r[j][j];
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("final_average", avg / t);
        m.put("bwt", t > 1 ? bwt / (t - 1) : 0.0);
        m.put("forgetting", t > 1 ? forget / (t - 1) : 0.0);
        m.put("fwt", t > 1 ? fwt / (t - 1) : 0.0);
        return m;
    }

    private static void printTable(Map<String, Object> arms, Map<String, Object> peers) {
        System.out.println("arm             final avg   BWT      forgetting  FWT   (bits/byte; lower avg is better)");
        Map<String, Object> rows = new LinkedHashMap<>(arms);
        peers.forEach((k, v) -> rows.put("peer " + k, v));
        for (var e : rows.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> a) {
                System.out.printf(Locale.ROOT, "%-15s %8.4f  %+8.4f  %8.4f  %+8.4f%n", e.getKey(), a.get("final_average_mean"), a.get("bwt_mean"),
                        a.get("forgetting_mean"), a.get("fwt_mean"));
            } else {
                System.out.printf(Locale.ROOT, "%-15s not measured%n", e.getKey());
            }
        }
    }

    private static void writePlot(double[][] r, List<Domain> domains, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Hope4J online: held-out bits/byte of each domain after each stage")
                .xAxisTitle("stage (0 = before learning)").yAxisTitle("bits/byte").build();
        double[] xs = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            xs[i] = i;
        }
        for (int j = 0; j < domains.size(); j++) {
            double[] ys = new double[r.length];
            for (int i = 0; i < r.length; i++) {
                ys[i] = r[i][j];
            }
            chart.addSeries(domains.get(j).name() + " (stage " + (j + 1) + ")", xs, ys);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
