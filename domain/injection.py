"""Injection applications (harmonization, editing, paint-to-image): references and masks.

Masks are float arrays (H, W) in [0, 1]; 1 marks pixels the model may regenerate.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from domain.errors import ShapeMismatch
from domain.pyramid import Shape
from domain.resize import resize

# Relative aspect difference above which a reference is refused rather than silently distorted.
ASPECT_TOLERANCE = 0.05


def check_aspect(reference_shape: Shape, model_shape: Shape, *, what: str = "reference") -> None:
    ref = reference_shape[1] / reference_shape[0]
    model = model_shape[1] / model_shape[0]
    if abs(ref / model - 1.0) > ASPECT_TOLERANCE:
        raise ShapeMismatch(
            f"{what} is {reference_shape[0]}x{reference_shape[1]} px (aspect {ref:.3f}) but the model's image is "
            f"{model_shape[0]}x{model_shape[1]} (aspect {model:.3f}); crop it to the model's aspect"
        )


def fit_reference(reference: np.ndarray, model_shape: Shape, *, what: str = "reference") -> np.ndarray:
    """A (C, H, W) reference resized to the model's finest shape; its aspect must match."""
    check_aspect(reference.shape[-2:], model_shape, what=what)
    return resize(reference, model_shape)


def threshold_mask(mask: np.ndarray, shape: Shape) -> np.ndarray:
    """Resize a mask (H, W) in [0, 1] to ``shape`` and binarise it at one half."""
    mask = np.asarray(mask, np.float32)
    if mask.ndim != 2:
        raise ShapeMismatch(f"a mask must be a single-channel (H, W) array, got shape {mask.shape}")
    resized = resize(mask, shape) if mask.shape != tuple(shape) else mask
    return (resized >= 0.5).astype(np.float32)


def derive_mask(reference: np.ndarray, original: np.ndarray, *, tolerance: float = 0.1) -> np.ndarray:
    """Where a reference differs from the original (both (C, H, W) in [-1, 1]) by more than
    ``tolerance`` in any channel."""
    if reference.shape != original.shape:
        raise ShapeMismatch(f"reference {reference.shape} and original {original.shape} differ in shape")
    return (np.abs(reference - original).max(axis=0) > tolerance).astype(np.float32)


def default_radius(shape: Shape) -> int:
    """Dilation and feather radius in px: about 2% of the short side, at least 1."""
    return max(1, round(min(shape) / 50))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2 radius + 1)-wide square."""
    out = (np.asarray(mask) > 0).astype(np.float32)
    for _ in range(radius):
        padded = np.pad(out, 1)
        out = np.max(
            [padded[dy : dy + out.shape[0], dx : dx + out.shape[1]] for dy in range(3) for dx in range(3)], axis=0
        )
    return out


def _box_blur(mask: np.ndarray, radius: int) -> np.ndarray:
    width = 2 * radius + 1
    padded = np.pad(mask, radius)  # zeros outside: the blur can only spread a mask outwards
    # Sums over each window rather than differences of cumulative sums: those leave ~1e-17 where the
    # window is empty, and a weight that is not exactly 0 lets generated pixels into the reference.
    rows = sliding_window_view(padded, width, axis=0).sum(axis=-1)
    return sliding_window_view(rows, width, axis=1).sum(axis=-1) / (width * width)


def feather(mask: np.ndarray, radius: int) -> np.ndarray:
    """Soft edges: two box blurs (close to a Gaussian), then the original mask kept fully on."""
    if radius <= 0:
        return np.asarray(mask, np.float32)
    soft = _box_blur(_box_blur(np.asarray(mask, np.float64), radius), radius)
    return np.clip(np.maximum(soft, mask), 0.0, 1.0).astype(np.float32)


def blend_weights(mask: np.ndarray, *, dilation: int, feathering: int) -> np.ndarray:
    """The weight of generated pixels: the mask dilated, then feathered. Zero where the reference
    must stay untouched: farther than ``dilation + 2 * feathering`` px from the mask."""
    return feather(dilate(mask, dilation), feathering)


def blend(generated: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Generated pixels where ``weights`` is 1, the reference's where it is 0 (exactly), mixed between."""
    if generated.shape != reference.shape or generated.shape[-2:] != weights.shape:
        raise ShapeMismatch(f"cannot blend {generated.shape} with {reference.shape} by {weights.shape}")
    inside = weights > 0
    out = np.array(reference, dtype=np.float32, copy=True)
    w = weights[inside]
    out[:, inside] = w * generated[:, inside] + (1.0 - w) * reference[:, inside]
    return out
