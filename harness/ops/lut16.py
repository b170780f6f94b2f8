"""int16 sigmoid and tanh as TFLite Micro computes them: linear interpolation in a 256-entry table of
sigmoid(i / 24) in 0.16 fixed point, tanh taken as 2 * sigmoid(2x) - 1.

TFLite's table is hand-tuned: a quarter of its entries differ by one or two from any rounding of
65536 * sigmoid(i / 24), so no formula gives it. hilbench measures it instead, from the installed
tflite-micro interpreter (the same interpreter every output is checked against): one-operator models run
LOGISTIC and TANH over all 65536 int16 inputs at input scales chosen so that, between them, every table
position and interpolation step is reached for both signs (``probe_scales``). Each table entry is then the
value that reproduces every probed output; where the outputs allow more than one value, every allowed
value gives the same output for every possible input, because every input was probed. A table that does not
reproduce every probe (an interpreter that computes another way) is a ``ModelError`` naming the operator.

``logistic16`` and ``tanh16`` are the numpy models of the C kernels in ``firmware/kernels/portable/lut16.c``;
``logistic_prepare`` and ``tanh_prepare`` turn an input scale into the kernels' (multiplier, left shift).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.errors import ModelError

Array = np.ndarray[Any, Any]
Prepare = Callable[[float], tuple[int, int]]

TABLE_SIZE = 256
# table positions: |v| >> 9 for LOGISTIC (9 fraction bits of interpolation), |v| >> 8 for TANH (8 bits)
LOGISTIC_FRACTION_BITS = 9
TANH_FRACTION_BITS = 8
# at and beyond the last position the kernels saturate
LOGISTIC_LIMIT = (TABLE_SIZE - 1) << LOGISTIC_FRACTION_BITS
TANH_LIMIT = (TABLE_SIZE - 1) << TANH_FRACTION_BITS
_INT16 = np.arange(-32768, 32768, dtype=np.int64)


def _checked_log2(scale: float) -> tuple[int, bool]:
    """log2 of a float32 scale rounded to an integer, and whether the scale is that power of two (to 1e-3)."""
    log2 = np.float32(math.log(np.float32(scale))) * (np.float32(1.0) / np.float32(math.log(2.0)))
    rounded = np.float32(round(float(log2)))
    return int(rounded), abs(float(log2 - rounded)) < 1e-3


def _prepare(scale: float, pot_shifts: tuple[int, ...]) -> tuple[int, int]:
    # Q3.12 input: a power-of-two scale with left shift in pot_shifts is multiplier 0 (the kernel then
    # multiplies by 3 << shift); any other scale is rescaled to 1 / (3 * 4096), the table's step of 1/24
    log2, pot = _checked_log2(scale)
    left_shift = 12 + log2
    if pot and left_shift in pot_shifts:
        return 0, left_shift
    multiplier = float(np.float32(scale)) * 4096.0 * 3.0
    left_shift = 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


def logistic_prepare(scale: float) -> tuple[int, int]:
    """(multiplier, left shift) of an int16 LOGISTIC with input scale ``scale`` (zero point 0).

    >>> logistic_prepare(2.0 ** -12), logistic_prepare(2.0 ** -11)
    ((0, 0), (24576, 12))
    """
    return _prepare(scale, (0,))


def tanh_prepare(scale: float) -> tuple[int, int]:
    """(multiplier, left shift) of an int16 TANH with input scale ``scale`` (zero point 0).

    >>> tanh_prepare(2.0 ** -12), tanh_prepare(2.0 ** -11)
    ((0, 0), (0, 1))
    """
    return _prepare(scale, (0, 1))


def scaled(x: Array, multiplier: int, left_shift: int) -> Array:
    """The kernels' first step: x in steps of 1/(3*4096), as int64 (multiplier 0: times 3 << left_shift)."""
    x = np.asarray(x, dtype=np.int64)
    if multiplier == 0:
        return x * (3 << left_shift)
    rounding = (1 << (left_shift - 1)) if left_shift > 0 else 0
    return (x * multiplier + rounding) >> left_shift


