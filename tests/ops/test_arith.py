"""SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE, PRELU, LEAKY_RELU, HARD_SWISH and LOG_SOFTMAX, and ADD and MUL
with a constant operand (harness/ops/arith.py, activations.py, log_softmax.py, operands.py): bit-exact with the tflite-micro interpreter on random shapes, broadcasts,
constant operands and quantizations, compiled for the host with ASan and UBSan; one model per operator
bit-exact on QEMU; and the refusals name the operator, the bad value and what is accepted.

HILBENCH_OP_CASES sets the random cases per operator (default 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

from harness.errors import ModelError
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from tests.conftest import interpret, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator


def _scale(rng: Rng, lo: float = -2.0, hi: float = 0.0) -> float:
    return float(np.float32(10 ** rng.uniform(lo, hi)))


def _zp(rng: Rng) -> int:
    return int(rng.integers(-128, 128))


def _tensor(name: str, shape: tuple[int, ...], scale: float, zp: int, data: bytes | None = None) -> TensorDef:
    return TensorDef(name, shape, Dtype.INT8, (scale,), (zp,), data=data)


def _shapes(rng: Rng) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Two input shapes that broadcast (sometimes of lower rank, sometimes equal) and the output's."""
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 7, rank)]
    a, b = list(shape), list(shape)
    if rng.random() < 0.6:
        for i in range(rank):
            if rng.random() < 0.4:
                (a if rng.random() < 0.5 else b)[i] = 1
        if rng.random() < 0.3:
            b = b[int(rng.integers(0, rank)):] or [1]
    return tuple(a), tuple(b), tuple(int(d) for d in np.broadcast_shapes(tuple(a), tuple(b)))


def binary_model(rng: Rng, opcode: str, constant: int | None = None) -> tuple[bytes, str]:
    """A random ``opcode`` of two int8 inputs; ``constant`` 0 or 1 makes that input a constant (None: random)."""
    a_shape, b_shape, out_shape = _shapes(rng)
    if opcode == "PRELU":  # alpha broadcasts to the input: the output has the input's shape
        a_shape = out_shape
    if constant is None:
        constant = int(rng.choice([-1, -1, 0, 1])) if opcode != "PRELU" else int(rng.choice([-1, 1, 1]))
    s1, s2, z1, z2 = _scale(rng), _scale(rng), _zp(rng), _zp(rng)
    options: dict[str, object] = {}
    if opcode in ("MINIMUM", "MAXIMUM"):
        s2, z2, so, zo = s1, z1, s1, z1
    elif opcode in ("SUB", "ADD"):
        so, zo = float(np.float32((s1 + s2) * rng.uniform(0.5, 2.0))), _zp(rng)
        options = {"activation": int(rng.choice([0, 1, 3]))}
    elif opcode == "MUL":
        so, zo = float(np.float32(s1 * s2 * 128 * rng.uniform(0.3, 2))), _zp(rng)
        options = {"activation": int(rng.choice([0, 1, 3]))}
    elif opcode == "SQUARED_DIFFERENCE":
        so, zo = float(np.float32(max(s1, s2) ** 2 * 256 * rng.uniform(0.2, 3.0))), _zp(rng)
    else:  # PRELU: alpha in about [-1, 1]
        s2 = float(np.float32(rng.uniform(0.002, 0.01)))
        so, zo = float(np.float32(s1 * rng.uniform(0.5, 2.0))), _zp(rng)
    shapes = (a_shape, b_shape)
    scales, zps = (s1, s2), (z1, z2)
    tensors = []
    for k in range(2):
        data = rng.integers(-128, 128, shapes[k], dtype=np.int8).tobytes() if k == constant else None
        tensors.append(_tensor("ab"[k], shapes[k], scales[k], zps[k], data))
    tensors.append(_tensor("y", out_shape, so, zo))
    inputs = [k for k in range(2) if k != constant]
    model = build_model(tensors, [OpDef(opcode, (0, 1), (2,), options)], inputs, [2])
    const = f" constant input {constant}" if constant >= 0 else ""
    return model, f"{list(a_shape)} x {list(b_shape)}{const} {options}"


