"""Weight layouts and tables of the SIMD kernel variants (DSP and MVE).

``block_interleave`` is the weight order of the kernels that compute a block of output rows (channels) at
once, a step of input values at a time (``fully_connected_dsp``/``_mve``, ``conv_dsp``/``_mve``).

``RecordsEmitter`` is the emitter the SIMD convolution variants (``conv_dsp``, ``conv_mve``, ``depthwise_mve``)
hand to the portable CONV_2D / DEPTHWISE_CONV_2D emitter, so that it writes the layer with their own tables:

- ``weights``: the weights in the kernel's order (the variant's ``weights`` layout);
- ``bias_folded``: the variant's per-channel records (its ``records``), built from the folded biases and the
  requantization the emitter computed (``requant`` comes first and is kept, not emitted);
- no plain ``bias`` (windows over the padding read the input's zero point, so the folded bias serves every
  pixel), no separate multiplier and shift tables (they are in the records);
- ``scratch_offset``: the arena offset of the layer's scratch, or 0 where the variant needs none for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import check_requant
from harness.ops.emit import Emitter

Array = np.ndarray[Any, Any]
Layout = Callable[[Array], Array]
Records = Callable[[list[int], list[int], list[int]], list[int]]
Scratch = Callable[[Graph, Operator], int]


def block_interleave(matrix: Array, rows: int, step: int) -> tuple[Array, int]:
    """``matrix`` ([output rows, depth] int8) in the order a kernel reads it when it computes ``rows`` rows at
    once, ``step`` values a time: per block of rows, per step, each row's ``step`` values. Rows are padded with
    zero rows to a multiple of ``rows``, the depth with zeros to a multiple of ``step``. Also the padded row
    count.

    >>> block_interleave(np.arange(12, dtype=np.int8).reshape(3, 4), 2, 2)[0].tolist()
    [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 0, 0, 10, 11, 0, 0]
    """
    out_rows, depth = matrix.shape
    padded_rows = -(-out_rows // rows) * rows
    padded_depth = -(-depth // step) * step
    padded = np.zeros((padded_rows, padded_depth), dtype=np.int8)
    padded[:out_rows, :depth] = matrix
    # [block, row, step, values] -> [block, step, row, values]
    blocks = padded.reshape(padded_rows // rows, rows, padded_depth // step, step).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocks).reshape(-1), padded_rows


class RecordsEmitter:
    """``e`` with a variant's tables for layer ``op`` (C name prefix ``p``); ``kernel`` names the variant in
    the message of a misuse."""

    def __init__(self, e: Emitter, op: Operator, p: str, *, kernel: str, weights: Layout, records: Records,
                 scratch: Scratch) -> None:
        self.e, self.op, self.p, self.kernel = e, op, p, kernel
        self.layout, self.records, self.scratch_bytes = weights, records, scratch
        self.g, self.parts = e.g, e.parts
        self.multipliers: list[int] = []
        self.shifts: list[int] = []

    def off(self, t: int) -> str:
        return self.e.off(t)

    def offset(self, t: int) -> int:
        return self.e.offset(t)

    def weights(self, name: str, ctype: str, values: Array) -> str:
        if name == f"{self.p}_weights":
            return self.e.weights(name, ctype, self.layout(values))
        if name == f"{self.p}_bias":
            return "NULL"
        if name == f"{self.p}_bias_folded":
            if len(self.multipliers) != len(values):  # the emitter passes requant() first, then the tables
                raise RuntimeError(f"{self.p}: bias_folded came before the requantization tables {self.kernel}'s "
                                   "records are built from")
            words = self.records([int(v) for v in values], self.multipliers, self.shifts)
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

    def bias_values(self, op: Operator, channels: int) -> Array:
        return self.e.bias_values(op, channels)

    def scratch(self, op: Operator) -> str:
        return self.e.scratch(op)

    def struct(self, ctype: str, name: str, fields: dict[str, str]) -> None:
        # the plan places no scratch of 0 bytes
        offset = self.e.scratch(self.op) if self.scratch_bytes(self.g, self.op) else "0u"
        self.e.struct(ctype, name, {**fields, "scratch_offset": offset})
