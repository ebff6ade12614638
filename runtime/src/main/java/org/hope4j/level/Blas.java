package org.hope4j.level;

/**
 * Row-major single-precision matrix product {@code C = alpha * op(A) op(B) + beta * C} on float
 * arrays starting at index 0, with {@code op(X)} = X or its transpose. A is [M, K] (or [K, M] when
 * transposed), B is [K, N] (or [N, K]), C is [M, N]; leading dimensions are the row lengths. The levels
 * run their products through it; the CPU engine supplies OpenBLAS or plain Java loops.
 */
public interface Blas {
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c);

    /** Which implementation and kernel runs. */
    String describe();
}
