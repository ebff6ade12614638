package org.hope4j.engine;

import java.util.Map;
import org.hope4j.Level;
import org.hope4j.bundle.Tensor;

/**
 * The plastic half of a Hope model: the L0 memories, the L1/L2 CMS levels, the head, their error
 * signals and update steps, with all state owned by the engine (on a GPU backend it stays on the
 * device). Calls are level-sized: one call runs a level over a whole span of positions.
 *
 * <p>A span is a run of positions that share one value of every CMS level (it never crosses a
 * multiple of the L1 period). The caller runs, per span: {@link #memory} and {@link #cms} for every
 * block, then {@link #head}; then {@link #accumulate} for the positions whose next byte is known, and
 * {@link #holdPending} for the last position when its next byte has not arrived yet. Before the next
 * span: {@link #accumulatePending} with that byte, then {@link #step} at level boundaries.
 *
 * <p>Not thread-safe: one caller at a time (the learner serialises access).
 */
public interface Engine extends AutoCloseable {

    /**
     * The shapes and rates this engine was opened with.
     *
     * @return the spec given to {@link Backend#open(EngineSpec, Map)}
     */
    EngineSpec spec();

    /**
     * L0 (HOPE-MODEL.md §2): the self-modifying memories of {@code block} read {@code m} positions
     * starting at stream position {@code pos}; {@code q} and {@code u} are [m, D] from the frozen
     * mixer front; writes the reads {@code o} [m, D]. Commits the state at every L0 chunk end.
     *
     * @param block index of the block, in [0, nBlocks)
     * @param q queries of the span, row-major [m, D]; only the first {@code m * dModel} values are read
     * @param u inputs the memories project their keys, values and gates from, row-major [m, D] (read only when
     *     {@code learn})
     * @param m number of positions in the span (rows of q, u and o), at most {@code spec().maxSpan()}
     * @param pos stream position of the span's first row (0-based); with {@code spec().c0()} it places the L0 chunk ends
     * @param learn whether every position also writes to the memories (false: they only read)
     * @param o receives the memory reads, row-major [m, D]
     */
    void memory(int block, float[] q, float[] u, int m, long pos, boolean learn, float[] o);

    /**
     * The mid (L2) then fast (L1) CMS MLP of {@code block} with residuals over {@code x} [m, D] (the
     * output of the frozen slow level); writes {@code out} [m, D] and keeps what their update needs.
     *
     * @param block index of the block, in [0, nBlocks)
     * @param x input of the block's CMS levels, row-major [m, D]
     * @param m number of positions in the span, at most {@code spec().maxSpan()}
     * @param out receives the output of the L1 level, row-major [m, D]
     */
    void cms(int block, float[] x, int m, float[] out);

    /**
     * Final norm and LM head over {@code x} [m, D]; writes {@code logits} [m, 256] and keeps them for the error signal.
     * A row that is not finite is replaced by zeros (the uniform prediction) and counted in {@link #rollbacks}.
     *
     * @param x output of the last block, row-major [m, D]
     * @param m number of positions in the span, at most {@code spec().maxSpan()} (else an {@link IllegalArgumentException})
     * @param logits receives the unnormalised next-byte logits, row-major [m, 256]
     */
    void head(float[] x, int m, float[] logits);

    /**
     * Offers this engine the frozen mixers and the embedding, so that a whole span runs here ({@link #span}) and the
     * block inputs never leave it (on a GPU: one copy in and one out per span instead of five per block). An engine
     * that takes them holds the blocks' conv states from then on ({@link #mixerConv}: zero at first, not part of
     * {@link #exportState}, which stays every engine's {@link StateLayout}).
     *
     * @param mixers the model's frozen half
     * @return true if this engine runs whole spans from now on; false (the default, and where {@link Mixers#weights}
     *     refuses: segments that are not the mixers the engine computes) if the caller keeps running the mixers around
     *     {@link #memory} and {@link #cms}
     * @throws org.hope4j.BackendException where the engine would take them but cannot (its device refused the memory)
     */
    default boolean attachMixers(Mixers mixers) {
        return false;
    }

