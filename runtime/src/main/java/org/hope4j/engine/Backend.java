package org.hope4j.engine;

import java.util.Map;
import org.hope4j.bundle.Tensor;

/**
 * A compute backend for the plastic levels, discovered with {@link java.util.ServiceLoader}.
 * {@code cpu} is always present; others (e.g. {@code cuda}) are probed and may be unavailable.
 */
public interface Backend {
    /** Short name used to request it ("cpu", "cuda"). */
    String name();

    /** Higher is preferred by "auto". */
    int priority();

    /**
     * Checks that this backend can run here (loads natives, counts devices). Throws with the reason
     * when it cannot; never ends the process.
     */
    void probe() throws Exception;

    /** Opens an engine holding the initial plastic tensors of a bundle (names as in plastic.safetensors). */
    Engine open(EngineSpec spec, Map<String, Tensor> plastic);

    /**
     * As {@link #open(EngineSpec, Map)} on accelerator {@code deviceId} ({@code LearnerOptions.deviceId});
     * a backend without devices ignores it, one with devices refuses an id it does not have.
     */
    default Engine open(EngineSpec spec, Map<String, Tensor> plastic, int deviceId) {
        return open(spec, plastic);
    }

    /** One line describing the implementation (e.g. which BLAS kernel it uses). */
    default String describe() {
        return name();
    }
}
