package org.hope4j.tests;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.hope4j.EpisodicFiles;
import org.hope4j.FuzzTest;
import org.hope4j.Hope;
import org.hope4j.HopeException;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Sampling;
import org.hope4j.Score;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.state.StateStore;

/**
 * Child process of {@link MutationIT} (issue 17, R2): loads mutated bundles or restores mutated states,
 * one case after another, and prints one line per case. A case is reproducible from its seed and index
 * ({@link #mutate}); half of the cases recompute every checksum the mutation broke (the file's SHA-256 in
 * the manifest and {@code manifest.sha256}; a state's {@code data_sha256}, {@code episodic_sha256} and
 * {@code metadata_sha256}), so the mutation reaches the validation behind the checksums.
 *
 * <p>Lines: {@code BEGIN i what} before a case, then {@code CASE i loaded|refused|FAIL detail}. A case
 * passes when the bundle or state loads and then learns, scores and generates finite figures, or when
 * it is refused with a {@link HopeException} whose message names the file; a refused restore must leave
 * the learner exactly as it was (same position, same score of a fixed text). Anything else -- another
 * exception, an out-of-memory error, a crash or a hang (the parent sees those) -- is a failure.
 *
 * <p>Usage: {@code prepare DIR} writes {@code DIR/bundle} (the default bundle as files) and {@code DIR/state}
 * (a learner's saved state); {@code bundle|state DIR SEED FROM TO} runs cases {@code FROM..TO-1}.
 */
