// Training-mode BatchNorm for SinGAN's networks: float32, NCHW, statistics over batch and pixels
// per channel, as three MindSpore "aot" custom ops that are each other's derivatives up to the
// second order (the WGAN-GP penalty differentiates the critic's backward pass once more).
//
// Why this exists: MindSpore 2.10's CPU kernel for BatchNorm's double backward (BatchNormGradGrad)
// took 26 ms on a 64x131x151 map, a fifth of a critic step, where one pass over the data is about
// 1 ms; op by op it reads freed memory. These make one pass for the sums and one for the output.
//
//   SinganBatchNorm(x, gamma, beta) -> y, mean, var        y = gamma * xhat + beta, var biased
//   SinganBatchNormGrad(dy, x, gamma) -> dx, dgamma, dbeta the backward pass
//   SinganBatchNormGradGrad(dy, x, gamma, gdx, ggamma, gbeta) -> ddy, ddx, ddgamma
//                                                          the backward pass's own backward
// With xhat = (x - mean) s, s = 1 / sqrt(var + eps), <.> the mean over a channel's P values,
// a = <dy>, b = <dy xhat>:
//   dx = gamma s (dy - a - xhat b),  dgamma = P b,  dbeta = P a
// and for upstream gradients g (of dx), gg (of dgamma), gb (of dbeta):
//   ddy     = gamma s (g - <g> - xhat <g xhat>) + gb + gg xhat
//   ddgamma = s P (<g dy> - a <g> - b <g xhat>)
//   G       = -gamma s (b g + <g xhat> dy) + gg dy            (the gradient through xhat)
//   ddx     = s (G - <G> - xhat <G xhat>) - s^2 gamma (<g dy> - a <g> - b <g xhat>) xhat
// Sums are accumulated in double precision in one pass.
#include <omp.h>

#include <cmath>
#include <cstdint>

namespace {

constexpr double EPS = 1e-5;             // nn.BatchNorm2d's default; batchnorm.py checks the cells use it
constexpr int64_t SERIAL_BELOW = 1 << 17;  // elements: below this, waking a second thread costs more

struct Layout {
    int64_t n, c, p;  // batch, channels, pixels per image
    int64_t count() const { return n * p; }
    int64_t at(int64_t b, int64_t ch) const { return (b * c + ch) * p; }
};

Layout layout(const int64_t *shape) { return {shape[0], shape[1], shape[2] * shape[3]}; }

template <typename F>
void for_channels(const Layout &l, F &&body) {
    if (l.n * l.c * l.p < SERIAL_BELOW) {
        for (int64_t ch = 0; ch < l.c; ++ch) body(ch);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t ch = 0; ch < l.c; ++ch) body(ch);
}

struct Moments {
    double mean, var, s;
};

// Mean and biased variance of channel ch of x, from sums of x and x^2 in double precision.
Moments moments(const Layout &l, const float *x, int64_t ch, double *sum_dy = nullptr, double *sum_dyx = nullptr,
                const float *dy = nullptr) {
    double sx = 0, sxx = 0, sd = 0, sdx = 0;
    for (int64_t b = 0; b < l.n; ++b) {
        const float *xs = x + l.at(b, ch);
        const float *ds = dy ? dy + l.at(b, ch) : nullptr;
        for (int64_t i = 0; i < l.p; ++i) {
            const double v = xs[i];
            sx += v;
            sxx += v * v;
            if (ds) {
                sd += ds[i];
                sdx += ds[i] * v;
            }
        }
    }
    const double count = double(l.count()), mean = sx / count;
    const double var = std::fmax(sxx / count - mean * mean, 0.0);
    if (sum_dy) *sum_dy = sd;
    if (sum_dyx) *sum_dyx = sdx;
    return {mean, var, 1.0 / std::sqrt(var + EPS)};
}

}  // namespace

