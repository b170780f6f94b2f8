"""Two sets of runs compared: per-metric deltas, regressions, and the layers whose cost changed most.

``compare(base, new, checks)`` matches runs on ``frame.MATCH_KEYS`` (model key, board, runtime; never
the host), taking the latest run of each key on each side. Every metric (``gates.Metric``) present on
both sides of a pair gives a ``Delta``. A ``Regression`` is a failed check, or, whatever the checks, a
run that was ok and is not now (``status``) or was bit-exact and is not now (``matches_reference``).

Values read from the DataFrame are turned back into exact ints for the whole-number metrics (pandas
holds an int column with a missing value as float64, exact below 2**53).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.report.gates import CheckFailure, Metric, Number, RegressionCheck, ratio_of
from harness.store.frame import MATCH_KEYS, RunsFrame, frame_of, latest
from harness.store.record import RunRecord

TOP_LAYERS = 5   # layers named per changed pair


@dataclass(frozen=True)
class RunKey:
    """What makes two runs comparable (``model_key``), and the readable model name."""

    model_key: str
    model_name: str
    board: str
    runtime: str

    def __str__(self) -> str:
        return f"{self.model_name} on {self.board} ({self.runtime})"


@dataclass(frozen=True)
class Delta:
    """One metric of one matched pair: ``delta = new - old``, ``ratio = new / old`` (None when old is 0).

    ``limit`` is the check on this metric as written (``+2%``), ``""`` when there is none.
    """

    key: RunKey
    metric: Metric
    old: Number
    new: Number
    delta: Number
    ratio: float | None
    regressed: bool
    limit: str
    old_run_id: str
    new_run_id: str


@dataclass(frozen=True)
class Regression:
    """Why a pair regressed: a failed check (``failure``), or a status or bit-exactness lost.

    ``metric`` is a ``Metric`` value, or ``"status"`` / ``"matches_reference"``; ``limit`` is the check
    as written, or the rule (``"was ok"``, ``"was bit-exact"``).
    """

    key: RunKey
    metric: str
    old: Any
    new: Any
    ratio: float | None
    limit: str
    failure: CheckFailure | None = None

    def __str__(self) -> str:
        if self.failure is not None:
            return f"{self.key}: {self.failure}"
        return f"{self.key}: {self.metric} {self.old} -> {self.new} ({self.limit})"


@dataclass(frozen=True)
class LayerChange:
    """One layer's instructions per inference on each side (None where the layer is on one side only)."""

    index: int
    op: str
    old: int | None
    new: int | None
    delta: int


@dataclass(frozen=True)
class LayerChanges:
    """The layers of one matched pair whose cost changed most: ``TOP_LAYERS`` by |delta|, largest first."""

    key: RunKey
    changes: tuple[LayerChange, ...]
    layers_changed: int       # how many layers changed in all
    old_run_id: str
    new_run_id: str


@dataclass(frozen=True)
class Comparison:
    """The result of ``compare``: deltas (regressed first), regressions, keys on one side only."""

    deltas: tuple[Delta, ...]
    regressions: tuple[Regression, ...]
    only_base: tuple[RunKey, ...]     # in the baseline, not in the new runs
    only_new: tuple[RunKey, ...]      # new models or boards: never a regression
    layer_changes: tuple[LayerChanges, ...]
    checks: tuple[RegressionCheck, ...]
    matched: int                      # pairs compared

    @property
    def ok(self) -> bool:
        return not self.regressions


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _true(value: Any) -> bool:
    return not _missing(value) and bool(value)


def _number(value: Any, metric: Metric) -> Number | None:
    """A metric's value as a Python int or float, None when absent."""
    if _missing(value):
        return None
    value = value.item() if hasattr(value, "item") else value   # numpy scalars
    if metric.is_integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (int, float)) else float(value)


def _key(row: Any) -> RunKey:
    return RunKey(str(row["model_key"]), str(row["model_name"]), str(row["board"]), str(row["runtime"]))


def _lost(key: RunKey, old: Any, new: Any) -> Regression | None:
    """Status or bit-exactness lost between two runs; a lost status is named alone."""
    if old["status"] == "ok" and new["status"] != "ok":
        return Regression(key, "status", "ok", str(new["status"]), None, "was ok")
    if _true(old["matches_reference"]) and not _true(new["matches_reference"]):
        value = None if _missing(new["matches_reference"]) else False
        return Regression(key, "matches_reference", True, value, None, "was bit-exact")
    return None


