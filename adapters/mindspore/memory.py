"""Measured memory of MindSpore's CPU backend, for the check before training (``domain.memory``).

Calibrated on whole paper-preset runs (see the README's memory table): peak resident memory
against the im2col elements of the largest scale's generator and critic.
"""
from __future__ import annotations

from domain.memory import MemoryModel

CPU = MemoryModel(base=0.65 * 2**30, per_element=36.0)


def model_for(device: str) -> MemoryModel | None:
    """The model of ``device``; None where it has not been measured (GPU, Ascend: not checked)."""
    return CPU if device == "CPU" else None
