package org.hope4j.graph;

import java.util.ArrayList;
import java.util.List;
import org.hope4j.bundle.Bundle;
import org.hope4j.BundleException;
import org.hope4j.bundle.Manifest;
import org.hope4j.engine.MixerWeights;
import org.hope4j.level.Blas;
import org.hope4j.level.Kernels;

/**
 * The byte embedding (a table lookup) and the frozen mixers ({@code mixer_in}, {@code mixer_out}) computed in Java for
 * any number of rows. Each projection is a product on weights held by the CPU engine's {@link Blas} ({@link Blas#hold}:
 * one row, as decoding reads, as {@link Kernels#gemv}; more rows on OpenBLAS, B copied into native memory once), and the
 * element-wise work (norms, causal conv, SiLU, per-head norms, residuals) on arrays laid out for the Vector API.
 * Measured against ONNX Runtime per block and call (README "Performance"): 3-16 % less CPU time at 16 to 256 rows,
 * and ONNX Runtime's fixed cost per call (some 20 and 35 µs) gone from one-row calls. The weights are the bundle's
 * own ONNX initializers ({@link OnnxWeights}), matched by the graph's structure (the MatMul and Mul nodes that take
 * them, in graph order), and the arithmetic follows the exported graph's order of operations (model.py's
 * {@code MixerIn} and {@code MixerOut}) but for the norms' sums of squares ({@link Kernels#sumSquares}: eight partial
 * sums); {@code RowMixersTest} holds it to ONNX Runtime on every block, {@code ParityTest} to the PyTorch reference.
 * Immutable, so the graphs of a learner and their views share one (each with its own {@link Scratch}).
 */
final class RowMixers {
    private static final Kernels KERNELS = Kernels.active();
    /** model.py's EPS, of both norms. */
    static final float EPS = 1e-5f;

    private final int d, convW, heads, headDim, slow;
    private final float[][] inNorm, conv;
    private final float[][] normIn, normO, norm3;
    /** The projections, held by the CPU engine's products ({@link Blas#hold}: one row as a Java product). */
    private final Blas.Held[] hWin, hGate, hO, hUp3, hDown3;
    /** The byte embedding [256, D]: embed.onnx's one Gather. */
    private final float[] embed;

    private RowMixers(Bundle bundle, Blas blas) {
        Manifest.ModelConfig mc = bundle.manifest().model();
        d = mc.dModel();
        convW = mc.convWidth();
        heads = mc.nHeads();
        headDim = mc.headDim();
        int nb = mc.nBlocks();
        inNorm = new float[nb][];
        conv = new float[nb][];
        normIn = new float[nb][];
        normO = new float[nb][];
        norm3 = new float[nb][];
        hWin = new Blas.Held[nb];
        hGate = new Blas.Held[nb];
        hO = new Blas.Held[nb];
        hUp3 = new Blas.Held[nb];
        hDown3 = new Blas.Held[nb];
        embed = embedOf(bundle);
        int s = -1;
        for (int b = 0; b < nb; b++) {
            // one block at a time: its segments' arrays go as soon as its products hold their weights
            MixerWeights.Block k = blockOf(bundle, b, s);
            s = k.up().length / d;
            inNorm[b] = k.inNorm();
            hWin[b] = blas.hold(k.win(), d, 2 * d);
            conv[b] = k.conv();
            normIn[b] = k.normIn();
            normO[b] = k.normO();
            norm3[b] = k.norm3();
            hGate[b] = blas.hold(k.gate(), d, d);
            hO[b] = blas.hold(k.wo(), d, d);
            hUp3[b] = blas.hold(k.up(), d, s);
            hDown3[b] = blas.hold(k.down(), s, d);
        }
        slow = s;
    }

    /**
     * The weights of a bundle's embedding and mixer segments, matched by the graphs' structure (the MatMul and Mul
     * nodes that take them, in graph order).
     *
     * @param bundle the bundle
     * @return the weights, in {@link MixerWeights}'s layout
     * @throws BundleException naming the bundle and the file if a segment's weights are not the mixer's
     */
    static MixerWeights weightsOf(Bundle bundle) {
        Manifest.ModelConfig mc = bundle.manifest().model();
        List<MixerWeights.Block> blocks = new ArrayList<>();
        int s = -1;
        for (int b = 0; b < mc.nBlocks(); b++) {
            MixerWeights.Block k = blockOf(bundle, b, s);
            s = k.up().length / mc.dModel();
            blocks.add(k);
        }
        return new MixerWeights(mc.dModel(), mc.convWidth(), s, embedOf(bundle), blocks);
    }

