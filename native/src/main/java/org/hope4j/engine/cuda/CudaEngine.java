package org.hope4j.engine.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToLongFunction;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.hope4j.BackendException;
import org.hope4j.BundleException;
import org.hope4j.Level;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.MixerWeights;
import org.hope4j.engine.Mixers;
import org.hope4j.engine.StateLayout;

/**
 * The CUDA engine: the same level operations as the CPU engine (runtime's {@code CpuEngine}), run by
 * the kernels of native/src/main/cuda/hope4j_cuda.cu with every piece of plastic state (memories,
 * CMS weights, gradient sums, the held position, the span's activations) resident on the GPU. A call
 * moves only its inputs and outputs across the bus: q and u in, o out for L0; x in, out back for a
 * CMS level; logits back from the head; targets (or d loss / d logits) in for the error signal. With the frozen
 * mixers taken ({@link #attachMixers}) a whole span ({@link #span}) moves only its bytes in and its logits out: the
 * embedding and every block's mixers run on the GPU too (fused into the L0 and CMS kernels), and the span's error signal
 * takes its targets from the bytes already there.
 *
 * <p>Host staging buffers are native memory sized to the engine's largest span, so a call copies only
 * the rows it uses (a Java array passed to JNI would be copied whole). Every native failure becomes a
 * {@link BackendException} whose message names the operation, the kernel and the shapes.
 *
 * <p>Not thread-safe: one caller at a time (the learner serialises access).
 */
final class CudaEngine implements Engine {
    private static final System.Logger LOG = System.getLogger(CudaEngine.class.getName());
    private static final int V = EngineSpec.VOCAB;
    // tensor ids of hope4j_cuda.h
    private static final int W0 = 0, WT = 1, UP1 = 2, DOWN1 = 3, UP2 = 4, DOWN2 = 5, G_UP1 = 6, G_DOWN1 = 7, G_UP2 = 8, G_DOWN2 = 9;
    private static final int P_X2 = 10, P_XF = 18, P_LOGITS = 19, INIT = 20, B_ETA = 21, B_ALPHA = 22, NORM1 = 23, NORM2 = 24;
    private static final int UP1_I = 25, DOWN1_I = 26, UP2_I = 27, DOWN2_I = 28, NORM_F = 29, HEAD = 30;
    private static final int EMBED = 31, IN_NORM = 32, WIN = 33, CONV = 34, NORM_IN = 35, NORM_O = 36, NORM3 = 37, GATE = 38;
    private static final int WO = 39, UP3 = 40, DOWN3 = 41, CONV_STATE = 42;

    private final EngineSpec spec;
    private final int device, d, nb, h, r, dh, f1, f2, maxSpan;
    private final CudaNative.Engine gpu;
    /** Staging: q then u (or x) in, one output back, targets in. */
    private final FloatPointer bufIn, bufOut;
    private final BytePointer bufTargets;
    private int spanRows;
    private boolean hasPending;
    /**
     * Whether an upload from a staging buffer may still be in flight: the error signal returns without waiting for
     * the GPU, so before the host rewrites bufTargets or bufOut it waits for the stream (calls that return results
     * wait anyway, and clear this).
     */
    private boolean uploading;
    private boolean closed;
    /** Whether the mixers are on the GPU ({@link #attachMixers}), and the values of one block's conv state. */
    private boolean mixers;
    private int convSize;
    /**
     * The bytes the last whole span took to the GPU (its own and, where known, the next one), while it is the current
     * span: {@link #accumulate} with these as targets copies nothing. And whether its last row's activations are finite.
     */
    private final byte[] spanBytes;
    private int spanByteCount;
    private boolean spanFinite, lastWasSpan;
    /** Whether the staging buffers are page-locked (false under the emulator or where the driver refused). */
    private final boolean pinned;

