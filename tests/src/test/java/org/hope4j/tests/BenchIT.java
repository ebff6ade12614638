package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hope4j.device.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hope4j bench --json} in process on a small budget: every figure present, sane, or null with a reason. No timing assertions. */
class BenchIT {
    @TempDir
    Path tmp;

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    static final String[] NUMBERS = {"score_bytes_per_s", "observe_bytes_per_s", "learn_to_infer", "score_vs_pytorch", "flop_utilisation",
        "decode_ms_per_byte_1k", "decode_ms_per_byte_1m", "peak_rss_mb", "cold_start_ms", "cpu_threads", "input_bytes", "sleep_seconds_64k"};

    @Test
    void benchJsonHasEveryFigureOrSaysWhyNot() throws Exception {
        Path out = tmp.resolve("bench.json");
        Cli.Run r = run("bench", "--json", "--seconds", "20", "--context-bytes", "16384", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        String line = r.out().strip();
        assertEquals(1, line.lines().count(), "one JSON line on stdout: " + line);
        JsonObject j = JsonParser.parseString(line).getAsJsonObject();
        assertEquals(j, JsonParser.parseString(Files.readString(out).strip()), "--out holds the same JSON");

        assertTrue(j.has("notes") && j.get("notes").isJsonArray(), "notes array in " + j);
        List<String> notes = new ArrayList<>();
        for (JsonElement e : (JsonArray) j.get("notes")) {
            notes.add(e.getAsString());
        }
        for (String k : NUMBERS) {
            assertTrue(j.has(k), k + " missing in " + j);
            JsonElement v = j.get(k);
            if (v.isJsonNull()) {
                assertTrue(notes.stream().anyMatch(n -> n.startsWith(k + ":")), k + " is null without a note: " + notes);
            } else {
                double x = v.getAsDouble();
                assertTrue(Double.isFinite(x) && x > 0, k + " = " + x);
            }
        }
        // the figures this machine can always measure
        for (String k : new String[] {"score_bytes_per_s", "observe_bytes_per_s", "learn_to_infer", "decode_ms_per_byte_1k",
            "decode_ms_per_byte_1m", "cold_start_ms", "cpu_threads", "input_bytes", "score_bytes_per_cpu_s", "observe_bytes_per_cpu_s",
            "learn_to_infer_cpu"}) {
            assertTrue(j.has(k) && !j.get(k).isJsonNull(), k + " is null: " + notes);
            assertTrue(j.get(k).getAsDouble() > 0, k + " = " + j.get(k));
        }
        assertEquals(j.get("observe_bytes_per_cpu_s").getAsDouble() / j.get("score_bytes_per_cpu_s").getAsDouble(),
                j.get("learn_to_infer_cpu").getAsDouble(), 1e-9);
        // the neural levels alone (the default learner has E): measured beside score, E's share of score from the two
        assertTrue(j.has("score_neural_bytes_per_cpu_s") && j.get("score_neural_bytes_per_cpu_s").getAsDouble() > 0, j.toString());
        assertEquals(1 - j.get("score_bytes_per_cpu_s").getAsDouble() / j.get("score_neural_bytes_per_cpu_s").getAsDouble(),
                j.get("episodic_share_of_score_cpu").getAsDouble(), 1e-9);
        assertTrue(j.get("episodic_share_of_score_cpu").getAsDouble() < 1, j.toString());
        assertEquals(j.get("score_vs_pytorch").isJsonNull(), !j.has("score_neural_vs_pytorch"), "the like-for-like ratio comes with the other: " + j);
        if (j.has("flop_utilisation_cpu")) {
            assertEquals(j.get("flop_utilisation_cpu").getAsDouble() * j.get("score_neural_bytes_per_cpu_s").getAsDouble()
                    / j.get("score_bytes_per_cpu_s").getAsDouble(), j.get("flop_utilisation_neural_cpu").getAsDouble(), 1e-9);
            assertTrue(j.get("flop_utilisation_cpu").getAsDouble() > 0 && j.get("ort_matmul_gflops_cpu").getAsDouble() > 0, j.toString());
        }
        assertTrue(!j.get("cpu_model").getAsString().isBlank(), "the processor is named");
        assertTrue(j.get("elementwise_kernels").getAsString().startsWith("Vector API"), "the test JVM has the Vector API module: " + j);
        assertEquals(j.get("observe_bytes_per_s").getAsDouble() / j.get("score_bytes_per_s").getAsDouble(),
                j.get("learn_to_infer").getAsDouble(), 1e-9);
        assertTrue(j.get("blas").getAsString().startsWith("cpu"), j.get("blas").toString());
        assertTrue(j.has("input") && !j.get("input").getAsString().isEmpty());
        assertTrue(j.get("score_flops_per_byte").getAsDouble() > 0);
        assertEquals(16384, j.get("decode_context_bytes").getAsLong(), "the long context is reached on this budget");
    }

    @Test
    void badArgumentsAreRefused() {
        Cli.Run r = run("bench", "--json", "--seconds", "1");
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("--seconds"), r.err());
        Cli.Run r2 = run("bench", "--reference", tmp.toString());
        assertNotEquals(0, r2.rc());
        assertTrue(r2.err().contains("--reference"), r2.err());
    }
}
