"""SPLIT, SPLIT_V and UNPACK of int8 activations: operators with several outputs, each its own buffer.

The inverse of CONCATENATION (and PACK): per outer step, each output takes the next ``chunk_bytes`` of the
input, where a chunk is the output's bytes from ``axis`` on. The outputs keep the input's quantization.
The axis is a constant INT32 tensor (SPLIT: input 0, SPLIT_V: input 2), as TFLite Micro requires;
UNPACK's is an option.
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, count, fail, same_quant
from harness.ops.emit import Emitter


def _data_index(op: Operator) -> int:
    """The input tensor that is split: SPLIT's second input (its first is the axis), else the first."""
    return op.inputs[1] if op.opcode == "SPLIT" else op.inputs[0]


def _axis(g: Graph, op: Operator, rank: int) -> int:
    """The split axis in 0..rank-1; raises ModelError for a missing, non-constant or out-of-range one."""
    if op.opcode == "UNPACK":
        axis = int(op.option("axis"))
    else:
        index = op.inputs[0] if op.opcode == "SPLIT" else (op.inputs[2] if len(op.inputs) > 2 else -1)
        t = g.tensors[index] if 0 <= index < len(g.tensors) else None
        if t is None or not t.is_constant or t.dtype is not Dtype.INT32 or t.array().size != 1:
            got = f"tensor {index}" if t is None else f"tensor {t.index} ({t.name!r}), {t.dtype.name} {list(t.shape)}"
            raise fail(op, f"axis must be a constant INT32 tensor of one value (TFLite Micro takes no other); "
                           f"got {got}")
        axis = int(t.array().reshape(-1)[0])
    if not -rank <= axis < rank:
        raise fail(op, f"axis {axis} for an input of rank {rank}; expected {-rank}..{rank - 1}")
    return axis % rank


def _outputs(g: Graph, op: Operator, x: Tensor) -> list[Tensor]:
    ys = []
    for k, index in enumerate(op.outputs):
        y = activation_tensor(g, op, index, f"output {k}")
        same_quant(op, x, y)
        ys.append(y)
    return ys


def check(g: Graph, op: Operator) -> None:
    n_inputs = {"SPLIT": 2, "SPLIT_V": 3, "UNPACK": 1}[op.opcode]
    if len(op.inputs) != n_inputs:
        raise fail(op, f"{count(len(op.inputs), 'input')}; {op.opcode} takes {n_inputs}")
    x = activation_tensor(g, op, _data_index(op), "input")
    rank = len(x.shape)
    if not 1 <= rank <= 5:
        raise fail(op, f"input has rank {rank}; {op.opcode} takes rank 1..5")
    axis = _axis(g, op, rank)
    ys = _outputs(g, op, x)
    n = len(ys)
    if op.opcode == "UNPACK":
        if op.option("num") != n:
            raise fail(op, f"num {op.option('num')} but {count(n, 'output')}; expected them equal")
        if n != x.shape[axis]:
            raise fail(op, f"{count(n, 'output')} for axis {axis} of size {x.shape[axis]}; expected one per element")
        expected = [*x.shape[:axis], *x.shape[axis + 1:]]
        for k, y in enumerate(ys):
            if list(y.shape) != expected:
                raise fail(op, f"output {k} has shape {list(y.shape)}; unpacking {list(x.shape)} along axis {axis} "
                               f"gives {expected}")
        return
    if op.option("num_splits") != n:
        raise fail(op, f"num_splits {op.option('num_splits')} but {count(n, 'output')}; expected them equal")
    sizes = []
    for k, y in enumerate(ys):
        if len(y.shape) != rank or any(y.shape[i] != x.shape[i] for i in range(rank) if i != axis):
            raise fail(op, f"output {k} shape {list(y.shape)} does not match the input {list(x.shape)} outside "
                           f"axis {axis}")
        sizes.append(y.shape[axis])
    if op.opcode == "SPLIT" and x.shape[axis] % n:
        raise fail(op, f"axis {axis} of size {x.shape[axis]} does not split into {n} equal parts")
    if sum(sizes) != x.shape[axis]:
        raise fail(op, f"outputs add up to {sum(sizes)} along axis {axis}; the input has {x.shape[axis]}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x = e.g.tensors[_data_index(op)]
    axis = _axis(e.g, op, len(x.shape))  # checked
    ys = [e.g.tensors[i] for i in op.outputs]
    # an UNPACK output lacks the axis: its chunk is the input's bytes after the axis
    chunks = [math.prod(x.shape[axis + 1:]) * (1 if op.opcode == "UNPACK" else y.shape[axis]) for y in ys]
    offsets = e.table(f"{p}_out_offsets", "uint32_t", [e.offset(y.index) for y in ys])
    table = e.table(f"{p}_chunk_bytes", "uint32_t", chunks)
    fields = {"in_offset": e.off(x.index), "n_outputs": f"{len(ys)}u", "outer": f"{math.prod(x.shape[:axis])}u",
              "out_offsets": offsets, "chunk_bytes": table}
    e.struct("bench_split_params_t", f"{p}_params", fields)
    return 0


_COMMON = {"emit": emit, "kernel": "bench_kernel_split", "params": "split", "sources": ("split.c",),
           "several_outputs": True}
OPS = (
    OpSpec("SPLIT", tflite.BuiltinOperator.SPLIT, 160, check, options=("SplitOptions", (("num_splits", "NumSplits", 0),)),
           **_COMMON),  # type: ignore[arg-type]
    OpSpec("SPLIT_V", tflite.BuiltinOperator.SPLIT_V, 161, check,
           options=("SplitVOptions", (("num_splits", "NumSplits", 0),)), **_COMMON),  # type: ignore[arg-type]
    OpSpec("UNPACK", tflite.BuiltinOperator.UNPACK, 162, check,
           options=("UnpackOptions", (("num", "Num", 0), ("axis", "Axis", 0))), **_COMMON),  # type: ignore[arg-type]
)
