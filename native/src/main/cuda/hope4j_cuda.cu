// Hope4J CUDA engine: kernels and host code. Mirrors runtime/.../engine/cpu/CpuEngine.java function
// by function (which mirrors model-export/hope_export/model.py): memory_chunk -> memoryKernel,
// the CMS forward -> mlpForward, the residual teach signal -> backward, Eq. 71 (with decay to the prior) -> step.
//
// Everything runs on one stream per engine; host arrays are copied in at the start of a call and the
// outputs copied back at its end (a few transfers per level call, never per operation). Matrix
// products use gemmKernel below (see native/README.md for why not cuBLAS). No exit(): every CUDA
// status becomes a std::runtime_error naming the call, the kernel and the shapes.
#include "hope4j_cuda.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hope4j {

namespace {

constexpr int TYPES = 5;    // memories: k, v, memory, eta, alpha
constexpr int MEM_MEM = 2;  // index of the main memory among them
constexpr int VOCAB = 256;  // bytes
constexpr int TILE = 16;    // gemm tile
constexpr int ROW_THREADS = 128;
constexpr int MEM_THREADS = 256;

std::string cudaText(cudaError_t e) {
    std::ostringstream s;
    s << cudaGetErrorName(e) << " (" << static_cast<int>(e) << "): " << cudaGetErrorString(e);
    return s.str();
}

[[noreturn]] void fail(const std::string& what, cudaError_t e) {
    throw std::runtime_error(what + ": " + cudaText(e));
}

void check(cudaError_t e, const std::string& what) {
    if (e != cudaSuccess) {
        fail(what, e);
    }
}

bool syncEveryKernel() {
    const char* v = std::getenv("HOPE4J_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "1") == 0;
}

// ---------------------------------------------------------------------------------------------
// device helpers

__device__ __forceinline__ float sigmoidf(float x) {
    return 1.0f / (1.0f + expf(-x));
}

/** log sigmoid(x), stable for large |x|. */
__device__ __forceinline__ float logSigmoidf(float x) {
    return fminf(x, 0.0f) - log1pf(expf(-fabsf(x)));
}

__device__ __forceinline__ float siluGradf(float x) {
    float s = sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

/** Sum over the block (blockDim.x a power of two, at most ROW_THREADS); every thread gets it. */
__device__ float blockSum(float v, float* red) {
    int t = threadIdx.x;
    red[t] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (t < w) {
            red[t] += red[t + w];
        }
        __syncthreads();
    }
    float r = red[0];
    __syncthreads();
    return r;
}

__device__ __forceinline__ int rowType(int i, int dh) {
    return i < 3 * dh ? i / dh : (i < 3 * dh + TYPES ? 3 : 4);
}

// ---------------------------------------------------------------------------------------------
// kernels

/** Row-major C = alpha op(A) op(B) + beta C; A is [M,K] (or [K,M] if TA), B is [K,N] (or [N,K] if TB). */
template <bool TA, bool TB>
__global__ void gemmKernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda,
                           const float* __restrict__ B, int ldb, float beta, float* __restrict__ C, int ldc) {
    __shared__ float as[TILE][TILE + 1];
    __shared__ float bs[TILE][TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * TILE + ty;
    int col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        int ka = k0 + tx;
        as[ty][tx] = (row < M && ka < K) ? (TA ? A[(size_t)ka * lda + row] : A[(size_t)row * lda + ka]) : 0.0f;
        int kb = k0 + ty;
        bs[ty][tx] = (kb < K && col < N) ? (TB ? B[(size_t)col * ldb + kb] : B[(size_t)kb * ldb + col]) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TILE; kk++) {
            acc += as[ty][kk] * bs[kk][tx];
        }
        __syncthreads();
    }
    if (row < M && col < N) {
        float* c = C + (size_t)row * ldc + col;
        *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
    }
}

/** out[t] = x[t] / rms(x[t]) * g; one block per row. */
__global__ void rmsnormKernel(const float* __restrict__ x, int d, const float* __restrict__ g, float eps,
                              float* __restrict__ out) {
    __shared__ float red[ROW_THREADS];
    const float* xr = x + (size_t)blockIdx.x * d;
    float* orow = out + (size_t)blockIdx.x * d;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        ss += xr[i] * xr[i];
    }
    ss = blockSum(ss, red);
    float rr = 1.0f / sqrtf(ss / d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        orow[i] = xr[i] * rr * g[i];
    }
}

/** dx = r (g dy) - x r^3 mean(x g dy), r = (mean x^2 + eps)^-1/2; one block per row. */
__global__ void rmsnormBackwardKernel(const float* __restrict__ x, int d, const float* __restrict__ g,
                                      const float* __restrict__ dy, float eps, float* __restrict__ dx) {
    __shared__ float red[ROW_THREADS];
    size_t o = (size_t)blockIdx.x * d;
    float ss = 0.0f, dot = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        ss += x[o + i] * x[o + i];
        dot += x[o + i] * g[i] * dy[o + i];
    }
    ss = blockSum(ss, red);
    dot = blockSum(dot, red);
    float rr = 1.0f / sqrtf(ss / d + eps);
    float c = rr * rr * rr * dot / d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        dx[o + i] = rr * g[i] * dy[o + i] - x[o + i] * c;
    }
}

__global__ void siluKernel(const float* __restrict__ a, float* __restrict__ s, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float x = a[i];
        s[i] = x * sigmoidf(x);
    }
}

__global__ void siluGradMulKernel(const float* __restrict__ ds, const float* __restrict__ a, float* __restrict__ da, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        da[i] = ds[i] * siluGradf(a[i]);
    }
}

__global__ void addKernel(float* __restrict__ y, const float* __restrict__ x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] += x[i];
    }
}

/** Eq. 71: w -= lr * g; g = 0. */
__global__ void axpyClearKernel(float* __restrict__ w, float* __restrict__ g, float lr, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        w[i] -= lr * g[i];
        g[i] = 0.0f;
    }
}

