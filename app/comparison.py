"""Use case: score a run's own samples and other folders of images (another implementation's
output, an earlier run's samples) against the run's training image, side by side."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from app import bootstrap
from app.generation import check_count, generate
from app.model import Model
from app.training import as_model, now
from domain.errors import InvalidRequest
from domain.imaging import to_signed
from domain.metrics import SWDSettings, diversity, sliced_wasserstein
from domain.resize import resize
from domain.sampling import check_seed

COMPARE_FILE = "compare.json"


def _score(name: str, source: str, samples: Sequence[np.ndarray], real: np.ndarray, resized_from) -> dict[str, Any]:
    swd, per_level = sliced_wasserstein(real, samples, SWDSettings())
    return {
        "name": name,
        "source": source,
        "count": len(samples),
        "resized_from": sorted(resized_from),
        "swd": swd,
        "swd_per_level": per_level,
        "diversity": diversity(samples, real),
    }


def _folder_samples(folder: str, shape: tuple[int, int]) -> tuple[list[np.ndarray], set[tuple[int, int]]]:
    """A folder's images as (3, H, W) in [-1, 1] at ``shape``; the other sizes they came in."""
    store = bootstrap.images()
    paths = store.list_images(folder)
    if len(paths) < 2:
        raise InvalidRequest(f"{folder}: needs at least 2 images to compare (found {len(paths)})")
    samples, resized_from = [], set()
    for path in paths:
        image = to_signed(store.load(path))
        if image.shape[-2:] != shape:
            resized_from.add(tuple(image.shape[-2:]))
            # Antialiased bicubic, as the pyramid's own resampling (no 8-bit round trip: the
            # input already is 8-bit).
            image = np.clip(resize(image, shape, kernel="cubic"), -1.0, 1.0)
        samples.append(image)
    return samples, resized_from


def compare(
    model_or_run_dir: Model | str | os.PathLike,
    *sample_folders: str | os.PathLike,
    n: int = 50,
    seed: int = 0,
    device: str = "CPU",
) -> dict[str, Any]:
    """Score ``n`` of the run's own samples (``seed``) and every image in each of ``sample_folders``
    against the run's training image with the project's metrics (``domain.metrics``: patch SWD and
    diversity). Images of another size are resized to the training image's; each row says from
    which sizes. With a run folder, the result is also written to its ``compare.json`` (and shows
    in its report). Returns ``{"reference": ..., "rows": [...]}``, this run first."""
    check_count(n, least=2, why=" (diversity needs two samples)")
    check_seed(seed)
    folders = [str(f) for f in sample_folders]
    model = as_model(model_or_run_dir, device=device)
    real = to_signed(model.image)
    shape = tuple(real.shape[-2:])
    loaded = [(folder, *_folder_samples(folder, shape)) for folder in folders]  # bad folders fail first
    own = [to_signed(s) for s in generate(model, n, seed=seed)]
    name = model.run_dir.name if model.run_dir is not None else "this model"
    rows = [_score(name, f"generated here ({n} samples, seed {seed})", own, real, set())]
    for folder, samples, resized_from in loaded:
        rows.append(_score(Path(folder).name or folder, folder, samples, real, resized_from))
    result = {
        "reference": {"image": "image.png", "shape": list(shape)},
        "n": n,
        "seed": seed,
        "rows": rows,
        "compared": now(),
    }
    if model.run_dir is not None:
        from adapters.runs import write_json_atomic

        write_json_atomic(Path(model.run_dir) / COMPARE_FILE, result)
    return result


def format_comparison(result: dict[str, Any]) -> str:
    """A fixed-width table: one row per sample set, with its ratio to the first row's SWD."""
    h, w = result["reference"]["shape"]
    rows = result["rows"]
    base = rows[0]["swd"]
    width = max(12, *(len(r["name"]) for r in rows))
    lines = [
        f"against the training image ({h}x{w}); SWD lower is closer, diversity 0 means identical samples",
        f"{'samples':<{width}}  {'count':>5}  {'SWD':>7}  {'x first':>7}  {'diversity':>9}  SWD per level (fine to coarse)",
    ]
    for r in rows:
        ratio = r["swd"] / base if base > 0 else float("nan")
        lines.append(
            f"{r['name']:<{width}}  {r['count']:>5}  {r['swd']:>7.4f}  {ratio:>7.2f}  {r['diversity']:>9.4f}  "
            + ", ".join(f"{d:.4f}" for d in r["swd_per_level"])
        )
    for r in rows:
        if r["resized_from"]:
            sizes = ", ".join(f"{a}x{b}" for a, b in r["resized_from"])
            lines.append(f"note: {r['name']}: images of {sizes} px were resized to {h}x{w} to compare")
    return "\n".join(lines)
