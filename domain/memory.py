"""How much memory training needs, before it starts: a model calibrated per backend, the check
against what the machine has, and which smaller setting would fit.

Most of a scale's training memory on MindSpore's CPU backend is not activations: every
convolution node of a compiled step keeps a gemm workspace of its own, the size of the layer's
im2col matrix (input channels x kernel^2 x output pixels, float32), for as long as the step lives.
So the model counts those matrices: a scale needs ``base + per_element * im2col(scale)`` bytes,
where ``im2col`` sums over the generator's and the critic's conv layers, and the run needs what its
largest scale needs (a finished scale's steps are released).

Steps run eagerly (op by op) free each workspace when the op ends, so they hold about half of
that; a backend gives a model for each way (``ExecutionModels``: compiled, split - compiled critic
steps, eager generator steps - and eager), and ``plan_memory`` picks, per scale, the fastest way
that fits (``execution="auto"``).
"""
from __future__ import annotations

from typing import Iterable

import attrs

from domain.config import EXECUTIONS, NetworkConfig, PyramidConfig
from domain.errors import PlanningError
from domain.networks import conv_layers, generator_padding, layer_widths
from domain.pyramid import Shape, plan_pyramid


class InsufficientMemory(PlanningError):
    """The plan needs more memory than the machine (or the given limit) has."""


@attrs.frozen(kw_only=True)
class MemoryModel:
    """Peak bytes of training one scale = ``base + per_element * im2col elements``."""

    base: float  # bytes: the framework, the process, the images
    per_element: float  # bytes per im2col element of the scale's two nets (all their steps' buffers)


@attrs.frozen(kw_only=True)
class ExecutionModels:
    """A backend's memory models for compiled ("graph"), "split" (compiled critic steps, eager
    generator steps) and "eager" steps; None: the backend has no such mode."""

    graph: MemoryModel
    split: MemoryModel | None = None
    eager: MemoryModel | None = None

    def for_execution(self, kind: str) -> MemoryModel:
        model = {"split": self.split, "eager": self.eager}.get(kind)
        return model if model is not None else self.graph

    def kinds(self) -> tuple[str, ...]:
        """The ways this backend has, fastest first (graph, split, eager)."""
        return tuple(k for k in ("graph", "split", "eager") if k == "graph" or getattr(self, k) is not None)

    def frugal_kind(self) -> str:
        """The way that needs least memory (per element, then base; the faster on a tie). Which it
        is, is measured: eager with MindSpore's convolutions, split with the oneDNN ones."""
        return min(self.kinds(), key=lambda k: (self.for_execution(k).per_element, self.for_execution(k).base))

    def frugal(self) -> MemoryModel:
        """The model of the way that needs least."""
        return self.for_execution(self.frugal_kind())


@attrs.frozen(kw_only=True)
class MemoryPlan:
    """How each scale runs ("graph" or "eager") and the estimated peak bytes of the run (None: not
    estimated), against the bytes ``available`` (None: unknown)."""

    executions: tuple[str, ...]
    need: float | None = None
    available: float | None = None

    def scales_run(self, kind: str, start: int = 0) -> tuple[int, ...]:
        return tuple(n for n, run in enumerate(self.executions) if run == kind and n >= start)

    def describe(self, start: int = 0) -> str:
        """Which scales from ``start`` on are not compiled, in words ("" when all are)."""
        parts = []
        for kind in ("split", "eager"):
            scales = self.scales_run(kind, start)
            if scales:
                many = len(scales) > 1
                what = f"{'their' if many else 'its'} generator steps eagerly" if kind == "split" else "eagerly"
                parts.append(f"scale{'s' if many else ''} {', '.join(map(str, scales))} run{'' if many else 's'} {what}")
        return "; ".join(parts)


def im2col_elements(shape: Shape, scale: int, cfg: NetworkConfig) -> int:
    """Sum over the generator's and the critic's conv layers of C_in * k^2 * H_out * W_out at
    ``shape`` (the generator's input padded, the critic's not)."""
    pad = generator_padding(cfg)
    padded = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    layers = conv_layers(padded, scale, cfg, out_channels=3) + conv_layers(shape, scale, cfg, out_channels=1)
    return sum(c_in * cfg.kernel_size**2 * h * w for c_in, _, h, w in layers)


def scale_bytes(shape: Shape, scale: int, cfg: NetworkConfig, model: MemoryModel) -> float:
    return model.base + model.per_element * im2col_elements(shape, scale, cfg)


def peak_bytes(shapes: Iterable[Shape], cfg: NetworkConfig, model: MemoryModel) -> float:
    """What a run over ``shapes`` needs at its most demanding scale."""
    return max(scale_bytes(s, n, cfg, model) for n, s in enumerate(shapes))


