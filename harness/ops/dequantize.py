"""DEQUANTIZE int8 (or int16, as the variant DEQUANTIZE_INT16 in ``harness.ops.int16_edges``) to float32, only as
the last step, producing the graph output."""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail
from harness.ops.emit import Emitter, c_int
from harness.ops.int16_edges import select_dequantize


def check(g: Graph, op: Operator) -> None:
    activation_tensor(g, op, op.inputs[0], "input", int16=True)
    y = g.tensors[op.outputs[0]]
    if y.dtype is not Dtype.FLOAT32:
        raise fail(op, f"output is {y.dtype.name}; DEQUANTIZE to FLOAT32 only")
    if op.outputs[0] not in g.outputs:
        raise fail(op, "DEQUANTIZE is supported only as the last step, producing the graph output")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "zero_point": c_int(x.quant.zero_point[0]), "scale": f"{float(np.float32(x.quant.scale[0])):.17g}"}
    e.struct("bench_dequantize_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("DEQUANTIZE", tflite.BuiltinOperator.DEQUANTIZE, 13, check, emit, kernel="bench_kernel_dequantize",
          params="dequantize", sources=("elementwise.c",), select=select_dequantize),
)
