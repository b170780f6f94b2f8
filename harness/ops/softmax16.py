"""int16 SOFTMAX (16x8 quantization): the kernel variant of SOFTMAX that ``softmax.check`` and its select hand an
INT16 input. The input has zero point 0 and any scale, the output is Q0.15 (scale 2^-15, zero point 0, as TFLite
Micro requires).

TFLite Micro's algorithm, per row of the last axis (``softmax16`` is its numpy model, the C kernel is
``firmware/kernels/portable/softmax16.c``): each difference from the row's maximum is rescaled so that
[-65535, 0] spans [-10, 0] (``softmax16_params``), moved up by 32767 and saturated to int16, then looked up with
linear interpolation in a 513-entry table of exp on [-10, 0]; the sum of those exps is normalized to 17
significant bits, looked up in a table of 1 / (1 + x) on [0, 1], and each exp times that reciprocal is shifted
back by the sum's headroom.

The two tables come from a formula (``lut``), evaluated in float32 as TFLite Micro's Prepare does: each of the 512
samples rounded to Q0.15 and corrected by half the error of linear interpolation at its interval's midpoint, plus
the value at the end of the range. Tables computed in double differ at two entries of the reciprocal table, which
the interpreter shows it does not use (``tests/ops/test_softmax16.py`` sweeps them).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.model.quant import check_int, quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, q_text, tensor_label
from harness.ops.emit import Emitter, c_int
from harness.ops.overlap import elementwise

Array = np.ndarray[Any, Any]
F32 = np.float32

OUTPUT_SCALE = 2.0 ** -15
LUT_STEPS = 512                    # intervals of each table; one more entry closes the last one
EXP_RANGE = (-10.0, 0.0)           # exp on [-10, 0]: a difference from the row maximum of -65535 is -10
RECIPROCAL_RANGE = (0.0, 1.0)      # 1 / (1 + x) on [0, 1]
DIFF_SPAN = 65535                  # the widest difference between two int16 values
# the rescale shifts each difference left by up to this before its Q31 multiply: 65535 << 15 fits int32
MAX_LEFT_SHIFT = 15
# the sum of exps, each at most 32767, must fit int32
MAX_DEPTH = (2**31 - 1) // 32767


def _round(v: F32) -> F32:
    """Round half away from zero, exactly (as C's roundf)."""
    t = np.trunc(v)
    return F32(t + np.sign(v)) if abs(float(v) - float(t)) >= 0.5 else F32(t)


def _exp(v: F32) -> F32:
    return F32(math.exp(float(v)))  # expf: exp in double rounded to float32


def _reciprocal(v: F32) -> F32:
    return F32(F32(1.0) / F32(F32(1.0) + v))


def lut(func: Callable[[F32], F32], lo: float, hi: float) -> list[int]:
    """``LUT_STEPS + 1`` int16 samples of ``func`` on [lo, hi] in Q0.15, evaluated in float32: each sample
    rounded, less half the rounded error of interpolating linearly to its interval's midpoint; the last entry is
    ``func(hi)``; all saturated to int16.

    >>> exp = lut(_exp, *EXP_RANGE)
    >>> len(exp), exp[0], exp[-1]
    (513, 2, 32767)
    """
    start, step = F32(lo), F32((F32(hi) - F32(lo)) / F32(LUT_STEPS))
    half, scale = F32(step / F32(2)), F32(32768)

    def clamp(v: F32) -> int:
        return int(min(max(float(v), -32768.0), 32767.0))

    out = []
    for i in range(LUT_STEPS):
        at = F32(start + F32(i) * step)
        val, mid = func(at), func(F32(at + half))
        nxt = func(F32(start + F32(i + 1) * step))
        sample = _round(F32(val * scale))
        interpolated = _round(F32(F32(F32(nxt * scale) + sample) / F32(2)))
        bias = _round(F32(F32(interpolated - _round(F32(mid * scale))) / F32(2)))
        out.append(clamp(F32(sample - bias)))
    out.append(clamp(_round(F32(func(F32(hi)) * scale))))
    return out


@functools.cache
def exp_table() -> tuple[int, ...]:
    """exp on [-10, 0] in Q0.15 (``lut``)."""
    return tuple(lut(_exp, *EXP_RANGE))


@functools.cache
def reciprocal_table() -> tuple[int, ...]:
    """1 / (1 + x) on [0, 1] in Q0.15 (``lut``)."""
    return tuple(lut(_reciprocal, *RECIPROCAL_RANGE))


def softmax16_params(input_scale: float, beta: float) -> tuple[int, int]:
    """(input_multiplier, input_shift) rescaling a difference of int16 inputs so that ``DIFF_SPAN`` is 10.0 (exp's
    table range); the real multiplier is computed in double from float32 scale and beta. Shift > 0 is left.

    >>> softmax16_params(10.0 / 65535.0, 1.0)
    (1073741824, 1)
    """
    return quantize_multiplier(float(F32(input_scale)) * float(F32(beta)) / (10.0 / DIFF_SPAN))


def check16(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input", int16=True)
    y = activation_tensor(g, op, op.outputs[0], "output", int16=True)
    if y.dtype is not Dtype.INT16:
        raise fail(op, f"input is INT16 and output {tensor_label(y)} is {y.dtype.name}; int16 SOFTMAX gives INT16")
    assert x.quant is not None and y.quant is not None  # checked by activation_tensor()
    if abs(y.quant.scale[0] / OUTPUT_SCALE - 1) > 1e-3:
        raise fail(op, f"output {q_text(y)}; int16 SOFTMAX needs scale 2^-15 ({OUTPUT_SCALE:g}), zero point 0")
    beta = op.option("beta")
    if not beta > 0:
        raise fail(op, f"beta is {beta}; expected > 0")
    _, shift = softmax16_params(x.quant.scale[0], beta)
    if shift > MAX_LEFT_SHIFT:
        raise fail(op, f"beta * input scale = {beta * x.quant.scale[0]:.3g} is too large: the rescaled "
                       f"difference of two int16 inputs overflows int32; expected below "
                       f"{10.0 / DIFF_SPAN * 2 ** MAX_LEFT_SHIFT:.3g}")
    depth = x.shape[-1] if x.shape else 1
    if depth > MAX_DEPTH:
        raise fail(op, f"rows of {depth} elements; int16 SOFTMAX sums at most {MAX_DEPTH} exps in int32")


def _lookup(v: Array, table: tuple[int, ...]) -> Array:
    """Interpolate ``table`` at int16 ``v``: position 256 + v / 128, 7 fraction bits rounded."""
    t = np.asarray(table, np.int64)
    index, fraction = 256 + (v >> 7), v & 0x7F
    out: Array = t[index] + (((t[index + 1] - t[index]) * fraction + 64) >> 7)
    return out


def _rounding_shift(v: Array, shift: int) -> Array:
    """v / 2^shift rounded half away from zero (gemmlowp's RoundingDivideByPOT)."""
    if shift == 0:
        return v
    mask = (1 << shift) - 1
    return (v >> shift) + ((v & mask) > (mask >> 1) + (v < 0))


def _multiply(v: Array, multiplier: int, shift: int) -> Array:
    """TFLite's MultiplyByQuantizedMultiplier: a left shift, the rounding doubling high multiply, a rounding
    right shift."""
    product = (v << max(shift, 0)) * multiplier
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))
    return _rounding_shift(high, max(-shift, 0))


