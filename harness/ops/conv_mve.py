"""CONV_2D on cores with MVE, Helium (``firmware/kernels/mve/conv_2d_mve.c``): per output pixel, its window's
column against four output channels at a time, one VMLADAVA.S8 (16 multiply-accumulates) per channel and
16 values.

A 1x1 layer reads its column straight from the input pixel; any other layer first copies the window into
the layer's scratch (im2col, ``scratch``: one column of k_h * k_w * in_c bytes), filling the taps outside
the input with the input's zero point, so that the folded bias (bias + input_offset * the filter's sum) is
right everywhere. A column's last, partial, step of 16 loads only the values that exist (predicated).

The generator lays the weights out for that walk (``interleave``): per block of four output channels and per
step of 16 values, each channel's 16 weights, so that the kernel reads them from one pointer; channels are
padded with zeros to a multiple of four and the depth to a multiple of 16. ``bias_folded`` holds per block
the kernel's ``block_records``: the four folded biases, multipliers, left shifts and right shifts (as
negative numbers), each a vector the kernel loads at once. It takes every int8 layer (symmetric weights, as
``check_conv_2d`` ensures; INT16 layers run CONV_2D_16X8, which this does not speed up). Outputs are written
pixel by pixel, each after its window was read, which keeps the portable kernel's overlap rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.conv import check_conv_2d, emit_conv_2d, overlap
from harness.ops.emit import Emitter
from harness.ops.simd_layout import RecordsEmitter, block_interleave

CHANNELS, STEP = 4, 16  # output channels per block, values per channel per step


def direct(g: Graph, op: Operator) -> bool:
    """A 1x1 layer, whose column is its input pixel. The C kernel tests the same (``direct`` in
    conv_2d_mve.c)."""
    _, k_h, k_w, _ = g.tensors[op.inputs[1]].shape
    return k_h == 1 and k_w == 1


def scratch(g: Graph, op: Operator) -> int:
    """One column, k_h * k_w * in_c bytes, unless ``direct``."""
    _, k_h, k_w, in_c = g.tensors[op.inputs[1]].shape
    return 0 if direct(g, op) else k_h * k_w * in_c


def interleave(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """OHWI weights in the kernel's order.

    >>> w = np.arange(1, 3, dtype=np.int8).reshape(2, 1, 1, 1)
    >>> arranged = interleave(w)
    >>> len(arranged), arranged[[0, 1, 16, 17, 32]].tolist()
    (64, [1, 0, 2, 0, 0])
    """
    return block_interleave(values.reshape(values.shape[0], -1), CHANNELS, STEP)[0]


def block_records(folded: list[int], multipliers: list[int], shifts: list[int]) -> list[int]:
    """The kernel's per-block table (int32 words): per block of four output channels (padded with zero
    channels), the folded biases, the multipliers, max(shift, 0) and min(shift, 0).

    >>> block_records([7], [1 << 30], [-3])
    [7, 0, 0, 0, 1073741824, 0, 0, 0, 0, 0, 0, 0, -3, 0, 0, 0]
    """
    words: list[int] = []
    pad = -len(folded) % CHANNELS
    folded, multipliers, shifts = [*folded, *[0] * pad], [*multipliers, *[0] * pad], [*shifts, *[0] * pad]
    for c in range(0, len(folded), CHANNELS):
        block = slice(c, c + CHANNELS)
        words += [*folded[block], *multipliers[block], *(max(s, 0) for s in shifts[block]),
                  *(min(s, 0) for s in shifts[block])]
    return words


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_conv_2d(RecordsEmitter(e, op, p, kernel="conv_mve", weights=interleave, records=block_records,
                        scratch=scratch), op, p)


OPS = (
    OpSpec("CONV_2D_MVE", tflite.BuiltinOperator.CONV_2D, 321, check_conv_2d, emit,
           kernel="bench_kernel_conv_2d_mve", params="conv", sources=("mve/conv_2d_mve.c",),
           overlap=overlap, variant_of="CONV_2D", speeds_up="CONV_2D", isa=frozenset({"dsp", "mve"}), scratch=scratch),
)