def _interpolate(table: Array, a: Array, bits: int) -> Array:
    """sigmoid(|v|) in 0.16 fixed point with ``bits`` more fraction bits, between the table's entries."""
    pos = np.minimum(a >> bits, TABLE_SIZE - 2)
    lo, hi = table[pos], table[pos + 1]
    value: Array = (lo << bits) + (a & ((1 << bits) - 1)) * (hi - lo)
    return value


def _logistic_from(table: Array, v: Array) -> Array:
    a = np.abs(v)
    r = np.where(a >= LOGISTIC_LIMIT, 0x7FFF << 10, _interpolate(table, a, LOGISTIC_FRACTION_BITS))
    # to Q0.15, rounding half up; below zero 1 - sigmoid(|v|)
    return np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1) >> 10


def _tanh_from(table: Array, v: Array) -> Array:
    a = np.abs(v)
    r = np.where(a >= TANH_LIMIT, 0xFFFF << 8, _interpolate(table, a, TANH_FRACTION_BITS)) - (1 << 23)
    # 2 sigmoid - 1 to Q0.15, rounding half up; tanh is odd
    return np.where(v >= 0, r + (1 << 7), -r + (1 << 7) - 1) >> 8


def logistic16(x: Array, multiplier: int, left_shift: int, table: Array | None = None) -> Array:
    """int16 LOGISTIC (output scale 2^-15, zero point 0) of int16 ``x``."""
    t = np.asarray(sigmoid_table() if table is None else table, dtype=np.int64)
    return _logistic_from(t, scaled(x, multiplier, left_shift)).astype(np.int16)


def tanh16(x: Array, multiplier: int, left_shift: int, table: Array | None = None) -> Array:
    """int16 TANH (output scale 2^-15, zero point 0) of int16 ``x``."""
    t = np.asarray(sigmoid_table() if table is None else table, dtype=np.int64)
    return _tanh_from(t, scaled(x, multiplier, left_shift)).astype(np.int16)


# Probe input scales, in steps of 1/12288 (a multiplier of 1 to the table's 1/24 step), picked greedily
# from 1 and 4 + j/61 (LOGISTIC) or 2 + j/61 (TANH), j < 122, until every input below saturation was
# reached with both signs (``unreached``; tests/ops/test_lut16.py checks it).
_LOGISTIC_STEPS = (1.0,) + tuple(4 + j / 61 for j in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 15, 16, 18, 20, 21, 22,
                                                        24, 26, 29, 32, 36, 44, 47, 50, 51, 73, 79, 82, 98, 109))
_TANH_STEPS = (1.0,) + tuple(2 + j / 61 for j in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 21))


def probe_scales() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The LOGISTIC and the TANH input scales (float32 values) whose probes reach every input of the kernels."""
    def scales(steps: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(float(np.float32(k / 12288)) for k in steps)
    return scales(_LOGISTIC_STEPS), scales(_TANH_STEPS)


def unreached(scales: tuple[float, ...], prepare: Prepare, limit: int) -> int:
    """How many (|v| < limit, sign) inputs of a kernel no probe at ``scales`` reaches (0: all are)."""
    need = np.ones((2, limit), bool)
    need[0, 0] = False  # a negative input never scales to 0
    for s in scales:
        v = scaled(_INT16, *prepare(s))
        a = np.abs(v)
        keep = a < limit
        need[(v >= 0).astype(int)[keep], a[keep]] = False
    return int(need.sum())


def _probe(opcode: str, scale: float) -> Array:
    """The interpreter's int16 ``opcode`` of every int16 value at input scale ``scale``."""
    from tflite_micro.python.tflite_micro import runtime

    from harness.model.builder import OpDef, TensorDef, build_model
    from harness.model.graph import Dtype

    shape = (1, _INT16.size)
    tensors = [TensorDef("x", shape, Dtype.INT16, (scale,), (0,)),
               TensorDef("y", shape, Dtype.INT16, (2.0 ** -15,), (0,))]
    model = build_model(tensors, [OpDef(opcode, (0,), (1,))], [0], [1])
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=8 * _INT16.size + (64 << 10))
    interpreter.set_input(_INT16.astype(np.int16).reshape(shape), 0)
    interpreter.invoke()
    return np.asarray(interpreter.get_output(0)).astype(np.int64).ravel()


