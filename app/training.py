"""Use cases: train a model (optionally into a run folder), resume an interrupted run, load one."""
from __future__ import annotations

import datetime as _dt
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import attrs
import numpy as np

from app import bootstrap
from app.model import Model
from domain.config import SinGANConfig, preset
from domain.errors import InvalidRequest, NotAModel, TrainingDiverged
from domain.imaging import as_rgb_uint8, to_uint8
from domain.memory import MemoryPlan, choose_executions
from domain.networks import channels_at, inherits_weights
from domain.noise import draw_noise, noise_amplitude, rmse
from domain.ports import ImageStore, ProgressSink, PyramidBackend, ScaleJob
from domain.pyramid import PyramidPlan, plan_pyramid
from domain.resize import Resampling, fit_pixels
from domain.sampling import random_noises, walk

SNAPSHOT_SAMPLES = 3  # random samples saved per scale in the run folder
FINAL_SAMPLES = 8  # random samples saved at the end of training
EVAL_SAMPLES = 16  # samples measured for the report at the end of training (make eval: 50)
LOG_POINTS = 200  # loss records per scale at most


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says how to resume the run folder."""


def _interruptible(run, train_scales) -> None:
    try:
        train_scales()
    except KeyboardInterrupt:
        if run is None:
            raise
        done = run.read_manifest().get("completed_scales", 0)
        raise TrainingInterrupted(
            f"interrupted after {done} completed scales; continue with: python -m app train --resume {run.path}"
        ) from None


def fit_image(image: np.ndarray, config: SinGANConfig) -> tuple[PyramidPlan, np.ndarray]:
    """The plan and the training image fitted to it, as uint8: training and resume both start from
    exactly these pixels. The fit is a resize by max_size / the long side, as the official's, brought
    to 8 bits as ``pyramid.quantize`` says (``domain.resize.fit_pixels``)."""
    plan = plan_pyramid(image.shape[:2], config.pyramid)
    resampling = Resampling(kind=config.pyramid.resampling, factor=plan.factor)
    fit = min(config.pyramid.max_size / max(image.shape[:2]), 1.0)
    return plan, fit_pixels(image, plan.finest_shape, scale=fit, resampling=resampling, quantize=config.pyramid.quantize)


def memory_plan(plan: PyramidPlan, config: SinGANConfig, *, device: str, limit: int | None = None,
                check: bool = True) -> MemoryPlan:
    """How each scale runs (``config.train.execution``: graph, split, eager, or "auto", the fastest
    that fits the memory the machine has, or ``limit`` bytes if smaller) and the estimated peak. With
    ``check``, a plan that cannot fit raises ``InsufficientMemory`` in one line that names a setting
    that would."""
    from domain.memory import check_fits, plan_memory

    models, available = bootstrap.memory(device, config.train.generator_fake)
    if limit is not None:
        available = limit if available is None else min(available, limit)
    execution = config.train.execution
    if models is None or not check:
        return plan_memory(plan.shapes, config.network, models, execution, available)
    return check_fits(plan.image_shape, plan.shapes, config.pyramid, config.network, models, execution, available)


def check_memory(plan: PyramidPlan, config: SinGANConfig, *, device: str, limit: int | None = None) -> float | None:
    """Refuse, in one line that names a setting that would fit, a plan that needs more memory than
    the machine has (or than ``limit`` bytes); returns the estimated peak (None: not estimated)."""
    return memory_plan(plan, config, device=device, limit=limit).need


def scale_streams(seed: int, num_scales: int) -> list[tuple[np.random.Generator, ...]]:
    """Per scale: (training, z*, snapshots) streams, independent of how many scales ran before,
    so a resumed run draws exactly what an unbroken one would."""
    per_scale = np.random.SeedSequence(seed).spawn(num_scales)
    return [tuple(np.random.default_rng(s) for s in seq.spawn(3)) for seq in per_scale]


def _train_scales(
    model: Model,
    *,
    start: int,
    progress: ProgressSink,
    images: ImageStore | None,
    memory: MemoryPlan | None = None,
    run=None,
) -> Model:
    """Train scales ``start`` .. of ``model`` in place (its amplitudes grow as scales finish), each
    run as ``memory.executions`` says (None: as ``train.execution`` says, "auto" compiled)."""
    cfg, plan, backend = model.config, model.plan, model.backend
    if memory is None:
        memory = MemoryPlan(executions=choose_executions(plan.shapes, cfg.network, None, cfg.train.execution, None))
    described = memory.describe(start)
    if described and cfg.train.execution == "auto":
        budget = f"{memory.available / 2**30:.1f} GB" if memory.available else "the memory available"
        progress.message(f"{described} (op by op) to fit in {budget}: less memory, slower")
    shapes = plan.shapes
    reals = model.reals()
    streams = scale_streams(cfg.train.seed, plan.num_scales)
    amplitudes = list(model.amplitudes)
    log_every = max(1, cfg.train.iterations // LOG_POINTS)
    for n in range(start, plan.num_scales):
        train_rng, z_rng, snapshot_rng = streams[n]
        if n == 0:
            model.z_star = draw_noise(z_rng, shapes[0], cfg.network.coarsest_noise_channels)
        prev = model.reconstruction_prev(n)
        amplitude = noise_amplitude(n, rmse(reals[n], prev), base=cfg.train.noise_amp_base)
        # Held at float32, as checkpoints store it, so a resumed run uses exactly the same value.
        amplitudes.append(float(np.float32(amplitude)))
        model.amplitudes = tuple(amplitudes)
        z_here = model.z_star if n == 0 else np.zeros_like(reals[n])
        job = ScaleJob(
            scale=n,
            shapes=shapes[: n + 1],
            amplitudes=model.amplitudes,
            real=reals[n],
            z_star=z_here,
            reconstruction_prev=prev,
            channels=channels_at(n, cfg.network),
            inherit=inherits_weights(n, cfg.network),
            network=cfg.network,
            train=cfg.train,
            resampling=model.resampling,
            execution=memory.executions[n],
        )
        records: list[dict[str, Any]] = []
        progress.scale_started(n, plan.num_scales, shapes[n], cfg.train.iterations)
        began = time.perf_counter()

        def on_iteration(iteration: int, losses, n=n, records=records, began=began) -> None:
            progress.iteration(iteration, losses)
            if iteration % log_every == 0 or iteration + 1 == cfg.train.iterations:
                values = {k: round(v, 6) for k, v in losses.items()}  # reading them waits for the step
                # Seconds since the scale began, at the end of this iteration: its compile is in the
                # first record, and the slope between two records is the loop's time an iteration.
                seconds = round(time.perf_counter() - began, 3)
                records.append({"scale": n, "iteration": iteration, **values, "seconds": seconds})
                _check_finite(losses, scale=n, iteration=iteration)

        z_trained = backend.train_scale(job, train_rng, on_iteration)
        if n == 0:  # with reconstruction_noise "redraw", the last draw is the z* the model keeps
            model.z_star = z_trained
            job = attrs.evolve(job, z_star=z_trained)
        seconds = time.perf_counter() - began
        progress.scale_finished(n, seconds)
        if run is not None:
            _record_scale(run, model, job, seconds, records, snapshot_rng, images)
    return model


def _check_finite(losses, *, scale: int, iteration: int) -> None:
    """Stop a diverged scale at the next logged iteration instead of training on NaNs for hours."""
    for name, value in losses.items():
        if not math.isfinite(value):
            kept = "no scale was finished" if scale == 0 else f"scales 0-{scale - 1} were finished"
            raise TrainingDiverged(
                f"training diverged at scale {scale}, iteration {iteration}: the {name} loss is {value} "
                f"({kept}); train again with another --seed or lower learning rates "
                "(--set train.lr_generator=..., --set train.lr_critic=...)"
            )


def _record_scale(run, model: Model, job: ScaleJob, seconds: float, records, rng, images: ImageStore) -> None:
    """Checkpoint first, manifest last: a kill in between leaves the scale to be retrained, never a
    manifest that claims a checkpoint that is not there."""
    n = job.scale
    model.backend.save_scale(n, str(run.checkpoint_path(n)), z_star=job.z_star, amplitude=model.amplitudes[n])
    folder = run.scale_dir(n)
    shapes = model.plan.shapes[: n + 1]
    images.save(str(folder / "real.png"), to_uint8(job.real))
    images.save(str(folder / "reconstruction.png"), to_uint8(model.reconstruct(stop_scale=n + 1)))
    for k in range(SNAPSHOT_SAMPLES):
        noises = random_noises(rng, shapes, coarsest_channels=model.coarsest_noise_channels)
        sample = walk(model.generator, shapes=shapes, amplitudes=model.amplitudes, noises=noises,
                      resampling=model.resampling)
        images.save(str(folder / f"sample_{k}.png"), to_uint8(sample))
    run.append_losses(records)
    manifest = run.read_manifest()
    run.update_manifest(
        amplitudes=list(model.amplitudes),
        completed_scales=n + 1,
        seconds_per_scale=manifest.get("seconds_per_scale", [])[:n] + [round(seconds, 3)],
    )


def _finish(run, model: Model, images: ImageStore, progress: ProgressSink) -> None:
    from app.generation import generate

    folder = run.path / "samples"
    folder.mkdir(exist_ok=True)
    seed = model.config.train.seed
    # One draw serves both: the first FINAL_SAMPLES are the ones saved, and the same seed gives the
    # same leading samples whatever the count.
    samples = generate(model, max(FINAL_SAMPLES, EVAL_SAMPLES), seed=seed)
    for k, sample in enumerate(samples[:FINAL_SAMPLES]):
        images.save(str(folder / f"sample_{k:03d}.png"), sample)
    run.update_manifest(status="complete", finished=now())
    from app.evaluation import measure, report

    measure(model, samples[:EVAL_SAMPLES], seed=seed)
    page = report(run.path)
    progress.message(f"done: {model.plan.num_scales} scales; samples in {folder}; report {page}")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _resolve_config(config: SinGANConfig | str | None) -> SinGANConfig:
    if config is None:
        return preset("quick")
    if isinstance(config, str):
        return preset(config)
    return config


def train(
    image: np.ndarray | str | os.PathLike,
    config: SinGANConfig | str | None = None,
    *,
    out: str | os.PathLike | None = None,
    name: str | None = None,
    run_dir: str | os.PathLike | None = None,
    progress: bool | ProgressSink = False,
    device: str = "CPU",
    memory_limit: int | None = None,
    skip_memory_check: bool = False,
) -> Model:
    """Train a SinGAN on one image and return the model.

    ``image``: a path, or an (H, W, 3) uint8 / float-in-[0, 1] array. ``config``: a ``SinGANConfig``
    or a preset name ("quick", the default, or "paper"). ``out``: a folder under which a new numbered
    run folder is created (checkpoints, images, losses, samples); ``None`` keeps everything in memory.
    ``run_dir``: instead of ``out``, exactly this folder, which must not exist yet.
    Before anything is written, the plan's memory is estimated and checked against what the machine
    has (or ``memory_limit`` bytes, if smaller). With ``train.execution="auto"`` (the default) the
    scales whose compiled steps would not fit run partly or wholly op by op (less memory, slower);
    a plan that cannot fit even so raises ``InsufficientMemory`` naming a ``max_size`` or
    channel cap that would; ``skip_memory_check=True`` tries anyway.
    ``progress``: ``True`` for a bar per scale on stderr, or any ``ProgressSink``.
    """
    config = _resolve_config(config)
    if out is not None and run_dir is not None:
        raise InvalidRequest("give out (a parent of numbered run folders) or run_dir (one folder), not both")
    store = bootstrap.images()
    if isinstance(image, (str, os.PathLike)):
        source = str(image)
        pixels = store.load(source)
        name = name or Path(source).stem
    else:
        source = "array"
        try:
            pixels = as_rgb_uint8(image)
        except ValueError as exc:
            raise InvalidRequest(f"image: {exc}") from None
        name = name or "image"
    plan, fitted = fit_image(pixels, config)  # plan first: a bad image fails before any folder exists
    memory = memory_plan(plan, config, device=device, limit=memory_limit, check=not skip_memory_check)
    sink = bootstrap.progress(progress)
    backend = bootstrap.backend(config.network, device=device)
    model = Model(
        config=config, plan=plan, amplitudes=(), z_star=np.zeros(0, np.float32), image=fitted, backend=backend
    )
    run = None
    if out is not None or run_dir is not None:
        from adapters.runs import RunFolder

        run = RunFolder.create(out, name) if run_dir is None else RunFolder.create_at(run_dir)
        store.save(str(run.image_path), fitted)
        run.write_manifest(
            {
                "status": "training",
                "source": source,
                "created": now(),
                "device": device,
                "seed": config.train.seed,
                "config": config.to_dict(),
                "plan": plan.to_dict(),
                "amplitudes": [],
                "completed_scales": 0,
                "seconds_per_scale": [],
                "versions": bootstrap.versions(),
            }
        )
        model.run_dir = run.path
        sink.message(f"run folder: {run.path}")
    _interruptible(run, lambda: _train_scales(model, start=0, progress=sink, images=store, memory=memory, run=run))
    if run is not None:
        _finish(run, model, store, sink)
    return model


def _open_model(run_dir, *, device: str, backend: PyramidBackend | None = None) -> tuple[Any, Model, int]:
    """The run, its model with every completed scale loaded, and the number of completed scales."""
    from adapters.runs import RunFolder

    run = RunFolder.open(run_dir)
    manifest = run.read_manifest()
    try:
        config = SinGANConfig.from_stored(manifest["config"])
        plan = PyramidPlan.from_dict(manifest["plan"])
        completed = int(manifest["completed_scales"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAModel(f"{run_dir}: manifest is incomplete ({exc})") from None
    store = bootstrap.images()
    if not run.image_path.is_file():
        raise NotAModel(f"{run_dir}: the training image {run.image_path.name} is missing")
    image = store.load(str(run.image_path))
    if image.shape[:2] != plan.finest_shape:
        raise NotAModel(f"{run_dir}: {run.image_path.name} is {image.shape[:2]}, the plan says {plan.finest_shape}")
    backend = backend or bootstrap.backend(config.network, device=device)
    amplitudes, z_star = [], np.zeros(0, np.float32)
    for n in range(completed):
        z, amplitude = backend.load_scale(n, str(run.checkpoint_path(n)), shape=plan.shapes[n])
        amplitudes.append(amplitude)
        if n == 0:
            z_star = z
    model = Model(
        config=config,
        plan=plan,
        amplitudes=tuple(amplitudes),
        z_star=z_star,
        image=image,
        backend=backend,
        run_dir=run.path,
    )
    return run, model, completed


def load(run_dir: str | os.PathLike, *, device: str = "CPU") -> Model:
    """A trained model from its run folder. An unfinished or damaged run raises ``NotAModel``."""
    from adapters.runs import RunFolder

    manifest = RunFolder.open(run_dir).read_manifest()
    if manifest.get("status") != "complete":
        done, total = manifest.get("completed_scales", 0), len(manifest.get("plan", {}).get("shapes", []))
        raise NotAModel(
            f"{run_dir} is not a finished model ({done} of {total} scales trained); "
            f"continue it with: python -m app train --resume {run_dir}"
        )
    return _open_model(run_dir, device=device)[1]


def resume(run_dir: str | os.PathLike, *, progress: bool | ProgressSink = False, device: str = "CPU",
           memory_limit: int | None = None, skip_memory_check: bool = False) -> Model:
    """Continue an interrupted run from its last completed scale; the result is identical to an
    unbroken run's (same seed, same streams). Memory is checked as by ``train``."""
    from adapters.runs import RunFolder

    manifest = RunFolder.open(run_dir).read_manifest()
    if manifest.get("status") == "complete":
        raise NotAModel(f"{run_dir} is already complete; nothing to resume")
    try:
        stored_config = SinGANConfig.from_stored(manifest["config"])
        stored_plan = PyramidPlan.from_dict(manifest["plan"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAModel(f"{run_dir}: manifest is incomplete ({exc})") from None
    memory = memory_plan(stored_plan, stored_config, device=device, limit=memory_limit, check=not skip_memory_check)
    run, model, completed = _open_model(run_dir, device=device)
    sink = bootstrap.progress(progress)
    store = bootstrap.images()
    run.truncate_losses(completed)
    sink.message(f"resuming {run.path} at scale {completed} (scales count from 0; {model.plan.num_scales} in all)")
    _interruptible(run, lambda: _train_scales(model, start=completed, progress=sink, images=store, memory=memory,
                                              run=run))
    _finish(run, model, store, sink)
    return model


def as_model(model_or_run_dir: Model | str | os.PathLike, *, device: str = "CPU") -> Model:
    return model_or_run_dir if isinstance(model_or_run_dir, Model) else load(model_or_run_dir, device=device)


__all__: Sequence[str] = [
    "as_model", "check_memory", "fit_image", "load", "memory_plan", "resume", "scale_streams", "train",
]
