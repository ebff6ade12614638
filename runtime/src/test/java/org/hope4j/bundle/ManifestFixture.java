package org.hope4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.List;

/**
 * A valid format-1 manifest with fixed numbers (independent of the default bundle, which is
 * re-exported as the model changes), shaped exactly like {@code write_bundle} in
 * {@code model-export/hope_export/export.py} writes it: D = 128, 4 blocks of 4 heads of 32, conv
 * width 4, periods 16 / 64 / 256. Checksums are dummies: it is for {@link Manifest#parse} only.
 */
final class ManifestFixture {
    static final int D = 128;
    static final int BLOCKS = 4;

    private ManifestFixture() {
    }

    static JsonObject json() {
        JsonObject m = new JsonObject();
        m.addProperty("format", "hope4j-bundle");
        m.addProperty("format_version", 1);
        JsonObject model = new JsonObject();
        model.addProperty("vocab", 256);
        model.addProperty("d_model", D);
        model.addProperty("n_blocks", BLOCKS);
        model.addProperty("n_heads", 4);
        model.addProperty("head_dim", 32);
        model.addProperty("mem_rows", 106);
        model.addProperty("conv_width", 4);
        model.addProperty("slow_hidden", 384);
        model.addProperty("mid_hidden", 256);
        model.addProperty("fast_hidden", 192);
        model.addProperty("norm_eps", 1e-05);
        model.addProperty("eta_max", 0.0625);
        model.addProperty("parameters", 1306408);
        m.add("model", model);

        JsonArray levels = new JsonArray();
        levels.add(level("L0", "self-modifying Titans memories", 16, null));
        levels.add(level("L1", "fast CMS MLP", 64, 0.0009999999310821295));
        levels.add(level("L2", "mid CMS MLP", 256, 0.00030000010156072676));
        levels.add(level("L3", "frozen: embeddings, mixer projections, slow CMS MLP, head", null, null));
        m.add("levels", levels);
        m.add("plastic_blocks", ints(0, 1, 2, 3));
        m.addProperty("teach", "residual");

        JsonObject files = new JsonObject();
        JsonArray segments = new JsonArray();
        segments.add(segment("embed", List.of(port("tokens", "int64", -1)), List.of(port("x", "float32", -1, D))));
        for (int b = 0; b < BLOCKS; b++) {
            segments.add(segment("mixer_in_" + b,
                    List.of(port("x", "float32", -1, D), port("conv_state", "float32", 3, 2 * D)),
                    List.of(port("q", "float32", -1, D), port("u", "float32", -1, D), port("conv_state_out", "float32", 3, 2 * D))));
            segments.add(segment("mixer_out_" + b,
                    List.of(port("x", "float32", -1, D), port("o", "float32", -1, D)),
                    List.of(port("x2", "float32", -1, D))));
        }
        for (var s : segments) {
            files.addProperty(s.getAsJsonObject().get("file").getAsString(), sha(files.size()));
        }
        m.add("segments", segments);
        m.addProperty("plastic", "plastic.safetensors");
        files.addProperty("plastic.safetensors", sha(files.size()));

        JsonObject golden = new JsonObject();
        golden.addProperty("stream", "stream.bin");
        golden.addProperty("stream_bytes", 1024);
        JsonObject runs = new JsonObject();
        runs.add("learn_on", run("learn_on.safetensors", true, true, true, 64, 15, 3));
        runs.add("learn_off", run("learn_off.safetensors", false, false, false, 0, 0, 0));
        runs.add("learn_l0", run("learn_l0.safetensors", true, false, false, 64, 0, 0));
        golden.add("runs", runs);
        JsonObject seg = new JsonObject();
        seg.addProperty("file", "segments.safetensors");
        seg.add("lengths", ints(1, 5, 37));
        golden.add("segments", seg);
        JsonObject tol = new JsonObject();
        tol.addProperty("logits_max_rel", 1e-4);
        tol.addProperty("weights_max_rel", 1e-3);
        tol.addProperty("segments_max_abs", 1e-4);
        tol.addProperty("definition", "max |actual - expected| / max(1, max |expected|) over the tensor");
        golden.add("tolerances", tol);
        m.add("golden", golden);
        for (String f : List.of("stream.bin", "learn_on.safetensors", "learn_off.safetensors", "learn_l0.safetensors", "segments.safetensors")) {
            files.addProperty("golden/" + f, sha(files.size()));
        }
        m.add("training", new JsonObject());
        m.add("files", files);
        return m;
    }

    private static String sha(int i) {
        return String.format("%064x", 0xabcdef00L + i);
    }

    private static JsonObject level(String name, String what, Integer period, Double rate) {
        JsonObject l = new JsonObject();
        l.addProperty("name", name);
        l.addProperty("what", what);
        if (period == null) {
            l.add("period", JsonNull.INSTANCE);
        } else {
            l.addProperty("period", period);
        }
        if (rate != null) {
            JsonArray r = new JsonArray();
            for (int b = 0; b < BLOCKS; b++) {
                r.add(rate);
            }
            l.add("learning_rate", r);
        }
        return l;
    }

    static JsonArray ints(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    private static JsonObject port(String name, String type, int... shape) {
        JsonObject p = new JsonObject();
        p.addProperty("name", name);
        p.add("shape", ints(shape));
        p.addProperty("type", type);
        return p;
    }

    private static JsonObject segment(String name, List<JsonObject> inputs, List<JsonObject> outputs) {
        JsonObject s = new JsonObject();
        s.addProperty("name", name);
        s.addProperty("file", name + ".onnx");
        JsonArray in = new JsonArray();
        inputs.forEach(in::add);
        JsonArray out = new JsonArray();
        outputs.forEach(out::add);
        s.add("inputs", in);
        s.add("outputs", out);
        return s;
    }

    private static JsonObject run(String file, boolean l0, boolean l1, boolean l2, int c0, int c1, int c2) {
        JsonObject r = new JsonObject();
        r.addProperty("file", file);
        JsonObject learning = new JsonObject();
        learning.addProperty("l0", l0);
        learning.addProperty("l1", l1);
        learning.addProperty("l2", l2);
        r.add("learning", learning);
        JsonObject counts = new JsonObject();
        counts.addProperty("l0", c0);
        counts.addProperty("l1", c1);
        counts.addProperty("l2", c2);
        r.add("counts", counts);
        return r;
    }
}
