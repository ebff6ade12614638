// Hope4J CUDA engine: the plastic levels of a Hope model (L0 self-modifying memories, L1/L2 CMS
// MLPs, final norm + head, their error signal and update steps) with all state resident on one GPU.
// Plain C++ on purpose: JavaCPP's generated JNI code includes this header and is compiled by the
// host compiler; everything CUDA lives in hope4j_cuda.cu, compiled by nvcc into a static archive.
//
// Errors: every CUDA status other than cudaSuccess becomes a std::runtime_error whose message names
// the CUDA call or kernel, the shapes and the CUDA error; JavaCPP turns it into a Java
// RuntimeException, which CudaEngine.java wraps in a BackendException. Nothing here ends the process.
#ifndef HOPE4J_CUDA_H
#define HOPE4J_CUDA_H

#include <string>

namespace hope4j {

/** Number of CUDA devices; throws (with the CUDA error, e.g. 35 = no driver) when it cannot count. */
int cudaDeviceCount();

/** One line: device name, compute capability, memory, runtime and driver versions. */
std::string cudaDescribe(int device);

/** CUDA runtime version this library was built with (e.g. 13000). */
int cudaBuiltRuntimeVersion();

/** The kernels this library carries: "SASS;PTX", e.g. "75 80 86 87 89 90;75" (build-kernels.sh). */
std::string cudaBuiltArchitectures();

/** Compute capability of a device as major * 10 + minor (e.g. 75 for a T4, 90 for an H100). */
int cudaComputeCapability(int device);

/**
 * Loads the kernel image on the device (cudaFuncGetAttributes of every kernel the engine launches)
 * and says which image the driver chose ("sm_86 SASS", "PTX 7.5 compiled for sm_120"); throws with
 * the CUDA error (209 cudaErrorNoKernelImageForDevice, 222 cudaErrorUnsupportedPtxVersion) where it cannot.
 */
std::string cudaKernelImage(int device);

/**
 * Page-locks host memory for fast, truly asynchronous copies on {@code device} (cudaHostRegister,
 * portable). Returns false, and leaves the memory pageable, where the driver refuses or under the
 * CPU emulator; copies work either way.
 */
bool cudaPinHost(int device, void* p, long long bytes);

/** Kernel launches the CPU emulator (cuda-emu) has run in this process; -1 in a real CUDA build. */
long long cudaEmulatedLaunches();

/**
 * Test hook, under cuda-emu only: set, every later CUDA call fails with cudaErrorLaunchFailure, as after a faulting
 * kernel (a sticky error: the context is lost); cleared, the emulator works again. Returns false, doing nothing, in
 * a real CUDA build.
 */
bool cudaInjectStickyError(bool set);

/** Undoes cudaPinHost (before the memory is freed). */
void cudaUnpinHost(int device, void* p);

/**
 * One model's plastic state on one GPU. Tensor ids for set/get (per block unless noted):
 *  0 l0.w0 [H,R,dh]   1 l0.wt [H,R,dh]   2 l1.up [F1,D]   3 l1.down [D,F1]   4 l2.up [F2,D]
 *  5 l2.down [D,F2]   6 l1.g_up          7 l1.g_down      8 l2.g_up          9 l2.g_down
 * 10..17 pending x2 z2 a2 s2 x3 z3 a1 s1 (one row)        18 pending xf [D] (model)
 * 19 pending logits [256] (model)        20 l0.init [H,R,dh]   21 l0.b_eta [H*5]  22 l0.b_alpha [H*5]
 * 23 l1.norm [D]     24 l2.norm [D]      25 l1.up init    26 l1.down init    27 l2.up init
 * 28 l2.down init    29 head.norm [D] (model)              30 head.weight [256,D] (model)
 * after enableMixers (W the conv width, S the slow level's hidden size), the frozen mixers and the embedding:
 * 31 embed [256,D] (model)  32 mixer_in norm [D]  33 mixer_in projection [2D,D] (transposed: one output per row)
 * 34 conv [W,2D] (column j weighs row t-W+1+j)    35 mixer_out norm of x [D]  36 norm of o [D]  37 slow norm [D]
 * 38 gate [D,D] (transposed)  39 output projection [D,D] (transposed)  40 slow up [S,D]  41 slow down [D,S]
 * 42 conv state [W-1,2D] (the block's last W-1 projected rows: context, like the L0 memories)
 */
class CudaEngine {
public:
    CudaEngine(int device, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden,
               int fastHidden, int c0, int c1, int maxSpan, float etaMax, float eps,
               const float* lr1, const float* lr2, const int* plastic, const float* decay1, const float* decay2);
    ~CudaEngine();

