"""Graphs with open heights, widths and batch sizes on the compiled kernels: their output shapes
come from the library's C++ shape functions (adapters/mindspore/kernels/shapes.cc), and the values
must equal those of graphs compiled at each fixed shape."""
from __future__ import annotations

import numpy as np
import pytest

from tests.integration.conftest import assert_arrays_close


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


SHAPES = [(1, 21, 26), (2, 17, 30)]  # (batch, height, width): two sizes, two batch sizes


def _kernel_gradients(ms, open_shape: bool):
    """A small critic made of the kernels themselves (convolution, training-mode BatchNorm,
    LeakyReLU, convolution): its score and a gradient-penalty-like second derivative, which runs
    every kernel's forward, backward and backward-of-backward pass, as one cell called at every
    shape of ``SHAPES``."""
    from mindspore import Tensor, nn, ops

    from adapters.mindspore import activation, batchnorm
    from adapters.mindspore.conv import compiled_kernels, onednn_convolution

    assert compiled_kernels()  # this machine and CI build the kernels
    rng = np.random.default_rng(3)
    w1 = Tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3)
    w2 = Tensor(rng.standard_normal((1, 8, 3, 3)).astype(np.float32) * 0.3)
    gamma = Tensor(rng.uniform(0.5, 1.5, 8).astype(np.float32))
    beta = Tensor(rng.standard_normal(8).astype(np.float32) * 0.1)
    slope = Tensor(np.array([0.2], np.float32))
    conv, norm, leaky = onednn_convolution(), batchnorm.kernels(), activation.kernel()

    class Critic(nn.Cell):
        def construct(self, x):
            y, _mean, _var = norm(conv(x, w1), gamma, beta)
            return conv(leaky(y, slope), w2)

    class Penalty(nn.Cell):  # as losses.CriticLoss's: d(sum critic(x)) / dx, squared
        def __init__(self):
            super().__init__()
            self.critic, self.grad = Critic(), ops.GradOperation()

        def construct(self, x):
            g = self.grad(self.critic)(x)
            return (g * g).sum()

    class Penalised(nn.Cell):
        def __init__(self):
            super().__init__()
            self.critic, self.penalty, self.grad = Critic(), Penalty(), ops.GradOperation()

        def construct(self, x):
            return self.critic(x).mean(), self.grad(self.penalty)(x)

    cell = Penalised()
    if open_shape:
        cell.set_inputs(Tensor(shape=[None, 3, None, None], dtype=ms.float32))
    data = np.random.default_rng(5)
    results = []
    for n, h, w in SHAPES:
        score, grad = cell(Tensor(data.standard_normal((n, 3, h, w)).astype(np.float32)))
        results += [score.asnumpy(), grad.asnumpy()]
    compiles = len(cell.compile_cache)
    return results, compiles


def test_open_shape_graphs_on_the_compiled_kernels_equal_fixed_shape_ones(ms):
    fixed, fixed_compiles = _kernel_gradients(ms, open_shape=False)
    opened, opened_compiles = _kernel_gradients(ms, open_shape=True)
    assert [a.shape for a in opened] == [a.shape for a in fixed]
    assert (opened_compiles, fixed_compiles) == (1, len(SHAPES))
    assert_arrays_close(opened, fixed, count=2 * len(SHAPES), rtol=1e-4)


def test_a_trained_generator_compiles_once_for_every_shape_and_batch(ms):
    from mindspore import Tensor

    from adapters.mindspore.networks import Generator, any_shape, initialise
    from domain.config import NetworkConfig

    def run_inference(g, x, prev):  # the cell's graph (run_inference itself takes the compiled pass)
        return g(Tensor(x), Tensor(prev)).asnumpy()

    cfg = NetworkConfig(channels=8, min_channels=8, max_channels=8, num_layers=5)
    opened, fixed = Generator((8, 8, 8, 8), cfg), Generator((8, 8, 8, 8), cfg)
    fixed.update_parameters_name("fixed.")
    for g in (opened, fixed):
        initialise(g, np.random.default_rng(9))
        g.set_train(False)
    any_shape(opened)
    rng = np.random.default_rng(11)
    for n, h, w in [(1, 19, 23), (3, 19, 23), (2, 31, 17)]:
        x = rng.standard_normal((n, 3, h, w)).astype(np.float32)
        prev = rng.standard_normal((n, 3, h, w)).astype(np.float32)
        got, want = run_inference(opened, x, prev), run_inference(fixed, x, prev)
        assert got.shape == (n, 3, h, w)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert len(opened.compile_cache) == 1  # one graph for the three shapes
    assert len(fixed.compile_cache) == 3
    assert isinstance(opened(Tensor(x), Tensor(prev)), Tensor)
