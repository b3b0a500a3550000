"""Weight-free quality metrics, pure numpy. Images are (3, H, W) float arrays in [-1, 1].

Sliced Wasserstein distance (SWD), multi-scale: each image is split into a Laplacian pyramid
(``levels`` levels, halving each time; the last level is the low-pass residual). At every level,
7x7 patches are taken on a regular grid (at most ``max_patches`` per image set, the stride chosen
to fit) and flattened to 147-dimensional descriptors, normalised by the training image's per-channel
mean and standard deviation at that level. The distance between the training image's descriptors
and the pooled descriptors of the samples is the mean, over ``projections`` random unit directions,
of the mean absolute difference between the two sorted projections (compared at common quantiles).
Reported per level and averaged over levels; 0 means the patch distributions match exactly.

Diversity: the per-pixel standard deviation across samples, averaged over pixels and channels,
divided by the training image's standard deviation over all its pixels (0: identical samples;
about 1: samples as varied as the image itself).
"""
from __future__ import annotations

from typing import Sequence

import attrs
import numpy as np

from domain.resize import resize

PATCH = 7  # px


@attrs.frozen(kw_only=True)
class SWDSettings:
    levels: int = 3
    projections: int = 128
    max_patches: int = 16384  # per level and image set
    seed: int = 0  # for the random projection directions


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first; the last is the low-pass residual. Sizes never go below
    the patch size (fewer levels are returned for small images)."""
    out = []
    current = np.asarray(image, np.float32)
    for _ in range(levels - 1):
        h, w = current.shape[-2:]
        if min(h, w) // 2 < PATCH:
            break
        smaller = resize(current, (h // 2, w // 2))
        out.append(current - resize(smaller, (h, w)))
        current = smaller
    out.append(current)
    return out


def patches(image: np.ndarray, stride: int) -> np.ndarray:
    """(N, C * 7 * 7) descriptors of the 7x7 patches at every ``stride`` px."""
    c, h, w = image.shape
    windows = np.lib.stride_tricks.sliding_window_view(image, (PATCH, PATCH), axis=(1, 2))
    picked = windows[:, ::stride, ::stride]  # C, nh, nw, 7, 7
    return picked.transpose(1, 2, 0, 3, 4).reshape(-1, c * PATCH * PATCH)


def _stride_for(shapes: Sequence[tuple[int, int]], limit: int) -> int:
    stride = 1
    while sum(((h - PATCH) // stride + 1) * ((w - PATCH) // stride + 1) for h, w in shapes) > limit:
        stride += 1
    return stride


def _descriptors(images: Sequence[np.ndarray], limit: int) -> np.ndarray:
    stride = _stride_for([im.shape[-2:] for im in images], limit)
    return np.concatenate([patches(im, stride) for im in images])


def _sliced_distance(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    pa = np.sort(a @ directions, axis=0)
    pb = np.sort(b @ directions, axis=0)
    count = min(len(pa), len(pb))
    quantiles = (np.arange(count) + 0.5) / count
    qa = pa[np.minimum((quantiles * len(pa)).astype(int), len(pa) - 1)]
    qb = pb[np.minimum((quantiles * len(pb)).astype(int), len(pb) - 1)]
    return float(np.mean(np.abs(qa - qb)))


def sliced_wasserstein(
    real: np.ndarray, samples: Sequence[np.ndarray], settings: SWDSettings = SWDSettings()
) -> tuple[float, list[float]]:
    """(mean over levels, per-level distances) between the training image and the samples."""
    if len(samples) == 0:
        raise ValueError("sliced_wasserstein needs at least one sample")
    real_levels = laplacian_pyramid(real, settings.levels)
    sample_levels = [laplacian_pyramid(s, len(real_levels)) for s in samples]
    levels = min(len(real_levels), *(len(s) for s in sample_levels))
    rng = np.random.default_rng(settings.seed)
    dims = real.shape[0] * PATCH * PATCH
    directions = rng.standard_normal((dims, settings.projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    per_level = []
    for k in range(levels):
        reference = real_levels[k].astype(np.float64)
        # Normalise by the training image's statistics at this level (both sets alike, so a colour
        # shift in the samples still counts).
        mean = reference.mean(axis=(1, 2))[:, None, None]
        std = reference.std(axis=(1, 2))[:, None, None] + 1e-8
        a = _descriptors([(reference - mean) / std], settings.max_patches)
        b = _descriptors([(s[k].astype(np.float64) - mean) / std for s in sample_levels], settings.max_patches)
        per_level.append(_sliced_distance(a, b, directions))
    return float(np.mean(per_level)), per_level


def diversity(samples: Sequence[np.ndarray], real: np.ndarray) -> float:
    """Mean per-pixel standard deviation across samples over the training image's standard deviation."""
    stack = np.stack([np.asarray(s, np.float64) for s in samples])
    if stack.shape[1:] != real.shape:
        raise ValueError(f"samples {stack.shape[1:]} and the training image {real.shape} differ in shape")
    spread = float(np.std(real, dtype=np.float64))
    return float(stack.std(axis=0).mean() / spread) if spread > 0 else 0.0
