"""The framework-free core of SinGAN: pyramid maths as pure functions on plain values and numpy.

Nothing here imports MindSpore, Pillow, the file system, a clock or global randomness.
"""
from domain.config import (
    LOSS_KINDS,
    PRESETS,
    NetworkConfig,
    PyramidConfig,
    SinGANConfig,
    TrainConfig,
    preset,
)
from domain.errors import (
    ConfigError,
    ImageTooElongated,
    ImageTooSmall,
    InvalidRequest,
    PlanningError,
    ScaleOutOfRange,
    ShapeMismatch,
    SinGANError,
)
from domain.pyramid import PyramidPlan, fit_shape, plan_pyramid, scaled_shape

__all__ = [
    "LOSS_KINDS",
    "PRESETS",
    "ConfigError",
    "ImageTooElongated",
    "ImageTooSmall",
    "InvalidRequest",
    "NetworkConfig",
    "PlanningError",
    "PyramidConfig",
    "PyramidPlan",
    "ScaleOutOfRange",
    "ShapeMismatch",
    "SinGANConfig",
    "SinGANError",
    "TrainConfig",
    "fit_shape",
    "plan_pyramid",
    "preset",
    "scaled_shape",
]
