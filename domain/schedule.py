"""The learning-rate schedule within a scale: one fixed milestone, as the official code's
``MultiStepLR(milestones=[1600])``, whatever the number of iterations."""
from __future__ import annotations


def learning_rate(iteration: int, *, base: float, milestone: int, factor: float) -> float:
    """``base`` before iteration ``milestone`` (0-based), ``base * factor`` from it on; a milestone
    at or past the scale's last iteration never drops the rate."""
    return base * factor if iteration >= milestone else base


def drops_within(iterations: int, milestone: int) -> bool:
    """Whether a scale of ``iterations`` iterations ever trains at the lowered rate."""
    return milestone < iterations
