package org.hope4j.graph;

import java.util.List;
import org.hope4j.bundle.Bundle;
import org.hope4j.BundleException;
import org.hope4j.bundle.Manifest;
import org.hope4j.level.Kernels;
import org.hope4j.level.Ops;

/**
 * The byte embedding (a table lookup, for any number of rows) and the frozen mixers ({@code mixer_in},
 * {@code mixer_out}) computed in Java for a few rows, where ONNX Runtime's cost
 * per call (some 20 and 35 µs on one row, most of it fixed) is most of the work: decoding reads one byte at a time.
 * The weights are the bundle's own ONNX initializers ({@link OnnxWeights}), matched by the graph's structure (the
 * MatMul and Mul nodes that take them, in graph order), and the arithmetic follows the exported graph's order of
 * operations (model.py's {@code MixerIn} and {@code MixerOut}); {@code RowMixersTest} holds it to ONNX Runtime's
 * results on every block. Immutable, so the graphs of a learner and their views share one.
 */
final class RowMixers {
    private static final Kernels KERNELS = Kernels.active();
    /** model.py's EPS, of both norms. */
    static final float EPS = 1e-5f;

    private final int d, convW, heads, headDim, slow;
    private final float[][] inNorm, win, conv;
    private final float[][] normIn, normO, norm3, wGate, wO, up3, down3;
    /** The byte embedding [256, D]: embed.onnx's one Gather. */
    private final float[] embed;

    private RowMixers(Bundle bundle) {
        Manifest.ModelConfig mc = bundle.manifest().model();
        d = mc.dModel();
        convW = mc.convWidth();
        heads = mc.nHeads();
        headDim = mc.headDim();
        int nb = mc.nBlocks();
        inNorm = new float[nb][];
        win = new float[nb][];
        conv = new float[nb][];
        normIn = new float[nb][];
        normO = new float[nb][];
        norm3 = new float[nb][];
        wGate = new float[nb][];
        wO = new float[nb][];
        up3 = new float[nb][];
        down3 = new float[nb][];
        OnnxWeights e = OnnxWeights.read(bundle.bytes("embed.onnx"), bundle.describe() + " embed.onnx");
        List<OnnxWeights.Init> table = e.usedBy("Gather");
        check(table.size() == 1 && shape(table.get(0), 256, d), "embed.onnx", bundle);
        embed = table.get(0).data();
        int s = -1;
        for (int b = 0; b < nb; b++) {
            String fin = FrozenGraphs.fileOf(bundle, "mixer_in_" + b);
            OnnxWeights in = OnnxWeights.read(bundle.bytes(fin), bundle.describe() + " " + fin);
            List<OnnxWeights.Init> mm = in.usedBy("MatMul");
            List<OnnxWeights.Init> mul = in.usedBy("Mul");
            check(mm.size() == 1 && shape(mm.get(0), d, 2 * d) && mul.size() == 1 + convW && shape(mul.get(0), d), fin, bundle);
            inNorm[b] = mul.get(0).data();
            win[b] = mm.get(0).data();
            // the exported graph multiplies by column W-1 of the conv first, then adds columns 0 .. W-2
            conv[b] = new float[convW * 2 * d];
            for (int j = 0; j < convW; j++) {
                OnnxWeights.Init c = mul.get(1 + j);
                check(shape(c, 2 * d), fin, bundle);
                int col = j == 0 ? convW - 1 : j - 1;
                System.arraycopy(c.data(), 0, conv[b], col * 2 * d, 2 * d);
            }
            String fout = FrozenGraphs.fileOf(bundle, "mixer_out_" + b);
            OnnxWeights out = OnnxWeights.read(bundle.bytes(fout), bundle.describe() + " " + fout);
            List<OnnxWeights.Init> om = out.usedBy("MatMul");
            List<OnnxWeights.Init> on = out.usedBy("Mul");
            check(om.size() == 4 && on.size() == 3, fout, bundle);
            int hidden = (int) om.get(2).dims()[om.get(2).dims().length - 1];
            check(shape(om.get(0), d, d) && shape(om.get(1), d, d) && shape(om.get(2), d, hidden) && shape(om.get(3), hidden, d)
                    && shape(on.get(0), d) && shape(on.get(1), d) && shape(on.get(2), d) && (s < 0 || s == hidden), fout, bundle);
            s = hidden;
            normIn[b] = on.get(0).data();
            normO[b] = on.get(1).data();
            norm3[b] = on.get(2).data();
            wGate[b] = om.get(0).data();
            wO[b] = om.get(1).data();
            up3[b] = om.get(2).data();
            down3[b] = om.get(3).data();
        }
        slow = s;
    }

