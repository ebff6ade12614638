package org.hope4j.device;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Sampling;
import org.hope4j.bundle.Manifest;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.learner.Streams;
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
 * {@code hope4j bench}: a quick (about 100 s) benchmark of one learner on this machine, written as
 * one JSON line. Throughput of score-style reading (L0 in context, CMS frozen) and of observe
 * (every level learning), score-style reading by the neural levels alone (a second learner without the episodic
 * level, interleaved with the first), both against the PyTorch reference, the share of this machine's
 * ONNX Runtime MatMul ceiling that scoring reaches, generation latency after a short and a long
 * context, peak memory and cold start. A figure it cannot measure is {@code null} with a note.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick benchmark (about --seconds): throughput, speed against the PyTorch reference, FLOP utilisation, decode latency, memory, cold start.")
final class Bench implements Callable<Integer> {
    /** Bytes per read call, the same chunking the PyTorch reference uses. */
    static final int CHUNK = 4096;
    static final int SHORT_CONTEXT = 1024;
    static final String REFERENCE_SCRIPT = "hope_export/bench_reference.py";
    static final String HELDOUT = "build/corpus/heldout.txt";
    static final String DEMO_TEXT = "/org/hope4j/device/demo-text.txt";
    static final String MATMUL = "/org/hope4j/device/matmul.onnx";
    /** The MatMul that measures the ceiling: M = K = N. */
    static final int MATMUL_SIZE = 512;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    private static final int SLEEP_BYTES = 65536;

    @Option(names = "--seconds", defaultValue = "100", description = "time budget of the measurements, excluding start-up (default: ${DEFAULT-VALUE})")
    double seconds;
    @Option(names = "--json", description = "print one JSON line")
    boolean json;
    @Option(names = "--reference", paramLabel = "DIR", description = "the model-export directory of a Hope4J checkout (default: found by walking up from the working directory or the jar)")
    Path reference;
    @Option(names = "--no-reference", description = "do not run the PyTorch reference (score_vs_pytorch becomes null)")
    boolean noReference;
    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with torch for the reference (default: ${DEFAULT-VALUE})")
    String python;
    @Option(names = "--context-bytes", defaultValue = "1048576", description = "the long context of decode_ms_per_byte_1m (default: ${DEFAULT-VALUE})")
    int contextBytes;
    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON line to FILE")
    Path out;

    private final Map<String, Object> result = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private PrintStream progress;
    private long t0;

