"""SQUEEZE and EXPAND_DIMS: the same bytes under a shape with size-1 axes removed or added; like RESHAPE, the
planner gives input and output one buffer (``aliases_input``), so the kernel has nothing to copy."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter
from harness.ops.strided import constant_int32


def _is_squeezed(shape: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """``out`` is ``shape`` with some axes of size 1 left out."""
    k = 0
    for d in shape:
        if k < len(out) and out[k] == d:
            k += 1
        elif d != 1:
            return False
    return k == len(out)


def check_squeeze(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    if not _is_squeezed(x.shape, y.shape):
        raise fail(op, f"output shape {list(y.shape)} is not the input's {list(x.shape)} with axes of size 1 "
                       "removed")


def check_expand_dims(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    axis = constant_int32(g, op, op.inputs[1], "axis")
    rank = len(x.shape)
    if len(axis) != 1 or not -rank - 1 <= axis[0] <= rank:
        raise fail(op, f"axis {axis} for an input of rank {rank}; expected one value in {-rank - 1}..{rank}")
    a = axis[0] % (rank + 1)
    expected = [*x.shape[:a], 1, *x.shape[a:]]
    if list(y.shape) != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the expanded {expected}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "bytes": f"{x.nbytes}u"}
    e.struct("bench_copy_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("SQUEEZE", tflite.BuiltinOperator.SQUEEZE, 103, check_squeeze, emit, kernel="bench_kernel_reshape",
           params="copy", sources=("shape.c",), aliases_input=True),
    OpSpec("EXPAND_DIMS", tflite.BuiltinOperator.EXPAND_DIMS, 104, check_expand_dims, emit,
           kernel="bench_kernel_reshape", params="copy", sources=("shape.c",), aliases_input=True),
)