def unary_model(rng: Rng, opcode: str) -> tuple[bytes, str]:
    rank = int(rng.integers(1, 5))
    shape = tuple(int(d) for d in rng.integers(1, 9, rank))
    s = _scale(rng, -2.5, 0)
    options: dict[str, object] = {}
    if opcode == "LEAKY_RELU":
        so = float(np.float32(s * rng.uniform(0.3, 3.0)))
        options = {"alpha": float(rng.choice([0.0, 0.01, 0.1, 0.2, 0.3, 1.5, float(rng.uniform(0, 1))]))}
    elif opcode == "HARD_SWISH":  # output range about [-0.4, max(x)]
        so = float(np.float32(s * rng.uniform(0.4, 3.0)))
    else:  # LOG_SOFTMAX: the output quantization is fixed; rows of up to 300
        shape = shape[:-1] + (int(rng.choice([1, 2, 5, 10, 33, 300])),)
        s = _scale(rng, -3, 0.5)
    y = _tensor("y", shape, so, _zp(rng)) if opcode != "LOG_SOFTMAX" else _tensor("y", shape, 16 / 256, 127)
    tensors = [_tensor("x", shape, s, _zp(rng)), y]
    model = build_model(tensors, [OpDef(opcode, (0,), (1,), options)], [0], [1])
    return model, f"{list(shape)} {options}"


GENERATORS: dict[str, Callable[[Rng], tuple[bytes, str]]] = {
    **{op: (lambda rng, op=op: binary_model(rng, op))
       for op in ("SUB", "MINIMUM", "MAXIMUM", "SQUARED_DIFFERENCE", "PRELU")},
    # the variants ADD and MUL run as for a constant operand (either one)
    **{f"{op}_CONSTANT_OPERAND": (lambda rng, op=op: binary_model(rng, op, constant=int(rng.integers(0, 2))))
       for op in ("ADD", "MUL")},
    **{op: (lambda rng, op=op: unary_model(rng, op)) for op in ("LEAKY_RELU", "HARD_SWISH", "LOG_SOFTMAX")},
}


def _inputs(rng: Rng, graph_model: bytes) -> list[np.ndarray]:
    graph = parse_model(graph_model, name="inputs")
    return [rng.integers(-128, 128, size=graph.tensors[t].shape, dtype=np.int8) for t in graph.inputs]


@pytest.mark.parametrize("opcode", list(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)) + 13)
    failures = []
    for k in range(CASES):
        model, description = GENERATORS[opcode](rng)
        graph = parse_model(model, name=f"{opcode.lower()}_{k}")
        host = build_host_model(graph)
        for _ in range(2):
            inputs = _inputs(rng, model)
            expected = interpret(model, *inputs)
            got = host.output(*(x.tobytes() for x in inputs))
            if got != expected:
                diff = sum(a != b for a, b in zip(got, expected))
                failures.append(f"case {k} ({description}): {diff} of {len(expected)} bytes differ")
                break
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("opcode", ["HARD_SWISH", "LEAKY_RELU", "LOG_SOFTMAX"])
def test_every_int8_input(opcode: str) -> None:
    """All 256 input values (one row, for LOG_SOFTMAX), over quantizations from small to large ratios."""
    rng = np.random.default_rng(5)
    for s_in, s_out in ((0.003, 0.003), (0.05, 0.02), (0.1, 0.5), (0.02, 0.0004), (0.9, 0.06), (0.001, 0.3),
                         (3.0, 0.5), (1e-5, 1e-5)):
        options = {"alpha": 0.2} if opcode == "LEAKY_RELU" else {}
        y = _tensor("y", (256,), s_out, _zp(rng)) if opcode != "LOG_SOFTMAX" else _tensor("y", (256,), 1 / 16, 127)
        tensors = [_tensor("x", (256,), s_in, _zp(rng)), y]
        model = build_model(tensors, [OpDef(opcode, (0,), (1,), options)], [0], [1])
        x = np.arange(-128, 128, dtype=np.int8)
        host = build_host_model(parse_model(model, name=opcode.lower()))
        assert host.output(x.tobytes()) == interpret(model, x), (opcode, s_in, s_out)


