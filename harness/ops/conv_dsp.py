"""CONV_2D on cores with the DSP extension (``firmware/kernels/dsp/conv_2d_dsp.c``): a matrix multiply of
pixels by output channels, two pixels by two channels per inner step.

For each pair of output pixels the kernel widens the two pixels' receptive fields (their "columns", of
``depth = k_h * k_w * in_c`` int8 values) into halfword pairs in the layer's scratch, once; every pair of
output channels then reads them with SMLAD, two multiply-accumulates per instruction. A 1x1 convolution with
``in_c`` a multiple of four widens straight from the input (its column is the input pixel); any other layer
first copies each window into the scratch (im2col), filling the taps outside the input with the input's zero
point, so that one folded bias (bias + input_offset * the filter's sum) is right everywhere.

The generator lays the weights out for that walk (``interleave``): for each pair of output channels, the
channels' first four weights, then their next four, and so on (8 bytes per step of four); the channel count
is padded to even and the depth to a multiple of four with zeros. ``bias_folded`` carries per pair of channels
the folded biases and each channel's requantization precomputed for the kernel (``channel_records``); the
layer's scratch is at ``scratch_offset``. It takes every int8 layer (symmetric weights, as ``check_conv_2d``
ensures; INT16 layers run CONV_2D_16X8, which this does not speed up). Outputs are written pixel by pixel in
order, each after its window (and the next pixel's) was read, which keeps the portable kernel's overlap rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.conv import check_conv_2d, emit_conv_2d, overlap
from harness.ops.emit import Emitter, wrap_int32
from harness.ops.simd_layout import RecordsEmitter, block_interleave

CHANNELS, STEP = 2, 4  # output channels per block, weights per channel per step


def padded_depth(g: Graph, op: Operator) -> int:
    """A column's length, k_h * k_w * in_c, rounded up to a multiple of four."""
    _, k_h, k_w, in_c = g.tensors[op.inputs[1]].shape
    return -(-(k_h * k_w * in_c) // STEP) * STEP


def direct(g: Graph, op: Operator) -> bool:
    """A 1x1 layer (never padded) whose input pixels the kernel widens in place: in_c a multiple of four.
    The C kernel tests the same (``direct`` in conv_2d_dsp.c)."""
    _, k_h, k_w, in_c = g.tensors[op.inputs[1]].shape
    return k_h == 1 and k_w == 1 and in_c % STEP == 0


def interleave(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """OHWI weights in the kernel's order.

    >>> w = np.arange(12, dtype=np.int8).reshape(3, 1, 1, 4)
    >>> interleave(w).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0]
    >>> interleave(np.arange(10, dtype=np.int8).reshape(2, 1, 1, 5)).tolist()
    [0, 1, 2, 3, 5, 6, 7, 8, 4, 0, 0, 0, 9, 0, 0, 0]
    """
    return block_interleave(values.reshape(values.shape[0], -1), CHANNELS, STEP)[0]


def scratch(g: Graph, op: Operator) -> int:
    """Two widened columns (2 bytes a value), plus two int8 columns to copy windows into unless ``direct``."""
    depth = padded_depth(g, op)
    return 4 * depth if direct(g, op) else 6 * depth


def channel_records(folded: list[int], multipliers: list[int], shifts: list[int]) -> list[int]:
    """The kernel's per-channel table (int32 words), for each pair of output channels (padded to even):
    both folded biases, then per channel its requantization as the kernel applies it: the multiplier, the
    high and low words of the nudge 2^30 + 2^(30+r) for a right shift r = -shift >= 1, and r - 1; a shift
    >= 0 (rare; the kernel takes TFLite's two steps) has nudge 0 and -1 - shift in place of r - 1.

    >>> channel_records([7], [1 << 30], [-3])
    [7, 0, 1073741824, 2, 1073741824, 2, 0, 0, -1073741824, 0]
    """
    words: list[int] = []
    rows = -(-len(folded) // CHANNELS) * CHANNELS
    pad = rows - len(folded)
    folded, multipliers, shifts = [*folded, *[0] * pad], [*multipliers, *[0] * pad], [*shifts, *[-1] * pad]
    for c in range(0, rows, CHANNELS):
        words += folded[c:c + CHANNELS]
        for m, shift in zip(multipliers[c:c + CHANNELS], shifts[c:c + CHANNELS]):
            if shift < 0:
                nudge = (1 << 30) + (1 << (30 - shift))
                words += [m, nudge >> 32, wrap_int32(nudge & 0xFFFFFFFF), -shift - 1]
            else:
                words += [m, 0, 0, -1 - shift]
    return words


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_conv_2d(RecordsEmitter(e, op, p, kernel="conv_dsp", weights=interleave, records=channel_records,
                        scratch=scratch), op, p)


OPS = (
    OpSpec("CONV_2D_DSP", tflite.BuiltinOperator.CONV_2D, 301, check_conv_2d, emit,
           kernel="bench_kernel_conv_2d_dsp", params="conv", sources=("dsp/conv_2d_dsp.c",),
           overlap=overlap, variant_of="CONV_2D", speeds_up="CONV_2D", isa=frozenset({"dsp"}),
           scratch=scratch),
)
