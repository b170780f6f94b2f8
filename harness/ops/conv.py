"""CONV_2D (weights OHWI) and DEPTHWISE_CONV_2D (weights 1HWO): NHWC, batch 1, symmetric int8 weights
per channel, int32 bias. INT16 inputs run as the 16x8 variants (harness.ops.conv_16x8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import activation_range, conv_multipliers
from harness.ops.base import OpSpec
from harness.ops.checks import (
    PADDINGS,
    activation,
    activation_tensor,
    bias,
    check_window,
    fail,
    is_int16,
    nhwc_batch1,
    symmetric,
    weights,
    window_padding,
)
from harness.ops.conv_16x8 import check_conv_2d_16x8, check_depthwise_conv_2d_16x8
from harness.ops.emit import Emitter, c_int, wrap_int32
from harness.ops.overlap import window_gap


def check_conv_2d(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check_conv_2d_16x8(g, op)
        return
    x = activation_tensor(g, op, op.inputs[0], "input")
    w = weights(g, op, op.inputs[1], 4, 0)
    y = activation_tensor(g, op, op.outputs[0], "output")
    nhwc_batch1(op, x, y)
    symmetric(op, w, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    out_c, k_h, k_w, in_c = w.shape
    if in_c != x.shape[3]:
        raise fail(op, f"weights take {in_c} input channels, the input has {x.shape[3]} "
                       "(grouped convolution is not supported)")
    check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
    activation(op)


def check_depthwise_conv_2d(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check_depthwise_conv_2d_16x8(g, op)
        return
    x = activation_tensor(g, op, op.inputs[0], "input")
    w = weights(g, op, op.inputs[1], 4, 3)
    y = activation_tensor(g, op, op.outputs[0], "output")
    nhwc_batch1(op, x, y)
    symmetric(op, w, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    _, k_h, k_w, out_c = w.shape
    dm = op.option("depth_multiplier")
    if w.shape[0] != 1 or out_c != x.shape[3] * dm:
        raise fail(op, f"weights {list(w.shape)} do not match input channels {x.shape[3]} x depth multiplier {dm}; "
                       "expected [1, k_h, k_w, in_c * depth_multiplier]")
    check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
    activation(op)


def emit_conv_2d(e: Emitter, op: Operator, p: str) -> int:
    w = e.g.tensors[op.inputs[1]]
    out_c, k_h, k_w, _ = w.shape
    sums = w.array().astype(np.int64).sum(axis=(1, 2, 3))
    return _conv(e, op, p, k_h, k_w, out_c, sums, 1, depthwise=False)


# a kernel variant's weight layout: the int8 bytes it reads as ``weights``, made from the layer (which the
# variant's ``accepts`` took)
Arrange = Callable[[Graph, Operator], np.ndarray[Any, Any]]


def emit_depthwise_conv_2d(e: Emitter, op: Operator, p: str, arrange: Arrange | None = None) -> int:
    w = e.g.tensors[op.inputs[1]]
    _, k_h, k_w, out_c = w.shape
    sums = w.array().astype(np.int64).sum(axis=(0, 1, 2))
    return _conv(e, op, p, k_h, k_w, out_c, sums, op.option("depth_multiplier"), depthwise=True,
                 arranged=arrange(e.g, op) if arrange is not None else None)


def _conv(e: Emitter, op: Operator, p: str, k_h: int, k_w: int, out_c: int, sums: np.ndarray[Any, Any],
          depth_multiplier: int, *, depthwise: bool, arranged: np.ndarray[Any, Any] | None = None) -> int:
    x, y = e.tensors(op)
    w = e.g.tensors[op.inputs[1]]
    assert x.quant and w.quant and y.quant  # validated
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, _ = y.shape
    mult_table, shift_table = e.requant(p, *conv_multipliers(x.quant.scale[0], w.quant, y.quant.scale[0], out_c))
    act_min, act_max = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    sh, sw, dh, dw = (op.option(k) for k in ("stride_h", "stride_w", "dilation_h", "dilation_w"))
    bias_values = e.bias_values(op, out_c)
    folded = np.array([wrap_int32(b - x.quant.zero_point[0] * int(s)) for b, s in zip(bias_values, sums)],
                      dtype=np.int64)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "weights": e.weights(f"{p}_weights", "int8_t", w.array() if arranged is None else arranged),
        "bias": e.weights(f"{p}_bias", "int32_t", bias_values),
        "bias_folded": e.weights(f"{p}_bias_folded", "int32_t", folded),
        "multiplier": mult_table, "shift": shift_table,
        "in_h": str(in_h), "in_w": str(in_w), "in_c": str(in_c),
        "out_h": str(out_h), "out_w": str(out_w), "out_c": str(out_c),
        "k_h": str(k_h), "k_w": str(k_w), "stride_h": str(sh), "stride_w": str(sw),
        "dilation_h": str(dh), "dilation_w": str(dw),
        "pad_h": str(window_padding(sh, dh, in_h, k_h, out_h)), "pad_w": str(window_padding(sw, dw, in_w, k_w, out_w)),
        "depth_multiplier": str(depth_multiplier),
        "input_offset": c_int(-x.quant.zero_point[0]), "output_offset": c_int(y.quant.zero_point[0]),
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.parts.append(f"/* padding {PADDINGS[op.option('padding')]} */\n")
    e.struct("bench_conv_params_t", f"{p}_params", fields)
    taps = k_h * k_w * (1 if depthwise else in_c)
    return out_h * out_w * out_c * taps


def overlap(g: Graph, op: Operator) -> dict[int, int]:
    w = g.tensors[op.inputs[1]]
    gap = window_gap(g, op, w.shape[1], w.shape[2], op.option("dilation_h"), op.option("dilation_w"))
    return {op.inputs[0]: gap}


def _select(g: Graph, op: Operator) -> str:
    return f"{op.opcode}_16X8" if is_int16(g, op) else op.opcode


_WINDOW = (("padding", "Padding", 0), ("stride_w", "StrideW", 1), ("stride_h", "StrideH", 1))
_DILATION = (("dilation_w", "DilationWFactor", 1), ("dilation_h", "DilationHFactor", 1))
_ACTIVATION = (("activation", "FusedActivationFunction", 0),)

OPS = (
    OpSpec("CONV_2D", tflite.BuiltinOperator.CONV_2D, 1, check_conv_2d, emit_conv_2d,
          kernel="bench_kernel_conv_2d", params="conv", sources=("conv_2d.c",),
          options=("Conv2DOptions", (*_WINDOW, *_ACTIVATION, *_DILATION)), overlap=overlap, select=_select),
    OpSpec("DEPTHWISE_CONV_2D", tflite.BuiltinOperator.DEPTHWISE_CONV_2D, 2, check_depthwise_conv_2d,
          emit_depthwise_conv_2d, kernel="bench_kernel_depthwise_conv_2d", params="conv",
          sources=("depthwise_conv_2d.c",),
          options=("DepthwiseConv2DOptions", (*_WINDOW, ("depth_multiplier", "DepthMultiplier", 1), *_ACTIVATION,
                                              *_DILATION)),
          overlap=overlap, select=_select),
)
