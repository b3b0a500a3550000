"""The critic step as one kernel (``steps.NativeCriticStep``, ``kernels/critic.cc``) against the
autodiff step it replaces: the loss terms, every gradient and the running statistics, at several
depths, widths and shapes; and against the float64 finite-difference oracle of test_gradients."""
from __future__ import annotations

import numpy as np
import pytest

from domain.config import NetworkConfig
from tests.integration.test_gradients import wgan_gp_loss


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


def _critic(ms, net: NetworkConfig, widths, tag: str, seed: int):
    from adapters.mindspore.networks import Critic, initialise, named_parameters

    critic = Critic(widths, net)
    critic.update_parameters_name(f"native{tag}.")
    initialise(critic, np.random.default_rng(seed))
    for name, p in named_parameters(critic).items():
        # Larger weights than the 0.02 init, so the penalty is far from its minimum; running
        # statistics away from their start, so their update shows.
        if name.endswith("weight"):
            p.set_data(p.value() * 10)
        if name.endswith("moving_variance"):
            p.set_data(p.value() * 2)
        if name.endswith("moving_mean"):
            p.set_data(p.value() + 0.3)
    critic.set_train()
    return critic


def _pass_through():
    from mindspore import nn

    class PassThrough(nn.Cell):
        """Stands in for the generator: the 'fake' is its input."""

        def construct(self, x, prev):
            return x

    return PassThrough()


def _native_outputs(ms, critic, real, fake, alpha, gp_weight):
    """The kernel's (terms, gradients, running statistics) as numpy, the cells left unchanged."""
    from mindspore import nn

    from adapters.mindspore.steps import NativeCriticStep, make_adam
    from domain.config import TrainConfig

    step = NativeCriticStep(critic, _pass_through(), make_adam(critic, 5e-4, TrainConfig()), gp_weight=gp_weight)

    class Kernel(nn.Cell):
        def __init__(self):
            super().__init__()
            self.step = step

        def construct(self, real, fake, alpha):
            return self.step.kernel(real, fake, alpha, self.step.settings, *self.step.inputs)

    out = [t.asnumpy() for t in Kernel()(real, fake, alpha)]
    count = len(critic.trainable_params())
    return out[0], out[1 : 1 + count], out[1 + count :]


def _autodiff_outputs(ms, critic, real, fake, alpha, gp_weight):
    """The same from ``CriticLoss`` and MindSpore's autodiff, the statistics as the pass leaves them."""
    from mindspore import nn

    from adapters.mindspore.losses import CriticLoss

    loss = CriticLoss(critic, _pass_through(), kind="wgan-gp", gp_weight=gp_weight)

    class Grads(nn.Cell):
        def __init__(self):
            super().__init__()
            self.loss = loss
            self.weights = ms.ParameterTuple(critic.trainable_params())

        def construct(self, real, fake, alpha):
            (total, terms), grads = ms.value_and_grad(self.loss, None, self.weights, has_aux=True)(real, fake, fake, alpha)
            return total, terms, grads

    cell = Grads()
    cell.set_train()
    total, terms, grads = cell(real, fake, alpha)
    terms = np.array([float(total.asnumpy())] + [float(t.asnumpy()) for t in terms], np.float32)
    statistics = [p.asnumpy() for name, p in critic.parameters_and_names() if ".moving_" in name]
    return terms, [g.asnumpy() for g in grads], statistics


CASES = [
    # (channels, min_channels, layers, height, width): the paper's 5 layers at 32 channels, a
    # narrowing body, the tiny test nets' 3 layers, an odd shape
    (32, 32, 5, 25, 38),
    (16, 8, 5, 21, 17),
    (4, 4, 3, 18, 20),
    (4, 4, 9, 22, 22),  # the deepest critic the kernel takes
]


