"""int16 activations with int8 weights (TFLite's 16x8 quantization; issue 13, item 2): QUANTIZE int8 <-> int16,
int16 -> int16 and FLOAT32 -> int16, DEQUANTIZE int16 -> FLOAT32, FULLY_CONNECTED, CONV_2D and
DEPTHWISE_CONV_2D 16x8, and ADD and MUL of int16 (harness/ops/int16_edges.py, fully_connected_16x8.py,
conv_16x8.py, binary_int16.py).

Each is compiled for the host with ASan and UBSan and compared bit for bit with the tflite-micro interpreter
on random shapes and quantizations. The operator under test sits between a FLOAT32 graph input quantized to
int16 and a DEQUANTIZE to a FLOAT32 output, so its int16 input takes every int16 value and a difference in
any int16 output shows in the float output; two such models run on QEMU. The refusals (an int16 activation
with a non-zero zero point, per-channel 16x8 FULLY_CONNECTED weights, an INT32 bias for 16x8, a depthwise 16x8
layer without a bias, int16 LOG_SOFTMAX) name the value and what is accepted.

HILBENCH_OP_CASES sets the random cases per operator (default 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable
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
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_cc, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator


def _scale(rng: Rng, lo: float, hi: float) -> float:
    return float(np.float32(10 ** rng.uniform(lo, hi)))


def _i16(name: str, shape: tuple[int, ...], scale: float) -> TensorDef:
    return TensorDef(name, shape, Dtype.INT16, (scale,), (0,))


def _f32(name: str, shape: tuple[int, ...]) -> TensorDef:
    return TensorDef(name, shape, Dtype.FLOAT32)


def _float_edged(inner: list[TensorDef], ops: list[OpDef], in_shapes: list[tuple[int, ...]],
                 in_scales: list[float], out_index: int) -> bytes:
    """Each FLOAT32 graph input -QUANTIZE-> int16 tensor ``k`` of ``inner`` (k = 0, 1, ...), the ``ops`` over
    ``inner`` (indexes into it), then tensor ``out_index`` of ``inner`` -DEQUANTIZE-> a FLOAT32 output."""
    n_in = len(in_shapes)
    base = n_in  # the float inputs come first, then ``inner``
    floats = [_f32(f"x{k}", s) for k, s in enumerate(in_shapes)]
    tensors = floats + inner + [_f32("y", inner[out_index].shape)]

    def shift(ix: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(i + base if i >= 0 else i for i in ix)

    all_ops = [OpDef("QUANTIZE", (k,), (base + k,)) for k in range(n_in)]
    all_ops += [OpDef(o.opcode, shift(o.inputs), shift(o.outputs), o.options) for o in ops]
    all_ops.append(OpDef("DEQUANTIZE", (base + out_index,), (len(tensors) - 1,)))
    del in_scales
    return build_model(tensors, all_ops, list(range(n_in)), [len(tensors) - 1])


def _float_inputs(rng: Rng, model: bytes) -> list[np.ndarray]:
    """Floats spanning each input's int16 range a little beyond, so the QUANTIZE saturates sometimes."""
    g = parse_model(model, name="inputs")
    out = []
    for t in g.inputs:
        q = g.operators[[op.inputs[0] for op in g.operators].index(t)].outputs[0]
        scale = g.tensors[q].quant.scale[0]  # type: ignore[union-attr]
        wide = rng.random() < 0.5
        spread = 40000 if wide else float(rng.choice([300, 3000, 30000]))
        out.append((rng.uniform(-spread, spread, g.tensors[t].shape) * scale).astype(np.float32))
    return out


def requantize_model(rng: Rng) -> tuple[bytes, str]:
    """float -> int16 -QUANTIZE-> int16 (another scale) -> float."""
    shape = tuple(int(d) for d in rng.integers(1, 9, int(rng.integers(1, 4))))
    s1, s2 = _scale(rng, -4, 0), 0.0
    s2 = float(np.float32(s1 * 10 ** rng.uniform(-1.5, 1.5)))
    inner = [_i16("a", shape, s1), _i16("b", shape, s2)]
    model = _float_edged(inner, [OpDef("QUANTIZE", (0,), (1,))], [shape], [s1], 1)
    return model, f"{list(shape)} scales {s1:.3g} -> {s2:.3g}"