@pytest.mark.parametrize("opcode", ["SUB", "SQUARED_DIFFERENCE", "PRELU"])
def test_every_pair_of_int8_inputs(opcode: str) -> None:
    """All 65,536 pairs of input values (a [256, 1] by [1, 256] broadcast), for a few quantizations."""
    rng = np.random.default_rng(7)
    x = np.arange(-128, 128, dtype=np.int8).reshape(256, 1)
    pairs = ((0.01, 0.02, 0.05), (0.3, 0.004, 0.2), (0.05, 0.05, 0.01))
    for s1, s2, so in pairs:
        if opcode == "SQUARED_DIFFERENCE":
            so = float(np.float32(max(s1, s2) ** 2 * 255))
        second = np.arange(-128, 128, dtype=np.int8).reshape(1, 256).tobytes()
        tensors = [_tensor("a", (256, 1) if opcode != "PRELU" else (256, 256), s1, _zp(rng)),
                   _tensor("b", (1, 256), s2 if opcode != "PRELU" else 0.004, _zp(rng), second),
                   _tensor("y", (256, 256), so, _zp(rng))]
        model = build_model(tensors, [OpDef(opcode, (0, 1), (2,))], [0], [2])
        a = np.repeat(x, 256, axis=1) if opcode == "PRELU" else x
        host = build_host_model(parse_model(model, name=opcode.lower()))
        assert host.output(a.tobytes()) == interpret(model, a), (s1, s2, so)


def _refusal(tensors: list[TensorDef], op: OpDef, inputs: list[int]) -> str:
    model = build_model(tensors, [op], inputs, [len(tensors) - 1])
    with pytest.raises(ModelError) as info:
        parse_model(model, name="refused")  # validates (harness.model.support)
    return str(info.value)


def test_refusals_name_the_operator_the_value_and_what_is_accepted() -> None:
    a, b = _tensor("a", (4,), 0.1, 0), _tensor("b", (4,), 0.2, 0)
    message = _refusal([a, b, _tensor("y", (4,), 0.1, 0)], OpDef("MAXIMUM", (0, 1), (2,)), [0, 1])
    assert "operator 0 (MAXIMUM)" in message and "scale=0.2" in message and "one quantization" in message
    message = _refusal([a, _tensor("y", (4,), 0.1, 0)], OpDef("LEAKY_RELU", (0,), (1,), {"alpha": -0.5}), [0])
    assert "operator 0 (LEAKY_RELU)" in message and "alpha is -0.5" in message and ">= 0" in message
    message = _refusal([_tensor("x", (4,), 1.0, 0), _tensor("y", (4,), 0.001, 0)], OpDef("HARD_SWISH", (0,), (1,)),
                       [0])
    assert "operator 0 (HARD_SWISH)" in message and "output shift 3" in message and "-15..0" in message
    message = _refusal([a, _tensor("b", (3,), 0.1, 0), _tensor("y", (4,), 0.1, 0)], OpDef("SUB", (0, 1), (2,)),
                       [0, 1])
    assert "operator 0 (SUB)" in message and "[4] and [3] do not broadcast" in message
    const = [_tensor("a", (4,), 0.1, 0, bytes(4)), _tensor("b", (4,), 0.1, 0, bytes(4)), _tensor("y", (4,), 0.1, 0)]
    message = _refusal(const, OpDef("SQUARED_DIFFERENCE", (0, 1), (2,)), [])
    assert "operator 0 (SQUARED_DIFFERENCE)" in message and "both inputs are constant" in message
    message = _refusal([_tensor("x", (2, 3), 0.1, 0), _tensor("alpha", (2, 3), 0.1, 0, bytes(6)),
                        _tensor("y", (2, 3, 1), 0.1, 0)], OpDef("PRELU", (0, 1), (2,)), [0])
    assert "operator 0 (PRELU)" in message and "[2, 3, 1]" in message
    message = _refusal([_tensor("x", (4,), 0.1, 0), _tensor("y", (4,), 1 / 256, -128)], OpDef("LOG_SOFTMAX", (0,), (1,)),
                       [0])
    assert "operator 0 (LOG_SOFTMAX)" in message and "zero_point=-128" in message and "scale 0.0625, zero point 127" in message
    message = _refusal([_tensor("x", (4, 2), 0.1, 0), _tensor("y", (8,), 0.1, 0)], OpDef("HARD_SWISH", (0,), (1,)), [0])
    assert "operator 0 (HARD_SWISH)" in message and "output shape [8] differs from the input's [4, 2]" in message
    message = _refusal([_tensor("x", (4,), 1e-9, 0), _tensor("y", (4,), 1 / 16, 127)], OpDef("LOG_SOFTMAX", (0,), (1,)),
                       [0])
    assert "operator 0 (LOG_SOFTMAX)" in message and "input scale 1e-09" in message and "2^-26" in message


