"""Sums that pass INT32_MAX or INT32_MIN on the way: the kernels sum modulo 2^32 in uint32_t (no
signed overflow, which the sanitized host build would stop at) and still match the interpreter
bit for bit, where TFLite's int32 sums wrap the same way. The bias sits near the int32 limits, so
the folded bias the generator computes (bias + input offset * sum of weights) leaves int32 too."""

from __future__ import annotations

import numpy as np
import pytest

from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from tests.conftest import interpret
from tests.firmware.host_c import requires_host_cc

pytestmark = requires_host_cc

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
BIASES = [INT32_MAX - 1000, INT32_MIN + 1000, INT32_MAX, INT32_MIN, INT32_MAX - 2**20, INT32_MIN + 2**20]
W_SCALE = 1e-3
# the output scale puts |sum| = 2^31 at about 100 output steps, so wrapped and unwrapped sums differ in the output
Y_SCALE = float(np.float32(W_SCALE * 2**31 / 100))


def _act(name: str, shape: tuple[int, ...], scale: float, zp: int) -> TensorDef:
    return TensorDef(name, shape, Dtype.INT8, (scale,), (zp,))


def _bias(n: int) -> TensorDef:
    return TensorDef("bias", (n,), Dtype.INT32, (float(np.float32(W_SCALE)),) * n, (0,) * n,
                     data=np.array(BIASES[:n], dtype="<i4").tobytes())


def _weights(shape: tuple[int, ...], axis: int, rng: np.random.Generator) -> TensorDef:
    w = rng.integers(100, 128, size=shape, dtype=np.int8)  # large and positive: long sums grow fast
    n = shape[axis]
    return TensorDef("w", shape, Dtype.INT8, (W_SCALE,) * n, (0,) * n, axis=axis, data=w.tobytes())


def _fully_connected(rng: np.random.Generator) -> bytes:
    tensors = [_act("x", (2, 64), 1.0, -128), _weights((6, 64), 0, rng), _bias(6), _act("y", (2, 6), Y_SCALE, 0)]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": 0})], [0], [3])


def _conv(rng: np.random.Generator, depthwise: bool) -> bytes:
    c = 6  # four channels at a time, then two alone
    opts = {"padding": 0, "stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1, "activation": 0}
    if depthwise:
        w, opcode = _weights((1, 3, 3, c), 3, rng), "DEPTHWISE_CONV_2D"
        opts["depth_multiplier"] = 1
    else:
        w, opcode = _weights((c, 3, 3, c), 0, rng), "CONV_2D"
    tensors = [_act("x", (1, 5, 5, c), 1.0, -128), w, _bias(c), _act("y", (1, 5, 5, c), Y_SCALE, 0)]
    return build_model(tensors, [OpDef(opcode, (0, 1, 2), (3,), opts)], [0], [3])  # SAME: border and inside windows


MODELS = {"FULLY_CONNECTED": _fully_connected,
          "CONV_2D": lambda rng: _conv(rng, depthwise=False),
          "DEPTHWISE_CONV_2D": lambda rng: _conv(rng, depthwise=True)}


@pytest.mark.parametrize("opcode", sorted(MODELS))
def test_sums_past_the_int32_limits_wrap_as_tflite_does(opcode: str) -> None:
    rng = np.random.default_rng(21)
    model = MODELS[opcode](rng)
    graph = parse_model(model, name=f"overflow_{opcode.lower()}")
    host = build_host_model(graph)  # sanitized: a signed overflow stops the run
    shape = graph.input.shape
    # all -128: x + 128 = 0, so TFLite's sum is the bias alone, while the kernels start from the folded bias
    # (past INT32_MAX, stored wrapped) and add sum(x * w) < 0 to it: a signed overflow if summed in int32.
    # all 127: TFLite's own sum passes the limits.
    inputs = [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8),
              rng.integers(-128, 128, size=shape, dtype=np.int8)]
    for x in inputs:
        got = host.output(x.tobytes())
        assert got == interpret(model, x), f"{opcode} differs from the interpreter on input {x.reshape(-1)[:4]}..."


def _softmax(depth: int) -> bytes:
    tensors = [_act("x", (1, depth), 0.05, 0), _act("y", (1, depth), 1 / 256, -128)]
    return build_model(tensors, [OpDef("SOFTMAX", (0,), (1,), {"beta": 1.0})], [0], [1])


def test_softmax_of_512_or_more_equal_inputs_takes_no_shift_of_32() -> None:
    # the sum of exps reaches 2^28, and the final rescale would shift by 32 or more: undefined in C (the
    # tflite-micro interpreter aborts here). Every probability is below 2^-9, so every output is 0.
    for depth in (511, 512, 600, 4095):
        host = build_host_model(parse_model(_softmax(depth), name=f"softmax_{depth}"))
        out = np.frombuffer(host.output(bytes(depth)), dtype=np.int8)
        assert set(out.tolist()) == ({-128} if depth >= 512 else {-128 + round(256 / depth)}), depth
