package org.hope4j.tests.jmh;

import java.util.Map;
import java.util.Random;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backends;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.cpu.CpuBackend;

/** What the engine benchmarks share: the default bundle's engine spec and an engine opened on it. */
final class Kernels {
    private Kernels() {
    }

    /** The engine spec of a bundle (rates, periods and L1/L2 decays to the prior), as the learner builds it. */
    static EngineSpec specOf(Bundle b) {
        return EngineSpec.of(b.manifest(), false, 1.0);
    }

    /**
     * An engine on the default bundle: {@code "openblas"} is the CPU backend as {@code Backends}
     * selects it (OpenBLAS, or its logged fallback); {@code "java"} the plain-Java matrix products.
     */
    static Engine open(String blas) {
        Bundle bundle = Bundle.loadDefault();
        EngineSpec spec = specOf(bundle);
        Map<String, Tensor> plastic = bundle.plastic();
        return switch (blas) {
            case "openblas" -> {
                Backends.Selection sel = Backends.select("cpu");
                yield sel.backend().open(spec, plastic);
            }
            case "java" -> CpuBackend.openJava(spec, plastic);
            default -> throw new IllegalArgumentException("blas must be openblas or java, found " + blas);
        };
    }

    /** Standard normal values, seeded (inputs stand in for the frozen mixer's activations). */
    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
