"""The SinGAN applications: animation, harmonization, editing, paint-to-image, super-resolution.

Each takes a trained model (or a run folder) and user images as (H, W, 3) uint8 arrays or paths,
and returns uint8 images; ``animate`` also writes its GIF. Injection scales count from 0 (coarsest);
by default the applications inject at the middle of the pyramid.
"""
from __future__ import annotations

import os
from pathlib import Path

import attrs
import numpy as np

from app import bootstrap
from app.generation import new_seed, rng_for
from app.model import Model
from app.training import as_model, train
from domain.animation import DEFAULT_ALPHA, DEFAULT_BETA, check_walk, noise_walk
from domain.config import SinGANConfig, preset
from domain.errors import InvalidRequest
from domain.imaging import as_rgb_uint8, to_signed, to_uint8
from domain.injection import blend, blend_weights, default_radius, derive_mask, fit_reference, threshold_mask
from domain.networks import channels_at, inherits_weights
from domain.palette import kmeans_palette, quantize
from domain.ports import ScaleJob
from domain.noise import noise_channels
from domain.sampling import check_seed, check_start_scale, random_noises, reconstruction_noises, walk
from domain.superres import SR_MIN_SIZE, SR_RECONSTRUCTION_WEIGHT, SR_SCALE_FACTOR, sr_schedule

PALETTE_COLOURS = 5  # as the official paint-to-image quantization


