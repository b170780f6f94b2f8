"""FULLY_CONNECTED 16x8: int16 activations (zero point 0) and int8 weights, per tensor with zero point 0, and an
int64 bias, as TensorFlow's converter emits them for 16x8 quantization. A kernel variant of FULLY_CONNECTED
(``fully_connected.check`` and its select hand an INT16 input here); the sum is int64 and the rescale TFLite's
int64 MultiplyByQuantizedMultiplier (``firmware/kernels/portable/fully_connected_16x8.c``).
"""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.model.quant import (
    ACT_RELU,
    ACT_RELU6,
    ACT_RELU_N1_TO_1,
    OutOfRange,
    fc_multiplier,
    round_half_away,
)
from harness.ops.base import OpSpec
from harness.ops.checks import activation, activation_tensor, bias, fail, symmetric, tensor_label, weights
from harness.ops.emit import Emitter, c_int, requant

# the int64 MultiplyByQuantizedMultiplier takes shifts in [-31, 7] and sums below 2^47 in magnitude
SHIFT64_RANGE = (-31, 7)
SUM64_LIMIT = 1 << 47


def activation_range16(act: int, scale: float) -> tuple[int, int]:
    """The int16 clamp of a fused activation on a zero-point-0 output (TFLM: round(f / scale) in float32)."""
    def q(f: float) -> int:
        return round_half_away(float(np.float32(f) / np.float32(scale)))

    lo, hi = -32768, 32767
    if act == ACT_RELU:
        return max(lo, q(0.0)), hi
    if act == ACT_RELU6:
        return max(lo, q(0.0)), min(hi, q(6.0))
    if act == ACT_RELU_N1_TO_1:
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def check_16x8(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input", int16=True)
    w = weights(g, op, op.inputs[1], 2, 0)
    y = activation_tensor(g, op, op.outputs[0], "output", int16=True)
    if y.dtype is not Dtype.INT16:
        raise fail(op, f"input is INT16 and output {tensor_label(y)} is {y.dtype.name}; 16x8 FULLY_CONNECTED "
                       "gives INT16")
    assert w.quant is not None  # checked by weights()
    if w.quant.per_channel:
        raise fail(op, f"weights {tensor_label(w)} have {len(w.quant.scale)} scales; 16x8 FULLY_CONNECTED takes "
                       "per-tensor weights (one scale)")
    symmetric(op, w, "16x8 weights need zero point 0")
    if op.option("weights_format") != 0:
        raise fail(op, f"weights format {op.option('weights_format')} is not supported; DEFAULT (0) only")
    out_depth, in_depth = w.shape
    if x.elements % in_depth:
        raise fail(op, f"input of {x.elements} elements is not a multiple of the weights' depth {in_depth}")
    if y.elements != x.elements // in_depth * out_depth:
        raise fail(op, f"output has {y.elements} elements; expected {x.elements // in_depth * out_depth}")
    bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_depth, Dtype.INT64)
    activation(op)


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    w = e.g.tensors[op.inputs[1]]
    assert x.quant and w.quant and y.quant  # validated
    out_depth, in_depth = w.shape
    mult, shift = requant("output", fc_multiplier(x.quant.scale[0], w.quant.scale[0], y.quant.scale[0]),
                          shift_range=SHIFT64_RANGE)
    act_min, act_max = activation_range16(op.option("activation"), y.quant.scale[0])
    values = w.array()
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    bias_values = e.bias_values(op, out_depth)
    largest = int(np.abs(bias_values).max(initial=0)) + in_depth * 32768 * int(np.abs(values.astype(np.int64)).max(initial=0))
    if largest >= SUM64_LIMIT:
        raise OutOfRange(f"a sum of up to {largest} is outside (-2^47, 2^47), the sums the int64 rescale takes")
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "weights": e.weights(f"{p}_weights", "int8_t", values),
        "bias": e.weights(f"{p}_bias", "int64_t", bias_values) if has_bias else "NULL",
        "batches": f"{x.elements // in_depth}u", "in_depth": f"{in_depth}u", "out_depth": f"{out_depth}u",
        "output_multiplier": c_int(mult), "output_shift": c_int(shift),
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.struct("bench_fc16_params_t", f"{p}_params", fields)
    return x.elements // in_depth * out_depth * in_depth


def _check(g: Graph, op: Operator) -> None:
    from harness.ops.fully_connected import check  # which imports this module: imported when first called

    check(g, op)


OPS = (
    OpSpec("FULLY_CONNECTED_16X8", tflite.BuiltinOperator.FULLY_CONNECTED, 205, _check, emit,
           kernel="bench_kernel_fully_connected_16x8", params="fc16", sources=("fully_connected_16x8.c",),
           variant_of="FULLY_CONNECTED"),
)
