"""The library's kernels as MindSpore ``aot`` custom ops, one constructor for the three modules that
use them (``conv``, ``batchnorm``, ``activation``).

Each op is registered with its inputs and outputs, and its output shapes come from the library's
C++ ``<Kernel>InferShape`` functions (``kernels/shapes.cc``) rather than from Python: MindSpore
calls those at run time when a graph's inputs have open dimensions (``Cell.set_inputs`` with
``None``), so one compiled graph can serve every batch size, height and width
(``networks.any_shape``). tests/integration/test_any_shape.py pins them. The kernels are float32
only, so every output is.
"""
from __future__ import annotations

from mindspore import ops
from mindspore.common import dtype as mstype

from adapters.mindspore.native import conv_choice


def registration(name: str, inputs: int, outputs: int) -> dict:
    """MindSpore's registration of a CPU float32 kernel with ``inputs`` and ``outputs`` tensors
    (it names the op for the C++ shape function and marks several outputs as a tuple)."""
    reg = ops.CustomRegOp(name)
    for i in range(inputs):
        reg = reg.input(i, f"x{i}")
    for i in range(outputs):
        reg = reg.output(i, f"y{i}")
    return reg.dtype_format(*[ops.DataType.F32_Default] * (inputs + outputs)).target("CPU").get_op_info()


def kernel_op(name: str, inputs: int, outputs: int, bprop=None, *, shapes=None) -> ops.Custom:
    """The library's kernel ``name`` as an op, its shapes inferred by the library, or fixed by
    ``shapes`` (one tuple per output: for ops whose outputs never change shape, such as a step's
    gradients, which need no C++ shape function)."""
    library = conv_choice().library
    out_dtype = mstype.float32 if outputs == 1 else (mstype.float32,) * outputs
    out_shape = None if shapes is None else (tuple(shapes[0]) if outputs == 1 else tuple(tuple(s) for s in shapes))
    return ops.Custom(f"{library}:{name}", out_shape=out_shape, out_dtype=out_dtype, func_type="aot", bprop=bprop,
                      reg_info=registration(name, inputs, outputs))
