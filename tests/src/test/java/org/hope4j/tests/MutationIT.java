package org.hope4j.tests;

import com.google.gson.GsonBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mutation campaign of issue 17 (R2): mutated bundles and mutated states, each loaded by a child JVM
 * with a bounded heap ({@link MutationWorker}), half of them with every checksum recomputed. Passing
 * means: 0 JVM crashes, 0 hangs, 0 out-of-memory errors, 0 stack traces on stderr, and every case either
 * loads and then works or is refused with a {@code HopeException} that names the file (a refused restore
 * changing nothing). A crash or hang is recorded and the campaign goes on in a new child from the next case.
 *
 * <p>{@code -Dhope4j.mutation.cases} (per kind; 40 in CI, 2,000 in {@code tests/run-benchmarks.sh}),
 * {@code -Dhope4j.mutation.seed}, {@code -Dhope4j.mutation.json} (where to write the figures). The hang
 * guard ({@code -Dhope4j.mutation.hang.seconds}, 300) only ends a case that printed nothing for that
 * long: no assertion depends on time.
 */
class MutationIT {
    @TempDir
    Path tmp;

    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final String HEAP = "-Xmx256m";

    @Test
    void mutatedBundlesAndStatesLoadOrAreRefusedCleanly() throws Exception {
        int cases = Integer.getInteger("hope4j.mutation.cases", 40);
        long seed = Long.getLong("hope4j.mutation.seed", 17);
        Process prep = child("prepare", tmp.toString()).redirectErrorStream(true).start();
        String line = new String(prep.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, prep.waitFor(), "prepare failed: " + line);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("what", "issue 17 R2: mutated bundles and states, half with checksums recomputed, each loaded in a child JVM with " + HEAP
                + "; outcome counts, failures (anything but a load that works or a clean refusal naming the file)");
        report.put("cpu", cpuModel());
        report.put("seed", seed);
        List<String> failures = new ArrayList<>();
        for (String kind : List.of("bundle", "state")) {
            Map<String, Object> r = campaign(kind, cases, seed, failures);
            report.put(kind, r);
        }
        report.put("failures", failures);
        String json = System.getProperty("hope4j.mutation.json");
        if (json != null) {
            Files.writeString(Path.of(json), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(report) + "\n");
        }
        assertTrue(failures.isEmpty(), failures.size() + " failures, the first: " + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }

    private ProcessBuilder child(String... args) {
        List<String> cmd = new ArrayList<>(List.of(JAVA, HEAP, "-cp", System.getProperty("java.class.path"), MutationWorker.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    private Map<String, Object> campaign(String kind, int cases, long seed, List<String> failures) throws Exception {
        int hang = Integer.getInteger("hope4j.mutation.hang.seconds", 300);
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> refusals = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        int next = 0;
        int children = 0;
        int recomputed = 0;
        while (next < cases) {
            children++;
            Path err = tmp.resolve(kind + "-stderr-" + children + ".txt");
            Process p = child(kind, tmp.toString(), Long.toString(seed), Integer.toString(next), Integer.toString(cases))
                    .redirectError(err.toFile()).start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = in.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    // the child was killed
                }
                lines.add("EOF");
            });
            reader.start();
            String begun = null;
            while (true) {
                String l = lines.poll(hang, TimeUnit.SECONDS);
                if (l == null) {
                    p.destroyForcibly().waitFor();
                    failures.add(kind + " HANG: " + begun);
                    count(outcomes, "hang");
                    next = begun == null ? next + 1 : index(begun) + 1;
                    break;
                }
                if (l.equals("EOF")) {
                    int code = p.waitFor();
                    if (begun != null) {
                        failures.add(kind + " CRASH (exit " + code + "): " + begun);
                        count(outcomes, "crash");
                        next = index(begun) + 1;
                    } else if (next < cases) {
                        failures.add(kind + " the child ended early (exit " + code + ") before case " + next);
                        next = cases;
                    }
                    break;
                }
                if (l.startsWith("BEGIN ")) {
                    begun = l;
                    if (l.contains("checksums recomputed")) {
                        recomputed++;
                    }
                } else if (l.startsWith("CASE ")) {
                    String[] f = l.split(" ", 4);
                    next = Integer.parseInt(f[1]) + 1;
                    count(outcomes, f[2]);
                    if (f[2].equals("FAIL")) {
                        failures.add(kind + " " + begun + " -> " + f[3]);
                    } else if (f[2].equals("refused")) {
                        count(refusals, f[3].substring(0, f[3].indexOf(':')));
                        if (examples.size() < 40 && Integer.parseInt(f[1]) % Math.max(1, cases / 40) == 0) {
                            examples.add(begun.substring(begun.indexOf("/case-")).replaceFirst("/case-[0-9]+/", "")
                                    + " -> " + f[3].replace(tmp.toString(), "..."));
                        }
                    }
                    begun = null;
                }
            }
            reader.join();
            for (String e : Files.readAllLines(err)) {
                if (e.startsWith("\tat ") || e.contains("Exception") || e.contains("Error:") || e.contains("SIGSEGV")) {
                    failures.add(kind + " stderr of child " + children + ": " + e);
                    count(outcomes, "stderr_trace_lines");
                }
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cases", cases);
        r.put("checksums_recomputed", recomputed);
        r.put("child_jvms", children);
        r.put("outcomes", outcomes);
        r.put("refused_with", refusals);
        r.put("refusal_examples", examples);
        return r;
    }

    private static int index(String begin) {
        return Integer.parseInt(begin.split(" ")[1]);
    }

    private static void count(Map<String, Integer> m, String k) {
        m.merge(k, 1, Integer::sum);
    }

    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
