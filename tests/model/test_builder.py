"""The test-model builder: round trips through the loader and runs in the TFLite Micro interpreter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tflite

from harness.errors import ModelError
from harness.model import builder
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype, Graph
from harness.model.loader import _parse

RNG = np.random.default_rng(20240611)


def int8(shape: tuple[int, ...], low: int = -128, high: int = 127) -> np.ndarray[Any, Any]:
    return RNG.integers(low, high + 1, shape, dtype=np.int8)


def act(name: str, shape: tuple[int, ...], scale: float = 0.1, zero_point: int = 0) -> TensorDef:
    return TensorDef(name, shape, Dtype.INT8, (scale,), (zero_point,))


def parse(buf: bytes) -> Graph:
    return _parse(buf, "built", "")


def run(buf: bytes, *inputs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from tflite_micro.python.tflite_micro import runtime  # a dependency: never skipped
    ip = runtime.Interpreter.from_bytes(buf, arena_size=1 << 16)
    for i, x in enumerate(inputs):
        ip.set_input(x, i)
    ip.invoke()
    return np.asarray(ip.get_output(0))


def requantize(real: np.ndarray[Any, Any], scale: float, zero_point: int) -> np.ndarray[Any, Any]:
    return np.clip(np.round(real / scale) + zero_point, -128, 127)


# -- round trips through the loader ----------------------------------------------------------------------


def test_conv2d_round_trip_keeps_shapes_per_channel_quantization_data_and_options() -> None:
    w, bias = int8((3, 2, 2, 4)), np.array([100, -7, 0], "<i4")
    scales = (0.01, 0.02, 0.03)
    tensors = [act("x", (1, 9, 9, 4), 0.05, -3),
               TensorDef("w", (3, 2, 2, 4), Dtype.INT8, scales, (0, 0, 0), 0, w.tobytes()),
               TensorDef("b", (3,), Dtype.INT32, tuple(0.05 * s for s in scales), None, 0, bias.tobytes()),
               act("y", (1, 4, 3, 3), 0.2, 5)]
    options = {"padding": 1, "stride_w": 3, "stride_h": 2, "activation": 3, "dilation_w": 1, "dilation_h": 2}
    buf = build_model(tensors, [OpDef("CONV_2D", (0, 1, 2), (3,), options)], [0], [3])

    assert buf[4:8] == b"TFL3"
    g = parse(buf)
    assert (g.inputs, g.outputs) == ((0,), (3,))
    [op] = g.operators
    assert (op.opcode, op.inputs, op.outputs) == ("CONV_2D", (0, 1, 2), (3,))
    assert dict(op.options) == options
    assert [k for k, _ in op.options] == ["padding", "stride_w", "stride_h", "activation", "dilation_w",
                                          "dilation_h"]
    assert [t.shape for t in g.tensors] == [(1, 9, 9, 4), (3, 2, 2, 4), (3,), (1, 4, 3, 3)]
    assert [t.dtype for t in g.tensors] == [Dtype.INT8, Dtype.INT8, Dtype.INT32, Dtype.INT8]
    assert [t.name for t in g.tensors] == ["x", "w", "b", "y"]
    x, wt, bt, y = g.tensors
    assert x.quant is not None and x.quant.scale == pytest.approx((0.05,)) and x.quant.zero_point == (-3,)
    assert y.quant is not None and y.quant.scale == pytest.approx((0.2,)) and y.quant.zero_point == (5,)
    assert wt.quant is not None and wt.quant.per_channel and wt.quant.axis == 0
    assert wt.quant.scale == pytest.approx(scales) and wt.quant.zero_point == (0, 0, 0)
    assert bt.quant is not None and bt.quant.zero_point == (0, 0, 0)  # zero points default to zeros
    np.testing.assert_array_equal(wt.array(), w)
    np.testing.assert_array_equal(bt.array(), bias)
    assert not x.is_constant and not y.is_constant


def test_depthwise_round_trip_keeps_axis_3_scales_multiplier_and_shape_signature() -> None:
    w = int8((1, 3, 3, 8))
    scales = tuple(0.001 * (i + 1) for i in range(8))
    tensors = [TensorDef("x", (1, 5, 5, 4), Dtype.INT8, (0.1,), (1,), shape_signature=(-1, 5, 5, 4)),
               TensorDef("w", (1, 3, 3, 8), Dtype.INT8, scales, (0,) * 8, 3, w.tobytes()),
               act("y", (1, 5, 5, 8))]
    options = {"padding": 0, "stride_w": 1, "stride_h": 1, "depth_multiplier": 2, "activation": 1,
               "dilation_w": 2, "dilation_h": 3}
    buf = build_model(tensors, [OpDef("DEPTHWISE_CONV_2D", (0, 1, -1), (2,), options)], [0], [2])
    g = parse(buf)

    [op] = g.operators
    assert op.inputs == (0, 1, -1)
    assert dict(op.options) == options
    wt = g.tensors[1]
    assert wt.quant is not None and wt.quant.axis == 3 and wt.quant.scale == pytest.approx(scales)
    np.testing.assert_array_equal(wt.array(), w)
    assert g.tensors[0].shape == (1, 5, 5, 4)  # the dynamic batch of the signature is accepted
    signature = tflite.Model.GetRootAs(buf, 0).Subgraphs(0).Tensors(0)
    assert list(signature.ShapeSignatureAsNumpy()) == [-1, 5, 5, 4]


@pytest.mark.parametrize("opcode", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pool_round_trip_keeps_every_option(opcode: str) -> None:
    options = {"padding": 1, "stride_w": 2, "stride_h": 3, "filter_w": 4, "filter_h": 5, "activation": 3}
    tensors = [act("x", (1, 11, 12, 2)), act("y", (1, 3, 5, 2))]
    g = parse(build_model(tensors, [OpDef(opcode, (0,), (1,), options)], [0], [1]))
    assert g.operators[0].opcode == opcode
    assert dict(g.operators[0].options) == options
    assert [t.shape for t in g.tensors] == [(1, 11, 12, 2), (1, 3, 5, 2)]


@pytest.mark.parametrize(("opcode", "options"), [
    ("ADD", {"activation": 1}), ("MUL", {"activation": 3}), ("MEAN", {"keep_dims": True}),
    ("CONCATENATION", {"axis": -1, "activation": 0}), ("SOFTMAX", {"beta": 0.5}),
    ("FULLY_CONNECTED", {"activation": 1, "weights_format": 0, "keep_num_dims": True}),
])
def test_small_option_tables_round_trip_with_their_types(opcode: str, options: dict[str, Any]) -> None:
    tensors = [act("a", (1, 4)), act("b", (1, 4)), act("y", (1, 4))]
    g = parse(build_model(tensors, [OpDef(opcode, (0, 1), (2,), options)], [0, 1], [2]))
    got = dict(g.operators[0].options)
    assert got == options
    assert [type(v) for v in got.values()] == [type(v) for v in options.values()]


DEFAULTS = {
    "CONV_2D": {"padding": 0, "stride_w": 1, "stride_h": 1, "activation": 0, "dilation_w": 1, "dilation_h": 1},
    "DEPTHWISE_CONV_2D": {"padding": 0, "stride_w": 1, "stride_h": 1, "depth_multiplier": 1, "activation": 0,
                          "dilation_w": 1, "dilation_h": 1},
    "AVERAGE_POOL_2D": {"padding": 0, "stride_w": 1, "stride_h": 1, "filter_w": 1, "filter_h": 1,
                        "activation": 0},
    "MAX_POOL_2D": {"padding": 0, "stride_w": 1, "stride_h": 1, "filter_w": 1, "filter_h": 1, "activation": 0},
    "FULLY_CONNECTED": {"activation": 0, "weights_format": 0, "keep_num_dims": False},
    "SOFTMAX": {"beta": 1.0}, "ADD": {"activation": 0}, "MUL": {"activation": 0},
    "MEAN": {"keep_dims": False}, "CONCATENATION": {"axis": 0, "activation": 0},
}


@pytest.mark.parametrize("opcode", sorted(DEFAULTS))
@pytest.mark.parametrize("table", ["empty table", "no table"])
def test_omitted_options_read_back_as_the_defaults(opcode: str, table: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if table == "no table":  # the builder then writes no options at all, as some converters do
        real = builder._options_of
        monkeypatch.setattr(builder, "_options_of", lambda name: None if name == opcode else real(name))
    buf = build_model([act("x", (1, 4)), act("y", (1, 4))], [OpDef(opcode, (0,), (1,))], [0], [1])
    has_table = tflite.Model.GetRootAs(buf, 0).Subgraphs(0).Operators(0).BuiltinOptions() is not None
    assert has_table == (table == "empty table")
    assert dict(parse(buf).operators[0].options) == DEFAULTS[opcode]


def test_operators_without_options_read_back_as_empty() -> None:
    tensors = [act("x", (1, 8)), TensorDef("s", (2,), Dtype.INT32, data=np.array([2, 4], "<i4").tobytes()),
               act("y", (2, 4))]
    ops = [OpDef("RESHAPE", (0, 1), (2,), {"new_shape": (2, 4)}), OpDef("TANH", (2,), (2,))]
    g = parse(build_model(tensors, ops, [0], [2]))
    assert [(op.opcode, op.options) for op in g.operators] == [("RESHAPE", ()), ("TANH", ())]


def test_reshape_writes_new_shape_and_pad_quantize_dequantize_write_their_tables() -> None:
    tensors = [act("x", (1, 8)), act("y", (2, 4))]
    ops = [OpDef("RESHAPE", (0,), (1,), {"new_shape": (2, 4)}), OpDef("PAD", (0,), (1,)),
           OpDef("QUANTIZE", (0,), (1,)), OpDef("DEQUANTIZE", (0,), (1,)), OpDef("TANH", (0,), (1,))]
    sg = tflite.Model.GetRootAs(build_model(tensors, ops, [0], [1]), 0).Subgraphs(0)
    kinds = [sg.Operators(i).BuiltinOptionsType() for i in range(sg.OperatorsLength())]
    o = tflite.BuiltinOptions
    assert kinds == [o.ReshapeOptions, o.PadOptions, o.QuantizeOptions, o.DequantizeOptions, o.NONE]
    table = sg.Operators(0).BuiltinOptions()
    reshape = tflite.ReshapeOptions()
    reshape.Init(table.Bytes, table.Pos)
    assert list(reshape.NewShapeAsNumpy()) == [2, 4]


def test_model_layout_follows_the_tflite_conventions() -> None:
    w, b = int8((4, 16)), RNG.integers(-99, 99, 4).astype("<i4")
    tensors = [act("x", (1, 16)), TensorDef("w", (4, 16), Dtype.INT8, (0.1,), (0,), data=w.tobytes()),
               TensorDef("b", (4,), Dtype.INT32, (0.01,), (0,), data=b.tobytes()), act("y", (1, 4))]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,)), OpDef("TANH", (3,), (3,)),
           OpDef("FULLY_CONNECTED", (0, 1, 2), (3,)), OpDef("BROADCAST_TO", (3,), (3,))]
    buf = build_model(tensors, ops, [0], [3], version=3)
    m = tflite.Model.GetRootAs(buf, 0)
    assert m.Version() == 3
    assert m.BuffersLength() == 3 and m.Buffers(0).DataLength() == 0
    sg = m.Subgraphs(0)
    assert [sg.Tensors(i).Buffer() for i in range(4)] == [0, 1, 2, 0]
    codes = [(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).DeprecatedBuiltinCode(),
              m.OperatorCodes(i).Version()) for i in range(m.OperatorCodesLength())]
    broadcast = tflite.BuiltinOperator.BROADCAST_TO  # past 127: the deprecated code saturates
    assert codes == [(tflite.BuiltinOperator.FULLY_CONNECTED, 9, 1), (tflite.BuiltinOperator.TANH, 28, 1),
                     (broadcast, 127, 1)]
    assert [sg.Operators(i).OpcodeIndex() for i in range(4)] == [0, 1, 0, 2]
    assert [op.opcode for op in parse(buf).operators] == ["FULLY_CONNECTED", "TANH", "FULLY_CONNECTED",
                                                          "BROADCAST_TO"]
    for data in (w.tobytes(), b.tobytes()):  # constant data is 16-byte aligned in the file
        assert buf.count(data) == 1 and buf.find(data) % 16 == 0


def test_several_subgraphs_are_written_and_refused_by_the_loader() -> None:
    buf = build_model([act("x", (1, 4)), act("y", (1, 4))], [OpDef("ADD", (0, 0), (1,))], [0], [1],
                      subgraphs=2)
    assert tflite.Model.GetRootAs(buf, 0).SubgraphsLength() == 2
    with pytest.raises(ModelError, match="2 subgraphs"):
        parse(buf)


def test_unknown_option_key_or_opcode_raises_value_error() -> None:
    tensors = [act("x", (1, 4)), act("y", (1, 4))]
    with pytest.raises(ValueError, match=r"ADD.*'stride_w'"):
        build_model(tensors, [OpDef("ADD", (0, 0), (1,), {"stride_w": 2})], [0], [1])
    with pytest.raises(ValueError, match=r"TANH.*'activation'"):
        build_model(tensors, [OpDef("TANH", (0,), (1,), {"activation": 1})], [0], [1])
    with pytest.raises(ValueError, match=r"'new_shape'"):
        build_model(tensors, [OpDef("PAD", (0,), (1,), {"new_shape": (4,)})], [0], [1])
    with pytest.raises(ValueError, match="NOT_AN_OP"):
        build_model(tensors, [OpDef("NOT_AN_OP", (0,), (1,))], [0], [1])


# -- running in the TFLite Micro interpreter -------------------------------------------------------------


def test_int8_fully_connected_runs_in_tflm_within_one_lsb_of_float() -> None:
    w, bias = int8((4, 16), -40, 40), RNG.integers(-3000, 3000, 4).astype("<i4")
    tensors = [act("x", (1, 16), 0.05, -3),
               TensorDef("w", (4, 16), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("b", (4,), Dtype.INT32, (0.0005,), (0,), data=bias.tobytes()),
               act("y", (1, 4), 0.1, 2)]
    buf = build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,))], [0], [3])
    unsaturated = 0
    for _ in range(8):
        x = int8((1, 16))
        real = ((x + 3.0) * 0.05) @ (w * 0.01).T + bias * 0.0005
        expected = requantize(real, 0.1, 2)
        got = run(buf, x)
        assert got.dtype == np.int8 and got.shape == (1, 4)
        assert np.abs(got - expected).max() <= 1, (got, expected)
        unsaturated += int(np.sum(np.abs(expected) < 127))
    assert unsaturated >= 16  # the comparison is not all clipped values


def test_int8_average_pool_runs_in_tflm_within_one_lsb_of_float() -> None:
    tensors = [act("x", (1, 6, 4, 3), 0.1, 5), act("y", (1, 3, 2, 3), 0.1, 5)]
    options = {"padding": 1, "stride_w": 2, "stride_h": 2, "filter_w": 2, "filter_h": 2}
    buf = build_model(tensors, [OpDef("AVERAGE_POOL_2D", (0,), (1,), options)], [0], [1])
    x = int8((1, 6, 4, 3))
    real = (x.astype(float) - 5).reshape(1, 3, 2, 2, 2, 3).mean(axis=(2, 4)) * 0.1
    got = run(buf, x)
    assert got.shape == (1, 3, 2, 3)
    assert np.abs(got - requantize(real, 0.1, 5)).max() <= 1


def test_int8_add_with_different_scales_runs_in_tflm_within_one_lsb_of_float() -> None:
    tensors = [act("a", (1, 2, 2, 8), 0.05, 1), act("b", (1, 2, 2, 8), 0.02, -4), act("y", (1, 2, 2, 8), 0.07, 3)]
    buf = build_model(tensors, [OpDef("ADD", (0, 1), (2,))], [0, 1], [2])
    a, b = int8((1, 2, 2, 8)), int8((1, 2, 2, 8))
    real = (a - 1.0) * 0.05 + (b + 4.0) * 0.02
    got = run(buf, a, b)
    assert got.shape == (1, 2, 2, 8)
    assert np.abs(got - requantize(real, 0.07, 3)).max() <= 1


def test_loader_refuses_an_options_table_of_the_wrong_type(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builder._options_of
    wrong = ("MulOptions", (("activation", "FusedActivationFunction", 0),))
    monkeypatch.setattr(builder, "_options_of", lambda name: wrong if name == "ADD" else real(name))
    buf = build_model([act("x", (1, 4)), act("y", (1, 4))], [OpDef("ADD", (0, 0), (1,))], [0], [1])
    with pytest.raises(ModelError, match=r"operator 0 \(ADD\): options table has union type 21; expected AddOptions"):
        parse(buf)
