"""QUANTIZE and DEQUANTIZE at the graph's edges (issue 13, items 1 and 2): a FLOAT32 or UINT8 graph input
read by a QUANTIZE to int8, a final DEQUANTIZE to FLOAT32 or QUANTIZE to UINT8, each compiled for the host
with the sanitizers and compared bit for bit with the tflite-micro interpreter, and a float-in/float-out model
run on QEMU.

The float QUANTIZE is checked on the values where a kernel could round differently from TFLM: every tie
(k + 1/2) * scale, values just either side of a tie, values far outside the int8 range and outside int32 after
the division, infinities, NaN and signed zeros, over scales and zero points of both signs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.boards import load_board
from harness.firmware.codegen import generate
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import load_model, parse_model
from harness.model.reference import default_input, reference_output
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_cc, requires_qemu

QUANT_PARAMS = [(0.5, 0), (0.1, -5), (0.1, 5), (0.0078125, 3), (1 / 255, -128), (0.37, 127), (3.7e-5, -1),
                (123.0, 0)]


def _quantize_only(n: int, scale: float, zero_point: int) -> bytes:
    tensors = [TensorDef("x", (1, n), Dtype.FLOAT32), TensorDef("q", (1, n), Dtype.INT8, (scale,), (zero_point,))]
    return build_model(tensors, [OpDef("QUANTIZE", (0,), (1,))], [0], [1])


def _awkward_floats(scale: float, rng: np.random.Generator) -> np.ndarray:
    s = np.float32(scale)
    ties = ((np.arange(-300, 300) + np.float32(0.5)) * s).astype(np.float32)
    near = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e20, -1e20, 3e38, -3e38, 2.2e9 * scale,
                        -2.2e9 * scale, 2.0e9 * scale, -2.0e9 * scale, 1e-45], dtype=np.float32)
    return np.concatenate([ties, near, rng.normal(0, 150 * scale, 3000).astype(np.float32), special])


@pytest.mark.parametrize(("scale", "zero_point"), QUANT_PARAMS)
def test_quantize_from_float_rounds_and_clamps_as_tflm(scale: float, zero_point: int) -> None:
    rng = np.random.default_rng(7)
    x = _awkward_floats(scale, rng).reshape(1, -1)
    model = _quantize_only(x.shape[1], scale, zero_point)
    host = build_host_model(parse_model(model, name="quantize_float"))
    got, expected = host.output(x.tobytes()), interpret(model, x)
    bad = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert not bad, [(float(x[0, i]), got[i], expected[i]) for i in bad[:8]]


def float_fc_model(seed: int, in_scale: float = 0.05, in_zp: int = 3) -> bytes:
    """x float32 [1,16] -QUANTIZE-> int8 -FULLY_CONNECTED-> int8 [1,4] -DEQUANTIZE-> y float32 [1,4]."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-128, 128, (4, 16), dtype=np.int8)
    bias = rng.integers(-2000, 2000, 4).astype("<i4")
    tensors = [TensorDef("x", (1, 16), Dtype.FLOAT32),
               TensorDef("q", (1, 16), Dtype.INT8, (in_scale,), (in_zp,)),
               TensorDef("w", (4, 16), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("b", (4,), Dtype.INT32, (in_scale * 0.01,), (0,), data=bias.tobytes()),
               TensorDef("h", (1, 4), Dtype.INT8, (0.2,), (-7,)),
               TensorDef("y", (1, 4), Dtype.FLOAT32)]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, 3), (4,), {"activation": 0}),
           OpDef("DEQUANTIZE", (4,), (5,))]
    return build_model(tensors, ops, [0], [5])


