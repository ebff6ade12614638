package org.hope4j.learner;

import java.util.LinkedHashMap;
import java.util.Map;
import org.hope4j.BitsSink;
import org.hope4j.Level;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.HostSpan;
import org.hope4j.graph.FrozenGraphs;
import org.hope4j.level.EpisodicLevel;
import org.hope4j.level.Ops;

/**
 * One Hope model reading one byte stream: the data flow of ARCHITECTURE.md §2, mirroring
 * {@code HopeModel.forward} of the reference. The frozen segments (embedding, mixers) run on the host
 * ({@link HostSpan} around the {@link Engine}'s plastic levels), or inside the engine where it takes
 * them ({@link Engine#attachMixers}: a GPU engine then runs each span whole, with the conv states). Position t reads byte t and predicts byte t+1; a CMS level of period C
 * steps once all losses of its chunk are known, i.e. when byte jC arrives, before position jC runs.
 *
 * <p>Not thread-safe; {@link org.hope4j.Learner} serialises access.
 */
public final class HopeStream {
    /** Receives each span of a {@link #forward} pass while the engine still holds it. */
    @FunctionalInterface
    public interface SpanSink {
        /**
         * Positions {@code [start, start + m)} of the data passed to {@link #forward} have the logits
         * {@code logits[0, m * 256)}. The engine still holds this span: the sink may call
         * {@link Engine#accumulateLogitGradient} for it.
         *
         * @param start index of the span's first position, counted from {@code off} of {@link #forward}
         * @param m number of positions in the span, in [1, maxSpan]
         * @param logits the stream's logits buffer, row-major [m, 256] in its first {@code m * 256} values;
         *     reused by the next span, so copy what must outlive the call
         */
        void span(int start, int m, float[] logits);
    }

    /** Receives the logits of each position as they are computed. */
    @FunctionalInterface
    public interface LogitsSink {
        /**
         * {@code logits[row * 256 .. row * 256 + 256)} are the logits of stream position {@code position}.
         *
         * @param position stream position (0-based) of the byte whose successor these logits predict
         * @param logits the stream's logits buffer for the current span (the adapted model's, without E or
         *     the anchor); reused by the next span, so copy what must outlive the call
         * @param row the position's row in {@code logits}, in [0, span length)
         */
        void accept(long position, float[] logits, int row);
    }

    private final FrozenGraphs graphs;
    private final Engine engine;
    private final EngineSpec spec;
    private final int d, nb, convSize;
    /** The mixers on the host around the engine's levels, with the conv states, unless the engine runs whole spans. */
    private final HostSpan host;
    /**
     * Whether the engine runs whole spans ({@link Engine#attachMixers}, asked at the first span; null before): it then
     * holds the conv states, and the host's are not used.
     */
    private Boolean engineSpans;
    /**
     * Whether the anchor's block 0 (L0 memories, conv state) may differ from ours. The anchor's block 0 front is ours by
     * definition: spans on the host hand it over, but where our engine runs whole spans the anchor computes it itself,
     * from the same state ({@link #alignAnchorFront} first where this is set).
     */
    private boolean anchorFrontStale = true;
    private final float[] lastLogits = new float[EngineSpec.VOCAB];
    private boolean haveLast;
    private long pos;
    private final long[] counts = new long[3];
    private final float[] logits;
    /** The episodic level and mixer (ARCHITECTURE.md §1, level E), or null: the neural levels alone. */
    private EpisodicLevel episodic;
    /**
     * The pretrained anchor, or null: a second stream over the bundle's weights whose CMS levels never
     * learn (its L0 reads in context like ours). Every prediction is the fixed-share mixture
     * {@code w P_adapted + (1 - w) P_anchor} (Herbster and Warmuth 1998): after each byte w moves to its
     * posterior and then a share {@code anchorShare} of each expert's weight goes to the other. The
     * mixture codes any stretch of text within {@code log2(1/share)} bits per switch plus
     * {@code log2(1/(1-share))} per byte of the better expert on that stretch, so what the CMS levels
     * learned on one domain cannot make text of another much worse than the pretrained model.
     */
    private HopeStream anchor;
    private double anchorShare;
    /** The adapted model's weight in the mixture, kept in float so that a saved state continues exactly. */
    private float adaptedWeight = 0.5f;
    private final double[] pa = new double[EngineSpec.VOCAB], pb = new double[EngineSpec.VOCAB];
    /**
     * True while the anchor's computation would repeat ours bit for bit: our CMS levels still hold the
     * bundle's weights (the anchor's) and the anchor's context would be ours. The anchor is then not
     * run (a pretrained learner scores and generates at the cost of one forward pass, not two) and
     * takes a copy of our context when our CMS levels are about to change ({@link #wakeAnchor}).
     */
    private boolean anchorIdle;
    /** Whether an anchor that would repeat our computation is skipped (tests switch it off to compare). */
    static boolean skipIdleAnchor = !Boolean.getBoolean("hope4j.anchor.always");

