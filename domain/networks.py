"""Network schedules that do not depend on a framework: channels per scale, inheritance, padding."""
from __future__ import annotations

from domain.config import NetworkConfig


def channels_at(scale: int, cfg: NetworkConfig = NetworkConfig()) -> int:
    """Width of scale ``scale``'s generator and critic: doubling every ``double_every`` scales, clamped."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    width = cfg.channels * 2 ** (scale // cfg.double_every)
    return max(cfg.min_channels, min(cfg.max_channels, width))


def channel_schedule(num_scales: int, cfg: NetworkConfig = NetworkConfig()) -> tuple[int, ...]:
    return tuple(channels_at(n, cfg) for n in range(num_scales))


def inherits_weights(scale: int, cfg: NetworkConfig = NetworkConfig()) -> bool:
    """A scale starts from the previous scale's trained weights when both have the same width."""
    return scale > 0 and channels_at(scale, cfg) == channels_at(scale - 1, cfg)


def generator_padding(cfg: NetworkConfig = NetworkConfig()) -> int:
    """Zero padding (px per side) that makes an unpadded conv stack return its input's size."""
    return cfg.num_layers * (cfg.kernel_size - 1) // 2


def critic_output_shape(shape: tuple[int, int], cfg: NetworkConfig = NetworkConfig()) -> tuple[int, int]:
    """The patch critic has no padding: each layer trims kernel_size - 1 px."""
    trim = 2 * generator_padding(cfg)
    return shape[0] - trim, shape[1] - trim
