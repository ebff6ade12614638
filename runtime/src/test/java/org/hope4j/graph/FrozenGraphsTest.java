package org.hope4j.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening the frozen segments: every session opened is closed again, also when a later segment fails. */
class FrozenGraphsTest {
    static final Path DEFAULT = Path.of("src/main/resources/org/hope4j/default-bundle");

    @TempDir
    Path tmp;

    /** One block's embed, mixer_in and mixer_out over {@code n} positions of a fixed input: every output, concatenated. */
    private static float[] run(FrozenGraphs g, int n, int seed) {
        int d = 128;
        byte[] bytes = new byte[n];
        java.util.Random r = new java.util.Random(seed);
        r.nextBytes(bytes);
        float[] x = new float[n * d], q = new float[n * d], u = new float[n * d], x2 = new float[n * d];
        float[] conv = new float[3 * 2 * d], convOut = new float[conv.length];
        g.embed(bytes, 0, n, x);
        g.mixerIn(1, x, n, conv, q, u, convOut);
        g.mixerOut(1, x, q, n, x2);
        float[] all = new float[4 * n * d + convOut.length];
        System.arraycopy(x, 0, all, 0, n * d);
        System.arraycopy(q, 0, all, n * d, n * d);
        System.arraycopy(u, 0, all, 2 * n * d, n * d);
        System.arraycopy(x2, 0, all, 3 * n * d, n * d);
        System.arraycopy(convOut, 0, all, 4 * n * d, convOut.length);
        return all;
    }

