package org.hope4j.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.hope4j.StateException;

/**
 * One writer per state directory: an exclusive {@link FileChannel#tryLock() lock} on the
 * directory's {@value #FILE} file, which a learner takes at its first save into the directory and
 * holds until it is closed. A second learner -- in this process or another -- that saves into the
 * same directory is refused with a clear message instead of silently overwriting the first one's
 * state. The operating system drops the lock when its process dies (a crash, {@code kill -9}), so a
 * dead writer never blocks the next one. Holding the lock also makes every temp file left in the
 * directory a dead writer's litter, which is removed at once.
 */
public final class StateLock implements AutoCloseable {
    /** The lock file in a state directory (it holds the pid of the process that last locked it). */
    public static final String FILE = ".lock";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private StateLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir} (which must exist) for this writer, writes this process's pid into the lock file
     * and removes the temp files dead writers left in {@code dir}.
     *
     * @param dir the state directory to lock; its lock file {@value #FILE} is created (owner-only) if missing
     * @return the held lock; close it to release the directory
     * @throws StateException naming the directory if another learner holds it (with that process's pid
     *     when it wrote one) or the lock file cannot be opened
     */
    public static StateLock acquire(Path dir) {
        Path file = dir.resolve(FILE);
        FileChannel ch;
        try {
            boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
            FileAttribute<?>[] attrs = posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                    : new FileAttribute<?>[0];
            ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE), attrs);
        } catch (IOException e) {
            throw new StateException(dir + ": cannot open the state directory's lock file " + FILE + ": " + e.getMessage(), e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // another learner of this process holds it
        } catch (IOException e) {
            close(ch);
            throw new StateException(dir + ": cannot lock the state directory: " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = holder(ch);
            close(ch);
            throw new StateException(dir + ": another learner is saving into this state directory (" + holder
                    + "); one writer per state: close that learner first, or save elsewhere");
        }
        try {
            byte[] pid = Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(pid), 0);
        } catch (IOException e) {
            // the pid is only for messages; the lock holds without it
        }
        AtomicFiles.removeTemps(dir);
        return new StateLock(dir, ch, lock);
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            int n = ch.read(b, 0);
            String pid = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).trim();
            if (!pid.matches("[0-9]{1,19}")) {
                return "its process is unknown";
            }
            return Long.parseLong(pid) == ProcessHandle.current().pid() ? "in this process" : "process " + pid;
        } catch (IOException | RuntimeException e) {
            return "its process is unknown";
        }
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing held
        }
    }

    /**
     * The locked directory.
     *
     * @return the directory given to {@link #acquire}
     */
    public Path dir() {
        return dir;
    }

    /** Releases the lock (the lock file stays: removing it could race a new writer). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // closing the channel below releases it too
        }
        close(channel);
    }
}