def int8_roundtrip_model(rng: Rng) -> tuple[bytes, str]:
    """int8 -QUANTIZE-> int16 -QUANTIZE-> int8: both int8 <-> int16 requantizations."""
    shape = (int(rng.integers(1, 300)),)
    s8, z8 = _scale(rng, -3, 0), int(rng.integers(-128, 128))
    s16 = float(np.float32(s8 * 10 ** rng.uniform(-3, 0.5)))
    so, zo = float(np.float32(s8 * 10 ** rng.uniform(-1, 1))), int(rng.integers(-128, 128))
    tensors = [TensorDef("x", shape, Dtype.INT8, (s8,), (z8,)), _i16("h", shape, s16),
               TensorDef("y", shape, Dtype.INT8, (so,), (zo,))]
    ops = [OpDef("QUANTIZE", (0,), (1,)), OpDef("QUANTIZE", (1,), (2,))]
    return build_model(tensors, ops, [0], [2]), f"{list(shape)} {s8:.3g}/{z8} -> {s16:.3g} -> {so:.3g}/{zo}"


def fc_model(rng: Rng) -> tuple[bytes, str]:
    """float -> int16 [batches, in_depth] -FULLY_CONNECTED 16x8-> int16 -> float; int64 bias or none."""
    batches, in_depth, out_depth = int(rng.integers(1, 4)), int(rng.integers(1, 70)), int(rng.integers(1, 20))
    s_in, s_w = _scale(rng, -4, -1), _scale(rng, -3, -1)
    # a sum of full-range inputs has a spread of about sqrt(in_depth) * 19000 * 73: outputs spread over
    # thousands, sometimes saturating
    s_out = float(np.float32(s_in * s_w * np.sqrt(in_depth) * 170 * 10 ** rng.uniform(-1, 1)))
    w = rng.integers(-127, 128, (out_depth, in_depth), dtype=np.int8)
    if rng.random() < 0.2:
        w[:, :] = 127  # the largest sums
    act = int(rng.choice([0, 0, 0, 1, 2, 3]))
    inner = [_i16("a", (batches, in_depth), s_in),
             TensorDef("w", (out_depth, in_depth), Dtype.INT8, (s_w,), (0,), data=w.tobytes()),
             _i16("y", (batches, out_depth), s_out)]
    bias_index = -1
    if rng.random() < 0.8:
        # about the sums' spread, sometimes far beyond int32 (the reason for the int64 bias)
        b = rng.integers(-(1 << 24), 1 << 24, out_depth).astype("<i8") << int(rng.choice([0, 0, 0, 2, 18]))
        inner.insert(2, TensorDef("b", (out_depth,), Dtype.INT64, (s_in * s_w,), (0,), data=b.tobytes()))
        bias_index = 2
    out = len(inner) - 1
    op = OpDef("FULLY_CONNECTED", (0, 1, bias_index), (out,), {"activation": act})
    model = _float_edged(inner, [op], [(batches, in_depth)], [s_in], out)
    return model, f"{batches}x{in_depth}->{out_depth} act {act} bias {bias_index >= 0}"


def binary_model(rng: Rng, opcode: str) -> tuple[bytes, str]:
    """float -> int16 a, float -> int16 b, ``opcode`` broadcasting -> int16 -> float."""
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 6, rank)]
    a, b = list(shape), list(shape)
    if rng.random() < 0.6:
        for i in range(rank):
            if rng.random() < 0.4:
                (a if rng.random() < 0.5 else b)[i] = 1
        if rng.random() < 0.3:
            b = b[int(rng.integers(0, rank)):] or [1]
    out = tuple(int(d) for d in np.broadcast_shapes(tuple(a), tuple(b)))
    s1, s2 = _scale(rng, -4, -1), _scale(rng, -4, -1)
    if opcode == "ADD":
        so = float(np.float32(max(s1, s2) * 10 ** rng.uniform(-0.2, 0.6)))
    else:  # a product of two full-range inputs is about 1e9 * s1 * s2
        so = float(np.float32(s1 * s2 * 1e5 * 10 ** rng.uniform(-1, 1)))
    act = int(rng.choice([0, 0, 0, 1, 2, 3]))
    inner = [_i16("a", tuple(a), s1), _i16("b", tuple(b), s2), _i16("y", out, so)]
    model = _float_edged(inner, [OpDef(opcode, (0, 1), (2,), {"activation": act})], [tuple(a), tuple(b)],
                         [s1, s2], 2)
    return model, f"{a} x {b} act {act}"


