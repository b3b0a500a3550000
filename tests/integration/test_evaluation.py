"""Metrics and the run report on the session's tiny model."""
from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest

from domain.errors import InvalidRequest


class Sources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if key in attrs:
                self.sources.append(attrs[key])


def test_training_ends_with_metrics_and_a_report(tiny_run):
    metrics = json.loads((tiny_run.run_dir / "metrics.json").read_text())
    assert metrics["n"] == 16 and np.isfinite(metrics["swd"]) and metrics["swd"] > 0
    assert 0 < metrics["diversity"] < 5
    assert len(metrics["reconstruction_rmse"]) == tiny_run.num_scales
    assert (tiny_run.run_dir / "report.html").is_file()


def test_every_file_the_report_refers_to_exists_and_is_relative(tiny_run):
    from app.evaluation import report

    page = report(tiny_run.run_dir)
    parser = Sources()
    parser.feed(page.read_text())
    assert len(parser.sources) >= 1 + 8 + 3 * 5  # image, samples, per scale images and plots
    for source in parser.sources:
        assert not source.startswith(("/", "http:", "https:", "file:")), source
        assert (page.parent / source).is_file(), source
    assert sum("losses_scale" in s for s in parser.sources) == tiny_run.num_scales


def test_evaluate_keeps_earlier_results_in_the_history(tiny_run):
    from app.evaluation import evaluate

    first = json.loads((tiny_run.run_dir / "metrics.json").read_text())
    again = evaluate(tiny_run, 3, seed=1)
    stored = json.loads((tiny_run.run_dir / "metrics.json").read_text())
    assert stored["n"] == 3 and stored["swd"] == pytest.approx(again["swd"])
    assert stored["history"][-1]["swd"] == pytest.approx(first["swd"])


def test_the_same_seed_gives_the_same_metrics(tiny_run):
    from app.evaluation import evaluate

    a, b = evaluate(tiny_run, 3, seed=2), evaluate(tiny_run, 3, seed=2)
    assert a["swd"] == b["swd"] and a["diversity"] == b["diversity"]


def test_evaluate_needs_two_samples(tiny_run):
    from app.evaluation import evaluate

    with pytest.raises(InvalidRequest, match="n must be"):
        evaluate(tiny_run, 1)


def test_training_measures_the_samples_it_saved(tiny_run):
    """The end of training draws its samples once: the saved ones lead the measured ones, and
    ``evaluate`` with the run's seed measures exactly what training measured."""
    from app.evaluation import evaluate
    from app.generation import generate
    from adapters.images import PillowImages

    stored = json.loads((tiny_run.run_dir / "metrics.json").read_text())
    first = next(h for h in [*stored.get("history", []), stored] if h["n"] == 16)
    seed = tiny_run.config.train.seed
    drawn = generate(tiny_run, 16, seed=seed)
    saved = sorted((tiny_run.run_dir / "samples").glob("sample_*.png"))
    assert len(saved) == 8
    for path, sample in zip(saved, drawn):
        np.testing.assert_array_equal(PillowImages().load(str(path)), sample)
    assert evaluate(tiny_run, 16, seed=seed)["swd"] == pytest.approx(first["swd"], rel=1e-6)
