"""Walking the pyramid with a hand-written fake generator (a plain function of numpy arrays)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidRequest, ScaleOutOfRange, SinGANError
from domain.noise import draw_noise, noise_shape
from domain.pyramid import scaled_shape
from domain.resize import Resampling, resize
from domain.sampling import (
    MAX_OUTPUT_FACTOR,
    check_start_scale,
    output_shapes,
    random_noises,
    reconstruction_noises,
    walk,
)
from tests import strategies as gen

seeds = st.integers(0, 2**32 - 1)


class FakeGenerator:
    """Satisfies GeneratorFn: records every call and returns prev plus a residual unique to the scale."""

    def __init__(self):
        self.calls = []  # (scale, x, prev, output)

    def __call__(self, scale, x, prev):
        output = (prev + 0.5 * (x - prev) + 0.01 * (scale + 1)).astype(np.float32)
        self.calls.append((scale, x.copy(), prev.copy(), output.copy()))
        return output

    @property
    def scales(self):
        return [call[0] for call in self.calls]


@st.composite
def walks(draw):
    """A small plan, an amplitude per scale, seeded noise, a valid start..stop range and a
    resampling rule (both kinds, the plan's factor)."""
    plan = draw(gen.small_plans())
    n = plan.num_scales
    amplitudes = draw(st.lists(st.floats(0, 2), min_size=n, max_size=n))
    grey = draw(st.sampled_from([1, 3]))
    noises = random_noises(np.random.default_rng(draw(seeds)), plan.shapes, coarsest_channels=grey)
    start = draw(st.integers(0, n - 1))
    stop = draw(st.integers(start + 1, n))
    resampling = Resampling(kind=draw(st.sampled_from(["bicubic", "linear"])), factor=plan.factor)
    return plan.shapes, amplitudes, noises, start, stop, resampling


@given(walks())
def test_walk_calls_the_scales_in_order_with_their_shapes(case):
    shapes, amplitudes, noises, start, stop, resampling = case
    fake = FakeGenerator()
    walk(fake, shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling, start_scale=start, stop_scale=stop)
    assert fake.scales == list(range(start, stop))
    for scale, x, prev, _ in fake.calls:
        assert x.shape == prev.shape == noise_shape(shapes[scale])


@given(walks())
def test_walk_runs_every_scale_by_default_and_returns_the_finest_output(case):
    shapes, amplitudes, noises, _, _, resampling = case
    fake = FakeGenerator()
    out = walk(fake, shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling)
    assert fake.scales == list(range(len(shapes)))
    assert out.shape == noise_shape(shapes[-1])
    np.testing.assert_array_equal(out, fake.calls[-1][3])


@given(walks())
def test_each_prev_is_the_previous_output_brought_up_and_the_first_is_zeros(case):
    shapes, amplitudes, noises, start, stop, resampling = case
    fake = FakeGenerator()
    walk(fake, shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling, start_scale=start, stop_scale=stop)
    np.testing.assert_array_equal(fake.calls[0][2], np.zeros(noise_shape(shapes[start]), np.float32))
    for (_, _, _, before), (scale, _, prev, _) in zip(fake.calls, fake.calls[1:]):
        np.testing.assert_array_equal(prev, resampling.up(before, shapes[scale]))


@given(walks())
def test_the_generator_input_is_prev_plus_amplified_noise(case):
    shapes, amplitudes, noises, start, stop, resampling = case
    fake = FakeGenerator()
    walk(fake, shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling, start_scale=start, stop_scale=stop)
    for scale, x, prev, _ in fake.calls:
        np.testing.assert_allclose(x, amplitudes[scale] * noises[scale] + prev, rtol=1e-6, atol=1e-6)


@given(walks(), st.integers(1, 4), seeds)
def test_a_batch_of_noises_walks_as_each_sample_would_alone(case, batch, seed):
    shapes, amplitudes, _, start, stop, resampling = case
    rng = np.random.default_rng(seed)
    draws = [random_noises(rng, shapes, coarsest_channels=1) for _ in range(batch)]
    stacked = [np.stack([d[n] for d in draws]) for n in range(len(shapes))]
    kwargs = dict(shapes=shapes, amplitudes=amplitudes, resampling=resampling, start_scale=start, stop_scale=stop)
    together = walk(FakeGenerator(), noises=stacked, **kwargs)
    assert together.shape == (batch, *noise_shape(shapes[stop - 1]))
    for k, noises in enumerate(draws):
        np.testing.assert_allclose(together[k], walk(FakeGenerator(), noises=noises, **kwargs), rtol=1e-6, atol=1e-6)


@given(walks(), st.data())
def test_a_start_image_is_resized_to_the_start_scale_as_its_prev(case, data):
    shapes, amplitudes, noises, start, stop, resampling = case
    start_image = data.draw(gen.images(data.draw(gen.small_shapes(1, 48))))
    fake = FakeGenerator()
    walk(
        fake,
        shapes=shapes,
        amplitudes=amplitudes,
        noises=noises,
        resampling=resampling,
        start_scale=start,
        stop_scale=stop,
        start_image=start_image,
    )
    expected = start_image if start_image.shape[-2:] == shapes[start] else resampling.to_shape(start_image, shapes[start])
    np.testing.assert_array_equal(fake.calls[0][2], expected)


@given(walks())
def test_noise_below_the_start_scale_is_never_used(case):
    shapes, amplitudes, noises, start, stop, resampling = case
    poisoned = [np.full_like(z, np.nan) if n < start else z for n, z in enumerate(noises)]
    fake = FakeGenerator()
    common = dict(shapes=shapes, amplitudes=amplitudes, resampling=resampling, start_scale=start, stop_scale=stop)
    out = walk(fake, noises=poisoned, **common)
    assert np.all(np.isfinite(out))
    clean = walk(FakeGenerator(), noises=noises, **common)
    np.testing.assert_array_equal(out, clean)


@given(walks())
def test_walking_in_two_legs_equals_walking_in_one(case):
    shapes, amplitudes, noises, start, stop, resampling = case
    common = dict(shapes=shapes, amplitudes=amplitudes, noises=noises, resampling=resampling)
    whole = walk(FakeGenerator(), start_scale=start, **common)
    first_leg = walk(FakeGenerator(), start_scale=start, stop_scale=stop, **common)
    if stop == len(shapes):
        np.testing.assert_array_equal(whole, first_leg)
    else:
        # the second leg starts from the first leg's output brought up: what an unbroken walk uses
        up = resampling.up(first_leg, shapes[stop])
        second_leg = walk(FakeGenerator(), start_scale=stop, start_image=up, **common)
        np.testing.assert_array_equal(whole, second_leg)


@given(gen.small_plans(), st.data())
def test_an_empty_or_outside_range_of_scales_is_refused(plan, data):
    n = plan.num_scales
    noises = random_noises(np.random.default_rng(0), plan.shapes, coarsest_channels=3)
    start, stop = data.draw(
        st.one_of(
            st.tuples(st.integers(-5, -1), st.integers(1, n)),  # negative start
            st.integers(1, n).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s))),  # stop <= start
            st.tuples(st.integers(0, n - 1), st.integers(n + 1, n + 5)),  # past the finest scale
        )
    )
    with pytest.raises(ScaleOutOfRange, match="cannot walk scales"):
        walk(
            FakeGenerator(), shapes=plan.shapes, amplitudes=[1.0] * n, noises=noises,
            resampling=Resampling(factor=plan.factor), start_scale=start, stop_scale=stop,
        )


