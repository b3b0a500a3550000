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


def test_gradient_penalty_matches_finite_differences(critic_case):
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


def test_a_critic_weight_gradient_matches_finite_differences(critic_case):
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
