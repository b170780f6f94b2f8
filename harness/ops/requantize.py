"""QUANTIZE, RELU and RELU6: an affine rescale and a clamp, element by element.

QUANTIZE is int8 to int8 inside the graph; at the graph's edges it also takes a FLOAT32 or UINT8 graph input
to int8 and gives int8 to a UINT8 graph output, each with a kernel of its own (``OpSpec.select`` picks the
variant by tensor type; ``firmware/kernels/portable/quantize_edges.c``). With int16 activations (16x8) it
converts int8, int16 and FLOAT32 to int16 and int16 to int8 (``harness.ops.int16_edges``).
"""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.model.quant import ACT_NONE, ACT_RELU, ACT_RELU6, activation_range, quantize_multiplier
from harness.ops.base import Emit, OpSpec
from harness.ops.checks import activation_tensor, count, fail, same_quant, tensor_label
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.int16_edges import quantize_int16_variant
from harness.ops.overlap import elementwise


def _edge_tensor(g: Graph, op: Operator, index: int, role: str, edge: tuple[int, ...]) -> Tensor:
    """A FLOAT32 or UINT8 QUANTIZE operand: a graph input or output, UINT8 quantized per tensor in 0..255."""
    t = g.tensors[index]
    what = f"{role} {tensor_label(t)}"
    if index not in edge:
        raise fail(op, f"{what} is {t.dtype.name}; QUANTIZE takes {t.dtype.name} only as the graph {role} "
                       "(inside the graph activations are INT8)")
    if t.dtype is Dtype.UINT8:
        if t.quant is None or t.quant.per_channel:
            scales = 0 if t.quant is None else len(t.quant.scale)
            raise fail(op, f"{what} has {count(scales, 'scale')}; expected per-tensor quantization")
        if not t.quant.scale[0] > 0:
            raise fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
        if not 0 <= t.quant.zero_point[0] <= 255:
            raise fail(op, f"{what} has zero point {t.quant.zero_point[0]}; expected 0..255 (UINT8)")
    return t


def check_quantize(g: Graph, op: Operator) -> None:
    """int8 to int8; FLOAT32 or UINT8 graph input to int8; int8 to a UINT8 graph output."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if x.dtype in (Dtype.FLOAT32, Dtype.UINT8) and not x.is_constant:
        _edge_tensor(g, op, x.index, "input", g.inputs)
    else:
        activation_tensor(g, op, op.inputs[0], "input", int16=True)
    if y.dtype is Dtype.UINT8 and x.dtype is Dtype.INT8:
        _edge_tensor(g, op, y.index, "output", g.outputs)
    else:
        activation_tensor(g, op, op.outputs[0], "output", int16=True)
    if x.dtype is Dtype.UINT8 and y.dtype is Dtype.INT16:
        raise fail(op, "QUANTIZE from UINT8 to INT16 is not supported (TFLite Micro quantizes UINT8 to INT8 only)")
    if x.shape != y.shape:
        raise fail(op, f"input {list(x.shape)} and output {list(y.shape)} differ in shape")


def select_quantize(g: Graph, op: Operator) -> str:
    """The QUANTIZE kernel for the operand types ``check_quantize`` accepted."""
    x, y = g.tensors[op.inputs[0]].dtype, g.tensors[op.outputs[0]].dtype
    if Dtype.INT16 in (x, y):
        return quantize_int16_variant(x, y)
    if x is Dtype.FLOAT32:
        return "QUANTIZE_FROM_FLOAT"
    if x is Dtype.UINT8:
        return "QUANTIZE_FROM_UINT8"
    if y is Dtype.UINT8:
        return "QUANTIZE_TO_UINT8"
    return "QUANTIZE"


def emit_from_float(e: Emitter, op: Operator, p: str) -> int:
    """float32 -> int8: the output's float32 scale (held exactly in DEQUANTIZE's double) and zero point."""
    x, y = e.tensors(op)
    assert y.quant  # validated
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "zero_point": c_int(y.quant.zero_point[0]), "scale": f"{float(np.float32(y.quant.scale[0])):.17g}"}
    e.struct("bench_dequantize_params_t", f"{p}_params", fields)
    return 0


def _uint8_emitter(unsigned_out: bool) -> Emit:
    """uint8 -> int8 or int8 -> uint8: the int8 requantize's fields, the clamp in the output's range."""

    def emit(e: Emitter, op: Operator, p: str) -> int:
        x, y = e.tensors(op)
        assert x.quant and y.quant  # validated
        mult, shift = requant("multiplier,shift", quantize_multiplier(float(x.quant.scale[0]) / float(y.quant.scale[0])))
        act_min, act_max = (0, 255) if unsigned_out else (-128, 127)
        fields = {
            "in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u", "rescale": "1",
            "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
            "multiplier": c_int(mult), "shift": c_int(shift), "act_min": c_int(act_min), "act_max": c_int(act_max),
        }
        e.struct("bench_requantize_params_t", f"{p}_params", fields)
        return 0

    return emit


def check_relu(g: Graph, op: Operator) -> None:
    activation_tensor(g, op, op.inputs[0], "input")
    activation_tensor(g, op, op.outputs[0], "output")


def check_relu6(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)


def _emitter(act: int, rescale: bool) -> Emit:
    """The emitter of an operator that clamps to fused activation ``act``; ``rescale`` false: clamp only."""

    def emit(e: Emitter, op: Operator, p: str) -> int:
        x, y = e.tensors(op)
        assert x.quant and y.quant  # validated
        mult, shift = requant("multiplier,shift", quantize_multiplier(float(x.quant.scale[0]) / float(y.quant.scale[0])))
        act_min, act_max = activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        fields = {
            "in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
            "rescale": "1" if rescale else "0",
            "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
            "multiplier": c_int(mult), "shift": c_int(shift), "act_min": c_int(act_min), "act_max": c_int(act_max),
        }
        e.struct("bench_requantize_params_t", f"{p}_params", fields)
        return 0

    return emit


OPS = (
    OpSpec("QUANTIZE", tflite.BuiltinOperator.QUANTIZE, 12, check_quantize, _emitter(ACT_NONE, rescale=True),
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise,
          select=select_quantize),
    OpSpec("QUANTIZE_FROM_FLOAT", tflite.BuiltinOperator.QUANTIZE, 140, check_quantize, emit_from_float,
          kernel="bench_kernel_quantize_from_float", params="dequantize", sources=("quantize_edges.c",),
          overlap=elementwise, variant_of="QUANTIZE"),
    OpSpec("QUANTIZE_FROM_UINT8", tflite.BuiltinOperator.QUANTIZE, 141, check_quantize, _uint8_emitter(False),
          kernel="bench_kernel_requantize_from_uint8", params="requantize", sources=("quantize_edges.c",),
          overlap=elementwise, variant_of="QUANTIZE"),
    OpSpec("QUANTIZE_TO_UINT8", tflite.BuiltinOperator.QUANTIZE, 142, check_quantize, _uint8_emitter(True),
          kernel="bench_kernel_requantize_to_uint8", params="requantize", sources=("quantize_edges.c",),
          overlap=elementwise, variant_of="QUANTIZE"),
    OpSpec("RELU", tflite.BuiltinOperator.RELU, 16, check_relu, _emitter(ACT_RELU, rescale=True),
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise),
    OpSpec("RELU6", tflite.BuiltinOperator.RELU6, 17, check_relu6, _emitter(ACT_RELU6, rescale=False),
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise),
)
