"""ARG_MAX and ARG_MIN of int8 activations along one constant axis, to INT32 indices (``bench_kernel_arg_max``,
``bench_kernel_arg_min``; firmware/kernels/portable/arg_min_max.c).

TFLite Micro's reference kernel: for each position outside the axis, the index of the greatest (smallest) value
along it, the first one on ties (a strict comparison). The output is the graph's output and feeds no other
operator: no supported operator reads INT32 activations, so the indices are what the model reports
(``support`` accepts an INT32 graph output from these operators only). TFLite Micro's kernel writes INT32
only (its Eval refuses an INT64 output, and an INT64 axis), so INT64 is refused here.
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, count, fail, tensor_label
from harness.ops.emit import Emitter


def _geometry(g: Graph, op: Operator) -> tuple[Tensor, Tensor, int]:
    """(input, output, axis >= 0), after the checks."""
    if len(op.inputs) != 2:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 2 (the input and the axis)")
    x = activation_tensor(g, op, op.inputs[0], "input")
    a = g.tensors[op.inputs[1]] if 0 <= op.inputs[1] < len(g.tensors) else None
    if a is None or not a.is_constant or a.dtype is not Dtype.INT32 or a.elements != 1:
        got = "no tensor" if a is None else (f"{tensor_label(a)}, {a.dtype.name}, {count(a.elements, 'value')}"
                                             f"{'' if a.is_constant else ', not constant'}")
        raise fail(op, f"axis must be a constant INT32 tensor of one value (TFLite Micro reads it as int32); "
                       f"got {got}")
    rank, axis = len(x.shape), int(a.array().reshape(-1)[0])
    if not -rank <= axis < rank:
        raise fail(op, f"axis {axis} for an input of rank {rank}; expected {-rank}..{rank - 1}")
    y = g.tensors[op.outputs[0]]
    return x, y, axis % rank


def check(g: Graph, op: Operator) -> None:
    x, y, axis = _geometry(g, op)
    if y.dtype is not Dtype.INT32:
        raise fail(op, f"output {tensor_label(y)} is {y.dtype.name}; only INT32 indices are supported (TFLite "
                       "Micro's kernel writes INT32 only; convert with output_type=tf.int32)")
    expected = [*x.shape[:axis], *x.shape[axis + 1:]]
    if list(y.shape) != expected or x.elements == 0:
        raise fail(op, f"output shape {list(y.shape)} differs from the input {list(x.shape)} without axis "
                       f"{axis}, {expected} (or the input is empty)")
    readers = [o.index for o in g.operators if y.index in o.inputs]
    if y.index not in g.outputs or readers:
        why = f"operators {readers} read it" if readers else "it is not a graph output"
        raise fail(op, f"output {tensor_label(y)} must be a graph output read by no operator (no supported "
                       f"operator takes INT32 activations); {why}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y, axis = _geometry(e.g, op)
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "outer": f"{math.prod(x.shape[:axis])}u",
              "axis_size": f"{x.shape[axis]}u", "inner": f"{math.prod(x.shape[axis + 1:])}u"}
    e.struct("bench_arg_min_max_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("ARG_MAX", tflite.BuiltinOperator.ARG_MAX, 230, check, emit, kernel="bench_kernel_arg_max",
           params="arg_min_max", sources=("arg_min_max.c",), int_output=True,
           options=("ArgMaxOptions", (("output_type", "OutputType", int(Dtype.INT32.value)),))),
    OpSpec("ARG_MIN", tflite.BuiltinOperator.ARG_MIN, 231, check, emit, kernel="bench_kernel_arg_min",
           params="arg_min_max", sources=("arg_min_max.c",), int_output=True,
           options=("ArgMinOptions", (("output_type", "OutputType", int(Dtype.INT32.value)),))),
)
