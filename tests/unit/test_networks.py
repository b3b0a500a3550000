"""Framework-free network schedules: widths per scale, weight inheritance, padding, critic output."""
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import NetworkConfig
from domain.networks import channel_schedule, channels_at, critic_output_shape, generator_padding, inherits_weights
from tests import strategies as gen

scales = st.integers(0, 64)


def test_the_official_widths_double_every_four_scales_from_32_to_128():
    assert channel_schedule(12) == (32, 32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 128)


@given(gen.network_configs(), scales)
def test_widths_are_clamped_to_min_and_max_channels(cfg, scale):
    assert cfg.min_channels <= channels_at(scale, cfg) <= cfg.max_channels


@given(gen.network_configs(), scales)
def test_widths_are_the_base_doubled_once_per_double_every_scales_then_clamped(cfg, scale):
    unclamped = cfg.channels * 2 ** (scale // cfg.double_every)
    expected = min(cfg.max_channels, max(cfg.min_channels, unclamped))
    assert channels_at(scale, cfg) == expected


@given(gen.network_configs(), scales)
def test_widths_never_shrink_and_at_most_double_from_one_scale_to_the_next(cfg, scale):
    here, above = channels_at(scale, cfg), channels_at(scale + 1, cfg)
    assert here <= above <= 2 * here


@given(gen.network_configs(), st.integers(0, 16))
def test_an_unclamped_width_doubles_exactly_at_each_boundary(cfg, times):
    roomy = NetworkConfig(
        channels=cfg.channels, double_every=cfg.double_every, min_channels=1, max_channels=cfg.channels * 2**17
    )
    boundary = (times + 1) * cfg.double_every
    assert channels_at(boundary, roomy) == 2 * channels_at(boundary - 1, roomy)


def test_a_negative_scale_is_refused():
    with pytest.raises(ValueError, match="scale must be >= 0"):
        channels_at(-1)


@given(gen.network_configs(), st.integers(1, 30))
def test_the_schedule_lists_every_scales_width(cfg, num_scales):
    assert channel_schedule(num_scales, cfg) == tuple(channels_at(n, cfg) for n in range(num_scales))


@given(gen.network_configs(), scales)
@example(NetworkConfig(), 4)
def test_a_scale_inherits_weights_exactly_when_its_width_equals_the_previous_one(cfg, scale):
    if scale == 0:
        assert not inherits_weights(0, cfg)
    else:
        assert inherits_weights(scale, cfg) == (channels_at(scale, cfg) == channels_at(scale - 1, cfg))


def test_with_the_official_widths_only_scales_four_and_eight_start_fresh():
    fresh = [n for n in range(12) if not inherits_weights(n)]
    assert fresh == [0, 4, 8]


@given(gen.network_configs())
@example(NetworkConfig())
def test_generator_padding_is_half_the_trim_of_the_conv_stack(cfg):
    assert generator_padding(cfg) == cfg.num_layers * (cfg.kernel_size - 1) // 2
    assert 2 * generator_padding(cfg) == cfg.num_layers * (cfg.kernel_size - 1)  # odd kernels: exact


def test_the_official_generator_pads_five_pixels():
    assert generator_padding() == 5


@given(gen.network_configs(), gen.small_shapes(1, 300))
def test_the_critic_trims_kernel_size_minus_one_per_layer(cfg, shape):
    height, width = shape
    for _ in range(cfg.num_layers):  # one unpadded conv at a time
        height, width = height - (cfg.kernel_size - 1), width - (cfg.kernel_size - 1)
    assert critic_output_shape(shape, cfg) == (height, width)


def test_the_official_critic_maps_25x34_to_a_15x24_patch_map():
    assert critic_output_shape((25, 34)) == (15, 24)