def _out_size(size: int, k: int, stride: int, dilation: int, same: bool) -> int:
    return (size + stride - 1) // stride if same else (size - (k - 1) * dilation - 1 + stride) // stride


def conv_model(rng: Rng, depthwise: bool) -> tuple[bytes, str]:
    """float -> int16 NHWC -CONV_2D or DEPTHWISE_CONV_2D 16x8-> int16 -> float: random geometry (strides,
    dilations, SAME and VALID), per-channel weight scales, an int64 bias or none."""
    while True:
        in_h, in_w, in_c = (int(v) for v in rng.integers(1, 9, 3))
        k_h, k_w = (int(v) for v in rng.integers(1, 4, 2))
        sh, sw, dh, dw = (int(v) for v in rng.integers(1, 3, 4))
        same = bool(rng.random() < 0.5)
        out_h, out_w = _out_size(in_h, k_h, sh, dh, same), _out_size(in_w, k_w, sw, dw, same)
        if out_h > 0 and out_w > 0:
            break
    dm = int(rng.integers(1, 3)) if depthwise else 1
    out_c = in_c * dm if depthwise else int(rng.integers(1, 9))
    w_shape = (1, k_h, k_w, out_c) if depthwise else (out_c, k_h, k_w, in_c)
    taps = k_h * k_w * (1 if depthwise else in_c)
    s_in = _scale(rng, -4, -1)
    w_scales = tuple(_scale(rng, -3, -1) for _ in range(out_c))
    s_out = float(np.float32(s_in * max(w_scales) * np.sqrt(taps) * 170 * 10 ** rng.uniform(-1, 1)))
    w = rng.integers(-127, 128, w_shape, dtype=np.int8)
    inner = [_i16("a", (1, in_h, in_w, in_c), s_in),
             TensorDef("w", w_shape, Dtype.INT8, w_scales, (0,) * out_c, data=w.tobytes(),
                       axis=3 if depthwise else 0)]
    bias_index = -1
    if depthwise or rng.random() < 0.8:  # 16x8 DEPTHWISE_CONV_2D needs a bias (refused without)
        b = rng.integers(-(1 << 24), 1 << 24, out_c).astype("<i8") << int(rng.choice([0, 0, 2, 18]))
        inner.append(TensorDef("b", (out_c,), Dtype.INT64, tuple(s_in * ws for ws in w_scales), (0,) * out_c,
                               data=b.tobytes()))
        bias_index = 2
    inner.append(_i16("y", (1, out_h, out_w, out_c), s_out))
    options: dict[str, object] = {"padding": 0 if same else 1, "stride_h": sh, "stride_w": sw, "dilation_h": dh,
                                  "dilation_w": dw, "activation": int(rng.choice([0, 0, 0, 1, 2, 3]))}
    if depthwise:
        options["depth_multiplier"] = dm
    opcode = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    out = len(inner) - 1
    model = _float_edged(inner, [OpDef(opcode, (0, 1, bias_index), (out,), options)], [(1, in_h, in_w, in_c)],
                         [s_in], out)
    return model, f"{in_h}x{in_w}x{in_c} k{k_h}x{k_w} -> {out_h}x{out_w}x{out_c} {options}"


GENERATORS: dict[str, Callable[[Rng], tuple[bytes, str]]] = {
    "CONV_2D_16X8": lambda rng: conv_model(rng, depthwise=False),
    "DEPTHWISE_CONV_2D_16X8": lambda rng: conv_model(rng, depthwise=True),
    "QUANTIZE_INT16": requantize_model,
    "QUANTIZE_INT8_TO_INT16": int8_roundtrip_model,
    "FULLY_CONNECTED_16X8": fc_model,
    "ADD_INT16": lambda rng: binary_model(rng, "ADD"),
    "MUL_INT16": lambda rng: binary_model(rng, "MUL"),
}


