"""A folder of images end to end: make train-folder with 2 workers under msrun, one worker killed
mid-way, the same command rerun, and the result checked against an unsharded run's checkpoints."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import ROOT, TINY_ARGS, TINY_IMAGE, assert_one_line_error, make_env, run_cli

ARGS = " ".join(TINY_ARGS)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """3 tiny images (the test image, flipped two ways) and a file that is not an image."""
    folder = tmp_path_factory.mktemp("photos")
    image = np.asarray(Image.open(TINY_IMAGE).convert("RGB"))
    for name, pixels in (("a.png", image), ("b.png", image[:, ::-1]), ("c.png", image[::-1])):
        Image.fromarray(np.ascontiguousarray(pixels)).save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_train_folder(photos: Path, out: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["make", "--no-print-directory", "train-folder", f"DIR={photos}", f"OUT={out}", f"WORKERS={workers}",
         f"PORT={free_port()}", f"ARGS={ARGS}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=make_env(), start_new_session=True,
    )


def records(out: Path, worker: str) -> list[dict]:
    path = out / "workers" / f"{worker}.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]


def wait_for(condition, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def completed_scales(run: Path) -> int:
    try:
        return json.loads((run / "manifest.json").read_text())["completed_scales"]
    except (OSError, ValueError, KeyError):
        return 0


def checkpoints(collection: Path) -> dict[str, bytes]:
    return {str(p.relative_to(collection)): p.read_bytes() for p in sorted(collection.glob("runs/*/checkpoints/*.ckpt"))}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_two_msrun_workers_killed_and_rerun_end_with_the_checkpoints_of_an_unsharded_run(photos, tmp_path):
    out = tmp_path / "collection"
    first = make_train_folder(photos, out, workers=2)
    try:
        # Kill worker 0 once its first image has finished a scale, in the middle of the next.
        started = wait_for(lambda: [r for r in records(out, "worker-000-of-002") if r["status"] == "training"],
                           "worker 0 to start an image")[0]
        run = out / started["run"]
        wait_for(lambda: completed_scales(run) >= 1, "a completed scale")
        os.kill(started["pid"], signal.SIGKILL)
        output, _ = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode != 0, output
    done_at_kill = completed_scales(run)
    assert json.loads((run / "manifest.json").read_text())["status"] == "training"

    second = make_train_folder(photos, out, workers=2)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    manifest = json.loads((out / "manifest.json").read_text())
    states = manifest["images"]
    assert {k: v["status"] for k, v in states.items()} == {
        "a.png": "complete", "b.png": "complete", "c.png": "complete", "notes.txt": "skipped"}
    assert states[started["image"]]["resumed_from_scale"] == done_at_kill  # at most one scale lost
    assert {states[k]["worker"] for k in ("a.png", "c.png")} == {"worker-000-of-002"}
    assert states["b.png"]["worker"] == "worker-001-of-002"
    assert (out / "logs" / "worker_1.log").exists()
    index = (out / "index.html").read_text()
    assert all(f"runs/{name}/report.html" in index for name in ("a.png", "b.png", "c.png"))

    # The same images unsharded, in one process on one core with one thread, as each msrun worker ran.
    reference = tmp_path / "reference"
    one_core = sorted(os.sched_getaffinity(0))[0]
    result = subprocess.run(
        [sys.executable, "-m", "app", "train-folder", photos, "--out", reference, *TINY_ARGS],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        preexec_fn=lambda: os.sched_setaffinity(0, {one_core}),
    )
    assert result.returncode == 0, result.stderr
    sharded, unsharded = checkpoints(out), checkpoints(reference)
    assert len(unsharded) == 9 and sharded.keys() == unsharded.keys()
    assert [k for k in sharded if sharded[k] != unsharded[k]] == []


def test_shards_given_by_hand_split_the_folder_and_a_rerun_skips_what_is_done(photos, tmp_path):
    out = tmp_path / "c"
    second = run_cli("train-folder", photos, "--out", out, "--shard-index", "1", "--num-shards", "2", *TINY_ARGS,
                     check=True)
    assert "collection: " in second.stdout and "1 complete, 1 skipped, 2 pending" in second.stdout
    talkative = [a for a in TINY_ARGS if a != "--quiet"]
    again = run_cli("train-folder", photos, "--out", out, "--shard-index", "1", "--num-shards", "2", *talkative)
    assert again.returncode == 0 and "b.png: already complete" in again.stderr
    plan = run_cli("train-folder", photos, "--out", out, "--num-shards", "2", "--dry-run", *TINY_ARGS, check=True)
    assert "(continues), 2 workers" in plan.stdout and "worker-000-of-002  c.png" in plan.stdout


def test_a_collection_made_with_another_config_is_refused_in_one_line_unless_resumed(photos, tmp_path):
    out = tmp_path / "c"
    run_cli("train-folder", photos, "--out", out, "--shard-index", "3", "--num-shards", "4", *TINY_ARGS, check=True)
    other = run_cli("train-folder", photos, "--out", out, *TINY_ARGS, "--iterations", "3")
    assert_one_line_error(other, "another config", "train.iterations: 2 there, 3 here", "--resume")
    resumed = run_cli("train-folder", photos, "--out", out, "--resume", "--shard-index", "3", "--num-shards", "4",
                      "--quiet", check=True)
    assert "1 skipped" in resumed.stdout
    clash = run_cli("train-folder", photos, "--out", out, "--resume", "--iterations", "3")
    assert_one_line_error(clash, "--resume", "drop --iterations")


@pytest.mark.parametrize("make_folder, message", [
    (lambda p: None, "is empty"),
    (lambda p: (p / "a.txt").write_text("x"), "holds no images"),
])
def test_a_folder_with_nothing_to_train_fails_in_one_line_and_writes_nothing(tmp_path, make_folder, message):
    folder = tmp_path / "in"
    folder.mkdir()
    make_folder(folder)
    result = run_cli("train-folder", folder, "--out", tmp_path / "c")
    assert_one_line_error(result, message)
    assert not (tmp_path / "c").exists()


def test_make_train_folder_turns_a_bad_folder_into_one_line_before_msrun_starts(tmp_path):
    result = subprocess.run(["make", "--no-print-directory", "train-folder", f"DIR={tmp_path / 'missing'}",
                             f"OUT={tmp_path / 'c'}", "WORKERS=2"], cwd=ROOT, capture_output=True, text=True, env=make_env())
    assert result.returncode != 0
    assert "error: " in result.stderr and "no such folder" in result.stderr and "msrun" not in result.stderr
    assert not (tmp_path / "c").exists()
