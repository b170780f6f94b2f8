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

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import check_requant
from harness.ops.base import OpSpec
from harness.ops.conv import check_conv_2d, emit_conv_2d, overlap
from harness.ops.emit import Emitter

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
    out_c = values.shape[0]
    flat = values.reshape(out_c, -1)
    rows = -(-out_c // CHANNELS) * CHANNELS
    depth = -(-flat.shape[1] // STEP) * STEP
    padded = np.zeros((rows, depth), dtype=np.int8)
    padded[:out_c, :flat.shape[1]] = flat
    # [block, channel, step, 16] -> [block, step, channel, 16]
    blocks = padded.reshape(rows // CHANNELS, CHANNELS, depth // STEP, STEP).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocks).reshape(-1)


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


class _Arranged:
    """The emitter ``emit_conv_2d`` writes the layer through, with this kernel's tables: the weights in its
    order (``interleave``), under ``bias_folded`` the per-block records (``block_records``), and the arena
    offset of the layer's scratch as ``scratch_offset`` (0 for a ``direct`` layer, which has none); no plain
    ``bias`` (windows over the padding read the zero point, so the folded bias serves every pixel) and no
    separate requantization tables (they are in the records)."""

    def __init__(self, e: Emitter, op: Operator, p: str) -> None:
        self.e, self.op, self.p = e, op, p
        self.g, self.parts = e.g, e.parts
        self.multipliers: list[int] = []
        self.shifts: list[int] = []

    def off(self, t: int) -> str:
        return self.e.off(t)

    def offset(self, t: int) -> int:
        return self.e.offset(t)

    def weights(self, name: str, ctype: str, values: np.ndarray[Any, Any]) -> str:
        if name == f"{self.p}_weights":
            return self.e.weights(name, ctype, interleave(values))
        if name == f"{self.p}_bias":
            return "NULL"
        if name == f"{self.p}_bias_folded":
            if len(self.multipliers) != len(values):  # emit_conv_2d passes requant() first, then the tables
                raise RuntimeError(f"{self.p}: bias_folded came before the requantization tables conv_mve's "
                                   "records are built from")
            words = block_records([int(v) for v in values], self.multipliers, self.shifts)
            return self.e.weights(name, ctype, np.array(words, dtype=np.int64))
        return self.e.weights(name, ctype, values)

    def table(self, name: str, ctype: str, values: list[int]) -> str:
        return self.e.table(name, ctype, values)

    def requant(self, p: str, multipliers: list[int], shifts: list[int]) -> tuple[str, str]:
        for c, (m, s) in enumerate(zip(multipliers, shifts)):
            check_requant(f"output_multiplier[{c}]", m, f"output_shift[{c}]", s)
        self.multipliers, self.shifts = list(multipliers), list(shifts)
        return "NULL", "NULL"

    def tensors(self, op: Operator) -> tuple[Tensor, Tensor]:
        return self.e.tensors(op)

    def bias_values(self, op: Operator, channels: int) -> np.ndarray[Any, Any]:
        return self.e.bias_values(op, channels)

    def scratch(self, op: Operator) -> str:
        return self.e.scratch(op)

    def struct(self, ctype: str, name: str, fields: dict[str, str]) -> None:
        offset = self.e.scratch(self.op) if scratch(self.g, self.op) else "0u"  # the plan places no 0 bytes
        self.e.struct(ctype, name, {**fields, "scratch_offset": offset})


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_conv_2d(_Arranged(e, op, p), op, p)


OPS = (
    OpSpec("CONV_2D_MVE", tflite.BuiltinOperator.CONV_2D, 321, check_conv_2d, emit,
           kernel="bench_kernel_conv_2d_mve", params="conv", sources=("mve/conv_2d_mve.c",),
           overlap=overlap, variant_of="CONV_2D", speeds_up="CONV_2D", isa=frozenset({"dsp", "mve"}), scratch=scratch),
)
