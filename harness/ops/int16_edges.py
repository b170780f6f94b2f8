"""QUANTIZE and DEQUANTIZE with int16 activations (TFLite's 16x8 quantization): kernel variants of the two
operators, chosen by tensor type (``requantize.select_quantize``, ``select_dequantize``).

QUANTIZE int8 -> int16, int16 -> int8 and int16 -> int16 are TFLM's Requantize (the input/output scale
ratio as a Q31 multiplier, computed in double, clamped to the output type); FLOAT32 -> int16 is its
AffineQuantize; DEQUANTIZE int16 -> FLOAT32 is scale * (q - zero_point). The operators' checks
(``requantize.check_quantize``, ``dequantize.check``) accept INT16 through ``checks.activation_tensor``, which
requires zero point 0. Kernels: ``firmware/kernels/portable/int16_edges.c``.
"""

from __future__ import annotations

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator
from harness.model.quant import quantize_multiplier
from harness.ops.base import Emit, OpSpec
from harness.ops.emit import Emitter, c_int, requant
from harness.ops.overlap import elementwise

INT_RANGES = {Dtype.INT8: (-128, 127), Dtype.INT16: (-32768, 32767)}
_REQUANTIZE = {(Dtype.INT8, Dtype.INT16): "QUANTIZE_INT8_TO_INT16", (Dtype.INT16, Dtype.INT8): "QUANTIZE_INT16_TO_INT8",
               (Dtype.INT16, Dtype.INT16): "QUANTIZE_INT16", (Dtype.FLOAT32, Dtype.INT16): "QUANTIZE_FROM_FLOAT_TO_INT16"}


def quantize_int16_variant(x: Dtype, y: Dtype) -> str:
    """The QUANTIZE variant from ``x`` to ``y`` (one of them INT16, as ``check_quantize`` accepted)."""
    return _REQUANTIZE[(x, y)]


def select_dequantize(g: Graph, op: Operator) -> str:
    return "DEQUANTIZE_INT16" if g.tensors[op.inputs[0]].dtype is Dtype.INT16 else "DEQUANTIZE"


def _requantize_emitter(out: Dtype) -> Emit:
    def emit(e: Emitter, op: Operator, p: str) -> int:
        x, y = e.tensors(op)
        assert x.quant and y.quant  # validated
        mult, shift = requant("multiplier,shift", quantize_multiplier(float(x.quant.scale[0]) / float(y.quant.scale[0])))
        act_min, act_max = INT_RANGES[out]
        fields = {
            "in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u", "rescale": "1",
            "input_zero_point": c_int(x.quant.zero_point[0]), "output_zero_point": c_int(y.quant.zero_point[0]),
            "multiplier": c_int(mult), "shift": c_int(shift), "act_min": c_int(act_min), "act_max": c_int(act_max),
        }
        e.struct("bench_requantize_params_t", f"{p}_params", fields)
        return 0

    return emit


def _float_emitter(quantized_output: bool) -> Emit:
    """FLOAT32 -> int16 (the output's scale) or int16 -> FLOAT32 (the input's): the float32 scale, exact in double."""

    def emit(e: Emitter, op: Operator, p: str) -> int:
        x, y = e.tensors(op)
        q = y.quant if quantized_output else x.quant
        assert q  # validated
        fields = {"in_offset": e.off(x.index), "out_offset": e.off(y.index), "count": f"{x.elements}u",
                  "zero_point": c_int(q.zero_point[0]), "scale": f"{float(np.float32(q.scale[0])):.17g}"}
        e.struct("bench_dequantize_params_t", f"{p}_params", fields)
        return 0

    return emit


# The variants' checks are their operators' (requantize and dequantize import this module for their select,
# so the checks are imported when first called).
def _quantize_check(g: Graph, op: Operator) -> None:
    from harness.ops.requantize import check_quantize

    check_quantize(g, op)


def _dequantize_check(g: Graph, op: Operator) -> None:
    from harness.ops.dequantize import check

    check(g, op)


def _quantize(name: str, code: int, emit: Emit, kernel: str, params: str = "requantize") -> OpSpec:
    return OpSpec(name, tflite.BuiltinOperator.QUANTIZE, code, _quantize_check, emit, kernel=kernel, params=params,
                  sources=("int16_edges.c",), overlap=elementwise, variant_of="QUANTIZE")


OPS = (
    _quantize("QUANTIZE_INT8_TO_INT16", 200, _requantize_emitter(Dtype.INT16), "bench_kernel_requantize_int8_to_int16"),
    _quantize("QUANTIZE_INT16_TO_INT8", 201, _requantize_emitter(Dtype.INT8), "bench_kernel_requantize_int16_to_int8"),
    _quantize("QUANTIZE_INT16", 202, _requantize_emitter(Dtype.INT16), "bench_kernel_requantize_int16"),
    _quantize("QUANTIZE_FROM_FLOAT_TO_INT16", 203, _float_emitter(True), "bench_kernel_quantize_from_float_to_int16",
              params="dequantize"),
    OpSpec("DEQUANTIZE_INT16", tflite.BuiltinOperator.DEQUANTIZE, 204, _dequantize_check, _float_emitter(False),
           kernel="bench_kernel_dequantize_int16", params="dequantize", sources=("int16_edges.c",),
           variant_of="DEQUANTIZE"),
)
