package org.hope4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code hope4j continual}'s reference rows: PPMd and zpaq, cold, primed with the domain's training text, and along each order. */
class ContinualPeersTest {
    record Run(int rc, String out, String err) {
        JsonObject json() {
            String[] lines = out.strip().split("\n");
            return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        }
    }

    static Run run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            rc = cl.execute(args);
        } finally {
            System.setOut(old);
        }
        return new Run(rc, buf.toString(StandardCharsets.UTF_8), err.toString());
    }

    @Test
    void peersRowsBesideTheArms() {
        Run r = run("continual", "--json", "--arms", "frozen", "--train-bytes", "1024", "--heldout-bytes", "256", "--orders", "2");
        assertEquals(0, r.rc(), r.err());
        JsonObject j = r.json();
        assertTrue(j.getAsJsonObject("arms").has("frozen"));
        JsonObject peers = j.getAsJsonObject("peers");
        assertEquals(java.util.Set.of("ppmd", "zpaq"), peers.keySet());
        for (String p : new String[] {"ppmd", "zpaq"}) {
            JsonObject row = peers.getAsJsonObject(p);
            JsonArray domains = row.getAsJsonArray("domains");
            assertEquals(3, domains.size());
            for (var d : domains) {
                double cold = d.getAsJsonObject().get("cold").getAsDouble();
                double primed = d.getAsJsonObject().get("primed_own_train").getAsDouble();
                assertTrue(cold > 0 && cold < 10 && primed > 0 && primed < cold, p + " " + d);
            }
            JsonArray runs = row.getAsJsonArray("runs");
            assertEquals(2, runs.size());
            for (var run : runs) {
                JsonObject o = run.getAsJsonObject();
                JsonArray rm = o.getAsJsonArray("R");
                assertEquals(4, rm.size());
                // row 0 is the cold code; the first domain's row 1 is its own training text as primer
                String first = o.getAsJsonArray("order").get(0).getAsString();
                for (var d : domains) {
                    if (d.getAsJsonObject().get("name").getAsString().equals(first)) {
                        assertEquals(d.getAsJsonObject().get("cold").getAsDouble(), rm.get(0).getAsJsonArray().get(0).getAsDouble(), 1e-12);
                        assertEquals(d.getAsJsonObject().get("primed_own_train").getAsDouble(), rm.get(1).getAsJsonArray().get(0).getAsDouble(), 1e-12);
                    }
                }
                assertTrue(Double.isFinite(o.get("final_average").getAsDouble()) && o.get("forgetting").getAsDouble() >= 0);
            }
            assertTrue(row.has("final_average_mean") && row.get("method").getAsString().contains(p.equals("ppmd") ? "PPMd" : "-m5"));
        }
    }

    @Test
    void peersCanBeLeftOutOrAreRefusedByName() {
        Run none = run("continual", "--json", "--arms", "frozen", "--train-bytes", "256", "--heldout-bytes", "128", "--orders", "1", "--peers", "none");
        assertEquals(0, none.rc(), none.err());
        assertEquals(0, none.json().getAsJsonObject("peers").size());
        Run bad = run("continual", "--peers", "ppmd,bzip2");
        assertTrue(bad.rc() != 0 && bad.err().contains("--peers"), bad.err());
    }
}
