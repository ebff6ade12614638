package org.hope4j.consolidation;

import java.util.LinkedHashMap;
import java.util.Map;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;

/**
 * L2's pool of masked low-rank {@link Expert}s: a fixed number of slots, each free or holding the
 * expert one committed sleep trained (and its sleep number). Switched-on experts are already part
 * of L2's weights in the engine (the engine holds {@code L2 + Σ experts}); the pool keeps their
 * factors so that a full pool can fold its oldest expert into L2 (forget the factors, keep the
 * change) or prune it (take the change back out), and so the model never grows. Saved with the
 * learner's state. Not thread-safe: the learner guards it.
 */
public final class ExpertPool {
    static final String PREFIX = "sleep.pool.";
    private final int slots, nb, d, f2, rank;
    private final Expert[] experts;
    private final long[] stamps;
    private long sleeps;

    /**
     * An empty pool: every slot free, no sleep counted.
     *
     * @param slots the most experts it holds, {@code >= 1}
     * @param nb blocks of the model (each with its own L2 matrices and expert factors)
     * @param d the model width D
     * @param f2 L2's hidden width F2
     * @param rank r, the rank of every expert's factors, {@code >= 1}
     * @throws IllegalArgumentException if {@code slots} or {@code rank} is below 1
     */
    public ExpertPool(int slots, int nb, int d, int f2, int rank) {
        if (slots < 1 || rank < 1) {
            throw new IllegalArgumentException("slots and rank must be >= 1, found " + slots + ", " + rank);
        }
        this.slots = slots;
        this.nb = nb;
        this.d = d;
        this.f2 = f2;
        this.rank = rank;
        experts = new Expert[slots];
        stamps = new long[slots];
    }

    /**
     * The pool's size.
     *
     * @return the most experts it holds, free slots included
     */
    public int slots() {
        return slots;
    }

    /**
     * The rank of the pool's experts.
     *
     * @return r, the inner dimension of every expert's factors
     */
    public int rank() {
        return rank;
    }

    /**
     * Slots holding an expert.
     *
     * @return the slots in use, from 0 to {@link #slots()}
     */
    public int used() {
        int n = 0;
        for (Expert e : experts) {
            n += e == null ? 0 : 1;
        }
        return n;
    }

    /**
     * Committed sleeps so far.
     *
     * @return the sleeps committed into this pool over its whole saved history (it is also the newest
     *     expert's stamp)
     */
    public long sleeps() {
        return sleeps;
    }

    /** A free slot, or -1 when the pool is full. */
    int freeSlot() {
        for (int i = 0; i < slots; i++) {
            if (experts[i] == null) {
                return i;
            }
        }
        return -1;
    }

    /** The slot of the oldest expert, or -1 when the pool is empty. */
    int oldestSlot() {
        int best = -1;
        for (int i = 0; i < slots; i++) {
            if (experts[i] != null && (best < 0 || stamps[i] < stamps[best])) {
                best = i;
            }
        }
        return best;
    }

    Expert expert(int slot) {
        return experts[slot];
    }

    /** Empties a slot (its expert is folded or pruned by the caller). */
    void clear(int slot) {
        experts[slot] = null;
        stamps[slot] = 0;
    }

    /** Puts the expert of a committed sleep into {@code slot}. */
    void put(int slot, Expert e) {
        sleeps++;
        experts[slot] = e;
        stamps[slot] = sleeps;
    }

    /**
     * Records a committed sleep: the expert goes into {@code slot}; {@code evicted} (or -1) is the
     * slot whose old expert the sleep folded or pruned (its weights already account for that).
     *
     * @param slot the slot the new expert goes into, from 0 to {@code slots() - 1}: a free one, or
     *     {@code evicted}
     * @param evicted the slot emptied to make room, or -1 (any negative value) when a free slot was used
     * @param e the expert the sleep trained; kept, not copied
     * @throws ArrayIndexOutOfBoundsException if {@code slot}, or a non-negative {@code evicted}, is not a
     *     slot of this pool
     */
    public void commit(int slot, int evicted, Expert e) {
        if (evicted >= 0) {
            clear(evicted);
        }
        put(slot, e);
    }

    /**
     * A deep copy.
     *
     * @return an independent pool with the same slots, stamps and count of sleeps, and a copy of every expert
     */
    public ExpertPool copy() {
        ExpertPool c = new ExpertPool(slots, nb, d, f2, rank);
        for (int i = 0; i < slots; i++) {
            c.experts[i] = experts[i] == null ? null : experts[i].copy();
            c.stamps[i] = stamps[i];
        }
        c.sleeps = sleeps;
        return c;
    }

