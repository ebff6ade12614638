package org.hope4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hope4j.BundleException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleTest {
    static Bundle bundle;

    @TempDir
    Path dir;
    @TempDir
    Path elsewhere;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
    }

    /** Copies the default bundle, file by file, into {@code dir}. */
    static void copyDefault(Path dir) throws IOException {
        BundleSource src = BundleSource.classpath(Bundle.DEFAULT_PREFIX);
        Files.write(dir.resolve("manifest.json"), src.read("manifest.json"));
        for (String f : bundle.manifest().files().keySet()) {
            Path p = dir.resolve(f);
            Files.createDirectories(p.getParent());
            Files.write(p, src.read(f));
        }
    }

    static String message(Path dir) {
        return assertThrows(BundleException.class, () -> Bundle.load(BundleSource.directory(dir))).getMessage();
    }

    @Test
    void theDefaultBundleLoadsAndVerifies() {
        Manifest m = bundle.manifest();
        assertEquals("classpath:" + Bundle.DEFAULT_PREFIX, bundle.describe());
        for (Map.Entry<String, String> f : m.files().entrySet()) {
            assertEquals(f.getValue(), Bundle.sha256(bundle.bytes(f.getKey())), f.getKey());
        }
        Manifest.ModelConfig c = m.model();
        Map<String, Tensor> plastic = bundle.plastic();
        assertEquals(9 * c.nBlocks() + 2, plastic.size());
        int last = c.nBlocks() - 1;
        assertArrayEquals(new int[] {c.nHeads(), 3 * c.headDim() + 10, c.headDim()}, plastic.get("blocks." + last + ".l0.init").shape());
        assertArrayEquals(new int[] {c.nHeads(), 5}, plastic.get("blocks.0.l0.b_eta").shape());
        assertArrayEquals(new int[] {c.nHeads(), 5}, plastic.get("blocks.0.l0.b_alpha").shape());
        assertArrayEquals(new int[] {c.midHidden(), c.dModel()}, plastic.get("blocks." + last + ".l2.up").shape());
        assertArrayEquals(new int[] {c.dModel(), c.midHidden()}, plastic.get("blocks.0.l2.down").shape());
        assertArrayEquals(new int[] {c.fastHidden(), c.dModel()}, plastic.get("blocks.0.l1.up").shape());
        assertArrayEquals(new int[] {c.dModel(), c.fastHidden()}, plastic.get("blocks." + last + ".l1.down").shape());
        assertArrayEquals(new int[] {c.dModel()}, plastic.get("blocks.0.l1.norm").shape());
        assertArrayEquals(new int[] {c.dModel()}, plastic.get("head.norm").shape());
        assertArrayEquals(new int[] {256, c.dModel()}, plastic.get("head.weight").shape());
        assertEquals(m.golden().streamBytes(), bundle.bytes("golden/stream.bin").length);
    }

    @Test
    void plasticAndBytesAreFreshCopies() {
        Map<String, Tensor> a = bundle.plastic();
        a.get("head.norm").data()[0] = 1234f;
        assertTrue(bundle.plastic().get("head.norm").data()[0] != 1234f);
        byte[] b = bundle.bytes("embed.onnx");
        assertNotSame(b, bundle.bytes("embed.onnx"));
        b[0] ^= 1;
        assertTrue(bundle.bytes("embed.onnx")[0] != b[0]);
    }

    @Test
    void goldenFiles() {
        Safetensors.File on = bundle.golden("learn_on.safetensors");
        assertEquals(on.tensors().keySet(), bundle.golden("golden/learn_on.safetensors").tensors().keySet());
        assertArrayEquals(new int[] {bundle.manifest().golden().streamBytes(), 256}, on.tensor("logits").shape());
        assertTrue(on.tensors().containsKey("blocks.0.l1.up"));
        var e = assertThrows(BundleException.class, () -> bundle.golden("stream.bin"));
        assertEquals("classpath:org/hope4j/default-bundle/: golden/stream.bin is not a safetensors file; read it with bytes(\"golden/stream.bin\")",
                e.getMessage());
        e = assertThrows(BundleException.class, () -> bundle.golden("nothing.safetensors"));
        assertEquals("classpath:org/hope4j/default-bundle/: golden/nothing.safetensors is not a file of this bundle (not listed in manifest.json files)",
                e.getMessage());
    }

    @Test
    void aDirectoryCopyLoadsTheSame() throws IOException {
        copyDefault(dir);
        Bundle b = Bundle.load(BundleSource.directory(dir));
        assertEquals(bundle.manifest(), b.manifest());
        assertEquals(bundle.plastic(), b.plastic());
        assertEquals(dir.toAbsolutePath().normalize().toString(), b.describe());
    }

    @Test
    void aFlippedByteIsAChecksumErrorNamingTheFile() throws IOException {
        copyDefault(dir);
        String name = bundle.manifest().segment("mixer_out_" + (bundle.manifest().model().nBlocks() - 1)).file();
        Path f = dir.resolve(name);
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 0x10;
        Files.write(f, b);
        String want = bundle.manifest().files().get(name);
        assertEquals(dir.toAbsolutePath().normalize() + ": file " + name + " is corrupt: SHA-256 must be " + want
                + " (from manifest.json), found " + Bundle.sha256(b), message(dir));
    }

    @Test
    void aFlippedBitOfTheManifestIsCaughtByItsOwnChecksum() throws IOException {
        copyDefault(dir);
        BundleSource src = BundleSource.classpath(Bundle.DEFAULT_PREFIX);
        assertTrue(src.has(Bundle.MANIFEST_SHA), "the default bundle carries its manifest's checksum");
        Files.write(dir.resolve(Bundle.MANIFEST_SHA), src.read(Bundle.MANIFEST_SHA));
        Bundle.load(BundleSource.directory(dir)); // whole: loads
        // eta_max 0.0625 -> 0.0627: within every bound, so only the checksum can see it
        String m = Files.readString(dir.resolve("manifest.json"));
        assertTrue(m.contains("\"eta_max\": 0.0625"), "the fixture's eta_max");
        Files.writeString(dir.resolve("manifest.json"), m.replace("\"eta_max\": 0.0625", "\"eta_max\": 0.0627"));
        String e = message(dir);
        assertTrue(e.contains("manifest.json is corrupt: its SHA-256 must be"), e);
    }

    @Test
    void aMissingFileIsNamed() throws IOException {
        copyDefault(dir);
        Files.delete(dir.resolve("probe.txt"));
        assertEquals(dir.toAbsolutePath().normalize() + ": file probe.txt is missing", message(dir));
    }

    @Test
    void aFifoADeviceLinkOrALinkOutOfTheBundleIsRefusedWithoutReading() throws Exception {
        copyDefault(dir);
        Path probe = dir.resolve("probe.txt");
        Files.delete(probe);
        assertEquals(0, new ProcessBuilder("mkfifo", probe.toString()).start().waitFor());
        assertEquals(dir.toAbsolutePath().normalize() + ": file probe.txt is not a regular file (a FIFO, socket or device)", message(dir));
        Files.delete(probe);
        Files.createSymbolicLink(probe, Path.of("/dev/zero"));
        assertTrue(message(dir).contains("probe.txt is a symbolic link out of"), message(dir));
        Files.delete(probe);
        Path outside = Files.writeString(elsewhere.resolve("outside.txt"), "x");
        Files.createSymbolicLink(probe, outside);
        assertTrue(message(dir).contains("probe.txt is a symbolic link out of"), message(dir));
    }

    @Test
    void aFileLargerThanTheLimitIsRefusedBeforeItIsRead() throws Exception {
        Path big = dir.resolve("big.bin");
        try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), RegularFiles.MAX_BUNDLE_FILE + 10); // sparse: nothing is allocated
        }
        var e = assertThrows(BundleException.class, () -> RegularFiles.read(big, dir, RegularFiles.MAX_BUNDLE_FILE,
                (what, cause) -> new BundleException(big + " " + what, cause)));
        assertTrue(e.getMessage().contains("more than the " + RegularFiles.MAX_BUNDLE_FILE), e.getMessage());
    }

    @Test
    void goldenVectorsAreVerifiedWhenReadAndMayBeAbsent() throws IOException {
        copyDefault(dir);
        Path stream = dir.resolve("golden/stream.bin");
        byte[] good = Files.readAllBytes(stream);
        byte[] bad = good.clone();
        bad[0] ^= 1;
        Files.write(stream, bad);
        Bundle b = Bundle.load(BundleSource.directory(dir)); // the model loads without reading its golden vectors
        var e = assertThrows(BundleException.class, () -> b.bytes("golden/stream.bin"));
        assertTrue(e.getMessage().contains("golden/stream.bin is corrupt"), e.getMessage());
        Files.delete(stream);
        e = assertThrows(BundleException.class, () -> b.bytes("golden/stream.bin"));
        assertTrue(e.getMessage().contains("golden/stream.bin is missing") && e.getMessage().contains("test jar"), e.getMessage());
        Files.write(stream, good);
        assertArrayEquals(good, b.bytes("golden/stream.bin"));
    }

    @Test
    void filesReadAtAnyMomentAreKeptTheOthersAreReadAgainAndVerified() throws IOException {
        copyDefault(dir);
        Bundle b = Bundle.load(BundleSource.directory(dir));
        Map<String, Tensor> before = b.plastic();
        byte[] probe = b.probe();
        byte[] rehearsal = b.rehearsal();
        // the first caller of a file not kept takes the bytes verified at load: a change on disk since is not read
        Path embedFile = dir.resolve("embed.onnx");
        byte[] embed = Files.readAllBytes(embedFile);
        Files.write(embedFile, new byte[] {1, 2, 3});
        assertArrayEquals(embed, b.bytes("embed.onnx"));
        // kept: a sleep or a waking anchor reads these at any moment, so changing or deleting them changes nothing
        Path plastic = dir.resolve(b.manifest().plastic());
        byte[] goodPlastic = Files.readAllBytes(plastic);
        byte[] badPlastic = goodPlastic.clone();
        badPlastic[badPlastic.length - 1] ^= 1;
        Files.write(plastic, badPlastic);
        Files.delete(dir.resolve(b.manifest().probe().file()));
        Files.delete(dir.resolve(b.manifest().rehearsal().file()));
        assertArrayEquals(before.get("head.weight").data(), b.plastic().get("head.weight").data());
        assertArrayEquals(probe, b.probe());
        assertArrayEquals(rehearsal, b.rehearsal());
        // not kept (read only as a learner opens): later callers read it again, verified, so a changed file is refused
        byte[] bad = embed.clone();
        bad[bad.length / 2] ^= 1;
        Files.write(embedFile, bad);
        var e = assertThrows(BundleException.class, () -> b.bytes("embed.onnx"));
        assertTrue(e.getMessage().startsWith(dir.toAbsolutePath().normalize() + ": file embed.onnx is corrupt: SHA-256 must be "), e.getMessage());
        assertTrue(e.getMessage().endsWith("a bundle's files must stay in place, unchanged, while learners open on it)"), e.getMessage());
        Files.delete(embedFile);
        e = assertThrows(BundleException.class, () -> b.bytes("embed.onnx"));
        assertTrue(e.getMessage().contains("embed.onnx is missing") && e.getMessage().contains("must stay in place"), e.getMessage());
        Files.write(embedFile, embed);
        assertArrayEquals(embed, b.bytes("embed.onnx"));
        String prior = b.manifest().episodic().file();
        assertArrayEquals(Files.readAllBytes(dir.resolve(prior)), b.bytes(prior));
    }

    @Test
    void aMissingManifestIsNamed() throws IOException {
        assertEquals(dir.toAbsolutePath().normalize() + ": file manifest.json is missing", message(dir));
        var e = assertThrows(BundleException.class, () -> Bundle.load(BundleSource.classpath("org/hope4j/no-bundle")));
        assertEquals("classpath:org/hope4j/no-bundle/: resource org/hope4j/no-bundle/manifest.json is missing", e.getMessage());
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path nowhere = dir.resolve("nowhere");
        var e = assertThrows(BundleException.class, () -> BundleSource.directory(nowhere));
        assertEquals(nowhere + ": not a bundle directory (does not exist)", e.getMessage());
    }

    @Test
    void pathsCannotLeaveTheBundle() throws IOException {
        Files.writeString(dir.resolve("secret"), "x");
        Path inner = Files.createDirectory(dir.resolve("bundle"));
        BundleSource src = BundleSource.directory(inner);
        var e = assertThrows(BundleException.class, () -> src.read("../secret"));
        assertEquals(inner.toAbsolutePath().normalize() + ": \"../secret\" is not a plain relative path inside the bundle", e.getMessage());
        assertThrows(BundleException.class, () -> src.read(dir.resolve("secret").toString()));
    }

    @Test
    void anInvalidManifestNamesTheFileAndField() throws IOException {
        copyDefault(dir);
        Path mf = dir.resolve("manifest.json");
        JsonObject m = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        int p1 = bundle.manifest().levels().get(1).period();
        m.getAsJsonArray("levels").get(2).getAsJsonObject().addProperty("period", 2 * p1 + 1);
        Files.writeString(mf, m.toString());
        assertEquals(dir.toAbsolutePath().normalize() + "/manifest.json: levels[2].period must be a multiple of levels[1].period (" + p1
                + "), found " + (2 * p1 + 1), message(dir));
        Files.write(mf, new byte[] {'{', (byte) 0xC3, '}'});
        assertEquals(dir.toAbsolutePath().normalize() + "/manifest.json: not valid UTF-8", message(dir));
    }

    /** Rewrites plastic.safetensors with {@code tensors} and fixes its checksum in the manifest. */
    private void replacePlastic(Map<String, Tensor> tensors) throws IOException {
        Safetensors.write(dir.resolve("plastic.safetensors"), tensors, Map.of("format", "hope4j-plastic"));
        Path mf = dir.resolve("manifest.json");
        JsonObject m = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
        m.getAsJsonObject("files").addProperty("plastic.safetensors", Bundle.sha256(Files.readAllBytes(dir.resolve("plastic.safetensors"))));
        Files.writeString(mf, m.toString(), StandardCharsets.UTF_8);
    }

    @Test
    void plasticTensorsMustHaveTheManifestsShapes() throws IOException {
        copyDefault(dir);
        Map<String, Tensor> t = new LinkedHashMap<>(bundle.plastic());
        int d = bundle.manifest().model().dModel();
        t.put("head.norm", new Tensor("head.norm", new int[] {d - 1}, new float[d - 1]));
        replacePlastic(t);
        String origin = dir.toAbsolutePath().normalize() + "/plastic.safetensors";
        assertEquals(origin + ": tensor head.norm must have shape [" + d + "] (from manifest.json model), found [" + (d - 1) + "]", message(dir));

        t = new LinkedHashMap<>(bundle.plastic());
        t.remove("blocks.1.l1.up");
        replacePlastic(t);
        assertEquals(origin + ": tensor blocks.1.l1.up is missing", message(dir));

        t = new LinkedHashMap<>(bundle.plastic());
        t.put("blocks.0.l3.up", new Tensor("blocks.0.l3.up", new int[] {1}, new float[1]));
        replacePlastic(t);
        assertEquals(origin + ": unexpected tensor blocks.0.l3.up", message(dir));

        replacePlastic(bundle.plastic()); // the same tensors rewritten by Java load again
        assertEquals(bundle.plastic(), Bundle.load(BundleSource.directory(dir)).plastic());
    }

    @Test
    void bytesOfAnUnlistedFile() {
        var e = assertThrows(BundleException.class, () -> bundle.bytes("manifest.json"));
        assertEquals("classpath:org/hope4j/default-bundle/: manifest.json is not a file of this bundle (not listed in manifest.json files)",
                e.getMessage());
    }
}
