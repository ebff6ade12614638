package org.hope4j;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A state loads only onto the bundle it was learned on (its manifest's SHA-256, which covers every
 * file, rate and bound), not merely onto the same plastic weights; a version 2 state (tied to the
 * plastic weights only) still loads.
 */
class BundleIdentityTest {
    @TempDir
    Path tmp;

    static LearnerOptions options() {
        return LearnerOptions.defaults().withBackend("cpu").withEpisodic(null);
    }

    /** The default bundle copied into {@code dir} with two ONNX segments swapped (their checksums updated): same plastic weights. */
    static Path swappedSegments(Path dir) throws Exception {
        Bundle b = Bundle.loadDefault();
        BundleSource src = BundleSource.classpath(Bundle.DEFAULT_PREFIX);
        for (String f : b.manifest().files().keySet()) {
            if (!f.startsWith(Bundle.GOLDEN)) {
                Files.createDirectories(dir.resolve(f).getParent());
                Files.write(dir.resolve(f), src.read(f));
            }
        }
        JsonObject m = JsonParser.parseString(new String(src.read(Bundle.MANIFEST), StandardCharsets.UTF_8)).getAsJsonObject();
        byte[] a = Files.readAllBytes(dir.resolve("mixer_in_0.onnx"));
        byte[] c = Files.readAllBytes(dir.resolve("mixer_in_1.onnx"));
        Files.write(dir.resolve("mixer_in_0.onnx"), c);
        Files.write(dir.resolve("mixer_in_1.onnx"), a);
        JsonObject files = m.getAsJsonObject("files");
        String s0 = files.get("mixer_in_0.onnx").getAsString();
        files.addProperty("mixer_in_0.onnx", files.get("mixer_in_1.onnx").getAsString());
        files.addProperty("mixer_in_1.onnx", s0);
        Files.writeString(dir.resolve(Bundle.MANIFEST), m.toString());
        return dir;
    }

    @Test
    void aStateLoadsOnlyOntoTheBundleItWasLearnedOn() throws Exception {
        Path state = tmp.resolve("state");
        try (Learner l = Hope.loadDefault(options())) {
            l.observe("Text learned on the default bundle. ".repeat(10));
            l.save(state);
        }
        Bundle other = Bundle.load(BundleSource.directory(swappedSegments(tmp.resolve("other"))));
        assertNotEquals(Bundle.loadDefault().sha256(), other.sha256());
        try (Learner l = Hope.open(other, options())) {
            StateException e = assertThrows(StateException.class, () -> l.restore(state));
            assertTrue(e.getMessage().contains("learned on another bundle") && e.getMessage().contains("bundle_sha256"), e.getMessage());
            assertEquals(0, l.position());
        }
    }

    /** A version 3 state (metadata digested as key=value lines) loads; one whose digest no longer matches its metadata does not. */
    @Test
    void aVersionThreeStateStillLoads() throws Exception {
        Path state = tmp.resolve("state3");
        long position;
        try (Learner l = Hope.loadDefault(options())) {
            l.observe("Text learned before the metadata digest had lengths. ".repeat(10));
            l.save(state);
            position = l.position();
        }
        LearnerTest.tamper(state.resolve("learner.state"), m -> m.put("format_version", "3"), t -> { }, true);
        try (Learner l = Hope.loadDefault(options())) {
            l.restore(state);
            assertEquals(position, l.position());
        }
        LearnerTest.tamper(state.resolve("learner.state"), m -> m.put("format_version", "4"), t -> { }, false);
        try (Learner l = Hope.loadDefault(options())) {
            org.hope4j.StateException e = org.junit.jupiter.api.Assertions.assertThrows(org.hope4j.StateException.class, () -> l.restore(state));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("metadata_sha256"), e.getMessage());
        }
    }

    @Test
    void aVersionTwoStateTiedToThePlasticWeightsStillLoads() throws Exception {
        Path state = tmp.resolve("state");
        long position;
        try (Learner l = Hope.loadDefault(options())) {
            l.observe("Text learned before states recorded their bundle. ".repeat(10));
            l.save(state);
            position = l.position();
        }
        LearnerTest.tamper(state.resolve("learner.state"), m -> {
            m.put("format_version", "2");
            m.remove("bundle_sha256");
        }, t -> { }, true);
        try (Learner l = Hope.loadDefault(options())) {
            l.restore(state);
            assertEquals(position, l.position());
        }
    }
}
