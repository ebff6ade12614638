package org.hope4j.bundle;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.hope4j.BundleException;

/**
 * A loaded, verified model bundle (ARCHITECTURE.md §5): the validated {@link Manifest}, and the bytes
 * of every file it lists, each checked against its SHA-256.
 *
 * <p>{@link #load} reads every file the model runs on and verifies it against its SHA-256, so a
 * bundle with a missing or damaged file never loads. It keeps the bytes of the files a learner may
 * read at any moment of its life: the plastic weights (an engine opens when a learner's anchor wakes),
 * the probe and the rehearsal text (read by every sleep), so nothing those need can go missing or
 * change underneath it. The files read only while a learner opens (the frozen graph segments, whose
 * weights the learner then holds, and E's prior: 4 MB of the bundled model's 5.4) are not kept: the
 * bytes verified at load are handed to the first caller that asks for each (the first learner to open),
 * and later ones are read and verified again, so a bundle's directory (or jar) must stay in place for
 * learners to open on it, and a file changed since the load is refused, never used. The golden test
 * vectors ({@value #GOLDEN}) are read only when asked for, verified then, and not kept: the runtime jar
 * leaves them out (they ship in its test jar). It also parses {@code plastic.safetensors} once and
 * checks that every expected tensor is there with the right shape. A {@code Bundle} is immutable and
 * safe to share between threads and learners.
 */
public final class Bundle {
    /** The class-path folder of the bundle shipped inside the runtime jar. */
    public static final String DEFAULT_PREFIX = "org/hope4j/default-bundle/";
    /** The manifest's file name. */
    public static final String MANIFEST = "manifest.json";
    /**
     * The manifest's own checksum: the SHA-256 of {@value #MANIFEST} in hex (64 digits, a newline allowed).
     * Every bundle the exporter writes has it; a bundle without it still loads (older exports, hand-made
     * fixtures) with one log line.
     */
    public static final String MANIFEST_SHA = "manifest.sha256";
    /** The folder of the golden test vectors: verified when read, never loaded eagerly. */
    public static final String GOLDEN = "golden/";

    private final BundleSource source;
    private final Manifest manifest;
    private final Map<String, byte[]> files;
    /** The verified bytes of the files not kept, until their first caller takes them (so one load reads each once). */
    private final Map<String, byte[]> handOver;
    private final String sha;

    /**
     * The bundle's identity: the SHA-256 of its manifest, which holds every other file's SHA-256 and
     * every rate, period and bound. A saved state records it and loads only onto the same bundle.
     *
     * @return the lowercase hex SHA-256 (64 digits) of the manifest's bytes as read
     */
    public String sha256() {
        return sha;
    }

    private Bundle(BundleSource source, Manifest manifest, Map<String, byte[]> files, Map<String, byte[]> handOver, String sha) {
        this.handOver = handOver;
        this.sha = sha;
        this.source = source;
        this.manifest = manifest;
        this.files = files;
    }

    /**
     * Loads a bundle: reads and validates the manifest, reads every file it lists and verifies its
     * SHA-256, and checks the plastic tensors' names and shapes.
     *
     * @param source where the files are
     * @return the verified bundle
     * @throws BundleException naming the source, the file and the field on any problem: a missing
     *     file, a checksum mismatch (with expected and found digests), an invalid manifest field, a
     *     missing or misshapen plastic tensor
     */
    public static Bundle load(BundleSource source) {
        Objects.requireNonNull(source, "source");
        String manifestOrigin = join(source, MANIFEST);
        String text;
        byte[] manifestBytes = source.read(MANIFEST);
        if (source.has(MANIFEST_SHA)) {
            String want = new String(source.read(MANIFEST_SHA), StandardCharsets.US_ASCII).strip();
            String found = sha256(manifestBytes);
            if (!found.equalsIgnoreCase(want)) {
                throw new BundleException(manifestOrigin + " is corrupt: its SHA-256 must be " + want + " (from " + MANIFEST_SHA + "), found " + found);
            }
        } else {
            System.getLogger(Bundle.class.getName()).log(System.Logger.Level.DEBUG, "{0} has no {1}: its manifest is checked field by field only",
                    source.describe(), MANIFEST_SHA);
        }
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(manifestBytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BundleException(manifestOrigin + ": not valid UTF-8", e);
        }
        Manifest manifest = Manifest.parse(text, manifestOrigin);
        Map<String, byte[]> files = new LinkedHashMap<>();
        Map<String, byte[]> handOver = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.Set<String> kept = kept(manifest);
        for (Map.Entry<String, String> f : manifest.files().entrySet()) {
            if (!f.getKey().startsWith(GOLDEN)) {
                byte[] b = verified(source, f.getKey(), f.getValue());
                (kept.contains(f.getKey()) ? files : handOver).put(f.getKey(), b);
            }
        }
        Bundle bundle = new Bundle(source, manifest, Collections.unmodifiableMap(files), handOver, sha256(manifestBytes));
        bundle.checkPlastic(bundle.plastic());
        return bundle;
    }

