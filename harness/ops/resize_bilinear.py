"""RESIZE_BILINEAR of an NHWC int8 activation to a constant size (``bench_kernel_resize_bilinear``, resize.c).

TFLite Micro's int8 kernel works in 10-bit fixed point: the scale is ``((1 << 10) * in + out / 2) / out``
(``(in - 1)`` over ``(out - 1)`` with align_corners), an output row y reads input rows y0 and y1 of the
source position ``y * scale`` (``+ scale / 2 - 512`` with half_pixel_centers), and the four products of the
int8 values with their 10-bit weights sum to a 20-bit fraction that is rounded half away from zero. The
generator computes each row's and column's (y0, y1, weight) once, here; the kernel only reads the tables.
"""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter
from harness.ops.strided import constant_int32

ONE = 1 << 10  # 1.0 in the kernel's 10-bit fixed point


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def interpolation(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool
                  ) -> list[tuple[int, int, int]]:
    """Per output index: the lower and upper input index, and the weight of the upper one in 1/1024 (it may
    lie outside 0..1024 at the edges with half_pixel_centers, as TFLite computes it)."""
    if align_corners and out_size > 1:
        scale = (ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (ONE * in_size + out_size // 2) // out_size
    result = []
    for i in range(out_size):
        pos = i * scale + scale // 2 - ONE // 2 if half_pixel_centers else i * scale
        lower = max(_c_div(pos, ONE), 0)
        upper = min(_c_div(pos + ONE - 1, ONE), in_size - 1)
        result.append((lower, upper, pos - ONE * lower))
    return result


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    if len(x.shape) != 4:
        raise fail(op, f"input shape {list(x.shape)}; expected NHWC (rank 4)")
    if op.option("align_corners") and op.option("half_pixel_centers"):
        raise fail(op, "align_corners and half_pixel_centers are both true; TFLite takes at most one of them")
    size = constant_int32(g, op, op.inputs[1], "size")
    if len(size) != 2 or min(size) < 1:
        raise fail(op, f"size {size}; expected 2 values (height, width), each >= 1")
    expected = [x.shape[0], size[0], size[1], x.shape[3]]
    if list(y.shape) != expected or y.elements == 0:
        raise fail(op, f"output shape {list(y.shape)} differs from {expected}, the input resized to {size}")
    if max(x.shape[1:3] + y.shape[1:3]) > 32767:
        raise fail(op, f"input {list(x.shape)} or output {list(y.shape)} has a side above 32767, the largest "
                       "the 10-bit fixed point of TFLite's kernel holds in int32")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    n, in_h, in_w, c = x.shape
    _, out_h, out_w, _ = y.shape
    corners, half = bool(op.option("align_corners")), bool(op.option("half_pixel_centers"))
    rows = interpolation(in_h, out_h, corners, half)
    cols = interpolation(in_w, out_w, corners, half)
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "batches": f"{n}u", "in_h": f"{in_h}u",
              "in_w": f"{in_w}u", "channels": f"{c}u", "out_h": f"{out_h}u", "out_w": f"{out_w}u",
              "rows": e.table(f"{p}_rows", "int32_t", [v for r in rows for v in r]),
              "cols": e.table(f"{p}_cols", "int32_t", [v for col in cols for v in col])}
    e.struct("bench_resize_bilinear_params_t", f"{p}_params", fields)
    return 4 * y.elements


OPS = (
    OpSpec("RESIZE_BILINEAR", tflite.BuiltinOperator.RESIZE_BILINEAR, 183, check, emit,
           kernel="bench_kernel_resize_bilinear", params="resize_bilinear", sources=("resize.c",),
           options=("ResizeBilinearOptions", (("align_corners", "AlignCorners", False),
                                              ("half_pixel_centers", "HalfPixelCenters", False)))),
)