    CudaEngine(EngineSpec spec, Map<String, Tensor> plastic, int device) {
        this.spec = spec;
        this.device = device;
        d = spec.dModel();
        nb = spec.nBlocks();
        h = spec.nHeads();
        r = spec.memRows();
        dh = spec.headDim();
        f1 = spec.fastHidden();
        f2 = spec.midHidden();
        maxSpan = spec.maxSpan();
        boolean[] pl = spec.plastic();
        int[] plasticInts = new int[nb];
        for (int b = 0; b < nb; b++) {
            plasticInts[b] = pl[b] ? 1 : 0;
        }
        try {
            CudaNative.load(); // an engine opened without the backend's probe: a clear error, not UnsatisfiedLinkError
        } catch (Throwable t) {
            throw new BackendException("cuda: the JNI library jnihope4jcuda could not load: " + t, t);
        }
        // the staging buffers first and the GPU engine last, so a failure of either leaks neither
        FloatPointer stageIn = null, stageOut = null;
        BytePointer stageTargets = null;
        CudaNative.Engine g = null;
        try {
            stageIn = new FloatPointer(2L * maxSpan * d);
            stageOut = new FloatPointer((long) maxSpan * Math.max(d, V) + 1); // + a whole span's flag
            stageTargets = new BytePointer(maxSpan + 1);
            g = new CudaNative.Engine(device, d, nb, h, dh, r, f2, f1, spec.c0(), spec.c1(), maxSpan, spec.etaMax(), spec.eps(),
                    spec.lr1(), spec.lr2(), plasticInts, spec.decay1(), spec.decay2());
        } catch (RuntimeException | OutOfMemoryError e) {
            for (Pointer p : new Pointer[] {stageIn, stageOut, stageTargets}) {
                if (p != null) {
                    p.close();
                }
            }
            throw new BackendException("cuda: could not open an engine for " + spec + " on device " + device + ": " + e.getMessage(), e);
        }
        spanBytes = new byte[maxSpan + 1];
        bufIn = stageIn;
        bufOut = stageOut;
        bufTargets = stageTargets;
        gpu = g;
        // page-locked staging: copies run asynchronously at full bus speed (pageable: a bounce through a driver buffer)
        boolean all = true;
        for (Pointer p : new Pointer[] {bufIn, bufOut, bufTargets}) {
            all &= CudaNative.cudaPinHost(device, p, p.capacity() * p.sizeof());
        }
        pinned = all;
        try {
            for (Upload u : initialUploads(spec, plastic, gpu::tensorSize)) {
                gpu.set(u.id(), u.block(), u.data(), u.data().length);
            }
            for (int level = 0; level < 3; level++) {
                gpu.resetLevel(level);
            }
        } catch (RuntimeException e) {
            close();
            if (e instanceof StateException) {
                throw e;
            }
            throw new BackendException("cuda: could not upload the initial plastic state: " + e.getMessage(), e);
        }
    }

    /** One tensor set on the native engine: tensor id (hope4j_cuda.h), block, values. */
    record Upload(int id, int block, float[] data) {
    }

    /**
     * What opening an engine sets before resetting every level to its initial value: the fixed tensors and the
     * levels' initial values, by tensor id, checked against the native sizes ({@code size} of an id).
     */
    static List<Upload> initialUploads(EngineSpec spec, Map<String, Tensor> plastic, IntToLongFunction size) {
        int[] ids = {INIT, B_ETA, B_ALPHA, NORM2, UP2_I, DOWN2_I, NORM1, UP1_I, DOWN1_I};
        String[] names = {"l0.init", "l0.b_eta", "l0.b_alpha", "l2.norm", "l2.up", "l2.down", "l1.norm", "l1.up", "l1.down"};
        List<Upload> u = new ArrayList<>();
        for (int b = 0; b < spec.nBlocks(); b++) {
            for (int i = 0; i < ids.length; i++) {
                u.add(upload(ids[i], b, plastic, "blocks." + b + "." + names[i], size));
            }
        }
        u.add(upload(NORM_F, 0, plastic, "head.norm", size));
        u.add(upload(HEAD, 0, plastic, "head.weight", size));
        return u;
    }

