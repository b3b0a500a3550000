"""Measured memory of MindSpore's CPU backend, for the check before training (``domain.memory``):
peak resident memory of whole paper-preset runs against the im2col elements of the largest
scale's generator and critic (497 M at 218x250 with 128 channels), over a base of 0.65 GB.

With the oneDNN convolutions (``native``, the default), measured this session on the embedded
image at 250 px (``python -m app train --preset paper --iterations 2 --seed 1 --set
train.execution=E``; ``stale`` generator steps, also used for the other kinds, which hold less):
- compiled steps ("graph"): 7.55 and 7.53 GB (two runs of 3 iterations a scale): 14.2 bytes an element;
- split steps (compiled critic steps, eager generator steps): 2.72 GB: 4.2 bytes an element;
- eager steps: 4.72 GB: 8.3 bytes an element. More than split: PyNative's pool keeps what the
  eager critic steps (by-hand BatchNorm) allocated, and the compiled critic steps hold little.
These were measured before BatchNorm and LeakyReLU ran on compiled kernels too. After them, with
the written-out generator backward (``steps.StaleGradient``), a compiled run of 3 iterations a
scale peaked at 5.92 GB: 10.8 bytes an element. Then the stale generator steps' record pass and
backward moved onto those kernels too (MindSpore's CPU ops that broadcast a per-channel value over
a map keep about four times the map as workspace): 2.27 GB (2026-12-04, 3 iterations a scale,
247.6 s; the official code 3.25 GB, 173.5 s, in turn on the same machine): 3.3 bytes an element.
The model still says 11.5 (the 5.92 GB run), an overestimate that errs on the safe side, until the
split and eager steps are measured on the new kernels: compiled steps now hold less than any split
or eager run measured so far, and the choice of ``auto`` should follow once that is known.

With MindSpore's convolutions (``SINGAN_CONV=mindspore``) every convolution node of a compiled
step keeps an im2col gemm workspace for the step's lifetime:
- compiled: 36 bytes an element with ``reuse`` generator steps, 42 with ``stale`` (38.9 and 40.9
  measured at 160 and 96 px; 19.9 GB at 250 px this session);
- eager: each op's workspace lives only while the op runs: 8.2 and 8.5 GB in an eager 218x250
  scale, 17.5 bytes an element; split: 12.2 GB, 26 bytes an element.
"""
from __future__ import annotations

from domain.memory import ExecutionModels, MemoryModel

_BASE = 0.65 * 2**30
ONEDNN = ExecutionModels(
    graph=MemoryModel(base=_BASE, per_element=11.5),
    split=MemoryModel(base=_BASE, per_element=5.0),
    eager=MemoryModel(base=_BASE, per_element=9.0),
)
_SPLIT = MemoryModel(base=_BASE, per_element=26.0)
_EAGER = MemoryModel(base=_BASE, per_element=17.5)
MINDSPORE = ExecutionModels(graph=MemoryModel(base=_BASE, per_element=36.0), split=_SPLIT, eager=_EAGER)
MINDSPORE_STALE = ExecutionModels(graph=MemoryModel(base=_BASE, per_element=42.0), split=_SPLIT, eager=_EAGER)


def model_for(device: str, generator_fake: str) -> ExecutionModels | None:
    """The models of ``device`` for that kind of generator step, on the process's convolutions;
    None where they have not been measured (GPU, Ascend: not checked)."""
    from adapters.mindspore.native import conv_choice

    if device != "CPU":
        return None
    if conv_choice().backend == "onednn":
        return ONEDNN
    return MINDSPORE_STALE if generator_fake == "stale" else MINDSPORE
