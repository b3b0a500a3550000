// Output shapes of the library's kernels, for MindSpore graphs whose inputs' height and width are
// left open (Cell.set_inputs with None): MindSpore then asks the library for each kernel's output
// shape at run time through `<Kernel>InferShape` (an "aot" op made with out_shape=None), once per
// launch whose input shapes changed; graphs of fixed shapes take their shapes from here too, once,
// when they compile (the ops are made in ../aot.py). A dimension still unknown (-1) stays unknown,
// an unknown rank (-2) stays unknown.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

using Shape = std::vector<int64_t>;
constexpr int64_t UNKNOWN_DIM = -1;
constexpr int64_t UNKNOWN_RANK = -2;

Shape input(const int *ndims, int64_t **shapes, int i) { return Shape(shapes[i], shapes[i] + ndims[i]); }

bool unknown_rank(const int *ndims, int64_t **shapes, int count) {
    for (int i = 0; i < count; ++i) {
        if (ndims[i] >= 1 && shapes[i][0] == UNKNOWN_RANK) return true;
    }
    return false;
}

// a + sign * (b - 1): a valid convolution's output (sign -1) or its input (sign +1) along one axis.
int64_t along(int64_t a, int64_t b, int sign) {
    if (a == UNKNOWN_DIM || b == UNKNOWN_DIM) return UNKNOWN_DIM;
    return a + sign * (b - 1);
}

// SinganRecordFake<B> (steps.cc): from the padded input x (n, 3, h, w) and the generator's
// weights, the outputs' shapes: the loss (1), the gradient at the fake (the unpadded image's
// shape, prev's), the block inputs (x, then each block's output), the conv and BatchNorm outputs
// (each block's output), the tanh output (prev's), the critic's running statistics.
std::vector<std::vector<int64_t>> record_fake_shapes(int depth, int *ndims, int64_t **shapes) {
    if (unknown_rank(ndims, shapes, 2)) return std::vector<std::vector<int64_t>>(size_t(6 * depth + 4), Shape{UNKNOWN_RANK});
    const Shape x = input(ndims, shapes, 0), prev = input(ndims, shapes, 1);
    std::vector<Shape> blocks;
    int64_t h = x[2], w = x[3];
    for (int i = 0; i < depth; ++i) {
        const int64_t *weights = shapes[3 + 6 * i];  // (o, c, k, k)
        h = along(h, weights[2], -1);
        w = along(w, weights[3], -1);
        blocks.push_back({x[0], weights[0], h, w});
    }
    std::vector<Shape> out = {{1}, prev, x};
    for (const Shape &b : blocks) out.push_back(b);                  // block inputs after the first
    for (int k = 0; k < 2; ++k) for (const Shape &b : blocks) out.push_back(b);  // conv, BatchNorm outputs
    out.push_back(prev);
    const int critic_at = 3 + 6 * depth + 2;
    for (int i = 0; i < depth; ++i) {
        out.push_back(input(ndims, shapes, critic_at + 6 * i + 4));
        out.push_back(input(ndims, shapes, critic_at + 6 * i + 5));
    }
    return out;
}

}  // namespace

extern "C" {

// x (n, c, h, w), w (o, c, k, k) -> y (n, o, h - k + 1, w - k + 1)
std::vector<int64_t> SinganConvForwardInferShape(int *ndims, int64_t **shapes, void *) {
    if (unknown_rank(ndims, shapes, 2)) return {UNKNOWN_RANK};
    return {shapes[0][0], shapes[1][0], along(shapes[0][2], shapes[1][2], -1), along(shapes[0][3], shapes[1][3], -1)};
}

// dy (n, o, h', w'), w (o, c, k, k) -> dx (n, c, h' + k - 1, w' + k - 1)
std::vector<int64_t> SinganConvBackwardDataInferShape(int *ndims, int64_t **shapes, void *) {
    if (unknown_rank(ndims, shapes, 2)) return {UNKNOWN_RANK};
    return {shapes[0][0], shapes[1][1], along(shapes[0][2], shapes[1][2], 1), along(shapes[0][3], shapes[1][3], 1)};
}

// x (n, c, h, w), dy (n, o, h', w') -> dw (o, c, h - h' + 1, w - w' + 1)
std::vector<int64_t> SinganConvBackwardWeightsInferShape(int *ndims, int64_t **shapes, void *) {
    if (unknown_rank(ndims, shapes, 2)) return {UNKNOWN_RANK};
    return {shapes[1][1], shapes[0][1], along(shapes[0][2], shapes[1][2], -1), along(shapes[0][3], shapes[1][3], -1)};
}

// (x, slope) -> y and (x, dy, slope) -> dx: x's shape.
std::vector<int64_t> SinganLeakyReluInferShape(int *ndims, int64_t **shapes, void *) { return input(ndims, shapes, 0); }
std::vector<int64_t> SinganLeakyReluGradInferShape(int *ndims, int64_t **shapes, void *) { return input(ndims, shapes, 0); }

// (x, gamma, beta) -> (y, mean, var): x's shape, gamma's, gamma's.
std::vector<std::vector<int64_t>> SinganBatchNormInferShape(int *ndims, int64_t **shapes, void *) {
    return {input(ndims, shapes, 0), input(ndims, shapes, 1), input(ndims, shapes, 1)};
}

// (dy, x, gamma) -> (dx, dgamma, dbeta): x's shape, gamma's, gamma's.
std::vector<std::vector<int64_t>> SinganBatchNormGradInferShape(int *ndims, int64_t **shapes, void *) {
    return {input(ndims, shapes, 1), input(ndims, shapes, 2), input(ndims, shapes, 2)};
}

// (dy, x, gamma, g, gg, gb) -> (ddy, ddx, ddgamma): dy's shape, x's, gamma's.
std::vector<std::vector<int64_t>> SinganBatchNormGradGradInferShape(int *ndims, int64_t **shapes, void *) {
    return {input(ndims, shapes, 0), input(ndims, shapes, 1), input(ndims, shapes, 2)};
}

#define SINGAN_RECORD_FAKE_SHAPE(depth)                                                                     \
    std::vector<std::vector<int64_t>> SinganRecordFake##depth##InferShape(int *ndims, int64_t **shapes, void *) { \
        return record_fake_shapes(depth, ndims, shapes);                                                     \
    }
SINGAN_RECORD_FAKE_SHAPE(1)
SINGAN_RECORD_FAKE_SHAPE(2)
SINGAN_RECORD_FAKE_SHAPE(3)
SINGAN_RECORD_FAKE_SHAPE(4)
SINGAN_RECORD_FAKE_SHAPE(5)
SINGAN_RECORD_FAKE_SHAPE(6)
SINGAN_RECORD_FAKE_SHAPE(7)
SINGAN_RECORD_FAKE_SHAPE(8)

}  // extern "C"
