package org.hope4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A start removes ONNX Runtime's stale empty temp folders and nothing else. */
class NativeCacheTest {
    private static Path folder(Path tmp, String name, Instant modified) throws IOException {
        Path d = Files.createDirectory(tmp.resolve(name));
        Files.setLastModifiedTime(d, FileTime.from(modified));
        return d;
    }

    @Test
    void staleEmptyOrtFoldersGoEverythingElseStays(@TempDir Path tmp) throws IOException {
        Instant now = Instant.parse("2026-12-01T12:00:00Z");
        Instant old = now.minus(NativeCache.STALE).minusSeconds(1);
        Path staleEmpty = folder(tmp, "onnxruntime-java123", old);
        Path staleEmpty2 = folder(tmp, "onnxruntime-java456", old);
        Path fresh = folder(tmp, "onnxruntime-java789", now.plusSeconds(1)); // a process loading right now
        Path full = folder(tmp, "onnxruntime-java000", old); // a killed load: its libraries are still inside
        Files.writeString(full.resolve("libonnxruntime.so"), "x");
        Files.setLastModifiedTime(full, FileTime.from(old));
        Path other = folder(tmp, "someone-else", old);
        Path file = Files.writeString(tmp.resolve("onnxruntime-java-file"), "x");
        Files.setLastModifiedTime(file, FileTime.from(old));

        assertEquals(2, NativeCache.removeStaleOrtFolders(tmp, now.minus(NativeCache.STALE)));
        assertFalse(Files.exists(staleEmpty));
        assertFalse(Files.exists(staleEmpty2));
        assertTrue(Files.isDirectory(fresh), "a folder younger than the bound is left");
        assertTrue(Files.exists(full.resolve("libonnxruntime.so")), "a folder with contents is left");
        assertTrue(Files.isDirectory(other));
        assertTrue(Files.isRegularFile(file));
        assertEquals(0, NativeCache.removeStaleOrtFolders(tmp.resolve("missing"), now), "a missing temp directory is no error");
    }
}
