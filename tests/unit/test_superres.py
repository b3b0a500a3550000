"""Super-resolution: steps of about 1 / step_factor that land exactly on the requested factor."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import InvalidRequest, SinGANError
from domain.superres import MAX_SR_FACTOR, SR_MIN_SIZE, SR_SCALE_FACTOR, sr_schedule
from tests import strategies as gen

inputs = gen.small_shapes(SR_MIN_SIZE, 400)
step_factors = st.floats(0.3, 0.95) | st.just(SR_SCALE_FACTOR)


def exact_ceil(length: int, factor: float) -> int:
    """ceil(length * factor) for the decimal the user typed, in exact arithmetic."""
    return math.ceil(length * Fraction(repr(factor)))


@given(inputs, gen.sr_factors(), step_factors)
@example((186, 248), 4.0, SR_SCALE_FACTOR)
def test_the_last_step_lands_on_the_input_times_the_factor_rounded_up(shape, factor, step_factor):
    schedule = sr_schedule(shape, factor, step_factor=step_factor)
    assert schedule.shapes[-1] == (exact_ceil(shape[0], factor), exact_ceil(shape[1], factor))


@given(inputs, st.integers(2, 16), step_factors)
def test_an_integer_factor_multiplies_the_input_exactly(shape, factor, step_factor):
    schedule = sr_schedule(shape, factor, step_factor=step_factor)
    assert schedule.shapes[-1] == (shape[0] * factor, shape[1] * factor)


@given(inputs, gen.sr_factors(), step_factors)
def test_the_number_of_steps_is_the_factor_in_steps_of_one_over_step_factor_rounded(shape, factor, step_factor):
    schedule = sr_schedule(shape, factor, step_factor=step_factor)
    assert schedule.steps == len(schedule.shapes) == max(1, round(math.log(factor) / -math.log(step_factor)))


@given(inputs, gen.sr_factors())
def test_with_the_papers_step_every_step_grows_the_image(shape, factor):
    schedule = sr_schedule(shape, factor, step_factor=SR_SCALE_FACTOR)
    for smaller, larger in zip((tuple(shape), *schedule.shapes), schedule.shapes):
        assert larger[0] > smaller[0] and larger[1] > smaller[1]


@given(gen.small_shapes(1, 400), gen.sr_factors(), step_factors)
def test_steps_never_shrink_the_image(shape, factor, step_factor):
    schedule = sr_schedule(shape, factor, step_factor=step_factor)
    for smaller, larger in zip((tuple(shape), *schedule.shapes), schedule.shapes):
        assert larger[0] >= smaller[0] and larger[1] >= smaller[1]
    assert schedule.input_shape == tuple(shape)
    assert schedule.factor == factor


@given(inputs, gen.sr_factors())
def test_the_steps_share_the_enlargement_evenly(shape, factor):
    schedule = sr_schedule(shape, factor, step_factor=SR_SCALE_FACTOR)
    per_step = factor ** (1 / schedule.steps)
    for k, (height, width) in enumerate(schedule.shapes, start=1):
        assert height == pytest.approx(shape[0] * per_step**k, abs=1)
        assert width == pytest.approx(shape[1] * per_step**k, abs=1)


def test_four_times_with_the_papers_step_takes_six_steps():
    schedule = sr_schedule((186, 248), 4, step_factor=SR_SCALE_FACTOR)  # three steps per octave
    assert schedule.steps == 6
    assert schedule.shapes[2] == (372, 496)  # one octave after three steps
    assert schedule.shapes[-1] == (744, 992)


bad_factors = (
    st.floats(max_value=1.0)
    | st.floats(min_value=MAX_SR_FACTOR, exclude_min=True)
    | st.sampled_from([float("nan"), True, "4", None])
)


@given(inputs, bad_factors)
def test_a_factor_outside_one_to_sixteen_is_refused(shape, factor):
    with pytest.raises(InvalidRequest, match=r"super-resolution factor must be in \(1, 16\]") as raised:
        sr_schedule(shape, factor, step_factor=SR_SCALE_FACTOR)
    assert isinstance(raised.value, SinGANError)


@given(inputs, st.floats(max_value=0.0) | st.floats(min_value=1.0) | st.just(float("nan")))
def test_a_step_factor_outside_zero_to_one_is_refused(shape, step_factor):
    with pytest.raises(InvalidRequest, match="step_factor"):
        sr_schedule(shape, 4, step_factor=step_factor)
