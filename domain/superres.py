"""Super-resolution: enlarging by repeated steps of the finest generator."""
from __future__ import annotations

import math

import attrs

from domain.errors import InvalidRequest
from domain.pyramid import Shape, scaled_shape

# The paper's SR training: finer steps between scales, a smaller coarsest size, strong reconstruction.
SR_SCALE_FACTOR = 0.5 ** (1 / 3)  # three scales per octave
SR_MIN_SIZE = 18  # px
SR_RECONSTRUCTION_WEIGHT = 100.0
MAX_SR_FACTOR = 16.0


@attrs.frozen(kw_only=True)
class SRSchedule:
    input_shape: Shape
    factor: float
    shapes: tuple[Shape, ...]  # after each enlarging step; the last is input_shape * factor

    @property
    def steps(self) -> int:
        return len(self.shapes)


def sr_schedule(input_shape: Shape, factor: float, *, step_factor: float) -> SRSchedule:
    """How many enlargements by about ``1 / step_factor`` reach ``factor``, and each step's shape.

    The steps share the enlargement evenly so that the last lands exactly on ``factor`` x input.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 1 < factor <= MAX_SR_FACTOR:
        raise InvalidRequest(f"super-resolution factor must be in (1, {MAX_SR_FACTOR:g}], got {factor!r}")
    if not 0 < step_factor < 1:
        raise InvalidRequest(f"step_factor must be in (0, 1), got {step_factor!r}")
    steps = max(1, round(math.log(factor) / -math.log(step_factor)))
    shapes = tuple(scaled_shape(input_shape, factor ** (k / steps)) for k in range(1, steps + 1))
    return SRSchedule(input_shape=tuple(input_shape), factor=float(factor), shapes=shapes)
