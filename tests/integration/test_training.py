"""Training and sampling end to end on real MindSpore, on a tiny image."""
from __future__ import annotations

import json

import numpy as np
import pytest

from adapters.progress import NullProgress
from tests.integration.conftest import TINY_IMAGE, tiny_config


def test_a_trained_model_has_one_amplitude_per_scale_starting_at_one(tiny_run):
    assert tiny_run.num_scales == 3
    assert tiny_run.amplitudes[0] == 1.0
    assert all(0 < a < 1 for a in tiny_run.amplitudes[1:])


def test_samples_have_the_training_shape_at_scale_one(tiny_run):
    import app

    samples = app.generate(tiny_run, 2, seed=1)
    assert len(samples) == 2
    for sample in samples:
        assert sample.dtype == np.uint8 and sample.shape == (*tiny_run.plan.finest_shape, 3)
    assert not np.array_equal(samples[0], samples[1])


def test_every_scale_outputs_its_planned_shape_at_other_output_sizes(tiny_run):
    from domain.sampling import output_shapes, random_noises, walk

    shapes = output_shapes(tiny_run.plan.shapes, scale_v=0.8, scale_h=1.6)
    seen = []

    def recording(scale, x, prev):
        out = tiny_run.generator(scale, x, prev)
        seen.append(out.shape)
        return out

    noises = random_noises(np.random.default_rng(0), shapes, coarsest_channels=tiny_run.coarsest_noise_channels)
    walk(recording, shapes=shapes, amplitudes=tiny_run.amplitudes, noises=noises, resampling=tiny_run.resampling)
    assert seen == [(3, *s) for s in shapes]


def test_generate_at_other_sizes_returns_the_scaled_shape(tiny_run):
    import app

    (sample,) = app.generate(tiny_run, 1, seed=2, scale_h=1.5, scale_v=0.75)
    h, w = tiny_run.plan.finest_shape
    assert sample.shape == (int(np.ceil(h * 0.75 - 1e-6)), int(np.ceil(w * 1.5 - 1e-6)), 3)


def test_the_same_seed_gives_identical_samples_and_another_seed_does_not(tiny_run):
    import app

    a = app.generate(tiny_run, 2, seed=11)
    b = app.generate(tiny_run, 2, seed=11)
    c = app.generate(tiny_run, 2, seed=12)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_a_higher_start_scale_varies_less_and_keeps_the_reconstruction_below(tiny_run):
    import app

    def spread(start):
        samples = np.stack([s.astype(np.float64) for s in app.generate(tiny_run, 4, seed=3, start_scale=start)])
        return samples.std(axis=0).mean()

    top = tiny_run.num_scales - 1
    assert spread(top) < spread(0)
    # Below the start scale every sample follows the reconstruction: the same input for all.
    from domain.sampling import random_noises, walk

    rng = np.random.default_rng(3)
    prev = tiny_run.reconstruction_prev(top)
    noises = random_noises(rng, tiny_run.plan.shapes, start_scale=top, coarsest_channels=tiny_run.coarsest_noise_channels)
    want = walk(tiny_run.generator, shapes=tiny_run.plan.shapes, amplitudes=tiny_run.amplitudes, noises=noises,
                resampling=tiny_run.resampling, start_scale=top, start_image=prev)
    from domain.imaging import to_uint8

    np.testing.assert_array_equal(app.generate(tiny_run, 1, seed=3, start_scale=top)[0], to_uint8(want))


