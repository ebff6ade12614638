package org.hope4j.engine.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.StdString;

/**
 * The JavaCPP binding of native/src/main/cuda/hope4j_cuda.h. The JNI library {@code jnihope4jcuda} is
 * generated and compiled by JavaCPP's Builder at build time and linked with the kernels (built by
 * {@code nvcc} into {@code libhope4jcuda_kernels.a}) and the static CUDA runtime, so it loads on a
 * machine without a CUDA driver; every CUDA call then fails with cudaErrorInsufficientDriver (35).
 *
 * <p>Nothing loads in a static initialiser: {@link #load()} loads the library (honouring JavaCPP's
 * {@code org.bytedeco.javacpp.cachedir} for where it is extracted) and is called by the backend's
 * probe. C++ exceptions arrive as {@link RuntimeException}s with the native message.
 */
@Platform(value = "linux", include = "hope4j_cuda.h", library = "jnihope4jcuda")
@Namespace("hope4j")
final class CudaNative {
    private CudaNative() {
    }

    /** Loads the JNI library (once); throws with the loader's reason where it cannot. */
    static synchronized void load() {
        Loader.load(CudaNative.class);
    }

    /** Number of CUDA devices; throws naming the CUDA error (35: no driver, 100: no device). */
    static native int cudaDeviceCount();

    /** Device name, compute capability, memory, runtime and driver versions. */
    static native @StdString String cudaDescribe(int device);

    /** The CUDA runtime version the library was built with (e.g. 13000). */
    static native int cudaBuiltRuntimeVersion();

    /** The kernels the library carries, "SASS;PTX" (e.g. "75 80 86 87 89 90;75"). */
    static native @StdString String cudaBuiltArchitectures();

    /** Compute capability of a device, major * 10 + minor. */
    static native int cudaComputeCapability(int device);

    /** Loads the kernel image on the device; says which image runs, or throws with the CUDA error. */
    static native @StdString String cudaKernelImage(int device);

    /** Page-locks host memory (false: it stays pageable, e.g. under the emulator). */
    static native @Cast("bool") boolean cudaPinHost(int device, Pointer p, long bytes);

    /** Kernel launches the CPU emulator (cuda-emu) has run in this process; -1 in a real CUDA build. */
    static native long cudaEmulatedLaunches();

    /** Test hook under cuda-emu: every later CUDA call fails as after a lost context (set), or works again; false on a real GPU. */
    static native @Cast("bool") boolean cudaInjectStickyError(@Cast("bool") boolean set);

    /** Undoes {@link #cudaPinHost} before the memory is freed. */
    static native void cudaUnpinHost(int device, Pointer p);

    /** One model's plastic state on one GPU (tensor ids: see hope4j_cuda.h and {@link CudaEngine}). */
    @Name("CudaEngine")
    static final class Engine extends Pointer {
        Engine(int device, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden, int fastHidden,
               int c0, int c1, int maxSpan, float etaMax, float eps, float[] lr1, float[] lr2, int[] plastic, float[] decay1,
               float[] decay2) {
            allocate(device, dModel, nBlocks, nHeads, headDim, memRows, midHidden, fastHidden, c0, c1, maxSpan, etaMax, eps,
                    lr1, lr2, plastic, decay1, decay2);
        }

        private native void allocate(int device, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden,
                                     int fastHidden, int c0, int c1, int maxSpan, float etaMax, float eps,
                                     @Const float[] lr1, @Const float[] lr2, @Const int[] plastic, @Const float[] decay1,
                                     @Const float[] decay2);

        native long tensorSize(int tensor);

        native void set(int tensor, int block, @Const float[] src, long n);

        native void get(int tensor, int block, float[] dst, long n);

        /** qu: q [m, D] then u [m, D]. */
        native void memory(int block, @Const FloatPointer qu, int m, long pos, @Cast("bool") boolean learn, FloatPointer o);

        native void cms(int block, @Const FloatPointer x, int m, FloatPointer out);

        native void head(@Const FloatPointer x, int m, FloatPointer logits);

        native void accumulate(int k, @Cast("const signed char*") BytePointer targets, @Cast("bool") boolean l1, @Cast("bool") boolean l2);

        native void accumulateLogits(int k, @Const FloatPointer dLogits, @Cast("bool") boolean l1, @Cast("bool") boolean l2);

        native @Cast("bool") boolean holdPending();

        native long rollbacks();

        native void accumulatePending(int target, @Cast("bool") boolean l1, @Cast("bool") boolean l2);

        native void step(@Cast("bool") boolean l1, @Cast("bool") boolean l2);

        native void resetLevel(int level);

        native void synchronize();

        /** Room for the frozen mixers and the embedding (tensor ids 31-42). */
        native void enableMixers(int convWidth, int slowHidden);

        /** A whole span: nBytes (m or m + 1) bytes in, logits [m, 256] and the last row's flag out. */
        native void span(@Cast("const signed char*") BytePointer bytes, int nBytes, int m, long pos, @Cast("bool") boolean learn,
                         FloatPointer logitsAndFlag);

        /** accumulate() with the last span's bytes 1..k as targets, already on the device. */
        native void accumulateSpan(int k, @Cast("bool") boolean l1, @Cast("bool") boolean l2);

        /** holdPending() after a span, with the flag the span brought back. */
        native void holdSpan(@Cast("bool") boolean finite);

        /** What the calls have cost so far: 0 kernel launches, 1 copies between host and device, 2 host synchronisations. */
        native long counter(int which);
    }
}
