"""AVERAGE_POOL_2D and MAX_POOL_2D: NHWC, batch 1, input and output share one quantization."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import activation_range
from harness.ops.base import OpSpec
from harness.ops.checks import (
    activation,
    activation_tensor,
    check_window,
    nhwc_batch1,
    same_quant,
    window_padding,
)
from harness.ops.emit import Emitter, c_int
from harness.ops.overlap import window_gap


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    nhwc_batch1(op, x, y)
    same_quant(op, x, y)
    check_window(g, op, x, y, op.option("filter_h"), op.option("filter_w"), x.shape[3], dilated=False)
    activation(op)


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert y.quant  # validated
    _, in_h, in_w, c = x.shape
    _, out_h, out_w, _ = y.shape
    fh, fw, sh, sw = (op.option(k) for k in ("filter_h", "filter_w", "stride_h", "stride_w"))
    act_min, act_max = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "in_h": str(in_h), "in_w": str(in_w), "channels": str(c), "out_h": str(out_h), "out_w": str(out_w),
        "filter_h": str(fh), "filter_w": str(fw), "stride_h": str(sh), "stride_w": str(sw),
        "pad_h": str(window_padding(sh, 1, in_h, fh, out_h)), "pad_w": str(window_padding(sw, 1, in_w, fw, out_w)),
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.struct("bench_pool_params_t", f"{p}_params", fields)
    return 0


def overlap(g: Graph, op: Operator) -> dict[int, int]:
    return {op.inputs[0]: window_gap(g, op, op.option("filter_h"), op.option("filter_w"), 1, 1)}


_OPTIONS = ("Pool2DOptions", (
    ("padding", "Padding", 0), ("stride_w", "StrideW", 1), ("stride_h", "StrideH", 1),
    ("filter_w", "FilterWidth", 1), ("filter_h", "FilterHeight", 1),
    ("activation", "FusedActivationFunction", 0)))

OPS = (
    OpSpec("AVERAGE_POOL_2D", tflite.BuiltinOperator.AVERAGE_POOL_2D, 3, check, emit,
          kernel="bench_kernel_average_pool_2d", params="pool", sources=("pool.c",), options=_OPTIONS,
          overlap=overlap),
    OpSpec("MAX_POOL_2D", tflite.BuiltinOperator.MAX_POOL_2D, 4, check, emit,
          kernel="bench_kernel_max_pool_2d", params="pool", sources=("pool.c",), options=_OPTIONS,
          overlap=overlap),
)
