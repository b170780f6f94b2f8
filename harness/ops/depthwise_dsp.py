"""DEPTHWISE_CONV_2D on cores with the DSP extension (``firmware/kernels/dsp/depthwise_conv_2d_dsp.c``).

Depth multiplier 1, channels in groups of four: per tap one word of four input bytes, split into halfword
pairs by SXTB16 (channels 0,2 and 1,3), and SMLABB/SMLATT against weights the generator widened to int16
at compile time. Windows inside the input start from the folded bias (3x3 windows in one unrolled
straight line); windows cut by the padding walk their taps inside the input and add the input offset with
SADD16.

The generator lays out ``weights`` for that walk (``arrange``): per group of four channels and per tap,
two words (the int16 weights of channels 0,2, then of 1,3); then per channel four int32 words of
requantization, (lo, hi) of a 64-bit constant, the multiplier and a shift. With e = -output_shift >= 1,
TFLite's rounding (a doubling high multiply rounded half up, then a rounding right shift by e, halves away
from zero) is one product: the output is

    ((acc * m + 2^30 + 2^(30 + e) - [acc < 0] 2^31 + output_offset 2^(31 + e)) >> 32) >> (e - 1)

(a negative acc whose product rounds to 0 gives 0 either way, so the sign of acc stands for the sign of the
product). It takes int8 layers of depth multiplier 1, channels a multiple of four, and shifts in [-20, -1],
where that sum stays inside int64. It writes pixel by pixel in the portable kernel's order, so the
planner's overlap rule is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import conv_multipliers
from harness.ops.base import OpSpec
from harness.ops.checks import is_int16
from harness.ops.conv import check_depthwise_conv_2d, emit_depthwise_conv_2d, overlap
from harness.ops.emit import Emitter

GROUP = 4                   # channels per group
MIN_E, MAX_E = 1, 20        # the right shifts (-output_shift) the one-product rounding takes inside int64


def _requant(g: Graph, op: Operator) -> tuple[list[int], list[int]]:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    assert x.quant and w.quant and y.quant  # validated
    mults, shifts = conv_multipliers(x.quant.scale[0], w.quant, y.quant.scale[0], w.shape[3])
    return list(mults), list(shifts)


def accepts(g: Graph, op: Operator) -> bool:
    if is_int16(g, op) or op.option("depth_multiplier") != 1 or g.tensors[op.inputs[0]].shape[3] % GROUP:
        return False
    return all(MIN_E <= -s <= MAX_E for s in _requant(g, op)[1])


def widen(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """1HWC int8 weights as the kernel reads them: per group of four channels, per tap, the int16 pairs
    (channel 0, channel 2) and (channel 1, channel 3), each pair one little-endian word.

    >>> w = np.arange(8, dtype=np.int8).reshape(1, 1, 2, 4)   # two taps, channels 0..3 = 4t + c
    >>> widen(w).view("<i2").tolist()
    [0, 2, 1, 3, 4, 6, 5, 7]
    """
    _, k_h, k_w, channels = values.shape
    taps = values.reshape(k_h * k_w, channels // GROUP, GROUP).astype(np.int16)
    pairs = taps[:, :, [0, 2, 1, 3]].transpose(1, 0, 2)      # [group, tap, 4]
    return np.ascontiguousarray(pairs).astype("<i2").view(np.int8).reshape(-1)


def requant_words(multipliers: list[int], shifts: list[int], output_offset: int) -> np.ndarray[Any, Any]:
    """Per channel (lo, hi, multiplier, e - 1) of the one-product requantization (see the module docstring).

    >>> requant_words([1 << 30], [-1], 0).tolist()   # e = 1: 2^30 + 2^31
    [-1073741824, 0, 1073741824, 0]
    """
    words = []
    for m, s in zip(multipliers, shifts):
        e = -s
        c = (1 << 30) + (1 << (30 + e)) + (output_offset << (31 + e))
        lo, hi = c & 0xFFFFFFFF, c >> 32
        words += [lo - (1 << 32) if lo >= 1 << 31 else lo, hi, m, e - 1]
    return np.array(words, dtype="<i4")


def arrange(g: Graph, op: Operator) -> np.ndarray[Any, Any]:
    """The bytes of ``weights``: the widened weights, then the requantization words."""
    y = g.tensors[op.outputs[0]]
    assert y.quant  # validated
    mults, shifts = _requant(g, op)
    words = requant_words(mults, shifts, int(y.quant.zero_point[0]))
    return np.concatenate([widen(g.tensors[op.inputs[1]].array()), words.view(np.int8)])


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_depthwise_conv_2d(e, op, p, arrange=arrange)


OPS = (
    OpSpec("DEPTHWISE_CONV_2D_DSP", tflite.BuiltinOperator.DEPTHWISE_CONV_2D, 310, check_depthwise_conv_2d, emit,
           kernel="bench_kernel_depthwise_conv_2d_dsp", params="conv", sources=("dsp/depthwise_conv_2d_dsp.c",),
           overlap=overlap, variant_of="DEPTHWISE_CONV_2D", speeds_up="DEPTHWISE_CONV_2D", isa=frozenset({"dsp"}),
           accepts=accepts),
)
