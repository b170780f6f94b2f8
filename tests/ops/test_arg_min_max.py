"""ARG_MAX and ARG_MIN (harness/ops/arg_min_max.py; firmware/kernels/portable/arg_min_max.c): bit-exact against
the tflite-micro interpreter on random shapes and axes (with many ties: a narrow value range), on the host build
under AddressSanitizer and UndefinedBehaviorSanitizer; a model ending in INT32 indices on QEMU; and the refusals
(an INT64 output or axis, which TFLite Micro refuses too, and indices that flow into another operator).

The models are written with harness.model.builder. HILBENCH_OP_CASES sets the cases per operator (default 16).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
OPCODES = ("ARG_MAX", "ARG_MIN")
_Q = (0.05, -3)


def _x(shape: Any) -> TensorDef:
    return TensorDef("x", tuple(int(d) for d in shape), Dtype.INT8, (_Q[0],), (_Q[1],))


def _axis(value: int, dtype: str = "<i4") -> TensorDef:
    a = np.asarray([value], dtype)
    return TensorDef("axis", (1,), Dtype.INT32 if dtype == "<i4" else Dtype.INT64, data=a.tobytes())


def _model(opcode: str, shape: Any, axis: int, out_shape: Any = None, out: Dtype = Dtype.INT32,
           axis_dtype: str = "<i4") -> bytes:
    rank = len(shape)
    kept = [d for i, d in enumerate(shape) if i != axis % rank] if out_shape is None else list(out_shape)
    t = [_x(shape), _axis(axis, axis_dtype), TensorDef("y", tuple(kept), out)]
    return build_model(t, [OpDef(opcode, (0, 1), (2,), {"output_type": out.value})], [0], [2])


def _bit_exact(model: bytes, name: str, rng: np.random.Generator, low: int, high: int) -> list[str]:
    graph = parse_model(model, name=name)
    host = build_host_model(graph)
    x = rng.integers(low, high, size=graph.tensors[graph.inputs[0]].shape, dtype=np.int8)
    expected = interpret(model, x)
    got = host.output(x.tobytes())
    if got != expected:
        return [f"got {np.frombuffer(got, '<i4').tolist()}, the interpreter {np.frombuffer(expected, '<i4').tolist()}"]
    return []


@pytest.mark.parametrize("opcode", OPCODES)
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)))
    failures = []
    for k in range(CASES):
        shape = tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 6))))
        axis = int(rng.integers(-len(shape), len(shape)))
        # half the cases over 3 values only, so that most positions tie and the first index must win
        low, high = (-128, 128) if k % 2 else (-2, 1)
        model = _model(opcode, shape, axis)
        failures += [f"case {k} (x{list(shape)} axis {axis}): {p}"
                     for p in _bit_exact(model, f"{opcode.lower()}_{k}", rng, low, high)]
    assert not failures, "\n".join(failures)


def test_ties_pick_the_first_index() -> None:
    x = np.array([[1, 5, 5, 1]], np.int8)
    for opcode, first in (("ARG_MAX", 1), ("ARG_MIN", 0)):
        model = _model(opcode, (1, 4), 1)
        assert np.frombuffer(interpret(model, x), "<i4").tolist() == [first]
        host = build_host_model(parse_model(model, name=opcode.lower()))
        assert np.frombuffer(host.output(x.tobytes()), "<i4").tolist() == [first]


def conv_argmax_model() -> bytes:
    """x int8 [1,6,6,3] -DEPTHWISE_CONV_2D-> h int8 [1,6,6,3] -ARG_MAX over the channels-> y int32 [1,6,6]."""
    rng = np.random.default_rng(3)
    w = rng.integers(-128, 128, (1, 3, 3, 3), dtype=np.int8)
    t = [_x((1, 6, 6, 3)), TensorDef("w", (1, 3, 3, 3), Dtype.INT8, (0.02, 0.03, 0.01), (0, 0, 0), axis=3,
                                     data=w.tobytes()),
         TensorDef("b", (3,), Dtype.INT32, (0.001, 0.0015, 0.0005), (0, 0, 0),
                   data=np.array([40, -30, 7], "<i4").tobytes()),
         TensorDef("h", (1, 6, 6, 3), Dtype.INT8, (0.1,), (2,)), _axis(3), TensorDef("y", (1, 6, 6), Dtype.INT32)]
    ops = [OpDef("DEPTHWISE_CONV_2D", (0, 1, 2), (3,), {"padding": 0, "stride_w": 1, "stride_h": 1,
                                                          "depth_multiplier": 1}),
           OpDef("ARG_MAX", (3, 4), (5,), {"output_type": Dtype.INT32.value})]
    return build_model(t, ops, [0], [5])


def test_a_model_ending_in_indices_is_bit_exact_on_the_host() -> None:
    rng = np.random.default_rng(8)
    for k in range(4):
        assert not _bit_exact(conv_argmax_model(), f"conv_argmax_{k}", rng, -128, 128)


@requires_qemu
def test_a_model_ending_in_indices_is_bit_exact_on_qemu(tmp_path: Any) -> None:
    path = tmp_path / "conv_argmax.tflite"
    path.write_bytes(conv_argmax_model())
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    out = bytes.fromhex(record.output_hex)
    assert record.matches_reference and len(out) == 36 * 4
    assert all(0 <= v < 3 for v in np.frombuffer(out, "<i4"))


def _chained() -> bytes:
    """ARG_MAX's indices read by a GATHER: INT32 activations flow into nothing."""
    q = ((_Q[0],), (_Q[1],))
    t = [_x((3, 2)), _axis(1), TensorDef("i", (3,), Dtype.INT32), TensorDef("c", (3, 2), Dtype.INT8, *q, data=bytes(6)),
         TensorDef("y", (3, 2), Dtype.INT8, *q)]
    ops = [OpDef("ARG_MAX", (0, 1), (2,), {"output_type": 2}), OpDef("GATHER", (3, 2), (4,), {"axis": 0})]
    return build_model(t, ops, [0], [4])


_REFUSALS = [
    ("int64 output", _model("ARG_MAX", (2, 3), 1, out=Dtype.INT64),
     r"operator 0 \(ARG_MAX\): output tensor 2 \('y'\) is INT64; only INT32 indices are supported \(TFLite Micro"),
    ("int64 axis", _model("ARG_MIN", (2, 3), 1, axis_dtype="<i8"),
     r"operator 0 \(ARG_MIN\): axis must be a constant INT32 tensor of one value .*INT64"),
    ("axis range", build_model([_x((2, 3)), _axis(2), TensorDef("y", (2,), Dtype.INT32)],
                [OpDef("ARG_MAX", (0, 1), (2,), {"output_type": 2})], [0], [2]),
     r"axis 2 for an input of rank 2; expected -2..1"),
    ("shape", _model("ARG_MIN", (2, 3), 1, out_shape=(3,)),
     r"output shape \[3\] differs from the input \[2, 3\] without axis 1, \[2\]"),
    ("chained", _chained(), (r"operator 0 \(ARG_MAX\): output tensor 2 \('i'\) must be a graph output .*; "
                            r"operators \[1\] read it")),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")


def test_an_int32_output_from_another_operator_is_still_refused() -> None:
    t = [_x((2, 3)), TensorDef("y", (2, 3), Dtype.INT32)]
    model = build_model(t, [OpDef("RESHAPE", (0,), (1,), {"new_shape": [2, 3]})], [0], [1])
    with pytest.raises(ModelError, match=r"graph output tensor 1 \('y'\) is INT32 from operator 0 \(RESHAPE\)"):
        parse_model(model, name="refused")
