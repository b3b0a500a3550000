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

    noises = random_noises(np.random.default_rng(0), shapes)
    walk(recording, shapes=shapes, amplitudes=tiny_run.amplitudes, noises=noises)
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


def test_a_higher_start_scale_stays_closer_to_the_training_image(tiny_run):
    import app

    real = tiny_run.image.astype(np.float64)

    def distance(start):
        samples = app.generate(tiny_run, 4, seed=3, start_scale=start)
        return np.mean([np.sqrt(np.mean((s.astype(np.float64) - real) ** 2)) for s in samples])

    assert distance(tiny_run.num_scales - 1) < distance(0)


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
