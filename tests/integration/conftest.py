"""Real MindSpore on tiny images: one tiny model trained per session, shared by the tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from domain.config import SinGANConfig

DATA = Path(__file__).resolve().parents[1] / "data"
TINY_IMAGE = DATA / "tiny.png"  # 32x36 px


def tiny_config(**train) -> SinGANConfig:
    """3 scales of at most 32 px, narrow nets that double once (so one scale inherits and one does
    not), a handful of iterations with the learning-rate drop inside them."""
    return SinGANConfig().with_overrides(
        {
            "pyramid.min_size": 18,
            "pyramid.max_size": 32,
            "pyramid.scale_factor": 0.75,
            "network.channels": 4,
            "network.min_channels": 4,
            "network.max_channels": 8,
            "network.double_every": 2,
            "train.iterations": 5,
            "train.lr_milestone": 3,
            "train.critic_steps": 2,
            "train.generator_steps": 2,
            "train.seed": 7,
            **{f"train.{k}": v for k, v in train.items()},
        }
    )


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished run folder of the tiny config, trained once per session (in process)."""
    import app

    out = tmp_path_factory.mktemp("runs")
    model = app.train(str(TINY_IMAGE), tiny_config(), out=out)
    return model


def in_each_mode(ms, compute):
    """``compute()`` compiled, then op by op (PyNative): both results; the context ends compiled."""
    results = []
    for mode in (ms.GRAPH_MODE, ms.PYNATIVE_MODE):
        ms.set_context(mode=mode)
        try:
            results.append(compute())
        finally:
            ms.set_context(mode=ms.GRAPH_MODE)
    return results


def assert_arrays_close(got, want, *, count, rtol):
    """``count`` arrays each, equal in shape and to ``rtol`` (absolutely, of each array's scale)."""
    import numpy as np

    assert len(got) == len(want) == count
    for g, r in zip(got, want):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol * np.abs(r).max())