    /**
     * A whole span, once {@link #attachMixers} returned true: the embedding of {@code data[off, off+m)}, per block the
     * mixer front (with the block's conv state), {@link #memory}, the mixer back and {@link #cms}, then {@link #head}:
     * the same logits and kept activations as those calls. {@code data[off + m]}, where the array holds it, may be
     * read too: an engine may keep it with the span's bytes for {@link #accumulate}'s targets.
     *
     * @param data the bytes
     * @param off index of the span's first byte
     * @param m positions, at most {@code spec().maxSpan()}
     * @param pos stream position of the first (places the L0 chunk ends)
     * @param learn whether L0 learns
     * @param logits receives [m, 256]
     * @throws UnsupportedOperationException where the engine did not take the mixers
     */
    default void span(byte[] data, int off, int m, long pos, boolean learn, float[] logits) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " runs no whole spans (attachMixers returned false)");
    }

    /**
     * A block's conv state, once {@link #attachMixers} returned true.
     *
     * @param block the block
     * @return a copy, [W-1, 2D] row-major
     * @throws UnsupportedOperationException where the engine did not take the mixers
     */
    default float[] mixerConv(int block) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " holds no conv state (attachMixers returned false)");
    }

    /**
     * Sets a block's conv state, once {@link #attachMixers} returned true.
     *
     * @param block the block
     * @param conv [W-1, 2D] row-major (copied)
     * @throws UnsupportedOperationException where the engine did not take the mixers
     * @throws IllegalArgumentException where {@code conv} has another length
     */
    default void setMixerConv(int block, float[] conv) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " holds no conv state (attachMixers returned false)");
    }

    /**
     * Adds the gradients of the first {@code k} positions of the current span (targets = their next
     * bytes, {@code targets[off..off+k)}) to the gradient sums of the levels that learn. Gradients are
     * taken over at most one L1 chunk: {@code k <= min(span, spec().c1())} on every engine, else an
     * {@link IllegalArgumentException} naming both bounds.
     *
     * @param k number of leading positions of the span to learn from, in [0, min(span, c1)]; 0 does nothing
     * @param targets holds the next byte of each of those positions
     * @param off index in {@code targets} of the first position's next byte
     * @param l1 whether the gradient sums of L1 grow
     * @param l2 whether the gradient sums of L2 grow (nothing happens when both are false)
     */
    void accumulate(int k, byte[] targets, int off, boolean l1, boolean l2);

    /**
     * Adds the gradient of any loss of the first {@code k} positions of the current span, given as
     * d loss / d logits ({@code dLogits[0, k * 256)}), to the gradient sums of the levels that learn,
     * through the same teach signal as {@link #accumulate}. Sleep distils with it (the gradient of
     * a KL divergence is {@code p_student - p_teacher}). The same bound on {@code k} as {@link #accumulate}.
     *
     * @param k number of leading positions of the span, in [0, min(span, c1)]; 0 does nothing
     * @param dLogits d loss / d logits, row-major [k, 256]; fewer than {@code k * 256} values is an
     *     {@link IllegalArgumentException}
     * @param l1 whether the gradient sums of L1 grow
     * @param l2 whether the gradient sums of L2 grow (nothing happens when both are false)
     */
    void accumulateLogitGradient(int k, float[] dLogits, boolean l1, boolean l2);

    /** Keeps the last position of the current span until its next byte arrives. */
    void holdPending();

    /**
     * Whether a position waits for its next byte.
     *
     * @return true after {@link #holdPending} (unless the held activations were not finite) until
     *     {@link #accumulatePending} or {@link #dropPending}
     */
    boolean hasPending();

    /**
     * Adds the held position's gradients now that its next byte {@code target} is known; clears it.
     * Does nothing when no position is held.
     *
     * @param target the byte that followed the held position
     * @param l1 whether the gradient sums of L1 grow
     * @param l2 whether the gradient sums of L2 grow
     */
    void accumulatePending(byte target, boolean l1, boolean l2);

    /** Drops the held position without learning from it. */
    void dropPending();

    /**
     * One update step (Eq. 71) of L1 and, if {@code l2}, of L2, along the summed gradients; clears the sums.
     * Only the blocks marked in {@link EngineSpec#plastic()} step.
     *
     * @param l1 whether L1 steps (at every L1 period)
     * @param l2 whether L2 steps (at every L2 period)
     */
    void step(boolean l1, boolean l2);

    /**
     * Resets a neural level ({@link Level#L0}, {@link Level#L1} or {@link Level#L2}) of every block to
     * its initial value and clears its sums; any other level is an {@link IllegalArgumentException}.
     *
     * @param level the level to reset: L0, L1 or L2
     */
    void resetLevel(Level level);

    /**
     * Updates this engine refused because they would have left NaN or infinite values (rolled back to the
     * chunk-start value, logged), plus predictions that were not finite and were replaced by the uniform
     * one, since it was opened. The CPU engine checks every L0 commit, L1/L2 step and prediction; an
     * engine that does not check returns 0.
     *
     * @return the number of refused updates and replaced predictions since the engine was opened, never negative
     */
    default long rollbacks() {
        return 0;
    }

    /**
     * A copy of the whole plastic state (memories, levels, gradient sums, the held position).
     *
     * @return the tensors of {@link StateLayout#of} by their full names, in layout order, with the held
     *     position's ({@code pending.*}) only while one is held; changing them does not change the engine
     */
    Map<String, Tensor> exportState();

    /**
     * Replaces the plastic state with one from {@link #exportState}: every tensor of the
     * {@link StateLayout} is checked before anything changes.
     *
     * @param state tensors by full name, as from {@link #exportState} of an engine of the same spec; a held
     *     position is restored when {@code pending.xf} is present. Extra tensors are ignored.
     * @throws org.hope4j.StateException naming the first missing or misshapen tensor (the engine is then unchanged)
     */
    void importState(Map<String, Tensor> state);

    @Override
    void close();
}
