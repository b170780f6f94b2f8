"""PAD with the output's zero point, up to rank 4."""

from __future__ import annotations

import tflite

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, constant_ints, fail, same_quant
from harness.ops.emit import Emitter, c_int, c_list, rank4


def check(g: Graph, op: Operator) -> None:
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    same_quant(op, x, y)
    pads = constant_ints(g, op, op.inputs[1], "paddings")
    if len(x.shape) > 4 or len(pads) != 2 * len(x.shape) or any(p < 0 for p in pads):
        raise fail(op, f"paddings {pads} for an input of rank {len(x.shape)}; expected rank <= 4 and "
                       "2 non-negative values per axis")
    expected = tuple(d + pads[2 * i] + pads[2 * i + 1] for i, d in enumerate(x.shape))
    if y.shape != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the padded {list(expected)}")


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y = e.tensors(op)
    assert y.quant  # validated
    pads = [int(v) for v in e.g.tensors[op.inputs[1]].array().reshape(-1)]
    before = (0,) * (4 - len(x.shape)) + tuple(pads[0::2])
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "in_shape": c_list(rank4(x.shape)), "out_shape": c_list(rank4(y.shape)),
        "before": c_list(before), "pad_value": c_int(y.quant.zero_point[0]),
    }
    e.struct("bench_pad_params_t", f"{p}_params", fields)
    return 0


OPS = (
    OpSpec("PAD", tflite.BuiltinOperator.PAD, 10, check, emit, kernel="bench_kernel_pad", params="pad",
          sources=("shape.c",)),
)
