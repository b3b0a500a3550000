"""The critic's gradient penalty and weight gradients against an independent float64 numpy oracle
(a hand-written critic forward, differentiated by central finite differences)."""
from __future__ import annotations

import numpy as np
import pytest

from domain.config import NetworkConfig

CFG = NetworkConfig(channels=3, min_channels=3, max_channels=3, num_layers=3, kernel_size=3)
SHAPE = (3, 9, 9)


def conv_valid(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(C, H, W) * (O, C, k, k) -> (O, H - k + 1, W - k + 1), cross-correlation as in deep learning."""
    k = w.shape[-1]
    h, wd = x.shape[1] - k + 1, x.shape[2] - k + 1
    patches = np.stack([x[:, i : i + h, j : j + wd] for i in range(k) for j in range(k)], axis=1)  # C, k*k, h, w
    return np.einsum("ckhw,ock->ohw", patches, w.reshape(w.shape[0], w.shape[1], k * k)) + b[:, None, None]


def batchnorm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)  # biased, as in training mode
    return gamma[:, None, None] * (x - mean) / np.sqrt(var + eps) + beta[:, None, None]


def critic_forward(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    def block(prefix, h):
        h = conv_valid(h, params[f"{prefix}.conv.weight"], params[f"{prefix}.conv.bias"])
        h = batchnorm_train(h, params[f"{prefix}.bn.gamma"], params[f"{prefix}.bn.beta"])
        return np.where(h > 0, h, 0.2 * h)

    h = block("net.head", x)
    h = block("net.body.0", h)
    return conv_valid(h, params["net.tail.weight"], params["net.tail.bias"])


def input_gradient(params, x, eps=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (critic_forward(params, up).sum() - critic_forward(params, down).sum()) / (2 * eps)
    return grad


def wgan_gp_loss(params, real, fake, alpha, gp_weight):
    mixed = alpha * real + (1 - alpha) * fake
    g = input_gradient(params, mixed)
    penalty = ((np.sqrt((g * g).sum(axis=0)) - 1.0) ** 2).mean()
    adversarial = critic_forward(params, fake).mean() - critic_forward(params, real).mean()
    return adversarial + gp_weight * penalty, penalty


@pytest.fixture(scope="module")
def critic_case():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    from mindspore import nn

    from adapters.mindspore.networks import Critic, initialise, named_parameters

    class PassThrough(nn.Cell):
        """Stands in for the generator: the 'fake' is its input, so the test controls it."""

        def construct(self, x, prev):
            return x

    rng = np.random.default_rng(3)
    critic = Critic((3, 3), CFG)
    initialise(critic, rng)
    # Larger weights than the 0.02 init so the penalty is far from its minimum and informative.
    for name, p in named_parameters(critic).items():
        if name.endswith("weight"):
            p.set_data(p.value() * 10)
    real = rng.uniform(-1, 1, SHAPE).astype(np.float32)
    fake = rng.uniform(-1, 1, SHAPE).astype(np.float32)
    params = {k: v.asnumpy().astype(np.float64) for k, v in named_parameters(critic).items()}
    return critic, PassThrough(), real, fake, params


@pytest.fixture(params=["graph", "eager"])
def execution(request, critic_case):
    """Each critic test runs compiled and eagerly (op by op, the critic's BatchNorm in the
    mean-and-variance form that eager training uses)."""
    from adapters.mindspore.device import execution as running
    from adapters.mindspore.networks import normalise_by_hand

    normalise_by_hand(critic_case[0], request.param == "eager")
    with running(request.param):
        yield request.param
    normalise_by_hand(critic_case[0], False)


def test_gradient_penalty_matches_finite_differences(critic_case, execution):
    import mindspore as ms

    from adapters.mindspore.losses import CriticLoss
    from adapters.mindspore.networks import to_tensor

    critic, passthrough, real, fake, params = critic_case
    loss = CriticLoss(critic, passthrough, kind="wgan-gp", gp_weight=0.1)
    loss.set_train()
    alpha = 0.3
    total, (_, _, penalty) = loss(to_tensor(real), to_tensor(fake), to_tensor(fake), ms.Tensor(np.float32(alpha)))
    want_total, want_penalty = wgan_gp_loss(params, real.astype(np.float64), fake.astype(np.float64), alpha, 0.1)
    assert want_penalty > 0.05  # the case is informative, not a vanishing penalty
    assert float(penalty.asnumpy()) == pytest.approx(want_penalty, rel=2e-3)
    assert float(total.asnumpy()) == pytest.approx(want_total, rel=2e-3, abs=1e-4)


def test_a_critic_weight_gradient_matches_finite_differences(critic_case, execution):
    import mindspore as ms
    from mindspore import nn

    from adapters.mindspore.losses import CriticLoss
    from adapters.mindspore.networks import named_parameters, to_tensor

    critic, passthrough, real, fake, params = critic_case
    loss = CriticLoss(critic, passthrough, kind="wgan-gp", gp_weight=0.1)
    loss.set_train()
    weight = named_parameters(critic)["net.head.conv.weight"]

    class Grad(nn.Cell):
        def __init__(self):
            super().__init__()
            self.loss = loss
            self.weights = ms.ParameterTuple([weight])

        def construct(self, real, x, prev, alpha):
            _, grads = ms.value_and_grad(self.loss, None, self.weights, has_aux=True)(real, x, prev, alpha)
            return grads[0]

    alpha = 0.3
    got = Grad()(to_tensor(real), to_tensor(fake), to_tensor(fake), ms.Tensor(np.float32(alpha))).asnumpy()
    idx = (1, 2, 1, 0)
    eps = 1e-3
    up = {**params, "net.head.conv.weight": params["net.head.conv.weight"].copy()}
    down = {**params, "net.head.conv.weight": params["net.head.conv.weight"].copy()}
    up["net.head.conv.weight"][idx] += eps
    down["net.head.conv.weight"][idx] -= eps
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    want = (wgan_gp_loss(up, r64, f64, alpha, 0.1)[0] - wgan_gp_loss(down, r64, f64, alpha, 0.1)[0]) / (2 * eps)
    assert abs(want) > 1e-3  # a weight that matters
    assert got[idx] == pytest.approx(want, rel=5e-3, abs=1e-5)


def test_leaky_relu_has_the_official_values_and_slopes(critic_case):
    import mindspore as ms
    from mindspore import nn

    from adapters.mindspore.networks import LeakyReLU

    x = np.array([-3.0, -0.5, -1e-3, 1e-3, 0.5, 3.0], np.float32)
    act = LeakyReLU(0.2)
    assert act(ms.Tensor(x)).asnumpy() == pytest.approx(np.where(x > 0, x, 0.2 * x), abs=1e-7)

    class Slope(nn.Cell):
        def __init__(self):
            super().__init__()
            self.act = act

        def construct(self, x):
            return ms.grad(self.act)(x)

    assert Slope()(ms.Tensor(x)).asnumpy() == pytest.approx(np.where(x > 0, 1.0, 0.2))


def conv_backward(x, w, g):
    """Gradients of conv_valid(x, w, b) for an output gradient g: (d input, d weight, d bias)."""
    k = w.shape[-1]
    h, wd = g.shape[1], g.shape[2]
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for i in range(k):
        for j in range(k):
            dw[:, :, i, j] = np.einsum("ohw,chw->oc", g, x[:, i : i + h, j : j + wd])
            dx[:, i : i + h, j : j + wd] += np.einsum("oc,ohw->chw", w[:, :, i, j], g)
    return dx, dw, g.sum(axis=(1, 2))


@pytest.mark.parametrize("way", ["written out", "surrogate", "step kernel"])
def test_later_generator_steps_back_propagate_through_the_saved_graph_with_the_current_weights(way):
    """As PyTorch does when the official code steps the optimizer between backward passes of one
    retained graph: saved inputs, BatchNorm statistics and slopes from the forward pass, the
    weights (for input gradients) and BatchNorm scales as they are now."""
    import mindspore as ms
    from mindspore import nn

    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.device import configure

    configure("CPU")
    from adapters.mindspore.networks import Critic, Generator, initialise, named_parameters, to_tensor
    from adapters.mindspore.steps import NativeStaleStep, RecordedFake, StaleGradient, SurrogateGradient, make_adam
    from domain.config import TrainConfig

    rng = np.random.default_rng(4)
    generator, critic = Generator((3, 3), CFG), Critic((3, 3), CFG)
    generator.update_parameters_name("g.")
    critic.update_parameters_name("d.")
    initialise(generator, rng)
    initialise(critic, rng)
    record = RecordedFake(generator, critic, kind="wgan-gp")
    record.set_train()
    x = rng.standard_normal(SHAPE).astype(np.float32)
    prev = rng.uniform(-1, 1, SHAPE).astype(np.float32)
    _, at_fake, *graph = record(to_tensor(x), to_tensor(prev))
    w0 = {k: v.asnumpy().astype(np.float64) for k, v in named_parameters(generator).items()}
    # The optimizer moves every weight before the next backward pass.
    params = named_parameters(generator)
    w1 = {k: v * (1 + 0.3 * rng.standard_normal(v.shape)) if "moving" not in k else v for k, v in w0.items()}
    for k, v in w1.items():
        params[k].set_data(ms.Tensor(v.astype(np.float32)))

    weights = ms.ParameterTuple(generator.trainable_params())
    if way == "step kernel":
        # NativeStaleStep's kernel with no reconstruction term: its gradients are the adversarial ones.
        step = NativeStaleStep(generator, make_adam(generator, 5e-4, TrainConfig()), weight=0.0)
        zeros = to_tensor(np.zeros(SHAPE, np.float32))

        class Grad(nn.Cell):
            def __init__(self):
                super().__init__()
                self.step = step

            def construct(self, at_fake, *graph):
                out = self.step.kernel(zeros, self.step.generator.pad(zeros), zeros, at_fake, self.step.settings,
                                       *graph, *self.step.inputs)
                return out[1 : 1 + self.step.count]
    else:
        adversarial = StaleGradient(generator) if way == "written out" else SurrogateGradient(generator, weights)

        class Grad(nn.Cell):
            def __init__(self):
                super().__init__()
                self.adversarial = adversarial

            def construct(self, at_fake, *graph):
                return self.adversarial(at_fake, graph)

    names = {id(p): name for name, p in params.items()}
    got = {names[id(p)]: g.asnumpy() for p, g in zip(weights, Grad()(at_fake, *graph))}

    # numpy: the forward pass at w0, saving what autograd saves; the backward pass with w1.
    pad = 3
    h = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad)))
    saved = []
    for block in ("net.head", "net.body.0"):
        c = conv_valid(h, w0[f"{block}.conv.weight"], w0[f"{block}.conv.bias"])
        mean, var = c.mean(axis=(1, 2), keepdims=True), c.var(axis=(1, 2), keepdims=True)
        xhat = (c - mean) / np.sqrt(var + 1e-5)
        y = w0[f"{block}.bn.gamma"][:, None, None] * xhat + w0[f"{block}.bn.beta"][:, None, None]
        saved.append((block, h, xhat, 1 / np.sqrt(var + 1e-5), np.where(y > 0, 1.0, 0.2)))
        h = np.where(y > 0, y, 0.2 * y)
    t = np.tanh(conv_valid(h, w0["net.tail.weight"], w0["net.tail.bias"]))
    want = {}
    g = at_fake.asnumpy()[0].astype(np.float64) * (1 - t * t)
    g, want["net.tail.weight"], want["net.tail.bias"] = conv_backward(h, w1["net.tail.weight"], g)
    for block, inp, xhat, inv_std, slope in reversed(saved):
        g = g * slope
        want[f"{block}.bn.gamma"], want[f"{block}.bn.beta"] = (g * xhat).sum(axis=(1, 2)), g.sum(axis=(1, 2))
        mean = lambda a: a.mean(axis=(1, 2), keepdims=True)  # noqa: E731
        g = w1[f"{block}.bn.gamma"][:, None, None] * inv_std * (g - mean(g) - xhat * mean(g * xhat))
        g, want[f"{block}.conv.weight"], want[f"{block}.conv.bias"] = conv_backward(inp, w1[f"{block}.conv.weight"], g)
    for name, value in want.items():
        scale = np.abs(value).max()
        if name.endswith("conv.bias") and name != "net.tail.bias":
            assert np.abs(got[name]).max() < 1e-5  # BatchNorm cancels a conv bias: zero either way
            continue
        np.testing.assert_allclose(got[name], value, rtol=1e-3, atol=1e-4 * scale, err_msg=name)
    assert not np.allclose(got["net.head.conv.weight"], 0)


def test_batchnorm_by_hand_has_the_fused_kernels_values_and_running_statistics(critic_case):
    import mindspore as ms

    from adapters.mindspore.device import execution
    from adapters.mindspore.networks import BatchNorm

    x = np.random.default_rng(0).standard_normal((1, 4, 5, 6)).astype(np.float32) * 3 + 1
    results = []
    for kind, by_hand in (("graph", False), ("eager", True)):
        bn = BatchNorm(4, momentum=0.9)
        bn.by_hand = by_hand
        bn.set_train()
        with execution(kind):
            for _ in range(2):
                y = bn(ms.Tensor(x)).asnumpy()
        results.append((y, bn.moving_mean.asnumpy(), bn.moving_variance.asnumpy()))
    for fused, hand in zip(*results):
        np.testing.assert_allclose(hand, fused, rtol=1e-5, atol=1e-6)
    mean, var, n = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)), x.size / 4
    np.testing.assert_allclose(results[1][1], 0.19 * mean, rtol=1e-5)  # two updates of weight 0.1
    np.testing.assert_allclose(results[1][2], 0.81 + 0.19 * var * n / (n - 1), rtol=1e-5)  # unbiased