QEMU_CASES = {op: i for i, op in enumerate(GENERATORS)}


@requires_qemu
@pytest.mark.parametrize("opcode", list(GENERATORS))
def test_one_model_per_operator_is_bit_exact_on_qemu(opcode: str, tmp_path) -> None:
    from harness.boards import load_board
    from harness.runner import RunOptions, run_model

    rng = np.random.default_rng(100 + QEMU_CASES[opcode])
    if opcode in ("LEAKY_RELU", "HARD_SWISH", "LOG_SOFTMAX"):
        model, _ = unary_model(rng, opcode)
    else:  # one graph input: the second operand constant, in flash
        model, _ = binary_model(rng, opcode.removesuffix("_CONSTANT_OPERAND"), constant=1)
    path = tmp_path / f"{opcode.lower()}.tflite"
    path.write_bytes(model)
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference


def chain_model(rng: Rng) -> bytes:
    """Every operator of this file in one model, each binary one with a constant operand, so that the planner
    lets outputs overwrite inputs (the kernels write in order) and the constants sit in flash."""
    shape = (1, 4, 4, 8)
    ops = [("LEAKY_RELU", {"alpha": 0.1}), ("HARD_SWISH", {}), ("SUB", {"activation": 0}), ("MAXIMUM", {}),
           ("ADD", {"activation": 0}), ("MUL", {"activation": 0}),
           ("SQUARED_DIFFERENCE", {}), ("PRELU", {}), ("MINIMUM", {}), ("LOG_SOFTMAX", {})]
    scale, zp = 0.05, -3
    tensors = [_tensor("x", shape, scale, zp)]
    op_defs = []
    for opcode, options in ops:
        x = len(tensors) - 1
        inputs: tuple[int, ...] = (x,)
        if opcode in ("SUB", "MAXIMUM", "SQUARED_DIFFERENCE", "PRELU", "MINIMUM", "ADD", "MUL"):
            c_shape = (8,) if opcode != "MAXIMUM" else (1, 1, 1, 8)
            c_scale, c_zp = (scale, zp) if opcode in ("MAXIMUM", "MINIMUM") else (0.03, 5)
            if opcode == "PRELU":
                c_scale = 0.004
            data = rng.integers(-128, 128, c_shape, dtype=np.int8).tobytes()
            tensors.append(_tensor(f"c{len(op_defs)}", c_shape, c_scale, c_zp, data))
            inputs = (x, len(tensors) - 1)
        if opcode == "LOG_SOFTMAX":
            y_scale, y_zp = 1 / 16, 127
        elif opcode in ("MAXIMUM", "MINIMUM"):
            y_scale, y_zp = scale, zp
        else:
            factor = {"SQUARED_DIFFERENCE": 8.0, "MUL": 2.0}.get(opcode, 1.2)
            y_scale, y_zp = float(np.float32(scale * factor)), int(rng.integers(-20, 20))
        tensors.append(_tensor(f"y{len(op_defs)}", shape, y_scale, y_zp))
        op_defs.append(OpDef(opcode, inputs, (len(tensors) - 1,), options))
        scale, zp = y_scale, y_zp
    return build_model(tensors, op_defs, [0], [len(tensors) - 1])


def test_chain_of_every_operator_is_bit_exact_on_the_host() -> None:
    rng = np.random.default_rng(3)
    model = chain_model(rng)
    host = build_host_model(parse_model(model, name="arith_chain"))
    for _ in range(6):
        x = rng.integers(-128, 128, size=(1, 4, 4, 8), dtype=np.int8)
        assert host.output(x.tobytes()) == interpret(model, x)


@requires_qemu
def test_chain_of_every_operator_is_bit_exact_on_qemu(tmp_path) -> None:
    from harness.boards import load_board
    from harness.runner import RunOptions, run_model

    path = tmp_path / "arith_chain.tflite"
    path.write_bytes(chain_model(np.random.default_rng(3)))
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference
