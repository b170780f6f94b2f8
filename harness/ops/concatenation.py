"""CONCATENATION of int8 tensors of one quantization, along any axis, up to rank 4.

An input may be constant: then the variant ``CONCATENATION_CONSTANT_OPERANDS`` runs the layer, reading the
constants from flash (one array per layer), so a model without constant inputs keeps its firmware."""

from __future__ import annotations

import math

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant
from harness.ops.emit import Emitter
from harness.ops.operands import constant_variant, operand


def check(g: Graph, op: Operator) -> None:
    y = activation_tensor(g, op, op.outputs[0], "output")
    rank = len(y.shape)
    axis = op.option("axis")
    if not -rank <= axis < rank or rank > 4:
        raise fail(op, f"axis {axis} for rank {rank}; expected -{rank}..{rank - 1} and rank <= 4")
    axis %= rank
    total = 0
    for k, index in enumerate(op.inputs):
        x = operand(g, op, index, f"input {k}")
        same_quant(op, x, y)
        if len(x.shape) != rank or any(x.shape[i] != y.shape[i] for i in range(rank) if i != axis):
            raise fail(op, f"input {k} shape {list(x.shape)} does not match output {list(y.shape)} "
                           f"outside axis {axis}")
        total += x.shape[axis]
    if all(g.tensors[i].is_constant for i in op.inputs):
        raise fail(op, "every input is constant; expected at least one activation (the converter folds "
                       "constant operations)")
    if total != y.shape[axis]:
        raise fail(op, f"inputs add up to {total} along axis {axis}; the output has {y.shape[axis]}")
    if op.option("activation") != 0:
        raise fail(op, "a fused activation on CONCATENATION is not supported")


def emit(e: Emitter, op: Operator, p: str) -> int:
    y = e.g.tensors[op.outputs[0]]
    axis = op.option("axis") % len(y.shape)
    outer = math.prod(y.shape[:axis])
    inputs = [e.g.tensors[i] for i in op.inputs]
    offsets = e.table(f"{p}_in_offsets", "uint32_t", [e.offset(t.index) for t in inputs])
    chunks = e.table(f"{p}_chunk_bytes", "uint32_t", [math.prod(t.shape[axis:]) for t in inputs])
    fields = {"out_offset": e.off(y.index), "n_inputs": f"{len(inputs)}u", "outer": f"{outer}u",
              "in_offsets": offsets, "chunk_bytes": chunks}
    e.struct("bench_concat_params_t", f"{p}_params", fields)
    return 0


def emit_constant(e: Emitter, op: Operator, p: str) -> int:
    """CONCATENATION with constant inputs: their bytes go to one flash array, in input order."""
    y = e.g.tensors[op.outputs[0]]
    axis = op.option("axis") % len(y.shape)
    inputs = [e.g.tensors[i] for i in op.inputs]
    constants = [t.array().astype(np.int64).reshape(-1) for t in inputs if t.is_constant]
    offsets, at = [], 0
    for t in inputs:
        if t.is_constant:
            offsets.append(at)
            at += t.elements
        else:
            offsets.append(e.offset(t.index))
    fields = {"out_offset": e.off(y.index), "n_inputs": f"{len(inputs)}u",
              "outer": f"{math.prod(y.shape[:axis])}u",
              "in_offsets": e.table(f"{p}_in_offsets", "uint32_t", offsets),
              "chunk_bytes": e.table(f"{p}_chunk_bytes", "uint32_t", [math.prod(t.shape[axis:]) for t in inputs]),
              "in_flash": e.table(f"{p}_in_flash", "uint8_t", [int(t.is_constant) for t in inputs]),
              "consts": e.weights(f"{p}_consts", "int8_t", np.concatenate(constants))}
    e.struct("bench_concat_const_params_t", f"{p}_params", fields)
    return 0


_OPTIONS = ("ConcatenationOptions", (("axis", "Axis", 0), ("activation", "FusedActivationFunction", 0)))

OPS = (
    OpSpec("CONCATENATION", tflite.BuiltinOperator.CONCATENATION, 11, check, emit,
           kernel="bench_kernel_concatenation", params="concat", sources=("shape.c",), options=_OPTIONS,
           select=constant_variant("CONCATENATION_CONSTANT_OPERANDS")),
    OpSpec("CONCATENATION_CONSTANT_OPERANDS", tflite.BuiltinOperator.CONCATENATION, 182, check, emit_constant,
           kernel="bench_kernel_concatenation_constant", params="concat_const", sources=("reduce.c",),
           options=_OPTIONS, variant_of="CONCATENATION"),
)
