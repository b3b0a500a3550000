"""Convolution cells: unpadded, stride 1, with bias, as SinGAN's networks use them. On the oneDNN
kernels of ``native`` when those were built, else MindSpore's ``nn.Conv2d``. Both have parameters
``weight`` (out, in, k, k) and ``bias`` (out,), so checkpoints load into either."""
from __future__ import annotations

import functools

import numpy as np
from mindspore import Parameter, Tensor, nn, ops

from adapters.mindspore.aot import kernel_op
from adapters.mindspore.native import conv_choice


# The three kernels as cells, set once by ``onednn_convolution``. Their derivatives are stated twice,
# because MindSpore's two modes differentiate them differently. Op by op (PyNative), the second
# derivative with respect to the weights comes out wrong through an op's own ``bprop`` (measured:
# off by 13% of its scale) and right through a cell's. Compiled, a cell's bprop is differentiated
# again through the ops inside it, which then need a ``bprop`` of their own (without one,
# compiling fails: "Custom's bprop not defined"). tests/integration/test_conv.py checks both modes.
_forward = _backward_data = _backward_weights = None


class _Kernel(nn.Cell):
    def __init__(self, op):
        super().__init__()
        self.op = op

    def construct(self, a, b):
        return self.op(a, b)


class _Forward(_Kernel):
    def bprop(self, x, w, _out, dout):
        return _backward_data(dout, w), _backward_weights(x, dout)


class _BackwardData(_Kernel):
    def bprop(self, dy, w, _out, dout):
        return _forward(dout, w), _backward_weights(dout, dy)


class _BackwardWeights(_Kernel):
    def bprop(self, x, dy, _out, dout):
        return _backward_data(dy, dout), _forward(x, dout)


@functools.cache
def onednn_convolution() -> nn.Cell:
    """The forward kernel, with its two adjoints as its derivative. Each is linear in each input,
    and each one's derivative is made of the three again (<x*w, g> = <x, bd(g, w)> = <w, bw(x, g)>),
    so every order of derivative runs on these kernels."""
    global _forward, _backward_data, _backward_weights  # one set of kernels per process, like the library

    def forward_bprop(x, w, _out, dout):
        return backward_data(dout, w), backward_weights(x, dout)

    def backward_data_bprop(dy, w, _out, dout):
        return forward(dout, w), backward_weights(dout, dy)

    def backward_weights_bprop(x, dy, _out, dout):
        return backward_data(dy, dout), forward(x, dout)

    forward = kernel_op("SinganConvForward", 2, 1, forward_bprop)
    backward_data = kernel_op("SinganConvBackwardData", 2, 1, backward_data_bprop)
    backward_weights = kernel_op("SinganConvBackwardWeights", 2, 1, backward_weights_bprop)
    _forward, _backward_data, _backward_weights = _Forward(forward), _BackwardData(backward_data), _BackwardWeights(backward_weights)
    return _forward


class OneDnnConv2d(nn.Cell):
    """``nn.Conv2d(in, out, k, pad_mode="valid", has_bias=True)`` on the oneDNN kernels."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.weight = Parameter(Tensor(np.zeros((out_channels, in_channels, kernel_size, kernel_size), np.float32)), name="weight")
        self.bias = Parameter(Tensor(np.zeros((out_channels,), np.float32)), name="bias")
        self.convolve = onednn_convolution()
        self.add_bias = ops.BiasAdd()

    def construct(self, x):
        return self.add_bias(self.convolve(x, self.weight), self.bias)


def _device_target() -> str:
    import mindspore as ms

    return ms.get_context("device_target")


def compiled_kernels() -> bool:
    """Whether this process's networks run on the compiled kernels (the oneDNN convolutions and,
    built with them, ``batchnorm`` and ``activation``): they were built, and they are CPU kernels,
    so a GPU or Ascend process always takes MindSpore's."""
    return conv_choice().backend == "onednn" and _device_target() == "CPU"


def conv2d(in_channels: int, out_channels: int, kernel_size: int) -> nn.Cell:
    """An unpadded stride-1 convolution with bias, on the process's convolutions (``compiled_kernels``)."""
    if compiled_kernels():
        return OneDnnConv2d(in_channels, out_channels, kernel_size)
    return nn.Conv2d(in_channels, out_channels, kernel_size, pad_mode="valid", has_bias=True)
