"""The applications through the CLI and make, on the session's CLI-trained tiny run."""
from __future__ import annotations

import json
import subprocess

import numpy as np
from PIL import Image

from tests.e2e.conftest import ROOT, TINY_ARGS, TINY_IMAGE, assert_one_line_error, make_env, run_cli


def composite(run, tmp_path):
    image = np.asarray(Image.open(run / "image.png").convert("RGB")).copy()
    image[8:16, 8:16] = (240, 230, 10)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[8:16, 8:16] = 255
    Image.fromarray(image).save(tmp_path / "composite.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return tmp_path / "composite.png", tmp_path / "mask.png", image


def test_harmonize_and_edit_write_named_files_into_the_run(cli_run, tmp_path):
    image_path, mask_path, image = composite(cli_run, tmp_path)
    for command, kind in (("harmonize", "harmonized"), ("edit", "edited")):
        result = run_cli(command, cli_run, image_path, mask_path, "--start-scale", "1", "--seed", "5", check=True)
        path = cli_run / kind / f"{kind}_composite_start1_seed5.png"
        assert str(path) in result.stdout
        out = np.asarray(Image.open(path))
        assert out.shape == image.shape
        assert (out[0, -1] == image[0, -1]).all()  # a corner far from the mask keeps the input's pixel


def test_paint_writes_a_named_file(cli_run, tmp_path):
    painting = np.zeros((29, 32, 3), np.uint8)
    painting[:, 16:] = (200, 150, 90)
    Image.fromarray(painting).save(tmp_path / "painting.png")
    run_cli("paint", cli_run, tmp_path / "painting.png", "--start-scale", "2", "--seed", "1", "--quantize",
            "--finetune-iterations", "1", "--quiet", check=True)
    (path,) = (cli_run / "painted").glob("painted_painting_start2_quantized_seed1*.png")
    assert np.asarray(Image.open(path)).shape == (29, 32, 3)


def test_animate_writes_a_gif(cli_run):
    result = run_cli("animate", cli_run, "--frames", "4", "--seed", "2", check=True)
    (gif,) = (cli_run / "animations").glob("animation_start0_a0.1_b0.9_seed2*.gif")
    assert str(gif) in result.stdout
    with Image.open(gif) as image:
        # Pillow merges identical consecutive frames (this model barely trained): count by time.
        total = 0
        for k in range(image.n_frames):
            image.seek(k)
            total += image.info["duration"]
    assert total == 4 * 100  # 4 frames at 10 fps


def test_an_injection_scale_out_of_range_is_one_line(cli_run, tmp_path):
    image_path, mask_path, _ = composite(cli_run, tmp_path)
    assert_one_line_error(run_cli("harmonize", cli_run, image_path, mask_path, "--start-scale", "0"), "between 1 and 2")


def test_a_reference_of_another_aspect_is_one_line(cli_run, tmp_path):
    Image.new("RGB", (90, 20)).save(tmp_path / "wide.png")
    assert_one_line_error(run_cli("edit", cli_run, tmp_path / "wide.png"), "aspect")


def test_make_sr_enlarges_by_the_factor(tmp_path):
    args = " ".join(["--out", str(tmp_path), "--factor", "2", *TINY_ARGS[4:]])  # TINY_ARGS sets --seed 3
    result = subprocess.run(
        ["make", "--no-print-directory", "sr", f"IMG={TINY_IMAGE}", f"ARGS={args}"],
        cwd=ROOT, capture_output=True, text=True, env=make_env(), timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (run,) = tmp_path.iterdir()
    assert f"super-resolution: {run / 'super_resolution_x2_seed3.png'}" in result.stdout
    out = np.asarray(Image.open(run / "super_resolution_x2_seed3.png"))
    assert out.shape == (64, 72, 3)


def test_eval_prints_a_table_and_make_report_writes_the_page(cli_run):
    result = run_cli("eval", cli_run, "-n", "3", "--seed", "1", check=True)
    assert "SWD (mean)" in result.stdout and "diversity" in result.stdout
    assert json.loads((cli_run / "metrics.json").read_text())["n"] == 3
    made = subprocess.run(
        ["make", "--no-print-directory", "report", f"RUN={cli_run}"],
        cwd=ROOT, capture_output=True, text=True, env=make_env(), timeout=600,
    )
    assert made.returncode == 0 and "report.html" in made.stdout, made.stderr


def test_make_compare_scores_the_run_and_other_folders_and_puts_them_in_the_report(cli_run, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):  # another implementation's samples, at twice the size, with an alpha channel
        Image.fromarray(rng.integers(0, 256, (58, 64, 4), dtype=np.uint8)).save(theirs / f"{k}.png")
    made = subprocess.run(
        ["make", "--no-print-directory", "compare", f"RUN={cli_run}", f"REF={theirs}", "N=3"],
        cwd=ROOT, capture_output=True, text=True, env=make_env(), timeout=600,
    )
    assert made.returncode == 0, made.stderr
    assert "theirs" in made.stdout and "x first" in made.stdout
    assert "58x64 px were resized to 29x32" in made.stdout
    stored = json.loads((cli_run / "compare.json").read_text())
    assert [r["count"] for r in stored["rows"]] == [3, 3]
    assert "<h2>Comparison</h2>" in (cli_run / "report.html").read_text()


def test_compare_with_a_missing_folder_is_one_line(cli_run, tmp_path):
    assert_one_line_error(run_cli("compare", cli_run, tmp_path / "nowhere"), "no such folder")
