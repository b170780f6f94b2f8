"""LEAKY_RELU and HARD_SWISH: int8 in, int8 out, element by element, each in its own quantization."""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import check_int, quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise

INT16_MAX = 2**15 - 1


def same_shape(op: Operator, x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise fail(op, f"output shape {list(y.shape)} differs from the input's {list(x.shape)}; "
                       f"{op.opcode} keeps the shape")


def check_leaky_relu(g: Graph, op: Operator) -> None:
    same_shape(op, activation_tensor(g, op, op.inputs[0], "input"), activation_tensor(g, op, op.outputs[0], "output"))
    alpha = op.option("alpha")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise fail(op, f"alpha is {alpha}; expected a finite alpha >= 0")


def emit_leaky_relu(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant and y.quant  # validated
    # TFLite computes both ratios in float32, then quantizes them as doubles
    in_scale, out_scale = np.float32(x.quant.scale[0]), np.float32(y.quant.scale[0])
    alpha = np.float32(op.option("alpha"))
    mi, si = requant("identity", quantize_multiplier(float(in_scale / out_scale)))
    ma, sa = requant("alpha", quantize_multiplier(float(in_scale * alpha / out_scale)))
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
              "identity_multiplier": c_int(mi), "identity_shift": c_int(si),
              "alpha_multiplier": c_int(ma), "alpha_shift": c_int(sa)}
    e.struct("bench_leaky_relu_params_t", f"{p}_params", fields)
    return 0


def int16_multiplier(m: float) -> tuple[int, int]:
    """(Q15 multiplier, exponent) of a real m > 0: the Q31 one rounded to its top 16 bits, saturating."""
    q31, exponent = quantize_multiplier(m)
    q15 = INT16_MAX if q31 >= 2**31 - 1 - (1 << 15) else (q31 + (1 << 15)) >> 16
    return q15, exponent


def hard_swish_multipliers(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """(output_multiplier, output_shift, reluish_multiplier, reluish_shift), Q15, computed in float32 as
    TFLite does: the input is taken at scale s_x / 128, the 'reluish' factor relu6(x + 3) / 6 at 3 / 32768."""
    hires = np.float32(1.0 / 128.0) * np.float32(input_scale)
    mo, so = int16_multiplier(float(hires / np.float32(output_scale)))
    mr, sr = int16_multiplier(float(hires / np.float32(3.0 / 32768.0)))
    return mo, so, mr, sr


def check_hard_swish(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_shape(op, x, y)
    assert x.quant and y.quant  # checked by activation_tensor
    _, so, _, sr = hard_swish_multipliers(x.quant.scale[0], y.quant.scale[0])
    if not -15 <= so <= 0:
        raise fail(op, f"input scale / output scale = {x.quant.scale[0] / y.quant.scale[0]:.6g} gives output shift "
                       f"{so}; int8 HARD_SWISH needs it in -15..0 (a ratio from about 0.002 to 64), the shifts of "
                       "its int16 arithmetic")
    if not -15 <= sr <= 15:
        raise fail(op, f"input scale {x.quant.scale[0]:.6g} gives shift {sr} for relu6(x + 3) / 6; expected -15..15 "
                       "(an input scale from about 4e-7 to 384), the shifts of int16 arithmetic")


def emit_hard_swish(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant and y.quant  # validated
    mo, so, mr, sr = hard_swish_multipliers(x.quant.scale[0], y.quant.scale[0])
    check_int("output_shift", so, (-15, 0), "the right shifts of an int16 the kernel takes")  # checked above
    check_int("reluish_shift", sr, (-15, 15), "the shifts of an int16 the kernel takes")
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
              "output_multiplier": c_int(mo, 0, INT16_MAX, "output_multiplier"), "output_shift": c_int(so),
              "reluish_multiplier": c_int(mr, 0, INT16_MAX, "reluish_multiplier"), "reluish_shift": c_int(sr)}
    e.struct("bench_hard_swish_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("LEAKY_RELU", tflite.BuiltinOperator.LEAKY_RELU, 125, check_leaky_relu, emit_leaky_relu,
           kernel="bench_kernel_leaky_relu", params="leaky_relu", sources=("activations.c",),
           options=("LeakyReluOptions", (("alpha", "Alpha", 0.0),)), overlap=elementwise),
    OpSpec("HARD_SWISH", tflite.BuiltinOperator.HARD_SWISH, 126, check_hard_swish, emit_hard_swish,
           kernel="bench_kernel_hard_swish", params="hard_swish", sources=("activations.c",), overlap=elementwise),
)
