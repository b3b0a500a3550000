"""Collections: the pure rules (shards, run folder names, merging records, ETA), the collection
folder adapter, and train_folder's skip / resume / refuse logic with a hand-written fake backend."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from domain.collection import (
    Shard,
    counts,
    eta_seconds,
    format_duration,
    merge_records,
    natural_key,
    run_folder_name,
)
from domain.errors import ConfigError, InvalidRequest

# ---- the pure rules -----------------------------------------------------------------------


@st.composite
def shard_counts(draw):
    return draw(st.integers(1, 9)), draw(st.integers(0, 60))


@given(shard_counts())
def test_the_shards_of_a_folder_split_it_exactly_once_by_position_modulo_the_count(case):
    count, total = case
    items = [f"f{k}" for k in range(total)]
    shares = [Shard(index=i, count=count).take(items) for i in range(count)]
    assert sorted(sum(shares, []), key=natural_key) == items
    for i, share in enumerate(shares):
        assert all(items.index(name) % count == i for name in share)


@pytest.mark.parametrize("index, count", [(2, 2), (-1, 2), (0, 0), (0, True), (1.0, 2)])
def test_a_shard_outside_its_count_is_refused_with_the_range(index, count):
    with pytest.raises(ConfigError, match="shard"):
        Shard(index=index, count=count)


def test_workers_are_named_after_their_shard_so_each_writes_its_own_file():
    assert Shard(index=3, count=12).name == "worker-003-of-012"
    assert len({Shard(index=i, count=4).name for i in range(4)}) == 4


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=20)


@given(st.sets(names, min_size=1, max_size=8))
@example({"a.png", "a-png", "a png", "a_png"})
def test_run_folder_names_are_safe_and_never_shared_by_two_file_names(files):
    folders = [run_folder_name(f) for f in files]
    assert len(set(folders)) == len(files)
    for folder in folders:
        assert folder and not folder.startswith((".", "-")) and all(c.isascii() and (c.isalnum() or c in "._-") for c in folder)


def test_a_plain_file_name_is_its_own_run_folder_name():
    assert run_folder_name("photo_01.jpg") == "photo_01.jpg"
    assert run_folder_name("my photo.jpg").startswith("my-photo.jpg-")


def test_numbers_sort_as_numbers_and_mixed_names_sort_without_error():
    assert sorted(["10.png", "2.png", "frame10.png", "frame9.png", "1a.png"], key=natural_key) == [
        "1a.png", "2.png", "10.png", "frame9.png", "frame10.png"]
    assert sorted(["a.png", "a1.png", "1", "a"], key=natural_key)  # ints and text never compared


def test_merged_records_take_the_latest_state_and_keep_earlier_fields():
    records = [
        {"image": "b.png", "status": "complete", "time": "2026-01-01T00:00:05+00:00", "seconds": 3.0},
        {"image": "a.png", "status": "training", "run": "runs/a.png", "time": "2026-01-01T00:00:01+00:00"},
        {"image": "b.png", "status": "training", "run": "runs/b.png", "time": "2026-01-01T00:00:02+00:00"},
        {"image": "a.png", "status": "failed", "reason": "boom", "time": "2026-01-01T00:00:03+00:00"},
    ]
    merged = merge_records(records)
    assert merged["a.png"] == {"image": "a.png", "status": "failed", "run": "runs/a.png", "reason": "boom",
                               "time": "2026-01-01T00:00:03+00:00"}
    assert merged["b.png"]["status"] == "complete" and merged["b.png"]["run"] == "runs/b.png"
    assert counts(merged, 5) == {"complete": 1, "failed": 1, "skipped": 0, "training": 0, "pending": 3}


def test_the_eta_is_the_median_finished_time_times_the_images_left():
    assert eta_seconds([], 3) is None
    assert eta_seconds([10.0, 1000.0, 20.0], 2) == 40.0
    assert eta_seconds([10.0, 30.0], 0) == 0.0
    assert [format_duration(s) for s in (None, 5, 600, 9000)] == ["?", "5 s", "10 min", "2.5 h"]


# ---- the collection folder ----------------------------------------------------------------


def header(**config):
    return {"source": "/photos", "config": {"train": {"iterations": 5, **config}}}


def test_a_collection_is_made_once_and_reopened_with_the_same_config(tmp_path):
    from adapters.collection import CollectionFolder

    folder = CollectionFolder(tmp_path / "c")
    first = folder.create_or_check(header())
    again = CollectionFolder(tmp_path / "c").create_or_check({**header(), "source": "/elsewhere"})
    assert again == first and first["format"].startswith("singan-mindspore-collection")
    assert not [p for p in (tmp_path / "c").iterdir() if ".partial" in p.name]


def test_a_collection_made_with_another_config_is_refused_naming_the_field(tmp_path):
    from adapters.collection import CollectionFolder, NotACollection

    CollectionFolder(tmp_path / "c").create_or_check(header())
    with pytest.raises(NotACollection, match=r"train.iterations: 5 there, 7 here.*--resume"):
        CollectionFolder(tmp_path / "c").create_or_check(header(iterations=7))


def test_a_folder_holding_something_else_is_never_written_into(tmp_path):
    from adapters.collection import CollectionFolder, NotACollection

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "thesis.tex").write_text("precious")
    with pytest.raises(NotACollection, match="not a collection.*thesis.tex"):
        CollectionFolder(tmp_path / "c").create_or_check(header())
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["thesis.tex"]


def test_records_from_several_workers_merge_and_a_line_cut_by_a_kill_is_skipped(tmp_path):
    from adapters.collection import CollectionFolder

    folder = CollectionFolder(tmp_path)
    folder.record("worker-000-of-002", {"image": "a.png", "status": "training", "time": "1"})
    folder.record("worker-001-of-002", {"image": "b.png", "status": "complete", "time": "2"})
    folder.record("worker-000-of-002", {"image": "a.png", "status": "complete", "time": "3"})
    with open(tmp_path / "workers" / "worker-001-of-002.jsonl", "a") as f:
        f.write('{"image": "c.png", "sta')
    states = folder.states()
    assert {k: v["status"] for k, v in states.items()} == {"a.png": "complete", "b.png": "complete"}


def test_a_run_folder_killed_before_its_manifest_is_cleared_and_anything_else_kept(tmp_path):
    from adapters.collection import CollectionFolder

    folder = CollectionFolder(tmp_path)
    run = folder.run_path("a.png")
    run.mkdir(parents=True)
    (run / "image.png").write_bytes(b"x")
    assert folder.clear_unstarted_run("a.png") and not run.exists()
    run.mkdir(parents=True)
    (run / "notes.txt").write_text("mine")
    assert not folder.clear_unstarted_run("a.png") and (run / "notes.txt").exists()


# ---- train_folder with a fake backend -----------------------------------------------------


class FakeBackend:
    """Trains nothing: its 'generator' blends noise into prev; saves what a checkpoint needs."""

    def __init__(self, fail_on_scale=None):
        self.trained = 0
        self.fail_on_scale = fail_on_scale

    @property
    def num_trained(self):
        return self.trained

    def generate(self, scale, x, prev):
        return np.clip(prev + 0.3 * x, -1, 1).astype(np.float32)

    executions: list = []  # (scale, job.execution) of every scale any fake trained

    def train_scale(self, job, rng, on_iteration):
        FakeBackend.executions.append((job.scale, job.execution))
        if job.scale == self.fail_on_scale:
            raise KeyboardInterrupt  # a kill in the middle of a scale
        on_iteration(0, {"critic": 0.0, "generator": 0.0, "reconstruction": 0.5})
        self.trained += 1
        return job.z_star

    def save_scale(self, scale, path, *, z_star, amplitude):
        with open(path, "wb") as f:
            np.save(f, np.asarray(z_star, np.float32))
            np.save(f, np.float32(amplitude))

    def load_scale(self, scale, path, *, shape):
        with open(path, "rb") as f:
            z, amplitude = np.load(f), float(np.load(f))
        self.trained = scale + 1
        return z, amplitude


@pytest.fixture
def fake_backends(monkeypatch):
    """Every model gets a FakeBackend; set ``plan["fail"] = (image index, scale)`` to kill one."""
    from app import bootstrap

    plan = {"made": 0, "fail": None}

    def make(network, *, device="CPU"):
        index = plan["made"]
        plan["made"] += 1
        fail = plan["fail"]
        return FakeBackend(fail_on_scale=fail[1] if fail and fail[0] == index else None)

    monkeypatch.setattr(bootstrap, "backend", make)
    return plan


def small_config(**overrides):
    from domain.config import SinGANConfig

    return SinGANConfig().with_overrides({"pyramid.min_size": 12, "pyramid.max_size": 20,
                                          "train.iterations": 1, **overrides})


def photo_folder(tmp_path, names=("1.png", "2.png", "10.png")):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (18, 20, 3), dtype=np.uint8)).save(folder / name)
    return folder


def test_every_image_trains_into_its_own_run_and_the_rest_is_skipped_with_a_reason(tmp_path, fake_backends):
    from app.collection import train_folder

    folder = photo_folder(tmp_path)
    (folder / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(folder / "tiny.png")
    lines = []
    states = train_folder(folder, small_config(), out=tmp_path / "c", progress=lines.append)
    assert {k: v["status"] for k, v in states.items()} == {
        "1.png": "complete", "2.png": "complete", "10.png": "complete", "notes.txt": "skipped", "tiny.png": "skipped"}
    assert "too small" in states["tiny.png"]["reason"] or "min_size" in states["tiny.png"]["reason"]
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["files"] == ["1.png", "2.png", "10.png", "notes.txt", "tiny.png"]
    assert manifest["counts"] == {"complete": 3, "failed": 0, "skipped": 2, "training": 0, "pending": 0}
    assert all(os.path.isdir(tmp_path / "c" / s["run"]) for s in states.values() if s["status"] == "complete")
    assert "run" not in states["notes.txt"] and "run" not in states["tiny.png"]
    index = (tmp_path / "c" / "index.html").read_text()
    assert 'href="runs/10.png/report.html"' in index and "runs/10.png/image.png" in index
    assert len(lines) == 6 and lines[1].startswith("1.png: complete") and "collection 1/5 done, ETA " in lines[1]


def test_a_rerun_skips_finished_images_and_resumes_an_interrupted_one_at_its_last_scale(tmp_path, fake_backends):
    from app.collection import train_folder
    from app.training import TrainingInterrupted

    folder = photo_folder(tmp_path)
    fake_backends["fail"] = (1, 1)  # the second image is killed during its scale 1
    with pytest.raises(TrainingInterrupted, match="rerun the same command"):
        train_folder(folder, small_config(), out=tmp_path / "c")
    fake_backends["fail"] = None
    lines = []
    states = train_folder(folder, small_config(), out=tmp_path / "c", progress=lines.append)
    assert all(s["status"] == "complete" for s in states.values())
    assert states["2.png"]["resumed_from_scale"] == 1
    assert lines[1].startswith("1.png: already complete")
    assert "resumed at scale 1" in lines[2]


def test_a_collection_is_not_continued_with_another_config_unless_resumed(tmp_path, fake_backends):
    from adapters.collection import NotACollection
    from app.collection import train_folder
    from domain.collection import Shard

    folder = photo_folder(tmp_path)
    train_folder(folder, small_config(), out=tmp_path / "c", shard=Shard(index=0, count=2))
    with pytest.raises(NotACollection, match="another config"):
        train_folder(folder, small_config(**{"train.iterations": 2}), out=tmp_path / "c")
    states = train_folder(folder, None, out=tmp_path / "c", resume=True, shard=Shard(index=1, count=2))
    assert all(s["status"] == "complete" for s in states.values())
    iterations = {json.loads((tmp_path / "c" / s["run"] / "manifest.json").read_text())["config"]["train"]["iterations"]
                  for s in states.values()}
    assert iterations == {1}


def test_an_empty_folder_or_one_with_no_images_fails_before_anything_is_written(tmp_path):
    from app.collection import train_folder
    from domain.errors import BadImage

    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidRequest, match="is empty"):
        train_folder(tmp_path / "empty", out=tmp_path / "c")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("x")
    with pytest.raises(InvalidRequest, match="holds no images"):
        train_folder(tmp_path / "texts", out=tmp_path / "c")
    with pytest.raises(BadImage, match="no such folder"):
        train_folder(tmp_path / "missing", out=tmp_path / "c")
    with pytest.raises(BadImage, match="is a file"):
        train_folder(tmp_path / "texts" / "a.txt", out=tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_an_image_whose_plan_does_not_fit_in_memory_is_skipped_with_the_reason(tmp_path, fake_backends):
    from app.collection import train_folder

    folder = photo_folder(tmp_path, names=("1.png",))
    states = train_folder(folder, small_config(), out=tmp_path / "c", memory_limit=2**20)
    assert states["1.png"]["status"] == "skipped" and "training needs about" in states["1.png"]["reason"]
    assert not (tmp_path / "c" / "runs").exists()
    assert fake_backends["made"] == 0


def test_the_memory_limit_also_decides_which_scales_run_op_by_op(tmp_path, fake_backends, monkeypatch):
    from adapters.mindspore.memory import model_for
    from app.collection import train_folder
    from domain.memory import choose_executions, scale_bytes
    from domain.pyramid import plan_pyramid

    monkeypatch.setattr(FakeBackend, "executions", [])
    cfg = small_config()
    shapes = plan_pyramid((18, 20), cfg.pyramid).shapes
    models = model_for("CPU", cfg.train.generator_fake)
    limit = int(scale_bytes(shapes[-1], len(shapes) - 1, cfg.network, models.graph)) - 1  # finest not compiled
    expected = choose_executions(shapes, cfg.network, models, "auto", limit)
    assert expected[-1] != "graph"
    states = train_folder(photo_folder(tmp_path, names=("1.png",)), cfg, out=tmp_path / "c", memory_limit=limit)
    assert states["1.png"]["status"] == "complete"
    assert FakeBackend.executions == list(enumerate(expected))


def test_every_public_name_of_app_resolves():
    import app

    for name in app.__all__:
        assert getattr(app, name) is not None, name
    assert app.train_folder.__module__ == "app.collection"
