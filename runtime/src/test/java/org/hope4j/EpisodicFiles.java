package org.hope4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.function.UnaryOperator;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import org.hope4j.bundle.Safetensors;
import org.hope4j.state.StateStore;

/** Test helper: E's saved tables edited behind every checksum, as a careful attacker (or a bug) would. */
public final class EpisodicFiles {
    private EpisodicFiles() {
    }

    /**
     * Replaces E's file {@code file} of the state {@code dir} by its tables inflated, passed through {@code edit},
     * deflated again under their new digest and file name; the state's metadata ({@code episodic_file},
     * {@code episodic_sha256}, {@code metadata_sha256}) is re-signed to match. Returns the new file.
     */
    public static Path reseal(Path dir, Path file, UnaryOperator<byte[]> edit) throws Exception {
        byte[] raw = Files.readAllBytes(file);
        int head = 8 + 4 + 32; // magic, version, SHA-256 of the inflated tables
        byte[] body;
        try (var in = new InflaterInputStream(new ByteArrayInputStream(raw, head, raw.length - head))) {
            body = in.readAllBytes();
        }
        body = edit.apply(body);
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(body);
        var out = new ByteArrayOutputStream();
        out.write(raw, 0, 12);
        out.write(sha);
        try (var z = new DeflaterOutputStream(out)) {
            z.write(body);
        }
        String hex = HexFormat.of().formatHex(sha);
        Path resealed = dir.resolve("episodic-" + hex.substring(0, 16) + ".state");
        Files.delete(file);
        Files.write(resealed, out.toByteArray());
        Path state = dir.resolve(StateStore.STATE_FILE);
        Safetensors.File sf = Safetensors.read(state);
        var meta = new LinkedHashMap<>(sf.metadata());
        meta.put("episodic_file", resealed.getFileName().toString());
        meta.put("episodic_sha256", hex);
        meta.put("metadata_sha256", StateStore.metaSha(meta));
        Files.delete(state); // a new file, not a write through a hard link the caller may share
        Files.write(state, Safetensors.toBytes(sf.tensors(), meta));
        return resealed;
    }
}
