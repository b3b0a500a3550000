"""The learning-rate step within a scale."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import TrainConfig
from domain.schedule import learning_rate, lr_drop_iteration
from tests import strategies as gen

iteration_counts = st.integers(1, 100_000)
rates = st.floats(1e-6, 1.0)


@given(iteration_counts, gen.decimal_fractions())
@example(100, (7, 100))  # 100 * 0.07 is 7.000000000000001 in floating point: still iteration 7
@example(2000, (8, 10))  # the official recipe: 1600
def test_the_drop_comes_after_exactly_drop_at_of_the_iterations(iterations, fraction):
    numerator, denominator = fraction
    drop_at = numerator / denominator
    assert lr_drop_iteration(iterations, drop_at) == math.ceil(iterations * Fraction(numerator, denominator))


@given(iteration_counts, gen.decimal_fractions(), rates, st.floats(0.001, 1.0), st.data())
def test_the_rate_is_the_base_before_the_drop_and_base_times_factor_from_it_on(
    iterations, fraction, base, factor, data
):
    drop_at = fraction[0] / fraction[1]
    drop = lr_drop_iteration(iterations, drop_at)
    iteration = data.draw(st.integers(0, iterations - 1))
    rate = learning_rate(iteration, base=base, iterations=iterations, drop_at=drop_at, factor=factor)
    assert rate == (base if iteration < drop else base * factor)


@given(iteration_counts, gen.decimal_fractions(), rates, st.floats(0.001, 1.0))
def test_the_rate_never_rises_within_a_scale(iterations, fraction, base, factor):
    drop_at = fraction[0] / fraction[1]
    drop = lr_drop_iteration(iterations, drop_at)
    around = sorted({0, max(0, drop - 1), min(iterations - 1, drop), iterations - 1})
    rates_seen = [learning_rate(i, base=base, iterations=iterations, drop_at=drop_at, factor=factor) for i in around]
    assert rates_seen == sorted(rates_seen, reverse=True)


def test_the_official_recipe_trains_1600_iterations_at_5e_4_then_400_at_5e_5():
    cfg = TrainConfig()
    schedule = dict(iterations=cfg.iterations, drop_at=cfg.lr_drop_at, factor=cfg.lr_drop_factor)
    rates = [learning_rate(i, base=cfg.lr_generator, **schedule) for i in range(cfg.iterations)]
    assert rates[:1600] == [5e-4] * 1600
    assert rates[1600:] == pytest.approx([5e-5] * 400)


@given(iteration_counts, rates, st.floats(0.001, 1.0))
def test_drop_at_zero_lowers_every_iteration_and_one_none(iterations, base, factor):
    assert learning_rate(0, base=base, iterations=iterations, drop_at=0.0, factor=factor) == base * factor
    assert learning_rate(iterations - 1, base=base, iterations=iterations, drop_at=1.0, factor=factor) == base