/**
 * Eq. 71 with decay to the prior: w = w - lambda (w - w0) - lr g; g = 0 (w0: the level's initial value,
 * resident beside it; model.py's order of operations). Launched only for lambda != 0, so lambda = 0 stays
 * axpyClearKernel's plain step.
 */
__global__ void decayStepClearKernel(float* __restrict__ w, const float* __restrict__ w0, float* __restrict__ g, float lr,
                                     float lambda, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float theta = w[i];
        w[i] = theta - lambda * (theta - w0[i]) - lr * g[i];
        g[i] = 0.0f;
    }
}

/** d CE / d logits = softmax - onehot(target); target from targets[row] or, if null, fixedTarget. */
__global__ void softmaxGradKernel(const float* __restrict__ logits, const unsigned char* __restrict__ targets,
                                  int fixedTarget, float* __restrict__ dl) {
    __shared__ float red[ROW_THREADS];
    const float* x = logits + (size_t)blockIdx.x * VOCAB;
    float* out = dl + (size_t)blockIdx.x * VOCAB;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < VOCAB; i += blockDim.x) {
        mx = fmaxf(mx, x[i]);
    }
    red[threadIdx.x] = mx;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) {
            red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + w]);
        }
        __syncthreads();
    }
    mx = red[0];
    __syncthreads();
    float sum = 0.0f;
    for (int i = threadIdx.x; i < VOCAB; i += blockDim.x) {
        float e = expf(x[i] - mx);
        out[i] = e;
        sum += e;
    }
    sum = blockSum(sum, red);
    float inv = 1.0f / sum;
    int target = targets != nullptr ? (int)targets[blockIdx.x] : fixedTarget;
    for (int i = threadIdx.x; i < VOCAB; i += blockDim.x) {
        out[i] = out[i] * inv - (i == target ? 1.0f : 0.0f);
    }
}

/**
 * L0 (HOPE-MODEL.md §2, Eqs. 86-97, chunk-wise semantics Eqs. 90-91): the memories of one block over
 * m positions from stream position pos; one thread block per head, walking the span piece by piece
 * (a piece never crosses an L0 chunk end) and committing the chunk-start state at every chunk end.
 * Per piece: projections, predictions and self-generated targets at the chunk-start state W0; reads
 * and the new state in the closed form of DGD with retention towards the initial state,
 *   M_s = I + a_s (M_{s-1} - I) - e_s err_s k_s^T,   A_s = prod_{r<=s} a_r  (Titans' parallel form).
 */
