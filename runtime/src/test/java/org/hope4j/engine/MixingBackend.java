package org.hope4j.engine;

import java.util.Map;
import org.hope4j.bundle.Tensor;

/**
 * A test backend ({@code "mixing"}, never chosen by "auto") whose engines run whole spans ({@link Engine#attachMixers}
 * takes the mixers): CPU engines inside {@link MixingEngine}, so a learner's streams take the path a GPU engine's take,
 * with the CPU engine's arithmetic.
 */
public final class MixingBackend extends CpuTestBackend {
    public MixingBackend() {
        super("mixing");
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic) {
        return new MixingEngine(cpu.open(spec, plastic));
    }
}
