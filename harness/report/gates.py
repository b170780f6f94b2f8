"""Regression checks as parsed objects: ``--fail-on`` / ``--hil-fail-on`` specs and what failed.

A spec is a comma-separated list of ``metric:threshold`` items (as pytest-benchmark's
``--benchmark-compare-fail``). A threshold ``+N%`` fails a run whose new value is above the old one by
more than N percent; ``+N`` fails one whose new value is above the old one by more than N (in the
metric's unit). Every metric is lower-is-better. The comparison is exact: values and thresholds are
``Fraction``s, so ``+2%`` of 1000 allows 1020 and fails 1021, with no float rounding at the bound.

>>> checks = parse_fail_on("instructions_per_inference:+2%,arena_bytes:+0")
>>> [str(c) for c in checks]
['instructions_per_inference:+2%', 'arena_bytes:+0']
>>> checks[0].check(1000, 1020) is None
True
>>> print(checks[0].check(1000, 1021))
instructions_per_inference 1,000 -> 1,021 (x1.0210), limit +2% (at most 1,020)
>>> print(checks[1].check(1408, 1416))
arena_bytes 1,408 -> 1,416 (x1.0057), limit +0 (at most 1,408)
"""

from __future__ import annotations

import abc
import enum
import re
from dataclasses import dataclass
from fractions import Fraction

from harness.errors import ConfigError


class Metric(str, enum.Enum):
    """The numeric, lower-is-better run-record fields (DESIGN §9) a check or a comparison reads."""

    INSTRUCTIONS_PER_INFERENCE = "instructions_per_inference"
    CYCLES_PER_INFERENCE = "cycles_per_inference"
    LATENCY_US = "latency_us"
    FLASH_BYTES = "flash_bytes"
    RAM_BYTES = "ram_bytes"
    CODE_BYTES = "code_bytes"
    WEIGHTS_BYTES = "weights_bytes"
    ARENA_BYTES = "arena_bytes"
    STACK_BYTES = "stack_bytes"
    ENERGY_UJ = "energy_uj"

    @property
    def is_integer(self) -> bool:
        """Whether the record holds the metric as a whole number (all but latency and energy)."""
        return self not in (Metric.LATENCY_US, Metric.ENERGY_UJ)


METRIC_NAMES = tuple(m.value for m in Metric)
FORMS = "`+N%` (at most N percent more) or `+N` (at most N more, in the metric's unit)"
FAIL_ON_HELP = ("comma-separated METRIC:THRESHOLD regression checks, e.g. "
                "instructions_per_inference:+2%,flash_bytes:+1%,arena_bytes:+0; a threshold is " + FORMS +
                f"; metrics: {', '.join(METRIC_NAMES)}. A run that was ok or bit-exact and is not now "
                "always fails")
_THRESHOLD = re.compile(r"\+?(?P<number>\d+(?:\.\d+)?)(?P<percent>%?)")

Number = int | float


def format_value(value: Number | Fraction) -> str:
    """A value as a report prints it: whole numbers with thousands separators, others to 2 decimals."""
    if isinstance(value, Fraction) and value.denominator == 1:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{float(value):,.2f}"


def ratio_of(old: Number, new: Number) -> float | None:
    """``new / old`` (None when ``old`` is 0)."""
    return None if old == 0 else float(Fraction(new) / Fraction(old))


@dataclass(frozen=True)
class CheckFailure:
    """What failed: the metric, its old and new values, ``new / old``, the check as written and the
    largest new value it allows."""

    metric: Metric
    old: Number
    new: Number
    ratio: float | None
    limit: str
    allowed: Fraction

    def __str__(self) -> str:
        ratio = "" if self.ratio is None else f" (x{self.ratio:.4f})"
        return (f"{self.metric.value} {format_value(self.old)} -> {format_value(self.new)}{ratio}, "
                f"limit {self.limit} (at most {format_value(self.allowed)})")


