"""The memory check before training: the estimate, the advice it gives, sizes as users write them."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import NetworkConfig, PyramidConfig, preset
from domain.errors import ConfigError
from domain.memory import (
    ExecutionModels,
    InsufficientMemory,
    MemoryModel,
    check_fits,
    choose_executions,
    im2col_elements,
    largest_fitting_size,
    parse_size,
    peak_bytes,
    plan_memory,
    scale_bytes,
)
from domain.pyramid import plan_pyramid

MODEL = MemoryModel(base=0.5 * 2**30, per_element=32.0)
SPLIT = MemoryModel(base=0.5 * 2**30, per_element=16.0)
EAGER = MemoryModel(base=0.5 * 2**30, per_element=4.0)
GRAPH_ONLY = ExecutionModels(graph=MODEL)
BOTH = ExecutionModels(graph=MODEL, eager=EAGER)
ALL = ExecutionModels(graph=MODEL, split=SPLIT, eager=EAGER)
PAPER = preset("paper")


def test_im2col_counts_every_conv_layer_of_both_nets_by_hand():
    cfg = NetworkConfig(channels=4, min_channels=4, max_channels=4, num_layers=2)  # head + tail
    # generator: padded input 10+4 = 14 -> 12 (3 -> 4 channels) -> 10 (4 -> 3); critic: 10 -> 8 -> 6
    expected = 3 * 9 * 12 * 12 + 4 * 9 * 10 * 10 + 3 * 9 * 8 * 8 + 4 * 9 * 6 * 6
    assert im2col_elements((10, 10), 0, cfg) == expected


@given(h=st.integers(25, 300), w=st.integers(25, 300), grow=st.integers(1, 50), scale=st.integers(0, 10))
def test_the_estimate_grows_with_the_image_and_the_widths(h, w, grow, scale):
    cfg = PAPER.network
    assert im2col_elements((h + grow, w), scale, cfg) > im2col_elements((h, w), scale, cfg)
    assert im2col_elements((h, w), scale + 4, cfg) >= im2col_elements((h, w), scale, cfg)


def test_a_plan_that_fits_returns_its_estimate_and_an_unknown_budget_is_not_checked():
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    need = peak_bytes(plan.shapes, PAPER.network, MODEL)
    for execution in ("graph", "auto"):
        fits = check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, BOTH, execution, need)
        assert fits.need == need and set(fits.executions) == {"graph"}
        unknown = check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, BOTH, execution, None)
        assert unknown.need == need and set(unknown.executions) == {"graph"}


def test_a_plan_that_does_not_fit_names_a_max_size_and_a_channel_cap_that_do():
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    need = peak_bytes(plan.shapes, PAPER.network, MODEL)
    budget = need / 3
    with pytest.raises(InsufficientMemory) as caught:
        check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, GRAPH_ONLY, "auto", budget)
    message = str(caught.value)
    assert "\n" not in message and "--max-size " in message and "--set network.max_channels=" in message
    size = largest_fitting_size((186, 248), PAPER.pyramid, PAPER.network, MODEL, budget)
    fitting = plan_pyramid((186, 248), PyramidConfig(max_size=size))
    assert f"--max-size {size} " in message and peak_bytes(fitting.shapes, PAPER.network, MODEL) <= budget
    larger = plan_pyramid((186, 248), PyramidConfig(max_size=size + 8))
    assert peak_bytes(larger.shapes, PAPER.network, MODEL) > budget


def test_nothing_fits_a_budget_below_the_framework_itself():
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    with pytest.raises(InsufficientMemory, match="no smaller setting"):
        check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, BOTH, "auto", 2**20)


def test_auto_compiles_the_scales_that_fit_and_runs_the_rest_eagerly():
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    graph_need = [scale_bytes(s, n, PAPER.network, MODEL) for n, s in enumerate(plan.shapes)]
    budget = graph_need[-3] * 1.01  # the two finest scales do not fit compiled
    planned = plan_memory(plan.shapes, PAPER.network, BOTH, "auto", budget)
    assert planned.executions == ("graph",) * (plan.num_scales - 2) + ("eager", "eager")
    assert planned.scales_run("eager") == (plan.num_scales - 2, plan.num_scales - 1)
    assert planned.describe() == f"scales {plan.num_scales - 2}, {plan.num_scales - 1} run eagerly"
    eager_finest = scale_bytes(plan.shapes[-1], plan.num_scales - 1, PAPER.network, EAGER)
    assert planned.need == pytest.approx(max(eager_finest, graph_need[-3])) and planned.need <= budget
    # the same budget refuses compiled steps, and the refusal names the setting that fits
    with pytest.raises(InsufficientMemory, match=r"compiled steps.*--set train.execution=auto"):
        check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, BOTH, "graph", budget)
    assert check_fits((186, 248), plan.shapes, PAPER.pyramid, PAPER.network, BOTH, "auto", budget) == planned


@given(budget=st.floats(0.5 * 2**30, 64 * 2**30), execution=st.sampled_from(["auto", "graph", "split", "eager"]))
def test_executions_follow_the_setting_and_auto_takes_the_fastest_that_fits(budget, execution):
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    executions = choose_executions(plan.shapes, PAPER.network, ALL, execution, budget)
    assert len(executions) == plan.num_scales and set(executions) <= {"graph", "split", "eager"}
    if execution != "auto":
        assert set(executions) == {execution}
    else:  # graph where it fits, else split where it fits, else eager
        for n, (shape, kind) in enumerate(zip(plan.shapes, executions)):
            fits = {k: scale_bytes(shape, n, PAPER.network, ALL.for_execution(k)) <= budget for k in ("graph", "split")}
            assert kind == ("graph" if fits["graph"] else "split" if fits["split"] else "eager")
        # a backend with fewer ways uses those it has
        assert set(choose_executions(plan.shapes, PAPER.network, GRAPH_ONLY, "auto", budget)) == {"graph"}
        assert "split" not in choose_executions(plan.shapes, PAPER.network, BOTH, "auto", budget)
    eager = plan_memory(plan.shapes, PAPER.network, ALL, "eager", budget).need
    assert eager <= plan_memory(plan.shapes, PAPER.network, ALL, execution, budget).need


# The oneDNN convolutions' models: split steps need less than eager ones (measured, adapters/mindspore/memory.py).
SPLIT_FRUGAL = ExecutionModels(graph=MODEL, split=EAGER, eager=SPLIT)


@given(budget=st.floats(0.5 * 2**30, 64 * 2**30))
def test_auto_never_takes_a_slower_way_that_needs_more_and_falls_back_to_the_most_frugal(budget):
    plan = plan_pyramid((186, 248), PAPER.pyramid)
    assert SPLIT_FRUGAL.frugal_kind() == "split" and ALL.frugal_kind() == "eager" and GRAPH_ONLY.frugal_kind() == "graph"
    executions = choose_executions(plan.shapes, PAPER.network, SPLIT_FRUGAL, "auto", budget)
    assert "eager" not in executions
    for n, (shape, kind) in enumerate(zip(plan.shapes, executions)):
        graph_fits = scale_bytes(shape, n, PAPER.network, MODEL) <= budget
        assert kind == ("graph" if graph_fits else "split")
    frugal = plan_memory(plan.shapes, PAPER.network, SPLIT_FRUGAL, "split", budget).need
    assert frugal <= plan_memory(plan.shapes, PAPER.network, SPLIT_FRUGAL, "auto", budget).need


def test_the_plan_in_words_names_the_scales_that_are_not_compiled():
    from domain.memory import MemoryPlan

    planned = MemoryPlan(executions=("graph", "graph", "split", "split", "eager"))
    assert planned.describe() == "scales 2, 3 run their generator steps eagerly; scale 4 runs eagerly"
    assert planned.describe(start=3) == "scale 3 runs its generator steps eagerly; scale 4 runs eagerly"
    assert MemoryPlan(executions=("graph",) * 3).describe() == ""


def test_an_unknown_execution_is_refused():
    with pytest.raises(ConfigError, match="execution must be one of"):
        choose_executions(((25, 25),), PAPER.network, BOTH, "lazy", None)


@pytest.mark.parametrize("text, expected", [("4GB", 4 * 2**30), ("512 MB", 512 * 2**20), ("1.5G", int(1.5 * 2**30)),
                                            ("1000", 1000), ("2tb", 2 * 2**40)])
def test_sizes_are_read_as_users_write_them(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GB", "4 parsecs", "-1GB", "4GB4"])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(ConfigError, match="memory size"):
        parse_size(text)
