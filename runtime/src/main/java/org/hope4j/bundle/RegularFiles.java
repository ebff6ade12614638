package org.hope4j.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.BiFunction;
import org.hope4j.HopeException;

/**
 * Reads a bundle, state or experience file only when it is what it claims to be: a regular file
 * (not a FIFO, a device or a directory, which could hang or exhaust the reader), inside its folder
 * when it is a symbolic link, and no larger than a stated limit, checked before a byte is read and
 * again while reading (a file that grows meanwhile is refused too).
 */
public final class RegularFiles {
    /** The largest file of a bundle (the default model's largest is 1.4 MB). */
    public static final long MAX_BUNDLE_FILE = 256L << 20;
    /** The largest state, experience or episodic file. */
    public static final long MAX_STATE_FILE = 1L << 30;

    private RegularFiles() {
    }

    /**
     * The bytes of {@code file}.
     *
     * @param file the file to read; a symbolic link is followed only when it stays in {@code root}
     * @param root the folder {@code file} must stay in after following links, or null
     * @param max the most bytes it may hold
     * @param error makes the exception from what is wrong ("is missing", "is not a regular file (a FIFO, ...)") and
     *     the cause (may be null); the caller's message names the file
     * @return the file's whole content, at most {@code max} bytes
     * @throws HopeException the one {@code error} makes, if the file is missing, unreadable, a link out of {@code root},
     *     not a regular file, larger than {@code max} or grows while it is read
     */
    public static byte[] read(Path file, Path root, long max, BiFunction<String, Throwable, ? extends HopeException> error) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                Path real = file.toRealPath();
                if (root != null && !real.startsWith(root.toRealPath())) {
                    throw error.apply("is a symbolic link out of " + root + " (to " + real + "): refused", null);
                }
                a = Files.readAttributes(real, BasicFileAttributes.class);
            }
        } catch (NoSuchFileException e) {
            throw error.apply("is missing", e);
        } catch (IOException e) {
            throw error.apply("cannot be read: " + e, e);
        }
        if (!a.isRegularFile()) {
            throw error.apply("is not a regular file (" + (a.isDirectory() ? "a directory" : "a FIFO, socket or device") + ")", null);
        }
        if (a.size() > max) {
            throw error.apply("holds " + a.size() + " bytes, more than the " + max + " a file of this kind may hold", null);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) Math.min(max + 1, a.size() + 1));
            if (b.length > a.size() || in.read() >= 0) {
                throw error.apply("grew while it was read (from " + a.size() + " bytes)", null);
            }
            return b;
        } catch (IOException e) {
            throw error.apply("cannot be read: " + e, e);
        }
    }
}