    /**
     * The mixers of a bundle.
     *
     * @param bundle the bundle whose segments these compute
     * @return the mixers
     * @throws BundleException naming the bundle and the file if a segment's weights are not the mixer's
     */
    static RowMixers of(Bundle bundle) {
        return new RowMixers(bundle);
    }

    private static boolean shape(OnnxWeights.Init i, long... dims) {
        return java.util.Arrays.equals(i.dims(), dims);
    }

    private static void check(boolean ok, String file, Bundle bundle) {
        if (!ok) {
            throw new BundleException(bundle.describe() + ": " + file + " does not hold the weights of a Hope mixer segment");
        }
    }

    /**
     * Floats of scratch the calls need for n rows.
     *
     * @param n rows
     * @return scratch size
     */
    int scratch(int n) {
        return (convW - 1 + n) * 2 * d + 6 * d + slow + 2 * d;
    }

    /** out = x / sqrt(mean x^2 + eps) * g: the CPU engine's norm ({@link Ops#rmsnormRow}). */
    private void rmsnorm(float[] x, int xo, float[] g, float[] out, int oo) {
        Ops.rmsnormRow(x, xo, d, g, EPS, out, oo);
    }

    /** FrozenGraphs.embed: the rows of the bytes (exactly ONNX Runtime's Gather). */
    void embed(byte[] bytes, int off, int n, float[] x) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(embed, (bytes[off + i] & 0xff) * d, x, i * d, d);
        }
    }

    /** FrozenGraphs.mixerIn for n rows; scratch of {@link #scratch} floats. */
    void mixerIn(int b, float[] x, int n, float[] convIn, float[] q, float[] u, float[] convOut, float[] s) {
        final int c2 = 2 * d, hist = convW - 1;
        // ext = [conv state; p] in s[0, (hist + n) 2D)
        System.arraycopy(convIn, 0, s, 0, hist * c2);
        int h = (hist + n) * c2;
        float[] cw = conv[b];
        for (int t = 0; t < n; t++) {
            rmsnorm(x, t * d, inNorm[b], s, h);
            KERNELS.gemv(s, h, d, win[b], c2, s, (hist + t) * c2);
        }
        int c = h + d;
        for (int t = 0; t < n; t++) {
            int last = (t + hist) * c2;
            for (int i = 0; i < c2; i++) {
                s[c + i] = s[last + i] * cw[hist * c2 + i];
            }
            for (int j = 0; j < hist; j++) {
                int row = (t + j) * c2, col = j * c2;
                for (int i = 0; i < c2; i++) {
                    s[c + i] = s[c + i] + s[row + i] * cw[col + i];
                }
            }
            for (int i = 0; i < d; i++) {
                float v = s[c + i];
                u[t * d + i] = v * Ops.sigmoidf(v);
            }
            for (int hh = 0; hh < heads; hh++) {
                int o = c + d + hh * headDim;
                float ss = 0f;
                for (int i = 0; i < headDim; i++) {
                    ss += s[o + i] * s[o + i];
                }
                float r = (float) Math.sqrt(ss + EPS);
                for (int i = 0; i < headDim; i++) {
                    q[t * d + hh * headDim + i] = s[o + i] / r;
                }
            }
        }
        System.arraycopy(s, n * c2, convOut, 0, hist * c2);
    }

    /** FrozenGraphs.mixerOut for n rows; x2 may be x; scratch of {@link #scratch} floats. */
    void mixerOut(int b, float[] x, float[] o, int n, float[] x2, float[] s) {
        final int hO = 0, gO = d, aO = 2 * d, x1O = 3 * d, zO = 4 * d, yO = 5 * d, sO = 6 * d;
        for (int t = 0; t < n; t++) {
            int r = t * d;
            rmsnorm(x, r, normIn[b], s, hO);
            KERNELS.gemv(s, hO, d, wGate[b], d, s, gO);
            rmsnorm(o, r, normO[b], s, aO);
            for (int i = 0; i < d; i++) {
                float g = s[gO + i];
                s[aO + i] = s[aO + i] * (g * Ops.sigmoidf(g));
            }
            KERNELS.gemv(s, aO, d, wO[b], d, s, yO);
            for (int i = 0; i < d; i++) {
                s[x1O + i] = x[r + i] + s[yO + i];
            }
            rmsnorm(s, x1O, norm3[b], s, zO);
            KERNELS.gemv(s, zO, d, up3[b], slow, s, sO);
            for (int i = 0; i < slow; i++) {
                float v = s[sO + i];
                s[sO + i] = v * Ops.sigmoidf(v);
            }
            KERNELS.gemv(s, sO, slow, down3[b], d, s, yO);
            for (int i = 0; i < d; i++) {
                x2[r + i] = s[x1O + i] + s[yO + i];
            }
        }
    }
}
