package org.hope4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.hope4j.BundleException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ManifestTest {
    static String text;

    @BeforeAll
    static void readDefault() {
        text = new String(BundleSource.classpath(Bundle.DEFAULT_PREFIX).read("manifest.json"), StandardCharsets.UTF_8);
    }

    /** A fresh copy of the fixed-number fixture, for variants. */
    static JsonObject json() {
        return ManifestFixture.json();
    }

    static JsonObject model(JsonObject m) {
        return m.getAsJsonObject("model");
    }

    static JsonObject level(JsonObject m, int i) {
        return m.getAsJsonArray("levels").get(i).getAsJsonObject();
    }

    static JsonObject segment(JsonObject m, int i) {
        return m.getAsJsonArray("segments").get(i).getAsJsonObject();
    }

    static JsonArray array(int... values) {
        return ManifestFixture.ints(values);
    }

    @Test
    void theFixtureParsesIntoRecords() {
        Manifest m = Manifest.parse(json().toString(), "manifest.json");
        assertEquals(Manifest.FORMAT, m.format());
        assertEquals(Versions.bundleFormat(), m.formatVersion());
        assertEquals(new Manifest.ModelConfig(256, 128, 4, 4, 32, 106, 4, 384, 256, 192, 1e-5, 0.0625, 1306408), m.model());
        assertEquals(List.of("L0", "L1", "L2", "L3"), m.levels().stream().map(Manifest.Level::name).toList());
        assertEquals(16, m.levels().get(0).period());
        assertNull(m.levels().get(0).learningRate());
        assertEquals(List.of(0.0009999999310821295, 0.0009999999310821295, 0.0009999999310821295, 0.0009999999310821295),
                m.levels().get(1).learningRate());
        assertNull(m.levels().get(3).period());
        assertEquals(List.of(0, 1, 2, 3), m.plasticBlocks());
        assertEquals("residual", m.teach());
        assertEquals(9, m.segments().size());
        Manifest.Segment in0 = m.segment("mixer_in_0");
        assertEquals("mixer_in_0.onnx", in0.file());
        assertEquals(new Manifest.Port("conv_state", List.of(3, 256), "float32"), in0.inputs().get(1));
        assertEquals(List.of("q", "u", "conv_state_out"), in0.outputs().stream().map(Manifest.Port::name).toList());
        assertEquals("plastic.safetensors", m.plastic());
        assertEquals(1024, m.golden().streamBytes());
        assertEquals(64L, m.golden().runs().get("learn_on").counts().get("l0"));
        assertEquals(true, m.golden().runs().get("learn_l0").learning().get("l0"));
        assertEquals(false, m.golden().runs().get("learn_l0").learning().get("l1"));
        assertEquals(1e-4, m.golden().tolerances().logitsMaxRel());
        assertEquals(List.of(1, 5, 37), m.golden().segments().lengths());
        assertEquals(15, m.files().size());
        assertEquals(Map.of(), m.training());
        assertThrows(UnsupportedOperationException.class, () -> m.files().put("x", "y"));
        assertThrows(UnsupportedOperationException.class, () -> m.levels().clear());
        var e = assertThrows(BundleException.class, () -> m.segment("head"));
        assertEquals("manifest.json has no segment \"head\"", e.getMessage());
    }

    @Test
    void theDefaultBundlesManifestParsesAndAgreesWithItsJson() {
        Manifest m = Manifest.parse(text, "manifest.json");
        JsonObject j = JsonParser.parseString(text).getAsJsonObject();
        JsonObject model = j.getAsJsonObject("model");
        assertEquals(model.get("d_model").getAsInt(), m.model().dModel());
        assertEquals(model.get("n_blocks").getAsInt(), m.model().nBlocks());
        assertEquals(model.get("mid_hidden").getAsInt(), m.model().midHidden());
        assertEquals(model.get("eta_max").getAsDouble(), m.model().etaMax());
        assertEquals(1 + 2 * m.model().nBlocks(), m.segments().size());
        assertEquals(j.getAsJsonObject("files").keySet(), m.files().keySet());
        assertEquals(level(j, 2).get("period").getAsInt(), m.levels().get(2).period());
    }

    @Test
    void unknownFieldsAreIgnoredAndTrainingMayBeAbsent() {
        JsonObject j = json();
        j.addProperty("comment", "added by a later exporter");
        j.remove("training");
        Manifest m = Manifest.parse(j.toString(), "manifest.json");
        assertEquals(Map.of(), m.training());
    }

    static Arguments bad(String expected, Consumer<JsonObject> change) {
        return Arguments.of(expected, change);
    }

    static Stream<Arguments> invalidManifests() {
        String sha = "0".repeat(64);
        return Stream.of(
                bad("format must be \"hope4j-bundle\", found \"onnx\"", m -> m.addProperty("format", "onnx")),
                bad("format_version must be 1 (the bundle format this runtime reads), found 2", m -> m.addProperty("format_version", 2)),
                bad("format_version is missing", m -> m.remove("format_version")),
                bad("format_version must be an integer, found \"1\"", m -> m.addProperty("format_version", "1")),
                bad("model is missing", m -> m.remove("model")),
                bad("model.n_heads is missing", m -> model(m).remove("n_heads")),
                bad("model.n_blocks must be an integer, found \"four\"", m -> model(m).addProperty("n_blocks", "four")),
                bad("model.n_blocks must be an integer, found 4.5", m -> model(m).addProperty("n_blocks", 4.5)),
                bad("model.d_model must be an integer, found 3000000000", m -> model(m).addProperty("d_model", 3_000_000_000L)),
                bad("model.vocab must be 256 (bytes), found 512", m -> model(m).addProperty("vocab", 512)),
                bad("model.d_model must equal model.n_heads * model.head_dim (4 * 32 = 128), found 100", m -> model(m).addProperty("d_model", 100)),
                bad("model.mem_rows must be 3 * model.head_dim + 10 (106), found 96", m -> model(m).addProperty("mem_rows", 96)),
                bad("model.fast_hidden must be positive, found 0", m -> model(m).addProperty("fast_hidden", 0)),
                bad("model.norm_eps must be a finite number > 0, found -1.0", m -> model(m).addProperty("norm_eps", -1.0)),
                bad("model.eta_max must be a finite number, found \"big\"", m -> model(m).addProperty("eta_max", "big")),
                bad("levels must list [L0, L1, L2, L3] in order, found 3 levels", m -> m.getAsJsonArray("levels").remove(3)),
                bad("levels[1].name must be \"L1\", found \"L2\"", m -> level(m, 1).addProperty("name", "L2")),
                bad("levels[0].period must be an integer in 1..1024, found null", m -> level(m, 0).add("period", JsonNull.INSTANCE)),
                bad("levels[1].period must be an integer in 1..4096, found 0", m -> level(m, 1).addProperty("period", 0)),
                bad("levels[0].period must be an integer in 1..1024, found 65536", m -> level(m, 0).addProperty("period", 65536)),
                bad("levels[2].period must be an integer in 1..1048576, found 268435456", m -> level(m, 2).addProperty("period", 1 << 28)),
                bad("model.eta_max must be a number in (0, 1.0], found 100.0", m -> model(m).addProperty("eta_max", 100)),
                bad("levels[2].learning_rate[0] must be a number in [0, 1.0], found 1.5", m -> {
                    var lr = level(m, 2).getAsJsonArray("learning_rate");
                    lr.set(0, new com.google.gson.JsonPrimitive(1.5));
                }),
                bad("levels[2].period must be a multiple of levels[1].period (64), found 100", m -> level(m, 2).addProperty("period", 100)),
                bad("levels[3].period must be null (L3 never changes on the device), found 1024", m -> level(m, 3).addProperty("period", 1024)),
                bad("levels[1].learning_rate is missing", m -> level(m, 1).remove("learning_rate")),
                bad("levels[2].learning_rate must have one rate per block (model.n_blocks = 4), found 3",
                        m -> level(m, 2).getAsJsonArray("learning_rate").remove(0)),
                bad("levels[1].learning_rate[2] must be a number in [0, 1.0], found -0.001",
                        m -> level(m, 1).getAsJsonArray("learning_rate").set(2, new JsonPrimitive(-0.001))),
                bad("levels[1].learning_rate[0] must not be null",
                        m -> level(m, 1).getAsJsonArray("learning_rate").set(0, JsonNull.INSTANCE)),
                bad("levels[0].learning_rate must be absent (L0's rate is input-dependent), found [0.1, 0.1, 0.1, 0.1]",
                        m -> level(m, 0).add("learning_rate", JsonParser.parseString("[0.1, 0.1, 0.1, 0.1]"))),
                bad("levels[1].decay[2] must be a number in [0, 1), found 1.0",
                        m -> level(m, 1).add("decay", JsonParser.parseString("[0.01, 0.01, 1.0, 0.01]"))),
                bad("levels[2].decay[0] must be a number in [0, 1), found -0.001",
                        m -> level(m, 2).add("decay", JsonParser.parseString("[-0.001, 0.01, 0.01, 0.01]"))),
                bad("levels[1].decay must have one value per block (model.n_blocks = 4), found 2",
                        m -> level(m, 1).add("decay", JsonParser.parseString("[0.01, 0.01]"))),
                bad("levels[1].decay[1] must not be null",
                        m -> level(m, 1).add("decay", JsonParser.parseString("[0.01, null, 0.01, 0.01]"))),
                bad("levels[2].decay must be an array, found 0.01", m -> level(m, 2).addProperty("decay", 0.01)),
                bad("levels[0].decay must be absent (decay to the prior is a rule of L1 and L2 only), found [0.1, 0.1, 0.1, 0.1]",
                        m -> level(m, 0).add("decay", JsonParser.parseString("[0.1, 0.1, 0.1, 0.1]"))),
                bad("levels[3].decay must be absent (decay to the prior is a rule of L1 and L2 only), found [0.1, 0.1, 0.1, 0.1]",
                        m -> level(m, 3).add("decay", JsonParser.parseString("[0.1, 0.1, 0.1, 0.1]"))),
                bad("plastic_blocks[1] must be a block in 0..3, found 4", m -> m.add("plastic_blocks", array(0, 4))),
                bad("plastic_blocks[1] repeats block 1", m -> m.add("plastic_blocks", array(1, 1))),
                bad("teach must be one of [residual], found \"exact\"", m -> m.addProperty("teach", "exact")),
                bad("segments must include \"mixer_out_3\" (model.n_blocks = 4), but it is missing", m -> m.getAsJsonArray("segments").remove(8)),
                bad("segments[9].name repeats segment \"embed\"", m -> m.getAsJsonArray("segments").add(segment(m, 0).deepCopy())),
                bad("segments[0].name must be one of [embed, mixer_in_0, mixer_out_0, mixer_in_1, mixer_out_1, mixer_in_2, mixer_out_2, "
                        + "mixer_in_3, mixer_out_3], found \"head\"", m -> segment(m, 0).addProperty("name", "head")),
                bad("segments[1] (mixer_in_0).inputs[1] must be conv_state [3, 256] float32, found conv_state [3, 128] float32",
                        m -> segment(m, 1).getAsJsonArray("inputs").get(1).getAsJsonObject().add("shape", array(3, 128))),
                bad("segments[0] (embed).inputs[0] must be tokens [-1] int64, found tokens [-1] float32",
                        m -> segment(m, 0).getAsJsonArray("inputs").get(0).getAsJsonObject().addProperty("type", "float32")),
                bad("segments[2] (mixer_out_0).outputs must be [x2 [-1, 128] float32], found []",
                        m -> segment(m, 2).add("outputs", new JsonArray())),
                bad("segments[3].outputs[0].shape[1] must be an integer, found \"d\"",
                        m -> segment(m, 3).getAsJsonArray("outputs").get(0).getAsJsonObject().getAsJsonArray("shape").set(1, new JsonPrimitive("d"))),
                bad("segments[0] (embed).file names \"embed.onnx\", which is not listed in files", m -> m.getAsJsonObject("files").remove("embed.onnx")),
                bad("plastic names \"weights.safetensors\", which is not listed in files", m -> m.addProperty("plastic", "weights.safetensors")),
                bad("golden.runs[\"learn_on\"].file names \"golden/other.safetensors\", which is not listed in files",
                        m -> m.getAsJsonObject("golden").getAsJsonObject("runs").getAsJsonObject("learn_on").addProperty("file", "other.safetensors")),
                bad("golden.stream names \"golden/stream.txt\", which is not listed in files",
                        m -> m.getAsJsonObject("golden").addProperty("stream", "stream.txt")),
                bad("golden.tolerances.weights_max_rel must be a finite number > 0, found 0.0",
                        m -> m.getAsJsonObject("golden").getAsJsonObject("tolerances").addProperty("weights_max_rel", 0)),
                bad("golden.runs[\"learn_off\"].counts[\"l1\"] must be an integer, found 0.5",
                        m -> m.getAsJsonObject("golden").getAsJsonObject("runs").getAsJsonObject("learn_off").getAsJsonObject("counts")
                                .addProperty("l1", 0.5)),
                bad("files[\"embed.onnx\"] must be a SHA-256 of 64 hex digits, found \"abc\"", m -> m.getAsJsonObject("files").addProperty("embed.onnx", "abc")),
                bad("files[\"../evil.onnx\"]: the name must be a plain relative path inside the bundle (no \"..\", \".\", \"\\\", leading \"/\")",
                        m -> m.getAsJsonObject("files").addProperty("../evil.onnx", sha)),
                bad("files[\"manifest.json\"]: the manifest cannot list its own checksum", m -> m.getAsJsonObject("files").addProperty("manifest.json", sha)),
                bad("files[\"x\"] must be a string, found 1", m -> m.getAsJsonObject("files").addProperty("x", 1)),
                bad("probe.file names \"probe.txt\", which is not listed in files",
                        m -> m.add("probe", JsonParser.parseString("{\"file\": \"probe.txt\", \"bytes\": 4096, \"source\": \"x\"}"))),
                bad("rehearsal.bytes must be >= 2, found 0", m -> {
                    m.getAsJsonObject("files").addProperty("rehearsal.txt", sha);
                    m.add("rehearsal", JsonParser.parseString("{\"file\": \"rehearsal.txt\", \"bytes\": 0, \"source\": \"x\"}"));
                }),
                bad("probe.bytes is missing", m -> m.add("probe", JsonParser.parseString("{\"file\": \"probe.txt\", \"source\": \"x\"}"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void invalidFieldsAreNamed(String expected, Consumer<JsonObject> change) {
        JsonObject m = json();
        change.accept(m);
        BundleException e = assertThrows(BundleException.class, () -> Manifest.parse(m.toString(), "manifest.json"));
        assertEquals("manifest.json: " + expected, e.getMessage());
    }

    @Test
    void decayToThePriorIsOptionalPerLevel() {
        Manifest plain = Manifest.parse(json().toString(), "manifest.json");
        for (Manifest.Level l : plain.levels()) {
            assertNull(l.decay(), l.name());
        }
        assertEquals(0.0, plain.levels().get(1).decayOf(3));
        JsonObject m = json();
        level(m, 1).add("decay", JsonParser.parseString("[0.0, 0.05, 0.5, 0.999]"));
        level(m, 2).add("decay", JsonParser.parseString("[0.01, 0.02, 0.03, 0.04]"));
        Manifest d = Manifest.parse(m.toString(), "manifest.json");
        assertEquals(List.of(0.0, 0.05, 0.5, 0.999), d.levels().get(1).decay());
        assertEquals(0.03, d.levels().get(2).decayOf(2));
        assertNull(d.levels().get(0).decay());
        assertThrows(UnsupportedOperationException.class, () -> d.levels().get(1).decay().set(0, 0.5));
    }

    @Test
    void malformedJson() {
        String cut = text.substring(0, text.length() / 2);
        BundleException e = assertThrows(BundleException.class, () -> Manifest.parse(cut, "/b/manifest.json"));
        assertTrue(e.getMessage().startsWith("/b/manifest.json: not valid JSON: "), e.getMessage());
        String dup = json().toString().replaceFirst("\"teach\":\"residual\"", "\"teach\":\"residual\",\"teach\":\"exact\"");
        e = assertThrows(BundleException.class, () -> Manifest.parse(dup, "manifest.json"));
        assertEquals("manifest.json: not valid JSON: duplicate name \"teach\" at $.teach", e.getMessage());
        e = assertThrows(BundleException.class, () -> Manifest.parse("[]", "manifest.json"));
        assertTrue(e.getMessage().startsWith("manifest.json: not valid JSON: expected an object"), e.getMessage());
    }

    @Test
    void plainRelativePaths() {
        assertTrue(Manifest.isPlainRelativePath("golden/stream.bin"));
        for (String bad : new String[] {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "C:x", "a\\b", "a\nb"}) {
            assertEquals(false, Manifest.isPlainRelativePath(bad), bad);
        }
    }
}
