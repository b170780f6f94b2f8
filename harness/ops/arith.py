"""SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE and PRELU: two int8 inputs, NumPy broadcasting up to rank 4;
and the variants of ADD and MUL for a constant operand.

Either input may be a constant tensor: its values go to flash (``Emitter.weights``) and the kernel reads
them there (``in1_data``/``in2_data`` of ``bench_arith_params_t``). The integer formulas are TFLite's int8
reference ones; the multipliers are computed here, once, in the precision TFLite computes them in.
"""

from __future__ import annotations

import math

import numpy as np
import tflite

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import activation_range, add_params, check_int, quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.binary import _broadcast_shape
from harness.ops.checks import activation, activation_tensor, fail, q_text, tensor_label
from harness.ops.emit import Emitter, c_int, c_list, rank4, requant
from harness.ops.operands import elementwise_in_arena as _overlap
from harness.ops.operands import two_operands

# SQUARED_DIFFERENCE: inputs are shifted left by this before rescaling (TFLite's int8 choice)
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


def _check_two(g: Graph, op: Operator, first: str, second: str) -> tuple[Tensor, Tensor, Tensor]:
    a, b = two_operands(g, op, first, second)
    y = activation_tensor(g, op, op.outputs[0], "output")
    shape = _broadcast_shape(op, a.shape, b.shape)
    if y.elements != math.prod(shape) or y.shape[-len(shape):] != shape[-len(y.shape):]:
        raise fail(op, f"output shape {list(y.shape)}; broadcasting the inputs gives {list(shape)}")
    return a, b, y


def check_sub(g: Graph, op: Operator) -> None:
    _check_two(g, op, "first input", "second input")
    activation(op)


def check_min_max(g: Graph, op: Operator) -> None:
    a, b, y = _check_two(g, op, "first input", "second input")
    for t in (a, b):
        if t.quant != y.quant:
            raise fail(op, f"{tensor_label(t)} has {q_text(t)} and the output {q_text(y)}; {op.opcode} compares "
                           "int8 values and needs one quantization for its inputs and output")


def check_squared_difference(g: Graph, op: Operator) -> None:
    _check_two(g, op, "first input", "second input")


def check_prelu(g: Graph, op: Operator) -> None:
    x, _, y = _check_two(g, op, "input", "alpha")
    if y.shape != x.shape:
        raise fail(op, f"output shape {list(y.shape)} differs from the input's {list(x.shape)}; "
                       "only an alpha that broadcasts to the input is supported")


def _emit(e: Emitter, op: Operator, p: str, q: dict[str, int], act: tuple[int, int] = (-128, 127)) -> int:
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated
    shape = rank4(y.shape)

    def strides(t: Tensor) -> list[int]:
        s4 = rank4(t.shape)
        contiguous = [s4[1] * s4[2] * s4[3], s4[2] * s4[3], s4[3], 1]
        return [0 if s4[i] == 1 and shape[i] != 1 else contiguous[i] for i in range(4)]

    def place(t: Tensor, k: int) -> tuple[str, str]:
        if t.is_constant:
            return "0u", e.weights(f"{p}_input{k}", "int8_t", t.array().astype(np.int64))
        return e.off(t.index), "0"

    in1_offset, in1_data = place(a, 1)
    in2_offset, in2_data = place(b, 2)
    fields = {
        "in1_offset": in1_offset, "in2_offset": in2_offset, "out_offset": e.off(y.index),
        "in1_data": in1_data, "in2_data": in2_data,
        "shape": c_list(shape), "stride1": c_list(strides(a)), "stride2": c_list(strides(b)),
        "input1_offset": c_int(-a.quant.zero_point[0]), "input2_offset": c_int(-b.quant.zero_point[0]),
        "output_offset": c_int(y.quant.zero_point[0]),
        **{k: c_int(v) for k, v in q.items()},
        "act_min": c_int(act[0]), "act_max": c_int(act[1]),
    }
    e.struct("bench_arith_params_t", f"{p}_params", fields)
    return 0


def _pairs(q: dict[str, int]) -> dict[str, int]:
    """``q`` with the multiplier and shift pairs range-checked."""
    for prefix in ("input1", "input2", "output"):
        if f"{prefix}_multiplier" in q:
            requant(prefix, (q[f"{prefix}_multiplier"], q[f"{prefix}_shift"]))
    return q