    /** embed.onnx's one Gather table [256, D]. */
    private static float[] embedOf(Bundle bundle) {
        int d = bundle.manifest().model().dModel();
        OnnxWeights e = OnnxWeights.read(bundle.bytes("embed.onnx"), bundle.describe() + " embed.onnx");
        List<OnnxWeights.Init> table = e.usedBy("Gather");
        check(table.size() == 1 && shape(table.get(0), 256, d), "embed.onnx", bundle);
        return table.get(0).data();
    }

    /**
     * Block {@code b}'s mixer weights from its two segments.
     *
     * @param slow the slow level's hidden width of the blocks before, or -1 for the first (every block's must match)
     */
    private static MixerWeights.Block blockOf(Bundle bundle, int b, int slow) {
        Manifest.ModelConfig mc = bundle.manifest().model();
        int d = mc.dModel();
        int convW = mc.convWidth();
        String fin = FrozenGraphs.fileOf(bundle, "mixer_in_" + b);
        OnnxWeights in = OnnxWeights.read(bundle.bytes(fin), bundle.describe() + " " + fin);
        List<OnnxWeights.Init> mm = in.usedBy("MatMul");
        List<OnnxWeights.Init> mul = in.usedBy("Mul");
        check(mm.size() == 1 && shape(mm.get(0), d, 2 * d) && mul.size() == 1 + convW && shape(mul.get(0), d), fin, bundle);
        // the exported graph multiplies by column W-1 of the conv first, then adds columns 0 .. W-2
        float[] cv = new float[convW * 2 * d];
        for (int j = 0; j < convW; j++) {
            OnnxWeights.Init c = mul.get(1 + j);
            check(shape(c, 2 * d), fin, bundle);
            int col = j == 0 ? convW - 1 : j - 1;
            System.arraycopy(c.data(), 0, cv, col * 2 * d, 2 * d);
        }
        String fout = FrozenGraphs.fileOf(bundle, "mixer_out_" + b);
        OnnxWeights out = OnnxWeights.read(bundle.bytes(fout), bundle.describe() + " " + fout);
        List<OnnxWeights.Init> om = out.usedBy("MatMul");
        List<OnnxWeights.Init> on = out.usedBy("Mul");
        check(om.size() == 4 && on.size() == 3, fout, bundle);
        int hidden = (int) om.get(2).dims()[om.get(2).dims().length - 1];
        check(shape(om.get(0), d, d) && shape(om.get(1), d, d) && shape(om.get(2), d, hidden) && shape(om.get(3), hidden, d)
                && shape(on.get(0), d) && shape(on.get(1), d) && shape(on.get(2), d) && (slow < 0 || slow == hidden), fout, bundle);
        return new MixerWeights.Block(mul.get(0).data(), mm.get(0).data(), cv, on.get(0).data(), on.get(1).data(),
                on.get(2).data(), om.get(0).data(), om.get(1).data(), om.get(2).data(), om.get(3).data());
    }

    /**
     * The mixers of a bundle.
     *
     * @param bundle the bundle whose segments these compute
     * @param blas the products of calls of more than one row
     * @return the mixers
     * @throws BundleException naming the bundle and the file if a segment's weights are not the mixer's
     */
    static RowMixers of(Bundle bundle, Blas blas) {
        return new RowMixers(bundle, blas);
    }

    private static boolean shape(OnnxWeights.Init i, long... dims) {
        return java.util.Arrays.equals(i.dims(), dims);
    }

    private static void check(boolean ok, String file, Bundle bundle) {
        if (!ok) {
            throw new BundleException(bundle.describe() + ": " + file + " does not hold the weights of a Hope mixer segment");
        }
    }

    /** Working arrays of the calls of one caller, for up to {@link #rows} rows. Not thread-safe. */
    static final class Scratch {
        final int rows;
        final float[] ext, c, z, a, g, y, x1, h, hidden, hiddenG;

        private Scratch(int rows, int d, int convW, int slow) {
            this.rows = rows;
            ext = new float[(convW - 1 + rows) * 2 * d];
            c = new float[rows * 2 * d];
            z = new float[rows * d];
            a = new float[rows * d];
            g = new float[rows * d];
            y = new float[rows * d];
            x1 = new float[rows * d];
            h = new float[rows * d];
            hidden = new float[rows * slow];
            hiddenG = new float[rows * slow];
        }
    }