@pytest.mark.parametrize("channels, min_channels, layers, height, width", CASES)
def test_the_native_critic_step_equals_the_autodiff_step(ms, channels, min_channels, layers, height, width):
    from adapters.mindspore.networks import to_tensor
    from domain.networks import layer_widths

    net = NetworkConfig(channels=channels, min_channels=min_channels, max_channels=channels, num_layers=layers)
    widths = layer_widths(0, net)
    rng = np.random.default_rng(channels + layers)
    real = to_tensor(rng.uniform(-1, 1, (3, height, width)).astype(np.float32))
    fake = to_tensor(rng.uniform(-1, 1, (3, height, width)).astype(np.float32))
    alpha = ms.Tensor(np.float32(0.3))
    tag = f"{channels}_{min_channels}_{layers}"
    native = _native_outputs(ms, _critic(ms, net, widths, tag + "n", 3), real, fake, alpha, 0.1)
    autodiff = _autodiff_outputs(ms, _critic(ms, net, widths, tag + "a", 3), real, fake, alpha, 0.1)
    terms, grads, statistics = native
    want_terms, want_grads, want_statistics = autodiff
    assert want_terms[3] > 0.05  # an informative penalty
    np.testing.assert_allclose(terms, want_terms, rtol=1e-4, atol=1e-6)
    assert len(grads) == len(want_grads) == 4 * (layers - 1) + 2
    for got, want in zip(grads, want_grads):
        assert got.shape == want.shape
        # Conv biases before a BatchNorm have zero gradient up to rounding on both sides: compare
        # every gradient on the scale of the largest one.
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(np.abs(g).max() for g in want_grads))
    assert len(statistics) == len(want_statistics) == 2 * (layers - 1)
    for got, want in zip(statistics, want_statistics):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_native_critic_step_matches_the_finite_difference_oracle(ms):
    """The kernel's loss, penalty and a head weight's gradient against test_gradients' float64
    numpy critic, differentiated by central differences (independent of both MindSpore paths)."""
    from adapters.mindspore.networks import named_parameters, to_tensor

    net = NetworkConfig(channels=3, min_channels=3, max_channels=3, num_layers=3, kernel_size=3)
    critic = _critic(ms, net, (3, 3), "oracle", 3)
    params = {k: v.asnumpy().astype(np.float64) for k, v in named_parameters(critic).items()}
    rng = np.random.default_rng(3)
    real = rng.uniform(-1, 1, (3, 9, 9)).astype(np.float32)
    fake = rng.uniform(-1, 1, (3, 9, 9)).astype(np.float32)
    alpha = 0.3
    terms, grads, _ = _native_outputs(ms, critic, to_tensor(real), to_tensor(fake), ms.Tensor(np.float32(alpha)), 0.1)
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    want_total, want_penalty = wgan_gp_loss(params, r64, f64, alpha, 0.1)
    assert want_penalty > 0.05
    assert terms[3] == pytest.approx(want_penalty, rel=2e-3)
    assert terms[0] == pytest.approx(want_total, rel=2e-3, abs=1e-4)
    idx, eps = (1, 2, 1, 0), 1e-3
    up = {**params, "net.head.conv.weight": params["net.head.conv.weight"].copy()}
    down = {**params, "net.head.conv.weight": params["net.head.conv.weight"].copy()}
    up["net.head.conv.weight"][idx] += eps
    down["net.head.conv.weight"][idx] -= eps
    want = (wgan_gp_loss(up, r64, f64, alpha, 0.1)[0] - wgan_gp_loss(down, r64, f64, alpha, 0.1)[0]) / (2 * eps)
    assert abs(want) > 1e-3
    assert grads[0][idx] == pytest.approx(want, rel=5e-3, abs=1e-5)


