"""The pyramid plan: which (H, W) each scale has, coarsest first, as the official SinGAN computes it.

The finest scale is the image fitted so its long side is at most ``max_size`` (never upscaled).
The number of scales and the exact factor between them are chosen so that the coarsest short side
lands on ``min_size``: ``factor = (min_size / fitted_short) ** (1 / (num_scales - 1))``.
"""
from __future__ import annotations

import math

import attrs

from domain.config import PyramidConfig
from domain.errors import ImageTooElongated, ImageTooSmall

Shape = tuple[int, int]  # (height, width) in px

# Products like 186 * (25 / 186) land a hair above an integer in floating point; ceil must not
# turn that into the next pixel.
_ROUNDING_SLACK = 1e-6


def scaled_length(length: int, scale: float) -> int:
    """Length of a side resized by ``scale``, rounded up as the official imresize does."""
    return max(1, math.ceil(length * scale - _ROUNDING_SLACK))


def scaled_shape(shape: Shape, scale_v: float, scale_h: float | None = None) -> Shape:
    scale_h = scale_v if scale_h is None else scale_h
    return scaled_length(shape[0], scale_v), scaled_length(shape[1], scale_h)


def fit_shape(shape: Shape, max_size: int) -> Shape:
    """The image's shape with its long side brought down to ``max_size``; smaller images are kept."""
    scale = min(max_size / max(shape), 1.0)
    return scaled_shape(shape, scale)


@attrs.frozen(kw_only=True)
class PyramidPlan:
    image_shape: Shape  # the input image, before fitting
    shapes: tuple[Shape, ...]  # every scale's (H, W), coarsest first; the last is the fitted image
    factor: float  # exact ratio between consecutive scales (< 1)

    @property
    def num_scales(self) -> int:
        return len(self.shapes)

    @property
    def finest_shape(self) -> Shape:
        return self.shapes[-1]

    @property
    def coarsest_shape(self) -> Shape:
        return self.shapes[0]

    def to_dict(self) -> dict:
        return {"image_shape": list(self.image_shape), "shapes": [list(s) for s in self.shapes], "factor": self.factor}

    @classmethod
    def from_dict(cls, data: dict) -> "PyramidPlan":
        return cls(
            image_shape=tuple(data["image_shape"]),
            shapes=tuple(tuple(s) for s in data["shapes"]),
            factor=float(data["factor"]),
        )


def plan_pyramid(image_shape: Shape, cfg: PyramidConfig = PyramidConfig()) -> PyramidPlan:
    """Plan the pyramid for an image of ``image_shape`` (H, W), coarsest scale first.

    Raises ``ImageTooSmall`` when the short side is under ``min_size`` and ``ImageTooElongated``
    when fitting the long side to ``max_size`` would push the short side under ``min_size``.
    """
    height, width = (int(v) for v in image_shape)
    if min(height, width) < cfg.min_size:
        raise ImageTooSmall(
            f"image is {height}x{width} px; its short side must be at least min_size={cfg.min_size} px "
            f"(use a larger image or a smaller min_size)"
        )
    fitted = fit_shape((height, width), cfg.max_size)
    short = min(fitted)
    if short < cfg.min_size:
        raise ImageTooElongated(
            f"image is {height}x{width} px: fitting its long side to max_size={cfg.max_size} px leaves a "
            f"short side of {short} px, under min_size={cfg.min_size} px (crop it or raise max_size)"
        )
    if short == cfg.min_size:  # the fitted image already is min_size: a single scale
        return PyramidPlan(image_shape=(height, width), shapes=(fitted,), factor=cfg.scale_factor)
    # As the official code (adjust_scales2image): the steps the nominal factor needs from the
    # *original* short side down to min_size, plus one, minus the steps the fit to max_size already
    # took (its num_scales - scale2stop). Counting from the fitted short side instead gives most
    # images larger than max_size one scale more than the official code.
    log_factor = math.log(cfg.scale_factor)
    num_scales = math.ceil(math.log(cfg.min_size / min(height, width)) / log_factor - _ROUNDING_SLACK) + 1
    scale2stop = math.ceil(math.log(min(cfg.max_size / max(height, width), 1.0)) / log_factor - _ROUNDING_SLACK)
    steps = max(1, num_scales - scale2stop)
    # Near min_size the official rule can ask for more scales than there are pixels to grow by;
    # drop steps until every scale is strictly larger than the one below.
    while True:
        factor = (cfg.min_size / short) ** (1.0 / steps)
        shapes = tuple(scaled_shape(fitted, factor ** (steps - i)) for i in range(steps)) + (fitted,)
        if steps == 1 or all(f[0] > c[0] and f[1] > c[1] for c, f in zip(shapes, shapes[1:])):
            return PyramidPlan(image_shape=(height, width), shapes=shapes, factor=factor)
        steps -= 1
