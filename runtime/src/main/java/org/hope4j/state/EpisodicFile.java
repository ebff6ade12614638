package org.hope4j.state;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import org.hope4j.StateException;
import org.hope4j.StateKey;
import org.hope4j.bundle.RegularFiles;
import org.hope4j.level.EpisodicLevel;

/**
 * The episodic level's saved tables: one file per saved state, named by its content
 * ({@code episodic-<first 16 hex digits of its SHA-256>.state}) so that the learner's state file,
 * which records the name and the digest, is written after it and a crash between the two writes
 * leaves the previous pair intact. Layout: the magic {@code HOPE4J-E}, a format version (int,
 * big-endian), the SHA-256 of the uncompressed payload (32 bytes), then the payload
 * ({@link EpisodicLevel#writeTo}) deflated. Written atomically with owner-only permissions: the
 * history holds the user's text.
 */
public final class EpisodicFile {
    private static final byte[] MAGIC = "HOPE4J-E".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** 2: context slots carry a check and their last bits, 8 contexts (1: 7 contexts, plain counters). */
    private static final int VERSION = 2;
    private static final String PREFIX = "episodic-";
    private static final String SUFFIX = ".state";
    /** The associated data of a sealed episodic file. */
    private static final String ROLE = "episodic";
    /** Magic, version (4 bytes, big-endian) and the SHA-256 of the inflated tables. */
    private static final int HEADER = 8 + 4 + 32;

    /** A byte buffer whose array can be written without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        byte[] array() {
            return buf;
        }
    }

    private EpisodicFile() {
    }

    /**
     * What {@link #save} wrote: the file's name in the state directory and its payload's SHA-256.
     *
     * @param file the file's name in the state directory, {@code episodic-<16 hex digits>.state} (a name, not a path)
     * @param sha256 the SHA-256 of the uncompressed payload, 64 lowercase hex digits, to check the file against at load
     */
    public record Saved(String file, String sha256) {
    }

    /**
     * Saves {@code level} into {@code dir} atomically and returns the file name and digest to record.
     *
     * @param level the episodic level whose tables are written; only read
     * @param dir the state directory; it must exist
     * @param key the learner's key to seal the file with, or null to write it plain
     * @return the name of the file written and its payload's digest, for the learner's state file to record
     * @throws StateException naming {@code dir} or the file if the tables cannot be written
     */
    public static Saved save(EpisodicLevel level, Path dir, StateKey key) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            // one buffer: room for the header, then the deflated tables; the header is filled in once the digest is
            // known and the buffer written as it is (it used to be copied twice more: 3x the file on the heap, which
            // ran a long observe with -Xmx128m out of memory in its first save)
            Buffer file = new Buffer(1 << 20);
            file.write(new byte[HEADER]);
            Deflater deflater = new Deflater(1);
            try (DataOutputStream out = new DataOutputStream(new java.security.DigestOutputStream(
                    new DeflaterOutputStream(file, deflater, 1 << 16), md))) {
                level.writeTo(out);
            } finally {
                deflater.end();
            }
            byte[] sha = md.digest();
            String hex = HexFormat.of().formatHex(sha);
            byte[] a = file.array();
            System.arraycopy(MAGIC, 0, a, 0, MAGIC.length);
            System.arraycopy(ByteBuffer.allocate(4).putInt(VERSION).array(), 0, a, MAGIC.length, 4);
            System.arraycopy(sha, 0, a, MAGIC.length + 4, sha.length);
            String name = PREFIX + hex.substring(0, 16) + SUFFIX;
            if (key == null) {
                AtomicFiles.write(dir.resolve(name), a, file.size(), AtomicFiles.Access.OWNER_ONLY);
            } else {
                AtomicFiles.write(dir.resolve(name), StateKey.sealIf(key, Arrays.copyOf(a, file.size()), ROLE), AtomicFiles.Access.OWNER_ONLY);
            }
            return new Saved(name, hex);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new StateException(dir + ": cannot save the episodic level: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the episodic file {@code name} of {@code dir}, checks it against {@code sha256} and loads
     * it into {@code level}; on any error {@code level} is unchanged and the exception names the file.
     *
     * @param level the episodic level to load the tables into
     * @param dir the state directory the file is in
     * @param name the file's name as the learner's state records it; must be an {@code episodic-*.state} name of {@code dir}
     *     itself (no path separators)
     * @param sha256 the payload digest the learner's state records, 64 lowercase hex digits
     * @param key the learner's key, or null; needed if the file is sealed
     * @throws StateException if {@code name} is not such a name, or the file is missing, not a regular file, sealed with
     *     another key or without one given, of another format version, not the recorded digest, or corrupt
     */
    public static void load(EpisodicLevel level, Path dir, String name, String sha256, StateKey key) {
        if (name == null || !name.startsWith(PREFIX) || !name.endsWith(SUFFIX) || name.contains("/") || name.contains("\\")) {
            throw new StateException(dir + ": metadata episodic_file must name an episodic-*.state file of the state directory, found " + name);
        }
        Path file;
        try {
            file = dir.resolve(name);
        } catch (java.nio.file.InvalidPathException e) {
            throw new StateException(dir + ": metadata episodic_file is not a file name here (" + e.getReason() + "), found " + name, e);
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new StateException(file + ": the episodic tables of this state are missing (not a regular file)");
        }
        byte[] whole = StateKey.openFile(RegularFiles.read(file, dir, RegularFiles.MAX_STATE_FILE, (what, cause) -> new StateException(file + " "
                + what, cause)), key, file, ROLE);
        try (InputStream raw = new java.io.ByteArrayInputStream(whole)) {
            byte[] head = raw.readNBytes(MAGIC.length + 4 + 32);
            if (head.length < MAGIC.length + 36 || !Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC)) {
                throw new StateException(file + ": not an episodic state file (bad magic)");
            }
            int version = ByteBuffer.wrap(head, MAGIC.length, 4).getInt();
            if (version != VERSION) {
                throw new StateException(file + ": episodic format version " + version + " is not supported (expected " + VERSION + ")");
            }
            String hex = HexFormat.of().formatHex(head, MAGIC.length + 4, head.length);
            if (!hex.equals(sha256)) {
                throw new StateException(file + ": its digest " + hex + " is not the one the learner state records (" + sha256 + ")");
            }
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Inflater inflater = new Inflater();
            try (DataInputStream in = new DataInputStream(new java.security.DigestInputStream(new InflaterInputStream(raw, inflater, 1 << 16), md))) {
                level.readFromVerified(in, md, HexFormat.of().parseHex(hex));
            } finally {
                inflater.end();
            }
        } catch (NoSuchFileException e) {
            throw new StateException(file + ": missing", e);
        } catch (IOException e) {
            // an inflated stream that ends early says EOFException with no message (MutationIT saw "null")
            throw new StateException(file + ": corrupt episodic tables: " + (e instanceof java.io.EOFException ? "the data ends early"
                    : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Deletes the episodic files of {@code dir} other than {@code keep} (best effort).
     *
     * @param dir the state directory to clean; a directory that cannot be listed is only logged
     * @param keep the name of the episodic file to keep (the one the state now records); null deletes them all
     */
    public static void deleteOthers(Path dir, String keep) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals(keep)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            System.getLogger(EpisodicFile.class.getName()).log(System.Logger.Level.WARNING, "cannot clean old episodic files in " + dir + ": " + e);
        }
    }
}
