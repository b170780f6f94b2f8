"""MEAN over any axes, SUM, CONCATENATION with constant inputs, RESIZE_BILINEAR, BATCH_MATMUL and TRANSPOSE_CONV
(harness/ops/reduce.py, mean.py, concatenation.py, resize_bilinear.py, batch_matmul.py, transpose_conv.py;
firmware/kernels/portable/reduce.c, resize.c, matmul.c): bit-exact against the tflite-micro interpreter on
random shapes and parameters (axes negative, repeated, keep_dims both ways; align_corners, half_pixel_centers;
adj_x, adj_y, broadcast batches, a constant operand; strides, SAME and VALID, per-channel weights, with and
without bias) and quantizations, on the host build under AddressSanitizer and UndefinedBehaviorSanitizer; all
six chained in one model on the host and on QEMU, and again in a model made by TensorFlow's converter; the
kernel each layer gets (a spatial MEAN keeps its kernel); and the refusals, each naming the operator, the bad
value and what is accepted.

The random models are written with harness.model.builder. HILBENCH_OP_CASES sets the cases per operator
(default 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.ops.checks import conv_output_size
from harness.ops.registry import lookup
from harness.ops.resize_bilinear import interpolation
from harness.runner import RunOptions, run_model
from tests.conftest import host_mismatches, requires_qemu, tensorflow_converted

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator
Case = tuple[str, bytes]  # description, model


def _q(rng: Rng) -> tuple[float, int]:
    return float(np.float32(10 ** rng.uniform(-3, -0.5))), int(rng.integers(-128, 128))


def _act(name: str, shape: Any, q: tuple[float, int]) -> TensorDef:
    return TensorDef(name, tuple(int(d) for d in shape), Dtype.INT8, (q[0],), (q[1],))


def _const(name: str, values: Any, q: tuple[float, int]) -> TensorDef:
    a = np.asarray(values, dtype=np.int8)
    return TensorDef(name, a.shape, Dtype.INT8, (q[0],), (q[1],), data=a.tobytes())


def _ints(name: str, values: Any, dtype: str = "<i4") -> TensorDef:
    a = np.asarray(values, dtype=dtype)
    return TensorDef(name, a.shape, Dtype.INT32 if dtype == "<i4" else Dtype.INT64, data=a.tobytes())


def _reduced(shape: tuple[int, ...], axes: list[int], keep: bool) -> tuple[int, ...]:
    rank = len(shape)
    resolved = {a % rank for a in axes}
    return tuple(1 if i in resolved else d for i, d in enumerate(shape) if keep or i not in resolved)


def _reduce_case(rng: Rng, opcode: str) -> Case:
    rank = int(rng.integers(1, 6))
    shape = tuple(int(d) for d in rng.integers(1, 6, rank))
    axes = [int(a) - (rank if rng.random() < 0.3 else 0) for a in rng.integers(0, rank, int(rng.integers(1, rank + 2)))]
    keep = bool(rng.integers(0, 2))
    qx = _q(rng)
    if rng.random() < 0.25:
        qy = qx
    elif opcode == "SUM":  # a sum needs a coarser output scale to stay in range, mostly
        qy = (float(np.float32(qx[0] * 10 ** rng.uniform(-0.5, 2))), int(rng.integers(-128, 128)))
    else:
        qy = _q(rng)
    tensors = [_act("x", shape, qx), _ints("axis", axes), _act("y", _reduced(shape, axes, keep), qy)]
    model = build_model(tensors, [OpDef(opcode, (0, 1), (2,), {"keep_dims": keep})], [0], [2])
    return f"x{list(shape)} axes {axes} keep_dims {keep} q {qx} -> {qy}", model


def _concat_case(rng: Rng) -> Case:
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 5, rank)]
    axis = int(rng.integers(-rank, rank))
    n = int(rng.integers(2, 5))
    q = _q(rng)
    constant = [bool(rng.integers(0, 2)) for _ in range(n)]
    first, second = (int(k) for k in rng.permutation(n)[:2])
    constant[first], constant[second] = True, False  # at least one of each
    tensors, parts = [], []
    for k in range(n):
        s = list(shape)
        s[axis] = int(rng.integers(1, 4))
        parts.append(s[axis])
        if constant[k]:
            tensors.append(_const(f"c{k}", rng.integers(-128, 128, s), q))
        else:
            tensors.append(_act(f"x{k}", s, q))
    out = list(shape)
    out[axis] = sum(parts)
    tensors.append(_act("y", out, q))
    inputs = [k for k in range(n) if not constant[k]]
    model = build_model(tensors, [OpDef("CONCATENATION", tuple(range(n)), (n,), {"axis": axis})], inputs, [n])
    return f"{n} inputs of rank {rank}, axis {axis}, constant {constant}", model


def _one(opcode: str, x: TensorDef, consts: list[TensorDef], y: TensorDef, options: dict[str, Any] | None = None
         ) -> bytes:
    tensors = [x, *consts, y]
    op = OpDef(opcode, tuple(range(len(tensors) - 1)), (len(tensors) - 1,), options or {})
    return build_model(tensors, [op], [0], [len(tensors) - 1])


def _resize_bilinear(rng: Rng) -> Case:
    shape = (int(rng.integers(1, 3)), *(int(d) for d in rng.integers(1, 7, 2)), int(rng.integers(1, 4)))
    size = [int(d) for d in rng.integers(1, 13, 2)]
    mode = int(rng.integers(0, 3))
    options = {"align_corners": mode == 1, "half_pixel_centers": mode == 2}
    q = _q(rng)
    y = _act("y", (shape[0], size[0], size[1], shape[3]), q)
    return (f"x{list(shape)} size {size} {options}",
            _one("RESIZE_BILINEAR", _act("x", shape, q), [_ints("size", size)], y, options))

def _batch_matmul(rng: Rng) -> Case:
    rank_l, rank_r = (int(r) for r in rng.integers(2, 6, 2))
    out_rank = max(rank_l, rank_r)
    batch = [int(d) for d in rng.integers(1, 4, out_rank - 2)]

    def batch_of(rank: int) -> list[int]:
        own = batch[len(batch) - (rank - 2):] if rank > 2 else []
        return [d if rng.random() < 0.7 else 1 for d in own]

    rows, cols, depth = (int(d) for d in rng.integers(1, 7, 3))
    adj_x, adj_y = (bool(v) for v in rng.integers(0, 2, 2))
    lhs_shape = [*batch_of(rank_l), *((depth, rows) if adj_x else (rows, depth))]
    rhs_shape = [*batch_of(rank_r), *((cols, depth) if adj_y else (depth, cols))]
    out_batch = [max(a, b) for a, b in zip(([1] * 3 + lhs_shape[:-2])[-(out_rank - 2):] if out_rank > 2 else [],
                                           ([1] * 3 + rhs_shape[:-2])[-(out_rank - 2):] if out_rank > 2 else [])]
    ql, qr = _q(rng), _q(rng)
    qy = (float(np.float32(ql[0] * qr[0] * 256 * np.sqrt(depth) * 10 ** rng.uniform(-1, 1))), int(rng.integers(-128, 128)))
    which = int(rng.integers(0, 3))  # 0: both activations, 1: constant rhs, 2: constant lhs
    lhs = _const("lhs", rng.integers(-128, 128, lhs_shape), ql) if which == 2 else _act("lhs", lhs_shape, ql)
    rhs = _const("rhs", rng.integers(-128, 128, rhs_shape), qr) if which == 1 else _act("rhs", rhs_shape, qr)
    tensors = [lhs, rhs, _act("y", [*out_batch, rows, cols], qy)]
    inputs = [k for k, t in enumerate(tensors[:2]) if t.data is None]
    model = build_model(tensors, [OpDef("BATCH_MATMUL", (0, 1), (2,), {"adj_x": adj_x, "adj_y": adj_y})], inputs, [2])
    return f"lhs {lhs_shape} rhs {rhs_shape} adj_x {adj_x} adj_y {adj_y} constant {['none', 'rhs', 'lhs'][which]}", model

def transpose_conv_model(rng: Rng, batch: int = 0) -> tuple[str, bytes]:
    """A random TRANSPOSE_CONV: per-channel or per-tensor weights, with or without bias, SAME or VALID."""
    n = batch or int(rng.integers(1, 3))
    in_h, in_w, in_c, out_c, k_h, k_w = (int(d) for d in rng.integers(1, 5, 6))
    sh, sw = (int(d) for d in rng.integers(1, 4, 2))
    mode = int(rng.integers(0, 2))  # 0 SAME, 1 VALID
    name = ("SAME", "VALID")[mode]

    def out_size(size: int, k: int, stride: int) -> int:
        fits = [o for o in range(1, size * stride + k + 2) if conv_output_size(o, k, stride, 1, name) == size]
        return int(rng.choice(fits))

    out_h, out_w = out_size(in_h, k_h, sh), out_size(in_w, k_w, sw)
    qx = _q(rng)
    per_channel = bool(rng.integers(0, 2))
    w_scales = tuple(float(np.float32(10 ** rng.uniform(-3, -1))) for _ in range(out_c if per_channel else 1))
    taps = max(1, (k_h * k_w * in_c) // (sh * sw))
    qy = (float(np.float32(qx[0] * max(w_scales) * 256 * np.sqrt(taps))), int(rng.integers(-128, 128)))
    w = rng.integers(-127, 128, (out_c, k_h, k_w, in_c)).astype(np.int8)
    tensors = [_ints("shape", [n, out_h, out_w, out_c]),
               TensorDef("w", w.shape, Dtype.INT8, w_scales, (0,) * len(w_scales), data=w.tobytes()),
               _act("x", (n, in_h, in_w, in_c), qx)]
    with_bias = bool(rng.integers(0, 2))
    if with_bias:
        bias = rng.integers(-20000, 20000, out_c).astype("<i4")
        tensors.append(TensorDef("b", (out_c,), Dtype.INT32, (qx[0] * w_scales[0],), (0,), data=bias.tobytes()))
    tensors.append(_act("y", (n, out_h, out_w, out_c), qy))
    out = len(tensors) - 1
    options = {"padding": mode, "stride_h": sh, "stride_w": sw}
    model = build_model(tensors, [OpDef("TRANSPOSE_CONV", tuple(range(out)), (out,), options)], [2], [out])
    desc = (f"x{[n, in_h, in_w, in_c]} -> {[n, out_h, out_w, out_c]} k {k_h}x{k_w} stride {sh}x{sw} {name} "
            f"per_channel {per_channel} bias {with_bias}")
    return desc, model

GENERATORS: dict[str, Callable[[Rng], Case]] = {
    "MEAN": lambda rng: _reduce_case(rng, "MEAN"), "SUM": lambda rng: _reduce_case(rng, "SUM"),
    "CONCATENATION_CONSTANT_OPERANDS": _concat_case, "RESIZE_BILINEAR": _resize_bilinear,
    "BATCH_MATMUL": _batch_matmul, "TRANSPOSE_CONV": transpose_conv_model,
}


def _bit_exact(model: bytes, name: str, rng: Rng, runs: int = 1) -> list[str]:
    return host_mismatches(model, name, rng, runs)


@pytest.mark.parametrize("opcode", sorted(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)))
    failures = []
    for k in range(CASES):
        desc, model = GENERATORS[opcode](rng)
        failures += [f"case {k} ({desc}): {p}" for p in _bit_exact(model, f"{opcode.lower()}_{k}", rng, runs=2)]
    assert not failures, "\n".join(failures)


def _graph_kernels(model: bytes) -> list[str]:
    g = parse_model(model, name="kernels")
    kernels = []
    for op in g.operators:
        spec = lookup(op.opcode)
        assert spec is not None
        kernels.append(spec.for_op(g, op))
    return kernels


def test_a_spatial_mean_keeps_its_kernel_and_other_axes_take_the_variant() -> None:
    q = (0.05, 3)
    for axes, keep, out, kernel in (([1, 2], True, (1, 1, 1, 3), "MEAN"), ([-2, 1], False, (1, 3), "MEAN"),
                                    ([3], True, (1, 4, 4, 1), "MEAN_ANY_AXES"),
                                    ([0, 1, 2], False, (3,), "MEAN_ANY_AXES")):
        model = build_model([_act("x", (1, 4, 4, 3), q), _ints("axis", axes), _act("y", out, q)],
                            [OpDef("MEAN", (0, 1), (2,), {"keep_dims": keep})], [0], [2])
        assert _graph_kernels(model) == [kernel], axes


def chain_model(rng: Rng) -> bytes:
    """x [2,3,1,4] -TRANSPOSE_CONV 3x2, stride 1x2, SAME, per-channel, bias-> [2,3,2,5] -RESIZE_BILINEAR to
    [3, 4], half_pixel_centers-> [2,3,4,5] -MEAN axis 3-> [2,3,4] -CONCATENATION with a constant [2,3,2] on
    axis 2-> [2,3,6] -BATCH_MATMUL by a constant [4,6], adj_y, broadcast over the batch-> [2,3,4] -SUM axes
    [0, -1], keep_dims-> y [1,3,1]."""
    qs = [_q(rng) for _ in range(4)]
    w_scales = tuple(float(np.float32(10 ** rng.uniform(-3, -1))) for _ in range(5))
    qt = (float(np.float32(qs[3][0] * max(w_scales) * 1000)), 2)
    qmm = (float(np.float32(qs[1][0] * qs[2][0] * 3000)), -4)
    qsum = (float(np.float32(qmm[0] * 8)), 5)
    w = rng.integers(-127, 128, (5, 3, 2, 4)).astype(np.int8)
    t = [_act("x", (2, 3, 1, 4), qs[3]), _ints("oshape", [2, 3, 2, 5]),
         TensorDef("wt", w.shape, Dtype.INT8, w_scales, (0,) * 5, data=w.tobytes()),
         TensorDef("bt", (5,), Dtype.INT32, (1.0,), (0,), data=rng.integers(-3000, 3000, 5).astype("<i4").tobytes()),
         _act("t", (2, 3, 2, 5), qt),
         _ints("size", [3, 4]), _act("r", (2, 3, 4, 5), qt),
         _ints("a1", [3]), _act("m", (2, 3, 4), qs[1]),
         _const("c", rng.integers(-128, 128, (2, 3, 2)), qs[1]), _act("cat", (2, 3, 6), qs[1]),
         _const("w", rng.integers(-128, 128, (4, 6)), qs[2]), _act("mm", (2, 3, 4), qmm),
         _ints("a2", [0, -1]), _act("y", (1, 3, 1), qsum)]
    ops = [OpDef("TRANSPOSE_CONV", (1, 2, 0, 3), (4,), {"padding": 0, "stride_h": 1, "stride_w": 2}),
           OpDef("RESIZE_BILINEAR", (4, 5), (6,), {"half_pixel_centers": True}),
           OpDef("MEAN", (6, 7), (8,)), OpDef("CONCATENATION", (8, 9), (10,), {"axis": 2}),
           OpDef("BATCH_MATMUL", (10, 11), (12,), {"adj_y": True}),
           OpDef("SUM", (12, 13), (14,), {"keep_dims": True})]
    return build_model(t, ops, [0], [14])


def test_the_chain_is_bit_exact_on_the_host() -> None:
    rng = np.random.default_rng(13)
    model = chain_model(rng)
    assert _graph_kernels(model) == ["TRANSPOSE_CONV", "RESIZE_BILINEAR", "MEAN_ANY_AXES", "CONCATENATION_CONSTANT_OPERANDS",
                                    "BATCH_MATMUL", "SUM"]
    assert not _bit_exact(model, "reduce_chain", rng, runs=4)


@requires_qemu
def test_the_chain_is_bit_exact_on_qemu(tmp_path: Any) -> None:
    path = tmp_path / "reduce_chain.tflite"
    path.write_bytes(chain_model(np.random.default_rng(13)))
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex)) == 3


_Q = (0.05, 3)


def _tconv(shape: list[int], zero_point: int, out: tuple[int, ...], options: dict[str, Any] | None = None) -> bytes:
    """TRANSPOSE_CONV of x [1,2,2,1] by 3x3 weights to 2 channels, stride 2, SAME."""
    tensors = [_ints("s", shape), TensorDef("w", (2, 3, 3, 1), Dtype.INT8, (0.1,), (zero_point,), data=bytes(18)),
               _act("x", (1, 2, 2, 1), _Q), _act("y", out, _Q)]
    return build_model(tensors, [OpDef("TRANSPOSE_CONV", (0, 1, 2), (3,), {"stride_h": 2, "stride_w": 2, **(options or {})})],
                       [2], [3])
_REFUSALS: list[tuple[str, bytes, str]] = [
    ("sum rank 6", _one("SUM", _act("x", (1,) * 6, _Q), [_ints("a", [0])], _act("y", (1,) * 5, _Q)),
     r"operator 0 \(SUM\): input has rank 6; SUM takes rank 1..5"),
    ("mean axis", _one("MEAN", _act("x", (2, 3), _Q), [_ints("a", [-3])], _act("y", (3,), _Q)),
     r"operator 0 \(MEAN\): axis -3 for an input of rank 2; expected -2..1"),
    ("sum int64 axis", _one("SUM", _act("x", (2, 3), _Q), [_ints("a", [1], "<i8")], _act("y", (2,), _Q)),
     r"operator 0 \(SUM\): axis must be a constant INT32 tensor .*got tensor 1 \('a'\), INT64"),
    ("mean output", _one("MEAN", _act("x", (2, 3), _Q), [_ints("a", [1])], _act("y", (3,), _Q)),
     r"operator 0 \(MEAN\): output shape \[3\]; reducing \[2, 3\] over axes \[1\] leaves 2 elements"),
    ("concat constant quantization", _one("CONCATENATION", _act("x", (2,), _Q), [_const("c", [1, 2], (0.1, 3))],
                                          _act("y", (4,), _Q)),
     r"operator 0 \(CONCATENATION\): input and output quantization differ"),
    ("concat constant int32", _one("CONCATENATION", _act("x", (2,), _Q), [_ints("c", [1, 2])],
                                   _act("y", (4,), _Q)),
     r"operator 0 \(CONCATENATION\): input 1 tensor 1 \('c'\) \(constant\) is INT32; only INT8 is supported"),
    ("matmul depth", _one("BATCH_MATMUL", _act("x", (2, 3), _Q), [_const("w", np.zeros((4, 5)), _Q)],
                          _act("y", (2, 5), _Q)),
     (r"operator 0 \(BATCH_MATMUL\): lhs \[2, 3\] \(adj_x False\) sums over 3 and rhs \[4, 5\] \(adj_y False\) "
     r"over 4; expected them equal")),
    ("matmul broadcast", _one("BATCH_MATMUL", _act("x", (2, 2, 3), _Q), [_const("w", np.zeros((3, 3, 4)), _Q)],
                              _act("y", (3, 2, 4), _Q)),
     r"operator 0 \(BATCH_MATMUL\): batch dims of lhs \[2, 2, 3\] and rhs \[3, 3, 4\] do not broadcast"),
    ("matmul rank", _one("BATCH_MATMUL", _act("x", (3,), _Q), [_const("w", np.zeros((3, 4)), _Q)],
                         _act("y", (4,), _Q)),
     r"operator 0 \(BATCH_MATMUL\): lhs has shape \[3\]; BATCH_MATMUL takes rank 2..5"),
    ("transpose conv shape", _tconv([1, 4, 4, 2], 0, (1, 4, 5, 2)),
     (r"operator 0 \(TRANSPOSE_CONV\): output shape input \[1, 4, 4, 2\] differs from the output tensor's "
     r"\[1, 4, 5, 2\]")),
    ("transpose conv zero point", _tconv([1, 4, 4, 2], 3, (1, 4, 4, 2)),
     r"operator 0 \(TRANSPOSE_CONV\): weights tensor 1 \('w'\) has zero point 3 \(channel 0\); weights zero"),
    ("transpose conv activation", _tconv([1, 4, 4, 2], 0, (1, 4, 4, 2), {"activation": 1}),
     r"operator 0 \(TRANSPOSE_CONV\): fused activation 1; only NONE \(0\) is supported on TRANSPOSE_CONV"),
    ("bilinear both modes", _one("RESIZE_BILINEAR", _act("x", (1, 2, 2, 1), _Q), [_ints("s", [4, 4])],
                                 _act("y", (1, 4, 4, 1), _Q), {"align_corners": True, "half_pixel_centers": True}),
     r"operator 0 \(RESIZE_BILINEAR\): align_corners and half_pixel_centers are both true; TFLite takes at most"),
    ("bilinear rank", _one("RESIZE_BILINEAR", _act("x", (2, 2, 1), _Q), [_ints("s", [4, 4])],
                           _act("y", (4, 4, 1), _Q)),
     r"operator 0 \(RESIZE_BILINEAR\): input shape \[2, 2, 1\]; expected NHWC \(rank 4\)"),
    ("bilinear requantizes", _one("RESIZE_BILINEAR", _act("x", (1, 2, 2, 1), _Q), [_ints("s", [4, 4])],
                                  _act("y", (1, 4, 4, 1), (0.1, 3))),
     r"operator 0 \(RESIZE_BILINEAR\): input and output quantization differ"),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")



def test_bilinear_weights_follow_tflite_fixed_point() -> None:
    # 2 -> 4: scale 512/1024; half_pixel_centers shifts by half a step and clamps the index, not the weight
    assert interpolation(2, 4, False, False) == [(0, 0, 0), (0, 1, 512), (1, 1, 0), (1, 1, 512)]
    assert interpolation(2, 4, False, True) == [(0, 0, -256), (0, 1, 256), (0, 1, 768), (1, 1, 256)]
    assert interpolation(3, 5, True, False) == [(0, 0, 0), (0, 1, 512), (1, 1, 0), (1, 2, 512), (2, 2, 0)]


# A Keras model that TensorFlow's converter (full int8) turns into TRANSPOSE_CONV, RESIZE_BILINEAR, MEAN over
# the channels, CONCATENATION with a constant, RESHAPE, BATCH_MATMUL of two activations (adj_y) and SUM: the
# operators as users' models carry them. Converted in a subprocess, so TensorFlow stays out of this one.
_CONVERT = """
import sys
import numpy as np, tensorflow as tf
rng = np.random.default_rng(0)
inp = tf.keras.Input((6, 6, 3), batch_size=1)
h = tf.keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(inp)
h = tf.keras.layers.Resizing(9, 9, interpolation="bilinear")(h)
m = tf.keras.layers.Lambda(lambda t: tf.reduce_mean(t, axis=-1, keepdims=True))(h)
grid = tf.constant(np.linspace(-1, 1, 81).reshape(1, 9, 9, 1), tf.float32)
c = tf.keras.layers.Lambda(lambda t: tf.concat([t, grid], axis=-1))(m)
r = tf.keras.layers.Reshape((9, 18))(c)
mm = tf.keras.layers.Lambda(lambda t: tf.matmul(t, t, transpose_b=True))(r)
out = tf.keras.layers.Lambda(lambda t: tf.reduce_sum(t, axis=1))(mm)
conv = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, out))
conv.optimizations = [tf.lite.Optimize.DEFAULT]
conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)] for _ in range(50))
conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
conv.inference_input_type = tf.int8
conv.inference_output_type = tf.int8
open(sys.argv[1], "wb").write(conv.convert())
"""
_CONVERTED_OPS = ["TRANSPOSE_CONV", "RESIZE_BILINEAR", "MEAN", "CONCATENATION", "RESHAPE", "BATCH_MATMUL", "SUM"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tensorflow_converted(tmp_path_factory.mktemp("converted"), "tf_reduce_ops.tflite", _CONVERT)


def test_a_converter_made_model_is_bit_exact_on_the_host(converted: Path) -> None:
    model = converted.read_bytes()
    assert [op.opcode for op in parse_model(model, name="tf").operators] == _CONVERTED_OPS
    assert not _bit_exact(model, "tf_reduce_ops", np.random.default_rng(2), runs=4)


@requires_qemu
def test_a_converter_made_model_is_bit_exact_on_qemu(converted: Path) -> None:
    record = run_model(converted, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex)) == 9
