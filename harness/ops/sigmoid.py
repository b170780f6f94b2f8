"""LOGISTIC and TANH: the input rescaled into Q4.27 fixed point; the output quantization is fixed. int16 inputs
select the variants of harness.ops.sigmoid16."""

from __future__ import annotations

from collections.abc import Callable

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import sigmoid_params
from harness.ops.base import OpSpec
from harness.ops.checks import check_fixed_output, is_int16
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise
from harness.ops.sigmoid16 import check16


def check_logistic(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check16(g, op)
    else:
        check_fixed_output(g, op, 1.0 / 256, -128)


def check_tanh(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check16(g, op)
    else:
        check_fixed_output(g, op, 1.0 / 128, 0)


def _select(name: str) -> Callable[[Graph, Operator], str]:
    """``<name>_INT16`` for an int16 input (harness.ops.sigmoid16), else ``name``."""
    def select(g: Graph, op: Operator) -> str:
        return f"{name}_INT16" if is_int16(g, op) else name
    return select


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated
    mult, left_shift, radius = sigmoid_params(x.quant.scale[0])
    requant("input_multiplier,input_left_shift", (mult, left_shift))
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "input_zero_point": c_int(x.quant.zero_point[0]),
              "input_range_radius": c_int(radius, what="input_range_radius"),
              "input_multiplier": c_int(mult), "input_left_shift": c_int(left_shift)}
    e.struct("bench_sigmoid_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("LOGISTIC", tflite.BuiltinOperator.LOGISTIC, 14, check_logistic, emit, kernel="bench_kernel_logistic",
          params="sigmoid", sources=("elementwise.c", "fixedpoint.c"), overlap=elementwise, select=_select("LOGISTIC")),
    OpSpec("TANH", tflite.BuiltinOperator.TANH, 15, check_tanh, emit, kernel="bench_kernel_tanh",
          params="sigmoid", sources=("elementwise.c", "fixedpoint.c"), overlap=elementwise, select=_select("TANH")),
)
