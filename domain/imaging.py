"""Conversions between user images (H, W, 3) uint8 and the pipeline's (3, H, W) float32 in [-1, 1]."""
from __future__ import annotations

import numpy as np


def to_signed(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [-1, 1]."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}")
    return (image.transpose(2, 0, 1).astype(np.float32) / 127.5) - 1.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(3, H, W) float in [-1, 1] (values outside are clipped) -> (H, W, 3) uint8."""
    scaled = (np.clip(np.asarray(image, np.float32), -1.0, 1.0) + 1.0) * 127.5
    return np.rint(scaled).astype(np.uint8).transpose(1, 2, 0).copy()


def official_round_trip(pixels: np.ndarray) -> np.ndarray:
    """The official code's ``torch2uint8(np2torch(pixels))``, float32 operation for operation:
    (H, W, 3) values on the 0..255 scale (uint8, or float from a resize) -> (H, W, 3) uint8.

    Values are clipped to 0..255 and truncated, not rounded. Float32 rounding in the trip puts every
    exact level from 1 to 63 a hair below itself, so those come back one level lower: the official
    trains on an image darker than the file it reads (by 1 to 2 levels on dark photos).
    """
    unit = (np.asarray(pixels, np.float64) / 255.0).astype(np.float32)
    signed = np.clip((unit - np.float32(0.5)) * np.float32(2.0), -1.0, 1.0)
    back = np.clip((signed + np.float32(1.0)) / np.float32(2.0), 0.0, 1.0)
    return (np.float32(255.0) * back).astype(np.uint8)


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Accept an array a user may pass: (H, W) gray, (H, W, 3|4), uint8 or float in [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"an image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    image = image[:, :, :3]
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if np.issubdtype(image.dtype, np.floating):
        return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    raise ValueError(f"image pixels must be uint8 or float in [0, 1], got {image.dtype}")
