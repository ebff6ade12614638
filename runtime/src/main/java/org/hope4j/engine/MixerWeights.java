package org.hope4j.engine;

import java.util.List;

/**
 * The frozen mixers and the byte embedding of a model, as an engine that computes them itself takes them
 * ({@link Engine#attachMixers}). Row-major arrays, products written as {@code x W} (ARCHITECTURE.md §2, model.py's
 * {@code MixerIn} and {@code MixerOut}).
 *
 * @param dModel D, the model width
 * @param convWidth W, the causal conv's width (a block's conv state holds its last W-1 projected rows)
 * @param slowHidden S, the hidden width of the frozen slow level (L3)
 * @param embed the byte embedding [256, D]
 * @param blocks every block's mixer weights, in block order
 */
public record MixerWeights(int dModel, int convWidth, int slowHidden, float[] embed, List<Block> blocks) {
    /**
     * Copies the list (the arrays are shared, and not to be changed).
     *
     * @param dModel D
     * @param convWidth W
     * @param slowHidden S
     * @param embed [256, D]
     * @param blocks in block order
     */
    public MixerWeights {
        blocks = List.copyOf(blocks);
    }

    /**
     * One block's mixers.
     *
     * @param inNorm mixer_in's RMSNorm gain [D]
     * @param win mixer_in's projection [D, 2D]: the values' half then the queries'
     * @param conv the causal conv [W, 2D]: row j weighs the projected row {@code t - W + 1 + j} (row W-1 the current one)
     * @param normIn mixer_out's RMSNorm gain of the block input [D]
     * @param normO mixer_out's RMSNorm gain of the memory reads [D]
     * @param norm3 the slow level's RMSNorm gain [D]
     * @param gate the gate's projection [D, D]
     * @param wo the output projection [D, D]
     * @param up the slow level's up projection [D, S]
     * @param down the slow level's down projection [S, D]
     */
    public record Block(float[] inNorm, float[] win, float[] conv, float[] normIn, float[] normO, float[] norm3, float[] gate,
                        float[] wo, float[] up, float[] down) {
    }
}