    /** The files whose bytes a loaded bundle keeps: those a learner may read at any moment of its life. */
    private static java.util.Set<String> kept(Manifest manifest) {
        java.util.Set<String> kept = new java.util.HashSet<>();
        kept.add(manifest.plastic());
        if (manifest.probe() != null) {
            kept.add(manifest.probe().file());
        }
        if (manifest.rehearsal() != null) {
            kept.add(manifest.rehearsal().file());
        }
        return kept;
    }

    /**
     * Loads the bundle shipped inside the runtime jar ({@value #DEFAULT_PREFIX} on the class path).
     *
     * @return the verified default bundle
     * @throws BundleException if the default bundle is missing from the class path or corrupt
     */
    public static Bundle loadDefault() {
        return load(BundleSource.classpath(DEFAULT_PREFIX));
    }

    /**
     * Returns the validated manifest.
     *
     * @return the manifest
     */
    public Manifest manifest() {
        return manifest;
    }

    /**
     * Returns where this bundle was loaded from.
     *
     * @return the source
     */
    public BundleSource source() {
        return source;
    }

    /**
     * Describes the bundle's source for messages.
     *
     * @return for example {@code /opt/hope/bundle} or {@code classpath:org/hope4j/default-bundle/}
     */
    public String describe() {
        return source.describe();
    }

    /**
     * Returns a copy of the verified bytes of one file.
     *
     * @param file a path listed in the manifest's {@code files}, for example {@code embed.onnx} or
     *     {@code golden/stream.bin}
     * @return a fresh copy of the file's bytes: of the kept copy for the plastic weights, the probe and the rehearsal
     *     text; for another file, the bytes verified at load to its first caller, else read from the bundle's source
     *     again and verified against the manifest's SHA-256
     * @throws BundleException if the manifest does not list the file, or a file not kept is now missing or changed
     */
    public byte[] bytes(String file) {
        String sha = manifest.files().get(file);
        if (sha == null) {
            throw new BundleException(describe() + ": " + file + " is not a file of this bundle (not listed in " + MANIFEST + " files)");
        }
        byte[] b = files.get(file);
        if (b != null) {
            return b.clone();
        }
        b = handOver.remove(file);
        if (b != null) {
            return b; // verified at load and no longer held here: the caller's own
        }
        try {
            return verified(source, file, sha);
        } catch (BundleException e) {
            throw new BundleException(e.getMessage() + (file.startsWith(GOLDEN)
                    ? " (golden test vectors are not part of the runtime jar: they ship in its test jar, hope4j-runtime-<version>-tests.jar,"
                            + " and in the source tree)"
                    : " (it was whole when the bundle was loaded and is read again as a learner opens: a bundle's files must stay in place,"
                            + " unchanged, while learners open on it)"), e);
        }
    }

    /** The bytes of {@code file} from {@code source}, checked against {@code sha}. */
    private static byte[] verified(BundleSource source, String file, String sha) {
        byte[] bytes = source.read(file);
        String found = sha256(bytes);
        if (!found.equalsIgnoreCase(sha)) {
            throw new BundleException(source.describe() + ": file " + file + " is corrupt: SHA-256 must be " + sha
                    + " (from " + MANIFEST + "), found " + found);
        }
        return bytes;
    }

    /**
     * Returns the initial plastic parameters and the frozen head ({@code plastic.safetensors}): for
     * every block {@code b}, {@code blocks.b.l0.init [H, R, dh]}, {@code blocks.b.l0.b_eta [H, 5]},
     * {@code blocks.b.l0.b_alpha [H, 5]}, {@code blocks.b.l1.norm [D]}, {@code blocks.b.l1.up [F1, D]},
     * {@code blocks.b.l1.down [D, F1]}, the same for {@code l2} with {@code F2}; then
     * {@code head.norm [D]} and {@code head.weight [256, D]}. The shapes were checked at load time.
     *
     * @return freshly parsed tensors on every call (callers may modify them), in file order
     */
    public Map<String, Tensor> plastic() {
        String file = manifest.plastic();
        return Safetensors.read(files.get(file), join(source, file)).tensors();
    }