def softmax16(x: Array, multiplier: int, shift: int) -> Array:
    """int16 SOFTMAX over the last axis of ``x`` (int16 values), as the C kernel computes it; int64 Q0.15 out."""
    rows = np.asarray(x, np.int64).reshape(-1, x.shape[-1] if x.ndim else 1)
    exp, reciprocal = exp_table(), reciprocal_table()
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        scaled = np.clip(_multiply(row - row.max(), multiplier, shift) + 32767, -32768, 32767)
        exps = _lookup(scaled, exp)
        total = int(exps.sum())
        headroom = 32 - total.bit_length()
        normalized = (((total << (headroom - 1)) + (1 << 13)) >> 14) - (1 << 15) - (1 << 16)
        scale = int(_lookup(np.array([min(max(normalized, -32768), 32767)]), reciprocal)[0])
        out[r] = np.clip(_rounding_shift(exps * scale, 31 - headroom), 0, 32767)
    return out.reshape(np.shape(x))


def emit16(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated by check16
    multiplier, shift = softmax16_params(x.quant.scale[0], op.option("beta"))
    depth = x.shape[-1] if x.shape else 1
    check_int("depth", depth, (1, MAX_DEPTH), "beyond which the int32 sum of exps overflows")
    exp = e.table("bench_softmax16_exp_lut", "int16_t", list(exp_table()))
    reciprocal = e.table("bench_softmax16_reciprocal_lut", "int16_t", list(reciprocal_table()))
    e.struct("bench_softmax16_params_t", f"{p}_params",
             {"in_offset": e.off(x.index), "out_offset": e.off(y.index),
              "rows": f"{x.elements // depth}u", "depth": f"{depth}u",
              "input_multiplier": c_int(multiplier, 0, 2**31 - 1, "input_multiplier"),
              "input_shift": c_int(shift, -31, MAX_LEFT_SHIFT, "input_shift"),
              "exp_lut": exp, "reciprocal_lut": reciprocal})
    return 0


OPS = (
    OpSpec("SOFTMAX_INT16", tflite.BuiltinOperator.SOFTMAX, 262, check16, emit16, kernel="bench_kernel_softmax16",
           params="softmax16", sources=("softmax16.c",), overlap=elementwise,
           variant_of="SOFTMAX"),
)
