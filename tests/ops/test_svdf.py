"""SVDF (harness/ops/svdf.py; firmware/kernels/portable/svdf.c): int8 input and output, int16 weights_time and
activation_state (a variable tensor), int32 bias, as TFLite Micro's integer SVDF runs it.

- One Invoke: random batches, input sizes, filters, ranks, memory lengths, quantizations and fused activations
  (which TFLite Micro's integer SVDF does not apply), on the host build under AddressSanitizer and
  UndefinedBehaviorSanitizer, bit for bit against the tflite-micro interpreter. From zero state an Invoke only
  exercises the newest time step.
- State history: the host build run again on the arena its last run left (so its state carries over), for
  several Invokes, bit for bit against one interpreter invoked as many times; and ``_reference``, a Python copy
  of the C algorithm, against the interpreter over as many Invokes as the memory is long and more.
- A model FULLY_CONNECTED -> SVDF -> FULLY_CONNECTED on the host and on QEMU (one warm-up and two timed
  inferences: each must start from cleared state to match the reference, a fresh interpreter's first Invoke).
- The refusals name the operator, the bad value and what is accepted.

The models are written with harness.model.builder. HILBENCH_OP_CASES sets the random cases (default 16).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.host import SANITIZER_ENV, HostModel, build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.model.quant import quantize_multiplier
from harness.model.reference import interpreter_arena_bytes
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_qemu

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))
Rng = np.random.Generator


@dataclass(frozen=True)
class Svdf:
    """One SVDF layer: its constants and quantization (scale, zero point) pairs."""

    batches: int
    rank: int
    activation: int
    x_q: tuple[float, int]
    y_q: tuple[float, int]
    state_scale: float
    feature_scale: float
    time_scale: float
    weights_feature: np.ndarray[Any, Any]  # int8 [n_filter, n_input]
    weights_time: np.ndarray[Any, Any]     # int16 [n_filter, n_memory]
    bias: np.ndarray[Any, Any]             # int32 [n_filter / rank]

    @property
    def units(self) -> int:
        return int(self.weights_feature.shape[0]) // self.rank

    def tensors(self, x: str = "x", y: str = "y") -> list[TensorDef]:
        n_filter, n_input = self.weights_feature.shape
        n_memory = self.weights_time.shape[1]
        f32 = np.float32
        return [
            TensorDef(x, (self.batches, n_input), Dtype.INT8, (self.x_q[0],), (self.x_q[1],)),
            TensorDef("weights_feature", (n_filter, n_input), Dtype.INT8, (self.feature_scale,), (0,),
                      data=self.weights_feature.tobytes()),
            TensorDef("weights_time", (n_filter, n_memory), Dtype.INT16, (self.time_scale,), (0,),
                      data=self.weights_time.tobytes()),
            TensorDef("bias", (self.units,), Dtype.INT32,
                      (float(f32(self.state_scale)) * float(f32(self.time_scale)),), (0,), data=self.bias.tobytes()),
            TensorDef("state", (self.batches, n_filter * n_memory), Dtype.INT16, (self.state_scale,), (0,),
                      is_variable=True),
            TensorDef(y, (self.batches, self.units), Dtype.INT8, (self.y_q[0],), (self.y_q[1],)),
        ]

    def model(self) -> bytes:
        op = OpDef("SVDF", (0, 1, 2, 3, 4), (5,), {"rank": self.rank, "activation": self.activation})
        return build_model(self.tensors(), [op], [0], [5])


def _scale(rng: Rng, lo: float, hi: float) -> float:
    return float(np.float32(10 ** rng.uniform(lo, hi)))


def random_svdf(rng: Rng) -> Svdf:
    rank, units = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    n_input, n_memory = int(rng.integers(1, 24)), int(rng.integers(1, 10))
    n_filter = rank * units
    return Svdf(
        batches=int(rng.integers(1, 4)), rank=rank, activation=int(rng.integers(0, 4)),
        x_q=(_scale(rng, -2.5, -0.5), int(rng.integers(-128, 128))),
        y_q=(_scale(rng, -2.5, 0), int(rng.integers(-128, 128))),
        state_scale=_scale(rng, -3.5, -1), feature_scale=_scale(rng, -3, -1.5), time_scale=_scale(rng, -5.5, -3.5),
        weights_feature=rng.integers(-127, 128, (n_filter, n_input), dtype=np.int8),
        weights_time=rng.integers(-32768, 32768, (n_filter, n_memory), dtype=np.int16),
        bias=rng.integers(-30000, 30000, units).astype("<i4"))


def _mbqm(x: int, multiplier: int, shift: int) -> int:
    """TFLite's int32 MultiplyByQuantizedMultiplier: a rounding doubling high multiply, then a rounding shift."""
    x = (x << max(shift, 0) & 0xFFFFFFFF) - ((x << max(shift, 0) & 0x80000000) << 1)
    high = (x * multiplier + (1 << 30)) >> 31
    right = max(-shift, 0)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if high & mask > threshold else 0)


