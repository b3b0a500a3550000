"""Properties of the weight-free metrics."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.metrics import SWDSettings, diversity, laplacian_pyramid, patches, sliced_wasserstein

FAST = SWDSettings(levels=2, projections=32, max_patches=2048)


@st.composite
def images(draw, min_side=16, max_side=40):
    h = draw(st.integers(min_side, max_side))
    w = draw(st.integers(min_side, max_side))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    # smooth structure plus texture, in [-1, 1]
    base = rng.uniform(-1, 1, (3, 1, 1)) * 0.5
    return np.clip(base + 0.3 * rng.standard_normal((3, h, w)), -1, 1).astype(np.float32)


@settings(max_examples=20)
@given(images())
def test_an_image_against_itself_scores_zero(image):
    distance, per_level = sliced_wasserstein(image, [image], FAST)
    assert distance == pytest.approx(0.0, abs=1e-9) and all(d == pytest.approx(0.0, abs=1e-9) for d in per_level)


@settings(max_examples=15)
@given(images(min_side=24), st.integers(0, 1000))
def test_the_distance_grows_with_added_noise(image, seed):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(image.shape).astype(np.float32)
    little = sliced_wasserstein(image, [image + 0.1 * noise], FAST)[0]
    much = sliced_wasserstein(image, [image + 0.6 * noise], FAST)[0]
    assert 0 < little < much


@settings(max_examples=15)
@given(images(), st.integers(2, 5), st.randoms(use_true_random=False))
def test_the_distance_does_not_depend_on_the_order_of_the_samples(image, count, shuffler):
    rng = np.random.default_rng(1)
    samples = [np.clip(image + 0.3 * rng.standard_normal(image.shape), -1, 1).astype(np.float32) for _ in range(count)]
    shuffled = list(samples)
    shuffler.shuffle(shuffled)
    assert sliced_wasserstein(image, samples, FAST)[0] == pytest.approx(sliced_wasserstein(image, shuffled, FAST)[0])


@settings(max_examples=20)
@given(images(), st.integers(1, 6))
def test_identical_samples_have_zero_diversity(image, count):
    assert diversity([image] * count, image) == 0.0


def test_independent_noise_images_have_diversity_near_the_square_root_of_two_over_n():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((3, 64, 64))
    samples = [rng.standard_normal((3, 64, 64)) for _ in range(50)]
    assert diversity(samples, real) == pytest.approx(1.0, abs=0.05)  # std of N(0,1) across samples ~ 1


def test_diversity_needs_samples_of_the_image_shape():
    with pytest.raises(ValueError, match="shape"):
        diversity([np.zeros((3, 4, 4))], np.zeros((3, 5, 5)))


@given(images(min_side=28, max_side=64), st.integers(1, 4))
def test_the_laplacian_pyramid_sums_back_to_the_image(image, levels):
    from domain.resize import resize

    bands = laplacian_pyramid(image, levels)
    rebuilt = bands[-1]
    for band in reversed(bands[:-1]):
        rebuilt = band + resize(rebuilt, band.shape[-2:])
    np.testing.assert_allclose(rebuilt, image, atol=1e-5)
    assert all(min(b.shape[-2:]) >= 7 for b in bands)


def test_patches_are_seven_by_seven_descriptors_on_the_stride_grid():
    image = np.arange(3 * 10 * 12, dtype=np.float32).reshape(3, 10, 12)
    got = patches(image, stride=2)
    assert got.shape == (2 * 3, 3 * 49)
    np.testing.assert_array_equal(got[0].reshape(3, 7, 7), image[:, :7, :7])
