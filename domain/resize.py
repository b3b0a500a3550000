"""Image resizing in pure numpy, and how the pyramid moves between scales.

Two kernels, both separable matrix products on the last two axes:

- ``"cubic"``: the official SinGAN's ``imresize`` (MATLAB semantics). Output pixel ``o`` (1-based)
  sits at ``o / scale + (1 - 1 / scale) / 2`` in the input; Keys' cubic kernel (a = -0.5), 4 taps
  wide, stretched to ``4 / scale`` taps with its height scaled by ``scale`` when shrinking
  (antialiasing); weights renormalised to sum to 1. Past the right or bottom edge the input mirrors
  back (``n, n+1, ...`` read ``n-1, n-2, ...``); taps before the left or top edge get no weight (the
  official code turns negative indices into huge unsigned ones, whose kernel value is 0).
- ``"linear"``: a triangle filter widened by the shrink ratio, edges clamped; used by the metrics,
  masks and references, and by the pyramid with ``resampling="linear"``.

``Resampling`` is the pyramid's rule: with ``"bicubic"`` (the official), every resize of an image
quantizes it to 8 bits first (as the official ``imresize`` round-trips through uint8, truncating)
and clips the result to [-1, 1]; between scales an image is enlarged by exactly 1 / factor and
cropped to the next scale's shape from the top left, as the official code does.

``fit_pixels`` fits the user's image to ``max_size`` once, before the pyramid, as 8-bit pixels.
"""
from __future__ import annotations

import math
from functools import lru_cache

import attrs
import numpy as np

from domain.config import QUANTIZE_KINDS, RESAMPLING_KINDS
from domain.imaging import official_round_trip, to_signed, to_uint8

KERNELS = ("cubic", "linear")


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def _cubic_weights(size_in: int, size_out: int, scale: float) -> np.ndarray:
    """(size_out, size_in) matrix of the MATLAB-style cubic resize at ``scale`` (see module doc)."""
    antialias = scale < 1.0
    width = 4.0 / scale if antialias else 4.0
    out = np.arange(1, size_out + 1, dtype=np.float64)
    centres = out / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(centres - width / 2.0)
    taps = left[:, None] + np.arange(math.ceil(width) + 2)[None, :] - 1.0  # 0-based input indices
    distance = centres[:, None] - taps - 1.0
    weights = scale * _cubic(scale * distance) if antialias else _cubic(distance)
    weights = np.where(taps < 0, 0.0, weights)
    sums = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(sums == 0, 1.0, sums)
    period = 2 * size_in
    index = np.mod(taps, period).astype(np.int64)
    index = np.where(index >= size_in, period - 1 - index, index)
    matrix = np.zeros((size_out, size_in))
    rows = np.broadcast_to(np.arange(size_out)[:, None], index.shape)
    np.add.at(matrix, (rows, index), weights)
    return matrix


def _linear_weights(size_in: int, size_out: int) -> np.ndarray:
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
    return weights / sums


def _matrix(size_in: int, size_out: int, kernel: str, scale: float | None) -> np.ndarray:
    """(size_out, size_in) float64 resize matrix of ``kernel``."""
    if kernel == "cubic":
        return _cubic_weights(size_in, size_out, size_out / size_in if scale is None else scale)
    if kernel == "linear":
        return _linear_weights(size_in, size_out)
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


@lru_cache(maxsize=512)
def _weights(size_in: int, size_out: int, kernel: str, scale: float | None) -> np.ndarray:
    matrix = _matrix(size_in, size_out, kernel, scale).astype(np.float32)
    matrix.setflags(write=False)  # cached and shared: nobody may write into it
    return matrix


def resize(
    image: np.ndarray,
    shape: tuple[int, int],
    *,
    kernel: str = "linear",
    scale: float | tuple[float, float] | None = None,
) -> np.ndarray:
    """Resize the last two axes of ``image`` (..., H, W) to ``shape`` (H, W); float32 out.

    ``scale`` (cubic only; one number or (vertical, horizontal)) places the output pixels as a
    resize by that factor would, so a ``shape`` smaller than the full result is its top-left crop;
    by default each axis's factor is its output over its input length. An axis whose length and
    factor both stay is left alone.
    """
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"cannot resize to {shape}")
    image = np.asarray(image, dtype=np.float32)
    scale_v, scale_h = (scale, scale) if scale is None or np.isscalar(scale) else scale
    out = image
    if height != image.shape[-2] or scale_v not in (None, 1.0):
        out = np.matmul(_weights(image.shape[-2], height, kernel, scale_v), out)
    if width != image.shape[-1] or scale_h not in (None, 1.0):
        out = np.matmul(out, _weights(image.shape[-1], width, kernel, scale_h).T)
    return np.array(out, dtype=np.float32, order="C", copy=True) if out is image else np.ascontiguousarray(out)


