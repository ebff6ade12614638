package org.hope4j.tests;

import com.google.gson.GsonBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Sampling;
import org.hope4j.bundle.Bundle;
import org.hope4j.device.serve.Profiles;
import org.hope4j.device.serve.Service;
import org.hope4j.samples.ServiceClient;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SchedulerOptions;

/**
 * The service's benchmark (issue 15; {@code bash tests/bench-serve.sh}): the service in this JVM on a
 * Unix socket, 1, 4 and 16 clients each on its own profile doing rounds of observe 1 KB, score 1 KB and
 * generate 64 bytes. Reports the service threads' CPU time per round against the in-process library's
 * thread CPU time for the same calls (the service's overhead, independent of the machine's load), wall
 * latencies p50/p99 per request type (these depend on the load), and resident memory per open and per
 * closed (idle, evicted) profile. Writes one JSON file. Not a test: nothing is asserted.
 */
public final class ServeBench {
    private ServeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "tests/results/serve-bench.json");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int soakRounds = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        byte[] text = Bundle.loadDefault().bytes("rehearsal.txt");
        Path root = Files.createTempDirectory("hope4j-serve-bench");
        LearnerOptions lo = LearnerOptions.defaults().withBackend("cpu");
        Profiles.Options po = new Profiles.Options(root, 16, 1 << 20, 1_000_000, false, DevicePolicy.always(), SchedulerOptions.defaults(),
                dir -> resume(Hope.loadDefault(lo), dir));
        Service service = new Service(po, root.resolve("s.sock"), 0, null, 1 << 26, 40, Duration.ofHours(1));
        service.start();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("what", "hope4j serve in-process on a Unix socket; each client its own profile; a round = observe 1 KB, score 1 KB, generate 64 bytes;"
                + " cpu = the service threads' CPU time (ThreadMXBean) per round vs the library's thread CPU for the same calls in process, on as many"
                + " learners as the run had clients, round robin");
        result.put("cpu", cpuModel());
        result.put("learner", "default bundle, E on, anchor on, CPU backend");
        result.put("rounds_per_client", rounds);
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        long rssBase = rssKb();
        List<Map<String, Object>> runs = new ArrayList<>();
        for (int clients : new int[] {1, 4, 16}) {
            for (int i = 0; i < clients; i++) {
                c.createProfile("c" + clients + "-" + i);
                c.request("POST", "/v1/profiles/c" + clients + "-" + i + "/observe", slice(text, i, 1024)).ok(); // open it, warm
            }
            long rssOpen = rssKb();
            double cpu0 = serverCpu(mx);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<long[][]>> fs = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String p = "/v1/profiles/c" + clients + "-" + i;
                int k = i;
                fs.add(pool.submit(() -> {
                    long[][] lat = new long[3][rounds];
                    for (int r = 0; r < rounds; r++) {
                        long t = System.nanoTime();
                        c.request("POST", p + "/observe", slice(text, k * rounds + r + 1, 1024)).ok();
                        lat[0][r] = System.nanoTime() - t;
                        t = System.nanoTime();
                        c.request("POST", p + "/score", slice(text, k + 7, 1024)).ok();
                        lat[1][r] = System.nanoTime() - t;
                        t = System.nanoTime();
                        c.request("POST", p + "/generate?bytes=64&seed=" + r, "The ".getBytes(StandardCharsets.UTF_8)).ok();
                        lat[2][r] = System.nanoTime() - t;
                    }
                    return lat;
                }));
            }
            List<long[]> all = new ArrayList<>(List.of(new long[0], new long[0], new long[0]));
            for (Future<long[][]> f : fs) {
                long[][] lat = f.get();
                for (int t = 0; t < 3; t++) {
                    all.set(t, concat(all.get(t), lat[t]));
                }
            }
            pool.shutdown();
            double serverCpuPerRound = (serverCpu(mx) - cpu0) / (clients * rounds);
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("clients", clients);
            run.put("server_cpu_s_per_round", serverCpuPerRound);
            String[] names = {"observe_1k", "score_1k", "generate_64"};
            for (int t = 0; t < 3; t++) {
                long[] l = all.get(t);
                Arrays.sort(l);
                run.put(names[t] + "_p50_ms", l[(l.length - 1) / 2] / 1e6);
                run.put(names[t] + "_p99_ms", l[(int) Math.ceil(0.99 * l.length) - 1] / 1e6);
            }
            run.put("rss_mb_per_open_profile", (rssOpen - rssBase) / 1024.0 / clients);
            runs.add(run);
            service.profiles().close(); // saved and closed: the next run opens exactly its own clients' profiles (no eviction inside a run)
        }
        service.profiles().close();
        // the library alone, in this thread: as many learners as the run had clients, the same calls round robin, thread CPU time
        for (Map<String, Object> run : runs) {
            int clients = (int) run.get("clients");
            List<Learner> ls = new ArrayList<>();
            try {
                for (int i = 0; i < clients; i++) {
                    Learner l = Hope.loadDefault(lo);
                    l.observe(slice(text, i, 1024));
                    ls.add(l);
                }
                long t0 = mx.getCurrentThreadCpuTime();
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < clients; i++) {
                        Learner l = ls.get(i);
                        l.observe(slice(text, i * rounds + r + 1, 1024));
                        l.score(slice(text, i + 7, 1024));
                        l.generate("The ".getBytes(StandardCharsets.UTF_8), 64, Sampling.defaults().withSeed(r), null);
                    }
                }
                double lib = (mx.getCurrentThreadCpuTime() - t0) / 1e9 / (clients * rounds);
                run.put("library_cpu_s_per_round", lib);
                run.put("service_throughput_vs_library", lib / (double) run.get("server_cpu_s_per_round"));
            } finally {
                ls.forEach(Learner::close);
            }
        }
        result.put("runs", runs);
        // idle profiles: a closed profile keeps no learner; opening and closing 16 more one after another shows what they leave behind
        service.profiles().close();
        long rssBefore = rssKb();
        for (int i = 0; i < 16; i++) {
            String p = "idle-" + i;
            c.createProfile(p);
            c.request("POST", "/v1/profiles/" + p + "/observe", slice(text, i, 1024)).ok();
            service.profiles().close(); // what housekeeping does to a profile idle for --evict-after-ticks
        }
        long rssAfter = rssKb();
        result.put("profiles", service.profiles().names().size());
        result.put("rss_mb_after_the_runs", rssBefore / 1024.0);
        result.put("rss_mb_growth_per_idle_profile", (rssAfter - rssBefore) / 1024.0 / 16);
        result.put("note", "rss_mb_per_open_profile: VmRSS growth while the clients' profiles were opened (each learner: E's 31.7 MB tables, two"
                + " engines (the adapted model and the anchor), its ONNX Runtime sessions); an idle profile is closed by housekeeping and keeps no"
                + " learner: rss_mb_growth_per_idle_profile is what 16 more profiles, each opened, fed 1 KB and closed in turn, left in the"
                + " process (the JVM reuses the freed memory)");
        if (soakRounds > 0) {
            result.put("soak", soak(c, text, soakRounds));
        }
        service.stop();
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(result) + "\n");
        System.out.println(Files.readString(out));
    }

    /**
     * The soak: 4 clients on 4 profiles, each round observe 4 KB, score 1 KB and generate 64 bytes, a
     * snapshot and an undo every 10th round, an export every 25th; VmRSS after every 4 rounds of each
     * client. Growth = the last quarter's peak over the first quarter's peak (issue 15: at most 5 %).
     */
    static Map<String, Object> soak(ServiceClient c, byte[] text, int rounds) throws Exception {
        int clients = 4;
        for (int i = 0; i < clients; i++) {
            c.createProfile("soak-" + i);
        }
        List<Double> rss = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<Integer>> fs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < clients; i++) {
            String p = "/v1/profiles/soak-" + i;
            int k = i;
            fs.add(pool.submit(() -> {
                int errors = 0;
                for (int r = 0; r < rounds; r++) {
                    errors += c.request("POST", p + "/observe", slice(text, k * 7919 + r, 4096)).status() == 200 ? 0 : 1;
                    errors += c.request("POST", p + "/score", slice(text, r + 3, 1024)).status() == 200 ? 0 : 1;
                    errors += c.request("POST", p + "/generate?bytes=64&seed=" + r, "The ".getBytes(StandardCharsets.UTF_8)).status() == 200 ? 0 : 1;
                    if (r % 10 == 9) {
                        errors += c.request("PUT", p + "/snapshots/s", null).status() == 200 ? 0 : 1;
                        c.request("POST", p + "/observe", slice(text, r, 512)).ok();
                        errors += c.request("POST", p + "/snapshots/s/restore", null).status() == 200 ? 0 : 1;
                    }
                    if (r % 25 == 24) {
                        errors += c.request("GET", p + "/export", null).status() == 200 ? 0 : 1;
                    }
                    if (k == 0 && r % 4 == 3) {
                        rss.add(rssKb() / 1024.0);
                    }
                }
                return errors;
            }));
        }
        int errors = 0;
        for (Future<Integer> f : fs) {
            errors += f.get();
        }
        pool.shutdown();
        int q = Math.max(1, rss.size() / 4);
        double first = peak(rss.subList(0, q));
        double last = peak(rss.subList(rss.size() - q, rss.size()));
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("clients", clients);
        o.put("rounds_per_client", rounds);
        o.put("wall_s", (System.nanoTime() - t0) / 1e9);
        o.put("errors", errors);
        o.put("rss_mb_samples", rss);
        o.put("rss_growth_last_vs_first_quarter", last / first - 1);
        return o;
    }

    static double peak(List<Double> xs) {
        double m = Double.NaN;
        for (double x : xs) {
            m = Double.isNaN(m) ? x : Math.max(m, x);
        }
        return m;
    }

    static Learner resume(Learner l, Path dir) {
        if (Learner.hasSavedState(dir)) {
            l.restore(dir);
        }
        return l;
    }

    static byte[] slice(byte[] text, int i, int n) {
        int off = (int) ((long) i * 997 % Math.max(1, text.length - n));
        return Arrays.copyOfRange(text, off, off + n);
    }

    static long[] concat(long[] a, long[] b) {
        long[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** CPU seconds of the service's request threads so far. */
    static double serverCpu(ThreadMXBean mx) {
        long sum = 0;
        for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("hope4j-serve")) {
                long t = mx.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    sum += t;
                }
            }
        }
        return sum / 1e9;
    }

    static long rssKb() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static String cpuModel() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown";
    }
}
