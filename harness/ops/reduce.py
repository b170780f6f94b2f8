"""SUM, and MEAN over axes other than the two spatial ones of an NHWC tensor (``MEAN_ANY_AXES``, the variant
``harness.ops.mean``'s MEAN selects): int8 over any distinct axes of a rank 1..5 input, keep_dims either way.

The integer formula is TFLite Micro's: y = clamp(MBQM(sum(x - z_x), M, s) + z_y), with M, s the input/output
rescale (for MEAN with 1/count folded in, ``quant.mean_multiplier``). The generator orders the input's dims as
the kept ones then the summed ones, so the kernel (``bench_kernel_reduce_sum``, reduce.c) walks two odometers
and needs no scratch.
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import ANY_MULTIPLIER_RANGE, double_multiplier, mean_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, count, fail
from harness.ops.emit import Emitter, c_int, c_list, requant
from harness.ops.strided import constant_int32

MAX_RANK = 5  # TFLite Micro's reduce kernels index at most 5 dims (kMaxNumberOfAxis)


def reduced_axes(g: Graph, op: Operator) -> tuple[Tensor, Tensor, list[int]]:
    """The input, the output and the sorted distinct axes summed over, after checking them (MEAN and SUM)."""
    if len(op.inputs) != 2:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 2 (the input and the axes)")
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    rank = len(x.shape)
    if not 1 <= rank <= MAX_RANK:
        raise fail(op, f"input has rank {rank}; {op.opcode} takes rank 1..{MAX_RANK}")
    given = constant_int32(g, op, op.inputs[1], "axis")
    bad = [a for a in given if not -rank <= a < rank]
    if bad:
        raise fail(op, f"axis {bad[0]} for an input of rank {rank}; expected -{rank}..{rank - 1}")
    axes = sorted({a % rank for a in given})
    kept = [d for i, d in enumerate(x.shape) if i not in axes]
    if y.elements != math.prod(kept) or y.elements == 0:
        raise fail(op, f"output shape {list(y.shape)}; reducing {list(x.shape)} over axes {axes} leaves "
                       f"{math.prod(kept)} elements")
    return x, y, axes


def check_sum(g: Graph, op: Operator) -> None:
    reduced_axes(g, op)


def is_spatial(g: Graph, op: Operator) -> bool:
    """MEAN over axes 1 and 2 of a rank-4 input: the case ``bench_kernel_mean`` runs."""
    x = g.tensors[op.inputs[0]]
    axes = {a % 4 for a in g.tensors[op.inputs[1]].array().reshape(-1).tolist()} if len(x.shape) == 4 else set()
    return axes == {1, 2}


def _emit(e: Emitter, op: Operator, p: str, mean: bool) -> int:
    x, y = e.tensors(op)
    assert x.quant and y.quant  # validated
    _, _, axes = reduced_axes(e.g, op)
    shape = list(x.shape)
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    kept = [i for i in range(len(shape)) if i not in axes]
    order = [(1, 0)] * (MAX_RANK - len(shape)) + [(shape[i], strides[i]) for i in kept + axes]
    n = math.prod(shape[i] for i in axes)
    if mean:
        pair = mean_multiplier(x.quant.scale[0], y.quant.scale[0], n)
    else:
        pair = double_multiplier(x.quant.scale[0], y.quant.scale[0])
    mult, shift = requant("multiplier,shift", pair, multiplier_range=ANY_MULTIPLIER_RANGE)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "count": c_list(c for c, _ in order), "stride": c_list(s for _, s in order),
        "kept": f"{MAX_RANK - len(axes)}u", "outputs": f"{y.elements}u", "reduced": f"{n}u",
        "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
        "multiplier": c_int(mult), "shift": c_int(shift),
    }
    e.struct("bench_reduce_params_t", f"{p}_params", fields)
    return 0


def emit_mean(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, mean=True)


def emit_sum(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, mean=False)


_OPTIONS = ("ReducerOptions", (("keep_dims", "KeepDims", False),))

OPS = (
    OpSpec("SUM", tflite.BuiltinOperator.SUM, 180, check_sum, emit_sum, kernel="bench_kernel_reduce_sum",
           params="reduce", sources=("reduce.c",), options=_OPTIONS),
    # the variant harness.ops.mean's MEAN selects for axes other than [1, 2] of a rank-4 input
    OpSpec("MEAN_ANY_AXES", tflite.BuiltinOperator.MEAN, 181, check_sum, emit_mean, kernel="bench_kernel_reduce_sum",
           params="reduce", sources=("reduce.c",), options=_OPTIONS, variant_of="MEAN"),
)