def _refusal(why: str) -> ModelError:
    return ModelError(f"int16 LOGISTIC/TANH: the installed tflite-micro interpreter {why}; hilbench cannot "
                      "reproduce its int16 sigmoid table, so it refuses int16 LOGISTIC, TANH and "
                      "UNIDIRECTIONAL_SEQUENCE_LSTM (int8 ones run)")


def _observations() -> tuple[Array, Array, Array, Array]:
    """Every probe below saturation as (table position, |v| fraction, kind (1 LOGISTIC, 0 TANH) * 2 + sign,
    output), sorted by table position."""
    logistic_scales, tanh_scales = probe_scales()
    parts = []
    for opcode, scales, prepare, bits, limit in (
            ("LOGISTIC", logistic_scales, logistic_prepare, LOGISTIC_FRACTION_BITS, LOGISTIC_LIMIT),
            ("TANH", tanh_scales, tanh_prepare, TANH_FRACTION_BITS, TANH_LIMIT)):
        for s in scales:
            v = scaled(_INT16, *prepare(s))
            out = _probe(opcode, s)
            a = np.abs(v)
            keep = a < limit
            kind = (2 if opcode == "LOGISTIC" else 0) + (v >= 0)
            parts.append(np.stack([a[keep] >> bits, a[keep] & ((1 << bits) - 1), kind[keep], out[keep]]))
    pos, frac, kind, out = np.concatenate(parts, axis=1)
    order = np.argsort(pos, kind="stable")
    return pos[order], frac[order], kind[order], out[order]


def _outputs(lo: Array, hi: Array, frac: Array, kind: Array) -> Array:
    """Kernel outputs for candidate entry pairs (columns) at the observations (rows)."""
    logistic = kind >= 2
    bits = np.where(logistic, LOGISTIC_FRACTION_BITS, TANH_FRACTION_BITS)[:, None]
    r = (lo[None, :] << bits) + frac[:, None] * (hi - lo)[None, :]
    positive = (kind % 2 == 1)[:, None]
    as_logistic = np.where(positive, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1) >> 10
    t = r - (1 << 23)
    as_tanh = np.where(positive, t + (1 << 7), -t + (1 << 7) - 1) >> 8
    outputs: Array = np.where(logistic[:, None], as_logistic, as_tanh)
    return outputs


@functools.cache
def sigmoid_table() -> tuple[int, ...]:
    """The interpreter's 256-entry sigmoid table (uint16, 0.16 fixed point), measured (see the module docstring)."""
    pos, frac, kind, out = _observations()
    bounds = np.searchsorted(pos, np.arange(TABLE_SIZE))
    guess = [min(65535, round(65536 / (1 + math.exp(-i / 24)))) for i in range(TABLE_SIZE)]
    window = np.arange(-4, 5)
    # per table position, the (entry, next entry) pairs that reproduce every output falling between them
    allowed: list[set[tuple[int, int]]] = []
    for p in range(TABLE_SIZE - 1):
        rows = slice(bounds[p], bounds[p + 1])
        lo = np.repeat(guess[p] + window, window.size)
        hi = np.minimum(np.tile(guess[p + 1] + window, window.size), 65535)
        fits = (_outputs(lo, hi, frac[rows], kind[rows]) == out[rows][:, None]).all(axis=0)
        allowed.append({(int(a), int(b)) for a, b, ok in zip(lo, hi, fits, strict=True) if ok})
        if not allowed[-1]:
            raise _refusal(f"gives outputs between table positions {p} and {p + 1} that no table entry explains")
    # chain the pairs: entry k must be allowed as the upper end at position k - 1 and as the lower at k
    values = [{lo for lo, _ in allowed[0]}]
    for p in range(TABLE_SIZE - 1):
        values.append({hi for lo, hi in allowed[p] if lo in values[p]})
        if not values[-1]:
            raise _refusal(f"gives outputs at table position {p + 1} that no table entry explains")
    table = [0] * TABLE_SIZE
    table[-1] = min(values[-1], key=lambda e: abs(e - guess[-1]))
    for p in range(TABLE_SIZE - 2, -1, -1):  # walk back, keeping each pair allowed
        table[p] = min((lo for lo, hi in allowed[p] if hi == table[p + 1] and lo in values[p]),
                       key=lambda e: abs(e - guess[p]))
    return tuple(table)
