"""SinGAN on MindSpore: learn a generative model from one image, then sample and edit with it.

    import app
    model = app.train("photo.jpg", "quick", out="runs", progress=True)
    images = app.generate(model, n=4, seed=1, scale_h=1.5)   # (H, W, 3) uint8 arrays
    model = app.load("runs/00001-photo")
    gif = app.animate(model, frames=32, fps=10)                # written into the run folder
    seamless = app.harmonize(model, "composite.png", "mask.png", start_scale=4)
    big = app.super_resolve("small.png", factor=4)            # trains, then enlarges
    states = app.train_folder("photos", "quick")              # one run per image, resumable

Importing ``app`` starts no framework: MindSpore loads on the first call that needs it.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from domain.config import PRESETS, NetworkConfig, PyramidConfig, SinGANConfig, TrainConfig, preset
from domain.errors import SinGANError

_LAZY = {
    "train": "app.training",
    "train_folder": "app.collection",
    "resume": "app.training",
    "load": "app.training",
    "generate": "app.generation",
    "Model": "app.model",
    "animate": "app.applications",
    "animation_frames": "app.applications",
    "harmonize": "app.applications",
    "edit": "app.applications",
    "paint_to_image": "app.applications",
    "super_resolve": "app.applications",
    "evaluate": "app.evaluation",
    "compare": "app.comparison",
    "report": "app.evaluation",
}

__all__ = [
    "PRESETS",
    "Model",
    "animate",
    "animation_frames",
    "compare",
    "edit",
    "evaluate",
    "report",
    "harmonize",
    "paint_to_image",
    "super_resolve",
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
    "train_folder",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
