"""SOFTMAX over the last axis, int8 in, int8 out at scale 1/256 and zero point -128. An int16 input selects the
variant of harness.ops.softmax16."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import LEFT_SHIFT_RANGE, check_int, softmax_params
from harness.ops.base import OpSpec
from harness.ops.checks import check_fixed_output, fail, is_int16
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise
from harness.ops.softmax16 import check16

# SOFTMAX sums exp() of each input in Q12.19, up to 2^19 each: more than this many overflow int32
SOFTMAX_MAX_DEPTH = (2**31 - 1) // 2**19


def check(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check16(g, op)
        return
    x = check_fixed_output(g, op, 1.0 / 256, -128)
    if not op.option("beta") > 0:
        raise fail(op, f"beta is {op.option('beta')}; expected > 0")
    assert x.quant is not None  # checked by activation_tensor
    if op.option("beta") * x.quant.scale[0] * (1 << 26) < 1.0:
        raise fail(op, f"beta * input scale = {op.option('beta') * x.quant.scale[0]:.3g} is below 2^-26, "
                       "the smallest int8 softmax can represent")


def select(g: Graph, op: Operator) -> str:
    """``SOFTMAX_INT16`` for an int16 input (harness.ops.softmax16), else ``SOFTMAX``."""
    return "SOFTMAX_INT16" if is_int16(g, op) else "SOFTMAX"


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated
    mult, left_shift, diff_min = softmax_params(op.option("beta"), x.quant.scale[0])
    requant("input_multiplier,input_left_shift", (mult, left_shift), shift_range=LEFT_SHIFT_RANGE)
    depth = x.shape[-1] if x.shape else 1
    check_int("depth", depth, (1, SOFTMAX_MAX_DEPTH), "beyond which the Q12.19 sum of exps overflows int32")
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "rows": f"{x.elements // depth}u", "depth": f"{depth}u",
        "input_multiplier": c_int(mult), "input_left_shift": c_int(left_shift),
        "diff_min": c_int(diff_min),
    }
    e.struct("bench_softmax_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("SOFTMAX", tflite.BuiltinOperator.SOFTMAX, 7, check, emit, kernel="bench_kernel_softmax",
          params="softmax", sources=("softmax.c", "fixedpoint.c"), options=("SoftmaxOptions", (("beta", "Beta", 1.0),)),
          overlap=elementwise, scores_output=True, select=select),
)