def _inputs(rng: Rng, model: bytes) -> list[np.ndarray]:
    g = parse_model(model, name="inputs")
    if g.tensors[g.inputs[0]].dtype is Dtype.INT8:
        return [rng.integers(-128, 128, g.tensors[t].shape, dtype=np.int8) for t in g.inputs]
    return _float_inputs(rng, model)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(name: str) -> None:
    rng = np.random.default_rng(sum(map(ord, name)) + 16)
    failures = []
    for k in range(CASES):
        model, description = GENERATORS[name](rng)
        graph = parse_model(model, name=f"{name.lower()}_{k}")
        assert name in [layer.op for layer in generate(graph).layers]
        host = build_host_model(graph)
        for _ in range(3):
            inputs = _inputs(rng, model)
            expected = interpret(model, *inputs)
            got = host.output(*(x.tobytes() for x in inputs))
            if got != expected:
                failures.append(f"case {k} ({description}): outputs differ")
                break
    assert not failures, "\n".join(failures)



@pytest.mark.parametrize("scale", [2.0**-15, 0.1, 3.7e-5, 1 / 255, 123.0])
def test_quantize_from_float_to_int16_rounds_and_clamps_as_tflm(scale: float) -> None:
    """Ties (k + 1/2) * scale and their neighbours, values past int16 and int32, infinities, NaN, signed zeros."""
    s = np.float32(scale)
    ties = ((np.arange(-300, 300) * 113 + np.float32(0.5)) * s).astype(np.float32)
    near = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e20, -1e20, 3e38, -3e38, 2.2e9 * scale,
                        -2.2e9 * scale, 32767.5 * scale, -32768.5 * scale, 40000 * scale, 1e-45], dtype=np.float32)
    x = np.concatenate([ties, near, special]).reshape(1, -1)
    inner = [_i16("q", x.shape, float(s))]
    model = _float_edged(inner, [], [x.shape], [float(s)], 0)
    graph = parse_model(model, name="quantize_float_int16")
    assert [layer.op for layer in generate(graph).layers] == ["QUANTIZE_FROM_FLOAT_TO_INT16", "DEQUANTIZE_INT16"]
    got, expected = build_host_model(graph).output(x.tobytes()), interpret(model, x)
    assert got == expected


