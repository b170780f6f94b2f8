"""RESIZE_NEAREST_NEIGHBOR of an NHWC int8 activation to a constant size (``bench_kernel_resize_nearest_neighbor``).

TFLite computes each output row's and column's source with float32 arithmetic
(``reference_ops::GetNearestNeighbor``); the generator does the same arithmetic in numpy float32, once, and the
kernel only reads the two tables.
"""

from __future__ import annotations

import math

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter
from harness.ops.strided import constant_int32


def nearest(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> list[int]:
    """The source index of each of ``out_size`` outputs, as TFLite's GetNearestNeighbor computes it in float32."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    result = []
    for i in range(out_size):
        v = (f32(i) + offset) * scale
        # TfLiteRound rounds half away from zero; v >= 0, and float32 + 0.5 is exact in float64
        src = math.floor(float(v) + 0.5) if align_corners else math.floor(float(v))
        src = min(src, in_size - 1)
        result.append(max(0, src) if half_pixel_centers else src)
    return result


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    if len(x.shape) != 4:
        raise fail(op, f"input shape {list(x.shape)}; expected NHWC (rank 4)")
    size = constant_int32(g, op, op.inputs[1], "size")
    if len(size) != 2 or min(size) < 1:
        raise fail(op, f"size {size}; expected 2 values (height, width), each >= 1")
    expected = [x.shape[0], size[0], size[1], x.shape[3]]
    if list(y.shape) != expected or y.elements == 0:
        raise fail(op, f"output shape {list(y.shape)} differs from {expected}, the input resized to {size}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    n, in_h, in_w, c = x.shape
    _, out_h, out_w, _ = y.shape
    corners, half = bool(op.option("align_corners")), bool(op.option("half_pixel_centers"))
    rows = e.table(f"{p}_rows", "uint32_t", nearest(in_h, out_h, corners, half))
    cols = e.table(f"{p}_cols", "uint32_t", nearest(in_w, out_w, corners, half))
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "batches": f"{n}u", "in_h": f"{in_h}u",
              "in_w": f"{in_w}u", "channels": f"{c}u", "out_h": f"{out_h}u", "out_w": f"{out_w}u",
              "rows": rows, "cols": cols}
    e.struct("bench_resize_nn_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("RESIZE_NEAREST_NEIGHBOR", tflite.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR, 107, check, emit,
           kernel="bench_kernel_resize_nearest_neighbor", params="resize_nn", sources=("layout.c",),
           options=("ResizeNearestNeighborOptions", (("align_corners", "AlignCorners", False),
                                                     ("half_pixel_centers", "HalfPixelCenters", False)))),
)