def test_the_native_step_trains_as_the_autodiff_step(ms):
    """Whole steps, Adam included, three in a row: the same weights and running statistics."""
    from adapters.mindspore.losses import CriticLoss
    from adapters.mindspore.networks import named_parameters, to_tensor
    from adapters.mindspore.steps import NativeCriticStep, TrainStep, make_adam
    from domain.config import TrainConfig
    from domain.networks import layer_widths

    net = NetworkConfig(channels=8, min_channels=8, max_channels=8, num_layers=4)
    widths = layer_widths(0, net)
    cfg = TrainConfig()
    rng = np.random.default_rng(11)
    real = to_tensor(rng.uniform(-1, 1, (3, 20, 23)).astype(np.float32))
    fakes = [to_tensor(rng.uniform(-1, 1, (3, 20, 23)).astype(np.float32)) for _ in range(3)]
    cells = {}
    for way in ("native", "autodiff"):
        critic = _critic(ms, net, widths, f"train{way}", 5)
        adam = make_adam(critic, 5e-4, cfg)
        if way == "native":
            step = NativeCriticStep(critic, _pass_through(), adam, gp_weight=0.1)
        else:
            step = TrainStep(CriticLoss(critic, _pass_through(), kind="wgan-gp", gp_weight=0.1), adam)
        step.set_train()
        losses = [float(step(real, fake, fake, ms.Tensor(np.float32(a)))[0].asnumpy()) for fake, a in zip(fakes, (0.2, 0.5, 0.9))]
        cells[way] = (losses, {k: v.asnumpy() for k, v in named_parameters(critic).items()})
    (native_losses, native_params), (want_losses, want_params) = cells["native"], cells["autodiff"]
    np.testing.assert_allclose(native_losses, want_losses, rtol=1e-4)
    assert native_params.keys() == want_params.keys()
    for name in want_params:
        if name.endswith(".conv.bias"):
            # A bias before a BatchNorm has no effect and a zero gradient, up to rounding that
            # differs between the two; Adam scales that noise to a step of lr either way.
            continue
        # The running means follow those biases: at most 3 steps of lr apart.
        atol = 3 * 5e-4 if name.endswith("moving_mean") else 1e-6
        np.testing.assert_allclose(native_params[name], want_params[name], rtol=1e-4, atol=atol, err_msg=name)
    # The step moved the weights, so the comparison says something.
    first = _critic(ms, net, widths, "trainstart", 5)
    assert not np.allclose(named_parameters(first)["net.head.conv.weight"].asnumpy(), want_params["net.head.conv.weight"])


def test_training_takes_the_native_step_only_where_it_applies(ms):
    from adapters.mindspore.steps import native_critic
    from domain.config import TrainConfig

    assert native_critic(TrainConfig(loss="wgan-gp"), "graph", 4)
    assert native_critic(TrainConfig(loss="wgan-gp"), "split", 4)
    assert native_critic(TrainConfig(loss="wgan-gp"), "graph", 8)
    assert not native_critic(TrainConfig(loss="wgan-gp"), "graph", 9)  # no kernel that deep: autodiff
    assert not native_critic(TrainConfig(loss="wgan-gp"), "eager", 4)
    assert not native_critic(TrainConfig(loss="zero-gp"), "graph", 4)
    assert not native_critic(TrainConfig(loss="lsgan"), "graph", 4)
    # Scales whose convolutions are large train on the autodiff graphs (memory: README "Speed").
    assert native_critic(TrainConfig(loss="wgan-gp"), "graph", 4, flops=1999e6)
    assert not native_critic(TrainConfig(loss="wgan-gp"), "graph", 4, flops=2001e6)