def test_a_checkpoint_round_trip_gives_identical_samples(tiny_run):
    import app

    loaded = app.load(tiny_run.run_dir)
    assert loaded.amplitudes == pytest.approx(tiny_run.amplitudes, rel=1e-6)
    np.testing.assert_array_equal(loaded.z_star, tiny_run.z_star)
    for start in (0, 2):
        a = app.generate(tiny_run, 2, seed=5, start_scale=start)
        b = app.generate(loaded, 2, seed=5, start_scale=start)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_the_run_folder_records_manifest_images_losses_and_samples(tiny_run):
    run = tiny_run.run_dir
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["completed_scales"] == 3
    assert manifest["plan"]["shapes"] == [list(s) for s in tiny_run.plan.shapes]
    assert manifest["amplitudes"] == pytest.approx(list(tiny_run.amplitudes))
    assert manifest["config"]["train"]["seed"] == 7 and manifest["versions"]["mindspore"] == "2.10.0"
    for n in range(3):
        names = {p.name for p in (run / "scales" / f"scale_{n:02d}").iterdir()}
        assert {"real.png", "reconstruction.png", "sample_0.png"} <= names
        assert (run / "checkpoints" / f"scale_{n:02d}.ckpt").stat().st_size > 0
    records = [json.loads(line) for line in (run / "losses.jsonl").read_text().splitlines()]
    assert {r["scale"] for r in records} == {0, 1, 2}
    assert all(np.isfinite(r["critic"]) and np.isfinite(r["reconstruction"]) for r in records)
    for n in range(3):  # the clock of each scale starts again and only moves on
        seconds = [r["seconds"] for r in records if r["scale"] == n]
        assert 0 < seconds[0] and seconds == sorted(seconds) and seconds[-1] <= manifest["seconds_per_scale"][n]
    assert len(list((run / "samples").glob("*.png"))) == 8


def test_a_new_run_never_reuses_a_folder(tiny_run, tmp_path):
    from adapters.runs import RunFolder

    first = RunFolder.create(tmp_path, "x")
    second = RunFolder.create(tmp_path, "x")
    assert first.path != second.path and first.path.exists() and second.path.exists()


class StopAtScale(NullProgress):
    """A progress sink that presses Ctrl-C when a given scale starts."""

    def __init__(self, scale):
        self.scale = scale

    def scale_started(self, scale, num_scales, shape, iterations):
        if scale == self.scale:
            raise KeyboardInterrupt


def test_resume_after_an_interrupt_equals_an_unbroken_run(tiny_run, tmp_path):
    import app
    from adapters.mindspore import checkpoints
    from app.training import TrainingInterrupted
    from domain.errors import NotAModel

    with pytest.raises(TrainingInterrupted, match="--resume"):
        app.train(str(TINY_IMAGE), tiny_config(), out=tmp_path, progress=StopAtScale(2))
    (broken,) = tmp_path.iterdir()
    with pytest.raises(NotAModel, match="not a finished model"):
        app.load(broken)
    resumed = app.resume(broken)
    assert resumed.amplitudes == tiny_run.amplitudes
    for n in range(3):
        want = checkpoints.load(str(tiny_run.run_dir / "checkpoints" / f"scale_{n:02d}.ckpt"))
        got = checkpoints.load(str(broken / "checkpoints" / f"scale_{n:02d}.ckpt"))
        assert want.keys() == got.keys()
        for group in want:
            for name in want[group]:
                np.testing.assert_array_equal(got[group][name], want[group][name], err_msg=f"{n} {group}/{name}")
    a = app.generate(tiny_run, 2, seed=9)
    b = app.generate(resumed, 2, seed=9)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("loss", ["zero-gp", "lsgan"])
def test_the_other_losses_train_to_finite_values(loss, tmp_path):
    import app

    model = app.train(str(TINY_IMAGE), tiny_config(loss=loss, iterations=2), out=tmp_path)
    records = [json.loads(line) for line in (model.run_dir / "losses.jsonl").read_text().splitlines()]
    assert records and all(np.isfinite(r["critic"]) and np.isfinite(r["generator"]) for r in records)
    assert app.generate(model, 1, seed=0)[0].shape == (*model.plan.finest_shape, 3)


def test_a_checkpoint_that_does_not_match_the_network_fails_loudly(tiny_run):
    from adapters.mindspore.backend import MindSporePyramid
    from domain.errors import NotAModel

    backend = MindSporePyramid(tiny_run.config.network)
    checkpoints = tiny_run.run_dir / "checkpoints"
    backend.load_scale(0, str(checkpoints / "scale_00.ckpt"), shape=tiny_run.plan.shapes[0])
    backend.load_scale(1, str(checkpoints / "scale_01.ckpt"), shape=tiny_run.plan.shapes[1])
    # scale 2 is twice as wide as scale 1: its cells cannot take scale 1's weights
    with pytest.raises(NotAModel, match="shape"):
        backend.load_scale(2, str(checkpoints / "scale_01.ckpt"), shape=tiny_run.plan.shapes[2])


