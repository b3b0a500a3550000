"""Training-mode BatchNorm on the kernels of ``kernels/batchnorm.cc`` (built into the library of
``native`` with the convolutions): the forward pass from the batch's statistics, its backward pass,
and that backward pass's own backward (the gradient penalty's second derivative).

MindSpore's CPU kernel for the last one (BatchNormGradGrad) took 26 ms on a 64x131x151 map, about a
fifth of a compiled critic step, and op by op it reads freed memory (see ``networks.BatchNorm``).
The derivatives are stated twice for the same reason as the convolutions' (``conv.py``): as cells'
``bprop`` for op-by-op execution and as the ops' own ``bprop`` for compiled graphs.
"""
from __future__ import annotations

import functools

from mindspore import nn

from adapters.mindspore.aot import kernel_op

EPS = 1e-5  # compiled into the kernels: nn.BatchNorm2d's default


_norm = _grad = _gradgrad = None  # the three kernels as cells, set once by ``kernels``


class _Kernel(nn.Cell):
    def __init__(self, op):
        super().__init__()
        self.op = op


class _Norm(_Kernel):
    def construct(self, x, gamma, beta):
        return self.op(x, gamma, beta)

    def bprop(self, x, gamma, _beta, _out, dout):
        # The statistics (outputs 1 and 2) only feed the running averages, under stop_gradient.
        return _grad(dout[0], x, gamma)


class _Grad(_Kernel):
    def construct(self, dy, x, gamma):
        return self.op(dy, x, gamma)

    def bprop(self, dy, x, gamma, _out, dout):
        return _gradgrad(dy, x, gamma, dout[0], dout[1], dout[2])


class _GradGrad(_Kernel):
    def construct(self, dy, x, gamma, g, gg, gb):
        return self.op(dy, x, gamma, g, gg, gb)


@functools.cache
def kernels() -> nn.Cell:
    """The forward kernel as a cell, ``(x, gamma, beta) -> (y, batch mean, biased batch variance)``,
    differentiable twice."""
    global _norm, _grad, _gradgrad

    def norm_bprop(x, gamma, _beta, _out, dout):
        return grad(dout[0], x, gamma)

    def grad_bprop(dy, x, gamma, _out, dout):
        return gradgrad(dy, x, gamma, dout[0], dout[1], dout[2])

    norm = kernel_op("SinganBatchNorm", 3, 3, norm_bprop)
    grad = kernel_op("SinganBatchNormGrad", 3, 3, grad_bprop)
    gradgrad = kernel_op("SinganBatchNormGradGrad", 6, 3)
    _norm, _grad, _gradgrad = _Norm(norm), _Grad(grad), _GradGrad(gradgrad)
    return _norm
