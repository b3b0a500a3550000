"""The oneDNN convolutions (adapters/mindspore/kernels/conv.cc) against MindSpore's nn.Conv2d:
values, gradients and gradients of gradients (the WGAN-GP penalty's), compiled and op by op; and
the rule that picks between them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.integration.conftest import assert_arrays_close, in_each_mode

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


def pair(ms, cin, cout, k, seed):
    """A oneDNN conv and an nn.Conv2d with the same random weights."""
    from mindspore import Tensor, nn

    from adapters.mindspore.conv import OneDnnConv2d

    rng = np.random.default_rng(seed)
    ours = OneDnnConv2d(cin, cout, k)
    ref = nn.Conv2d(cin, cout, k, pad_mode="valid", has_bias=True)
    w = rng.normal(0, 0.5, (cout, cin, k, k)).astype(np.float32)
    b = rng.normal(0, 0.5, (cout,)).astype(np.float32)
    for cell in (ours, ref):
        cell.weight.set_data(Tensor(w))
        cell.bias.set_data(Tensor(b))
    return ours, ref


def penalty_gradients(ms, conv, x, weights_out):
    """d/d(params, x) of sum(conv(x) * c1) + sum((d/dx sum(tanh(conv(x)) * c2))^2): first and
    second derivatives of the convolution, as the critic step takes them."""
    from mindspore import nn, ops

    from adapters.mindspore.losses import InputGradient  # the critic's, on any cell

    class Score(nn.Cell):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.tanh = nn.Tanh()

        def construct(self, x):
            return (self.tanh(self.net(x)) * weights_out).sum()

    class Loss(nn.Cell):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.score = Score(net)
            self.input_gradient = InputGradient(self.score)

        def construct(self, x):
            return (self.net(x) * weights_out).sum() + (self.input_gradient(x) ** 2).sum()

    class Gradients(nn.Cell):
        def __init__(self, net):
            super().__init__()
            self.loss = Loss(net)
            self.params = ms.ParameterTuple(net.trainable_params())
            self.grad = ops.GradOperation(get_all=True, get_by_list=True)

        def construct(self, x):
            return self.grad(self.loss, self.params)(x)

    inputs, params = Gradients(conv)(x)
    return [g.asnumpy() for g in (*inputs, *params)]


@pytest.mark.parametrize("cin,cout,k,h,w", [(3, 8, 3, 9, 11), (8, 1, 3, 7, 7), (5, 4, 5, 12, 10), (16, 16, 3, 20, 17)])
def test_onednn_conv_equals_mindspore_conv_in_value_gradient_and_second_derivative(ms, cin, cout, k, h, w):
    from mindspore import Tensor

    ours, ref = pair(ms, cin, cout, k, seed=cin * 100 + cout)
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(0, 1, (2, cin, h, w)).astype(np.float32))
    c = Tensor(rng.normal(0, 1, (2, cout, h - k + 1, w - k + 1)).astype(np.float32))
    np.testing.assert_allclose(ours(x).asnumpy(), ref(x).asnumpy(), rtol=1e-5, atol=1e-5)
    for got, want in in_each_mode(ms, lambda: (penalty_gradients(ms, ours, x, c), penalty_gradients(ms, ref, x, c))):
        assert_arrays_close(got, want, count=3, rtol=1e-4)  # d/dx, d/dweight, d/dbias


def test_the_networks_run_on_the_oneDNN_convolutions_here(ms):
    """This machine (and CI) builds the library, so every test of training runs on it."""
    from adapters.mindspore.conv import OneDnnConv2d
    from adapters.mindspore.native import conv_choice
    from adapters.mindspore.networks import Critic
    from domain.config import NetworkConfig

    assert conv_choice().backend == "onednn", conv_choice().note
    critic = Critic((4, 4), NetworkConfig(channels=4, min_channels=4, max_channels=4, num_layers=3))
    convs = [cell for _, cell in critic.cells_and_names() if isinstance(cell, OneDnnConv2d)]
    assert len(convs) == 3
    assert "ONEDNN_MAX_CPU_ISA" not in os.environ or os.environ["ONEDNN_MAX_CPU_ISA"] != "AVX2"


def test_a_gpu_or_ascend_process_builds_mindspores_convolutions(ms, monkeypatch):
    from mindspore import nn

    from adapters.mindspore import conv

    assert isinstance(conv.conv2d(3, 4, 3), conv.OneDnnConv2d)
    monkeypatch.setattr(conv, "_device_target", lambda: "GPU")
    built = conv.conv2d(3, 4, 3)
    assert isinstance(built, nn.Conv2d) and not isinstance(built, conv.OneDnnConv2d)


def choice_in_subprocess(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SINGAN_CACHE_DIR": str(tmp_path / "cache"), **env_overrides}
    env.pop("ONEDNN_MAX_CPU_ISA", None)
    code = ("import os, adapters.mindspore\n"
            "from adapters.mindspore.native import conv_choice\n"
            "print(conv_choice().backend, os.environ.get('ONEDNN_MAX_CPU_ISA'))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_without_a_compiler_auto_falls_back_to_mindspore_convolutions_capped_at_avx2(tmp_path):
    done = choice_in_subprocess({"CXX": str(tmp_path / "no-such-compiler")}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["mindspore", "AVX2"]
    assert not list((tmp_path / "cache").iterdir())  # nothing half-built left behind


def test_forcing_onednn_without_a_compiler_fails_in_one_line(tmp_path):
    done = choice_in_subprocess({"CXX": str(tmp_path / "no-such-compiler"), "SINGAN_CONV": "onednn"}, tmp_path)
    assert done.returncode != 0
    assert "SINGAN_CONV=onednn, but the oneDNN convolutions could not be built" in done.stderr


def test_a_fresh_cache_builds_the_library_once_and_reuses_it(tmp_path):
    first = choice_in_subprocess({}, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["onednn", "None"]
    built = list((tmp_path / "cache").glob("singan-conv-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    second = choice_in_subprocess({}, tmp_path)
    assert second.stdout.split() == ["onednn", "None"]
    assert [p.stat().st_mtime_ns for p in (tmp_path / "cache").glob("*.so")] == [stamp]


LAYOUT_CHECK = """
import numpy as np
import adapters.mindspore
from adapters.mindspore.device import configure
configure("CPU")
import mindspore as ms
from mindspore import Tensor, nn, ops
from adapters.mindspore.conv import OneDnnConv2d

