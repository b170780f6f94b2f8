"""int16 SOFTMAX (harness/ops/softmax16.py; firmware/kernels/portable/softmax16.c).

TFLite Micro builds its exp and 1 / (1 + x) tables by a formula at Prepare; hilbench evaluates the same formula
in float32. These tests check the tables' ends and shape, that the numpy model matches the interpreter on random
rows, scales and betas and on a sweep that reaches every entry of the reciprocal table (where tables computed in
double would differ), that the C kernel compiled for the host under ASan and UBSan matches the interpreter bit
for bit on random shapes of rank 1 to 4, input scales and betas (HILBENCH_OP_CASES cases, default 16), that a
model is bit-exact on QEMU, and that the refusals name the operator, the value and what is accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.codegen import generate
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.ops import softmax16
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_cc, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Q15 = 2.0 ** -15
Rng = np.random.Generator


def _int16_model(shape: tuple[int, ...], scale: float, beta: float) -> bytes:
    """int16 (``scale``) -SOFTMAX-> int16 Q0.15: the interpreter's int16 outputs, for the numpy model."""
    tensors = [TensorDef("x", shape, Dtype.INT16, (scale,), (0,)), TensorDef("y", shape, Dtype.INT16, (Q15,), (0,))]
    return build_model(tensors, [OpDef("SOFTMAX", (0,), (1,), {"beta": beta})], [0], [1])


def _interpret_int16(shape: tuple[int, ...], scale: float, beta: float, x: np.ndarray) -> np.ndarray:
    """The interpreter's int16 output of ``_int16_model`` (int16 graph edges, which ``interpret``'s model check
    refuses: hilbench's firmware takes INT8 or FLOAT32 inputs)."""
    from tflite_micro.python.tflite_micro import runtime

    ip = runtime.Interpreter.from_bytes(_int16_model(shape, scale, beta), arena_size=1 << 20)
    ip.set_input(x, 0)
    ip.invoke()
    return np.asarray(ip.get_output(0)).astype(np.int64)


def _model(shape: tuple[int, ...], scale: float, beta: float, out: TensorDef | None = None) -> bytes:
    """float32 -QUANTIZE-> int16 (``scale``) -SOFTMAX-> int16 (Q0.15, or ``out``) -DEQUANTIZE-> float32."""
    y = out or TensorDef("s", shape, Dtype.INT16, (Q15,), (0,))
    tensors = [TensorDef("x", shape, Dtype.FLOAT32), TensorDef("q", shape, Dtype.INT16, (scale,), (0,)), y,
               TensorDef("y", shape, Dtype.FLOAT32)]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("SOFTMAX", (1,), (2,), {"beta": beta}), OpDef("DEQUANTIZE", (2,), (3,))]
    return build_model(tensors, ops, [0], [3])


def _case(rng: Rng) -> tuple[tuple[int, ...], float, float]:
    """A random shape of rank 1 to 4 (rows of 1 to 300), an input scale and a beta (1.0 half the time)."""
    rank = int(rng.integers(1, 5))
    shape = tuple(int(d) for d in rng.integers(1, 4, rank - 1)) + (int(rng.integers(1, 301)),)
    scale = float(np.float32(10 ** rng.uniform(-5.5, -1.5)))
    beta = 1.0 if rng.random() < 0.5 else float(np.float32(10 ** rng.uniform(-1, 1)))
    return shape, scale, beta


