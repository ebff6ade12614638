package org.hope4j.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import org.hope4j.StateException;

/**
 * Crash-safe file replacement: the data goes to a temp file in the target's directory, is forced to
 * the disk, and is renamed over the target in one atomic step; then the directory itself is forced
 * (best effort: not every platform can open a directory). A crash at any point leaves either the old
 * file or the new one, never a mix, plus at worst a stray temp file named
 * {@code .<target>.<random>.tmp}.
 */
public final class AtomicFiles {
    private static final System.Logger LOG = System.getLogger(AtomicFiles.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** Who may read the written file. */
    public enum Access {
        /** The platform default for new files (on POSIX: 0666 minus the process umask). */
        DEFAULT,
        /**
         * Read and write for the owner only ({@code rw-------}) on file systems with POSIX
         * permissions; the default elsewhere. The permissions are set when the temp file is created,
         * so the data is never readable by others, not even briefly.
         */
        OWNER_ONLY
    }

    private AtomicFiles() {
    }

    /**
     * Atomically creates or replaces {@code target} with {@code data}, with default permissions.
     *
     * @param target the file to write; its directory must exist
     * @param data the complete new content
     * @throws StateException naming {@code target} if it cannot be written; the old content, if any,
     *     is then unchanged and the temp file removed
     */
    public static void write(Path target, byte[] data) {
        write(target, data, Access.DEFAULT);
    }

    /**
     * Atomically creates or replaces {@code target} with {@code data}.
     *
     * @param target the file to write; its directory must exist
     * @param data the complete new content
     * @param access who may read the new file
     * @throws StateException naming {@code target} if it cannot be written; the old content, if any,
     *     is then unchanged and the temp file removed
     */
    public static void write(Path target, byte[] data, Access access) {
        write(target, data, Objects.requireNonNull(data, "data").length, access);
    }

    /**
     * As {@link #write(Path, byte[], Access)}, with the first {@code length} bytes of {@code data} as the content
     * (a buffer written without copying it).
     *
     * @param target the file to write; its directory must exist
     * @param data holds the complete new content in its first {@code length} bytes
     * @param length how many bytes of {@code data} to write, from 0 to {@code data.length}
     * @param access who may read the new file
     * @throws IndexOutOfBoundsException if {@code length} is negative or over {@code data.length}
     * @throws StateException naming {@code target} if it cannot be written; the old content, if any,
     *     is then unchanged and the temp file removed
     */
    public static void write(Path target, byte[] data, int length, Access access) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(data, "data");
        Objects.checkFromIndexSize(0, length, data.length);
        Objects.requireNonNull(access, "access");
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path name = absolute.getFileName();
        if (dir == null || name == null) {
            throw new StateException(target + ": not a file path");
        }
        if (!Files.isDirectory(dir)) {
            throw new StateException(target + ": cannot write: directory " + dir + " does not exist");
        }
        Path tmp = null;
        try {
            tmp = createTemp(dir, name.toString(), access);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data, 0, length);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (AtomicMoveNotSupportedException e) {
            throw new StateException(target + ": cannot write: the file system cannot rename atomically (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new StateException(target + ": cannot write: " + e, e);
        } finally {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
        }
        forceDirectory(dir);
        removeStaleTemps(dir, name.toString());
    }

    /** Temp files of this target older than this were left by a writer that died (a crash, kill -9). */
    static final java.time.Duration STALE_TEMP = java.time.Duration.ofMinutes(1);

    /** Deletes temp files of {@code targetName} left behind by a writer that died mid-write. */
    private static void removeStaleTemps(Path dir, String targetName) {
        String prefix = "." + targetName + ".";
        long cutoff = System.currentTimeMillis() - STALE_TEMP.toMillis();
        try (var stream = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp");
        })) {
            for (Path p : stream) {
                try {
                    if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException e) {
                    // another writer may have renamed or removed it meanwhile: nothing to clean
                }
            }
        } catch (IOException e) {
            // cleaning is best effort; the write itself succeeded
        }
    }

    /**
     * Deletes every temp file this class names in {@code dir} ({@code .<target>.<12 hex digits>.tmp}),
     * whatever its age. Only for a caller that holds the directory's {@link StateLock}: then no other
     * writer exists and each such file is the litter of one that died mid-write.
     */
    static void removeTemps(Path dir) {
        try (var stream = Files.newDirectoryStream(dir, p -> p.getFileName().toString().matches("\\..+\\.[0-9a-f]{12}\\.tmp"))) {
            for (Path p : stream) {
                try {
                    Files.deleteIfExists(p);
                    LOG.log(System.Logger.Level.INFO, "removed {0}, left by a writer that died mid-write", p);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "could not remove stale temp file {0}: {1}", p, e);
                }
            }
        } catch (IOException e) {
            // cleaning is best effort
        }
    }

    /** Creates an empty temp file next to the target, with the access asked for from the start. */
    private static Path createTemp(Path dir, String targetName, Access access) throws IOException {
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = access == Access.OWNER_ONLY && posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        for (int attempt = 0; ; attempt++) {
            byte[] r = new byte[6];
            RANDOM.nextBytes(r);
            Path tmp = dir.resolve("." + targetName + "." + HexFormat.of().formatHex(r) + ".tmp");
            try {
                Files.newByteChannel(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attrs).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename durable; some platforms (Windows) cannot open a directory, which is fine. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not fsync directory {0}: {1}", dir, e);
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove temp file {0}: {1}", tmp, e);
        }
    }
}
