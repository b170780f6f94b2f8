"""The rounding of bench_fixedpoint.h's primitives, on edge values, against a Python model of the
specification (gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, as TFLite uses
them): the high multiply rounds halves toward +infinity (-0.5 -> 0), the divide rounds halves away
from zero (-0.5 -> -1). Built with the sanitizers, so an undefined shift fails here too."""

from __future__ import annotations

from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from tests.firmware.host_c import C_DIR, build_c, requires_host_cc, run_c

pytestmark = requires_host_cc

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
EDGES = sorted({INT32_MIN, INT32_MIN + 1, -(2**30) - 1, -(2**30), -(2**30) + 1, -(2**16), -(2**15) - 1, -(2**15),
                -3, -2, -1, 0, 1, 2, 3, 2**15, 2**15 + 1, 2**16, 2**30 - 1, 2**30, 2**30 + 1, INT32_MAX - 1, INT32_MAX})


def _trunc_div(n: int, d: int) -> int:
    """n / d truncated toward zero, as C's integer division."""
    q = abs(n) // abs(d)
    return q if (n >= 0) == (d > 0) else -q


def high_mul_spec(a: int, b: int) -> int:
    """gemmlowp: (ab + nudge) / 2^31 truncated, nudge 2^30 for ab >= 0 and 1 - 2^30 below; INT32_MIN^2 saturates."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    return _trunc_div(ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30)), 1 << 31)


def divide_by_pot_spec(x: int, exponent: int) -> int:
    """x / 2^exponent rounded to nearest, halves away from zero."""
    q = Fraction(x, 1 << exponent)
    half = Fraction(1, 2)
    return int(q + half) // 1 if q >= 0 else -((-q + half) // 1)


def _wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def multiply_spec(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier: x * 2^left (int32, wrapping) through the high multiply, then the divide."""
    left, right = max(shift, 0), max(-shift, 0)
    return divide_by_pot_spec(high_mul_spec(_wrap32(x << left), multiplier), right)


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(tmp_path_factory.mktemp("fixedpoint"), "fixedpoint_check", [C_DIR / "fixedpoint_check.c"])


def _run(checker: Path, lines: list[str]) -> list[int]:
    return [int(v) for v in run_c(checker, "\n".join(lines) + "\n").split()]


def test_the_spec_model_rounds_halves_as_documented() -> None:
    assert high_mul_spec(-(2**15), 2**15) == 0    # -0.5 -> 0: toward +infinity, not away from zero
    assert high_mul_spec(2**15, 2**15) == 1       # +0.5 -> 1
    assert high_mul_spec(-(2**15), 3 * 2**15) == -1  # -1.5 -> -1
    assert divide_by_pot_spec(-1, 1) == -1 and divide_by_pot_spec(1, 1) == 1   # halves away from zero
    assert divide_by_pot_spec(-3, 1) == -2 and divide_by_pot_spec(-5, 2) == -1


def test_high_mul_matches_the_spec_on_edges_and_random_pairs(checker: Path) -> None:
    rng = np.random.default_rng(7)
    pairs = list(product(EDGES, EDGES))
    pairs += [(int(a), int(b)) for a, b in rng.integers(INT32_MIN, INT32_MAX, size=(3000, 2), endpoint=True)]
    # exact halves of both signs: a * b = (2k + 1) * 2^30
    pairs += [(sign * (2 * k + 1) * 2**15, 2**15) for k in range(50) for sign in (1, -1)]
    got = _run(checker, [f"h {a} {b}" for a, b in pairs])
    want = [high_mul_spec(a, b) for a, b in pairs]
    bad = [(a, b, g, w) for (a, b), g, w in zip(pairs, got, want) if g != w]
    assert not bad, f"{len(bad)} differ, first (a, b, got, spec): {bad[:5]}"
    assert got[pairs.index((-(2**15), 2**15))] == 0


def test_divide_by_pot_matches_the_spec_on_edges_and_every_exponent(checker: Path) -> None:
    rng = np.random.default_rng(8)
    xs = EDGES + [int(v) for v in rng.integers(INT32_MIN, INT32_MAX, size=200, endpoint=True)]
    # exact halves of both signs for every exponent >= 1
    cases = [(x, e) for x in xs for e in range(32)]
    cases += [(s * ((2 * k + 1) << (e - 1)), e) for e in range(1, 32) for k in range(3) for s in (1, -1)
              if INT32_MIN <= s * ((2 * k + 1) << (e - 1)) <= INT32_MAX]
    got = _run(checker, [f"d {x} {e}" for x, e in cases])
    want = [divide_by_pot_spec(x, e) for x, e in cases]
    bad = [(x, e, g, w) for (x, e), g, w in zip(cases, got, want) if g != w]
    assert not bad, f"{len(bad)} differ, first (x, exponent, got, spec): {bad[:5]}"


def test_multiply_by_quantized_multiplier_matches_the_spec_over_the_shift_range(checker: Path) -> None:
    rng = np.random.default_rng(9)
    xs = [-(2**20), -255, -128, -1, 0, 1, 127, 255, 2**20, INT32_MIN, INT32_MAX]
    multipliers = [2**30, 2**30 + 1, 1518500250, INT32_MAX]
    cases = [(x, m, s) for x in xs for m in multipliers for s in range(-31, 31)]
    cases += [(int(x), int(m), int(s)) for x, m, s in zip(rng.integers(-(2**24), 2**24, 2000),
                                                          rng.integers(2**30, 2**31, 2000),
                                                          rng.integers(-31, 31, 2000))]
    got = _run(checker, [f"q {x} {m} {s}" for x, m, s in cases])
    want = [multiply_spec(x, m, s) for x, m, s in cases]
    bad = [(c, g, w) for c, g, w in zip(cases, got, want) if g != w]
    assert not bad, f"{len(bad)} differ, first ((x, multiplier, shift), got, spec): {bad[:5]}"
