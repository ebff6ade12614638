package org.hope4j.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hope4j.BackendException;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Manifest;
import org.hope4j.level.Kernels;

/**
 * The frozen (L3) segments of a bundle: {@code embed}, and per block
 * {@code mixer_in_b} (norm, input projection, causal conv with explicit state) and
 * {@code mixer_out_b} (output norm, gate, projection, residual, slow CMS MLP).
 *
 * <p>On the CPU, with OpenBLAS and the Vector API (the {@code hope4j} launcher's default), every call runs in Java
 * ({@link RowMixers}, faster than ONNX Runtime at every row count measured) and ONNX Runtime is not loaded.
 * Otherwise the calls of more than one row run on ONNX Runtime. Execution providers: CPU by default; CUDA or TensorRT
 * when asked for, each falling back to CPU with one log line naming the reason (the provider's own error). Inputs are
 * copied into direct buffers reused across calls, which ONNX Runtime reads without another copy.
 *
 * <p>Not thread-safe: one caller at a time. A second caller takes a {@link #view} (the same sessions, its own buffers).
 */
public final class FrozenGraphs implements AutoCloseable, org.hope4j.engine.Mixers {
    private static final System.Logger LOG = System.getLogger(FrozenGraphs.class.getName());

    /**
     * Calls of at most this many rows compute the mixers in Java ({@link RowMixers}); {@code -Dhope4j.graph.javaRows=0}
     * sends every call to ONNX Runtime. Unset (null): every call on the CPU provider when the products run on OpenBLAS and
     * the element-wise kernels on the Vector API (the Java mixers are then faster at every row count), else calls of one
     * row (ONNX Runtime's fixed cost per call is most of those).
     */
    static final Integer JAVA_ROWS = Integer.getInteger("hope4j.graph.javaRows");

    /** The most rows of a call that runs in Java: {@link #JAVA_ROWS}, or its default for {@code provider}. */
    static int javaRows(String provider) {
        if (JAVA_ROWS != null) {
            return Math.max(0, JAVA_ROWS);
        }
        boolean fast = provider.equals("cpu") && org.hope4j.engine.cpu.CpuBackend.fastProducts()
                && Kernels.active().describe().startsWith("Vector API");
        return fast ? Integer.MAX_VALUE : 1;
    }

    private final OrtEnvironment env;
    private final OrtSession embed;
    private final OrtSession[] mixerIn, mixerOut;
    private final int d, convRows, convCols;
    private final String provider;
    /** This instance's input and output buffers, reused across calls (a view has its own). */
    private final Io io;
    /**
     * The embedding and, for calls of at most {@link #JAVA_ROWS} rows, the mixers in Java (null: ONNX Runtime always), and
     * their scratch; the weights (3.2 MB for the default model) are shared with this instance's views.
     */
    private final RowMixers rows;
    /** The most rows of a call that runs in Java ({@link #javaRows} bounded by this instance's rows), and its scratch. */
    private final int rowLimit, policy;
    /** The most rows of one call. */
    private final int maxRows;
    private final RowMixers.Scratch rowScratch;
    /** How many open instances use these sessions: the owner and its {@link #view views}; the last to close closes them. */
    private final Share share;
    /** The bundle the segments came from: {@link #weights} reads them again for an engine that runs the mixers. */
    private final Bundle bundle;
    private boolean closed;

    private static final class Share {
        private int users = 1;

        synchronized void acquire() {
            users++;
        }

        /** True for the last user. */
        synchronized boolean release() {
            return --users == 0;
        }
    }

    /**
     * Options for the frozen graphs.
     *
     * @param provider "cpu", "cuda" or "tensorrt"
     * @param intraOpThreads ONNX Runtime intra-op threads (1 is fastest for the tiny default model)
     * @param deviceId GPU device for CUDA/TensorRT
     */
    public record Options(String provider, int intraOpThreads, int deviceId) {
        /**
         * Checks the options.
         *
         * @param provider "cpu", "cuda" or "tensorrt" (lower case); a GPU provider that cannot load falls back at open time
         * @param intraOpThreads ONNX Runtime intra-op threads per session, at least 1
         * @param deviceId GPU device for CUDA/TensorRT (ONNX Runtime's device index); ignored on CPU
         * @throws IllegalArgumentException if {@code provider} is not one of the three, or {@code intraOpThreads} is below 1
         */
        public Options {
            if (!List.of("cpu", "cuda", "tensorrt").contains(provider)) {
                throw new IllegalArgumentException("provider must be cpu, cuda or tensorrt, found " + provider);
            }
            if (intraOpThreads < 1) {
                throw new IllegalArgumentException("intraOpThreads must be >= 1, found " + intraOpThreads);
            }
        }

