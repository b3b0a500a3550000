"""A trained model: the plan and per-scale values, with the backend that evaluates its generators."""
from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from domain.config import SinGANConfig
from domain.imaging import to_signed
from domain.ports import PyramidBackend
from domain.pyramid import PyramidPlan
from domain.resize import Resampling
from domain.sampling import GeneratorFn, reconstruction_noises, walk


@attrs.define(kw_only=True, eq=False)
class Model:
    config: SinGANConfig
    plan: PyramidPlan
    amplitudes: tuple[float, ...]  # noise std per scale, coarsest first
    z_star: np.ndarray  # the coarsest scale's fixed reconstruction noise, (3, H, W)
    image: np.ndarray  # the training image, fitted to max_size, (H, W, 3) uint8
    backend: PyramidBackend
    run_dir: Path | None = None

    @property
    def num_scales(self) -> int:
        return self.plan.num_scales

    @property
    def generator(self) -> GeneratorFn:
        return self.backend.generate

    @property
    def resampling(self) -> Resampling:
        return Resampling(kind=self.config.pyramid.resampling, factor=self.plan.factor)

    @property
    def coarsest_noise_channels(self) -> int:
        return self.config.network.coarsest_noise_channels

    def reals(self) -> list[np.ndarray]:
        """The training image at every scale, (3, H, W) in [-1, 1]."""
        return self.resampling.pyramid(to_signed(self.image), self.plan.shapes)

    def reconstructions(self) -> list[np.ndarray]:
        """The reconstruction path's output at every scale, in one pass (each scale runs once)."""
        shapes, noises = self.plan.shapes, reconstruction_noises(self.z_star, self.plan.shapes)
        outputs: list[np.ndarray] = []
        for k in range(self.num_scales):
            outputs.append(
                walk(
                    self.generator,
                    shapes=shapes,
                    amplitudes=self.amplitudes,
                    noises=noises,
                    resampling=self.resampling,
                    start_scale=k,
                    stop_scale=k + 1,
                    start_image=self.resampling.up(outputs[-1], shapes[k]) if outputs else None,
                )
            )
        return outputs

    def reconstruction_prev(self, scale: int) -> np.ndarray:
        """What scale ``scale`` gets from below on the reconstruction path (zeros at the coarsest)."""
        if scale == 0:
            return np.zeros((3, *self.plan.shapes[0]), np.float32)
        return self.resampling.up(self.reconstruct(stop_scale=scale), self.plan.shapes[scale])

    def reconstruct(self, stop_scale: int | None = None) -> np.ndarray:
        """The reconstruction path (z* then zeros) up to ``stop_scale - 1`` (all scales by default)."""
        shapes = self.plan.shapes
        return walk(
            self.generator,
            shapes=shapes,
            amplitudes=self.amplitudes,
            noises=reconstruction_noises(self.z_star, shapes),
            resampling=self.resampling,
            stop_scale=stop_scale,
        )
