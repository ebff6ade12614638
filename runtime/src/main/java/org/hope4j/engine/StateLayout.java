package org.hope4j.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;

/**
 * The names and shapes of an engine's plastic state, shared by every engine so that a state moves
 * between backends: per block the L0 memories at the chunk start and now ({@code l0.w0},
 * {@code l0.wt}, [H, R, dh]), the L1 and L2 weights and their gradient sums, and, while a position
 * waits for its next byte, that position's activations ({@code pending.*}).
 */
public final class StateLayout {
    /** Per-block activations of the held position, in order. */
    public static final List<String> PENDING = List.of("x2", "z2", "a2", "s2", "x3", "z3", "a1", "s1");
    /** Per-block level tensors, in order. */
    public static final List<String> LEVELS = List.of("l0.w0", "l0.wt", "l1.up", "l1.down", "l2.up", "l2.down", "l1.g_up", "l1.g_down",
            "l2.g_up", "l2.g_down");

    /**
     * One tensor of the state.
     *
     * @param name the full name ({@code blocks.<b>.<key>}, or {@code pending.xf} / {@code pending.logits})
     * @param block the block, or -1 for the whole model
     * @param key the name within the block ({@code l1.up}, {@code pending.x2}, ...) or the full name
     * @param shape the tensor's dimensions, e.g. [H, R, dh] for {@code l0.w0}, [fastHidden, dModel] for {@code l1.up}
     */
    public record Entry(String name, int block, String key, int[] shape) {
        /**
         * Number of values of the tensor.
         *
         * @return the product of the dimensions of {@code shape}
         */
        public int size() {
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            return n;
        }
    }

    private StateLayout() {
    }

    /**
     * Every tensor of a state of {@code spec}, with the held position's when {@code pending}.
     *
     * @param spec the engine's shapes
     * @param pending whether a position waits for its next byte (adds its {@code pending.*} activations)
     * @return the entries in a fixed order: per block the {@link #LEVELS} then, if {@code pending}, the
     *     {@link #PENDING} activations; last, if {@code pending}, {@code pending.xf} and {@code pending.logits}
     */
    public static List<Entry> of(EngineSpec spec, boolean pending) {
        int d = spec.dModel();
        int f1 = spec.fastHidden();
        int f2 = spec.midHidden();
        List<Entry> out = new ArrayList<>();
        for (int b = 0; b < spec.nBlocks(); b++) {
            for (String k : LEVELS) {
                out.add(entry(b, k, shapeOf(spec, k)));
            }
            if (pending) {
                for (String k : PENDING) {
                    int n = k.startsWith("x") || k.startsWith("z") ? d : k.endsWith("2") ? f2 : f1;
                    out.add(entry(b, "pending." + k, new int[] {n}));
                }
            }
        }
        if (pending) {
            out.add(new Entry("pending.xf", -1, "pending.xf", new int[] {d}));
            out.add(new Entry("pending.logits", -1, "pending.logits", new int[] {EngineSpec.VOCAB}));
        }
        return out;
    }

    private static Entry entry(int b, String key, int[] shape) {
        return new Entry("blocks." + b + "." + key, b, key, shape);
    }

    private static int[] shapeOf(EngineSpec s, String key) {
        int d = s.dModel();
        return switch (key) {
            case "l0.w0", "l0.wt" -> new int[] {s.nHeads(), s.memRows(), s.headDim()};
            case "l1.up", "l1.g_up" -> new int[] {s.fastHidden(), d};
            case "l1.down", "l1.g_down" -> new int[] {d, s.fastHidden()};
            case "l2.up", "l2.g_up" -> new int[] {s.midHidden(), d};
            case "l2.down", "l2.g_down" -> new int[] {d, s.midHidden()};
            default -> throw new IllegalArgumentException(key);
        };
    }

    /**
     * Whether {@code state} holds a position waiting for its next byte.
     *
     * @param state tensors by full name, as from {@link Engine#exportState}
     * @return true if it holds {@code pending.xf}
     */
    public static boolean hasPending(Map<String, Tensor> state) {
        return state.containsKey("pending.xf");
    }

    /**
     * Checks that {@code state} holds every tensor of the layout with its size, before an engine
     * changes anything; returns the layout.
     *
     * @param spec the engine's shapes
     * @param state tensors by full name; extra tensors are ignored
     * @return the layout of {@code state}: {@link #of} with the held position when {@link #hasPending}
     * @throws StateException naming the first missing or misshapen tensor
     */
    public static List<Entry> check(EngineSpec spec, Map<String, Tensor> state) {
        List<Entry> layout = of(spec, hasPending(state));
        for (Entry e : layout) {
            data(state, e.name(), e.size());
        }
        return layout;
    }

    /**
     * The values of tensor {@code name} of {@code tensors}, checked to hold {@code size} values (not copied).
     *
     * @param tensors tensors by full name
     * @param name the full name of the tensor to take
     * @param size the number of values it must hold
     * @return the tensor's own data array (changing it changes the tensor)
     * @throws StateException if the tensor is missing or holds another number of values
     */
    public static float[] data(Map<String, Tensor> tensors, String name, int size) {
        Tensor x = tensors.get(name);
        if (x == null) {
            throw new StateException("plastic tensor " + name + " is missing");
        }
        if (x.data().length != size) {
            throw new StateException("plastic tensor " + name + " has " + x.data().length + " values, expected " + size);
        }
        return x.data();
    }
}
