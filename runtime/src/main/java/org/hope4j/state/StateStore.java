package org.hope4j.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.hope4j.HopeException;
import org.hope4j.Level;
import org.hope4j.StateException;
import org.hope4j.StateKey;
import org.hope4j.bundle.RegularFiles;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.consolidation.ExperienceBuffer;
import org.hope4j.consolidation.ExpertPool;
import org.hope4j.learner.HopeStream;
import org.hope4j.level.EpisodicLevel;

/**
 * The learner's state on disk: {@code learner.state} (safetensors: the stream's tensors and L2's
 * expert pool; metadata with the position, the update counts, the frozen levels, the bundle it was
 * learned on and two SHA-256 checksums, one over the tensors and one over the metadata), the
 * experience buffer {@code experience.bin}, and the episodic level's tables ({@link EpisodicFile}).
 *
 * <p>Every file is written atomically and owner-only. {@link #read} verifies every field before it
 * returns, so a caller that applies a {@link Loaded} changes nothing on a bad file.
 */
public final class StateStore {
    private static final System.Logger LOG = System.getLogger(StateStore.class.getName());
    /** The state file in a state directory. */
    public static final String STATE_FILE = "learner.state";
    /** The experience buffer's file in a state directory. */
    public static final String EXPERIENCE_FILE = "experience.bin";
    /**
     * The largest position or update count a state may hold: 2^53 bytes (9 PB) is more than any learner
     * reads, and keeps every position arithmetic (spans, chunk phases, counts) far from overflow
     * (a state claiming {@code Long.MAX_VALUE} restored and then failed in the first span: MutationIT).
     */
    public static final long MAX_POSITION = 1L << 53;
    static final String FORMAT = "hope4j-state";
    /**
     * 4: the metadata checksum digests every key and value with its length in front, so no value can
     * pose as another entry; 3 (still read): the state records the whole bundle it was learned on
     * ({@code bundle_sha256}, the manifest's SHA-256), its metadata digested as {@code key=value} lines;
     * 2 (still read): only its plastic weights; the metadata is under a checksum since 2.
     */
    static final int VERSION = 4;

    private StateStore() {
    }

