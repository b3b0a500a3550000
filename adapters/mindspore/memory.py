"""Measured memory of MindSpore's CPU backend, for the check before training (``domain.memory``).

Compiled steps ("graph"): calibrated on whole paper-preset runs (see the README's memory table),
peak resident memory against the im2col elements of the largest scale's generator and critic. The
official generator steps (``generator_fake="stale"``) compile more nodes into the generator step
than the others: 38.9 and 40.9 bytes an element at 160 and 96 px, against 34-35 for "reuse" at 96,
160 and 250 px.

Eager steps (PyNative): each op's gemm workspace lives only while the op runs, so what stays is the
activations the backward passes keep, and what MindSpore's pool keeps of earlier scales: whole
paper-preset runs peaked at 8.2 and 8.5 GB in an eager 218x250 scale (497 M elements: 16.3 and
17.0 bytes an element over the base) and at 5.1 GB in an eager 172x197 scale (15.5); one scale's
steps alone take 12 bytes an element.

Split steps (compiled critic steps, eager generator steps): a whole paper-preset run peaked at
12.2 GB in a split 218x250 scale (24.9 bytes an element over the base).
"""
from __future__ import annotations

from domain.memory import ExecutionModels, MemoryModel

_BASE = 0.65 * 2**30
_SPLIT = MemoryModel(base=_BASE, per_element=26.0)
_EAGER = MemoryModel(base=_BASE, per_element=17.5)
CPU = ExecutionModels(graph=MemoryModel(base=_BASE, per_element=36.0), split=_SPLIT, eager=_EAGER)
CPU_STALE = ExecutionModels(graph=MemoryModel(base=_BASE, per_element=42.0), split=_SPLIT, eager=_EAGER)


def model_for(device: str, generator_fake: str) -> ExecutionModels | None:
    """The models of ``device`` for that kind of generator step; None where they have not been
    measured (GPU, Ascend: not checked)."""
    if device != "CPU":
        return None
    return CPU_STALE if generator_fake == "stale" else CPU
