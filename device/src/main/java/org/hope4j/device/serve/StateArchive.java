package org.hope4j.device.serve;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.hope4j.HopeException;
import org.hope4j.Learner;
import org.hope4j.state.StateLock;

/**
 * Export and import of a profile's saved state as a zip of its state files (flat: no directories).
 * An import is checked by opening a learner on it before it replaces anything: a corrupt or foreign
 * archive is refused and the profile keeps what it had.
 */
final class StateArchive {
    /** File names a state directory holds; anything else in an archive is refused. */
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** The most an archive may expand to. */
    static final long MAX_EXPANDED = 1L << 30;

    private StateArchive() {
    }

    /** Saves the profile, then zips its state files. */
    static byte[] export(Profiles profiles, Profiles.Entry e) {
        profiles.save(e);
        Path dir = profiles.stateDir(e.name);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (!Files.isRegularFile(f) || n.equals(StateLock.FILE) || n.startsWith(".") || !FILE.matcher(n).matches()) {
                    continue;
                }
                zip.putNextEntry(new ZipEntry(n));
                Files.copy(f, zip);
                zip.closeEntry();
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot export profile " + e.name + ": " + ex.getMessage(), ex);
        }
        return bytes.toByteArray();
    }

    /**
     * Replaces the profile's state with the archive's (the profile is created if needed): unpacked into
     * a new directory, restored by the profile's learner (which checks every file and field before it
     * changes anything) and saved as the profile's state (atomically, as every save).
     */
    static void importInto(Profiles profiles, String name, byte[] archive) {
        profiles.create(name);
        Path state = profiles.stateDir(name);
        Path incoming = state.resolveSibling("import-" + Long.toHexString(System.nanoTime()));
        Profiles.ownerOnlyDirectory(incoming);
        try {
            unpack(archive, incoming);
            if (!Learner.hasSavedState(incoming)) {
                throw ApiException.badRequest("bad_archive", "the archive holds no saved learner state");
            }
            profiles.with(name, e -> {
                e.learner.restore(incoming);
                profiles.save(e);
                return null;
            });
        } catch (HopeException ex) {
            throw ApiException.badRequest("bad_archive", "the archive's state is refused: " + ex.getMessage());
        } finally {
            Profiles.deleteTree(incoming);
        }
    }

    private static void unpack(byte[] archive, Path dir) {
        long total = 0;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
            ZipEntry z;
            int n = 0;
            while ((z = zip.getNextEntry()) != null) {
                if (++n > 64 || z.isDirectory() || !FILE.matcher(z.getName()).matches()) {
                    throw ApiException.badRequest("bad_archive", "archive entry '" + z.getName().replaceAll("[^\\x20-\\x7e]", "?")
                            + "' is not a state file (flat names of letters, digits, '.', '-', '_'; at most 64 files)");
                }
                total += copyBounded(zip, dir.resolve(z.getName()), MAX_EXPANDED - total);
            }
            if (n == 0) {
                throw ApiException.badRequest("bad_archive", "the body is not a zip archive of state files");
            }
        } catch (IOException ex) {
            throw ApiException.badRequest("bad_archive", "the body is not a readable zip archive: " + ex.getMessage());
        }
    }

    private static long copyBounded(InputStream in, Path to, long left) throws IOException {
        byte[] buf = new byte[1 << 16];
        long n = 0;
        try (var out = Files.newOutputStream(to)) {
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r;
                if (n > left) {
                    throw ApiException.badRequest("bad_archive", "the archive expands past " + MAX_EXPANDED + " bytes");
                }
                out.write(buf, 0, r);
            }
        }
        return n;
    }
}
