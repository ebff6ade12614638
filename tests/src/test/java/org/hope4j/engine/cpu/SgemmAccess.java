package org.hope4j.engine.cpu;

import org.hope4j.level.Blas;

/**
 * Test-side door to the CPU engine's package-private matrix products ({@link OpenBlas}, {@link JavaBlas}),
 * so the JMH benchmarks in {@code org.hope4j.tests.jmh} can time them directly (same package on the
 * class path, different module).
 */
public final class SgemmAccess {
    private SgemmAccess() {
    }

    /** Row-major {@code C = alpha * op(A) op(B) + beta * C}, as {@link Blas#sgemm}. */
    public interface Sgemm {
        void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c);

        String describe();
    }

    /**
     * {@code "openblas"}: OpenBLAS through JavaCPP on {@code threads} threads (throws where it cannot
     * load, never falls back); {@code "java"}: the plain-Java fallback.
     */
    public static Sgemm of(String impl, int threads) {
        Blas b = switch (impl) {
            case "openblas" -> OpenBlas.load(threads);
            case "java" -> new JavaBlas();
            default -> throw new IllegalArgumentException("impl must be openblas or java, found " + impl);
        };
        return new Sgemm() {
            @Override
            public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] bb, float beta, float[] c) {
                b.sgemm(transA, transB, m, n, k, alpha, a, bb, beta, c);
            }

            @Override
            public String describe() {
                return b.describe();
            }
        };
    }
}
