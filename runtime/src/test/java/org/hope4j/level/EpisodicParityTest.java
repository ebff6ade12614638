package org.hope4j.level;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.hope4j.EpisodicConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The episodic level against its Python reference ({@code model-export/hope_export/episodic.py},
 * fixture written by {@code python3 -m hope_export.episodic --golden}): the state is integer, so
 * its digest must be equal after every checkpoint; the per-byte bits are sums of a cost table
 * computed with each language's logarithm, equal to 1e-12.
 */
class EpisodicParityTest {
    static byte[] stream;
    static JsonObject golden;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream s = EpisodicParityTest.class.getResourceAsStream("/org/hope4j/episodic-golden/stream.bin");
             InputStream g = EpisodicParityTest.class.getResourceAsStream("/org/hope4j/episodic-golden/golden.json")) {
            if (s == null || g == null) {
                throw new IllegalStateException("episodic-golden fixture missing from the test resources");
            }
            stream = s.readAllBytes();
            golden = JsonParser.parseString(new String(g.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    static EpisodicConfig config(JsonObject c) {
        return new EpisodicConfig(c.get("tableBits").getAsInt(), c.get("historyBits").getAsInt(), c.get("matchBits").getAsInt(),
                c.get("matchMin").getAsInt(), c.get("counterLimit").getAsInt(), c.get("mixerShift").getAsInt(), c.get("apmRate").getAsInt(),
                c.get("recentLevels").getAsInt(), c.get("recentBytes").getAsInt());
    }

    /** The fixture's synthetic neural distribution (exact in double): see golden.json "neural". */
    static double[] neural(int i) {
        double[] p = new double[256];
        for (int j = 0; j < 256; j++) {
            long v = 1 + ((j * 2654435761L + i * 40503L) % 97) + (j == (stream[i] & 0xff) ? 50 * (i % 7) : 0) + (j == (stream[i - 1] & 0xff) ? 30 : 0);
            p[j] = v;
        }
        return p;
    }

    /** Codes the stream; checks digests at the fixture's checkpoints; returns the bits per byte. */
    static double[] run(EpisodicConfig cfg, JsonObject digests) {
        return run(cfg, digests, -1, 31, 1, false);
    }

    /**
     * As {@link #run(EpisodicConfig, JsonObject)}, the level aged to {@code (ageMax, confidence)} and recalibrated after
     * {@code ageAt} bytes (a sleep's commit), its matches forgotten too if {@code forgetMatches} (the commit's second step).
     */
    static double[] run(EpisodicConfig cfg, JsonObject digests, int ageAt, int ageMax, double confidence, boolean forgetMatches) {
        EpisodicLevel e = new EpisodicLevel(cfg, EpisodicLevel.Prior.neutral());
        double[] bits = new double[stream.length];
        for (int i = 0; i <= stream.length; i++) {
            if (i == ageAt) {
                e.age(ageMax, confidence);
                e.recalibrate();
                if (forgetMatches) {
                    e.forgetMatches();
                }
            }
            if (digests.has(Integer.toString(i))) {
                assertEquals(digests.get(Integer.toString(i)).getAsString(), e.digest(), "state digest after " + i + " bytes");
            }
            if (i == stream.length) {
                break;
            }
            bits[i] = i == 0 ? e.code(null, 0, stream[0] & 0xff) : e.codeProbabilities(neural(i), stream[i] & 0xff);
        }
        return bits;
    }

    @Test
    void bitsAndStateEqualTheReference() {
        assertEquals(golden.get("length").getAsInt(), stream.length);
        double[] bits = run(config(golden.getAsJsonObject("config")), golden.getAsJsonObject("digests"));
        JsonArray want = golden.getAsJsonArray("bits");
        assertEquals(want.size(), bits.length);
        for (int i = 0; i < bits.length; i++) {
            assertEquals(want.get(i).getAsDouble(), bits[i], 1e-12, "bits of byte " + i);
        }
    }

    @Test
    void aWrappedHistoryRingEqualsTheReference() {
        JsonObject ring = golden.getAsJsonObject("ring");
        double[] bits = run(config(ring.getAsJsonObject("config")), ring.getAsJsonObject("digests"));
        double sum = 0;
        for (double b : bits) {
            sum += b;
        }
        assertEquals(ring.get("bits_sum").getAsDouble(), sum, 1e-9);
    }

    @Test
    void agingEqualsTheReference() {
        JsonObject aged = golden.getAsJsonObject("aged");
        assertTrue(aged.has("recalibrated") && aged.get("recalibrated").getAsBoolean(), "the fixture's aged run recalibrates, as a sleep does");
        agedRun(aged, false);
    }

    @Test
    void forgettingMatchesEqualsTheReference() {
        agedRun(golden.getAsJsonObject("forgot_matches"), true);
    }

    private static void agedRun(JsonObject aged, boolean forgetMatches) {
        double[] bits = run(config(golden.getAsJsonObject("config")), aged.getAsJsonObject("digests"), aged.get("at").getAsInt(),
                aged.get("max_count").getAsInt(), aged.get("confidence").getAsDouble(), forgetMatches);
        double sum = 0;
        for (double b : bits) {
            sum += b;
        }
        assertEquals(aged.get("bits_sum").getAsDouble(), sum, 1e-9);
    }

    @Test
    void theRepeatsOfTheFixtureAreRecalled() {
        double[] bits = run(config(golden.getAsJsonObject("config")), new JsonObject());
        for (String what : new String[] {"paragraph", "base64"}) {
            JsonArray r = golden.getAsJsonObject("recall").getAsJsonArray(what);
            int first = r.get(0).getAsInt();
            int len = r.get(1).getAsInt();
            int second = r.get(2).getAsInt();
            double a = 0;
            double b = 0;
            for (int k = 0; k < len; k++) {
                a += bits[first + k];
                b += bits[second + k];
            }
            double limit = what.equals("paragraph") ? 0.3 : 0.5;
            assertTrue(b / len <= limit, what + ": second copy " + b / len + " bits/byte (first " + a / len + ")");
        }
    }
}
