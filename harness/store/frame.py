"""Stored runs as pandas DataFrames: one row per run, one row per layer, and the queries on them.

``load_runs(results_dir)`` reads every record under ``results_dir/runs`` (through ``ResultStore``, so
types and schema versions are checked) and returns a ``RunsFrame``. A file that is not a record is
named in ``RunsFrame.warnings`` and every other record still loads.

Records are matched on a canonical model key, not on the name a run was started with: ``model_key``
is the model's sha256 (``"id:<model>"`` when a failed run never read the file), and ``model_name`` is
one readable name per key: a known id (``kws01``) when any run of those bytes used one or when the
bytes are a known model file, else the name of its latest run. So ``kws_ref_model.tflite`` run by path
and ``kws01`` run by id are the same model.

Columns of ``runs``: every scalar field of ``RunRecord`` (DESIGN §9) under its own name, plus
``model_key``, ``model_name``, ``time`` (a UTC timestamp), ``git_commit`` and ``path`` (the record
file); ``sections`` and ``provenance`` stay dicts. ``layers`` holds ``run_id``, ``model_key``,
``model_name``, ``board``, ``runtime``, ``git_commit``, ``time``, ``index``, ``op``, ``macs``,
``instructions``, ``cycles`` and ``instructions_per_mac``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import StoreError
from harness.store.record import RunRecord
from harness.store.results import ResultStore
from harness.store.sql import SqlStore, is_url, redact

MATCH_KEYS = ("model_key", "board", "runtime")   # what makes two runs comparable; never the host
_SCALARS = tuple(f.name for f in dataclasses.fields(RunRecord)
                 if f.name not in ("layers", "instructions_timed", "extra", "first_diverging_layer"))
LAYER_COLUMNS = ("run_id", "model_key", "model_name", "board", "runtime", "git_commit", "time", "index", "op",
                 "macs", "instructions", "cycles", "instructions_per_mac")


class StoreWarning(UserWarning):
    """A file under ``runs/`` that was skipped (corrupt, foreign, of an unknown schema)."""


@dataclass(frozen=True)
class RunsFrame:
    """Every loaded run (``runs``), every layer of them (``layers``), and what was skipped (``warnings``)."""

    runs: pd.DataFrame
    layers: pd.DataFrame
    warnings: tuple[str, ...] = ()
    source: str = ""

    def __len__(self) -> int:
        return len(self.runs)


def model_key(record: RunRecord) -> str:
    """The canonical key of the model a record ran: its sha256, else ``id:<model>``.

    >>> model_key(RunRecord("kws01", "qemu-m4", "hilbench-aot", "qemu", "ok", model_sha256="ab12"))
    'ab12'
    >>> model_key(RunRecord("kws01", "qemu-m4", "hilbench-aot", "qemu", "model"))
    'id:kws01'
    """
    return record.model_sha256 or f"id:{record.model}"


def known_model_ids() -> dict[str, str]:
    """sha256 -> id of the known model files: the pinned hashes of the official MLPerf Tiny files
    (``harness.model.official``), so no file is read and the names hold on any machine."""
    from harness.model.official import BY_SHA256  # the model layer is above the store

    return {sha256: f.model_id for sha256, f in BY_SHA256.items()}


def _names(records: list[RunRecord], known: Mapping[str, str]) -> dict[str, str]:
    """model_key -> the one readable name of that model (see the module docstring)."""
    from harness.model.zoo import BUILT, MLPERF_TINY

    ids = {*MLPERF_TINY, *BUILT}
    names: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.time_utc):  # later runs overwrite, known ids win
        key = model_key(record)
        if key in known:
            names[key] = known[key]
        elif record.model in ids or names.get(key) not in ids:
            names[key] = record.model
    return names


def frame_of(records: Iterable[tuple[Path | str | None, RunRecord]], known: Mapping[str, str] | None = None,
             skipped: Iterable[str] = (), source: str = "") -> RunsFrame:
    """A ``RunsFrame`` of records already loaded (``path`` may be None for records held in memory)."""
    pairs = list(records)
    known = known_model_ids() if known is None else known
    names = _names([r for _, r in pairs], known)
    rows, layer_rows = [], []
    for path, r in pairs:
        key = model_key(r)
        row: dict[str, Any] = {name: getattr(r, name) for name in _SCALARS}
        commit = str(r.provenance.get("git_commit") or "unknown")
        row.update(model_key=key, model_name=names[key], git_commit=commit,
                   path=None if path is None else str(path))
        rows.append(row)
        for layer in r.layers:
            insn = layer.get("instructions")
            macs = layer.get("macs") or 0
            layer_rows.append({
                "run_id": r.run_id, "model_key": key, "model_name": names[key], "board": r.board,
                "runtime": r.runtime, "git_commit": commit, "time": r.time_utc, "index": layer.get("index"),
                "op": layer.get("op"), "macs": macs, "instructions": insn, "cycles": layer.get("cycles"),
                "instructions_per_mac": insn / macs if isinstance(insn, (int, float)) and macs else None})
    runs = pd.DataFrame(rows, columns=[*_SCALARS, "model_key", "model_name", "git_commit", "path"])
    runs["time"] = pd.to_datetime(runs["time_utc"], utc=True, errors="coerce", format="ISO8601")
    runs = runs.sort_values(["time", "run_id"], kind="stable").reset_index(drop=True)
    layers = pd.DataFrame(layer_rows, columns=list(LAYER_COLUMNS))
    layers["time"] = pd.to_datetime(layers["time"], utc=True, errors="coerce", format="ISO8601")
    return RunsFrame(runs=runs, layers=layers, warnings=tuple(skipped), source=source)


def load_runs(results_dir: Path | str, known: Mapping[str, str] | None = None) -> RunsFrame:
    """Every record under ``results_dir/runs``, or in the database ``results_dir`` names when it is a
    URL (``sqlite:///...``, ``postgresql://...``); raises ``StoreError`` when there is none at all.

    A file (or row) that cannot be read as a record is named in ``warnings`` (and as a ``StoreWarning``).
    The ``path`` column holds the record's file, or ``URL#run_id`` for a database.
    """
    store: ResultStore | SqlStore
    if isinstance(results_dir, str) and is_url(results_dir):
        store = SqlStore(results_dir)
        where = store.location
    else:
        store = ResultStore(Path(results_dir))
        where = str(store.runs_dir)
        if not store.runs_dir.is_dir():
            raise StoreError(f"no run records: {store.runs_dir} does not exist (a results folder holds "
                             "runs/*.json, written by `hilbench run`, `hilbench bench` or pytest with the "
                             "hilbench plugin)")
    good: list[tuple[Path | str | None, RunRecord]] = []
    skipped: list[str] = []
    for path, item in store.records():
        if isinstance(item, StoreError):
            skipped.append(str(item))
            warnings.warn(str(item), StoreWarning, stacklevel=2)
        else:
            good.append((path, item))
    if not good:
        detail = f"; {len(skipped)} file(s) skipped, the first: {skipped[0]}" if skipped else ""
        raise StoreError(f"no run records in {where}{detail}")
    return frame_of(good, known, skipped, source=store.location if isinstance(store, SqlStore)
                    else str(results_dir))


# Queries -------------------------------------------------------------------------------------------

def latest(runs: pd.DataFrame) -> pd.DataFrame:
    """The latest run of each (model, board, runtime), by record time (a run without one counts as oldest)."""
    if runs.empty:
        return runs
    by_time = runs.sort_values(["time", "run_id"], kind="stable", na_position="first")
    return by_time.groupby(list(MATCH_KEYS), sort=False).tail(1) \
        .sort_values(["model_name", "board", "runtime"], kind="stable").reset_index(drop=True)


def at_commit(runs: pd.DataFrame, commit: str) -> pd.DataFrame:
    """The runs made at git ``commit`` (a prefix of 4 or more hex digits; ``-dirty`` trees included)."""
    commit = commit.strip().lower()
    if len(commit) < 4:
        raise StoreError(f"git commit {commit!r} is too short; give at least 4 hex digits")
    return runs[runs["git_commit"].str.lower().str.startswith(commit)].reset_index(drop=True)


def of_session(runs: pd.DataFrame, session_id: str) -> pd.DataFrame:
    """The runs of one pytest session or one `hilbench` command."""
    return runs[runs["session_id"] == session_id].reset_index(drop=True)


def select(frame: RunsFrame, runs: pd.DataFrame) -> RunsFrame:
    """``frame`` narrowed to the runs in ``runs`` (and their layers)."""
    ids = set(runs["run_id"])
    return dataclasses.replace(frame, runs=runs.reset_index(drop=True),
                               layers=frame.layers[frame.layers["run_id"].isin(ids)].reset_index(drop=True))


def resolve_ref(ref: str, default_dir: Path | str, known: Mapping[str, str] | None = None,
                what: str = "baseline") -> RunsFrame:
    """The runs a reference names: a results folder or store URL, a run id in ``default_dir`` (a folder
    or a store URL), or a git commit there.

    Raises ``StoreError`` naming the reference (as ``what``: "baseline", "new runs") and what it was
    looked up as, when it names nothing.
    """
    if is_url(ref):
        return load_runs(ref, known)
    path = Path(ref)
    if path.is_dir():
        return load_runs(path, known)
    try:
        frame = load_runs(default_dir, known)
    except StoreError as exc:
        raise StoreError(f"{what} {ref!r} names nothing: it is not a results folder, and no run id or git "
                         f"commit can be looked up in {_shown(default_dir)}: {exc}") from exc
    by_id = frame.runs[frame.runs["run_id"] == ref]
    if not by_id.empty:
        return select(frame, by_id)
    if all(c in "0123456789abcdefABCDEF" for c in ref) and len(ref) >= 4:
        at = at_commit(frame.runs, ref)
        if not at.empty:
            return select(frame, at)
    commits = sorted({c[:12] for c in frame.runs["git_commit"]})
    more = " ..." if len(commits) > 8 else ""
    raise StoreError(f"{what} {ref!r} names nothing: it is not a results folder, nor a run id or a git "
                     f"commit in {_shown(default_dir)} (its commits: {', '.join(commits[:8])}{more})")


def _shown(where: Path | str) -> str:
    """A folder or store URL for messages (a URL without its password)."""
    return redact(where) if isinstance(where, str) and is_url(where) else str(where)
