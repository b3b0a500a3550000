"""The learning-rate schedule within a scale."""
from __future__ import annotations

import math


# Products like 100 * 0.07 land a hair above an integer in floating point (7.000000000000001);
# ceil must not turn that into the next iteration.
_ROUNDING_SLACK = 1e-9


def lr_drop_iteration(iterations: int, drop_at: float) -> int:
    """First iteration (0-based) that trains with the lowered rate."""
    return math.ceil(iterations * drop_at - _ROUNDING_SLACK)


def learning_rate(iteration: int, *, base: float, iterations: int, drop_at: float, factor: float) -> float:
    """Step schedule: ``base`` until ``drop_at`` of the scale's iterations, ``base * factor`` after."""
    return base * factor if iteration >= lr_drop_iteration(iterations, drop_at) else base