public final class MutationWorker {
    static final String TEXT = "The user's notes of Tuesday: call the bank at 10:30, then write to Ada about the report. ";
    static final byte[] PROBE = "A fixed text whose score shows whether anything changed.".getBytes(StandardCharsets.UTF_8);
    private static final String[] ABSURD = {"0", "-1", "1e308", "-1e308", "1e-320", "2147483648", "-2147483649", "9223372036854775807",
        "65536", "1048576", "268435456", "1.5", "100", "NaN", "Infinity", "1e400", "0.0000001", "\"\"", "\"L9\"", "\"abc\"", "null", "true",
        "[]", "{}", "[1,2,3]", "\"" + "x".repeat(5000) + "\""};
    private static final String[] ABSURD_META = {"", "-1", "0", "1e308", "NaN", "Infinity", "L9", "abc", "2147483648", "9223372036854775807",
        "[]", "{}", "null", "L0,L9", "L0,L0", "-0", "1.5", "x".repeat(100_000)};
    private static final float[] ABSURD_FLOAT = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -1e30f, 3e38f, 1e-45f, 0f};

    private MutationWorker() {
    }

    static LearnerOptions options() {
        return LearnerOptions.defaults().withBackend("cpu");
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Path dir = Path.of(args[1]);
        if (args[0].equals("prepare")) {
            prepare(dir);
            out.println("PREPARED");
            return;
        }
        boolean bundle = args[0].equals("bundle");
        long seed = Long.parseLong(args[2]);
        int from = Integer.parseInt(args[3]);
        int to = Integer.parseInt(args[4]);
        Path scratch = Files.createTempDirectory(dir, "cases");
        Learner learner = bundle ? null : Hope.loadDefault(options());
        double probe = Double.NaN;
        Path base = dir.resolve(bundle ? "bundle" : "state");
        if (!bundle) {
            learner.restore(base);
            probe = learner.score(PROBE).bits();
        }
        for (int i = from; i < to; i++) {
            Path d = scratch.resolve("case-" + i);
            String what;
            try {
                what = mutate(base, d, seed, i, bundle);
            } catch (Exception e) {
                out.println("CASE " + i + " FAIL the harness could not build the case: " + e);
                continue;
            }
            out.println("BEGIN " + i + " " + what);
            out.println("CASE " + i + " " + (bundle ? runBundle(d, what) : runState(learner, base, d, what, probe)));
            deleteTree(d);
        }
        if (learner != null) {
            learner.close();
        }
        deleteTree(scratch);
    }

    /** Loads a mutated bundle; a learner it opens must learn, score and generate finite figures. */
    static String runBundle(Path d, String what) {
        try (Learner l = Hope.load(d, options())) {
            Score o = l.observe(TEXT.repeat(3));
            Score s = l.score(TEXT);
            l.generate("The ", 8, Sampling.greedy());
            if (!Double.isFinite(o.bits()) || !Double.isFinite(s.bits())) {
                return "FAIL loaded but scored " + o.bits() + " / " + s.bits();
            }
            return "loaded";
        } catch (HopeException e) {
            return refusal(e, what);
        } catch (Throwable t) {
            return "FAIL " + describe(t);
        }
    }

    /** Restores a mutated state; a refused one must change nothing, a restored one must work. */
    static String runState(Learner l, Path base, Path d, String what, double probe) {
        long position = l.position();
        try {
            l.restore(d);
        } catch (HopeException e) {
            try {
                if (l.position() != position || l.score(PROBE).bits() != probe) {
                    return "FAIL a refused restore changed the learner: " + e.getMessage();
                }
            } catch (Throwable t) {
                return "FAIL the learner fails after a refused restore: " + describe(t);
            }
            return refusal(e, what);
        } catch (Throwable t) {
            return "FAIL " + describe(t);
        }
        try {
            Score o = l.observe(TEXT);
            Score s = l.score(TEXT);
            l.generate("The ", 8, Sampling.greedy());
            l.restore(base);
            if (!Double.isFinite(o.bits()) || !Double.isFinite(s.bits())) {
                return "FAIL restored but scored " + o.bits() + " / " + s.bits();
            }
            return "loaded";
        } catch (Throwable t) {
            try {
                l.restore(base); // the next case starts from the base state again
            } catch (Throwable ignored) {
                // reported below; the next case will show it too
            }
            return "FAIL restored but then: " + describe(t);
        }
    }

    /** A refusal passes when it has a one-line message that names the file or the folder it came from. */
    static String refusal(HopeException e, String what) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return "FAIL a refusal without a message: " + e.getClass().getName();
        }
        String file = what.contains(" ") ? what.substring(0, what.indexOf(' ')) : what;
        // a swap changes two files: naming either is right
        String other = what.contains(" swapped with ") ? what.split(" swapped with ")[1].split(",")[0] : file;
        if (!m.contains(file) && !m.contains(Path.of(file).getFileName().toString()) && !m.contains(other)) {
            return "FAIL the refusal does not name " + file + ": " + e.getClass().getSimpleName() + ": " + m;
        }
        return "refused " + e.getClass().getSimpleName() + ": " + m.replace('\n', ' ');
    }

    static String describe(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return t + (st.length > 0 ? " at " + st[0] : "");
    }

    /** Writes the default bundle as a folder and a learner's state (E, anchor and experience included). */
    static void prepare(Path dir) throws IOException {
        Path b = dir.resolve("bundle");
        Files.createDirectories(b);
        BundleSource src = BundleSource.classpath(Bundle.DEFAULT_PREFIX);
        JsonObject files = JsonParser.parseString(new String(src.read(Bundle.MANIFEST), StandardCharsets.UTF_8))
                .getAsJsonObject().getAsJsonObject("files");
        List<String> names = new ArrayList<>(files.keySet());
        names.add(Bundle.MANIFEST);
        names.add(Bundle.MANIFEST_SHA);
        for (String n : names) {
            if (n.startsWith(Bundle.GOLDEN)) {
                continue; // read only by the parity tests, never by a load
            }
            Files.createDirectories(b.resolve(n).getParent());
            Files.write(b.resolve(n), src.read(n));
        }
        try (Learner l = Hope.load(b, options())) {
            l.observe(TEXT.repeat(40));
            l.save(dir.resolve("state"));
        }
        Files.deleteIfExists(dir.resolve("state").resolve(".lock"));
    }

    /**
     * Builds case {@code i} in {@code d}: a copy of {@code base} (hard links, the mutated file written
     * anew) with one mutation. Returns the mutated file's path and what was done to it.
     */
    static String mutate(Path base, Path d, long seed, int i, boolean bundle) throws Exception {
        Random r = new Random(seed * 1_000_003L + i);
        boolean recompute = i % 2 == 0;
        copyTree(base, d);
        List<String> candidates = new ArrayList<>();
        try (Stream<Path> s = Files.walk(d)) {
            s.filter(Files::isRegularFile).map(p -> d.relativize(p).toString()).filter(n -> !n.startsWith("golden/")).sorted().forEach(candidates::add);
        }
        int kind = r.nextInt(bundle ? 11 : 9);
        String main = bundle ? Bundle.MANIFEST : "learner.state";
        String name = kind >= 5 && kind <= 7 ? (bundle ? (kind == 5 ? main : "plastic.safetensors") : main) : candidates.get(r.nextInt(candidates.size()));
        if (bundle && kind == 10) {
            name = "episodic.json";
        }
        Path f = d.resolve(name);
        String what;
        boolean signed = false;
        switch (kind) {
            case 0, 1, 2, 3, 4 -> {
                what = "bytes kind " + kind;
                if (recompute && !bundle && name.equals("experience.bin")) {
                    experienceBody(f, kind, r);
                    what = "experience bytes kind " + kind;
                    signed = true;
                } else if (recompute && !bundle && name.startsWith("episodic-")) {
                    name = episodicBody(d, f, kind, r);
                    f = d.resolve(name);
                    what = "episodic tables (inflated) bytes kind " + kind;
                    signed = true;
                } else {
                    replace(f, bytes(f, kind, r));
                }
            }
            case 5 -> what = bundle ? editJson(f, r) : editMetadata(f, r);
            case 6 -> what = editTensorValues(f, r);
            case 7 -> what = editTensorLayout(f, r);
            case 8 -> {
                what = fileSystem(f, r);
                return f + " " + what;
            }
            case 9 -> {
                String a = "mixer_in_" + r.nextInt(4) + ".onnx";
                String b = "mixer_out_" + r.nextInt(4) + ".onnx";
                byte[] x = Files.readAllBytes(d.resolve(a));
                byte[] y = Files.readAllBytes(d.resolve(b));
                replace(d.resolve(a), y);
                replace(d.resolve(b), x);
                boolean both = recompute && resign(d, a) && resign(d, b);
                return d.resolve(a) + " swapped with " + b + (both ? ", checksums recomputed" : "");
            }
            default -> what = editJson(f, r);
        }
        if (recompute) {
            signed |= bundle ? resign(d, name) : resignState(d, name);
        }
        return f + " " + what + (signed ? ", checksums recomputed" : "");
    }

    /** The experience file's data mutated, its length field and CRC-32C written to match. */
    static void experienceBody(Path f, int kind, Random r) throws IOException {
        byte[] raw = Files.readAllBytes(f);
        int header = 20;
        byte[] data = new FuzzTest.Mutation(kind, r.nextLong()).apply(Arrays.copyOfRange(raw, header, Math.max(header + 1, raw.length)));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(data);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(header + data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(raw, 0, 12).putInt(data.length).putInt((int) crc.getValue()).put(data);
        replace(f, b.array());
    }

    /**
     * E's tables mutated behind their checksums: the file's deflated body inflated, mutated, deflated
     * again under a new digest and name, which the learner's state then records (its metadata re-signed).
     * Returns the new file name.
     */
    static String episodicBody(Path d, Path f, int kind, Random r) throws Exception {
        long seed = r.nextLong();
        return EpisodicFiles.reseal(d, f, body -> new FuzzTest.Mutation(kind, seed).apply(body)).getFileName().toString();
    }

    private static byte[] bytes(Path f, int kind, Random r) throws IOException {
        byte[] b = Files.readAllBytes(f);
        if (b.length == 0) {
            return new byte[] {1};
        }
        return new FuzzTest.Mutation(kind, r.nextLong()).apply(b);
    }

    /** One leaf or key of a JSON file replaced by an absurd value, removed, or an unknown key added. */
    static String editJson(Path f, Random r) throws IOException {
        JsonElement root = JsonParser.parseString(Files.readString(f));
        List<Object[]> slots = new ArrayList<>(); // {container, key or index}
        collect(root, slots);
        Object[] slot = slots.get(r.nextInt(slots.size()));
        String value = ABSURD[r.nextInt(ABSURD.length)];
        JsonElement v = value.equals("NaN") || value.equals("Infinity") || value.equals("1e400") ? new JsonPrimitive(value) : JsonParser.parseString(value);
        int op = r.nextInt(10);
        String what;
        if (slot[0] instanceof JsonObject o) {
            String key = (String) slot[1];
            if (op == 0) {
                o.remove(key);
                what = "removed " + key;
            } else if (op == 1) {
                o.add("unknown_" + r.nextInt(100), v);
                what = "an unknown key beside " + key;
            } else {
                o.add(key, v);
                what = key + "=" + abbreviate(value);
            }
        } else {
            JsonArray a = (JsonArray) slot[0];
            int k = (Integer) slot[1];
            if (op == 0) {
                a.remove(k);
                what = "element " + k + " removed";
            } else if (op == 1) {
                a.add(v);
                what = "an element added";
            } else {
                a.set(k, v);
                what = "element " + k + "=" + abbreviate(value);
            }
        }
        Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();
        replace(f, gson.toJson(root).getBytes(StandardCharsets.UTF_8));
        return "json " + what;
    }

    private static void collect(JsonElement e, List<Object[]> slots) {
        if (e instanceof JsonObject o) {
            for (String k : o.keySet()) {
                slots.add(new Object[] {o, k});
                collect(o.get(k), slots);
            }
        } else if (e instanceof JsonArray a) {
            for (int k = 0; k < a.size(); k++) {
                slots.add(new Object[] {a, k});
                collect(a.get(k), slots);
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 20 ? s.substring(0, 12) + "...(" + s.length() + ")" : s;
    }

    /** A state's metadata field replaced by an absurd value, removed, or an unknown one added. */
    static String editMetadata(Path f, Random r) throws IOException {
        Safetensors.File sf = Safetensors.read(f);
        Map<String, String> meta = new LinkedHashMap<>(sf.metadata());
        List<String> keys = new ArrayList<>(meta.keySet());
        String key = keys.get(r.nextInt(keys.size()));
        String value = ABSURD_META[r.nextInt(ABSURD_META.length)];
        String what;
        switch (r.nextInt(8)) {
            case 0 -> {
                meta.remove(key);
                what = "removed " + key;
            }
            case 1 -> {
                meta.put("unknown_" + r.nextInt(100), value);
                what = "an unknown field";
            }
            default -> {
                meta.put(key, value);
                what = key + "=" + abbreviate(value);
            }
        }
        replace(f, Safetensors.toBytes(sf.tensors(), meta));
        return "metadata " + what;
    }

    /** Some values of one tensor made NaN, infinite, huge or tiny. */
    static String editTensorValues(Path f, Random r) throws IOException {
        Safetensors.File sf = Safetensors.read(f);
        Map<String, Tensor> t = new LinkedHashMap<>(sf.tensors());
        List<String> names = new ArrayList<>(t.keySet());
        String name = names.get(r.nextInt(names.size()));
        Tensor old = t.get(name);
        float[] data = old.data().clone();
        float v = ABSURD_FLOAT[r.nextInt(ABSURD_FLOAT.length)];
        int n = r.nextBoolean() ? 1 : data.length;
        for (int k = 0; k < n && data.length > 0; k++) {
            data[n == 1 ? r.nextInt(data.length) : k] = v;
        }
        t.put(name, new Tensor(name, old.shape(), data));
        replace(f, Safetensors.toBytes(t, sf.metadata()));
        return "tensor " + name + (n == 1 ? " one value " : " every value ") + v;
    }

    /** One tensor renamed, dropped, duplicated under another name, or reshaped with the same size. */
    static String editTensorLayout(Path f, Random r) throws IOException {
        Safetensors.File sf = Safetensors.read(f);
        Map<String, Tensor> t = new LinkedHashMap<>(sf.tensors());
        List<String> names = new ArrayList<>(t.keySet());
        String name = names.get(r.nextInt(names.size()));
        Tensor old = t.get(name);
        String what;
        switch (r.nextInt(4)) {
            case 0 -> {
                t.remove(name);
                t.put(name + "x", new Tensor(name + "x", old.shape(), old.data()));
                what = "renamed " + name;
            }
            case 1 -> {
                t.remove(name);
                what = "dropped " + name;
            }
            case 2 -> {
                t.put("extra." + name, new Tensor("extra." + name, old.shape(), old.data()));
                what = "an extra tensor like " + name;
            }
            default -> {
                int[] s = old.shape();
                int[] shape = s.length >= 2 ? new int[] {s[1], s[0]} : new int[] {1, old.data().length};
                if (s.length > 2) {
                    shape = new int[] {old.data().length};
                }
                t.put(name, new Tensor(name, shape, old.data()));
                what = "reshaped " + name + " " + Arrays.toString(s) + " -> " + Arrays.toString(shape);
            }
        }
        replace(f, Safetensors.toBytes(t, sf.metadata()));
        return "tensors " + what;
    }

    /** The file replaced by something that is not a small regular file in the folder. */
    static String fileSystem(Path f, Random r) throws Exception {
        Files.delete(f);
        switch (r.nextInt(7)) {
            case 0 -> {
                return "deleted";
            }
            case 1 -> {
                Files.createDirectory(f);
                return "a folder";
            }
            case 2 -> {
                Files.createSymbolicLink(f, Path.of("/dev/zero"));
                return "a link to /dev/zero";
            }
            case 3 -> {
                Files.createSymbolicLink(f, Path.of("/etc/hostname"));
                return "a link out of the folder";
            }
            case 4 -> {
                Process p = new ProcessBuilder("mkfifo", f.toString()).start();
                if (p.waitFor() != 0) {
                    throw new IOException("mkfifo failed");
                }
                return "a FIFO";
            }
            case 5 -> {
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.setLength(3L << 30);
                }
                return "a sparse 3 GB file";
            }
            default -> {
                Files.createFile(f);
                return "empty";
            }
        }
    }

    /**
     * Recomputes a bundle file's SHA-256 in the manifest (its own entry only) and the manifest's own
     * checksum. Returns false when there is nothing to sign ({@code manifest.sha256} itself, or a
     * manifest that no longer parses).
     */
    static boolean resign(Path d, String name) throws Exception {
        Path m = d.resolve(Bundle.MANIFEST);
        if (name.equals(Bundle.MANIFEST_SHA)) {
            return false;
        }
        if (!name.equals(Bundle.MANIFEST)) {
            String text = Files.readString(m);
            String old;
            try {
                old = JsonParser.parseString(text).getAsJsonObject().getAsJsonObject("files").get(name).getAsString();
            } catch (RuntimeException e) {
                return false;
            }
            java.util.regex.Matcher e = java.util.regex.Pattern.compile("(\"" + java.util.regex.Pattern.quote(name) + "\"\\s*:\\s*\")"
                    + old + "\"").matcher(text);
            if (!e.find()) {
                return false;
            }
            String updated = text.substring(0, e.start()) + e.group(1) + sha(Files.readAllBytes(d.resolve(name))) + "\"" + text.substring(e.end());
            replace(m, updated.getBytes(StandardCharsets.UTF_8));
        }
        replace(d.resolve(Bundle.MANIFEST_SHA), (sha(Files.readAllBytes(m)) + "\n").getBytes(StandardCharsets.UTF_8));
        return true;
    }

    /**
     * Recomputes a state's checksums after {@code learner.state} changed: the tensors' and the
     * metadata's. Returns false for other files (the experience file and E's tables are re-signed
     * where they are mutated) or a state file that no longer parses.
     */
    static boolean resignState(Path d, String name) throws Exception {
        if (!name.equals("learner.state")) {
            return false;
        }
        Path f = d.resolve(name);
        Safetensors.File sf;
        try {
            sf = Safetensors.read(f);
        } catch (HopeException e) {
            return false;
        }
        Map<String, String> meta = new LinkedHashMap<>(sf.metadata());
        meta.put("data_sha256", StateStore.dataSha(sf.tensors()));
        meta.put("metadata_sha256", StateStore.metaSha(meta));
        replace(f, Safetensors.toBytes(sf.tensors(), meta));
        return true;
    }

    static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Writes a file anew (not through a hard link shared with the base copy). */
    static void replace(Path f, byte[] b) throws IOException {
        Files.delete(f);
        Files.write(f, b);
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.createLink(q, p);
                }
            }
        }
    }

    static void deleteTree(Path d) {
        if (!Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
