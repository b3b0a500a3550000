"""The strategies generate only what they promise, so the properties built on them test what they say."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import NetworkConfig, PyramidConfig, TrainConfig
from domain.errors import ImageTooElongated, ImageTooSmall
from domain.pyramid import PyramidPlan, fit_shape, plan_pyramid
from tests import strategies as gen


@given(gen.pyramid_configs())
def test_pyramid_configs_stay_within_the_validators_ranges(cfg):
    assert isinstance(cfg, PyramidConfig)
    assert 8 <= cfg.min_size <= cfg.max_size
    assert 0.3 <= cfg.scale_factor <= 0.9


@given(gen.singan_configs())
def test_singan_configs_are_built_from_valid_sections(cfg):
    assert isinstance(cfg.pyramid, PyramidConfig)
    assert isinstance(cfg.network, NetworkConfig)
    assert isinstance(cfg.train, TrainConfig)
    assert cfg.network.min_channels <= cfg.network.max_channels
    assert cfg.network.kernel_size % 2 == 1


@given(gen.plannable_cases())
def test_plannable_shapes_can_be_planned(case):
    cfg, shape = case
    assert min(shape) >= cfg.min_size
    assert min(fit_shape(shape, cfg.max_size)) >= cfg.min_size
    assert isinstance(plan_pyramid(shape, cfg), PyramidPlan)


def test_the_most_elongated_plannable_shape_sits_exactly_on_the_limit():
    cfg = PyramidConfig()  # min_size 25, max_size 250
    short = 100
    longest = (short * cfg.max_size - 1) // (cfg.min_size - 1)  # as plannable_shapes computes it
    assert min(fit_shape((short, longest), cfg.max_size)) == cfg.min_size
    with pytest.raises(ImageTooElongated):
        plan_pyramid((short, longest + 1), cfg)


@given(gen.pyramid_configs(), st.data())
def test_too_small_shapes_are_refused_as_too_small(cfg, data):
    with pytest.raises(ImageTooSmall):
        plan_pyramid(data.draw(gen.too_small_shapes(cfg)), cfg)


@given(gen.pyramid_configs(), st.data())
def test_too_elongated_shapes_are_refused_as_too_elongated(cfg, data):
    shape = data.draw(gen.too_elongated_shapes(cfg))
    assert min(shape) >= cfg.min_size
    with pytest.raises(ImageTooElongated):
        plan_pyramid(shape, cfg)


@given(gen.small_plans())
def test_small_plans_are_small_and_grow(plan):
    assert all(max(s) <= 40 for s in plan.shapes)
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in zip(plan.shapes, plan.shapes[1:]))


@given(gen.images())
def test_images_are_float32_pixels_in_the_signed_range(image):
    assert image.dtype == np.float32
    assert image.ndim == 3 and image.shape[0] == 3
    assert np.all((image >= -1) & (image <= 1))


@given(gen.binary_masks(), gen.soft_masks())
def test_masks_are_single_channel_in_the_unit_range(binary, soft):
    assert binary.ndim == 2 and soft.ndim == 2
    assert set(np.unique(binary)) <= {0.0, 1.0}
    assert np.all((soft >= 0) & (soft <= 1))


@given(gen.sr_factors(), gen.decimal_fractions())
def test_numbers_a_user_types_are_in_range(factor, fraction):
    assert 1 < factor <= 16
    assert round(factor * 100) == pytest.approx(factor * 100)  # at most two decimals
    numerator, denominator = fraction
    assert 0 <= numerator <= denominator
