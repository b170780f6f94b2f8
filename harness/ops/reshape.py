"""RESHAPE: the same bytes under another shape; the planner gives input and output one buffer."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    if x.elements != y.elements:
        raise fail(op, f"input has {x.elements} elements, output {y.elements}")
    same_quant(op, x, y)


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "bytes": f"{x.nbytes}u"}
    e.struct("bench_copy_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("RESHAPE", tflite.BuiltinOperator.RESHAPE, 8, check, emit, kernel="bench_kernel_reshape", params="copy",
          sources=("shape.c",), aliases_input=True),
)
