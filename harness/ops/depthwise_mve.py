"""DEPTHWISE_CONV_2D on cores with MVE, Helium (``firmware/kernels/mve/depthwise_conv_2d_mve.c``).

Depth multiplier 1, eight channels at a time: per tap one VLDRB.S16 of eight input bytes and one of eight
weights, then VMULLB and VMULLT for the int32 products of the even and the odd channels. Windows inside the
input are read in place; a window cut by the padding is first copied into the layer's scratch (``scratch``),
the input's zero point at the taps outside the input, so that the folded bias serves every pixel.

The generator lays the weights out for that walk (``arrange``): per group of eight channels and per tap, the
eight channels' weights. ``bias_folded`` holds per group the kernel's ``group_records``: for the even
channels (0, 2, 4, 6) and then the odd ones, the folded biases, the multipliers, max(shift, 0) and
min(shift, 0), each a vector the kernel loads at once. It takes int8 layers of depth multiplier 1 with
channels a multiple of eight. It writes pixel by pixel in the portable kernel's order, so the planner's
overlap rule is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import is_int16
from harness.ops.conv import check_depthwise_conv_2d, emit_depthwise_conv_2d, overlap
from harness.ops.emit import Emitter
from harness.ops.simd_layout import RecordsEmitter

GROUP = 8  # channels per group: two int32 vectors, the even and the odd channels


def accepts(g: Graph, op: Operator) -> bool:
    return (not is_int16(g, op) and op.option("depth_multiplier") == 1
            and g.tensors[op.inputs[0]].shape[3] % GROUP == 0)


def scratch(g: Graph, op: Operator) -> int:
    """One window, k_h * k_w * in_c bytes."""
    _, k_h, k_w, channels = g.tensors[op.inputs[1]].shape
    return k_h * k_w * channels


def arrange(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """1HWC weights in the kernel's order: per group of eight channels, per tap, the group's weights.

    >>> w = np.arange(32, dtype=np.int8).reshape(1, 1, 2, 16)   # two taps, 16 channels: 16 t + c
    >>> arrange(w)[[0, 7, 8, 16, 24]].tolist()
    [0, 7, 16, 8, 24]
    """
    _, k_h, k_w, channels = values.shape
    taps = values.reshape(k_h * k_w, channels // GROUP, GROUP).transpose(1, 0, 2)   # [group, tap, 8]
    return np.ascontiguousarray(taps).reshape(-1)


def group_records(folded: list[int], multipliers: list[int], shifts: list[int]) -> list[int]:
    """The kernel's per-group table (int32 words): per group of eight channels, for the even channels then the
    odd ones, the folded biases, then the multipliers, then max(shift, 0), then min(shift, 0).

    >>> group_records(list(range(8)), [5] * 8, [-1, 2] * 4)[:8] + group_records(list(range(8)), [5] * 8,
    ...                                                                         [-1, 2] * 4)[16:]
    [0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 2, 2, 2, 2, -1, -1, -1, -1, 0, 0, 0, 0]
    """
    words: list[int] = []
    for c in range(0, len(folded), GROUP):
        for table in (folded, multipliers, [max(s, 0) for s in shifts], [min(s, 0) for s in shifts]):
            words += table[c:c + GROUP:2] + table[c + 1:c + GROUP:2]
    return words


def emit(e: Emitter, op: Operator, p: str) -> int:
    layout = RecordsEmitter(e, op, p, kernel="depthwise_mve", weights=arrange, records=group_records, scratch=scratch)
    return emit_depthwise_conv_2d(layout, op, p)


OPS = (
    OpSpec("DEPTHWISE_CONV_2D_MVE", tflite.BuiltinOperator.DEPTHWISE_CONV_2D, 322, check_depthwise_conv_2d,
           emit, kernel="bench_kernel_depthwise_conv_2d_mve", params="conv",
           sources=("mve/depthwise_conv_2d_mve.c",), overlap=overlap, variant_of="DEPTHWISE_CONV_2D",
           speeds_up="DEPTHWISE_CONV_2D", isa=frozenset({"dsp", "mve"}), accepts=accepts, scratch=scratch),
)
