// Replays an engine trace (EngineTrace.java: the CPU engine's answers to a schedule of engine calls) through the CUDA
// engine, with no Java on the machine. Modes:
//   gpu_check TRACE parity          every output, kept flag, refusal count and checkpointed tensor within 1e-4
//                                   (max |gpu - cpu| / max(1, max |cpu|), CudaEngineTest's tolerance); exit 1 if not
//   gpu_check TRACE bench REPEATS   the whole trace once, then its timed learning spans REPEATS times: microseconds,
//                                   launches, host copies and synchronisations per span
//   gpu_check TRACE short           parity of the first part only (for compute-sanitizer and ncu, which are slow)
//   gpu_check TRACE learners N REPEATS
//                                   N learners at once on one GPU (N engines, each on its own stream, driven by its own
//                                   host thread, as the device host serves them): each uploads the trace's state and
//                                   replays its learning spans once, then, all together, REPEATS times more, timed; the
//                                   bytes per second of all of them and of the slowest one
// Prints one JSON object on stdout. Built by native/gpu-check.sh with the real nvcc or with cuda-emu.
#include "hope4j_cuda.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int VOCAB = 256;
constexpr double TOL = 1e-4;

struct Reader {
    std::shared_ptr<const std::vector<char>> buf;  // shared read-only by the copies one thread each reads
    size_t at = 0;
    explicit Reader(const char* path) : buf(load(path)) {}
    static std::shared_ptr<const std::vector<char>> load(const char* path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            throw std::runtime_error(std::string("cannot read the trace ") + path);
        }
        return std::make_shared<const std::vector<char>>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    void need(size_t n) {
        if (at + n > buf->size()) {
            throw std::runtime_error("trace ends early at byte " + std::to_string(at) + " (wanted " + std::to_string(n) + " more)");
        }
    }
    template <class T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, buf->data() + at, sizeof(T));
        at += sizeof(T);
        return v;
    }
    const float* floats(size_t n) {
        need(n * 4);
        const float* p = reinterpret_cast<const float*>(buf->data() + at);  // the trace is little-endian, as is x86-64
        at += n * 4;
        return p;
    }
    const char* bytes(size_t n) {
        need(n);
        const char* p = buf->data() + at;
        at += n;
        return p;
    }
};

double relErr(const float* a, const float* e, size_t n) {
    double md = 0, ma = 1;
    for (size_t i = 0; i < n; i++) {
        double diff = std::fabs((double)a[i] - (double)e[i]);
        if (!(diff == diff)) {
            return INFINITY;  // NaN
        }
        md = std::max(md, diff);
        ma = std::max(ma, std::fabs((double)e[i]));
    }
    return md / ma;
}

struct Spec {
    int d, nb, h, dh, r, f2, f1, c0, c1, maxSpan, c2;
    float etaMax, eps;
    std::vector<float> lr1, lr2, decay1, decay2;
    std::vector<int> plastic;
};

struct Result {
    std::map<std::string, double> worst;  // op kind -> largest error
    std::map<std::string, long> count;
    std::vector<std::string> failures;
    void note(const std::string& kind, double e, const std::string& where) {
        count[kind]++;
        if (!(e <= worst[kind])) {
            worst[kind] = e;
        }
        if (!(e <= TOL) && failures.size() < 20) {
            failures.push_back(where + ": error " + std::to_string(e));
        }
    }
};

/** A float buffer page-locked for its lifetime (where the driver allows; else plain). */
struct PinnedFloats {
    std::vector<float> v;
    bool pinned;
    explicit PinnedFloats(size_t n) : v(n), pinned(hope4j::cudaPinHost(0, v.data(), (long long)(n * sizeof(float)))) {}
    ~PinnedFloats() {
        if (pinned) {
            hope4j::cudaUnpinHost(0, v.data());
        }
    }
    PinnedFloats(const PinnedFloats&) = delete;
    PinnedFloats& operator=(const PinnedFloats&) = delete;
};

/** Zeroes the first n floats of the pinned buffer (never reallocating it: the engine's copies would go pageable). */
void fill(std::vector<float>& out, size_t n) {
    if (n > out.size()) {
        throw std::runtime_error("an output of " + std::to_string(n) + " floats exceeds the span's " + std::to_string(out.size()));
    }
    std::fill(out.begin(), out.begin() + (long)n, 0.0f);
}

/**
 * Replays ops from the reader's position until 'Z' (or 'B' when stopAtSpans); returns the op that stopped it. With
 * setOnly, only the state uploads and resets run (the engine then holds the trace's weights at no compute cost).
 */
