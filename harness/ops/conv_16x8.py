"""CONV_2D and DEPTHWISE_CONV_2D 16x8: int16 activations (zero point 0), int8 symmetric weights per channel and an
int64 bias, as TensorFlow's converter emits them for 16x8 quantization. Kernel variants of the two operators
(``conv.check_*`` and their select hand an INT16 input here); the sums are int64 and the rescale TFLite's int64
MultiplyByQuantizedMultiplier (``firmware/kernels/portable/conv_16x8.c``). The planner's rule is the operators'
(``conv.overlap``), in bytes of 2 per element (``harness.firmware.planner``).
"""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.model.quant import OutOfRange, check_requant, conv_multipliers
from harness.ops.base import OpSpec
from harness.ops.checks import (
    PADDINGS,
    activation,
    activation_tensor,
    bias,
    check_window,
    fail,
    nhwc_batch1,
    symmetric,
    tensor_label,
    weights,
    window_padding,
)
from harness.ops.emit import Emitter, c_int
from harness.ops.fully_connected_16x8 import SHIFT64_RANGE, SUM64_LIMIT, activation_range16


def _int16_io(g: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    x = activation_tensor(g, op, op.inputs[0], "input", int16=True)
    y = activation_tensor(g, op, op.outputs[0], "output", int16=True)
    if y.dtype is not Dtype.INT16:
        raise fail(op, f"input is INT16 and output {tensor_label(y)} is {y.dtype.name}; 16x8 {op.opcode} gives INT16")
    nhwc_batch1(op, x, y)
    return x, y


def check_conv_2d_16x8(g: Graph, op: Operator) -> None:
    x, y = _int16_io(g, op)
    w = weights(g, op, op.inputs[1], 4, 0)
    symmetric(op, w, "16x8 weights need zero point 0")
    out_c, k_h, k_w, in_c = w.shape
    if in_c != x.shape[3]:
        raise fail(op, f"weights take {in_c} input channels, the input has {x.shape[3]} "
                       "(grouped convolution is not supported)")
    check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c, Dtype.INT64)
    activation(op)


def check_depthwise_conv_2d_16x8(g: Graph, op: Operator) -> None:
    x, y = _int16_io(g, op)
    w = weights(g, op, op.inputs[1], 4, 3)
    symmetric(op, w, "16x8 weights need zero point 0")
    _, k_h, k_w, out_c = w.shape
    dm = op.option("depth_multiplier")
    if w.shape[0] != 1 or out_c != x.shape[3] * dm:
        raise fail(op, f"weights {list(w.shape)} do not match input channels {x.shape[3]} x depth multiplier {dm}; "
                       "expected [1, k_h, k_w, in_c * depth_multiplier]")
    check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        raise fail(op, "16x8 DEPTHWISE_CONV_2D without a bias is not supported: TFLite Micro's int16 kernel reads "
                       "the bias unconditionally (give the layer a bias of zeros, use_bias=True in Keras)")
    bias(g, op, op.inputs[2], out_c, Dtype.INT64)
    activation(op)


def _emit(e: Emitter, op: Operator, p: str, *, depthwise: bool) -> int:
    x, y = e.tensors(op)
    w = e.g.tensors[op.inputs[1]]
    assert x.quant and w.quant and y.quant  # validated
    values = w.array()
    if depthwise:
        _, k_h, k_w, out_c = w.shape
        taps = k_h * k_w
    else:
        out_c, k_h, k_w, in_c = w.shape
        taps = k_h * k_w * in_c
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, _ = y.shape
    multipliers, shifts = conv_multipliers(x.quant.scale[0], w.quant, y.quant.scale[0], out_c)
    for c, (m, s) in enumerate(zip(multipliers, shifts)):
        check_requant(f"output_multiplier[{c}]", m, f"output_shift[{c}]", s, shift_range=SHIFT64_RANGE)
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    bias_values = e.bias_values(op, out_c)
    largest = int(np.abs(bias_values).max(initial=0)) + taps * 32768 * int(np.abs(values.astype(np.int64)).max(initial=0))
    if largest >= SUM64_LIMIT:
        raise OutOfRange(f"a sum of up to {largest} is outside (-2^47, 2^47), the sums the int64 rescale takes")
    act_min, act_max = activation_range16(op.option("activation"), y.quant.scale[0])
    sh, sw, dh, dw = (op.option(k) for k in ("stride_h", "stride_w", "dilation_h", "dilation_w"))
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "weights": e.weights(f"{p}_weights", "int8_t", values),
        "bias": e.weights(f"{p}_bias", "int64_t", bias_values) if has_bias else "NULL",
        "multiplier": e.weights(f"{p}_multiplier", "int32_t", np.array(multipliers, dtype=np.int64)),
        "shift": e.weights(f"{p}_shift", "int8_t", np.array(shifts, dtype=np.int64)),
        "in_h": str(in_h), "in_w": str(in_w), "in_c": str(in_c),
        "out_h": str(out_h), "out_w": str(out_w), "out_c": str(out_c),
        "k_h": str(k_h), "k_w": str(k_w), "stride_h": str(sh), "stride_w": str(sw),
        "dilation_h": str(dh), "dilation_w": str(dw),
        "pad_h": str(window_padding(sh, dh, in_h, k_h, out_h)), "pad_w": str(window_padding(sw, dw, in_w, k_w, out_w)),
        "depth_multiplier": str(op.option("depth_multiplier") if depthwise else 1),
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.parts.append(f"/* padding {PADDINGS[op.option('padding')]} */\n")
    e.struct("bench_conv16_params_t", f"{p}_params", fields)
    return out_h * out_w * out_c * taps


def emit_conv_2d_16x8(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, depthwise=False)


def emit_depthwise_conv_2d_16x8(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, depthwise=True)


def _check(g: Graph, op: Operator) -> None:
    from harness.ops import conv  # which imports this module: imported when first called

    (conv.check_conv_2d if op.opcode == "CONV_2D" else conv.check_depthwise_conv_2d)(g, op)


OPS = (
    OpSpec("CONV_2D_16X8", tflite.BuiltinOperator.CONV_2D, 210, _check, emit_conv_2d_16x8,
           kernel="bench_kernel_conv_2d_16x8", params="conv16", sources=("conv_16x8.c",), variant_of="CONV_2D"),
    OpSpec("DEPTHWISE_CONV_2D_16X8", tflite.BuiltinOperator.DEPTHWISE_CONV_2D, 211, _check,
           emit_depthwise_conv_2d_16x8, kernel="bench_kernel_depthwise_conv_2d_16x8", params="conv16",
           sources=("conv_16x8.c",), variant_of="DEPTHWISE_CONV_2D"),
)
