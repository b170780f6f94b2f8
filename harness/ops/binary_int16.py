"""ADD and MUL of two int16 activations (TFLite's 16x8 quantization: zero points 0), with NumPy broadcasting up
to rank 4: kernel variants of ADD and MUL (``binary.check`` and its select hand INT16 inputs here). The
arithmetic is the int8 kernels' on int16 values; ADD rescales with 15 bits of headroom where int8 takes 20,
as TFLite's int16 ADD does (``firmware/kernels/portable/binary_int16.c``). Constant int16 operands are refused.
"""

from __future__ import annotations

import math

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.model.quant import check_int, quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation, activation_tensor, count, fail, tensor_label
from harness.ops.emit import Emitter, c_int, c_list, rank4, requant
from harness.ops.fully_connected_16x8 import activation_range16
from harness.ops.overlap import elementwise

INT16_ADD_LEFT_SHIFT = 15


def check_int16(g: Graph, op: Operator) -> None:
    """Two non-constant INT16 inputs (zero point 0) that broadcast, and an INT16 output of their shape."""
    from harness.ops.binary import _broadcast_shape  # binary imports this module: imported when first called

    if len(op.inputs) != 2:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 2")
    tensors = [activation_tensor(g, op, t, role, int16=True)
               for t, role in ((op.inputs[0], "first input"), (op.inputs[1], "second input"), (op.outputs[0], "output"))]
    for t in tensors:
        if t.dtype is not Dtype.INT16:
            raise fail(op, f"the first input is INT16 and {tensor_label(t)} is {t.dtype.name}; int16 "
                           f"{op.opcode} takes and gives INT16 only")
    a, b, y = tensors
    shape = _broadcast_shape(op, a.shape, b.shape)
    if y.elements != math.prod(shape) or y.shape[-len(shape):] != shape[-len(y.shape):]:
        raise fail(op, f"output shape {list(y.shape)}; broadcasting the inputs gives {list(shape)}")
    activation(op)


def _strides(t: Tensor, shape: tuple[int, ...]) -> list[int]:
    s4 = rank4(t.shape)
    contiguous = [s4[1] * s4[2] * s4[3], s4[2] * s4[3], s4[3], 1]
    return [0 if s4[i] == 1 and shape[i] != 1 else contiguous[i] for i in range(4)]


def _emit(e: Emitter, op: Operator, p: str, *, add: bool) -> int:
    a, b, y = (e.g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    assert a.quant and b.quant and y.quant  # validated: zero points 0
    s1, s2, so = float(a.quant.scale[0]), float(b.quant.scale[0]), float(y.quant.scale[0])
    q = {"left_shift": 0, "input1_multiplier": 0, "input1_shift": 0, "input2_multiplier": 0, "input2_shift": 0}
    if add:
        twice_max = 2.0 * max(s1, s2)
        q["left_shift"] = check_int("left_shift", INT16_ADD_LEFT_SHIFT, (0, 30))
        q["input1_multiplier"], q["input1_shift"] = requant("input1", quantize_multiplier(s1 / twice_max))
        q["input2_multiplier"], q["input2_shift"] = requant("input2", quantize_multiplier(s2 / twice_max))
        mo, sh = requant("output", quantize_multiplier(twice_max / ((1 << INT16_ADD_LEFT_SHIFT) * so)))
    else:
        mo, sh = requant("output", quantize_multiplier(s1 * s2 / so))
    shape = rank4(y.shape)
    act_min, act_max = activation_range16(op.option("activation"), y.quant.scale[0])
    fields = {
        "in1_offset": e.off(a.index), "in2_offset": e.off(b.index), "out_offset": e.off(y.index),
        "shape": c_list(shape), "stride1": c_list(_strides(a, shape)), "stride2": c_list(_strides(b, shape)),
        "broadcast": "1", "input1_offset": "0", "input2_offset": "0", "output_offset": "0",
        **{k: c_int(v) for k, v in q.items()}, "output_multiplier": c_int(mo), "output_shift": c_int(sh),
        "act_min": c_int(act_min), "act_max": c_int(act_max),
    }
    e.struct("bench_binary_params_t", f"{p}_params", fields)
    return 0


def emit_add(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, add=True)


def emit_mul(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, add=False)


def _check(g: Graph, op: Operator) -> None:
    from harness.ops.binary import check

    check(g, op)


OPS = (
    OpSpec("ADD_INT16", tflite.BuiltinOperator.ADD, 206, _check, emit_add, kernel="bench_kernel_add_int16",
           params="binary", sources=("binary_int16.c",), overlap=elementwise, variant_of="ADD"),
    OpSpec("MUL_INT16", tflite.BuiltinOperator.MUL, 207, _check, emit_mul, kernel="bench_kernel_mul_int16",
           params="binary", sources=("binary_int16.c",), overlap=elementwise, variant_of="MUL"),
)