def uint8_fc_model(seed: int) -> bytes:
    """x uint8 -QUANTIZE-> int8 -FULLY_CONNECTED-> int8 -QUANTIZE-> y uint8, random edge quantizations."""
    rng = np.random.default_rng(seed)
    in_scale, in_zp = float(rng.uniform(0.005, 0.1)), int(rng.integers(0, 256))
    q_scale = in_scale * float(rng.choice([1.0, rng.uniform(0.5, 2.0)]))
    q_zp = in_zp - 128 if rng.random() < 0.5 else int(rng.integers(-128, 128))  # the same scale: the xor path
    out_scale, out_zp = float(rng.uniform(0.05, 0.5)), int(rng.integers(0, 256))
    w = rng.integers(-128, 128, (4, 16), dtype=np.int8)
    tensors = [TensorDef("x", (1, 16), Dtype.UINT8, (in_scale,), (in_zp,)),
               TensorDef("q", (1, 16), Dtype.INT8, (q_scale,), (q_zp,)),
               TensorDef("w", (4, 16), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("h", (1, 4), Dtype.INT8, (0.2,), (-7,)),
               TensorDef("y", (1, 4), Dtype.UINT8, (out_scale,), (out_zp,))]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, -1), (3,), {"activation": 0}),
           OpDef("QUANTIZE", (3,), (4,))]
    return build_model(tensors, ops, [0], [4])


@pytest.mark.parametrize("seed", range(4))
def test_float_in_float_out_model_is_bit_exact_on_the_host(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scale, zp = QUANT_PARAMS[seed]
    model = float_fc_model(seed, scale, zp)
    graph = parse_model(model, name=f"float_fc_{seed}")
    assert [layer.op for layer in generate(graph).layers] == ["QUANTIZE_FROM_FLOAT", "FULLY_CONNECTED", "DEQUANTIZE"]
    host = build_host_model(graph)
    inputs = [np.frombuffer(default_input(graph, seed), "<f4").reshape(1, 16)]
    inputs += [(rng.normal(0, 80 * scale, (1, 16))).astype(np.float32) for _ in range(20)]
    for x in inputs:
        assert host.output(x.tobytes()) == interpret(model, x)


@pytest.mark.parametrize("seed", range(8))
def test_uint8_in_uint8_out_model_is_bit_exact_on_the_host(seed: int) -> None:
    model = uint8_fc_model(seed)
    graph = parse_model(model, name=f"uint8_fc_{seed}")
    assert [layer.op for layer in generate(graph).layers] == ["QUANTIZE_FROM_UINT8", "FULLY_CONNECTED",
                                                               "QUANTIZE_TO_UINT8"]
    assert "#define BENCH_INPUT_UINT8 1" in generate(graph).model_h
    host = build_host_model(graph)
    rng = np.random.default_rng(seed)
    for k in range(20):
        x = rng.integers(0, 256, (1, 16), dtype=np.uint8) if k else np.frombuffer(default_input(graph), np.uint8)
        assert host.output(x.tobytes()) == interpret(model, x.reshape(1, 16))


def test_default_float_input_is_seeded_and_spans_the_quantize_range() -> None:
    graph = parse_model(float_fc_model(0, 0.05, 3), name="float_fc")
    x = np.frombuffer(default_input(graph, 1), "<f4")
    assert default_input(graph, 1) == default_input(graph, 1) != default_input(graph, 2)
    assert x.min() >= 0.05 * (-128 - 3 - 4) and x.max() <= 0.05 * (127 - 3 + 4)
    assert x.min() < 0.05 * (-128 - 3) + 1 and x.max() > 0.05 * (127 - 3) - 1


def test_reference_output_takes_float_input_bytes(tmp_path: Path) -> None:
    path = tmp_path / "float_fc.tflite"
    path.write_bytes(float_fc_model(3))
    graph = load_model(path)
    data = default_input(graph)
    assert len(data) == 16 * 4
    out = reference_output(str(path), graph, data, cache=False)
    assert out == interpret(path.read_bytes(), np.frombuffer(data, "<f4").reshape(1, 16)) and len(out) == 16


@requires_qemu
@requires_cc
@pytest.mark.parametrize("kind", ["float", "uint8"])
def test_edge_types_run_bit_exact_on_qemu_m4(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}_fc.tflite"
    path.write_bytes(float_fc_model(1, 0.1, -5) if kind == "float" else uint8_fc_model(2))
    run = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.ok and run.matches_reference, f"{run.status}: {run.error}"
