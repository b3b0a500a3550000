"""The learning-rate milestone within a scale: a fixed iteration, as the official MultiStepLR."""
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import TrainConfig
from domain.schedule import drops_within, learning_rate

iteration_counts = st.integers(1, 100_000)
rates = st.floats(1e-6, 1.0)


@given(st.integers(0, 100_000), st.integers(0, 100_000), rates, st.floats(0.001, 1.0))
@example(1599, 1600, 5e-4, 0.1)
@example(1600, 1600, 5e-4, 0.1)
def test_the_rate_is_the_base_before_the_milestone_and_base_times_factor_from_it_on(iteration, milestone, base, factor):
    rate = learning_rate(iteration, base=base, milestone=milestone, factor=factor)
    assert rate == (base if iteration < milestone else base * factor)


@given(iteration_counts, st.integers(0, 100_000), rates, st.floats(0.001, 1.0))
def test_the_rate_never_rises_within_a_scale(iterations, milestone, base, factor):
    seen = [learning_rate(i, base=base, milestone=milestone, factor=factor) for i in range(0, iterations, max(1, iterations // 50))]
    assert seen == sorted(seen, reverse=True)


def test_the_official_recipe_trains_1600_iterations_at_5e_4_then_400_at_5e_5():
    cfg = TrainConfig()
    rates = [learning_rate(i, base=cfg.lr_generator, milestone=cfg.lr_milestone, factor=cfg.lr_drop_factor)
             for i in range(cfg.iterations)]
    assert rates[:1600] == [5e-4] * 1600
    assert rates[1600:] == pytest.approx([5e-5] * 400)


@pytest.mark.parametrize("iterations", [200, 300, 1000, 1600])
def test_runs_of_1600_iterations_or_fewer_never_drop_the_rate_at_the_official_milestone(iterations):
    cfg = TrainConfig(iterations=iterations)
    assert cfg.lr_milestone == 1600
    assert not drops_within(iterations, cfg.lr_milestone)
    assert all(learning_rate(i, base=1.0, milestone=cfg.lr_milestone, factor=0.1) == 1.0 for i in range(iterations))


def test_a_milestone_inside_the_run_drops_it():
    assert drops_within(2000, 1600)
    assert drops_within(200, 160)
    assert not drops_within(200, 200)
