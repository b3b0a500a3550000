"""References and masks for harmonization, editing and paint-to-image."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import ShapeMismatch, SinGANError
from domain.injection import (
    ASPECT_TOLERANCE,
    blend,
    blend_weights,
    check_aspect,
    default_radius,
    derive_mask,
    dilate,
    feather,
    fit_reference,
    threshold_mask,
)
from domain.resize import resize
from tests import strategies as gen

radii = st.integers(0, 4)


def chebyshev_distance_to(mask: np.ndarray) -> np.ndarray:
    """Brute force: each pixel's Chebyshev (chessboard) distance to the nearest mask pixel; inf if none."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return np.full(mask.shape, np.inf)
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    return np.min(np.maximum(abs(yy[..., None] - ys), abs(xx[..., None] - xs)), axis=-1).astype(float)


@st.composite
def blend_cases(draw):
    """generated and reference (C, H, W) and weights (H, W) in [0, 1] with exact 0s and 1s among them."""
    shape = draw(gen.small_shapes())
    weights = draw(gen.soft_masks(shape))
    weights[draw(gen.binary_masks(shape)) > 0] = draw(st.sampled_from([0.0, 1.0]))
    return draw(gen.images(shape)), draw(gen.images(shape)), weights


# --- thresholding and deriving masks ----------------------------------------------------------


@given(gen.soft_masks(), gen.small_shapes())
def test_a_thresholded_mask_is_binary_and_has_the_requested_shape(mask, shape):
    out = threshold_mask(mask, shape)
    assert out.shape == shape and out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, 1.0}


@given(gen.soft_masks())
def test_at_its_own_size_a_mask_is_thresholded_at_one_half(mask):
    np.testing.assert_array_equal(threshold_mask(mask, mask.shape), (mask >= 0.5).astype(np.float32))


@given(gen.soft_masks(), gen.small_shapes())
def test_a_mask_of_another_size_is_resized_then_thresholded(mask, shape):
    np.testing.assert_array_equal(threshold_mask(mask, shape), (resize(mask, shape) >= 0.5).astype(np.float32))


@given(gen.small_shapes(), gen.small_shapes(), st.sampled_from([0.0, 1.0]))
def test_an_empty_or_full_mask_stays_empty_or_full_at_any_size(shape_in, shape_out, value):
    out = threshold_mask(np.full(shape_in, value, np.float32), shape_out)
    assert np.all(out == value)


def test_a_mask_with_channels_is_refused():
    with pytest.raises(ShapeMismatch, match="single-channel"):
        threshold_mask(np.zeros((3, 8, 8)), (8, 8))


@given(gen.images())
def test_a_reference_identical_to_the_original_derives_an_empty_mask(image):
    mask = derive_mask(image, image)
    assert mask.shape == image.shape[1:] and not mask.any()


@given(st.data(), st.floats(0.0, 0.5))
def test_the_derived_mask_marks_pixels_changed_by_more_than_the_tolerance_in_any_channel(data, tolerance):
    original = data.draw(gen.images())
    reference = data.draw(gen.images(original.shape[1:]))
    expected = np.any(np.abs(reference - original) > tolerance, axis=0)
    np.testing.assert_array_equal(derive_mask(reference, original, tolerance=tolerance), expected.astype(np.float32))


@given(gen.images(), gen.binary_masks(), st.integers(0, 2))
@example(np.zeros((3, 2, 2), np.float32), np.eye(2, dtype=np.float32), 1)
def test_painting_a_region_derives_exactly_that_region(image, region, channel):
    if region.shape != image.shape[1:]:
        region = resize(region, image.shape[1:]) >= 0.5
    painted = image.copy()
    painted[channel][region > 0] = np.where(image[channel][region > 0] > 0, -1.0, 1.0)  # a change of > 0.1
    np.testing.assert_array_equal(derive_mask(painted, image), (region > 0).astype(np.float32))


