// Unpadded, stride-1 2-D convolutions for SinGAN's networks through oneDNN: float32, NCHW
// activations, OIHW weights (MindSpore's own layouts), as three MindSpore "aot" custom ops.
//
// Why this exists: MindSpore 2.10 gives oneDNN its convolutions with plain OIHW weights. On an
// AVX-512 CPU oneDNN then has only a reference kernel for them, so MindSpore's kernels must be
// capped at AVX2, where they run as im2col + gemm with a workspace kept per graph node. Created
// here with the weights in the layout oneDNN prefers ("any", reordered on each call: they are
// small) and the activations reordered into the layout fastest on the CPU (activation_layout),
// oneDNN picks its fastest kernels for the CPU's widest vectors and needs only small scratch
// buffers, which all the convolutions share.
//
// The three ops are each other's derivatives (see adapters/mindspore/conv.py), so gradients of
// gradients (the WGAN-GP penalty) stay on these kernels:
//   SinganConvForward(x, w) -> y                 y = x * w
//   SinganConvBackwardData(dy, w) -> dx          the adjoint in x
//   SinganConvBackwardWeights(x, dy) -> dw       the adjoint in w
// MindSpore's aot calling convention: params holds the inputs' then the outputs' data pointers,
// shapes their shapes; a non-zero return makes MindSpore raise.
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_threadpool.h>
#include <oneapi/dnnl/dnnl_threadpool_iface.hpp>
#include <omp.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace {

// MindSpore's oneDNN is built for a caller-provided thread pool; OpenMP's serves.
struct OpenMpPool final : dnnl::threadpool_interop::threadpool_iface {
    bool serial = false;  // run the next primitive's work in the calling thread (see serial_below)
    int get_num_threads() const override { return serial ? 1 : omp_get_max_threads(); }
    bool get_in_parallel() const override { return omp_in_parallel(); }
    uint64_t get_flags() const override { return 0; }  // synchronous
    void parallel_for(int n, const std::function<void(int, int)> &fn) override {
        if (serial) {
            for (int i = 0; i < n; ++i) fn(i, n);
            return;
        }
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; ++i) fn(i, n);
    }
};

// Convolutions below this many FLOPs (SINGAN_CONV_SERIAL_MFLOP, default 30 million) and all
// weight reorders run in the calling thread: waking the OpenMP threads costs more than they save
// there (a critic step at 25x38 with 32 channels: 19.4 ms against 23.3 ms, at 12x12 8.5 against 13.6).
double serial_below() {
    static const double flops = [] {
        const char *v = std::getenv("SINGAN_CONV_SERIAL_MFLOP");
        return (v ? std::atof(v) : 30.0) * 1e6;
    }();
    return flops;
}

#define CHECK(call)                                                          \
    do {                                                                     \
        dnnl_status_t status_ = (call);                                      \
        if (status_ != dnnl_success) {                                       \
            std::fprintf(stderr, "singan conv: %s failed (%d)\n", #call, int(status_)); \
            return 1;                                                        \
        }                                                                    \
    } while (0)

enum Kind { FORWARD = 0, BACKWARD_DATA = 1, BACKWARD_WEIGHTS = 2 };

// Everything a call of one kind and shape needs but its data.
struct Plan {
    dnnl_primitive_t conv = nullptr;
    dnnl_primitive_t weights_reorder = nullptr;  // OIHW -> oneDNN's layout, or back for BACKWARD_WEIGHTS
    // The activations in the layout the kernel runs on (see activation_layout), and the reorders
    // from and to MindSpore's NCHW; null where the kernel takes NCHW itself.
    dnnl_primitive_t big_reorder = nullptr, small_reorder = nullptr;
    dnnl_memory_desc_t big = nullptr, small = nullptr;  // the NCHW activations: input side, output side
    dnnl_memory_desc_t big_inner = nullptr, small_inner = nullptr;
    dnnl_memory_desc_t weights_plain = nullptr, weights_inner = nullptr, scratch = nullptr;
};

struct Buffers {
    std::vector<char> weights, scratch, big_inner, small_inner;
    static char *at_least(std::vector<char> &buffer, size_t bytes) {
        if (buffer.size() < bytes) buffer.resize(bytes);
        return buffer.data();
    }
};

struct Engine {
    std::mutex lock;  // MindSpore may launch kernels from several threads; the plans are shared
    dnnl_engine_t engine = nullptr;
    std::map<std::array<int64_t, 8>, Plan> plans;  // never erased: a found plan stays valid unlocked
    std::mutex shared_lock;  // held by a convolution on the shared buffers
    Buffers shared;  // for convolutions that may use every thread: one set, however many threads call
};

Engine &engine() {
    static Engine instance;
    return instance;
}

// What one calling thread needs of its own: its stream (on its own pool), and scratch buffers for
// the convolutions it runs in itself while another thread runs others (kernels/steps.cc runs a
// step's two tasks on two threads, SinganConvSerial). Other convolutions share Engine::shared, so
// large scratch buffers exist once, not once for each thread MindSpore launches kernels from.
struct Local {
    OpenMpPool pool;
    dnnl_stream_t stream = nullptr;
    Buffers buffers;
    bool serial = false;  // SinganConvSerial: every convolution of this thread in the thread itself
};

Local &local() {
    thread_local Local instance;
    return instance;
}

int reorder_plan(dnnl_engine_t engine, const_dnnl_memory_desc_t from, const_dnnl_memory_desc_t to,
                 dnnl_primitive_t *out) {
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, nullptr));
    CHECK(dnnl_primitive_create(out, pd));
    dnnl_primitive_desc_destroy(pd);
    return 0;
}

