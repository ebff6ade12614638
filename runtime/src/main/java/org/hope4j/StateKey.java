package org.hope4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.hope4j.state.AtomicFiles;

/**
 * Encryption at rest of what a learner saves: its state, its experience buffer (the user's own recent
 * text) and its episodic tables, each file sealed with AES-256-GCM ({@code javax.crypto}) under this
 * key, with a fresh 96-bit nonce per write and the file's role as associated data (a sealed file
 * cannot pass for another). A sealed file is {@value #MAGIC_TEXT}, the nonce, then the ciphertext
 * and its 128-bit tag; only ciphertext ever reaches the disk, temp files included.
 *
 * <p>The key comes from an owner-only key file of 32 raw bytes or 64 hex digits
 * ({@link #fromFile}), or from an environment variable holding 64 hex digits or base64
 * ({@link #fromEnvironment}); it is never logged ({@link #toString} hides it). A wrong key is a clear
 * {@link StateException} and changes nothing. A learner with a key still reads its plain files
 * (written before it had one) and seals them at the next save.
 */
public final class StateKey {
    static final String MAGIC_TEXT = "H4JSEAL1";
    private static final byte[] MAGIC = MAGIC_TEXT.getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The environment variable the CLI reads a key from. */
    public static final String ENVIRONMENT = "HOPE4J_STATE_KEY";

    private final SecretKeySpec key;

    private StateKey(byte[] raw) {
        if (raw.length != 32) {
            throw new IllegalArgumentException("a state key is 32 bytes (AES-256), found " + raw.length);
        }
        key = new SecretKeySpec(raw.clone(), "AES");
    }

    /**
     * A key of 32 raw bytes.
     *
     * @param raw the 32 key bytes (AES-256); copied, so the caller may clear its array afterwards
     * @return the key
     * @throws IllegalArgumentException if {@code raw} is not exactly 32 bytes long
     */
    public static StateKey of(byte[] raw) {
        return new StateKey(raw);
    }

    /**
     * The key in {@code file}: 32 raw bytes, or 64 hex digits (a trailing newline allowed). The file must
     * be a regular file that only its owner may read (on file systems with POSIX permissions).
     *
     * @param file the key file; a symbolic link is refused, and a file over 256 bytes is not a key
     * @return the key read from the file
     * @throws StateException naming the file if it is missing, readable by others or not a key
     */
    public static StateKey fromFile(Path file) {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new StateException(file + ": the key file is missing or not a regular file");
            }
            if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
                if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
                    throw new StateException(file + ": the key file may be read by others (" + java.nio.file.attribute.PosixFilePermissions.toString(p)
                            + "); make it owner-only: chmod 600 " + file);
                }
            }
            if (Files.size(file) > 256) {
                throw new StateException(file + ": not a key file (" + Files.size(file) + " bytes; a key is 32 raw bytes or 64 hex digits)");
            }
            byte[] b = Files.readAllBytes(file);
            if (b.length == 32) {
                return new StateKey(b);
            }
            return parse(new String(b, StandardCharsets.US_ASCII).strip(), file.toString());
        } catch (IOException e) {
            throw new StateException(file + ": cannot read the key file: " + e.getMessage(), e);
        }
    }

    /**
     * The key in environment variable {@code name} (64 hex digits or base64 of 32 bytes), or null if it is not set.
     *
     * @param name the variable's name, usually {@link #ENVIRONMENT}
     * @return the key, or null if the variable is unset or blank
     * @throws StateException naming the variable if it is set but holds neither form of a 32-byte key
     */
    public static StateKey fromEnvironment(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : parse(v.strip(), "environment variable " + name);
    }

    private static StateKey parse(String text, String where) {
        byte[] raw = null;
        if (text.matches("[0-9a-fA-F]{64}")) {
            raw = HexFormat.of().parseHex(text);
        } else {
            try {
                raw = Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                // neither form: refused below
            }
        }
        if (raw == null || raw.length != 32) {
            throw new StateException(where + ": not a state key (expected 32 raw bytes, 64 hex digits or base64 of 32 bytes)");
        }
        return new StateKey(raw);
    }

    /**
     * Writes a new random key into {@code file} (64 hex digits, owner-only, atomically) and returns it.
     *
     * @param file the key file to write; its directory must exist, and an existing file is replaced
     * @return the new key, the one now in {@code file}
     * @throws StateException naming the file if it cannot be written (its directory missing included)
     */
    public static StateKey generate(Path file) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        AtomicFiles.write(file, (HexFormat.of().formatHex(raw) + "\n").getBytes(StandardCharsets.US_ASCII), AtomicFiles.Access.OWNER_ONLY);
        return new StateKey(raw);
    }

    /** Whether {@code data} is a sealed file. */
    static boolean sealed(byte[] data) {
        return data.length >= MAGIC.length && Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /** {@code plain} sealed for the role {@code role} (e.g. "learner.state"). */
    byte[] seal(byte[] plain, String role) {
        try {
            byte[] nonce = new byte[NONCE];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(role.getBytes(StandardCharsets.UTF_8));
            ByteBuffer out = ByteBuffer.allocate(MAGIC.length + NONCE + c.getOutputSize(plain.length));
            out.put(MAGIC).put(nonce);
            c.doFinal(ByteBuffer.wrap(plain), out);
            return out.array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM is unavailable in this JDK", e);
        }
    }

    /**
     * The plain bytes of a file read from {@code file}: unsealed with {@code key} if it is sealed (for the
     * stores of this library).
     *
     * @param data the bytes read from the file, sealed or plain
     * @param key the learner's key, or null
     * @param file the file {@code data} was read from; only named in error messages
     * @param role the file's role, the associated data it was sealed with (e.g. "learner.state"); another role does not open it
     * @return {@code data} itself if it is not sealed, else the unsealed plain bytes
     * @throws StateException if the file is sealed and there is no key, or the key does not open it
     */
    public static byte[] openFile(byte[] data, StateKey key, Path file, String role) {
        if (!sealed(data)) {
            return data;
        }
        if (key == null) {
            throw new StateException(file + ": the file is encrypted; open the learner with its key (LearnerOptions.withStateKey,"
                    + " hope4j --key-file or " + ENVIRONMENT + ")");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key.key, new GCMParameterSpec(TAG_BITS, data, MAGIC.length, NONCE));
            c.updateAAD(role.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(data, MAGIC.length + NONCE, data.length - MAGIC.length - NONCE);
        } catch (AEADBadTagException e) {
            throw new StateException(file + ": cannot be decrypted with this key (a wrong key, or the file was altered); nothing was changed", e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new StateException(file + ": not a readable encrypted file: " + e.getMessage(), e);
        }
    }

    /**
     * Seals {@code plain} for {@code role} when there is a key, else returns it (for the stores of this library).
     *
     * @param key the learner's key, or null to write plain bytes
     * @param plain the bytes to write
     * @param role the file's role, bound to the sealed bytes as associated data (e.g. "learner.state")
     * @return the sealed bytes (magic, nonce, ciphertext and tag), or {@code plain} itself when {@code key} is null
     */
    public static byte[] sealIf(StateKey key, byte[] plain, String role) {
        return key == null ? plain : key.seal(plain, role);
    }

    @Override
    public String toString() {
        return "StateKey[AES-256, hidden]";
    }
}
