"""One training iteration of the official SinGAN code, reproduced to float32 rounding.

``tests/data/official_iteration.npz`` holds what the official code (tamarott/SinGAN at 1b4906b,
PyTorch, MIT licence; how it was recorded: ``tests/data/ATTRIBUTION.md``) did in one iteration at
scale 0 and one at scale 1 of the hubble image at 64 px, with 3-layer nets: the initial weights,
the training image, every noise map and penalty mixing weight it drew, the coarser samples it made,
and the weights after the iteration. Fed the same values, our backend must end the iteration with
the same weights: the critic steps with their penalty, the three generator steps through the stale
graph of the last fake, the reconstruction from a freshly drawn grey z* at scale 0 and from the
coarser reconstruction at scale 1, the noise amplitude, Adam and the BatchNorm statistics.

Adam's epsilon is 1e-30 on both sides: MindSpore adds it before the bias correction, PyTorch after,
which differs while a gradient is below about 1e-6 (README, "Fidelity to the official code"). Two
things are left out of the comparison, both without effect on any output: the conv biases in front
of BatchNorm (their gradient is rounding noise on both sides, which Adam turns into full steps) with
the running means that follow them, and the critic's running statistics (the official's generator
steps update them too; the critic only ever runs in training mode).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.integration.conftest import DATA

FIXTURE = DATA / "official_iteration.npz"
LR = 5e-4
# Rounding leaves the weights about 3e-6 of their move apart (1e-7 absolute). Now and then a
# gradient element sums to within rounding of zero, and Adam's first, sign-like step sends that
# weight 2 * LR the other way on one side; its neighbours then follow a little. A real difference
# in the training step (the reconstruction taken from stale weights, say) moves the median 1-3%.
MEDIAN_OF_MOVE = 2e-3  # median |ours - official| against the median move
FLIPPED = 0.002  # share of weights apart by more than LR / 10


@pytest.fixture(scope="module")
def official():
    with np.load(FIXTURE) as data:
        return dict(data)


@pytest.fixture(scope="module")
def ms():
    import adapters.mindspore  # noqa: F401  (environment before MindSpore loads)
    from adapters.mindspore.device import configure

    configure("CPU")
    import mindspore

    return mindspore


def _config():
    from domain.config import preset

    return preset("paper").with_overrides({"network.num_layers": 3, "train.iterations": 1})


def _official_name(name: str, *, generator: bool) -> str:
    """Our parameter path -> the official state-dict key (``net.body.0.bn.gamma`` ->
    ``body.block1.norm.weight``; the generator's tail conv sits in a Sequential with its Tanh)."""
    name = name.removeprefix("net.")
    name = re.sub(r"body\.(\d+)", lambda m: f"body.block{int(m.group(1)) + 1}", name)
    for ours, theirs in (("bn.gamma", "norm.weight"), ("bn.beta", "norm.bias"),
                         ("bn.moving_mean", "norm.running_mean"), ("bn.moving_variance", "norm.running_var")):
        name = name.replace(ours, theirs)
    if generator and name.startswith("tail."):
        name = "tail.0." + name.removeprefix("tail.")
    return ("G." if generator else "D.") + name


def _load(cell, official, prefix: str) -> None:
    from mindspore import Tensor

    from adapters.mindspore.networks import Generator, named_parameters

    for name, param in named_parameters(cell).items():
        value = official[f"{prefix}.{_official_name(name, generator=isinstance(cell, Generator))}"]
        assert value.shape == tuple(param.shape), name
        param.set_data(Tensor(value.astype(np.float32)))


def _compared(cell, official, prefix: str):
    """(our path, ours, official's) for every parameter the comparison covers."""
    from adapters.mindspore.networks import Generator, named_parameters

    generator = isinstance(cell, Generator)
    for name, param in named_parameters(cell).items():
        before_norm_bias = name.endswith("conv.bias") or name.endswith("moving_mean")  # and the means that follow them
        critic_statistics = not generator and ".moving_" in name
        if before_norm_bias or critic_statistics:
            continue
        yield name, param.asnumpy(), official[f"{prefix}.{_official_name(name, generator=generator)}"]


class _Draws:
    """The official's draws, handed out in the order it drew them; fails on one draw too many."""

    def __init__(self, noises, alphas):
        self.noises, self.alphas = list(noises), [float(a) for a in alphas]

    def noise(self, rng, shape, channels=3):
        value = self.noises.pop(0)
        assert value.shape[1:] == tuple(shape)
        return np.repeat(value, 3, axis=0) if value.shape[0] == 1 else value

    def uniform(self):
        return self.alphas.pop(0)

    def spent(self) -> bool:
        return not self.noises and not self.alphas


@pytest.fixture
def backend(ms, monkeypatch, official):
    """Our backend with the official's initial weights, Adam at the official's epsilon placement's
    limit (1e-30 both sides) and the official's draws in place of ours."""
    from mindspore import Tensor, nn

    import adapters.mindspore.backend as backend_module

    def adam(cell, lr, cfg):
        return nn.Adam(cell.trainable_params(), learning_rate=Tensor(lr, ms.float32), beta1=cfg.beta1,
                       beta2=cfg.beta2, eps=1e-30)

    monkeypatch.setattr(backend_module, "make_adam", adam)
    return backend_module


def _job(cfg, *, scale, shapes, amplitudes, real, rec_prev, resampling):
    from domain.networks import channels_at
    from domain.ports import ScaleJob

    return ScaleJob(scale=scale, shapes=shapes, amplitudes=amplitudes, real=real, z_star=np.zeros_like(real),
                    reconstruction_prev=rec_prev, channels=channels_at(scale, cfg.network), inherit=False,
                    network=cfg.network, train=cfg.train, resampling=resampling, execution="graph")


def _assert_same(pyramid, scale, official):
    for cell, kind in ((pyramid.generators[scale], "generator"), (pyramid.critics[scale], "critic")):
        for name, ours, theirs in _compared(cell, official, f"s{scale}.final"):
            before = official[f"s{scale}.init.{_official_name(name, generator=kind == 'generator')}"]
            apart = np.abs(ours - theirs)
            move = np.median(np.abs(theirs - before))
            assert np.median(apart) <= MEDIAN_OF_MOVE * move + 1e-9, (kind, name, np.median(apart), move)
            assert np.mean(apart > LR / 10) <= FLIPPED, (kind, name, int(np.sum(apart > LR / 10)), apart.size)


def test_scale_0_iteration_matches_the_official(backend, monkeypatch, official):
    from domain.resize import Resampling

    cfg = _config()
    draws = _Draws([official["s0.z_opt"], official["s0.noise"]], official["s0.alphas"])
    monkeypatch.setattr(backend, "draw_noise", draws.noise)
    monkeypatch.setattr(backend, "initialise", lambda cell, rng, **_: _load(cell, official, "s0.init"))
    real = official["s0.real"]
    monkeypatch.setattr(backend.MindSporePyramid, "_critic_inputs",
                        lambda self, job, rng, count: (np.zeros((count, *real.shape), np.float32),
                                                       [backend.Tensor(np.float32(draws.uniform())) for _ in range(count)]))
    pyramid = backend.MindSporePyramid(cfg.network)
    job = _job(cfg, scale=0, shapes=(real.shape[1:],), amplitudes=(1.0,), real=real, rec_prev=np.zeros_like(real),
               resampling=Resampling(kind="bicubic", factor=float(official["factor"])))
    z_star = pyramid.train_scale(job, np.random.default_rng(0), lambda *_: None)
    assert draws.spent()
    pad = (official["s0.z_star"].shape[-1] - real.shape[-1]) // 2
    np.testing.assert_array_equal(z_star, official["s0.z_star"][:, pad:-pad, pad:-pad])  # the last z* drawn
    _assert_same(pyramid, 0, official)


def _scale_1(backend, monkeypatch, official):
    """Our backend with the official's trained scale 0 and scale 1's job, as our training makes it
    from that scale (its reconstruction and amplitude are ours, checked against the official's)."""
    from domain.noise import noise_amplitude, rmse
    from domain.resize import Resampling
    from domain.sampling import walk

    cfg = _config()
    pyramid = backend.MindSporePyramid(cfg.network)
    coarsest, _ = pyramid._new_cells(0)
    _load(coarsest, official, "s1.g0")
    coarsest.set_train(False)
    backend.any_shape(coarsest)
    pyramid.generators.append(coarsest)
    pyramid.critics.append(None)  # scale 1 starts from the official's copy, not from ours
    real0, real = official["s1.real0"], official["s1.real"]
    shapes = (real0.shape[1:], real.shape[1:])
    resampling = Resampling(kind="bicubic", factor=float(official["factor"]))
    pad = (official["s1.z_star0"].shape[-1] - real0.shape[-1]) // 2
    z_star = official["s1.z_star0"][:, pad:-pad, pad:-pad]
    rec0 = walk(pyramid.generate, shapes=shapes[:1], amplitudes=(1.0,), noises=[z_star[None]], resampling=resampling)
    rec_prev = resampling.up(rec0, shapes[1])[0]
    amplitude = noise_amplitude(1, rmse(real, rec_prev), base=cfg.train.noise_amp_base)
    job = _job(cfg, scale=1, shapes=shapes, amplitudes=(1.0, amplitude), real=real, rec_prev=rec_prev,
               resampling=resampling)
    monkeypatch.setattr(backend, "initialise", lambda cell, rng, **_: _load(cell, official, "s1.init"))
    return pyramid, job


def test_scale_1_inputs_match_the_official(backend, monkeypatch, official):
    """The coarser samples our walk makes from the official's noises, our reconstruction and our
    noise amplitude, against the official's: equal up to the 8-bit round trip of every resize,
    where a value within rounding of a level boundary falls either side (one level, 2/255)."""
    pyramid, job = _scale_1(backend, monkeypatch, official)
    level = 2 / 255
    np.testing.assert_allclose(job.reconstruction_prev, official["s1.reconstruction_prev"], rtol=0, atol=level + 1e-5)
    assert job.amplitudes[1] == pytest.approx(float(official["s1.amplitude"]), rel=1e-3)
    draws = _Draws([], official["s1.alphas"])
    coarser = list(official["s1.coarser_noise"])  # one grey map at scale 0 for each critic step
    monkeypatch.setattr(backend, "random_noises",
                        lambda rng, shapes, coarsest_channels: [np.repeat(coarser.pop(0), 3, axis=0)])
    prevs, _ = pyramid._critic_inputs(job, draws, 3)
    assert draws.spent() and not coarser
    off = np.abs(prevs - official["s1.prevs"])
    assert off.max() <= level + 1e-5
    assert np.mean(off > 1e-5) < 0.01  # a handful of boundary values, not a shift


def test_scale_1_iteration_matches_the_official(backend, monkeypatch, official):
    """Given the official's coarser samples and reconstruction (so no 8-bit boundary falls the
    other way), one iteration at scale 1 ends where the official's does."""
    import attrs

    pyramid, job = _scale_1(backend, monkeypatch, official)
    job = attrs.evolve(job, reconstruction_prev=official["s1.reconstruction_prev"].astype(np.float32),
                       amplitudes=(1.0, float(official["s1.amplitude"])))
    draws = _Draws([official["s1.noise"]], official["s1.alphas"])
    monkeypatch.setattr(backend, "draw_noise", draws.noise)
    monkeypatch.setattr(backend.MindSporePyramid, "_critic_inputs",
                        lambda self, job, rng, count: (official["s1.prevs"].astype(np.float32),
                                                       [backend.Tensor(np.float32(draws.uniform())) for _ in range(count)]))
    pyramid.train_scale(job, np.random.default_rng(0), lambda *_: None)
    assert draws.spent()
    _assert_same(pyramid, 1, official)
