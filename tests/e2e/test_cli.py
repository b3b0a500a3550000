"""End to end: train and generate through the CLI and make; every bad input fails in one line."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import ROOT, TINY_ARGS, TINY_IMAGE, assert_one_line_error, make_env, run_cli


def test_importing_app_starts_no_framework_and_no_pillow():
    code = "import sys, app; print(any(m.startswith(('mindspore', 'PIL')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("command", [[], ["train"], ["generate"]])
def test_every_command_has_help(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def test_train_writes_a_complete_run_and_says_where_the_samples_are(cli_run):
    manifest = json.loads((cli_run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["completed_scales"] == 3
    samples = sorted((cli_run / "samples").glob("*.png"))
    assert len(samples) == 8
    assert np.asarray(Image.open(samples[0])).shape == (29, 32, 3)


def test_generate_writes_new_folders_and_never_overwrites(cli_run, tmp_path):
    first = run_cli("generate", cli_run, "-n", "2", "--seed", "4", "--scale-h", "1.5", check=True)
    second = run_cli("generate", cli_run, "-n", "2", "--seed", "4", "--scale-h", "1.5", check=True)
    folders = sorted((cli_run / "generated").iterdir())
    assert [f.name for f in folders] == ["samples_seed4_start0_v1_h1.5", "samples_seed4_start0_v1_h1.5-2"]
    a, b = (sorted(f.glob("*.png")) for f in folders)
    assert len(a) == len(b) == 2
    np.testing.assert_array_equal(np.asarray(Image.open(a[0])), np.asarray(Image.open(b[0])))
    assert np.asarray(Image.open(a[0])).shape == (29, 48, 3)
    assert "2 samples in" in first.stdout and "2 samples in" in second.stdout


def test_dry_run_prints_the_plan_and_creates_nothing(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", "--dry-run", *TINY_ARGS, check=True)
    assert "3 scales" in result.stdout and "18x20" in result.stdout
    assert not (tmp_path / "runs").exists()


def test_the_dry_run_names_the_convolutions_and_a_bad_choice_of_them_is_one_line(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", "--dry-run", *TINY_ARGS, check=True)
    assert "convolutions: oneDNN convolutions built for this machine" in result.stdout
    assert "SINGAN_CONV=auto|onednn|mindspore" in run_cli("--help", check=True).stdout
    assert "SINGAN_CONV_SERIAL_MFLOP" in run_cli("--help", check=True).stdout
    assert "SINGAN_NATIVE_STEPS_MFLOP" in run_cli("--help", check=True).stdout
    bad = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", *TINY_ARGS, env={"SINGAN_CONV": "cudnn"})
    assert_one_line_error(bad, "SINGAN_CONV must be one of auto, onednn, mindspore")
    steps = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", *TINY_ARGS, env={"SINGAN_NATIVE_STEPS_MFLOP": "all"})
    assert_one_line_error(steps, "SINGAN_NATIVE_STEPS_MFLOP must be a number of MFLOP")
    assert not (tmp_path / "runs").exists()
    assert "SINGAN_CONV_LAYOUT" in run_cli("--help", check=True).stdout
    bad = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", *TINY_ARGS, env={"SINGAN_CONV_LAYOUT": "blocked"})
    assert_one_line_error(bad, "SINGAN_CONV_LAYOUT must be three of nchw, nhwc, any")
    assert not (tmp_path / "runs").exists()


def test_a_missing_file_is_one_line(tmp_path):
    assert_one_line_error(run_cli("train", tmp_path / "nope.png", "--out", tmp_path), "no such file")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_image_is_one_line(tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    assert_one_line_error(run_cli("train", tmp_path / "notes.png", "--out", tmp_path / "runs"), "not an image")
    assert not (tmp_path / "runs").exists()


def test_an_image_too_small_to_plan_is_one_line_and_leaves_no_run(tmp_path):
    Image.new("RGB", (20, 12)).save(tmp_path / "small.png")
    result = run_cli("train", tmp_path / "small.png", "--out", tmp_path / "runs")
    assert_one_line_error(result, "min_size=25")
    assert not (tmp_path / "runs").exists()


def test_a_bad_config_value_is_one_line_naming_the_field(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path, "--set", "train.gp_weight=-1")
    assert_one_line_error(result, "gp_weight")


@pytest.mark.parametrize("make_folder", ["missing", "empty", "corrupt-manifest"])
def test_a_folder_that_is_not_a_model_is_one_line(make_folder, tmp_path):
    folder = tmp_path / "run"
    if make_folder != "missing":
        folder.mkdir()
    if make_folder == "corrupt-manifest":
        (folder / "manifest.json").write_text("{ half a manifest")
    assert_one_line_error(run_cli("generate", folder), str(folder))


def test_a_corrupt_checkpoint_is_one_line(cli_run, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(cli_run, broken)
    (broken / "checkpoints" / "scale_01.ckpt").write_bytes(b"\x00garbage")
    assert_one_line_error(run_cli("generate", broken, "-n", "1"), "scale_01.ckpt")


def test_a_start_scale_out_of_range_names_the_valid_range(cli_run):
    assert_one_line_error(run_cli("generate", cli_run, "--start-scale", "3"), "between 0 and 2")


def test_resuming_a_complete_run_is_refused(cli_run):
    assert_one_line_error(run_cli("train", "--resume", cli_run), "already complete")


def test_make_train_and_make_generate_work_as_the_readme_says(tmp_path):
    args = " ".join(["--out", str(tmp_path), *TINY_ARGS])
    env = make_env()
    train = subprocess.run(
        ["make", "--no-print-directory", "train", f"IMG={TINY_IMAGE}", f"ARGS={args}"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert train.returncode == 0, train.stderr
    (run,) = tmp_path.iterdir()
    generate = subprocess.run(
        ["make", "--no-print-directory", "generate", f"RUN={run}", "N=3", "ARGS=--seed 1"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert generate.returncode == 0, generate.stderr
    (folder,) = (run / "generated").iterdir()
    assert len(list(folder.glob("*.png"))) == 3


def test_a_device_this_mindspore_cannot_use_fails_cleanly_before_any_folder_exists(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", "--device", "GPU", *TINY_ARGS)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]  # MindSpore logs its own diagnosis first
    assert last.startswith("error: MindSpore cannot run on GPU here")
    assert not (tmp_path / "runs").exists()


def test_resume_refuses_settings_of_its_own(cli_run):
    assert_one_line_error(run_cli("train", "--resume", cli_run, "--iterations", "9", "--dry-run"), "--dry-run")


def test_a_negative_seed_is_one_line(cli_run):
    assert_one_line_error(run_cli("generate", cli_run, "--seed", "-1"), "non-negative")


def test_paint_finetune_iterations_need_quantize(cli_run, tmp_path):
    Image.new("RGB", (32, 29)).save(tmp_path / "p.png")
    assert_one_line_error(run_cli("paint", cli_run, tmp_path / "p.png", "--finetune-iterations", "3"), "--quantize")


def test_a_plan_that_cannot_fit_in_memory_fails_in_one_line_before_any_run_folder(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", *TINY_ARGS, "--memory-limit", "64MB")
    assert_one_line_error(result, "training needs about", "0.06 GB is available", "--skip-memory-check")
    assert not (tmp_path / "runs").exists()
    plan = run_cli("train", TINY_IMAGE, *TINY_ARGS, "--dry-run", check=True)
    assert "memory: about" in plan.stdout and "fits" in plan.stdout


def test_the_dry_run_says_which_scales_run_eagerly_to_fit_and_compiled_steps_alone_do_not():
    # The paper preset on the embedded image, compiled kernels: compiled 2.39 GB at 218x250 and
    # 1.88 GB at 172x197, split 2.05 GB and 1.57 GB (adapters/mindspore/memory.py).
    plan = run_cli("train", "--preset", "paper", "--dry-run", "--memory-limit", "2.1GB", check=True)
    assert "fits); scale 9 runs its generator steps eagerly (" in plan.stdout
    plan = run_cli("train", "--preset", "paper", "--dry-run", "--memory-limit", "3GB", check=True)
    assert "GB at the peak (estimated; fits)\n" in plan.stdout
    compiled = run_cli("train", "--preset", "paper", "--memory-limit", "2.1GB", "--set", "train.execution=graph")
    assert_one_line_error(compiled, "compiled steps", "--set train.execution=auto")
    frugal = run_cli("train", "--preset", "paper", "--memory-limit", "2GB")
    assert_one_line_error(frugal, "even split steps", "--max-size")


def test_the_memory_check_can_be_skipped(tmp_path):
    result = run_cli("train", TINY_IMAGE, "--out", tmp_path / "runs", *TINY_ARGS, "--memory-limit", "64MB",
                     "--skip-memory-check", check=True)
    assert "model: " in result.stdout


def test_make_bench_reports_every_scale_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        ["make", "--no-print-directory", "bench", f"ARGS=--preset quick --image {TINY_IMAGE} --max-size 32 "
         f"--set pyramid.min_size=18 --set network.max_channels=8 --set network.channels=8 --set network.min_channels=8 "
         f"--warmup 1 --timed 1 --out {out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=make_env(),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert [row["scale"] for row in data["scales"]] == list(range(len(data["plan"]["shapes"])))
    assert len(data["scales"]) == 3 and data["matmul_peak_gflops"] > 0
    for row in data["scales"]:
        assert row["seconds_per_iteration"] > 0 and row["seconds_per_critic_step"] > 0 and row["gflops"] > 0
        assert 100 < row["peak_rss_mb"] < 8000
    assert "peak memory:" in result.stdout and "matmul peak" in result.stdout