__global__ void memoryKernel(const float* __restrict__ init, float* w0, float* wt, const float* __restrict__ bEta,
                             const float* __restrict__ bAlpha, const float* __restrict__ q, const float* __restrict__ u,
                             float* __restrict__ o, int m, long long pos, int learn, int D, int dh, int r, int c0,
                             float etaMax, float eps) {
    extern __shared__ float sm[];
    const int hh = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const size_t hs = (size_t)hh * r * dh;
    const float* WI = init + hs;
    float* WS = w0 + hs;
    float* WT = wt + hs;
    float* uh = sm;
    float* qh = uh + c0 * dh;
    float* kk = qh + c0 * dh;
    float* vv = kk + c0 * dh;
    float* vn = vv + c0 * dh;
    float* proj = vn + c0 * dh;  // projections, later the commit coefficients
    float* err = proj + c0 * r;
    float* kq = err + c0 * r;
    float* ee = kq + c0 * c0;
    float* cum = ee + c0 * TYPES;
    float* rk = cum + c0 * TYPES;
    float* rv = rk + c0;
    const int memOff = 2 * dh * dh;  // rows [2dh, 3dh) of a head's stacked matrix: the main memory

    int start = 0;
    long long p = pos;
    while (start < m) {
        int off = (int)(p % c0);
        int mm = min(m - start, c0 - off);
        for (int idx = tid; idx < mm * dh; idx += nt) {
            int s = idx / dh, i = idx % dh;
            size_t g = (size_t)(start + s) * D + (size_t)hh * dh + i;
            uh[idx] = u[g];
            qh[idx] = q[g];
        }
        __syncthreads();
        if (!learn) {
            // o = M_memory q for every position (the memory does not change)
            for (int idx = tid; idx < mm * dh; idx += nt) {
                int s = idx / dh, i = idx % dh;
                const float* w = WT + memOff + (size_t)i * dh;
                float acc = 0.0f;
                for (int j = 0; j < dh; j++) {
                    acc += qh[s * dh + j] * w[j];
                }
                o[(size_t)(start + s) * D + (size_t)hh * dh + i] = acc;
            }
            __syncthreads();
        } else {
            // projections at the chunk-start state: P = U W0^T  [mm, R]
            for (int idx = tid; idx < mm * r; idx += nt) {
                int s = idx / r, i = idx % r;
                const float* w = WS + (size_t)i * dh;
                float acc = 0.0f;
                for (int j = 0; j < dh; j++) {
                    acc += uh[s * dh + j] * w[j];
                }
                proj[idx] = acc;
            }
            __syncthreads();
            // k = l2norm(M_k u), v = M_v u, vn = l2norm(v); eta = eta_max sigmoid(.), log alpha = log sigmoid(.)
            for (int s = tid; s < mm; s += nt) {
                float sk = 0.0f, sv = 0.0f;
                for (int j = 0; j < dh; j++) {
                    float a = proj[s * r + j], b = proj[s * r + dh + j];
                    sk += a * a;
                    sv += b * b;
                }
                rk[s] = 1.0f / sqrtf(sk + eps);
                rv[s] = 1.0f / sqrtf(sv + eps);
            }
            for (int idx = tid; idx < mm * TYPES; idx += nt) {
                int s = idx / TYPES, j = idx % TYPES;
                ee[idx] = etaMax * sigmoidf(proj[s * r + 3 * dh + j] + bEta[hh * TYPES + j]);
                cum[idx] = logSigmoidf(proj[s * r + 3 * dh + TYPES + j] + bAlpha[hh * TYPES + j]);
            }
            __syncthreads();
            for (int idx = tid; idx < mm * dh; idx += nt) {
                int s = idx / dh, i = idx % dh;
                kk[idx] = proj[s * r + i] * rk[s];
                float vvv = proj[s * r + dh + i];
                vv[idx] = vvv;
                vn[idx] = vvv * rv[s];
            }
            if (tid < TYPES) {  // cumulative log retention inside the piece
                for (int s = 1; s < mm; s++) {
                    cum[s * TYPES + tid] += cum[(s - 1) * TYPES + tid];
                }
            }
            __syncthreads();
            // predictions and self-generated targets at the chunk-start state (Eqs. 94-97); the main
            // memory's target is v itself
            for (int idx = tid; idx < mm * r; idx += nt) {
                int s = idx / r, i = idx % r;
                const float* w = WS + (size_t)i * dh;
                float pr = 0.0f;
                for (int j = 0; j < dh; j++) {
                    pr += kk[s * dh + j] * w[j];
                }
                float tg;
                if (i >= 2 * dh && i < 3 * dh) {
                    tg = vv[s * dh + i - 2 * dh];
                } else {
                    tg = 0.0f;
                    for (int j = 0; j < dh; j++) {
                        tg += vn[s * dh + j] * w[j];
                    }
                }
                err[idx] = pr - tg;
            }
            for (int idx = tid; idx < mm * mm; idx += nt) {
                int s = idx / mm, rr = idx % mm;
                float acc = 0.0f;
                for (int j = 0; j < dh; j++) {
                    acc += qh[s * dh + j] * kk[rr * dh + j];
                }
                kq[idx] = acc;
            }
            __syncthreads();
            // reads, before the commit:
            // o_s = I q_s + A_s (W_t - I) q_s - sum_{r<=s} (A_s / A_r) e_r (k_r . q_s) err_r
            for (int idx = tid; idx < mm * dh; idx += nt) {
                int s = idx / dh, i = idx % dh;
                const float* wi = WI + memOff + (size_t)i * dh;
                const float* wc = WT + memOff + (size_t)i * dh;
                float a = 0.0f, b = 0.0f;
                for (int j = 0; j < dh; j++) {
                    float qv = qh[s * dh + j];
                    a += qv * wi[j];
                    b += qv * (wc[j] - wi[j]);
                }
                float cs = cum[s * TYPES + MEM_MEM];
                float val = a + expf(cs) * b;
                for (int rr = 0; rr <= s; rr++) {
                    float w = expf(cs - cum[rr * TYPES + MEM_MEM]) * ee[rr * TYPES + MEM_MEM] * kq[s * mm + rr];
                    val -= w * err[rr * r + 2 * dh + i];
                }
                o[(size_t)(start + s) * D + (size_t)hh * dh + i] = val;
            }
            __syncthreads();
            // commit: W = I + A_last (W_t - I) - sum_s (A_last / A_s) e_s err_s k_s^T
            const int last = (mm - 1) * TYPES;
            for (int idx = tid; idx < mm * r; idx += nt) {
                int s = idx / r, i = idx % r;
                int ty = rowType(i, dh);
                proj[idx] = expf(cum[last + ty] - cum[s * TYPES + ty]) * ee[s * TYPES + ty] * err[idx];
            }
            __syncthreads();
            for (int idx = tid; idx < r * dh; idx += nt) {
                int i = idx / dh, j = idx % dh;
                float al = expf(cum[last + rowType(i, dh)]);
                float wi = WI[idx];
                float val = wi + al * (WT[idx] - wi);
                for (int s = 0; s < mm; s++) {
                    val -= proj[s * r + i] * kk[s * dh + j];
                }
                WT[idx] = val;
            }
            __syncthreads();
        }
        start += mm;
        p += mm;
        if (p % c0 == 0) {  // chunk end: the committed state becomes the next chunk's start state
            for (int idx = tid; idx < r * dh; idx += nt) {
                WS[idx] = WT[idx];
            }
            __syncthreads();
        }
    }
}

size_t memorySharedBytes(int c0, int dh, int r) {
    return sizeof(float) * ((size_t)5 * c0 * dh + (size_t)2 * c0 * r + (size_t)c0 * c0 + (size_t)2 * c0 * TYPES + (size_t)2 * c0);
}

std::string shape(std::initializer_list<long long> dims) {
    std::ostringstream s;
    s << "[";
    bool first = true;
    for (long long v : dims) {
        if (!first) {
            s << ", ";
        }
        s << v;
        first = false;
    }
    s << "]";
    return s.str();
}

/** Owns the stream and every device allocation; frees them even when the engine's constructor fails half way. */
struct DeviceMemory {
    cudaStream_t stream = nullptr;
    std::vector<void*> ptrs;
    DeviceMemory() = default;
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;
    ~DeviceMemory() {
        if (stream != nullptr) {
            cudaStreamSynchronize(stream);
        }
        for (void* p : ptrs) {
            cudaFree(p);
        }
        if (stream != nullptr) {
            cudaStreamDestroy(stream);
        }
    }
};

/** Activations of a run of positions: what the error signal needs (CpuEngine.Cache). */
struct Cache {
    int rows = 0;
    std::vector<float*> x2, z2, a2, s2, x3, z3, a1, s1;  // per block
    float* xf = nullptr;
    float* logits = nullptr;
};

}  // namespace

// -------------------------------------------------------------------------------------------------

struct CudaEngine::Impl {
    int dev, d, nb, h, dh, r, f1, f2, c0, c1, maxSpan;
    float etaMax, eps;
    std::vector<float> lr1, lr2, decay1, decay2;
    std::vector<int> plastic;
    bool debugSync;
    DeviceMemory mem;  // first: destroyed last, and also when the constructor throws
    cudaStream_t& stream;

