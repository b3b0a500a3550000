"""Comparing a run's samples with folders of other images, with a fake backend (no MindSpore)."""
from __future__ import annotations

import numpy as np
import pytest

from adapters.images import PillowImages
from app.comparison import compare, format_comparison
from app.generation import generate
from domain.errors import InvalidRequest, SinGANError
from domain.imaging import to_signed
from domain.metrics import SWDSettings, diversity, sliced_wasserstein
from tests.unit.test_use_cases import trained_model


def _write(folder, images):
    folder.mkdir()
    for k, image in enumerate(images):
        PillowImages().save(str(folder / f"{k}.png"), image)
    return folder


def test_the_run_and_every_folder_are_scored_against_the_training_image(tmp_path):
    model, _ = trained_model()
    rng = np.random.default_rng(0)
    h, w = model.plan.finest_shape
    same = _write(tmp_path / "same", [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(3)])
    result = compare(model, same, n=4, seed=2)
    assert [r["count"] for r in result["rows"]] == [4, 3]
    real = to_signed(model.image)
    own = [to_signed(s) for s in generate(model, 4, seed=2)]
    assert result["rows"][0]["swd"] == pytest.approx(sliced_wasserstein(real, own, SWDSettings())[0])
    assert result["rows"][0]["diversity"] == pytest.approx(diversity(own, real))
    theirs = [to_signed(PillowImages().load(str(same / f"{k}.png"))) for k in range(3)]
    assert result["rows"][1]["swd"] == pytest.approx(sliced_wasserstein(real, theirs, SWDSettings())[0])
    assert result["rows"][1]["resized_from"] == []
    assert "note" not in format_comparison(result)


def test_images_of_another_size_are_resized_and_the_output_says_so(tmp_path):
    model, _ = trained_model()
    h, w = model.plan.finest_shape
    rng = np.random.default_rng(1)
    bigger = _write(tmp_path / "other", [rng.integers(0, 256, (2 * h, 2 * w, 4), dtype=np.uint8) for _ in range(2)])
    result = compare(model, bigger, n=2, seed=0)
    assert [tuple(s) for s in result["rows"][1]["resized_from"]] == [(2 * h, 2 * w)]
    text = format_comparison(result)
    assert f"resized to {h}x{w}" in text and f"{2 * h}x{2 * w}" in text


def test_identical_copies_of_the_training_image_score_zero_distance_and_no_diversity(tmp_path):
    model, _ = trained_model()
    copies = _write(tmp_path / "copies", [model.image] * 3)
    row = compare(model, copies, n=2, seed=0)["rows"][1]
    assert row["swd"] == pytest.approx(0.0, abs=1e-9) and row["diversity"] == pytest.approx(0.0, abs=1e-12)


def test_a_folder_without_two_images_is_refused_before_any_sampling(tmp_path):
    model, _ = trained_model()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    with pytest.raises(InvalidRequest, match="at least 2 images"):
        compare(model, empty, n=2)
    with pytest.raises(SinGANError, match="no such folder"):
        compare(model, tmp_path / "missing", n=2)


def test_images_are_listed_in_numeric_order(tmp_path):
    folder = _write(tmp_path / "f", [np.zeros((4, 4, 3), np.uint8)] * 11)
    names = [p.rsplit("/", 1)[-1] for p in PillowImages().list_images(str(folder))]
    assert names[:3] == ["0.png", "1.png", "2.png"] and names[-1] == "10.png"