char replay(Reader& rd, hope4j::CudaEngine& e, const Spec& s, Result& res, bool compare, bool stopAtSpans, long* timedSpans,
            bool setOnly = false) {
    const bool run = !setOnly;
    compare = compare && run;
    // the engine's outputs land in page-locked memory, as the Java engine's do (CudaEngine pins its staging buffers);
    // one buffer per thread, pinned once, large enough for every output row set of a span
    thread_local PinnedFloats pinnedOut((size_t)s.maxSpan * std::max(s.d, VOCAB) + 1);  // + a whole span's flag
    std::vector<float>& out = pinnedOut.v;
    std::vector<float> state;
    long op_index = 0;
    bool spanFinite = true;  // the last whole span's flag (its last row's CMS activations finite)
    for (;;) {
        char op = rd.get<char>();
        std::string at = std::string("op ") + op + " #" + std::to_string(op_index++);
        switch (op) {
            case 'S': {
                int id = rd.get<int>(), b = rd.get<int>(), n = rd.get<int>();
                e.set(id, b, rd.floats(n), n);
                break;
            }
            case 'R':
                e.resetLevel(rd.get<int>());  // state, as 'S': runs with setOnly too
                break;
            case 'X': {
                int w = rd.get<int>(), slow = rd.get<int>();
                e.enableMixers(w, slow);  // state, as 'S'
                break;
            }
            case 'W': {
                int m = rd.get<int>();
                long long pos = rd.get<long long>();
                int learn = rd.get<int>(), nBytes = rd.get<int>();
                const char* bytes = rd.bytes(nBytes);
                const float* want = rd.floats((size_t)m * VOCAB);
                fill(out, (size_t)m * VOCAB + 1);
                if (run) {
                    e.span(reinterpret_cast<const signed char*>(bytes), nBytes, m, pos, learn != 0, out.data());
                    spanFinite = out[(size_t)m * VOCAB] == 1.0f;
                }
                if (compare) {
                    res.note("span", relErr(out.data(), want, (size_t)m * VOCAB), at + " whole span of " + std::to_string(m));
                }
                break;
            }
            case 'Y': {
                int k = rd.get<int>(), l1 = rd.get<int>(), l2 = rd.get<int>();
                if (run) {
                    e.accumulateSpan(k, l1 != 0, l2 != 0);
                }
                break;
            }
            case 'U': {
                int want = rd.get<int>();
                if (run) {
                    e.holdSpan(spanFinite);
                }
                if (compare) {
                    res.note("hold", spanFinite == (want != 0) ? 0.0 : INFINITY, at + " held row of a whole span kept");
                }
                break;
            }
            case 'M': {
                int b = rd.get<int>(), m = rd.get<int>();
                long long pos = rd.get<long long>();
                int learn = rd.get<int>();
                const float* qu = rd.floats((size_t)2 * m * s.d);
                const float* want = rd.floats((size_t)m * s.d);
                fill(out, (size_t)m * s.d);
                if (run) {
                    e.memory(b, qu, m, pos, learn != 0, out.data());
                }
                if (compare) {
                    res.note("memory", relErr(out.data(), want, (size_t)m * s.d), at + " memory block " + std::to_string(b));
                }
                break;
            }
            case 'C': {
                int b = rd.get<int>(), m = rd.get<int>();
                const float* x = rd.floats((size_t)m * s.d);
                const float* want = rd.floats((size_t)m * s.d);
                fill(out, (size_t)m * s.d);
                if (run) {
                    e.cms(b, x, m, out.data());
                }
                if (compare) {
                    res.note("cms", relErr(out.data(), want, (size_t)m * s.d), at + " cms block " + std::to_string(b));
                }
                break;
            }
            case 'H': {
                int m = rd.get<int>();
                const float* x = rd.floats((size_t)m * s.d);
                const float* want = rd.floats((size_t)m * VOCAB);
                fill(out, (size_t)m * VOCAB);
                if (run) {
                    e.head(x, m, out.data());
                }
                if (compare) {
                    res.note("head", relErr(out.data(), want, (size_t)m * VOCAB), at + " head");
                }
                break;
            }
            case 'A': {
                int k = rd.get<int>(), l1 = rd.get<int>(), l2 = rd.get<int>();
                const char* targets = rd.bytes(k);
                if (run) {
                    e.accumulate(k, reinterpret_cast<const signed char*>(targets), l1 != 0, l2 != 0);
                }
                break;
            }
            case 'G': {
                int k = rd.get<int>(), l1 = rd.get<int>(), l2 = rd.get<int>();
                const float* dLogits = rd.floats((size_t)k * VOCAB);
                if (run) {
                    e.accumulateLogits(k, dLogits, l1 != 0, l2 != 0);
                }
                break;
            }
            case 'P': {
                int want = rd.get<int>();
                bool kept = run && e.holdPending();
                if (compare) {
                    res.note("hold", kept == (want != 0) ? 0.0 : INFINITY, at + " held position kept");
                }
                break;
            }
            case 'Q': {
                int t = rd.get<int>(), l1 = rd.get<int>(), l2 = rd.get<int>();
                if (run) {
                    e.accumulatePending(t, l1 != 0, l2 != 0);
                }
                break;
            }
            case 'T': {
                int l1 = rd.get<int>(), l2 = rd.get<int>();
                if (run) {
                    e.step(l1 != 0, l2 != 0);
                }
                break;
            }
            case 'K': {
                long long want = rd.get<long long>();
                long long got = run ? e.rollbacks() : want;
                if (compare) {
                    res.note("rollbacks", got == want ? 0.0 : INFINITY, at + " rollbacks " + std::to_string(got) + " vs " + std::to_string(want));
                }
                break;
            }
            case 'E': {
                int id = rd.get<int>(), b = rd.get<int>(), n = rd.get<int>();
                const float* want = rd.floats(n);
                if (compare) {
                    state.assign(n, 0.0f);
                    e.get(id, b, state.data(), n);
                    res.note("state", relErr(state.data(), want, n), at + " tensor " + std::to_string(id) + " block " + std::to_string(b));
                }
                break;
            }
            case 'B':
                *timedSpans = rd.get<int>();
                if (stopAtSpans) {
                    return 'B';
                }
                break;
            case 'Z':
                return 'Z';
            default:
                throw std::runtime_error("unknown op '" + std::string(1, op) + "' at byte " + std::to_string(rd.at - 1));
        }
    }
}

