"""Noise maps and their amplitudes."""
from __future__ import annotations

import numpy as np

IMAGE_CHANNELS = 3


def noise_shape(shape: tuple[int, int]) -> tuple[int, int, int]:
    """Noise map at a scale: one value per pixel and channel, (C, H, W); the generator pads it."""
    return (IMAGE_CHANNELS, shape[0], shape[1])


def draw_noise(rng: np.random.Generator, shape: tuple[int, int], channels: int = IMAGE_CHANNELS) -> np.ndarray:
    """A (3, H, W) standard normal map; with ``channels=1`` one grey map repeated over RGB (the
    official coarsest scale's noise), drawing H x W values from ``rng`` instead of 3 x H x W."""
    if channels not in (1, IMAGE_CHANNELS):
        raise ValueError(f"noise has 1 or {IMAGE_CHANNELS} channels, not {channels}")
    values = rng.standard_normal((channels, shape[0], shape[1]), dtype=np.float32)
    return values if channels == IMAGE_CHANNELS else np.repeat(values, IMAGE_CHANNELS, axis=0)


def noise_channels(scale: int, coarsest_channels: int) -> int:
    """Channels drawn at ``scale``: ``coarsest_channels`` at the coarsest scale, colour above."""
    return coarsest_channels if scale == 0 else IMAGE_CHANNELS


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean squared difference of two equally shaped arrays."""
    if a.shape != b.shape:
        raise ValueError(f"rmse needs equal shapes, got {a.shape} and {b.shape}")
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def noise_amplitude(scale: int, reconstruction_rmse: float, *, base: float) -> float:
    """A scale's noise std: 1 at the coarsest scale (pure noise drives it); above, proportional to how
    badly the coarser scales reconstruct this one (the RMSE against the upsampled reconstruction)."""
    if scale == 0:
        return 1.0
    return base * reconstruction_rmse