    /**
     * A stream at position 0 with an empty context, no episodic level and no anchor.
     *
     * @param graphs the frozen segments (embedding, mixers); shared, not closed by this stream
     * @param engine the plastic levels, owned by this stream from now on ({@link #closeEngines} closes it)
     * @param convWidth kernel width of the mixers' causal convolution, at least 1: the stream keeps the last
     *     {@code convWidth - 1} rows of {@code 2 * dModel} values per block
     */
    public HopeStream(FrozenGraphs graphs, Engine engine, int convWidth) {
        this.graphs = graphs;
        this.engine = engine;
        this.spec = engine.spec();
        d = spec.dModel();
        nb = spec.nBlocks();
        if (convWidth != graphs.convWidth()) {
            throw new IllegalArgumentException("conv width " + convWidth + " is not the frozen graphs' " + graphs.convWidth());
        }
        host = new HostSpan(graphs, spec);
        convSize = host.convSize();
        logits = new float[spec.maxSpan() * EngineSpec.VOCAB];
    }

    /**
     * Mixes {@code e} into every prediction of {@link #read} from now on ({@code null}: the neural levels alone).
     *
     * @param e the episodic level E, which then also learns from every byte read, or null
     */
    public void setEpisodic(EpisodicLevel e) {
        episodic = e;
    }

    /**
     * Mixes the pretrained {@code anchor} (a fresh stream over its own engine holding the bundle's
     * weights; it must not be read by anyone else) into every prediction from now on, with the switch
     * rate {@code share} in (0, 0.5]; {@code null} switches the mixture off. The anchor starts aligned
     * with this stream's position with an empty context.
     *
     * @param anchor the pretrained stream, or null for no mixture
     * @param share the fixed-share switch rate, in (0, 0.5] when {@code anchor} is not null (else an
     *     {@link IllegalArgumentException}); ignored when it is null. The mixture weight restarts at 1/2.
     */
    public void setAnchor(HopeStream anchor, double share) {
        if (anchor != null && !(share > 0 && share <= 0.5)) {
            throw new IllegalArgumentException("anchor share must be in (0, 0.5], found " + share);
        }
        this.anchor = anchor;
        this.anchorShare = share;
        adaptedWeight = 0.5f;
        anchorIdle = false;
        anchorFrontStale = true;
        if (anchor != null) {
            anchor.resetContext();
            anchor.pos = pos;
            anchorIdle = pos == 0 && !haveLast && repeatsAnchor();
        }
    }

    /**
     * Whether the anchor's computation would be ours: skipping is on and every engine tensor but the
     * L0 memories (the context) holds the same values in both engines.
     */
    private boolean repeatsAnchor() {
        if (!skipIdleAnchor) {
            return false;
        }
        Map<String, Tensor> mine = engine.exportState();
        Map<String, Tensor> theirs = anchor.engine.exportState();
        if (!mine.keySet().equals(theirs.keySet())) {
            return false;
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            if (!isMemory(e.getKey()) && !java.util.Arrays.equals(e.getValue().data(), theirs.get(e.getKey()).data())) {
                return false;
            }
        }
        return true;
    }

    /** The engine tensors that hold the context (the L0 memories), not learned weights. */
    private static boolean isMemory(String name) {
        return name.endsWith(".l0.w0") || name.endsWith(".l0.wt");
    }

    /** A stream's context among its snapshot's tensors: the L0 memories, the conv states and the last logits. */
    private static boolean isContext(String name) {
        return isMemory(name) || name.endsWith(".conv") || name.equals("last_logits");
    }

    /** The anchor's logits of the last position read: ours while it is idle. */
    private float[] anchorLastLogits() {
        return anchorIdle ? lastLogits : anchor.lastLogits;
    }

