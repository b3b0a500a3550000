"""Measured memory of MindSpore's CPU backend, for the check before training (``domain.memory``):
peak resident memory of whole paper-preset runs against the im2col elements of the largest
scale's generator and critic (497 M at 218x250 with 128 channels), over a base.

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
a map keep about four times the map as workspace), and the model was refitted on the same machine
(2026-12-04, AMD EPYC with AVX-512), peak resident memory (``/usr/bin/time -f %M``) of whole runs:
- compiled: 2.13 GiB at 250 px (3 iterations a scale; 497 M elements), 1.05 GiB at 160 px (140x160,
  128 channels, 102 M): 0.78 GiB plus 2.92 bytes an element, which predicts the quick preset at
  250 px (32 channels, 127 M) at 1.12 GiB, measured 1.11;
- split, 2 iterations a scale: 1.97 GiB at 250 px, 2.53 bytes an element over that base;
- eager, 2 iterations a scale: 2.57 GiB, 3.83 bytes an element.
The models rounded those up (0.8 GiB, 3.0, 2.7, 4.0). Then the small scales (largest conv below
2 GFLOP, ``steps.native_below``) moved onto the step kernels (``kernels/steps.cc``), which keep
their own maps while a scale trains; refitted (2026-12-05, Xeon with AVX-512, ``python -m app train
[--preset paper] --max-size 250 --iterations 3 --seed 1``): compiled, 2.29 GiB for the paper
preset (its peak still at the 128-channel finest scale, on the autodiff graphs), 1.34 GiB for the
quick preset at 250 px (32 channels, every scale on the kernels): 1.01 GiB plus 2.76 bytes an
element, rounded up to 1.05 GiB and 2.9 (2.39 and 1.39 GiB predicted). Split steps measured
the same as before (1.96 GiB, 2 iterations a scale; their finest scales run the autodiff critic
steps and eager generator steps), so the split and eager models keep theirs.

With MindSpore's convolutions (``SINGAN_CONV=mindspore``) every convolution node of a compiled
step keeps an im2col gemm workspace for the step's lifetime:
- compiled: 36 bytes an element with ``reuse`` generator steps, 42 with ``stale`` (38.9 and 40.9
  measured at 160 and 96 px; 19.9 GB at 250 px this session);
- eager: each op's workspace lives only while the op runs: 8.2 and 8.5 GB in an eager 218x250
  scale, 17.5 bytes an element; split: 12.2 GB, 26 bytes an element.
"""
from __future__ import annotations

from domain.memory import ExecutionModels, MemoryModel

_BASE = 0.65 * 2**30  # measured with MindSpore's convolutions
_ONEDNN_BASE = 0.8 * 2**30
_ONEDNN_COMPILED_BASE = 1.05 * 2**30  # the step kernels' maps at the small scales
ONEDNN = ExecutionModels(
    graph=MemoryModel(base=_ONEDNN_COMPILED_BASE, per_element=2.9),
    split=MemoryModel(base=_ONEDNN_BASE, per_element=2.7),
    eager=MemoryModel(base=_ONEDNN_BASE, per_element=4.0),
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
