"""TRANSPOSE, SLICE and STRIDED_SLICE of int8 activations: one strided copy (``bench_kernel_strided_copy``).

The generator turns each into a start byte and, per output axis, a count and a signed input step, so the kernel
does no index arithmetic of its own. Ranks follow TFLite Micro: TRANSPOSE and SLICE up to 5, STRIDED_SLICE
up to 4. The permutation, begin, end, size and strides must be constant (TFLite Micro reads them in Prepare).
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, constant_ints, fail, same_quant, tensor_label
from harness.ops.emit import Emitter, c_int, c_list

RANK_LIMIT = {"TRANSPOSE": 5, "SLICE": 5, "STRIDED_SLICE": 4}
COPY_RANK = 6  # bench_strided_copy_params_t.count


def constant_int32(g: Graph, op: Operator, index: int, role: str) -> list[int]:
    """The values of a constant INT32 tensor (TFLite Micro reads these operands as int32 only)."""
    t = g.tensors[index] if 0 <= index < len(g.tensors) else None
    if t is None or not t.is_constant or t.dtype is not Dtype.INT32:
        got = "no tensor" if t is None else (f"{tensor_label(t)}, {t.dtype.name}"
                                             f"{'' if t.is_constant else ', not constant'}")
        raise fail(op, f"{role} must be a constant INT32 tensor (TFLite Micro reads it as int32); got {got}")
    return [int(v) for v in t.array().reshape(-1)]


def _io(g: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    limit = RANK_LIMIT[op.opcode]
    if not 1 <= len(x.shape) <= limit:
        raise fail(op, f"input has rank {len(x.shape)}; {op.opcode} takes rank 1..{limit} (as TFLite Micro does)")
    if x.elements == 0 or y.elements == 0:
        raise fail(op, f"input {list(x.shape)} or output {list(y.shape)} is empty; expected at least 1 element")
    return x, y


def _strides(shape: tuple[int, ...]) -> list[int]:
    return [math.prod(shape[k + 1:]) for k in range(len(shape))]


def check_transpose(g: Graph, op: Operator) -> None:
    x, y = _io(g, op)
    perm = constant_int32(g, op, op.inputs[1], "perm")
    if sorted(perm) != list(range(len(x.shape))):
        raise fail(op, f"perm {perm} is not a permutation of 0..{len(x.shape) - 1} (the input's axes)")
    expected = [x.shape[a] for a in perm]
    if list(y.shape) != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the transposed {expected}")


def _slice_geometry(g: Graph, op: Operator, x: Tensor) -> tuple[list[int], list[int], list[int]]:
    """SLICE: per input axis (start, count, stride); refuses begin or size outside the input."""
    begin = constant_ints(g, op, op.inputs[1], "begin")
    size = constant_ints(g, op, op.inputs[2], "size")
    rank = len(x.shape)
    if len(begin) != rank or len(size) != rank:
        raise fail(op, f"begin {begin} and size {size} for an input of rank {rank}; expected {rank} values each")
    counts = []
    for a, (b, s, d) in enumerate(zip(begin, size, x.shape)):
        n = d - b if s == -1 else s
        if not (0 <= b and 0 <= n and b + n <= d):
            raise fail(op, f"axis {a}: begin {b} size {s} for dimension {d}; expected 0 <= begin and "
                           "begin + size <= dimension (size -1: to the end)")
        counts.append(n)
    return begin, counts, [1] * rank


def check_slice(g: Graph, op: Operator) -> None:
    x, y = _io(g, op)
    _, counts, _ = _slice_geometry(g, op, x)
    if list(y.shape) != counts:
        raise fail(op, f"output shape {list(y.shape)} differs from the slice's {counts}")


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def _strided_geometry(g: Graph, op: Operator, x: Tensor) -> tuple[list[int], list[int], list[int]]:
    """STRIDED_SLICE: per input axis (start, count, stride), as TFLite's StartForAxis / StopForAxis and the
    kernel's loop compute them; refuses ellipsis and new-axis masks and offset, which hilbench does not
    implement."""
    rank = len(x.shape)
    for key in ("ellipsis_mask", "new_axis_mask"):
        if op.option(key) != 0:
            raise fail(op, f"{key} {op.option(key)}; only 0 is supported (write the slice with one begin, end "
                           "and stride per input axis, without ... or tf.newaxis, and reshape after it)")
    if op.option("offset"):
        raise fail(op, "offset is true (end counted from begin); only offset false is supported (the form "
                       "tf.strided_slice converts to)")
    begin = constant_int32(g, op, op.inputs[1], "begin")
    end = constant_int32(g, op, op.inputs[2], "end")
    strides = constant_int32(g, op, op.inputs[3], "strides")
    if not len(begin) == len(end) == len(strides) == rank:
        raise fail(op, f"begin {begin}, end {end}, strides {strides} for an input of rank {rank}; "
                       f"expected {rank} values each")
    starts, counts = [], []
    for a in range(rank):
        d, stride, bit = x.shape[a], strides[a], 1 << a
        if stride == 0:
            raise fail(op, f"axis {a}: stride 0; expected a non-zero stride")
        start = (-(2**31) if stride > 0 else 2**31 - 1) if op.option("begin_mask") & bit else begin[a]
        start += d if start < 0 else 0
        start = _clamp(start, 0, d) if stride > 0 else _clamp(start, -1, d - 1)
        if op.option("shrink_axis_mask") & bit:
            if stride < 0:
                raise fail(op, f"axis {a} is shrunk with stride {stride}; expected a positive stride on a shrunk "
                               "axis (TFLite Micro's loop reads nothing there)")
            if not 0 <= start < d:
                raise fail(op, f"axis {a} is shrunk at begin {begin[a]}, outside dimension {d}")
            stop = start + 1
        else:
            stop = (2**31 - 1 if stride > 0 else -(2**31)) if op.option("end_mask") & bit else end[a]
            stop += d if stop < 0 else 0
            stop = _clamp(stop, 0, d) if stride > 0 else _clamp(stop, -1, d - 1)
        starts.append(start)
        # a shrunk axis reads its one element at start, whatever the stride's sign
        count = 1 if op.option("shrink_axis_mask") & bit else -((start - stop) // stride)
        counts.append(max(0, count))  # ceil((stop - start) / stride)
    return starts, counts, strides


def check_strided_slice(g: Graph, op: Operator) -> None:
    x, y = _io(g, op)
    _, counts, _ = _strided_geometry(g, op, x)
    shrink = op.option("shrink_axis_mask")
    expected = [n for a, n in enumerate(counts) if not shrink & (1 << a)]
    if 0 in counts:
        raise fail(op, f"the slice is empty (per axis {counts} elements); expected at least 1 on every axis")
    if list(y.shape) != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the slice's {expected}")


def _emit_copy(e: Emitter, op: Operator, p: str, starts: list[int], counts: list[int], steps: list[int]) -> int:
    x, y = e.tensors(op)
    pad = COPY_RANK - len(counts)
    fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index),
              "base": c_int(sum(s * k for s, k in zip(starts, _strides(x.shape))), 0, x.nbytes - 1, "the base"),
              "count": c_list([1] * pad + counts),
              "step": "{" + ", ".join(c_int(v) for v in [0] * pad + steps) + "}"}
    e.struct("bench_strided_copy_params_t", f"{p}_params", fields)
    return 0


def emit_transpose(e: Emitter, op: Operator, p: str) -> int:
    x, _ = e.tensors(op)
    perm = [int(v) for v in e.g.tensors[op.inputs[1]].array().reshape(-1)]
    strides = _strides(x.shape)
    return _emit_copy(e, op, p, [0] * len(perm), [x.shape[a] for a in perm], [strides[a] for a in perm])


def _emit_geometry(e: Emitter, op: Operator, p: str, starts: list[int], counts: list[int],
                   strides: list[int]) -> int:
    x, _ = e.tensors(op)
    steps = [s * k for s, k in zip(strides, _strides(x.shape))]
    return _emit_copy(e, op, p, starts, counts, steps)


def emit_slice(e: Emitter, op: Operator, p: str) -> int:
    return _emit_geometry(e, op, p, *_slice_geometry(e.g, op, e.g.tensors[op.inputs[0]]))


def emit_strided_slice(e: Emitter, op: Operator, p: str) -> int:
    return _emit_geometry(e, op, p, *_strided_geometry(e.g, op, e.g.tensors[op.inputs[0]]))


OPS = (
    OpSpec("TRANSPOSE", tflite.BuiltinOperator.TRANSPOSE, 100, check_transpose, emit_transpose, kernel="bench_kernel_strided_copy", params="strided_copy", sources=("layout.c",)),
    OpSpec("STRIDED_SLICE", tflite.BuiltinOperator.STRIDED_SLICE, 101, check_strided_slice, emit_strided_slice,
           options=("StridedSliceOptions", (("begin_mask", "BeginMask", 0), ("end_mask", "EndMask", 0),
                                            ("ellipsis_mask", "EllipsisMask", 0),
                                            ("new_axis_mask", "NewAxisMask", 0),
                                            ("shrink_axis_mask", "ShrinkAxisMask", 0), ("offset", "Offset", False))),
           kernel="bench_kernel_strided_copy", params="strided_copy", sources=("layout.c",)),
    OpSpec("SLICE", tflite.BuiltinOperator.SLICE, 102, check_slice, emit_slice, kernel="bench_kernel_strided_copy", params="strided_copy", sources=("layout.c",)),
)