extern "C" {

int SinganBatchNorm(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (nparam != 6 || ndims[0] != 4) return 1;  // x, gamma, beta -> y, mean, var
    const Layout l = layout(shapes[0]);
    const float *x = static_cast<const float *>(params[0]), *gamma = static_cast<const float *>(params[1]);
    const float *beta = static_cast<const float *>(params[2]);
    float *y = static_cast<float *>(params[3]), *mean = static_cast<float *>(params[4]);
    float *var = static_cast<float *>(params[5]);
    for_channels(l, [&](int64_t ch) {
        const Moments m = moments(l, x, ch);
        mean[ch] = float(m.mean);
        var[ch] = float(m.var);
        const float scale = float(gamma[ch] * m.s), shift = float(beta[ch] - gamma[ch] * m.s * m.mean);
        for (int64_t b = 0; b < l.n; ++b) {
            const float *xs = x + l.at(b, ch);
            float *ys = y + l.at(b, ch);
            for (int64_t i = 0; i < l.p; ++i) ys[i] = scale * xs[i] + shift;
        }
    });
    return 0;
}

int SinganBatchNormGrad(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (nparam != 6 || ndims[0] != 4) return 1;  // dy, x, gamma -> dx, dgamma, dbeta
    const Layout l = layout(shapes[0]);
    const float *dy = static_cast<const float *>(params[0]), *x = static_cast<const float *>(params[1]);
    const float *gamma = static_cast<const float *>(params[2]);
    float *dx = static_cast<float *>(params[3]), *dgamma = static_cast<float *>(params[4]);
    float *dbeta = static_cast<float *>(params[5]);
    for_channels(l, [&](int64_t ch) {
        double sd, sdx;
        const Moments m = moments(l, x, ch, &sd, &sdx, dy);
        const double count = double(l.count());
        const double a = sd / count, b = (sdx / count - m.mean * a) * m.s;  // <dy>, <dy xhat>
        dbeta[ch] = float(sd);
        dgamma[ch] = float(count * b);
        // dx = gamma s (dy - a - (x - mean) s b) = k dy + kx x + k0
        const double k = gamma[ch] * m.s, kx = -k * m.s * b, k0 = -k * a - kx * m.mean;
        for (int64_t bi = 0; bi < l.n; ++bi) {
            const float *ds = dy + l.at(bi, ch), *xs = x + l.at(bi, ch);
            float *out = dx + l.at(bi, ch);
            for (int64_t i = 0; i < l.p; ++i) out[i] = float(k * ds[i] + kx * xs[i] + k0);
        }
    });
    return 0;
}

int SinganBatchNormGradGrad(int nparam, void **params, int *ndims, int64_t **shapes, const char **, void *, void *) {
    if (nparam != 9 || ndims[0] != 4) return 1;  // dy, x, gamma, g, gg, gb -> ddy, ddx, ddgamma
    const Layout l = layout(shapes[0]);
    const float *dy = static_cast<const float *>(params[0]), *x = static_cast<const float *>(params[1]);
    const float *gamma = static_cast<const float *>(params[2]), *g = static_cast<const float *>(params[3]);
    const float *gg = static_cast<const float *>(params[4]), *gb = static_cast<const float *>(params[5]);
    float *ddy = static_cast<float *>(params[6]), *ddx = static_cast<float *>(params[7]);
    float *ddgamma = static_cast<float *>(params[8]);
    for_channels(l, [&](int64_t ch) {
        double sx = 0, sxx = 0, sd = 0, sdx = 0, sg = 0, sgx = 0, sgd = 0;
        for (int64_t b = 0; b < l.n; ++b) {
            const float *xs = x + l.at(b, ch), *ds = dy + l.at(b, ch), *gs = g + l.at(b, ch);
            for (int64_t i = 0; i < l.p; ++i) {
                const double v = xs[i], d = ds[i], u = gs[i];
                sx += v;
                sxx += v * v;
                sd += d;
                sdx += d * v;
                sg += u;
                sgx += u * v;
                sgd += u * d;
            }
        }
        const double count = double(l.count()), mean = sx / count;
        const double var = std::fmax(sxx / count - mean * mean, 0.0), s = 1.0 / std::sqrt(var + EPS);
        const double a = sd / count, b = (sdx / count - mean * a) * s;       // <dy>, <dy xhat>
        const double gm = sg / count, gx = (sgx / count - mean * gm) * s;  // <g>, <g xhat>
        const double gd = sgd / count;                                     // <g dy>
        const double gam = gamma[ch], ggc = gg[ch], gbc = gb[ch];
        const double cross = gd - a * gm - b * gx;
        ddgamma[ch] = float(s * count * cross);
        // G = -gamma s (b g + gx dy) + gg dy;  <G> and <G xhat> follow from the sums
        const double Gm = -gam * s * (b * gm + gx * a) + ggc * a;
        const double Gx = -2.0 * gam * s * b * gx + ggc * b;
        const double tail = -s * s * gam * cross;  // the path through s, times xhat
        for (int64_t bi = 0; bi < l.n; ++bi) {
            const float *xs = x + l.at(bi, ch), *ds = dy + l.at(bi, ch), *gs = g + l.at(bi, ch);
            float *oy = ddy + l.at(bi, ch), *ox = ddx + l.at(bi, ch);
            for (int64_t i = 0; i < l.p; ++i) {
                const double xhat = (xs[i] - mean) * s;
                oy[i] = float(gam * s * (gs[i] - gm - xhat * gx) + gbc + ggc * xhat);
                const double G = -gam * s * (b * gs[i] + gx * ds[i]) + ggc * ds[i];
                ox[i] = float(s * (G - Gm - xhat * Gx) + tail * xhat);
            }
        }
    });
    return 0;
}

}  // extern "C"
