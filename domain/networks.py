"""Network schedules that do not depend on a framework: widths per scale and layer, inheritance,
padding.

As the official code: at scale n the floor is ``min_channels * 2 ** (n // double_every)`` and the
head ``channels * 2 ** (n // double_every)`` wide (at least the floor), both capped at
``max_channels``; body layer i (1-based) is ``max(head // 2 ** i, floor)`` wide. With the official defaults (channels =
min_channels = 32) the floor equals the head, so every layer of a scale has the same width:
32 at scales 0-3, 64 at 4-7, 128 from 8 on. A ``min_channels`` below ``channels`` makes the body
narrow towards the tail.
"""
from __future__ import annotations

from domain.config import NetworkConfig


def _doubled(value: int, scale: int, cfg: NetworkConfig) -> int:
    return min(cfg.max_channels, value * 2 ** (scale // cfg.double_every))


def channels_at(scale: int, cfg: NetworkConfig = NetworkConfig()) -> int:
    """Head width of scale ``scale``'s generator and critic: doubling every ``double_every`` scales,
    at least the floor, capped."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    return max(_doubled(cfg.channels, scale, cfg), _doubled(cfg.min_channels, scale, cfg))


def layer_widths(scale: int, cfg: NetworkConfig = NetworkConfig()) -> tuple[int, ...]:
    """Output channels of every conv block of scale ``scale`` (head first; the tail conv, to 3
    channels or 1 score, is not listed): ``num_layers - 1`` entries."""
    head = channels_at(scale, cfg)
    floor = _doubled(cfg.min_channels, scale, cfg)
    return (head,) + tuple(max(head // 2**i, floor) for i in range(1, cfg.num_layers - 1))


def channel_schedule(num_scales: int, cfg: NetworkConfig = NetworkConfig()) -> tuple[int, ...]:
    return tuple(channels_at(n, cfg) for n in range(num_scales))


def inherits_weights(scale: int, cfg: NetworkConfig = NetworkConfig()) -> bool:
    """A scale starts from the previous scale's trained weights when both have the same widths."""
    return scale > 0 and layer_widths(scale, cfg) == layer_widths(scale - 1, cfg)


def conv_layers(shape: tuple[int, int], scale: int, cfg: NetworkConfig = NetworkConfig(), *,
                out_channels: int = 3) -> list[tuple[int, int, int, int]]:
    """(C_in, C_out, H_out, W_out) of every conv of a scale's stack on a ``shape`` input (unpadded
    convs: each layer trims kernel_size - 1 px); the tail has ``out_channels`` (3 or 1)."""
    k, (h, w) = cfg.kernel_size, shape
    widths = (3,) + layer_widths(scale, cfg) + (out_channels,)
    layers = []
    for c_in, c_out in zip(widths, widths[1:]):
        h, w = h - (k - 1), w - (k - 1)
        layers.append((c_in, c_out, h, w))
    return layers


def conv_flops(shape: tuple[int, int], scale: int, cfg: NetworkConfig = NetworkConfig(), *, out_channels: int = 3) -> int:
    """Multiply-adds x 2 of one forward pass of a scale's conv stack on a padded ``shape`` input."""
    k2 = cfg.kernel_size**2
    return sum(2 * h * w * c_in * c_out * k2 for c_in, c_out, h, w in conv_layers(shape, scale, cfg, out_channels=out_channels))


def largest_conv_flops(shape: tuple[int, int], scale: int, cfg: NetworkConfig = NetworkConfig()) -> int:
    """Multiply-adds x 2 of the largest single conv of a scale's generator on its padded input
    (the generator's convs see ``2 * padding`` px more than the critic's, so this bounds both)."""
    pad = 2 * generator_padding(cfg)
    k2 = cfg.kernel_size**2
    padded = (shape[0] + pad, shape[1] + pad)
    return max(2 * h * w * c_in * c_out * k2 for c_in, c_out, h, w in conv_layers(padded, scale, cfg))


def generator_padding(cfg: NetworkConfig = NetworkConfig()) -> int:
    """Zero padding (px per side) that makes an unpadded conv stack return its input's size."""
    return cfg.num_layers * (cfg.kernel_size - 1) // 2


def critic_output_shape(shape: tuple[int, int], cfg: NetworkConfig = NetworkConfig()) -> tuple[int, int]:
    """The patch critic has no padding: each layer trims kernel_size - 1 px."""
    trim = 2 * generator_padding(cfg)
    return shape[0] - trim, shape[1] - trim
