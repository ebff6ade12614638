package org.hope4j.engine.cpu;

import org.hope4j.engine.EngineSpec;

/** What the error signal of a run of positions needs, kept from the forward pass (per block and level). */
final class SpanCache {
    final int rows;
    /** L2's input, normalised input, pre-activation, activation; L1's the same (x3 = L2's output). */
    final float[][] x2, z2, a2, s2, x3, z3, a1, s1;
    /** Sigmoid of a1 and a2, kept from the forward pass so the error signal needs no exp. */
    final float[][] g2, g1;
    /** The head's input and the logits. */
    final float[] xf, logits;
    private final int d, f1, f2;

    SpanCache(int rows, int nb, int d, int f1, int f2) {
        this.rows = rows;
        this.d = d;
        this.f1 = f1;
        this.f2 = f2;
        x2 = new float[nb][rows * d];
        z2 = new float[nb][rows * d];
        a2 = new float[nb][rows * f2];
        s2 = new float[nb][rows * f2];
        x3 = new float[nb][rows * d];
        z3 = new float[nb][rows * d];
        a1 = new float[nb][rows * f1];
        s1 = new float[nb][rows * f1];
        g2 = new float[nb][rows * f2];
        g1 = new float[nb][rows * f1];
        xf = new float[rows * d];
        logits = new float[rows * EngineSpec.VOCAB];
    }

    /** Copies row {@code row} of {@code c} into row 0 of this cache. */
    void takeRow(SpanCache c, int row) {
        for (int b = 0; b < x2.length; b++) {
            copyBlock(c, b, row, b, 1);
        }
        copyHead(c, row, 1);
    }

    /** Copies rows {@code [row, row + n)} of block {@code from} of {@code c} into rows {@code [0, n)} of block {@code to}. */
    void copyBlock(SpanCache c, int from, int row, int to, int n) {
        copy(c.x2[from], x2[to], row, d, n);
        copy(c.z2[from], z2[to], row, d, n);
        copy(c.a2[from], a2[to], row, f2, n);
        copy(c.s2[from], s2[to], row, f2, n);
        copy(c.x3[from], x3[to], row, d, n);
        copy(c.z3[from], z3[to], row, d, n);
        copy(c.a1[from], a1[to], row, f1, n);
        copy(c.s1[from], s1[to], row, f1, n);
        copy(c.g2[from], g2[to], row, f2, n);
        copy(c.g1[from], g1[to], row, f1, n);
    }

    /** Copies rows {@code [row, row + n)} of the head's input and the logits of {@code c} into rows {@code [0, n)}. */
    void copyHead(SpanCache c, int row, int n) {
        copy(c.xf, xf, row, d, n);
        copy(c.logits, logits, row, EngineSpec.VOCAB, n);
    }

    private static void copy(float[] from, float[] to, int row, int width, int n) {
        System.arraycopy(from, row * width, to, 0, n * width);
    }

    /** The array of a held-position tensor ({@code pending.x2} ... of block {@code b}, or {@code pending.xf/logits}). */
    float[] pending(String key, int b) {
        return switch (key) {
            case "pending.x2" -> x2[b];
            case "pending.z2" -> z2[b];
            case "pending.a2" -> a2[b];
            case "pending.s2" -> s2[b];
            case "pending.x3" -> x3[b];
            case "pending.z3" -> z3[b];
            case "pending.a1" -> a1[b];
            case "pending.s1" -> s1[b];
            case "pending.xf" -> xf;
            case "pending.logits" -> logits;
            default -> throw new IllegalArgumentException(key);
        };
    }

    /** Whether row 0 (a held position) holds only finite values. */
    boolean finite() {
        float z = 0f;
        for (float[][] level : new float[][][] {x2, z2, a2, s2, x3, z3, a1, s1}) {
            for (float[] row : level) {
                for (float x : row) {
                    z += x - x;
                }
            }
        }
        for (float x : xf) {
            z += x - x;
        }
        for (float x : logits) {
            z += x - x;
        }
        return z == 0f;
    }

    /** Recomputes the sigmoids of row 0 after the activations were replaced (a restored held position). */
    void refreshGates() {
        // the forward pass's kernel, so the gates are the ones it would have computed
        org.hope4j.level.Kernels k = org.hope4j.level.Kernels.active();
        float[] silu = new float[Math.max(f1, f2)];
        for (int b = 0; b < x2.length; b++) {
            k.sigmoidSilu(a2[b], g2[b], silu, f2);
            k.sigmoidSilu(a1[b], g1[b], silu, f1);
        }
    }
}