std::string json(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
        }
        o += c;
    }
    return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: gpu_check TRACE parity|short|bench [REPEATS]|learners [N [REPEATS]]\n");
        return 2;
    }
    std::string mode = argv[2];
    try {
        Reader rd(argv[1]);
        if (std::string(rd.bytes(8), 8) != "H4JTRC01") {
            throw std::runtime_error(std::string(argv[1]) + " is not an engine trace (H4JTRC01)");
        }
        Spec s;
        int* ints[] = {&s.d, &s.nb, &s.h, &s.dh, &s.r, &s.f2, &s.f1, &s.c0, &s.c1, &s.maxSpan, &s.c2};
        for (int* p : ints) {
            *p = rd.get<int>();
        }
        s.etaMax = rd.get<float>();
        s.eps = rd.get<float>();
        for (int b = 0; b < s.nb; b++) {
            s.lr1.push_back(rd.get<float>());
            s.lr2.push_back(rd.get<float>());
            s.plastic.push_back(rd.get<int>());
            s.decay1.push_back(rd.get<float>());
            s.decay2.push_back(rd.get<float>());
        }
        // the trace's inputs are copied to the device straight from its buffer: page-locked, as the Java engine's are
        const bool pinned = hope4j::cudaPinHost(0, const_cast<char*>(rd.buf->data()), (long long)rd.buf->size());
        std::string device = hope4j::cudaDescribe(0);
        std::string image = hope4j::cudaKernelImage(0);
        auto open = [&]() {
            return std::make_unique<hope4j::CudaEngine>(0, s.d, s.nb, s.h, s.dh, s.r, s.f2, s.f1, s.c0, s.c1, s.maxSpan, s.etaMax,
                                                        s.eps, s.lr1.data(), s.lr2.data(), s.plastic.data(), s.decay1.data(),
                                                        s.decay2.data());
        };
        std::printf("{\n  \"device\": %s,\n  \"kernels\": %s,\n  \"host_buffers_pinned\": %s,\n  \"mode\": %s", json(device).c_str(),
                    json(image).c_str(), pinned ? "true" : "false", json(mode).c_str());
        Result res;
        long spans = 0;
        if (mode == "parity" || mode == "short") {
            auto e = open();
            replay(rd, *e, s, res, true, mode == "short", &spans);
            e->synchronize();
            std::printf(",\n  \"tolerance\": %g,\n  \"worst\": {", TOL);
            const char* sep = "";
            for (auto& [k, v] : res.worst) {
                if (std::isfinite(v)) {
                    std::printf("%s\"%s\": %.3g", sep, k.c_str(), v);
                } else {
                    std::printf("%s\"%s\": \"not finite or not equal\"", sep, k.c_str());
                }
                sep = ", ";
            }
            std::printf("},\n  \"checked\": {");
            sep = "";
            for (auto& [k, v] : res.count) {
                std::printf("%s\"%s\": %ld", sep, k.c_str(), v);
                sep = ", ";
            }
            std::printf("},\n  \"failures\": [");
            sep = "";
            for (auto& f : res.failures) {
                std::printf("%s%s", sep, json(f).c_str());
                sep = ", ";
            }
            std::printf("],\n  \"passed\": %s\n}\n", res.failures.empty() ? "true" : "false");
            return res.failures.empty() ? 0 : 1;
        }
        if (mode == "bench") {
            int repeats = argc > 3 ? std::atoi(argv[3]) : 20;
            auto e = open();
            replay(rd, *e, s, res, false, true, &spans);  // part one: warms up every kernel
            const size_t spansAt = rd.at;
            const long long l0 = e->counter(0), c0 = e->counter(1), y0 = e->counter(2);
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < repeats; i++) {
                rd.at = spansAt;
                replay(rd, *e, s, res, false, false, &spans);
            }
            e->synchronize();
            double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            double n = (double)spans * repeats;
            std::printf(",\n  \"spans\": %.0f,\n  \"bytes_per_span\": %d,\n  \"us_per_span\": %.2f,\n  \"bytes_per_s\": %.0f,\n"
                        "  \"launches_per_span\": %.2f,\n  \"host_copies_per_span\": %.2f,\n  \"synchronisations_per_span\": %.2f\n}\n",
                        n, s.c1, us / n, n * s.c1 / (us / 1e6), (e->counter(0) - l0) / n, (e->counter(1) - c0) / n,
                        (e->counter(2) - y0) / n);
            return 0;
        }
        if (mode == "learners") {
            const int n = argc > 3 ? std::atoi(argv[3]) : 32, repeats = argc > 4 ? std::atoi(argv[4]) : 5;
            if (n < 1 || repeats < 1) {
                throw std::runtime_error("learners N REPEATS: both must be at least 1");
            }
            if (n > 1 && hope4j::cudaEmulatedLaunches() >= 0) {
                throw std::runtime_error("learners: cuda-emu runs one thread block at a time in one host thread; use N = 1 there");
            }
            std::vector<std::unique_ptr<hope4j::CudaEngine>> engines;
            std::vector<Reader> readers;
            for (int i = 0; i < n; i++) {
                engines.push_back(open());
                readers.push_back(rd);
            }
            const size_t start = rd.at;
            std::vector<long> spanCount(n, 0);
            std::vector<double> seconds(n, 0.0);
            std::vector<std::string> errors(n);
            // every learner warms up on its own thread; then all run their timed spans at once
            auto each = [&](auto&& body) {
                std::vector<std::thread> ts;
                for (int i = 0; i < n; i++) {
                    ts.emplace_back([&, i]() {
                        try {
                            body(i);
                        } catch (const std::exception& ex) {
                            errors[i] = ex.what();
                        }
                    });
                }
                for (auto& t : ts) {
                    t.join();
                }
                for (auto& m : errors) {
                    if (!m.empty()) {
                        throw std::runtime_error("a learner failed: " + m);
                    }
                }
            };
            // the trace's weights uploaded (its first part's computing skipped: what the emulator cannot afford for
            // many learners), then one untimed pass over the learning spans warms every kernel
            size_t spansAt = 0;
            long perPass = 0;  // learning spans per pass: the trace's 'B' says
            each([&](int i) {
                Result r;
                long sp = 0;
                readers[i].at = start;
                replay(readers[i], *engines[i], s, r, false, true, &sp, true);  // stops at 'B', which says how many spans
                const size_t at = readers[i].at;
                replay(readers[i], *engines[i], s, r, false, false, &sp);
                engines[i]->synchronize();
                if (i == 0) {
                    spansAt = at;
                    perPass = sp;
                }
            });
            auto t0 = std::chrono::steady_clock::now();
            each([&](int i) {
                Result r;
                auto a = std::chrono::steady_clock::now();
                for (int k = 0; k < repeats; k++) {
                    readers[i].at = spansAt;
                    long sp = 0;
                    replay(readers[i], *engines[i], s, r, false, false, &sp);
                    spanCount[i] += perPass;
                }
                engines[i]->synchronize();
                seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
            });
            double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            double total = 0, slowest = INFINITY;
            for (int i = 0; i < n; i++) {
                total += (double)spanCount[i] * s.c1;
                slowest = std::min(slowest, spanCount[i] * s.c1 / seconds[i]);
            }
            std::printf(",\n  \"learners\": %d,\n  \"repeats\": %d,\n  \"bytes_per_span\": %d,\n  \"seconds\": %.3f,\n"
                        "  \"bytes_per_s_all\": %.0f,\n  \"bytes_per_s_slowest_learner\": %.0f\n}\n",
                        n, repeats, s.c1, wall, total / wall, slowest);
            return 0;
        }
        throw std::runtime_error("mode must be parity, short, bench or learners, not " + mode);
    } catch (const std::exception& ex) {
        std::fflush(stdout);
        std::fprintf(stderr, "gpu_check: %s\n", ex.what());
        return 1;
    }
}
