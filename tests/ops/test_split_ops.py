"""SPLIT, SPLIT_V and UNPACK (harness/ops/split.py, firmware/kernels/portable/split.c): operators with several
outputs, each in its own buffer. Bit-exact against the tflite-micro interpreter on random shapes and axes, on
the host build under AddressSanitizer and UndefinedBehaviorSanitizer, every output compared (each is a graph
output); a model whose split outputs feed later operators (so the planner must keep each output apart until
its last reader), on the host and on QEMU; and the refusals.

HILBENCH_OP_CASES sets the cases per operator (default 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.model.reference import interpreter_arena_bytes
from harness.runner import RunOptions, run_model
from tests.conftest import requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator
Case = tuple[str, bytes]


def interpret_all(model: bytes, *inputs: Any) -> list[bytes]:
    """Every output's bytes from the tflite-micro interpreter."""
    from tflite_micro.python.tflite_micro import runtime

    g = parse_model(model, name="interpret")
    ip = runtime.Interpreter.from_bytes(model, arena_size=interpreter_arena_bytes(g))
    for i, x in enumerate(inputs):
        ip.set_input(x, i)
    ip.invoke()
    return [bytes(np.asarray(ip.get_output(k)).tobytes()) for k in range(len(g.outputs))]


def _q(rng: Rng) -> tuple[float, int]:
    return float(np.float32(10 ** rng.uniform(-3, -0.5))), int(rng.integers(-128, 128))


def _act(name: str, shape: Any, q: tuple[float, int]) -> TensorDef:
    return TensorDef(name, tuple(int(d) for d in shape), Dtype.INT8, (q[0],), (q[1],))


def _ints(name: str, values: Any, shape: tuple[int, ...] | None = None) -> TensorDef:
    a = np.asarray(values, dtype="<i4")
    return TensorDef(name, shape if shape is not None else a.shape, Dtype.INT32, data=a.tobytes())


def _shape(rng: Rng, lo: int, hi: int) -> list[int]:
    return [int(d) for d in rng.integers(1, 6, int(rng.integers(lo, hi + 1)))]


