package org.hope4j.tests.jmh;

import java.util.concurrent.TimeUnit;
import org.hope4j.level.Kernels;
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
 * The CPU engine's element-wise kernels ({@link Kernels}) on a CMS level's shapes: the Vector API's
 * ({@code vector}; the fork adds {@code jdk.incubator.vector}, as the hope4j launcher does) against
 * the scalar ones ({@code scalar}), which give the same bits. {@code sigmoidSilu} and
 * {@code siluBackward} over 64 positions x 128 hidden units (an L1 span), {@code update} and
 * {@code finite} over a 128 x 128 weight.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class ElementwiseBench {
    /** Which kernels: the Vector API's or plain Java. */
    @Param({"vector", "scalar"})
    public String impl;

    Kernels k;
    float[] a, g, s, ds, da, w, w0, grad, out;

    @Setup(Level.Trial)
    public void setup() {
        k = impl.equals("scalar") ? Kernels.SCALAR : Kernels.active();
        if (impl.equals("vector") && !k.describe().startsWith("Vector API")) {
            throw new IllegalStateException("the fork has no Vector API kernels: " + k.describe());
        }
        int n = 64 * 128;
        a = Kernels_.scaled(Kernels_.gaussian(n, 1), 3f);
        g = new float[n];
        s = new float[n];
        ds = Kernels_.gaussian(n, 2);
        da = new float[n];
        k.sigmoidSilu(a, g, s, n);
        w = Kernels_.gaussian(128 * 128, 3);
        w0 = Kernels_.gaussian(128 * 128, 4);
        grad = Kernels_.gaussian(128 * 128, 5);
        out = new float[128 * 128];
    }

    /** A CMS layer's activation over an L1 span. */
    @Benchmark
    public float[] sigmoidSilu() {
        k.sigmoidSilu(a, g, s, a.length);
        return s;
    }

    /** Its gradient. */
    @Benchmark
    public float[] siluBackward() {
        k.siluBackward(ds, a, g, da, a.length);
        return da;
    }

    /** One weight's update with decay to the prior. */
    @Benchmark
    public boolean update() {
        return k.update(w, w0, grad, 0.01f, 0.05f, out, w.length);
    }

    /** The finiteness check of a gradient sum. */
    @Benchmark
    public boolean finite() {
        return k.finite(grad, grad.length);
    }

    /** Inputs. */
    private static final class Kernels_ {
        static float[] gaussian(int n, long seed) {
            return org.hope4j.tests.jmh.Kernels.gaussian(n, seed);
        }

        static float[] scaled(float[] x, float f) {
            for (int i = 0; i < x.length; i++) {
                x[i] *= f;
            }
            return x;
        }
    }
}