    /**
     * The pool as state tensors, named {@code sleep.pool.*}.
     *
     * @return a new map, in order: {@code sleep.pool.meta} (slots, rank, sleeps, then each slot's stamp, 0
     *     when free; stored as floats), then {@code sleep.pool.<slot>.blocks.<b>.u}, {@code .v}, {@code .p}
     *     and {@code .q} of every used slot; the data are copies
     */
    public Map<String, Tensor> toTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        float[] meta = new float[slots + 3];
        meta[0] = slots;
        meta[1] = rank;
        meta[2] = sleeps;
        for (int i = 0; i < slots; i++) {
            meta[3 + i] = stamps[i];
        }
        put(m, PREFIX + "meta", new int[] {slots + 3}, meta);
        for (int i = 0; i < slots; i++) {
            Expert e = experts[i];
            if (e == null) {
                continue;
            }
            for (int b = 0; b < nb; b++) {
                String p = PREFIX + i + ".blocks." + b + ".";
                put(m, p + "u", new int[] {d, rank}, e.u[b]);
                put(m, p + "v", new int[] {rank, f2}, e.v[b]);
                put(m, p + "p", new int[] {f2, rank}, e.p[b]);
                put(m, p + "q", new int[] {rank, d}, e.q[b]);
            }
        }
        return m;
    }

    private static void put(Map<String, Tensor> m, String name, int[] shape, float[] data) {
        m.put(name, new Tensor(name, shape, data.clone()));
    }

    /**
     * Reads a pool saved by {@link #toTensors}; a state without one (saved before sleep existed)
     * gives an empty pool of {@code slots} x {@code rank}.
     *
     * @param t state tensors by name; those not named {@code sleep.pool.*} are ignored
     * @param slots the slots of the empty pool returned when {@code t} holds no pool; a saved pool keeps its own
     * @param nb blocks of the model; a saved expert must have factors for each
     * @param d the model width D; the saved factors' sizes must match it
     * @param f2 L2's hidden width F2; the saved factors' sizes must match it
     * @param rank the rank of the empty pool returned when {@code t} holds no pool; a saved pool keeps its own
     * @return the saved pool, or an empty one
     * @throws StateException naming the tensor when one is missing or misshapen, or when the saved meta tensor gives fewer than 1 slot, a rank outside 1..{@code d}, or a
     *     sleep count or stamp that is not a whole number in 0..2^24
     */
    public static ExpertPool fromTensors(Map<String, Tensor> t, int slots, int nb, int d, int f2, int rank) {
        Tensor meta = t.get(PREFIX + "meta");
        if (meta == null) {
            return new ExpertPool(slots, nb, d, f2, rank);
        }
        float[] mv = meta.data();
        if (mv.length < 3 || mv.length != (int) mv[0] + 3) {
            throw new StateException("state tensor " + PREFIX + "meta is malformed (" + mv.length + " values)");
        }
        // slots and rank at least 1; the sleep count and every slot's stamp whole numbers from 0 to 2^24 (exact in float)
        boolean whole = true;
        for (int i = 2; i < mv.length; i++) {
            whole &= mv[i] >= 0 && mv[i] <= (1 << 24) && mv[i] == Math.rint(mv[i]);
        }
        if (!(mv[0] >= 1) || !(mv[1] >= 1 && mv[1] <= d) || mv[1] != Math.rint(mv[1]) || !whole) {
            throw new StateException("state tensor " + PREFIX + "meta is malformed (slots " + mv[0] + ", rank " + mv[1]
                    + "; the rank must be a whole number in 1.." + d + ", sleeps and stamps whole numbers in 0..2^24)");
        }
        ExpertPool pool = new ExpertPool((int) mv[0], nb, d, f2, (int) mv[1]);
        pool.sleeps = (long) mv[2];
        for (int i = 0; i < pool.slots; i++) {
            long stamp = (long) mv[3 + i];
            if (stamp == 0) {
                continue;
            }
            Expert e = new Expert(nb, d, f2, pool.rank);
            for (int b = 0; b < nb; b++) {
                String p = PREFIX + i + ".blocks." + b + ".";
                take(t, p + "u", e.u[b]);
                take(t, p + "v", e.v[b]);
                take(t, p + "p", e.p[b]);
                take(t, p + "q", e.q[b]);
            }
            pool.experts[i] = e;
            pool.stamps[i] = stamp;
        }
        return pool;
    }

    private static void take(Map<String, Tensor> t, String name, float[] dst) {
        Tensor x = t.get(name);
        if (x == null || x.data().length != dst.length) {
            throw new StateException("state tensor " + name + (x == null ? " is missing" : " has " + x.data().length
                    + " values, expected " + dst.length));
        }
        System.arraycopy(x.data(), 0, dst, 0, dst.length);
    }
}
