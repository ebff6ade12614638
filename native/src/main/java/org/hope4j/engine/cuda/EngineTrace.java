package org.hope4j.engine.cuda;

import com.google.gson.GsonBuilder;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.hope4j.Level;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backends;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.cpu.CpuBackend;
import org.hope4j.learner.Streams;

/**
 * Records the CPU engine's answers to a schedule of engine calls as a trace that native/gpu-check/gpu_check.cpp
 * replays through the CUDA engine on a GPU machine with no Java: parity (every output, flag, count and the state at
 * checkpoints, within 1e-4 relative, CudaEngineTest's tolerance), speed and launch counts of learning spans, and a
 * short run under compute-sanitizer and ncu. Part one is CudaEngineTest's call-by-call schedule (pieces crossing L0
 * chunk ends, short spans with learning off, the held position, a logits gradient, steps of both levels, a reset);
 * part two is {@code spans} (default 8) learning spans of CudaBench's schedule, run whole (the mixers on the GPU, as a
 * learner's stream runs them), which the replay also times. Also writes the CPU engine's thread CPU time per learning
 * span here (whole, the mixers on the host around it; and the level calls alone), for the speed-up the check reports.
 *
 * <pre>java -cp ... org.hope4j.engine.cuda.EngineTrace trace.bin cpu-engine.json [spans]</pre>
 *
 * Format (little-endian): "H4JTRC01", the spec (ints d, blocks, heads, headDim, memRows, midHidden, fastHidden, c0,
 * c1, maxSpan, c2; floats etaMax, eps; per block lr1, lr2, plastic (int), decay1, decay2), then records of a one-byte
 * op: S set (id, block, n, floats), R reset (level), M memory (block, m, pos long, learn, q then u, expected o),
 * C cms (block, m, x, expected out), H head (m, x, expected logits), A accumulate (k, l1, l2, targets), G logits
 * gradient (k, l1, l2, d logits), P hold (expected kept), Q held position's gradient (target, l1, l2), T step (l1, l2),
 * K rollbacks (expected long), E expected tensor (id, block, n, floats), B start of the timed spans (count),
 * Z end; whole spans (the mixers on the GPU, part 1b): X enable the mixers (conv width, slow hidden; the weights follow
 * as S), W whole span (m, pos long, learn, nBytes, the bytes, expected logits), Y the span's error signal with its own
 * bytes as targets (k, l1, l2), U hold the span's last row (expected kept).
 */