def _wrap(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def _reference(s: Svdf, xs: list[np.ndarray[Any, Any]]) -> list[np.ndarray[Any, Any]]:
    """The C algorithm in Python over successive Invokes from zero state: each Invoke's int8 output."""
    m1, s1 = quantize_multiplier(float(s.x_q[0]) * float(s.feature_scale) / float(s.state_scale))
    m2, s2 = quantize_multiplier(float(s.state_scale) * float(s.time_scale) / float(s.y_q[0]))
    wf, wt = s.weights_feature.astype(np.int64), s.weights_time.astype(np.int64)
    state = np.zeros((s.batches, *wt.shape), np.int64)
    outs = []
    for x in xs:
        state[:, :, :-1] = state[:, :, 1:].copy()
        dots = (x.astype(np.int64) - s.x_q[1]) @ wf.T  # [batches, n_filter]
        for b, f in np.ndindex(dots.shape):
            state[b, f, -1] = min(32767, max(-32768, _mbqm(_wrap(int(dots[b, f])), m1, s1)))
        per_filter = (state * wt).sum(axis=2).reshape(s.batches, s.units, s.rank).sum(axis=2)
        y = np.zeros((s.batches, s.units), np.int8)
        for b, u in np.ndindex(y.shape):
            v = _mbqm(_wrap(int(s.bias[u]) + int(per_filter[b, u])), m2, s2) + s.y_q[1]
            y[b, u] = min(127, max(-128, v))
        outs.append(y)
    return outs


def _interpret_invokes(model: bytes, xs: list[np.ndarray[Any, Any]]) -> list[bytes]:
    """One tflite-micro interpreter invoked once per input, its state carried over: each output's bytes."""
    from tflite_micro.python.tflite_micro import runtime

    ip = runtime.Interpreter.from_bytes(model, arena_size=interpreter_arena_bytes(parse_model(model, name="svdf")))
    outs = []
    for x in xs:
        ip.set_input(x, 0)
        ip.invoke()
        outs.append(bytes(np.asarray(ip.get_output(0)).tobytes()))
    return outs


def _host_invokes(host: HostModel, xs: list[np.ndarray[Any, Any]]) -> list[bytes]:
    """The host build run once per input, each run on the arena the previous run left (state carried over)."""
    g, gen = host.graph, host.generated
    arena = bytearray(gen.arena_bytes)
    start, out = gen.offsets[g.inputs[0]], gen.offsets[g.outputs[0]]
    outs = []
    for x in xs:
        arena[start:start + x.nbytes] = x.tobytes()
        proc = subprocess.run([str(host.executable), str(len(g.operators))], input=bytes(arena),
                              capture_output=True, env={**os.environ, **SANITIZER_ENV}, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
        arena = bytearray(proc.stdout)
        outs.append(bytes(arena[out:out + g.output.nbytes]))
    return outs


def _inputs(rng: Rng, s: Svdf, n: int) -> list[np.ndarray[Any, Any]]:
    return [rng.integers(-128, 128, (s.batches, s.weights_feature.shape[1]), dtype=np.int8) for _ in range(n)]


def test_svdf_is_bit_exact_on_random_cases() -> None:
    rng = np.random.default_rng(240)
    failures = []
    for k in range(CASES):
        s = random_svdf(rng)
        model = s.model()
        host = build_host_model(parse_model(model, name=f"svdf_{k}"))
        for x in _inputs(rng, s, 2):
            got, expected = host.output(x.tobytes()), interpret(model, x)
            if got != expected:
                failures.append(f"case {k} ({s.batches}x{s.weights_feature.shape} rank {s.rank} memory "
                                f"{s.weights_time.shape[1]}): got {list(got)}, the interpreter {list(expected)}")
    assert not failures, "\n".join(failures)


def test_state_history_on_the_host_matches_the_interpreter() -> None:
    rng = np.random.default_rng(241)
    for k in range(max(2, CASES // 4)):
        s = random_svdf(rng)
        model = s.model()
        xs = _inputs(rng, s, s.weights_time.shape[1] + 2)
        host = build_host_model(parse_model(model, name=f"svdf_history_{k}"))
        assert _host_invokes(host, xs) == _interpret_invokes(model, xs), f"case {k}"


def test_the_python_algorithm_matches_the_interpreter_over_many_invokes() -> None:
    rng = np.random.default_rng(242)
    for k in range(CASES):
        s = random_svdf(rng)
        xs = _inputs(rng, s, s.weights_time.shape[1] + 3)
        expected = _interpret_invokes(s.model(), xs)
        assert [y.tobytes() for y in _reference(s, xs)] == expected, f"case {k}"


def fc_svdf_fc_model() -> bytes:
    """x int8 [1,40] -FULLY_CONNECTED-> h int8 [1,16] -SVDF rank 2, memory 8-> s int8 [1,8] -FULLY_CONNECTED->
    y int8 [1,4] (the shape of TFLite's micro speech SVDF model, smaller)."""
    rng = np.random.default_rng(5)
    s = Svdf(batches=1, rank=2, activation=1, x_q=(0.06, -4), y_q=(0.05, 3), state_scale=0.004,
             feature_scale=0.008, time_scale=2e-5, weights_feature=rng.integers(-127, 128, (16, 16), dtype=np.int8),
             weights_time=rng.integers(-32768, 32768, (16, 8), dtype=np.int16),
             bias=rng.integers(-20000, 20000, 8).astype("<i4"))
    w1 = rng.integers(-127, 128, (16, 40), dtype=np.int8)
    w2 = rng.integers(-127, 128, (4, 8), dtype=np.int8)
    t = [TensorDef("in", (1, 40), Dtype.INT8, (0.02,), (1,)),
         TensorDef("w1", (16, 40), Dtype.INT8, (0.01,), (0,), data=w1.tobytes()),
         TensorDef("b1", (16,), Dtype.INT32, (0.0002,), (0,), data=rng.integers(-900, 900, 16).astype("<i4").tobytes()),
         *s.tensors(x="h", y="s"),
         TensorDef("w2", (4, 8), Dtype.INT8, (0.01,), (0,), data=w2.tobytes()),
         TensorDef("y", (1, 4), Dtype.INT8, (0.1,), (-2,))]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": 0}),
           OpDef("SVDF", (3, 4, 5, 6, 7), (8,), {"rank": 2, "activation": 1}),
           OpDef("FULLY_CONNECTED", (8, 9, -1), (10,), {"activation": 0})]
    return build_model(t, ops, [0], [10])


def test_a_model_with_svdf_is_bit_exact_on_the_host() -> None:
    model = fc_svdf_fc_model()
    host = build_host_model(parse_model(model, name="fc_svdf_fc"))
    rng = np.random.default_rng(9)
    for x in (rng.integers(-128, 128, (1, 40), dtype=np.int8) for _ in range(4)):
        assert host.output(x.tobytes()) == interpret(model, x)
    xs = [rng.integers(-128, 128, (1, 40), dtype=np.int8) for _ in range(10)]
    assert _host_invokes(host, xs) == _interpret_invokes(model, xs)


@requires_qemu
def test_a_model_with_svdf_is_bit_exact_on_qemu_inference_after_inference(tmp_path: Path) -> None:
    path = tmp_path / "fc_svdf_fc.tflite"
    path.write_bytes(fc_svdf_fc_model())
    # a warm-up and two timed inferences: without the state cleared before each, the last would differ
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=2, warmup=1))
    assert record.status == "ok", record.error
    assert record.matches_reference


def _refused(**change: Any) -> bytes:
    """The SVDF of ``Svdf`` with one tensor or option changed: ``tensor_<i>=TensorDef`` or ``op=OpDef``."""
    s = random_svdf(np.random.default_rng(1))
    t = s.tensors()
    for key, value in change.items():
        if key.startswith("tensor_"):
            t[int(key.removeprefix("tensor_"))] = value
    op = change.get("op", OpDef("SVDF", (0, 1, 2, 3, 4), (5,), {"rank": s.rank, "activation": 0}))
    return build_model(t, [op], change.get("inputs", [0]), [5])


_S = random_svdf(np.random.default_rng(1))
_N_FILTER, _N_INPUT = _S.weights_feature.shape
_N_MEMORY = _S.weights_time.shape[1]
_STATE_SHAPE = (_S.batches, _N_FILTER * _N_MEMORY)

_REFUSALS = [
    ("float", build_model(
        [TensorDef("x", (1, 4), Dtype.FLOAT32), TensorDef("wf", (2, 4), Dtype.FLOAT32, data=bytes(32)),
         TensorDef("wt", (2, 3), Dtype.FLOAT32, data=bytes(24)), TensorDef("b", (2,), Dtype.FLOAT32, data=bytes(8)),
         TensorDef("s", (1, 6), Dtype.FLOAT32, is_variable=True), TensorDef("y", (1, 2), Dtype.FLOAT32)],
        [OpDef("SVDF", (0, 1, 2, 3, 4), (5,), {"rank": 1})], [0], [5]),
     r"operators 0 \(SVDF\) compute in FLOAT32"),
    ("int8 weights_time", _refused(tensor_2=TensorDef("weights_time", (_N_FILTER, _N_MEMORY), Dtype.INT8, (0.01,), (0,),
                                                      data=bytes(_N_FILTER * _N_MEMORY))),
     (r"operator 0 \(SVDF\): weights_time must be a constant INT16 tensor \[\d+, memory\] .*; got tensor 2 "
      r"\('weights_time'\), INT8")),
    ("state not variable", _refused(tensor_4=TensorDef("state", _STATE_SHAPE, Dtype.INT16, (0.01,), (0,)),
                                    inputs=[0, 4]),
     (r"operator 0 \(SVDF\): activation_state tensor 4 \('state'\) is not a variable tensor .*; SVDF's state "
      r"must be a variable tensor")),
    ("state never written", _refused(tensor_4=TensorDef("state", _STATE_SHAPE, Dtype.INT16, (0.01,), (0,))),
     (r"operator 0 \(SVDF\) reads tensor 4 before any operator writes it; .*\(no operator writes tensor 4 "
      r"\('state'\), and it is not a graph input, a constant or a variable tensor\)")),
    ("int8 state", _refused(tensor_4=TensorDef("state", _STATE_SHAPE, Dtype.INT8, (0.01,), (0,), is_variable=True)),
     r"activation_state tensor 4 \('state'\) is INT8; TFLite Micro's int8 SVDF keeps INT16 state"),
    ("no bias", _refused(op=OpDef("SVDF", (0, 1, 2, -1, 4), (5,), {"rank": _S.rank})),
     r"operator 0 \(SVDF\): bias is missing; int8 SVDF needs a constant INT32 bias"),
    ("bias scale", _refused(tensor_3=TensorDef("bias", (_S.units,), Dtype.INT32, (0.5,), (0,),
                                               data=_S.bias.tobytes())),
     r"bias tensor 3 \('bias'\) has scale 0.5; expected activation_state scale x weights_time scale = .* within 1e-05"),
    ("rank", _refused(op=OpDef("SVDF", (0, 1, 2, 3, 4), (5,), {"rank": _N_FILTER + 1})),
     rf"rank {_N_FILTER + 1} does not divide the {_N_FILTER} filters; expected a divisor >= 1"),
    ("state zero point", _refused(tensor_4=TensorDef("state", _STATE_SHAPE, Dtype.INT16, (0.01,), (3,),
                                                     is_variable=True)),
     r"activation_state tensor 4 \('state'\) has zero point 3; expected 0 \(symmetric\)"),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_refusals_name_the_operator_the_value_and_what_is_accepted(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")