def choose_executions(shapes: tuple[Shape, ...], cfg: NetworkConfig, models: ExecutionModels | None,
                      execution: str, available: float | None) -> tuple[str, ...]:
    """Per scale, "graph", "split" or "eager". Any but "auto" holds at every scale; "auto" takes,
    per scale, the first of them whose estimate fits ``available`` (the most frugal when none
    does; "graph" everywhere when the memory or the models are unknown)."""
    if execution not in EXECUTIONS:
        from domain.errors import ConfigError

        raise ConfigError(f"execution must be one of {EXECUTIONS}, got {execution!r}")
    if execution != "auto":
        return (execution,) * len(shapes)
    if models is None or available is None:
        return ("graph",) * len(shapes)
    def fastest_fitting(n: int, shape: Shape) -> str:
        for kind in models.kinds():
            if scale_bytes(shape, n, cfg, models.for_execution(kind)) <= available:
                return kind
        return models.frugal_kind()

    return tuple(fastest_fitting(n, s) for n, s in enumerate(shapes))


def plan_memory(shapes: tuple[Shape, ...], cfg: NetworkConfig, models: ExecutionModels | None, execution: str,
                available: float | None) -> MemoryPlan:
    """The executions of ``choose_executions`` and the run's estimated peak under them."""
    executions = choose_executions(shapes, cfg, models, execution, available)
    if models is None:
        return MemoryPlan(executions=executions, available=available)
    need = max(scale_bytes(shape, n, cfg, models.for_execution(kind))
               for n, (shape, kind) in enumerate(zip(shapes, executions)))
    return MemoryPlan(executions=executions, need=need, available=available)


def format_gb(n: float) -> str:
    """Bytes in GB (2**30), to the hundredth below 10 GB: estimates of adjacent settings there
    differ by less than a tenth."""
    gb = n / 2**30
    return f"{gb:.2f} GB" if gb < 10 else f"{gb:.1f} GB"


def largest_fitting_size(image_shape: Shape, pyramid: PyramidConfig, network: NetworkConfig, model: MemoryModel,
                         available: float) -> int | None:
    """The largest ``max_size`` (in steps of 8 px, down to ``min_size``) whose plan fits."""
    for size in range(pyramid.max_size - 1, pyramid.min_size - 1, -1):
        if size % 8 and size != pyramid.min_size:
            continue
        try:
            plan = plan_pyramid(image_shape, attrs.evolve(pyramid, max_size=size))
        except PlanningError:
            return None
        if peak_bytes(plan.shapes, network, model) <= available:
            return size
    return None


def check_fits(image_shape: Shape, shapes: tuple[Shape, ...], pyramid: PyramidConfig, network: NetworkConfig,
               models: ExecutionModels, execution: str, available: float | None) -> MemoryPlan:
    """The plan's executions and estimated peak; raises ``InsufficientMemory`` naming a
    ``--max-size``, a channel cap or an execution that would fit when it exceeds ``available``
    (None: unknown, not checked)."""
    planned = plan_memory(shapes, network, models, execution, available)
    if available is None or planned.need <= available:
        return planned
    # The hints assume the most frugal execution the setting allows.
    frugal = models.frugal() if execution == "auto" else models.for_execution(execution)
    hints = []
    if execution != "auto" and peak_bytes(shapes, network, models.frugal()) <= available:
        hints.append("--set train.execution=auto")
    size = largest_fitting_size(image_shape, pyramid, network, frugal, available)
    if size is not None:
        hints.append(f"--max-size {size}")
    for cap in (64, 32):
        if cap < network.max_channels:
            narrower = attrs.evolve(network, max_channels=cap, channels=min(network.channels, cap),
                                    min_channels=min(network.min_channels, cap))
            if peak_bytes(shapes, narrower, frugal) <= available:
                hints.append(f"--set network.max_channels={cap}")
                break
    finest = shapes[-1]
    advice = " or ".join(hints) + " would fit" if hints else "no smaller setting of max_size or channels fits"
    names = {"graph": "compiled", "split": "split", "eager": "eager"}
    how = names[execution] if execution in names else f"even {names[models.frugal_kind()]}"
    raise InsufficientMemory(
        f"training needs about {format_gb(planned.need)} at its finest scale ({finest[0]}x{finest[1]}, "
        f"{max(layer_widths(len(shapes) - 1, network))} channels, {how} steps) but {format_gb(available)} is available; "
        f"{advice} (--memory-limit sets the budget, --skip-memory-check tries anyway)"
    )


_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "M": 2**20, "MB": 2**20, "G": 2**30, "GB": 2**30, "T": 2**40, "TB": 2**40}


def parse_size(text: str) -> int:
    """``"4GB"``, ``"512 MB"``, ``"1.5G"`` or a number of bytes -> bytes (units are powers of 1024)."""
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    unit = match.group(2).upper() if match else None
    if not match or unit not in _UNITS:
        from domain.errors import ConfigError

        raise ConfigError(f"a memory size looks like 4GB, 512MB or 1.5G, got {text!r}")
    return int(float(match.group(1)) * _UNITS[unit])
