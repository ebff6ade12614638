package org.hope4j.engine.cuda;

import java.util.Map;
import org.hope4j.BackendUnavailableException;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backend;
import org.hope4j.engine.Backends;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.engine.FailoverEngine;

/**
 * The {@code cuda} backend, found by {@link java.util.ServiceLoader}. Its probe loads the JNI library
 * (JavaCPP, extracted under {@code org.bytedeco.javacpp.cachedir}) and counts devices; the reason it
 * cannot run (the loader's error, or the CUDA error such as 35 "driver version is insufficient" on
 * a machine without a driver) is kept and becomes the message of the {@link BackendUnavailableException},
 * which {@code Backends} shows as {@code "unavailable: <reason>"}.
 *
 * <p>The probe also checks that the library's kernels run on the device ({@link KernelImages}, then the
 * driver's {@code cudaFuncGetAttributes}), so a GPU the library carries no image for is a fallback
 * with its reason, not a failure at the first launch.
 *
 * <p>The GPU is {@code LearnerOptions.deviceId} (whose default is {@code -Dhope4j.cuda.device}, else 0);
 * the probe checks the property's device. {@code hope4j.backend.cuda.disabled=true}
 * turns the backend off (handled by {@code Backends}). Nothing is loaded before the first probe.
 */
public final class CudaBackendProvider implements Backend {
    /** Preferred over the CPU backend (priority 0) by "auto". */
    static final int PRIORITY = 10;
    /** {@code -Dhope4j.cuda.failover=false}: a failed GPU engine throws on every later call instead of moving to the CPU. */
    static final String FAILOVER = "hope4j.cuda.failover";
    /** Eq. 71 steps between the host snapshots a failover restores (default 64: every 4 KB of text on the default model). */
    static final String SNAPSHOT_EVERY = "hope4j.cuda.snapshotEvery";

    private static final Object LOCK = new Object();
    private static boolean probed;
    private static RuntimeException unavailable;
    private static String description = "cuda";

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    /** The GPU the engine uses ({@code -Dhope4j.cuda.device}, default 0). */
    static int device() {
        return Integer.getInteger("hope4j.cuda.device", 0);
    }

    @Override
    public void probe() {
        synchronized (LOCK) {
            if (!probed) {
                probed = true;
                try {
                    description = check();
                } catch (BackendUnavailableException e) {
                    unavailable = e;
                }
            }
            if (unavailable != null) {
                throw new BackendUnavailableException(unavailable.getMessage(), unavailable.getCause());
            }
        }
    }

    /** Loads the library and finds the device; returns the one-line description. */
    private static String check() {
        try {
            CudaNative.load();
        } catch (Throwable t) {
            throw new BackendUnavailableException("the JNI library jnihope4jcuda could not load: " + t, t);
        }
        int count;
        try {
            count = CudaNative.cudaDeviceCount();
        } catch (RuntimeException e) {
            String m = e.getMessage();
            if (m != null && m.contains("(35)")) { // cudaErrorInsufficientDriver: no driver, or one older than the runtime
                int v = CudaNative.cudaBuiltRuntimeVersion();
                m += " [this library links the CUDA " + v / 1000 + "." + (v % 1000) / 10 + " runtime statically and needs an NVIDIA driver "
                        + "that supports it (" + minimumDriver(v) + ")]";
            }
            throw new BackendUnavailableException("no usable CUDA device: " + m, e);
        }
        int dev = device();
        if (count == 0) {
            throw new BackendUnavailableException("no CUDA device (cudaGetDeviceCount found 0)");
        }
        if (dev < 0 || dev >= count) {
            throw new BackendUnavailableException("-Dhope4j.cuda.device=" + dev + " but " + count + " CUDA device(s) are present");
        }
        String described;
        int cc;
        try {
            described = CudaNative.cudaDescribe(dev);
            cc = CudaNative.cudaComputeCapability(dev);
        } catch (RuntimeException e) {
            throw new BackendUnavailableException("CUDA device " + dev + " cannot be queried: " + e.getMessage(), e);
        }
        KernelImages built = KernelImages.parse(CudaNative.cudaBuiltArchitectures());
        if (built.imageFor(cc) == null) {
            throw new BackendUnavailableException("CUDA device " + dev + " (" + described + ") is sm_" + cc + ", and this library carries "
                    + built + ": no kernel image runs on it");
        }
        String image;
        try {
            image = CudaNative.cudaKernelImage(dev);
        } catch (RuntimeException e) {
            throw new BackendUnavailableException("CUDA device " + dev + " (sm_" + cc + ") cannot load this library's kernels (" + built + "): "
                    + e.getMessage(), e);
        }
        return "cuda (device " + dev + ": " + described + "; kernels: " + image + ")";
    }

    /** The oldest Linux driver branch of a CUDA runtime version (NVIDIA's CUDA Toolkit release notes, table 3). */
    static String minimumDriver(int runtimeVersion) {
        int major = runtimeVersion / 1000;
        return switch (major) {
            case 13 -> "580 or newer";
            case 12 -> "525 or newer";
            case 11 -> "450 or newer";
            default -> "see NVIDIA's release notes for CUDA " + major;
        };
    }

    /** The CUDA runtime version the native library was built with, e.g. "13.0" (loads the library). */
    static String builtRuntime() {
        CudaNative.load();
        int v = CudaNative.cudaBuiltRuntimeVersion();
        return v / 1000 + "." + (v % 1000) / 10;
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic) {
        return open(spec, plastic, device());
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic, int deviceId) {
        probe();
        int count = CudaNative.cudaDeviceCount();
        if (deviceId < 0 || deviceId >= count) {
            throw new BackendUnavailableException("deviceId " + deviceId + " asked for, but " + count + " CUDA device(s) are present");
        }
        CudaEngine engine = new CudaEngine(spec, plastic, deviceId);
        if (!Boolean.parseBoolean(System.getProperty(FAILOVER, "true"))) {
            return engine;
        }
        // a lost GPU context (a faulting kernel, an Xid, a driver reset) fails every later call: go on on the CPU
        // engine from the last snapshot of the state instead of leaving the learner unable to read, score or save
        return new FailoverEngine(engine, () -> Backends.select("cpu").backend().open(spec, plastic),
                Integer.getInteger(SNAPSHOT_EVERY, 64), "cuda (device " + deviceId + ")", "cpu");
    }

    @Override
    public String describe() {
        synchronized (LOCK) {
            return description;
        }
    }
}