def test_the_coarsest_z_star_is_grey_and_the_last_of_the_draws_training_made(tiny_run):
    from adapters.mindspore import checkpoints
    from app.training import scale_streams
    from domain.noise import draw_noise

    z = tiny_run.z_star
    np.testing.assert_array_equal(z[0], z[1])
    np.testing.assert_array_equal(z[0], z[2])
    stored = checkpoints.load(str(tiny_run.run_dir / "checkpoints" / "scale_00.ckpt"))["scale"]["z_star"]
    np.testing.assert_array_equal(stored, z)
    # "redraw": not the z* drawn before training, which is what "fixed" keeps
    first = draw_noise(scale_streams(7, 3)[0][1], tiny_run.plan.shapes[0], 1)
    assert not np.array_equal(z, first)


def test_a_fixed_z_star_is_the_one_drawn_before_training(tmp_path):
    import app
    from app.training import scale_streams
    from domain.noise import draw_noise

    model = app.train(str(TINY_IMAGE), tiny_config(reconstruction_noise="fixed", iterations=2), out=None)
    np.testing.assert_array_equal(model.z_star, draw_noise(scale_streams(7, 3)[0][1], model.plan.shapes[0], 1))


def test_the_learning_rate_drops_at_the_milestone_and_not_before(tiny_run, tmp_path):
    import app
    from adapters.mindspore import checkpoints

    dropped = checkpoints.load(str(tiny_run.run_dir / "checkpoints" / "scale_02.ckpt"))
    assert dropped["generator_adam"]["learning_rate"] == pytest.approx(5e-5)  # milestone 3 of 5 iterations
    assert dropped["critic_adam"]["learning_rate"] == pytest.approx(5e-5)
    kept = app.train(str(TINY_IMAGE), tiny_config(lr_milestone=1600, iterations=2), out=tmp_path)
    stored = checkpoints.load(str(kept.run_dir / "checkpoints" / "scale_02.ckpt"))
    assert stored["generator_adam"]["learning_rate"] == pytest.approx(5e-4)


def test_the_cells_have_the_planned_layer_widths_and_official_initial_biases():
    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.backend import MindSporePyramid
    from adapters.mindspore.networks import initialise, named_parameters
    from domain.config import NetworkConfig
    from domain.networks import layer_widths

    cfg = NetworkConfig(channels=16, min_channels=4, max_channels=16)
    backend = MindSporePyramid(cfg)
    generator, critic = backend._new_cells(0)  # noqa: SLF001
    widths = layer_widths(0, cfg)
    assert widths == (16, 8, 4, 4)
    for cell, out in ((generator, 3), (critic, 1)):
        params = named_parameters(cell)
        convs = sorted((n for n in params if n.endswith("conv.weight")), key=lambda n: (n.count("body"), n))
        shapes = [params[n].shape for n in convs] + [params["net.tail.weight"].shape]
        assert [s[0] for s in shapes] == [*widths, out]
        assert [s[1] for s in shapes] == [3, *widths]
        initialise(cell, np.random.default_rng(0))
        for name, p in params.items():
            if name.endswith("bias"):
                fan_in = int(np.prod(params[name[: -len("bias")] + "weight"].shape[1:]))
                value = p.asnumpy()
                assert np.all(np.abs(value) <= 1 / np.sqrt(fan_in)) and np.any(value != 0)
        initialise(cell, np.random.default_rng(0), bias_init="zero")
        assert all(not p.asnumpy().any() for n, p in params.items() if n.endswith("bias"))


def _seeded_cells(cfg, seed: int):
    """Scale 0's generator and critic, initialised from ``seed``."""
    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.backend import MindSporePyramid
    from adapters.mindspore.networks import initialise

    generator, critic = MindSporePyramid(cfg.network)._new_cells(0)  # noqa: SLF001
    rng = np.random.default_rng(seed)
    initialise(generator, rng)
    initialise(critic, rng)
    return generator, critic, rng


