"""The command line as a user runs it: subprocesses of ``python -m app`` and ``make``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY_IMAGE = ROOT / "tests" / "data" / "tiny.png"
# 3 scales of at most 32 px, tiny nets, 2 iterations: the CLI path, not the quality.
TINY_ARGS = [
    "--min-size", "18", "--max-size", "32", "--iterations", "2", "--seed", "3", "--quiet",
    "--set", "network.channels=4", "--set", "network.min_channels=4", "--set", "network.max_channels=8",
    "--set", "network.double_every=2", "--set", "train.critic_steps=1", "--set", "train.generator_steps=1",
]


# The Makefile's own variables: a `make test ARGS=...` exports them, and a make run by a test
# must not inherit them.
MAKE_VARIABLES = ("ARGS", "IMG", "MASK", "RUN", "REF", "N", "DIR", "OUT", "WORKERS", "PORT", "TEST_WORKERS",
                  "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def make_env() -> dict[str, str]:
    """The environment for a ``make`` a test runs: this one without the Makefile's variables."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    return {**env, "PYTHONPATH": str(ROOT)}


def run_cli(*args, cwd=None, check=False, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "app", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def cli_run(tmp_path_factory) -> Path:
    """A run trained through the CLI once per session."""
    out = tmp_path_factory.mktemp("cli-runs")
    result = run_cli("train", TINY_IMAGE, "--out", out, *TINY_ARGS, check=True)
    model_line = [line for line in result.stdout.splitlines() if line.startswith("model: ")]
    assert model_line, result.stdout
    return Path(model_line[0].removeprefix("model: "))
