package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hope4j continual} on a small budget: R matrices of every arm, their metrics, the plot. */
class ContinualIT {
    @TempDir
    Path tmp;

    @Test
    void producesRMatricesAndMetricsForEveryArm() throws Exception {
        Path png = tmp.resolve("curves.png");
        Cli.Run r = Cli.run("continual", "--json", "--train-bytes", "2048", "--heldout-bytes", "512", "--orders", "1", "--sleep-steps", "4", "--plot", png.toString());
        assertEquals(0, r.rc(), r.err());
        JsonObject j = r.lastJson();
        assertEquals(3, j.getAsJsonArray("domains").size());
        for (var d : j.getAsJsonArray("domains")) {
            assertEquals(64, d.getAsJsonObject().get("sha256").getAsString().length());
        }
        JsonObject arms = j.getAsJsonObject("arms");
        for (String arm : new String[] {"frozen", "l0_only", "online", "online_sleep", "naive_finetune"}) {
            JsonObject run = arms.getAsJsonObject(arm).getAsJsonArray("runs").get(0).getAsJsonObject();
            JsonArray rm = run.getAsJsonArray("R");
            assertEquals(4, rm.size(), arm);
            for (var row : rm) {
                for (var v : row.getAsJsonArray()) {
                    double x = v.getAsDouble();
                    assertTrue(x > 0 && x < 16, arm + " R value " + x);
                }
            }
            for (String m : new String[] {"final_average", "bwt", "forgetting", "fwt"}) {
                assertTrue(Double.isFinite(run.get(m).getAsDouble()), arm + " " + m);
            }
            assertTrue(run.get("forgetting").getAsDouble() >= 0);
        }
        // a frozen model's weights never change: its rows differ only through the carried context (the
        // 3-byte conv history and the prediction of each held-out text's first byte)
        JsonArray fr = arms.getAsJsonObject("frozen").getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("R");
        for (int d = 0; d < 3; d++) {
            double first = fr.get(0).getAsJsonArray().get(d).getAsDouble();
            double last = fr.get(3).getAsJsonArray().get(d).getAsDouble();
            assertEquals(first, last, 0.05, "frozen arm, domain " + d);
        }
        JsonArray sleeps = arms.getAsJsonObject("online_sleep").getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("sleeps");
        assertEquals(3, sleeps.size(), "one sleep per stage");
        for (var sl : sleeps) {
            assertTrue(sl.getAsJsonObject().has("committed"), sl.toString());
        }
        // one timescale is a different learner: its matrix differs from the multi-timescale one
        assertTrue(!arms.getAsJsonObject("online").getAsJsonArray("runs").get(0).getAsJsonObject().get("R")
                .equals(arms.getAsJsonObject("naive_finetune").getAsJsonArray("runs").get(0).getAsJsonObject().get("R")));
        assertTrue(Files.size(png) > 5_000);
    }

    @Test
    void runsTheChosenArmsAtAScaledRate() {
        String[] common = {"continual", "--json", "--train-bytes", "2048", "--heldout-bytes", "512", "--orders", "1", "--arms", "online"};
        Cli.Run full = Cli.run(common);
        String[] scaledArgs = java.util.Arrays.copyOf(common, common.length + 2);
        scaledArgs[common.length] = "--rate-scale";
        scaledArgs[common.length + 1] = "0.25";
        Cli.Run scaled = Cli.run(scaledArgs);
        assertEquals(0, full.rc(), full.err());
        assertEquals(0, scaled.rc(), scaled.err());
        JsonObject a = full.lastJson();
        JsonObject b = scaled.lastJson();
        assertEquals(1, a.getAsJsonObject("arms").size());
        assertEquals(1.0, a.get("rate_scale").getAsDouble());
        assertEquals(0.25, b.get("rate_scale").getAsDouble());
        JsonArray ra = a.getAsJsonObject("arms").getAsJsonObject("online").getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("R");
        JsonArray rb = b.getAsJsonObject("arms").getAsJsonObject("online").getAsJsonArray("runs").get(0).getAsJsonObject().getAsJsonArray("R");
        assertEquals(ra.get(0), rb.get(0), "before any stage the rate cannot matter");
        assertTrue(!ra.get(3).equals(rb.get(3)), "a scaled rate changed nothing");
    }

    @Test
    void refusesBadBudgets() {
        assertTrue(Cli.run("continual", "--orders", "4").rc() != 0);
        Cli.Run r = Cli.run("continual", "--arms", "online,nonsense");
        assertTrue(r.rc() != 0 && r.err().contains("--arms"), r.err());
        assertTrue(Cli.run("continual", "--train-bytes", "10").rc() != 0);
    }
}
