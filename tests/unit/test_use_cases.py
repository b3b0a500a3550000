"""The use cases orchestrate the pure core and a backend: checked with a hand-written fake backend,
no MindSpore."""
from __future__ import annotations

import numpy as np
import pytest

from adapters.progress import NullProgress
from app.generation import generate
from app.model import Model
from app.training import _train_scales, fit_image, scale_streams
from domain.config import SinGANConfig
from domain.networks import inherits_weights
from domain.noise import rmse


class FakeBackend:
    """A 'generator' that adds a fixed fraction of the noise to prev; records every job."""

    def __init__(self):
        self.jobs = []
        self.trained = 0

    @property
    def num_trained(self):
        return self.trained

    def generate(self, scale, x, prev):
        return prev + 0.5 * (x - prev) + 0.01 * (scale + 1)

    def train_scale(self, job, rng, on_iteration):
        self.jobs.append(job)
        for i in range(job.train.iterations):
            on_iteration(i, {"critic": 0.0, "generator": 1.0, "reconstruction": 0.5})
        self.trained += 1
        # As a backend that redraws z* every iteration: the z* it ends with is not the one it got.
        self.returned = job.z_star + 1.0 if job.scale == 0 else job.z_star
        return self.returned


CONFIG = SinGANConfig().with_overrides(
    {"pyramid.min_size": 10, "pyramid.max_size": 40, "network.double_every": 2, "train.iterations": 3}
)


def trained_model(seed=0):
    image = np.random.default_rng(seed).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    plan, fitted = fit_image(image, CONFIG)
    backend = FakeBackend()
    model = Model(config=CONFIG, plan=plan, amplitudes=(), z_star=np.zeros(0), image=fitted, backend=backend)
    _train_scales(model, start=0, progress=NullProgress(), images=None)
    return model, backend


def test_scales_train_in_order_with_their_shapes_widths_and_inheritance():
    model, backend = trained_model()
    assert [job.scale for job in backend.jobs] == list(range(model.num_scales))
    for job in backend.jobs:
        assert job.shape == model.plan.shapes[job.scale] and job.real.shape == (3, *job.shape)
        assert job.inherit == inherits_weights(job.scale, CONFIG.network)
    assert any(job.inherit for job in backend.jobs) and not all(job.inherit for job in backend.jobs[1:])


def test_the_coarsest_scale_gets_z_star_and_amplitude_one_and_the_rest_zeros_and_the_rmse_rule():
    model, backend = trained_model()
    first = backend.jobs[0]
    assert first.amplitudes == (1.0,) and np.array_equal(first.z_star + 1.0, model.z_star)
    np.testing.assert_array_equal(first.z_star[0], first.z_star[1])  # grey, as the official
    assert not first.reconstruction_prev.any()
    reals = model.reals()
    for job in backend.jobs[1:]:
        assert not job.z_star.any()
        want = np.float32(0.1 * rmse(reals[job.scale], job.reconstruction_prev))
        assert job.amplitudes[job.scale] == pytest.approx(float(want))
        expected_prev = model.resampling.up(model.reconstruct(stop_scale=job.scale), job.shape)
        np.testing.assert_allclose(job.reconstruction_prev, expected_prev, atol=1e-6)
        assert job.resampling == model.resampling


def test_the_model_keeps_the_z_star_the_coarsest_scale_ended_with():
    # With reconstruction_noise "redraw" the backend's last draw is z*: every finer scale's
    # reconstruction (and so its noise amplitude) starts from it.
    model, backend = trained_model()
    scale1 = backend.jobs[1]
    prev = model.resampling.up(model.generator(0, model.z_star, np.zeros_like(model.z_star)), scale1.shape)
    np.testing.assert_allclose(scale1.reconstruction_prev, prev, atol=1e-6)


def test_each_scale_draws_from_its_own_stream_whatever_ran_before():
    a = [rng.random() for rng in scale_streams(5, 4)[2]]
    b = [rng.random() for rng in scale_streams(5, 6)[2]]
    assert a == b


def test_generate_is_reproducible_and_start_scales_follow_the_reconstruction_below():
    model, _ = trained_model()
    assert all(np.array_equal(x, y) for x, y in zip(generate(model, 2, seed=3), generate(model, 2, seed=3)))
    top = model.num_scales - 1
    calls = []
    original = model.backend.generate
    model.backend.generate = lambda scale, x, prev: calls.append(scale) or original(scale, x, prev)
    generate(model, 1, seed=0, start_scale=top)
    # the reconstruction runs scales 0..top-1 once, then only the top scale gets fresh noise
    assert calls == list(range(top)) + [top]


def test_generate_at_other_sizes_scales_the_output():
    model, _ = trained_model()
    (sample,) = generate(model, 1, seed=0, scale_h=2.0, scale_v=0.5)
    h, w = model.plan.finest_shape
    assert sample.shape == (int(np.ceil(h * 0.5)), 2 * w, 3) and sample.dtype == np.uint8


def test_reconstructions_in_one_pass_equal_each_scale_reconstructed_alone():
    model, _ = trained_model()
    alone = [model.reconstruct(stop_scale=k + 1) for k in range(model.num_scales)]
    assert all(np.array_equal(a, b) for a, b in zip(model.reconstructions(), alone, strict=True))


def test_the_image_is_fitted_as_the_official_does_a_resize_by_max_size_over_the_long_side():
    import attrs

    from domain.config import QUANTIZE_KINDS
    from domain.resize import Resampling, fit_pixels

    image = np.random.default_rng(3).integers(0, 255, (60, 90, 3), dtype=np.uint8)
    for quantize in QUANTIZE_KINDS:
        config = attrs.evolve(CONFIG, pyramid=attrs.evolve(CONFIG.pyramid, quantize=quantize))
        plan, fitted = fit_image(image, config)
        assert plan.finest_shape == (27, 40)
        resampling = Resampling(kind="bicubic", factor=plan.factor)
        want = fit_pixels(image, (27, 40), scale=40 / 90, resampling=resampling, quantize=quantize)
        np.testing.assert_array_equal(fitted, want)
        small = image[:20, :30]
        want_small = fit_pixels(small, (20, 30), scale=1.0, resampling=resampling, quantize=quantize)
        np.testing.assert_array_equal(fit_image(small, config)[1], want_small)  # never enlarged
    np.testing.assert_array_equal(fit_image(small, config)[1], small)  # "round", the last: kept as it is


def test_a_loss_that_turns_nan_stops_training_at_the_next_logged_iteration_naming_it():
    from domain.errors import TrainingDiverged

    class Diverging(FakeBackend):
        def train_scale(self, job, rng, on_iteration):
            if job.scale == 1:
                on_iteration(0, {"critic": 0.5, "generator": float("nan"), "reconstruction": 0.5})
                raise AssertionError("training went on after a NaN loss")
            return super().train_scale(job, rng, on_iteration)

    image = np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    plan, fitted = fit_image(image, CONFIG)
    backend = Diverging()
    model = Model(config=CONFIG, plan=plan, amplitudes=(), z_star=np.zeros(0), image=fitted, backend=backend)
    with pytest.raises(TrainingDiverged, match=r"scale 1, iteration 0: the generator loss is nan"):
        _train_scales(model, start=0, progress=NullProgress(), images=None)
    assert backend.trained == 1  # the scale before it stands
