"""QUANTIZE (int8 to int8), RELU and RELU6: an affine rescale and a clamp, element by element."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import ACT_NONE, ACT_RELU, ACT_RELU6, activation_range, quantize_multiplier
from harness.ops.base import Emit, OpSpec
from harness.ops.checks import activation_tensor, same_quant
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise


def check_quantize(g: Graph, op: Operator) -> None:
    activation_tensor(g, op, op.inputs[0], "input")
    activation_tensor(g, op, op.outputs[0], "output")


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
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise),
    OpSpec("RELU", tflite.BuiltinOperator.RELU, 16, check_relu, _emitter(ACT_RELU, rescale=True),
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise),
    OpSpec("RELU6", tflite.BuiltinOperator.RELU6, 17, check_relu6, _emitter(ACT_RELU6, rescale=False),
          kernel="bench_kernel_requantize", params="requantize", sources=("elementwise.c",), overlap=elementwise),
)
