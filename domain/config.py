"""Configuration as frozen values with validators; the defaults are the official SinGAN recipe.

Change a value with ``attrs.evolve``; a value out of range raises ``ConfigError`` naming the field.
"""
from __future__ import annotations

from typing import Any, Mapping

import attrs

from domain.errors import ConfigError

LOSS_KINDS = ("wgan-gp", "zero-gp", "lsgan")


def _check(predicate, description: str):
    def validator(instance, attribute, value):
        if not predicate(value):
            raise ConfigError(f"{type(instance).__name__}.{attribute.name} must be {description}, got {value!r}")

    return validator


def _int_at_least(low: int):
    return _check(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low, f"an integer >= {low}")


def _float_in(low: float, high: float, *, open_low: bool = False):
    def ok(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        return (low < v if open_low else low <= v) and v <= high

    bracket = "(" if open_low else "["
    return _check(ok, f"a number in {bracket}{low}, {high}]")


@attrs.frozen(kw_only=True)
class PyramidConfig:
    min_size: int = attrs.field(default=25, validator=_int_at_least(8))  # px, coarsest short side
    max_size: int = attrs.field(default=250, validator=_int_at_least(8))  # px, finest long side
    # Nominal ratio between consecutive scales; the plan adjusts it so the coarsest lands on min_size.
    # Above 0.9 rounding could make consecutive scales equal.
    scale_factor: float = attrs.field(default=0.75, validator=_float_in(0.3, 0.9))

    def __attrs_post_init__(self):
        if self.max_size < self.min_size:
            raise ConfigError(
                f"PyramidConfig.max_size ({self.max_size}) must be >= PyramidConfig.min_size ({self.min_size})"
            )


@attrs.frozen(kw_only=True)
class NetworkConfig:
    channels: int = attrs.field(default=32, validator=_int_at_least(1))  # at the coarsest scale
    double_every: int = attrs.field(default=4, validator=_int_at_least(1))  # scales
    min_channels: int = attrs.field(default=32, validator=_int_at_least(1))
    max_channels: int = attrs.field(default=128, validator=_int_at_least(1))
    kernel_size: int = attrs.field(
        default=3, validator=_check(lambda v: isinstance(v, int) and v >= 1 and v % 2 == 1, "an odd integer >= 1")
    )
    num_layers: int = attrs.field(default=5, validator=_int_at_least(2))  # conv layers, head and tail included

    def __attrs_post_init__(self):
        if self.max_channels < self.min_channels:
            raise ConfigError(
                f"NetworkConfig.max_channels ({self.max_channels}) must be >= "
                f"NetworkConfig.min_channels ({self.min_channels})"
            )


@attrs.frozen(kw_only=True)
class TrainConfig:
    iterations: int = attrs.field(default=2000, validator=_int_at_least(1))  # per scale
    critic_steps: int = attrs.field(default=3, validator=_int_at_least(1))  # per iteration
    generator_steps: int = attrs.field(default=3, validator=_int_at_least(1))  # per iteration
    lr_generator: float = attrs.field(default=5e-4, validator=_float_in(0.0, 1.0, open_low=True))
    lr_critic: float = attrs.field(default=5e-4, validator=_float_in(0.0, 1.0, open_low=True))
    beta1: float = attrs.field(default=0.5, validator=_float_in(0.0, 0.9999))
    beta2: float = attrs.field(default=0.999, validator=_float_in(0.0, 0.9999))
    lr_drop_at: float = attrs.field(default=0.8, validator=_float_in(0.0, 1.0))  # fraction of a scale's iterations
    lr_drop_factor: float = attrs.field(default=0.1, validator=_float_in(0.0, 1.0, open_low=True))
    gp_weight: float = attrs.field(default=0.1, validator=_float_in(0.0, 1e6))
    reconstruction_weight: float = attrs.field(default=10.0, validator=_float_in(0.0, 1e6))
    noise_amp_base: float = attrs.field(default=0.1, validator=_float_in(0.0, 10.0))
    loss: str = attrs.field(default="wgan-gp", validator=_check(lambda v: v in LOSS_KINDS, f"one of {LOSS_KINDS}"))
    seed: int = attrs.field(default=0, validator=_int_at_least(0))


@attrs.frozen(kw_only=True)
class SinGANConfig:
    pyramid: PyramidConfig = attrs.field(factory=PyramidConfig)
    network: NetworkConfig = attrs.field(factory=NetworkConfig)
    train: TrainConfig = attrs.field(factory=TrainConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> "SinGANConfig":
        sections = {"pyramid": PyramidConfig, "network": NetworkConfig, "train": TrainConfig}
        unknown = set(data) - set(sections)
        if unknown:
            raise ConfigError(f"unknown configuration section(s): {sorted(unknown)}")
        for name, kind in sections.items():
            unknown = set(data.get(name, {})) - {field.name for field in attrs.fields(kind)}
            if unknown:
                raise ConfigError(f"unknown configuration field(s) in {name!r}: {sorted(unknown)}")
        return cls(**{name: kind(**dict(data.get(name, {}))) for name, kind in sections.items()})

    def with_overrides(self, overrides: Mapping[str, Any]) -> "SinGANConfig":
        """Return a copy with ``{"section.field": value}`` overrides applied (unknown names raise)."""
        sections = {name: attrs.asdict(getattr(self, name)) for name in ("pyramid", "network", "train")}
        for dotted, value in overrides.items():
            section, _, name = dotted.partition(".")
            if section not in sections or name not in sections[section]:
                raise ConfigError(f"unknown configuration field {dotted!r}")
            sections[section][name] = value
        return SinGANConfig.from_dict(sections)


# Presets are data: overrides on top of the official recipe.
PRESETS: dict[str, dict[str, Any]] = {
    # The official recipe, exactly.
    "paper": {},
    # About 8 minutes on a 2-core CPU: a 96 px image, 32-channel nets at every scale, 200
    # iterations a scale (the official 3 critic + 3 generator steps each).
    "quick": {
        "pyramid.max_size": 96,
        "network.max_channels": 32,
        "train.iterations": 200,
    },
}


def preset(name: str) -> SinGANConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return SinGANConfig().with_overrides(PRESETS[name])