@given(gen.small_plans(), seeds)
def test_reconstruction_noise_is_z_star_at_the_coarsest_scale_and_zeros_above(plan, seed):
    z_star = draw_noise(np.random.default_rng(seed), plan.coarsest_shape)
    noises = reconstruction_noises(z_star, plan.shapes)
    assert len(noises) == plan.num_scales
    np.testing.assert_array_equal(noises[0], z_star)
    for noise, shape in zip(noises[1:], plan.shapes[1:]):
        assert noise.shape == noise_shape(shape) and noise.dtype == np.float32
        assert not noise.any()


@given(gen.small_plans(), seeds, gen.small_shapes(2, 30))
def test_a_z_star_of_another_shape_is_resized_to_the_coarsest_scale(plan, seed, other):
    z_star = draw_noise(np.random.default_rng(seed), other)
    noises = reconstruction_noises(z_star, plan.shapes)
    np.testing.assert_array_equal(noises[0], resize(z_star, plan.coarsest_shape))


@given(gen.small_plans(), seeds, st.data())
def test_random_noises_are_reproducible_from_the_seed_and_zero_below_the_start(plan, seed, data):
    start = data.draw(st.integers(0, plan.num_scales - 1))
    first = random_noises(np.random.default_rng(seed), plan.shapes, start_scale=start, coarsest_channels=3)
    second = random_noises(np.random.default_rng(seed), plan.shapes, start_scale=start, coarsest_channels=3)
    for n, (a, b, shape) in enumerate(zip(first, second, plan.shapes)):
        assert a.shape == noise_shape(shape)
        np.testing.assert_array_equal(a, b)
        if n < start:
            assert not a.any()
        else:
            assert a.std() > 0


