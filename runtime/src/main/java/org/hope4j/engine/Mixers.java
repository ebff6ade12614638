package org.hope4j.engine;

/**
 * The frozen half of a span (ARCHITECTURE.md §2): the byte embedding and each block's mixers around the engine's
 * levels, computed on the host ({@code org.hope4j.graph.FrozenGraphs}). An engine that computes them itself
 * ({@link Engine#attachMixers}) takes their {@link #weights}; {@link HostSpan} runs a span with them around any engine.
 */
public interface Mixers {
    /**
     * The rows of the embedding of {@code bytes[off, off+n)}.
     *
     * @param bytes the bytes
     * @param off index of the first
     * @param n how many, at most the caller's maximum rows
     * @param x receives [n, D]
     */
    void embed(byte[] bytes, int off, int n, float[] x);

    /**
     * The mixer front of {@code block}: q, u [n, D] and the new conv state from x [n, D] and the conv state [W-1, 2D].
     *
     * @param block the block
     * @param x the block input [n, D]
     * @param n positions
     * @param conv the conv state before them
     * @param q receives the queries [n, D]
     * @param u receives the memory inputs [n, D]
     * @param convOut receives the conv state after them (may be {@code conv})
     */
    void mixerIn(int block, float[] x, int n, float[] conv, float[] q, float[] u, float[] convOut);

    /**
     * The mixer back of {@code block}: x2 [n, D] from the block input and the memory reads.
     *
     * @param block the block
     * @param x the block input [n, D]
     * @param o the memory reads [n, D]
     * @param n positions
     * @param x2 receives the output (may be {@code x})
     */
    void mixerOut(int block, float[] x, float[] o, int n, float[] x2);

    /**
     * The causal conv's width W.
     *
     * @return at least 1; a block's conv state holds {@code (W - 1) * 2 D} values
     */
    int convWidth();

    /**
     * The weights, for an engine that computes the mixers itself (read when asked: the host keeps its own form).
     *
     * @return the embedding and every block's mixer weights
     * @throws org.hope4j.BundleException where the model's segments do not hold a mixer's weights
     */
    MixerWeights weights();
}