def _layer_changes(base: RunsFrame, new: RunsFrame, key: RunKey, old_id: str,
                   new_id: str) -> LayerChanges | None:
    def costs(frame: RunsFrame, run_id: str) -> dict[int, tuple[str, int]]:
        rows = frame.layers[frame.layers["run_id"] == run_id]
        return {int(r["index"]): (str(r["op"]), int(r["instructions"])) for _, r in rows.iterrows()
                if not _missing(r["index"]) and not _missing(r["instructions"])}

    old, now = costs(base, old_id), costs(new, new_id)
    changes = []
    for index in sorted(old.keys() | now.keys()):
        op_old, insn_old = old.get(index, ("", None))
        op_new, insn_new = now.get(index, (op_old, None))
        if insn_old != insn_new:
            op = op_new if op_old in ("", op_new) else f"{op_old} -> {op_new}"
            changes.append(LayerChange(index, op, insn_old, insn_new, (insn_new or 0) - (insn_old or 0)))
    if not changes:
        return None
    top = sorted(changes, key=lambda c: (-abs(c.delta), c.index))[:TOP_LAYERS]
    return LayerChanges(key, tuple(top), len(changes), old_id, new_id)


def compare(base: RunsFrame, new: RunsFrame, checks: Iterable[RegressionCheck] = ()) -> Comparison:
    """Compare the latest run of each (model, board, runtime) in ``new`` with the same in ``base``.

    Regressions are the failed ``checks`` and every status or bit-exactness lost; a key on one side
    only is listed in ``only_base`` / ``only_new`` and is not a regression.
    """
    checks = tuple(checks)
    by_metric = {c.metric: c for c in checks}
    old_runs = {tuple(r[k] for k in MATCH_KEYS): r for _, r in latest(base.runs).iterrows()}
    new_runs = {tuple(r[k] for k in MATCH_KEYS): r for _, r in latest(new.runs).iterrows()}
    deltas: list[Delta] = []
    regressions: list[Regression] = []
    layer_changes: list[LayerChanges] = []
    matched = [k for k in new_runs if k in old_runs]
    for match in sorted(matched, key=lambda k: (str(new_runs[k]["model_name"]), k[1], k[2])):
        old, now = old_runs[match], new_runs[match]
        key = _key(now)
        old_id, new_id = str(old["run_id"]), str(now["run_id"])
        lost = _lost(key, old, now)
        if lost is not None:
            regressions.append(lost)
        for metric in Metric:
            a, b = _number(old[metric.value], metric), _number(now[metric.value], metric)
            if a is None or b is None:
                continue
            check = by_metric.get(metric)
            failure = check.check(a, b) if check is not None else None
            if failure is not None:
                regressions.append(Regression(key, metric.value, a, b, failure.ratio, failure.limit, failure))
            deltas.append(Delta(key, metric, a, b, b - a, ratio_of(a, b), failure is not None,
                                "" if check is None else check.limit, old_id, new_id))
        changed = _layer_changes(base, new, key, old_id, new_id)
        if changed is not None:
            layer_changes.append(changed)
    deltas.sort(key=lambda d: not d.regressed)   # stable: regressions first, each part in pair order
    return Comparison(
        deltas=tuple(deltas), regressions=tuple(regressions),
        only_base=_in_order(_key(r) for k, r in old_runs.items() if k not in new_runs),
        only_new=_in_order(_key(r) for k, r in new_runs.items() if k not in old_runs),
        layer_changes=tuple(layer_changes), checks=checks, matched=len(matched))


def _in_order(keys: Iterable[RunKey]) -> tuple[RunKey, ...]:
    return tuple(sorted(keys, key=lambda k: (k.model_name, k.board, k.runtime)))


@dataclass(frozen=True)
class Baseline:
    """What a session is checked against (``--hil-compare``, ``--hil-fail-on``), resolved at the start."""

    ref: str
    frame: RunsFrame
    checks: tuple[RegressionCheck, ...] = ()


def compare_records(baseline: Baseline, records: Iterable[RunRecord]) -> Comparison:
    """A session's records (held in memory) compared with ``baseline``."""
    return compare(baseline.frame, frame_of((None, r) for r in records), baseline.checks)
