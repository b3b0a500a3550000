"""SinGAN on MindSpore: learn a generative model from one image, then sample and edit with it.

    import app
    model = app.train("photo.jpg", "quick", out="runs", progress=True)
    images = app.generate(model, n=4, seed=1, scale_h=1.5)   # (H, W, 3) uint8 arrays
    model = app.load("runs/00001-photo")

Importing ``app`` starts no framework: MindSpore loads on the first call that needs it.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from domain.config import PRESETS, NetworkConfig, PyramidConfig, SinGANConfig, TrainConfig, preset
from domain.errors import SinGANError

_LAZY = {
    "train": "app.training",
    "resume": "app.training",
    "load": "app.training",
    "generate": "app.generation",
    "Model": "app.model",
}

__all__ = [
    "PRESETS",
    "Model",
    "NetworkConfig",
    "PyramidConfig",
    "SinGANConfig",
    "SinGANError",
    "TrainConfig",
    "generate",
    "load",
    "preset",
    "resume",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
