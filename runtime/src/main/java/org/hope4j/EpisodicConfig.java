package org.hope4j;

/**
 * Sizes and rates of the episodic level E ({@link Level#E}: exact context statistics and a match model mixed
 * with the neural levels). Every table has a fixed size, so the level's memory is bounded whatever it reads
 * ({@link #bytes()}).
 *
 * @param tableBits log2 of the slots of each context table (10 tables of 4-byte slots)
 * @param historyBits log2 of the bytes of history the match model can point into
 * @param matchBits log2 of the slots of the match model's hash index (4-byte slots)
 * @param matchMin the shortest match (bytes) the match model follows
 * @param counterLimit the count at which a context slot's adaptation rate stops falling (1..31):
 *     lower forgets faster
 * @param mixerShift the mixer's learning rate is {@code 2^-mixerShift} in its fixed point (larger = slower)
 * @param apmRate the adaptive probability maps move {@code 2^-apmRate} of the way per update
 * @param recentLevels how many short-lived copies of the level run beside it, each emptied every {@code recentBytes}
 *     bytes at staggered positions, mixed with it byte by byte by their recent coding success (0: none). They know
 *     only the last few KB, so when the text turns to another domain the mixture follows the copy that never saw the
 *     old one instead of the level's stale statistics (model-export/README.md "The sixth round")
 * @param recentBytes the bytes each recent copy lives before it is emptied
 */
public record EpisodicConfig(int tableBits, int historyBits, int matchBits, int matchMin, int counterLimit, int mixerShift,
                             int apmRate, int recentLevels, int recentBytes) {
    /** Context tables of the level: orders 1, 2, 3, 4, 6, the word pair, the column, the digit shape, the current word and the token in its field. */
    public static final int CONTEXTS = 10;

    /**
     * Checks every value against its range.
     *
     * @param tableBits log2 of the slots of each context table, 10..26
     * @param historyBits log2 of the history's bytes, 12..30
     * @param matchBits log2 of the slots of the match index, 10..26
     * @param matchMin the shortest match (bytes) the match model follows, 2..32
     * @param counterLimit the count at which a context slot's adaptation rate stops falling, 1..31
     * @param mixerShift the mixers' learning rate exponent, 8..24
     * @param apmRate the adaptive probability maps' rate exponent, 1..14
     * @param recentLevels the recent copies, 0..4
     * @param recentBytes the life of a recent copy in bytes, 256..65536, a multiple of {@code recentLevels} when there are any
     * @throws IllegalArgumentException if a value is outside its range (the message names it)
     */
    public EpisodicConfig {
        check("tableBits", tableBits, 10, 26);
        check("historyBits", historyBits, 12, 30);
        check("matchBits", matchBits, 10, 26);
        check("matchMin", matchMin, 2, 32);
        check("counterLimit", counterLimit, 1, 31);
        check("mixerShift", mixerShift, 8, 24);
        check("apmRate", apmRate, 1, 14);
        check("recentLevels", recentLevels, 0, 4);
        check("recentBytes", recentBytes, 256, 65536);
        if (recentLevels > 0 && recentBytes % recentLevels != 0) {
            throw new IllegalArgumentException("episodic recentBytes must be a multiple of recentLevels (" + recentLevels + "), found " + recentBytes);
        }
    }

    /** log2 of the slots of each context table of a recent copy: 2^14 pairs hold the contexts of 2 KB. */
    public static final int RECENT_TABLE_BITS = 14;
    /** log2 of the slots of a recent copy's match index. */
    public static final int RECENT_MATCH_BITS = 12;

    /**
     * The configuration of each recent copy: small tables ({@link #RECENT_TABLE_BITS}), a history as long as its life,
     * the same rates, no recent copies of its own.
     *
     * @return the recent copies' configuration
     */
    public EpisodicConfig recent() {
        int hb = Math.max(12, 32 - Integer.numberOfLeadingZeros(recentBytes - 1));
        return new EpisodicConfig(RECENT_TABLE_BITS, hb, RECENT_MATCH_BITS, matchMin, counterLimit, mixerShift, apmRate, 0, recentBytes);
    }

    private static void check(String name, int v, int lo, int hi) {
        if (v < lo || v > hi) {
            throw new IllegalArgumentException("episodic " + name + " must be in " + lo + ".." + hi + ", found " + v);
        }
    }

    /**
     * The defaults (chosen by measurement, model-export/README.md "The episodic level E"): 20 MiB of context tables, 1 MiB of
     * history, a 1 MiB match index and 8.25 MiB of adaptive probability maps (31.7 MB in all; the mixers' weights and the small
     * maps add 0.6 MB), and two recent copies living 2 KB each (0.7 MB of tables each, no map on the previous byte).
     *
     * @return a configuration with tableBits 19, historyBits 20, matchBits 18, matchMin 4, counterLimit 30, mixerShift 11, apmRate 6,
     *     recentLevels 2, recentBytes 2048
     */
    public static EpisodicConfig defaults() {
        return new EpisodicConfig(19, 20, 18, 4, 30, 11, 6, 2, 2048);
    }

    /** Bytes of the context tables, the history and the match index. */
    private long tables() {
        return 4L * ((long) CONTEXTS << tableBits) + (1L << historyBits) + 4L * (1L << matchBits);
    }

    /**
     * This configuration with other recent copies.
     *
     * @param levels the recent copies, 0..4
     * @param bytes the life of each in bytes
     * @return the same sizes and rates with {@code levels} recent copies of {@code bytes} each
     */
    public EpisodicConfig withRecent(int levels, int bytes) {
        return new EpisodicConfig(tableBits, historyBits, matchBits, matchMin, counterLimit, mixerShift, apmRate, levels, bytes);
    }

    /**
     * Bytes the level's tables take (the bound on its memory, small arrays not counted).
     *
     * @return {@code 4 * CONTEXTS * 2^tableBits + 2^historyBits + 4 * 2^matchBits} bytes, plus the 8.25 MiB of the
     *     adaptive probability map on c0 and the previous byte, plus the recent copies' tables (which have no such map)
     */
    public long bytes() {
        EpisodicConfig r = recent();
        return tables() + 4L * org.hope4j.level.EpisodicLevel.APM2_SLOTS + recentLevels * r.tables();
    }
}
