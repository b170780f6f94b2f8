"""GATHER of int8 activations along one axis, with constant INT32 indices (``bench_kernel_gather``).

Indices must be constant: a graph input is INT8 (``support``) and no supported operator makes INT32 or INT64
values, so there is nothing else they could be. Each index is checked here against the axis, as TFLite Micro
checks it in Eval, so the kernel never reads outside the input.
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, same_quant, tensor_label
from harness.ops.emit import Emitter


def _geometry(g: Graph, op: Operator) -> tuple[Tensor, Tensor, int, int]:
    """(input, indices, axis, batch_dims), normalized to be >= 0, after the checks."""
    x = activation_tensor(g, op, op.inputs[0], "input")
    idx = g.tensors[op.inputs[1]] if op.inputs[1] >= 0 else None
    if idx is None or not idx.is_constant or idx.dtype is not Dtype.INT32:
        got = "no tensor" if idx is None else f"{tensor_label(idx)}, {idx.dtype.name}" + (
            "" if idx.is_constant else ", not constant")
        raise fail(op, f"indices must be a constant INT32 tensor (TFLite Micro's GATHER takes INT32 positions "
                       f"only); got {got}")
    rank, idx_rank = len(x.shape), len(idx.shape)
    axis, batch_dims = op.option("axis"), op.option("batch_dims")
    if not -rank <= axis < rank:
        raise fail(op, f"axis {axis} for an input of rank {rank}; expected {-rank}..{rank - 1}")
    if not -idx_rank <= batch_dims <= idx_rank:
        raise fail(op, f"batch_dims {batch_dims} for indices of rank {idx_rank}; expected {-idx_rank}..{idx_rank}")
    axis %= rank
    batch_dims = batch_dims + idx_rank if batch_dims < 0 else batch_dims
    if batch_dims > axis or x.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise fail(op, f"batch_dims {batch_dims}: expected batch_dims <= axis {axis} and the input {list(x.shape)} "
                       f"and indices {list(idx.shape)} to agree on their first {batch_dims} axes")
    return x, idx, axis, batch_dims


def check(g: Graph, op: Operator) -> None:
    x, idx, axis, batch_dims = _geometry(g, op)
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    values = idx.array().reshape(-1)
    bad = [int(v) for v in values if not 0 <= v < x.shape[axis]]
    if bad:
        raise fail(op, f"index {bad[0]} is outside axis {axis} of size {x.shape[axis]}; expected 0.."
                       f"{x.shape[axis] - 1} (TFLite Micro refuses it too)")
    expected = [*x.shape[:axis], *idx.shape[batch_dims:], *x.shape[axis + 1:]]
    if list(y.shape) != expected or y.elements == 0:
        raise fail(op, f"output shape {list(y.shape)} differs from the gathered {expected} (or is empty)")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, idx, axis, batch_dims = _geometry(e.g, op)
    y = e.g.tensors[op.outputs[0]]
    batches = math.prod(x.shape[:batch_dims])
    coords = e.table(f"{p}_coords", "int32_t", [int(v) for v in idx.array().reshape(-1)])
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "batches": f"{batches}u",
              "outer": f"{math.prod(x.shape[batch_dims:axis])}u", "axis_size": f"{x.shape[axis]}u",
              "inner": f"{math.prod(x.shape[axis + 1:])}u", "n_coords": f"{math.prod(idx.shape[batch_dims:])}u",
              "coords": coords}
    e.struct("bench_gather_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("GATHER", tflite.BuiltinOperator.GATHER, 105, check, emit, kernel="bench_kernel_gather", params="gather",
           sources=("layout.c",), options=("GatherOptions", (("axis", "Axis", 0), ("batch_dims", "BatchDims", 0)))),
)