def test_deriving_a_mask_from_images_of_different_shapes_is_refused():
    with pytest.raises(ShapeMismatch, match="differ in shape"):
        derive_mask(np.zeros((3, 4, 4)), np.zeros((3, 4, 5)))


# --- dilation and feathering ------------------------------------------------------------------


@given(gen.binary_masks(), radii)
def test_dilation_contains_the_mask_and_is_binary(mask, radius):
    out = dilate(mask, radius)
    assert out.shape == mask.shape
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert np.all(out >= mask)


@given(gen.binary_masks(), radii)
def test_dilation_grows_monotonically_with_the_radius(mask, radius):
    assert np.all(dilate(mask, radius + 1) >= dilate(mask, radius))


@given(st.data(), radii)
def test_dilation_is_monotone_in_the_mask(data, radius):
    smaller = data.draw(gen.binary_masks())
    larger = np.maximum(smaller, data.draw(gen.binary_masks(smaller.shape)))
    assert np.all(dilate(larger, radius) >= dilate(smaller, radius))


@given(gen.binary_masks(), radii)
def test_dilation_covers_exactly_the_pixels_within_the_radius_in_chebyshev_distance(mask, radius):
    np.testing.assert_array_equal(dilate(mask, radius) > 0, chebyshev_distance_to(mask) <= radius)


def test_dilating_by_zero_only_binarises():
    np.testing.assert_array_equal(dilate(np.array([[0.0, 0.3], [1.0, 0.0]]), 0), [[0, 1], [1, 0]])


@given(gen.binary_masks(), radii)
def test_feathering_stays_in_the_unit_range_and_keeps_the_mask_fully_on(mask, radius):
    out = feather(mask, radius)
    assert out.shape == mask.shape and out.dtype == np.float32
    assert np.all((out >= 0) & (out <= 1))
    assert np.all(out >= mask)


@given(gen.binary_masks())
def test_feathering_by_zero_is_the_mask(mask):
    np.testing.assert_array_equal(feather(mask, 0), mask)


@given(gen.binary_masks(), st.integers(1, 4))
def test_feathering_spreads_no_farther_than_twice_its_radius(mask, radius):
    out = feather(mask, radius)
    assert not out[chebyshev_distance_to(mask) > 2 * radius].any()


@given(gen.binary_masks(), st.integers(0, 3), st.integers(0, 3))
@example(np.pad(np.ones((1, 1), np.float32), ((1, 1), (1, 3))), 0, 1)  # cumsum blurs leaked ~1e-17 here
def test_blend_weights_are_exactly_zero_farther_than_dilation_plus_twice_the_feathering(mask, dilation, feathering):
    weights = blend_weights(mask, dilation=dilation, feathering=feathering)
    far = chebyshev_distance_to(mask) > dilation + 2 * feathering
    assert not weights[far].any()


@given(gen.binary_masks(), st.integers(0, 3), st.integers(0, 3))
def test_blend_weights_are_one_on_the_dilated_mask_and_within_the_unit_range(mask, dilation, feathering):
    weights = blend_weights(mask, dilation=dilation, feathering=feathering)
    assert np.all((weights >= 0) & (weights <= 1))
    assert np.all(weights[chebyshev_distance_to(mask) <= dilation] == 1.0)


@pytest.mark.parametrize(("shape", "radius"), [((10, 10), 1), ((25, 34), 1), ((100, 300), 2), ((186, 248), 4)])
def test_the_default_radius_is_about_two_percent_of_the_short_side(shape, radius):
    assert default_radius(shape) == radius


@given(gen.small_shapes(1, 2000))
def test_the_default_radius_is_at_least_one_pixel(shape):
    radius = default_radius(shape)
    assert radius >= 1
    if min(shape) >= 50:
        assert abs(radius - min(shape) / 50) <= 0.5
    else:
        assert radius == 1


# --- blending ---------------------------------------------------------------------------------


@given(blend_cases())
def test_blending_keeps_the_reference_exactly_where_the_weight_is_zero(case):
    generated, reference, weights = case
    out = blend(generated, reference, weights)
    np.testing.assert_array_equal(out[:, weights == 0], reference[:, weights == 0])


