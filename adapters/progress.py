"""Progress sinks: a tqdm bar per scale for people, silence for library calls."""
from __future__ import annotations

import sys
from typing import Mapping

from tqdm import tqdm

SHOWN_LOSSES = ("critic", "generator", "reconstruction")


class TqdmProgress:
    """One bar per scale with iteration rate, ETA and the current losses, on stderr."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.bar: tqdm | None = None

    def scale_started(self, scale, num_scales, shape, iterations):
        self.bar = tqdm(
            total=iterations,
            desc=f"scale {scale + 1}/{num_scales} {shape[0]}x{shape[1]}",
            unit="it",
            file=self.stream,
            dynamic_ncols=True,
            leave=True,
        )

    def iteration(self, iteration: int, losses: Mapping[str, float]) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if iteration % 10 == 0 or iteration + 1 == self.bar.total:
            self.bar.set_postfix({k[:5]: f"{losses[k]:.3f}" for k in SHOWN_LOSSES if k in losses}, refresh=False)

    def scale_finished(self, scale: int, seconds: float) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def message(self, text: str) -> None:
        tqdm.write(text, file=self.stream)


class NullProgress:
    def scale_started(self, scale, num_scales, shape, iterations):
        pass

    def iteration(self, iteration, losses):
        pass

    def scale_finished(self, scale, seconds):
        pass

    def message(self, text):
        pass
