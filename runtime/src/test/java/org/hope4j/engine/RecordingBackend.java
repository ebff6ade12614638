package org.hope4j.engine;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.hope4j.bundle.Tensor;

/**
 * A test backend ({@code "recording"}, never chosen by "auto": lowest priority) that opens CPU engines
 * and records the accelerator id each open was given, so a test can see where LearnerOptions.deviceId goes.
 */
public final class RecordingBackend extends CpuTestBackend {
    /** Device ids of every engine opened, in order. */
    public static final List<Integer> OPENED = new CopyOnWriteArrayList<>();

    public RecordingBackend() {
        super("recording");
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic) {
        throw new AssertionError("the learner opened an engine without its deviceId");
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic, int deviceId) {
        OPENED.add(deviceId);
        return cpu.open(spec, plastic);
    }
}
