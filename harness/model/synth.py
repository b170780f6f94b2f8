"""Random single-operator int8 models, for checking kernels against the
tflite-micro interpreter on shapes and quantizations no trained model has.

``random_case(opcode, rng)`` returns the model bytes of one operator with
random shapes, strides, paddings, dilations, fused activations and
quantization parameters, drawn the way the TFLite converter would emit them
(int8 activations per tensor, symmetric int8 weights per channel or per
tensor, int32 bias at input scale x weight scale).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.support import conv_output_size

Rng = np.random.Generator


@dataclass(frozen=True)
class Case:
    opcode: str
    description: str
    model: bytes


def _scale(rng: Rng, lo: float = -3.0, hi: float = -0.5) -> float:
    return float(np.float32(10 ** rng.uniform(lo, hi)))


def _zp(rng: Rng) -> int:
    return int(rng.integers(-128, 128))


def _act(name: str, shape: tuple[int, ...], scale: float, zp: int) -> TensorDef:
    return TensorDef(name, tuple(int(d) for d in shape), Dtype.INT8, (scale,), (zp,))


def _ints(name: str, values: list[int]) -> TensorDef:
    return TensorDef(name, (len(values),), Dtype.INT32, data=np.array(values, dtype="<i4").tobytes())


def _weights(rng: Rng, name: str, shape: tuple[int, ...], axis: int, per_channel: bool) -> TensorDef:
    w = rng.integers(-127, 128, size=shape, dtype=np.int8)
    n = shape[axis] if per_channel else 1
    scales = tuple(_scale(rng, -3, -1) for _ in range(n))
    return TensorDef(name, shape, Dtype.INT8, scales, (0,) * n, axis=axis, data=w.tobytes())


def _bias(rng: Rng, in_scale: float, w: TensorDef, n: int) -> TensorDef:
    assert w.scale is not None
    scales = tuple(float(np.float32(in_scale * (w.scale[c] if len(w.scale) > 1 else w.scale[0]))) for c in range(n))
    b = rng.integers(-4000, 4000, size=n).astype("<i4")
    return TensorDef("bias", (n,), Dtype.INT32, scales if len(scales) > 1 else scales[:1], (0,) * len(scales),
                     data=b.tobytes())


def _out_scale(in_scale: float, w: TensorDef, taps: int, rng: Rng) -> float:
    assert w.scale is not None
    return float(np.float32(in_scale * float(np.mean(w.scale)) * 60 * math.sqrt(taps) * rng.uniform(0.3, 2.0)))


def _window(rng: Rng, dilated: bool) -> tuple[int, int, int, int, int, int, int, int]:
    """(in_h, in_w, k_h, k_w, stride_h, stride_w, dilation_h, dilation_w) with a non-empty output."""
    while True:
        in_h, in_w = (int(v) for v in rng.integers(1, 13, 2))
        k_h, k_w = (int(v) for v in rng.integers(1, 6, 2))
        s_h, s_w = (int(v) for v in rng.integers(1, 4, 2))
        d_h, d_w = ((int(v) for v in rng.integers(1, 3, 2)) if dilated and rng.random() < 0.3 else (1, 1))
        if (k_h - 1) * d_h < in_h + 4 and (k_w - 1) * d_w < in_w + 4:
            return in_h, in_w, k_h, k_w, s_h, s_w, d_h, d_w


def _conv(rng: Rng, depthwise: bool) -> Case:
    in_h, in_w, k_h, k_w, s_h, s_w, d_h, d_w = _window(rng, dilated=True)
    padding = int(rng.integers(0, 2))
    pad_name = ("SAME", "VALID")[padding]
    out_h = conv_output_size(in_h, k_h, s_h, d_h, pad_name)
    out_w = conv_output_size(in_w, k_w, s_w, d_w, pad_name)
    if out_h < 1 or out_w < 1:
        padding, pad_name = 0, "SAME"
        out_h, out_w = conv_output_size(in_h, k_h, s_h, d_h, "SAME"), conv_output_size(in_w, k_w, s_w, d_w, "SAME")
    in_c = int(rng.integers(1, 17))
    if not depthwise and rng.random() < 0.25:  # pointwise, as in MobileNets (the DSP kernel's direct path)
        k_h = k_w = d_h = d_w = 1
        in_c = 4 * int(rng.integers(1, 9))
        out_h, out_w = conv_output_size(in_h, 1, s_h, 1, pad_name), conv_output_size(in_w, 1, s_w, 1, pad_name)
    if depthwise and rng.random() < 0.4:  # the MobileNet shape (the DSP kernel's path: 3x3, channels by four)
        k_h = k_w = 3
        in_c = 4 * int(rng.integers(1, 9))
        if pad_name == "VALID" and (in_h - 2 * d_h < 1 or in_w - 2 * d_w < 1):
            padding, pad_name = 0, "SAME"
        out_h, out_w = conv_output_size(in_h, 3, s_h, d_h, pad_name), conv_output_size(in_w, 3, s_w, d_w, pad_name)
    in_scale, in_zp = _scale(rng, -2, 0), _zp(rng)
    options = {"padding": padding, "stride_h": s_h, "stride_w": s_w, "dilation_h": d_h, "dilation_w": d_w,
               "activation": int(rng.choice([0, 1, 2, 3]))}
    if depthwise:
        dm = int(rng.choice([1, 1, 1, 2, 3]))
        out_c = in_c * dm
        w = _weights(rng, "w", (1, k_h, k_w, out_c), 3, per_channel=rng.random() < 0.8)
        options["depth_multiplier"] = dm
        taps = k_h * k_w
    else:
        out_c = int(rng.integers(1, 13))
        w = _weights(rng, "w", (out_c, k_h, k_w, in_c), 0, per_channel=rng.random() < 0.8)
        taps = k_h * k_w * in_c
    y_scale = _out_scale(in_scale, w, taps, rng)
    tensors = [_act("x", (1, in_h, in_w, in_c), in_scale, in_zp), w, _bias(rng, in_scale, w, out_c),
               _act("y", (1, out_h, out_w, out_c), y_scale, _zp(rng))]
    opcode = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    desc = (f"x[1,{in_h},{in_w},{in_c}] k{k_h}x{k_w} s{s_h},{s_w} d{d_h},{d_w} {pad_name} out_c {out_c} "
            f"act {options['activation']}")
    return Case(opcode, desc, build_model(tensors, [OpDef(opcode, (0, 1, 2), (3,), options)], [0], [3]))


def _fully_connected(rng: Rng) -> Case:
    batches, in_depth, out_depth = int(rng.integers(1, 4)), int(rng.integers(1, 80)), int(rng.integers(1, 21))
    in_scale = _scale(rng, -2, 0)
    w = _weights(rng, "w", (out_depth, in_depth), 0, per_channel=rng.random() < 0.3)
    act = int(rng.choice([0, 1, 3]))
    tensors = [_act("x", (batches, in_depth), in_scale, _zp(rng)), w, _bias(rng, in_scale, w, out_depth),
               _act("y", (batches, out_depth), _out_scale(in_scale, w, in_depth, rng), _zp(rng))]
    op = OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": act})
    desc = f"x[{batches},{in_depth}] -> {out_depth} per_channel {w.scale is not None and len(w.scale) > 1} act {act}"
    return Case("FULLY_CONNECTED", desc, build_model(tensors, [op], [0], [3]))


def _pool(rng: Rng, opcode: str) -> Case:
    in_h, in_w, k_h, k_w, s_h, s_w, _, _ = _window(rng, dilated=False)
    padding = int(rng.integers(0, 2))
    if k_h > in_h or k_w > in_w:
        padding = 0
    pad_name = ("SAME", "VALID")[padding]
    out_h, out_w = conv_output_size(in_h, k_h, s_h, 1, pad_name), conv_output_size(in_w, k_w, s_w, 1, pad_name)
    c = int(rng.integers(1, 17))
    scale, zp = _scale(rng, -2, 0), _zp(rng)
    act = int(rng.choice([0, 1, 3]))
    options = {"padding": padding, "stride_h": s_h, "stride_w": s_w, "filter_h": k_h, "filter_w": k_w,
               "activation": act}
    tensors = [_act("x", (1, in_h, in_w, c), scale, zp), _act("y", (1, out_h, out_w, c), scale, zp)]
    desc = f"x[1,{in_h},{in_w},{c}] f{k_h}x{k_w} s{s_h},{s_w} {pad_name} act {act}"
    return Case(opcode, desc, build_model(tensors, [OpDef(opcode, (0,), (1,), options)], [0], [1]))


def _binary(rng: Rng, opcode: str) -> Case:
    rank = int(rng.integers(1, 5))
    shape = tuple(int(d) for d in rng.integers(1, 7, rank))
    a_shape, b_shape = list(shape), list(shape)
    if rng.random() < 0.4:  # broadcast: ones in one input, and maybe a lower rank
        for i in range(rank):
            if rng.random() < 0.4:
                (a_shape if rng.random() < 0.5 else b_shape)[i] = 1
        if rng.random() < 0.3:
            b_shape = b_shape[int(rng.integers(0, rank)):] or [1]
    out_shape = tuple(np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
    s1, s2 = _scale(rng, -2, 0), _scale(rng, -2, 0)
    so = float(np.float32((s1 + s2) * rng.uniform(0.5, 2.0) if opcode == "ADD" else s1 * s2 * 128 * rng.uniform(0.3, 2)))
    act = int(rng.choice([0, 1, 3]))
    tensors = [_act("a", tuple(a_shape), s1, _zp(rng)), _act("b", tuple(b_shape), s2, _zp(rng)),
               _act("y", out_shape, so, _zp(rng))]
    desc = f"{a_shape} x {b_shape} act {act}"
    return Case(opcode, desc, build_model(tensors, [OpDef(opcode, (0, 1), (2,), {"activation": act})], [0, 1], [2]))


def _softmax(rng: Rng) -> Case:
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 33)))
    beta = float(rng.choice([1.0, 0.5, 2.0]))
    tensors = [_act("x", shape, _scale(rng, -2, -0.3), _zp(rng)), _act("y", shape, 1 / 256, -128)]
    op = OpDef("SOFTMAX", (0,), (1,), {"beta": beta})
    return Case("SOFTMAX", f"x{list(shape)} beta {beta}", build_model(tensors, [op], [0], [1]))


def _mean(rng: Rng) -> Case:
    b, h, w, c = 1, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 17))
    keep = bool(rng.random() < 0.5)
    s = _scale(rng, -2, 0)
    y_shape = (b, 1, 1, c) if keep else (b, c)
    tensors = [_act("x", (b, h, w, c), s, _zp(rng)), _ints("axis", [1, 2]),
               _act("y", y_shape, float(np.float32(s * rng.uniform(0.5, 2))), _zp(rng))]
    op = OpDef("MEAN", (0, 1), (2,), {"keep_dims": keep})
    return Case("MEAN", f"x[{b},{h},{w},{c}] keep_dims {keep}", build_model(tensors, [op], [0], [2]))


def _pad(rng: Rng) -> Case:
    rank = int(rng.integers(1, 5))
    shape = tuple(int(d) for d in rng.integers(1, 6, rank))
    pads = [int(p) for p in rng.integers(0, 3, 2 * rank)]
    out = tuple(d + pads[2 * i] + pads[2 * i + 1] for i, d in enumerate(shape))
    s, zp = _scale(rng), _zp(rng)
    paddings = TensorDef("paddings", (rank, 2), Dtype.INT32, data=np.array(pads, dtype="<i4").tobytes())
    tensors = [_act("x", shape, s, zp), paddings, _act("y", out, s, zp)]
    return Case("PAD", f"x{list(shape)} pads {pads}", build_model(tensors, [OpDef("PAD", (0, 1), (2,))], [0], [2]))


def _concatenation(rng: Rng) -> Case:
    rank = int(rng.integers(1, 5))
    axis = int(rng.integers(0, rank))
    base = [int(d) for d in rng.integers(1, 5, rank)]
    n = int(rng.integers(2, 4))
    shapes = []
    for _ in range(n):
        shape = list(base)
        shape[axis] = int(rng.integers(1, 5))
        shapes.append(tuple(shape))
    out = list(base)
    out[axis] = sum(sh[axis] for sh in shapes)
    s, zp = _scale(rng), _zp(rng)
    tensors = [_act(f"x{i}", sh, s, zp) for i, sh in enumerate(shapes)] + [_act("y", tuple(out), s, zp)]
    neg = bool(rng.random() < 0.3)
    op = OpDef("CONCATENATION", tuple(range(n)), (n,), {"axis": axis - rank if neg else axis})
    return Case("CONCATENATION", f"{shapes} axis {axis}", build_model(tensors, [op], list(range(n)), [n]))


def _unary(rng: Rng, opcode: str) -> Case:
    shape = tuple(int(d) for d in rng.integers(1, 9, int(rng.integers(1, 5))))
    s, zp = _scale(rng, -2.5, 0), _zp(rng)
    if opcode == "LOGISTIC":
        y_q, y_dtype = (1 / 256, -128), Dtype.INT8
    elif opcode == "TANH":
        y_q, y_dtype = (1 / 128, 0), Dtype.INT8
    elif opcode == "RELU6":
        y_q, y_dtype = (s, zp), Dtype.INT8
    elif opcode == "DEQUANTIZE":
        y_q, y_dtype = (0.0, 0), Dtype.FLOAT32
    else:
        y_q, y_dtype = (float(np.float32(s * rng.uniform(0.3, 3))), _zp(rng)), Dtype.INT8
    y = (_act("y", shape, *y_q) if y_dtype is Dtype.INT8 else TensorDef("y", shape, Dtype.FLOAT32))
    tensors = [_act("x", shape, s, zp), y]
    return Case(opcode, f"x{list(shape)} scale {s:.4g} zp {zp}",
                build_model(tensors, [OpDef(opcode, (0,), (1,))], [0], [1]))


GENERATORS: dict[str, Callable[[Rng], Case]] = {
    "CONV_2D": partial(_conv, depthwise=False),
    "DEPTHWISE_CONV_2D": partial(_conv, depthwise=True),
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": partial(_pool, opcode="AVERAGE_POOL_2D"),
    "MAX_POOL_2D": partial(_pool, opcode="MAX_POOL_2D"),
    "ADD": partial(_binary, opcode="ADD"),
    "MUL": partial(_binary, opcode="MUL"),
    "SOFTMAX": _softmax,
    "MEAN": _mean,
    "PAD": _pad,
    "CONCATENATION": _concatenation,
    **{op: partial(_unary, opcode=op) for op in ("QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH", "RELU", "RELU6")},
}


def random_case(opcode: str, rng: Rng) -> Case:
    return GENERATORS[opcode](rng)


def chain_model(rng: Rng) -> bytes:
    """One model through the eleven operators the MLPerf Tiny models do not use, ending in a float32 output:
    PAD, MAX_POOL_2D, RELU, MUL, QUANTIZE, TANH, CONCATENATION, LOGISTIC, MEAN, RELU6, DEQUANTIZE."""
    s0, z0 = _scale(rng, -2, -1), _zp(rng)
    s3, z3 = _scale(rng, -2, -1), _zp(rng)
    s4 = float(np.float32(s0 * s3 * 64))
    s9 = float(np.float32(1 / 256 * rng.uniform(0.5, 1.5)))
    paddings = TensorDef("paddings", (4, 2), Dtype.INT32, data=np.array([0, 0, 1, 1, 1, 1, 0, 0], "<i4").tobytes())
    t = [
        _act("x0", (1, 6, 6, 4), s0, z0), paddings, _act("x1", (1, 8, 8, 4), s0, z0),
        _act("x2", (1, 4, 4, 4), s0, z0), _act("x3", (1, 4, 4, 4), s3, z3), _act("x4", (1, 4, 4, 4), s4, _zp(rng)),
        _act("x5", (1, 4, 4, 4), 1 / 128, 0), _act("x6", (1, 4, 4, 4), 1 / 128, 0),
        _act("x7", (1, 4, 4, 8), 1 / 128, 0), _act("x8", (1, 4, 4, 8), 1 / 256, -128), _ints("axis", [1, 2]),
        _act("x9", (1, 8), s9, -100), _act("x10", (1, 8), s9, -100), TensorDef("y", (1, 8), Dtype.FLOAT32),
    ]
    pool = {"padding": 1, "stride_h": 2, "stride_w": 2, "filter_h": 2, "filter_w": 2}
    ops = [
        OpDef("PAD", (0, 1), (2,)), OpDef("MAX_POOL_2D", (2,), (3,), pool), OpDef("RELU", (3,), (4,)),
        OpDef("MUL", (4, 3), (5,)), OpDef("QUANTIZE", (5,), (6,)), OpDef("TANH", (4,), (7,)),
        OpDef("CONCATENATION", (7, 6), (8,), {"axis": 3}), OpDef("LOGISTIC", (8,), (9,)),
        OpDef("MEAN", (9, 10), (11,), {"keep_dims": False}), OpDef("RELU6", (11,), (12,)),
        OpDef("DEQUANTIZE", (12,), (13,)),
    ]
    return build_model(t, ops, [0], [13])
