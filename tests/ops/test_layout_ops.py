"""TRANSPOSE, STRIDED_SLICE, SLICE, SQUEEZE, EXPAND_DIMS, GATHER, PACK and RESIZE_NEAREST_NEIGHBOR
(harness/ops/strided.py, squeeze.py, gather.py, pack.py, resize_nearest.py; firmware/kernels/portable/layout.c):
bit-exact against the tflite-micro interpreter on random shapes and parameters, on the host build under
AddressSanitizer and UndefinedBehaviorSanitizer; all eight chained in one model, on the host and on QEMU; and
the refusals, each naming the operator, the bad value and what is accepted.

The random models are written with harness.model.builder (the TFLite converter emits these operators too, but
random shapes and masks come faster this way). HILBENCH_OP_CASES sets the cases per operator (default 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.ops.resize_nearest import nearest
from harness.runner import RunOptions, run_model
from tests.conftest import host_mismatches, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator
Case = tuple[str, bytes]  # description, model


def _q(rng: Rng) -> tuple[float, int]:
    return float(np.float32(10 ** rng.uniform(-3, -0.5))), int(rng.integers(-128, 128))


def _act(name: str, shape: Any, q: tuple[float, int]) -> TensorDef:
    return TensorDef(name, tuple(int(d) for d in shape), Dtype.INT8, (q[0],), (q[1],))


def _ints(name: str, values: Any, dtype: str = "<i4", shape: tuple[int, ...] | None = None) -> TensorDef:
    a = np.asarray(values, dtype=dtype)
    return TensorDef(name, shape if shape is not None else a.shape, Dtype.INT32 if dtype == "<i4" else Dtype.INT64,
                     data=a.tobytes())


def _shape(rng: Rng, lo: int, hi: int, dim: int = 5) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, dim, int(rng.integers(lo, hi + 1))))


def _one(opcode: str, x: TensorDef, consts: list[TensorDef], y: TensorDef, options: dict[str, Any] | None = None
         ) -> bytes:
    tensors = [x, *consts, y]
    op = OpDef(opcode, tuple(range(len(tensors) - 1)), (len(tensors) - 1,), options or {})
    return build_model(tensors, [op], [0], [len(tensors) - 1])


def _transpose(rng: Rng) -> Case:
    shape = _shape(rng, 1, 5, 5)
    perm = [int(a) for a in rng.permutation(len(shape))]
    q = _q(rng)
    y = _act("y", [shape[a] for a in perm], q)
    return f"x{list(shape)} perm {perm}", _one("TRANSPOSE", _act("x", shape, q), [_ints("perm", perm)], y)


def _strided_slice(rng: Rng) -> Case:
    while True:
        shape = _shape(rng, 1, 4, 7)
        rank = len(shape)
        begin = [int(rng.integers(-d - 2, d + 2)) for d in shape]
        end = [int(rng.integers(-d - 2, d + 2)) for d in shape]
        strides = [int(rng.choice([-3, -2, -1, 1, 1, 1, 2, 3])) for _ in shape]
        begin_mask, end_mask = (int(m) for m in rng.integers(0, 2**rank, 2))
        shrink = int(rng.integers(0, 2**rank)) if rng.random() < 0.4 else 0
        index: list[Any] = []  # the NumPy slice: an independent oracle of the output shape
        for a, d in enumerate(shape):
            if shrink >> a & 1:
                if not -d <= begin[a] < d or strides[a] < 0:
                    break
                index.append(begin[a])
            else:
                index.append(slice(None if begin_mask >> a & 1 else begin[a],
                                   None if end_mask >> a & 1 else end[a], strides[a]))
        else:
            out = np.empty(shape)[tuple(index)].shape
            if 0 not in out:
                break
    q = _q(rng)
    options = {"begin_mask": begin_mask, "end_mask": end_mask, "shrink_axis_mask": shrink}
    consts = [_ints("begin", begin), _ints("end", end), _ints("strides", strides)]
    desc = f"x{list(shape)} begin {begin} end {end} strides {strides} masks {begin_mask},{end_mask},{shrink}"
    return desc, _one("STRIDED_SLICE", _act("x", shape, q), consts, _act("y", out, q), options)


def _slice(rng: Rng) -> Case:
    shape = _shape(rng, 1, 5, 7)
    begin = [int(rng.integers(0, d)) for d in shape]
    size = [-1 if rng.random() < 0.2 else int(rng.integers(1, d - b + 1)) for b, d in zip(begin, shape)]
    out = [d - b if s == -1 else s for b, s, d in zip(begin, size, shape)]
    dtype = "<i4" if rng.random() < 0.5 else "<i8"
    q = _q(rng)
    consts = [_ints("begin", begin, dtype), _ints("size", size, dtype)]
    return (f"x{list(shape)} begin {begin} size {size} {dtype}",
            _one("SLICE", _act("x", shape, q), consts, _act("y", out, q)))


def _squeeze(rng: Rng) -> Case:
    core = list(_shape(rng, 1, 3, 5))
    shape = list(core)
    for _ in range(int(rng.integers(1, 3))):
        shape.insert(int(rng.integers(0, len(shape) + 1)), 1)
    out = [d for d in shape if d != 1] or [1]
    if out == [1]:
        shape, out = [1, *core, 1], [*core]
        out = [d for d in out if d != 1] or [2]
        shape = [1, *out, 1]
    q = _q(rng)
    return f"x{shape} -> {out}", _one("SQUEEZE", _act("x", shape, q), [], _act("y", out, q))


def _expand_dims(rng: Rng) -> Case:
    shape = list(_shape(rng, 1, 4))
    axis = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    a = axis % (len(shape) + 1)
    out = [*shape[:a], 1, *shape[a:]]
    q = _q(rng)
    return (f"x{shape} axis {axis}",
            _one("EXPAND_DIMS", _act("x", shape, q), [_ints("axis", [axis], "<i4", (1,))], _act("y", out, q)))


def _gather(rng: Rng) -> Case:
    shape = _shape(rng, 1, 4, 6)
    rank = len(shape)
    axis = int(rng.integers(0, rank))
    batch_dims = int(rng.integers(0, axis + 1)) if rng.random() < 0.3 else 0
    idx_shape = tuple(shape[:batch_dims]) + _shape(rng, 0, 2, 4)
    indices = rng.integers(0, shape[axis], idx_shape)
    out = [*shape[:axis], *idx_shape[batch_dims:], *shape[axis + 1:]]
    if not out:
        out, idx_shape, indices = [1], (1,), indices.reshape(1)
    q = _q(rng)
    neg_axis = axis - rank if rng.random() < 0.3 else axis
    consts = [_ints("indices", indices, "<i4", tuple(idx_shape))]
    return (f"x{list(shape)} indices {list(idx_shape)} axis {neg_axis} batch_dims {batch_dims}",
            _one("GATHER", _act("x", shape, q), consts, _act("y", out, q), {"axis": neg_axis, "batch_dims": batch_dims}))


def _pack(rng: Rng) -> Case:
    shape = list(_shape(rng, 0, 4))
    n = int(rng.integers(1, 5))
    axis = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    a = axis % (len(shape) + 1)
    out = [*shape[:a], n, *shape[a:]]
    q = _q(rng)
    tensors = [_act(f"x{k}", shape, q) for k in range(n)] + [_act("y", out, q)]
    op = OpDef("PACK", tuple(range(n)), (n,), {"values_count": n, "axis": axis})
    return f"{n} x {shape} axis {axis}", build_model(tensors, [op], list(range(n)), [n])


def _resize(rng: Rng) -> Case:
    n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 5))
    size = [int(rng.integers(1, 13)), int(rng.integers(1, 13))]
    corners, half = bool(rng.random() < 0.4), bool(rng.random() < 0.5)
    q = _q(rng)
    options = {"align_corners": corners, "half_pixel_centers": half}
    return (f"x[{n},{h},{w},{c}] -> {size} align_corners {corners} half_pixel_centers {half}",
            _one("RESIZE_NEAREST_NEIGHBOR", _act("x", (n, h, w, c), q), [_ints("size", size)],
                 _act("y", (n, *size, c), q), options))


GENERATORS: dict[str, Callable[[Rng], Case]] = {
    "TRANSPOSE": _transpose, "STRIDED_SLICE": _strided_slice, "SLICE": _slice, "SQUEEZE": _squeeze,
    "EXPAND_DIMS": _expand_dims, "GATHER": _gather, "PACK": _pack, "RESIZE_NEAREST_NEIGHBOR": _resize,
}


def _bit_exact(model: bytes, name: str, rng: Rng, runs: int = 1) -> list[str]:
    return host_mismatches(model, name, rng, runs)


@pytest.mark.parametrize("opcode", sorted(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)))
    failures = []
    for k in range(CASES):
        desc, model = GENERATORS[opcode](rng)
        failures += [f"case {k} ({desc}): {p}" for p in _bit_exact(model, f"{opcode.lower()}_{k}", rng)]
    assert not failures, "\n".join(failures)


def layout_chain_model(rng: Rng) -> bytes:
    """One input through all eight operators: RESIZE_NEAREST_NEIGHBOR, TRANSPOSE, STRIDED_SLICE (a negative
    stride, a shrunk axis), SLICE twice, PACK, GATHER, EXPAND_DIMS, SQUEEZE; int8 [2,2,3,4] out."""
    q = _q(rng)
    t = [
        _act("x0", (1, 4, 6, 2), q), _ints("size", [8, 9]), _act("x1", (1, 8, 9, 2), q),
        _ints("perm", [0, 3, 1, 2]), _act("x2", (1, 2, 8, 9), q),
        _ints("begin", [0, 0, 1, 8]), _ints("end", [0, 2, 8, 0]), _ints("strides", [1, 1, 2, -2]),
        _act("x3", (2, 4, 4), q),
        _ints("b1", [0, 1, 0]), _ints("s1", [2, -1, 3]), _act("x4", (2, 3, 3), q),
        _ints("b2", [0, 0, 1]), _ints("s2", [2, 3, 3]), _act("x5", (2, 3, 3), q),
        _act("x6", (2, 2, 3, 3), q), _ints("indices", [2, 0, 1, 2]), _act("x7", (2, 2, 3, 4), q),
        _ints("axis", [0]), _act("x8", (1, 2, 2, 3, 4), q), _act("y", (2, 2, 3, 4), q),
    ]
    ops = [
        OpDef("RESIZE_NEAREST_NEIGHBOR", (0, 1), (2,), {"half_pixel_centers": True}),
        OpDef("TRANSPOSE", (2, 3), (4,)),
        OpDef("STRIDED_SLICE", (4, 5, 6, 7), (8,), {"shrink_axis_mask": 1}),
        OpDef("SLICE", (8, 9, 10), (11,)), OpDef("SLICE", (8, 12, 13), (14,)),
        OpDef("PACK", (11, 14), (15,), {"values_count": 2, "axis": 1}),
        OpDef("GATHER", (15, 16), (17,), {"axis": 3}),
        OpDef("EXPAND_DIMS", (17, 18), (19,)), OpDef("SQUEEZE", (19,), (20,)),
    ]
    return build_model(t, ops, [0], [20])


def test_the_chain_is_bit_exact_on_the_host() -> None:
    rng = np.random.default_rng(5)
    assert not _bit_exact(layout_chain_model(rng), "layout_chain", rng, runs=4)


@requires_qemu
def test_the_chain_is_bit_exact_on_qemu(tmp_path: Any) -> None:
    path = tmp_path / "layout_chain.tflite"
    path.write_bytes(layout_chain_model(np.random.default_rng(5)))
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex)) == 48


def test_nearest_matches_tflite_rounding() -> None:
    # align_corners rounds half away from zero: 3 -> 5 with scale 0.5 puts outputs 1 and 3 on .5
    assert nearest(3, 5, True, False) == [0, 1, 1, 2, 2]
    assert nearest(4, 8, False, False) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert nearest(4, 3, False, True) == [0, 2, 3]


_Q = (0.05, 3)
_REFUSALS: list[tuple[str, bytes, str]] = [
    ("transpose rank 6", _one("TRANSPOSE", _act("x", (1,) * 6, _Q), [_ints("perm", list(range(6)))],
                              _act("y", (1,) * 6, _Q)),
     r"operator 0 \(TRANSPOSE\): input has rank 6; TRANSPOSE takes rank 1..5"),
    ("transpose bad perm", _one("TRANSPOSE", _act("x", (2, 3), _Q), [_ints("perm", [0, 0])], _act("y", (2, 2), _Q)),
     r"perm \[0, 0\] is not a permutation of 0..1"),
    ("transpose int64 perm", _one("TRANSPOSE", _act("x", (2, 3), _Q), [_ints("perm", [1, 0], "<i8")],
                                  _act("y", (3, 2), _Q)),
     r"perm must be a constant INT32 tensor .*got tensor 1 \('perm'\), INT64"),
    ("transpose requantizes", _one("TRANSPOSE", _act("x", (2, 3), _Q), [_ints("perm", [1, 0])],
                                   _act("y", (3, 2), (0.1, 3))),
     r"input and output quantization differ"),
    ("strided slice rank 5", _one("STRIDED_SLICE", _act("x", (1,) * 5, _Q),
                                  [_ints(n, v) for n, v in (("b", [0] * 5), ("e", [1] * 5), ("s", [1] * 5))],
                                  _act("y", (1,) * 5, _Q)),
     r"operator 0 \(STRIDED_SLICE\): input has rank 5; STRIDED_SLICE takes rank 1..4"),
    ("strided slice ellipsis", _one("STRIDED_SLICE", _act("x", (4,), _Q),
                                    [_ints(n, v) for n, v in (("b", [0]), ("e", [4]), ("s", [1]))],
                                    _act("y", (4,), _Q), {"ellipsis_mask": 1}),
     r"ellipsis_mask 1; only 0 is supported"),
    ("strided slice new axis", _one("STRIDED_SLICE", _act("x", (4,), _Q),
                                    [_ints(n, v) for n, v in (("b", [0]), ("e", [4]), ("s", [1]))],
                                    _act("y", (4,), _Q), {"new_axis_mask": 1}),
     r"new_axis_mask 1; only 0 is supported"),
    ("strided slice offset", _one("STRIDED_SLICE", _act("x", (4,), _Q),
                                  [_ints(n, v) for n, v in (("b", [0]), ("e", [4]), ("s", [1]))],
                                  _act("y", (4,), _Q), {"offset": True}),
     r"offset is true .*only offset false is supported"),
    ("strided slice stride 0", _one("STRIDED_SLICE", _act("x", (4,), _Q),
                                    [_ints(n, v) for n, v in (("b", [0]), ("e", [4]), ("s", [0]))],
                                    _act("y", (4,), _Q)),
     r"axis 0: stride 0; expected a non-zero stride"),
    ("strided slice empty", _one("STRIDED_SLICE", _act("x", (4,), _Q),
                                 [_ints(n, v) for n, v in (("b", [3]), ("e", [1]), ("s", [1]))],
                                 _act("y", (1,), _Q)),
     r"the slice is empty \(per axis \[0\] elements\); expected at least 1 on every axis"),
    ("strided slice shrink negative", _one("STRIDED_SLICE", _act("x", (4, 2), _Q),
                                           [_ints(n, v) for n, v in (("b", [1, 0]), ("e", [2, 2]), ("s", [-1, 1]))],
                                           _act("y", (2,), _Q), {"shrink_axis_mask": 1}),
     r"axis 0 is shrunk with stride -1; expected a positive stride on a shrunk axis"),
    ("slice past the end", _one("SLICE", _act("x", (4, 2), _Q), [_ints("b", [3, 0]), _ints("s", [2, 2])],
                                _act("y", (2, 2), _Q)),
     r"axis 0: begin 3 size 2 for dimension 4; expected 0 <= begin and begin \+ size <= dimension"),
    ("squeeze not ones", _one("SQUEEZE", _act("x", (2, 3), _Q), [], _act("y", (6,), _Q)),
     r"output shape \[6\] is not the input's \[2, 3\] with axes of size 1 removed"),
    ("expand dims int64", _one("EXPAND_DIMS", _act("x", (2,), _Q), [_ints("a", [0], "<i8", (1,))],
                               _act("y", (1, 2), _Q)),
     r"axis must be a constant INT32 tensor .*INT64"),
    ("expand dims axis", _one("EXPAND_DIMS", _act("x", (2,), _Q), [_ints("a", [3], "<i4", (1,))],
                              _act("y", (1, 2), _Q)),
     r"axis \[3\] for an input of rank 1; expected one value in -2..1"),
    ("gather index", _one("GATHER", _act("x", (3, 2), _Q), [_ints("i", [0, 3])], _act("y", (2, 2), _Q)),
     r"operator 0 \(GATHER\): index 3 is outside axis 0 of size 3; expected 0..2"),
    ("gather int64", _one("GATHER", _act("x", (3, 2), _Q), [_ints("i", [0, 1], "<i8")], _act("y", (2, 2), _Q)),
     r"indices must be a constant INT32 tensor .*INT64"),
    ("gather axis", _one("GATHER", _act("x", (3, 2), _Q), [_ints("i", [0])], _act("y", (1, 2), _Q), {"axis": 2}),
     r"axis 2 for an input of rank 2; expected -2..1"),
    ("pack count", build_model([_act("a", (2,), _Q), _act("b", (2,), _Q), _act("y", (3, 2), _Q)],
                               [OpDef("PACK", (0, 1), (2,), {"values_count": 3, "axis": 0})], [0, 1], [2]),
     r"operator 0 \(PACK\): values_count 3 but 2 inputs; expected them equal"),
    ("pack shapes", build_model([_act("a", (2,), _Q), _act("b", (3,), _Q), _act("y", (2, 2), _Q)],
                                [OpDef("PACK", (0, 1), (2,), {"values_count": 2, "axis": 0})], [0, 1], [2]),
     r"input 1 has shape \[3\], input 0 \[2\]; expected one shape"),
    ("resize rank", _one("RESIZE_NEAREST_NEIGHBOR", _act("x", (4, 4, 1), _Q), [_ints("size", [2, 2])],
                         _act("y", (2, 2, 1), _Q)),
     r"operator 0 \(RESIZE_NEAREST_NEIGHBOR\): input shape \[4, 4, 1\]; expected NHWC \(rank 4\)"),
    ("resize size", _one("RESIZE_NEAREST_NEIGHBOR", _act("x", (1, 4, 4, 1), _Q), [_ints("size", [2, 2])],
                         _act("y", (1, 3, 2, 1), _Q)),
     r"output shape \[1, 3, 2, 1\] differs from \[1, 2, 2, 1\], the input resized to \[2, 2\]"),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")