    /**
     * Ends the anchor's idle time before our CMS levels change: the anchor takes our context (L0
     * memories, conv states, last logits, position), which is exactly what it would have computed.
     */
    private void wakeAnchor() {
        Map<String, Tensor> full = new LinkedHashMap<>(anchor.snapshotOwn().tensors());
        for (Map.Entry<String, Tensor> e : snapshotOwn().tensors().entrySet()) {
            String k = e.getKey();
            if (isContext(k)) {
                full.put(k, e.getValue());
            }
        }
        anchor.restoreOwn(new Snapshot(full, pos, new long[3]));
        anchorIdle = false;
        anchorFrontStale = false; // the anchor took all of our context
    }

    /** Whether this stream's spans run whole on its engine (asking the engine at the first span). */
    private boolean engineSpans() {
        if (engineSpans == null) {
            boolean taken = engine.attachMixers(graphs);
            if (taken) {
                for (int b = 0; b < nb; b++) {
                    engine.setMixerConv(b, host.conv(b)); // the context so far moves with them
                }
            }
            engineSpans = taken;
        }
        return engineSpans;
    }

    /**
     * Whether this stream's spans run whole on its engine (for tests: false until the first span asks the engine).
     *
     * @return true once the engine took the mixers
     */
    public boolean spansOnEngine() {
        return convOnEngine();
    }

    /** Whether the engine holds the conv states (it took the mixers). */
    private boolean convOnEngine() {
        return engineSpans != null && engineSpans;
    }

    private float[] convOf(int b) {
        return convOnEngine() ? engine.mixerConv(b) : host.conv(b);
    }

    private void setConv(int b, float[] c) {
        if (convOnEngine()) {
            engine.setMixerConv(b, c);
        } else {
            host.setConv(b, c);
        }
    }

    /**
     * Resets a neural level of every block (the engine's {@link Engine#resetLevel}), keeping the anchor's view of our
     * context right.
     *
     * @param level L0, L1 or L2
     */
    public void resetLevel(Level level) {
        engine.resetLevel(level);
        if (level == Level.L0) {
            anchorFrontStale = true;
        }
    }

