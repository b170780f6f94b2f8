"""TRANSPOSE_CONV of an NHWC int8 activation (``bench_kernel_transpose_conv``, matmul.c): symmetric int8
weights [out_c, k_h, k_w, in_c] per channel or per tensor, an optional int32 bias, SAME or VALID, any strides.

TFLite Micro scatters each input pixel times the filter into an int32 image of the output, adds the bias and
requantizes each channel: y = clamp(MBQM(sum (x - z_x) w + bias, M_c, s_c) + z_y). Its padding is that of a
convolution from the output's size back to the input's (``ComputePaddingHeightWidth`` on the output's height
and width), the lower half of the total. The kernel gathers instead of scattering: per output pixel it sums
the taps whose input position is whole, so it needs no int32 image; the int32 sum is the same modulo 2^32.
"""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.model.quant import conv_multipliers
from harness.ops.base import OpSpec
from harness.ops.checks import (
    PADDINGS,
    activation_tensor,
    conv_output_size,
    fail,
    symmetric,
    tensor_label,
    weights,
)
from harness.ops.emit import Emitter, c_int
from harness.ops.strided import constant_int32

# inputs: output_shape, weights, input, bias (optional)
SHAPE, WEIGHTS, INPUT, BIAS = range(4)


def padding(stride: int, out_size: int, kernel: int, mode: str) -> int:
    """Padding before the first output row (or column), as TFLite computes it for TRANSPOSE_CONV."""
    steps = conv_output_size(out_size, kernel, stride, 1, mode)
    return max(0, (steps - 1) * stride + kernel - out_size) // 2


def check(g: Graph, op: Operator) -> None:
    if len(op.inputs) not in (3, 4):
        raise fail(op, f"{len(op.inputs)} inputs; expected 3 or 4 (output shape, weights, input, bias)")
    x = activation_tensor(g, op, op.inputs[INPUT], "input")
    w = weights(g, op, op.inputs[WEIGHTS], 4, 0)
    y = activation_tensor(g, op, op.outputs[0], "output")
    symmetric(op, w, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    if len(x.shape) != 4:
        raise fail(op, f"input shape {list(x.shape)}; expected NHWC (rank 4)")
    shape = constant_int32(g, op, op.inputs[SHAPE], "output shape")
    if shape != list(y.shape):
        raise fail(op, f"output shape input {shape} differs from the output tensor's {list(y.shape)}")
    out_c, _, _, in_c = w.shape
    if in_c != x.shape[3] or out_c != y.shape[3] or x.shape[0] != y.shape[0]:
        raise fail(op, f"weights {list(w.shape)} (out_c, k_h, k_w, in_c) do not join input {list(x.shape)} to "
                       f"output {list(y.shape)}")
    if PADDINGS.get(op.option("padding")) is None:
        raise fail(op, f"padding {op.option('padding')} unknown; expected one of {sorted(PADDINGS.values())}")
    for key in ("stride_h", "stride_w"):
        if not 1 <= op.option(key) <= 65535:
            raise fail(op, f"{key} is {op.option(key)}; expected 1..65535")
    if op.option("activation") != 0:
        raise fail(op, f"fused activation {op.option('activation')}; only NONE (0) is supported on TRANSPOSE_CONV")
    if len(op.inputs) == 4 and op.inputs[BIAS] >= 0:
        b = g.tensors[op.inputs[BIAS]]
        if not b.is_constant or b.dtype is not Dtype.INT32 or b.elements != out_c:
            raise fail(op, f"bias must be a constant INT32 tensor of {out_c} elements; got {tensor_label(b)}, "
                           f"{b.dtype.name} {list(b.shape)}{'' if b.is_constant else ' (not constant)'}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, w = (e.g.tensors[op.inputs[i]] for i in (INPUT, WEIGHTS))
    y = e.g.tensors[op.outputs[0]]
    assert x.quant and w.quant and y.quant  # validated
    n, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    _, k_h, k_w, _ = w.shape
    mode = PADDINGS[op.option("padding")]
    sh, sw = op.option("stride_h"), op.option("stride_w")
    has_bias = len(op.inputs) == 4 and op.inputs[BIAS] >= 0
    bias = (e.g.tensors[op.inputs[BIAS]].array().astype(np.int64).reshape(-1) if has_bias
            else np.zeros(out_c, dtype=np.int64))
    mult_table, shift_table = e.requant(p, *conv_multipliers(x.quant.scale[0], w.quant, y.quant.scale[0], out_c))
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "weights": e.weights(f"{p}_weights", "int8_t", w.array().astype(np.int64)),
        "bias": e.weights(f"{p}_bias", "int32_t", bias),
        "multiplier": mult_table, "shift": shift_table,
        "batches": f"{n}u", "in_h": f"{in_h}u", "in_w": f"{in_w}u", "in_c": f"{in_c}u",
        "out_h": f"{out_h}u", "out_w": f"{out_w}u", "out_c": f"{out_c}u", "k_h": f"{k_h}u", "k_w": f"{k_w}u",
        "stride_h": f"{sh}u", "stride_w": f"{sw}u",
        "pad_h": f"{padding(sh, out_h, k_h, mode)}u", "pad_w": f"{padding(sw, out_w, k_w, mode)}u",
        "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
    }
    e.struct("bench_transpose_conv_params_t", f"{p}_params", fields)
    return n * in_h * in_w * in_c * k_h * k_w * out_c


OPS = (
    OpSpec("TRANSPOSE_CONV", tflite.BuiltinOperator.TRANSPOSE_CONV, 185, check, emit,
           kernel="bench_kernel_transpose_conv", params="transpose_conv", sources=("matmul.c",),
           options=("TransposeConvOptions", (("padding", "Padding", 0), ("stride_w", "StrideW", 1),
                                             ("stride_h", "StrideH", 1),
                                             ("activation", "FusedActivationFunction", 0)))),
)
