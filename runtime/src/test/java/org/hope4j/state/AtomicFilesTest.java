package org.hope4j.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.hope4j.StateException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void createsTheFileAndLeavesNoTempFile() throws IOException {
        Path target = dir.resolve("state.safetensors");
        byte[] data = new byte[3 << 20];
        new Random(1).nextBytes(data);
        AtomicFiles.write(target, data);
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of("state.safetensors"), names());
    }

    @Test
    void replacesExistingContent() throws IOException {
        Path target = dir.resolve("state.json");
        AtomicFiles.write(target, "old content that is longer".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(target, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(target));
        assertEquals(List.of("state.json"), names());
    }

    @Test
    void writesAnEmptyFile() throws IOException {
        Path target = dir.resolve("empty");
        AtomicFiles.write(target, new byte[0]);
        assertEquals(0, Files.size(target));
    }

    @Test
    void ownerOnlyPermissions() throws IOException {
        Path target = dir.resolve("private");
        AtomicFiles.write(target, new byte[] {1, 2, 3}, AtomicFiles.Access.OWNER_ONLY);
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        if (POSIX) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        }
        // Replacing an owner-only file keeps it owner-only.
        AtomicFiles.write(target, new byte[] {4}, AtomicFiles.Access.OWNER_ONLY);
        if (POSIX) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        }
        assertEquals(List.of("private"), names());
    }

    @Test
    void defaultPermissionsAreThoseOfAnOrdinaryNewFile() throws IOException {
        Path target = dir.resolve("shared");
        AtomicFiles.write(target, new byte[] {1});
        if (POSIX) {
            Path ordinary = Files.createFile(dir.resolve("ordinary"));
            assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(target));
        }
    }

    @Test
    void missingDirectoryIsAStateExceptionNamingTheTarget() {
        Path target = dir.resolve("no-such-dir").resolve("state.bin");
        StateException e = assertThrows(StateException.class, () -> AtomicFiles.write(target, new byte[] {1}));
        assertTrue(e.getMessage().startsWith(target + ": cannot write: directory "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" does not exist"), e.getMessage());
    }

    @Test
    void failedRenameLeavesTheOldContentAndNoTempFile() throws IOException {
        // A non-empty directory cannot be replaced by a file: the rename fails after the temp file was written.
        Path target = dir.resolve("state");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep"), "kept");
        StateException e = assertThrows(StateException.class, () -> AtomicFiles.write(target, new byte[] {1, 2}));
        assertTrue(e.getMessage().startsWith(target + ": cannot write: "), e.getMessage());
        assertEquals(List.of("state"), names());
        assertEquals("kept", Files.readString(target.resolve("keep")));
    }

    @Test
    void staleTempFilesOfACrashedWriterAreRemovedFreshOnesKept(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path target = dir.resolve("learner.state");
        Path stale = dir.resolve(".learner.state.0123456789ab.tmp");
        Path fresh = dir.resolve(".learner.state.ba9876543210.tmp");
        Path other = dir.resolve(".other.0123456789ab.tmp");
        for (Path p : new Path[] {stale, fresh, other}) {
            java.nio.file.Files.write(p, new byte[] {1, 2, 3});
        }
        java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000L);
        java.nio.file.Files.setLastModifiedTime(stale, old);
        java.nio.file.Files.setLastModifiedTime(other, old);
        AtomicFiles.write(target, new byte[] {9});
        org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(stale), "stale temp of a dead writer is removed");
        org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.exists(fresh), "a recent temp may belong to a live writer");
        org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.exists(other), "temps of other targets are not touched");
    }
}
