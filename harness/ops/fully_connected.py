"""FULLY_CONNECTED: int8 weights [out_depth, in_depth], per-tensor or per-channel, int32 bias. An INT16 input runs
as the variant FULLY_CONNECTED_16X8 (harness.ops.fully_connected_16x8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tflite

from harness.model.graph import Graph, Operator
from harness.model.quant import activation_range, conv_multipliers, fc_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation, activation_tensor, bias, fail, is_int16, symmetric, weights
from harness.ops.emit import Emitter, c_int, requant, wrap_int32
from harness.ops.fully_connected_16x8 import check_16x8

# a kernel variant's weight layout: [out_depth, in_depth] int8 -> (the array it reads, the rows it computes)
Arrange = Callable[[np.ndarray[Any, Any]], tuple[np.ndarray[Any, Any], int]]


def check(g: Graph, op: Operator) -> None:
    if is_int16(g, op):
        check_16x8(g, op)
        return
    x = activation_tensor(g, op, op.inputs[0], "input")
    w = weights(g, op, op.inputs[1], 2, 0)
    y = activation_tensor(g, op, op.outputs[0], "output")
    if w.quant is not None and w.quant.per_channel:
        symmetric(op, w, "per-channel weights need zero points of 0")
    if op.option("weights_format") != 0:
        raise fail(op, f"weights format {op.option('weights_format')} is not supported; DEFAULT (0) only")
    out_depth, in_depth = w.shape
    if x.elements % in_depth:
        raise fail(op, f"input of {x.elements} elements is not a multiple of the weights' depth {in_depth}")
    if y.elements != x.elements // in_depth * out_depth:
        raise fail(op, f"output has {y.elements} elements; expected {x.elements // in_depth * out_depth}")
    bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_depth)
    activation(op)


def emit(e: Emitter, op: Operator, p: str, arrange: Arrange | None = None) -> int:
    """The layer's parameters. ``arrange`` gives a kernel variant its own weight layout: the weights as it
    stores them, and the rows it computes (a padded count; ``bias_folded`` is padded with zeros to as many)."""
    x, y = e.tensors(op)
    w = e.g.tensors[op.inputs[1]]
    assert x.quant and w.quant and y.quant  # validated
    out_depth, in_depth = w.shape
    mult, shift, mults, shifts = 0, 0, "NULL", "NULL"
    if w.quant.per_channel:
        mults, shifts = e.requant(p, *conv_multipliers(x.quant.scale[0], w.quant, y.quant.scale[0], out_depth))
    else:
        mult, shift = requant("output", fc_multiplier(x.quant.scale[0], w.quant.scale[0], y.quant.scale[0]))
    act_min, act_max = activation_range(op.option("activation"), y.quant.scale[0], y.quant.zero_point[0])
    values = w.array()
    bias_values = e.bias_values(op, out_depth)
    bias_ptr, folded_ptr = "NULL", "NULL"
    if w.quant.zero_point[0] == 0:
        folded = [wrap_int32(b - x.quant.zero_point[0] * int(r))
                  for b, r in zip(bias_values, values.astype(np.int64).sum(axis=1))]
        folded += [0] * ((arrange(values)[1] if arrange is not None else out_depth) - out_depth)
        folded_ptr = e.weights(f"{p}_bias_folded", "int32_t", np.array(folded, dtype=np.int64))
    elif len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias_ptr = e.weights(f"{p}_bias", "int32_t", bias_values)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "weights": e.weights(f"{p}_weights", "int8_t", arrange(values)[0] if arrange is not None else values),
        "bias": bias_ptr, "bias_folded": folded_ptr,
        "batches": f"{x.elements // in_depth}u", "in_depth": f"{in_depth}u", "out_depth": f"{out_depth}u",
        "input_offset": c_int(-x.quant.zero_point[0]), "filter_offset": c_int(-w.quant.zero_point[0]),
        "output_offset": c_int(y.quant.zero_point[0]),
        "output_multiplier": c_int(mult), "output_shift": c_int(shift),
        "multiplier": mults, "shift": shifts,
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.struct("bench_fc_params_t", f"{p}_params", fields)
    return x.elements // in_depth * out_depth * in_depth


def overlap(g: Graph, op: Operator) -> dict[int, int]:
    """Batch b's outputs are written after its inputs are read: the output may start below the input by
    the most that a batch's output end runs ahead of its input start."""
    x = g.tensors[op.inputs[0]]
    out_depth, in_depth = g.tensors[op.inputs[1]].shape
    batches = x.elements // in_depth
    return {op.inputs[0]: max((b + 1) * out_depth - b * in_depth for b in range(batches))}


OPS = (
    OpSpec("FULLY_CONNECTED", tflite.BuiltinOperator.FULLY_CONNECTED, 0, check, emit,
          kernel="bench_kernel_fully_connected", params="fc", sources=("fully_connected.c",),
          options=("FullyConnectedOptions", (
              ("activation", "FusedActivationFunction", 0), ("weights_format", "WeightsFormat", 0),
              ("keep_num_dims", "KeepNumDims", False))),
          overlap=overlap, select=lambda g, op: "FULLY_CONNECTED_16X8" if is_int16(g, op) else "FULLY_CONNECTED"),
)