    /**
     * Returns the retention probe's bytes (manifest {@code probe}), checked against its declared length.
     *
     * @return the probe text, or {@code null} if the bundle has none
     * @throws BundleException if the file's length differs from {@code probe.bytes}
     */
    public byte[] probe() {
        return text(manifest.probe());
    }

    /**
     * Returns the rehearsal text's bytes (manifest {@code rehearsal}), checked against its declared length.
     *
     * @return the rehearsal text, or {@code null} if the bundle has none
     * @throws BundleException if the file's length differs from {@code rehearsal.bytes}
     */
    public byte[] rehearsal() {
        return text(manifest.rehearsal());
    }

    private byte[] text(Manifest.Probe p) {
        if (p == null) {
            return null;
        }
        byte[] b = bytes(p.file());
        if (b.length != p.bytes()) {
            throw new BundleException(join(source, p.file()) + ": holds " + b.length + " bytes, the manifest says " + p.bytes());
        }
        return b;
    }

    /**
     * Parses a golden safetensors file of the reference.
     *
     * @param file a name under {@code golden/}, for example {@code learn_on.safetensors} (a
     *     {@code golden/} prefix is accepted too)
     * @return the tensors and metadata
     * @throws BundleException if the file is not listed or not a safetensors file; read other golden
     *     files (such as {@code stream.bin}) with {@link #bytes(String)}
     */
    public Safetensors.File golden(String file) {
        String path = Manifest.goldenPath(file);
        if (!path.endsWith(".safetensors")) {
            throw new BundleException(describe() + ": " + path + " is not a safetensors file; read it with bytes(\"" + path + "\")");
        }
        return Safetensors.read(bytes(path), join(source, path));
    }

    /**
     * The names and shapes {@code plastic.safetensors} must hold for a model of this shape.
     *
     * @param m the model shape
     * @return shapes by tensor name, in export order
     */
    static Map<String, int[]> expectedPlasticShapes(Manifest.ModelConfig m) {
        int h = m.nHeads();
        int d = m.dModel();
        int f1 = m.fastHidden();
        int f2 = m.midHidden();
        Map<String, int[]> s = new LinkedHashMap<>();
        for (int b = 0; b < m.nBlocks(); b++) {
            String p = "blocks." + b + ".";
            s.put(p + "l0.init", new int[] {h, m.memRows(), m.headDim()});
            s.put(p + "l0.b_eta", new int[] {h, Manifest.MEMORY_TYPES});
            s.put(p + "l0.b_alpha", new int[] {h, Manifest.MEMORY_TYPES});
            s.put(p + "l2.norm", new int[] {d});
            s.put(p + "l2.up", new int[] {f2, d});
            s.put(p + "l2.down", new int[] {d, f2});
            s.put(p + "l1.norm", new int[] {d});
            s.put(p + "l1.up", new int[] {f1, d});
            s.put(p + "l1.down", new int[] {d, f1});
        }
        s.put("head.norm", new int[] {d});
        s.put("head.weight", new int[] {Manifest.VOCAB, d});
        return s;
    }

    private void checkPlastic(Map<String, Tensor> tensors) {
        String origin = join(source, manifest.plastic());
        Map<String, int[]> expected = expectedPlasticShapes(manifest.model());
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new BundleException(origin + ": tensor " + e.getKey() + " is missing");
            }
            if (!t.hasShape(e.getValue())) {
                throw new BundleException(origin + ": tensor " + e.getKey() + " must have shape " + Arrays.toString(e.getValue())
                        + " (from " + MANIFEST + " model), found " + Arrays.toString(t.shape()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!expected.containsKey(name)) {
                throw new BundleException(origin + ": unexpected tensor " + name);
            }
        }
    }

    /**
     * Lower-case hex SHA-256 of {@code bytes}, as the manifest's {@code files} and other records carry it.
     *
     * @param bytes the data to digest; not null
     * @return the digest, 64 lowercase hex digits
     */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required on every Java platform", e);
        }
    }

    private static String join(BundleSource source, String file) {
        String d = source.describe();
        return d.endsWith("/") ? d + file : d + "/" + file;
    }

    @Override
    public String toString() {
        Manifest.ModelConfig m = manifest.model();
        return "Bundle[" + describe() + ", d_model=" + m.dModel() + ", blocks=" + m.nBlocks() + ", files=" + manifest.files().size() + "]";
    }
}
