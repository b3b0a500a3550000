"""The pyramid plan: the fitted image at the top, min_size at the bottom, strictly growing between."""
import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import PyramidConfig
from domain.errors import ImageTooElongated, ImageTooSmall, PlanningError, SinGANError
from domain.pyramid import PyramidPlan, fit_shape, plan_pyramid, scaled_length, scaled_shape
from tests import strategies as gen

OFFICIAL = (PyramidConfig(), (186, 248))  # the official defaults on a 186x248 image (the paper's birds)
OFFICIAL_PORTRAIT = (PyramidConfig(), (248, 186))


def official_num_scales(shape, cfg: PyramidConfig) -> int:
    """The official code's count (adjust_scales2image: stop_scale + 1), transcribed as an oracle."""
    num_scales = math.ceil(math.log(cfg.min_size / min(shape), cfg.scale_factor)) + 1
    scale2stop = math.ceil(math.log(min(cfg.max_size, max(shape)) / max(shape), cfg.scale_factor))
    return num_scales - scale2stop + 1


def test_the_official_example_has_nine_scales_from_25x34_to_186x248():
    plan = plan_pyramid((186, 248), PyramidConfig())
    assert plan.num_scales == 9
    assert plan.factor == pytest.approx(0.778, abs=5e-4)
    assert plan.coarsest_shape == (25, 34)
    assert plan.finest_shape == (186, 248)
    assert plan.shapes == (
        (25, 34), (33, 43), (42, 56), (54, 71), (69, 91), (88, 117), (113, 151), (145, 193), (186, 248)
    )


@pytest.mark.parametrize(
    ("shape", "num_scales"),
    [((186, 248), 9), ((200, 267), 9), ((1000, 1500), 8), ((250, 250), 11), ((26, 40), 2), ((25, 25), 1)],
)
def test_the_number_of_scales_matches_the_official_code(shape, num_scales):
    assert plan_pyramid(shape, PyramidConfig()).num_scales == num_scales


@given(gen.plannable_cases())
@example(OFFICIAL)
@example(OFFICIAL_PORTRAIT)
def test_the_finest_scale_is_the_image_fitted_to_max_size(case):
    cfg, shape = case
    plan = plan_pyramid(shape, cfg)
    assert plan.finest_shape == fit_shape(shape, cfg.max_size)
    assert max(plan.finest_shape) <= cfg.max_size
    assert plan.finest_shape[0] <= shape[0] and plan.finest_shape[1] <= shape[1]  # never upscaled
    assert plan.image_shape == tuple(shape)


@given(gen.plannable_cases())
@example(OFFICIAL)
@example(OFFICIAL_PORTRAIT)
def test_the_coarsest_short_side_is_exactly_min_size(case):
    cfg, shape = case
    assert min(plan_pyramid(shape, cfg).coarsest_shape) == cfg.min_size


@given(gen.plannable_cases())
@example(OFFICIAL)
@example(OFFICIAL_PORTRAIT)
def test_shapes_grow_strictly_in_both_dimensions(case):
    cfg, shape = case
    shapes = plan_pyramid(shape, cfg).shapes
    for coarser, finer in zip(shapes, shapes[1:]):
        assert finer[0] > coarser[0] and finer[1] > coarser[1]


@given(gen.plannable_cases())
@example(OFFICIAL)
@example(OFFICIAL_PORTRAIT)
def test_every_scale_is_the_finest_scaled_by_a_power_of_the_factor(case):
    cfg, shape = case
    plan = plan_pyramid(shape, cfg)
    n = plan.num_scales
    assert 0 < plan.factor < 1
    assert plan.shapes == tuple(scaled_shape(plan.finest_shape, plan.factor ** (n - 1 - i)) for i in range(n))
    if n > 1:  # the exact factor takes the fitted short side to min_size in n - 1 steps
        assert plan.factor ** (n - 1) == pytest.approx(cfg.min_size / min(plan.finest_shape))


@given(gen.plannable_cases())
@example(OFFICIAL)
def test_a_portrait_plans_as_the_transposed_landscape(case):
    cfg, (height, width) = case
    plan = plan_pyramid((height, width), cfg)
    transposed = plan_pyramid((width, height), cfg)
    assert transposed.shapes == tuple((w, h) for h, w in plan.shapes)
    assert transposed.factor == plan.factor


@given(st.data())
def test_with_the_official_defaults_the_scale_count_is_the_official_one(data):
    # Far enough above min_size (fitted short side >= 40) that every scale has pixels to grow by,
    # so the plan never has to drop a scale; there the count must be the official code's.
    cfg = PyramidConfig()
    shape = data.draw(gen.plannable_shapes(PyramidConfig(min_size=40, max_size=cfg.max_size)))
    plan = plan_pyramid(shape, cfg)
    assert plan.num_scales == official_num_scales(shape, cfg)


