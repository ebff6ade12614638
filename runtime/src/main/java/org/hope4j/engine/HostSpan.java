package org.hope4j.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * One span through every block with the frozen mixers on the host around an engine's levels (ARCHITECTURE.md §2): the
 * embedding; per block the mixer front (with the block's conv state, which this holds), the engine's L0 memories
 * ({@link Engine#memory}), the mixer back, the engine's CMS levels ({@link Engine#cms}); the engine's {@link Engine#head}.
 * The learner's streams run their spans with it unless their engine runs whole spans itself ({@link Engine#attachMixers});
 * {@link MixingEngine} gives any engine whole spans with it. Not thread-safe.
 */
public final class HostSpan {
    private final Mixers mixers;
    private final int d, nb, convSize;
    private final float[][] conv;
    private float[] convTmp;
    /** The block input (then the CMS levels' output), L0's queries, inputs and reads, the mixer back's output. */
    private final float[] x, q, u, o, x2;

    /**
     * Buffers for spans of up to {@code spec.maxSpan()} positions, every conv state zero.
     *
     * @param mixers the model's frozen half
     * @param spec the engine's shapes
     */
    public HostSpan(Mixers mixers, EngineSpec spec) {
        this.mixers = Objects.requireNonNull(mixers, "mixers");
        d = spec.dModel();
        nb = spec.nBlocks();
        convSize = (mixers.convWidth() - 1) * 2 * d;
        conv = new float[nb][convSize];
        convTmp = new float[convSize];
        int n = spec.maxSpan() * d;
        x = new float[n];
        q = new float[n];
        u = new float[n];
        o = new float[n];
        x2 = new float[n];
    }

    /**
     * The embedding of {@code data[off, off+m)} as the first block's input.
     *
     * @param data the bytes
     * @param off the first
     * @param m positions
     */
    public void embed(byte[] data, int off, int m) {
        mixers.embed(data, off, m, x);
    }

    /**
     * Block {@code b} before its CMS levels: the mixer front (its conv state moves on), L0's memories, the mixer back;
     * leaves the result in {@link #x2()}.
     *
     * @param engine the levels
     * @param b the block
     * @param m positions
     * @param pos stream position of the first
     * @param l0 whether L0 learns
     */
    public void front(Engine engine, int b, int m, long pos, boolean l0) {
        mixers.mixerIn(b, x, m, conv[b], q, u, convTmp);
        float[] t = conv[b];
        conv[b] = convTmp;
        convTmp = t;
        engine.memory(b, q, u, m, pos, l0, o);
        mixers.mixerOut(b, x, o, m, x2);
    }

    /**
     * Block {@code b}'s CMS levels over {@link #x2()}: their output is the next block's input.
     *
     * @param engine the levels
     * @param b the block
     * @param m positions
     */
    public void cms(Engine engine, int b, int m) {
        engine.cms(b, x2, m, x);
    }

    /**
     * The head over the last block's output.
     *
     * @param engine the levels
     * @param m positions
     * @param logits receives [m, 256]
     */
    public void head(Engine engine, int m, float[] logits) {
        engine.head(x, m, logits);
    }

    /**
     * A whole span: {@link #embed}, per block {@link #front} and {@link #cms}, then {@link #head}.
     *
     * @param engine the levels
     * @param data the bytes
     * @param off the span's first
     * @param m positions
     * @param pos stream position of the first
     * @param l0 whether L0 learns
     * @param logits receives [m, 256]
     */
    public void run(Engine engine, byte[] data, int off, int m, long pos, boolean l0, float[] logits) {
        embed(data, off, m);
        for (int b = 0; b < nb; b++) {
            front(engine, b, m, pos, l0);
            cms(engine, b, m);
        }
        head(engine, m, logits);
    }

    /**
     * The last {@link #front}'s output (the CMS levels' input), live.
     *
     * @return [maxSpan, D]; a caller may also write the rows the next {@link #cms} reads
     */
    public float[] x2() {
        return x2;
    }

    /**
     * A block's conv state.
     *
     * @param b the block
     * @return a copy, [W-1, 2D]
     */
    public float[] conv(int b) {
        return conv[b].clone();
    }

    /**
     * Sets a block's conv state.
     *
     * @param b the block
     * @param c [W-1, 2D] (copied)
     * @throws IllegalArgumentException where its length is not the conv state's
     */
    public void setConv(int b, float[] c) {
        if (c.length != convSize) {
            throw new IllegalArgumentException("conv state of block " + b + " holds " + convSize + " values, given " + c.length);
        }
        System.arraycopy(c, 0, conv[b], 0, convSize);
    }

    /** Every conv state back to zero. */
    public void clearConv() {
        for (float[] c : conv) {
            Arrays.fill(c, 0f);
        }
    }

    /**
     * Values of one block's conv state.
     *
     * @return {@code (W - 1) * 2 D}
     */
    public int convSize() {
        return convSize;
    }
}
