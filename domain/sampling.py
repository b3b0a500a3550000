"""Walking the pyramid: how every use (training's coarser path, sampling, the applications) turns
per-scale noise into an image. The generator is passed in, so this stays framework-free.

At scale n the generator gets ``amplitude[n] * noise[n] + prev`` and ``prev`` (the previous scale's
output, upsampled to this scale's shape) and returns ``prev`` plus its residual.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from domain.errors import InvalidRequest, ScaleOutOfRange
from domain.noise import draw_noise, noise_channels, noise_shape
from domain.pyramid import Shape, scaled_shape
from domain.resize import Resampling, resize

# (scale, generator input, prev) -> image, each (3, H, W) float32 in [-1, 1], or a batch of them
# (B, 3, H, W), which training's coarser path uses to walk all of an iteration's samples at once
GeneratorFn = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def walk(
    generator: GeneratorFn,
    *,
    shapes: Sequence[Shape],
    amplitudes: Sequence[float],
    noises: Sequence[np.ndarray],
    resampling: Resampling,
    start_scale: int = 0,
    start_image: np.ndarray | None = None,
    stop_scale: int | None = None,
) -> np.ndarray:
    """Run scales ``start_scale`` .. ``stop_scale - 1`` (all by default) and return the last output.

    ``noises[n]`` is the noise of scale n (entries below start_scale are ignored), (3, H, W) or a
    batch (B, 3, H, W) that walks B samples at once. Each output goes up to the next scale by
    ``resampling.up``. The first scale's ``prev`` is ``start_image`` (resized to its shape when it
    has another), or zeros when there is none.
    """
    stop_scale = len(shapes) if stop_scale is None else stop_scale
    if not 0 <= start_scale < stop_scale <= len(shapes):
        raise ScaleOutOfRange(f"cannot walk scales {start_scale}..{stop_scale - 1} of {len(shapes)}")
    first = shapes[start_scale]
    if start_image is None:
        prev = np.zeros(np.shape(noises[start_scale])[:-3] + noise_shape(first), np.float32)
    elif start_image.shape[-2:] == tuple(first):
        prev = np.asarray(start_image, np.float32)
    else:
        prev = resampling.to_shape(start_image, first)
    for n in range(start_scale, stop_scale):
        image = generator(n, amplitudes[n] * noises[n] + prev, prev)
        if n + 1 < stop_scale:
            prev = resampling.up(image, shapes[n + 1])
    return image


def reconstruction_noises(z_star: np.ndarray, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """The reconstruction path's noise: the fixed z* at the coarsest scale, zeros above."""
    first = z_star if z_star.shape[-2:] == tuple(shapes[0]) else resize(z_star, shapes[0])
    return [first.astype(np.float32)] + [np.zeros(noise_shape(s), np.float32) for s in shapes[1:]]


def random_noises(
    rng: np.random.Generator, shapes: Sequence[Shape], *, coarsest_channels: int, start_scale: int = 0
) -> list[np.ndarray]:
    """Fresh noise from ``start_scale`` up (zeros below, where it is never used): only the scales
    that use noise consume the random stream. The coarsest scale's has ``coarsest_channels``
    channels (1: grey, repeated over RGB)."""
    return [
        draw_noise(rng, s, noise_channels(n, coarsest_channels)) if n >= start_scale
        else np.zeros(noise_shape(s), np.float32)
        for n, s in enumerate(shapes)
    ]


def check_start_scale(scale: int, num_scales: int, *, lowest: int = 0, what: str = "start scale") -> int:
    """Valid start scales are ``lowest`` .. ``num_scales - 1``; anything else names that range."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or not lowest <= scale < num_scales:
        raise ScaleOutOfRange(
            f"{what} {scale!r} is out of range: this model has {num_scales} scales, "
            f"so it must be between {lowest} and {num_scales - 1}"
        )
    return int(scale)


def check_seed(seed: int | None) -> int | None:
    """Seeds are non-negative integers (or None for a fresh one)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InvalidRequest(f"a seed must be a non-negative integer, got {seed!r}")
    return seed


MAX_OUTPUT_FACTOR = 8.0


def output_shapes(shapes: Sequence[Shape], *, scale_v: float = 1.0, scale_h: float = 1.0) -> list[Shape]:
    """Every scale's shape for an output ``scale_v`` times taller and ``scale_h`` times wider."""
    for name, value in (("scale_v", scale_v), ("scale_h", scale_h)):
        if not (isinstance(value, (int, float)) and 0 < value <= MAX_OUTPUT_FACTOR):
            raise InvalidRequest(f"{name} must be in (0, {MAX_OUTPUT_FACTOR:g}], got {value!r}")
    out = [scaled_shape(s, scale_v, scale_h) for s in shapes]
    if min(out[0]) < 4:
        raise InvalidRequest(
            f"scale_v={scale_v:g}, scale_h={scale_h:g} shrink the coarsest scale {tuple(shapes[0])} to "
            f"{out[0]}; the coarsest side must stay at least 4 px"
        )
    return out