// The activation layout each kind of kernel runs on. MindSpore hands over NCHW; oneDNN's fastest
// kernels want other layouts on some CPUs, and reordering a map costs far less than the slower
// kernel. Chosen by measurement, one 218x250 128-channel 3x3 conv (forward, backward data,
// backward weights):
// - AVX-512 (Intel Xeon, AMD EPYC): NCHW, NCHW and NHWC, brgemm kernels for all three;
// - AVX2 only (AMD EPYC): oneDNN's choice (blocked nChw8c) for all three, its jit:avx2 kernels:
//   96-127, 112-172 and 161-202 ms, where NCHW, NCHW, NHWC took 160-214, 160-196 and 614-759 ms
//   (gemm, gemm and a slow NHWC backward-weights kernel); at 128 -> 3 channels 16, 11, 14 ms
//   against 35, 70, 41. A paper-preset iteration over all scales went from 130 s to 61 s.
// SINGAN_CONV_LAYOUT="f,d,w" (each nchw, nhwc or any: oneDNN's choice) overrides it.
enum Layout { NCHW = 0, NHWC = 1, ANY = 2 };

Layout activation_layout(Kind kind) {
    static const std::array<Layout, 3> chosen = [] {
        const bool avx512 = (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
        std::array<Layout, 3> l = avx512 ? std::array<Layout, 3>{NCHW, NCHW, NHWC} : std::array<Layout, 3>{ANY, ANY, ANY};
        if (const char *v = std::getenv("SINGAN_CONV_LAYOUT")) {
            int i = 0;
            for (const char *c = v; *c && i < 3; ++i) {
                l[i] = c[1] == 'c' ? NCHW : c[1] == 'h' ? NHWC : ANY;  // nchw / nhwc / any
                while (*c && *c != ',') ++c;
                if (*c == ',') ++c;
            }
        }
        return l;
    }();
    return chosen[kind];
}

int activation_desc(dnnl_memory_desc_t *out, const dnnl_dims_t dims, Layout layout) {
    const dnnl_format_tag_t tag = layout == NCHW ? dnnl_nchw : layout == NHWC ? dnnl_nhwc : dnnl_format_tag_any;
    CHECK(dnnl_memory_desc_create_with_tag(out, 4, dims, dnnl_f32, tag));
    return 0;
}

// x: the input activation's shape (N, C, H, W); w: the weights' (O, C, KH, KW).
int make_plan(Engine &e, Kind kind, const int64_t *x, const int64_t *w, Plan &p) {
    const int64_t n = x[0], c = x[1], h = x[2], wd = x[3], o = w[0], kh = w[2], kw = w[3];
    const dnnl_dims_t big_dims = {n, c, h, wd}, small_dims = {n, o, h - kh + 1, wd - kw + 1}, weight_dims = {o, c, kh, kw};
    const dnnl_dims_t strides = {1, 1}, dilation = {0, 0}, padding = {0, 0};
    dnnl_memory_desc_t weights_any;
    CHECK(dnnl_memory_desc_create_with_tag(&p.big, 4, big_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_create_with_tag(&p.small, 4, small_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_create_with_tag(&p.weights_plain, 4, weight_dims, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_create_with_tag(&weights_any, 4, weight_dims, dnnl_f32, dnnl_format_tag_any));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));

    dnnl_memory_desc_t big, small;  // as the kernel is asked for (oneDNN's choice with ANY)
    const Layout layout = activation_layout(kind);
    if (activation_desc(&big, big_dims, layout) || activation_desc(&small, small_dims, layout)) return 1;
    dnnl_primitive_desc_t forward, pd;
    CHECK(dnnl_convolution_forward_primitive_desc_create(&forward, e.engine, dnnl_forward_training,
        dnnl_convolution_direct, big, weights_any, nullptr, small, strides, dilation, padding, padding, attr));
    if (kind == FORWARD) {
        pd = forward;
    } else if (kind == BACKWARD_DATA) {
        CHECK(dnnl_convolution_backward_data_primitive_desc_create(&pd, e.engine, dnnl_convolution_direct,
            big, weights_any, small, strides, dilation, padding, padding, forward, attr));
    } else {
        CHECK(dnnl_convolution_backward_weights_primitive_desc_create(&pd, e.engine, dnnl_convolution_direct,
            big, weights_any, nullptr, small, strides, dilation, padding, padding, forward, attr));
    }
    const dnnl_query_t weights_query = kind == BACKWARD_WEIGHTS ? dnnl_query_diff_weights_md : dnnl_query_weights_md;
    CHECK(dnnl_memory_desc_clone(&p.weights_inner, dnnl_primitive_desc_query_md(pd, weights_query, 0)));
    CHECK(dnnl_memory_desc_clone(&p.scratch, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)));
    CHECK(dnnl_primitive_create(&p.conv, pd));
    const dnnl_query_t big_query = kind == BACKWARD_DATA ? dnnl_query_diff_src_md : dnnl_query_src_md;
    const dnnl_query_t small_query = kind == FORWARD ? dnnl_query_dst_md : dnnl_query_diff_dst_md;
    CHECK(dnnl_memory_desc_clone(&p.big_inner, dnnl_primitive_desc_query_md(pd, big_query, 0)));
    CHECK(dnnl_memory_desc_clone(&p.small_inner, dnnl_primitive_desc_query_md(pd, small_query, 0)));
    // Inputs are reordered into the kernel's layout, outputs out of it.
    const bool big_in = kind != BACKWARD_DATA, small_in = kind != FORWARD;
    if (!dnnl_memory_desc_equal(p.big, p.big_inner)
        && reorder_plan(e.engine, big_in ? p.big : p.big_inner, big_in ? p.big_inner : p.big, &p.big_reorder)) return 1;
    if (!dnnl_memory_desc_equal(p.small, p.small_inner)
        && reorder_plan(e.engine, small_in ? p.small : p.small_inner, small_in ? p.small_inner : p.small, &p.small_reorder)) return 1;
    if (kind == BACKWARD_WEIGHTS) {
        if (reorder_plan(e.engine, p.weights_inner, p.weights_plain, &p.weights_reorder)) return 1;
    } else if (reorder_plan(e.engine, p.weights_plain, p.weights_inner, &p.weights_reorder)) {
        return 1;
    }
    dnnl_memory_desc_destroy(big);
    dnnl_memory_desc_destroy(small);
    if (std::getenv("SINGAN_CONV_VERBOSE")) {
        const char *impl = "?";
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        std::fprintf(stderr, "singan conv: kind %d, %lldx%lldx%lldx%lld to %lld channels: %s%s%s\n", int(kind),
                     (long long)n, (long long)c, (long long)h, (long long)wd, (long long)o, impl, p.big_reorder ? " +big reorder" : "", p.small_reorder ? " +small reorder" : "");
    }
    if (pd != forward) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(forward);
    dnnl_primitive_attr_destroy(attr);
    dnnl_memory_desc_destroy(weights_any);
    return 0;
}

// Wraps caller-owned data for one call; destroys the wrappers (never the data) when done.
struct Memories {
    std::vector<dnnl_memory_t> all;
    ~Memories() { for (dnnl_memory_t m : all) dnnl_memory_destroy(m); }
    dnnl_memory_t wrap(const_dnnl_memory_desc_t desc, dnnl_engine_t engine, void *data) {
        dnnl_memory_t m = nullptr;
        if (dnnl_memory_create(&m, desc, engine, data) != dnnl_success) return nullptr;
        all.push_back(m);
        return m;
    }
};

int execute(dnnl_primitive_t primitive, dnnl_stream_t stream, std::vector<dnnl_exec_arg_t> args, bool serial) {
    for (const dnnl_exec_arg_t &arg : args)
        if (arg.memory == nullptr) return 1;
    local().pool.serial = serial || local().serial;
    CHECK(dnnl_primitive_execute(primitive, stream, int(args.size()), args.data()));
    return 0;
}

// big: the NCHW tensor on the input side (x, or dx), small: the output side (y, or dy).
int run(Kind kind, const int64_t *x_shape, const int64_t *w_shape, void *big_data, void *weights_data, void *small_data) {
    Engine &e = engine();
    Local &l = local();
    const std::array<int64_t, 8> key = {kind, x_shape[0], x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[2], w_shape[3]};
    const Plan *plan_found = nullptr;
    {
        std::lock_guard<std::mutex> guard(e.lock);
        if (e.engine == nullptr) CHECK(dnnl_engine_create(&e.engine, dnnl_cpu, 0));
        auto found = e.plans.find(key);
        if (found == e.plans.end()) {
            Plan plan;
            if (make_plan(e, kind, x_shape, w_shape, plan)) return 1;
            found = e.plans.emplace(key, plan).first;
        }
        plan_found = &found->second;
    }
    if (l.stream == nullptr) CHECK(dnnl_threadpool_interop_stream_create(&l.stream, e.engine, &l.pool));
    const Plan &p = *plan_found;
    const bool tiny = 2.0 * w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3] * (x_shape[2] - w_shape[2] + 1)
                     * (x_shape[3] - w_shape[3] + 1) * x_shape[0] < serial_below();
    std::unique_lock<std::mutex> shared_guard(e.shared_lock, std::defer_lock);
    if (!l.serial) shared_guard.lock();
    Buffers &b = l.serial ? l.buffers : e.shared;
    Memories m;
    dnnl_memory_t big = m.wrap(p.big, e.engine, big_data), small = m.wrap(p.small, e.engine, small_data);
    dnnl_memory_t weights = m.wrap(p.weights_plain, e.engine, weights_data);
    dnnl_memory_t inner = m.wrap(p.weights_inner, e.engine, Buffers::at_least(b.weights, dnnl_memory_desc_get_size(p.weights_inner)));
    dnnl_memory_t scratch = m.wrap(p.scratch, e.engine, Buffers::at_least(b.scratch, dnnl_memory_desc_get_size(p.scratch)));
    dnnl_memory_t big_k = p.big_reorder ? m.wrap(p.big_inner, e.engine, Buffers::at_least(b.big_inner, dnnl_memory_desc_get_size(p.big_inner))) : big;
    dnnl_memory_t small_k = p.small_reorder ? m.wrap(p.small_inner, e.engine, Buffers::at_least(b.small_inner, dnnl_memory_desc_get_size(p.small_inner))) : small;
    auto reorder = [&](dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
        return r ? execute(r, l.stream, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, tiny) : 0;
    };
    int failed = 0;
    if (kind == FORWARD) {
        failed = execute(p.weights_reorder, l.stream, {{DNNL_ARG_FROM, weights}, {DNNL_ARG_TO, inner}}, true)
              || reorder(p.big_reorder, big, big_k)
              || execute(p.conv, l.stream, {{DNNL_ARG_SRC, big_k}, {DNNL_ARG_WEIGHTS, inner}, {DNNL_ARG_DST, small_k}, {DNNL_ARG_SCRATCHPAD, scratch}}, tiny)
              || reorder(p.small_reorder, small_k, small);
    } else if (kind == BACKWARD_DATA) {
        failed = execute(p.weights_reorder, l.stream, {{DNNL_ARG_FROM, weights}, {DNNL_ARG_TO, inner}}, true)
              || reorder(p.small_reorder, small, small_k)
              || execute(p.conv, l.stream, {{DNNL_ARG_DIFF_SRC, big_k}, {DNNL_ARG_WEIGHTS, inner}, {DNNL_ARG_DIFF_DST, small_k}, {DNNL_ARG_SCRATCHPAD, scratch}}, tiny)
              || reorder(p.big_reorder, big_k, big);
    } else {
        failed = reorder(p.big_reorder, big, big_k)
              || reorder(p.small_reorder, small, small_k)
              || execute(p.conv, l.stream, {{DNNL_ARG_SRC, big_k}, {DNNL_ARG_DIFF_WEIGHTS, inner}, {DNNL_ARG_DIFF_DST, small_k}, {DNNL_ARG_SCRATCHPAD, scratch}}, tiny)
              || execute(p.weights_reorder, l.stream, {{DNNL_ARG_FROM, inner}, {DNNL_ARG_TO, weights}}, true);
    }
    if (failed) {
        std::fprintf(stderr, "singan conv: a convolution of kind %d failed\n", int(kind));
        return 1;
    }
    CHECK(dnnl_stream_wait(l.stream));
    return 0;
}

bool three_4d(int nparam, const int *ndims) {
    return nparam == 3 && ndims[0] == 4 && ndims[1] == 4 && ndims[2] == 4;
}

}  // namespace

extern "C" {

// Run this thread's later convolutions in the thread itself (on), or as their size says (off).
void SinganConvSerial(int on) { local().serial = on != 0; }

int SinganConvForward(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (!three_4d(nparam, ndims)) return 1;  // x, w -> y
    return run(FORWARD, shapes[0], shapes[1], params[0], params[1], params[2]);
}

int SinganConvBackwardData(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (!three_4d(nparam, ndims)) return 1;  // dy, w -> dx
    return run(BACKWARD_DATA, shapes[2], shapes[1], params[2], params[1], params[0]);
}

int SinganConvBackwardWeights(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (!three_4d(nparam, ndims)) return 1;  // x, dy -> dw
    return run(BACKWARD_WEIGHTS, shapes[0], shapes[2], params[0], params[2], params[1]);
}

}  // extern "C"