public final class EngineTrace {
    private EngineTrace() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: EngineTrace TRACE.bin CPU-ENGINE.json [spans]");
        }
        Path trace = Path.of(args[0]);
        Path cpuJson = Path.of(args[1]);
        int spans = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Bundle bundle = Bundle.loadDefault();
        EngineSpec spec;
        try (var l = org.hope4j.Hope.open(bundle, org.hope4j.LearnerOptions.defaults().withBackend("cpu"))) {
            spec = Streams.of(l).engine().spec();
        }
        Map<String, Tensor> plastic = bundle.plastic();
        if (trace.getParent() != null) {
            Files.createDirectories(trace.getParent());
        }
        try (Engine cpu = new org.hope4j.engine.MixingEngine(CpuBackend.openJava(spec, plastic));
             org.hope4j.graph.FrozenGraphs graphs = new org.hope4j.graph.FrozenGraphs(bundle, org.hope4j.graph.FrozenGraphs.Options.defaults(),
                     spec.maxSpan());
             Tracing t = new Tracing(cpu, new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(trace), 1 << 20)))) {
            t.header();
            for (CudaEngine.Upload u : CudaEngine.initialUploads(spec, plastic, id -> size(spec, id))) {
                t.set(u.id(), u.block(), u.data());
            }
            for (int level = 0; level < 3; level++) {
                t.reset(level);
            }
            callByCall(t, spec);
            t.checkpoint();
            wholeSpans(t, spec, graphs);
            t.checkpoint();
            t.spans(spans);
            CudaBench.SpanInputs in = new CudaBench.SpanInputs(spec);
            long pos = 0;
            for (int s = 0; s < spans; s++, pos += spec.c1()) {
                CudaBench.wholeSpan(t, spec, pos, in); // what a learner's stream runs on the GPU
            }
            t.checkpoint();
            t.op('Z');
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("cpu", cpuModel());
        report.put("cpu_engine_us_per_span", cpuMicrosPerSpan(spec, plastic, bundle, true));
        report.put("cpu_levels_us_per_span", cpuMicrosPerSpan(spec, plastic, bundle, false));
        report.put("cpu_engine", Backends.select("cpu").backend().describe());
        report.put("what", "the CPU engine on one thread, thread CPU time of one 64-byte learning span of "
                + "CudaBench's schedule after 64 spans of warm-up, median of 5 runs of 8 spans: whole (the mixers and the embedding on the host around "
                + "the levels, as a CPU learner's stream runs it; what the replay times on the GPU) and the level calls alone");
        Files.writeString(cpuJson, new GsonBuilder().setPrettyPrinting().create().toJson(report) + "\n", StandardCharsets.UTF_8);
        System.out.println("trace " + trace + ": " + Files.size(trace) + " bytes; " + cpuJson + ": " + report);
    }

    /** Values of a tensor the engine is opened with (hope4j_cuda.h's ids; the native engine checks them again). */
    static long size(EngineSpec s, int id) {
        long d = s.dModel();
        return switch (id) {
            case 20 -> (long) s.nHeads() * s.memRows() * s.headDim();
            case 21, 22 -> (long) s.nHeads() * 5;
            case 23, 24, 29 -> d;
            case 25, 26 -> s.fastHidden() * d;
            case 27, 28 -> s.midHidden() * d;
            case 30 -> EngineSpec.VOCAB * d;
            default -> throw new IllegalArgumentException("tensor id " + id + " is not set when an engine opens");
        };
    }

    /** CudaEngineTest's schedule, on the tracing engine. */
    private static void callByCall(Tracing e, EngineSpec spec) {
        int d = spec.dModel();
        int v = EngineSpec.VOCAB;
        int c1 = spec.c1();
        Random r = new Random(7);
        long pos = 0;
        int[] spans = {c1, 3, 5, 1, c1 - 9, 7, c1, 2 * c1, spec.maxSpan()};
        for (int si = 0; si < spans.length; si++) {
            int m = spans[si];
            boolean learnCms = m <= c1 && (pos % c1) + m <= c1;
            boolean learnL0 = si % 4 != 3;
            float[] x = null;
            for (int b = 0; b < spec.nBlocks(); b++) {
                e.memory(b, gaussian(r, m * d, 1f), gaussian(r, m * d, 1f), m, pos, learnL0, new float[m * d]);
                x = gaussian(r, m * d, 1f);
                e.cms(b, x, m, new float[m * d]);
            }
            e.head(x, m, new float[m * v]);
            if (learnCms) {
                if (e.hasPending()) {
                    e.accumulatePending((byte) r.nextInt(256), true, true);
                }
                byte[] targets = new byte[m + 3];
                r.nextBytes(targets);
                e.accumulate(m - 1, targets, 3, true, si % 2 == 0);
                if (si == 4) {
                    e.accumulateLogitGradient(2, gaussian(r, 2 * v, 0.01f), true, true);
                }
                e.holdPending();
                if (si == 4) {
                    e.checkpoint();
                }
                e.step(true, si % 3 == 0);
            } else {
                e.dropPending();
            }
            pos += m;
        }
        e.resetLevel(Level.L1);
        e.rollbacks();
    }

    /** CudaSpanTest's schedule of whole spans (the mixers on the GPU), on the tracing engine. */
    private static void wholeSpans(Tracing e, EngineSpec spec, org.hope4j.engine.Mixers graphs) {
        e.attachMixers(graphs);
        int c1 = spec.c1();
        int[][] schedule = {{c1, 1}, {37, 1}, {27, 1}, {1, 1}, {spec.maxSpan(), 0}, {3, 1}};
        Random r = new Random(11);
        byte[] text = new byte[8192];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) (r.nextInt(4) == 0 ? ' ' : 'a' + r.nextInt(26));
        }
        long pos = 4L * spec.c2();
        int at = 0;
        for (int si = 0; si < schedule.length; si++) {
            int m = schedule[si][0];
            boolean cms = schedule[si][1] == 1;
            if (e.hasPending()) {
                if (cms) {
                    e.accumulatePending(text[at], true, true);
                } else {
                    e.dropPending();
                }
            }
            if (cms && pos % c1 == 0) {
                e.step(true, pos % spec.c2() == 0);
            }
            e.span(text, at, m, pos, true, new float[m * EngineSpec.VOCAB]);
            if (cms) {
                int known = si % 3 == 2 ? m - 1 : m;
                e.accumulate(known, text, at + 1, true, true);
                if (known < m) {
                    e.holdPending();
                }
            }
            pos += m;
            at += m;
        }
        e.dropPending();
    }

    static float[] gaussian(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * scale;
        }
        return a;
    }

    private static double cpuMicrosPerSpan(EngineSpec spec, Map<String, Tensor> plastic, Bundle bundle, boolean whole) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[] runs = new double[5];
        try (Engine cpu = new org.hope4j.engine.MixingEngine(Backends.select("cpu").backend().open(spec, plastic));
             org.hope4j.graph.FrozenGraphs graphs = new org.hope4j.graph.FrozenGraphs(bundle,
                     org.hope4j.graph.FrozenGraphs.Options.defaults(), spec.maxSpan())) {
            cpu.attachMixers(graphs);
            CudaBench.SpanInputs in = new CudaBench.SpanInputs(spec);
            for (int s = 0; s < 64; s++) {
                span(cpu, spec, (long) s * spec.c1(), in, whole); // warm-up: C2 compiles the hot paths only after some 20 spans
            }
            for (int run = 0; run < runs.length; run++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int s = 0; s < 8; s++) {
                    span(cpu, spec, (long) (64 + 8 * run + s) * spec.c1(), in, whole);
                }
                runs[run] = (mx.getCurrentThreadCpuTime() - t0) / 1e3 / 8;
            }
        }
        java.util.Arrays.sort(runs);
        return runs[runs.length / 2];
    }

    private static void span(Engine e, EngineSpec spec, long pos, CudaBench.SpanInputs in, boolean whole) {
        if (whole) {
            CudaBench.wholeSpan(e, spec, pos, in);
        } else {
            CudaBench.span(e, spec, pos, in);
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }

    /** The CPU engine, recording every call with its answers. */
    static final class Tracing implements Engine {
        private final Engine cpu;
        final DataOutputStream out;
        private final int d;
        /** After attachMixers: the number of blocks whose conv states a checkpoint records. */
        private boolean mixers;
        /** The last whole span's bytes (with the next one where the array held it), while it is the current span. */
        private byte[] spanBytes = new byte[0];
        private boolean lastWasSpan;

        Tracing(Engine cpu, DataOutputStream out) {
            this.cpu = cpu;
            this.out = out;
            this.d = cpu.spec().dModel();
        }

        void header() {
            EngineSpec s = cpu.spec();
            try {
                out.write("H4JTRC01".getBytes(StandardCharsets.US_ASCII));
                for (int v : new int[] {s.dModel(), s.nBlocks(), s.nHeads(), s.headDim(), s.memRows(), s.midHidden(), s.fastHidden(),
                    s.c0(), s.c1(), s.maxSpan(), s.c2()}) {
                    writeInt(v);
                }
                writeFloat(s.etaMax());
                writeFloat(s.eps());
                float[] decay1 = s.decay1() != null ? s.decay1() : new float[s.nBlocks()];
                float[] decay2 = s.decay2() != null ? s.decay2() : new float[s.nBlocks()];
                for (int b = 0; b < s.nBlocks(); b++) {
                    writeFloat(s.lr1()[b]);
                    writeFloat(s.lr2()[b]);
                    writeInt(s.plastic()[b] ? 1 : 0);
                    writeFloat(decay1[b]);
                    writeFloat(decay2[b]);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void spans(int n) throws IOException {
            op('B');
            writeInt(n);
        }

        void op(char c) throws IOException {
            out.writeByte(c);
        }

        private void writeInt(int v) throws IOException {
            out.writeInt(Integer.reverseBytes(v));
        }

        private void writeLong(long v) throws IOException {
            out.writeLong(Long.reverseBytes(v));
        }

        private void writeFloat(float v) throws IOException {
            out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(v)));
        }

        private void floats(float[] a, int from, int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(a, from, n);
            out.write(b.array());
        }

        private void record(IoAction a) {
            try {
                a.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private interface IoAction {
            void run() throws IOException;
        }

        void set(int id, int block, float[] data) {
            record(() -> {
                op('S');
                writeInt(id);
                writeInt(block);
                writeInt(data.length);
                floats(data, 0, data.length);
            });
        }

        void reset(int level) {
            record(() -> {
                op('R');
                writeInt(level);
            });
        }

        /** Every tensor of the CPU engine's state (and the conv states, with the mixers taken), as the replay must find it. */
        void checkpoint() {
            Map<String, Tensor> s = cpu.exportState();
            if (mixers) {
                for (int b = 0; b < cpu.spec().nBlocks(); b++) {
                    float[] c = cpu.mixerConv(b);
                    int block = b;
                    record(() -> {
                        op('E');
                        writeInt(CudaEngine.convStateId());
                        writeInt(block);
                        writeInt(c.length);
                        floats(c, 0, c.length);
                    });
                }
            }
            record(() -> {
                for (Tensor t : s.values()) {
                    String key = t.name().startsWith("blocks.") ? t.name().substring(t.name().indexOf('.', 7) + 1) : t.name();
                    int block = t.name().startsWith("blocks.") ? Integer.parseInt(t.name().substring(7, t.name().indexOf('.', 7))) : 0;
                    op('E');
                    writeInt(CudaEngine.idOf(key));
                    writeInt(block);
                    writeInt(t.data().length);
                    floats(t.data(), 0, t.data().length);
                }
            });
        }

        @Override
        public EngineSpec spec() {
            return cpu.spec();
        }

        @Override
        public boolean attachMixers(org.hope4j.engine.Mixers m) {
            cpu.attachMixers(m);
            org.hope4j.engine.MixerWeights w = m.weights();
            record(() -> {
                op('X');
                writeInt(w.convWidth());
                writeInt(w.slowHidden());
            });
            for (CudaEngine.Upload u : CudaEngine.mixerUploads(w)) {
                set(u.id(), u.block(), u.data());
            }
            mixers = true;
            return true;
        }

        @Override
        public void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
            cpu.span(data, off, m, pos, learn, logits);
            int nBytes = Math.min(m + 1, data.length - off);
            spanBytes = java.util.Arrays.copyOfRange(data, off, off + nBytes);
            lastWasSpan = true;
            record(() -> {
                op('W');
                writeInt(m);
                writeLong(pos);
                writeInt(learn ? 1 : 0);
                writeInt(nBytes);
                out.write(data, off, nBytes);
                floats(logits, 0, m * EngineSpec.VOCAB);
            });
        }

        @Override
        public float[] mixerConv(int block) {
            return cpu.mixerConv(block);
        }

        @Override
        public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
            lastWasSpan = false;
            cpu.memory(block, q, u, m, pos, learn, o);
            record(() -> {
                op('M');
                writeInt(block);
                writeInt(m);
                writeLong(pos);
                writeInt(learn ? 1 : 0);
                floats(q, 0, m * d);
                floats(u, 0, m * d);
                floats(o, 0, m * d);
            });
        }

        @Override
        public void cms(int block, float[] x, int m, float[] y) {
            lastWasSpan = false;
            cpu.cms(block, x, m, y);
            record(() -> {
                op('C');
                writeInt(block);
                writeInt(m);
                floats(x, 0, m * d);
                floats(y, 0, m * d);
            });
        }

        @Override
        public void head(float[] x, int m, float[] logits) {
            lastWasSpan = false;
            cpu.head(x, m, logits);
            record(() -> {
                op('H');
                writeInt(m);
                floats(x, 0, m * d);
                floats(logits, 0, m * EngineSpec.VOCAB);
            });
        }

        @Override
        public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
            cpu.accumulate(k, targets, off, l1, l2);
            if (k == 0 || !(l1 || l2)) {
                return;
            }
            if (lastWasSpan && k < spanBytes.length && java.util.Arrays.equals(targets, off, off + k, spanBytes, 1, 1 + k)) {
                record(() -> {
                    op('Y');
                    writeInt(k);
                    writeInt(l1 ? 1 : 0);
                    writeInt(l2 ? 1 : 0);
                });
                return;
            }
            record(() -> {
                op('A');
                writeInt(k);
                writeInt(l1 ? 1 : 0);
                writeInt(l2 ? 1 : 0);
                out.write(targets, off, k);
            });
        }

        @Override
        public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
            cpu.accumulateLogitGradient(k, dLogits, l1, l2);
            if (k == 0 || !(l1 || l2)) {
                return;
            }
            record(() -> {
                op('G');
                writeInt(k);
                writeInt(l1 ? 1 : 0);
                writeInt(l2 ? 1 : 0);
                floats(dLogits, 0, k * EngineSpec.VOCAB);
            });
        }

        @Override
        public void holdPending() {
            cpu.holdPending();
            record(() -> {
                op(lastWasSpan ? 'U' : 'P');
                writeInt(cpu.hasPending() ? 1 : 0);
            });
        }

        @Override
        public boolean hasPending() {
            return cpu.hasPending();
        }

        @Override
        public void accumulatePending(byte target, boolean l1, boolean l2) {
            boolean had = cpu.hasPending();
            cpu.accumulatePending(target, l1, l2);
            if (!had || !(l1 || l2)) {
                return;
            }
            record(() -> {
                op('Q');
                writeInt(target & 0xff);
                writeInt(l1 ? 1 : 0);
                writeInt(l2 ? 1 : 0);
            });
        }

        @Override
        public void dropPending() {
            cpu.dropPending();
        }

        @Override
        public void step(boolean l1, boolean l2) {
            cpu.step(l1, l2);
            record(() -> {
                op('T');
                writeInt(l1 ? 1 : 0);
                writeInt(l2 ? 1 : 0);
            });
        }

        @Override
        public void resetLevel(Level level) {
            cpu.resetLevel(level);
            reset(level.ordinal());
        }

        @Override
        public long rollbacks() {
            long n = cpu.rollbacks();
            record(() -> {
                op('K');
                writeLong(n);
            });
            return n;
        }

        @Override
        public Map<String, Tensor> exportState() {
            return cpu.exportState();
        }

        @Override
        public void importState(Map<String, Tensor> state) {
            throw new UnsupportedOperationException("a trace does not import states");
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