    @Test
    void aViewRunsOnTheSameSessionsWithItsOwnBuffersAndTheLastToCloseClosesThem() throws Exception {
        Bundle b = Bundle.load(BundleSource.directory(DEFAULT));
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        FrozenGraphs owner = new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64, 1); // ONNX Runtime for calls of 2+ rows
        int opened = FrozenGraphs.OPEN_SESSIONS.get() - before;
        assertTrue(opened >= 3, "sessions opened: " + opened);
        FrozenGraphs view = owner.view(32);
        assertEquals(before + opened, FrozenGraphs.OPEN_SESSIONS.get(), "a view opens no session");
        float[] want = run(owner, 32, 7);
        assertTrue(java.util.Arrays.equals(want, run(view, 32, 7)), "the view computes what the original does");
        // two threads at once, each on its own instance, give what each gives alone
        float[] other = run(owner, 64, 8);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                var a = pool.submit(() -> run(owner, 64, 8));
                var c = pool.submit(() -> run(view, 32, 7));
                assertTrue(java.util.Arrays.equals(other, a.get()), "round " + round + ", the original");
                assertTrue(java.util.Arrays.equals(want, c.get()), "round " + round + ", the view");
            }
        } finally {
            pool.shutdown();
        }
        owner.close(); // the original first: the view still runs
        assertThrows(IllegalStateException.class, () -> owner.view(8));
        assertEquals(before + opened, FrozenGraphs.OPEN_SESSIONS.get());
        assertTrue(java.util.Arrays.equals(want, run(view, 32, 7)), "the view after the original closed");
        FrozenGraphs second = view.view(16);
        view.close();
        view.close(); // twice: counted once
        assertEquals(before + opened, FrozenGraphs.OPEN_SESSIONS.get(), "a view of the view is still open");
        second.close();
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "the last to close closed every session");
        assertThrows(IllegalStateException.class, () -> run(second, 8, 7));
    }

    /**
     * On the CPU with OpenBLAS and the Vector API (the build's tests, the launcher) every call runs in Java: ONNX Runtime
     * opens no session, a view computes what its owner does, a call beyond the row bound is refused, and the results
     * are ONNX Runtime's within rounding.
     */
    @Test
    void everyCallRunsInJavaWithoutOnnxRuntimeWhereTheyAreFaster() throws Exception {
        Bundle b = Bundle.load(BundleSource.directory(DEFAULT));
        assertEquals(Integer.MAX_VALUE, FrozenGraphs.javaRows("cpu"));
        assertEquals(1, FrozenGraphs.javaRows("cuda"), "a GPU provider keeps its calls of many rows");
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        try (FrozenGraphs owner = new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64);
             FrozenGraphs ort = new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64, 0)) {
            assertEquals("cpu", owner.provider());
            int opened = FrozenGraphs.OPEN_SESSIONS.get() - before;
            assertTrue(opened >= 3, "only the ONNX Runtime instance opened sessions: " + opened);
            try (FrozenGraphs view = owner.view(32)) {
                assertEquals(before + opened, FrozenGraphs.OPEN_SESSIONS.get());
                float[] want = run(owner, 32, 7);
                assertTrue(java.util.Arrays.equals(want, run(view, 32, 7)), "the view computes what the original does");
                float[] viaOrt = run(ort, 32, 7);
                double md = 0;
                for (int i = 0; i < want.length; i++) {
                    md = Math.max(md, Math.abs(want[i] - viaOrt[i]));
                }
                assertTrue(md < 1e-4, "Java and ONNX Runtime within rounding: " + md);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(view, 33, 7));
                assertTrue(e.getMessage().contains("1..32 positions"), e.getMessage());
            }
        }
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get());
    }

    @Test
    void aFailingLaterSegmentClosesTheSessionsAlreadyOpened() throws Exception {
        try (Stream<Path> files = Files.walk(DEFAULT)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = tmp.resolve(DEFAULT.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        // the last segment's file replaced by bytes ONNX Runtime cannot parse, its checksum updated, so the
        // bundle loads and only opening that last session fails
        Path mf = tmp.resolve("manifest.json");
        JsonObject m = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        String last = null;
        for (JsonElement e : m.getAsJsonArray("segments")) {
            last = e.getAsJsonObject().get("file").getAsString();
        }
        byte[] junk = "not an ONNX model".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(tmp.resolve(last), junk);
        m.getAsJsonObject("files").addProperty(last, java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(junk)));
        Files.writeString(mf, m.toString());
        Files.writeString(tmp.resolve(Bundle.MANIFEST_SHA), Bundle.sha256(Files.readAllBytes(mf)) + "\n"); // the manifest's own checksum too
        Bundle b = Bundle.load(BundleSource.directory(tmp));
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        // a segment ONNX Runtime cannot parse is a bad bundle file: a BundleException naming it (found by MutationIT)
        org.hope4j.BundleException e = assertThrows(org.hope4j.BundleException.class, () -> new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64));
        assertTrue(e.getMessage().contains(tmp + ": file " + last + ": ONNX Runtime cannot open this segment"), e.getMessage());
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "the sessions opened before the failure were closed");
    }

    @Test
    void aBadRowBoundIsRefusedBeforeAnySessionOpens() throws Exception {
        Bundle b = Bundle.load(BundleSource.directory(DEFAULT));
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        for (int rows : new int[] {0, -1, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FrozenGraphs(b, FrozenGraphs.Options.defaults(), rows));
            assertTrue(e.getMessage().startsWith("maxRows must be in 1.."), e.getMessage());
        }
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "no session was left open");
    }

    @Test
    void aSegmentSwappedForAnotherWithItsChecksumUpdatedIsRefusedAtLoad() throws Exception {
        try (Stream<Path> files = Files.walk(DEFAULT)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = tmp.resolve(DEFAULT.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        // mixer_in_1.onnx and mixer_out_1.onnx swapped, both checksums and the manifest's own updated: every hash
        // matches, and before the ports were checked the bundle loaded and failed in its first span (found by MutationIT)
        byte[] in = Files.readAllBytes(tmp.resolve("mixer_in_1.onnx"));
        byte[] out = Files.readAllBytes(tmp.resolve("mixer_out_1.onnx"));
        Files.write(tmp.resolve("mixer_in_1.onnx"), out);
        Files.write(tmp.resolve("mixer_out_1.onnx"), in);
        Path mf = tmp.resolve("manifest.json");
        JsonObject m = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        m.getAsJsonObject("files").addProperty("mixer_in_1.onnx", Bundle.sha256(out));
        m.getAsJsonObject("files").addProperty("mixer_out_1.onnx", Bundle.sha256(in));
        Files.writeString(mf, m.toString());
        Files.writeString(tmp.resolve(Bundle.MANIFEST_SHA), Bundle.sha256(Files.readAllBytes(mf)) + "\n");
        Bundle b = Bundle.load(BundleSource.directory(tmp));
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        org.hope4j.BundleException e = assertThrows(org.hope4j.BundleException.class, () -> new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64));
        assertTrue(e.getMessage().contains("file mixer_in_1.onnx") && e.getMessage().contains("declares"), e.getMessage());
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "no session is left open");
    }

    @Test
    void aSegmentChangedAfterTheBundleLoadedIsRefusedNamingItWhenALearnerOpens() throws Exception {
        try (Stream<Path> files = Files.walk(DEFAULT)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = tmp.resolve(DEFAULT.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Bundle b = Bundle.load(BundleSource.directory(tmp));
        new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64).close(); // the first learner takes the bytes verified at load
        // the bundle keeps no copy of its segments: one changed on disk after the load is read again, and refused
        Path seg = tmp.resolve("mixer_out_2.onnx");
        byte[] good = Files.readAllBytes(seg);
        byte[] bad = good.clone();
        bad[bad.length - 3] ^= 0x10;
        Files.write(seg, bad);
        int before = FrozenGraphs.OPEN_SESSIONS.get();
        org.hope4j.BundleException e = assertThrows(org.hope4j.BundleException.class, () -> new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64));
        assertTrue(e.getMessage().contains("file mixer_out_2.onnx is corrupt: SHA-256 must be") && e.getMessage().contains("must stay in place"),
                e.getMessage());
        assertEquals(before, FrozenGraphs.OPEN_SESSIONS.get(), "no session is left open");
        Files.write(seg, good);
        try (FrozenGraphs g = new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 64)) {
            assertEquals(4 * 64 * 128 + 3 * 2 * 128, run(g, 64, 5).length, "whole again: it opens and runs");
        }
    }
}
