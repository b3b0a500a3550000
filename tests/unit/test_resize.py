"""Resizing in pure numpy: right shape, convex (never overshoots), identity at the same size."""
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.resize import build_pyramid, resize
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
def test_the_pyramid_resizes_the_full_image_to_every_scale(plan, data):
    image = data.draw(gen.seeded_images(plan.finest_shape))
    pyramid = build_pyramid(image, plan.shapes)
    assert [p.shape[-2:] for p in pyramid] == list(plan.shapes)
    for level, shape in zip(pyramid, plan.shapes):
        np.testing.assert_array_equal(level, resize(image, shape))
    np.testing.assert_array_equal(pyramid[-1], image)
