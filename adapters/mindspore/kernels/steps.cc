// Train steps as single MindSpore "aot" ops, composed from the library's own kernels (conv.cc,
// batchnorm.cc, activation.cc): the WGAN-GP critic step's loss and gradients, the official
// generator steps' record pass, and the official generator step's gradients (the adversarial
// gradient through the saved graph plus the reconstruction's).
//
// Why this exists: compiled, the critic step's autodiff graph (three critic passes, the penalty's
// input gradient and that gradient's own backward pass, Adam) is about 700 nodes. MindSpore spends
// 3-4 ms compiling each node (2.0 s a scale) and 10-15 us launching each one (a third of a critic
// step at 25x38). Here the same arithmetic is one node, written out in the order PyTorch's autograd
// runs it; the graphs around them keep the generator's pass that makes the critic's fake, the
// running statistics' assignments and Adam (adapters/mindspore/steps.py: NativeCriticStep,
// NativeRecordedFake, NativeStaleStep). B is the number of conv blocks before the tail; each op
// has one entry point per B (MindSpore keeps an op's registration by name). The critic step and
// the generator step each have two independent tasks, which run on two threads when the
// convolutions are small (in_parallel). Their maps are kept from call to call in two workspaces,
// freed by SinganStepsRelease when a scale ends.
//
//   SinganCriticStep<B>(real, fake, alpha, settings, [w, b, gamma, beta, mean, var] x B, w_tail, b_tail)
//     -> terms, [dw, db, dgamma, dbeta] x B, dw_tail, db_tail, [mean, var] x B
// settings = (penalty weight, LeakyReLU slope, the running statistics' weight of a new batch);
// terms = (loss, mean D(real), mean D(fake), penalty), where
//   loss = mean D(fake) - mean D(real) + weight * mean over pixels of (|grad_x D(mix)| - 1)^2,
//   mix = alpha real + (1 - alpha) fake, the norm over channels, grad_x D the gradient of sum D.
// The running statistics come out updated by the passes over real, fake and mix, in that order.
//
// The critic is B blocks (3x3 conv + bias, BatchNorm from the batch, LeakyReLU) and a tail conv.
// The penalty's weight gradient differentiates the input-gradient pass once more; in the order of
// that pass's own backward (block 0 first), for block i with saved conv output c, BatchNorm
// output y, incoming data gradient h and the pass's intermediates gy = lrelu'(y) h_{i+1},
// gc = BNgrad(gy, c), h_i = conv_data(gc, w):
//   u_gc = conv(u_h, w),  dw += conv_weights(u_h, gc)           (the adjoint of conv_data)
//   (u_gy, u_c, dgamma) = BNgradgrad(gy, c, gamma, u_gc, 0, 0)   (batchnorm.cc's formulas)
//   u_h = lrelu'(y) u_gy                                          (the slope's mask is flat in y)
// and dw_tail += conv_weights(u_h, ones) at the end. The u_c reach the weights through the mix
// pass's forward: a backward pass through it that starts at zero and takes in u_c at every block.
#include <malloc.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
void SinganConvSerial(int on);
int SinganConvForward(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganConvBackwardData(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganConvBackwardWeights(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganBatchNorm(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganBatchNormGrad(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganBatchNormGradGrad(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganLeakyRelu(int, void **, int *, int64_t **, const char **, void *, void *);
int SinganLeakyReluGrad(int, void **, int *, int64_t **, const char **, void *, void *);
}

namespace {

constexpr int FIXED_INPUTS = 4;      // real, fake, alpha, settings
constexpr int BLOCK_INPUTS = 6;      // w, b, gamma, beta, running mean, running variance
constexpr int BLOCK_GRADS = 4;       // dw, db, dgamma, dbeta
constexpr int BLOCK_STATS = 2;       // running mean, running variance
constexpr double PENALTY_EPS = 1e-12;  // inside the norm's sqrt, as losses.py

// A float32 NCHW map (or a vector, with the trailing dimensions 1) over a buffer of its own, or
// over one of the op's inputs (``over``: read only).
struct Map {
    std::vector<float> data;
    const float *outside = nullptr;
    int64_t shape[4] = {1, 1, 1, 1};
    void resize(int64_t n, int64_t c, int64_t h, int64_t w) {
        shape[0] = n, shape[1] = c, shape[2] = h, shape[3] = w;
        outside = nullptr;
        data.resize(size_t(n * c * h * w));
    }
    void over(const float *input, const int64_t *input_shape) {
        outside = input;
        for (int i = 0; i < 4; ++i) shape[i] = input_shape[i];
    }
    int64_t size() const { return shape[0] * shape[1] * shape[2] * shape[3]; }
    float *ptr() { return data.data(); }
    const float *cptr() const { return outside ? outside : data.data(); }
};

// A view of an input or output of the op.
struct View {
    float *data;
    int64_t *shape;
    int ndim;
};

int conv_forward(const Map &x, const View &w, Map &y) {
    y.resize(x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1);
    void *p[3] = {const_cast<float *>(x.cptr()), w.data, y.ptr()};
    int nd[3] = {4, 4, 4};
    int64_t *s[3] = {const_cast<int64_t *>(x.shape), w.shape, y.shape};
    return SinganConvForward(3, p, nd, s, nullptr, nullptr, nullptr);
}

int conv_data(const Map &dy, const View &w, Map &dx) {
    dx.resize(dy.shape[0], w.shape[1], dy.shape[2] + w.shape[2] - 1, dy.shape[3] + w.shape[3] - 1);
    void *p[3] = {const_cast<float *>(dy.cptr()), w.data, dx.ptr()};
    int nd[3] = {4, 4, 4};
    int64_t *s[3] = {const_cast<int64_t *>(dy.shape), w.shape, dx.shape};
    return SinganConvBackwardData(3, p, nd, s, nullptr, nullptr, nullptr);
}

// dw += the weight gradient of a conv with input x and output gradient dy.
int conv_weights_add(const Map &x, const Map &dy, const View &w, float *dw, Map &scratch) {
    scratch.resize(w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    void *p[3] = {const_cast<float *>(x.cptr()), const_cast<float *>(dy.cptr()), scratch.ptr()};
    int nd[3] = {4, 4, 4};
    int64_t *s[3] = {const_cast<int64_t *>(x.shape), const_cast<int64_t *>(dy.shape), scratch.shape};
    if (SinganConvBackwardWeights(3, p, nd, s, nullptr, nullptr, nullptr)) return 1;
    for (int64_t i = 0; i < scratch.size(); ++i) dw[i] += scratch.data[i];
    return 0;
}

void add_bias(Map &y, const float *b) {
    const int64_t p = y.shape[2] * y.shape[3];
    for (int64_t n = 0; n < y.shape[0]; ++n)
        for (int64_t c = 0; c < y.shape[1]; ++c) {
            float *row = y.ptr() + (n * y.shape[1] + c) * p;
            for (int64_t i = 0; i < p; ++i) row[i] += b[c];
        }
}

// db += the per-channel sums of dy.
void bias_grad_add(const Map &dy, float *db) {
    const int64_t p = dy.shape[2] * dy.shape[3];
    for (int64_t c = 0; c < dy.shape[1]; ++c) {
        double sum = 0;
        for (int64_t n = 0; n < dy.shape[0]; ++n) {
            const float *row = dy.cptr() + (n * dy.shape[1] + c) * p;
            for (int64_t i = 0; i < p; ++i) sum += row[i];
        }
        db[c] += float(sum);
    }
}

struct Block {
    View w, b, gamma, beta, mean, var;
};

struct Grads {
    float *dw, *db, *dgamma, *dbeta;
};

// One critic pass's saved values: each block's input a, conv output c and BatchNorm output y,
// the tail's input a.back(), the score map.
struct Pass {
    std::vector<Map> a, c, y;
    Map out;
    std::vector<std::vector<float>> mean, var;  // each block's batch statistics (biased variance)
};

struct Workspace {
    Pass pass, saved;
    Map seed;
    std::vector<std::vector<float>> store;  // a task's own gradients (private_grads)
    std::vector<Map> gy, gc;  // the mix pass's input-gradient intermediates
    Map g, g2, u, u2, tmp, dw, ones;
    std::vector<Map> inject;
    std::vector<float> dgamma, dbeta;
};

// Two workspaces, one per task of a step (run_tasks); each grows to the largest scale. One step
// runs at a time.
Workspace &workspace(int task) {
    static Workspace w[2];
    return w[task];
}

int batchnorm(const Map &x, const Block &blk, Map &y, std::vector<float> &mean, std::vector<float> &var) {
    y.resize(x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    mean.resize(size_t(x.shape[1]));
    var.resize(size_t(x.shape[1]));
    int64_t vshape[1] = {x.shape[1]};
    void *p[6] = {const_cast<float *>(x.cptr()), blk.gamma.data, blk.beta.data, y.ptr(), mean.data(), var.data()};
    int nd[6] = {4, 1, 1, 4, 1, 1};
    int64_t *s[6] = {const_cast<int64_t *>(x.shape), vshape, vshape, y.shape, vshape, vshape};
    return SinganBatchNorm(6, p, nd, s, nullptr, nullptr, nullptr);
}

// (dx, dgamma, dbeta) of BatchNorm at x for output gradient dy.
int batchnorm_grad(const Map &dy, const Map &x, const Block &blk, Map &dx, float *dgamma, float *dbeta) {
    dx.resize(x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    int64_t vshape[1] = {x.shape[1]};
    void *p[6] = {const_cast<float *>(dy.cptr()), const_cast<float *>(x.cptr()), blk.gamma.data, dx.ptr(), dgamma, dbeta};
    int nd[6] = {4, 4, 1, 4, 1, 1};
    int64_t *s[6] = {const_cast<int64_t *>(dy.shape), const_cast<int64_t *>(x.shape), vshape, dx.shape, vshape, vshape};
    return SinganBatchNormGrad(6, p, nd, s, nullptr, nullptr, nullptr);
}

int leaky(const Map &x, float *slope, Map &y) {
    y.resize(x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    int64_t one[1] = {1};
    void *p[3] = {const_cast<float *>(x.cptr()), slope, y.ptr()};
    int nd[3] = {4, 1, 4};
    int64_t *s[3] = {const_cast<int64_t *>(x.shape), one, y.shape};
    return SinganLeakyRelu(3, p, nd, s, nullptr, nullptr, nullptr);
}

int leaky_grad(const Map &x, const Map &dy, float *slope, Map &dx) {
    dx.resize(x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    int64_t one[1] = {1};
    void *p[4] = {const_cast<float *>(x.cptr()), const_cast<float *>(dy.cptr()), slope, dx.ptr()};
    int nd[4] = {4, 4, 1, 4};
    int64_t *s[4] = {const_cast<int64_t *>(x.shape), const_cast<int64_t *>(dy.shape), one, dx.shape};
    return SinganLeakyReluGrad(4, p, nd, s, nullptr, nullptr, nullptr);
}

struct Net {
    std::vector<Block> blocks;
    View w_tail, b_tail;
    float slope;
};

int forward(const Net &net, const float *x, const int64_t *x_shape, Pass &pass) {
    const size_t depth = net.blocks.size();
    pass.a.resize(depth + 1);
    pass.c.resize(depth);
    pass.y.resize(depth);
    pass.mean.resize(depth);
    pass.var.resize(depth);
    Map &in = pass.a[0];
    in.resize(x_shape[0], x_shape[1], x_shape[2], x_shape[3]);
    std::memcpy(in.ptr(), x, sizeof(float) * size_t(in.size()));
    float slope = net.slope;
    for (size_t i = 0; i < depth; ++i) {
        const Block &blk = net.blocks[i];
        if (conv_forward(pass.a[i], blk.w, pass.c[i])) return 1;
        add_bias(pass.c[i], blk.b.data);
        if (batchnorm(pass.c[i], blk, pass.y[i], pass.mean[i], pass.var[i])) return 1;
        if (leaky(pass.y[i], &slope, pass.a[i + 1])) return 1;
    }
    if (conv_forward(pass.a[depth], net.w_tail, pass.out)) return 1;
    add_bias(pass.out, net.b_tail.data);
    return 0;
}

double mean_of(const Map &m) {
    double sum = 0;
    const float *v = m.cptr();
    for (int64_t i = 0; i < m.size(); ++i) sum += v[i];
    return sum / double(m.size());
}

// Accumulate into grads the weight gradients of a pass for score-map gradient g_out (nullptr: a
// pass whose score does not enter the loss) plus, when inject is given, a gradient taken in at
// every block's conv output.
int backward(const Net &net, Pass &pass, const Map *g_out, const std::vector<Map> *inject, std::vector<Grads> &grads,
             Grads &tail, Workspace &ws) {
    const size_t depth = net.blocks.size();
    float slope = net.slope;
    bool have_g = g_out != nullptr;
    if (have_g) {
        if (conv_weights_add(pass.a[depth], *g_out, net.w_tail, tail.dw, ws.dw)) return 1;
        bias_grad_add(*g_out, tail.db);
        if (conv_data(*g_out, net.w_tail, ws.g)) return 1;
    }
    for (size_t k = depth; k-- > 0;) {
        const Block &blk = net.blocks[k];
        Map *gc = &ws.tmp;
        if (have_g) {
            if (leaky_grad(pass.y[k], ws.g, &slope, ws.g2)) return 1;
            ws.dgamma.resize(size_t(blk.gamma.shape[0]));
            ws.dbeta.resize(size_t(blk.gamma.shape[0]));
            if (batchnorm_grad(ws.g2, pass.c[k], blk, ws.tmp, ws.dgamma.data(), ws.dbeta.data())) return 1;
            for (int64_t ch = 0; ch < blk.gamma.shape[0]; ++ch) {
                grads[k].dgamma[ch] += ws.dgamma[size_t(ch)];
                grads[k].dbeta[ch] += ws.dbeta[size_t(ch)];
            }
            if (inject) {
                const Map &add = (*inject)[k];
                for (int64_t i = 0; i < ws.tmp.size(); ++i) ws.tmp.data[i] += add.data[i];
            }
        } else {
            gc = const_cast<Map *>(&(*inject)[k]);  // nothing above this block: only what is taken in
        }
        if (conv_weights_add(pass.a[k], *gc, blk.w, grads[k].dw, ws.dw)) return 1;
        bias_grad_add(*gc, grads[k].db);
        if (k > 0) {
            if (conv_data(*gc, blk.w, ws.g)) return 1;
            have_g = true;
        }
    }
    return 0;
}

// The running statistics after one pass: (1 - new) old + new batch, the variance unbiased.
void follow(const Pass &pass, const Net &net, float new_weight, std::vector<View> &mean_out, std::vector<View> &var_out) {
    for (size_t i = 0; i < net.blocks.size(); ++i) {
        const Map &c = pass.c[i];
        const double count = double(c.shape[0] * c.shape[2] * c.shape[3]);
        const float unbias = float(count / (count > 1 ? count - 1 : 1));
        for (int64_t ch = 0; ch < c.shape[1]; ++ch) {
            float &m = mean_out[i].data[ch];
            float &v = var_out[i].data[ch];
            m = (1.0f - new_weight) * m + new_weight * pass.mean[i][size_t(ch)];
            v = (1.0f - new_weight) * v + new_weight * (pass.var[i][size_t(ch)] * unbias);
        }
    }
}

void fill(Map &m, const int64_t *shape, float value) {
    m.resize(shape[0], shape[1], shape[2], shape[3]);
    for (float &v : m.data) v = value;
}

// The gradient and running-statistics outputs, from index ``at``; returns the index after them.
int outputs(void **params, int *ndims, int64_t **shapes, int at, int depth, std::vector<Grads> &grads, Grads &tail,
            std::vector<View> &mean_out, std::vector<View> &var_out) {
    for (int i = 0; i < depth; ++i, at += BLOCK_GRADS) {
        grads.push_back({static_cast<float *>(params[at]), static_cast<float *>(params[at + 1]),
                         static_cast<float *>(params[at + 2]), static_cast<float *>(params[at + 3])});
    }
    tail = {static_cast<float *>(params[at]), static_cast<float *>(params[at + 1]), nullptr, nullptr};
    at += 2;
    for (int i = 0; i < depth; ++i, at += BLOCK_STATS) {
        mean_out.push_back({static_cast<float *>(params[at]), shapes[at], ndims[at]});
        var_out.push_back({static_cast<float *>(params[at + 1]), shapes[at + 1], ndims[at + 1]});
    }
    return at;
}

int64_t count_of(const View &v) {
    int64_t n = 1;
    for (int i = 0; i < v.ndim; ++i) n *= v.shape[i];
    return n;
}

// Gradients start at zero, the running statistics at their current values.
void start(const Net &net, std::vector<Grads> &grads, Grads &tail, std::vector<View> &mean_out, std::vector<View> &var_out) {
    for (size_t i = 0; i < net.blocks.size(); ++i) {
        const Block &blk = net.blocks[i];
        std::memset(grads[i].dw, 0, sizeof(float) * size_t(count_of(blk.w)));
        std::memset(grads[i].db, 0, sizeof(float) * size_t(count_of(blk.b)));
        std::memset(grads[i].dgamma, 0, sizeof(float) * size_t(count_of(blk.gamma)));
        std::memset(grads[i].dbeta, 0, sizeof(float) * size_t(count_of(blk.beta)));
        std::memcpy(mean_out[i].data, blk.mean.data, sizeof(float) * size_t(count_of(blk.mean)));
        std::memcpy(var_out[i].data, blk.var.data, sizeof(float) * size_t(count_of(blk.var)));
    }
    std::memset(tail.dw, 0, sizeof(float) * size_t(count_of(net.w_tail)));
    std::memset(tail.db, 0, sizeof(float) * size_t(count_of(net.b_tail)));
}

// A net's parameters from the op's input ``at`` on: [w, b, gamma, beta, mean, var] per block,
// then the tail's w and b. Returns the index after them.
int read_net(void **params, int *ndims, int64_t **shapes, int at, int depth, float slope, Net &net) {
    auto view = [&](int i) { return View{static_cast<float *>(params[i]), shapes[i], ndims[i]}; };
    net.slope = slope;
    for (int i = 0; i < depth; ++i, at += BLOCK_INPUTS)
        net.blocks.push_back({view(at), view(at + 1), view(at + 2), view(at + 3), view(at + 4), view(at + 5)});
    net.w_tail = view(at);
    net.b_tail = view(at + 1);
    return at + 2;
}

// A step's outputs after its terms: the gradients and the running statistics, set to zero and to
// the current statistics (start).
struct StepOutputs {
    std::vector<Grads> grads;
    Grads tail;
    std::vector<View> mean, var;
};

// Reads them from index ``at`` (the terms first); false unless they end the op's parameters.
bool step_outputs(const Net &net, int nparam, void **params, int *ndims, int64_t **shapes, int at, float *&terms,
                  StepOutputs &o) {
    terms = static_cast<float *>(params[at++]);
    at = outputs(params, ndims, shapes, at, int(net.blocks.size()), o.grads, o.tail, o.mean, o.var);
    if (at != nparam) return false;
    start(net, o.grads, o.tail, o.mean, o.var);
    return true;
}

// Gradient buffers of the net's shapes in ws, zeroed, for a task that runs beside another.
void private_grads(const Net &net, Workspace &ws, std::vector<Grads> &grads, Grads &tail) {
    ws.store.resize(4 * net.blocks.size() + 2);
    size_t at = 0;
    auto take = [&](const View &like) {
        std::vector<float> &buffer = ws.store[at++];
        buffer.assign(size_t(count_of(like)), 0.0f);
        return buffer.data();
    };
    grads.clear();
    for (const Block &blk : net.blocks) {
        float *dw = take(blk.w), *db = take(blk.b), *dgamma = take(blk.gamma), *dbeta = take(blk.beta);
        grads.push_back({dw, db, dgamma, dbeta});
    }
    float *dw = take(net.w_tail), *db = take(net.b_tail);
    tail = {dw, db, nullptr, nullptr};
}

// into += from, gradient by gradient.
void add_grads(const Net &net, const std::vector<Grads> &from, const Grads &from_tail, std::vector<Grads> &into, Grads &into_tail) {
    auto add = [](float *to, const float *add, int64_t n) {
        for (int64_t i = 0; i < n; ++i) to[i] += add[i];
    };
    for (size_t i = 0; i < net.blocks.size(); ++i) {
        const Block &blk = net.blocks[i];
        add(into[i].dw, from[i].dw, count_of(blk.w));
        add(into[i].db, from[i].db, count_of(blk.b));
        add(into[i].dgamma, from[i].dgamma, count_of(blk.gamma));
        add(into[i].dbeta, from[i].dbeta, count_of(blk.beta));
    }
    add(into_tail.dw, from_tail.dw, count_of(net.w_tail));
    add(into_tail.db, from_tail.db, count_of(net.b_tail));
}

// Whether a step's two tasks run on two threads, each convolution in its task's thread: when the
// process has two threads or more and the net's largest convolution at this input is below 1000
// million FLOPs (or SINGAN_NATIVE_STEPS_MFLOP, if lower: 0 runs the tasks in turn). There, waking
// oneDNN's second thread for each convolution (about 60 a critic step) costs more than it saves:
// a critic step took 15 ms against 29 ms at 43x64 with 32 channels, 46 against 66 ms at 84x96.
// Above it, each convolution uses every thread and the tasks run in turn, holding one task's maps
// at a time: the two tasks are unequal (the penalty's pass is the heavier), and at 112x128 with 64
// channels (1.2 GFLOP a conv) an iteration took 1.39-1.42 s in turn against 1.49-1.50 s on two
// threads, the generator steps 0.16 against 0.17-0.18 s; at 88x100 (0.8 GFLOP) two threads were
// still ahead, 0.82 against 0.92 s
// (`benchmarks/bench.py --image hubble_deep_field.jpg --max-size 128`, 2026-12-05, Xeon with
// AVX-512, 2 cores).
bool in_parallel(const Net &net, const int64_t *input) {
    static const double below = [] {
        const char *v = std::getenv("SINGAN_NATIVE_STEPS_MFLOP");
        const double native = v ? std::atof(v) : 2000.0;
        return (native < 1000.0 ? native : 1000.0) * 1e6;
    }();
    if (omp_get_max_threads() < 2) return false;
    int64_t h = input[2], w = input[3];
    double largest = 0;
    auto conv = [&](const View &weights) {
        h -= weights.shape[2] - 1;
        w -= weights.shape[3] - 1;
        const double flops = 2.0 * double(input[0]) * double(count_of(weights)) * double(h) * double(w);
        largest = flops > largest ? flops : largest;
    };
    for (const Block &blk : net.blocks) conv(blk.w);
    conv(net.w_tail);
    return largest < below;
}

// a() then b(), or both at once on two threads; non-zero if either failed.
template <typename A, typename B>
int run_tasks(bool parallel, A &&a, B &&b) {
    if (!parallel) return a() || b();
    int failed_a = 0, failed_b = 0;
#pragma omp parallel sections num_threads(2)
    {
#pragma omp section
        {
            SinganConvSerial(1);
            failed_a = a();
            SinganConvSerial(0);
        }
#pragma omp section
        {
            SinganConvSerial(1);
            failed_b = b();
            SinganConvSerial(0);
        }
    }
    return failed_a || failed_b;
}

// The gradient at a pass's input of sum(seed * score map), into ws.g: the data backward through
// the net, keeping each block's gy = lrelu'(y) h and gc = BNgrad(gy, c) in ws.gy, ws.gc (what
// the penalty's own backward needs).
int input_gradient(const Net &net, const Pass &pass, const Map &seed, Workspace &ws) {
    const size_t depth = net.blocks.size();
    float slope = net.slope;
    ws.gy.resize(depth);
    ws.gc.resize(depth);
    if (conv_data(seed, net.w_tail, ws.g)) return 1;
    for (size_t k = depth; k-- > 0;) {
        const Block &blk = net.blocks[k];
        if (leaky_grad(pass.y[k], ws.g, &slope, ws.gy[k])) return 1;
        ws.dgamma.resize(size_t(blk.gamma.shape[0]));  // BatchNorm's own gradients: unused here
        ws.dbeta.resize(size_t(blk.gamma.shape[0]));
        if (batchnorm_grad(ws.gy[k], pass.c[k], blk, ws.gc[k], ws.dgamma.data(), ws.dbeta.data())) return 1;
        if (conv_data(ws.gc[k], blk.w, ws.g)) return 1;
    }
    return 0;
}

// The penalty's pass over the mix: its forward, the gradient of sum D at the mix (keeping what
// that gradient's own backward needs), the penalty, and its weight gradients into grads and tail.
// The pass's batch statistics stay in ws.pass for the caller's running averages.
int penalty_pass(const Net &net, const View &real, const View &fake, float alpha, float weight, Workspace &ws,
                 std::vector<Grads> &grads, Grads &tail, double &penalty) {
    const int depth = int(net.blocks.size());
    Pass &pass = ws.pass;
    // The penalty: the mix's forward, then the gradient of sum D at the mix, keeping what its own
    // backward needs.
    Map &mix = ws.u;
    mix.resize(real.shape[0], real.shape[1], real.shape[2], real.shape[3]);
    for (int64_t i = 0; i < mix.size(); ++i) mix.data[i] = alpha * real.data[i] + (1.0f - alpha) * fake.data[i];
    if (forward(net, mix.ptr(), mix.shape, pass)) return 1;
    float slope = net.slope;
    fill(ws.ones, pass.out.shape, 1.0f);
    if (input_gradient(net, pass, ws.ones, ws)) return 1;
    // ws.g: the input gradient (n, 3, h, w). The penalty and its gradient u at it.
    const Map &grad = ws.g;
    const int64_t n = grad.shape[0], channels = grad.shape[1], pixels = grad.shape[2] * grad.shape[3];
    const double count = double(n * pixels);
    Map &u = ws.u;  // the mix is no longer needed
    u.resize(grad.shape[0], grad.shape[1], grad.shape[2], grad.shape[3]);
    penalty = 0;
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t i = 0; i < pixels; ++i) {
            double sq = 0;
            for (int64_t ch = 0; ch < channels; ++ch) {
                const double v = grad.data[size_t((b * channels + ch) * pixels + i)];
                sq += v * v;
            }
            const double norm = std::sqrt(sq + PENALTY_EPS);
            penalty += (norm - 1.0) * (norm - 1.0);
            const double scale = weight * 2.0 * (norm - 1.0) / norm / count;
            for (int64_t ch = 0; ch < channels; ++ch) {
                const size_t at = size_t((b * channels + ch) * pixels + i);
                u.data[at] = float(scale * grad.data[at]);
            }
        }
    }
    penalty /= count;
    // The input-gradient pass's own backward, block 0 first.
    ws.inject.resize(size_t(depth));
    for (int k = 0; k < depth; ++k) {
        const Block &blk = net.blocks[size_t(k)];
        const Map &gy = ws.gy[size_t(k)], &gc = ws.gc[size_t(k)], &c = pass.c[size_t(k)];
        if (conv_forward(u, blk.w, ws.u2)) return 1;  // u of gc
        if (conv_weights_add(u, gc, blk.w, grads[size_t(k)].dw, ws.dw)) return 1;
        Map &u_gy = ws.tmp, &u_c = ws.inject[size_t(k)];
        u_gy.resize(gy.shape[0], gy.shape[1], gy.shape[2], gy.shape[3]);
        u_c.resize(c.shape[0], c.shape[1], c.shape[2], c.shape[3]);
        const int64_t channels_k = blk.gamma.shape[0];
        std::vector<float> zeros(size_t(channels_k), 0.0f);
        std::vector<float> ddgamma(static_cast<size_t>(channels_k));
        int64_t vshape[1] = {channels_k};
        void *p[9] = {const_cast<float *>(gy.cptr()), const_cast<float *>(c.cptr()), blk.gamma.data, ws.u2.ptr(),
                      zeros.data(), zeros.data(), u_gy.ptr(), u_c.ptr(), ddgamma.data()};
        int nd[9] = {4, 4, 1, 4, 1, 1, 4, 4, 1};
        int64_t *s[9] = {const_cast<int64_t *>(gy.shape), const_cast<int64_t *>(c.shape), vshape, ws.u2.shape,
                         vshape, vshape, u_gy.shape, u_c.shape, vshape};
        if (SinganBatchNormGradGrad(9, p, nd, s, nullptr, nullptr, nullptr)) return 1;
        for (int64_t ch = 0; ch < channels_k; ++ch) grads[size_t(k)].dgamma[ch] += ddgamma[size_t(ch)];
        if (leaky_grad(pass.y[size_t(k)], u_gy, &slope, u)) return 1;  // u of the next block's h
    }
    if (conv_weights_add(u, ws.ones, net.w_tail, tail.dw, ws.dw)) return 1;
    // What the penalty's backward took in at each conv output, through the mix pass's forward.
    if (backward(net, pass, nullptr, &ws.inject, grads, tail, ws)) return 1;

    return 0;
}

int critic_step(int nparam, void **params, int *ndims, int64_t **shapes) {
    const int rest = nparam - FIXED_INPUTS - 2 - 1 - 2;  // minus the tail's two inputs, terms, tail's grads
    const int per_block = BLOCK_INPUTS + BLOCK_GRADS + BLOCK_STATS;
    if (rest < per_block || rest % per_block != 0) return 1;
    const int depth = rest / per_block;
    auto view = [&](int i) { return View{static_cast<float *>(params[i]), shapes[i], ndims[i]}; };
    const View real = view(0), fake = view(1);
    const float alpha = *static_cast<float *>(params[2]);
    const float *settings = static_cast<float *>(params[3]);
    const float weight = settings[0], new_weight = settings[2];
    if (real.ndim != 4 || fake.ndim != 4) return 1;
    Net net;
    const int at = read_net(params, ndims, shapes, FIXED_INPUTS, depth, settings[1], net);
    float *terms = nullptr;
    StepOutputs o;
    if (!step_outputs(net, nparam, params, ndims, shapes, at, terms, o)) return 1;
    std::vector<Grads> &grads = o.grads;
    Grads &tail = o.tail;
    std::vector<View> &mean_out = o.mean, &var_out = o.var;

    // Two tasks, on two threads when the step is small (see in_parallel): the real and fake
    // passes, and the penalty's pass over the mix, each with its own workspace; the mix's
    // gradients go to the second workspace's buffers and are added after both are done.
    const bool parallel = in_parallel(net, real.shape);
    Workspace &ws = workspace(0), &wm = workspace(parallel ? 1 : 0);  // in turn, one set of maps
    std::vector<Grads> mix_grads;
    Grads mix_tail;
    private_grads(net, wm, mix_grads, mix_tail);
    double score[2], penalty = 0;
    auto real_and_fake = [&]() -> int {
        // -mean D(real) and +mean D(fake): each pass's backward from a constant score gradient.
        Pass &pass = ws.pass;
        const View *inputs[2] = {&real, &fake};
        for (int which = 0; which < 2; ++which) {
            if (forward(net, inputs[which]->data, inputs[which]->shape, pass)) return 1;
            follow(pass, net, new_weight, mean_out, var_out);
            score[which] = mean_of(pass.out);
            fill(ws.ones, pass.out.shape, float((which == 0 ? -1.0 : 1.0) / double(pass.out.size())));
            if (backward(net, pass, &ws.ones, nullptr, grads, tail, ws)) return 1;
        }
        return 0;
    };
    auto mix_pass = [&]() -> int { return penalty_pass(net, real, fake, alpha, weight, wm, mix_grads, mix_tail, penalty); };
    if (run_tasks(parallel, real_and_fake, mix_pass)) return 1;
    follow(wm.pass, net, new_weight, mean_out, var_out);  // the mix's statistics come last
    add_grads(net, mix_grads, mix_tail, grads, tail);

    terms[1] = float(score[0]);
    terms[2] = float(score[1]);
    terms[3] = float(penalty);
    terms[0] = float(score[1] - score[0] + weight * penalty);
    return 0;
}

}  // namespace

// The official generator steps' record pass (steps.py, RecordedFake): the generator's train-mode
// pass from the batch statistics (its running statistics untouched, as the official makes this
// pass once, in the critic step), the fake, the critic's score of it and that score's gradient at
// the fake, and what a backward pass through the generator needs, as autograd saves it.
//   SinganRecordFake<B>(padded x, prev, settings, [generator: w, b, gamma, beta, mean, var] x B,
//                       w_tail, b_tail, [critic: the same] x B, w_tail, b_tail)
//     -> -mean D(fake), d/dfake, [block input] x (B + 1), [conv output] x B, [BatchNorm output] x B,
//        tanh output, [critic running mean, var] x B (one update, from the pass over the fake)
// settings = (LeakyReLU slope, the running statistics' weight of a new batch). wgan-gp only.
int record_fake(int nparam, void **params, int *ndims, int64_t **shapes, int depth) {
    auto view = [&](int i) { return View{static_cast<float *>(params[i]), shapes[i], ndims[i]}; };
    const View x = view(0), prev = view(1);
    const float *settings = static_cast<float *>(params[2]);
    const float new_weight = settings[1];
    int at = 3;
    Net nets[2];
    for (Net &net : nets) at = read_net(params, ndims, shapes, at, depth, settings[0], net);
    const Net &generator = nets[0], &critic = nets[1];
    float *loss = static_cast<float *>(params[at++]);
    float *at_fake = static_cast<float *>(params[at++]);
    const int saved_at = at;
    at += 3 * depth + 2;
    std::vector<View> mean_out, var_out;
    for (int i = 0; i < depth; ++i, at += BLOCK_STATS) {
        mean_out.push_back(view(at));
        var_out.push_back(view(at + 1));
    }
    if (at != nparam) return 1;
    for (int i = 0; i < depth; ++i) {
        const Block &blk = critic.blocks[size_t(i)];
        std::memcpy(mean_out[size_t(i)].data, blk.mean.data, sizeof(float) * size_t(count_of(blk.mean)));
        std::memcpy(var_out[size_t(i)].data, blk.var.data, sizeof(float) * size_t(count_of(blk.var)));
    }
    // One set of maps: the critic's pass reuses the generator's once its maps are copied out.
    Workspace &ws = workspace(0), &wd = ws;
    Pass &g = ws.pass;
    if (forward(generator, x.data, x.shape, g)) return 1;
    // The saved graph: the block inputs (the padded input first, the tail's input last), the conv
    // and BatchNorm outputs, then the fake's tanh; the fake itself goes on to the critic.
    auto put = [&](int index, const Map &m) { std::memcpy(params[index], m.cptr(), sizeof(float) * size_t(m.size())); };
    int out = saved_at;
    for (int i = 0; i <= depth; ++i) put(out++, g.a[size_t(i)]);
    for (int i = 0; i < depth; ++i) put(out++, g.c[size_t(i)]);
    for (int i = 0; i < depth; ++i) put(out++, g.y[size_t(i)]);
    float *t = static_cast<float *>(params[out]);
    Map &fake = ws.seed;
    fake.resize(prev.shape[0], prev.shape[1], prev.shape[2], prev.shape[3]);
    if (fake.size() != g.out.size()) return 1;
    for (int64_t i = 0; i < fake.size(); ++i) {
        t[i] = std::tanh(g.out.data[size_t(i)]);
        fake.data[size_t(i)] = t[i] + prev.data[i];
    }
    Pass &d = wd.pass;
    if (forward(critic, fake.ptr(), fake.shape, d)) return 1;
    follow(d, critic, new_weight, mean_out, var_out);
    *loss = float(-mean_of(d.out));
    // d(-mean D)/d fake: the critic's data backward from a constant score gradient.
    fill(wd.ones, d.out.shape, float(-1.0 / double(d.out.size())));
    if (input_gradient(critic, d, wd.ones, wd)) return 1;
    if (wd.g.size() != fake.size()) return 1;
    std::memcpy(at_fake, wd.g.cptr(), sizeof(float) * size_t(fake.size()));
    return 0;
}

#define SINGAN_RECORD_FAKE(depth)                                                                            \
    int SinganRecordFake##depth(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, \
                                void *) {                                                                    \
        if (nparam != 11 + 17 * (depth)) return 1;                                                           \
        return record_fake(nparam, params, ndims, shapes, depth);                                            \
    }

// The official generator step through the saved graph of the last critic step's fake (steps.py,
// RecordedFake and StaleStep): the adversarial gradient is a backward pass through that graph with
// the current weights (each weight gradient from a saved input, each input gradient through the
// current weights, BatchNorm's backward from the saved conv outputs), plus a fresh reconstruction
// pass, its loss and its backward; the running statistics take the reconstruction pass's update.
//   SinganGeneratorStep<B>(real, padded rec_x, rec_prev, at_fake, settings,
//                          [block input] x (B + 1), [conv output] x B, [BatchNorm output] x B, tanh output,
//                          [w, b, gamma, beta, mean, var] x B, w_tail, b_tail)
//     -> (weight * mse, mse), [dw, db, dgamma, dbeta] x B, dw_tail, db_tail, [mean, var] x B
// settings = (reconstruction weight, LeakyReLU slope, the running statistics' weight of a new batch).
constexpr int GENERATOR_FIXED = 5;

int generator_step(int nparam, void **params, int *ndims, int64_t **shapes, int depth) {
    auto view = [&](int i) { return View{static_cast<float *>(params[i]), shapes[i], ndims[i]}; };
    const View real = view(0), padded = view(1), rec_prev = view(2), at_fake = view(3);
    const float *settings = static_cast<float *>(params[4]);
    const float weight = settings[0], new_weight = settings[2];
    Pass &saved = workspace(0).saved;
    saved.a.resize(size_t(depth) + 1);
    saved.c.resize(size_t(depth));
    saved.y.resize(size_t(depth));
    int at = GENERATOR_FIXED;
    for (int i = 0; i <= depth; ++i, ++at) saved.a[size_t(i)].over(static_cast<float *>(params[at]), shapes[at]);
    for (int i = 0; i < depth; ++i, ++at) saved.c[size_t(i)].over(static_cast<float *>(params[at]), shapes[at]);
    for (int i = 0; i < depth; ++i, ++at) saved.y[size_t(i)].over(static_cast<float *>(params[at]), shapes[at]);
    const View t = view(at++);
    Net net;
    at = read_net(params, ndims, shapes, at, depth, settings[1], net);
    float *terms = nullptr;
    StepOutputs o;
    if (!step_outputs(net, nparam, params, ndims, shapes, at, terms, o)) return 1;
    std::vector<Grads> &grads = o.grads;
    Grads &tail = o.tail;
    std::vector<View> &mean_out = o.mean, &var_out = o.var;

    // Two tasks, on two threads when the step is small (in_parallel): the adversarial gradient
    // through the saved graph, d(-mean D)/d fake through the tanh; and the reconstruction,
    // weight * mean((tanh(G(padded)) + rec_prev - real)^2), its running statistics and backward,
    // into its own gradient buffers, added after both are done.
    const bool parallel = in_parallel(net, padded.shape);
    Workspace &wa = workspace(0), &wr = workspace(parallel ? 1 : 0);  // in turn, one set of maps
    std::vector<Grads> rec_grads;
    Grads rec_tail;
    private_grads(net, wr, rec_grads, rec_tail);
    double sum = 0, count = 1;
    auto adversarial = [&]() -> int {
        Map &seed = wa.seed;
        seed.resize(at_fake.shape[0], at_fake.shape[1], at_fake.shape[2], at_fake.shape[3]);
        for (int64_t i = 0; i < seed.size(); ++i) seed.data[size_t(i)] = at_fake.data[i] * (1.0f - t.data[i] * t.data[i]);
        return backward(net, saved, &seed, nullptr, grads, tail, wa);
    };
    auto reconstruction = [&]() -> int {
        Pass &pass = wr.pass;
        if (forward(net, padded.data, padded.shape, pass)) return 1;
        follow(pass, net, new_weight, mean_out, var_out);
        const Map &out = pass.out;
        Map &seed = wr.seed;
        seed.resize(out.shape[0], out.shape[1], out.shape[2], out.shape[3]);
        count = double(out.size());
        for (int64_t i = 0; i < out.size(); ++i) {
            const float tanh_out = std::tanh(out.data[size_t(i)]);
            const float diff = tanh_out + rec_prev.data[i] - real.data[i];
            sum += double(diff) * double(diff);
            seed.data[size_t(i)] = float(2.0 * weight * double(diff) / count) * (1.0f - tanh_out * tanh_out);
        }
        return backward(net, pass, &seed, nullptr, rec_grads, rec_tail, wr);
    };
    if (run_tasks(parallel, adversarial, reconstruction)) return 1;
    add_grads(net, rec_grads, rec_tail, grads, tail);
    const double mse = sum / count;
    terms[0] = float(weight * mse);
    terms[1] = float(mse);
    return 0;
}

#define SINGAN_GENERATOR_STEP(depth)                                                                         \
    int SinganGeneratorStep##depth(int nparam, void **params, int *ndims, int64_t **shapes, const char **,    \
                                   void *, void *) {                                                         \
        if (nparam != 12 + 15 * (depth)) return 1;                                                           \
        return generator_step(nparam, params, ndims, shapes, depth);                                         \
    }

// One entry point per depth (blocks before the tail): MindSpore keeps an op's registration (its
// inputs and outputs) by name, so critics of different depths need different names.
#define SINGAN_CRITIC_STEP(depth)                                                                            \
    int SinganCriticStep##depth(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, \
                                void *) {                                                                    \
        if (nparam != 9 + 12 * (depth)) return 1;                                                            \
        return critic_step(nparam, params, ndims, shapes);                                                   \
    }

// The generator in inference mode (the pyramid walk behind every sample and training's coarser
// inputs), on host arrays through ctypes (adapters/mindspore/inference.py), not as a MindSpore op:
//   SinganGenerate(x, prev, settings, [w, b, gamma, beta, mean, var] x B, w_tail, b_tail, out)
// settings = (LeakyReLU slope, BatchNorm eps); x, prev and out are (N, 3, H, W);
//   out = prev + tanh(tail(blocks(x zero-padded by the convs' total (k - 1) / 2 a side))),
// each block's BatchNorm from the running statistics, folded with the conv's bias into one
// per-channel scale and shift, and applied with the LeakyReLU in one pass over the conv's output.
// The graph of MindSpore ops it replaces ran a 64-channel generator at 40-50 GFLOP/s (each op's
// launch, output allocation and pass over memory); see README, "Sampling on the compiled kernels".
struct Inference {
    Map a, c;
};

constexpr size_t KEEP_BYTES = size_t(32) << 20;

// One per calling thread: ctypes lets Python threads call at once.
Inference &inference() {
    thread_local Inference w;
    return w;
}

// y = lrelu(c * scale + shift) per channel, in place.
void affine_leaky(Map &m, const std::vector<float> &scale, const std::vector<float> &shift, float slope) {
    const int64_t planes = m.shape[0] * m.shape[1], p = m.shape[2] * m.shape[3], channels = m.shape[1];
    float *data = m.ptr();
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < planes; ++plane) {
        const float a = scale[size_t(plane % channels)], b = shift[size_t(plane % channels)];
        float *row = data + plane * p;
        for (int64_t i = 0; i < p; ++i) {
            const float v = row[i] * a + b;
            row[i] = v > 0.0f ? v : v * slope;
        }
    }
}

int generate(int nparam, void **params, int *ndims, int64_t **shapes) {
    const int depth = (nparam - 6) / BLOCK_INPUTS;
    auto view = [&](int i) { return View{static_cast<float *>(params[i]), shapes[i], ndims[i]}; };
    std::vector<Block> blocks;
    int64_t pad_h = 0, pad_w = 0;
    for (int i = 0, at = 3; i < depth; ++i, at += BLOCK_INPUTS) {
        blocks.push_back({view(at), view(at + 1), view(at + 2), view(at + 3), view(at + 4), view(at + 5)});
        pad_h += (shapes[at][2] - 1) / 2, pad_w += (shapes[at][3] - 1) / 2;
    }
    const View w_tail = view(3 + depth * BLOCK_INPUTS), b_tail = view(4 + depth * BLOCK_INPUTS);
    pad_h += (w_tail.shape[2] - 1) / 2, pad_w += (w_tail.shape[3] - 1) / 2;
    const float *x = static_cast<const float *>(params[0]), *prev = static_cast<const float *>(params[1]);
    const float *settings = static_cast<const float *>(params[2]);
    float *out = static_cast<float *>(params[nparam - 1]);
    const int64_t *xs = shapes[0];
    const int64_t n = xs[0], ch = xs[1], h = xs[2], w = xs[3];
    Inference &ws = inference();
    Map &a = ws.a, &c = ws.c;
    a.resize(n, ch, h + 2 * pad_h, w + 2 * pad_w);
    const int64_t wide = a.shape[3];
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < n * ch; ++plane) {
        float *dst = a.ptr() + plane * a.shape[2] * wide;
        std::memset(dst, 0, sizeof(float) * size_t(a.shape[2] * wide));
        for (int64_t r = 0; r < h; ++r)
            std::memcpy(dst + (r + pad_h) * wide + pad_w, x + (plane * h + r) * w, sizeof(float) * size_t(w));
    }
    std::vector<float> scale, shift;
    for (const Block &blk : blocks) {
        if (conv_forward(a, blk.w, c)) return 1;
        const int64_t k = blk.w.shape[0];
        scale.resize(size_t(k));
        shift.resize(size_t(k));
        for (int64_t i = 0; i < k; ++i) {
            scale[size_t(i)] = blk.gamma.data[i] / std::sqrt(blk.var.data[i] + settings[1]);
            shift[size_t(i)] = blk.beta.data[i] + (blk.b.data[i] - blk.mean.data[i]) * scale[size_t(i)];
        }
        affine_leaky(c, scale, shift, settings[0]);
        std::swap(a, c);
    }
    if (conv_forward(a, w_tail, c)) return 1;
    if (c.shape[0] != n || c.shape[1] != ch || c.shape[2] != h || c.shape[3] != w) return 1;
    const int64_t p = h * w;
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < n * ch; ++plane) {
        const float bias = b_tail.data[plane % ch];
        const float *from = c.cptr() + plane * p, *below = prev + plane * p;
        float *to = out + plane * p;
        for (int64_t i = 0; i < p; ++i) to[i] = below[i] + std::tanh(from[i] + bias);
    }
    // Maps past KEEP_BYTES are not kept for the next call: there (the 128-channel scales) a call
    // is a sliver of an iteration, and held maps would add to the training's peak memory.
    if ((a.data.capacity() + c.data.capacity()) * sizeof(float) > KEEP_BYTES) ws = Inference();
    return 0;
}

extern "C" {

// Free the step kernels' maps (steps.py calls it when a scale's training ends, so a scale's maps
// are not held through the next scales, which may train on the autodiff graphs).
void SinganStepsRelease() {
    for (int task = 0; task < 2; ++task) workspace(task) = Workspace();
    inference() = Inference();  // the calling thread's
    // glibc keeps freed blocks below its (growing) mmap threshold in the heap: hand them back.
    malloc_trim(0);
}

SINGAN_CRITIC_STEP(1)
SINGAN_CRITIC_STEP(2)
SINGAN_CRITIC_STEP(3)
SINGAN_CRITIC_STEP(4)
SINGAN_CRITIC_STEP(5)
SINGAN_CRITIC_STEP(6)
SINGAN_CRITIC_STEP(7)
SINGAN_CRITIC_STEP(8)
SINGAN_GENERATOR_STEP(1)
SINGAN_GENERATOR_STEP(2)
SINGAN_GENERATOR_STEP(3)
SINGAN_GENERATOR_STEP(4)
SINGAN_GENERATOR_STEP(5)
SINGAN_GENERATOR_STEP(6)
SINGAN_GENERATOR_STEP(7)
SINGAN_GENERATOR_STEP(8)
SINGAN_RECORD_FAKE(1)
SINGAN_RECORD_FAKE(2)
SINGAN_RECORD_FAKE(3)
SINGAN_RECORD_FAKE(4)
SINGAN_RECORD_FAKE(5)
SINGAN_RECORD_FAKE(6)
SINGAN_RECORD_FAKE(7)
SINGAN_RECORD_FAKE(8)
int SinganGenerate(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (nparam < 6 + BLOCK_INPUTS || (nparam - 6) % BLOCK_INPUTS) return 1;
    for (int i = 0; i < nparam; ++i) {  // maps and conv weights 4-d, the rest vectors
        const bool vector = i == 2 || i == nparam - 2 || (i >= 3 && i < nparam - 3 && (i - 3) % BLOCK_INPUTS != 0);
        if (ndims[i] != (vector ? 1 : 4)) return 1;
    }
    return generate(nparam, params, ndims, shapes);
}

}  // extern "C"
