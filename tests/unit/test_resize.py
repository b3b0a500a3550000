"""Resizing in pure numpy: right shape, convex (never overshoots), identity at the same size."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.imaging import official_round_trip, to_signed, to_uint8
from domain.resize import Resampling, fit_pixels, resize, to_eight_bits
from tests import strategies as gen

TOL = 1e-5  # float32 sums of weights that add to 1


@given(gen.images(), gen.small_shapes())
def test_resize_gives_the_requested_shape_in_float32(image, shape):
    out = resize(image, shape)
    assert out.shape == (3, *shape)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous


@given(gen.images(channels=None), gen.small_shapes())
def test_resize_works_on_a_single_channel(image, shape):
    assert resize(image, shape).shape == shape


@given(st.integers(1, 4), gen.small_shapes(), gen.small_shapes(), st.data())
def test_channels_are_resized_independently(channels, shape_in, shape_out, data):
    image = data.draw(gen.images(shape_in, channels=channels))
    together = resize(image, shape_out)
    for c in range(channels):
        np.testing.assert_allclose(together[c], resize(image[c], shape_out), rtol=0, atol=TOL)


@given(st.data(), gen.small_shapes())
def test_a_batch_is_resized_image_by_image(data, shape):
    batch = np.stack([data.draw(gen.images(shape=(5, 7))) for _ in range(2)])
    out = resize(batch, shape)
    assert out.shape == (2, 3, *shape)
    for n in range(2):
        np.testing.assert_allclose(out[n], resize(batch[n], shape), rtol=0, atol=TOL)


@given(gen.small_shapes(), gen.small_shapes(), st.floats(-1, 1, width=32))
def test_a_constant_image_stays_constant(shape_in, shape_out, value):
    out = resize(np.full((3, *shape_in), value, np.float32), shape_out)
    np.testing.assert_allclose(out, value, rtol=0, atol=TOL)


@given(gen.images(), gen.small_shapes())
def test_values_stay_within_the_inputs_range(image, shape):
    out = resize(image, shape)
    assert out.min() >= image.min() - TOL
    assert out.max() <= image.max() + TOL


@given(gen.images(), gen.small_shapes())
def test_each_channel_stays_within_its_own_range(image, shape):
    out = resize(image, shape)
    for c in range(image.shape[0]):
        assert image[c].min() - TOL <= out[c].min() and out[c].max() <= image[c].max() + TOL


@given(gen.images())
def test_resizing_to_the_same_shape_is_an_independent_copy(image):
    out = resize(image, image.shape[-2:])
    np.testing.assert_array_equal(out, image)
    out += 1
    assert not np.shares_memory(out, image)


@given(gen.images(), gen.small_shapes())
def test_mirroring_commutes_with_resizing(image, shape):
    np.testing.assert_allclose(
        resize(image[:, ::-1, ::-1], shape), resize(image, shape)[:, ::-1, ::-1], rtol=0, atol=TOL
    )


@given(gen.images(), gen.small_shapes())
def test_transposing_commutes_with_resizing(image, shape):
    transposed = np.ascontiguousarray(image.transpose(0, 2, 1))
    np.testing.assert_allclose(
        resize(transposed, shape[::-1]), resize(image, shape).transpose(0, 2, 1), rtol=0, atol=TOL
    )


@given(gen.images(), gen.small_shapes())
def test_results_can_be_written_without_changing_later_results(image, shape):
    first = resize(image, shape)
    expected = first.copy()
    first[...] = 7.0  # the interpolation weights are cached and shared; the result must not be
    np.testing.assert_array_equal(resize(image, shape), expected)


@given(st.integers(1, 12), st.integers(1, 5))
@example(3, 2)
def test_upsampling_a_step_edge_is_monotone_and_keeps_its_ends(width, factor):
    edge = np.repeat([[0.0] * width + [1.0] * width], 2, axis=0).astype(np.float32)
    out = resize(edge, (2, 2 * width * factor))
    assert np.all(np.diff(out[0]) >= -TOL)
    assert out[0, 0] == pytest.approx(0.0, abs=TOL) and out[0, -1] == pytest.approx(1.0, abs=TOL)


def test_halving_weighs_pixels_with_a_triangle_two_pixels_wide_by_hand():
    # Output pixel 0 sits at input 0.5: taps 0, 1, 2 weigh 0.75, 0.75, 0.25 (tap 3 is 2.5 px away), /1.75.
    row = np.array([[0.0, 1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(resize(row, (1, 2)), [[1.25 / 1.75, 4.0 / 1.75]], atol=TOL)


@given(st.integers(2, 4), st.integers(4, 8))
def test_shrinking_a_ramp_samples_it_at_the_pixel_centres_away_from_the_borders(ratio, size_out):
    ramp = np.arange(ratio * size_out, dtype=np.float32)[None, :]
    out = resize(ramp, (1, size_out))[0]
    centres = (np.arange(size_out) + 0.5) * ratio - 0.5
    inside = (centres - ratio >= 0) & (centres + ratio <= ramp.shape[1] - 1)  # the whole triangle on the ramp
    assert inside.any()
    np.testing.assert_allclose(out[inside], centres[inside], rtol=0, atol=1e-4)


@pytest.mark.parametrize("shape", [(0, 4), (4, 0), (-1, 4)])
def test_resizing_to_an_empty_shape_is_refused(shape):
    with pytest.raises(ValueError, match="cannot resize"):
        resize(np.zeros((3, 4, 4), np.float32), shape)


@given(gen.small_plans(), st.data())
def test_the_linear_pyramid_resizes_the_full_image_to_every_scale(plan, data):
    image = data.draw(gen.seeded_images(plan.finest_shape))
    pyramid = Resampling(kind="linear", factor=plan.factor).pyramid(image, plan.shapes)
    assert [p.shape[-2:] for p in pyramid] == list(plan.shapes)
    for level, shape in zip(pyramid, plan.shapes):
        np.testing.assert_array_equal(level, resize(image, shape))
    np.testing.assert_array_equal(pyramid[-1], image)


# --- the official's bicubic (MATLAB imresize semantics) ------------------------------------------
# Keys' cubic (a = -0.5) at the distances that occur below:
# k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = -0.0703125, k(1.75) = -0.0234375.


def test_a_cubic_enlargement_by_two_by_hand():
    # Output pixel o (1-based) sits at o / 2 + 1 / 4: 0.75, 1.25, 1.75, 2.25 (input pixels at 1, 2).
    # o = 1: taps before the left edge weigh nothing, so k(0.25) on 0 and k(1.25) on 1, over their sum.
    # o = 2: k(0.25) on 0, k(0.75) on 1, and k(1.75) on the pixel past the right edge, which mirrors to 1.
    # o = 4: k(0.25) + k(0.75) on 1 (the second mirrored), k(1.25) + k(1.75) on 0; the weights sum to 1.
    row = np.array([[0.0, 1.0]], np.float32)
    out = resize(row, (1, 4), kernel="cubic", scale=2.0)[0]
    assert out[0] == pytest.approx(-0.0703125 / (0.8671875 - 0.0703125), abs=TOL)  # -3/34: the cubic's undershoot
    assert out[1] == pytest.approx((0.2265625 - 0.0234375) / (0.8671875 + 0.2265625 - 0.0234375), abs=TOL)
    assert out[3] == pytest.approx(0.8671875 + 0.2265625, abs=TOL)  # 1.09375: overshoot past the edge value


def test_a_cubic_shrink_by_two_is_antialiased_by_hand():
    # Shrinking by 1/2 stretches the kernel to 8 taps at half height: weights 0.5 * k(d / 2).
    # Output pixel 1 sits at input 1.5 (1-based): distances 0.5, -0.5, -1.5, -2.5, -3.5 to input
    # pixels 1..4 and the first mirrored one (pixel 4 again); taps before the left edge weigh nothing.
    row = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    out = resize(row, (1, 2), kernel="cubic", scale=0.5)[0]
    w = {0.5: 0.43359375, 1.5: 0.11328125, 2.5: -0.03515625, 3.5: -0.01171875}
    first = (w[1.5] + w[2.5] + w[3.5]) / (2 * w[0.5] + w[1.5] + w[2.5] + w[3.5])
    # Output pixel 2 sits at 3.5: pixels 3 and 4 (value 1) get w(0.5) each, plus mirrored taps
    # w(1.5) on 4 and w(2.5) on 3; pixel 2 gets w(1.5) and the mirrored w(3.5), pixel 1 w(2.5).
    ones = 2 * w[0.5] + w[1.5] + w[2.5]
    second = ones / (ones + w[1.5] + w[3.5] + w[2.5])
    np.testing.assert_allclose(out, [first, second], atol=TOL)


@given(gen.images(), gen.small_shapes())
def test_cubic_weights_sum_to_one_so_a_flat_image_stays_flat(image, shape):
    flat = np.full_like(image, 0.3)
    np.testing.assert_allclose(resize(flat, shape, kernel="cubic"), 0.3, atol=1e-5)


@given(gen.small_plans(), st.data())
def test_going_up_a_scale_is_the_top_left_crop_of_an_enlargement_by_one_over_the_factor(plan, data):
    if plan.num_scales < 2:
        return
    n = data.draw(st.integers(0, plan.num_scales - 2))
    image = data.draw(gen.seeded_images(plan.shapes[n]))
    resampling = Resampling(kind="bicubic", factor=plan.factor)
    up = resampling.up(image, plan.shapes[n + 1])
    h, w = plan.shapes[n]
    full = (int(np.ceil(h / plan.factor - 1e-9)), int(np.ceil(w / plan.factor - 1e-9)))
    whole = np.clip(resize(to_eight_bits(image), full, kernel="cubic", scale=1 / plan.factor), -1, 1)
    assert full[0] >= plan.shapes[n + 1][0] and full[1] >= plan.shapes[n + 1][1]
    np.testing.assert_allclose(up, whole[:, : plan.shapes[n + 1][0], : plan.shapes[n + 1][1]], atol=1e-6)


@given(gen.images())
def test_bicubic_resampling_stays_within_minus_one_and_one(image):
    out = Resampling(kind="bicubic", factor=0.75).up(np.clip(image * 3, -3, 3), (image.shape[1] + 3, image.shape[2] + 3))
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_eight_bits_truncate_as_the_official_and_keep_exact_levels():
    levels = np.arange(256, dtype=np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(to_eight_bits(levels), levels, atol=1e-6)
    between = levels[:-1] + 0.9 / 127.5  # 90% of the way to the next level: truncated down
    np.testing.assert_allclose(to_eight_bits(between), levels[:-1], atol=1e-6)
    assert to_eight_bits(np.float32(2.0)) == pytest.approx(1.0) and to_eight_bits(np.float32(-3.0)) == pytest.approx(-1.0)


@given(gen.small_plans(), st.data())
def test_the_bicubic_pyramid_keeps_the_finest_scale_and_resizes_the_full_image_by_powers_of_the_factor(plan, data):
    image = to_eight_bits(data.draw(gen.seeded_images(plan.finest_shape)))
    resampling = Resampling(kind="bicubic", factor=plan.factor)
    pyramid = resampling.pyramid(image, plan.shapes)
    assert [p.shape[-2:] for p in pyramid] == list(plan.shapes)
    np.testing.assert_array_equal(pyramid[-1], image)
    last = plan.num_scales - 1
    for n, (level, shape) in enumerate(zip(pyramid[:-1], plan.shapes)):
        expected = np.clip(resize(image, shape, kernel="cubic", scale=plan.factor ** (last - n)), -1, 1)
        np.testing.assert_allclose(level, expected, atol=1e-6)


def test_the_official_round_trip_drops_levels_1_to_63_by_one_as_the_officials_torch_functions_do():
    # Measured with the official code's torch2uint8(np2torch(levels 0..255)): exactly levels 1-63
    # come back one lower.
    levels = np.arange(256, dtype=np.uint8)[None, :, None].repeat(3, axis=2)
    back = official_round_trip(levels).astype(int)
    want = np.arange(256) - ((np.arange(256) >= 1) & (np.arange(256) <= 63))
    np.testing.assert_array_equal(back[0, :, 0], want)
    floats = np.array([[[10.7, 255.9, -3.0]], [[300.0, 63.99, 64.0]]])
    np.testing.assert_array_equal(official_round_trip(floats), [[[10, 255, 0]], [[255, 63, 64]]])
    assert back.dtype == int and official_round_trip(levels).dtype == np.uint8


@given(gen.uint8_images())
def test_the_official_round_trip_lowers_a_pixel_by_at_most_one_level(image):
    back = official_round_trip(image).astype(int)
    assert back.shape == image.shape
    assert np.all((back == image) | (back == image.astype(int) - 1))


def _fit(image, shape, scale, quantize, kind="bicubic"):
    return fit_pixels(image, shape, scale=scale, resampling=Resampling(kind=kind), quantize=quantize)


def test_the_truncating_fit_is_two_round_trips_around_a_float64_resize():
    flat = np.full((40, 60, 3), 30, np.uint8)  # 30 -> 29 before the resize, 29 -> 28 after it
    np.testing.assert_array_equal(_fit(flat, (20, 30), 0.5, "truncate"), np.full((20, 30, 3), 28, np.uint8))
    bright = np.full((40, 60, 3), 200, np.uint8)  # above 63 a level survives both trips
    np.testing.assert_array_equal(_fit(bright, (20, 30), 0.5, "truncate"), np.full((20, 30, 3), 200, np.uint8))
    # An image that already fits still takes both trips (the official resizes it by 1).
    levels = np.array([[[0, 1, 2]], [[63, 64, 65]]], np.uint8)
    np.testing.assert_array_equal(_fit(levels, (2, 1), 1.0, "truncate"), [[[0, 0, 0]], [[61, 64, 65]]])
    np.testing.assert_array_equal(_fit(levels, (2, 1), 1.0, "round"), levels)


def test_the_truncating_fit_is_the_rounding_fit_truncated_after_the_first_trip():
    image = np.random.default_rng(4).integers(64, 256, (30, 45, 3), dtype=np.uint8)  # no level drops
    for kind in ("bicubic", "linear"):
        rounded = Resampling(kind=kind).to_shape(to_signed(image), (14, 20), scale=20 / 45)
        want = np.floor(np.clip((rounded.transpose(1, 2, 0) + 1) * 127.5, 0, 255) + 1e-3).astype(np.uint8)
        got = _fit(image, (14, 20), 20 / 45, "truncate", kind).astype(int)
        assert np.abs(got - want).max() <= 1 and np.mean(got != want) < 0.01  # float32 against float64
        np.testing.assert_array_equal(_fit(image, (14, 20), 20 / 45, "round", kind), to_uint8(rounded))
    with pytest.raises(ValueError, match="quantize"):
        _fit(image, (14, 20), 20 / 45, "nearest")
