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
}
