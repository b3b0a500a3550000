"""Configuration as frozen values with validators; the defaults are the official SinGAN recipe.

Change a value with ``attrs.evolve``; a value out of range raises ``ConfigError`` naming the field.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import attrs

from domain.errors import ConfigError

LOSS_KINDS = ("wgan-gp", "zero-gp", "lsgan")
RESAMPLING_KINDS = ("bicubic", "linear")
QUANTIZE_KINDS = ("truncate", "round")
BIAS_INITS = ("uniform", "zero")
RECONSTRUCTION_NOISES = ("redraw", "fixed")
GENERATOR_FAKES = ("stale", "reuse", "fresh")
EXECUTIONS = ("auto", "graph", "split", "eager")


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
    # How images move between scales: "bicubic" is the official imresize (MATLAB semantics: cubic
    # kernel, antialiased when shrinking, positions set by the scale factor, 8-bit and clipped
    # between scales); "linear" is an antialiased linear resize to the target shape.
    resampling: str = attrs.field(
        default="bicubic", validator=_check(lambda v: v in RESAMPLING_KINDS, f"one of {RESAMPLING_KINDS}")
    )
    # How the image is fitted to max_size and brought to 8 bits: "truncate" is the official's float
    # round trip, truncating, run on the file's pixels and again after the resize (levels 1-63 of
    # the file come back a level lower: the training image is darker than the file); "round"
    # rounds to the nearest level once, so an image that already fits is kept as it is.
    quantize: str = attrs.field(
        default="truncate", validator=_check(lambda v: v in QUANTIZE_KINDS, f"one of {QUANTIZE_KINDS}")
    )

    def __attrs_post_init__(self):
        if self.max_size < self.min_size:
            raise ConfigError(
                f"PyramidConfig.max_size ({self.max_size}) must be >= PyramidConfig.min_size ({self.min_size})"
            )


@attrs.frozen(kw_only=True)
class NetworkConfig:
    channels: int = attrs.field(default=32, validator=_int_at_least(1))  # head width at the coarsest scale
    double_every: int = attrs.field(default=4, validator=_int_at_least(1))  # scales
    # The body halves from the head's width layer by layer, floored at min_channels (which doubles
    # with channels, as in the official code); both are capped at max_channels.
    min_channels: int = attrs.field(default=32, validator=_int_at_least(1))
    max_channels: int = attrs.field(default=128, validator=_int_at_least(1))
    kernel_size: int = attrs.field(
        default=3, validator=_check(lambda v: isinstance(v, int) and v >= 1 and v % 2 == 1, "an odd integer >= 1")
    )
    num_layers: int = attrs.field(default=5, validator=_int_at_least(2))  # conv layers, head and tail included
    # Noise channels at the coarsest scale: 1 is one grey map broadcast to RGB (official), 3 is colour.
    coarsest_noise_channels: int = attrs.field(default=1, validator=_check(lambda v: v in (1, 3), "1 or 3"))
    # Conv biases: "uniform" in +-1/sqrt(fan_in) (PyTorch's default, which the official keeps) or "zero".
    bias_init: str = attrs.field(default="uniform", validator=_check(lambda v: v in BIAS_INITS, f"one of {BIAS_INITS}"))

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
    # First iteration (0-based) trained at lr * lr_drop_factor, whatever `iterations` is (the
    # official milestone); at or past `iterations` the rate never drops.
    lr_milestone: int = attrs.field(default=1600, validator=_int_at_least(0))
    lr_drop_factor: float = attrs.field(default=0.1, validator=_float_in(0.0, 1.0, open_low=True))
    gp_weight: float = attrs.field(default=0.1, validator=_float_in(0.0, 1e6))
    reconstruction_weight: float = attrs.field(default=10.0, validator=_float_in(0.0, 1e6))
    noise_amp_base: float = attrs.field(default=0.1, validator=_float_in(0.0, 10.0))
    loss: str = attrs.field(default="wgan-gp", validator=_check(lambda v: v in LOSS_KINDS, f"one of {LOSS_KINDS}"))
    # The coarsest scale's reconstruction noise: "redraw" a fresh z* every iteration (official; the
    # saved z* is the last draw) or "fixed" (drawn once before training).
    reconstruction_noise: str = attrs.field(
        default="redraw", validator=_check(lambda v: v in RECONSTRUCTION_NOISES, f"one of {RECONSTRUCTION_NOISES}")
    )
    # Generator steps, all through the fake of the last critic step: "stale" back-propagates each
    # step's adversarial loss through that fake's saved graph with the weights as the previous
    # steps left them (what the official code's PyTorch does); "reuse" takes the adversarial
    # gradient once and applies it in every step; "fresh" remakes the fake in every step.
    generator_fake: str = attrs.field(
        default="stale", validator=_check(lambda v: v in GENERATOR_FAKES, f"one of {GENERATOR_FAKES}")
    )
    # How the steps run (the same arithmetic every way): "graph" compiles them (fastest; on CPU
    # every compiled conv keeps its own gemm workspace, so memory grows with the image), "eager"
    # runs them op by op (at 218x250: 0.45x the memory, 2.8x the time an iteration; 10x the time
    # at 25 px), "split" compiles the critic steps and runs the generator steps op by op (0.6x the
    # memory, 1.4x the time), "auto" picks per scale the first of graph, split, eager whose
    # estimate fits the memory available.
    execution: str = attrs.field(
        default="auto", validator=_check(lambda v: v in EXECUTIONS, f"one of {EXECUTIONS}")
    )
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

    @classmethod
    def from_stored(cls, data: Mapping[str, Mapping[str, Any]]) -> "SinGANConfig":
        """A config read back from a run folder: fields that did not exist when the run was made
        take the values that run trained with (its behaviour before they existed)."""
        sections = {name: dict(data.get(name, {})) for name in data}
        for dotted, value in LEGACY_VALUES.items():
            section, _, name = dotted.partition(".")
            sections.setdefault(section, {}).setdefault(name, value)
        train = sections.get("train", {})
        if "lr_drop_at" in train:  # a fraction of the iterations, before the fixed milestone
            drop_at = train.pop("lr_drop_at")
            train.setdefault("lr_milestone", math.ceil(train.get("iterations", 2000) * drop_at - 1e-9))
        return cls.from_dict(sections)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "SinGANConfig":
        """Return a copy with ``{"section.field": value}`` overrides applied (unknown names raise)."""
        sections = {name: attrs.asdict(getattr(self, name)) for name in ("pyramid", "network", "train")}
        for dotted, value in overrides.items():
            section, _, name = dotted.partition(".")
            if section not in sections or name not in sections[section]:
                raise ConfigError(f"unknown configuration field {dotted!r}")
            sections[section][name] = value
        return SinGANConfig.from_dict(sections)


# What runs made before a field existed did, for ``SinGANConfig.from_stored``.
LEGACY_VALUES: dict[str, Any] = {
    "pyramid.resampling": "linear",
    "pyramid.quantize": "round",
    "network.coarsest_noise_channels": 3,
    "network.bias_init": "zero",
    "train.reconstruction_noise": "fixed",
    "train.generator_fake": "fresh",
}

# Presets are data: overrides on top of the official recipe.
PRESETS: dict[str, dict[str, Any]] = {
    # The official recipe and the official code's details, exactly.
    "paper": {},
    # A few minutes on a 2-core CPU: a 96 px image, 32-channel nets at every scale, 200
    # iterations a scale, every official detail (the official generator steps run on the step
    # kernels, faster than the "reuse" shortcut this preset took before them: 0.69 s against
    # 0.81 s an iteration summed over its scales).
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
