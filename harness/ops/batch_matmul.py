"""BATCH_MATMUL of int8 tensors (``bench_kernel_batch_matmul``, matmul.c): rank 2..5, adj_x and adj_y, batch
dims broadcast as NumPy does; either operand may be constant (it goes to flash), not both.

y[b, i, j] = clamp(MBQM(sum_k (lhs[b, i, k] - z_lhs)(rhs[b, k, j] - z_rhs), M, s) + z_y), with M, s from
s_lhs * s_rhs (in float32) / s_y (in double), as TFLite Micro's int8 kernel computes it. The generator turns
adj_x, adj_y and broadcasting into strides, so the kernel transposes nothing.
"""

from __future__ import annotations

import math

import numpy as np
import tflite

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import fc_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail
from harness.ops.emit import Emitter, c_int, c_list, requant
from harness.ops.operands import two_operands

BATCH_DIMS = 3  # TFLite Micro takes rank 2..5: up to three batch dims


def _padded(shape: tuple[int, ...]) -> list[int]:
    return [1] * (BATCH_DIMS + 2 - len(shape)) + list(shape)


def _sides(op: Operator, lhs: Tensor, rhs: Tensor) -> tuple[list[int], int, int, int]:
    """The output's batch dims, rows, cols and the depth summed over, after checking the shapes."""
    for t, role in ((lhs, "lhs"), (rhs, "rhs")):
        if not 2 <= len(t.shape) <= BATCH_DIMS + 2:
            raise fail(op, f"{role} has shape {list(t.shape)}; BATCH_MATMUL takes rank 2..{BATCH_DIMS + 2}")
    a, b = _padded(lhs.shape), _padded(rhs.shape)
    batch = []
    for i in range(BATCH_DIMS):
        if a[i] != b[i] and 1 not in (a[i], b[i]):
            raise fail(op, f"batch dims of lhs {list(lhs.shape)} and rhs {list(rhs.shape)} do not broadcast")
        batch.append(max(a[i], b[i]))
    rows, depth = (a[4], a[3]) if op.option("adj_x") else (a[3], a[4])
    depth_rhs, cols = (b[4], b[3]) if op.option("adj_y") else (b[3], b[4])
    if depth != depth_rhs:
        raise fail(op, f"lhs {list(lhs.shape)} (adj_x {bool(op.option('adj_x'))}) sums over {depth} and rhs "
                       f"{list(rhs.shape)} (adj_y {bool(op.option('adj_y'))}) over {depth_rhs}; expected them equal")
    return batch, rows, cols, depth


def check(g: Graph, op: Operator) -> None:
    lhs, rhs = two_operands(g, op, "lhs", "rhs")
    y = activation_tensor(g, op, op.outputs[0], "output")
    batch, rows, cols, _ = _sides(op, lhs, rhs)
    rank = max(len(lhs.shape), len(rhs.shape))
    expected = [*batch[BATCH_DIMS + 2 - rank:], rows, cols]
    if list(y.shape) != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from {expected}, computed from the inputs")
    if op.option("asymmetric_quantize_inputs"):
        raise fail(op, "asymmetric_quantize_inputs is true (a hybrid float kernel); only int8 inputs are supported")


def emit(e: Emitter, op: Operator, p: str) -> int:
    lhs, rhs, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert lhs.quant and rhs.quant and y.quant  # validated
    batch, rows, cols, depth = _sides(op, lhs, rhs)
    a, b = _padded(lhs.shape), _padded(rhs.shape)

    def batch_strides(s: list[int]) -> list[int]:
        contiguous = [math.prod(s[i + 1:]) for i in range(BATCH_DIMS)]
        return [0 if s[i] == 1 and batch[i] != 1 else contiguous[i] for i in range(BATCH_DIMS)]

    def place(t: Tensor, k: str) -> tuple[str, str]:
        if t.is_constant:
            return "0u", e.weights(f"{p}_{k}", "int8_t", t.array().astype(np.int64))
        return e.off(t.index), "0"

    lhs_offset, lhs_data = place(lhs, "lhs")
    rhs_offset, rhs_data = place(rhs, "rhs")
    mult, shift = requant("output", fc_multiplier(lhs.quant.scale[0], rhs.quant.scale[0], y.quant.scale[0]))
    fields = {
        "lhs_offset": lhs_offset, "rhs_offset": rhs_offset, "out_offset": e.off(y.index),
        "lhs_data": lhs_data, "rhs_data": rhs_data,
        "batch": c_list(batch), "lhs_batch_stride": c_list(batch_strides(a)),
        "rhs_batch_stride": c_list(batch_strides(b)),
        "rows": f"{rows}u", "cols": f"{cols}u", "depth": f"{depth}u",
        # element steps: lhs along a row i and along k; rhs along k and along a column j
        "lhs_row_step": f"{1 if op.option('adj_x') else depth}u", "lhs_depth_step": f"{rows if op.option('adj_x') else 1}u",
        "rhs_depth_step": f"{1 if op.option('adj_y') else cols}u", "rhs_col_step": f"{depth if op.option('adj_y') else 1}u",
        "lhs_zero_point": c_int(lhs.quant.zero_point[0]), "rhs_zero_point": c_int(rhs.quant.zero_point[0]),
        "output_zero_point": c_int(y.quant.zero_point[0]),
        "output_multiplier": c_int(mult), "output_shift": c_int(shift),
    }
    e.struct("bench_batch_matmul_params_t", f"{p}_params", fields)
    return math.prod(batch) * rows * cols * depth


OPS = (
    OpSpec("BATCH_MATMUL", tflite.BuiltinOperator.BATCH_MATMUL, 184, check, emit,
           kernel="bench_kernel_batch_matmul", params="batch_matmul", sources=("matmul.c",),
           options=("BatchMatMulOptions", (("adj_x", "AdjX", False), ("adj_y", "AdjY", False),
                                           ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", False)))),
)
