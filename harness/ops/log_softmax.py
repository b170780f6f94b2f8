"""LOG_SOFTMAX over the last axis, int8 in, int8 out at scale 16/256 and zero point 127."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import LEFT_SHIFT_RANGE, check_int, quantize_multiplier, softmax_params
from harness.ops.activations import same_shape
from harness.ops.base import OpSpec
from harness.ops.checks import check_fixed_output, fail
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise
from harness.ops.softmax import SOFTMAX_MAX_DEPTH


def _params(input_scale: float) -> tuple[int, int, int, int, int]:
    """(input_multiplier, input_left_shift, diff_min, reverse_multiplier, reverse_shift): the input rescale
    into Q5.26 (beta 1, as for SOFTMAX) and its inverse, 2^(31 - left shift) / multiplier, below 1."""
    multiplier, left_shift, diff_min = softmax_params(1.0, input_scale)
    reverse = quantize_multiplier((1 << (31 - left_shift)) / float(multiplier)) if multiplier else (0, 1)
    return multiplier, left_shift, diff_min, reverse[0], reverse[1]


def check(g: Graph, op: Operator) -> None:
    x = check_fixed_output(g, op, 16.0 / 256, 127)
    same_shape(op, x, g.tensors[op.outputs[0]])
    assert x.quant is not None  # checked by activation_tensor
    multiplier, _, _, _, reverse_shift = _params(x.quant.scale[0])
    if multiplier == 0 or reverse_shift > 0:
        raise fail(op, f"input scale {x.quant.scale[0]:.3g} is at or below 2^-26, the smallest int8 "
                       "LOG_SOFTMAX can represent; expected a larger input scale")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated
    mult, left_shift, diff_min, reverse_mult, reverse_shift = _params(x.quant.scale[0])
    requant("input_multiplier,input_left_shift", (mult, left_shift), shift_range=LEFT_SHIFT_RANGE)
    requant("reverse_multiplier,reverse_shift", (reverse_mult, reverse_shift))
    depth = x.shape[-1] if x.shape else 1
    check_int("depth", depth, (1, SOFTMAX_MAX_DEPTH), "beyond which the Q12.19 sum of exps overflows int32")
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "rows": f"{x.elements // depth}u", "depth": f"{depth}u",
        "input_multiplier": c_int(mult), "input_left_shift": c_int(left_shift), "diff_min": c_int(diff_min),
        "reverse_multiplier": c_int(reverse_mult), "reverse_shift": c_int(reverse_shift),
    }
    e.struct("bench_log_softmax_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("LOG_SOFTMAX", tflite.BuiltinOperator.LOG_SOFTMAX, 127, check, emit, kernel="bench_kernel_log_softmax",
           params="log_softmax", sources=("log_softmax.c", "fixedpoint.c"), overlap=elementwise),
)
