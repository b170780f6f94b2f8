"""int16 LOGISTIC and TANH (harness/ops/lut16.py, sigmoid16.py; firmware/kernels/portable/lut16.c).

TFLite Micro interpolates in a hand-tuned sigmoid table that no formula gives; hilbench measures it from the
interpreter. These tests check that the measurement's probes reach every input of the kernels, that the
measured table reproduces the interpreter at every int16 input for random input scales (and scales that
saturate), that the C kernels compiled for the host under ASan and UBSan match the interpreter bit for bit
over every int16 input, and that a model with both operators (one shared table) is bit-exact on QEMU.
"""

from __future__ import annotations

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
from harness.ops import lut16
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_cc, requires_qemu

OPS = {"LOGISTIC": (lut16.logistic16, lut16.logistic_prepare), "TANH": (lut16.tanh16, lut16.tanh_prepare)}
EVERY_INT16 = np.arange(-32768, 32768, dtype=np.int16)


def _scales(seed: int) -> list[float]:
    """Power-of-two scales (the kernels' multiplier-0 case), scales that saturate most inputs, random ones."""
    rng = np.random.default_rng(seed)
    return [2.0 ** -12, 2.0 ** -11, 2.0 ** -9, 2.0 ** -15, 0.05, 3e-3] + \
        [float(np.float32(10 ** rng.uniform(-6, -2))) for _ in range(6)]


def _model(chain: list[str], scale: float, elements: int) -> bytes:
    """float32 -QUANTIZE-> int16 (``scale``) -chain...-> int16 (Q0.15) -DEQUANTIZE-> float32."""
    shape = (1, elements)
    tensors = [TensorDef("x", shape, Dtype.FLOAT32), TensorDef("q", shape, Dtype.INT16, (scale,), (0,))]
    ops = [OpDef("QUANTIZE", (0,), (1,))]
    for opcode in chain:
        tensors.append(TensorDef(opcode.lower(), shape, Dtype.INT16, (2.0 ** -15,), (0,)))
        ops.append(OpDef(opcode, (len(tensors) - 2,), (len(tensors) - 1,)))
    tensors.append(TensorDef("y", shape, Dtype.FLOAT32))
    ops.append(OpDef("DEQUANTIZE", (len(tensors) - 2,), (len(tensors) - 1,)))
    return build_model(tensors, ops, [0], [len(tensors) - 1])


def test_the_probes_reach_every_input_of_both_kernels() -> None:
    logistic, tanh = lut16.probe_scales()
    assert lut16.unreached(logistic, lut16.logistic_prepare, lut16.LOGISTIC_LIMIT) == 0
    assert lut16.unreached(tanh, lut16.tanh_prepare, lut16.TANH_LIMIT) == 0


def test_the_measured_table_rises_from_one_half_to_one() -> None:
    table = lut16.sigmoid_table()
    assert len(table) == lut16.TABLE_SIZE and table[0] == 32768 and table[-1] == 65535
    assert all(np.diff(table) >= 0)
    # within 2 of 65536 sigmoid(i / 24) everywhere: the table is tuned, not another function
    assert max(abs(t - 65536 / (1 + np.exp(-i / 24))) for i, t in enumerate(table)) < 2.5


@pytest.mark.parametrize("opcode", sorted(OPS))
def test_the_measured_table_reproduces_the_interpreter_at_every_input(opcode: str) -> None:
    model_of, prepare = OPS[opcode]
    for scale in _scales(1):
        expected = lut16._probe(opcode, scale)
        got = model_of(EVERY_INT16, *prepare(scale)).astype(np.int64)
        assert np.array_equal(got, expected), f"{opcode} scale {scale:g}: {int((got != expected).sum())} differ"


@requires_cc
@pytest.mark.parametrize("opcode", sorted(OPS))
def test_the_kernel_is_bit_exact_at_every_int16_input_on_the_host(opcode: str) -> None:
    for scale in _scales(2)[::2]:
        model = _model([opcode], scale, EVERY_INT16.size)
        graph = parse_model(model, name=f"{opcode.lower()}16")
        assert [layer.op for layer in generate(graph).layers][1] == f"{opcode}_INT16"
        x = (EVERY_INT16.astype(np.float32) * np.float32(scale)).reshape(1, -1)
        assert build_host_model(graph).output(x.tobytes()) == interpret(model, x), f"{opcode} scale {scale:g}"


def test_two_layers_share_one_table() -> None:
    source = generate(parse_model(_model(["LOGISTIC", "TANH"], 1e-3, 8), name="shared")).model_c
    assert source.count("bench_sigmoid16_lut[") == 1


@requires_qemu
@requires_cc
def test_a_logistic_tanh_model_is_bit_exact_on_qemu(tmp_path: Path) -> None:
    path = tmp_path / "sigmoid16.tflite"
    path.write_bytes(_model(["LOGISTIC", "TANH"], 7e-4, 256))
    run = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.ok and run.matches_reference, f"{run.status}: {run.error}"


def test_refusals_name_the_value_and_what_is_accepted() -> None:
    x = TensorDef("x", (1, 4), Dtype.FLOAT32)
    q = TensorDef("q", (1, 4), Dtype.INT16, (1e-3,), (0,))
    for out, words in ((TensorDef("y", (1, 4), Dtype.INT16, (2.0 ** -14,), (0,)), "needs scale 2^-15"),
                       (TensorDef("y", (1, 4), Dtype.INT8, (1 / 256,), (-128,)), "int16 LOGISTIC gives INT16")):
        model = build_model([x, q, out], [OpDef("QUANTIZE", (0,), (1,)), OpDef("LOGISTIC", (1,), (2,))], [0], [2])
        with pytest.raises(ModelError) as info:
            parse_model(model, name="refused")
        assert "operator 1 (LOGISTIC)" in str(info.value) and words in str(info.value)
