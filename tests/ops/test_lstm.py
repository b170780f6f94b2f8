"""UNIDIRECTIONAL_SEQUENCE_LSTM (harness/ops/lstm.py; firmware/kernels/portable/lstm.c): bit-exact against the
tflite-micro interpreter on random sizes and quantizations (batch, time steps, input size, units, scales, zero
points, cell state powers of two, cell clips, time-major layouts), on the host build under AddressSanitizer and
UndefinedBehaviorSanitizer; a model from TensorFlow's converter (two stacked Keras LSTMs, tf_keras) on the host
and on QEMU; and the refusals (CIFG, peephole, projection, layer norm, float, other activations, a cell scale that
is not a power of two, per-channel weights, states that are not variable tensors).

The random models are written with harness.model.builder in the converter's layout (24 inputs, the states as
variable tensors 18 and 19). HILBENCH_OP_CASES sets the random cases (default 16).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.host import HostModel, build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_qemu, tensorflow_converted

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def _host(model: bytes, name: str) -> HostModel:
    # the host arena starts each variable tensor as the firmware does (TFLM's reset: an int8 hidden state at
    # its zero point); test_the_hidden_state_starts_at_its_zero_point fails without that
    return build_host_model(parse_model(model, name=name))


@dataclass(frozen=True)
class Case:
    batches: int = 1
    steps: int = 3
    in_depth: int = 4
    units: int = 5
    input_q: tuple[float, int] = (0.03, 5)
    hidden_q: tuple[float, int] = (0.01, -7)
    cell_power: int = -15
    cell_clip: float = 0.0
    time_major: bool = False
    weight_scale: float = 0.006
    bias_range: int = 20000


def _f32(v: float) -> float:
    return float(np.float32(v))


def lstm_tensors(case: Case, rng: np.random.Generator) -> list[TensorDef]:
    """The converter's layout: input, 4 input weights, 4 recurrent weights (gates input, forget, cell, output),
    4 biases (scale input x weight), hidden and cell state (variable), output; 16 tensors."""
    c = case
    scales = rng.uniform(0.5, 1.5, 8) * c.weight_scale
    t = [TensorDef("x", (c.steps, c.batches, c.in_depth) if c.time_major else (c.batches, c.steps, c.in_depth),
                   Dtype.INT8, (c.input_q[0],), (c.input_q[1],))]
    for k in range(8):
        cols = c.in_depth if k < 4 else c.units
        w = rng.integers(-127, 128, (c.units, cols), dtype=np.int8)
        t.append(TensorDef(f"w{k}", (c.units, cols), Dtype.INT8, (float(scales[k]),), (0,), data=w.tobytes()))
    for k in range(4):
        b = rng.integers(-c.bias_range, c.bias_range + 1, c.units).astype("<i4")
        t.append(TensorDef(f"b{k}", (c.units,), Dtype.INT32, (_f32(np.float32(c.input_q[0]) * np.float32(scales[k])),),
                           (0,), data=b.tobytes()))
    t.append(TensorDef("h", (c.batches, c.units), Dtype.INT8, (c.hidden_q[0],), (c.hidden_q[1],), is_variable=True))
    t.append(TensorDef("c", (c.batches, c.units), Dtype.INT16, (2.0 ** c.cell_power,), (0,), is_variable=True))
    t.append(TensorDef("y", (c.steps, c.batches, c.units) if c.time_major else (c.batches, c.steps, c.units),
                       Dtype.INT8, (c.hidden_q[0],), (c.hidden_q[1],)))
    return t


# tensor indices of lstm_tensors() in the operator's 24 inputs; -1: omitted
INPUTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1)


def lstm_model(case: Case, rng: np.random.Generator, tensors: list[TensorDef] | None = None,
               inputs: tuple[int, ...] = INPUTS, **options: Any) -> bytes:
    t = lstm_tensors(case, rng) if tensors is None else tensors
    opts = {"activation": 4, "cell_clip": case.cell_clip, "time_major": case.time_major, **options}
    return build_model(t, [OpDef(LSTM, inputs, (15,), opts)], [0], [15])


def _random_case(rng: np.random.Generator, k: int) -> Case:
    return Case(batches=int(rng.integers(1, 3)) if k % 4 == 3 else 1, steps=int(rng.integers(1, 7)),
                in_depth=int(rng.integers(1, 10)), units=int(rng.integers(1, 10)),
                input_q=(float(rng.uniform(0.004, 0.06)), int(rng.integers(-30, 31))),
                hidden_q=(float(rng.uniform(0.002, 0.03)), int(rng.integers(-30, 31))),
                cell_power=int(rng.integers(-17, -9)),
                # none, a clip that binds (cell values beyond 0.5..1) and one above the int16 range (no effect)
                cell_clip=(0.0, float(rng.uniform(0.5, 1.0)), 10.0)[k % 3],
                time_major=k % 2 == 1, weight_scale=float(rng.uniform(0.002, 0.03)),
                bias_range=int(rng.choice([0, 3000, 30000])))


def _mismatches(model: bytes, name: str, rng: np.random.Generator, runs: int = 2) -> list[str]:
    host = _host(model, name)
    shape = host.graph.tensors[host.graph.inputs[0]].shape
    problems = []
    for _ in range(runs):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        expected, got = interpret(model, x), host.output(x.tobytes())
        if got != expected:
            e, g = np.frombuffer(expected, np.int8), np.frombuffer(got, np.int8)
            problems.append(f"{int(np.sum(e != g))} of {e.size} outputs differ (first at {int(np.argmax(e != g))})")
    return problems


def test_lstm_is_bit_exact_on_random_cases() -> None:
    rng = np.random.default_rng(250)
    failures = []
    for k in range(CASES):
        case = _random_case(rng, k)
        failures += [f"case {k} {case}: {p}" for p in _mismatches(lstm_model(case, rng), f"lstm_{k}", rng)]
    assert not failures, "\n".join(failures)


def test_saturated_gates_and_a_binding_clip_are_bit_exact() -> None:
    # large weights and biases drive the gate sums past int16 and the cell state into its clip
    rng = np.random.default_rng(7)
    case = Case(steps=6, in_depth=8, units=6, weight_scale=0.05, bias_range=2_000_000, cell_clip=0.8,
                cell_power=-14)
    assert not _mismatches(lstm_model(case, rng), "lstm_saturated", rng, runs=3)


def test_the_hidden_state_starts_at_its_zero_point() -> None:
    # one step, zero input weights and biases: every gate is the recurrent product of a hidden state of real value
    # 0, so the interpreter's output depends on the state starting at the zero point rather than at 0
    rng = np.random.default_rng(3)
    case = Case(steps=1, hidden_q=(0.02, -100), bias_range=0)
    t = lstm_tensors(case, rng)
    zeros = [TensorDef(d.name, d.shape, d.dtype, d.scale, d.zero_point, data=bytes(len(d.data or b"")))
             for d in t[1:5]]
    model = lstm_model(case, rng, tensors=[t[0], *zeros, *t[5:]])
    x = rng.integers(-128, 128, (1, 1, case.in_depth), dtype=np.int8)
    assert _host(model, "lstm_zp").output(x.tobytes()) == interpret(model, x)


# Two stacked Keras LSTMs (tf_keras: Keras 3's LSTM does not convert to the fused operator) and a Dense layer,
# full int8: the converter gives two UNIDIRECTIONAL_SEQUENCE_LSTM, a STRIDED_SLICE (the last step) and a
# FULLY_CONNECTED. Converted in a subprocess, so TensorFlow stays out of this one.
_CONVERT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, tf_keras as keras
rng = np.random.default_rng(0)
keras.utils.set_random_seed(1)
inp = keras.Input((7, 5), batch_size=1)
h = keras.layers.LSTM(8, return_sequences=True)(inp)
h = keras.layers.LSTM(6)(h)
out = keras.layers.Dense(3)(h)
conv = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, out))
conv.optimizations = [tf.lite.Optimize.DEFAULT]
conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 7, 5)).astype(np.float32)] for _ in range(50))
conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
conv.inference_input_type = tf.int8
conv.inference_output_type = tf.int8
open(sys.argv[1], "wb").write(conv.convert())
"""
_CONVERTED_OPS = [LSTM, LSTM, "STRIDED_SLICE", "FULLY_CONNECTED"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tensorflow_converted(tmp_path_factory.mktemp("converted"), "tf_lstm.tflite", _CONVERT, needs=("tf_keras",))


def test_a_converter_made_lstm_is_bit_exact_on_the_host(converted: Path) -> None:
    model = converted.read_bytes()
    graph = parse_model(model, name="tf_lstm")
    assert [op.opcode for op in graph.operators] == _CONVERTED_OPS
    assert sum(t.is_variable for t in graph.tensors) == 4
    assert not _mismatches(model, "tf_lstm", np.random.default_rng(2), runs=4)


@requires_qemu
def test_a_converter_made_lstm_is_bit_exact_on_qemu(converted: Path) -> None:
    record = run_model(converted, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex)) == 3


