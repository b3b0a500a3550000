"""Measured memory of MindSpore's CPU backend, for the check before training (``domain.memory``).

Calibrated on whole paper-preset runs (see the README's memory table): peak resident memory
against the im2col elements of the largest scale's generator and critic. The official generator
steps (``generator_fake="stale"``) compile more nodes into the generator step than the others:
38.9 and 40.9 bytes an element at 160 and 96 px, against 34-35 for "reuse" at 96, 160 and 250 px.
"""
from __future__ import annotations

from domain.memory import MemoryModel

CPU = MemoryModel(base=0.65 * 2**30, per_element=36.0)
CPU_STALE = MemoryModel(base=0.65 * 2**30, per_element=42.0)


def model_for(device: str, generator_fake: str) -> MemoryModel | None:
    """The model of ``device`` for that kind of generator step; None where it has not been
    measured (GPU, Ascend: not checked)."""
    if device != "CPU":
        return None
    return CPU_STALE if generator_fake == "stale" else CPU
