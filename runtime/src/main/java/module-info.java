/**
 * Hope4J: a Hope model (Nested Learning) that keeps learning from its user's text on the device.
 *
 * <p>The public API is {@link org.hope4j.Hope} and {@link org.hope4j.Learner} with their options
 * ({@code org.hope4j}: options, scores, sampling, the level names, the encryption key of saved states), the
 * sleep's configuration, reports and idle-time scheduler ({@code org.hope4j.sleep}), the bundle a learner runs
 * ({@code org.hope4j.bundle}) and the service interface of compute backends ({@code org.hope4j.engine}). The
 * levels, the engines, the frozen graphs, the reading loop, the consolidation and the state files are internal:
 * their packages are not exported.
 *
 * @uses org.hope4j.engine.Backend compute backends for the plastic levels (the CPU engine here, CUDA in hope4j-native)
 * @provides org.hope4j.engine.Backend the CPU engine (OpenBLAS through JavaCPP, or plain Java)
 */
module org.hope4j {
    requires com.google.gson;
    requires com.microsoft.onnxruntime;
    requires org.bytedeco.javacpp;
    requires org.bytedeco.openblas;
    requires static jdk.incubator.vector;

    exports org.hope4j;
    exports org.hope4j.bundle;
    exports org.hope4j.engine;
    exports org.hope4j.sleep;

    // Gson reads the manifest and the episodic prior into these packages' classes by reflection
    opens org.hope4j.bundle to com.google.gson;
    opens org.hope4j.level to com.google.gson;

    uses org.hope4j.engine.Backend;
    provides org.hope4j.engine.Backend with org.hope4j.engine.cpu.CpuBackend;
}