    private static Upload upload(int id, int block, Map<String, Tensor> plastic, String name, IntToLongFunction size) {
        return new Upload(id, block, StateLayout.data(plastic, name, (int) size.applyAsLong(id)));
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("CudaEngine (device " + device + ") is closed");
        }
    }

    private BackendException failed(String op, RuntimeException e) {
        return new BackendException("cuda " + op + " failed: " + e.getMessage(), e);
    }

    private void checkSpan(int m) {
        if (m < 0 || m > maxSpan) {
            throw new IllegalArgumentException("span of " + m + " positions exceeds the engine's maximum span " + maxSpan);
        }
    }

    private static void checkLength(String name, float[] a, long need) {
        if (a.length < need) {
            throw new IllegalArgumentException(name + " holds " + a.length + " values, expected at least " + need);
        }
    }

    @Override
    public EngineSpec spec() {
        return spec;
    }

    /** Waits for an upload from a staging buffer that may still be in flight. */
    private void settle() {
        if (uploading) {
            gpu.synchronize();
            uploading = false;
        }
    }

    /**
     * What this engine's calls have cost so far: kernel launches, copies between host and device, host
     * synchronisations (counted by the native engine at each launch, copy and wait).
     */
    long[] costs() {
        open();
        return new long[] {gpu.counter(0), gpu.counter(1), gpu.counter(2)};
    }

    /** Whether the host staging buffers are page-locked. */
    boolean pinnedStaging() {
        return pinned;
    }

    // L0: self-modifying Titans memories (HOPE-MODEL.md §2; kernel memoryKernel)

    @Override
    public void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o) {
        open();
        checkSpan(m);
        int n = m * d;
        checkLength("q", q, n);
        checkLength("u", u, n);
        checkLength("o", o, n);
        bufIn.position(0).put(q, 0, n);
        bufIn.position(n).put(u, 0, n);
        bufIn.position(0);
        try {
            gpu.memory(block, bufIn, m, pos, learn, bufOut);
            uploading = false;
            lastWasSpan = false;
        } catch (RuntimeException e) {
            throw failed("memory(block " + block + ", " + m + " positions from " + pos + ")", e);
        }
        bufOut.position(0).get(o, 0, n);
    }

    // CMS levels L2 (mid) and L1 (fast): y = x + MLP(RMSNorm(x)) (Eq. 70)

    @Override
    public void cms(int block, float[] x, int m, float[] out) {
        open();
        checkSpan(m);
        int n = m * d;
        checkLength("x", x, n);
        checkLength("out", out, n);
        bufIn.position(0).put(x, 0, n);
        try {
            gpu.cms(block, bufIn, m, bufOut);
            uploading = false;
            lastWasSpan = false;
        } catch (RuntimeException e) {
            throw failed("cms(block " + block + ", " + m + " positions)", e);
        }
        bufOut.position(0).get(out, 0, n);
        spanRows = m;
    }

    @Override
    public void head(float[] x, int m, float[] logits) {
        open();
        checkSpan(m);
        checkLength("x", x, (long) m * d);
        checkLength("logits", logits, (long) m * V);
        bufIn.position(0).put(x, 0, m * d);
        try {
            gpu.head(bufIn, m, bufOut);
            uploading = false;
            lastWasSpan = false;
        } catch (RuntimeException e) {
            throw failed("head(" + m + " positions)", e);
        }
        bufOut.position(0).get(logits, 0, m * V);
        spanRows = m;
    }

    // whole spans: the frozen mixers and the embedding on the GPU

    @Override
    public boolean attachMixers(Mixers m) {
        open();
        if (mixers) {
            return true;
        }
        MixerWeights w;
        try {
            w = m.weights();
        } catch (BundleException e) {
            // segments that are not the mixers these kernels compute (the host runs them on ONNX Runtime): level by level
            LOG.log(System.Logger.Level.WARNING, "cuda: the mixers stay on the host (spans run level by level): " + e.getMessage());
            return false;
        }
        if (w.dModel() != d || w.blocks().size() != nb) {
            throw new IllegalArgumentException("mixers of width " + w.dModel() + " and " + w.blocks().size() + " blocks for an engine of "
                    + d + " and " + nb);
        }
        try {
            settle();
            gpu.enableMixers(w.convWidth(), w.slowHidden());
            for (Upload u : mixerUploads(w)) {
                gpu.set(u.id(), u.block(), u.data(), u.data().length);
            }
        } catch (RuntimeException e) {
            throw failed("attachMixers", e);
        }
        convSize = (w.convWidth() - 1) * 2 * d;
        mixers = true;
        return true;
    }

    /**
     * What taking the mixers sets after {@code enableMixers}, by tensor id (hope4j_cuda.h): the embedding, every block's
     * mixer weights (projections transposed: the kernels read one output's weights as a row) and a zero conv state.
     */
    static List<Upload> mixerUploads(MixerWeights w) {
        int d = w.dModel();
        int s = w.slowHidden();
        List<Upload> u = new ArrayList<>();
        u.add(new Upload(EMBED, 0, w.embed()));
        for (int b = 0; b < w.blocks().size(); b++) {
            MixerWeights.Block k = w.blocks().get(b);
            u.add(new Upload(IN_NORM, b, k.inNorm()));
            u.add(new Upload(WIN, b, transpose(k.win(), d, 2 * d)));
            u.add(new Upload(CONV, b, k.conv()));
            u.add(new Upload(NORM_IN, b, k.normIn()));
            u.add(new Upload(NORM_O, b, k.normO()));
            u.add(new Upload(NORM3, b, k.norm3()));
            u.add(new Upload(GATE, b, transpose(k.gate(), d, d)));
            u.add(new Upload(WO, b, transpose(k.wo(), d, d)));
            u.add(new Upload(UP3, b, transpose(k.up(), d, s)));
            u.add(new Upload(DOWN3, b, transpose(k.down(), s, d)));
            u.add(new Upload(CONV_STATE, b, new float[(w.convWidth() - 1) * 2 * d]));
        }
        return u;
    }

    /** The tensor id of a block's conv state (hope4j_cuda.h). */
    static int convStateId() {
        return CONV_STATE;
    }

    /** a [rows, cols] as [cols, rows]. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        return t;
    }

    private void needMixers(String op) {
        if (!mixers) {
            throw new UnsupportedOperationException("cuda " + op + ": the mixers are not on the GPU (attachMixers)");
        }
    }

    @Override
    public void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
        open();
        needMixers("span");
        checkSpan(m);
        checkLength("logits", logits, (long) m * V);
        if (off < 0 || m > data.length - off) {
            throw new IllegalArgumentException("span of " + m + " bytes from " + off + " of " + data.length);
        }
        if (m == 0) {
            return;
        }
        int nBytes = Math.min(m + 1, data.length - off);
        try {
            settle();
            bufTargets.position(0).put(data, off, nBytes);
            bufTargets.position(0);
            gpu.span(bufTargets, nBytes, m, pos, learn, bufOut);
            uploading = false;
        } catch (RuntimeException e) {
            lastWasSpan = false;
            throw failed("span(" + m + " positions from " + pos + ")", e);
        }
        bufOut.position(0).get(logits, 0, m * V);
        spanFinite = bufOut.get((long) m * V) == 1f;
        System.arraycopy(data, off, spanBytes, 0, nBytes);
        spanByteCount = nBytes;
        lastWasSpan = true;
        spanRows = m;
    }

    @Override
    public float[] mixerConv(int block) {
        open();
        needMixers("mixerConv");
        float[] c = new float[convSize];
        try {
            gpu.get(CONV_STATE, block, c, c.length);
        } catch (RuntimeException e) {
            throw failed("mixerConv(block " + block + ")", e);
        }
        return c;
    }

    @Override
    public void setMixerConv(int block, float[] conv) {
        open();
        needMixers("setMixerConv");
        if (conv.length != convSize) {
            throw new IllegalArgumentException("conv state of block " + block + " holds " + convSize + " values, given " + conv.length);
        }
        try {
            gpu.set(CONV_STATE, block, conv, conv.length);
        } catch (RuntimeException e) {
            throw failed("setMixerConv(block " + block + ")", e);
        }
    }

    // error signal and update steps (HOPE-MODEL.md §1, Eq. 71; the residual teach signal)

    @Override
    public void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2) {
        open();
        if (k > spanRows || k > spec.c1()) {
            throw new IllegalArgumentException("accumulate " + k + " positions of a span of " + spanRows + " (at most " + spec.c1()
                    + " per call: one L1 chunk, as on every engine)");
        }
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        try {
            if (lastWasSpan && k < spanByteCount && Arrays.equals(targets, off, off + k, spanBytes, 1, 1 + k)) {
                gpu.accumulateSpan(k, l1, l2); // the span's own next bytes: on the GPU already
                return;
            }
            settle();
            bufTargets.position(0).put(targets, off, k);
            gpu.accumulate(k, bufTargets, l1, l2);
            uploading = true;
        } catch (RuntimeException e) {
            throw failed("accumulate(" + k + " positions)", e);
        }
    }

    @Override
    public void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2) {
        open();
        if (k > spanRows || k > spec.c1()) {
            throw new IllegalArgumentException("accumulateLogitGradient of " + k + " positions of a span of " + spanRows
                    + " (at most " + spec.c1() + " per call: one L1 chunk, as on every engine)");
        }
        if (dLogits.length < k * V) {
            throw new IllegalArgumentException("dLogits holds " + dLogits.length + " values, expected at least " + k * V);
        }
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        try {
            settle();
            bufOut.position(0).put(dLogits, 0, k * V);
            gpu.accumulateLogits(k, bufOut, l1, l2);
            uploading = true;
        } catch (RuntimeException e) {
            throw failed("accumulateLogitGradient(" + k + " positions)", e);
        }
    }

    @Override
    public void holdPending() {
        open();
        try {
            if (lastWasSpan) {
                gpu.holdSpan(spanFinite); // the span brought the flag back with its logits
                hasPending = spanFinite;
                return;
            }
            hasPending = gpu.holdPending(); // false: its activations overflowed, it will not be learned from
            uploading = false;
        } catch (RuntimeException e) {
            throw failed("holdPending", e);
        }
    }

    @Override
    public boolean hasPending() {
        return hasPending;
    }

    @Override
    public void accumulatePending(byte target, boolean l1, boolean l2) {
        open();
        if (!hasPending) {
            return;
        }
        try {
            gpu.accumulatePending(target & 0xff, l1, l2);
        } catch (RuntimeException e) {
            throw failed("accumulatePending", e);
        }
        hasPending = false;
    }

    @Override
    public long rollbacks() {
        open();
        try {
            return gpu.rollbacks();
        } catch (RuntimeException e) {
            throw failed("rollbacks", e);
        }
    }

    @Override
    public void dropPending() {
        hasPending = false;
    }

    @Override
    public void step(boolean l1, boolean l2) {
        open();
        try {
            gpu.step(l1, l2);
        } catch (RuntimeException e) {
            throw failed("step(l1=" + l1 + ", l2=" + l2 + ")", e);
        }
    }

    @Override
    public void resetLevel(Level level) {
        open();
        int id = switch (level) {
            case L0 -> 0;
            case L1 -> 1;
            case L2 -> 2;
            default -> throw new IllegalArgumentException("the engine holds L0, L1 and L2, not " + level);
        };
        try {
            gpu.resetLevel(id);
        } catch (RuntimeException e) {
            throw failed("resetLevel(" + level + ")", e);
        }
    }

    // state: the StateLayout every engine shares, so states move between backends

    @Override
    public Map<String, Tensor> exportState() {
        open();
        Map<String, Tensor> s = new LinkedHashMap<>();
        try {
            for (StateLayout.Entry e : StateLayout.of(spec, hasPending)) {
                float[] data = new float[e.size()];
                gpu.get(idOf(e.key()), Math.max(e.block(), 0), data, data.length);
                s.put(e.name(), new Tensor(e.name(), e.shape(), data));
            }
        } catch (RuntimeException e) {
            throw failed("exportState", e);
        }
        return s;
    }

    @Override
    public void importState(Map<String, Tensor> s) {
        open();
        var layout = StateLayout.check(spec, s); // every tensor before anything changes
        try {
            for (StateLayout.Entry e : layout) {
                float[] data = s.get(e.name()).data();
                gpu.set(idOf(e.key()), Math.max(e.block(), 0), data, data.length);
            }
        } catch (RuntimeException e) {
            throw failed("importState", e);
        }
        hasPending = StateLayout.hasPending(s);
    }

    /** The tensor id (hope4j_cuda.h) of a state entry. */
    static int idOf(String key) {
        return switch (key) {
            case "l0.w0" -> W0;
            case "l0.wt" -> WT;
            case "l1.up" -> UP1;
            case "l1.down" -> DOWN1;
            case "l2.up" -> UP2;
            case "l2.down" -> DOWN2;
            case "l1.g_up" -> G_UP1;
            case "l1.g_down" -> G_DOWN1;
            case "l2.g_up" -> G_UP2;
            case "l2.g_down" -> G_DOWN2;
            case "pending.xf" -> P_XF;
            case "pending.logits" -> P_LOGITS;
            default -> {
                int i = key.startsWith("pending.") ? StateLayout.PENDING.indexOf(key.substring("pending.".length())) : -1;
                if (i < 0) {
                    throw new IllegalArgumentException(key);
                }
                yield P_X2 + i;
            }
        };
    }

    /** Frees the GPU state and the staging buffers; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        gpu.close();
        for (Pointer p : new Pointer[] {bufIn, bufOut, bufTargets}) {
            CudaNative.cudaUnpinHost(device, p); // a no-op for memory that was not pinned
        }
        bufIn.close();
        bufOut.close();
        bufTargets.close();
    }
}
