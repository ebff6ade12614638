package org.hope4j.tests.jmh;

import java.util.concurrent.TimeUnit;
import org.hope4j.bundle.Bundle;
import org.hope4j.graph.FrozenGraphs;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The frozen mixers of one block ({@code mixer_in} then {@code mixer_out}) for a call of {@code rows} positions: in Java
 * ({@code java}: products on OpenBLAS with the weights held in native memory, element-wise work on the Vector API; the
 * CPU default) against ONNX Runtime ({@code ort}: {@code -Dhope4j.graph.javaRows=0}). Each parameter pair runs in a fork
 * of its own, which sets the property before the graphs' class loads. Averaged over the model's four blocks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class MixerBench {
    /** Java mixers or ONNX Runtime. */
    @Param({"java", "ort"})
    public String impl;

    /** Positions of one call: a byte of decoding, an L0 chunk, an L1 span, the longest span. */
    @Param({"1", "16", "64", "256"})
    public int rows;

    FrozenGraphs graphs;
    float[] x, o, conv, q, u, convOut, x2;
    int blocks;

    @Setup(Level.Trial)
    public void setup() {
        System.setProperty("hope4j.graph.javaRows", impl.equals("java") ? Integer.toString(Integer.MAX_VALUE) : "0");
        Bundle b = Bundle.loadDefault();
        var mc = b.manifest().model();
        int d = mc.dModel();
        blocks = mc.nBlocks();
        if (blocks != 4) {
            throw new IllegalStateException("the score divides by the default model's 4 blocks, this bundle has " + blocks);
        }
        graphs = new FrozenGraphs(b, FrozenGraphs.Options.defaults(), 256);
        x = Kernels.gaussian(rows * d, 1);
        o = Kernels.gaussian(rows * d, 2);
        conv = Kernels.gaussian((mc.convWidth() - 1) * 2 * d, 3);
        q = new float[rows * d];
        u = new float[rows * d];
        convOut = new float[conv.length];
        x2 = new float[rows * d];
    }

    @TearDown(Level.Trial)
    public void close() {
        graphs.close();
    }

    /** Both mixers of every block, once; the score is per block. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(4)
    public float[] mixers() {
        for (int b = 0; b < blocks; b++) {
            graphs.mixerIn(b, x, rows, conv, q, u, convOut);
            graphs.mixerOut(b, x, o, rows, x2);
        }
        return x2;
    }
}
