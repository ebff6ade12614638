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

    /** The engine spec of a bundle, as {@code Learner.specOf} (package-private there) builds it. */
    static EngineSpec specOf(Bundle b) {
        var mf = b.manifest();
        var mc = mf.model();
        int nb = mc.nBlocks();
        float[] lr1 = new float[nb];
        float[] lr2 = new float[nb];
        for (int i = 0; i < nb; i++) {
            lr1[i] = mf.levels().get(1).learningRate().get(i).floatValue();
            lr2[i] = mf.levels().get(2).learningRate().get(i).floatValue();
        }
        boolean[] plastic = new boolean[nb];
        for (int blk : mf.plasticBlocks()) {
            plastic[blk] = true;
        }
        return new EngineSpec(mc.dModel(), nb, mc.nHeads(), mc.headDim(), mc.memRows(), mc.midHidden(), mc.fastHidden(),
                mf.levels().get(0).period(), mf.levels().get(1).period(), mf.levels().get(2).period(),
                (float) mc.etaMax(), (float) mc.normEps(), lr1, lr2, plastic);
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
