package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hope4j.device.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The hope4j program end to end, in process: JSON outputs, state on disk, bad arguments. */
class CliIT {
    @TempDir
    Path tmp;

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    static JsonObject lastJson(String out) {
        String[] lines = out.strip().split("\n");
        return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
    }

    Path text(String name, String content, int repeat) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, content.repeat(repeat));
        return f;
    }

    static final String PROSE = "The committee met on Tuesday to discuss the new budget for the public library. "
            + "After a long debate, the members agreed to extend the opening hours and to buy more books for children. ";

    @Test
    void runningOutOfHeapIsOneLineNotAStackTrace() throws Exception {
        // E's tables alone need about 30 MB: with a 32 MB heap the learner cannot open, and the program says so in one line
        Path text = tmp.resolve("t.txt");
        Files.writeString(tmp.resolve("t.txt"), "a few words to score");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "score", "--backend", "cpu", text.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(3, p.waitFor(), err);
        assertTrue(err.contains("hope4j: out of memory") && err.contains("-Xmx"), err);
        assertTrue(!err.contains("\tat "), "no stack trace: " + err);
    }

    @Test
    void replayingTheEpisodicLevelOverADumpCodesAsTheLearnerDid() throws Exception {
        Path a = text("a.txt", PROSE, 8);
        Path b = text("b.log", "2026-12-03 03:00:01 sensor 7 reading 21.5 C ok\n", 30);
        Path state = tmp.resolve("s");
        Path da = tmp.resolve("a.dump");
        Path db = tmp.resolve("b.dump");
        Cli.Run o = run("observe", "--json", "--state", state.toString(), "--dump-neural", da.toString(), a.toString());
        assertEquals(0, o.rc(), o.err());
        // one record per byte: the first (nothing predicted it) is 2 bytes, every other 2 + 256 floats
        assertEquals(2 + (Files.size(a) - 1) * 1026, Files.size(da));
        Cli.Run s = run("score", "--json", "--state", state.toString(), "--dump-neural", db.toString(), b.toString());
        assertEquals(0, s.rc(), s.err());
        // E alone over the recorded neural distributions codes as the learner did (floats: to about 1e-4)
        Cli.Run r = run("replay-episodic", "--fresh", da.toString());
        assertEquals(0, r.rc(), r.err());
        assertEquals(lastJson(o.out()).get("prequential_bits_per_byte").getAsDouble(), lastJson(r.out()).get("bits_per_byte").getAsDouble(), 2e-4);
        // the log scored with the learned state: E starts from the saved level, as score's did
        Cli.Run rs = run("replay-episodic", "--state", state.toString(), db.toString());
        assertEquals(0, rs.rc(), rs.err());
        double fromState = lastJson(rs.out()).get("bits_per_byte").getAsDouble();
        assertEquals(lastJson(s.out()).get("bits_per_byte").getAsDouble(), fromState, 2e-4);
        // one level over both dumps in order reads the log after the prose, as the state did
        Cli.Run both = run("replay-episodic", da.toString(), db.toString());
        assertEquals(0, both.rc(), both.err());
        assertEquals(fromState, lastJson(both.out()).get("bits_per_byte").getAsDouble(), 2e-4);
        // without the anchor the sink gets the adapted model's softmax, which E reads from the logits
        Path dn = tmp.resolve("n.dump");
        Cli.Run on = run("observe", "--json", "--no-anchor", "--state", tmp.resolve("sn").toString(), "--dump-neural", dn.toString(), a.toString());
        assertEquals(0, on.rc(), on.err());
        Cli.Run rn = run("replay-episodic", dn.toString());
        assertEquals(0, rn.rc(), rn.err());
        assertEquals(lastJson(on.out()).get("prequential_bits_per_byte").getAsDouble(), lastJson(rn.out()).get("bits_per_byte").getAsDouble(), 2e-4);
        // a cut file is refused in one line naming it
        Path cut = tmp.resolve("cut.dump");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(da), 3000));
        Cli.Run bad = run("replay-episodic", cut.toString());
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("cut.dump: truncated --dump-neural file"), bad.err());
        Cli.Run none = run("replay-episodic", "--no-episodic", da.toString());
        assertEquals(2, none.rc());
        assertTrue(none.err().contains("--no-episodic: there is no episodic level to replay"), none.err());
    }

    @Test
    void realtextTimesTheEpisodicLevelInterleavedAndCodesAsObserveDoes() throws Exception {
        Path set = Files.createDirectories(tmp.resolve("set"));
        Files.writeString(set.resolve("a.txt"), PROSE.repeat(9));
        Files.writeString(set.resolve("b.log"), "2026-12-02 02:00:01 sensor 7 reading 21.5 C ok\n".repeat(40));
        Files.writeString(set.resolve("manifest.json"), "{\"files\": [{\"format\": \"prose\", \"file\": \"a.txt\"}, {\"format\": \"logs\", \"file\": \"b.log\"}]}");
        Path out = tmp.resolve("rt.json");
        Cli.Run r = run("realtext", "--dir", set.toString(), "--slice", "300", "--json", out.toString());
        assertEquals(0, r.rc(), r.err());
        JsonObject j = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertTrue(Double.isFinite(j.get("episodic_cost").getAsDouble()), j.toString());
        assertTrue(j.get("timing").getAsString().contains("every 300 bytes"), j.toString());
        for (var el : j.getAsJsonArray("files")) {
            JsonObject f = el.getAsJsonObject();
            // the learner read in alternating 300-byte slices codes exactly as one observe call over the file
            Path state = tmp.resolve("s-" + f.get("file").getAsString());
            Cli.Run o = run("observe", "--json", "--state", state.toString(), set.resolve(f.get("file").getAsString()).toString());
            assertEquals(0, o.rc(), o.err());
            assertEquals(lastJson(o.out()).get("prequential_bits_per_byte").getAsDouble(), f.get("observe").getAsDouble(), 1e-4, f.toString());
            assertTrue(f.get("observe_cpu_s").getAsDouble() > 0 && f.get("observe_neural_cpu_s").getAsDouble() > 0, f.toString());
        }
        Cli.Run bad = run("realtext", "--dir", set.toString(), "--slice", "0", "--json", out.toString());
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("--slice must be at least 1 byte"), bad.err());
    }

    @Test
    void scoreObserveGenerateRoundTrip() throws Exception {
        Path f = text("prose.txt", PROSE, 12);
        long n = Files.size(f);
        Cli.Run s = run("score", "--json", f.toString());
        assertEquals(0, s.rc(), s.err());
        JsonObject sj = lastJson(s.out());
        assertEquals(n, sj.get("bytes").getAsLong());
        double before = sj.get("bits_per_byte").getAsDouble();
        assertTrue(before > 0 && Double.isFinite(before), "bits/byte " + before);

        Path state = tmp.resolve("state");
        Cli.Run o = run("observe", "--json", "--chunk", "700", "--compare-frozen", "--state", state.toString(), f.toString());
        assertEquals(0, o.rc(), o.err());
        JsonObject oj = lastJson(o.out());
        assertEquals(n, oj.get("bytes").getAsLong());
        for (String k : new String[] {"frozen_bits_per_byte", "prequential_bits_per_byte", "seconds"}) {
            assertTrue(oj.has(k) && Double.isFinite(oj.get(k).getAsDouble()), k + " in " + oj);
        }
        // the frozen pass of observe reads exactly what score reads
        assertEquals(before, oj.get("frozen_bits_per_byte").getAsDouble(), 1e-3);
        assertTrue(Files.isRegularFile(state.resolve("learner.state")));

        // the learned state is used by score and generate
        Cli.Run s2 = run("score", "--json", "--state", state.toString(), f.toString());
        assertEquals(0, s2.rc(), s2.err());
        double after = lastJson(s2.out()).get("bits_per_byte").getAsDouble();
        assertTrue(after != before, "score with the learned state must differ from the pretrained score");

        Cli.Run g = run("generate", "--state", state.toString(), "--prompt", "The committee", "--bytes", "40", "--seed", "3");
        assertEquals(0, g.rc(), g.err());
        assertTrue(g.out().startsWith("The committee"), g.out());
        assertTrue(g.out().getBytes(StandardCharsets.UTF_8).length >= "The committee".length() + 40);
    }

    @Test
    void sleepConsolidatesASavedStateAndPrintsItsFigures() throws Exception {
        Path f = text("log.txt", "[07:15] sensor 12 in the boiler room reports pressure 1013.2 hPa; status nominal.\n"
                + "[07:16] sensor 31 in the north hall reports humidity 41.0 %; status ALERT.\n", 40);
        Path state = tmp.resolve("state");
        assertEquals(0, run("observe", "--json", "--state", state.toString(), f.toString()).rc());
        byte[] saved = Files.readAllBytes(state.resolve("learner.state"));
        // the budget is counted in steps (time is only an upper bound), so the result does not depend on the machine's load
        Cli.Run r = run("sleep", "--json", "--state", state.toString(), "--steps", "20", "--no-dream");
        assertEquals(0, r.rc(), r.err());
        JsonObject j = lastJson(r.out());
        for (String k : new String[] {"committed", "reason", "consolidated_bytes", "seconds", "recent_bits_per_byte_before",
                "recent_bits_per_byte_after", "probe_bits_per_byte_before", "probe_bits_per_byte_after", "probe_bits_per_byte_pretrained",
                "probe_bits_per_byte_reset_only", "steps"}) {
            assertTrue(j.has(k), k + " in " + j);
        }
        assertTrue(j.get("consolidated_bytes").getAsLong() > 0, j.toString());
        assertEquals(20, j.get("steps").getAsInt(), j.toString());
        boolean changed = !java.util.Arrays.equals(saved, Files.readAllBytes(state.resolve("learner.state")));
        assertEquals(j.get("committed").getAsBoolean(), changed, "the state on disk changes exactly when the sleep commits");
        if (j.get("committed").getAsBoolean()) {
            assertEquals(1, j.get("experts_in_use").getAsInt());
            // the guard's reference is the pretrained model, not the model before the sleep
            assertTrue(j.get("probe_bits_per_byte_after").getAsDouble() <= 1.01 * Math.max(j.get("probe_bits_per_byte_pretrained").getAsDouble(),
                    j.get("probe_bits_per_byte_reset_only").getAsDouble()), j.toString());
        }
        Cli.Run none = run("sleep", "--json", "--state", tmp.resolve("empty").toString());
        assertTrue(none.rc() != 0);
        assertTrue(none.err().contains("--state") && none.err().contains("learner.state"), none.err());
        Cli.Run bad = run("sleep", "--state", state.toString(), "--seconds", "0");
        assertTrue(bad.rc() != 0);
        assertTrue(bad.err().contains("--seconds"), bad.err());
        Cli.Run noSteps = run("sleep", "--state", state.toString(), "--steps", "0");
        assertTrue(noSteps.rc() != 0);
        assertTrue(noSteps.err().contains("--steps"), noSteps.err());
        byte[] before = Files.readAllBytes(state.resolve("learner.state"));
        Cli.Run badAge = run("sleep", "--state", state.toString(), "--age-episodic", "32");
        assertTrue(badAge.rc() != 0 && badAge.err().contains("--age-episodic must be in 0..31"), badAge.err());
        Cli.Run badConfidence = run("sleep", "--state", state.toString(), "--episodic-confidence", "1.5");
        assertTrue(badConfidence.rc() != 0 && badConfidence.err().contains("--episodic-confidence must be in [0, 1]"), badConfidence.err());
        Cli.Run both = run("sleep", "--state", state.toString(), "--age-episodic", "2", "--clear-episodic");
        assertTrue(both.rc() != 0 && both.err().contains("exclude each other"), both.err());
        Cli.Run keepAndAge = run("sleep", "--state", state.toString(), "--episodic-confidence", "0.5", "--keep-episodic");
        assertTrue(keepAndAge.rc() != 0 && keepAndAge.err().contains("exclude each other"), keepAndAge.err());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(state.resolve("learner.state"))), "a refused sleep changes nothing");
        Cli.Run aged = run("sleep", "--json", "--state", state.toString(), "--steps", "10", "--no-dream", "--age-episodic", "0",
                "--episodic-confidence", "0.25");
        assertEquals(0, aged.rc(), aged.err());
        assertTrue(lastJson(aged.out()).has("committed"), aged.out());
    }

    @Test
    void badArgumentsNameTheArgument() {
        Cli.Run r = run("score", "--json", tmp.resolve("missing.txt").toString());
        assertTrue(r.rc() != 0);
        assertTrue(r.err().contains("FILE") && r.err().contains("missing.txt"), r.err());
        Cli.Run m = run("score", "--model", tmp.resolve("nope").toString(), "--json", tmp.toString());
        assertTrue(m.rc() != 0);
        Cli.Run c = run("observe", "--state", tmp.resolve("s").toString(), "--chunk", "0", tmp.toString());
        assertTrue(c.rc() != 0);
        Cli.Run u = run("frobnicate");
        assertEquals(2, u.rc());
    }

    @Test
    void infoReportsBackendAndProviders() {
        Cli.Run r = run("info", "--json", "--graph-provider", "cuda");
        assertEquals(0, r.rc(), r.err());
        JsonObject j = lastJson(r.out());
        assertEquals("cpu", j.get("backend").getAsString());
        assertEquals("selected", j.getAsJsonObject("backends").get("cpu").getAsString());
        assertTrue(j.getAsJsonArray("ort_providers").size() >= 1);
        // no CUDA libraries here: the provider falls back to CPU instead of failing
        assertEquals("cpu", j.get("ort_selected").getAsString());
    }

    @Test
    void helpWorksEverywhere() {
        for (String cmd : new String[] {"score", "observe", "generate", "sleep", "demo", "info"}) {
            Cli.Run r = run(cmd, "--help");
            assertEquals(0, r.rc(), cmd);
            assertTrue(r.out().contains("Usage: hope4j " + cmd), r.out());
        }
    }

    @Test
    void aStateThatIsNotThereIsAnErrorAndObserveSavesAsItGoes() throws Exception {
        Path f = text("prose.txt", PROSE, 100);
        Path nowhere = tmp.resolve("nowhere");
        Path aFile = text("not-a-dir", "x", 1);
        Cli.Run s = run("score", "--state", nowhere.toString(), f.toString());
        assertTrue(s.rc() != 0 && s.err().contains("--state") && s.err().contains("holds no saved learner"), s.err());
        Cli.Run g = run("generate", "--state", aFile.toString(), "--prompt", "The");
        assertTrue(g.rc() != 0 && g.err().contains("--state") && g.err().contains("is a file"), g.err());
        Cli.Run big = run("generate", "--bytes", "2147483647", "--prompt", "The");
        assertTrue(big.rc() != 0 && big.err().contains("--bytes"), big.err());
        Cli.Run o = run("observe", "--state", aFile.toString(), f.toString());
        assertTrue(o.rc() != 0 && o.err().contains("--state") && o.err().contains("is a file"), o.err());

        // durable progress: with chunks of 4096 bytes and a save every 8192, a 20,000-byte file is saved at
        // 8,192 and 16,384 bytes learned and at the end
        Path part = tmp.resolve("part.txt");
        Files.write(part, java.util.Arrays.copyOf(Files.readAllBytes(f), 20000));
        Path state = tmp.resolve("state");
        Cli.Run ok = run("observe", "--json", "--chunk", "4096", "--save-every", "8192", "--state", state.toString(), part.toString());
        assertEquals(0, ok.rc(), ok.err());
        assertEquals(3, lastJson(ok.out()).get("saves").getAsInt(), ok.out());
        assertTrue(lastJson(ok.out()).get("frozen_bits_per_byte").isJsonNull(), "no frozen comparison unless asked: " + ok.out());
        Cli.Run neg = run("observe", "--save-every", "-1", "--state", state.toString(), part.toString());
        assertTrue(neg.rc() != 0 && neg.err().contains("--save-every"), neg.err());
    }

    @Test
    void keygenAndKeyFileEncryptTheStateAndOnlyThatKeyOpensIt() throws Exception {
        Path key = tmp.resolve("state.key");
        Cli.Run k = run("keygen", "--out", key.toString());
        assertEquals(0, k.rc(), k.err());
        assertTrue(run("keygen", "--out", key.toString()).err().contains("never overwritten"));
        Path f = text("prose.txt", PROSE, 12);
        Path state = tmp.resolve("sealed");
        Cli.Run o = run("observe", "--json", "--key-file", key.toString(), "--state", state.toString(), f.toString());
        assertEquals(0, o.rc(), o.err());
        Cli.Run ok = run("score", "--json", "--key-file", key.toString(), "--state", state.toString(), f.toString());
        assertEquals(0, ok.rc(), ok.err());
        Cli.Run noKey = run("score", "--state", state.toString(), f.toString());
        assertTrue(noKey.rc() != 0 && noKey.err().contains("encrypted"), noKey.err());
        assertTrue(!noKey.err().contains("Exception"), "one clear line, no stack trace: " + noKey.err());
    }
}