@given(gen.small_plans(), seeds, st.data(), st.sampled_from([1, 3]))
def test_only_the_scales_that_use_noise_consume_the_random_stream(plan, seed, data, grey):
    start = data.draw(st.integers(0, plan.num_scales - 1))
    from_start = random_noises(np.random.default_rng(seed), plan.shapes, start_scale=start, coarsest_channels=grey)
    rng = np.random.default_rng(seed)
    expected = [draw_noise(rng, shape, grey if n == 0 else 3) for n, shape in enumerate(plan.shapes) if n >= start]
    for got, want in zip(from_start[start:], expected):
        np.testing.assert_array_equal(got, want)


@given(gen.small_plans(), seeds)
def test_the_official_coarsest_noise_is_one_grey_map_on_every_channel_and_colour_above(plan, seed):
    noises = random_noises(np.random.default_rng(seed), plan.shapes, coarsest_channels=1)
    coarsest = noises[0]
    np.testing.assert_array_equal(coarsest[0], coarsest[1])
    np.testing.assert_array_equal(coarsest[0], coarsest[2])
    assert coarsest.std() > 0
    for noise in noises[1:]:
        assert not np.array_equal(noise[0], noise[1])


@given(st.integers(1, 30), st.data())
def test_any_scale_from_lowest_to_the_finest_is_a_valid_start(num_scales, data):
    lowest = data.draw(st.integers(0, num_scales - 1))
    scale = data.draw(st.integers(lowest, num_scales - 1))
    assert check_start_scale(scale, num_scales, lowest=lowest) == scale
    assert check_start_scale(np.int64(scale), num_scales, lowest=lowest) == scale


@given(st.integers(1, 30), st.data())
def test_a_start_outside_the_range_is_refused_naming_the_range(num_scales, data):
    lowest = data.draw(st.integers(0, num_scales - 1))
    scale = data.draw(st.integers(-50, lowest - 1) | st.integers(num_scales, num_scales + 50))
    with pytest.raises(ScaleOutOfRange, match=rf"between {lowest} and {num_scales - 1}") as raised:
        check_start_scale(scale, num_scales, lowest=lowest, what="injection scale")
    assert str(raised.value).startswith(f"injection scale {scale}")
    assert f"{num_scales} scales" in str(raised.value)
    assert isinstance(raised.value, SinGANError)


@pytest.mark.parametrize("scale", [True, 1.0, "1", None])
def test_a_start_scale_that_is_not_an_integer_is_refused(scale):
    with pytest.raises(ScaleOutOfRange):
        check_start_scale(scale, 5)


output_factors = st.floats(0.5, MAX_OUTPUT_FACTOR)  # >= 0.5 keeps a >= 8 px coarsest side >= 4 px


@given(gen.small_plans(), output_factors, output_factors)
def test_output_shapes_scale_every_scale_by_the_factors_rounding_up(plan, scale_v, scale_h):
    out = output_shapes(plan.shapes, scale_v=scale_v, scale_h=scale_h)
    assert out == [scaled_shape(s, scale_v, scale_h) for s in plan.shapes]
    for (h, w), (oh, ow) in zip(plan.shapes, out):
        assert math.ceil(h * scale_v) - 1 <= oh <= math.ceil(h * scale_v)
        assert math.ceil(w * scale_h) - 1 <= ow <= math.ceil(w * scale_h)
    for coarser, finer in zip(out, out[1:]):
        assert finer[0] >= coarser[0] and finer[1] >= coarser[1]


@given(gen.small_plans())
def test_unit_output_factors_keep_the_shapes(plan):
    assert output_shapes(plan.shapes) == list(plan.shapes)


@given(gen.small_plans(), st.integers(1, 8))
def test_integer_output_factors_multiply_the_shapes_exactly(plan, factor):
    out = output_shapes(plan.shapes, scale_v=factor, scale_h=1.0)
    assert out == [(h * factor, w) for h, w in plan.shapes]


bad_factors = (
    st.floats(max_value=0.0)
    | st.floats(min_value=MAX_OUTPUT_FACTOR, exclude_min=True)
    | st.just(float("nan"))
    | st.sampled_from(["2", None])
)


@given(gen.small_plans(), bad_factors, st.sampled_from(["scale_v", "scale_h"]))
def test_an_output_factor_out_of_range_is_refused_naming_it(plan, factor, name):
    with pytest.raises(InvalidRequest, match=rf"{name} must be in \(0, 8\]"):
        output_shapes(plan.shapes, **{name: factor})


@given(gen.small_plans())
def test_an_output_that_shrinks_the_coarsest_scale_under_4_px_is_refused(plan):
    too_small = 3.0 / min(plan.coarsest_shape)  # ceil lands the coarsest side on 3 px
    with pytest.raises(InvalidRequest, match="at least 4 px"):
        output_shapes(plan.shapes, scale_v=too_small, scale_h=too_small)
