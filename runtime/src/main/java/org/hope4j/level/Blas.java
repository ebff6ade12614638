package org.hope4j.level;

/**
 * Row-major single-precision matrix product {@code C = alpha * op(A) op(B) + beta * C} on float
 * arrays starting at index 0, with {@code op(X)} = X or its transpose. A is [M, K] (or [K, M] when
 * transposed), B is [K, N] (or [N, K]), C is [M, N]; leading dimensions are the row lengths. The levels
 * run their products through it; the CPU engine supplies OpenBLAS or plain Java loops.
 */
public interface Blas {
    /**
     * {@code C = alpha * op(A) op(B) + beta * C}, all row-major and starting at index 0.
     *
     * @param transA whether {@code a} holds A transposed: [K, M] instead of [M, K]
     * @param transB whether {@code b} holds B transposed: [N, K] instead of [K, N]
     * @param m rows of op(A) and of C
     * @param n columns of op(B) and of C
     * @param k columns of op(A), rows of op(B): the summed dimension
     * @param alpha scale of the product
     * @param a the first {@code m * k} values are A (or its transpose, see {@code transA}); not changed
     * @param b the first {@code k * n} values are B (or its transpose, see {@code transB}); not changed
     * @param beta scale of the old C added to the product: 0 overwrites C (its old values are not used), 1 accumulates
     * @param c [M, N], the first {@code m * n} values; read (unless {@code beta} is 0) and overwritten with the result
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c);

    /**
     * A matrix B held for many products with it, such as a frozen projection's weights.
     */
    interface Held {
        /**
         * {@code c[co, co + m n) = A B}, A row-major [m, k] in {@code a} from index 0, B the held [k, n].
         *
         * @param a the left operand, {@code m * k} values from index 0; not changed
         * @param m its rows
         * @param c receives the product, row-major [m, n]
         * @param co where the product starts in {@code c}
         */
        void times(float[] a, int m, float[] c, int co);
    }

    /**
     * Holds {@code b} for {@link Held#times}: an implementation that copies its operands to where its products run
     * (OpenBLAS: native memory) copies B there once, here, instead of at every product. A product of one row is
     * {@link Kernels#gemv} in every implementation (a row of decoding: a copy would outweigh any library's speed).
     *
     * @param b B, row-major [k, n] in its first {@code k * n} values; kept, not copied, so the caller must not change it
     * @param k its rows
     * @param n its columns
     * @return B, held
     */
    default Held hold(float[] b, int k, int n) {
        float[] w = b;
        return (a, m, c, co) -> {
            if (m == 1) {
                Kernels.active().gemv(a, 0, k, w, n, c, co);
                return;
            }
            if (co == 0) {
                sgemm(false, false, m, n, k, 1f, a, w, 0f, c);
                return;
            }
            float[] t = new float[m * n];
            sgemm(false, false, m, n, k, 1f, a, w, 0f, t);
            System.arraycopy(t, 0, c, co, m * n);
        };
    }

    /**
     * Which implementation and kernel runs.
     *
     * @return a human-readable name of the implementation (e.g. the OpenBLAS kernel, or plain Java loops), for logs
     */
    String describe();
}
