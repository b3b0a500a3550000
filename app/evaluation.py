"""Use cases: measure a model (``evaluate``) and write its visual report (``report``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.generation import check_count, generate
from app.model import Model
from app.training import as_model, now
from domain.imaging import to_signed
from domain.metrics import SWDSettings, diversity, sliced_wasserstein
from domain.noise import rmse
from domain.sampling import check_seed

METRICS_FILE = "metrics.json"


def evaluate(model_or_run_dir: Model | str | os.PathLike, n: int = 50, *, seed: int = 0, device: str = "CPU") -> dict[str, Any]:
    """Draw ``n`` samples and measure them (definitions in ``domain.metrics``): the multi-scale
    sliced Wasserstein distance to the training image's patches, diversity, and the reconstruction
    RMSE at every scale. With a run folder, the result is also written to its ``metrics.json``
    (earlier evaluations are kept under ``history``)."""
    check_count(n, least=2, why=" (diversity needs two samples)")
    check_seed(seed)
    model = as_model(model_or_run_dir, device=device)
    return measure(model, generate(model, n, seed=seed), seed=seed)


def measure(model: Model, samples: list, *, seed: int) -> dict[str, Any]:
    """``evaluate`` on samples already drawn, as (H, W, 3) uint8 arrays (``generate(model, n,
    seed=seed)``: training measures the samples it saves, without drawing them twice)."""
    real = to_signed(model.image)
    signed = [to_signed(s) for s in samples]
    settings = SWDSettings()
    swd, per_level = sliced_wasserstein(real, signed, settings)
    reals = model.reals()
    rec_rmse = [rmse(real_k, rec_k) for real_k, rec_k in zip(reals, model.reconstructions(), strict=True)]
    metrics = {
        "n": len(samples),
        "seed": seed,
        "swd": swd,
        "swd_per_level": per_level,
        "diversity": diversity(signed, real),
        "reconstruction_rmse": rec_rmse,
        "swd_settings": {"levels": settings.levels, "projections": settings.projections,
                         "max_patches": settings.max_patches, "seed": settings.seed},
        "evaluated": now(),
    }
    if model.run_dir is not None:
        _store(Path(model.run_dir), metrics)
    return metrics


def _store(run_dir: Path, metrics: dict[str, Any]) -> None:
    import json

    from adapters.runs import write_json_atomic

    path = run_dir / METRICS_FILE
    history = []
    if path.exists():
        try:
            old = json.loads(path.read_text())
            history = old.pop("history", []) + [old]
        except ValueError:
            history = []
    write_json_atomic(path, {**metrics, "history": history})


def format_metrics(metrics: dict[str, Any]) -> str:
    lines = [
        f"samples           {metrics['n']} (seed {metrics['seed']})",
        f"SWD (mean)        {metrics['swd']:.4f}   per level: " + ", ".join(f"{d:.4f}" for d in metrics["swd_per_level"]),
        f"diversity         {metrics['diversity']:.4f}",
        "reconstruction    " + ", ".join(f"{r:.4f}" for r in metrics["reconstruction_rmse"]) + "  (RMSE per scale)",
    ]
    return "\n".join(lines)


def report(run_dir: str | os.PathLike) -> Path:
    """Write ``report.html`` into a run folder (plots under ``report/``) and return its path."""
    from adapters.report import write_report
    from adapters.runs import RunFolder

    run = RunFolder.open(run_dir)
    return write_report(run)
