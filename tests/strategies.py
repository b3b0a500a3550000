"""Reusable Hypothesis strategies for the domain. Each generates only valid inputs by construction
(no ``assume``); ``tests/unit/test_strategies.py`` checks that they do."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from domain.config import (
    BIAS_INITS,
    EXECUTIONS,
    GENERATOR_FAKES,
    LOSS_KINDS,
    RECONSTRUCTION_NOISES,
    RESAMPLING_KINDS,
    NetworkConfig,
    PyramidConfig,
    SinGANConfig,
    TrainConfig,
)
from domain.pyramid import PyramidPlan, Shape, plan_pyramid

# Planning is arithmetic on two integers, so shapes can be large; arrays are kept small.
MAX_SIDE = 2048  # px, longest short side drawn for planning
MAX_ARRAY_SIDE = 24  # px, longest side of a generated array


def _oriented(draw, short: int, long: int) -> Shape:
    """Portrait or landscape."""
    return draw(st.sampled_from([(short, long), (long, short)]))


# --- configurations --------------------------------------------------------------------------


@st.composite
def pyramid_configs(draw) -> PyramidConfig:
    """Any PyramidConfig the validators accept (min_size >= 8, max_size >= min_size, factor in [0.3, 0.9])."""
    min_size = draw(st.integers(8, 64))
    max_size = draw(st.integers(min_size, 512))
    scale_factor = draw(st.floats(0.3, 0.9))
    resampling = draw(st.sampled_from(RESAMPLING_KINDS))
    return PyramidConfig(min_size=min_size, max_size=max_size, scale_factor=scale_factor, resampling=resampling)


@st.composite
def network_configs(draw) -> NetworkConfig:
    min_channels = draw(st.integers(1, 64))
    return NetworkConfig(
        channels=draw(st.integers(1, 64)),
        double_every=draw(st.integers(1, 8)),
        min_channels=min_channels,
        max_channels=draw(st.integers(min_channels, 512)),
        kernel_size=draw(st.sampled_from([1, 3, 5, 7])),
        num_layers=draw(st.integers(2, 8)),
        coarsest_noise_channels=draw(st.sampled_from([1, 3])),
        bias_init=draw(st.sampled_from(BIAS_INITS)),
    )


@st.composite
def train_configs(draw) -> TrainConfig:
    return TrainConfig(
        iterations=draw(st.integers(1, 10_000)),
        critic_steps=draw(st.integers(1, 5)),
        generator_steps=draw(st.integers(1, 5)),
        lr_generator=draw(st.floats(0.0, 1.0, exclude_min=True)),
        lr_critic=draw(st.floats(0.0, 1.0, exclude_min=True)),
        beta1=draw(st.floats(0.0, 0.9999)),
        beta2=draw(st.floats(0.0, 0.9999)),
        lr_milestone=draw(st.integers(0, 20_000)),
        lr_drop_factor=draw(st.floats(0.0, 1.0, exclude_min=True)),
        gp_weight=draw(st.floats(0.0, 1e6)),
        reconstruction_weight=draw(st.floats(0.0, 1e6)),
        noise_amp_base=draw(st.floats(0.0, 10.0)),
        loss=draw(st.sampled_from(LOSS_KINDS)),
        reconstruction_noise=draw(st.sampled_from(RECONSTRUCTION_NOISES)),
        generator_fake=draw(st.sampled_from(GENERATOR_FAKES)),
        execution=draw(st.sampled_from(EXECUTIONS)),
        seed=draw(st.integers(0, 2**63)),
    )


@st.composite
def singan_configs(draw) -> SinGANConfig:
    return SinGANConfig(pyramid=draw(pyramid_configs()), network=draw(network_configs()), train=draw(train_configs()))


# --- image shapes for planning ---------------------------------------------------------------


@st.composite
def plannable_shapes(draw, cfg: PyramidConfig = PyramidConfig()) -> Shape:
    """(H, W) that ``plan_pyramid`` accepts: short side >= min_size, and either the long side needs no
    fitting or fitting it to max_size leaves a short side of at least min_size. The fitted short side
    is ceil(short * max_size / long), which stays >= min_size exactly while
    (min_size - 1) * long < short * max_size; the strategy reaches that limit."""
    short = draw(st.integers(cfg.min_size, MAX_SIDE))
    longest = max(short, cfg.max_size, (short * cfg.max_size - 1) // (cfg.min_size - 1))
    typical = st.integers(short, max(short, min(2 * short, longest)))  # photo-like aspects
    anything = st.integers(short, longest)  # up to the most elongated plannable image
    limit = st.just(longest)
    return _oriented(draw, short, draw(typical | anything | limit))


@st.composite
def plannable_cases(draw) -> tuple[PyramidConfig, Shape]:
    """A configuration (often the official one) and an image shape it can plan."""
    cfg = draw(st.just(PyramidConfig()) | pyramid_configs())
    return cfg, draw(plannable_shapes(cfg))


@st.composite
def too_small_shapes(draw, cfg: PyramidConfig = PyramidConfig()) -> Shape:
    """(H, W) whose short side is under min_size."""
    short = draw(st.integers(1, cfg.min_size - 1))
    return _oriented(draw, short, draw(st.integers(short, 4 * MAX_SIDE)))


@st.composite
def too_elongated_shapes(draw, cfg: PyramidConfig = PyramidConfig()) -> Shape:
    """(H, W) with a short side >= min_size that fitting the long side to max_size pushes under
    min_size: (min_size - 1) * long >= short * max_size (which also makes long > max_size)."""
    short = draw(st.integers(cfg.min_size, MAX_SIDE))
    shortest_long = -(-short * cfg.max_size // (cfg.min_size - 1))
    return _oriented(draw, short, draw(st.integers(shortest_long, 3 * shortest_long)))


@st.composite
def unplannable_cases(draw) -> tuple[PyramidConfig, Shape]:
    cfg = draw(st.just(PyramidConfig()) | pyramid_configs())
    return cfg, draw(too_small_shapes(cfg) | too_elongated_shapes(cfg))


@st.composite
def small_plans(draw) -> PyramidPlan:
    """A real plan whose scales are small enough to hold arrays for (every side <= 40 px)."""
    min_size = draw(st.integers(8, 12))
    cfg = PyramidConfig(
        min_size=min_size, max_size=draw(st.integers(min_size, 40)), scale_factor=draw(st.floats(0.5, 0.9))
    )
    return plan_pyramid(draw(plannable_shapes(cfg)), cfg)


# --- arrays ----------------------------------------------------------------------------------


def sides(low: int = 1, high: int = MAX_ARRAY_SIDE) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def small_shapes(low: int = 1, high: int = MAX_ARRAY_SIDE) -> st.SearchStrategy[Shape]:
    return st.tuples(sides(low, high), sides(low, high))


@st.composite
def images(draw, shape: Shape | None = None, *, channels: int | None = 3) -> np.ndarray:
    """float32 pixels in [-1, 1], (C, H, W), or (H, W) when ``channels`` is None."""
    shape = draw(small_shapes()) if shape is None else tuple(shape)
    full = tuple(shape) if channels is None else (channels, *shape)
    return draw(hnp.arrays(np.float32, full, elements=st.floats(-1, 1, width=32)))


@st.composite
def uint8_images(draw, shape: Shape | None = None) -> np.ndarray:
    """(H, W, 3) uint8 pixels, as a user's file holds them."""
    shape = draw(small_shapes()) if shape is None else tuple(shape)
    return draw(hnp.arrays(np.uint8, (*shape, 3)))


