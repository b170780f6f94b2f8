"""Refusals a user can act on: each names the model, the tensor or operator, the bad value and what is
accepted, in plain Python values, and comes before anything deeper can fail less clearly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from harness.errors import ModelError
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import load_model, parse_model

RUN_IO = "at least 1 input and at least 1 output are required"


def act(name: str, shape: tuple[int, ...], dtype: Dtype = Dtype.INT8, scale: float = 0.1, zp: int = 0,
        **kw: Any) -> TensorDef:
    return TensorDef(name, shape, dtype, (scale,), (zp,), **kw)


def fc_model(x: TensorDef | None = None, w_scale: tuple[float, ...] = (0.01,), w_zp: tuple[int, ...] = (0,),
             y: TensorDef | None = None) -> bytes:
    """x[1,8] -FULLY_CONNECTED-> y[1,4], per-tensor weights unless given several scales."""
    w = np.ones((4, 8), dtype=np.int8).tobytes()
    tensors = [x or act("x", (1, 8)), TensorDef("w", (4, 8), Dtype.INT8, w_scale, w_zp, data=w),
               y or act("y", (1, 4))]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,))], [0], [2])


def refused(buf: bytes) -> str:
    with pytest.raises(ModelError) as info:
        parse_model(buf, name="bad")
    assert info.value.status == "model"
    return str(info.value)


def as_dtype(number: int) -> Dtype:
    """A stand-in for a TFLite type the loader has no ``Dtype`` for; the builder writes only its number."""
    return cast(Dtype, SimpleNamespace(value=number))


# -- 1. a type the loader does not read is named -----------------------------------------------------------


@pytest.mark.parametrize(("number", "name"), [(12, "UINT64"), (13, "RESOURCE"), (18, "BFLOAT16")])
def test_a_type_the_loader_does_not_read_gets_its_tflite_name_and_the_supported_set(number: int, name: str) -> None:
    msg = refused(fc_model(x=TensorDef("x", (1, 8), as_dtype(number))))
    assert f"model bad: tensor 0 ('x'): type {name} (TFLite TensorType {number}) is not supported" in msg
    assert "INT8" in msg and "FLOAT32" in msg and "unknown type number" not in msg


def test_a_type_number_outside_the_schema_says_so_with_the_number() -> None:
    msg = refused(fc_model(x=TensorDef("x", (1, 8), as_dtype(99))))
    assert "tensor 0 ('x'): type number 99 is not a TFLite TensorType" in msg and "0..18" in msg


# -- 4. the float-input hint comes before the per-operator check -------------------------------------------


def _float_in_quantize_fc(dequantize: bool) -> bytes:
    """x float32 -QUANTIZE-> q -FULLY_CONNECTED-> h [-DEQUANTIZE-> y float32]: the usual published model."""
    w = np.ones((4, 8), dtype=np.int8).tobytes()
    tensors = [TensorDef("x", (1, 8), Dtype.FLOAT32), act("q", (1, 8)),
               TensorDef("w", (4, 8), Dtype.INT8, (0.01,), (0,), data=w), act("h", (1, 4))]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, -1), (3,))]
    if dequantize:
        tensors.append(TensorDef("y", (1, 4), Dtype.FLOAT32))
        ops.append(OpDef("DEQUANTIZE", (3,), (4,)))
    return build_model(tensors, ops, [0], [len(tensors) - 1])


@pytest.mark.parametrize("dequantize", [False, True], ids=["int8-output", "dequantize-output"])
def test_a_float_input_before_quantize_is_accepted(dequantize: bool) -> None:
    g = parse_model(_float_in_quantize_fc(dequantize), name="ok")
    assert g.input.dtype is Dtype.FLOAT32


def test_a_float_output_after_dequantize_is_accepted() -> None:
    w = np.ones((4, 8), dtype=np.int8).tobytes()
    tensors = [act("x", (1, 8)), TensorDef("w", (4, 8), Dtype.INT8, (0.01,), (0,), data=w), act("h", (1, 4)),
               TensorDef("y", (1, 4), Dtype.FLOAT32)]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,)), OpDef("DEQUANTIZE", (2,), (3,))]
    g = parse_model(build_model(tensors, ops, [0], [3]), name="ok")
    assert g.output.dtype is Dtype.FLOAT32


def test_a_float_output_of_a_float_operator_names_the_operator_and_full_int8_conversion() -> None:
    msg = refused(fc_model(y=TensorDef("y", (1, 4), Dtype.FLOAT32)))
    assert "operators 0 (FULLY_CONNECTED) compute in FLOAT32" in msg
    assert "output of a final DEQUANTIZE" in msg and "TFLITE_BUILTINS_INT8" in msg


def test_int16_activations_inside_the_graph_name_the_operator() -> None:
    tensors = [act("x", (1, 8)), act("h", (1, 8), Dtype.INT16), act("y", (1, 8))]
    ops = [OpDef("RELU", (0,), (1,)), OpDef("RELU", (1,), (2,))]
    msg = refused(build_model(tensors, ops, [0], [2]))
    assert "operator 0 (RELU): output tensor 1 ('h') is INT16; only INT8 activations are supported" in msg


# -- 5. one rule for graph inputs and outputs, in one message ----------------------------------------------


def _two_inputs() -> bytes:
    tensors = [act("a", (1, 8)), act("b", (1, 8)), act("y", (1, 8))]
    return build_model(tensors, [OpDef("ADD", (0, 1), (2,))], [0, 1], [2])


def _three_outputs() -> bytes:
    tensors = [act("x", (1, 8)), act("a", (1, 8)), act("b", (1, 8)), act("c", (1, 8))]
    return build_model(tensors, [OpDef("RELU", (0,), (k,)) for k in (1, 2, 3)], [0], [1, 2, 3])


def test_a_run_takes_several_inputs_and_outputs(tmp_path: Path) -> None:
    # the firmware loads each input in turn and reports each output (harness.protocol's hil-input and
    # hil-output; tests/integration/test_multi_io_qemu.py runs such a model)
    for name, model, n_in, n_out in (("two_inputs", _two_inputs(), 2, 1), ("three_outputs", _three_outputs(), 1, 3)):
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(model)
        graph = load_model(path)
        assert (len(graph.inputs), len(graph.outputs)) == (n_in, n_out)


def test_a_graph_without_outputs_is_refused(tmp_path: Path) -> None:
    model = build_model([act("x", (1, 8)), act("a", (1, 8))], [OpDef("RELU", (0,), (1,))], [0], [])
    path = tmp_path / "no_outputs.tflite"
    path.write_bytes(model)
    with pytest.raises(ModelError) as loaded:
        load_model(path)
    assert f"model {path}: 1 input and 0 outputs; {RUN_IO}" in str(loaded.value)


# -- 6. quantization parameters out of range are refused at the edge ---------------------------------------


@pytest.mark.parametrize(("zp", "where"), [(1 << 40, "weights"), (-(1 << 40), "weights"), (1 << 40, "input")])
def test_a_zero_point_outside_int32_is_a_model_error_naming_tensor_value_and_range(zp: int, where: str) -> None:
    buf = fc_model(w_zp=(zp,)) if where == "weights" else fc_model(x=act("x", (1, 8), zp=zp))
    msg = refused(buf)
    tensor = "tensor 1 ('w')" if where == "weights" else "tensor 0 ('x')"
    assert f"{tensor}: zero point {zp} (channel 0) is outside int32 (-2147483648..2147483647)" in msg


def test_a_weights_zero_point_outside_int8_is_refused_by_the_operator() -> None:
    msg = refused(fc_model(w_zp=(300,)))
    assert "operator 0 (FULLY_CONNECTED): weights tensor 1 ('w') has zero point 300 (channel 0)" in msg
    assert "-128..127" in msg


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", ["weights", "input"])
def test_a_scale_that_is_not_finite_is_refused_at_the_loader(scale: float, where: str) -> None:
    buf = fc_model(w_scale=(scale,)) if where == "weights" else fc_model(x=act("x", (1, 8), scale=scale))
    msg = refused(buf)
    tensor = "tensor 1 ('w')" if where == "weights" else "tensor 0 ('x')"
    assert f"{tensor}: scale {scale} (channel 0) is not a finite number; expected a scale > 0" in msg


@pytest.mark.parametrize("scale", [0.0, -0.5])
def test_a_scale_not_above_zero_names_the_tensor_the_value_and_the_channel(scale: float) -> None:
    msg = refused(fc_model(w_scale=(0.01, 0.02, scale, 0.01), w_zp=(0, 0, 0, 0)))
    assert f"weights tensor 1 ('w') has scale {scale} (channel 2); expected > 0" in msg
    msg = refused(fc_model(y=act("y", (1, 4), scale=scale)))
    assert f"output tensor 2 ('y') has scale {scale}; expected > 0" in msg


def test_fewer_zero_points_than_scales_are_refused() -> None:
    msg = refused(fc_model(w_scale=(0.01, 0.02, 0.03, 0.04), w_zp=(0, 0)))
    assert "tensor 1 ('w'): 4 scales and 2 zero points; expected one zero point per scale" in msg


# -- 3. messages hold Python values, never numpy reprs -----------------------------------------------------


REFUSALS: dict[str, Callable[[], bytes]] = {
    "dynamic shape": lambda: fc_model(x=act("x", (1, 8), shape_signature=(-1, -1))),
    "unknown dtype": lambda: fc_model(x=TensorDef("x", (1, 8), as_dtype(12))),
    "zero point beyond int32": lambda: fc_model(w_zp=(1 << 40,)),
    "nan scale": lambda: fc_model(x=act("x", (1, 8), scale=float("nan"))),
    "zero weights scale": lambda: fc_model(w_scale=(0.0,)),
    "activation zero point": lambda: fc_model(y=act("y", (1, 4), zp=200)),
    "weights zero point": lambda: fc_model(w_zp=(-129,)),
    "float output": lambda: fc_model(y=TensorDef("y", (1, 4), Dtype.FLOAT32)),
    "float model": lambda: _float_model(),
    "several blockers": lambda: _several_blockers(),
    "uint8 model": lambda: _uint8_model(),
    "no outputs": lambda: build_model([act("x", (1, 8)), act("a", (1, 8))], [OpDef("RELU", (0,), (1,))], [0], []),
    "softmax quantization": lambda: build_model([act("x", (1, 8)), act("y", (1, 8), scale=0.2, zp=3)],
                                                [OpDef("SOFTMAX", (0,), (1,), {"beta": 1.0})], [0], [1]),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_hold_no_numpy_reprs(case: str) -> None:
    msg = refused(REFUSALS[case]())
    assert "np." not in msg and "numpy" not in msg, msg
    assert msg.startswith("model bad: ")


# -- 7. one refusal names every blocker of a model (issue 13, item 5) --------------------------------------

INT8_CONVERTER = ("converter.optimizations = [tf.lite.Optimize.DEFAULT]", "representative dataset",
                  "converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]",
                  "converter.inference_input_type = tf.int8", "converter.inference_output_type = tf.int8")


def _float_model() -> bytes:
    """A float model as the converter writes one without quantization: float32 throughout."""
    w = np.ones((4, 8), dtype="<f4").tobytes()
    tensors = [TensorDef("x", (1, 8), Dtype.FLOAT32), TensorDef("w", (4, 8), Dtype.FLOAT32, data=w),
               TensorDef("h", (1, 4), Dtype.FLOAT32), TensorDef("y", (1, 4), Dtype.FLOAT32)]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,)), OpDef("SOFTMAX", (2,), (3,), {"beta": 1.0})]
    return build_model(tensors, ops, [0], [3])


def _several_blockers() -> bytes:
    """int8 in, then a builtin hilbench does not have, an Ethos-U custom operator, an int16 RELU, a UINT64 tensor, an Edge
    TPU custom operator and a custom operator of no NPU."""
    tensors = [act("x", (1, 8)), act("a", (1, 8)), act("b", (1, 8)), act("c", (1, 8), Dtype.INT16),
               TensorDef("d", (1, 8), as_dtype(12)), act("e", (1, 8)), act("y", (1, 8))]
    ops = [OpDef("LSH_PROJECTION", (0,), (1,)), OpDef("CUSTOM:ethos-u", (1,), (2,)), OpDef("RELU", (2,), (3,)),
           OpDef("CUSTOM:edgetpu-custom-op", (3,), (4,)), OpDef("CUSTOM:MyOp", (4,), (5,)),
           OpDef("RELU", (5,), (6,))]
    return build_model(tensors, ops, [0], [6])


def _uint8_model() -> bytes:
    """The older quantization scheme: uint8 activations and weights throughout."""
    w = np.ones((4, 8), dtype=np.uint8).tobytes()
    tensors = [act("x", (1, 8), Dtype.UINT8, zp=128), TensorDef("w", (4, 8), Dtype.UINT8, (0.01,), (128,), data=w),
               act("y", (1, 4), Dtype.UINT8, zp=128)]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,))], [0], [2])


def test_a_float_model_gets_the_converter_settings_that_make_it_int8() -> None:
    msg = refused(_float_model())
    assert "operators 0 (FULLY_CONNECTED), 1 (SOFTMAX) compute in FLOAT32" in msg
    assert all(setting in msg for setting in INT8_CONVERTER), msg
    assert "\n" not in msg  # one problem: not a list of each float tensor


def test_every_blocker_is_named_at_once_with_its_operator_index() -> None:
    msg = refused(_several_blockers())
    assert msg.startswith("model bad: 5 problems:\n  1. ")
    lines = msg.splitlines()[1:]
    assert lines[0] == "  1. tensor 4 ('d'): type UINT64 (TFLite TensorType 12) is not supported; the loader reads " \
        + lines[0].split("the loader reads ", 1)[1]
    assert "operator 0 is LSH_PROJECTION, which is not supported; supported operators: [" in lines[1]
    assert "operator 1 is CUSTOM 'ethos-u'" in lines[2] and "Vela" in lines[2] and "Ethos-U" in lines[2]
    assert "benchmark the model from before that compiler ran" in lines[2]
    assert "operator 3 is CUSTOM 'edgetpu-custom-op'" in lines[3] and "Edge TPU compiler" in lines[3]
    assert "benchmark the model from before that compiler ran" in lines[3]
    assert lines[4] == "  5. operator 4 is CUSTOM 'MyOp', a custom operator; only TFLite builtin operators are supported"
    assert msg.count("FULLY_CONNECTED") == 1  # the supported operators are listed once
    assert "QUANTIZE_FROM_FLOAT" not in msg  # kernel variants are not operators a user can write


def test_operator_and_tensor_problems_are_listed_together_once_types_are_readable() -> None:
    tensors = [act("x", (1, 8)), act("a", (1, 8)), act("b", (1, 8), Dtype.INT16), act("y", (1, 8), zp=300)]
    ops = [OpDef("SKIP_GRAM", (0,), (1,)), OpDef("RELU", (1,), (2,)), OpDef("RELU", (2,), (3,))]
    msg = refused(build_model(tensors, ops, [0], [3]))
    assert msg.startswith("model bad: 3 problems:\n")
    assert "  1. operator 0 is SKIP_GRAM, which is not supported" in msg
    assert "  2. operator 1 (RELU): output tensor 2 ('b') is INT16; only INT8 activations are supported" in msg
    assert "  3. operator 2 (RELU): input tensor 2 ('b') is INT16" in msg


def test_a_uint8_model_is_refused_with_how_to_requantize() -> None:
    msg = refused(_uint8_model())
    assert "operators 0 (FULLY_CONNECTED) compute in UINT8, the older quantization scheme" in msg
    assert "TFLite Micro's int8 kernels do not take uint8 activations inside the graph" in msg
    assert all(setting in msg for setting in INT8_CONVERTER), msg


def test_uint8_at_the_edges_is_accepted_and_a_uint8_quantize_inside_is_not() -> None:
    w = np.ones((4, 8), dtype=np.int8).tobytes()
    tensors = [act("x", (1, 8), Dtype.UINT8, zp=128), act("q", (1, 8)),
               TensorDef("w", (4, 8), Dtype.INT8, (0.01,), (0,), data=w), act("h", (1, 4)),
               act("y", (1, 4), Dtype.UINT8, zp=3)]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, -1), (3,)), OpDef("QUANTIZE", (3,), (4,))]
    assert parse_model(build_model(tensors, ops, [0], [4]), name="ok").output.dtype is Dtype.UINT8
    bad_zp = [act("x", (1, 8), Dtype.UINT8, zp=300), *tensors[1:]]
    msg = refused(build_model(bad_zp, ops, [0], [4]))
    assert "operator 0 (QUANTIZE): input tensor 0 ('x') has zero point 300; expected 0..255 (UINT8)" in msg


def test_graph_input_and_output_problems_are_listed_with_the_operators() -> None:
    tensors = [act("x", (1, 8), Dtype.INT16), act("a", (1, 8)), act("b", (1, 8))]
    ops = [OpDef("LSH_PROJECTION", (0,), (1,)), OpDef("RELU", (1,), (2,))]
    with pytest.raises(ModelError) as info:
        parse_model(build_model(tensors, ops, [0], [1, 2]), name="bad", several_inputs=False)
    lines = str(info.value).splitlines()
    assert lines[0] == "model bad: 2 problems:"  # two outputs are no problem (the firmware reports each)
    assert lines[1].startswith("  1. graph input tensor 0 ('x') is INT16; INT8 is required, or FLOAT32 or UINT8 "
                               "read only by QUANTIZE: convert with converter.optimizations")
    assert lines[2].startswith("  2. operator 0 is LSH_PROJECTION, which is not supported; supported operators")
