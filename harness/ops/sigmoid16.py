"""int16 LOGISTIC and TANH (16x8 quantization): kernel variants of LOGISTIC and TANH (``sigmoid.check`` and its
select hand an INT16 input here). The input has zero point 0 and any scale, the output is Q0.15 (scale 2^-15,
zero point 0, as TFLite Micro requires); the kernel interpolates in the sigmoid table that ``harness.ops.lut16``
measures from the interpreter (``firmware/kernels/portable/lut16.c``), emitted once per model.
"""

from __future__ import annotations

import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.ops import lut16
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, fail, q_text, tensor_label
from harness.ops.emit import Emitter, c_int
from harness.ops.overlap import elementwise

OUTPUT_SCALE = 2.0 ** -15


def check16(g: Graph, op: Operator) -> None:
    activation_tensor(g, op, op.inputs[0], "input", int16=True)
    y = activation_tensor(g, op, op.outputs[0], "output", int16=True)
    if y.dtype is not Dtype.INT16:
        raise fail(op, f"input is INT16 and output {tensor_label(y)} is {y.dtype.name}; int16 {op.opcode} gives "
                       "INT16")
    assert y.quant is not None  # checked by activation_tensor()
    if abs(y.quant.scale[0] / OUTPUT_SCALE - 1) > 1e-3:
        raise fail(op, f"output {q_text(y)}; int16 {op.opcode} needs scale 2^-15 ({OUTPUT_SCALE:g}), zero point 0")
    lut16.sigmoid_table()  # a ModelError here if the interpreter's table cannot be measured


def _emit(e: Emitter, op: Operator, p: str, prepare: lut16.Prepare) -> int:
    x, y = e.tensors(op)
    assert x.quant  # validated
    multiplier, left_shift = prepare(x.quant.scale[0])
    lut = e.table("bench_sigmoid16_lut", "uint16_t", list(lut16.sigmoid_table()))
    e.struct("bench_sigmoid16_params_t", f"{p}_params",
             {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
              "multiplier": c_int(multiplier), "left_shift": c_int(left_shift, 0, 31, "left_shift"), "lut": lut})
    return 0


def emit_logistic(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, lut16.logistic_prepare)


def emit_tanh(e: Emitter, op: Operator, p: str) -> int:
    return _emit(e, op, p, lut16.tanh_prepare)


OPS = (
    OpSpec("LOGISTIC_INT16", tflite.BuiltinOperator.LOGISTIC, 260, check16, emit_logistic,
           kernel="bench_kernel_logistic16", params="sigmoid16", sources=("lut16.c",), overlap=elementwise,
           variant_of="LOGISTIC"),
    OpSpec("TANH_INT16", tflite.BuiltinOperator.TANH, 261, check16, emit_tanh, kernel="bench_kernel_tanh16",
           params="sigmoid16", sources=("lut16.c",), overlap=elementwise, variant_of="TANH"),
)
