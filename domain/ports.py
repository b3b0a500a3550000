"""Ports: what the use cases need from the outside, as structural Protocols (no inheritance).

Implementations put the technology first (``MindSporePyramid``, ``PillowImages``); test doubles
are ``Fake...``.
"""
from __future__ import annotations

from typing import Callable, Mapping, Protocol, Sequence

import attrs
import numpy as np

from domain.config import NetworkConfig, TrainConfig
from domain.pyramid import Shape
from domain.resize import Resampling

# (iteration, {loss name: value}) after each training iteration
IterationCallback = Callable[[int, Mapping[str, float]], None]


@attrs.frozen(kw_only=True)
class ScaleJob:
    """Everything a backend needs to train one scale; arrays are (3, H, W) float32 in [-1, 1]."""

    scale: int
    shapes: tuple[Shape, ...]  # every scale up to and including this one, coarsest first
    amplitudes: tuple[float, ...]  # noise amplitude of every scale up to and including this one
    real: np.ndarray = attrs.field(eq=False)  # the training image at this scale
    # Reconstruction noise here: z* at scale 0 (the first of the draws with reconstruction_noise
    # "redraw", the only one with "fixed"), zeros above.
    z_star: np.ndarray = attrs.field(eq=False)
    reconstruction_prev: np.ndarray = attrs.field(eq=False)  # coarser reconstruction, upsampled (zeros at 0)
    channels: int
    inherit: bool  # start from the previous scale's weights
    network: NetworkConfig
    train: TrainConfig
    resampling: Resampling  # how the coarser scales' outputs go up (the random coarser path)
    # "graph" (compiled steps) or "eager" (op by op, less memory): ``domain.memory.plan_memory``.
    execution: str = "graph"

    @property
    def shape(self) -> Shape:
        return self.shapes[self.scale]


class PyramidBackend(Protocol):
    """Trains scales one by one and evaluates the trained generators."""

    @property
    def num_trained(self) -> int: ...

    def generate(self, scale: int, x: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """One trained generator in inference mode (a ``domain.sampling.GeneratorFn``)."""

    def train_scale(self, job: ScaleJob, rng: np.random.Generator, on_iteration: IterationCallback) -> np.ndarray:
        """Train scale ``job.scale``; returns its z* (the last reconstruction noise it trained with)."""

    def finetune_scale(
        self, job: ScaleJob, rng: np.random.Generator, on_iteration: IterationCallback
    ) -> Callable[[int, np.ndarray, np.ndarray], np.ndarray]:
        """Train a copy of trained scale ``job.scale`` further; returns a GeneratorFn using it."""

    def save_scale(self, scale: int, path: str, *, z_star: np.ndarray, amplitude: float) -> None: ...

    def load_scale(self, scale: int, path: str, *, shape: Shape) -> tuple[np.ndarray, float]:
        """Restore a trained scale; returns its (z_star, amplitude)."""


class ProgressSink(Protocol):
    def scale_started(self, scale: int, num_scales: int, shape: Shape, iterations: int) -> None: ...

    def iteration(self, iteration: int, losses: Mapping[str, float]) -> None: ...

    def scale_finished(self, scale: int, seconds: float) -> None: ...

    def message(self, text: str) -> None: ...


class ImageStore(Protocol):
    def list_images(self, folder: str) -> list[str]:
        """The image files in ``folder``, sorted."""

    def load(self, path: str) -> np.ndarray:
        """An image file as (H, W, 3) uint8 RGB."""

    def load_mask(self, path: str) -> np.ndarray:
        """A mask file as (H, W) float32 in [0, 1]."""

    def save(self, path: str, image: np.ndarray) -> None: ...

    def save_gif(self, path: str, frames: Sequence[np.ndarray], fps: float) -> None: ...