    // L0, per block [H, R, dh] / [H * 5]
    std::vector<float*> init, w0, wt, bEta, bAlpha;
    // CMS, per block
    std::vector<float*> norm1, norm2, up1, down1, up2, down2, up1I, down1I, up2I, down2I, gUp1, gDown1, gUp2, gDown2;
    float* normF = nullptr;
    float* headW = nullptr;
    Cache span, pending;
    int spanRows = 0;
    // I/O and scratch (maxSpan rows)
    float *dQ, *dU, *dO, *dOut, *dZf, *dl, *dh0, *delta, *ds1, *da1, *dz3, *d3, *ds2, *da2;
    unsigned char* dTargets;
    size_t memShared;

    Impl(int device, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden, int fastHidden,
         int chunk0, int chunk1, int span_, float etaMax_, float eps_, const float* lr1_, const float* lr2_,
         const int* plastic_, const float* decay1_, const float* decay2_)
        : dev(device), d(dModel), nb(nBlocks), h(nHeads), dh(headDim), r(memRows), f1(fastHidden), f2(midHidden),
          c0(chunk0), c1(chunk1), maxSpan(span_), etaMax(etaMax_), eps(eps_), lr1(lr1_, lr1_ + nBlocks),
          lr2(lr2_, lr2_ + nBlocks), decay1(nBlocks > 0 ? nBlocks : 0, 0.0f), decay2(nBlocks > 0 ? nBlocks : 0, 0.0f),
          plastic(plastic_, plastic_ + nBlocks), debugSync(syncEveryKernel()), stream(mem.stream) {
        for (int b = 0; b < nBlocks; b++) {  // null: no decay to the prior (every lambda 0)
            decay1[b] = decay1_ ? decay1_[b] : 0.0f;
            decay2[b] = decay2_ ? decay2_[b] : 0.0f;
            if (!(decay1[b] >= 0.0f && decay1[b] < 1.0f) || !(decay2[b] >= 0.0f && decay2[b] < 1.0f)) {
                throw std::runtime_error("CudaEngine: decay of block " + std::to_string(b) + " must lie in [0, 1), found L1 "
                                         + std::to_string(decay1[b]) + ", L2 " + std::to_string(decay2[b]));
            }
        }
        if (d <= 0 || nb <= 0 || h <= 0 || dh <= 0 || r != 3 * dh + 2 * TYPES || f1 <= 0 || f2 <= 0 || c0 <= 0 || c1 <= 0
            || maxSpan <= 0 || h * dh != d) {
            throw std::runtime_error("CudaEngine: inconsistent shapes d=" + std::to_string(d) + " blocks=" + std::to_string(nb)
                                     + " heads=" + std::to_string(h) + "x" + std::to_string(dh) + " memRows=" + std::to_string(r)
                                     + " (expected 3*headDim+10) hidden=" + std::to_string(f2) + "/" + std::to_string(f1)
                                     + " periods=" + std::to_string(c0) + "/" + std::to_string(c1) + " span=" + std::to_string(maxSpan));
        }
        check(cudaSetDevice(dev), "cudaSetDevice(" + std::to_string(dev) + ")");
        check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        size_t hrd = (size_t)h * r * dh;
        for (int b = 0; b < nb; b++) {
            init.push_back(alloc(hrd, "l0.init"));
            w0.push_back(alloc(hrd, "l0.w0"));
            wt.push_back(alloc(hrd, "l0.wt"));
            bEta.push_back(alloc((size_t)h * TYPES, "l0.b_eta"));
            bAlpha.push_back(alloc((size_t)h * TYPES, "l0.b_alpha"));
            norm1.push_back(alloc(d, "l1.norm"));
            norm2.push_back(alloc(d, "l2.norm"));
            up1.push_back(alloc((size_t)f1 * d, "l1.up"));
            down1.push_back(alloc((size_t)d * f1, "l1.down"));
            up2.push_back(alloc((size_t)f2 * d, "l2.up"));
            down2.push_back(alloc((size_t)d * f2, "l2.down"));
            up1I.push_back(alloc((size_t)f1 * d, "l1.up init"));
            down1I.push_back(alloc((size_t)d * f1, "l1.down init"));
            up2I.push_back(alloc((size_t)f2 * d, "l2.up init"));
            down2I.push_back(alloc((size_t)d * f2, "l2.down init"));
            gUp1.push_back(alloc((size_t)f1 * d, "l1.g_up"));
            gDown1.push_back(alloc((size_t)d * f1, "l1.g_down"));
            gUp2.push_back(alloc((size_t)f2 * d, "l2.g_up"));
            gDown2.push_back(alloc((size_t)d * f2, "l2.g_down"));
        }
        normF = alloc(d, "head.norm");
        headW = alloc((size_t)VOCAB * d, "head.weight");
        makeCache(span, maxSpan);
        makeCache(pending, 1);
        size_t rows = (size_t)maxSpan;
        dQ = alloc(rows * d, "q");
        dU = alloc(rows * d, "u");
        dO = alloc(rows * d, "o");
        dOut = alloc(rows * d, "out");
        dZf = alloc(rows * d, "head input");
        dl = alloc(rows * VOCAB, "d logits");
        dh0 = alloc(rows * d, "d head input");
        delta = alloc(rows * d, "delta");
        ds1 = alloc(rows * f1, "ds1");
        da1 = alloc(rows * f1, "da1");
        dz3 = alloc(rows * d, "dz3");
        d3 = alloc(rows * d, "d3");
        ds2 = alloc(rows * f2, "ds2");
        da2 = alloc(rows * f2, "da2");
        void* t = nullptr;
        check(cudaMalloc(&t, rows), "cudaMalloc(targets " + shape({(long long)rows}) + ")");
        mem.ptrs.push_back(t);
        dTargets = static_cast<unsigned char*>(t);
        memShared = memorySharedBytes(c0, dh, r);
        if (memShared > 48 * 1024) {
            check(cudaFuncSetAttribute(memoryKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)memShared),
                  "cudaFuncSetAttribute(memoryKernel, " + std::to_string(memShared) + " bytes of shared memory for c0="
                      + std::to_string(c0) + " headDim=" + std::to_string(dh) + " memRows=" + std::to_string(r) + ")");
        }
        check(cudaStreamSynchronize(stream), "CudaEngine: clearing the state");
    }

    float* alloc(size_t n, const char* what) {
        void* p = nullptr;
        check(cudaMalloc(&p, n * sizeof(float)), std::string("cudaMalloc(") + what + " " + shape({(long long)n}) + " floats)");
        mem.ptrs.push_back(p);
        check(cudaMemsetAsync(p, 0, n * sizeof(float), stream), std::string("cudaMemsetAsync(") + what + ")");
        return static_cast<float*>(p);
    }

    void makeCache(Cache& c, int rows) {
        c.rows = rows;
        for (int b = 0; b < nb; b++) {
            c.x2.push_back(alloc((size_t)rows * d, "cache x2"));
            c.z2.push_back(alloc((size_t)rows * d, "cache z2"));
            c.a2.push_back(alloc((size_t)rows * f2, "cache a2"));
            c.s2.push_back(alloc((size_t)rows * f2, "cache s2"));
            c.x3.push_back(alloc((size_t)rows * d, "cache x3"));
            c.z3.push_back(alloc((size_t)rows * d, "cache z3"));
            c.a1.push_back(alloc((size_t)rows * f1, "cache a1"));
            c.s1.push_back(alloc((size_t)rows * f1, "cache s1"));
        }
        c.xf = alloc((size_t)rows * d, "cache xf");
        c.logits = alloc((size_t)rows * VOCAB, "cache logits");
    }

    // -- launch helpers -----------------------------------------------------------------------

    /** After a launch: the launch error, and with HOPE4J_CUDA_SYNC=1 the kernel's own; messages are built only on failure. */
    void launched(const char* kernel, const char* what, std::initializer_list<long long> dims) {
        cudaError_t e = cudaGetLastError();
        if (e == cudaSuccess && debugSync) {
            e = cudaStreamSynchronize(stream);
        }
        if (e != cudaSuccess) {
            fail(std::string(kernel) + " " + what + " " + shape(dims) + (debugSync ? " (HOPE4J_CUDA_SYNC=1)" : ""), e);
        }
    }

    void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc, const char* what) {
        if (M == 0 || N == 0) {
            return;
        }
        dim3 block(TILE, TILE);
        dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
        if (!ta && !tb) {
            gemmKernel<false, false><<<grid, block, 0, stream>>>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        } else if (!ta && tb) {
            gemmKernel<false, true><<<grid, block, 0, stream>>>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        } else if (ta && !tb) {
            gemmKernel<true, false><<<grid, block, 0, stream>>>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        } else {
            gemmKernel<true, true><<<grid, block, 0, stream>>>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
        launched(ta ? (tb ? "gemmKernel<T,T>" : "gemmKernel<T,N>") : (tb ? "gemmKernel<N,T>" : "gemmKernel<N,N>"), what, {M, N, K});
    }

    void rmsnorm(const float* x, int m, const float* g, float* out, const char* what) {
        if (m == 0) {
            return;
        }
        rmsnormKernel<<<m, ROW_THREADS, 0, stream>>>(x, d, g, eps, out);
        launched("rmsnormKernel", what, {m, d});
    }

    void rmsnormBackward(const float* x, int m, const float* g, const float* dy, float* dx, const char* what) {
        if (m == 0) {
            return;
        }
        rmsnormBackwardKernel<<<m, ROW_THREADS, 0, stream>>>(x, d, g, dy, eps, dx);
        launched("rmsnormBackwardKernel", what, {m, d});
    }

    static int blocksOf(long long n) {
        return (int)((n + 255) / 256);
    }

    void copyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, const char* what) {
        if (bytes == 0) {
            return;
        }
        cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, stream);
        if (e != cudaSuccess) {
            fail(std::string("cudaMemcpyAsync ") + what + " (" + std::to_string(bytes) + " bytes)", e);
        }
    }

    void sync(const char* what, std::initializer_list<long long> dims) {
        cudaError_t e = cudaStreamSynchronize(stream);
        if (e != cudaSuccess) {
            fail(std::string(what) + " " + shape(dims) + " (an earlier asynchronous kernel may have failed; HOPE4J_CUDA_SYNC=1 names it)", e);
        }
    }

    void checkBlock(int block, const char* call) const {
        if (block < 0 || block >= nb) {
            throw std::runtime_error(std::string(call) + ": block " + std::to_string(block) + " out of [0, " + std::to_string(nb) + ")");
        }
    }

    void checkRows(int m, const char* call) const {
        if (m < 0 || m > maxSpan) {
            throw std::runtime_error(std::string(call) + ": " + std::to_string(m) + " positions, the engine's maximum span is "
                                     + std::to_string(maxSpan));
        }
    }

    // -- level operations ---------------------------------------------------------------------

    void memory(int b, const float* q, const float* u, int m, long long pos, bool learn, float* o) {
        checkBlock(b, "memory");
        checkRows(m, "memory");
        if (m == 0) {
            return;
        }
        size_t bytes = (size_t)m * d * sizeof(float);
        copyAsync(dQ, q, bytes, cudaMemcpyHostToDevice, "memory: q to the device");
        copyAsync(dU, u, bytes, cudaMemcpyHostToDevice, "memory: u to the device");
        memoryKernel<<<h, MEM_THREADS, memShared, stream>>>(init[b], w0[b], wt[b], bEta[b], bAlpha[b], dQ, dU, dO, m, pos,
                                                            learn ? 1 : 0, d, dh, r, c0, etaMax, eps);
        launched("memoryKernel", "block, positions, pos, heads, memRows, headDim, c0, shared bytes",
                 {b, m, pos, h, r, dh, c0, (long long)memShared});
        copyAsync(o, dO, bytes, cudaMemcpyDeviceToHost, "memory: o to the host");
        sync("memory: block, positions, d", {b, m, d});
    }

    /** y = x + down SiLU(up RMSNorm(x)) (Eq. 70), keeping z, a, s. */
    void mlpForward(const float* x, int m, const float* g, const float* up, const float* down, int f, float* z, float* a,
                    float* s, float* out, const char* level) {
        rmsnorm(x, m, g, z, level);
        gemm(false, true, m, f, d, 1.0f, z, d, up, d, 0.0f, a, f, level);
        siluKernel<<<blocksOf((long long)m * f), 256, 0, stream>>>(a, s, m * f);
        launched("siluKernel", level, {m, f});
        copyAsync(out, x, (size_t)m * d * sizeof(float), cudaMemcpyDeviceToDevice, level);
        gemm(false, true, m, d, f, 1.0f, s, f, down, f, 1.0f, out, d, level);
    }

    void cms(int b, const float* x, int m, float* out) {
        checkBlock(b, "cms");
        checkRows(m, "cms");
        spanRows = m;
        if (m == 0) {
            return;
        }
        Cache& c = span;
        copyAsync(c.x2[b], x, (size_t)m * d * sizeof(float), cudaMemcpyHostToDevice, "cms: x to the device");
        mlpForward(c.x2[b], m, norm2[b], up2[b], down2[b], f2, c.z2[b], c.a2[b], c.s2[b], c.x3[b], "L2 forward");
        mlpForward(c.x3[b], m, norm1[b], up1[b], down1[b], f1, c.z3[b], c.a1[b], c.s1[b], dOut, "L1 forward");
        copyAsync(out, dOut, (size_t)m * d * sizeof(float), cudaMemcpyDeviceToHost, "cms: out to the host");
        sync("cms: block, positions, d", {b, m, d});
    }

    void head(const float* x, int m, float* logits) {
        checkRows(m, "head");
        spanRows = m;
        if (m == 0) {
            return;
        }
        copyAsync(span.xf, x, (size_t)m * d * sizeof(float), cudaMemcpyHostToDevice, "head: x to the device");
        rmsnorm(span.xf, m, normF, dZf, "final norm");
        gemm(false, true, m, VOCAB, d, 1.0f, dZf, d, headW, d, 0.0f, span.logits, VOCAB, "head");
        copyAsync(logits, span.logits, (size_t)m * VOCAB * sizeof(float), cudaMemcpyDeviceToHost, "head: logits to the host");
        sync("head: positions, d", {m, d});
    }

    /** From dl = d loss / d logits [k, V]: delta = rmsnorm_backward(xf, normF, dl head), then into the levels. */
    void backward(const Cache& c, int k, bool l1, bool l2) {
        gemm(false, false, k, d, VOCAB, 1.0f, dl, VOCAB, headW, d, 0.0f, dh0, d, "head backward");
        rmsnormBackward(c.xf, k, normF, dh0, delta, "final norm backward");
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            // fast level L1: <delta, MLP1(z3)>
            gemm(false, false, k, f1, d, 1.0f, delta, d, down1[b], f1, 0.0f, ds1, f1, "L1 backward ds1");
            siluGradMulKernel<<<blocksOf((long long)k * f1), 256, 0, stream>>>(ds1, c.a1[b], da1, k * f1);
            launched("siluGradMulKernel", "L1", {k, f1});
            if (l1) {
                gemm(true, false, d, f1, k, 1.0f, delta, d, c.s1[b], f1, 1.0f, gDown1[b], f1, "L1 g_down");
                gemm(true, false, f1, d, k, 1.0f, da1, f1, c.z3[b], d, 1.0f, gUp1[b], d, "L1 g_up");
            }
            if (l2) {
                // back through the block's own fast MLP (exact), then into the mid level L2
                gemm(false, false, k, d, f1, 1.0f, da1, f1, up1[b], d, 0.0f, dz3, d, "L1 backward dz3");
                rmsnormBackward(c.x3[b], k, norm1[b], dz3, d3, "L1 norm backward");
                addKernel<<<blocksOf((long long)k * d), 256, 0, stream>>>(d3, delta, k * d);
                launched("addKernel", "residual", {k, d});
                gemm(false, false, k, f2, d, 1.0f, d3, d, down2[b], f2, 0.0f, ds2, f2, "L2 backward ds2");
                siluGradMulKernel<<<blocksOf((long long)k * f2), 256, 0, stream>>>(ds2, c.a2[b], da2, k * f2);
                launched("siluGradMulKernel", "L2", {k, f2});
                gemm(true, false, d, f2, k, 1.0f, d3, d, c.s2[b], f2, 1.0f, gDown2[b], f2, "L2 g_down");
                gemm(true, false, f2, d, k, 1.0f, da2, f2, c.z2[b], d, 1.0f, gUp2[b], d, "L2 g_up");
            }
        }
    }

    void checkGrad(int k, const char* call) const {
        if (k < 0 || k > spanRows) {
            throw std::runtime_error(std::string(call) + " of " + std::to_string(k) + " positions of a span of " + std::to_string(spanRows));
        }
    }

    void accumulate(int k, const signed char* targets, bool l1, bool l2) {
        checkGrad(k, "accumulate");
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        copyAsync(dTargets, targets, (size_t)k, cudaMemcpyHostToDevice, "accumulate: targets to the device");
        softmaxGradKernel<<<k, ROW_THREADS, 0, stream>>>(span.logits, dTargets, -1, dl);
        launched("softmaxGradKernel", "span", {k, VOCAB});
        backward(span, k, l1, l2);
        sync("accumulate: positions, d", {k, d});
    }

    void accumulateLogits(int k, const float* dLogits, bool l1, bool l2) {
        checkGrad(k, "accumulateLogitGradient");
        if (k == 0 || !(l1 || l2)) {
            return;
        }
        copyAsync(dl, dLogits, (size_t)k * VOCAB * sizeof(float), cudaMemcpyHostToDevice, "accumulateLogitGradient: d logits to the device");
        backward(span, k, l1, l2);
        sync("accumulateLogitGradient: positions, vocab", {k, VOCAB});
    }

    void holdPending() {
        if (spanRows <= 0) {
            throw std::runtime_error("holdPending: no span has been run");
        }
        size_t last = (size_t)spanRows - 1;
        auto row = [&](float* dst, const float* src, int width, const char* what) {
            copyAsync(dst, src + last * width, (size_t)width * sizeof(float), cudaMemcpyDeviceToDevice, what);
        };
        for (int b = 0; b < nb; b++) {
            row(pending.x2[b], span.x2[b], d, "x2");
            row(pending.z2[b], span.z2[b], d, "z2");
            row(pending.a2[b], span.a2[b], f2, "a2");
            row(pending.s2[b], span.s2[b], f2, "s2");
            row(pending.x3[b], span.x3[b], d, "x3");
            row(pending.z3[b], span.z3[b], d, "z3");
            row(pending.a1[b], span.a1[b], f1, "a1");
            row(pending.s1[b], span.s1[b], f1, "s1");
        }
        row(pending.xf, span.xf, d, "xf");
        row(pending.logits, span.logits, VOCAB, "logits");
        sync("holdPending: row", {(long long)last});
    }

    void accumulatePending(int target, bool l1, bool l2) {
        if (!(l1 || l2)) {
            return;
        }
        softmaxGradKernel<<<1, ROW_THREADS, 0, stream>>>(pending.logits, nullptr, target & 0xff, dl);
        launched("softmaxGradKernel", "pending", {1, VOCAB});
        backward(pending, 1, l1, l2);
        sync("accumulatePending: target", {target & 0xff});
    }

    void axpyClear(float* w, float* g, float lr, long long n, const char* what) {
        axpyClearKernel<<<blocksOf(n), 256, 0, stream>>>(w, g, lr, (int)n);
        launched("axpyClearKernel", what, {n});
    }

    /** w = w - lambda (w - w0) - lr g; g = 0; lambda = 0 is the plain step (axpyClearKernel). */
    void stepClear(float* w, const float* w0, float* g, float lr, float lambda, long long n, const char* what) {
        if (lambda == 0.0f) {
            axpyClear(w, g, lr, n, what);
            return;
        }
        decayStepClearKernel<<<blocksOf(n), 256, 0, stream>>>(w, w0, g, lr, lambda, (int)n);
        launched("decayStepClearKernel", what, {n});
    }

    void step(bool l1, bool l2) {
        for (int b = 0; b < nb; b++) {
            if (!plastic[b]) {
                continue;
            }
            // Eq. 71 with decay to the prior: theta <- theta - lambda (theta - theta0) - eta * sum of the chunk's
            // per-position gradients; theta0 = the initial values kept on the GPU for resetLevel
            if (l1) {
                stepClear(up1[b], up1I[b], gUp1[b], lr1[b], decay1[b], (long long)f1 * d, "L1 up");
                stepClear(down1[b], down1I[b], gDown1[b], lr1[b], decay1[b], (long long)d * f1, "L1 down");
            }
            if (l2) {
                stepClear(up2[b], up2I[b], gUp2[b], lr2[b], decay2[b], (long long)f2 * d, "L2 up");
                stepClear(down2[b], down2I[b], gDown2[b], lr2[b], decay2[b], (long long)d * f2, "L2 down");
            }
        }
        sync("step: l1, l2", {l1 ? 1 : 0, l2 ? 1 : 0});
    }

    void resetLevel(int level) {
        size_t hrd = (size_t)h * r * dh * sizeof(float);
        for (int b = 0; b < nb; b++) {
            switch (level) {
                case 0:
                    copyAsync(w0[b], init[b], hrd, cudaMemcpyDeviceToDevice, "resetLevel L0 w0");
                    copyAsync(wt[b], init[b], hrd, cudaMemcpyDeviceToDevice, "resetLevel L0 wt");
                    break;
                case 1:
                    copyAsync(up1[b], up1I[b], (size_t)f1 * d * sizeof(float), cudaMemcpyDeviceToDevice, "resetLevel L1 up");
                    copyAsync(down1[b], down1I[b], (size_t)d * f1 * sizeof(float), cudaMemcpyDeviceToDevice, "resetLevel L1 down");
                    check(cudaMemsetAsync(gUp1[b], 0, (size_t)f1 * d * sizeof(float), stream), "resetLevel L1 g_up");
                    check(cudaMemsetAsync(gDown1[b], 0, (size_t)d * f1 * sizeof(float), stream), "resetLevel L1 g_down");
                    break;
                case 2:
                    copyAsync(up2[b], up2I[b], (size_t)f2 * d * sizeof(float), cudaMemcpyDeviceToDevice, "resetLevel L2 up");
                    copyAsync(down2[b], down2I[b], (size_t)d * f2 * sizeof(float), cudaMemcpyDeviceToDevice, "resetLevel L2 down");
                    check(cudaMemsetAsync(gUp2[b], 0, (size_t)f2 * d * sizeof(float), stream), "resetLevel L2 g_up");
                    check(cudaMemsetAsync(gDown2[b], 0, (size_t)d * f2 * sizeof(float), stream), "resetLevel L2 g_down");
                    break;
                default:
                    throw std::runtime_error("resetLevel: level must be 0, 1 or 2, found " + std::to_string(level));
            }
        }
        sync("resetLevel: level", {level});
    }

    // -- tensors ------------------------------------------------------------------------------

    long long sizeOf(int t) const {
        long long hrd = (long long)h * r * dh;
        switch (t) {
            case 0: case 1: case 20: return hrd;
            case 2: case 6: case 25: return (long long)f1 * d;
            case 3: case 7: case 26: return (long long)d * f1;
            case 4: case 8: case 27: return (long long)f2 * d;
            case 5: case 9: case 28: return (long long)d * f2;
            case 10: case 11: case 14: case 15: case 18: case 23: case 24: case 29: return d;
            case 12: case 13: return f2;
            case 16: case 17: return f1;
            case 19: return VOCAB;
            case 21: case 22: return (long long)h * TYPES;
            case 30: return (long long)VOCAB * d;
            default: throw std::runtime_error("tensor id " + std::to_string(t) + " out of [0, 30]");
        }
    }

    float* pointer(int t, int b) {
        if (t < 18 || (t >= 20 && t <= 28)) {
            checkBlock(b, "tensor");
        }
        switch (t) {
            case 0: return w0[b];
            case 1: return wt[b];
            case 2: return up1[b];
            case 3: return down1[b];
            case 4: return up2[b];
            case 5: return down2[b];
            case 6: return gUp1[b];
            case 7: return gDown1[b];
            case 8: return gUp2[b];
            case 9: return gDown2[b];
            case 10: return pending.x2[b];
            case 11: return pending.z2[b];
            case 12: return pending.a2[b];
            case 13: return pending.s2[b];
            case 14: return pending.x3[b];
            case 15: return pending.z3[b];
            case 16: return pending.a1[b];
            case 17: return pending.s1[b];
            case 18: return pending.xf;
            case 19: return pending.logits;
            case 20: return init[b];
            case 21: return bEta[b];
            case 22: return bAlpha[b];
            case 23: return norm1[b];
            case 24: return norm2[b];
            case 25: return up1I[b];
            case 26: return down1I[b];
            case 27: return up2I[b];
            case 28: return down2I[b];
            case 29: return normF;
            case 30: return headW;
            default: throw std::runtime_error("tensor id " + std::to_string(t) + " out of [0, 30]");
        }
    }

    void transfer(int t, int b, float* host, long long n, bool toDevice) {
        long long want = sizeOf(t);
        if (n != want) {
            throw std::runtime_error("tensor " + std::to_string(t) + " of block " + std::to_string(b) + " has " + std::to_string(want)
                                     + " values, the host array " + std::to_string(n));
        }
        float* p = pointer(t, b);
        const char* what = toDevice ? "set tensor: id, block, values" : "get tensor: id, block, values";
        if (toDevice) {
            copyAsync(p, host, (size_t)n * sizeof(float), cudaMemcpyHostToDevice, what);
        } else {
            copyAsync(host, p, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost, what);
        }
        sync(what, {t, b, n});
    }
};