def emit_sub(e: Emitter, op: Operator, p: str) -> int:
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated
    q = add_params(a.quant.scale[0], b.quant.scale[0], y.quant.scale[0])
    check_int("left_shift", q["left_shift"], (0, 30), "the left shifts of an int32 the kernel takes")
    act = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    return _emit(e, op, p, _pairs(q), act)


def emit_min_max(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, {})


def emit_squared_difference(e: Emitter, op: Operator, p: str) -> int:
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated
    left_shift = SQUARED_DIFFERENCE_LEFT_SHIFT
    twice_max = 2.0 * max(float(a.quant.scale[0]), float(b.quant.scale[0]))
    m1, s1 = quantize_multiplier(float(a.quant.scale[0]) / twice_max)
    m2, s2 = quantize_multiplier(float(b.quant.scale[0]) / twice_max)
    mo, so = quantize_multiplier(twice_max * twice_max / ((1 << (2 * left_shift)) * float(y.quant.scale[0])))
    q = {"left_shift": left_shift, "input1_multiplier": m1, "input1_shift": s1,
         "input2_multiplier": m2, "input2_shift": s2, "output_multiplier": mo, "output_shift": so}
    return _emit(e, op, p, _pairs(q))


def emit_prelu(e: Emitter, op: Operator, p: str) -> int:
    x, alpha, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert x.quant and alpha.quant and y.quant  # validated
    # r = s_y (q_y - z_y): the identity for x >= 0, x * alpha below, both computed in double
    m1, s1 = quantize_multiplier(float(x.quant.scale[0]) / float(y.quant.scale[0]))
    m2, s2 = quantize_multiplier(float(x.quant.scale[0]) * float(alpha.quant.scale[0]) / float(y.quant.scale[0]))
    q = {"input1_multiplier": m1, "input1_shift": s1, "output_multiplier": m2, "output_shift": s2}
    return _emit(e, op, p, _pairs(q))


def emit_add_constant(e: Emitter, op: Operator, p: str) -> int:
    """ADD with a constant operand: ADD's formula (harness.ops.binary) on this module's parameters."""
    return emit_sub(e, op, p)  # the same multipliers; the kernel adds


def emit_mul_constant(e: Emitter, op: Operator, p: str) -> int:
    """MUL with a constant operand: MUL's formula (harness.ops.binary) on this module's parameters."""
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated
    q = dict(zip(("output_multiplier", "output_shift"), quantize_multiplier(
        float(a.quant.scale[0]) * float(b.quant.scale[0]) / float(y.quant.scale[0]))))
    act = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    return _emit(e, op, p, _pairs(q), act)


_ACTIVATION = (("activation", "FusedActivationFunction", 0),)
_SOURCES = ("arith.c",)

OPS = (
    OpSpec("SUB", tflite.BuiltinOperator.SUB, 120, check_sub, emit_sub, kernel="bench_kernel_sub", params="arith",
           sources=_SOURCES, options=("SubOptions", _ACTIVATION), overlap=_overlap),
    OpSpec("MINIMUM", tflite.BuiltinOperator.MINIMUM, 121, check_min_max, emit_min_max, kernel="bench_kernel_minimum",
           params="arith", sources=_SOURCES, overlap=_overlap),
    OpSpec("MAXIMUM", tflite.BuiltinOperator.MAXIMUM, 122, check_min_max, emit_min_max, kernel="bench_kernel_maximum",
           params="arith", sources=_SOURCES, overlap=_overlap),
    OpSpec("SQUARED_DIFFERENCE", tflite.BuiltinOperator.SQUARED_DIFFERENCE, 123, check_squared_difference,
           emit_squared_difference, kernel="bench_kernel_squared_difference", params="arith", sources=_SOURCES,
           overlap=_overlap),
    OpSpec("PRELU", tflite.BuiltinOperator.PRELU, 124, check_prelu, emit_prelu, kernel="bench_kernel_prelu",
           params="arith", sources=_SOURCES, overlap=_overlap),
    # variants (OpSpec.variant_of) that harness.ops.binary's ADD and MUL select for a constant operand
    OpSpec("ADD_CONSTANT_OPERAND", tflite.BuiltinOperator.ADD, 128, check_sub, emit_add_constant,
           kernel="bench_kernel_add_constant", params="arith", sources=_SOURCES, overlap=_overlap, variant_of="ADD"),
    OpSpec("MUL_CONSTANT_OPERAND", tflite.BuiltinOperator.MUL, 129, check_sub, emit_mul_constant,
           kernel="bench_kernel_mul_constant", params="arith", sources=_SOURCES, overlap=_overlap, variant_of="MUL"),
)
