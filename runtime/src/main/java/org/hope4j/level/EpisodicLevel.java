package org.hope4j.level;

import java.util.Arrays;
import org.hope4j.EpisodicConfig;

/**
 * The episodic level E (ARCHITECTURE.md §1): exact, non-parametric memory of what was read, and the
 * mixer that combines it with the neural levels' distribution. It changes at every byte.
 *
 * <p>A byte is coded as 8 binary decisions, most significant bit first; {@code c0} is the partial
 * byte with a leading 1. For each decision, inputs in the logistic domain ({@link Logistic}):
 * <ol>
 *   <li>the neural levels: {@code P(bit = 1 | c0)} summed from their byte distribution;</li>
 *   <li>ten hashed context tables (orders 1, 2, 3, 4 and 6, the current and previous word, the
 *       byte above in the previous line with the byte to the left, the last 5 bytes with digits
 *       read as '0', the current word alone, the current token with its field number in the line), each slot an adaptive probability with a count: {@code p += (bit - p) ·
 *       2/(2n + 3)}, n capped at {@code counterLimit} (the write rule of this memory: exact counts
 *       of what followed), the last (up to 4) bits seen in it, and a 6-bit check of its context; a
 *       context has a pair of slots and reads the one its check matches, else it is unseen and takes
 *       the one of lower count (so a long text keeps its frequent contexts); the slot's probability enters the mixer
 *       through an adaptive map per context, count bucket and last bits (so "seen once, always
 *       followed by 1" in an order-6 context can mean 0.99, and a context whose last bits broke
 *       its habit is trusted less);</li>
 *   <li>a match model: the longest earlier occurrence of the last {@code matchMin}+ bytes (found
 *       through a hash index over the history, verified backwards) predicts its next byte with a
 *       confidence learned per match length;</li>
 *   <li>a bias.</li>
 * </ol>
 * Two gated linear mixers (weights selected by {@code c0} with the classes of the last two bytes,
 * and by match length, context depth, the neural input's confidence and the first bit) combine them, {@code p = squash(Σ w_i x_i)}, each learning online
 * {@code w_i += x_i (bit - p) · 2^-mixerShift}; a final mixer, one weight set over the two mixers'
 * outputs, the neural input and a bias (starting as the plain average of the two), learns at every
 * bit, so that when the tables' statistics stop fitting the text (a new domain) the level leans on
 * the neural input within a few hundred bytes; a context slot that a bit surprises (it gave the bit
 * less than 1/4) has its count cut back so it adapts fast again; three adaptive probability maps
 * (on {@code c0}, on {@code c0} with the previous byte, on the match state) refine the result. Everything is integer arithmetic except
 * the conversion of the neural distribution to a 12-bit probability, so the Python reference
 * ({@code model-export/hope_export/episodic.py}) reproduces the state exactly.
 *
 * <p>With {@link EpisodicConfig#recentLevels()} &gt; 0, short-lived copies of the level (small tables, no map on the
 * previous byte) read the same text beside it, each emptied every {@link EpisodicConfig#recentBytes()} bytes at
 * staggered positions, and the level codes each byte with the mixture {@code Σ_i w_i P_i(byte)} of itself and its
 * copies: a Bayesian mixture taken bit by bit ({@code P(bit = 1) = Σ_i v_i p_i}, then {@code v_i ∝ v_i P_i(bit)}, v
 * starting at w), whose weights move toward uniform by {@link #SHARE} at the end of each byte (fixed share, so a
 * copy that was poor can win again). Within one domain the level's long memory wins; when the text turns to
 * another, the copy that was emptied after the turn knows none of the old domain's statistics and the weights
 * follow it within a few hundred bytes (model-export/README.md "The sixth round"). The weights are doubles
 * updated by multiplication, division and addition only, so the Python reference reproduces them exactly.
 *
 * <p>{@link #begin()} / {@link #rollback()} make a call leave the level exactly as it was
 * (score, generate) in bounded memory: the first write to a 4 KB page saves that page.
 * Not thread-safe.
 */
public final class EpisodicLevel {
    /** Inputs of the mixer: neural, 10 contexts, match, bias, match length. */
    public static final int INPUTS = EpisodicConfig.CONTEXTS + 4;
    static final int IN_NEURAL = 0;
    static final int IN_MATCH = EpisodicConfig.CONTEXTS + 1;
    static final int IN_BIAS = EpisodicConfig.CONTEXTS + 2;
    /** The match model's second input: the expected bit with a strength that grows with the length. */
    static final int IN_MATCH_LEN = EpisodicConfig.CONTEXTS + 3;
    /** Mixer A's weight sets: c0 × the previous byte's class (8) × the class of the byte before (4). */
    static final int SETS_A = 8192;
    /** Mixer B's weight sets: match bucket × context depth × neural confidence × first bit of the byte. */
    static final int SETS_B = 192;
    static final int APM_KNOTS = 33;
    /** Slots of the adaptive probability map on c0 and the previous byte (4 bytes each). */
    public static final int APM2_SLOTS = 65536 * APM_KNOTS;
    static final int MATCH_CONTEXTS = 64;
    /** Sets of each context's APM: 4 count buckets × the slot's last bits (up to 4, with a leading 1). */
    static final int CTX_APM_SETS = 128;
    /** The {@code format} of a prior file. */
    public static final String PRIOR_FORMAT = "hope4j-episodic-prior";
    private static final int MAX_MATCH = 65535;
    private static final int FINAL_INPUTS = 4;
    /** The count a context slot falls back to after a surprise (see {@link #ctxCounter}). */
    static final int SURPRISE_COUNT = 6;
    /** The orders of the first five context tables. */
    private static final int[] ORDERS = {1, 2, 3, 4, 6};
    /** Mixer weights stay within ±128 (fixed point 2^16 = 1). */
    static final int MAX_WEIGHT = 1 << 23;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final double LN2 = Math.log(2);
    private static final long MUL = 0x2127599BF4325C37L;
    private static final int PAGE_BITS = 10;
    private static final int[] RATE = new int[1024];
    /** The fixed share: at the end of each byte the mixture's weights move this far toward uniform. */
    static final double SHARE = 1.0 / 2048;
    /** The class of the previous byte for mixer A: a-z, A-Z, digit, space, newline, >= 128, . , ; : ! ?, other. */
    private static final int[] CLASS8 = new int[256];
    /** The class of the byte before it: letter (or >= 128), digit, space, other. */
    private static final int[] CLASS4 = new int[256];