def _split(rng: Rng) -> Case:
    shape = _shape(rng, 1, 5)
    axis = int(rng.integers(-len(shape), len(shape)))
    a = axis % len(shape)
    n = int(rng.choice([d for d in range(1, shape[a] + 1) if shape[a] % d == 0]))
    q = _q(rng)
    out = [*shape[:a], shape[a] // n, *shape[a + 1:]]
    tensors = [_ints("axis", [axis], ()), _act("x", shape, q), *(_act(f"y{k}", out, q) for k in range(n))]
    op = OpDef("SPLIT", (0, 1), tuple(range(2, 2 + n)), {"num_splits": n})
    return f"x{shape} axis {axis} into {n}", build_model(tensors, [op], [1], list(range(2, 2 + n)))


def _split_v(rng: Rng) -> Case:
    shape = _shape(rng, 1, 5)
    shape[int(rng.integers(0, len(shape)))] += int(rng.integers(0, 6))
    axis = int(rng.integers(-len(shape), len(shape)))
    a = axis % len(shape)
    n = int(rng.integers(1, shape[a] + 1))
    cuts = sorted(int(c) for c in rng.choice(np.arange(1, shape[a]), n - 1, replace=False)) if n > 1 else []
    sizes = [b - c for c, b in zip([0, *cuts], [*cuts, shape[a]])]
    given = list(sizes)
    if n > 1 and rng.random() < 0.3:
        given[int(rng.integers(0, n))] = -1   # TFLite's "the rest"
    q = _q(rng)
    outs = [_act(f"y{k}", [*shape[:a], s, *shape[a + 1:]], q) for k, s in enumerate(sizes)]
    tensors = [_act("x", shape, q), _ints("sizes", given), _ints("axis", [axis], (1,)), *outs]
    op = OpDef("SPLIT_V", (0, 1, 2), tuple(range(3, 3 + n)), {"num_splits": n})
    return f"x{shape} axis {axis} sizes {given}", build_model(tensors, [op], [0], list(range(3, 3 + n)))


def _unpack(rng: Rng) -> Case:
    shape = _shape(rng, 1, 5)
    axis = int(rng.integers(-len(shape), len(shape)))
    a = axis % len(shape)
    n = shape[a]
    out = [*shape[:a], *shape[a + 1:]] or [1]
    if len(shape) == 1:
        shape, a, axis, out = [n, 1], 0, 0, [1]
    q = _q(rng)
    tensors = [_act("x", shape, q), *(_act(f"y{k}", out, q) for k in range(n))]
    op = OpDef("UNPACK", (0,), tuple(range(1, 1 + n)), {"num": n, "axis": axis})
    return f"x{shape} axis {axis}", build_model(tensors, [op], [0], list(range(1, 1 + n)))


GENERATORS: dict[str, Callable[[Rng], Case]] = {"SPLIT": _split, "SPLIT_V": _split_v, "UNPACK": _unpack}


def _bit_exact(model: bytes, name: str, rng: Rng, runs: int = 1) -> list[str]:
    graph = parse_model(model, name=name)
    host = build_host_model(graph)
    problems = []
    for _ in range(runs):
        inputs = [rng.integers(-128, 128, size=graph.tensors[t].shape, dtype=np.int8) for t in graph.inputs]
        expected = interpret_all(model, *inputs)
        got = host.outputs(*(x.tobytes() for x in inputs))
        problems += [f"output {k}: {sum(a != b for a, b in zip(g, e))} of {len(e)} bytes differ"
                     for k, (g, e) in enumerate(zip(got, expected)) if g != e]
    return problems


@pytest.mark.parametrize("opcode", sorted(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)) + 1)
    failures = []
    for k in range(CASES):
        desc, model = GENERATORS[opcode](rng)
        failures += [f"case {k} ({desc}): {p}" for p in _bit_exact(model, f"{opcode.lower()}_{k}", rng)]
    assert not failures, "\n".join(failures)


def split_chain_model(rng: Rng) -> bytes:
    """x [2,6,4] -SPLIT axis 1-> p0, p1, p2 [2,2,4]; SPLIT_V of p0 along axis 2 into [1, rest]; UNPACK of p1 along
    axis 0 into u0, u1 [2,4]; PACK (u1, u0) back; CONCATENATION (v1, p2, v0, packed) along axis 2 -> y [2,2,12]:
    outputs of three several-output operators alive at once, read out of order."""
    q = _q(rng)
    t = [
        _act("x", (2, 6, 4), q), _ints("axis1", [1], ()),
        _act("p0", (2, 2, 4), q), _act("p1", (2, 2, 4), q), _act("p2", (2, 2, 4), q),
        _ints("sizes", [1, -1]), _ints("axis2", [2], (1,)), _act("v0", (2, 2, 1), q), _act("v1", (2, 2, 3), q),
        _act("u0", (2, 4), q), _act("u1", (2, 4), q), _act("w", (2, 2, 4), q), _act("y", (2, 2, 12), q),
    ]
    ops = [
        OpDef("SPLIT", (1, 0), (2, 3, 4), {"num_splits": 3}),
        OpDef("SPLIT_V", (2, 5, 6), (7, 8), {"num_splits": 2}),
        OpDef("UNPACK", (3,), (9, 10), {"num": 2, "axis": 0}),
        OpDef("PACK", (10, 9), (11,), {"values_count": 2, "axis": 0}),
        OpDef("CONCATENATION", (8, 4, 7, 11), (12,), {"axis": 2}),
    ]
    return build_model(t, ops, [0], [12])


def test_the_chain_is_bit_exact_on_the_host() -> None:
    rng = np.random.default_rng(7)
    assert not _bit_exact(split_chain_model(rng), "split_chain", rng, runs=4)