    /**
     * Working arrays for calls of up to {@code n} rows.
     *
     * @param n rows, at least 1
     * @return new scratch: about {@code n * (9 D + 2 hidden)} floats
     */
    Scratch scratch(int n) {
        return new Scratch(n, d, convW, slow);
    }

    /** out rows = x rows / sqrt(mean x^2 + eps) * g, each row's sum of squares by {@link Kernels#sumSquares}. */
    private void rmsnorm(float[] x, int n, float[] g, float[] out) {
        for (int t = 0; t < n; t++) {
            int o = t * d;
            float rr = (float) (1.0 / Math.sqrt(KERNELS.sumSquares(x, o, d) / d + EPS));
            for (int i = 0; i < d; i++) {
                out[o + i] = x[o + i] * rr * g[i];
            }
        }
    }

    /** FrozenGraphs.embed: the rows of the bytes (exactly ONNX Runtime's Gather). */
    void embed(byte[] bytes, int off, int n, float[] x) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(embed, (bytes[off + i] & 0xff) * d, x, i * d, d);
        }
    }

    /** FrozenGraphs.mixerIn for n rows (at most the scratch's). */
    void mixerIn(int b, float[] x, int n, float[] convIn, float[] q, float[] u, float[] convOut, Scratch s) {
        final int c2 = 2 * d, hist = convW - 1;
        float[] ext = s.ext;
        float[] c = s.c;
        // ext = [conv state; p], p = RMSNorm(x) Win
        System.arraycopy(convIn, 0, ext, 0, hist * c2);
        rmsnorm(x, n, inNorm[b], s.z);
        hWin[b].times(s.z, n, ext, hist * c2);
        float[] cw = conv[b];
        for (int t = 0; t < n; t++) {
            int last = (t + hist) * c2, co = t * c2, wl = hist * c2;
            for (int i = 0; i < c2; i++) {
                c[co + i] = ext[last + i] * cw[wl + i];
            }
            for (int j = 0; j < hist; j++) {
                int row = (t + j) * c2, col = j * c2;
                for (int i = 0; i < c2; i++) {
                    c[co + i] = c[co + i] + ext[row + i] * cw[col + i];
                }
            }
            System.arraycopy(c, co, s.a, t * d, d); // the values' half, for SiLU over all rows at once
        }
        KERNELS.sigmoidSilu(s.a, s.g, u, n * d);
        for (int t = 0; t < n; t++) {
            for (int hh = 0; hh < heads; hh++) {
                int o = t * c2 + d + hh * headDim, qo = t * d + hh * headDim;
                float r = (float) Math.sqrt(KERNELS.sumSquares(c, o, headDim) + EPS);
                for (int i = 0; i < headDim; i++) {
                    q[qo + i] = c[o + i] / r;
                }
            }
        }
        System.arraycopy(ext, n * c2, convOut, 0, hist * c2);
    }

    /** FrozenGraphs.mixerOut for n rows (at most the scratch's); x2 may be x. */
    void mixerOut(int b, float[] x, float[] o, int n, float[] x2, Scratch s) {
        final int nd = n * d;
        float[] a = s.a;
        float[] y = s.y;
        float[] x1 = s.x1;
        // a = RMSNorm(o) * silu(RMSNorm(x) Wgate)
        rmsnorm(x, n, normIn[b], s.h);
        hGate[b].times(s.h, n, s.z, 0);
        KERNELS.sigmoidSilu(s.z, s.g, s.z, nd);
        rmsnorm(o, n, normO[b], a);
        for (int i = 0; i < nd; i++) {
            a[i] = a[i] * s.z[i];
        }
        // x1 = x + a Wo
        hO[b].times(a, n, y, 0);
        for (int i = 0; i < nd; i++) {
            x1[i] = x[i] + y[i];
        }
        // x2 = x1 + silu(RMSNorm(x1) Up) Down
        rmsnorm(x1, n, norm3[b], s.z);
        hUp3[b].times(s.z, n, s.hidden, 0);
        KERNELS.sigmoidSilu(s.hidden, s.hiddenG, s.hidden, n * slow);
        hDown3[b].times(s.hidden, n, y, 0);
        for (int i = 0; i < nd; i++) {
            x2[i] = x1[i] + y[i];
        }
    }
}