@given(gen.plannable_cases())
@example(OFFICIAL)
def test_the_plan_never_has_more_scales_than_the_official_code(case):
    cfg, shape = case
    assert plan_pyramid(shape, cfg).num_scales <= max(1, official_num_scales(shape, cfg))


@given(gen.plannable_cases())
@example(OFFICIAL)
def test_with_the_official_count_and_no_fitting_the_factor_is_at_least_nominal(case):
    # The official count is one step more than the nominal factor needs, so the exact factor is a
    # little above nominal. (Near min_size the plan may drop scales to fit the pixels; then it may not be.)
    cfg, shape = case
    shape = fit_shape(shape, cfg.max_size)  # an image that needs no fitting
    plan = plan_pyramid(shape, cfg)
    if plan.num_scales == official_num_scales(shape, cfg):
        assert plan.factor >= cfg.scale_factor
    else:
        assert plan.num_scales < official_num_scales(shape, cfg)


@given(gen.plannable_cases())
def test_near_min_size_scales_are_dropped_rather_than_repeated(case):
    cfg, shape = case
    plan = plan_pyramid(shape, cfg)
    assert len(set(plan.shapes)) == plan.num_scales


def test_an_image_already_at_min_size_is_a_single_scale():
    plan = plan_pyramid((25, 60), PyramidConfig())
    assert plan.shapes == ((25, 60),)
    assert plan.num_scales == 1
    assert 0 < plan.factor < 1


def test_an_image_one_pixel_above_min_size_gets_two_scales():
    assert plan_pyramid((26, 26), PyramidConfig()).shapes == ((25, 25), (26, 26))


@given(gen.plannable_cases())
@example(OFFICIAL)
def test_a_plan_survives_a_round_trip_through_json(case):
    cfg, shape = case
    plan = plan_pyramid(shape, cfg)
    assert PyramidPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


@given(gen.unplannable_cases())
def test_unplannable_images_raise_a_planning_error(case):
    cfg, shape = case
    with pytest.raises(PlanningError) as raised:
        plan_pyramid(shape, cfg)
    assert isinstance(raised.value, SinGANError)
    assert f"{shape[0]}x{shape[1]}" in str(raised.value)
    assert f"min_size={cfg.min_size}" in str(raised.value)


@given(gen.pyramid_configs(), st.data())
def test_a_short_side_under_min_size_is_too_small(cfg, data):
    shape = data.draw(gen.too_small_shapes(cfg))
    with pytest.raises(ImageTooSmall, match="short side must be at least"):
        plan_pyramid(shape, cfg)


@given(gen.pyramid_configs(), st.data())
def test_an_image_too_elongated_to_fit_is_refused_saying_to_crop(cfg, data):
    shape = data.draw(gen.too_elongated_shapes(cfg))
    with pytest.raises(ImageTooElongated, match=rf"max_size={cfg.max_size}.*crop it or raise max_size"):
        plan_pyramid(shape, cfg)


def test_the_official_defaults_refuse_a_24_pixel_image_and_a_25x300_strip():
    with pytest.raises(ImageTooSmall):
        plan_pyramid((24, 100))
    with pytest.raises(ImageTooElongated):
        plan_pyramid((25, 300))  # fitting 300 to 250 leaves a 21 px short side


@given(gen.sides(1, 4096), st.integers(8, 1024))
def test_fit_shape_keeps_images_that_already_fit(side, max_size):
    shape = (min(side, max_size), max(1, min(side, max_size) // 2))
    assert fit_shape(shape, max_size) == shape


@given(gen.sides(1, 4096), gen.sides(1, 4096), st.integers(8, 1024))
def test_fit_shape_brings_the_long_side_to_max_size_and_keeps_the_aspect(height, width, max_size):
    fitted = fit_shape((height, width), max_size)
    if max(height, width) > max_size:
        assert max(fitted) == max_size
    assert fitted[0] <= height and fitted[1] <= width
    scale = min(1.0, max_size / max(height, width))
    assert abs(fitted[0] - height * scale) < 1 and abs(fitted[1] - width * scale) < 1


@given(gen.sides(1, 4096), st.floats(0.01, 1.0))
def test_scaled_length_rounds_up_and_is_never_zero(length, scale):
    result = scaled_length(length, scale)
    assert result >= 1
    assert length * scale - 1e-6 <= result < length * scale + 1


def test_scaled_length_does_not_round_a_floating_point_hair_up_a_pixel():
    assert 39 * (25 / 39) > 25  # the hair
    assert scaled_length(39, 25 / 39) == 25