        /**
         * CPU, one thread.
         *
         * @return the options {@code ("cpu", 1, 0)}
         */
        public static Options defaults() {
            return new Options("cpu", 1, 0);
        }
    }

    /** ONNX Runtime sessions opened by any FrozenGraphs and not closed yet (tests check nothing leaks). */
    static final java.util.concurrent.atomic.AtomicInteger OPEN_SESSIONS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The frozen segments of {@code bundle}; {@code maxRows} bounds the positions of one call. Where every call runs in
     * Java ({@link #javaRows}: the CPU provider with OpenBLAS and the Vector API), ONNX Runtime is not loaded and the
     * segments' weights are read by {@link RowMixers}, which refuses a segment that does not hold a mixer's weights;
     * otherwise every segment is opened in ONNX Runtime, and if any fails, the sessions opened so far are closed.
     *
     * @param bundle the verified bundle whose {@code embed}, {@code mixer_in_b} and {@code mixer_out_b} segments are opened
     * @param options the execution provider and threads; a GPU provider that fails to load falls back (see {@link #provider()})
     * @param maxRows the most positions {@code n} one call of {@link #embed}, {@link #mixerIn} or {@link #mixerOut} may
     *     pass, at least 1; the reused input and output buffers are sized for it
     * @throws IllegalArgumentException if {@code maxRows} is below 1 or its buffers would exceed 2 GB (before any session opens)
     * @throws BackendException if ONNX Runtime cannot create the session options
     * @throws org.hope4j.BundleException naming the bundle and the file if the manifest lacks a segment, or ONNX Runtime
     *     cannot open a segment, or a segment's ports differ from what the manifest declares
     */
    public FrozenGraphs(Bundle bundle, Options options, int maxRows) {
        this(bundle, options, maxRows, -1);
    }

    /**
     * As {@link #FrozenGraphs(Bundle, Options, int)}, with the most rows of a call that runs in Java given (tests compare
     * the two paths).
     *
     * @param javaRows the most rows of a call computed in Java (0: ONNX Runtime always), or -1 for {@link #javaRows}
     */
    FrozenGraphs(Bundle bundle, Options options, int maxRows, int javaRows) {
        Manifest.ModelConfig mc = bundle.manifest().model();
        checkRows(maxRows, mc.dModel()); // before any session opens: nothing to close
        share = new Share();
        this.bundle = bundle;
        d = mc.dModel();
        convRows = mc.convWidth() - 1;
        convCols = 2 * d;
        this.maxRows = maxRows;
        int java = javaRows < 0 ? javaRows(options.provider()) : javaRows;
        RowMixers mixers = java > 0 ? rowMixers(bundle) : null;
        int nb = mc.nBlocks();
        mixerIn = new OrtSession[nb];
        mixerOut = new OrtSession[nb];
        String chosen;
        if (mixers != null && java >= maxRows) {
            // every call runs in Java: ONNX Runtime is not loaded at all (its library, environment and nine sessions:
            // about 30 MB of memory and a quarter of a start)
            env = null;
            embed = null;
            chosen = "cpu";
            io = null;
        } else {
            org.hope4j.engine.NativeCache.prepare(); // ONNX Runtime's libraries from the owner-only cache
            env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = sessionOptions(options)) {
                chosen = addProvider(so, options);
                embed = session(bundle, "embed.onnx", so);
                for (int b = 0; b < nb; b++) {
                    mixerIn[b] = session(bundle, fileOf(bundle, "mixer_in_" + b), so);
                    mixerOut[b] = session(bundle, fileOf(bundle, "mixer_out_" + b), so);
                }
            } catch (OrtException e) {
                closeSessions();
                throw new BackendException("ONNX Runtime could not open the segments of " + bundle.describe() + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                // a later segment missing from the manifest (BundleException) or unreadable: the sessions
                // opened so far are closed, not leaked
                closeSessions();
                throw e;
            }
            io = Io.of(maxRows, d, convRows * convCols);
            if (javaRows < 0) {
                java = javaRows(chosen); // a GPU provider that fell back to the CPU
            }
        }
        provider = chosen;
        rows = mixers;
        policy = mixers == null ? 0 : java;
        rowLimit = Math.min(policy, maxRows);
        rowScratch = mixers != null ? mixers.scratch(rowLimit) : null;
    }

    @Override
    public int convWidth() {
        return convRows + 1;
    }

    /**
     * The weights of the embedding and the mixers, read from the bundle's segments again (the host keeps them in its own
     * form), for an engine that computes them itself.
     *
     * @return the weights
     * @throws org.hope4j.BundleException naming the bundle and the file where a segment does not hold a mixer's weights
     */
    @Override
    public org.hope4j.engine.MixerWeights weights() {
        return RowMixers.weightsOf(bundle);
    }

    /** The bundle's mixers in Java, or null (logged) where its segments are not the mixers RowMixers knows. */
    private static RowMixers rowMixers(Bundle bundle) {
        try {
            return RowMixers.of(bundle, org.hope4j.engine.cpu.CpuBackend.products());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the mixers of " + bundle.describe() + " run on ONNX Runtime for every call: " + e.getMessage());
            return null;
        }
    }

    private static void checkRows(int maxRows, int d) {
        if (maxRows < 1 || (long) maxRows * d * Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxRows must be in 1.." + Integer.MAX_VALUE / Float.BYTES / d + ", found " + maxRows);
        }
    }

    /** Direct buffers ONNX Runtime reads the inputs from and writes the outputs into, sized for {@code maxRows} positions. */
    private record Io(FloatBuffer x, FloatBuffer o, FloatBuffer conv, FloatBuffer a, FloatBuffer b, FloatBuffer convOut, LongBuffer tok) {
        static Io of(int maxRows, int d, int convSize) {
            return new Io(direct(maxRows * d), direct(maxRows * d), direct(convSize), direct(maxRows * d), direct(maxRows * d), direct(convSize),
                    ByteBuffer.allocateDirect(maxRows * 8).order(ByteOrder.nativeOrder()).asLongBuffer());
        }
    }

    /** A view: the owner's sessions, buffers of its own. */
    private FrozenGraphs(FrozenGraphs owner, int maxRows) {
        checkRows(maxRows, owner.d);
        this.maxRows = maxRows;
        share = owner.share;
        bundle = owner.bundle;
        env = owner.env;
        embed = owner.embed;
        mixerIn = owner.mixerIn;
        mixerOut = owner.mixerOut;
        provider = owner.provider;
        d = owner.d;
        convRows = owner.convRows;
        convCols = owner.convCols;
        io = owner.io == null ? null : Io.of(maxRows, d, convRows * convCols);
        rows = owner.rows;
        policy = owner.policy;
        rowLimit = Math.min(policy, maxRows);
        rowScratch = rows != null ? rows.scratch(rowLimit) : null;
    }

    /**
     * Another caller's access to the same ONNX Runtime sessions, with input and output buffers of its own, so that two
     * threads can run the segments at once (ONNX Runtime's {@code Run} is thread-safe; these buffers are not): a
     * learner's sleep runs on its learner's sessions instead of opening nine more (about 15 MB of native memory). The
     * sessions stay open until this and every other view and the original are closed, in any order.
     *
     * @param maxRows the most positions one call of the view may pass, at least 1
     * @return a new view; the caller closes it
     * @throws IllegalStateException if this is closed
     * @throws IllegalArgumentException if {@code maxRows} is below 1 or its buffers would exceed 2 GB
     */
    public FrozenGraphs view(int maxRows) {
        synchronized (share) {
            open();
            share.acquire();
        }
        try {
            return new FrozenGraphs(this, maxRows);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (share.release()) {
                closeSessions(); // the original and its other views closed meanwhile
            }
            throw e;
        }
    }

    /**
     * One segment's session. The options were accepted already, so a segment ONNX Runtime cannot open
     * is a bad file of the bundle (its checksum matched, so it was written that way): a
     * {@link org.hope4j.BundleException} naming it.
     */
    private OrtSession session(Bundle bundle, String file, OrtSession.SessionOptions so) {
        OrtSession s;
        try {
            s = env.createSession(bundle.bytes(file), so);
        } catch (OrtException e) {
            throw new org.hope4j.BundleException(bundle.describe() + ": file " + file + ": ONNX Runtime cannot open this segment: " + e.getMessage(), e);
        }
        OPEN_SESSIONS.incrementAndGet();
        try {
            for (Manifest.Segment seg : bundle.manifest().segments()) {
                if (seg.file().equals(file)) {
                    checkPorts(bundle, seg, "inputs", seg.inputs(), s.getInputInfo());
                    checkPorts(bundle, seg, "outputs", seg.outputs(), s.getOutputInfo());
                }
            }
        } catch (OrtException | RuntimeException e) {
            try {
                s.close();
                OPEN_SESSIONS.decrementAndGet();
            } catch (OrtException ignored) {
                // the refusal below is what matters
            }
            throw e instanceof org.hope4j.BundleException be ? be
                    : new org.hope4j.BundleException(bundle.describe() + ": file " + file + ": cannot read its ports: " + e.getMessage(), e);
        }
        return s;
    }

    /**
     * A segment's graph must have the ports its manifest entry declares (names in order, element types,
     * fixed dimensions): a segment file swapped for another, its checksum updated, is refused at load
     * rather than failing in the first call.
     */
    private static void checkPorts(Bundle bundle, Manifest.Segment seg, String what, java.util.List<Manifest.Port> want,
            java.util.Map<String, ai.onnxruntime.NodeInfo> found) {
        String where = bundle.describe() + ": file " + seg.file() + ": ";
        if (!new java.util.ArrayList<>(found.keySet()).equals(want.stream().map(Manifest.Port::name).toList())) {
            throw new org.hope4j.BundleException(where + "the graph's " + what + " are " + found.keySet() + ", but " + Bundle.MANIFEST
                    + " segments " + seg.name() + " declares " + want.stream().map(Manifest.Port::name).toList());
        }
        for (Manifest.Port p : want) {
            if (!(found.get(p.name()).getInfo() instanceof ai.onnxruntime.TensorInfo t)) {
                throw new org.hope4j.BundleException(where + p.name() + " is not a tensor");
            }
            String type = switch (t.type) {
                case FLOAT -> "float32";
                case INT64 -> "int64";
                default -> t.type.toString();
            };
            long[] shape = t.getShape();
            boolean same = type.equals(p.type()) && shape.length == p.shape().size();
            for (int i = 0; same && i < shape.length; i++) {
                same = p.shape().get(i) < 0 ? shape[i] < 0 : shape[i] < 0 || shape[i] == p.shape().get(i); // -1: the dynamic axis
            }
            if (!same) {
                throw new org.hope4j.BundleException(where + p.name() + " is " + type + " " + java.util.Arrays.toString(shape) + ", but "
                        + Bundle.MANIFEST + " segments " + seg.name() + " declares " + p.type() + " " + p.shape());
            }
        }
    }

    static String fileOf(Bundle bundle, String segment) {
        for (Manifest.Segment s : bundle.manifest().segments()) {
            if (s.name().equals(segment)) {
                return s.file();
            }
        }
        throw new org.hope4j.BundleException(bundle.describe() + ": manifest.json has no segment " + segment);
    }

    private static OrtSession.SessionOptions sessionOptions(Options o) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(o.intraOpThreads());
        so.setInterOpNumThreads(1);
        if (o.intraOpThreads() > 1) {
            // every segment has its own pool: spinning workers of 9 sessions starve each other
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
        }
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        // ONNX Runtime's CPU arena and memory patterns keep the largest span's buffers per session; without them a
        // score of 100 KB peaks 10 MB lower at the same CPU time (README "Performance"); -Dhope4j.ort.arena=true
        if (!Boolean.parseBoolean(System.getProperty("hope4j.ort.arena", "false"))) {
            so.setCPUArenaAllocator(false);
            so.setMemoryPatternOptimization(false);
        }
        return so;
    }

    /**
     * Adds the asked-for execution provider, falling back TensorRT -> CUDA -> CPU; returns the one in use.
     * Each fallback logs the provider's real cause: ONNX Runtime lists CUDA among its available providers
     * even when its libraries are missing, and says why only when the provider is added. Provider
     * options, as system properties: {@code hope4j.ort.gpuMemLimit} (bytes, CUDA arena limit),
     * {@code hope4j.ort.trt.fp16=true} (TensorRT FP16 kernels), {@code hope4j.ort.trt.cacheDir} (TensorRT
     * engine cache directory, enables the cache); the device is {@link Options#deviceId()}.
     */
    private static String addProvider(OrtSession.SessionOptions so, Options o) {
        if (o.provider().equals("tensorrt")) {
            try (var trt = new ai.onnxruntime.providers.OrtTensorRTProviderOptions(o.deviceId())) {
                if (Boolean.getBoolean("hope4j.ort.trt.fp16")) {
                    trt.add("trt_fp16_enable", "1");
                }
                String cache = System.getProperty("hope4j.ort.trt.cacheDir");
                if (cache != null && !cache.isBlank()) {
                    trt.add("trt_engine_cache_enable", "1");
                    trt.add("trt_engine_cache_path", cache);
                }
                so.addTensorrt(trt);
                return "tensorrt";
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                LOG.log(System.Logger.Level.WARNING, "TensorRT execution provider unavailable, trying CUDA: {0}", e.getMessage());
            }
        }
        if (o.provider().equals("tensorrt") || o.provider().equals("cuda")) {
            try (var cuda = new ai.onnxruntime.providers.OrtCUDAProviderOptions(o.deviceId())) {
                String limit = System.getProperty("hope4j.ort.gpuMemLimit");
                if (limit != null && !limit.isBlank()) {
                    cuda.add("gpu_mem_limit", Long.toString(Long.parseLong(limit.trim())));
                }
                so.addCUDA(cuda);
                return "cuda";
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                LOG.log(System.Logger.Level.WARNING, "CUDA execution provider unavailable, falling back to CPU: {0}", e.getMessage());
            }
        }
        return "cpu";
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /**
     * The execution provider the sessions use: "cpu", "cuda" or "tensorrt".
     *
     * @return the provider actually in use, which is the one asked for or a fallback from it (TensorRT, then CUDA, then CPU)
     */
    public String provider() {
        return provider;
    }

    /**
     * Execution providers this ONNX Runtime build lists (which may still fail to load).
     *
     * @return ONNX Runtime's provider names, for example {@code CPU} or {@code CUDA}, in the order it lists them
     */
    public static List<String> availableProviders() {
        List<String> out = new ArrayList<>();
        for (var p : OrtEnvironment.getAvailableProviders()) {
            out.add(p.name());
        }
        return out;
    }

    private void checkN(int n) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("a call holds 1.." + maxRows + " positions (maxRows), found " + n);
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("FrozenGraphs is closed");
        }
    }

    /**
     * x [n, D] = embedding of bytes[off, off+n).
     *
     * @param bytes the input bytes; each is a token 0..255 (read unsigned)
     * @param off index of the first byte to embed in {@code bytes}
     * @param n number of positions, from 1 to the {@code maxRows} given at construction
     * @param x receives the embeddings, row-major [n, D] in its first {@code n * D} floats
     * @throws IllegalStateException if this is closed
     * @throws BackendException if ONNX Runtime fails the run
     */
    public void embed(byte[] bytes, int off, int n, float[] x) {
        open();
        checkN(n);
        if (rows != null) {
            rows.embed(bytes, off, n, x); // a table lookup: exactly the Gather, without ONNX Runtime's cost per call
            return;
        }
        io.tok().clear();
        for (int i = 0; i < n; i++) {
            io.tok().put(bytes[off + i] & 0xffL);
        }
        io.tok().flip();
        try (OnnxTensor t = OnnxTensor.createTensor(env, io.tok(), new long[] {n});
             OnnxTensor ox = pinned(io.a(), n * d, new long[] {n, d});
             OrtSession.Result r = embed.run(Map.of("tokens", t), Map.of("x", ox))) {
            drain(io.a(), x, n * d);
        } catch (OrtException e) {
            throw new BackendException("embed failed for " + n + " positions: " + e.getMessage(), e);
        }
    }

    /**
     * q, u [n, D] and the new conv state [W-1, 2D] from x [n, D] and the conv state.
     *
     * @param block the block index, from 0 to the model's block count - 1
     * @param x the block input, row-major [n, D] in its first {@code n * D} floats
     * @param n number of positions, from 1 to the {@code maxRows} given at construction
     * @param conv the causal conv state before these positions, row-major [W-1, 2D] (W the manifest's {@code conv_width})
     * @param q receives the queries, [n, D]
     * @param u receives the values to write, [n, D]
     * @param convOut receives the conv state after these positions, [W-1, 2D]; may be {@code conv} itself (the input is
     *     copied before the run)
     * @throws IllegalStateException if this is closed
     * @throws BackendException if ONNX Runtime fails the run
     */
    public void mixerIn(int block, float[] x, int n, float[] conv, float[] q, float[] u, float[] convOut) {
        open();
        checkN(n);
        if (n <= rowLimit && rows != null) {
            rows.mixerIn(block, x, n, conv, q, u, convOut, rowScratch);
            return;
        }
        try (OnnxTensor tx = tensor(io.x(), x, n * d, new long[] {n, d});
             OnnxTensor tc = tensor(io.conv(), conv, convRows * convCols, new long[] {convRows, convCols});
             OnnxTensor oq = pinned(io.a(), n * d, new long[] {n, d});
             OnnxTensor ou = pinned(io.b(), n * d, new long[] {n, d});
             OnnxTensor oc = pinned(io.convOut(), convRows * convCols, new long[] {convRows, convCols});
             OrtSession.Result r = mixerIn[block].run(Map.of("x", tx, "conv_state", tc), Map.of("q", oq, "u", ou, "conv_state_out", oc))) {
            drain(io.a(), q, n * d);
            drain(io.b(), u, n * d);
            drain(io.convOut(), convOut, convRows * convCols);
        } catch (OrtException e) {
            throw new BackendException("mixer_in_" + block + " failed for " + n + " positions: " + e.getMessage(), e);
        }
    }

    /**
     * x2 [n, D] from the block input x and the memory reads o.
     *
     * @param block the block index, from 0 to the model's block count - 1
     * @param x the block input, row-major [n, D] in its first {@code n * D} floats
     * @param o the memory reads for the same positions, [n, D]
     * @param n number of positions, from 1 to the {@code maxRows} given at construction
     * @param x2 receives the block's output (residual included), [n, D]; may be {@code x} itself
     * @throws IllegalStateException if this is closed
     * @throws BackendException if ONNX Runtime fails the run
     */
    public void mixerOut(int block, float[] x, float[] o, int n, float[] x2) {
        open();
        checkN(n);
        if (n <= rowLimit && rows != null) {
            rows.mixerOut(block, x, o, n, x2, rowScratch);
            return;
        }
        try (OnnxTensor tx = tensor(io.x(), x, n * d, new long[] {n, d});
             OnnxTensor to = tensor(io.o(), o, n * d, new long[] {n, d});
             OnnxTensor ox = pinned(io.a(), n * d, new long[] {n, d});
             OrtSession.Result r = mixerOut[block].run(Map.of("x", tx, "o", to), Map.of("x2", ox))) {
            drain(io.a(), x2, n * d);
        } catch (OrtException e) {
            throw new BackendException("mixer_out_" + block + " failed for " + n + " positions: " + e.getMessage(), e);
        }
    }

    private OnnxTensor tensor(FloatBuffer buf, float[] data, int count, long[] shape) throws OrtException {
        buf.clear();
        buf.put(data, 0, count);
        buf.flip();
        return OnnxTensor.createTensor(env, buf, shape);
    }

    /** An output tensor ONNX Runtime writes into {@code buf} directly (pinned output, no allocation). */
    private OnnxTensor pinned(FloatBuffer buf, int count, long[] shape) throws OrtException {
        buf.clear();
        buf.limit(count);
        return OnnxTensor.createTensor(env, buf, shape);
    }

    private static void drain(FloatBuffer buf, float[] out, int count) {
        buf.rewind();
        buf.get(out, 0, count);
    }

    @Override
    public void close() {
        synchronized (share) {
            if (closed) {
                return;
            }
            closed = true;
            if (!share.release()) {
                return; // a view or the original still runs on the sessions
            }
        }
        closeSessions();
    }

    private void closeSessions() {
        List<OrtSession> all = new ArrayList<>();
        all.add(embed);
        all.addAll(java.util.Arrays.asList(mixerIn));
        all.addAll(java.util.Arrays.asList(mixerOut));
        for (OrtSession s : all) {
            if (s != null) {
                OPEN_SESSIONS.decrementAndGet();
                try {
                    s.close();
                } catch (OrtException e) {
                    LOG.log(System.Logger.Level.WARNING, "closing an ONNX Runtime session failed: {0}", e.getMessage());
                }
            }
        }
    }
}
