package org.hope4j.tests.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
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
 * The CPU engine's level-sized calls on the default bundle (d=128, 4 blocks, 4 heads x 32, periods
 * 16/64/256), one call per invocation. Inputs are seeded Gaussian stand-ins for the frozen mixer's
 * activations: the cost of these kernels does not depend on the values. {@code -p blas=openblas,java}
 * also times the engine on the plain-Java matrix products.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EngineBench {

    /** An engine and one L0 chunk / one L1 span of inputs. */
    @State(Scope.Thread)
    public static class Forward {
        @Param({"openblas"})
        public String blas;

        Engine engine;
        int d, c0, c1;
        float[] q, u, o, x, out, logits;
        long pos;

        @Setup(Level.Trial)
        public void open() {
            engine = Kernels.open(blas);
            EngineSpec s = engine.spec();
            d = s.dModel();
            c0 = s.c0();
            c1 = s.c1();
            q = Kernels.gaussian(c0 * d, 1);
            u = Kernels.gaussian(c0 * d, 2);
            o = new float[c0 * d];
            x = Kernels.gaussian(c1 * d, 3);
            out = new float[c1 * d];
            logits = new float[c1 * EngineSpec.VOCAB];
        }

        /** The memories learn from the same chunk over and over: each iteration starts again from their initial value. */
        @Setup(Level.Iteration)
        public void resetMemories() {
            engine.resetLevel(org.hope4j.Level.L0);
            pos = 0;
        }

        @TearDown(Level.Trial)
        public void close() {
            engine.close();
        }
    }

    /** L0 of block 0 over one whole chunk (16 positions), learning: reads, the chunk's update, the commit. */
    @Benchmark
    public float[] memoryLearn(Forward f) {
        f.engine.memory(0, f.q, f.u, f.c0, f.pos, true, f.o);
        f.pos += f.c0;
        return f.o;
    }

    /** L0 of block 0 over one whole chunk (16 positions), reading only (inference, scoring with L0 frozen). */
    @Benchmark
    public float[] memoryRead(Forward f) {
        f.engine.memory(0, f.q, f.u, f.c0, f.pos, false, f.o);
        f.pos += f.c0;
        return f.o;
    }

    /** The L2 then L1 CMS MLPs of block 0 over one L1 span (64 positions), keeping what their update needs. */
    @Benchmark
    public float[] cms(Forward f) {
        f.engine.cms(0, f.x, f.c1, f.out);
        return f.out;
    }

    /** Final norm and LM head over 64 positions (logits [64, 256]). */
    @Benchmark
    public float[] head(Forward f) {
        f.engine.head(f.x, f.c1, f.logits);
        return f.logits;
    }

    /**
     * An engine after a whole forward pass of one L1 span (64 positions; memory and CMS of every
     * block, then the head), as HopeStream leaves it before {@link Engine#accumulate}.
     */
    @State(Scope.Thread)
    public static class Span {
        @Param({"openblas"})
        public String blas;

        Engine engine;
        int c1;
        byte[] targets;

        @Setup(Level.Trial)
        public void forward() {
            engine = Kernels.open(blas);
            EngineSpec s = engine.spec();
            int d = s.dModel();
            c1 = s.c1();
            float[] q = Kernels.gaussian(c1 * d, 1);
            float[] u = Kernels.gaussian(c1 * d, 2);
            float[] o = new float[c1 * d];
            float[] x = Kernels.gaussian(c1 * d, 3);
            float[] y = new float[c1 * d];
            for (int b = 0; b < s.nBlocks(); b++) {
                engine.memory(b, q, u, c1, 0, true, o);
                for (int i = 0; i < x.length; i++) {
                    x[i] += o[i]; // stands in for the frozen mixer's output projection
                }
                engine.cms(b, x, c1, y);
                float[] t = x;
                x = y;
                y = t;
            }
            engine.head(x, c1, new float[c1 * EngineSpec.VOCAB]);
            targets = new byte[c1];
            new Random(4).nextBytes(targets);
            engine.accumulate(c1, targets, 0, true, true); // the sums step() applies are not zero on its first call
        }

        @TearDown(Level.Trial)
        public void close() {
            engine.close();
        }
    }

    /**
     * The error signal of 64 positions (softmax minus one-hot, the head's and the residual teach
     * signal's backward) added to the L1 and L2 gradient sums of every plastic block. The cached
     * forward pass stays the same; the sums keep growing (the cost does not depend on them).
     */
    @Benchmark
    public Engine accumulate(Span s) {
        s.engine.accumulate(s.c1, s.targets, 0, true, true);
        return s.engine;
    }

    /**
     * One update step (Eq. 71) of L1 and L2 of every plastic block along the summed gradients, which
     * it clears: after the first call it applies zero sums, at the same cost.
     */
    @Benchmark
    public Engine step(Span s) {
        s.engine.step(true, true);
        return s.engine;
    }
}