@given(blend_cases())
def test_blending_takes_the_generated_pixels_exactly_where_the_weight_is_one(case):
    generated, reference, weights = case
    out = blend(generated, reference, weights)
    np.testing.assert_array_equal(out[:, weights == 1], generated[:, weights == 1])


@given(blend_cases())
def test_blending_mixes_in_between(case):
    generated, reference, weights = case
    out = blend(generated, reference, weights)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, weights * generated + (1 - weights) * reference, rtol=0, atol=1e-6)
    low, high = np.minimum(generated, reference), np.maximum(generated, reference)
    assert np.all((out >= low - 1e-6) & (out <= high + 1e-6))


@given(blend_cases())
def test_blending_leaves_its_inputs_untouched(case):
    generated, reference, weights = case
    copies = [a.copy() for a in case]
    blend(generated, reference, weights)
    for before, after in zip(copies, case):
        np.testing.assert_array_equal(before, after)


@given(gen.images(), gen.binary_masks(), st.integers(0, 3), st.integers(0, 3), st.data())
def test_reference_pixels_far_from_the_mask_survive_a_blend_bit_for_bit(generated, mask, dilation, feathering, data):
    mask = mask if mask.shape == generated.shape[1:] else data.draw(gen.binary_masks(generated.shape[1:]))
    reference = np.zeros_like(generated)  # zeros show even a 1e-17 leak
    out = blend(generated, reference, blend_weights(mask, dilation=dilation, feathering=feathering))
    far = chebyshev_distance_to(mask) > dilation + 2 * feathering
    assert not out[:, far].any()


def test_blending_arrays_of_different_shapes_is_refused():
    with pytest.raises(ShapeMismatch, match="cannot blend"):
        blend(np.zeros((3, 4, 4)), np.zeros((3, 4, 4)), np.zeros((4, 5)))
    with pytest.raises(ShapeMismatch, match="cannot blend"):
        blend(np.zeros((3, 4, 4)), np.zeros((3, 4, 5)), np.zeros((4, 4)))


# --- references -------------------------------------------------------------------------------


@given(gen.small_shapes(8, 300), st.integers(1, 4))
def test_a_reference_at_a_multiple_of_the_models_size_has_the_right_aspect(model, multiple):
    assert check_aspect((model[0] * multiple, model[1] * multiple), model) is None  # no ShapeMismatch


def test_the_aspect_may_differ_by_less_than_five_percent():
    assert ASPECT_TOLERANCE == 0.05
    assert check_aspect((100, 104), (100, 100)) is None
    assert check_aspect((100, 96), (100, 100)) is None
    with pytest.raises(ShapeMismatch):
        check_aspect((100, 106), (100, 100))
    with pytest.raises(ShapeMismatch):
        check_aspect((100, 94), (100, 100))


@given(gen.small_shapes(8, 300), st.sampled_from([0.8, 1.1, 1.5, 3.0]))
def test_a_reference_stretched_more_than_the_tolerance_is_refused(model, stretch):
    stretched = (model[0], round(model[1] * stretch))
    with pytest.raises(ShapeMismatch, match="crop it to the model's aspect") as raised:
        check_aspect(stretched, model, what="mask")
    assert str(raised.value).startswith(f"mask is {stretched[0]}x{stretched[1]} px")
    assert isinstance(raised.value, SinGANError)


@given(gen.sides(10, 300), gen.sides(10, 300))
def test_a_reference_in_the_other_orientation_is_refused(short, extra):
    model = (short, short + extra + short // 5 + 1)  # at least 20 % wider than tall
    with pytest.raises(ShapeMismatch):
        check_aspect(model[::-1], model)


@given(st.data())
def test_a_fitted_reference_has_the_models_shape(data):
    model = data.draw(gen.small_shapes(4, 24))
    reference = data.draw(gen.images((model[0] * 2, model[1] * 2)))
    assert fit_reference(reference, model).shape == (3, *model)
