"""Framework-free network schedules: widths per scale, weight inheritance, padding, critic output."""
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import NetworkConfig
from domain.networks import (
    channel_schedule,
    channels_at,
    conv_flops,
    critic_output_shape,
    generator_padding,
    inherits_weights,
    layer_widths,
)
from tests import strategies as gen

scales = st.integers(0, 64)


def test_the_official_widths_double_every_four_scales_from_32_to_128():
    assert channel_schedule(12) == (32, 32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 128)


@given(gen.network_configs(), scales)
def test_widths_are_clamped_to_min_and_max_channels(cfg, scale):
    assert cfg.min_channels <= channels_at(scale, cfg) <= cfg.max_channels


@given(gen.network_configs(), scales)
def test_widths_are_the_base_doubled_once_per_double_every_scales_then_clamped(cfg, scale):
    doubling = 2 ** (scale // cfg.double_every)
    floor = min(cfg.max_channels, cfg.min_channels * doubling)
    expected = max(floor, min(cfg.max_channels, cfg.channels * doubling))
    assert channels_at(scale, cfg) == expected


# The official code (tamarott/SinGAN 1b4906b, SinGAN/models.py and training.py) doubles nfc and
# min_nfc together every 4 scales, capped at 128, and builds block i of the body as
# max(nfc / 2**i, min_nfc) wide: with its defaults (nfc = min_nfc = 32) every layer of a scale
# has the head's width.
@pytest.mark.parametrize("scale, width", [(0, 32), (3, 32), (4, 64), (7, 64), (8, 128), (11, 128)])
def test_the_official_nets_are_as_wide_in_every_layer_as_their_head(scale, width):
    assert channels_at(scale) == width
    assert layer_widths(scale) == (width, width, width, width)


@pytest.mark.parametrize(
    "head, widths",
    [
        (32, (32, 16, 8, 8)),
        (64, (64, 32, 16, 8)),
        (128, (128, 64, 32, 16)),
    ],
)
def test_a_lower_floor_narrows_the_body_by_halves_down_to_it(head, widths):
    cfg = NetworkConfig(channels=head, min_channels=8, max_channels=128)
    assert layer_widths(0, cfg) == widths


def test_the_floor_doubles_with_the_head_as_the_official_min_nfc_does():
    cfg = NetworkConfig(channels=32, min_channels=8, max_channels=128)
    assert layer_widths(4, cfg) == (64, 32, 16, 16)
    assert layer_widths(8, cfg) == (128, 64, 32, 32)


@given(gen.network_configs(), scales)
def test_every_layer_is_between_the_floor_and_the_head(cfg, scale):
    widths = layer_widths(scale, cfg)
    assert len(widths) == cfg.num_layers - 1
    assert widths[0] == channels_at(scale, cfg)
    assert all(min(cfg.min_channels, cfg.max_channels) <= w <= widths[0] for w in widths)
    assert list(widths) == sorted(widths, reverse=True)


def test_conv_flops_count_each_layer_on_its_trimmed_map():
    cfg = NetworkConfig(num_layers=3, channels=4, min_channels=4, max_channels=4)
    # 3->4 on 8x8, 4->4 on 6x6, 4->3 on 4x4 (a 10x10 input, 3x3 kernels).
    expected = 2 * 9 * (8 * 8 * 3 * 4 + 6 * 6 * 4 * 4 + 4 * 4 * 4 * 3)
    assert conv_flops((10, 10), 0, cfg) == expected


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
def test_a_scale_inherits_weights_exactly_when_its_widths_equal_the_previous_ones(cfg, scale):
    if scale == 0:
        assert not inherits_weights(0, cfg)
    else:
        assert inherits_weights(scale, cfg) == (layer_widths(scale, cfg) == layer_widths(scale - 1, cfg))


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


def test_the_largest_conv_is_the_widest_layer_on_the_padded_input():
    from domain.networks import largest_conv_flops

    cfg = NetworkConfig()  # 5 layers of 32 at scale 0, padding 5 px a side
    # head 3->32 at 40x50, then 32->32 at 38x48 (the largest), ..., tail 32->3
    assert largest_conv_flops((32, 42), 0, cfg) == 2 * 38 * 48 * 32 * 32 * 9
    narrowing = NetworkConfig(channels=64, min_channels=16)
    assert largest_conv_flops((32, 42), 0, narrowing) == max(2 * 40 * 50 * 3 * 64 * 9, 2 * 38 * 48 * 64 * 32 * 9)
