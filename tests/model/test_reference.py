"""The host reference: per-layer outputs and float32 outputs, checked against the interpreter's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ModelError
from harness.model import load_model, parse_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.reference import (
    default_input,
    interpreter_arena_bytes,
    reference_layer_outputs,
    reference_output,
)

RNG = np.random.default_rng(7)


def _fc_relu_dequantize(tmp_path: Path) -> Path:
    """x[1,8] -FC-> h[1,4] -RELU-> r[1,4] -DEQUANTIZE-> y[1,4] float32."""
    w = RNG.integers(-128, 128, (4, 8), dtype=np.int8)
    bias = np.array([300, -200, 0, 50], "<i4")
    tensors = [TensorDef("x", (1, 8), Dtype.INT8, (0.05,), (3,)),
               TensorDef("w", (4, 8), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("b", (4,), Dtype.INT32, (0.0005,), (0,), data=bias.tobytes()),
               TensorDef("h", (1, 4), Dtype.INT8, (0.1,), (-5,)),
               TensorDef("r", (1, 4), Dtype.INT8, (0.1,), (-5,)),
               TensorDef("y", (1, 4), Dtype.FLOAT32)]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": 0}),
           OpDef("RELU", (3,), (4,)),
           OpDef("DEQUANTIZE", (4,), (5,))]
    path = tmp_path / "fc_dequantize.tflite"
    path.write_bytes(build_model(tensors, ops, [0], [5]))
    return path


def test_float32_output_keeps_its_raw_bytes(tmp_path: Path) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x = default_input(g, seed=3)
    out = reference_output(str(path), g, x)
    assert len(out) == 4 * 4  # four float32 values, not four int8 casts
    y = np.frombuffer(out, "<f4")
    assert np.all(y >= 0.0)  # after RELU
    # the dequantized values lie on the grid of the RELU output: 0.1 * (q + 5)
    np.testing.assert_allclose(y / np.float32(0.1) - 5, np.round(y / np.float32(0.1) - 5), atol=1e-3)


def test_layer_outputs_are_each_operators_output_tensor(tmp_path: Path) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x = default_input(g, seed=3)
    layers = reference_layer_outputs(str(path), g, x)
    assert [len(b) for b in layers] == [4, 4, 16]
    assert layers[-1] == reference_output(str(path), g, x)
    relu = np.frombuffer(layers[1], np.int8).astype(np.int32)
    np.testing.assert_array_equal(relu, np.maximum(np.frombuffer(layers[0], np.int8), -5))


def test_tinycnn_layer_outputs_end_in_the_output() -> None:
    from harness.model.zoo import resolve_model

    ref = resolve_model("tinycnn")
    g = load_model(ref.path)
    x = default_input(g)
    layers = reference_layer_outputs(str(ref.path), g, x)
    assert len(layers) == len(g.operators)
    assert [len(b) for b in layers] == [g.tensors[op.outputs[0]].nbytes for op in g.operators]
    assert layers[-1] == reference_output(str(ref.path), g, x)
    assert layers[2] == layers[1]  # RESHAPE copies its input


def test_interpreter_failure_is_a_model_error(tmp_path: Path) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    with pytest.raises(ModelError, match="per-layer outputs"):
        reference_layer_outputs(str(tmp_path / "gone.tflite"), g, default_input(g))
    with pytest.raises(ModelError, match="host interpreter failed"):
        reference_output(str(tmp_path / "gone.tflite"), g, default_input(g))


def _relu_chain(path: Path, shape: tuple[int, ...]) -> Path:
    """x -RELU-> h -RELU-> y, all int8 of ``shape``: a file of a few hundred bytes, activations of 3 x shape."""
    tensors = [TensorDef(name, shape, Dtype.INT8, (0.1,), (-3,)) for name in ("x", "h", "y")]
    path.write_bytes(build_model(tensors, [OpDef("RELU", (0,), (1,)), OpDef("RELU", (1,), (2,))], [0], [2]))
    return path


def test_a_model_whose_activations_dwarf_its_file_runs_in_the_interpreter(tmp_path: Path) -> None:
    from tflite_micro.python.tflite_micro import runtime

    path = _relu_chain(tmp_path / "wide.tflite", (1, 128, 128, 8))
    g = load_model(path)
    assert 10 * g.file_bytes < g.input.nbytes  # the interpreter's default arena cannot hold even the input
    with pytest.raises(RuntimeError, match="allocate"):
        runtime.Interpreter.from_file(str(path))
    x = default_input(g, seed=5)
    expected = np.maximum(np.frombuffer(x, np.int8), -3).tobytes()
    assert reference_output(str(path), g, x) == expected
    assert reference_layer_outputs(str(path), g, x) == [expected, expected]


def test_the_arena_size_holds_two_128x128_inputs_and_is_at_least_the_default() -> None:
    from tflite_micro.python.tflite_micro import runtime

    tensors = [TensorDef(name, (1, 128, 128), Dtype.INT8, (0.1,), (0,)) for name in ("a", "b", "y")]
    model = build_model(tensors, [OpDef("ADD", (0, 1), (2,))], [0, 1], [2])
    g = parse_model(model, name="add")  # several inputs: the host build's rule
    arena = interpreter_arena_bytes(g)
    assert arena % 16 == 0 and arena >= 10 * len(model) and arena >= 2 * 3 * 128 * 128
    a, b = (RNG.integers(-60, 60, (1, 128, 128), dtype=np.int8) for _ in range(2))
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena)
    interpreter.set_input(a, 0)
    interpreter.set_input(b, 1)
    interpreter.invoke()
    np.testing.assert_array_equal(interpreter.get_output(0), a.astype(np.int16) + b)