def _generator_case(ms, net: NetworkConfig, tag: str, shape):
    """A generator and critic, the official record pass made, then the generator's weights moved
    as an optimizer would between steps; returns what a generator step takes."""
    from adapters.mindspore.networks import Critic, Generator, initialise, named_parameters, to_tensor
    from adapters.mindspore.steps import RecordedFake
    from domain.networks import layer_widths

    widths = layer_widths(0, net)
    generator, critic = Generator(widths, net), Critic(widths, net)
    generator.update_parameters_name(f"gen{tag}.")
    critic.update_parameters_name(f"gcr{tag}.")
    rng = np.random.default_rng(4)
    initialise(generator, rng)
    initialise(critic, rng)
    generator.set_train()
    critic.set_train()
    record = RecordedFake(generator, critic, kind="wgan-gp")
    record.set_train()
    x, prev = (to_tensor(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(2))
    _, at_fake, *graph = record(x, prev)
    for name, p in named_parameters(generator).items():
        if "moving" not in name:
            p.set_data(ms.Tensor((p.asnumpy() * (1 + 0.3 * rng.standard_normal(p.shape))).astype(np.float32)))
    real, rec_x, rec_prev = (to_tensor(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(3))
    return generator, (real, rec_x, rec_prev, at_fake, *graph)


@pytest.mark.parametrize("channels, min_channels, layers, height, width", CASES[:3])
def test_the_native_generator_step_equals_the_autodiff_step(ms, channels, min_channels, layers, height, width):
    """The stale adversarial gradient (``StaleGradient``) plus the reconstruction's autodiff
    gradient and loss, and the running statistics the reconstruction pass leaves."""
    from mindspore import nn

    from adapters.mindspore.losses import ReconstructionLoss
    from adapters.mindspore.steps import NativeStaleStep, StaleGradient, make_adam
    from domain.config import TrainConfig

    net = NetworkConfig(channels=channels, min_channels=min_channels, max_channels=channels, num_layers=layers)
    tag = f"{channels}_{min_channels}_{layers}"
    results = {}
    for way in ("native", "autodiff"):
        generator, inputs = _generator_case(ms, net, tag + way, (3, height, width))
        real, rec_x, rec_prev, at_fake, *graph = inputs
        if way == "native":
            step = NativeStaleStep(generator, make_adam(generator, 5e-4, TrainConfig()), weight=10.0)

            class Kernel(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.step = step

                def construct(self, real, rec_x, rec_prev, at_fake, *graph):
                    padded = self.step.generator.pad(rec_x)
                    return self.step.kernel(real, padded, rec_prev, at_fake, self.step.settings, *graph, *self.step.inputs)

            out = [t.asnumpy() for t in Kernel()(real, rec_x, rec_prev, at_fake, *graph)]
            count = len(generator.trainable_params())
            terms, grads, statistics = out[0], out[1 : 1 + count], out[1 + count :]
        else:
            adversarial = StaleGradient(generator)
            reconstruction = ReconstructionLoss(generator, weight=10.0)

            class Grads(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.adversarial = adversarial
                    self.reconstruction = reconstruction
                    self.weights = ms.ParameterTuple(generator.trainable_params())

                def construct(self, real, rec_x, rec_prev, at_fake, *graph):
                    adv = self.adversarial(at_fake, graph)
                    (rec, mse), rec_grads = ms.value_and_grad(self.reconstruction, None, self.weights, has_aux=True)(
                        real, rec_x, rec_prev)
                    return rec, mse, tuple(a + r for a, r in zip(adv, rec_grads))

            cell = Grads()
            cell.set_train()
            rec, mse, grads = cell(real, rec_x, rec_prev, at_fake, *graph)
            terms = np.array([float(rec.asnumpy()), float(mse.asnumpy())], np.float32)
            grads = [g.asnumpy() for g in grads]
            statistics = [p.asnumpy() for name, p in generator.parameters_and_names() if ".moving_" in name]
        results[way] = (terms, grads, statistics)
    (terms, grads, statistics), (want_terms, want_grads, want_statistics) = results["native"], results["autodiff"]
    np.testing.assert_allclose(terms, want_terms, rtol=1e-5)
    assert len(grads) == len(want_grads) == 4 * (layers - 1) + 2
    scale = max(np.abs(g).max() for g in want_grads)
    for got, want in zip(grads, want_grads):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)
    assert len(statistics) == len(want_statistics) == 2 * (layers - 1)
    for got, want in zip(statistics, want_statistics):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_training_takes_the_native_generator_step_only_compiled(ms):
    from adapters.mindspore.steps import native_generator

    assert native_generator("graph", 4)
    assert not native_generator("eager", 4)  # "split" runs the generator steps eagerly
    assert not native_generator("graph", 9)
    assert not native_generator("graph", 4, flops=2001e6)


@pytest.mark.parametrize("channels, min_channels, layers, height, width", CASES[:3])
def test_the_native_record_pass_equals_the_autodiff_one(ms, channels, min_channels, layers, height, width):
    """``NativeRecordedFake`` against ``RecordedFake``: the fake's score and its gradient, every
    saved map, the critic's running statistics; the generator's statistics untouched by both."""
    from adapters.mindspore.networks import Critic, Generator, initialise, named_parameters, to_tensor
    from adapters.mindspore.steps import NativeRecordedFake, RecordedFake
    from domain.networks import layer_widths

    net = NetworkConfig(channels=channels, min_channels=min_channels, max_channels=channels, num_layers=layers)
    widths = layer_widths(0, net)
    rng = np.random.default_rng(8)
    x, prev = (to_tensor(rng.uniform(-1, 1, (3, height, width)).astype(np.float32)) for _ in range(2))
    results = {}
    for way in ("native", "autodiff"):
        generator, critic = Generator(widths, net), Critic(widths, net)
        generator.update_parameters_name(f"rg{way}{channels}_{layers}.")
        critic.update_parameters_name(f"rd{way}{channels}_{layers}.")
        init = np.random.default_rng(9)
        initialise(generator, init)
        initialise(critic, init)
        for name, p in named_parameters(critic).items():
            if name.endswith("weight"):
                p.set_data(p.value() * 10)
        generator.set_train()
        critic.set_train()
        before = {k: v.asnumpy() for k, v in named_parameters(generator).items() if "moving" in k}
        record = NativeRecordedFake(generator, critic) if way == "native" else RecordedFake(generator, critic, kind="wgan-gp")
        record.set_train()
        out = [t.asnumpy() for t in record(x, prev)]
        statistics = [p.asnumpy() for name, p in critic.parameters_and_names() if ".moving_" in name]
        after = {k: v.asnumpy() for k, v in named_parameters(generator).items() if "moving" in k}
        assert all(np.array_equal(before[k], after[k]) for k in before)  # the generator's statistics stay
        results[way] = (out, statistics)
    (out, statistics), (want, want_statistics) = results["native"], results["autodiff"]
    assert len(out) == len(want) == 2 + 3 * (layers - 1) + 2
    for i, (got, ref) in enumerate(zip(out, want)):
        assert np.shape(got) == np.shape(ref), i
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max(), err_msg=str(i))
    for got, ref in zip(statistics, want_statistics):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_releasing_the_kernels_maps_between_scales_changes_nothing(ms):
    """Training frees the step kernels' maps when a scale ends; the next call rebuilds them."""
    from adapters.mindspore.networks import to_tensor
    from adapters.mindspore.steps import release_step_kernels
    from domain.networks import layer_widths

    net = NetworkConfig(channels=8, min_channels=8, max_channels=8, num_layers=5)
    widths = layer_widths(0, net)
    rng = np.random.default_rng(2)
    real, fake = (to_tensor(rng.uniform(-1, 1, (3, 24, 26)).astype(np.float32)) for _ in range(2))
    alpha = ms.Tensor(np.float32(0.4))
    first = _native_outputs(ms, _critic(ms, net, widths, "release1", 6), real, fake, alpha, 0.1)
    release_step_kernels()
    second = _native_outputs(ms, _critic(ms, net, widths, "release2", 6), real, fake, alpha, 0.1)
    np.testing.assert_array_equal(first[0], second[0])
    for a, b in zip(first[1] + first[2], second[1] + second[2]):
        np.testing.assert_array_equal(a, b)


def test_the_kernels_give_the_same_steps_with_their_tasks_in_turn():
    """The kernels run a step's two tasks on two threads here (small nets, two cores); with
    ``SINGAN_NATIVE_STEPS_MFLOP=0`` they run them in turn in one thread, as on the large scales
    or in a worker bound to one core. The comparisons with the autodiff steps, in that mode."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "SINGAN_NATIVE_STEPS_MFLOP": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(Path(__file__)),
         "-k", "equals_the_autodiff or trains_as_the_autodiff"],
        env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
