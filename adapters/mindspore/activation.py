"""LeakyReLU on the kernels of ``kernels/activation.cc`` (built into the library of ``native``): one
pass forward and one backward, where MindSpore's ops take five each. The backward kernel is linear
in the incoming gradient and flat in the input, so it is its own derivative; the derivatives are
stated as cells' ``bprop`` (op by op) and as the ops' own (compiled), as for the convolutions."""
from __future__ import annotations

import functools

from mindspore import nn, ops

from adapters.mindspore.aot import kernel_op


_leaky = _leaky_grad = None  # the two kernels as cells, set once by ``kernel``


class _Kernel(nn.Cell):
    def __init__(self, op):
        super().__init__()
        self.op = op


class _Leaky(_Kernel):
    def construct(self, x, slope):
        return self.op(x, slope)

    def bprop(self, x, slope, _out, dout):
        return _leaky_grad(x, dout, slope), slope * 0.0


class _LeakyGrad(_Kernel):
    def construct(self, x, dy, slope):
        return self.op(x, dy, slope)

    def bprop(self, x, _dy, slope, _out, dout):
        return ops.zeros_like(x), _leaky_grad(x, dout, slope), slope * 0.0


@functools.cache
def kernel() -> nn.Cell:
    """``(x, slope) -> leaky_relu(x)``, ``slope`` a one-element tensor; differentiable to any order."""
    global _leaky, _leaky_grad

    def leaky_bprop(x, slope, _out, dout):
        return leaky_grad(x, dout, slope), slope * 0.0

    def grad_bprop(x, _dy, slope, _out, dout):
        return ops.zeros_like(x), leaky_grad(x, dout, slope), slope * 0.0

    leaky = kernel_op("SinganLeakyRelu", 2, 1, leaky_bprop)
    leaky_grad = kernel_op("SinganLeakyReluGrad", 3, 1, grad_bprop)
    _leaky, _leaky_grad = _Leaky(leaky), _LeakyGrad(leaky_grad)
    return _leaky
