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

    private static void close(float[] java, float[] ort, int n, String what) {
        double e = err(java, ort, n);
        assertTrue(e <= TOL, what + ": relative error " + e + " > " + TOL);
    }

    @Test
    void everyBlockMatchesOnnxRuntime() {
        var mc = BUNDLE.manifest().model();
        int d = mc.dModel(), conv = (mc.convWidth() - 1) * 2 * d, n = 4;
        RowMixers java = RowMixers.of(BUNDLE);
        float[] scratch = new float[java.scratch(n)];
        Random r = new Random(11);
        try (FrozenGraphs ort = new FrozenGraphs(BUNDLE, FrozenGraphs.Options.defaults(), 16)) {
            for (int b = 0; b < mc.nBlocks(); b++) {
                float[] x = gaussian(r, n * d), o = gaussian(r, n * d), state = gaussian(r, conv);
                // ONNX Runtime: n = 4 rows is more than the Java path takes
                float[] q = new float[n * d], u = new float[n * d], c = new float[conv], x2 = new float[n * d];
                ort.mixerIn(b, x, n, state, q, u, c);
                ort.mixerOut(b, x, o, n, x2);
                float[] jq = new float[n * d], ju = new float[n * d], jc = new float[conv], jx2 = new float[n * d];
                java.mixerIn(b, x, n, state, jq, ju, jc, scratch);
                java.mixerOut(b, x, o, n, jx2, scratch);
                close(jq, q, n * d, "mixer_in q, block " + b);
                close(ju, u, n * d, "mixer_in u, block " + b);
                close(jc, c, conv, "mixer_in conv state, block " + b);
                close(jx2, x2, n * d, "mixer_out, block " + b);
                // one row, as decoding calls it: the first row of the four (causal), its own conv state
                float[] q1 = new float[d], u1 = new float[d], c1 = new float[conv], x21 = new float[d];
                java.mixerIn(b, x, 1, state, q1, u1, c1, scratch);
                java.mixerOut(b, x, o, 1, x21, scratch);
                close(q1, q, d, "one row q, block " + b);
                close(u1, u, d, "one row u, block " + b);
                close(x21, x2, d, "one row mixer_out, block " + b);
                // what FrozenGraphs does with one row (the Java path) equals ONNX Runtime's first row too
                float[] fq = new float[d], fu = new float[d], fc = new float[conv], fx2 = new float[d];
                ort.mixerIn(b, x, 1, state, fq, fu, fc);
                ort.mixerOut(b, x, o, 1, fx2);
                close(fq, q, d, "FrozenGraphs one row q, block " + b);
                close(fx2, x2, d, "FrozenGraphs one row mixer_out, block " + b);
                // in place: the conv state and x2 may be the inputs themselves
                float[] st = state.clone(), xx = Arrays.copyOf(x, d);
                ort.mixerIn(b, x, 1, st, fq, fu, st);
                close(st, c1, conv, "conv state in place, block " + b);
                ort.mixerOut(b, xx, o, 1, xx);
                close(xx, x2, d, "mixer_out in place, block " + b);
            }
        }
    }

    @Test
    void theEmbeddingIsOnnxRuntimesGatherExactly() throws Exception {
        RowMixers mixers = RowMixers.of(BUNDLE);
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
