package org.hope4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hope4j realtext}: the learner's figures per file, merged with the peers' (cold and primed) and counted. */
class RealTextTest {
    @TempDir
    Path tmp;

    @Test
    void mergesThePeersAndCountsTheWins() throws Exception {
        Path set = Files.createDirectories(tmp.resolve("set"));
        String log = "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n".repeat(16);
        String prose = "The river rises in the hills to the north and runs for some forty miles before it reaches the sea.\n".repeat(12);
        Files.writeString(set.resolve("a.log"), log, StandardCharsets.UTF_8);
        Files.writeString(set.resolve("b.txt"), prose, StandardCharsets.UTF_8);
        Files.writeString(set.resolve("manifest.json"), "{\"files\": [{\"format\": \"logs\", \"file\": \"a.log\"}, {\"format\": \"prose\", \"file\": \"b.txt\"}]}");
        // peers: one figure the learner cannot beat (0.001), one it must beat on repeated text (8.0, a uniform code)
        Path peers = tmp.resolve("peers.json");
        Files.writeString(peers, "{\"methods\": {\"zpaq\": \"zpaq -m5\"}, \"tools\": {\"zpaq\": \"zpaq 7.15\"}, \"primers\": {\"all\": {\"bytes\": 10}},"
                + " \"files\": [{\"file\": \"a.log\", \"package\": \"pkg\", \"bytes\": 1, \"cold\": {\"zpaq\": 8.0}, \"primed\": {\"all\": {\"zpaq\": 0.001}}},"
                + " {\"file\": \"b.txt\", \"cold\": {\"zpaq\": 8.0}, \"primed\": {\"all\": {\"zpaq\": 0.001}}}]}");
        Path out = tmp.resolve("out.json");
        int rc = Main.commandLine().execute("realtext", "--backend", "cpu", "--dir", set.toString(), "--peers", peers.toString(),
                "--json", out.toString());
        assertEquals(0, rc);
        JsonObject r = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertEquals("zpaq -m5", r.getAsJsonObject("peers_methods").get("zpaq").getAsString());
        assertTrue(r.get("learner").getAsString().contains("episodic"), r.toString());
        assertEquals("2/2", r.getAsJsonObject("observe_beats").get("zpaq cold").getAsString());
        assertEquals("0/2", r.getAsJsonObject("observe_beats").get("zpaq primed all").getAsString());
        JsonObject a = r.getAsJsonArray("files").get(0).getAsJsonObject();
        assertEquals("pkg", a.get("package").getAsString());
        assertEquals(log.length(), a.get("bytes").getAsInt(), "the measured size wins over the peers' field");
        assertEquals(8.0, a.getAsJsonObject("peers_cold").get("zpaq").getAsDouble());
        assertEquals(0.001, a.getAsJsonObject("peers_primed").getAsJsonObject("all").get("zpaq").getAsDouble());
        for (String k : new String[] {"observe", "score_pretrained", "observe_neural", "observe_episodic_alone"}) {
            double v = a.get(k).getAsDouble();
            assertTrue(v > 0 && v < 8, k + " " + v);
        }
        // repeated lines: the learner (E recalls them) codes them far below the neural levels alone
        assertTrue(a.get("observe").getAsDouble() < 0.5 * a.get("observe_neural").getAsDouble(), a.toString());
    }
}
