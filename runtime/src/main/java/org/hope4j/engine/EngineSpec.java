package org.hope4j.engine;

import java.util.Arrays;

/**
 * Shapes, periods and rates an engine needs to run the plastic levels of one model (from the bundle's
 * manifest). Arrays are copied; periods in positions (bytes).
 *
 * @param dModel width of the residual stream
 * @param nBlocks number of Hope blocks
 * @param nHeads memory heads per block
 * @param headDim width of one head
 * @param memRows rows of a head's stacked memory matrix (3 * headDim + 10)
 * @param midHidden hidden width of the L2 MLP
 * @param fastHidden hidden width of the L1 MLP
 * @param c0 L0 chunk
 * @param c1 L1 period
 * @param c2 L2 period
 * @param etaMax bound of the memories' inner rate
 * @param eps RMSNorm epsilon
 * @param lr1 L1 inner rate per block
 * @param lr2 L2 inner rate per block
 * @param plastic which blocks' CMS levels learn
 */
public record EngineSpec(int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden, int fastHidden,
                         int c0, int c1, int c2, float etaMax, float eps, float[] lr1, float[] lr2, boolean[] plastic) {
    /** Vocabulary: the 256 byte values. */
    public static final int VOCAB = 256;

    public EngineSpec {
        lr1 = lr1.clone();
        lr2 = lr2.clone();
        plastic = plastic.clone();
        if (lr1.length != nBlocks || lr2.length != nBlocks || plastic.length != nBlocks) {
            throw new IllegalArgumentException("per-block arrays must have nBlocks (" + nBlocks + ") entries");
        }
    }

    /** The most positions one span may hold: an L1 period when CMS levels learn, up to 256 when they do not. */
    public int maxSpan() {
        return Math.max(c1, 256);
    }

    @Override
    public float[] lr1() {
        return lr1.clone();
    }

    @Override
    public float[] lr2() {
        return lr2.clone();
    }

    @Override
    public boolean[] plastic() {
        return plastic.clone();
    }

    @Override
    public String toString() {
        return "EngineSpec[d=" + dModel + ", blocks=" + nBlocks + ", heads=" + nHeads + "x" + headDim + ", periods=" + c0 + "/" + c1 + "/" + c2
                + ", lr1=" + Arrays.toString(lr1) + ", lr2=" + Arrays.toString(lr2) + "]";
    }
}
