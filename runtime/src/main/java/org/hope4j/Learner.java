package org.hope4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backend;
import org.hope4j.engine.BackendInfo;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Learning;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.sleep.Consolidation;
import org.hope4j.sleep.ExperienceBuffer;
import org.hope4j.sleep.ExpertPool;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepListener;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepScheduler;
import org.hope4j.sleep.Sleeper;
import org.hope4j.state.AtomicFiles;
import org.hope4j.state.EpisodicFile;

/**
 * A Hope model that keeps learning from the bytes it reads, on this device.
 *
 * <p>{@link #observe} reads text and learns from it (every level at its own period);
 * {@link #score} measures bits/byte without changing anything; {@link #generate} continues a prompt;
 * {@link #save}/{@link #restore} persist what was learned atomically.
 *
 * <p><b>Thread safety:</b> every public method is {@code synchronized}: calls from several threads
 * are safe and run one at a time, in the order they take the lock. A learner is not a pool: use
 * one learner per stream of text. {@link #close()} frees the native resources; any later call
 * throws {@link IllegalStateException}.
 */
public final class Learner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Learner.class.getName());
    /** Bytes read per engine call by the streaming readers. */
    private static final int READ_BLOCK = 1 << 16;
    static final String STATE_FILE = "learner.state";
    static final String STATE_FORMAT = "hope4j-state";
    /** 2: the metadata is under a checksum too ({@code metadata_sha256}); 1: only the tensors were. */
    static final int STATE_VERSION = 2;

    private final Bundle bundle;
    private final FrozenGraphs graphs;
    private final Engine engine;
    private final BackendInfo backendInfo;
    private final HopeStream stream;
    static final String EXPERIENCE_FILE = "experience.bin";

    private final Set<Level> frozen = EnumSet.noneOf(Level.class);
    private ExperienceBuffer experience;
    private volatile boolean closed;
    /** Set first by close(): running sleeps stop. */
    private volatile boolean closing;

    // sleep
    private final Backend backend;
    private final FrozenGraphs.Options graphOptions;
    private final ReentrantLock sleepLock = new ReentrantLock();
    /** Bumped by every change of the learned state; a sleep commits only onto the state it started from. */
    private volatile long version;
    private ExpertPool pool;
    private volatile SleepScheduler scheduler;
    private SleepWorkspace workspace;
    private volatile Consolidation.Result lastSleep;

    /** The episodic level E mixed into every prediction, or null (the neural levels alone). */
    private final EpisodicLevel episodic;

    Learner(Bundle bundle, FrozenGraphs graphs, Engine engine, BackendInfo info, int experienceBytes, Backend backend,
            FrozenGraphs.Options graphOptions, EpisodicLevel episodic) {
        this.experience = new ExperienceBuffer(experienceBytes);
        this.bundle = bundle;
        this.graphs = graphs;
        this.engine = engine;
        this.backendInfo = info;
        this.backend = backend;
        this.graphOptions = graphOptions;
        this.stream = new HopeStream(graphs, engine, bundle.manifest().model().convWidth());
        this.episodic = episodic;
        stream.setEpisodic(episodic);
        this.pool = emptyPool(SleepConfig.defaults());
    }

    private ExpertPool emptyPool(SleepConfig c) {
        var s = engine.spec();
        return new ExpertPool(c.poolSize(), s.nBlocks(), s.dModel(), s.midHidden(), c.rank());
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("Learner is closed");
        }
    }

    /** Tells an attached scheduler about a user call: it preempts a running sleep (outside the lock). */
    private void touch() {
        SleepScheduler s = scheduler;
        if (s != null) {
            s.touch();
        }
    }

    private Learning learning() {
        return new Learning(!frozen.contains(Level.L0), !frozen.contains(Level.L1), !frozen.contains(Level.L2));
    }

    /** Reads {@code data} and learns from it. Each byte is scored before anything learns from it (prequential). */
    public Score observe(byte[] data) {
        return observe(data, null);
    }

    /**
     * As {@link #observe(byte[])}, handing the surprise of every scored byte (its bits under the
     * learner's prediction, before learning from it) to {@code surprise} as {@code (position, bits)}:
     * an unusual log line or a typo stands out as a run of high values ({@code null}: no sink).
     */
    public Score observe(byte[] data, HopeStream.BitsSink surprise) {
        touch();
        synchronized (this) {
            open();
            stream.setBitsSink(surprise);
            try {
                long l1 = stream.counts()[1];
                version++;
                Score s = read(data, 0, data.length, learning());
                experience.append(data, 0, data.length);
                boundary(l1);
                return s;
            } finally {
                stream.setBitsSink(null);
            }
        }
    }

    /** The paper's trigger: tells an attached scheduler that L1 reached an update boundary. */
    private void boundary(long l1Before) {
        SleepScheduler s = scheduler;
        if (s != null && stream.counts()[1] > l1Before) {
            s.levelBoundary("L1");
        }
    }

    /** {@link #observe(byte[])} of the UTF-8 bytes of {@code text}. */
    public synchronized Score observe(String text) {
        return observe(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Streams {@code in} to its end through {@link #observe(byte[])} in bounded memory. */
    public Score observe(InputStream in) throws IOException {
        touch();
        synchronized (this) {
            return observeStream(in);
        }
    }

    private Score observeStream(InputStream in) throws IOException {
        open();
        long l1 = stream.counts()[1];
        version++;
        Score total = Score.empty();
        byte[] buf = new byte[READ_BLOCK];
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            total = total.plus(read(buf, 0, n, learning()));
            experience.append(buf, 0, n);
        }
        boundary(l1);
        return total;
    }

    private Score read(byte[] data, int off, int len, Learning l) {
        boolean keepE = episodic != null && frozen.contains(Level.E);
        if (keepE) {
            episodic.begin();
        }
        try {
            double[] r = stream.read(data, off, len, l, null);
            return new Score(len, (long) r[1], r[0]);
        } finally {
            if (keepE) {
                episodic.rollback();
            }
        }
    }

    /** Runs {@code body} so that the episodic level ends as it began (score, generate). */
    private <T> T keepingEpisodic(java.util.function.Supplier<T> body) {
        if (episodic == null) {
            return body.get();
        }
        episodic.begin();
        try {
            return body.get();
        } finally {
            episodic.rollback();
        }
    }

    /**
     * Bits/byte of {@code data} read from the current state with the CMS levels frozen (the L0
     * memory reads in context, as in inference). The learner's state is left exactly as it was.
     */
    public Score score(byte[] data) {
        touch();
        synchronized (this) {
            return scoreLocked(data);
        }
    }

    private Score scoreLocked(byte[] data) {
        open();
        HopeStream.Snapshot before = stream.snapshot();
        try {
            return keepingEpisodic(() -> {
                double[] r = stream.read(data, 0, data.length, new Learning(!frozen.contains(Level.L0), false, false), null);
                return new Score(data.length, (long) r[1], r[0]);
            });
        } finally {
            stream.restore(before);
        }
    }

    /** {@link #score(byte[])} of the UTF-8 bytes of {@code text}. */
    public synchronized Score score(String text) {
        return score(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Continues {@code prompt} by up to {@code maxBytes} bytes, handing each byte to {@code sink} as
     * soon as it is chosen. Reads the prompt and its own output in context (L0) without learning;
     * the learner's state is left exactly as it was. Returns the generated bytes.
     */
    public byte[] generate(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink) {
        touch();
        synchronized (this) {
            return generateLocked(prompt, maxBytes, sampling, sink);
        }
    }

    private byte[] generateLocked(byte[] prompt, int maxBytes, Sampling sampling, Consumer<byte[]> sink) {
        open();
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0, found " + maxBytes);
        }
        HopeStream.Snapshot before = stream.snapshot();
        Learning l = new Learning(!frozen.contains(Level.L0), false, false);
        Random rnd = new Random(sampling.seed());
        byte[] out = new byte[maxBytes];
        try {
            return keepingEpisodic(() -> {
                if (prompt.length > 0) {
                    stream.read(prompt, 0, prompt.length, l, null);
                }
                float[] logits = stream.lastLogits();
                byte[] one = new byte[1];
                for (int i = 0; i < maxBytes; i++) {
                    // with E: the mixture chooses bit by bit (E learns the byte as it is chosen), so the
                    // stream reads the byte without coding it through E a second time
                    int next = logits == null ? ' ' : episodic != null ? episodic.sample(logits, 0, sampling.temperature(), rnd) : sample(logits, sampling, rnd);
                    out[i] = (byte) next;
                    one[0] = (byte) next;
                    if (sink != null) {
                        sink.accept(one.clone());
                    }
                    stream.setEpisodic(null);
                    try {
                        stream.read(one, 0, 1, l, null);
                    } finally {
                        stream.setEpisodic(episodic);
                    }
                    logits = stream.lastLogits();
                }
                return out;
            });
        } finally {
            stream.restore(before);
        }
    }

    /** {@link #generate(byte[], int, Sampling, Consumer)} of a UTF-8 prompt, without a sink. */
    public synchronized String generate(String prompt, int maxBytes, Sampling sampling) {
        return new String(generate(prompt.getBytes(StandardCharsets.UTF_8), maxBytes, sampling, null), StandardCharsets.UTF_8);
    }

    static int sample(float[] logits, Sampling s, Random rnd) {
        int n = logits.length;
        if (s.temperature() == 0) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double[] p = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double cutoff = Double.NEGATIVE_INFINITY;
        if (s.topK() > 0 && s.topK() < n) {
            float[] sorted = logits.clone();
            java.util.Arrays.sort(sorted);
            cutoff = sorted[n - s.topK()];
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = logits[i] < cutoff ? 0 : Math.exp((logits[i] - max) / s.temperature());
            sum += p[i];
        }
        double u = rnd.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            u -= p[i];
            if (u <= 0 && p[i] > 0) {
                return i;
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            if (p[i] > 0) {
                return i;
            }
        }
        return 0;
    }

    /** Stops {@code level} from learning (it keeps its current value) until {@link #unfreeze}. */
    public synchronized void freeze(Level level) {
        open();
        frozen.add(level);
    }

    /** Lets {@code level} learn again. */
    public synchronized void unfreeze(Level level) {
        open();
        frozen.remove(level);
    }

    /** The levels that currently do not learn. */
    public synchronized Set<Level> frozenLevels() {
        return frozen.isEmpty() ? EnumSet.noneOf(Level.class) : EnumSet.copyOf(frozen);
    }

    /** Resets {@code level} of every block to its pretrained value (and clears its pending gradients). */
    public void reset(Level level) {
        touch();
        synchronized (this) {
            open();
            version++;
            if (level == Level.E) {
                if (episodic != null) {
                    episodic.reset();
                }
            } else {
                engine.resetLevel(level.name());
            }
        }
    }

    /** Positions read since the stream began (or since the restored state began). */
    public synchronized long position() {
        open();
        return stream.position();
    }

    /** Update counts of L0, L1 and L2 since the stream began. */
    public synchronized Map<Level, Long> updateCounts() {
        open();
        long[] c = stream.counts();
        Map<Level, Long> m = new LinkedHashMap<>();
        m.put(Level.L0, c[0]);
        m.put(Level.L1, c[1]);
        m.put(Level.L2, c[2]);
        if (episodic != null) {
            m.put(Level.E, episodic.position());
        }
        return m;
    }

    /** A copy of the most recently observed bytes (oldest first), what sleep consolidates from. */
    public synchronized byte[] recentExperience() {
        open();
        return experience.contents();
    }

    /** Forgets the recent experience (in memory; the next {@link #save} writes the empty buffer). */
    public synchronized void clearExperience() {
        open();
        experience.clear();
    }

    /** Which backend runs the plastic levels and why the others do not. */
    public BackendInfo backendInfo() {
        return backendInfo;
    }

    /** The execution provider of the frozen segments. */
    public String graphProvider() {
        return graphs.provider();
    }

    /** The bundle this learner runs. */
    public Bundle bundle() {
        return bundle;
    }

    /** Internal: the stream, for parity tests and benchmarks in this project. */
    public HopeStream stream() {
        open();
        return stream;
    }

    // ---------------------------------------------------------------------------------------------
    // persistence

    /**
     * Saves the whole learned state into {@code dir} (created if needed) as one file written
     * atomically (temp file, fsync, rename): a crash leaves either the old state or the new one.
     */
    public synchronized void save(Path dir) {
        open();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StateException(dir + ": cannot create the state directory: " + e.getMessage(), e);
        }
        HopeStream.Snapshot s = stream.snapshot();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", STATE_FORMAT);
        meta.put("format_version", Integer.toString(STATE_VERSION));
        meta.put("bundle_plastic_sha256", bundlePlasticSha());
        meta.put("position", Long.toString(s.position()));
        long[] c = s.counts();
        meta.put("count_l0", Long.toString(c[0]));
        meta.put("count_l1", Long.toString(c[1]));
        meta.put("count_l2", Long.toString(c[2]));
        meta.put("frozen", String.join(",", frozen.stream().map(Enum::name).toList()));
        Map<String, Tensor> all = new TreeMap<>(s.tensors());
        all.putAll(pool.toTensors());
        String bad = firstNonFinite(all);
        if (bad != null) {
            // never let a poisoned state reach the disk: the state saved before stays as it was
            throw new StateException(dir + ": the learner's state holds NaN or infinite values (tensor " + bad
                    + "); nothing was saved, the state on disk is unchanged (reset or restore the learner)");
        }
        EpisodicFile.Saved eps = episodic == null ? null : EpisodicFile.save(episodic, dir);
        if (eps != null) {
            meta.put("episodic_file", eps.file());
            meta.put("episodic_sha256", eps.sha256());
        }
        meta.put("data_sha256", dataSha(all));
        meta.put("metadata_sha256", metaSha(meta));
        // owner-only: the state holds what the user's own text taught the model
        AtomicFiles.write(dir.resolve(STATE_FILE), Safetensors.toBytes(all, meta), AtomicFiles.Access.OWNER_ONLY);
        // the experience buffer is auxiliary: a crash between the two writes leaves a consistent state
        // with the previous buffer, which is still text the user wrote
        experience.save(dir.resolve(EXPERIENCE_FILE));
        if (eps != null) {
            EpisodicFile.deleteOthers(dir, eps.file());
        }
    }

    /**
     * Replaces the current state with the one saved in {@code dir}. The file is fully verified
     * (format, version, bundle, checksum, every tensor's shape) before anything changes: on any
     * error the current state is untouched and a {@link StateException} names the file and field.
     */
    public void restore(Path dir) {
        touch();
        synchronized (this) {
            restoreLocked(dir);
        }
    }

    private void restoreLocked(Path dir) {
        open();
        Path file = dir.resolve(STATE_FILE);
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new StateException(file + ": no saved state here", e);
        } catch (IOException e) {
            throw new StateException(file + ": cannot read: " + e.getMessage(), e);
        }
        Safetensors.File sf;
        try {
            sf = Safetensors.read(raw, file.toString());
        } catch (HopeException e) {
            throw new StateException(file + ": not a readable state file: " + e.getMessage(), e);
        }
        Map<String, String> meta = sf.metadata();
        require(file, meta, "format", STATE_FORMAT);
        require(file, meta, "format_version", Integer.toString(STATE_VERSION));
        require(file, meta, "bundle_plastic_sha256", bundlePlasticSha());
        String want = meta.get("data_sha256");
        String found = dataSha(sf.tensors());
        if (!found.equals(want)) {
            throw new StateException(file + ": data_sha256 mismatch (expected " + want + ", found " + found + "): the file is corrupt");
        }
        String wantMeta = meta.get("metadata_sha256");
        String foundMeta = metaSha(meta);
        if (!foundMeta.equals(wantMeta)) {
            throw new StateException(file + ": metadata_sha256 mismatch (expected " + wantMeta + ", found " + foundMeta + "): the file is corrupt");
        }
        String poisoned = firstNonFinite(sf.tensors());
        if (poisoned != null) {
            throw new StateException(file + ": tensor " + poisoned + " holds NaN or infinite values; the state is refused");
        }
        long[] counts = new long[3];
        long position;
        try {
            position = Long.parseLong(meta.get("position"));
            counts[0] = Long.parseLong(meta.get("count_l0"));
            counts[1] = Long.parseLong(meta.get("count_l1"));
            counts[2] = Long.parseLong(meta.get("count_l2"));
        } catch (RuntimeException e) {
            throw new StateException(file + ": metadata position/count_* must be integers: " + e.getMessage(), e);
        }
        if (position < 0 || counts[0] < 0 || counts[1] < 0 || counts[2] < 0) {
            throw new StateException(file + ": metadata position/count_* must be >= 0, found " + position + " / " + java.util.Arrays.toString(counts));
        }
        // every field is checked before anything changes
        java.util.EnumSet<Level> restoredFrozen = java.util.EnumSet.noneOf(Level.class);
        for (String name : meta.getOrDefault("frozen", "").split(",")) {
            if (!name.isBlank()) {
                try {
                    restoredFrozen.add(Level.valueOf(name));
                } catch (IllegalArgumentException e) {
                    throw new StateException(file + ": metadata frozen names an unknown level " + name + " (levels: "
                            + java.util.Arrays.toString(Level.values()) + ")", e);
                }
            }
        }
        Path expFile = dir.resolve(EXPERIENCE_FILE);
        ExperienceBuffer exp = Files.exists(expFile) ? ExperienceBuffer.load(expFile, experience.capacity()) : new ExperienceBuffer(experience.capacity());
        var es = engine.spec();
        ExpertPool restoredPool;
        try {
            restoredPool = ExpertPool.fromTensors(sf.tensors(), pool.slots(), es.nBlocks(), es.dModel(), es.midHidden(), pool.rank());
        } catch (RuntimeException e) {
            throw new StateException(file + ": " + e.getMessage(), e);
        }
        HopeStream.Snapshot before = stream.snapshot();
        try {
            stream.restore(new HopeStream.Snapshot(sf.tensors(), position, counts));
        } catch (RuntimeException e) {
            stream.restore(before);
            throw new StateException(file + ": " + e.getMessage(), e);
        }
        if (episodic != null) {
            String ef = meta.get("episodic_file");
            try {
                if (ef == null) {
                    LOG.log(System.Logger.Level.INFO, "{0}: the state has no episodic tables; the episodic level starts empty", file);
                    episodic.reset();
                } else {
                    EpisodicFile.load(episodic, dir, ef, meta.get("episodic_sha256"));
                }
            } catch (RuntimeException e) {
                stream.restore(before);
                throw e;
            }
        }
        version++;
        pool = restoredPool;
        experience = exp;
        frozen.clear();
        frozen.addAll(restoredFrozen);
        LOG.log(System.Logger.Level.DEBUG, "restored state of {0} positions from {1}", position, file);
    }

    private static void require(Path file, Map<String, String> meta, String key, String want) {
        String found = meta.get(key);
        if (!want.equals(found)) {
            throw new StateException(file + ": metadata " + key + " must be " + want + ", found " + found);
        }
    }

    private String bundlePlasticSha() {
        String sha = bundle.manifest().files().get(bundle.manifest().plastic());
        return sha == null ? "unknown" : sha;
    }

    /** The name of the first tensor (in name order) holding a NaN or an infinity, or null. */
    static String firstNonFinite(Map<String, Tensor> tensors) {
        for (String name : new TreeMap<>(tensors).keySet()) {
            for (float v : tensors.get(name).data()) {
                if (!Float.isFinite(v)) {
                    return name;
                }
            }
        }
        return null;
    }

    /** SHA-256 over every metadata entry but itself ("key=value\n", in key order). */
    static String metaSha(Map<String, String> meta) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> e : new TreeMap<>(meta).entrySet()) {
                if (!e.getKey().equals("metadata_sha256")) {
                    md.update((e.getKey() + "=" + e.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 over every tensor's name, shape and little-endian data, in name order. */
    static String dataSha(Map<String, Tensor> tensors) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String name : new TreeMap<>(tensors).keySet()) {
                Tensor t = tensors.get(name);
                md.update(name.getBytes(StandardCharsets.UTF_8));
                md.update(java.util.Arrays.toString(t.shape()).getBytes(StandardCharsets.UTF_8));
                ByteBuffer bb = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(t.data());
                md.update(bb);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // sleep (ARCHITECTURE.md §3, HOPE-MODEL.md §3)

    /**
     * Lets {@code s} sleep this learner: from now on every observe/score/generate/restore/reset
     * call touches it first (a running sleep is preempted and the call gets the learner at once),
     * and an L1 update boundary is reported to it ({@link SleepScheduler#levelBoundary}). Build the
     * scheduler with {@link #sleeper}; {@code null} detaches.
     */
    public void attach(SleepScheduler s) {
        scheduler = s;
    }

    /**
     * A {@link Sleeper} for a {@link SleepScheduler}: each sleep runs {@link #sleep} with
     * {@code config} and, when it commits, saves the learner into {@code stateDir} (if not
     * {@code null}) in the same critical section, so what is on disk is what runs.
     */
    public Sleeper sleeper(SleepConfig config, Path stateDir) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        return (budget, preempted, listener) -> sleep(budget, config, preempted, listener, stateDir);
    }

    /** One sleep now with the default budget and configuration, on the calling thread; nothing is saved. */
    public SleepReport sleep() {
        return sleep(SleepBudget.defaults(), SleepConfig.defaults(), () -> false, e -> { }, null);
    }

    /**
     * One sleep on the calling thread: consolidation of the recent experience from L1 into a new
     * expert of L2, dreaming, the retention-probe guard, then one atomic swap of the learned state
     * (see {@link Consolidation}). The work runs on a private copy: the learner stays usable
     * throughout; any call that changes its state, {@link #close}, or {@code preempted} turning
     * true stops the sleep within one step and leaves the state exactly as it was.
     *
     * @param budget bytes of experience and wall time this sleep may spend
     * @param config what the sleep does
     * @param preempted polled often; true stops the sleep
     * @param listener receives the sleep's phases
     * @param stateDir where a commit is saved atomically with the swap, or {@code null}
     * @return {@link SleepReport.Committed} (L1 is now reset and L2 holds what it knew),
     *     {@link SleepReport.RolledBack} with the reason, or {@link SleepReport.Preempted}
     */
    public SleepReport sleep(SleepBudget budget, SleepConfig config, BooleanSupplier preempted, SleepListener listener,
            Path stateDir) {
        long t0 = System.nanoTime();
        if (closing) {
            return new SleepReport.Preempted("the learner is closing", 0);
        }
        if (!sleepLock.tryLock()) {
            // close() holds the lock while it frees the learner: say so rather than blame another sleep
            return new SleepReport.Preempted(closing ? "the learner is closing" : "another sleep of this learner is running", 0);
        }
        try {
            Map<String, Tensor> live;
            ExpertPool poolCopy;
            byte[] exp;
            long v0;
            synchronized (this) {
                open();
                live = stream.snapshot().tensors();
                if (pool.used() == 0 && (pool.slots() != config.poolSize() || pool.rank() != config.rank())) {
                    pool = emptyPool(config);
                }
                poolCopy = pool.copy();
                exp = experience.contents();
                v0 = version;
            }
            byte[] probe = bundle.probe();
            if (probe == null) {
                return new SleepReport.RolledBack(0, seconds(t0), Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                        bundle.describe() + " has no retention probe (manifest probe): a sleep cannot be guarded, nothing was committed");
            }
            BooleanSupplier stop = () -> closing || version != v0 || preempted.getAsBoolean();
            Consolidation.Result r = workspace().consolidation.run(live, poolCopy, exp, probe, bundle.rehearsal(), config, budget,
                    stop, listener);
            lastSleep = r;
            if (r.preempted()) {
                return new SleepReport.Preempted(closing ? "the learner is closing" : version != v0
                        ? "the learner's state changed" : "a user call came in", seconds(t0));
            }
            if (!r.accepted()) {
                return new SleepReport.RolledBack(r.consolidatedBytes(), seconds(t0), r.recentBefore(), r.recentAfter(),
                        r.probeBefore(), r.probeAfter(), r.reason());
            }
            synchronized (this) {
                if (closing || version != v0) {
                    return new SleepReport.Preempted("the learner's state changed before the commit", seconds(t0));
                }
                commit(live, r);
                if (config.clearExperience()) {
                    experience.clear();
                }
                if (stateDir != null) {
                    save(stateDir);
                }
            }
            LOG.log(System.Logger.Level.DEBUG, "sleep committed: {0}", r.reason());
            return new SleepReport.Committed(r.consolidatedBytes(), seconds(t0), r.recentBefore(), r.recentAfter(),
                    r.probeBefore(), r.probeAfter(), r.reason() + String.format(java.util.Locale.ROOT,
                            "; recent with L1 reset and no sleep: %.4f bits/byte", r.recentResetOnly()));
        } finally {
            sleepLock.unlock();
        }
    }

    /** The swap: L2 takes the consolidated weights, the pool takes the expert, L1 goes back to its pretrained value. */
    private void commit(Map<String, Tensor> live, Consolidation.Result r) {
        Map<String, Tensor> next = new LinkedHashMap<>(live);
        next.putAll(r.l2After());
        ExpertPool nextPool = pool.copy();
        nextPool.commit(r.slot(), r.evictedSlot(), r.expert());
        stream.restore(new HopeStream.Snapshot(next, stream.position(), stream.counts()));
        engine.resetLevel("L1");
        pool = nextPool;
        version++;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** What the last sleep of this learner measured and did (figures beyond {@link SleepReport}), or {@code null}. */
    public Consolidation.Result lastSleep() {
        return lastSleep;
    }

    /** Experts of L2's pool in use and the pool's size. */
    public synchronized int[] expertsInUse() {
        return new int[] {pool.used(), pool.slots()};
    }

    /** The sleep's own copy of the model: frozen graphs and two engines (teacher and student); under {@link #sleepLock}. */
    private SleepWorkspace workspace() {
        open();
        if (workspace == null) {
            workspace = new SleepWorkspace();
        }
        return workspace;
    }

    private final class SleepWorkspace implements AutoCloseable {
        final FrozenGraphs g;
        final Engine teacher;
        final Engine student;
        final Consolidation consolidation;

        SleepWorkspace() {
            var spec = engine.spec();
            g = new FrozenGraphs(bundle, graphOptions, spec.maxSpan());
            Engine t = null;
            try {
                t = backend.open(spec, bundle.plastic());
                teacher = t;
                student = backend.open(spec, bundle.plastic());
            } catch (RuntimeException e) {
                if (t != null) {
                    t.close();
                }
                g.close();
                throw e;
            }
            int conv = bundle.manifest().model().convWidth();
            consolidation = new Consolidation(new HopeStream(g, teacher, conv), new HopeStream(g, student, conv));
        }

        @Override
        public void close() {
            teacher.close();
            student.close();
            g.close();
        }
    }

    /** Frees the native resources; a running sleep is stopped first (it leaves the state as it was). */
    @Override
    public void close() {
        closing = true;
        sleepLock.lock();
        try {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (workspace != null) {
                    workspace.close();
                }
                engine.close();
                graphs.close();
            }
        } finally {
            sleepLock.unlock();
        }
    }

    static EngineSpec specOf(Bundle b) {
        return specOf(b, false, 1.0);
    }

    /**
     * The engine spec of a bundle; {@code singleTimescale} makes L2 step with L1's period and rate;
     * {@code rateScale} multiplies the L1 and L2 rates.
     */
    static EngineSpec specOf(Bundle b, boolean singleTimescale, double rateScale) {
        return EngineSpec.of(b.manifest(), singleTimescale, rateScale);
    }
}
