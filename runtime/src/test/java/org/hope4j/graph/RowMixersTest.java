package org.hope4j.graph;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.junit.jupiter.api.Test;

/** The mixers in Java compute what ONNX Runtime computes from the bundle's segments, on every block. */
class RowMixersTest {
    private static final Bundle BUNDLE = Bundle.loadDefault();
    private static final double TOL = 2e-6;

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** max |a - b| / max(1, max |b|) over the first n values. */
    private static double err(float[] a, float[] b, int n) {
        double md = 0, mb = 1;
        for (int i = 0; i < n; i++) {
            md = Math.max(md, Math.abs(a[i] - b[i]));
            mb = Math.max(mb, Math.abs(b[i]));
        }
        return md / mb;
    }

    private static void close(float[] java, float[] ort, int n, String what, double tol) {
        double e = err(java, ort, n);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    /**
     * Every block, at one row (decoding: Java products) and at 2 to 256 rows (OpenBLAS products on held weights),
     * against ONNX Runtime's graphs; the in-place calls; and FrozenGraphs' default on the CPU runs these very mixers.
     * One row within 2e-6 relative; more rows within 1e-5, OpenBLAS and ONNX Runtime's MLAS summing the 512 terms of
     * the hidden projection in other orders.
     */
    @Test
    void everyBlockMatchesOnnxRuntime() {
        var mc = BUNDLE.manifest().model();
        int d = mc.dModel(), conv = (mc.convWidth() - 1) * 2 * d, max = 256;
        RowMixers java = RowMixers.of(BUNDLE, org.hope4j.engine.cpu.CpuBackend.products());
        RowMixers.Scratch scratch = java.scratch(max);
        Random r = new Random(11);
        try (FrozenGraphs ort = new FrozenGraphs(BUNDLE, FrozenGraphs.Options.defaults(), max, 0);
             FrozenGraphs auto = new FrozenGraphs(BUNDLE, FrozenGraphs.Options.defaults(), max)) {
            assertTrue(FrozenGraphs.javaRows("cpu") == Integer.MAX_VALUE, "the build's tests run OpenBLAS and the Vector API: Java for every call");
            for (int n : new int[] {1, 2, 4, 16, 64, 256}) {
                double tol = n == 1 ? TOL : 1e-5;
                for (int b = 0; b < mc.nBlocks(); b++) {
                    String at = ", block " + b + ", " + n + " rows";
                    float[] x = gaussian(r, n * d), o = gaussian(r, n * d), state = gaussian(r, conv);
                    float[] q = new float[n * d], u = new float[n * d], c = new float[conv], x2 = new float[n * d];
                    ort.mixerIn(b, x, n, state, q, u, c);
                    ort.mixerOut(b, x, o, n, x2);
                    float[] jq = new float[n * d], ju = new float[n * d], jc = new float[conv], jx2 = new float[n * d];
                    java.mixerIn(b, x, n, state, jq, ju, jc, scratch);
                    java.mixerOut(b, x, o, n, jx2, scratch);
                    close(jq, q, n * d, "mixer_in q" + at, tol);
                    close(ju, u, n * d, "mixer_in u" + at, tol);
                    close(jc, c, conv, "mixer_in conv state" + at, tol);
                    close(jx2, x2, n * d, "mixer_out" + at, tol);
                    // FrozenGraphs' default path is these mixers, bit for bit
                    float[] fq = new float[n * d], fu = new float[n * d], fc = new float[conv], fx2 = new float[n * d];
                    auto.mixerIn(b, x, n, state, fq, fu, fc);
                    auto.mixerOut(b, x, o, n, fx2);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(jq, fq, "FrozenGraphs q" + at);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(ju, fu, "FrozenGraphs u" + at);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(jc, fc, "FrozenGraphs conv state" + at);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(jx2, fx2, "FrozenGraphs mixer_out" + at);
                    // in place: the conv state and x2 may be the inputs themselves
                    float[] st = state.clone(), xx = x.clone();
                    auto.mixerIn(b, x, n, st, fq, fu, st);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(jc, st, "conv state in place" + at);
                    auto.mixerOut(b, xx, o, n, xx);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(jx2, xx, "mixer_out in place" + at);
                }
            }
        }
    }

    /** The first rows of a call are what a call of just those rows gives (causal), whichever path a call takes. */
    @Test
    void aCallsFirstRowsDoNotDependOnTheRest() {
        var mc = BUNDLE.manifest().model();
        int d = mc.dModel(), conv = (mc.convWidth() - 1) * 2 * d;
        RowMixers java = RowMixers.of(BUNDLE, org.hope4j.engine.cpu.CpuBackend.products());
        RowMixers.Scratch scratch = java.scratch(64);
        Random r = new Random(5);
        float[] x = gaussian(r, 64 * d), o = gaussian(r, 64 * d), state = gaussian(r, conv);
        float[] q = new float[64 * d], u = new float[64 * d], c = new float[conv], x2 = new float[64 * d];
        java.mixerIn(2, x, 64, state, q, u, c, scratch);
        java.mixerOut(2, x, o, 64, x2, scratch);
        float[] q8 = new float[8 * d], u8 = new float[8 * d], c8 = new float[conv], x28 = new float[8 * d];
        java.mixerIn(2, x, 8, state, q8, u8, c8, scratch);
        java.mixerOut(2, x, o, 8, x28, scratch);
        close(q8, q, 8 * d, "q", 1e-6);
        close(u8, u, 8 * d, "u", 1e-6);
        close(x28, x2, 8 * d, "mixer_out", 1e-6);
    }

    @Test
    void theEmbeddingIsOnnxRuntimesGatherExactly() throws Exception {
        RowMixers mixers = RowMixers.of(BUNDLE, org.hope4j.engine.cpu.CpuBackend.products());
        int d = BUNDLE.manifest().model().dModel();
        byte[] bytes = new byte[300];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7 + 3);
        }
        float[] mine = new float[256 * d];
        mixers.embed(bytes, 5, 256, mine);
        try (ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
             ai.onnxruntime.OrtSession s = env.createSession(BUNDLE.bytes("embed.onnx"));
             ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(env,
                     java.nio.LongBuffer.wrap(java.util.stream.IntStream.range(5, 261).mapToLong(i -> bytes[i] & 0xffL).toArray()),
                     new long[] {256});
             ai.onnxruntime.OrtSession.Result r = s.run(java.util.Map.of("tokens", t))) {
            float[][] ort = (float[][]) r.get(0).getValue();
            for (int i = 0; i < 256; i++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(ort[i], Arrays.copyOfRange(mine, i * d, (i + 1) * d), "row " + i);
            }
        }
    }

    @Test
    void aDamagedSegmentIsRefusedNamingTheFile() {
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0xff);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(garbage, "mixer_in_0.onnx"));
        assertTrue(e.getMessage().startsWith("mixer_in_0.onnx is not a readable ONNX model"), e.getMessage());
        byte[] real = BUNDLE.bytes("mixer_out_0.onnx");
        byte[] cut = Arrays.copyOf(real, real.length / 2);
        e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(cut, "mixer_out_0.onnx"));
        assertTrue(e.getMessage().contains("mixer_out_0.onnx"), e.getMessage());
        OnnxWeights w = OnnxWeights.read(real, "mixer_out_0.onnx");
        assertTrue(w.usedBy("MatMul").size() == 4, "gate, output, up and down projections");
    }
}
