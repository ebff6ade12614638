package org.hope4j.device;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.Score;
import org.hope4j.level.EpisodicLevel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The learner on real files it never trained on, beside the classical online learners: for each
 * file of a real-text set ({@code python3 -m hope_export.realtext --out DIR} writes one, with its
 * manifest) the prequential code of the mixture (every level learning, E mixed in), of the neural
 * levels alone, of the episodic level alone (uniform neural input), and {@code score} of the
 * pretrained learner (CMS frozen; L0 and E learn within the call), merged with the peers' figures
 * ({@code python3 -m hope_export.peers} writes them: PPMd, zpaq -m5, xz, cold and primed).
 */
@Command(name = "realtext", mixinStandardHelpOptions = true,
        description = "Bits/byte on a real-text set (learner, its components, and the peers PPMd / zpaq / xz).")
final class RealText implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(RealText.class.getName());

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "real-text set: DIR/manifest.json and its files")
    Path dir;

    @Option(names = "--peers", paramLabel = "FILE", description = "the peers' JSON (hope_export.peers) to merge")
    Path peers;

    @Option(names = "--json", required = true, paramLabel = "FILE", description = "where to write the results")
    Path out;

    @Option(names = "--slice", paramLabel = "BYTES", defaultValue = "8192",
            description = "the learner and its neural levels alone observe each file in alternating slices of this size, "
                    + "so the episodic level's cost is timed under the same load (default: ${DEFAULT-VALUE})")
    int slice;

    @Override
    public Integer call() throws IOException {
        if (slice < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--slice must be at least 1 byte, found " + slice);
        }
        Path mf = dir.resolve("manifest.json");
        if (!Files.isRegularFile(mf)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dir: " + mf + " does not exist (write the set with python3 -m hope_export.realtext --out " + dir + ")");
        }
        JsonObject manifest = JsonParser.parseString(Files.readString(mf, StandardCharsets.UTF_8)).getAsJsonObject();
        Map<String, JsonObject> peerRows = new LinkedHashMap<>();
        JsonObject peersTop = null;
        if (peers != null) {
            JsonElement p = JsonParser.parseString(Files.readString(peers, StandardCharsets.UTF_8));
            peersTop = p.isJsonObject() ? p.getAsJsonObject() : null;
            JsonArray rows = p.isJsonArray() ? p.getAsJsonArray() : p.getAsJsonObject().getAsJsonArray("files");
            for (JsonElement r : rows) {
                JsonObject o = r.getAsJsonObject();
                peerRows.put(o.get("file").getAsString(), o);
            }
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        List<Map<String, Object>> rows = new ArrayList<>();
        long allCpuE = 0; // thread CPU nanoseconds of observe over every file, with E and without
        long allCpuN = 0;
        for (JsonElement el : manifest.getAsJsonArray("files")) {
            JsonObject f = el.getAsJsonObject();
            String name = f.get("file").getAsString();
            byte[] data = Files.readAllBytes(dir.resolve(name));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("format", f.get("format").getAsString());
            row.put("file", name);
            row.put("bytes", data.length);
            long t0 = mx.getCurrentThreadCpuTime();
            Main.Common neural = copyWithoutEpisodic();
            try (Learner l = common.open(); Learner n = neural.open()) {
                row.put("score_pretrained", l.score(data).bitsPerByte());
                row.put("score_pretrained_neural", n.score(data).bitsPerByte());
                // the learner and its neural levels alone read the file in alternating slices on this thread, so the
                // episodic level's cost is measured under the same machine load (thread CPU time, not wall time)
                Score withE = Score.empty();
                Score without = Score.empty();
                long cpuE = 0;
                long cpuN = 0;
                for (int off = 0; off < data.length; off += slice) {
                    byte[] part = java.util.Arrays.copyOfRange(data, off, Math.min(data.length, off + slice));
                    long a = mx.getCurrentThreadCpuTime();
                    withE = withE.plus(l.observe(part));
                    long b = mx.getCurrentThreadCpuTime();
                    without = without.plus(n.observe(part));
                    cpuN += mx.getCurrentThreadCpuTime() - b;
                    cpuE += b - a;
                }
                row.put("observe", withE.bitsPerByte());
                row.put("observe_cpu_s", cpuE / 1e9);
                row.put("observe_neural", without.bitsPerByte());
                row.put("observe_neural_cpu_s", cpuN / 1e9);
                row.put("episodic_cost", cpuN > 0 ? (double) cpuE / cpuN - 1 : Double.NaN);
                allCpuE += cpuE;
                allCpuN += cpuN;
            }
            EpisodicLevel e = new EpisodicLevel(org.hope4j.EpisodicConfig.defaults(), EpisodicLevel.Prior.neutral());
            double bits = 0;
            for (int i = 0; i < data.length; i++) {
                double b = e.code(null, 0, data[i] & 0xff);
                if (i > 0) {
                    bits += b;
                }
            }
            row.put("observe_episodic_alone", bits / (data.length - 1));
            JsonObject pr = peerRows.get(name);
            if (pr != null) {
                mergePeers(row, pr);
            }
            LOG.log(System.Logger.Level.INFO, "realtext {0}: {1}", name, row);
            System.err.printf("%s: observe %.3f (neural %.3f, E alone %.3f), score %.3f, %.1f s CPU%n", name, row.get("observe"), row.get("observe_neural"),
                    row.get("observe_episodic_alone"), row.get("score_pretrained"), (mx.getCurrentThreadCpuTime() - t0) / 1e9);
            rows.add(row);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("cpu", cpuModel());
        // issue 12: the episodic level and the mixer cost at most 15 % of observe
        result.put("episodic_cost", allCpuN > 0 ? (double) allCpuE / allCpuN - 1 : Double.NaN);
        result.put("timing", "thread CPU time of observe, the learner and its neural levels alone alternating every " + slice + " bytes");
        result.put("set", dir.toString());
        result.put("learner", (common.model == null ? "the embedded default bundle" : "the bundle " + common.model)
                + (common.noEpisodic ? ", neural levels alone" : " with the episodic level E (" + org.hope4j.EpisodicConfig.defaults()
                        + ", " + org.hope4j.EpisodicConfig.defaults().bytes() + " bytes of tables)")
                + "; observe = prequential with every level learning, score = CMS frozen (L0 and E learn within the call),"
                + " E alone = the episodic level with a uniform neural input and the neutral prior");
        if (peersTop != null) {
            for (String k : new String[] {"methods", "tools", "primers"}) {
                if (peersTop.has(k)) {
                    result.put("peers_" + k, peersTop.get(k));
                }
            }
            result.put("observe_beats", beats(rows));
        }
        result.put("files", rows);
        Gson g = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
        Files.writeString(out, g.toJson(result) + "\n", StandardCharsets.UTF_8);
        return 0;
    }

    /**
     * Copies a peers row (hope_export.peers) into the learner's row: its strings and numbers as they
     * are, its cold figures as {@code peers_cold} ({@code {tool: bits/byte}}), its primed ones as
     * {@code peers_primed} ({@code {primer: {tool: bits/byte}}}).
     */
    static void mergePeers(Map<String, Object> row, JsonObject pr) {
        for (String k : pr.keySet()) {
            JsonElement v = pr.get(k);
            if (k.equals("cold") && v.isJsonObject()) {
                row.put("peers_cold", v);
            } else if (k.equals("primed") && v.isJsonObject()) {
                row.put("peers_primed", v);
            } else if (!row.containsKey(k) && v.isJsonPrimitive()) {
                row.put(k, v.getAsJsonPrimitive().isNumber() ? (Object) v.getAsDouble() : v.getAsString());
            }
        }
    }

    /**
     * For every peer figure ("zpaq cold", "zpaq primed all", ...): on how many files the learner's
     * prequential code ({@code observe}) is smaller, as {@code "wins/files"}.
     */
    static Map<String, String> beats(List<Map<String, Object>> rows) {
        Map<String, int[]> n = new LinkedHashMap<>();
        for (Map<String, Object> row : rows) {
            double mine = ((Number) row.get("observe")).doubleValue();
            if (row.get("peers_cold") instanceof JsonObject cold) {
                for (String tool : cold.keySet()) {
                    count(n, tool + " cold", mine, cold.get(tool));
                }
            }
            if (row.get("peers_primed") instanceof JsonObject primed) {
                for (String label : primed.keySet()) {
                    JsonObject byTool = primed.getAsJsonObject(label);
                    for (String tool : byTool.keySet()) {
                        count(n, tool + " primed " + label, mine, byTool.get(tool));
                    }
                }
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        n.forEach((k, v) -> out.put(k, v[0] + "/" + v[1]));
        return out;
    }

    private static void count(Map<String, int[]> n, String key, double mine, JsonElement peer) {
        if (peer != null && peer.isJsonPrimitive() && peer.getAsJsonPrimitive().isNumber()) {
            int[] c = n.computeIfAbsent(key, k -> new int[2]);
            c[0] += mine < peer.getAsDouble() ? 1 : 0;
            c[1]++;
        }
    }

    /** The CPU model from /proc/cpuinfo ("unknown" elsewhere): every figure names the CPU that ran it. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    private Main.Common copyWithoutEpisodic() {
        Main.Common c = new Main.Common();
        c.model = common.model;
        c.backend = common.backend;
        c.threads = common.threads;
        c.rateScale = common.rateScale;
        c.noEpisodic = true;
        return c;
    }
}
