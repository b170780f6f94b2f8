"""MEAN: over the two spatial axes of an NHWC tensor here (``bench_kernel_mean``), over any other axes by the
variant ``MEAN_ANY_AXES`` of ``harness.ops.reduce`` (chosen per layer, so the firmware of a model whose MEANs
are spatial does not change)."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import ANY_MULTIPLIER_RANGE, mean_multiplier
from harness.ops.base import OpSpec
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.reduce import is_spatial, reduced_axes


def check(g: Graph, op: Operator) -> None:
    reduced_axes(g, op)


def select(g: Graph, op: Operator) -> str:
    """``MEAN`` for axes [1, 2] of a rank-4 input, else ``MEAN_ANY_AXES``."""
    return "MEAN" if is_spatial(g, op) else "MEAN_ANY_AXES"


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert x.quant and y.quant  # validated
    b, h, w, c = x.shape
    mult, shift = requant("multiplier,shift", mean_multiplier(x.quant.scale[0], y.quant.scale[0], h * w),
                          multiplier_range=ANY_MULTIPLIER_RANGE)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "batches": f"{b}u", "h": f"{h}u", "w": f"{w}u", "channels": f"{c}u",
        "multiplier": c_int(mult), "shift": c_int(shift),
        "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
    }
    e.struct("bench_mean_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("MEAN", tflite.BuiltinOperator.MEAN, 9, check, emit, kernel="bench_kernel_mean", params="mean",
          sources=("shape.c",), options=("ReducerOptions", (("keep_dims", "KeepDims", False),)), select=select),
)
