"""Noise maps and amplitudes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.noise import IMAGE_CHANNELS, draw_noise, noise_amplitude, noise_channels, noise_shape, rmse
from tests import strategies as gen

seeds = st.integers(0, 2**64 - 1)
factors = st.floats(-100, 100)


@given(gen.small_shapes(1, 512))
def test_a_noise_map_has_one_value_per_pixel_and_channel(shape):
    assert noise_shape(shape) == (IMAGE_CHANNELS, *shape) == (3, *shape)


@given(seeds, gen.small_shapes())
def test_noise_has_the_noise_shape_in_float32(seed, shape):
    noise = draw_noise(np.random.default_rng(seed), shape)
    assert noise.shape == noise_shape(shape)
    assert noise.dtype == np.float32
    assert np.all(np.isfinite(noise))


@given(seeds, gen.small_shapes())
def test_the_same_seed_draws_the_same_noise(seed, shape):
    first = draw_noise(np.random.default_rng(seed), shape)
    second = draw_noise(np.random.default_rng(seed), shape)
    np.testing.assert_array_equal(first, second)


@given(seeds, gen.small_shapes())
def test_successive_draws_from_one_generator_differ(seed, shape):
    rng = np.random.default_rng(seed)
    assert not np.array_equal(draw_noise(rng, shape), draw_noise(rng, shape))


def test_noise_is_standard_normal():
    noise = draw_noise(np.random.default_rng(0), (200, 200))
    assert noise.mean() == pytest.approx(0, abs=0.02)
    assert noise.std() == pytest.approx(1, abs=0.02)


@given(gen.images())
def test_rmse_of_an_image_with_itself_is_zero(image):
    assert rmse(image, image) == 0.0


@given(st.data())
def test_rmse_is_symmetric_and_non_negative(data):
    a = data.draw(gen.images())
    b = data.draw(gen.images(a.shape[1:]))
    assert rmse(a, b) == rmse(b, a) >= 0


@given(st.data(), factors)
def test_rmse_scales_linearly_with_both_images(data, factor):
    a = data.draw(gen.images())
    b = data.draw(gen.images(a.shape[1:]))
    scaled = rmse(np.float64(factor) * a.astype(np.float64), np.float64(factor) * b.astype(np.float64))
    assert scaled == pytest.approx(abs(factor) * rmse(a, b), rel=1e-9, abs=1e-12)


@given(gen.images(), st.floats(-2, 2))
def test_rmse_against_a_constant_shift_is_the_shift(image, shift):
    shifted = image.astype(np.float64) + shift
    assert rmse(image, shifted) == pytest.approx(abs(shift), rel=1e-6, abs=1e-6)


def test_rmse_refuses_unequal_shapes():
    with pytest.raises(ValueError, match="equal shapes"):
        rmse(np.zeros((3, 4, 4)), np.zeros((3, 4, 5)))


def test_rmse_by_hand():
    assert rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5))


@given(st.floats(0, 2), st.floats(0, 10))
def test_the_coarsest_scale_has_unit_noise_whatever_the_reconstruction(rmse_value, base):
    assert noise_amplitude(0, rmse_value, base=base) == 1.0


@given(st.integers(1, 30), st.floats(0, 2), st.floats(0, 10))
def test_above_the_coarsest_the_amplitude_is_linear_in_the_base(scale, rmse_value, base):
    doubled = noise_amplitude(scale, rmse_value, base=2 * base)
    assert doubled == pytest.approx(2 * noise_amplitude(scale, rmse_value, base=base))
    assert noise_amplitude(scale, rmse_value, base=base) == pytest.approx(base * rmse_value)


@given(st.integers(1, 30), st.floats(0, 2), st.floats(0, 10))
def test_above_the_coarsest_the_amplitude_is_proportional_to_the_reconstruction_error(scale, rmse_value, base):
    assert noise_amplitude(scale, 2 * rmse_value, base=base) == pytest.approx(
        2 * noise_amplitude(scale, rmse_value, base=base)
    )
    assert noise_amplitude(scale, 0.0, base=base) == 0.0


@given(seeds, gen.small_shapes())
def test_grey_noise_is_one_map_repeated_over_the_three_channels(seed, shape):
    noise = draw_noise(np.random.default_rng(seed), shape, 1)
    assert noise.shape == noise_shape(shape) and noise.dtype == np.float32
    np.testing.assert_array_equal(noise[0], noise[1])
    np.testing.assert_array_equal(noise[0], noise[2])


@given(seeds, gen.small_shapes())
def test_grey_noise_draws_one_value_a_pixel_from_the_stream(seed, shape):
    rng = np.random.default_rng(seed)
    grey = draw_noise(rng, shape, 1)
    np.testing.assert_array_equal(grey[0], np.random.default_rng(seed).standard_normal(shape, dtype=np.float32))
    after = rng.standard_normal(dtype=np.float32)
    reference = np.random.default_rng(seed)
    reference.standard_normal(shape, dtype=np.float32)
    assert after == reference.standard_normal(dtype=np.float32)


def test_only_the_coarsest_scale_takes_the_configured_channels():
    assert [noise_channels(n, 1) for n in range(4)] == [1, 3, 3, 3]
    assert [noise_channels(n, 3) for n in range(4)] == [3, 3, 3, 3]


def test_noise_of_another_channel_count_is_refused():
    with pytest.raises(ValueError, match="1 or 3 channels"):
        draw_noise(np.random.default_rng(0), (4, 4), 2)
