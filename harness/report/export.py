"""The runs frame (``harness.store.frame``) written out as CSV or JSON, one row per run, failed runs too.

Columns: every scalar field of the run record (DESIGN §9) under its own name, then ``model_key``,
``model_name``, ``git_commit``, ``path`` (the record file) and ``time`` (ISO 8601, UTC). ``sections``
and ``provenance`` are dicts: nested objects in JSON, JSON text in a CSV cell. Whole-number fields stay
whole numbers (no ``.0``) and a missing value is an empty CSV cell or JSON ``null``.
"""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import StoreError
from harness.store.frame import RunsFrame
from harness.store.record import RunRecord


def _int_columns() -> set[str]:
    """The record fields annotated ``int`` or ``int | None`` (not bool)."""
    hints = typing.get_type_hints(RunRecord)
    return {name for name, hint in hints.items()
            if hint is int or set(typing.get_args(hint)) == {int, type(None)}}


def _plain(value: Any) -> Any:
    """A DataFrame cell as JSON-ready Python: None if missing, times as ISO text, numpy scalars unwrapped."""
    if isinstance(value, (dict, list)):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def runs_records(frame: RunsFrame) -> list[dict[str, Any]]:
    """The runs as a list of JSON-ready dicts, in the frame's order (oldest first)."""
    ints = _int_columns()
    rows = []
    for row in frame.runs.to_dict(orient="records"):
        plain = {k: _plain(v) for k, v in row.items()}
        rows.append({k: int(v) if k in ints and isinstance(v, float) else v for k, v in plain.items()})
    return rows


def runs_csv_frame(frame: RunsFrame) -> pd.DataFrame:
    """The runs as a DataFrame ready for ``to_csv``: dicts as JSON text, whole numbers as ``Int64``."""
    out = frame.runs.copy()
    for name in _int_columns() & set(out.columns):
        out[name] = out[name].astype("Int64")
    for name in out.columns:
        if out[name].map(lambda v: isinstance(v, (dict, list))).any():
            out[name] = out[name].map(lambda v: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list))
                                      else v)
    out["time"] = out["time"].map(lambda t: None if pd.isna(t) else t.isoformat())
    return out


def write_csv(frame: RunsFrame, path: Path) -> None:
    """Raises ``StoreError`` naming the file when it cannot be written."""
    try:
        runs_csv_frame(frame).to_csv(path, index=False)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc


def write_json(frame: RunsFrame, path: Path) -> None:
    """The runs as a JSON list of objects; raises ``StoreError`` naming the file when it cannot be written."""
    try:
        text = json.dumps(runs_records(frame), indent=2, allow_nan=False) + "\n"
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc
