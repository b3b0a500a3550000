"""Image resizing in pure numpy: separable linear interpolation, antialiased when shrinking.

Used for the real-image pyramid, for upsampling between scales, and for references and masks, so
that training and every application see the same resampling.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=256)
def _weights(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix of a triangle filter; widened by the shrink ratio to antialias."""
    ratio = size_in / size_out
    support = max(1.0, ratio)
    centres = (np.arange(size_out) + 0.5) * ratio - 0.5
    taps = np.arange(size_in)
    weights = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centres[:, None]) / support)
    # Pixels past the border mirror back onto the nearest edge pixel (the clamp makes rows sum to 1).
    sums = weights.sum(axis=1, keepdims=True)
    empty = sums[:, 0] == 0
    if np.any(empty):
        nearest = np.clip(np.rint(centres[empty]).astype(int), 0, size_in - 1)
        weights[empty, nearest] = 1.0
        sums = weights.sum(axis=1, keepdims=True)
    weights = (weights / sums).astype(np.float32)
    weights.setflags(write=False)  # cached and shared: nobody may write into it
    return weights


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize the last two axes of ``image`` (..., H, W) to ``shape`` (H, W); float32 out."""
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"cannot resize to {shape}")
    image = np.asarray(image, dtype=np.float32)
    if image.shape[-2:] == (height, width):
        return image.copy()
    rows = _weights(image.shape[-2], height)
    cols = _weights(image.shape[-1], width)
    out = np.matmul(np.matmul(rows, image), cols.T)
    return np.ascontiguousarray(out, dtype=np.float32)


def build_pyramid(image: np.ndarray, shapes) -> list[np.ndarray]:
    """The real image at every scale's shape, each resized from the full image (not chained)."""
    return [resize(image, shape) for shape in shapes]
