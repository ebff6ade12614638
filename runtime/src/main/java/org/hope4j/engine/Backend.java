package org.hope4j.engine;

import java.util.Map;
import org.hope4j.bundle.Tensor;

/**
 * A compute backend for the plastic levels, discovered with {@link java.util.ServiceLoader}.
 * {@code cpu} is always present; others (e.g. {@code cuda}) are probed and may be unavailable.
 */
public interface Backend {
    /**
     * Short name used to request it ("cpu", "cuda").
     *
     * @return the backend's name, as matched against {@code LearnerOptions.backend} and the kill switch
     *     {@code hope4j.backend.NAME.disabled}
     */
    String name();

    /**
     * Higher is preferred by "auto".
     *
     * @return the rank among the discovered backends ({@code cpu} is 0, {@code cuda} 10); "auto" probes in
     *     decreasing order and takes the first that passes
     */
    int priority();

    /**
     * Checks that this backend can run here (loads natives, counts devices). Throws with the reason
     * when it cannot; never ends the process.
     *
     * @throws Exception whose message says why this backend cannot run here (it becomes the
     *     "unavailable: reason" of {@link BackendInfo#status()})
     */
    void probe() throws Exception;

    /**
     * Opens an engine holding the initial plastic tensors of a bundle (names as in plastic.safetensors).
     *
     * @param spec shapes, periods and rates of the model's plastic levels
     * @param plastic the bundle's plastic tensors by name ({@code blocks.<b>.l0.init}, {@code blocks.<b>.l1.up},
     *     {@code head.weight}, ...); the engine copies them, and a missing or misshapen one is a
     *     {@link org.hope4j.StateException}
     * @return a new engine, owned by the caller (close it)
     */
    Engine open(EngineSpec spec, Map<String, Tensor> plastic);

    /**
     * As {@link #open(EngineSpec, Map)} on accelerator {@code deviceId} ({@code LearnerOptions.deviceId});
     * a backend without devices ignores it, one with devices refuses an id it does not have.
     *
     * @param spec shapes, periods and rates of the model's plastic levels
     * @param plastic the bundle's plastic tensors by name, as for {@link #open(EngineSpec, Map)}
     * @param deviceId index of the accelerator to run on (0 for the first); ignored by a backend without devices
     * @return a new engine, owned by the caller (close it)
     */
    default Engine open(EngineSpec spec, Map<String, Tensor> plastic, int deviceId) {
        return open(spec, plastic);
    }

    /**
     * One line describing the implementation (e.g. which BLAS kernel it uses).
     *
     * @return the description shown as {@link BackendInfo#description()}; {@link #name()} by default
     */
    default String describe() {
        return name();
    }
}