@dataclass(frozen=True)
class RegressionCheck(abc.ABC):
    """One ``metric:threshold`` item: ``check(old, new)`` is None when ``new`` passes, else what failed."""

    metric: Metric

    @abc.abstractmethod
    def allowed(self, old: Fraction) -> Fraction:
        """The largest new value that passes, for an old value of ``old``."""

    @property
    @abc.abstractmethod
    def limit(self) -> str:
        """The threshold as written: ``+2%``, ``+512``."""

    def check(self, old: Number, new: Number) -> CheckFailure | None:
        allowed = self.allowed(Fraction(old))
        if Fraction(new) <= allowed:
            return None
        return CheckFailure(self.metric, old, new, ratio_of(old, new), self.limit, allowed)

    def __str__(self) -> str:
        return f"{self.metric.value}:{self.limit}"


@dataclass(frozen=True)
class PercentageRegressionCheck(RegressionCheck):
    """Fails when new > old * (1 + percent / 100)."""

    percent: Fraction

    def allowed(self, old: Fraction) -> Fraction:
        return old * (1 + self.percent / 100)

    @property
    def limit(self) -> str:
        return f"+{_decimal(self.percent)}%"


@dataclass(frozen=True)
class DifferenceRegressionCheck(RegressionCheck):
    """Fails when new - old > difference."""

    difference: Fraction

    def allowed(self, old: Fraction) -> Fraction:
        return old + self.difference

    @property
    def limit(self) -> str:
        return f"+{_decimal(self.difference)}"


def _decimal(value: Fraction) -> str:
    """A threshold parsed from decimal text, written back the same way (2, 2.5)."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def parse_fail_on(spec: str) -> list[RegressionCheck]:
    """The checks of a spec such as ``"instructions_per_inference:+2%,arena_bytes:+0"``, in its order.

    Raises ``ConfigError`` naming the bad item and what is accepted: an empty spec, an item that is not
    ``METRIC:THRESHOLD``, an unknown metric, a threshold that does not parse, a metric given twice.

    >>> parse_fail_on("flash_bytes:+512")
    [DifferenceRegressionCheck(metric=<Metric.FLASH_BYTES: 'flash_bytes'>, difference=Fraction(512, 1))]
    >>> parse_fail_on("flash:+1%")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    harness.errors.ConfigError: regression check 'flash:+1%': unknown metric 'flash'; expected one of ...
    """
    items = [item.strip() for item in spec.split(",")]
    if not spec.strip() or not any(items):
        raise ConfigError(f"regression checks {spec!r} are empty; expected METRIC:THRESHOLD items separated "
                          f"by commas, such as instructions_per_inference:+2%,arena_bytes:+0")
    checks: list[RegressionCheck] = []
    for item in items:
        if not item:
            raise ConfigError(f"regression checks {spec!r} have an empty item; expected METRIC:THRESHOLD "
                              "items separated by single commas")
        name, sep, threshold = (part.strip() for part in item.partition(":"))
        if not sep:
            raise ConfigError(f"regression check {item!r} is not METRIC:THRESHOLD; a threshold is {FORMS}")
        if name not in METRIC_NAMES:
            raise ConfigError(f"regression check {item!r}: unknown metric {name!r}; expected one of "
                              f"{', '.join(METRIC_NAMES)}")
        metric = Metric(name)
        if any(c.metric is metric for c in checks):
            raise ConfigError(f"regression check {item!r}: metric {name!r} is given twice; give each metric "
                              "one threshold")
        match = _THRESHOLD.fullmatch(threshold)
        if match is None:
            raise ConfigError(f"regression check {item!r}: threshold {threshold!r} does not parse; expected "
                              f"{FORMS}, N a non-negative number such as 2 or 0.5")
        number = Fraction(match["number"])   # exact: Fraction("0.1") is 1/10
        checks.append(PercentageRegressionCheck(metric, number) if match["percent"]
                      else DifferenceRegressionCheck(metric, number))
    return checks