def to_eight_bits(image: np.ndarray) -> np.ndarray:
    """As the official ``torch2uint8``: [-1, 1] -> 0..255 levels, clipped and truncated, back in
    [-1, 1] units (a 255-level staircase, biased down by half a level)."""
    # The slack keeps pixels that already sit on a level there despite float rounding.
    levels = np.floor(np.clip((np.asarray(image, np.float32) + 1.0) / 2.0, 0.0, 1.0) * 255.0 + 1e-3)
    return levels * np.float32(2.0 / 255.0) - 1.0


@attrs.frozen(kw_only=True)
class Resampling:
    """How the pyramid resizes images: the real image at each scale, and each scale's output on
    its way up to the next. ``factor`` is the plan's ratio between consecutive scales (< 1)."""

    kind: str = attrs.field(default="bicubic", validator=attrs.validators.in_(RESAMPLING_KINDS))
    factor: float = 0.75

    def _cubic(self, image: np.ndarray, shape, scale) -> np.ndarray:
        out = resize(to_eight_bits(image), shape, kernel="cubic", scale=scale)
        return np.clip(out, -1.0, 1.0)

    def to_shape(self, image: np.ndarray, shape, *, scale: float | None = None) -> np.ndarray:
        """``image`` resized to ``shape`` (by ``scale``, cropped, when given: how the official
        fits the image and builds its pyramid)."""
        if self.kind == "linear":
            return resize(image, shape, kernel="linear")
        return self._cubic(image, shape, scale)

    def up(self, image: np.ndarray, shape) -> np.ndarray:
        """One scale's output brought to the next scale's ``shape`` (any shape for outputs of
        another size: enlarged by 1 / factor, then cropped or mirrored at the bottom right)."""
        if self.kind == "linear":
            return resize(image, shape, kernel="linear")
        return self._cubic(image, shape, 1.0 / self.factor)

    def pyramid(self, image: np.ndarray, shapes) -> list[np.ndarray]:
        """The real image at every scale, each from the full image (not chained); scale n of N is
        a resize by factor ** (N - 1 - n)."""
        last = len(shapes) - 1
        return [
            np.asarray(image, np.float32).copy() if n == last else self.to_shape(image, s, scale=self.factor ** (last - n))
            for n, s in enumerate(shapes)
        ]


def fit_pixels(image: np.ndarray, shape, *, scale: float, resampling: Resampling, quantize: str) -> np.ndarray:
    """The training image: the (H, W, 3) uint8 ``image`` resized by ``scale`` to ``shape``, uint8.

    ``quantize="truncate"`` is the official's fit, pixel for pixel: the file's pixels go through
    the official's float round trip (``official_round_trip``: truncating, levels 1-63 a level
    lower), are resized in float64 and go through the round trip again, which also runs when the
    image already fits. ``"round"`` resizes in float32 and rounds to the nearest level; an image that
    already fits is kept as it is.
    """
    if quantize not in QUANTIZE_KINDS:
        raise ValueError(f"quantize must be one of {QUANTIZE_KINDS}, got {quantize!r}")
    height, width = int(shape[0]), int(shape[1])
    if quantize == "round":
        if (height, width) == tuple(image.shape[:2]):
            return np.ascontiguousarray(image)
        return to_uint8(resampling.to_shape(to_signed(image), (height, width), scale=scale))
    kernel = "cubic" if resampling.kind == "bicubic" else "linear"
    pixels = official_round_trip(image).astype(np.float64)
    if (height, width) != pixels.shape[:2]:
        pixels = np.einsum("oh,hwc->owc", _matrix(pixels.shape[0], height, kernel, scale), pixels)
        pixels = np.einsum("ow,hwc->hoc", _matrix(pixels.shape[1], width, kernel, scale), pixels)
    return official_round_trip(pixels)
