"""Use case: random samples of any size, from any start scale."""
from __future__ import annotations

import os

import numpy as np

from app.model import Model
from app.training import as_model
from domain.imaging import to_uint8
from domain.errors import InvalidRequest
from domain.sampling import check_seed, check_start_scale, output_shapes, random_noises, reconstruction_noises, walk


def new_seed() -> int:
    """A fresh seed from the OS, small enough to type back in to reproduce a result."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def rng_for(seed: int | None) -> np.random.Generator:
    """The generator of a request: the given seed (checked), or a fresh one."""
    return np.random.default_rng(new_seed() if check_seed(seed) is None else seed)


def check_count(n, *, least: int = 1, why: str = "") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise InvalidRequest(f"n must be an integer >= {least}{why}, got {n!r}")
    return n


def generate(
    model_or_run_dir: Model | str | os.PathLike,
    n: int = 1,
    *,
    seed: int | None = None,
    scale_h: float = 1.0,
    scale_v: float = 1.0,
    start_scale: int = 0,
    device: str = "CPU",
) -> list[np.ndarray]:
    """``n`` random samples as (H, W, 3) uint8 arrays.

    ``scale_h`` / ``scale_v`` widen / heighten the output relative to the training image (every
    scale's noise map grows with it). With ``start_scale=k`` the scales below k follow the
    reconstruction path and fresh noise enters from k, so higher k stays closer to the training
    image. The same ``seed`` gives the same samples.
    """
    check_count(n)
    model = as_model(model_or_run_dir, device=device)
    start_scale = check_start_scale(start_scale, model.num_scales)
    shapes = output_shapes(model.plan.shapes, scale_v=scale_v, scale_h=scale_h)
    # Below the start scale, the reconstruction's noise (as the official code does); the scales
    # that follow it are deterministic, so they run once and every sample starts from their output.
    below = reconstruction_noises(model.z_star, shapes)[:start_scale]
    start_image = None
    if start_scale > 0:
        start_image = walk(
            model.generator, shapes=shapes, amplitudes=model.amplitudes, noises=below,
            resampling=model.resampling, stop_scale=start_scale,
        )
        start_image = model.resampling.up(start_image, shapes[start_scale])
    rng = rng_for(seed)
    return [
        to_uint8(
            walk(
                model.generator,
                shapes=shapes,
                amplitudes=model.amplitudes,
                noises=random_noises(
                    rng, shapes, start_scale=start_scale, coarsest_channels=model.coarsest_noise_channels
                ),
                resampling=model.resampling,
                start_scale=start_scale,
                start_image=start_image,
            )
        )
        for _ in range(n)
    ]