def test_reused_fake_steps_apply_the_adversarial_gradient_taken_once_and_leave_batchnorm_statistics_alone():
    import mindspore as ms

    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.losses import AdversarialLoss
    from adapters.mindspore.networks import named_parameters, to_tensor
    from adapters.mindspore.steps import make_adam, make_generator_steps

    cfg = tiny_config(generator_fake="reuse")
    generator, critic, rng = _seeded_cells(cfg, 1)
    adam = make_adam(generator, cfg.train.lr_generator, cfg.train)
    steps = make_generator_steps(generator, critic, adam, cfg.train)
    x, prev, real = (to_tensor(rng.standard_normal((3, 18, 20)).astype(np.float32)) for _ in range(3))
    adversarial = AdversarialLoss(generator, critic, kind="wgan-gp")
    adversarial.set_train()
    want = [g.asnumpy() for g in ms.value_and_grad(adversarial, None, adam.parameters)(x, prev)[1]]
    stats = {n: p.asnumpy().copy() for n, p in named_parameters(generator).items() if ".moving_" in n}
    _, kept = steps.adversarial_gradient(x, prev)
    for got, expected in zip(kept, want):
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-4, atol=1e-6)
    for name, value in stats.items():  # as the official's generator steps, which never rerun the fake
        np.testing.assert_array_equal(named_parameters(generator)[name].asnumpy(), value)
    before = [p.asnumpy().copy() for p in adam.parameters]
    steps.step(real, x, prev, *kept)
    assert any(not np.array_equal(b, p.asnumpy()) for b, p in zip(before, adam.parameters))
    moved = [n for n, v in stats.items() if not np.array_equal(named_parameters(generator)[n].asnumpy(), v)]
    assert moved  # the reconstruction pass does update them


def test_the_fresh_fake_generator_loss_is_the_adversarial_term_plus_the_weighted_reconstruction():
    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.losses import AdversarialLoss, GeneratorLoss
    from adapters.mindspore.networks import to_tensor

    cfg = tiny_config(generator_fake="fresh")
    generator, critic, rng = _seeded_cells(cfg, 2)
    for cell in (generator, critic):
        cell.set_train(False)  # eval mode: both losses see the same BatchNorm statistics
    real, x, prev, rec_x, rec_prev = (rng.standard_normal((3, 18, 20)).astype(np.float32) for _ in range(5))
    total, (adversarial, mse) = GeneratorLoss(generator, critic, kind="wgan-gp", reconstruction_weight=10.0)(
        *map(to_tensor, (real, x, prev, rec_x, rec_prev)))
    alone = AdversarialLoss(generator, critic, kind="wgan-gp")(to_tensor(x), to_tensor(prev)).asnumpy()
    rec = generator(to_tensor(rec_x), to_tensor(rec_prev)).asnumpy()[0]
    expected_mse = float(((rec - real) ** 2).mean())
    assert float(adversarial.asnumpy()) == pytest.approx(float(alone), rel=1e-5)
    assert float(mse.asnumpy()) == pytest.approx(expected_mse, rel=1e-5)
    assert float(total.asnumpy()) == pytest.approx(float(alone) + 10.0 * expected_mse, rel=1e-5)
    assert rec.shape == real.shape


def test_the_critic_steps_coarser_samples_walk_as_one_batch_drawn_in_the_official_order(tiny_run):
    from adapters.mindspore.networks import run_inference
    from domain.ports import ScaleJob
    from domain.sampling import random_noises, walk

    model, backend = tiny_run, tiny_run.backend
    n, shapes = 2, model.plan.shapes
    job = ScaleJob(
        scale=n, shapes=shapes[: n + 1], amplitudes=tuple(model.amplitudes[: n + 1]), real=model.reals()[n],
        z_star=np.zeros((3, *shapes[0]), np.float32), reconstruction_prev=np.zeros((3, *shapes[n]), np.float32),
        channels=8, inherit=False, network=model.config.network, train=model.config.train,
        resampling=model.resampling,
    )
    prevs, alphas = backend._critic_inputs(job, np.random.default_rng(5), 3)  # noqa: SLF001
    rng = np.random.default_rng(5)  # the same stream, one step at a time as the official draws it
    for prev, alpha in zip(prevs, alphas):
        noises = random_noises(rng, shapes[:n], coarsest_channels=model.coarsest_noise_channels)
        alone = walk(model.generator, shapes=shapes[:n], amplitudes=model.amplitudes[:n], noises=noises,
                     resampling=model.resampling)
        np.testing.assert_allclose(prev, model.resampling.up(alone, shapes[n]), atol=2e-6)
        assert float(alpha.asnumpy()) == np.float32(rng.uniform())
    x = np.random.default_rng(1).standard_normal((2, 3, *shapes[1])).astype(np.float32)
    batch = run_inference(backend.generators[1], x, np.zeros_like(x))
    for k in range(2):
        np.testing.assert_allclose(batch[k], run_inference(backend.generators[1], x[k], np.zeros_like(x[k])), atol=1e-6)


