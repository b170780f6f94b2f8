"""The generator checks every requantization multiplier and shift against the range the kernels
take, and every integer table against its C type, with a ``ModelError`` naming the layer, the
operator, the value and the accepted range (not an ``assert``, which ``python -O`` strips)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from harness.errors import ModelError
from harness.firmware import codegen
from harness.firmware.codegen import generate
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype, Quantization
from harness.model.loader import parse_model
from harness.model.quant import OutOfRange
from harness.ops import fully_connected

W = np.ones((2, 4), dtype=np.int8)


def _fc(y_scale: float, w_scales: tuple[float, ...] = (1.0,)) -> bytes:
    n = len(w_scales)
    tensors = [TensorDef("x", (1, 4), Dtype.INT8, (1.0,), (0,)),
               TensorDef("w", (2, 4), Dtype.INT8, w_scales, (0,) * n, data=W.tobytes()),
               TensorDef("y", (1, 2), Dtype.INT8, (y_scale,), (0,))]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,), {"activation": 0})], [0], [2])


def _quantize(x_scale: float, y_scale: float) -> bytes:
    relu = [TensorDef("x", (1, 4), Dtype.INT8, (x_scale,), (0,)), TensorDef("h", (1, 4), Dtype.INT8, (x_scale,), (0,)),
            TensorDef("y", (1, 4), Dtype.INT8, (y_scale,), (0,))]
    return build_model(relu, [OpDef("RELU", (0,), (1,)), OpDef("QUANTIZE", (1,), (2,))], [0], [2])


def test_a_huge_scale_ratio_is_refused_naming_layer_op_value_and_range() -> None:
    graph = parse_model(_fc(2.0**-40), name="huge_ratio")  # input * weight / output scale = 2^40
    with pytest.raises(ModelError) as info:
        generate(graph)
    message = str(info.value)
    assert "layer 0 (FULLY_CONNECTED)" in message
    assert "output_shift 41 is outside [-31, 30]" in message


def test_a_per_channel_shift_names_its_channel() -> None:
    graph = parse_model(_fc(1.0, (1.0, 2.0**40)), name="per_channel")
    with pytest.raises(ModelError, match=r"layer 0 \(FULLY_CONNECTED\): output_shift\[1\] 41 is outside \[-31, 30\]"):
        generate(graph)


def test_the_layer_index_is_the_failing_layers() -> None:
    graph = parse_model(_quantize(1.0, 2.0**-35), name="second_layer")  # layer 0 RELU is fine
    with pytest.raises(ModelError, match=r"layer 1 \(QUANTIZE\): shift 36 is outside \[-31, 30\]"):
        generate(graph)


def test_a_tiny_scale_ratio_becomes_a_zero_multiplier_as_in_tflite() -> None:
    gen = generate(parse_model(_fc(2.0**40), name="tiny_ratio"))  # 2^-40: below 2^-32, the multiplier is 0
    assert ".output_multiplier = 0," in gen.model_c and ".output_shift = 0," in gen.model_c


def test_int8_tables_are_checked_against_int8_t() -> None:
    with pytest.raises(OutOfRange, match=r"int8_t table entry 128 is outside \[-128, 127\]"):
        codegen._array("int8_t", "t", np.array([0, 127, 128]))
    with pytest.raises(OutOfRange, match=r"int8_t table entry -129 is outside \[-128, 127\]"):
        codegen._array("int8_t", "t", np.array([-129, 0]))
    assert "-128, 127" in codegen._array("int8_t", "t", np.array([-128, 127]))


def test_an_out_of_range_shift_table_is_a_model_error_even_past_the_requant_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # take away the requantization check: the int8_t table's own check still stops the shift 200
    def wide(input_scale: float, filter: Quantization, output_scale: float, channels: int) -> Any:
        return [1 << 30] * channels, [200] * channels

    monkeypatch.setattr(codegen, "check_requant", lambda *args, **kwargs: (args[1], args[3]))
    monkeypatch.setattr(fully_connected, "conv_multipliers", wide)  # the FULLY_CONNECTED emitter's
    graph = parse_model(_fc(1.0, (1.0, 1.0)), name="wide_shift")
    with pytest.raises(ModelError, match=r"layer 0 \(FULLY_CONNECTED\): hil_layer0_shift: int8_t table entry 200 "
                                         r"is outside \[-128, 127\], the range of int8_t"):
        generate(graph)


def test_a_softmax_whose_sum_of_exps_could_overflow_is_refused() -> None:
    tensors = [TensorDef("x", (1, 4096), Dtype.INT8, (0.05,), (0,)), TensorDef("y", (1, 4096), Dtype.INT8, (1 / 256,), (-128,))]
    graph = parse_model(build_model(tensors, [OpDef("SOFTMAX", (0,), (1,), {"beta": 1.0})], [0], [1]), name="wide")
    with pytest.raises(ModelError, match=r"layer 0 \(SOFTMAX\): depth 4096 is outside \[1, 4095\]"):
        generate(graph)