    @Override
    public Integer call() throws IOException {
        if (!(seconds >= 5) || Double.isInfinite(seconds)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be >= 5, found " + seconds);
        }
        if (contextBytes < 2 * SHORT_CONTEXT) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--context-bytes must be >= " + 2 * SHORT_CONTEXT + ", found " + contextBytes);
        }
        Path exportDir = null;
        if (reference != null) {
            if (!Files.isRegularFile(reference.resolve(REFERENCE_SCRIPT))) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--reference: " + reference + " has no " + REFERENCE_SCRIPT);
            }
            exportDir = reference.toAbsolutePath();
        } else {
            exportDir = findModelExport();
        }
        progress = System.err;
        t0 = System.nanoTime();
        for (String k : List.of("score_bytes_per_s", "observe_bytes_per_s", "learn_to_infer", "score_vs_pytorch", "flop_utilisation",
                "decode_ms_per_byte_1k", "decode_ms_per_byte_1m", "peak_rss_mb", "cold_start_ms", "sleep_seconds_64k")) {
            result.put(k, null);
        }
        run(exportDir);
        result.put("notes", notes);
        String line = new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(result);
        if (json) {
            System.out.println(line);
        } else {
            printTable();
        }
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, line + "\n");
        }
        return 0;
    }

    private void run(Path exportDir) throws IOException {
        double budget = seconds;
        // -- cold start: Hope.load* to the first generated byte, the first model load in this JVM
        say("cold start");
        byte[] text = new byte[0];
        long[] firstByte = {0};
        long c0 = System.nanoTime();
        try (Learner learner = common.open()) {
            learner.generate("The ".getBytes(StandardCharsets.UTF_8), 1, new Sampling(0.8, 40, 0), b -> {
                if (firstByte[0] == 0) {
                    firstByte[0] = System.nanoTime();
                }
            });
            result.put("cold_start_ms", (firstByte[0] - c0) / 1e6);
            notes.add("cold_start_ms: from the Hope.load call to the first generated byte inside this JVM; excludes JVM start-up"
                    + (common.model == null ? "" : " (bundle " + common.model + ")"));
            String blas = learner.backendInfo().description();
            result.put("blas", blas);
            result.put("backend", learner.backendInfo().selected());
            result.put("graph_provider", learner.graphProvider());
            result.put("graph_threads", common.threads);
            result.put("cpu_threads", Runtime.getRuntime().availableProcessors());
            String core = System.getenv("OPENBLAS_CORETYPE");
            result.put("openblas_coretype", core);
            if (core != null) {
                notes.add("OPENBLAS_CORETYPE=" + core + " is set: OpenBLAS runs that kernel, not the one it would pick for this CPU");
            }

            text = inputText(exportDir, Math.max(contextBytes, 4 * CHUNK) + CHUNK);
            result.put("input_bytes", text.length);

            // -- the ONNX Runtime MatMul ceiling, one intra-op thread, before and after the throughput runs
            say("ONNX Runtime MatMul ceiling");
            double[] ceilingBefore = matmulCeiling(Math.min(1.5, 0.015 * budget));

            // -- throughput: score-style reading and observe, from the same fresh state
            HopeStream stream = Streams.of(learner);
            HopeStream.Snapshot fresh = stream.snapshot();
            Manifest mf = learner.bundle().manifest();
            say("warm-up");
            timedRead(stream, fresh, text, Learning.L0_ONLY, 0.02 * budget, 0);
            timedRead(stream, fresh, text, Learning.ON, 0.02 * budget, 0);

            int refBytes = referenceBytes(budget);
            // the neural levels alone (no E), the computation the PyTorch reference does: a second learner on the same bundle
            LearnerOptions options = common.options();
            double[] sc = null;
            double[] sn = null;
            try (Learner neural = options.episodic() != null ? Hope.open(common.bundle(), options.withEpisodic(null)) : null) {
                HopeStream nStream = neural == null ? null : Streams.of(neural);
                HopeStream.Snapshot nFresh = nStream == null ? null : nStream.snapshot();
                if (nStream != null) {
                    timedRead(nStream, nFresh, text, Learning.L0_ONLY, 0.02 * budget, 0);
                }
                say("score throughput (Learning.L0_ONLY)" + (nStream == null ? "" : ", interleaved with the neural levels alone"));
                // two rounds each: 0.12 of the budget for score alone, 0.16 for the interleaved pair
                double share = (nStream == null ? 0.06 : 0.04) * budget;
                for (int round = 0; round < 2; round++) {
                    int least = round == 0 ? refBytes : 0;
                    double[] s = timedRead(stream, fresh, text, Learning.L0_ONLY, share, least);
                    sc = sc == null ? s : combined(sc, s);
                    if (nStream != null) {
                        double[] n = timedRead(nStream, nFresh, text, Learning.L0_ONLY, share, least);
                        sn = sn == null ? n : combined(sn, n);
                    }
                }
            }
            double score = sc[0];
            result.put("score_bytes_per_s", finite(score, "score_bytes_per_s"));
            say("observe throughput (Learning.ON)");
            double[] ob = timedRead(stream, fresh, text, Learning.ON, 0.12 * budget, 0);
            double observe = ob[0];
            result.put("observe_bytes_per_s", finite(observe, "observe_bytes_per_s"));
            result.put("learn_to_infer", finite(observe / score, "learn_to_infer"));
            result.put("measured_bytes", Map.of("score", (long) sc[2], "observe", (long) ob[2]));
            // the same runs in this thread's CPU time: what the second core's load does not move
            result.put("score_bytes_per_cpu_s", finite(sc[3], "score_bytes_per_cpu_s"));
            result.put("observe_bytes_per_cpu_s", finite(ob[3], "observe_bytes_per_cpu_s"));
            result.put("learn_to_infer_cpu", finite(ob[3] / sc[3], "learn_to_infer_cpu"));
            if (sn != null) {
                result.put("score_neural_bytes_per_s", finite(sn[0], "score_neural_bytes_per_s"));
                result.put("score_neural_bytes_per_cpu_s", finite(sn[3], "score_neural_bytes_per_cpu_s"));
                result.put("episodic_share_of_score_cpu", finite(1 - sc[3] / sn[3], "episodic_share_of_score_cpu"));
                notes.add("score_neural_*: the same score-style reading by a learner without the episodic level E (LearnerOptions.episodic"
                        + " null): the neural levels alone, the computation of the PyTorch reference and of the FLOP count; its runs"
                        + " interleaved with score's (two rounds each); episodic_share_of_score_cpu: 1 - score_bytes_per_cpu_s /"
                        + " score_neural_bytes_per_cpu_s, the part of a score's CPU time that E takes");
            }
            notes.add("*_per_cpu_s: bytes per second of this thread's CPU time (ThreadMXBean; ONNX Runtime and OpenBLAS run on it with one"
                    + " thread each), the figures to compare between runs on a busy machine; *_per_s: per second of wall time");
            double[] ceilingAfter = matmulCeiling(Math.min(1.5, 0.015 * budget));
            double ceiling = Math.max(ceilingBefore[0], ceilingAfter[0]);
            double ceilingCpu = ceilingBefore[1] > 0 && ceilingAfter[1] > 0 ? (ceilingBefore[1] + ceilingAfter[1]) / 2 : 0;

            double flopsPerByte = scoreFlopsPerByte(mf);
            result.put("score_flops_per_byte", flopsPerByte);
            if (ceiling > 0) {
                result.put("ort_matmul_gflops", ceiling / 1e9);
                result.put("score_gflops", score * flopsPerByte / 1e9);
                result.put("flop_utilisation", finite(score * flopsPerByte / ceiling, "flop_utilisation"));
                notes.add("flop_utilisation: score bytes/s x " + Math.round(flopsPerByte) + " matmul FLOPs/byte (analytic, from the manifest)"
                        + " / ONNX Runtime MatMul " + MATMUL_SIZE + "^3 on 1 intra-op thread (the faster of its runs before and after the"
                        + " throughput runs, wall time)");
            }
            if (ceilingCpu > 0) {
                result.put("ort_matmul_gflops_cpu", ceilingCpu / 1e9);
                result.put("flop_utilisation_cpu", finite(sc[3] * flopsPerByte / ceilingCpu, "flop_utilisation_cpu"));
                if (sn != null) {
                    result.put("flop_utilisation_neural_cpu", finite(sn[3] * flopsPerByte / ceilingCpu, "flop_utilisation_neural_cpu"));
                    notes.add("flop_utilisation_neural_cpu: flop_utilisation_cpu of the neural levels alone (score_neural_bytes_per_cpu_s):"
                            + " the FLOPs counted are the neural levels' in both");
                }
                notes.add("flop_utilisation_cpu: the same in thread CPU time on both sides (the MatMul's median CPU time per run, the mean"
                        + " of its runs before and after the throughput runs)");
            }
            result.put("cpu_model", cpuModel());
            result.put("elementwise_kernels", org.hope4j.level.Kernels.active().describe());

            // -- the PyTorch reference on the same bytes
            if (noReference) {
                notes.add("score_vs_pytorch: null, --no-reference");
            } else if (exportDir == null) {
                notes.add("score_vs_pytorch: null, no model-export/ found above the working directory or the jar; pass --reference DIR");
            } else {
                say("PyTorch reference (" + refBytes + " bytes, 1 torch thread)");
                runReference(exportDir, learner, Arrays.copyOf(text, refBytes), sc[1], sn == null ? 0 : sn[1], budget);
            }

            // -- sleep: 64 KB of experience, a time-bounded default sleep
            sleepBench(learner, text, 0.15 * budget);
            preemptionBench(learner, Math.max(4, 4 * (int) (budget / 50)));

            // -- decode latency after 1 KB and after the long context
            say("decode after " + SHORT_CONTEXT + " bytes");
            stream.restore(fresh);
            stream.read(text, 0, SHORT_CONTEXT, Learning.L0_ONLY, null);
            result.put("decode_ms_per_byte_1k", finite(decodeMsPerByte(learner, 0.03 * budget), "decode_ms_per_byte_1k"));
            double advanceBudget = Math.max(0.1 * budget, budget - elapsed() - 0.04 * budget);
            say("advance the context to " + contextBytes + " bytes (Learning.L0_ONLY, up to " + fmt(advanceBudget) + " s)");
            long a0 = System.nanoTime();
            int pos = SHORT_CONTEXT;
            int block = 1 << 16;
            while (pos < contextBytes && (System.nanoTime() - a0) / 1e9 < advanceBudget) {
                int n = Math.min(block, contextBytes - pos);
                stream.read(text, pos, n, Learning.L0_ONLY, null);
                pos += n;
                tick("advance", pos, contextBytes);
            }
            double advSecs = (System.nanoTime() - a0) / 1e9;
            long context = stream.position();
            result.put("decode_context_bytes", context);
            result.put("context_read_bytes_per_s", (pos - SHORT_CONTEXT) / advSecs);
            if (context < contextBytes) {
                notes.add("decode_ms_per_byte_1m: the context reached " + context + " bytes, not " + contextBytes
                        + ", within the time budget (--seconds " + fmt(budget) + ")");
            } else {
                notes.add("decode_ms_per_byte_1m: context advanced to " + context + " bytes by L0_ONLY reading (score-style), "
                        + fmt(advSecs) + " s");
            }
            say("decode after " + context + " bytes");
            result.put("decode_ms_per_byte_1m", finite(decodeMsPerByte(learner, 0.03 * budget), "decode_ms_per_byte_1m"));
            notes.add("decode_ms_per_byte_*: median over calls of Learner.generate (64 bytes each, temperature 0.8, top-k 40) / 64;"
                    + " includes generate's snapshot and restore of the state");
        }
        Double rss = peakRssMb();
        result.put("peak_rss_mb", rss);
        long maxHeap = Runtime.getRuntime().maxMemory() >> 20;
        result.put("jvm_max_heap_mb", maxHeap);
        if (rss != null) {
            notes.add("peak_rss_mb: VmHWM of the whole JVM process: the Java heap as the collector let it grow (up to " + maxHeap
                    + " MB here; -Xmx bounds it), ONNX Runtime and OpenBLAS native memory, the " + (text.length >> 10) + " KB input");
        }
        result.put("seconds", elapsed());
    }

    /**
     * How long a running sleep takes to stop once it is preempted (the idle-time scheduler and the
     * service preempt a sleep on any user call; issue 15 asks for 50 ms): {@code trials} sleeps (default
     * config, 60 steps) on another thread, each preempted at a random moment of one phase (evaluate,
     * consolidate, dream, probe in turn), timed from the preemption flag turning true to the sleep's
     * return. Wall time, on a busy machine.
     */
    private void preemptionBench(Learner learner, int trials) {
        say("sleep preemption: " + trials + " sleeps, each preempted at a random moment of a chosen phase");
        Random rnd = new Random(15);
        String[] targets = {"evaluate", "consolidate", "dream", "probe"};
        List<Double> ms = new ArrayList<>();
        Map<String, Integer> phases = new LinkedHashMap<>();
        for (int t = 0; t < trials; t++) {
            String target = targets[t % targets.length];
            java.util.concurrent.atomic.AtomicBoolean flag = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.CountDownLatch reached = new java.util.concurrent.CountDownLatch(1);
            String[] phase = {"start"};
            long[] stopped = new long[1];
            SleepReport[] report = new SleepReport[1];
            Thread th = new Thread(() -> {
                report[0] = learner.sleep(SleepRequest.builder().budget(SleepBudget.defaults()).config(SleepConfig.defaults().withSteps(60)).preemptedWhen(flag::get).listener(e -> {
                    if (e instanceof SleepEvent.Phase p) {
                        phase[0] = p.name();
                        if (p.name().equals(target)) {
                            reached.countDown();
                        }
                    }
                }).build());
                stopped[0] = System.nanoTime();
                reached.countDown(); // a sleep that ended before the phase
            }, "bench-sleep");
            th.start();
            try {
                reached.await();
                Thread.sleep(rnd.nextInt(target.equals("probe") ? 50 : 500)); // somewhere inside the phase
                long t0 = System.nanoTime();
                flag.set(true);
                th.join();
                if (report[0] instanceof SleepReport.Preempted) {
                    ms.add((stopped[0] - t0) / 1e6);
                    phases.merge(phase[0], 1, Integer::sum);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (ms.isEmpty()) {
            result.put("sleep_preemption_ms_p50", null);
            notes.add("sleep_preemption_ms: no sleep was still running when preempted");
            return;
        }
        List<Double> sorted = ms.stream().sorted().toList();
        result.put("sleep_preemption_ms_p50", sorted.get(sorted.size() / 2));
        result.put("sleep_preemption_ms_max", sorted.get(sorted.size() - 1));
        result.put("sleep_preemption_trials", sorted.size());
        notes.add(String.format(Locale.ROOT, "sleep_preemption_ms_*: %d sleeps (default, 60 steps) preempted at a random moment of each phase in"
                + " turn (preempted in: %s); wall time from the preemption flag to the sleep's return, the second core busy or not", sorted.size(),
                phases));
    }

    /**
     * Observes 64 KB, then runs one default sleep with {@code seconds} of budget; reports its
     * measured step rate and the time a sleep needs to distil windows covering 64 KB once.
     */
    private void sleepBench(Learner learner, byte[] text, double seconds) {
        int n = Math.min(SLEEP_BYTES, text.length);
        say("sleep: observe " + n + " bytes, then one default sleep of " + fmt(seconds) + " s");
        learner.clearExperience();
        learner.observe(Arrays.copyOf(text, n));
        long[] phase = new long[2];
        SleepConfig cfg = SleepConfig.defaults();
        long s0 = System.nanoTime();
        SleepReport r = learner.sleep(SleepRequest.builder().budget(new SleepBudget(n, Duration.ofMillis((long) (seconds * 1000)))).config(cfg).listener(e -> {
            if (e instanceof SleepEvent.Phase p && p.name().equals("consolidate")) {
                phase[p.progress() == 0 ? 0 : 1] = System.nanoTime();
            }
        }).build());
        double total = (System.nanoTime() - s0) / 1e9;
        SleepFigures x = r.figures();
        result.put("sleep_committed", r.committed());
        result.put("sleep_seconds", total);
        if (x.steps() == 0 || phase[1] <= phase[0]) {
            result.put("sleep_seconds_64k", null);
            notes.add("sleep_seconds_64k: null, the sleep took no step (" + r.reason() + ")");
            return;
        }
        double consolidate = (phase[1] - phase[0]) / 1e9;
        double perStep = consolidate / x.steps();
        double windowsFor64k = 65536.0 / cfg.windowBytes();
        result.put("sleep_steps", x.steps());
        result.put("sleep_ms_per_step", 1000 * perStep);
        result.put("sleep_seconds_64k", total - consolidate + windowsFor64k * perStep);
        notes.add(String.format(Locale.ROOT, "sleep_seconds_64k: one default sleep on %d bytes of experience took %.1f s (%d steps of %d-byte"
                + " windows, %.1f ms each, mixed as SleepConfig.defaults(); the rest measures and dreams); the figure is that sleep with"
                + " %.0f steps, enough windows to cover 64 KB once", n, total, x.steps(), cfg.windowBytes(), 1000 * perStep, windowsFor64k));
    }

    // ---------------------------------------------------------------------------------------------
    // measurements

    /**
     * Reads {@code text} from {@code fresh} in {@link #CHUNK}-byte calls for about {@code secs}
     * seconds (at least {@code minBytes}, at least one chunk); restores {@code fresh} after.
     * Returns {bytes/s over everything read, bytes/s over the first minBytes (0 when minBytes is 0), bytes read,
     * bytes per second of this thread's CPU time}.
     */
    private double[] timedRead(HopeStream stream, HopeStream.Snapshot fresh, byte[] text, Learning learning, double secs, int minBytes) {
        stream.restore(fresh);
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long firstPart = 0;
        long done = 0;
        int span = text.length - CHUNK;
        try {
            while (done < Math.max(minBytes, CHUNK) || (System.nanoTime() - start) / 1e9 < secs) {
                int off = (int) (done % span);
                stream.read(text, off, CHUNK, learning, null);
                done += CHUNK;
                if (minBytes > 0 && done == minBytes) {
                    firstPart = System.nanoTime() - start;
                }
                tick("read", done, 0);
            }
        } finally {
            stream.restore(fresh);
        }
        double s = (System.nanoTime() - start) / 1e9;
        double cpu = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e9;
        return new double[] {done / s, firstPart > 0 ? minBytes / (firstPart / 1e9) : 0, done, done / cpu};
    }

    /**
     * Two {@link #timedRead} results as one: wall and CPU rates over both runs' bytes; the first part's rate from {@code a}.
     */
    static double[] combined(double[] a, double[] b) {
        double bytes = a[2] + b[2];
        double wall = a[2] / a[0] + b[2] / b[0];
        double cpu = a[2] / a[3] + b[2] / b[3];
        return new double[] {bytes / wall, a[1], bytes, bytes / cpu};
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** The processor's model name from /proc/cpuinfo, or the architecture where it has none. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return System.getProperty("os.arch");
    }

    /** Median milliseconds per generated byte over calls of 64 bytes, for about {@code secs} seconds (at least 3 calls). */
    private static double decodeMsPerByte(Learner learner, double secs) {
        int n = 64;
        Sampling s = new Sampling(0.8, 40, 1);
        learner.generate(new byte[0], n, s, null); // warm: the single-byte path is not the reading path
        List<Double> per = new ArrayList<>();
        long start = System.nanoTime();
        while (per.size() < 3 || (System.nanoTime() - start) / 1e9 < secs) {
            long g0 = System.nanoTime();
            learner.generate(new byte[0], n, s, null);
            per.add((System.nanoTime() - g0) / 1e6 / n);
            if (per.size() >= 1000) {
                break;
            }
        }
        per.sort(null);
        return per.get(per.size() / 2);
    }

    /**
     * FLOP/s of the median run of a {@link #MATMUL_SIZE}^3 MatMul on ONNX Runtime, 1 intra-op thread: {in wall time,
     * in this thread's CPU time}; zeros when it fails.
     */
    private double[] matmulCeiling(double secs) {
        int n = MATMUL_SIZE;
        byte[] graph;
        try (InputStream in = Bench.class.getResourceAsStream(MATMUL)) {
            if (in == null) {
                notes.add("flop_utilisation: null, resource " + MATMUL + " is missing from the jar");
                return new double[2];
            }
            graph = in.readAllBytes();
        } catch (IOException e) {
            notes.add("flop_utilisation: null, cannot read " + MATMUL + ": " + e.getMessage());
            return new double[2];
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        Random rnd = new Random(0);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
            b[i] = (float) rnd.nextGaussian();
        }
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(1);
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(graph, so);
                 OnnxTensor ta = OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {n, n});
                 OnnxTensor tb = OnnxTensor.createTensor(env, FloatBuffer.wrap(b), new long[] {n, n})) {
                Map<String, OnnxTensor> in = Map.of("A", ta, "B", tb);
                for (int i = 0; i < 2; i++) {
                    session.run(in).close();
                }
                List<Double> times = new ArrayList<>();
                List<Double> cpuTimes = new ArrayList<>();
                long cpu0 = processCpuTicks();
                long start = System.nanoTime();
                while (times.size() < 5 || (System.nanoTime() - start) / 1e9 < secs) {
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    long r0 = System.nanoTime();
                    session.run(in).close();
                    times.add((System.nanoTime() - r0) / 1e9);
                    cpuTimes.add((THREADS.getCurrentThreadCpuTime() - c0) / 1e9);
                    if (times.size() >= 10_000) {
                        break;
                    }
                }
                double wall = (System.nanoTime() - start) / 1e9;
                long cpu1 = processCpuTicks();
                times.sort(null);
                cpuTimes.sort(null);
                double median = times.get(times.size() / 2);
                double medianCpu = cpuTimes.get(cpuTimes.size() / 2);
                result.merge("ort_matmul_runs", times.size(), (x, y) -> ((Number) x).intValue() + ((Number) y).intValue());
                if (cpu0 >= 0 && cpu1 >= 0) {
                    // about 1.0 when the MatMul really ran on one thread (CLK_TCK is 100 on Linux)
                    result.put("ort_matmul_cpu_per_wall", (cpu1 - cpu0) / 100.0 / wall);
                }
                double flops = 2.0 * n * n * n;
                return new double[] {flops / median, medianCpu > 0 ? flops / medianCpu : 0};
            }
        } catch (OrtException | RuntimeException e) {
            notes.add("flop_utilisation: null, the ONNX Runtime MatMul failed: " + e.getMessage());
            return new double[2];
        }
    }

    /**
     * Matrix-product FLOPs per byte of score-style reading (L0 memories learning in context, CMS
     * frozen), counted as 2 x multiply-adds of every matmul of the reference model
     * (model-export/hope_export/model.py), with d = d_model, H heads of dh = d/H, R = mem_rows
     * (3 dh + 10), C0 = the L0 chunk, Fs/F2/F1 = slow/mid/fast hidden sizes, V = 256:
     * <pre>
     *   embed      0                                     (a table lookup)
     *   per block:
     *   mixer_in   2 (2d·d) + 2 (2·d·H)                   W_in; per-head sum of squares (two indicator matmuls)
     *   memory     H · 2 (4·R·dh + 2·dh² + 2·C0·dh)      u W0ᵀ, k W0ᵀ, l2norm(v) W0ᵀ, commit errᵀk (R·dh each);
     *                                                    reads q Iᵀ and q (Wt−I)ᵀ (dh² each); q kᵀ and the
     *                                                    decayed weights · err over the chunk (C0·dh each)
     *   mixer_out  2 (d·d + d·d + 2·Fs·d)                W_gate, W_o, slow MLP up and down
     *   CMS        2 (2·F2·d + 2·F1·d)                   mid and fast MLP forward (frozen: no gradients)
     *   head       2·V·d
     * </pre>
     * The chunk terms count full C0 chunks (the reference computes the C0×C0 products whole).
     * Element-wise work (norms, activations, softmax) is not counted.
     */
    static double scoreFlopsPerByte(Manifest mf) {
        Manifest.ModelConfig m = mf.model();
        double d = m.dModel();
        double h = m.nHeads();
        double dh = m.headDim();
        double r = m.memRows();
        double c0 = mf.levels().get(0).period();
        double mixerIn = 2 * (2 * d * d) + 2 * (2 * d * h);
        double memory = h * 2 * (4 * r * dh + 2 * dh * dh + 2 * c0 * dh);
        double mixerOut = 2 * (d * d + d * d + 2 * m.slowHidden() * d);
        double cms = 2 * (2 * m.midHidden() * d + 2 * m.fastHidden() * d);
        double head = 2 * m.vocab() * d;
        return m.nBlocks() * (mixerIn + memory + mixerOut + cms) + head;
    }

    /** Bytes the reference reads: a whole number of chunks that fits its share of the budget (10%) at about 3 KB/s. */
    static int referenceBytes(double budget) {
        int want = (int) (0.1 * budget * 3000);
        return Math.max(CHUNK, Math.min(8 * CHUNK, want / CHUNK * CHUNK));
    }

    /** The model shape and level periods in the manifest's own JSON names, what bench_reference.py reads. */
    static String referenceConfig(Manifest mf) {
        Manifest.ModelConfig m = mf.model();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("d_model", m.dModel());
        model.put("n_blocks", m.nBlocks());
        model.put("n_heads", m.nHeads());
        model.put("slow_hidden", m.slowHidden());
        model.put("mid_hidden", m.midHidden());
        model.put("fast_hidden", m.fastHidden());
        model.put("conv_width", m.convWidth());
        model.put("eta_max", m.etaMax());
        List<Map<String, Object>> levels = new ArrayList<>();
        for (Manifest.Level l : mf.levels()) {
            Map<String, Object> lv = new LinkedHashMap<>();
            lv.put("name", l.name());
            lv.put("period", l.period());
            levels.add(lv);
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", model);
        cfg.put("levels", levels);
        cfg.put("plastic_blocks", mf.plasticBlocks());
        return new GsonBuilder().serializeNulls().create().toJson(cfg);
    }

    private void runReference(Path exportDir, Learner learner, byte[] bytes, double ours, double oursNeural, double budget) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("hope4j-bench");
            Path manifest = tmp.resolve("manifest.json");
            Files.writeString(manifest, referenceConfig(learner.bundle().manifest()));
            Path input = tmp.resolve("input.bin");
            Files.write(input, bytes);
            Path stdout = tmp.resolve("stdout");
            Path stderr = tmp.resolve("stderr");
            ProcessBuilder pb = new ProcessBuilder(python, "-m", "hope_export.bench_reference", "--config-json", manifest.toString(),
                    "--input", input.toString(), "--bytes", Integer.toString(bytes.length), "--chunk", Integer.toString(CHUNK), "--skip-observe")
                    .directory(exportDir.toFile()).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                notes.add("score_vs_pytorch: null, cannot start " + python + ": " + e.getMessage());
                return;
            }
            long limit = (long) Math.max(60, 0.6 * budget);
            if (!p.waitFor(limit, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                notes.add("score_vs_pytorch: null, the reference did not finish within " + limit + " s");
                return;
            }
            String outText = Files.readString(stdout).strip();
            if (p.exitValue() != 0 || outText.isEmpty()) {
                String err = Files.readString(stderr).strip();
                String[] lines = err.split("\n");
                notes.add("score_vs_pytorch: null, the reference failed (exit " + p.exitValue() + "): " + lines[lines.length - 1]);
                return;
            }
            String[] lines = outText.split("\n");
            JsonObject ref = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
            double refScore = ref.get("score_bytes_per_s").getAsDouble();
            result.put("pytorch_score_bytes_per_s", refScore);
            if (ref.has("observe_bytes_per_s") && !ref.get("observe_bytes_per_s").isJsonNull()) {
                double refObserve = ref.get("observe_bytes_per_s").getAsDouble();
                result.put("pytorch_observe_bytes_per_s", refObserve);
            }
            result.put("pytorch_bytes", ref.get("bytes").getAsLong());
            result.put("pytorch_torch_threads", ref.get("torch_threads").getAsInt());
            result.put("score_vs_pytorch", finite(ours / refScore, "score_vs_pytorch"));
            if (oursNeural > 0) {
                result.put("score_neural_vs_pytorch", finite(oursNeural / refScore, "score_neural_vs_pytorch"));
                notes.add("score_neural_vs_pytorch: the same with the neural levels alone on our side (no E), like for like: the reference"
                        + " has no episodic level");
            }
            notes.add("score_vs_pytorch: Hope4J's score-style reading of the first " + bytes.length + " input bytes (" + CHUNK
                    + "-byte calls) / hope_export.bench_reference on the same bytes and model shape, random weights (seed 0: speed does"
                    + " not depend on the values), torch " + ref.get("torch_version").getAsString() + " on 1 thread, under no_grad");
        } catch (IOException | RuntimeException e) {
            notes.add("score_vs_pytorch: null, " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            notes.add("score_vs_pytorch: null, interrupted");
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // input, environment, output

    /** The model-export/ directory of a checkout above the working directory or the jar, or null. */
    static Path findModelExport() {
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            var src = Bench.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                starts.add(Path.of(src.getLocation().toURI()).toAbsolutePath());
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no jar location: the working directory alone
        }
        for (Path start : starts) {
            for (Path p = start; p != null; p = p.getParent()) {
                Path dir = p.resolve("model-export");
                if (Files.isRegularFile(dir.resolve(REFERENCE_SCRIPT))) {
                    return dir;
                }
            }
        }
        return null;
    }

    /** Held-out English prose of the checkout if there is one, else the demo text; repeated to {@code size} bytes. */
    private byte[] inputText(Path exportDir, int size) throws IOException {
        byte[] base;
        Path heldout = exportDir == null ? null : exportDir.resolve(HELDOUT);
        if (heldout != null && Files.isRegularFile(heldout) && Files.size(heldout) > CHUNK) {
            base = Files.readAllBytes(heldout);
            result.put("input", heldout.toString());
        } else {
            try (InputStream in = Bench.class.getResourceAsStream(DEMO_TEXT)) {
                if (in == null) {
                    throw new IOException("resource " + DEMO_TEXT + " is missing from the jar");
                }
                base = in.readAllBytes();
            }
            result.put("input", "resource:" + DEMO_TEXT);
            notes.add("input: the demo text (no " + HELDOUT + " found), repeated");
        }
        byte[] text = new byte[size];
        for (int i = 0; i < size; i += base.length) {
            System.arraycopy(base, 0, text, i, Math.min(base.length, size - i));
        }
        if (base.length < size && result.get("input").toString().endsWith("heldout.txt")) {
            notes.add("input: " + HELDOUT + " (" + base.length + " bytes) repeated to " + size + " bytes");
        }
        return text;
    }

    /** utime + stime of this process in clock ticks from /proc/self/stat, or -1. */
    private static long processCpuTicks() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** VmHWM of this process in MiB, or null with a note. */
    private Double peakRssMb() {
        Path status = Path.of("/proc/self/status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) / 1024.0;
                }
            }
            notes.add("peak_rss_mb: null, no VmHWM in /proc/self/status");
        } catch (IOException | RuntimeException e) {
            notes.add("peak_rss_mb: null, cannot read /proc/self/status (" + e.getMessage() + ")");
        }
        return null;
    }

    private Double finite(double x, String key) {
        if (Double.isFinite(x) && x > 0) {
            return x;
        }
        notes.add(key + ": null, the measurement gave " + x);
        return null;
    }

    private double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private void say(String what) {
        progress.printf(Locale.ROOT, "\rbench [%5.1f s] %s%n", elapsed(), what);
        progress.flush();
    }

    private long lastTick;

    private void tick(String what, long done, long total) {
        long now = System.nanoTime();
        if (now - lastTick < 1_000_000_000L) {
            return;
        }
        lastTick = now;
        progress.printf(Locale.ROOT, "\rbench [%5.1f s] %s: %d%s bytes   ", elapsed(), what, done, total > 0 ? "/" + total : "");
        progress.flush();
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.1f", x);
    }

    private void printTable() {
        PrintStream o = System.out;
        result.forEach((k, v) -> {
            if (!k.equals("notes")) {
                String s = v instanceof Double x ? String.format(Locale.ROOT, x >= 100 ? "%.0f" : "%.4g", x) : String.valueOf(v);
                o.printf(Locale.ROOT, "%-28s %s%n", k, s);
            }
        });
        o.println("notes:");
        for (String n : notes) {
            o.println("  - " + n);
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a temp file left behind is harmless
                }
            });
        } catch (IOException e) {
            // ditto
        }
    }
}
