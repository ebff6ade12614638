package org.hope4j.engine.cuda;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backend;
import org.hope4j.engine.Backends;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.Streams;

/**
 * Learning throughput of the CUDA engine against the CPU engine on the default model, written as one
 * JSON file. Two measures: the whole learner ({@code observe}, ONNX Runtime's frozen segments
 * included, as a user sees it) and the engine alone (the level calls of the same schedule on
 * synthetic inputs: L0 with learning, both CMS levels, the head, the error signal and the Eq. 71
 * steps), which is the part this module moves to the GPU. The goal is an engine speed-up of 10x.
 *
 * <pre>java -cp hope4j.jar org.hope4j.engine.cuda.CudaBench cuda-bench.json [KiB]</pre>
 */
public final class CudaBench {
    private CudaBench() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "cuda-bench.json");
        int kib = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Bundle bundle = Bundle.loadDefault();
        byte[] base = bundle.rehearsal(); // training-split prose shipped in the bundle (its golden vectors are not in the runtime jar)
        byte[] text = new byte[kib * 1024];
        for (int i = 0; i < text.length; i++) {
            text[i] = base[i % base.length];
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", "default bundle, " + bundle.manifest().model().parameters() + " parameters");
        report.put("bytes", text.length);
        Map<String, Object> learner = new LinkedHashMap<>();
        Map<String, Object> engine = new LinkedHashMap<>();
        EngineSpec spec = null;
        for (String backend : new String[] {"cpu", "cuda"}) {
            try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend(backend))) {
                spec = Streams.of(l).engine().spec();
                l.observe(java.util.Arrays.copyOf(text, Math.min(text.length, 2048))); // warm-up
                long t0 = System.nanoTime();
                l.observe(text);
                double s = (System.nanoTime() - t0) / 1e9;
                learner.put(backend, Map.of("bytes_per_s", text.length / s, "seconds", s, "description", l.backendInfo().description()));
            }
        }
        Map<String, Tensor> plastic = bundle.plastic();
        for (String backend : new String[] {"cpu", "cuda"}) {
            Backend b = Backends.select(backend).backend();
            try (Engine e = b.open(spec, plastic)) {
                runEngine(e, spec, 2048); // warm-up
                long t0 = System.nanoTime();
                runEngine(e, spec, text.length);
                double s = (System.nanoTime() - t0) / 1e9;
                engine.put(backend, Map.of("bytes_per_s", text.length / s, "seconds", s, "description", b.describe()));
            }
        }
        report.put("learner", learner);
        report.put("learner_speedup", rate(learner, "cuda") / rate(learner, "cpu"));
        report.put("engine", engine);
        report.put("engine_speedup", rate(engine, "cuda") / rate(engine, "cpu"));
        report.put("goal_engine_speedup", 10);
        try (CudaEngine e = new CudaEngine(spec, plastic, 0)) {
            SpanInputs in = new SpanInputs(spec);
            span(e, spec, 0, in); // the first span holds no position and takes no step
            long[] before = e.costs();
            span(e, spec, spec.c2(), in); // a span whose step moves both levels
            long[] after = e.costs();
            report.put("per_span", Map.of("launches", after[0] - before[0], "host_copies", after[1] - before[1],
                    "synchronisations", after[2] - before[2], "goal_launches", 15, "goal_host_copies", 2,
                    "what", "level calls, the mixers on the host"));
        }
        try (CudaEngine e = new CudaEngine(spec, plastic, 0);
             FrozenGraphs graphs = new FrozenGraphs(bundle, FrozenGraphs.Options.defaults(), spec.maxSpan())) {
            e.attachMixers(graphs);
            SpanInputs in = new SpanInputs(spec);
            wholeSpan(e, spec, 0, in);
            long[] before = e.costs();
            wholeSpan(e, spec, spec.c2(), in);
            long[] after = e.costs();
            report.put("per_whole_span", Map.of("launches", after[0] - before[0], "host_copies", after[1] - before[1],
                    "synchronisations", after[2] - before[2], "goal_launches", 15, "goal_host_copies", 2,
                    "what", "a whole span on the GPU: embedding and mixers fused into the level kernels"));
        }
        String json = new GsonBuilder().setPrettyPrinting().create().toJson(report);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, json + "\n", StandardCharsets.UTF_8);
        System.out.println(json);
    }

    @SuppressWarnings("unchecked")
    private static double rate(Map<String, Object> m, String backend) {
        return ((Number) ((Map<String, Object>) m.get(backend)).get("bytes_per_s")).doubleValue();
    }

    /** The level calls of HopeStream.read with every level learning, in spans of one L1 period. */
    static void runEngine(Engine e, EngineSpec spec, int bytes) {
        SpanInputs in = new SpanInputs(spec);
        for (long pos = 0; pos < bytes; pos += spec.c1()) {
            span(e, spec, pos, in);
        }
    }

    /** Synthetic inputs of one span (fixed seed). */
    static final class SpanInputs {
        final float[] q, u, x, o, y, logits;
        final byte[] targets;
        /** A whole span's bytes and the next one. */
        final byte[] bytes;

        SpanInputs(EngineSpec spec) {
            int d = spec.dModel();
            int c1 = spec.c1();
            Random r = new Random(1);
            q = new float[c1 * d];
            u = new float[c1 * d];
            x = new float[c1 * d];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) r.nextGaussian();
                u[i] = (float) r.nextGaussian();
                x[i] = (float) r.nextGaussian();
            }
            o = new float[c1 * d];
            y = new float[c1 * d];
            logits = new float[c1 * EngineSpec.VOCAB];
            targets = new byte[c1];
            r.nextBytes(targets);
            bytes = new byte[c1 + 1];
            r.nextBytes(bytes);
        }
    }

    /** One span of one L1 period from stream position pos, as HopeStream.read calls the engine when every level learns. */
    static void span(Engine e, EngineSpec spec, long pos, SpanInputs in) {
        int c1 = spec.c1();
        if (e.hasPending()) {
            e.accumulatePending(in.targets[0], true, true);
        }
        if (pos > 0) {
            e.step(true, pos % spec.c2() == 0);
        }
        for (int b = 0; b < spec.nBlocks(); b++) {
            e.memory(b, in.q, in.u, c1, pos, true, in.o);
            e.cms(b, in.x, c1, in.y);
        }
        e.head(in.y, c1, in.logits);
        e.accumulate(c1 - 1, in.targets, 1, true, true);
        e.holdPending();
    }

    /**
     * The same span as a whole ({@link Engine#span}: the engine took the mixers), as HopeStream.read runs it then: the
     * span's bytes and the next one in, logits out, the error signal with the span's own next bytes as targets.
     */
    static void wholeSpan(Engine e, EngineSpec spec, long pos, SpanInputs in) {
        int c1 = spec.c1();
        if (e.hasPending()) {
            e.accumulatePending(in.bytes[0], true, true);
        }
        if (pos > 0) {
            e.step(true, pos % spec.c2() == 0);
        }
        e.span(in.bytes, 0, c1, pos, true, in.logits);
        e.accumulate(c1, in.bytes, 1, true, true);
        e.holdPending();
    }
}