    /** Values of tensor {@code tensor} of {@code block} (ignored for model tensors). */
    long long tensorSize(int tensor) const;
    void set(int tensor, int block, const float* src, long long n);
    void get(int tensor, int block, float* dst, long long n);

    /** L0 memories of {@code block} over m positions from stream position pos; qu is q [m, D] then u [m, D], o [m, D], on the host. */
    void memory(int block, const float* qu, int m, long long pos, bool learn, float* o);
    /** L2 then L1 CMS MLP with residuals over x [m, D]; writes out [m, D]; keeps the span's activations. */
    void cms(int block, const float* x, int m, float* out);
    /** Final norm and head over x [m, D]; writes logits [m, 256] and keeps them. */
    void head(const float* x, int m, float* logits);
    /** Cross-entropy gradients of the first k positions of the span (targets are bytes) into the sums. */
    void accumulate(int k, const signed char* targets, bool l1, bool l2);
    /** Gradients of any loss given as d loss / d logits [k, 256] into the sums. */
    void accumulateLogits(int k, const float* dLogits, bool l1, bool l2);
    /** Keeps the span's last position until its next byte is known; false (counted) when its activations are not finite. */
    bool holdPending();
    /** Updates refused (non-finite step, gradient sums dropped, L0 commits rolled back) and predictions made uniform so far. */
    long long rollbacks();
    /** The held position's gradients for next byte {@code target} (0..255). */
    void accumulatePending(int target, bool l1, bool l2);
    /**
     * One Eq. 71 step of L1 and/or L2 along the summed gradients, with decay to the prior
     * (theta <- theta - decay[b] (theta - theta0) - lr[b] G, theta0 = the level's initial value, ids 25-28);
     * clears the sums. decay1/decay2 of the constructor: per block in [0, 1), null = all 0. A level whose new
     * value would not be finite keeps its value (counted in rollbacks()).
     */
    void step(bool l1, bool l2);
    /** Resets level 0, 1 or 2 of every block to its initial value (and clears its sums). */
    void resetLevel(int level);
    /**
     * Makes room for the frozen mixers and the byte embedding (tensor ids 31-42, set before the first span), so that
     * span() runs a whole span on the device. Once per engine; again with other sizes is an error.
     */
    void enableMixers(int convWidth, int slowHidden);
    /**
     * One whole span (ARCHITECTURE.md §2) on the device: the embedding of bytes[0, m), per block the mixer front
     * (norm, projection, causal conv with the block's conv state, SiLU, per-head norm) fused into L0's kernel and the
     * mixer back (gate, output projection, residual, the slow MLP) fused into the CMS kernel, then the head. One copy
     * in (nBytes bytes: the span's and, when known, the next one, which accumulateSpan then uses as targets) and one
     * out: logitsAndFlag [m * 256 + 1], the logits and then 1 where the last row's CMS activations are finite (what
     * holding it checks), else 0.
     */
    void span(const signed char* bytes, int nBytes, int m, long long pos, bool learn, float* logitsAndFlag);
    /** accumulate() with the last span's bytes 1..k as targets (already on the device: no copy). */
    void accumulateSpan(int k, bool l1, bool l2);
    /** holdPending() for a span whose flag the host has (span()'s last value): no copy, no wait; a refused hold is counted. */
    void holdSpan(bool finite);
    /** What the engine's calls have cost so far: 0 kernel launches, 1 copies between host and device, 2 host synchronisations. */
    long long counter(int which) const;
    /** Waits for the engine's stream. */
    void synchronize();

private:
    CudaEngine(const CudaEngine&);
    CudaEngine& operator=(const CudaEngine&);
    struct Impl;
    Impl* impl;
};

}  // namespace hope4j

#endif
