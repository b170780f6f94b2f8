"""PACK of int8 activations of one quantization and one shape along a new axis: CONCATENATION's kernel, with
each input contributing the bytes of its axes from ``axis`` on per outer step."""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter


def check(g: Graph, op: Operator) -> None:
    y = activation_tensor(g, op, op.outputs[0], "output")
    rank = len(y.shape)
    axis, n = op.option("axis"), op.option("values_count")
    if n != len(op.inputs):
        raise fail(op, f"values_count {n} but {len(op.inputs)} inputs; expected them equal")
    if not -rank <= axis < rank:
        raise fail(op, f"axis {axis} for an output of rank {rank}; expected {-rank}..{rank - 1}")
    axis %= rank
    x0 = activation_tensor(g, op, op.inputs[0], "input 0")
    expected = [*x0.shape[:axis], n, *x0.shape[axis:]]
    for k, index in enumerate(op.inputs):
        x = activation_tensor(g, op, index, f"input {k}")
        same_quant(op, x, y)
        if x.shape != x0.shape:
            raise fail(op, f"input {k} has shape {list(x.shape)}, input 0 {list(x0.shape)}; expected one shape")
    if list(y.shape) != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the packed {expected}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    y = e.g.tensors[op.outputs[0]]
    axis = op.option("axis") % len(y.shape)
    inputs = [e.g.tensors[i] for i in op.inputs]
    offsets = e.table(f"{p}_in_offsets", "uint32_t", [e.offset(t.index) for t in inputs])
    chunks = e.table(f"{p}_chunk_bytes", "uint32_t", [math.prod(t.shape[axis:]) for t in inputs])
    fields = {"out_offset": e.off(y.index), "n_inputs": f"{len(inputs)}u", "outer": f"{math.prod(y.shape[:axis])}u",
              "in_offsets": offsets, "chunk_bytes": chunks}
    e.struct("bench_concat_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("PACK", tflite.BuiltinOperator.PACK, 106, check, emit, kernel="bench_kernel_concatenation",
           params="concat", sources=("shape.c",),
           options=("PackOptions", (("values_count", "ValuesCount", 0), ("axis", "Axis", 0)))),
)
