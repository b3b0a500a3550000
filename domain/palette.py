"""Colour quantization for paint-to-image: a small palette found by k-means, and mapping to it."""
from __future__ import annotations

import numpy as np


def kmeans_palette(image: np.ndarray, colours: int, rng: np.random.Generator, *, iterations: int = 20) -> np.ndarray:
    """``colours`` cluster centres (colours, C) of the pixels of a (C, H, W) image (k-means++ start)."""
    pixels = image.reshape(image.shape[0], -1).T.astype(np.float64)
    colours = min(colours, len(np.unique(pixels, axis=0)))
    centres = [pixels[rng.integers(len(pixels))]]
    for _ in range(1, colours):
        distance = np.min([((pixels - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(pixels[rng.choice(len(pixels), p=distance / distance.sum())])
    centres = np.array(centres)
    for _ in range(iterations):
        labels = nearest(pixels, centres)
        updated = np.array([pixels[labels == k].mean(axis=0) if np.any(labels == k) else centres[k] for k in range(colours)])
        if np.allclose(updated, centres):
            break
        centres = updated
    return centres.astype(np.float32)


def nearest(pixels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every row of ``pixels`` (N, C)."""
    return np.argmin(((pixels[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)


def quantize(image: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Every pixel of a (C, H, W) image replaced by its nearest palette colour."""
    pixels = image.reshape(image.shape[0], -1).T
    return centres[nearest(pixels, centres)].T.reshape(image.shape).astype(np.float32)
