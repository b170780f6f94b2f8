"""Quantization arithmetic done once at compile time, as TFLite specifies it.

A real multiplier m is stored as a Q31 ``output_multiplier`` in [2^30, 2^31)
and an ``output_shift`` with m = output_multiplier * 2^(output_shift - 31).
Float32 where TFLite computes in float32, double where it computes in double:
the kernels must reproduce the host interpreter bit for bit.

The kernels take multipliers and shifts only in the ranges below (a shift of
32 or more is undefined in C); ``check_requant`` and ``check_int`` raise
``OutOfRange`` for anything else, and the generator, which knows the layer,
turns that into a ``ModelError``.
"""

from __future__ import annotations

import math

import numpy as np

from harness.model.graph import Quantization

ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5

# bench_multiply_by_quantized_multiplier (bench_fixedpoint.h): shift > 0 is a left shift of a uint32_t, at most
# 30 as in TFLite (x * (1 << shift) in int32); shift < 0 a rounding right shift, at most 31
SHIFT_RANGE = (-31, 30)
# softmax's input_left_shift: a left shift of a uint32_t, defined up to 31
LEFT_SHIFT_RANGE = (0, 31)
# a Q31 multiplier in [0.5, 1), as quantize_multiplier makes them; 0 stands for a real multiplier below 2^-32
Q31_MULTIPLIER_RANGE = (1 << 30, (1 << 31) - 1)
# a multiplier the kernels take without the normalization (MEAN's, divided by the window size): any int32 >= 0
ANY_MULTIPLIER_RANGE = (0, (1 << 31) - 1)


class OutOfRange(ValueError):
    """A value outside what its C type or kernel takes. The message names the value, the
    quantity and the accepted range; the generator adds the layer and raises ``ModelError``."""


def check_int(what: str, value: int, bounds: tuple[int, int], why: str = "") -> int:
    """``value``, if ``bounds[0] <= value <= bounds[1]``; else ``OutOfRange``.

    >>> check_int("output_shift", 3, SHIFT_RANGE)
    3
    >>> check_int("output_shift", 31, SHIFT_RANGE, "the kernels' shift range")
    Traceback (most recent call last):
    ...
    harness.model.quant.OutOfRange: output_shift 31 is outside [-31, 30], the kernels' shift range
    """
    lo, hi = bounds
    if not lo <= value <= hi:
        raise OutOfRange(f"{what} {value} is outside [{lo}, {hi}]" + (f", {why}" if why else ""))
    return value


def check_requant(multiplier_name: str, multiplier: int, shift_name: str, shift: int,
                  multiplier_range: tuple[int, int] = Q31_MULTIPLIER_RANGE,
                  shift_range: tuple[int, int] = SHIFT_RANGE) -> tuple[int, int]:
    """(multiplier, shift) when the kernels can take them: the multiplier in ``multiplier_range`` or 0,
    the shift in ``shift_range``. Raises ``OutOfRange`` naming the quantity, its value and the range."""
    if multiplier != 0:
        check_int(multiplier_name, multiplier, multiplier_range, "the Q31 multipliers the kernels take (or 0)")
    check_int(shift_name, shift, shift_range, "the shifts the kernels take (a shift of 32 or more is undefined in C)")
    return multiplier, shift


def round_half_away(x: float) -> int:
    """C's round(): halves go away from zero (Python's round() goes to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def quantize_multiplier(m: float) -> tuple[int, int]:
    """(output_multiplier, output_shift) for a real multiplier m >= 0.

    >>> quantize_multiplier(0.5)
    (1073741824, 0)
    >>> quantize_multiplier(0.75)
    (1610612736, 0)
    """
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def fc_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """Per-tensor FULLY_CONNECTED: the scale product is taken in float32, the ratio in double."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def conv_multipliers(input_scale: float, filter: Quantization, output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """Per-channel (or per-tensor, repeated) CONV_2D multipliers, computed in double."""
    multipliers, shifts = [], []
    for c in range(channels):
        filter_scale = filter.scale[c] if filter.per_channel else filter.scale[0]
        m, s = quantize_multiplier(float(input_scale) * float(filter_scale) / float(output_scale))
        multipliers.append(m)
        shifts.append(s)
    return multipliers, shifts


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """The int8 clamp [act_min, act_max] of a fused activation on the output quantization."""
    def q(f: float) -> int:
        return zero_point + round_half_away(float(np.float32(f) / np.float32(scale)))

    lo, hi = -128, 127
    if activation == ACT_RELU:
        return max(lo, q(0.0)), hi
    if activation == ACT_RELU6:
        return max(lo, q(0.0)), min(hi, q(6.0))
    if activation == ACT_RELU_N1_TO_1:
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) of int8 SOFTMAX."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(input_scale) * (1 << (31 - bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        multiplier, left_shift = 0, 0  # a multiplier below one: TFLite rejects it in Prepare
    radius = ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift)
    return multiplier, left_shift, -math.floor(radius)


def double_multiplier(numerator: float, denominator: float) -> tuple[int, int]:
    """``quantize_multiplier(numerator / denominator)`` with both scales widened to double."""
    return quantize_multiplier(float(numerator) / float(denominator))


def add_params(scale1: float, scale2: float, output_scale: float) -> dict[str, int]:
    """int8 ADD: both inputs rescaled to twice the larger input scale, with 20 bits of headroom."""
    left_shift = 20
    twice_max = 2.0 * max(float(scale1), float(scale2))
    m1, s1 = quantize_multiplier(float(scale1) / twice_max)
    m2, s2 = quantize_multiplier(float(scale2) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * float(output_scale)))
    return {"left_shift": left_shift, "input1_multiplier": m1, "input1_shift": s1,
            "input2_multiplier": m2, "input2_shift": s2, "output_multiplier": mo, "output_shift": so}


def sigmoid_params(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) of int8 LOGISTIC and TANH (Q4.27 input)."""
    integer_bits = 4
    real = float(input_scale) * float(1 << (31 - integer_bits))
    q, left_shift = math.frexp(real)
    multiplier = min(round_half_away(q * (1 << 31)), (1 << 31) - 1)
    radius = ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift) if left_shift >= 0 else \
        ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) * (1 << -left_shift)
    return multiplier, left_shift, math.floor(radius)


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """int8 MEAN: the input/output rescale with 1/count folded in, as an integer division of the Q31
    multiplier by ``count`` after a left shift of floor(log2(count)) (at most 32, and at most 31 + shift)."""
    multiplier, shift = double_multiplier(input_scale, output_scale)
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << extra) // count, shift - extra
