"""FULLY_CONNECTED on cores with the DSP extension (``firmware/kernels/dsp/fully_connected_dsp.c``).

Two multiply-accumulates per SMLAD, on weights and inputs split into halfword pairs by SXTB16; four output
rows share each input word. The generator lays the weights out for that walk (``interleave``): for each
block of four rows, the rows' first four weights, then their next four, and so on, so the kernel reads one
aligned 16-byte run per step; rows are padded with zeros to a multiple of four and each row to a multiple
of four weights. It takes the int8 layers with symmetric weights (zero point 0, as TFLite emits them),
whose input offset the generator folds into the bias. It writes in the portable kernel's order, so the
planner's overlap rule is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.emit import Emitter
from harness.ops.fully_connected import check, overlap
from harness.ops.fully_connected import emit as emit_fc
from harness.ops.simd_layout import block_interleave

ROWS, STEP = 4, 4  # rows per block, weights per row per step


def interleave(values: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], int]:
    """[out_depth, in_depth] weights in the kernel's order, and the padded row count.

    >>> w = np.arange(16, dtype=np.int8).reshape(2, 8)
    >>> arranged, rows = interleave(w)
    >>> rows, arranged[:12].tolist()
    (4, [0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0])
    """
    return block_interleave(values, ROWS, STEP)


def accepts(g: Graph, op: Operator) -> bool:
    w = g.tensors[op.inputs[1]]
    return w.quant is not None and all(z == 0 for z in w.quant.zero_point)


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_fc(e, op, p, arrange=interleave)


OPS = (
    OpSpec("FULLY_CONNECTED_DSP", tflite.BuiltinOperator.FULLY_CONNECTED, 300, check, emit,
           kernel="bench_kernel_fully_connected_dsp", params="fc", sources=("dsp/fully_connected_dsp.c",),
           overlap=overlap, variant_of="FULLY_CONNECTED", speeds_up="FULLY_CONNECTED", isa=frozenset({"dsp"}),
           accepts=accepts),
)
