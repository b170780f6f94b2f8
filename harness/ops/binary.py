"""ADD and MUL of two int8 activations, with NumPy broadcasting up to rank 4. With a constant operand they run
as the variants ADD_CONSTANT_OPERAND and MUL_CONSTANT_OPERAND (harness.ops.arith), which read it from flash;
with int16 inputs as ADD_INT16 and MUL_INT16 (harness.ops.binary_int16)."""

from __future__ import annotations

import math
from collections.abc import Callable

import tflite

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import activation_range, add_params, check_int, quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.binary_int16 import check_int16
from harness.ops.checks import activation, activation_tensor, fail, is_int16
from harness.ops.emit import Emitter, c_int, c_list, rank4, requant
from harness.ops.operands import constant_variant, elementwise_in_arena, two_operands


def _broadcast_shape(op: Operator, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) > 4 or len(b) > 4:
        raise fail(op, f"inputs of rank {len(a)} and {len(b)}; at most rank 4 is supported")
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            raise fail(op, f"input shapes {list(a)} and {list(b)} do not broadcast")
        out.append(max(da, db))
    return tuple(reversed(out))


def check(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check_int16(g, op)
        return
    a, b = two_operands(g, op, "first input", "second input")  # at most one constant
    y = activation_tensor(g, op, op.outputs[0], "output")
    shape = _broadcast_shape(op, a.shape, b.shape)
    if y.elements != math.prod(shape) or y.shape[-len(shape):] != shape[-len(y.shape):]:
        raise fail(op, f"output shape {list(y.shape)}; broadcasting the inputs gives {list(shape)}")
    activation(op)


def _emit(e: Emitter, op: Operator, p: str, *, add: bool) -> int:
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated
    shape = rank4(y.shape)

    def strides(t: Tensor) -> list[int]:
        s4 = rank4(t.shape)
        contiguous = [s4[1] * s4[2] * s4[3], s4[2] * s4[3], s4[3], 1]
        return [0 if s4[i] == 1 and shape[i] != 1 else contiguous[i] for i in range(4)]

    act_min, act_max = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    if add:
        q = add_params(a.quant.scale[0], b.quant.scale[0], y.quant.scale[0])
        check_int("left_shift", q["left_shift"], (0, 30), "the left shifts of an int32 the kernel takes")
        for prefix in ("input1", "input2", "output"):
            requant(prefix, (q[f"{prefix}_multiplier"], q[f"{prefix}_shift"]))
    else:
        mo, so = requant("output", quantize_multiplier(float(a.quant.scale[0]) * float(b.quant.scale[0])
                                                       / float(y.quant.scale[0])))
        q = {"left_shift": 0, "input1_multiplier": 0, "input1_shift": 0, "input2_multiplier": 0,
             "input2_shift": 0, "output_multiplier": mo, "output_shift": so}
    fields = {
        "in1_offset": e.off(a.index), "in2_offset": e.off(b.index), "out_offset": e.off(y.index),
        "shape": c_list(shape), "stride1": c_list(strides(a)), "stride2": c_list(strides(b)),
        "broadcast": "0" if a.shape == b.shape == y.shape else "1",
        "input1_offset": c_int(-a.quant.zero_point[0]), "input2_offset": c_int(-b.quant.zero_point[0]),
        "output_offset": c_int(y.quant.zero_point[0]),
        **{k: c_int(v) for k, v in q.items()},
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.struct("bench_binary_params_t", f"{p}_params", fields)
    return 0


def emit_add(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, add=True)


def emit_mul(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, add=False)


def _select(name: str) -> Callable[[Graph, Operator], str]:
    """``<name>_INT16`` for int16 inputs, ``<name>_CONSTANT_OPERAND`` with a constant input, else ``name``."""
    constant = constant_variant(f"{name}_CONSTANT_OPERAND")

    def select(g: Graph, op: Operator) -> str:
        return f"{name}_INT16" if is_int16(g, op) else constant(g, op)

    return select


OPS = (
    OpSpec("ADD", tflite.BuiltinOperator.ADD, 5, check, emit_add, kernel="bench_kernel_add", params="binary",
          sources=("binary.c",), options=("AddOptions", (("activation", "FusedActivationFunction", 0),)),
          overlap=elementwise_in_arena, select=_select("ADD")),
    OpSpec("MUL", tflite.BuiltinOperator.MUL, 6, check, emit_mul, kernel="bench_kernel_mul", params="binary",
          sources=("binary.c",), options=("MulOptions", (("activation", "FusedActivationFunction", 0),)),
          overlap=elementwise_in_arena, select=_select("MUL")),
)