def chain_model(seed: int) -> bytes:
    """float [1,24] -QUANTIZE-> int16 -FULLY_CONNECTED 16x8-> int16 [1,8] -ADD (itself)-> -MUL (by the FC output)->
    -QUANTIZE-> int8 -QUANTIZE-> int16 -DEQUANTIZE-> float: every int16 variant in one graph."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (8, 24), dtype=np.int8)
    b = rng.integers(-(1 << 20), 1 << 20, 8).astype("<i8")
    s_in, s_w = 2.0**-10, 0.01
    inner = [_i16("x", (1, 24), s_in), TensorDef("w", (8, 24), Dtype.INT8, (s_w,), (0,), data=w.tobytes()),
             TensorDef("b", (8,), Dtype.INT64, (s_in * s_w,), (0,), data=b.tobytes()),
             _i16("h", (1, 8), 0.003), _i16("s", (1, 8), 0.005), _i16("m", (1, 8), 0.004),
             TensorDef("q8", (1, 8), Dtype.INT8, (0.5,), (-3,)), _i16("q16", (1, 8), 0.0004)]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": 0}), OpDef("ADD", (3, 3), (4,), {"activation": 0}),
           OpDef("MUL", (4, 3), (5,), {"activation": 0}), OpDef("QUANTIZE", (5,), (6,)), OpDef("QUANTIZE", (6,), (7,))]
    return _float_edged(inner, ops, [(1, 24)], [s_in], 7)


def conv_chain_model(seed: int) -> bytes:
    """float [1,6,6,2] -QUANTIZE-> int16 -CONV_2D 16x8 (3x3 SAME, 4 channels)-> -DEPTHWISE_CONV_2D 16x8 (3x3
    VALID, stride 2)-> int16 [1,2,2,4] -DEQUANTIZE-> float."""
    rng = np.random.default_rng(seed)
    w1 = rng.integers(-127, 128, (4, 3, 3, 2), dtype=np.int8)
    w2 = rng.integers(-127, 128, (1, 3, 3, 4), dtype=np.int8)
    s_in, s1, s2 = 2.0**-11, (0.01, 0.02, 0.005, 0.013), (0.02, 0.011, 0.007, 0.03)
    b1 = rng.integers(-(1 << 20), 1 << 20, 4).astype("<i8")
    b2 = rng.integers(-(1 << 20), 1 << 20, 4).astype("<i8")
    inner = [_i16("x", (1, 6, 6, 2), s_in),
             TensorDef("w1", (4, 3, 3, 2), Dtype.INT8, s1, (0,) * 4, data=w1.tobytes()),
             TensorDef("b1", (4,), Dtype.INT64, tuple(s_in * s for s in s1), (0,) * 4, data=b1.tobytes()),
             _i16("h", (1, 6, 6, 4), 0.002),
             TensorDef("w2", (1, 3, 3, 4), Dtype.INT8, s2, (0,) * 4, data=w2.tobytes(), axis=3),
             TensorDef("b2", (4,), Dtype.INT64, tuple(0.002 * s for s in s2), (0,) * 4, data=b2.tobytes()),
             _i16("y", (1, 2, 2, 4), 0.003)]
    window = {"stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1}
    ops = [OpDef("CONV_2D", (0, 1, 2), (3,), {**window, "padding": 0, "activation": 1}),
           OpDef("DEPTHWISE_CONV_2D", (3, 4, 5), (6,), {**window, "padding": 1, "stride_h": 2, "stride_w": 2,
                                                        "depth_multiplier": 1, "activation": 0})]
    return _float_edged(inner, ops, [(1, 6, 6, 2)], [s_in], 6)


def test_chain_of_every_variant_is_bit_exact_on_the_host() -> None:
    model = chain_model(3)
    graph = parse_model(model, name="int16_chain")
    assert [layer.op for layer in generate(graph).layers] == [
        "QUANTIZE_FROM_FLOAT_TO_INT16", "FULLY_CONNECTED_16X8", "ADD_INT16", "MUL_INT16", "QUANTIZE_INT16_TO_INT8",
        "QUANTIZE_INT8_TO_INT16", "DEQUANTIZE_INT16"]
    host = build_host_model(graph)
    rng = np.random.default_rng(4)
    for _ in range(20):
        x = _float_inputs(rng, model)[0]
        assert host.output(x.tobytes()) == interpret(model, x)


def test_int16_tensors_take_two_bytes_in_the_plan() -> None:
    """The arena holds each int16 tensor in 2 bytes an element, and the int8 -> int16 QUANTIZE does not share
    its input's bytes (it writes twice as many)."""
    graph = parse_model(chain_model(3), name="int16_chain")
    gen = generate(graph)
    spans = {t.index: (gen.offsets[t.index], gen.offsets[t.index] + t.nbytes) for t in graph.tensors
             if t.index in gen.offsets}
    assert all(graph.tensors[t].nbytes == 2 * graph.tensors[t].elements for t in spans
               if graph.tensors[t].dtype is Dtype.INT16)
    widen = graph.operators[-2]
    assert (graph.tensors[widen.inputs[0]].dtype, graph.tensors[widen.outputs[0]].dtype) == (Dtype.INT8, Dtype.INT16)
    (a0, a1), (b0, b1) = spans[widen.inputs[0]], spans[widen.outputs[0]]
    assert a1 <= b0 or b1 <= a0


def _refusal(tensors: list[TensorDef], ops: list[OpDef], inputs: list[int]) -> str:
    model = build_model(tensors, ops, inputs, [len(tensors) - 1])
    with pytest.raises(ModelError) as info:
        parse_model(model, name="refused")  # validates (harness.model.support)
    return str(info.value)


