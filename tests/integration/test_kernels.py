"""The compiled training-mode BatchNorm and LeakyReLU (adapters/mindspore/kernels/batchnorm.cc and
activation.cc) against MindSpore's: values, running statistics, gradients and the gradient
penalty's second derivatives, compiled and op by op."""
from __future__ import annotations

import numpy as np
import pytest

from tests.integration.conftest import assert_arrays_close, in_each_mode


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


def pair(channels, seed):
    """Our BatchNorm on the compiled kernels and MindSpore's, with the same random scale and shift."""
    from mindspore import Tensor, nn

    from adapters.mindspore.networks import BatchNorm

    rng = np.random.default_rng(seed)
    ours, ref = BatchNorm(channels, momentum=0.9), nn.BatchNorm2d(channels, momentum=0.9)
    assert ours.native is not None  # this machine and CI build the kernels
    gamma = rng.normal(1, 0.5, channels).astype(np.float32)
    beta = rng.normal(0, 0.5, channels).astype(np.float32)
    for cell in (ours, ref):
        cell.gamma.set_data(Tensor(gamma))
        cell.beta.set_data(Tensor(beta))
        cell.set_train()
    return ours, ref


def penalty_gradients(ms, norm, x, c1, c2):
    """d/d(x, parameters) of sum(f(x) c1) + sum((d/dx sum(tanh(f(x)) c2))^2) for a cell f, as a
    critic step differentiates its layers."""
    from mindspore import nn, ops

    from adapters.mindspore.losses import InputGradient

    class Score(nn.Cell):
        def __init__(self):
            super().__init__()
            self.norm = norm
            self.tanh = nn.Tanh()

        def construct(self, x):
            return (self.tanh(self.norm(x)) * c2).sum()

    class Loss(nn.Cell):
        def __init__(self):
            super().__init__()
            self.norm = norm
            self.input_gradient = InputGradient(Score())

        def construct(self, x):
            return (self.norm(x) * c1).sum() + (self.input_gradient(x) ** 2).sum()

    class Gradients(nn.Cell):
        def __init__(self):
            super().__init__()
            self.loss = Loss()
            self.params = ms.ParameterTuple(norm.trainable_params())
            self.grad = ops.GradOperation(get_all=True, get_by_list=True)

        def construct(self, x):
            return self.grad(self.loss, self.params)(x)

    if not norm.trainable_params():
        return [g.asnumpy() for g in ops.GradOperation(get_all=True)(Loss())(x)]
    inputs, params = Gradients()(x)
    return [g.asnumpy() for g in (*inputs, *params)]


@pytest.mark.parametrize("n,c,h,w", [(1, 4, 9, 11), (2, 3, 6, 5), (1, 16, 23, 31)])
def test_compiled_batchnorm_equals_mindspores_in_value_statistics_gradient_and_second_derivative(ms, n, c, h, w):
    from mindspore import Tensor

    rng = np.random.default_rng(c * 10 + h)
    x = Tensor(rng.normal(0.3, 2.0, (n, c, h, w)).astype(np.float32))
    c1 = Tensor(rng.normal(0, 1, (n, c, h, w)).astype(np.float32))
    c2 = Tensor(rng.normal(0, 1, (n, c, h, w)).astype(np.float32))
    ours, ref = pair(c, seed=c)
    np.testing.assert_allclose(ours(x).asnumpy(), ref(x).asnumpy(), rtol=1e-5, atol=1e-5)
    for name in ("moving_mean", "moving_variance"):  # one update each, the same
        np.testing.assert_allclose(getattr(ours, name).asnumpy(), getattr(ref, name).asnumpy(), rtol=1e-5, atol=1e-6)
    want = penalty_gradients(ms, ref, x, c1, c2)  # MindSpore's fused kernel, compiled
    for got in in_each_mode(ms, lambda: penalty_gradients(ms, ours, x, c1, c2)):
        assert_arrays_close(got, want, count=3, rtol=1e-4)  # d/dx, d/dgamma, d/dbeta


def test_inference_uses_the_running_statistics(ms):
    from mindspore import Tensor

    ours, ref = pair(5, seed=3)
    x = Tensor(np.random.default_rng(0).normal(1, 3, (1, 5, 8, 8)).astype(np.float32))
    ours(x), ref(x)
    ours.set_train(False)
    ref.set_train(False)
    np.testing.assert_allclose(ours(x).asnumpy(), ref(x).asnumpy(), rtol=1e-5, atol=1e-5)


def test_compiled_leaky_relu_equals_mindspores_ops_in_value_gradient_and_second_derivative(ms):
    from mindspore import Tensor, nn, ops

    from adapters.mindspore.networks import LeakyReLU

    ours, ref = LeakyReLU(0.2), LeakyReLU(0.2)
    assert ours.native is not None
    ref.native = None  # relu(x) - slope relu(-x) on MindSpore's kernels

    class Smooth(nn.Cell):  # a nonlinearity before it, so the second derivative is not zero
        def __init__(self, act):
            super().__init__()
            self.act = act

        def construct(self, x):
            return self.act(ops.sin(x) * x)

    rng = np.random.default_rng(5)
    x, c1, c2 = (Tensor(rng.normal(0, 1, (1, 6, 9, 13)).astype(np.float32)) for _ in range(3))
    np.testing.assert_allclose(ours(x).asnumpy(), ref(x).asnumpy(), rtol=1e-6, atol=1e-7)
    want = penalty_gradients(ms, Smooth(ref), x, c1, c2)
    for got in in_each_mode(ms, lambda: penalty_gradients(ms, Smooth(ours), x, c1, c2)):
        assert_arrays_close(got, want, count=1, rtol=1e-5)  # d/dx


@pytest.mark.parametrize("shape", [(1, 5, 7, 9), (1, 32, 64, 72)])  # the serial loop; OpenMP's (2**17 or more)
def test_compiled_leaky_relu_and_its_gradient_give_the_selects_values_bit_for_bit(ms, shape):
    from mindspore import Tensor

    from adapters.mindspore import activation

    rng = np.random.default_rng(8)
    x = rng.normal(0, 1, shape).astype(np.float32)
    x.flat[:2] = [0.0, -0.0]  # (subnormals are flushed to zero in MindSpore's threads)
    dy = rng.normal(0, 1, shape).astype(np.float32)
    slope = np.float32(0.2)
    s = Tensor(np.array([slope], np.float32))
    y = activation.kernel()(Tensor(x), s).asnumpy()
    dx = activation._leaky_grad(Tensor(x), Tensor(dy), s).asnumpy()  # noqa: SLF001  (set by kernel())
    np.testing.assert_array_equal(y, np.where(x > 0, x, slope * x))
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, slope * dy))