@requires_qemu
def test_the_chain_is_bit_exact_on_qemu(tmp_path: Any) -> None:
    path = tmp_path / "split_chain.tflite"
    path.write_bytes(split_chain_model(np.random.default_rng(7)))
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex or "")) == 48


_Q = (0.05, 3)


def _split_model(axis: Any, x: tuple[int, ...], outs: list[tuple[int, ...]], n: int | None = None,
                 out_q: tuple[float, int] = _Q) -> bytes:
    axis_t = axis if isinstance(axis, TensorDef) else _ints("axis", [axis], ())
    ys = [_act(f"y{k}", s, out_q if k else _Q) for k, s in enumerate(outs)]
    op = OpDef("SPLIT", (0, 1), tuple(range(2, 2 + len(outs))), {"num_splits": len(outs) if n is None else n})
    graph_inputs = [1] if axis_t.data is not None else [0, 1]  # a non-constant axis is a graph input
    return build_model([axis_t, _act("x", x, _Q), *ys], [op], graph_inputs, list(range(2, 2 + len(outs))))


def _unpack_model(x: tuple[int, ...], outs: list[tuple[int, ...]], axis: int = 0, num: int | None = None) -> bytes:
    ys = [_act(f"y{k}", s, _Q) for k, s in enumerate(outs)]
    op = OpDef("UNPACK", (0,), tuple(range(1, 1 + len(outs))), {"num": len(outs) if num is None else num, "axis": axis})
    return build_model([_act("x", x, _Q), *ys], [op], [0], list(range(1, 1 + len(outs))))


_REFUSALS: list[tuple[str, bytes, str]] = [
    ("split axis not constant", _split_model(TensorDef("axis", (), Dtype.INT32), (4,), [(2,), (2,)]),
     r"operator 0 \(SPLIT\): axis must be a constant INT32 tensor of one value"),
    ("split axis range", _split_model(2, (4, 2), [(2, 2), (2, 2)]),
     r"operator 0 \(SPLIT\): axis 2 for an input of rank 2; expected -2..1"),
    ("split unequal", _split_model(0, (5,), [(2,), (3,)]),
     r"axis 0 of size 5 does not split into 2 equal parts"),
    ("split num_splits", _split_model(0, (4,), [(2,), (2,)], n=3),
     r"num_splits 3 but 2 outputs; expected them equal"),
    ("split requantizes", _split_model(0, (4,), [(2,), (2,)], out_q=(0.1, 3)),
     r"input and output quantization differ .*SPLIT does not requantize"),
    ("split shape", _split_model(0, (4, 3), [(2, 3), (2, 2)]),
     r"output 1 shape \[2, 2\] does not match the input \[4, 3\] outside axis 0"),
    ("split_v sizes", build_model([_act("x", (5,), _Q), _ints("s", [2, 2]), _ints("a", [0], (1,)),
                                   _act("y0", (2,), _Q), _act("y1", (2,), _Q)],
                                  [OpDef("SPLIT_V", (0, 1, 2), (3, 4), {"num_splits": 2})], [0], [3, 4]),
     r"operator 0 \(SPLIT_V\): outputs add up to 4 along axis 0; the input has 5"),
    ("unpack num", _unpack_model((2, 3), [(3,), (3,)], num=3),
     r"operator 0 \(UNPACK\): num 3 but 2 outputs; expected them equal"),
    ("unpack count", _unpack_model((3, 2), [(2,), (2,)]),
     r"2 outputs for axis 0 of size 3; expected one per element"),
    ("unpack shape", _unpack_model((2, 3), [(3,), (2,)]),
     r"output 1 has shape \[2\]; unpacking \[2, 3\] along axis 0 gives \[3\]"),
    ("one output for an operator of one", build_model(
        [_act("x", (4,), _Q), _act("y", (4,), _Q), _act("z", (4,), _Q)],
        [OpDef("RELU", (0,), (1, 2))], [0], [1, 2]),
     r"operator 0 \(RELU\) has 1 input and 2 outputs; expected at least 1 input and exactly 1 output"),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")