def test_refusals_name_the_tensor_the_value_and_what_is_accepted() -> None:
    x = _f32("x", (1, 4))
    w = TensorDef("w", (2, 4), Dtype.INT8, (0.01,), (0,), data=bytes(8))
    # an int16 activation with a zero point other than 0
    bad = TensorDef("q", (1, 4), Dtype.INT16, (0.01,), (5,))
    message = _refusal([x, bad, w, _i16("y", (1, 2), 0.1)], [OpDef("QUANTIZE", (0,), (1,)),
                       OpDef("FULLY_CONNECTED", (1, 2, -1), (3,), {"activation": 0})], [0])
    assert "operator 0 (QUANTIZE)" in message and "INT16 with zero point 5" in message and "zero point 0" in message
    # per-channel 16x8 weights, and an INT32 bias where 16x8 takes INT64
    per_channel = TensorDef("w", (2, 4), Dtype.INT8, (0.01, 0.02), (0, 0), data=bytes(8))
    tensors = [x, _i16("q", (1, 4), 0.01), per_channel, _i16("y", (1, 2), 0.1)]
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, -1), (3,))], [0])
    assert "operator 1 (FULLY_CONNECTED)" in message and "2 scales" in message and "per-tensor" in message
    b32 = TensorDef("b", (2,), Dtype.INT32, (1e-4,), (0,), data=bytes(8))
    tensors = [x, _i16("q", (1, 4), 0.01), w, b32, _i16("y", (1, 2), 0.1)]
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, 3), (4,))], [0])
    assert "bias must be a constant INT64 tensor" in message and "INT32" in message
    # int16 input, int8 output: 16x8 FULLY_CONNECTED gives INT16
    tensors = [x, _i16("q", (1, 4), 0.01), w, TensorDef("y", (1, 2), Dtype.INT8, (0.1,), (0,))]
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (1,)), OpDef("FULLY_CONNECTED", (1, 2, -1), (3,))], [0])
    assert "16x8 FULLY_CONNECTED gives INT16" in message
    # ADD of int16 and int8
    tensors = [x, _f32("x2", (1, 4)), _i16("a", (1, 4), 0.01), TensorDef("b", (1, 4), Dtype.INT8, (0.1,), (0,)),
               _i16("y", (1, 4), 0.1)]
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (2,)), OpDef("QUANTIZE", (1,), (3,)),
                                 OpDef("ADD", (2, 3), (4,))], [0, 1])
    assert "operator 2 (ADD)" in message and "is INT8" in message and "INT16 only" in message
    # 16x8 DEPTHWISE_CONV_2D without a bias (TFLite Micro's kernel would read a missing one)
    tensors = [_f32("x", (1, 3, 3, 2)), _i16("a", (1, 3, 3, 2), 0.01),
               TensorDef("w", (1, 2, 2, 2), Dtype.INT8, (0.01, 0.01), (0, 0), data=bytes(8), axis=3),
               _i16("y", (1, 2, 2, 2), 0.1)]
    window = {"padding": 1, "stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1, "depth_multiplier": 1}
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (1,)), OpDef("DEPTHWISE_CONV_2D", (1, 2, -1), (3,), window)],
                       [0])
    assert "operator 1 (DEPTHWISE_CONV_2D)" in message and "without a bias" in message
    # int16 LOG_SOFTMAX is not supported: refused, naming the type (int16 LOGISTIC and TANH: test_lut16.py,
    # int16 SOFTMAX: test_softmax16.py)
    tensors = [x, _i16("a", (1, 4), 2.0**-12), _i16("y", (1, 4), 2.0**-15)]
    message = _refusal(tensors, [OpDef("QUANTIZE", (0,), (1,)), OpDef("LOG_SOFTMAX", (1,), (2,))], [0])
    assert "operator 1 (LOG_SOFTMAX)" in message and "is INT16; only INT8 activations are supported" in message


def test_conv_chain_is_bit_exact_on_the_host() -> None:
    model = conv_chain_model(2)
    graph = parse_model(model, name="int16_conv_chain")
    assert [layer.op for layer in generate(graph).layers] == [
        "QUANTIZE_FROM_FLOAT_TO_INT16", "CONV_2D_16X8", "DEPTHWISE_CONV_2D_16X8", "DEQUANTIZE_INT16"]
    host = build_host_model(graph)
    rng = np.random.default_rng(5)
    for _ in range(10):
        x = _float_inputs(rng, model)[0]
        assert host.output(x.tobytes()) == interpret(model, x)


@requires_qemu
@requires_cc
@pytest.mark.parametrize("kind", ["chain", "conv_chain"])
def test_int16_models_run_bit_exact_on_qemu_m4(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"int16_{kind}.tflite"
    path.write_bytes(chain_model(5) if kind == "chain" else conv_chain_model(6))
    run = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.ok and run.matches_reference, f"{run.status}: {run.error}"