    static {
        for (int c = 0; c < 256; c++) {
            CLASS8[c] = c >= 'a' && c <= 'z' ? 0 : c >= 'A' && c <= 'Z' ? 1 : c >= '0' && c <= '9' ? 2 : c == ' ' ? 3 : c == '\n' ? 4
                    : c >= 128 ? 5 : ".,;:!?".indexOf(c) >= 0 ? 6 : 7;
            CLASS4[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 128 ? 0 : c >= '0' && c <= '9' ? 1 : c == ' ' ? 2 : 3;
        }
    }

    static {
        for (int n = 0; n < RATE.length; n++) {
            RATE[n] = (int) (131072L / (2 * n + 3));
        }
    }

    private final EpisodicConfig cfg;
    private final int tableBits, ctxSlots, matchBase, apm2Base, histMask, matchShift;
    private final long histSize;

    // large state, paged for rollback
    private final int[] big;
    private final byte[] hist;

    // small state
    private final int[] wA = new int[SETS_A * INPUTS];
    private final int[] wB = new int[SETS_B * INPUTS];
    /** The final mixer's weights over (dA, dB, the neural input, the bias); starts as the plain average of A and B. */
    private final int[] wF = new int[FINAL_INPUTS];
    private final int[] xF = new int[FINAL_INPUTS];
    private final int[] apm1 = new int[256 * APM_KNOTS];
    /** The third APM, on the match model's state (length bucket and expected bit; 64: no match). */
    private final int[] apm3 = new int[(MATCH_CONTEXTS + 1) * APM_KNOTS];
    private final int[] matchMap = new int[MATCH_CONTEXTS];
    /** Per context and count bucket: an APM from the slot's probability to a calibrated one. */
    private final int[] ctxApm = new int[EpisodicConfig.CONTEXTS * CTX_APM_SETS * APM_KNOTS];
    private final int[] ctxApmIdx = new int[EpisodicConfig.CONTEXTS];
    private long pos;
    private int c0 = 1;
    private int bitIndex;
    private long wordHash, prevWordHash;
    private long lineStart, prevLineStart;
    private long matchPtr;
    private int matchLen;
    private int expected = -1;
    private final long[] ctxHash = new long[EpisodicConfig.CONTEXTS];

    private final Prior prior;

    // the recent copies and the mixture over this level (index 0) and them
    private final EpisodicLevel[] recent;
    /** A recent copy: no adaptive map on c0 and the previous byte (its few KB could not fill 65,536 contexts). */
    private final boolean isRecent;
    /** The mixture's weights at the start of the byte (sum 1). */
    private final double[] weight;
    /** The weights given the bits of this byte so far (the posterior; equal to {@link #weight} between bytes). */
    private final double[] post;
    /** Each member's 12-bit P(bit = 1) of the current decision. */
    private final int[] memberP;
    private double[] savedWeight;

    // per-decision scratch
    private final int[] x = new int[INPUTS];
    private final int[] slot = new int[EpisodicConfig.CONTEXTS];
    private final int[] cur = new int[EpisodicConfig.CONTEXTS];
    private final int[] chk = new int[EpisodicConfig.CONTEXTS];
    private final int[] raws = new int[EpisodicConfig.CONTEXTS];
    private final int[] raws2 = new int[EpisodicConfig.CONTEXTS];
    private int setA, setB, matchCtx, pA, pB, pF, pMix, apm1Idx, apm2Idx, apm3Idx;
    /** The neural distribution's cumulative sums; a recent copy shares its level's (the same byte, the same input). */
    private final double[] cum;

    // transaction
    private boolean inTxn;
    private int[][] savedBig;
    private byte[][] savedHist;
    private int[] dirtyBig = new int[16];
    private int nDirtyBig;
    private int[] dirtyHist = new int[16];
    /**
     * Undo log of the table writes of a transaction ({@code index << 32 | old value}): a short call
     * (score of a few KB) writes slots all over the tables, and copying a 4 KB page per slot would
     * copy most of them. Past {@link #logLimit} entries the log turns into saved pages, which bound
     * a long call's undo memory by the table size. Kept in chunks of {@link #LOG_CHUNK} entries (the first
     * grows up to one chunk), so a growing log is never copied whole: a doubling array held its old and new
     * copies at once, 12 MB at the peak of a sleep's commit.
     */
    private long[][] undoLog = {new long[1024]};
    private int nLog;
    private static final int LOG_CHUNK_BITS = 16;
    private static final int LOG_CHUNK = 1 << LOG_CHUNK_BITS;
    private boolean pageMode;
    /** Log entries before a transaction switches to page copies (8 bytes each); settable by tests. */
    static int logLimit = 1 << 20;
    private int nDirtyHist;
    private Small savedSmall;
    private Small spareSmall;

    /**
     * The initial values the mixer and the match model's confidences start from (fitted on the
     * training text; see {@link #prior()}).
     *
     * @param weightsA weights of the mixer selected by c0 with the classes of the last two bytes, {@code 8192 × INPUTS}
     *     ({@code SETS_A} sets), fixed point 2^16 = 1
     * @param weightsB weights of the mixer selected by match length, context depth, the neural input's confidence and whether
     *     the decision is the byte's first bit, {@code 192 × INPUTS} ({@code SETS_B} sets), fixed point 2^16 = 1
     * @param matchMap the match model's adaptive probabilities per (length bucket, expected bit), 64 counters
     *     ({@code p << 10 | n}, p a 16-bit probability of a 1, n the count)
     */
    public record Prior(int[] weightsA, int[] weightsB, int[] matchMap) {
        /**
         * Checks the sizes and copies the arrays (the caller's arrays are not kept).
         *
         * @param weightsA {@code SETS_A * INPUTS} weights of mixer A
         * @param weightsB {@code SETS_B * INPUTS} weights of mixer B
         * @param matchMap {@code MATCH_CONTEXTS} (64) counters of the match model
         * @throws IllegalArgumentException if an array has the wrong length
         * @throws NullPointerException if an array is null
         */
        public Prior {
            if (weightsA.length != SETS_A * INPUTS || weightsB.length != SETS_B * INPUTS || matchMap.length != MATCH_CONTEXTS) {
                throw new IllegalArgumentException("episodic prior: weights must be " + SETS_A * INPUTS + " + " + SETS_B * INPUTS
                        + " and the match map " + MATCH_CONTEXTS + " values, found " + weightsA.length + " + " + weightsB.length
                        + " and " + matchMap.length);
            }
            weightsA = weightsA.clone();
            weightsB = weightsB.clone();
            matchMap = matchMap.clone();
        }

        /**
         * A neutral start: the neural input at weight 0.6, each context 0.2, the match model 0.4 (in the
         * mixer selected by match length: 0.6 beside a neural 0.5 for matches shorter than 16 bytes,
         * 1.0 beside 0.3 for longer ones); the match model's confidence grows with the match length.
         *
         * @return a new prior with these weights (the same values at every call)
         */
        public static Prior neutral() {
            int[] w = new int[INPUTS];
            w[IN_NEURAL] = (int) (0.6 * 65536);
            for (int i = 1; i <= EpisodicConfig.CONTEXTS; i++) {
                w[i] = (int) (0.2 * 65536);
            }
            w[IN_MATCH] = (int) (0.4 * 65536);
            int[] a = new int[SETS_A * INPUTS];
            int[] b = new int[SETS_B * INPUTS];
            for (int s = 0; s < SETS_A; s++) {
                System.arraycopy(w, 0, a, s * INPUTS, INPUTS);
            }
            for (int s = 0; s < SETS_B; s++) {
                System.arraycopy(w, 0, b, s * INPUTS, INPUTS);
                int bucket = s / 48; // 0: no match, 1: shorter than 16, 2: shorter than 32, 3: longer
                if (bucket >= 1) {
                    b[s * INPUTS + IN_MATCH] = bucket == 1 ? (int) (0.6 * 65536) : 65536;
                    b[s * INPUTS + IN_NEURAL] = bucket == 1 ? (int) (0.5 * 65536) : (int) (0.3 * 65536);
                    b[s * INPUTS + IN_MATCH_LEN] = bucket == 1 ? 0 : (int) (0.5 * 65536);
                }
            }
            // the match model's confidence starts at 1 - 1/(L + 2) for a match of (representative) length L
            int[] m = new int[MATCH_CONTEXTS];
            for (int bucket = 0; bucket < MATCH_CONTEXTS / 2; bucket++) {
                int len = bucket < 16 ? bucket : 16 + 8 * (bucket - 16);
                int right = 65535 - 65536 / (len + 2);
                m[2 * bucket] = (65535 - right) << 10;
                m[2 * bucket + 1] = right << 10;
            }
            return new Prior(a, b, m);
        }

        /**
         * The prior as the bundle's {@code episodic.json}.
         *
         * @param fittedOn free text for the {@code fitted_on} field: what the prior was fitted on (files, bytes)
         * @return a one-line JSON object: format, format_version 1, inputs, fitted_on, weights_a, weights_b, match_map
         */
        public String toJson(String fittedOn) {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("format", PRIOR_FORMAT);
            m.put("format_version", 1);
            m.put("inputs", INPUTS);
            m.put("fitted_on", fittedOn);
            m.put("weights_a", weightsA);
            m.put("weights_b", weightsB);
            m.put("match_map", matchMap);
            return new com.google.gson.GsonBuilder().create().toJson(m);
        }

        /**
         * The prior {@code bundle} carries (manifest {@code episodic}): the mixer's initial weights fitted on training
         * text, or {@link #neutral()} if the bundle has none.
         *
         * @param bundle a loaded bundle (its files verified)
         * @return the prior parsed from the bundle's {@code episodic} file, or the neutral prior
         * @throws org.hope4j.BundleException naming the file if it is not a valid prior
         */
        public static Prior of(org.hope4j.bundle.Bundle bundle) {
            org.hope4j.bundle.Manifest.EpisodicPrior e = bundle.manifest().episodic();
            if (e == null) {
                return neutral();
            }
            String d = bundle.source().describe();
            return fromJson(bundle.bytes(e.file()), d.endsWith("/") ? d + e.file() : d + "/" + e.file());
        }

        /**
         * Parses {@link #toJson}; errors name {@code origin} and the field.
         *
         * @param json the file's bytes, UTF-8 JSON
         * @param origin where the bytes came from (a path in a bundle), for the error messages
         * @return the prior the file holds
         * @throws org.hope4j.BundleException if the bytes are not JSON, the format or version is not {@value EpisodicLevel#PRIOR_FORMAT} 1,
         *     the input count differs from {@link EpisodicLevel#INPUTS}, a field is missing, a match map value is not a
         *     counter, or an array has the wrong length
         */
        public static Prior fromJson(byte[] json, String origin) {
            record Raw(String format, Integer format_version, Integer inputs, int[] weights_a, int[] weights_b, int[] match_map) {
            }
            Raw r;
            try {
                r = new com.google.gson.Gson().fromJson(new String(json, java.nio.charset.StandardCharsets.UTF_8), Raw.class);
            } catch (RuntimeException e) {
                throw new org.hope4j.BundleException(origin + ": not a valid episodic prior: " + e.getMessage(), e);
            }
            if (r == null || !PRIOR_FORMAT.equals(r.format()) || r.format_version() == null || r.format_version() != 1) {
                throw new org.hope4j.BundleException(origin + ": format must be " + PRIOR_FORMAT + " version 1");
            }
            if (r.inputs() == null || r.inputs() != INPUTS || r.weights_a() == null || r.weights_b() == null || r.match_map() == null) {
                throw new org.hope4j.BundleException(origin + ": inputs must be " + INPUTS + " with weights_a, weights_b and match_map present, found inputs " + r.inputs());
            }
            for (int v : r.match_map()) {
                if (v < 0 || (v >>> 10) > 65535) {
                    throw new org.hope4j.BundleException(origin + ": match_map values must be counters (p << 10 | n), found " + v);
                }
            }
            try {
                return new Prior(r.weights_a(), r.weights_b(), r.match_map());
            } catch (IllegalArgumentException e) {
                throw new org.hope4j.BundleException(origin + ": " + e.getMessage(), e);
            }
        }

        /**
         * Mixer A's weights.
         *
         * @return a copy of the {@code SETS_A * INPUTS} weights
         */
        @Override
        public int[] weightsA() {
            return weightsA.clone();
        }

        /**
         * Mixer B's weights.
         *
         * @return a copy of the {@code SETS_B * INPUTS} weights
         */
        @Override
        public int[] weightsB() {
            return weightsB.clone();
        }

        /**
         * The match model's counters.
         *
         * @return a copy of the 64 counters ({@code p << 10 | n})
         */
        @Override
        public int[] matchMap() {
            return matchMap.clone();
        }
    }

    private record Small(int[] wA, int[] wB, int[] wF, int[] apm1, int[] apm3, int[] ctxApm, int[] matchMap, long[] scalars, long[] ctxHash) {
    }

    /**
     * An empty level (as after {@link #reset()}): it allocates every table at once, {@link EpisodicConfig#bytes()} and more.
     *
     * @param cfg the table sizes and rates; not null
     * @param prior what the mixers and the match model start from and reset to; not null (see {@link Prior#neutral()})
     */
    public EpisodicLevel(EpisodicConfig cfg, Prior prior) {
        this(cfg, prior, false, new double[257]);
    }

    private EpisodicLevel(EpisodicConfig cfg, Prior prior, boolean isRecent, double[] cum) {
        this.cfg = cfg;
        this.prior = prior;
        this.isRecent = isRecent;
        this.cum = cum;
        tableBits = cfg.tableBits();
        ctxSlots = EpisodicConfig.CONTEXTS << tableBits;
        matchBase = ctxSlots;
        apm2Base = matchBase + (1 << cfg.matchBits());
        big = new int[isRecent ? apm2Base : apm2Base + APM2_SLOTS];
        recent = new EpisodicLevel[cfg.recentLevels()];
        for (int j = 0; j < recent.length; j++) {
            recent[j] = new EpisodicLevel(cfg.recent(), prior, true, cum);
        }
        weight = new double[recent.length + 1];
        post = new double[recent.length + 1];
        memberP = new int[recent.length + 1];
        histSize = 1L << cfg.historyBits();
        histMask = (int) (histSize - 1);
        hist = new byte[(int) histSize];
        matchShift = 64 - cfg.matchBits();
        savedBig = new int[(big.length >>> PAGE_BITS) + 1][];
        savedHist = new byte[(hist.length >>> PAGE_BITS) + 1][];
        reset();
    }

    /**
     * The configuration.
     *
     * @return the configuration this level was made with
     */
    public EpisodicConfig config() {
        return cfg;
    }

    /**
     * The initial values this level resets to.
     *
     * @return the prior this level was made with
     */
    public Prior prior() {
        return prior;
    }

    /**
     * What the mixer and the match model have learned so far, as a prior: reading training text from
     * {@link Prior#neutral()} and taking this fits the prior a bundle ships.
     *
     * @return a new prior holding copies of the current weights of both mixers and of the match model's counters
     */
    public Prior learned() {
        return new Prior(wA, wB, matchMap);
    }

    /**
     * The mixture's weights over this level and its recent copies.
     *
     * @return a copy: index 0 this level, 1.. the recent copies in the order of their staggered lives; {@code [1.0]} without
     *     recent copies
     */
    public double[] mixtureWeights() {
        return weight.clone();
    }

    /**
     * Bytes read since the last reset.
     *
     * @return the number of bytes coded or sampled (0 after {@link #reset()})
     */
    public long position() {
        return pos;
    }

    /** Forgets everything read: empty tables and history, mixer and maps back to the prior (the recent copies too). */
    public void reset() {
        if (inTxn) {
            throw new IllegalStateException("episodic level: reset inside a transaction");
        }
        clear();
        for (EpisodicLevel r : recent) {
            r.clear();
        }
        Arrays.fill(weight, 1.0 / weight.length);
        Arrays.fill(post, 1.0 / post.length);
    }

    /**
     * Empties this level's own tables, history, mixers and maps. Inside a transaction (a recent copy's scheduled
     * emptying during a score) every page is saved first, so a rollback restores them.
     */
    private void clear() {
        if (inTxn) {
            saveAllPages();
        }
        Arrays.fill(big, 0, ctxSlots, 32768 << 10);
        Arrays.fill(big, matchBase, apm2Base, 0);
        Arrays.fill(hist, (byte) 0);
        initMaps();
        System.arraycopy(prior.weightsA, 0, wA, 0, wA.length);
        System.arraycopy(prior.weightsB, 0, wB, 0, wB.length);
        System.arraycopy(prior.matchMap, 0, matchMap, 0, matchMap.length);
        initFinal(wF);
        pos = 0;
        c0 = 1;
        bitIndex = 0;
        wordHash = prevWordHash = 0;
        lineStart = prevLineStart = 0;
        matchPtr = 0;
        matchLen = 0;
        expected = -1;
        contextHashes();
    }

    /** Every adaptive probability map (on c0, on c0 and the previous byte, on the match, on each context) back to identity. */
    private void initMaps() {
        for (int c = 0; !isRecent && c < 65536; c++) {
            initApm(big, apm2Base + c * APM_KNOTS);
        }
        for (int c = 0; c < 256; c++) {
            initApm(apm1, c * APM_KNOTS);
        }
        for (int c = 0; c <= MATCH_CONTEXTS; c++) {
            initApm(apm3, c * APM_KNOTS);
        }
        for (int c = 0; c < EpisodicConfig.CONTEXTS * CTX_APM_SETS; c++) {
            initApm(ctxApm, c * APM_KNOTS);
        }
    }

    /**
     * Forgets how sure the level learned to be: every adaptive probability map goes back to the identity it starts
     * from, so the next text recalibrates them; the tables, the history, the match model and the mixers stay. A
     * sleep whose aging of the tables leaves general text above its bound does this next: maps fitted to a domain
     * where E was almost always right make it overconfident on the text that follows (after 48 KB of a log, general
     * prose paid 0.2 % more with them).
     */
    public void recalibrate() {
        if (inTxn) {
            throw new IllegalStateException("episodic level: recalibrate inside a transaction");
        }
        initMaps();
        for (EpisodicLevel r : recent) {
            r.recalibrate();
        }
    }

    /**
     * Forgets where text repeats: the history and the match model's index are emptied and its counters go back to
     * the prior, so no match points into what was read before; the context tables, the mixers and the maps stay.
     * A sleep does this when aging alone leaves general text too far above the pretrained learner (a domain's
     * history matched into prose: after 48 KB of minified JavaScript, the probe paid 0.2 % more).
     */
    public void forgetMatches() {
        if (inTxn) {
            throw new IllegalStateException("episodic level: forgetMatches inside a transaction");
        }
        Arrays.fill(big, matchBase, apm2Base, 0);
        Arrays.fill(hist, (byte) 0);
        System.arraycopy(prior.matchMap, 0, matchMap, 0, matchMap.length);
        matchPtr = 0;
        matchLen = 0;
        expected = -1;
        for (EpisodicLevel r : recent) {
            r.forgetMatches();
        }
    }

    /**
     * Softens what the context tables hold: every slot's count n becomes {@code min(n, maxCount)}; its
     * probability and last bits stay, and the history, the match model, the mixers and the maps are
     * untouched. As {@link #age(int, double)} with the whole confidence kept.
     *
     * @param maxCount 0..31 (31 changes nothing)
     */
    public void age(int maxCount) {
        age(maxCount, 1);
    }

    /**
     * Softens what the context tables hold, as a sleep does on commit when its {@code SleepConfig}
     * says so: every slot's count n becomes {@code min(n, maxCount)} and its probability p moves
     * toward 1/2, keeping the share {@code confidence} of its distance ({@code p - 1/2}, in steps of
     * 1/256); its last bits stay, and so do the history, the match model, the mixers and the maps.
     * The tables still lean the way they learned, but less surely, and new text overrides them fast
     * (a slot's rate is 2/(2n+3)): a new domain after the sleep meets less stale confidence.
     *
     * @param maxCount 0..31 (31 leaves the counts)
     * @param confidence 0..1 (1 leaves the probabilities; 0 sets every seen slot to 1/2)
     */
    public void age(int maxCount, double confidence) {
        if (inTxn) {
            throw new IllegalStateException("episodic level: age inside a transaction");
        }
        if (maxCount < 0 || maxCount > 31) {
            throw new IllegalArgumentException("episodic age: maxCount must be in 0..31, found " + maxCount);
        }
        if (!(confidence >= 0 && confidence <= 1)) {
            throw new IllegalArgumentException("episodic age: confidence must be in [0, 1], found " + confidence);
        }
        int keep = confidenceSteps(confidence);
        for (int i = 0; i < ctxSlots; i++) {
            big[i] = agedSlot(big[i], maxCount, keep);
        }
        for (EpisodicLevel r : recent) {
            r.age(maxCount, confidence);
        }
    }

    /** {@code confidence} in the 1/256 steps that {@link #age(int, double)} applies. */
    static int confidenceSteps(double confidence) {
        return (int) Math.round(confidence * 256);
    }

    /** One context slot aged: count capped at {@code maxCount}, p - 1/2 scaled by {@code keep}/256 (floored). */
    static int agedSlot(int v, int maxCount, int keep) {
        if ((v & 31) > maxCount) {
            v = (v & ~31) | maxCount;
        }
        if (keep < 256) {
            int p = (v >>> 10) & 0xFFFF;
            p = 32768 + (((p - 32768) * keep) >> 8);
            v = (v & ~(0xFFFF << 10)) | (p << 10);
        }
        return v;
    }

    /** The final mixer's start: dF = (dA + dB) >> 1 exactly, the neural input and the bias at 0. */
    private static void initFinal(int[] w) {
        Arrays.fill(w, 0);
        w[0] = 32768;
        w[1] = 32768;
    }

    private static void initApm(int[] t, int off) {
        for (int j = 0; j < APM_KNOTS; j++) {
            t[off + j] = Logistic.squash((j - 16) * 128) * 16;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // one byte

    /**
     * Codes byte {@code b} under the mixture of the neural distribution {@code exp(logits[off..off+256))}
     * (unnormalised is fine; {@code logits == null}: uniform) and this level, then learns from it.
     *
     * @param logits the neural levels' logits, or null for a uniform neural distribution; not changed
     * @param off index of the first of the 256 logits in {@code logits}
     * @param b the byte that occurred, 0..255 (only its low 8 bits are used)
     * @return the bits of {@code b} under the mixture
     */
    public double code(float[] logits, int off, int b) {
        neural(logits, off);
        return codeBits(b);
    }

    /**
     * As {@link #code}, from probabilities (any positive scale) instead of logits.
     *
     * @param probs the neural distribution over the 256 byte values, from index 0; need not sum to 1 (all 0: uniform)
     * @param b the byte that occurred, 0..255 (only its low 8 bits are used)
     * @return the bits of {@code b} under the mixture
     */
    public double codeProbabilities(double[] probs, int b) {
        cum[0] = 0;
        for (int j = 0; j < 256; j++) {
            cum[j + 1] = cum[j] + probs[j];
        }
        return codeBits(b);
    }

    private double codeBits(int b) {
        if (recent.length > 0) {
            return codeMixed(b);
        }
        double bits = 0;
        for (int k = 0; k < 8; k++) {
            int y = (b >> (7 - k)) & 1;
            int p = predictBit();
            bits += Logistic.cost(y == 1 ? p : 4096 - p);
            updateBit(y);
        }
        endByte(b & 0xff);
        return bits;
    }

    /**
     * Chooses the next byte bit by bit from the mixture, learning each bit as it is chosen (so the
     * level moves exactly as if the byte had been observed). {@code temperature} scales the logit of
     * each decision (0 = the likelier bit).
     *
     * @param logits the neural levels' logits, or null for a uniform neural distribution; not changed
     * @param off index of the first of the 256 logits in {@code logits}
     * @param temperature 0 for the likelier bit at each decision, 1 to sample the mixture as it is, above 1 for flatter
     * @param rnd the source of the random draws; not used when {@code temperature} is 0
     * @return the chosen byte, 0..255
     */
    public int sample(float[] logits, int off, double temperature, java.util.Random rnd) {
        neural(logits, off);
        if (recent.length > 0) {
            return sampleMixed(temperature, rnd);
        }
        int b = 0;
        for (int k = 0; k < 8; k++) {
            int p = predictBit();
            int y;
            if (temperature == 0) {
                y = p >= 2048 ? 1 : 0;
            } else {
                double s = Logistic.stretch(p) / 256.0 / temperature;
                y = rnd.nextDouble() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
            }
            updateBit(y);
            b = (b << 1) | y;
        }
        endByte(b);
        return b;
    }

    // ---------------------------------------------------------------------------------------------
    // the mixture with the recent copies

    private double codeMixed(int b) {
        startMixedByte();
        double bits = 0;
        for (int k = 0; k < 8; k++) {
            int y = (b >> (7 - k)) & 1;
            double p1 = mixedBit();
            bits -= Math.log(y == 1 ? p1 : 1 - p1) / LN2;
            learnMixedBit(y);
        }
        endMixedByte(b & 0xff);
        return bits;
    }

    private int sampleMixed(double temperature, java.util.Random rnd) {
        startMixedByte();
        int b = 0;
        for (int k = 0; k < 8; k++) {
            double p1 = mixedBit();
            int y;
            if (temperature == 0) {
                y = p1 >= 0.5 ? 1 : 0;
            } else {
                double s = Math.log(p1 / (1 - p1)) / temperature;
                y = rnd.nextDouble() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
            }
            learnMixedBit(y);
            b = (b << 1) | y;
        }
        endMixedByte(b);
        return b;
    }

    /** Empties the recent copies whose life ends at this byte (they read the neural distribution from {@link #cum}). */
    private void startMixedByte() {
        int span = cfg.recentBytes();
        int step = span / recent.length;
        for (int j = 0; j < recent.length; j++) {
            if (pos > 0 && (pos + (long) j * step) % span == 0) {
                recent[j].clear();
            }
        }
    }

    /** P(bit = 1) of the mixture: {@code Σ_i post_i p_i / 4096}. */
    private double mixedBit() {
        memberP[0] = predictBit();
        for (int j = 0; j < recent.length; j++) {
            memberP[j + 1] = recent[j].predictBit();
        }
        double s = 0;
        for (int i = 0; i < post.length; i++) {
            s += post[i] * memberP[i];
        }
        return s / 4096;
    }

    /** Bayes' rule on the weights for bit {@code y}, then every member learns it. */
    private void learnMixedBit(int y) {
        double z = 0;
        for (int i = 0; i < post.length; i++) {
            post[i] *= y == 1 ? memberP[i] : 4096 - memberP[i];
            z += post[i];
        }
        for (int i = 0; i < post.length; i++) {
            post[i] /= z;
        }
        updateBit(y);
        for (EpisodicLevel r : recent) {
            r.updateBit(y);
        }
    }

    /** Every member ends the byte; the weights are the posterior moved {@link #SHARE} toward uniform. */
    private void endMixedByte(int b) {
        endByte(b);
        for (EpisodicLevel r : recent) {
            r.endByte(b);
        }
        double uniform = SHARE / weight.length;
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (1 - SHARE) * post[i] + uniform;
            post[i] = weight[i];
        }
    }

    private void neural(float[] logits, int off) {
        cum[0] = 0;
        if (logits == null) {
            for (int j = 0; j < 256; j++) {
                cum[j + 1] = j + 1;
            }
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 256; j++) {
            max = Math.max(max, logits[off + j]);
        }
        for (int j = 0; j < 256; j++) {
            cum[j + 1] = cum[j] + Math.exp((double) logits[off + j] - max);
        }
    }

    /** P(bit = 1 | c0) of the neural distribution, in 12 bits (1..4095). */
    private int neuralBit() {
        int k = bitIndex;
        int lo = (c0 - (1 << k)) << (8 - k);
        int width = 1 << (8 - k);
        double all = cum[lo + width] - cum[lo];
        if (!(all > 0)) {
            return 2048;
        }
        double p1 = (cum[lo + width] - cum[lo + width / 2]) / all;
        return Logistic.clamp((int) Math.floor(p1 * 4096 + 0.5), 1, 4095);
    }

    private int predictBit() {
        int pn = neuralBit();
        x[IN_NEURAL] = Logistic.stretch(pn);
        long c0h = (long) c0 * GOLDEN;
        // first every table read (ten independent cache misses the processor can overlap), then the arithmetic
        for (int i = 0; i < EpisodicConfig.CONTEXTS; i++) {
            long h = mix(ctxHash[i] + c0h);
            slot[i] = (i << tableBits) + (int) (h >>> (64 - tableBits));
            chk[i] = (int) h & 63;
            raws[i] = big[slot[i]];
            raws2[i] = big[slot[i] ^ 1]; // the pair's other slot: the same cache line
        }
        for (int i = 0; i < EpisodicConfig.CONTEXTS; i++) {
            int check = chk[i];
            int raw = raws[i];
            int other = raws2[i];
            // two slots per context (s and s ^ 1): the one whose check bits match, else the context is unseen
            // and takes the one of lower count (an unwritten slot has count 0), so that a long text keeps the
            // contexts it has seen often where one slot per context let every newcomer overwrite them
            int e;
            if ((raw >>> 26) == check) {
                e = raw & 0x3FFFFFF;
            } else if ((other >>> 26) == check) {
                e = other & 0x3FFFFFF;
                slot[i] ^= 1;
            } else {
                e = 32768 << 10;
                if ((other & 31) < (raw & 31)) {
                    slot[i] ^= 1;
                }
            }
            cur[i] = e;
            chk[i] = check << 26;
            int st = Logistic.stretch(e >>> 14) + 2048;
            int lo = st >> 7;
            int w = st & 127;
            int n = e & 31;
            int hh = Math.max((e >>> 5) & 31, 1);
            int a = (((i << 2) + (n < 4 ? 0 : n < 8 ? 1 : n < 16 ? 2 : 3)) * 32 + hh) * APM_KNOTS + lo;
            int pc = (ctxApm[a] * (128 - w) + ctxApm[a + 1] * w) >> 11;
            ctxApmIdx[i] = w < 64 ? a : a + 1;
            x[1 + i] = Logistic.stretch(Logistic.clamp(pc, 1, 4095));
        }
        int depth = 0;
        while (depth < 5 && (cur[depth] & 31) != 0) {
            depth++;
        }
        // match model: follows the earlier occurrence while its bits agree with this byte so far
        if (expected >= 0 && ((expected + 256) >> (8 - bitIndex)) != c0) {
            matchLen = 0;
            expected = -1;
        }
        int bucket = 0;
        if (expected >= 0) {
            int eb = (expected >> (7 - bitIndex)) & 1;
            matchCtx = lengthBucket(matchLen) * 2 + eb;
            x[IN_MATCH] = Logistic.stretch(matchMap[matchCtx] >>> 14);
            int strength = Math.min(matchLen, 32) * 64 - 1;
            x[IN_MATCH_LEN] = eb == 1 ? strength : -strength;
            bucket = matchLen < 16 ? 1 : matchLen < 32 ? 2 : 3;
        } else {
            matchCtx = -1;
            x[IN_MATCH] = 0;
            x[IN_MATCH_LEN] = 0;
        }
        x[IN_BIAS] = 256;
        int conf = Math.abs(x[IN_NEURAL]);
        int prev1 = pos > 0 ? hist[(int) ((pos - 1) & histMask)] & 0xff : 0;
        int prev2 = pos > 1 ? hist[(int) ((pos - 2) & histMask)] & 0xff : 0;
        setA = (c0 | CLASS8[prev1] << 8 | CLASS4[prev2] << 11) * INPUTS;
        setB = (((bucket * 6 + depth) * 4 + (conf < 256 ? 0 : conf < 512 ? 1 : conf < 1024 ? 2 : 3)) * 2 + (bitIndex == 0 ? 1 : 0)) * INPUTS;
        int dA = dot(x, wA, setA);
        int dB = dot(x, wB, setB);
        pA = Logistic.squash(dA);
        pB = Logistic.squash(dB);
        // the final mixer: one weight set that learns at every bit, so when the tables' statistics stop
        // fitting the text (a new domain) it leans on the neural input within a few hundred bytes
        xF[0] = dA;
        xF[1] = dB;
        xF[2] = x[IN_NEURAL];
        xF[3] = 256;
        pF = Logistic.squash(dot(xF, wF, 0));
        pMix = Logistic.clamp(pF, 1, 4095);
        int s = Logistic.stretch(pMix) + 2048;
        int lo = s >> 7;
        int w = s & 127;
        int prev = pos > 0 ? hist[(int) ((pos - 1) & histMask)] & 0xff : 0;
        int a1 = c0 * APM_KNOTS + lo;
        int p1 = (apm1[a1] * (128 - w) + apm1[a1 + 1] * w) >> 11;
        int a3 = (matchCtx >= 0 ? matchCtx : MATCH_CONTEXTS) * APM_KNOTS + lo;
        int p3 = (apm3[a3] * (128 - w) + apm3[a3 + 1] * w) >> 11;
        apm1Idx = w < 64 ? a1 : a1 + 1;
        apm3Idx = w < 64 ? a3 : a3 + 1;
        if (isRecent) {
            return Logistic.clamp((pMix + p1 + p3 + 1) / 3, 1, 4095);
        }
        int a2 = apm2Base + (c0 | prev << 8) * APM_KNOTS + lo;
        int p2 = (big[a2] * (128 - w) + big[a2 + 1] * w) >> 11;
        apm2Idx = w < 64 ? a2 : a2 + 1;
        return Logistic.clamp((pMix + p1 + p2 + p3 + 2) >> 2, 1, 4095);
    }

    /** {@code clamp((in · w[set..]) >> 16)} over all of {@code in} (the inputs x, or the final mixer's). */
    private static int dot(int[] in, int[] w, int set) {
        long sum = 0;
        for (int i = 0; i < in.length; i++) {
            sum += (long) in[i] * w[set + i];
        }
        return Logistic.clamp((int) (sum >> 16), -2047, 2047);
    }

    private void updateBit(int y) {
        train(x, wA, setA, (y << 12) - pA);
        train(x, wB, setB, (y << 12) - pB);
        train(xF, wF, 0, (y << 12) - pF);
        int target = y << 16;
        apm1[apm1Idx] += (target - apm1[apm1Idx]) >> cfg.apmRate();
        apm3[apm3Idx] += (target - apm3[apm3Idx]) >> cfg.apmRate();
        if (!isRecent) {
            put(apm2Idx, big[apm2Idx] + ((target - big[apm2Idx]) >> cfg.apmRate()));
        }
        for (int i = 0; i < EpisodicConfig.CONTEXTS; i++) {
            put(slot[i], chk[i] | ctxCounter(cur[i], y, cfg.counterLimit()));
            ctxApm[ctxApmIdx[i]] += (target - ctxApm[ctxApmIdx[i]]) >> cfg.apmRate();
        }
        if (matchCtx >= 0) {
            matchMap[matchCtx] = counter(matchMap[matchCtx], y, 1023);
        }
        c0 = (c0 << 1) | y;
        bitIndex++;
    }

    private void train(int[] in, int[] w, int set, int err) {
        int shift = cfg.mixerShift();
        for (int i = 0; i < in.length; i++) {
            w[set + i] = Logistic.clamp(w[set + i] + (int) (((long) in[i] * err) >> shift), -MAX_WEIGHT, MAX_WEIGHT);
        }
    }

    /**
     * A context slot: 16-bit p in bits 10..25, the last bits seen (up to 4, after a leading 1) in bits
     * 5..9, the count n in bits 0..4; p += (y - p)·2/(2n+3). A bit the slot gave less than 1/4 (a
     * surprise) first brings n down to at most {@value #SURPRISE_COUNT}, so a slot whose statistics went
     * stale adapts fast again.
     */
    static int ctxCounter(int e, int y, int limit) {
        int p = e >>> 10;
        int n = e & 31;
        int hh = Math.max((e >>> 5) & 31, 1);
        if (y == 1 ? p < 16384 : p > 49151) {
            n = Math.min(n, SURPRISE_COUNT);
        }
        p += (int) (((long) ((y == 1 ? 65535 : 0) - p) * RATE[n]) >> 16);
        if (n < limit) {
            n++;
        }
        hh = (hh << 1) | y;
        if (hh >= 32) {
            hh = (hh & 15) | 16;
        }
        return (p << 10) | (hh << 5) | n;
    }

    /** An adaptive probability slot: 16-bit p in bits 10..25, count n in bits 0..9; p += (y - p)·2/(2n+3). */
    static int counter(int e, int y, int limit) {
        int p = e >>> 10;
        int n = e & 1023;
        int target = y == 1 ? 65535 : 0;
        p += (int) (((long) (target - p) * RATE[n]) >> 16);
        if (n < limit) {
            n++;
        }
        return (p << 10) | n;
    }

    private static int lengthBucket(int len) {
        return len < 16 ? len : Math.min(16 + ((len - 16) >> 3), 31);
    }

    private void endByte(int b) {
        putHist(pos, (byte) b);
        pos++;
        c0 = 1;
        bitIndex = 0;
        boolean letter = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 128;
        if (letter) {
            wordHash = (wordHash + (b >= 'A' && b <= 'Z' ? b + 32 : b) + 1) * MUL;
        } else if (wordHash != 0) {
            prevWordHash = wordHash;
            wordHash = 0;
        }
        if (b == '\n') {
            prevLineStart = lineStart;
            lineStart = pos;
        }
        // match model
        if (matchLen > 0 && expected == b) {
            matchLen = Math.min(matchLen + 1, MAX_MATCH);
            matchPtr++;
        } else {
            matchLen = 0;
        }
        if (pos >= cfg.matchMin()) {
            long h = 0;
            for (int j = 1; j <= cfg.matchMin(); j++) {
                h = (h + byteAt(pos - j) + 1) * MUL;
            }
            int idx = matchBase + (int) (mix(h) >>> matchShift);
            if (matchLen == 0) {
                // the index keeps positions modulo 2^32 (0: empty); the distance back recovers the position
                int stored = big[idx];
                long cand = pos - ((pos - stored) & 0xffffffffL);
                if (stored != 0 && cand > 0 && cand < pos && pos - cand < histSize) {
                    // verify backwards, only over bytes still in the history ring
                    long maxLen = Math.min(MAX_MATCH, Math.min(cand, histSize - (pos - cand)));
                    int len = 0;
                    while (len < maxLen && byteAt(cand - 1 - len) == byteAt(pos - 1 - len)) {
                        len++;
                    }
                    if (len >= cfg.matchMin()) {
                        matchLen = len;
                        matchPtr = cand;
                    }
                }
            }
            put(idx, (int) pos);
        }
        expected = matchLen > 0 ? byteAt(matchPtr) : -1;
        contextHashes();
    }

    private int byteAt(long p) {
        return hist[(int) (p & histMask)] & 0xff;
    }

    private void contextHashes() {
        for (int i = 0; i < ORDERS.length; i++) {
            long h = (i + 1) * GOLDEN;
            for (int j = 1; j <= ORDERS[i]; j++) {
                h = (h + (pos - j >= 0 ? byteAt(pos - j) : 256) + 1) * MUL;
            }
            ctxHash[i] = h;
        }
        ctxHash[5] = (wordHash * 31 + prevWordHash + 6) * MUL;
        long col = pos - lineStart;
        int above = prevLineStart + col < lineStart ? byteAt(prevLineStart + col) : 256;
        int left = pos > 0 ? byteAt(pos - 1) : 256;
        ctxHash[6] = ((above + 1) * 1024L + left + 7) * MUL;
        // the last 5 bytes with every digit read as '0': the shape of numbers, dates, addresses and fields
        long h = 8 * GOLDEN;
        for (int j = 1; j <= 5; j++) {
            int c = pos - j >= 0 ? byteAt(pos - j) : 256;
            h = (h + (c >= '0' && c <= '9' ? '0' : c) + 1) * MUL;
        }
        ctxHash[7] = h;
        // the current word alone (its letters so far; 0 between words)
        ctxHash[8] = (wordHash + 9) * MUL * MUL;
        // the current token (up to 32 bytes since the last space or newline) with its field number in
        // the line (spaces since the line start, looked for at most 256 bytes back, capped at 31)
        long th = 0;
        long j = pos - 1;
        for (int n = 0; j >= 0 && n < 32; n++, j--) {
            int c = byteAt(j);
            if (c == ' ' || c == '\n') {
                break;
            }
            th = (th + c + 1) * MUL;
        }
        int fields = 0;
        for (long q = j; q >= 0 && q >= pos - 256; q--) {
            int c = byteAt(q);
            if (c == '\n') {
                break;
            }
            if (c == ' ') {
                fields++;
            }
        }
        ctxHash[9] = (th * 31 + Math.min(fields, 31) + 10) * MUL * MUL;
    }

    static long mix(long h) {
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return h;
    }

    // ---------------------------------------------------------------------------------------------
    // persistence

    /**
     * How many bytes {@link #writeTo} writes.
     *
     * @return the size of the whole state as written (about 33 MB with the default configuration)
     */
    public long stateBytes() {
        long ints = (long) wA.length + wB.length + apm1.length + apm3.length + ctxApm.length + matchMap.length + big.length + wF.length;
        long n = 3 * 4 + 10 * 8 + 4 * ints + hist.length;
        for (EpisodicLevel r : recent) {
            n += r.stateBytes();
        }
        return recent.length == 0 ? n : n + 8L * weight.length;
    }

    /**
     * Writes the whole state (not the configuration's rates or the prior) to {@code out}.
     *
     * @param out receives the table sizes, the scalars, the tables, the history and the mixers' weights (big-endian);
     *     not closed
     * @throws java.io.IOException if {@code out} fails
     */
    public void writeTo(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(cfg.tableBits());
        out.writeInt(cfg.historyBits());
        out.writeInt(cfg.matchBits());
        for (long v : new long[] {pos, c0, bitIndex, wordHash, prevWordHash, lineStart, prevLineStart, matchPtr, matchLen, expected}) {
            out.writeLong(v);
        }
        for (int[] a : new int[][] {wA, wB, apm1, apm3, ctxApm, matchMap, big}) {
            writeInts(out, a);
        }
        out.write(hist);
        writeInts(out, wF); // after the tables, so that a state written before the final mixer existed still reads
        // then the recent copies and the mixture's weights, so that a state written before them still reads
        for (EpisodicLevel r : recent) {
            r.writeTo(out);
        }
        for (int i = 0; recent.length > 0 && i < weight.length; i++) {
            out.writeDouble(weight[i]);
        }
    }

    private static void writeInts(java.io.DataOutputStream out, int[] a) throws java.io.IOException {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(1 << 16);
        for (int i = 0; i < a.length; ) {
            bb.clear();
            while (i < a.length && bb.remaining() >= 4) {
                bb.putInt(a[i++]);
            }
            out.write(bb.array(), 0, bb.position());
        }
    }

    /**
     * Replaces the whole state with one written by {@link #writeTo} for the same table sizes. Reads
     * everything into fresh arrays first: on any error this level is unchanged.
     *
     * @param in the state, as {@link #writeTo} wrote it; read to its end, not closed
     * @throws java.io.IOException if the data is short or its sizes or values do not fit this level
     * @throws IllegalStateException if a transaction is open (the data has been read, the level is unchanged)
     */
    public void readFrom(java.io.DataInputStream in) throws java.io.IOException {
        readFromVerified(in, null, null);
    }

    /**
     * As {@link #readFrom}, and when {@code md} is given, the bytes read through it must hash to
     * {@code want} before anything changes.
     *
     * @param in the state, as {@link #writeTo} wrote it; read to its end, not closed
     * @param md the digest that {@code in} feeds (a {@link java.security.DigestInputStream} under it), or null to skip the
     *     check
     * @param want the expected digest of the bytes read (for the caller's SHA-256); used only when {@code md} is given
     * @throws java.io.IOException if the data is short or has trailing bytes, its sizes or values do not fit this level,
     *     or its digest is not {@code want}
     * @throws IllegalStateException if a transaction is open (the data has been read, the level is unchanged)
     */
    public void readFromVerified(java.io.DataInputStream in, java.security.MessageDigest md, byte[] want) throws java.io.IOException {
        read(in, md, want, false);
    }

    /**
     * This level's whole state as {@link #writeTo} writes it, deflated at the fastest level: the tables are mostly empty
     * slots, so the default tables' 33 MB deflate to a few MB. A copy to put back with {@link #restoreDeflated}.
     *
     * @return the deflated state
     */
    public byte[] deflated() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(1 << 20);
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED);
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.util.zip.DeflaterOutputStream(bytes, deflater, 1 << 16))) {
            writeTo(out);
        } catch (java.io.IOException impossible) {
            throw new IllegalStateException("episodic level: cannot copy into memory", impossible);
        } finally {
            deflater.end();
        }
        return bytes.toByteArray();
    }

    /**
     * Puts back a state that {@link #deflated} of this level returned, read straight into the live tables: {@link #readFrom}
     * reads into fresh arrays first, a second copy of the tables (33 MB by default) on the heap. For this level's own
     * copies only, whose checks cannot fail: data that failed them halfway would leave the level part old, part new.
     *
     * @param state what {@link #deflated} returned for this level
     * @throws IllegalStateException if a transaction is open, or {@code state} is not this level's (nothing is changed
     *     then unless it failed inside the tables)
     */
    public void restoreDeflated(byte[] state) {
        if (inTxn) {
            throw new IllegalStateException("episodic level: restore inside a transaction");
        }
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(state)))) {
            read(in, null, null, true);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("episodic level: its own copy does not read back: " + e.getMessage(), e);
        }
    }

    /** {@link #readFromVerified}; {@code inPlace}: the tables and history are read straight into the live arrays. */
    private void read(java.io.DataInputStream in, java.security.MessageDigest md, byte[] want, boolean inPlace) throws java.io.IOException {
        java.io.PushbackInputStream pushback = new java.io.PushbackInputStream(in, 1);
        java.io.DataInputStream data = new java.io.DataInputStream(pushback);
        Parsed own = parse(data, true, inPlace);
        Parsed[] copies = new Parsed[recent.length];
        double[] w = null;
        int next = pushback.read();
        if (next != -1 && recent.length > 0) {
            pushback.unread(next);
            for (int j = 0; j < recent.length; j++) {
                copies[j] = recent[j].parse(data, false, false);
            }
            w = new double[weight.length];
            double sum = 0;
            for (int i = 0; i < w.length; i++) {
                w[i] = data.readDouble();
                if (!(w[i] > 0 && w[i] <= 1)) {
                    throw new java.io.IOException("episodic recent-copy weight " + i + " is not in (0, 1]: " + w[i]);
                }
                sum += w[i];
            }
            if (Math.abs(sum - 1) > 1e-9) {
                throw new java.io.IOException("episodic recent-copy weights sum to " + sum + ", not 1");
            }
            next = pushback.read();
        }
        if (next != -1) {
            throw new java.io.IOException("episodic state has trailing data");
        }
        if (md != null && !java.security.MessageDigest.isEqual(md.digest(), want)) {
            throw new java.io.IOException("episodic state does not match its SHA-256");
        }
        if (inTxn) {
            throw new IllegalStateException("episodic level: restore inside a transaction");
        }
        apply(own);
        for (int j = 0; j < recent.length; j++) {
            if (copies[j] == null) {
                recent[j].clear(); // written before the recent copies: they start empty
            } else {
                recent[j].apply(copies[j]);
            }
        }
        if (w == null) {
            Arrays.fill(weight, 1.0 / weight.length);
        } else {
            System.arraycopy(w, 0, weight, 0, w.length);
        }
        System.arraycopy(weight, 0, post, 0, weight.length);
    }

    /** One level's state as read, checked, not yet applied. */
    private record Parsed(long[] scalars, int[][] arrays, byte[] hist, int[] finalWeights) {
    }

    /**
     * Reads and checks one level's own state (without its recent copies).
     *
     * @param finalOptional whether the state may end before the final mixer's weights (a state written before it existed)
     * @param inPlace whether the tables and the history are read into the live arrays instead of fresh ones
     */
    private Parsed parse(java.io.DataInputStream in, boolean finalOptional, boolean inPlace) throws java.io.IOException {
        int tb = in.readInt(), hb = in.readInt(), mb = in.readInt();
        if (tb != cfg.tableBits() || hb != cfg.historyBits() || mb != cfg.matchBits()) {
            throw new java.io.IOException("episodic tables are 2^" + tb + "/2^" + hb + "/2^" + mb + " (table/history/match), this learner's are 2^"
                    + cfg.tableBits() + "/2^" + cfg.historyBits() + "/2^" + cfg.matchBits());
        }
        long[] v = new long[10];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readLong();
        }
        // c0 is the partial byte with a leading 1: it has exactly bitIndex bits after it
        if (v[0] < 0 || v[1] < 1 || v[1] > 255 || v[2] < 0 || v[2] > 7 || (v[1] >> v[2]) != 1 || v[8] < 0 || v[8] > MAX_MATCH
                || v[9] < -1 || v[9] > 255 || v[5] > v[0] || v[6] > v[5] || v[7] < 0 || v[7] > v[0]) {
            throw new java.io.IOException("episodic scalars out of range: " + Arrays.toString(v));
        }
        int[][] arrays = {new int[wA.length], new int[wB.length], new int[apm1.length], new int[apm3.length], new int[ctxApm.length], new int[matchMap.length], inPlace ? big : new int[big.length]};
        byte[] raw = new byte[1 << 16];
        for (int[] a : arrays) {
            for (int i = 0; i < a.length; ) {
                int n = Math.min(raw.length, (a.length - i) * 4);
                in.readFully(raw, 0, n);
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(raw, 0, n);
                while (bb.hasRemaining()) {
                    a[i++] = bb.getInt();
                }
            }
        }
        byte[] h = inPlace ? hist : new byte[hist.length];
        in.readFully(h);
        int[] f = new int[FINAL_INPUTS];
        byte[] tail = in.readNBytes(4 * FINAL_INPUTS);
        if (tail.length == 0 && finalOptional) {
            initFinal(f); // written before the final mixer existed: it starts as the average it replaced
        } else if (tail.length < 4 * FINAL_INPUTS) {
            throw new java.io.EOFException("episodic state ends inside the final mixer's weights");
        } else {
            java.nio.ByteBuffer.wrap(tail).asIntBuffer().get(f);
            for (int i = 0; i < FINAL_INPUTS; i++) {
                if (f[i] < -MAX_WEIGHT || f[i] > MAX_WEIGHT) {
                    throw new java.io.IOException("episodic final mixer weight " + i + " is out of -2^23..2^23: " + f[i]);
                }
            }
        }
        checkCounters(arrays[5], 0, arrays[5].length, "match map");
        checkRange(arrays[2], 0, arrays[2].length, "APM");
        checkRange(arrays[3], 0, arrays[3].length, "APM");
        checkRange(arrays[4], 0, arrays[4].length, "APM");
        checkRange(arrays[6], apm2Base, arrays[6].length, "APM");
        return new Parsed(v, arrays, h, f);
    }

    private void apply(Parsed p) {
        int[][] arrays = p.arrays();
        System.arraycopy(arrays[0], 0, wA, 0, wA.length);
        System.arraycopy(arrays[1], 0, wB, 0, wB.length);
        System.arraycopy(arrays[2], 0, apm1, 0, apm1.length);
        System.arraycopy(arrays[3], 0, apm3, 0, apm3.length);
        System.arraycopy(arrays[4], 0, ctxApm, 0, ctxApm.length);
        System.arraycopy(arrays[5], 0, matchMap, 0, matchMap.length);
        System.arraycopy(arrays[6], 0, big, 0, big.length);
        System.arraycopy(p.hist(), 0, hist, 0, hist.length);
        System.arraycopy(p.finalWeights(), 0, wF, 0, wF.length);
        long[] v = p.scalars();
        pos = v[0];
        c0 = (int) v[1];
        bitIndex = (int) v[2];
        wordHash = v[3];
        prevWordHash = v[4];
        lineStart = v[5];
        prevLineStart = v[6];
        matchPtr = v[7];
        matchLen = (int) v[8];
        expected = (int) v[9];
        contextHashes();
    }

    private static void checkCounters(int[] a, int from, int to, String what) throws java.io.IOException {
        for (int i = from; i < to; i++) {
            if (a[i] < 0 || (a[i] >>> 10) > 65535) {
                throw new java.io.IOException("episodic " + what + " slot " + (i - from) + " is not a counter: " + a[i]);
            }
        }
    }

    private static void checkRange(int[] a, int from, int to, String what) throws java.io.IOException {
        for (int i = from; i < to; i++) {
            if (a[i] < 0 || a[i] > 65536) {
                throw new java.io.IOException("episodic " + what + " slot " + (i - from) + " is out of 0..65536: " + a[i]);
            }
        }
    }

    /**
     * SHA-256 of the whole state as {@link #writeTo} writes it: equal digests, equal levels.
     *
     * @return the 64 lowercase hexadecimal digits of the digest
     */
    public String digest() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(), md))) {
                writeTo(out);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // transactions: score and generate leave the level as it was

    /** Starts a transaction: until {@link #rollback()} or {@link #commit()}, every change is undoable. */
    public void begin() {
        if (inTxn) {
            throw new IllegalStateException("episodic level: a transaction is already open");
        }
        inTxn = true;
        // the small arrays' copies are kept from one transaction to the next (score calls come often)
        if (spareSmall == null) {
            spareSmall = new Small(new int[wA.length], new int[wB.length], new int[wF.length], new int[apm1.length], new int[apm3.length],
                    new int[ctxApm.length], new int[matchMap.length], new long[10], new long[ctxHash.length]);
        }
        Small s = spareSmall;
        System.arraycopy(wA, 0, s.wA, 0, wA.length);
        System.arraycopy(wB, 0, s.wB, 0, wB.length);
        System.arraycopy(wF, 0, s.wF, 0, wF.length);
        System.arraycopy(apm1, 0, s.apm1, 0, apm1.length);
        System.arraycopy(apm3, 0, s.apm3, 0, apm3.length);
        System.arraycopy(ctxApm, 0, s.ctxApm, 0, ctxApm.length);
        System.arraycopy(matchMap, 0, s.matchMap, 0, matchMap.length);
        long[] v = s.scalars;
        v[0] = pos;
        v[1] = c0;
        v[2] = bitIndex;
        v[3] = wordHash;
        v[4] = prevWordHash;
        v[5] = lineStart;
        v[6] = prevLineStart;
        v[7] = matchPtr;
        v[8] = matchLen;
        v[9] = expected;
        System.arraycopy(ctxHash, 0, s.ctxHash, 0, ctxHash.length);
        savedSmall = s;
        for (EpisodicLevel r : recent) {
            r.begin();
        }
        if (recent.length > 0) {
            if (savedWeight == null) {
                savedWeight = new double[2 * weight.length];
            }
            System.arraycopy(weight, 0, savedWeight, 0, weight.length);
            System.arraycopy(post, 0, savedWeight, weight.length, post.length);
        }
    }

    /** Undoes every change since {@link #begin()}. */
    public void rollback() {
        if (!inTxn) {
            throw new IllegalStateException("episodic level: no transaction to roll back");
        }
        for (int k = nLog - 1; k >= 0; k--) {
            long e = undoLog[k >>> LOG_CHUNK_BITS][k & (LOG_CHUNK - 1)];
            big[(int) (e >>> 32)] = (int) e;
        }
        for (int i = 0; i < nDirtyBig; i++) {
            int page = dirtyBig[i];
            int[] copy = savedBig[page];
            System.arraycopy(copy, 0, big, page << PAGE_BITS, copy.length);
        }
        for (int i = 0; i < nDirtyHist; i++) {
            int page = dirtyHist[i];
            byte[] copy = savedHist[page];
            System.arraycopy(copy, 0, hist, page << PAGE_BITS, copy.length);
        }
        Small s = savedSmall;
        System.arraycopy(s.wA, 0, wA, 0, wA.length);
        System.arraycopy(s.wB, 0, wB, 0, wB.length);
        System.arraycopy(s.wF, 0, wF, 0, wF.length);
        System.arraycopy(s.apm1, 0, apm1, 0, apm1.length);
        System.arraycopy(s.apm3, 0, apm3, 0, apm3.length);
        System.arraycopy(s.ctxApm, 0, ctxApm, 0, ctxApm.length);
        System.arraycopy(s.matchMap, 0, matchMap, 0, matchMap.length);
        long[] v = s.scalars;
        pos = v[0];
        c0 = (int) v[1];
        bitIndex = (int) v[2];
        wordHash = v[3];
        prevWordHash = v[4];
        lineStart = v[5];
        prevLineStart = v[6];
        matchPtr = v[7];
        matchLen = (int) v[8];
        expected = (int) v[9];
        System.arraycopy(s.ctxHash, 0, ctxHash, 0, ctxHash.length);
        endTxn();
        for (EpisodicLevel r : recent) {
            r.rollback();
        }
        if (recent.length > 0) {
            System.arraycopy(savedWeight, 0, weight, 0, weight.length);
            System.arraycopy(savedWeight, weight.length, post, 0, post.length);
        }
    }

    /** Keeps every change since {@link #begin()}. */
    public void commit() {
        if (!inTxn) {
            throw new IllegalStateException("episodic level: no transaction to commit");
        }
        endTxn();
        for (EpisodicLevel r : recent) {
            r.commit();
        }
    }

    private void endTxn() {
        for (int i = 0; i < nDirtyBig; i++) {
            savedBig[dirtyBig[i]] = null;
        }
        for (int i = 0; i < nDirtyHist; i++) {
            savedHist[dirtyHist[i]] = null;
        }
        nDirtyBig = nDirtyHist = 0;
        nLog = 0;
        pageMode = false;
        if (undoLog.length > 1) {
            undoLog = new long[][] {undoLog[0]}; // a long call's log is not kept beyond its first chunk
        }
        savedSmall = null;
        inTxn = false;
    }

    private void put(int i, int v) {
        if (inTxn && !pageMode) {
            if (nLog < logLimit) {
                int c = nLog >>> LOG_CHUNK_BITS;
                int j = nLog & (LOG_CHUNK - 1);
                if (c == 0 && j == undoLog[0].length) {
                    undoLog[0] = Arrays.copyOf(undoLog[0], Math.min(2 * j, LOG_CHUNK));
                } else if (c > 0 && j == 0) {
                    if (c == undoLog.length) {
                        undoLog = Arrays.copyOf(undoLog, 2 * c);
                    }
                    undoLog[c] = new long[LOG_CHUNK];
                }
                undoLog[c][j] = ((long) i << 32) | (big[i] & 0xffffffffL);
                nLog++;
                big[i] = v;
                return;
            }
            logToPages();
        }
        if (inTxn) {
            saveBigPage(i >>> PAGE_BITS);
        }
        big[i] = v;
    }

    /** Keeps page {@code page} of the tables as it is now, unless this transaction already kept it. */
    private void saveBigPage(int page) {
        if (savedBig[page] == null) {
            int from = page << PAGE_BITS;
            savedBig[page] = Arrays.copyOfRange(big, from, Math.min(from + (1 << PAGE_BITS), big.length));
            if (nDirtyBig == dirtyBig.length) {
                dirtyBig = Arrays.copyOf(dirtyBig, 2 * nDirtyBig);
            }
            dirtyBig[nDirtyBig++] = page;
        }
    }

    /** Keeps page {@code page} of the history as it is now, unless this transaction already kept it. */
    private void saveHistPage(int page) {
        if (savedHist[page] == null) {
            int from = page << PAGE_BITS;
            savedHist[page] = Arrays.copyOfRange(hist, from, Math.min(from + (1 << PAGE_BITS), hist.length));
            if (nDirtyHist == dirtyHist.length) {
                dirtyHist = Arrays.copyOf(dirtyHist, 2 * nDirtyHist);
            }
            dirtyHist[nDirtyHist++] = page;
        }
    }

    /** Saves every page not saved yet (before a bulk write inside a transaction). */
    private void saveAllPages() {
        if (!pageMode) {
            logToPages();
        }
        for (int page = 0; page << PAGE_BITS < big.length; page++) {
            saveBigPage(page);
        }
        for (int page = 0; page << PAGE_BITS < hist.length; page++) {
            saveHistPage(page);
        }
    }

    /** Turns the undo log into saved pages: each touched page as it was before the transaction. */
    private void logToPages() {
        for (int k = nLog - 1; k >= 0; k--) {
            long e = undoLog[k >>> LOG_CHUNK_BITS][k & (LOG_CHUNK - 1)];
            int i = (int) (e >>> 32);
            int page = i >>> PAGE_BITS;
            int from = page << PAGE_BITS;
            saveBigPage(page);
            // newest to oldest: the last value written back is the one from before the transaction
            savedBig[page][i - from] = (int) e;
        }
        nLog = 0;
        pageMode = true;
    }

    private void putHist(long p, byte v) {
        int i = (int) (p & histMask);
        if (inTxn) {
            saveHistPage(i >>> PAGE_BITS);
        }
        hist[i] = v;
    }
}