def _with(t: list[TensorDef], index: int, **changes: Any) -> list[TensorDef]:
    d = t[index]
    fields = {"name": d.name, "shape": d.shape, "dtype": d.dtype, "scale": d.scale, "zero_point": d.zero_point,
              "axis": d.axis, "data": d.data, "is_variable": d.is_variable, **changes}
    return [*t[:index], TensorDef(**fields), *t[index + 1:]]


def _replaced(inputs: tuple[int, ...], position: int, tensor: int) -> tuple[int, ...]:
    return (*inputs[:position], tensor, *inputs[position + 1:])


def _refusals() -> list[tuple[str, bytes, str]]:
    case, rng = Case(), np.random.default_rng(0)
    t = lstm_tensors(case, rng)
    per_channel = TensorDef("wc", (5, 4), Dtype.INT8, (0.01,) * 5, (0,) * 5, data=bytes(20))
    floats = [TensorDef(d.name, d.shape, Dtype.FLOAT32,
                        data=None if d.data is None else bytes(4 * int(np.prod(d.shape))), is_variable=d.is_variable)
              for d in t]
    return [
        ("cifg", lstm_model(case, rng, t, _replaced(INPUTS, 1, -1)),
         r"operator 0 \(UNIDIRECTIONAL_SEQUENCE_LSTM\): input gate weights \(input 1\) are omitted: a CIFG LSTM"),
        ("peephole", lstm_model(case, rng, t, _replaced(INPUTS, 10, 9)),
         r"input 10 \(cell_to_forget \(peephole\)\) is tensor 9 .*peephole, projection or layer-norm weights are not"),
        ("projection", lstm_model(case, rng, t, _replaced(INPUTS, 16, 5)),
         r"input 16 \(projection weights\) is tensor 5"),
        ("layer norm", lstm_model(case, rng, t, _replaced(INPUTS, 21, 10)), r"input 21 \(forget layer norm\)"),
        ("float", lstm_model(case, rng, floats),
         r"operators 0 \(UNIDIRECTIONAL_SEQUENCE_LSTM\) compute in FLOAT32: the model is not quantized"),
        ("activation", lstm_model(case, rng, t, activation=1),
         r"fused activation 1 is not supported; TANH \(4\), as Keras LSTMs have it, only"),
        ("cell scale", lstm_model(case, rng, _with(t, 14, scale=(3e-5,))),
         r"cell state tensor 14 \('c'\) has scale=3e-05 zero_point=0; .* a power-of-two scale 2\^k"),
        ("per channel", lstm_model(case, rng, [*t[:2], per_channel, *t[3:]]),
         r"forget gate input weights tensor 2 \('wc'\) have 5 scales and zero point 0; .* one scale"),
        ("not variable", lstm_model(case, rng, _with(t, 13, is_variable=False)),
         r"reads tensor 13 before any operator writes it"),
        ("int16 input", lstm_model(case, rng, _with(t, 0, dtype=Dtype.INT16, zero_point=(0,))),
         r"input tensor 0 \('x'\) is INT16; only INT8 activations are supported"),
        ("output quantization", lstm_model(case, rng, _with(t, 15, scale=(0.5,))),
         r"output \(scale=0.5 zero_point=-7\) and hidden state \(scale=0.01 zero_point=-7\) are quantized diff"),
        ("diagonal", lstm_model(case, rng, t, diagonal_recurrent_tensors=True), r"diagonal_recurrent_tensors is true"),
    ]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _refusals()])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")
