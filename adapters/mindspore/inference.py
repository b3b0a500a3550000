"""The generator's inference pass on the compiled kernels (``SinganGenerate`` in kernels/steps.cc),
called through ctypes on host arrays: every sample, and training's coarser inputs, walk the pyramid
through it. The MindSpore graph it replaces launches about 20 ops a call and ran the 64-channel
generators at 40-50 GFLOP/s; this pass runs them at the convolutions' speed (README, "Sampling on
the compiled kernels"). The values are the graph's up to rounding: BatchNorm's running statistics
and the conv's bias are folded into one scale and shift a channel."""
from __future__ import annotations

import ctypes
from functools import cache

import numpy as np
from mindspore import nn

from adapters.mindspore.native import conv_choice

# Batches whose widest map would pass this many bytes run a sample at a time (the 128-channel scales).
SAMPLE_AT_ONCE_BYTES = 16 << 20


@cache
def _kernel():
    library = conv_choice().library
    function = ctypes.CDLL(str(library)).SinganGenerate  # the library MindSpore loaded: one instance
    function.restype = ctypes.c_int
    return function


def available(generator: nn.Cell) -> bool:
    """Whether ``generator`` can run here: the process has the compiled kernels and the cell is in
    inference mode (in training mode BatchNorm uses the batch's statistics)."""
    from adapters.mindspore.conv import compiled_kernels

    return not generator.training and compiled_kernels()


def _weights(generator: nn.Cell) -> list[np.ndarray]:
    """Head, body blocks and tail, each block's (w, b, gamma, beta, mean, var): SinganGenerate's order."""
    body = generator.net
    blocks = [body.head, *body.body]
    arrays = []
    for block in blocks:
        for tensor in (block.conv.weight, block.conv.bias, block.bn.gamma, block.bn.beta,
                       block.bn.moving_mean, block.bn.moving_variance):
            arrays.append(tensor.asnumpy())
    arrays += [body.tail.weight.asnumpy(), body.tail.bias.asnumpy()]
    return [np.ascontiguousarray(a, np.float32) for a in arrays]


def generate(generator: nn.Cell, x: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """``prev + tanh(net(pad(x)))`` for a batch (B, 3, H, W) of inputs, in inference mode."""
    x = np.ascontiguousarray(x, np.float32)
    prev = np.ascontiguousarray(prev, np.float32)
    if x.ndim != 4 or x.shape != prev.shape:
        raise ValueError(
            f"generator inputs must be two (B, C, H, W) arrays of one shape, got {x.shape} and {prev.shape}"
        )
    head = generator.net.head
    settings = np.array([head.act.slope, head.bn.eps], np.float32)
    weights = _weights(generator)
    widest = max(w.shape[0] for w in weights if w.ndim == 4)
    pad = sum(w.shape[-1] - 1 for w in weights if w.ndim == 4)
    map_bytes = 4 * widest * (x.shape[2] + pad) * (x.shape[3] + pad)
    if x.shape[0] > 1 and x.shape[0] * map_bytes > SAMPLE_AT_ONCE_BYTES:
        # One sample a call: batching gains nothing at these sizes, and the kernel's two maps
        # (which it frees past 32 MB) would add a batch's worth to the peak memory.
        return np.concatenate([_run(x[i : i + 1], prev[i : i + 1], settings, weights) for i in range(x.shape[0])])
    return _run(x, prev, settings, weights)


def _run(x: np.ndarray, prev: np.ndarray, settings: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    out = np.empty_like(x)
    arrays = [np.ascontiguousarray(x), np.ascontiguousarray(prev), settings, *weights, out]
    count = len(arrays)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in arrays]
    status = _kernel()(
        count,
        (ctypes.c_void_p * count)(*[a.ctypes.data for a in arrays]),
        (ctypes.c_int * count)(*[a.ndim for a in arrays]),
        (ctypes.POINTER(ctypes.c_int64) * count)(*[ctypes.cast(s, ctypes.POINTER(ctypes.c_int64)) for s in shapes]),
        None, None, None,
    )
    if status != 0:
        raise RuntimeError(f"the compiled generator failed on inputs of shape {x.shape}")
    return out