worst = 0.0
for n, cin, cout, h, w in [(1, 3, 8, 9, 11), (2, 16, 16, 20, 17), (1, 8, 1, 12, 10)]:
    rng = np.random.default_rng(cin + cout)
    ours, ref = OneDnnConv2d(cin, cout, 3), nn.Conv2d(cin, cout, 3, pad_mode="valid", has_bias=True)
    weight = Tensor(rng.normal(0, 0.5, (cout, cin, 3, 3)).astype(np.float32))
    for cell in (ours, ref):
        cell.weight.set_data(weight)
        cell.bias.set_data(Tensor(np.zeros(cout, np.float32)))
    x = Tensor(rng.normal(0, 1, (n, cin, h, w)).astype(np.float32))
    c = Tensor(rng.normal(0, 1, (n, cout, h - 2, w - 2)).astype(np.float32))

    class Loss(nn.Cell):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def construct(self, x):
            return (self.net(x) * c).sum()

    def everything(net):
        (dx,), (dw, _) = ops.GradOperation(get_all=True, get_by_list=True)(Loss(net), ms.ParameterTuple(net.trainable_params()))(x)
        return net(x), dx, dw

    for got, want in zip(everything(ours), everything(ref)):
        got, want = got.asnumpy(), want.asnumpy()
        worst = max(worst, float(np.abs(got - want).max() / (np.abs(want).max() + 1e-6)))
print(worst)
"""


@pytest.mark.parametrize("layout", ["nchw,nchw,nchw", "nhwc,nhwc,nhwc", "any,any,any"])
def test_every_activation_layout_gives_the_same_convolutions(layout, tmp_path):
    """``SINGAN_CONV_LAYOUT`` reorders the activations into another layout around each kernel (the
    default depends on the CPU): forward, backward-data and backward-weights values must not move."""
    script = tmp_path / "layout_check.py"  # MindSpore compiles cells from source files only
    script.write_text(LAYOUT_CHECK)
    env = {**os.environ, "SINGAN_CONV_LAYOUT": layout, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 1e-5
