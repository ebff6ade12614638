package org.hope4j.engine;

import java.util.Arrays;
import org.hope4j.bundle.Manifest;

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
 * @param decay1 L1 decay to the prior per block, in [0, 1): each L1 step is
 *     {@code theta <- theta - decay1[b] (theta - theta0) - lr1[b] G} with theta0 the level's initial value
 *     (all 0: the plain Eq. 71 step, bit for bit)
 * @param decay2 L2 decay to the prior per block, in [0, 1)
 */
public record EngineSpec(int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden, int fastHidden,
                         int c0, int c1, int c2, float etaMax, float eps, float[] lr1, float[] lr2, boolean[] plastic,
                         float[] decay1, float[] decay2) {
    /** Vocabulary: the 256 byte values. */
    public static final int VOCAB = 256;

    /**
     * Copies the per-block arrays; a null {@code decay1} or {@code decay2} means no decay (all 0).
     *
     * @param dModel width of the residual stream
     * @param nBlocks number of Hope blocks
     * @param nHeads memory heads per block
     * @param headDim width of one head
     * @param memRows rows of a head's stacked memory matrix (3 * headDim + 10)
     * @param midHidden hidden width of the L2 MLP
     * @param fastHidden hidden width of the L1 MLP
     * @param c0 L0 chunk, in positions
     * @param c1 L1 period, in positions
     * @param c2 L2 period, in positions
     * @param etaMax bound of the memories' inner rate
     * @param eps RMSNorm epsilon
     * @param lr1 L1 inner rate per block ({@code nBlocks} entries, copied)
     * @param lr2 L2 inner rate per block ({@code nBlocks} entries, copied)
     * @param plastic which blocks' CMS levels learn ({@code nBlocks} entries, copied)
     * @param decay1 L1 decay to the prior per block, each in [0, 1) ({@code nBlocks} entries, copied), or null for none
     * @param decay2 L2 decay to the prior per block, each in [0, 1) ({@code nBlocks} entries, copied), or null for none
     * @throws IllegalArgumentException if a per-block array does not have {@code nBlocks} entries, or a decay lies
     *     outside [0, 1) (NaN included)
     */
    public EngineSpec {
        lr1 = lr1.clone();
        lr2 = lr2.clone();
        plastic = plastic.clone();
        decay1 = decay1 == null ? new float[nBlocks] : decay1.clone();
        decay2 = decay2 == null ? new float[nBlocks] : decay2.clone();
        if (lr1.length != nBlocks || lr2.length != nBlocks || plastic.length != nBlocks || decay1.length != nBlocks
                || decay2.length != nBlocks) {
            throw new IllegalArgumentException("per-block arrays must have nBlocks (" + nBlocks + ") entries");
        }
        for (int b = 0; b < nBlocks; b++) {
            if (!(decay1[b] >= 0f && decay1[b] < 1f) || !(decay2[b] >= 0f && decay2[b] < 1f)) {
                throw new IllegalArgumentException("decay1 and decay2 must lie in [0, 1), found " + Arrays.toString(decay1) + " and "
                        + Arrays.toString(decay2));
            }
        }
    }

    /**
     * A spec without decay to the prior (every decay 0: the plain Eq. 71 step).
     *
     * @param dModel width of the residual stream
     * @param nBlocks number of Hope blocks
     * @param nHeads memory heads per block
     * @param headDim width of one head
     * @param memRows rows of a head's stacked memory matrix (3 * headDim + 10)
     * @param midHidden hidden width of the L2 MLP
     * @param fastHidden hidden width of the L1 MLP
     * @param c0 L0 chunk, in positions
     * @param c1 L1 period, in positions
     * @param c2 L2 period, in positions
     * @param etaMax bound of the memories' inner rate
     * @param eps RMSNorm epsilon
     * @param lr1 L1 inner rate per block ({@code nBlocks} entries, copied)
     * @param lr2 L2 inner rate per block ({@code nBlocks} entries, copied)
     * @param plastic which blocks' CMS levels learn ({@code nBlocks} entries, copied)
     * @throws IllegalArgumentException if a per-block array does not have {@code nBlocks} entries
     */
    public EngineSpec(int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden, int fastHidden,
                      int c0, int c1, int c2, float etaMax, float eps, float[] lr1, float[] lr2, boolean[] plastic) {
        this(dModel, nBlocks, nHeads, headDim, memRows, midHidden, fastHidden, c0, c1, c2, etaMax, eps, lr1, lr2, plastic, null, null);
    }

    /**
     * The engine spec of a bundle's manifest: shapes, periods, rates and decays.
     *
     * <p>{@code singleTimescale} (a benchmark baseline) makes L2 step with L1's period, rate and decay.
     * {@code rateScale} multiplies the L1 and L2 rates, <b>not</b> the decays: the decay is a retention
     * per update towards the pretrained value, not a speed of learning. Under a steady gradient G a level
     * settles at {@code theta0 - eta G / lambda}; scaling eta by s (and not lambda) moves that bound by s,
     * which is what a smaller rate scale is for (less drift from the prior on a long stream), while
     * scaling lambda with it would keep the bound where it was and only slow the return to the prior.
     * And a rate scale of 0 still means "the CMS levels do not learn from the stream" (no gradient step).
     *
     * @param mf a validated manifest
     * @param singleTimescale L2 steps every L1 period at L1's rate and decay
     * @param rateScale multiplies the L1 and L2 inner rates
     * @return the spec
     */
    public static EngineSpec of(Manifest mf, boolean singleTimescale, double rateScale) {
        var mc = mf.model();
        int nb = mc.nBlocks();
        Manifest.Level l1 = mf.levels().get(1);
        Manifest.Level l2 = mf.levels().get(2);
        float[] lr1 = new float[nb];
        float[] lr2 = new float[nb];
        float[] d1 = new float[nb];
        float[] d2 = new float[nb];
        for (int i = 0; i < nb; i++) {
            lr1[i] = (float) (rateScale * l1.learningRate().get(i).doubleValue());
            lr2[i] = singleTimescale ? lr1[i] : (float) (rateScale * l2.learningRate().get(i).doubleValue());
            d1[i] = (float) l1.decayOf(i);
            d2[i] = singleTimescale ? d1[i] : (float) l2.decayOf(i);
        }
        boolean[] plastic = new boolean[nb];
        for (int blk : mf.plasticBlocks()) {
            plastic[blk] = true;
        }
        return new EngineSpec(mc.dModel(), nb, mc.nHeads(), mc.headDim(), mc.memRows(), mc.midHidden(), mc.fastHidden(),
                mf.levels().get(0).period(), l1.period(), singleTimescale ? l1.period() : l2.period(),
                (float) mc.etaMax(), (float) mc.normEps(), lr1, lr2, plastic, d1, d2);
    }

    /**
     * Whether any block's L1 or L2 decays to the prior.
     *
     * @return true if some entry of {@code decay1} or {@code decay2} is not 0
     */
    public boolean hasDecay() {
        for (int b = 0; b < nBlocks; b++) {
            if (decay1[b] != 0f || decay2[b] != 0f) {
                return true;
            }
        }
        return false;
    }

    /**
     * This spec with other decays (null: none), e.g. an existing spec given a manifest's decays.
     *
     * @param l1 the L1 decay per block, each in [0, 1) ({@code nBlocks} entries, copied), or null for none
     * @param l2 the L2 decay per block, each in [0, 1) ({@code nBlocks} entries, copied), or null for none
     * @return a new spec equal to this one but for {@code decay1} and {@code decay2}
     * @throws IllegalArgumentException if an array has the wrong length or a decay lies outside [0, 1)
     */
    public EngineSpec withDecay(float[] l1, float[] l2) {
        return new EngineSpec(dModel, nBlocks, nHeads, headDim, memRows, midHidden, fastHidden, c0, c1, c2, etaMax, eps, lr1, lr2, plastic,
                l1, l2);
    }

    /**
     * The most positions one span may hold: an L1 period when CMS levels learn, up to 256 when they do not.
     *
     * @return the larger of {@code c1} and 256: the rows an engine and a stream size their span buffers for
     */
    public int maxSpan() {
        return Math.max(c1, 256);
    }

    /**
     * The L1 inner rate per block.
     *
     * @return a copy ({@code nBlocks} entries)
     */
    @Override
    public float[] lr1() {
        return lr1.clone();
    }

    /**
     * The L2 inner rate per block.
     *
     * @return a copy ({@code nBlocks} entries)
     */
    @Override
    public float[] lr2() {
        return lr2.clone();
    }

    /**
     * Which blocks' CMS levels learn.
     *
     * @return a copy ({@code nBlocks} entries; true: that block's L1 and L2 accumulate and step)
     */
    @Override
    public boolean[] plastic() {
        return plastic.clone();
    }

    /**
     * The L1 decay to the prior per block.
     *
     * @return a copy ({@code nBlocks} entries, each in [0, 1))
     */
    @Override
    public float[] decay1() {
        return decay1.clone();
    }

    /**
     * The L2 decay to the prior per block.
     *
     * @return a copy ({@code nBlocks} entries, each in [0, 1))
     */
    @Override
    public float[] decay2() {
        return decay2.clone();
    }

    @Override
    public String toString() {
        return "EngineSpec[d=" + dModel + ", blocks=" + nBlocks + ", heads=" + nHeads + "x" + headDim + ", periods=" + c0 + "/" + c1 + "/" + c2
                + ", lr1=" + Arrays.toString(lr1) + ", lr2=" + Arrays.toString(lr2)
                + (hasDecay() ? ", decay1=" + Arrays.toString(decay1) + ", decay2=" + Arrays.toString(decay2) : "") + "]";
    }
}