    /** The anchor's block 0 takes ours: L0 memories and conv state (where it computes its own block 0 front). */
    private void alignAnchorFront() {
        Map<String, Tensor> mine = engine.exportState();
        Map<String, Tensor> theirs = new LinkedHashMap<>(anchor.engine.exportState());
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            if (e.getKey().startsWith("blocks.0.") && isMemory(e.getKey())) {
                theirs.put(e.getKey(), e.getValue());
            }
        }
        anchor.engine.importState(theirs);
        anchor.setConv(0, convOf(0));
        anchorFrontStale = false;
    }

    /** Whether the anchor computes block 0's front itself (this stream's spans, or its own, run on an engine). */
    private boolean anchorOwnFront() {
        return engineSpans() || anchor.convOnEngine();
    }

    /** Before a span that the anchor follows: where it computes block 0 itself, its block 0 state must be ours. */
    private void alignAnchorIfStale() {
        if (anchor != null && !anchorIdle && anchorFrontStale && anchorOwnFront()) {
            alignAnchorFront();
        }
    }

    /** The anchor's part of a span of {@code data[off, off+m)} (not idle): block 0's front is ours (see {@link #follow}). */
    private void followAnchor(byte[] data, int off, int m, boolean l0) {
        anchor.follow(data, off, m, l0, anchorOwnFront());
    }

    /**
     * The adapted model's weight in the anchor mixture (1 without an anchor).
     *
     * @return the weight w of the adapted model, in [0, 1]
     */
    public double adaptedWeight() {
        return anchor == null ? 1 : adaptedWeight;
    }

    /**
     * Whether the anchor is idle: it would repeat this stream's computation, which is then not run twice.
     *
     * @return true while the CMS levels hold the bundle's weights since the anchor last matched our context
     */
    boolean anchorIdle() {
        return anchorIdle;
    }

    /**
     * Whether the anchor's engine has been opened (for tests: an anchor that was only ever idle never opens one).
     *
     * @return false without an anchor, or while its engine is a {@link org.hope4j.engine.LazyEngine} not yet opened
     */
    boolean anchorOpened() {
        return anchor != null && !(anchor.engine instanceof org.hope4j.engine.LazyEngine lazy && !lazy.opened());
    }

    /**
     * The anchor's position (for tests: it does not move while the anchor is idle).
     *
     * @return the positions the anchor has read, or -1 without an anchor
     */
    long anchorPosition() {
        return anchor == null ? -1 : anchor.pos;
    }

    /**
     * The episodic level, or null.
     *
     * @return the level set by {@link #setEpisodic}, or null when none is mixed in
     */
    public EpisodicLevel episodic() {
        return episodic;
    }


    private BitsSink bitsSink;

    /** Receives the neural distribution the episodic level is given for every byte of {@link #read}, in stream order. */
    @FunctionalInterface
    public interface NeuralSink {
        /**
         * Byte {@code b} at stream {@code position} occurred where the neural levels (mixed with the anchor when it is on)
         * predicted {@code probs}.
         *
         * @param position stream position (0-based) of the byte
         * @param b the byte, 0..255
         * @param probs the neural distribution over the 256 byte values (sums to 1; valid only during the call), or null
         *     for the stream's first byte, which nothing predicted
         */
        void accept(long position, int b, double[] probs);
    }

    private NeuralSink neuralSink;

    /**
     * Hands the neural distribution of every byte {@link #read} codes to {@code sink} from now on ({@code null}: none):
     * what E mixes, so that E can be replayed over a recorded stream without the neural levels (hope4j observe
     * --dump-neural, replay-episodic).
     *
     * @param sink called once per byte read, in stream order, or null
     */
    public void setNeuralSink(NeuralSink sink) {
        neuralSink = sink;
    }

    /**
     * Hands the bits of every byte {@link #read} scores to {@code sink} from now on ({@code null}: none).
     *
     * @param sink called once per scored byte, in stream order, or null
     */
    public void setBitsSink(BitsSink sink) {
        bitsSink = sink;
    }

    /**
     * Bits of {@code next} under the learner's distribution (the mixture when E is on), E learning
     * from it; with an anchor, the neural distribution is the fixed-share mixture of {@code lg} and the
     * anchor's {@code alg[aoff, aoff + 256)}, and the mixture's weight learns from {@code next}.
     */
    private double code(float[] lg, int off, float[] alg, int aoff, byte next, long position) {
        double bits;
        if (anchor == null) {
            if (neuralSink != null) {
                softmax(lg, off, pa);
                neuralSink.accept(position, next & 0xff, pa);
            }
            bits = episodic == null ? bitsOf(lg, off, next) : episodic.code(lg, off, next & 0xff);
        } else {
            int b = next & 0xff;
            softmax(lg, off, pa);
            if (alg == lg && aoff == off) {
                System.arraycopy(pa, 0, pb, 0, EngineSpec.VOCAB); // the idle anchor: its logits would be these
            } else {
                softmax(alg, aoff, pb);
            }
            double w = adaptedWeight;
            double[] p = pa;
            double pNext = w * pa[b] + (1 - w) * pb[b];
            double wPost = w * pa[b] / pNext;
            for (int j = 0; j < EngineSpec.VOCAB; j++) {
                p[j] = w * pa[j] + (1 - w) * pb[j]; // pa becomes the mixture: pa[b] was used above
            }
            if (neuralSink != null) {
                neuralSink.accept(position, b, p);
            }
            bits = episodic == null ? -Math.log(pNext) / Math.log(2) : episodic.codeProbabilities(p, b);
            if (Double.isFinite(wPost)) {
                adaptedWeight = (float) ((1 - anchorShare) * wPost + anchorShare * (1 - wPost));
            }
        }
        if (bitsSink != null) {
            bitsSink.accept(position, bits);
        }
        return bits;
    }

    /** {@code p = softmax(x[xo, xo + 256))} in double, max-shifted. */
    private static void softmax(float[] x, int xo, double[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < EngineSpec.VOCAB; i++) {
            max = Math.max(max, x[xo + i]);
        }
        double sum = 0;
        for (int i = 0; i < EngineSpec.VOCAB; i++) {
            p[i] = Math.exp(x[xo + i] - max);
            sum += p[i];
        }
        double inv = 1 / sum;
        for (int i = 0; i < EngineSpec.VOCAB; i++) {
            p[i] *= inv;
        }
    }

    /**
     * Positions read so far.
     *
     * @return the stream position: bytes read since the start or the last {@link #resetContext}, or as restored
     */
    public long position() {
        return pos;
    }

    /**
     * Update counts of L0, L1, L2 since the stream began.
     *
     * @return a copy: {@code {L0 chunk commits, L1 steps, L2 steps}}
     */
    public long[] counts() {
        return counts.clone();
    }

    /**
     * The engine holding the plastic levels.
     *
     * @return this stream's engine (not the anchor's)
     */
    public Engine engine() {
        return engine;
    }

    /** Closes this stream's engine and the anchor's (the frozen graphs are shared: their owner closes them). */
    public void closeEngines() {
        engine.close();
        if (anchor != null) {
            anchor.engine.close();
        }
    }

    /**
     * Logits of the last position read (predicting the next byte), or null before the first byte;
     * with an anchor, the log-probabilities of the mixture.
     *
     * @return a new array of 256 values (not mixed with E), or null
     */
    public float[] lastLogits() {
        if (!haveLast) {
            return null;
        }
        if (anchor == null) {
            return lastLogits.clone();
        }
        softmax(lastLogits, 0, pa);
        softmax(anchorLastLogits(), 0, pb);
        float[] out = new float[EngineSpec.VOCAB];
        double w = adaptedWeight;
        for (int j = 0; j < EngineSpec.VOCAB; j++) {
            out[j] = (float) Math.log(w * pa[j] + (1 - w) * pb[j]);
        }
        return out;
    }

    /**
     * Reads {@code data[off, off+len)} with the given levels learning. Returns the summed bits of the
     * bytes that had a prediction (every byte but the stream's very first) and their count:
     * {@code {bits, bytes}}. Each byte is scored before anything learns from it.
     *
     * @param data the bytes to read
     * @param off index of the first byte in {@code data}
     * @param len number of bytes to read, 0 or more
     * @param learning which levels learn while reading ({@link Learning#OFF}: none)
     * @param sink receives the logits of every position read, or null
     * @return {@code {summed bits, number of scored bytes}}
     */
    public double[] read(byte[] data, int off, int len, Learning learning, LogitsSink sink) {
        double bits = 0;
        long scored = 0;
        int i = 0;
        int c1 = spec.c1();
        int c2 = spec.c2();
        int c0 = spec.c0();
        int vocab = EngineSpec.VOCAB;
        while (i < len) {
            if (engine.hasPending()) {
                if (learning.cms()) {
                    engine.accumulatePending(data[off + i], learning.l1(), learning.l2());
                } else {
                    engine.dropPending();
                }
            }
            if (haveLast) {
                bits += code(lastLogits, 0, anchor == null ? null : anchorLastLogits(), 0, data[off + i], pos);
                scored++;
            } else {
                if (neuralSink != null) {
                    neuralSink.accept(pos, data[off + i] & 0xff, null);
                }
                if (episodic != null) {
                    episodic.code(null, 0, data[off + i] & 0xff); // the stream's first byte: nothing predicted it
                }
            }
            if (learning.cms() && pos > 0 && pos % c1 == 0) {
                boolean do2 = pos % c2 == 0;
                if (anchorIdle && (learning.l1() || do2 && learning.l2())) {
                    wakeAnchor();
                }
                engine.step(learning.l1(), do2 && learning.l2());
                if (learning.l1()) {
                    counts[1]++;
                }
                if (do2 && learning.l2()) {
                    counts[2]++;
                }
            }
            // a span shares one value of every CMS level: it ends at the next L1 boundary when they learn
            int m = learning.cms() ? (int) Math.min(len - i, c1 - pos % c1) : Math.min(len - i, spec.maxSpan());
            alignAnchorIfStale();
            span(data, off + i, m, learning.l0());
            float[] al = null;
            if (anchor != null) {
                if (!anchorIdle) {
                    followAnchor(data, off + i, m, learning.l0());
                }
                al = anchorIdle ? logits : anchor.logits;
            }
            for (int t = 0; t < m - 1; t++) {
                bits += code(logits, t * vocab, al, t * vocab, data[off + i + t + 1], pos + t + 1);
                scored++;
            }
            if (sink != null) {
                for (int t = 0; t < m; t++) {
                    sink.accept(pos + t, logits, t);
                }
            }
            System.arraycopy(logits, (m - 1) * vocab, lastLogits, 0, vocab);
            haveLast = true;
            if (learning.cms()) {
                int known = i + m < len ? m : m - 1;
                engine.accumulate(known, data, off + i + 1, learning.l1(), learning.l2());
                if (known < m) {
                    engine.holdPending();
                }
            }
            if (learning.l0()) {
                counts[0] += (pos + m) / c0 - pos / c0;
            }
            pos += m;
            i += m;
        }
        return new double[] {bits, scored};
    }

    /**
     * The anchor's part of a span: the same positions through its own CMS levels (fixed) and its own
     * L0 from block 1 on. Block 0's front does not depend on any CMS level and is the adapted stream's: with
     * {@code ownFront} false that stream copied it into our x2; true (the adapted stream ran the span on its engine),
     * this stream computes it from a block 0 state equal to the adapted stream's.
     */
    private void follow(byte[] data, int off, int m, boolean l0, boolean ownFront) {
        if (ownFront) {
            wholeSpan(data, off, m, l0);
        } else {
            host.cms(engine, 0, m);
            for (int b = 1; b < nb; b++) {
                host.front(engine, b, m, pos, l0);
                host.cms(engine, b, m);
            }
            host.head(engine, m, logits);
        }
        System.arraycopy(logits, (m - 1) * EngineSpec.VOCAB, lastLogits, 0, EngineSpec.VOCAB);
        haveLast = true;
        if (l0) {
            counts[0] += (pos + m) / spec.c0() - pos / spec.c0();
        }
        pos += m;
    }

    /**
     * One span of {@code m} positions through every block (ARCHITECTURE.md §2): embedding; per block
     * the frozen mixer front, L0's memories, the frozen mixer back, L2 then L1; the head. Leaves the
     * logits [m, 256] in {@code logits} and the span's activations in the engine.
     */
    private void span(byte[] data, int off, int m, boolean l0) {
        if (engineSpans()) {
            engine.span(data, off, m, pos, l0, logits);
            return;
        }
        host.embed(data, off, m);
        for (int b = 0; b < nb; b++) {
            host.front(engine, b, m, pos, l0);
            if (b == 0 && anchor != null && !anchorIdle) {
                // block 0's front does not depend on any CMS level: the anchor's would be this one
                System.arraycopy(host.x2(), 0, anchor.host.x2(), 0, m * d);
            }
            host.cms(engine, b, m);
        }
        host.head(engine, m, logits);
    }

    /** A span of this stream alone (the anchor's own, block 0 included): on the engine where it runs whole spans. */
    private void wholeSpan(byte[] data, int off, int m, boolean l0) {
        if (engineSpans()) {
            engine.span(data, off, m, pos, l0, logits);
        } else {
            host.run(engine, data, off, m, pos, l0, logits);
        }
    }

    /**
     * Reads {@code data[off, off+len)} with the CMS levels fixed (not learning) and the L0 memory
     * learning in context if {@code l0}, in spans of at most {@code maxSpan} positions, handing each
     * span's logits to {@code sink}. Sleep distils through it. A position held for its next byte is dropped first.
     *
     * @param data the bytes to read
     * @param off index of the first byte in {@code data}
     * @param len number of bytes to read, 0 or more
     * @param l0 whether the L0 memories learn in context
     * @param maxSpan the most positions per span, in [1, {@link EngineSpec#maxSpan()}] (else an
     *     {@link IllegalArgumentException})
     * @param sink receives each span's logits while the engine holds the span; not null
     */
    public void forward(byte[] data, int off, int len, boolean l0, int maxSpan, SpanSink sink) {
        if (maxSpan < 1 || maxSpan > spec.maxSpan()) {
            throw new IllegalArgumentException("maxSpan must be in 1.." + spec.maxSpan() + ", found " + maxSpan);
        }
        if (engine.hasPending()) {
            engine.dropPending();
        }
        int i = 0;
        int c0 = spec.c0();
        int vocab = EngineSpec.VOCAB;
        while (i < len) {
            int m = Math.min(len - i, maxSpan);
            alignAnchorIfStale();
            span(data, off + i, m, l0);
            if (anchor != null && !anchorIdle) {
                followAnchor(data, off + i, m, l0); // stays aligned; the sink sees the adapted model alone
            }
            sink.span(i, m, logits);
            System.arraycopy(logits, (m - 1) * vocab, lastLogits, 0, vocab);
            haveLast = true;
            if (l0) {
                counts[0] += (pos + m) / c0 - pos / c0;
            }
            pos += m;
            i += m;
        }
    }

    /**
     * Forgets the context but keeps what the CMS levels learned: L0 memories back to their initial
     * value, convolution state zero, position 0, no held position, counts zero.
     */
    public void resetContext() {
        engine.resetLevel(Level.L0);
        engine.dropPending();
        float[] zero = new float[convSize];
        for (int b = 0; b < nb; b++) {
            setConv(b, zero);
        }
        anchorFrontStale = true;
        haveLast = false;
        pos = 0;
        java.util.Arrays.fill(counts, 0);
        if (anchor != null) {
            anchor.resetContext();
            anchorIdle = anchorIdle || repeatsAnchor();
        }
    }

    /** The anchor's context tensors (L0 memories, conv, last logits) under {@code anchor.}; its CMS levels are the bundle's. */
    private static final String ANCHOR = "anchor.";

    /**
     * Bits of {@code next} under the logits {@code lg[off, off + 256)}: -log2 softmax.
     *
     * @param lg holds the logits (unnormalised)
     * @param off index in {@code lg} of the logit of byte 0
     * @param next the byte to score (its unsigned value indexes the logits)
     * @return {@code -log2 P(next)}, 0 or more
     */
    public static double bitsOf(float[] lg, int off, byte next) {
        return Ops.bits(lg, off, EngineSpec.VOCAB, next & 0xff);
    }

    /**
     * The whole stream state: engine state, conv states, last logits; position and counts as metadata.
     *
     * @return a copy; with an anchor also its context under {@code anchor.} and the mixture weight as
     *     {@code anchor.weight}
     */
    public Snapshot snapshot() {
        Map<String, Tensor> t = new LinkedHashMap<>(snapshotOwn().tensors());
        if (anchor != null) {
            // an idle anchor's context is ours
            for (Map.Entry<String, Tensor> e : (anchorIdle ? new LinkedHashMap<>(t) : anchor.snapshotOwn().tensors()).entrySet()) {
                String k = e.getKey();
                if (isContext(k) && !k.startsWith("blocks.0.")) { // block 0's front is the adapted stream's
                    t.put(ANCHOR + k, new Tensor(ANCHOR + k, e.getValue().shape(), e.getValue().data()));
                }
            }
            t.put(ANCHOR + "weight", new Tensor(ANCHOR + "weight", new int[] {1}, new float[] {adaptedWeight}));
        }
        return new Snapshot(t, pos, counts.clone(), anchorIdle);
    }

    /** This stream's own state, without the anchor's. */
    private Snapshot snapshotOwn() {
        Map<String, Tensor> t = new LinkedHashMap<>(engine.exportState());
        for (int b = 0; b < nb; b++) {
            String name = "blocks." + b + ".conv";
            t.put(name, new Tensor(name, new int[] {convSize / (2 * d), 2 * d}, convOf(b)));
        }
        if (haveLast) {
            t.put("last_logits", new Tensor("last_logits", new int[] {EngineSpec.VOCAB}, lastLogits.clone()));
        }
        return new Snapshot(t, pos, counts.clone());
    }

    /**
     * Restores a {@link #snapshot()}, all or nothing. Without the anchor's tensors (a state saved
     * without an anchor) the anchor starts with an empty context at this position, the weight at 1/2.
     *
     * @param s a snapshot of a stream over the same model (the anchor's tensors are ignored without an anchor)
     * @throws StateException if an engine or conv tensor is missing or misshapen, or {@code anchor.weight} is not one
     *     number in [0, 1]
     */
    public void restore(Snapshot s) {
        Map<String, Tensor> mine = new LinkedHashMap<>();
        Map<String, Tensor> anchored = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : s.tensors().entrySet()) {
            if (e.getKey().startsWith(ANCHOR)) {
                String k = e.getKey().substring(ANCHOR.length());
                anchored.put(k, new Tensor(k, e.getValue().shape(), e.getValue().data()));
            } else {
                mine.put(e.getKey(), e.getValue());
            }
        }
        Tensor w = anchored.remove("weight");
        if (w != null && (w.data().length != 1 || !(w.data()[0] >= 0 && w.data()[0] <= 1))) {
            throw new StateException("state tensor anchor.weight must be one number in [0, 1]");
        }
        Snapshot before = anchor == null ? null : snapshotOwn();
        restoreOwn(new Snapshot(mine, s.position(), s.counts()));
        anchorIdle = false;
        anchorFrontStale = true;
        if (anchor == null) {
            return;
        }
        if (s.anchorIdle() && skipIdleAnchor) {
            // taken while the anchor was idle: our CMS levels are the bundle's again and its context ours
            adaptedWeight = w == null ? 0.5f : w.data()[0];
            anchorIdle = true;
            return;
        }
        try {
            if (w == null || anchored.isEmpty()) {
                anchor.resetContext();
                adaptedWeight = 0.5f;
            } else {
                Map<String, Tensor> full = new LinkedHashMap<>(anchor.snapshotOwn().tensors()); // block 0's context is not the anchor's
                full.putAll(anchored);
                anchor.restore(new Snapshot(full, s.position(), new long[3]));
                adaptedWeight = w.data()[0];
            }
            anchor.pos = s.position();
        } catch (RuntimeException e) {
            restoreOwn(before);
            anchor.resetContext();
            anchor.pos = pos;
            throw e;
        }
    }

    private void restoreOwn(Snapshot s) {
        // every check first: the engine checks its own tensors whole before it changes anything
        for (int b = 0; b < nb; b++) {
            Tensor c = s.tensors().get("blocks." + b + ".conv");
            if (c == null || c.data().length != convSize) {
                throw new StateException("state tensor blocks." + b + ".conv is missing or has the wrong size");
            }
        }
        Tensor last = s.tensors().get("last_logits");
        if (last != null && last.data().length != EngineSpec.VOCAB) {
            throw new StateException("state tensor last_logits has " + last.data().length + " values, expected " + EngineSpec.VOCAB);
        }
        if (s.counts().length < 3) {
            throw new StateException("state counts hold " + s.counts().length + " values, expected 3 (L0, L1, L2)");
        }
        // the conv states first, so that an engine which snapshots its state with them (FailoverEngine) takes these
        float[][] before = new float[nb][];
        for (int b = 0; b < nb; b++) {
            before[b] = convOf(b);
            setConv(b, s.tensors().get("blocks." + b + ".conv").data());
        }
        try {
            engine.importState(s.tensors());
        } catch (RuntimeException e) {
            for (int b = 0; b < nb; b++) {
                setConv(b, before[b]);
            }
            throw e;
        }
        haveLast = last != null;
        if (haveLast) {
            System.arraycopy(last.data(), 0, lastLogits, 0, EngineSpec.VOCAB);
        }
        pos = s.position();
        System.arraycopy(s.counts(), 0, counts, 0, 3);
    }

    /**
     * A copy of a stream's state.
     *
     * @param tensors engine state plus conv states and last logits
     * @param position positions read
     * @param counts L0/L1/L2 update counts
     * @param anchorIdle taken by {@link #snapshot()} while the anchor was idle (the CMS levels the bundle's, the anchor's
     *     context this stream's): restoring it keeps the anchor idle. Not saved: a state read from a file has false
     */
    public record Snapshot(Map<String, Tensor> tensors, long position, long[] counts, boolean anchorIdle) {
        /**
         * Copies the map (unmodifiable; the tensors themselves are shared) and the counts.
         *
         * @param tensors engine state plus conv states and last logits, by name
         * @param position positions read
         * @param counts L0/L1/L2 update counts (3 entries)
         * @param anchorIdle whether {@link #snapshot()} took it while the anchor was idle
         */
        public Snapshot {
            tensors = Map.copyOf(tensors);
            counts = counts.clone();
        }

        /**
         * A snapshot not taken while an anchor was idle (a state read from a file, or built by hand).
         *
         * @param tensors engine state plus conv states and last logits, by name
         * @param position positions read
         * @param counts L0/L1/L2 update counts (3 entries)
         */
        public Snapshot(Map<String, Tensor> tensors, long position, long[] counts) {
            this(tensors, position, counts, false);
        }

        /**
         * L0/L1/L2 update counts.
         *
         * @return a copy: {@code {L0 chunk commits, L1 steps, L2 steps}}
         */
        @Override
        public long[] counts() {
            return counts.clone();
        }
    }
}