def test_losses_are_read_from_their_tensors_only_when_asked_for():
    from mindspore import Tensor

    from adapters.mindspore.backend import LazyLosses

    class Counting:
        reads = 0

        def __init__(self, value):
            self.tensor = Tensor(np.float32(value))

        def asnumpy(self):
            Counting.reads += 1
            return self.tensor.asnumpy()

    losses = LazyLosses({"critic": Counting(1.5), "generator": Counting(-2.0)})
    assert Counting.reads == 0 and len(losses) == 2 and list(losses) == ["critic", "generator"]
    assert losses["critic"] == 1.5 and losses["critic"] == 1.5 and Counting.reads == 1
    assert dict(losses) == {"critic": 1.5, "generator": -2.0} and Counting.reads == 2


@pytest.mark.parametrize("way", ["written out", "surrogate"])
def test_the_official_generator_steps_start_from_the_exact_adversarial_gradient_and_leave_batchnorm_alone(way):
    import mindspore as ms
    from mindspore import nn

    import adapters.mindspore  # noqa: F401
    from adapters.mindspore.losses import AdversarialLoss
    from adapters.mindspore.networks import named_parameters, to_tensor
    from adapters.mindspore.steps import StaleGradient, SurrogateGradient, make_adam, make_generator_steps

    cfg = tiny_config(generator_fake="stale")
    generator, critic, rng = _seeded_cells(cfg, 6)
    adam = make_adam(generator, cfg.train.lr_generator, cfg.train)
    steps = make_generator_steps(generator, critic, adam, cfg.train)
    x, prev, real = (to_tensor(rng.standard_normal((3, 18, 20)).astype(np.float32)) for _ in range(3))
    stats = {n: p.asnumpy().copy() for n, p in named_parameters(generator).items() if ".moving_" in n}
    loss, at_fake, *graph = steps.record(x, prev)
    for name, value in stats.items():  # the official makes this pass once, in the critic step
        np.testing.assert_array_equal(named_parameters(generator)[name].asnumpy(), value)
    adversarial = AdversarialLoss(generator, critic, kind="wgan-gp")
    adversarial.set_train()
    want_loss, want = ms.value_and_grad(adversarial, None, adam.parameters)(x, prev)
    assert float(loss.asnumpy()) == pytest.approx(float(want_loss.asnumpy()), rel=1e-5)
    adversarial = StaleGradient(generator) if way == "written out" else SurrogateGradient(generator, adam.parameters)

    class Grad(nn.Cell):
        def __init__(self):
            super().__init__()
            self.adversarial = adversarial

        def construct(self, at_fake, *graph):
            return self.adversarial(at_fake, graph)

    for got, expected, p in zip(Grad()(at_fake, *graph), want, adam.parameters):
        expected = expected.asnumpy()
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max() + 1e-7,
                                   err_msg=p.name)
    before = [p.asnumpy().copy() for p in adam.parameters]
    steps.run(real, x, prev, real, prev)
    assert any(not np.array_equal(b, p.asnumpy()) for b, p in zip(before, adam.parameters))


class ModeRecorder(NullProgress):
    """Records MindSpore's execution mode at every scale's iterations, and the messages."""

    def __init__(self):
        self.scale, self.modes, self.messages = None, {}, []

    def scale_started(self, scale, num_scales, shape, iterations):
        self.scale = scale

    def iteration(self, iteration, losses):
        import mindspore as ms

        self.modes.setdefault(self.scale, set()).add(ms.get_context("mode"))

    def message(self, text):
        self.messages.append(text)