// -------------------------------------------------------------------------------------------------
// public API

int cudaDeviceCount() {
    int n = 0;
    check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
    return n;
}

std::string cudaDescribe(int device) {
    cudaDeviceProp p;
    check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties(" + std::to_string(device) + ")");
    int rt = 0, drv = 0;
    check(cudaRuntimeGetVersion(&rt), "cudaRuntimeGetVersion");
    check(cudaDriverGetVersion(&drv), "cudaDriverGetVersion");
    std::ostringstream s;
    s << p.name << ", sm_" << p.major << p.minor << ", " << (p.totalGlobalMem >> 20) << " MiB, " << p.multiProcessorCount
      << " SMs, CUDA runtime " << rt / 1000 << "." << (rt % 1000) / 10 << " (static), driver " << drv / 1000 << "."
      << (drv % 1000) / 10;
    return s.str();
}

int cudaBuiltRuntimeVersion() {
    return CUDART_VERSION;
}

namespace {
/** Makes the engine's device current for the calling thread (the learner may move between threads). */
void useDevice(int dev) {
    cudaError_t e = cudaSetDevice(dev);
    if (e != cudaSuccess) {
        fail("cudaSetDevice(" + std::to_string(dev) + ")", e);
    }
}
}  // namespace

CudaEngine::CudaEngine(int device, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int midHidden,
                       int fastHidden, int c0, int c1, int maxSpan, float etaMax, float eps, const float* lr1,
                       const float* lr2, const int* plastic, const float* decay1, const float* decay2)
    : impl(nullptr) {
    impl = new Impl(device, dModel, nBlocks, nHeads, headDim, memRows, midHidden, fastHidden, c0, c1, maxSpan, etaMax, eps,
                    lr1, lr2, plastic, decay1, decay2);
}