def _float_input(rng: Rng, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Floats spanning the int16 range (a little beyond half the time, so the QUANTIZE saturates), or a part."""
    spread = 40000 if rng.random() < 0.5 else float(rng.choice([300, 3000, 30000]))
    return (rng.uniform(-spread, spread, shape) * scale).astype(np.float32)


def test_the_tables_run_from_exp_minus_10_to_1_and_from_1_to_one_half() -> None:
    exp, reciprocal = softmax16.exp_table(), softmax16.reciprocal_table()
    assert len(exp) == len(reciprocal) == softmax16.LUT_STEPS + 1
    assert (exp[0], exp[-1], reciprocal[0], reciprocal[-1]) == (2, 32767, 32767, 16384)
    assert all(np.diff(exp) >= 0) and all(np.diff(reciprocal) <= 0)
    at = np.arange(softmax16.LUT_STEPS + 1) / softmax16.LUT_STEPS
    assert np.abs(np.array(exp) - 32768 * np.exp(-10 + 10 * at)).max() < 1.5
    assert np.abs(np.array(reciprocal) - 32768 / (1 + at)).max() < 1.5


def test_the_numpy_model_matches_the_interpreter_on_random_rows() -> None:
    rng = np.random.default_rng(1)
    for _ in range(4 * CASES):
        shape, scale, beta = _case(rng)
        x = rng.integers(-32768, 32768, shape).astype(np.int16)
        if rng.random() < 0.5:  # rows of near values: many exps near 1, a sum with little headroom
            x = (x // int(rng.choice([8, 100, 3000]))).astype(np.int16)
        expected = _interpret_int16(shape, scale, beta, x)
        got = softmax16.softmax16(x, *softmax16.softmax16_params(scale, beta))
        assert np.array_equal(got, expected), f"{shape} scale {scale:g} beta {beta:g}"


@pytest.mark.parametrize("scale", [10 / 65535, 1e-4, 3.3e-4])
def test_the_model_matches_the_interpreter_at_every_reciprocal_entry(scale: float) -> None:
    # rows (0, -k) for every k: the sum of exps takes every value from 32767 up to 65534, so the normalized
    # sum reaches every interval of the reciprocal table, including the two where a double table differs
    k = np.arange(32768)
    x = np.stack([np.zeros_like(k), -k], 1).astype(np.int16)
    scale = float(np.float32(scale))
    expected = _interpret_int16(x.shape, scale, 1.0, x)
    assert np.array_equal(softmax16.softmax16(x, *softmax16.softmax16_params(scale, 1.0)), expected)


@requires_cc
def test_the_kernel_is_bit_exact_on_random_cases_on_the_host() -> None:
    rng = np.random.default_rng(2)
    for _ in range(CASES):
        shape, scale, beta = _case(rng)
        model = _model(shape, scale, beta)
        graph = parse_model(model, name="softmax16")
        assert [layer.op for layer in generate(graph).layers][1] == "SOFTMAX_INT16"
        host = build_host_model(graph)
        for _ in range(3):
            x = _float_input(rng, shape, scale)
            assert host.output(x.tobytes()) == interpret(model, x), f"{shape} scale {scale:g} beta {beta:g}"


@requires_qemu
@requires_cc
def test_a_softmax16_model_is_bit_exact_on_qemu(tmp_path: Path) -> None:
    path = tmp_path / "softmax16.tflite"
    path.write_bytes(_model((3, 100), 4e-4, 1.0))
    run = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.ok and run.matches_reference, f"{run.status}: {run.error}"


def test_refusals_name_the_value_and_what_is_accepted() -> None:
    shape = (2, 8)
    refused = (
        (_model(shape, 1e-3, 1.0, TensorDef("s", shape, Dtype.INT16, (2.0 ** -14,), (0,))), "needs scale 2^-15"),
        (_model(shape, 1e-3, 1.0, TensorDef("s", shape, Dtype.INT16, (Q15,), (3,))), "zero point 3"),
        (_model(shape, 1e-3, 1.0, TensorDef("s", shape, Dtype.INT8, (1 / 256,), (-128,))), "gives INT16"),
        (_model(shape, 1e-3, -1.0), "beta is -1.0; expected > 0"),
        (_model(shape, 0.5, 20.0), "expected below"),
    )
    for model, words in refused:
        with pytest.raises(ModelError) as info:
            parse_model(model, name="refused")
        assert "operator 1 (SOFTMAX)" in str(info.value) and words in str(info.value), str(info.value)
