"""Planner rules an ``OpSpec`` can name as its ``overlap``: how far below an input that dies at the operator
its output may start, because the kernel writes its output in order (see ``harness.firmware.planner``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.model.graph import Graph, Operator
from harness.ops.checks import window_padding


def _first_tap(origin: np.ndarray[Any, Any], dilation: int) -> np.ndarray[Any, Any]:
    return np.where(origin >= 0, 0, (-origin + dilation - 1) // dilation)


def window_gap(g: Graph, op: Operator, k_h: int, k_w: int, dh: int, dw: int) -> int:
    """Bytes the output must start below the input so that no pixel overwrites input still to be read."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    sh, sw = op.option("stride_h"), op.option("stride_w")
    pad_h, pad_w = window_padding(sh, dh, in_h, k_h, out_h), window_padding(sw, dw, in_w, k_w, out_w)
    oy, ox = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
    y0, x0 = oy * sh - pad_h, ox * sw - pad_w
    ky, kx = _first_tap(y0, dh), _first_tap(x0, dw)
    row, col = y0 + ky * dh, x0 + kx * dw
    valid = (ky < k_h) & (row < in_h) & (kx < k_w) & (col < in_w)
    first = np.where(valid, (row * in_w + col) * in_c, np.iinfo(np.int64).max).reshape(-1).astype(np.int64)
    lowest_needed = np.minimum.accumulate(first[::-1])[::-1]
    ends = (np.arange(first.size, dtype=np.int64) + 1) * out_c
    live = lowest_needed < np.iinfo(np.int64).max
    return int(max(0, (ends[live] - lowest_needed[live]).max())) if live.any() else 0


def elementwise(g: Graph, op: Operator) -> dict[int, int]:
    """Output element i is written after input element i is read: the first two inputs of the output's
    shape may share its bytes exactly (gap 0)."""
    y = g.tensors[op.outputs[0]]
    return {t: 0 for t in op.inputs[:2] if t >= 0 and g.tensors[t].shape == y.shape}