CudaEngine::~CudaEngine() {
    delete impl;
}

long long CudaEngine::tensorSize(int tensor) const {
    return impl->sizeOf(tensor);
}

void CudaEngine::set(int tensor, int block, const float* src, long long n) {
    useDevice(impl->dev);
    impl->transfer(tensor, block, const_cast<float*>(src), n, true);
}

void CudaEngine::get(int tensor, int block, float* dst, long long n) {
    useDevice(impl->dev);
    impl->transfer(tensor, block, dst, n, false);
}

void CudaEngine::memory(int block, const float* q, const float* u, int m, long long pos, bool learn, float* o) {
    useDevice(impl->dev);
    impl->memory(block, q, u, m, pos, learn, o);
}

void CudaEngine::cms(int block, const float* x, int m, float* out) {
    useDevice(impl->dev);
    impl->cms(block, x, m, out);
}

void CudaEngine::head(const float* x, int m, float* logits) {
    useDevice(impl->dev);
    impl->head(x, m, logits);
}

void CudaEngine::accumulate(int k, const signed char* targets, bool l1, bool l2) {
    useDevice(impl->dev);
    impl->accumulate(k, targets, l1, l2);
}

void CudaEngine::accumulateLogits(int k, const float* dLogits, bool l1, bool l2) {
    useDevice(impl->dev);
    impl->accumulateLogits(k, dLogits, l1, l2);
}

void CudaEngine::holdPending() {
    useDevice(impl->dev);
    impl->holdPending();
}

void CudaEngine::accumulatePending(int target, bool l1, bool l2) {
    useDevice(impl->dev);
    impl->accumulatePending(target, l1, l2);
}

void CudaEngine::step(bool l1, bool l2) {
    useDevice(impl->dev);
    impl->step(l1, l2);
}

void CudaEngine::resetLevel(int level) {
    useDevice(impl->dev);
    impl->resetLevel(level);
}

void CudaEngine::synchronize() {
    useDevice(impl->dev);
    impl->sync("synchronize", {});
}

}  // namespace hope4j