@pytest.mark.parametrize("generator_fake, kind", [("stale", "eager"), ("reuse", "eager"), ("stale", "split")])
def test_eager_steps_do_the_arithmetic_of_compiled_steps(generator_fake, kind):
    from mindspore import Tensor

    from adapters.mindspore.device import execution
    from adapters.mindspore.networks import named_parameters, normalise_by_hand
    from adapters.mindspore.steps import make_adam, make_critic_step, make_generator_steps

    cfg = tiny_config(generator_fake=generator_fake)

    def two_iterations(kind):
        generator, critic, rng = _seeded_cells(cfg, 1)
        normalise_by_hand(critic, kind == "eager")  # as the backend does
        critic_kind, generator_kind = {"graph": ("graph", "graph"), "split": ("graph", "eager")}.get(kind, (kind, kind))
        critic_step = make_critic_step(critic, generator, make_adam(critic, 5e-4, cfg.train), cfg.train)
        generator_steps = make_generator_steps(generator, critic, make_adam(generator, 5e-4, cfg.train), cfg.train)
        real, x, prev, rec_x, rec_prev = (Tensor(rng.standard_normal((1, 3, 18, 20)).astype(np.float32))
                                          for _ in range(5))
        losses = []
        with execution(critic_kind):
            for _ in range(2):
                losses.append(float(critic_step(real, x, prev, Tensor(np.float32(0.3)))[0].asnumpy()))
                with execution(generator_kind):
                    losses.append(float(generator_steps.run(real, x, prev, rec_x, rec_prev)[0].asnumpy()))
        weights = {f"{who}/{k}": v.asnumpy().copy() for who, cell in (("g", generator), ("d", critic))
                   for k, v in named_parameters(cell).items()}
        return losses, weights

    compiled, compiled_weights = two_iterations("graph")
    eager, eager_weights = two_iterations(kind)
    np.testing.assert_allclose(eager, compiled, rtol=1e-5)
    for name, want in compiled_weights.items():
        # A conv bias right before BatchNorm has a gradient of zero up to rounding, which Adam turns
        # into full-size steps of either sign; BatchNorm's running mean follows those biases.
        if name.endswith("conv.bias") or name.endswith("moving_mean"):
            continue
        np.testing.assert_allclose(eager_weights[name], want, rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("finest_kind", ["split", "eager"])
def test_auto_runs_op_by_op_only_what_does_not_fit_compiled(finest_kind, monkeypatch):
    import mindspore as ms

    import app
    from adapters.mindspore import memory, steps
    from app.bootstrap import images
    from domain.memory import scale_bytes
    from domain.pyramid import plan_pyramid

    cfg = tiny_config()
    models = memory.model_for("CPU", cfg.train.generator_fake)
    if models.frugal_kind() != finest_kind:  # the oneDNN convolutions' split needs less than eager:
        models = memory.MINDSPORE_STALE  # plan with the models where eager is the most frugal way
        monkeypatch.setattr(memory, "model_for", lambda device, generator_fake: models)
    image = images().load(str(TINY_IMAGE))
    shapes = plan_pyramid(image.shape[:2], cfg.pyramid).shapes
    finest = len(shapes) - 1

    def need(kind, n):
        return scale_bytes(shapes[n], n, cfg.network, models.for_execution(kind))

    limit = int(max([need("graph", n) for n in range(finest)] + [need(finest_kind, finest)])) + 1
    faster = {"split": "graph", "eager": "split"}[finest_kind]
    assert limit < need(faster, finest)  # the finest scale fits only this way
    recorder = ModeRecorder()
    generator_modes = []
    run = steps.GeneratorSteps.run

    def recording_run(self, *args):
        generator_modes.append((recorder.scale, ms.get_context("mode")))
        return run(self, *args)

    monkeypatch.setattr(steps.GeneratorSteps, "run", recording_run)
    model = app.train(str(TINY_IMAGE), cfg, memory_limit=limit, progress=recorder)
    critic_mode = ms.PYNATIVE_MODE if finest_kind == "eager" else ms.GRAPH_MODE
    assert recorder.modes == {**{n: {ms.GRAPH_MODE} for n in range(finest)}, finest: {critic_mode}}
    assert set(generator_modes) == {*((n, ms.GRAPH_MODE) for n in range(finest)), (finest, ms.PYNATIVE_MODE)}
    words = {"split": "runs its generator steps eagerly", "eager": "runs eagerly"}[finest_kind]
    assert any(f"scale {finest} {words}" in text for text in recorder.messages)
    assert ms.get_context("mode") == ms.GRAPH_MODE  # compiled again for sampling and what follows
    (sample,) = app.generate(model, 1, seed=1)
    assert sample.shape == model.image.shape and sample.std() > 0