@st.composite
def seeded_images(draw, shape: Shape, *, channels: int = 3) -> np.ndarray:
    """Like ``images`` but drawn from a seed: cheap for the larger shapes of a plan."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.uniform(-1, 1, (channels, *shape)).astype(np.float32)


@st.composite
def binary_masks(draw, shape: Shape | None = None) -> np.ndarray:
    """(H, W) float32 of zeros and ones."""
    shape = draw(small_shapes()) if shape is None else tuple(shape)
    return draw(hnp.arrays(np.bool_, shape)).astype(np.float32)


@st.composite
def soft_masks(draw, shape: Shape | None = None) -> np.ndarray:
    """(H, W) float32 in [0, 1], as a mask file is read."""
    shape = draw(small_shapes()) if shape is None else tuple(shape)
    return draw(hnp.arrays(np.float32, shape, elements=st.floats(0, 1, width=32)))


# --- numbers a user types ----------------------------------------------------------------------


def decimal_fractions(digits: int = 3) -> st.SearchStrategy[tuple[int, int]]:
    """(numerator, denominator) of a fraction in [0, 1] with at most ``digits`` decimals; the float a
    user types is numerator / denominator."""
    denominator = 10**digits
    return st.integers(0, denominator).map(lambda k: (k, denominator))


def sr_factors() -> st.SearchStrategy[float]:
    """Super-resolution factors as a user gives them: an integer, or a number with two decimals, in (1, 16]."""
    return st.integers(2, 16).map(float) | st.integers(101, 1600).map(lambda n: n / 100)