    /**
     * {@code dir}, created if needed (with its parents).
     *
     * @param dir the state directory
     * @return {@code dir} as {@link Files#createDirectories} returns it, now an existing directory
     * @throws StateException naming {@code dir} if it cannot be created (or exists as something other than a directory)
     */
    public static Path directory(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StateException(dir + ": cannot create the state directory: " + e.getMessage(), e);
        }
    }

    /**
     * Whether {@code dir} holds a saved state (its state file exists).
     *
     * @param dir the state directory; need not exist
     * @return true if {@code dir} holds a regular file {@value #STATE_FILE} (nothing in it is read or checked)
     */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(STATE_FILE));
    }

    /**
     * What a learner saves.
     *
     * @param snapshot the stream's state: its tensors, position and L0/L1/L2 update counts
     * @param frozen the levels the learner no longer updates; empty when none
     * @param pool L2's expert pool, saved as {@code sleep.pool.*} tensors
     * @param experience the experience buffer, saved into {@value #EXPERIENCE_FILE}
     * @param bundleSha the bundle's SHA-256 ({@code Bundle.sha256}: a state loads only onto that bundle)
     * @param plasticSha the SHA-256 of its plastic weights
     * @param episodic the episodic level, or null
     * @param key seals every file (AES-256-GCM), or null: plain files
     */
    public record Contents(HopeStream.Snapshot snapshot, Set<Level> frozen, ExpertPool pool, ExperienceBuffer experience,
            EpisodicLevel episodic, String bundleSha, String plasticSha, StateKey key) {
    }

    /**
     * A verified state, not yet applied: the stream's snapshot, the frozen levels, the expert pool,
     * the experience buffer and where the episodic tables are ({@code episodicFile} null: none saved).
     *
     * @param file the state file it was read from (named in messages)
     * @param snapshot the stream's verified tensors, position and update counts; tensor shapes not yet checked
     * @param frozen the levels the state froze
     * @param pool the expert pool restored from the state, empty if the state had none
     * @param experience the experience buffer, empty if the state directory had no {@value #EXPERIENCE_FILE}
     * @param episodicFile the episodic tables' file name in the state directory as the metadata records it (not yet checked),
     *     or null when none were saved
     * @param episodicSha the SHA-256 the metadata records for the episodic tables, or null
     * @param key the key the state was opened with, or null; opens the episodic file too
     */
    public record Loaded(Path file, HopeStream.Snapshot snapshot, Set<Level> frozen, ExpertPool pool, ExperienceBuffer experience,
            String episodicFile, String episodicSha, StateKey key) {
        /**
         * Loads the episodic tables into {@code level} (verified by their checksum), or empties it when none were saved.
         *
         * @param level the running episodic level; unchanged if loading fails
         * @param dir the state directory the state was read from
         * @throws StateException naming the episodic file if it is missing, misnamed, fails its checksum or is corrupt
         */
        public void loadEpisodic(EpisodicLevel level, Path dir) {
            if (episodicFile == null) {
                LOG.log(System.Logger.Level.INFO, "{0}: the state has no episodic tables; the episodic level starts empty", file);
                level.reset();
            } else {
                EpisodicFile.load(level, dir, episodicFile, episodicSha, key);
            }
        }
    }

    /**
     * Saves {@code c} into {@code dir} (created if needed). A state holding NaN or an infinity is
     * refused and the state on disk stays as it was.
     *
     * <p>Order of the writes: the episodic tables (a new content-named file), then {@value #STATE_FILE}, then
     * {@value #EXPERIENCE_FILE}; older episodic files are deleted last.
     *
     * @param dir the state directory; created with its parents if missing
     * @param c what to save; {@code c.key()} seals every file when it is not null
     * @throws StateException naming the directory or file if a tensor holds NaN or an infinity, or a file cannot be written
     */
    public static void save(Path dir, Contents c) {
        directory(dir);
        HopeStream.Snapshot s = c.snapshot();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", Integer.toString(VERSION));
        meta.put("bundle_sha256", c.bundleSha());
        meta.put("bundle_plastic_sha256", c.plasticSha());
        meta.put("position", Long.toString(s.position()));
        long[] counts = s.counts();
        meta.put("count_l0", Long.toString(counts[0]));
        meta.put("count_l1", Long.toString(counts[1]));
        meta.put("count_l2", Long.toString(counts[2]));
        meta.put("frozen", String.join(",", c.frozen().stream().map(Enum::name).toList()));
        Map<String, Tensor> all = new TreeMap<>(s.tensors());
        all.putAll(c.pool().toTensors());
        String bad = firstNonFinite(all);
        if (bad != null) {
            throw new StateException(dir + ": the learner's state holds NaN or infinite values (tensor " + bad
                    + "); nothing was saved, the state on disk is unchanged (reset or restore the learner)");
        }
        EpisodicFile.Saved eps = c.episodic() == null ? null : EpisodicFile.save(c.episodic(), dir, c.key());
        if (eps != null) {
            meta.put("episodic_file", eps.file());
            meta.put("episodic_sha256", eps.sha256());
        }
        meta.put("data_sha256", dataSha(all));
        meta.put("metadata_sha256", metaSha(meta));
        // owner-only: the state holds what the user's own text taught the model
        AtomicFiles.write(dir.resolve(STATE_FILE), StateKey.sealIf(c.key(), Safetensors.toBytes(all, meta), STATE_FILE),
                AtomicFiles.Access.OWNER_ONLY);
        // the experience buffer is auxiliary: a crash between the two writes leaves a consistent state
        // with the previous buffer, which is still text the user wrote
        c.experience().save(dir.resolve(EXPERIENCE_FILE), c.key());
        if (eps != null) {
            EpisodicFile.deleteOthers(dir, eps.file());
        }
    }

    /**
     * Reads and verifies the state in {@code dir}: format, version, bundle, both checksums, finite
     * values, every metadata field, the expert pool's shapes and the experience buffer. The stream's
     * tensor shapes are checked by the engine when the snapshot is applied.
     *
     * @param dir the state directory to read; nothing in it is changed
     * @param bundleSha the running bundle's SHA-256
     * @param plasticSha its plastic weights' SHA-256
     * @param pool the running pool (its slots, rank and shapes)
     * @param blocks the engine's number of blocks, the expected shape of the saved pool's experts
     * @param dModel the engine's model width, the expected shape of the saved pool's experts
     * @param midHidden the hidden width of the L2 MLP, the expected shape of the saved pool's experts
     * @param experienceCapacity the running experience buffer's capacity in bytes; a larger saved buffer keeps its newest bytes
     * @param key opens sealed files, or null (a sealed file is then refused)
     * @return the verified state, to be applied by the caller
     * @throws StateException naming the file and the field
     */
    public static Loaded read(Path dir, String bundleSha, String plasticSha, ExpertPool pool, int blocks, int dModel, int midHidden, int experienceCapacity,
            StateKey key) {
        Path file = dir.resolve(STATE_FILE);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new StateException(file + ": no saved state here");
        }
        byte[] raw = StateKey.openFile(RegularFiles.read(file, dir, RegularFiles.MAX_STATE_FILE, (what, cause) -> new StateException(file + " " + what,
                cause)), key, file, STATE_FILE);
        Safetensors.File sf;
        try {
            sf = Safetensors.read(raw, file.toString());
        } catch (HopeException e) {
            throw new StateException(file + ": not a readable state file: " + e.getMessage(), e);
        }
        Map<String, String> meta = sf.metadata();
        require(file, meta, "format", FORMAT);
        String version = meta.get("format_version");
        if (!Integer.toString(VERSION).equals(version) && !"3".equals(version) && !"2".equals(version)) {
            throw new StateException(file + ": metadata format_version must be " + VERSION + " (or 3 or 2), found " + version);
        }
        if ("2".equals(version)) {
            // a state saved before it recorded its whole bundle: it is still tied to the plastic weights
            LOG.log(System.Logger.Level.INFO, "{0}: a version 2 state, checked against the plastic weights only", file);
        } else if (!bundleSha.equals(meta.get("bundle_sha256"))) {
            throw new StateException(file + ": the state was learned on another bundle (metadata bundle_sha256 " + meta.get("bundle_sha256")
                    + ", this bundle " + bundleSha + "): it loads only onto the bundle it was learned on");
        }
        require(file, meta, "bundle_plastic_sha256", plasticSha);
        check(file, "data_sha256", meta.get("data_sha256"), dataSha(sf.tensors()));
        check(file, "metadata_sha256", meta.get("metadata_sha256"), metaSha(meta));
        String poisoned = firstNonFinite(sf.tensors());
        if (poisoned != null) {
            throw new StateException(file + ": tensor " + poisoned + " holds NaN or infinite values; the state is refused");
        }
        long[] counts = new long[3];
        long position;
        try {
            position = Long.parseLong(meta.get("position"));
            counts[0] = Long.parseLong(meta.get("count_l0"));
            counts[1] = Long.parseLong(meta.get("count_l1"));
            counts[2] = Long.parseLong(meta.get("count_l2"));
        } catch (RuntimeException e) {
            throw new StateException(file + ": metadata position/count_* must be integers: " + e.getMessage(), e);
        }
        for (long v : new long[] {position, counts[0], counts[1], counts[2]}) {
            if (v < 0 || v > MAX_POSITION) {
                throw new StateException(file + ": metadata position/count_* must be in [0, 2^53], found " + position + " / " + Arrays.toString(counts));
            }
        }
        EnumSet<Level> frozen = EnumSet.noneOf(Level.class);
        for (String name : meta.getOrDefault("frozen", "").split(",")) {
            if (!name.isBlank()) {
                try {
                    frozen.add(Level.valueOf(name));
                } catch (IllegalArgumentException e) {
                    throw new StateException(file + ": metadata frozen names an unknown level " + name + " (levels: "
                            + Arrays.toString(Level.values()) + ")", e);
                }
            }
        }
        Path expFile = dir.resolve(EXPERIENCE_FILE);
        ExperienceBuffer exp = Files.exists(expFile) ? ExperienceBuffer.load(expFile, experienceCapacity, key)
                : new ExperienceBuffer(experienceCapacity);
        ExpertPool restoredPool;
        try {
            restoredPool = ExpertPool.fromTensors(sf.tensors(), pool.slots(), blocks, dModel, midHidden, pool.rank());
        } catch (RuntimeException e) {
            throw new StateException(file + ": " + e.getMessage(), e);
        }
        return new Loaded(file, new HopeStream.Snapshot(sf.tensors(), position, counts), frozen, restoredPool, exp, meta.get("episodic_file"),
                meta.get("episodic_sha256"), key);
    }

    private static void require(Path file, Map<String, String> meta, String key, String want) {
        String found = meta.get(key);
        if (!want.equals(found)) {
            throw new StateException(file + ": metadata " + key + " must be " + want + ", found " + found);
        }
    }

    private static void check(Path file, String key, String want, String found) {
        if (!found.equals(want)) {
            throw new StateException(file + ": " + key + " mismatch (expected " + want + ", found " + found + "): the file is corrupt");
        }
    }

    /**
     * The name of the first tensor (in name order) holding a NaN or an infinity, or null.
     *
     * @param tensors the tensors to scan, by name
     * @return the first such tensor's name, or null when every value is finite
     */
    public static String firstNonFinite(Map<String, Tensor> tensors) {
        for (String name : new TreeMap<>(tensors).keySet()) {
            for (float v : tensors.get(name).data()) {
                if (!Float.isFinite(v)) {
                    return name;
                }
            }
        }
        return null;
    }

    /**
     * SHA-256 over every metadata entry but itself, in key order. From format version 4 each key and
     * each value is its UTF-8 bytes with their count in front (4 bytes, big-endian), so a value holding
     * a newline or an {@code =} cannot stand for other entries; states of versions 2 and 3 (their
     * {@code format_version}) are digested as they were written, as {@code key=value\n} lines.
     *
     * @param meta the state file's metadata; a {@code metadata_sha256} entry in it is skipped
     * @return the digest, 64 lowercase hex digits
     */
    public static String metaSha(Map<String, String> meta) {
        MessageDigest md = sha256();
        String version = meta.get("format_version");
        boolean lines = "2".equals(version) || "3".equals(version);
        for (Map.Entry<String, String> e : new TreeMap<>(meta).entrySet()) {
            if (e.getKey().equals("metadata_sha256")) {
                continue;
            }
            if (lines) {
                md.update((e.getKey() + "=" + e.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
            } else {
                for (String part : new String[] {e.getKey(), e.getValue()}) {
                    byte[] b = part.getBytes(StandardCharsets.UTF_8);
                    md.update(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
                    md.update(b);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * SHA-256 over every tensor's name, shape and little-endian data, in name order.
     *
     * @param tensors the tensors to digest, by name
     * @return the digest, 64 lowercase hex digits
     */
    public static String dataSha(Map<String, Tensor> tensors) {
        MessageDigest md = sha256();
        for (String name : new TreeMap<>(tensors).keySet()) {
            Tensor t = tensors.get(name);
            md.update(name.getBytes(StandardCharsets.UTF_8));
            md.update(Arrays.toString(t.shape()).getBytes(StandardCharsets.UTF_8));
            ByteBuffer bb = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(t.data());
            md.update(bb);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
