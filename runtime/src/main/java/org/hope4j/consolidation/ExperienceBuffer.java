package org.hope4j.consolidation;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.hope4j.StateException;
import org.hope4j.StateKey;
import org.hope4j.bundle.RegularFiles;
import org.hope4j.state.AtomicFiles;

/**
 * The learner's recent experience: the last {@code capacity} bytes it observed, oldest first. Sleep
 * consolidates from it. Kept on disk next to the learner's state, written atomically with owner-only
 * permissions (it is the user's own text). Thread-safe.
 *
 * <p>File format: magic {@code H4JX}, format version (int32), capacity (int32), length (int32),
 * CRC-32C of the bytes (int32), then the bytes; little-endian.
 */
public final class ExperienceBuffer {
    static final int MAGIC = 0x584a3448; // "H4JX" little-endian
    static final int VERSION = 1;
    private static final int HEADER = 20;

    private final byte[] ring;
    private int start;
    private int size;

    /**
     * An empty buffer keeping the last {@code capacity} bytes (0 keeps nothing).
     *
     * @param capacity the most bytes it keeps, {@code >= 0}; allocated at once
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public ExperienceBuffer(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, found " + capacity);
        }
        ring = new byte[capacity];
    }

    /**
     * Bytes it can hold.
     *
     * @return the capacity given at construction, in bytes
     */
    public int capacity() {
        return ring.length;
    }

    /**
     * Bytes it holds.
     *
     * @return the bytes held now, from 0 to {@link #capacity()}
     */
    public synchronized int size() {
        return size;
    }

    /**
     * Appends {@code data[off, off+len)}, dropping the oldest bytes beyond the capacity.
     *
     * @param data the bytes to copy from; not kept
     * @param off index in {@code data} of the first byte to append
     * @param len how many bytes to append, {@code >= 0}; when it is at least the capacity only the last
     *     {@code capacity} of them are kept
     * @throws IndexOutOfBoundsException if the range is not inside {@code data} (or {@code len} is negative);
     *     nothing is appended then
     */
    public synchronized void append(byte[] data, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, data.length);
        int cap = ring.length;
        if (cap == 0 || len == 0) {
            return;
        }
        if (len >= cap) {
            System.arraycopy(data, off + len - cap, ring, 0, cap);
            start = 0;
            size = cap;
            return;
        }
        for (int i = 0; i < len; i++) {
            int at = (start + size) % cap;
            ring[at] = data[off + i];
            if (size < cap) {
                size++;
            } else {
                start = (start + 1) % cap;
            }
        }
    }

    /**
     * A copy of the contents, oldest byte first.
     *
     * @return a new array of {@link #size()} bytes; the caller may change it
     */
    public synchronized byte[] contents() {
        byte[] out = new byte[size];
        int cap = ring.length;
        for (int i = 0; i < size; i++) {
            out[i] = ring[(start + i) % cap];
        }
        return out;
    }

    /** Forgets everything. */
    public synchronized void clear() {
        start = 0;
        size = 0;
    }

    /**
     * Writes the buffer to {@code file} atomically with owner-only permissions.
     *
     * @param file the file to create or replace; its directory must exist
     * @throws StateException naming {@code file} if it cannot be written; its old content, if any, is then unchanged
     */
    public void save(Path file) {
        save(file, null);
    }

    /**
     * As {@link #save(Path)}, sealed with {@code key} (AES-256-GCM) unless it is null.
     *
     * @param file the file to create or replace; its directory must exist
     * @param key the learner's key to seal the file with, or {@code null} to write it plain
     * @throws StateException naming {@code file} if it cannot be written; its old content, if any, is then unchanged
     */
    public void save(Path file, StateKey key) {
        byte[] data = contents();
        CRC32C crc = new CRC32C();
        crc.update(data);
        ByteBuffer b = ByteBuffer.allocate(HEADER + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(VERSION).putInt(ring.length).putInt(data.length).putInt((int) crc.getValue()).put(data);
        AtomicFiles.write(file, StateKey.sealIf(key, b.array(), "experience.bin"), AtomicFiles.Access.OWNER_ONLY);
    }

    /**
     * Reads a buffer saved by {@link #save} into a buffer of {@code capacity} (keeping the newest
     * bytes if it is smaller). Every field is checked; errors name the file and the field.
     *
     * @param file a file written by {@link #save(Path)}, not sealed
     * @param capacity the capacity of the returned buffer, {@code >= 0}; the capacity the file was saved
     *     with is ignored
     * @return a new buffer holding the newest {@code capacity} bytes of the file, oldest first
     * @throws StateException naming the file if it is missing, unreadable, sealed, truncated, of another
     *     format or version, or fails its checksum
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public static ExperienceBuffer load(Path file, int capacity) {
        return load(file, capacity, null);
    }

    /**
     * As {@link #load(Path, int)}, opening a sealed file with {@code key}.
     *
     * @param file a file written by {@link #save(Path, StateKey)}, sealed or plain
     * @param capacity the capacity of the returned buffer, {@code >= 0}; the capacity the file was saved
     *     with is ignored
     * @param key the key the file was sealed with, or {@code null} for a plain file (a sealed file then
     *     throws); a plain file is read whatever the key
     * @return a new buffer holding the newest {@code capacity} bytes of the file, oldest first
     * @throws StateException naming the file if it is missing or unreadable, sealed and {@code key} does
     *     not open it, truncated, of another format or version, or fails its checksum
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public static ExperienceBuffer load(Path file, int capacity, StateKey key) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new StateException(file + ": no experience file here");
        }
        byte[] raw = StateKey.openFile(RegularFiles.read(file, file.toAbsolutePath().getParent(), RegularFiles.MAX_STATE_FILE,
                (what, cause) -> new StateException(file + " " + what, cause)), key, file, "experience.bin");
        if (raw.length < HEADER) {
            throw new StateException(file + ": truncated: " + raw.length + " bytes, the header alone needs " + HEADER);
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        int version = b.getInt();
        b.getInt(); // capacity it was saved with
        int length = b.getInt();
        int crcWant = b.getInt();
        if (magic != MAGIC) {
            throw new StateException(file + ": not an experience file (magic " + Integer.toHexString(magic) + ")");
        }
        if (version != VERSION) {
            throw new StateException(file + ": format version must be " + VERSION + ", found " + version);
        }
        if (length < 0 || length != raw.length - HEADER) {
            throw new StateException(file + ": length field says " + length + " bytes, the file holds " + (raw.length - HEADER));
        }
        CRC32C crc = new CRC32C();
        crc.update(raw, HEADER, length);
        if ((int) crc.getValue() != crcWant) {
            throw new StateException(file + ": checksum mismatch: the file is corrupt");
        }
        ExperienceBuffer buf = new ExperienceBuffer(capacity);
        buf.append(raw, HEADER, length);
        return buf;
    }
}