def default_injection_scale(model: Model) -> int:
    return max(1, model.num_scales // 2)


def _image(value, what: str) -> np.ndarray:
    if isinstance(value, (str, os.PathLike)):
        return bootstrap.images().load(str(value))
    try:
        return as_rgb_uint8(value)
    except ValueError as exc:
        raise InvalidRequest(f"{what}: {exc}") from None


def _mask(value, shape) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return threshold_mask(bootstrap.images().load_mask(str(value)), shape)
    value = np.asarray(value, dtype=np.float32)
    if value.ndim == 3:
        value = value.max(axis=2)
    if value.max(initial=0) > 1.0:  # 0..255 arrays
        value = value / 255.0
    return threshold_mask(value, shape)


def _inject(model: Model, reference: np.ndarray, start_scale: int, rng, generator=None) -> np.ndarray:
    """The pyramid from ``start_scale`` up, its input the reference at the scale below."""
    shapes = model.plan.shapes
    return walk(
        generator or model.generator,
        shapes=shapes,
        amplitudes=model.amplitudes,
        noises=random_noises(rng, shapes, start_scale=start_scale, coarsest_channels=model.coarsest_noise_channels),
        resampling=model.resampling,
        start_scale=start_scale,
        start_image=model.resampling.up(model.resampling.to_shape(reference, shapes[start_scale - 1]), shapes[start_scale]),
    )


def _masked_injection(model_or_run_dir, reference, mask, start_scale, seed, what: str, device: str) -> np.ndarray:
    model = as_model(model_or_run_dir, device=device)
    start = default_injection_scale(model) if start_scale is None else start_scale
    start = check_start_scale(start, model.num_scales, lowest=1, what=f"{what} start scale")
    shape = model.plan.finest_shape
    ref = fit_reference(to_signed(_image(reference, what)), shape, what=what)
    weights_mask = _mask(mask, shape)
    if weights_mask is None:
        weights_mask = derive_mask(ref, to_signed(model.image))
    generated = _inject(model, ref, start, rng_for(seed))
    radius = default_radius(shape)
    return to_uint8(blend(generated, ref, blend_weights(weights_mask, dilation=radius, feathering=radius)))


def harmonize(
    model_or_run_dir, composite, mask=None, *, start_scale: int | None = None, seed: int | None = None, device="CPU"
) -> np.ndarray:
    """A naive paste into a training-like image, returned with the pasted object in the image's style.

    ``composite``: path or (H, W, 3) array with the model's aspect (resized to the model's size).
    ``mask``: path or (H, W) array marking the pasted object (resized and thresholded at one half);
    ``None`` derives it from where the composite differs from the training image. The mask is
    dilated and feathered; pixels farther out keep the composite's values exactly.
    """
    return _masked_injection(model_or_run_dir, composite, mask, start_scale, seed, "composite", device)


def edit(
    model_or_run_dir, edited, mask=None, *, start_scale: int | None = None, seed: int | None = None, device="CPU"
) -> np.ndarray:
    """A crudely edited copy of the training image (pieces moved or copied), returned seamless.

    Arguments as ``harmonize``; the mask marks the edited region.
    """
    return _masked_injection(model_or_run_dir, edited, mask, start_scale, seed, "edited image", device)


def paint_to_image(
    model_or_run_dir,
    painting,
    *,
    start_scale: int | None = None,
    quantize_colours: bool = False,
    seed: int | None = None,
    finetune_iterations: int | None = None,
    progress=False,
    device: str = "CPU",
) -> np.ndarray:
    """A flat-colour painting (the model's aspect) turned into a realistic image.

    With ``quantize_colours`` (the paper's variant), the training image's colours are clustered
    into a 5-colour palette, the painting is mapped onto it, and a copy of the injection scale is
    first fine-tuned on the palette-quantized real image (``finetune_iterations``, default the
    model's iterations a scale), so flat regions of those colours read as the image's textures.
    """
    model = as_model(model_or_run_dir, device=device)
    start = default_injection_scale(model) if start_scale is None else start_scale
    start = check_start_scale(start, model.num_scales, lowest=1, what="paint-to-image start scale")
    rng = rng_for(seed)
    ref = fit_reference(to_signed(_image(painting, "painting")), model.plan.finest_shape, what="painting")
    generator = model.generator
    if quantize_colours:
        palette_rng, tune_rng, rng = rng.spawn(3)
        real = model.reals()[start]
        palette = kmeans_palette(real, PALETTE_COLOURS, palette_rng)
        ref = quantize(ref, palette)
        generator = _finetune(model, start, quantize(real, palette), tune_rng, finetune_iterations, progress,
                              device=device)
    return to_uint8(_inject(model, ref, start, rng, generator))


def _finetune(model: Model, scale: int, real: np.ndarray, rng, iterations, progress, *, device: str):
    from app.training import memory_plan

    cfg = model.config
    train_cfg = attrs.evolve(cfg.train, iterations=iterations or cfg.train.iterations)
    shapes = model.plan.shapes
    # Compiled where it fits, as in training (never refused: the model trained here).
    execution = memory_plan(model.plan, cfg, device=device, check=False).executions[scale]
    prev = model.reconstruction_prev(scale)
    job = ScaleJob(
        scale=scale,
        shapes=shapes[: scale + 1],
        amplitudes=model.amplitudes[: scale + 1],
        real=real,
        z_star=np.zeros_like(real),
        reconstruction_prev=prev,
        channels=channels_at(scale, cfg.network),
        inherit=inherits_weights(scale, cfg.network),
        network=cfg.network,
        train=train_cfg,
        resampling=model.resampling,
        execution=execution,
    )
    sink = bootstrap.progress(progress)
    sink.scale_started(scale, model.num_scales, shapes[scale], train_cfg.iterations)
    tuned = model.backend.finetune_scale(job, rng, sink.iteration)
    sink.scale_finished(scale, 0.0)
    return tuned


def animation_frames(
    model_or_run_dir,
    *,
    frames: int = 32,
    start_scale: int = 0,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    seed: int | None = None,
    device: str = "CPU",
) -> list[np.ndarray]:
    """Frames of a smooth random walk around the reconstruction (see ``domain.animation``).

    Every scale from ``start_scale`` walks around its reconstruction noise (z* at the coarsest
    scale, zeros above); scales below it stay on the reconstruction. ``alpha`` pulls towards it,
    ``beta`` is the walk's momentum.
    """
    model = as_model(model_or_run_dir, device=device)
    start = check_start_scale(start_scale, model.num_scales, what="animation start scale")
    check_walk(alpha, beta, frames)
    rng = rng_for(seed)
    shapes = model.plan.shapes
    anchors = reconstruction_noises(model.z_star, shapes)
    walks = [
        noise_walk(rng, anchor, frames, alpha=alpha, beta=beta, channels=noise_channels(n, model.coarsest_noise_channels))
        if n >= start else [anchor] * frames
        for n, anchor in enumerate(anchors)
    ]
    return [
        to_uint8(
            walk(model.generator, shapes=shapes, amplitudes=model.amplitudes, noises=[w[k] for w in walks],
                 resampling=model.resampling)
        )
        for k in range(frames)
    ]


def animate(
    model_or_run_dir,
    *,
    frames: int = 32,
    fps: float = 10.0,
    start_scale: int = 0,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    seed: int | None = None,
    out: str | os.PathLike | None = None,
    device: str = "CPU",
) -> Path:
    """Write a looping GIF of ``animation_frames`` and return its path: into ``out`` (a folder), or
    by default the model's run folder under ``animations/``. Never overwrites an earlier GIF."""
    from adapters.runs import new_output_file

    if not 0 < fps <= 100:
        raise InvalidRequest(f"fps must be in (0, 100], got {fps!r}")
    model = as_model(model_or_run_dir, device=device)
    folder = Path(out) if out is not None else (model.run_dir / "animations" if model.run_dir else None)
    if folder is None:
        raise InvalidRequest("this model has no run folder; pass out= to say where the GIF goes")
    seed = new_seed() if check_seed(seed) is None else seed
    images = animation_frames(model, frames=frames, start_scale=start_scale, alpha=alpha, beta=beta, seed=seed)
    path = new_output_file(folder, f"animation_start{start_scale}_a{alpha:g}_b{beta:g}_seed{seed}", ".gif")
    bootstrap.images().save_gif(str(path), images, fps)
    return path


def sr_config(image_shape, config: SinGANConfig | str | None = None) -> SinGANConfig:
    """The paper's SR settings on top of ``config`` (default quick): the whole low-resolution image,
    three scales an octave, a 18 px coarsest side, reconstruction weight 100."""
    base = preset(config or "quick") if not isinstance(config, SinGANConfig) else config
    return base.with_overrides(
        {
            "pyramid.max_size": max(image_shape[:2]),
            "pyramid.min_size": min(SR_MIN_SIZE, min(image_shape[:2])),
            "pyramid.scale_factor": round(SR_SCALE_FACTOR, 6),
            "train.reconstruction_weight": SR_RECONSTRUCTION_WEIGHT,
        }
    )


def enlarge(model: Model, factor: float, *, seed: int | None = None) -> np.ndarray:
    """Repeated steps of the finest generator, each upsampling by about 1 / (the pyramid's factor),
    from the training image to ``factor`` times its size."""
    schedule = sr_schedule(model.plan.finest_shape, factor, step_factor=model.plan.factor)
    rng = rng_for(seed)
    finest = model.num_scales - 1
    image = to_signed(model.image)
    for shape in schedule.shapes:
        prev = model.resampling.to_shape(image, shape)
        noise = rng.standard_normal(prev.shape, dtype=np.float32)
        image = model.generator(finest, model.amplitudes[finest] * noise + prev, prev)
    return to_uint8(image)


def super_resolve(
    image,
    *,
    factor: float = 4.0,
    config: SinGANConfig | str | None = None,
    out: str | os.PathLike | None = None,
    seed: int | None = None,
    progress=False,
    device: str = "CPU",
) -> np.ndarray:
    """Train on the low-resolution ``image`` with the paper's SR settings, then enlarge it by
    ``factor``: an (round-up(H * factor), round-up(W * factor), 3) uint8 image. With ``out``, the run
    folder (under ``out``) also gets ``super_resolution_x<factor>_seed<seed>.png``. ``seed`` drives the
    enlarging noise (the training seed is the config's)."""
    return super_resolve_into(
        image, factor=factor, config=config, out=out, seed=seed, progress=progress, device=device
    )[0]


def super_resolve_into(
    image,
    *,
    factor: float = 4.0,
    config: SinGANConfig | str | None = None,
    out: str | os.PathLike | None = None,
    seed: int | None = None,
    progress=False,
    device: str = "CPU",
) -> tuple[np.ndarray, Path | None]:
    """``super_resolve``, also returning the path of the written image (``None`` without ``out``)."""
    pixels = _image(image, "image")
    sr_schedule(pixels.shape[:2], factor, step_factor=SR_SCALE_FACTOR)  # a bad factor fails before training
    seed = new_seed() if check_seed(seed) is None else seed
    name = Path(image).stem if isinstance(image, (str, os.PathLike)) else "image"
    model = train(pixels, sr_config(pixels.shape, config), out=out, name=f"{name}-sr", progress=progress, device=device)
    result = enlarge(model, factor, seed=seed)
    path = None
    if model.run_dir is not None:
        from adapters.runs import new_output_file

        path = new_output_file(model.run_dir, f"super_resolution_x{factor:g}_seed{seed}", ".png")
        bootstrap.images().save(str(path), result)
    return result, path
