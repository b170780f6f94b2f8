"""FULLY_CONNECTED on cores with MVE, Helium (``firmware/kernels/mve/fully_connected_mve.c``).

Four output rows share each 16-byte load of the input, and one VMLADAVA.S8 per row does 16
multiply-accumulates; a row's last, partial, step loads only the input bytes that exist (predicated). The
generator lays the weights out for that walk (``interleave``): per block of four rows and per step of 16
inputs, each row's 16 weights, so that the kernel reads them from one pointer; rows are padded with zeros to
a multiple of four and each row to a multiple of 16 weights. It takes the int8 layers with symmetric weights
(zero point 0, as TFLite emits them), whose input offset the generator folds into the bias, and requantizes
four rows at a time in vector lanes. It writes in the portable kernel's order, so the planner's overlap rule
is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tflite

from harness.model.graph import Operator
from harness.ops.base import OpSpec
from harness.ops.emit import Emitter
from harness.ops.fully_connected import check, overlap
from harness.ops.fully_connected import emit as emit_fc
from harness.ops.fully_connected_dsp import accepts
from harness.ops.simd_layout import block_interleave

ROWS, STEP = 4, 16  # rows per block, weights per row per step


def interleave(values: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], int]:
    """[out_depth, in_depth] weights in the kernel's order, and the padded row count.

    >>> w = np.arange(1, 3, dtype=np.int8).reshape(2, 1)
    >>> arranged, rows = interleave(w)
    >>> rows, len(arranged), arranged[[0, 1, 16, 17]].tolist()
    (4, 64, [1, 0, 2, 0])
    """
    return block_interleave(values, ROWS, STEP)


def emit(e: Emitter, op: Operator, p: str) -> int:
    return emit_fc(e, op, p, arrange=interleave)

OPS = (
    OpSpec("FULLY_CONNECTED_MVE", tflite.BuiltinOperator.FULLY_CONNECTED, 320, check, emit,
           kernel="bench_kernel_fully_connected_mve", params="fc", sources=("mve/fully_connected_mve.c",),
           overlap=overlap, variant_of="FULLY_CONNECTED", speeds_up="FULLY_CONNECTED", isa=frozenset({"dsp", "mve"}),
           accepts=accepts),
)
