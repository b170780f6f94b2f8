"""Inputs of the two-operand operators that may be constant (ADD, MUL, SUB, MINIMUM, MAXIMUM,
SQUARED_DIFFERENCE, PRELU): the check of such an input, and the ``OpSpec.select`` that picks the kernel
variant reading a constant from flash. A module of its own so that ``binary`` and ``arith`` share it
without importing each other."""

from __future__ import annotations

from collections.abc import Callable

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.ops.checks import activation_tensor, count, fail, tensor_label
from harness.ops.overlap import elementwise


def operand(g: Graph, op: Operator, index: int, role: str) -> Tensor:
    """An int8 per-tensor input that may also be constant (a constant goes to flash)."""
    if index < 0 or index >= len(g.tensors):
        raise fail(op, f"{role} tensor is missing")
    t = g.tensors[index]
    if not t.is_constant:
        return activation_tensor(g, op, index, role)
    what = f"{role} {tensor_label(t)} (constant)"
    if t.dtype is not Dtype.INT8:
        raise fail(op, f"{what} is {t.dtype.name}; only INT8 is supported")
    if t.quant is None or t.quant.per_channel:
        scales = 0 if t.quant is None else len(t.quant.scale)
        raise fail(op, f"{what} has {count(scales, 'scale')}; expected per-tensor quantization "
                       "(one scale and one zero point)")
    if not t.quant.scale[0] > 0:
        raise fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
    if not -128 <= t.quant.zero_point[0] <= 127:
        raise fail(op, f"{what} has zero point {t.quant.zero_point[0]}; expected -128..127 (INT8)")
    return t


def two_operands(g: Graph, op: Operator, first: str, second: str) -> tuple[Tensor, Tensor]:
    """The two inputs, at most one of them constant."""
    if len(op.inputs) != 2:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 2")
    a = operand(g, op, op.inputs[0], first)
    b = operand(g, op, op.inputs[1], second)
    if a.is_constant and b.is_constant:
        raise fail(op, "both inputs are constant; expected at most one (the converter folds constant operations)")
    return a, b


def constant_variant(variant: str) -> Callable[[Graph, Operator], str]:
    """An ``OpSpec.select``: ``variant`` when an input is constant, else the operator itself."""

    def select(g: Graph, op: Operator) -> str:
        return variant if any(t >= 0 and g.tensors[t].is_constant for t in op.inputs) else op.opcode

    return select


def elementwise_in_arena(g: Graph, op: Operator) -> dict[int, int]:
    """``overlap.elementwise`` for the inputs in the arena: a constant input is in flash, not planned."""
    return {t: gap for t, gap in elementwise(g, op).items() if not g.tensors[t].is_constant}
