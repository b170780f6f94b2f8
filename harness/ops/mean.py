"""MEAN over the two spatial axes of an NHWC tensor."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import ANY_MULTIPLIER_RANGE, mean_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, constant_ints, fail
from harness.ops.emit import Emitter, c_int, requant


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    axes = sorted({a % 4 if len(x.shape) == 4 else a for a in constant_ints(g, op, op.inputs[1], "axis")})
    if len(x.shape) != 4 or axes != [1, 2]:
        raise fail(op, f"MEAN over axes {axes} of a rank-{len(x.shape)} input; only the two spatial axes "
                       "[1, 2] of an NHWC input are supported")
    b, _, _, c = x.shape
    if y.elements != b * c:
        raise fail(op, f"output shape {list(y.shape)}; expected {b * c} elements")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant and y.quant  # validated
    b, h, w, c = x.shape
    mult, shift = requant("multiplier,shift", mean_multiplier(x.quant.scale[0], y.quant.scale[0], h * w),
                          multiplier_range=ANY_MULTIPLIER_RANGE)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "batches": f"{b}u", "h": f"{h}u", "w": f"{w}u", "channels": f"{c}u",
        "multiplier": c_int(mult), "shift": c_int(shift),
        "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
    }
    e.struct("bench_mean_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("MEAN", tflite.BuiltinOperator.MEAN, 9, check, emit, kernel="bench_kernel_mean", params="mean",
          sources=("shape.c",), options=("ReducerOptions", (("keep_dims", "KeepDims", False),))),
)
