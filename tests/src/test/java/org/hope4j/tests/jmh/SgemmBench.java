package org.hope4j.tests.jmh;

import java.util.concurrent.TimeUnit;
import org.hope4j.engine.cpu.SgemmAccess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU engine's matrix product, OpenBLAS through JavaCPP (on {@code hope4j.cpu.threads} threads,
 * default 1, as the engine) against the plain-Java fallback, on the engine's shapes. A shape is
 * {@code MxNxK/op}: C [M, N] = op(A) op(B) with K the inner dimension; op NT = A Bᵀ (forward passes),
 * TN = Aᵀ B (weight gradients). Operands are sized exactly; OpenBLAS gets their used part copied into native
 * buffers kept per thread, and C copied back, as in the engine.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class SgemmBench {
    /**
     * 16x106x32/NT: an L0 chunk's projection onto a head's stacked memory rows; 64x128x128/NT: a CMS
     * MLP layer over an L1 span; 64x256x128/NT: the LM head over a span; 128x128x64/TN: a CMS
     * weight gradient summed over a span.
     */
    @Param({"16x106x32/NT", "64x128x128/NT", "64x256x128/NT", "128x128x64/TN"})
    public String shape;

    @Param({"openblas", "java"})
    public String impl;

    SgemmAccess.Sgemm blas;
    int m, n, k;
    boolean transA, transB;
    float[] a, b, c;

    @Setup(Level.Trial)
    public void setup() {
        String[] dims = shape.substring(0, shape.indexOf('/')).split("x");
        String op = shape.substring(shape.indexOf('/') + 1);
        m = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        k = Integer.parseInt(dims[2]);
        transA = op.charAt(0) == 'T';
        transB = op.charAt(1) == 'T';
        a = Kernels.gaussian(m * k, 1);
        b = Kernels.gaussian(k * n, 2);
        c = new float[m * n];
        blas = SgemmAccess.of(impl, Integer.getInteger("hope4j.cpu.threads", 1));
    }

    /** {@code C = op(A) op(B)} (beta 0: every call does the same work on the same values). */
    @Benchmark
    public float[] sgemm() {
        blas.sgemm(transA, transB, m, n, k, 1f, a, b, 0f, c);
        return c;
    }
}
