"""`hilbench export`: the runs frame as CSV and JSON, values round-tripped, failed runs included."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.store import ResultStore, RunRecord

SHA = "ad" * 32
PROVENANCE = {"git_commit": "0123456789abcdef", "host": "box", "cflags": ["-O2", "-mthumb"]}


def records() -> list[RunRecord]:
    ok = RunRecord(model="ad01", board="qemu-m4", runtime="hilbench-aot", target="qemu", status="ok",
                   model_sha256=SHA, inferences=2, warmup=1, instructions_per_inference=798_350,
                   latency_us=31933.999999999996, latency_estimated=True, flash_bytes=282_304,
                   arena_bytes=1408,
                   sections={"text": 11_000, "rodata": 271_000}, matches_reference=True, fits_board=True,
                   provenance=PROVENANCE, run_id="r-ok", time_utc="2026-12-01T10:00:00+00:00",
                   session_id="s1", layers=[{"index": 0, "op": "FULLY_CONNECTED", "instructions": 5}])
    failed = RunRecord(model="kws01", board="qemu-m3", runtime="hilbench-aot", target="qemu", status="build",
                       error='cc: error, "quoted", and\na second line', provenance={"git_commit": "fedcba98"},
                       run_id="r-failed", time_utc="2026-12-01T11:00:00+00:00")
    return [ok, failed]


def results(tmp_path: Path) -> Path:
    for r in records():
        ResultStore(tmp_path / "results").save(r)
    return tmp_path / "results"


def hilbench(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_json_export_is_a_list_of_runs_with_the_records_values(tmp_path: Path) -> None:
    out = hilbench("export", "--results-dir", results(tmp_path), "--json", tmp_path / "runs.json")
    assert out.exit_code == 0, out.output
    assert f"2 runs written to {tmp_path / 'runs.json'}" in out.output
    rows = json.loads((tmp_path / "runs.json").read_text())
    assert [r["run_id"] for r in rows] == ["r-ok", "r-failed"]          # oldest first, the failed run too
    ok, failed = rows
    for row, record in zip(rows, records()):
        data = record.to_dict()
        for name in ("model", "board", "status", "error", "instructions_per_inference", "latency_us",
                     "flash_bytes", "arena_bytes", "matches_reference", "sections", "provenance",
                     "session_id"):
            assert row[name] == data[name], name
    assert type(ok["instructions_per_inference"]) is int and ok["latency_us"] == 31933.999999999996
    assert failed["instructions_per_inference"] is None and failed["model_key"] == "id:kws01"
    assert ok["model_key"] == SHA and ok["git_commit"] == "0123456789abcdef"
    assert ok["time"] == "2026-12-01T10:00:00+00:00" and ok["path"].endswith("runs/r-ok.json")
    assert "layers" not in ok and "extra" not in ok


def test_csv_export_round_trips_values_with_dicts_as_json_text(tmp_path: Path) -> None:
    out = hilbench("export", "--results-dir", results(tmp_path), "--csv", tmp_path / "runs.csv")
    assert out.exit_code == 0, out.output
    with (tmp_path / "runs.csv").open(newline="") as f:
        ok, failed = list(csv.DictReader(f))
    assert ok["instructions_per_inference"] == "798350" and ok["flash_bytes"] == "282304"   # no ".0"
    assert ok["inferences"] == "2" and ok["latency_us"] == "31933.999999999996"
    assert failed["instructions_per_inference"] == "" and failed["status"] == "build"
    assert failed["error"] == 'cc: error, "quoted", and\na second line'
    assert json.loads(ok["provenance"]) == PROVENANCE and json.loads(ok["sections"]) == {"text": 11_000,
                                                                                       "rodata": 271_000}
    assert ok["matches_reference"] == "True" and ok["time"] == "2026-12-01T10:00:00+00:00"
    frame: Any = pd.read_csv(tmp_path / "runs.csv")
    assert list(frame["run_id"]) == ["r-ok", "r-failed"] and frame.loc[0, "arena_bytes"] == 1408


def test_both_at_once_and_the_same_rows(tmp_path: Path) -> None:
    out = hilbench("export", "--results-dir", results(tmp_path), "--csv", tmp_path / "r.csv",
                   "--json", tmp_path / "r.json")
    assert out.exit_code == 0, out.output
    with (tmp_path / "r.csv").open(newline="") as f:
        header = next(csv.reader(f))
    assert header == list(json.loads((tmp_path / "r.json").read_text())[0])


def test_export_needs_a_file_and_runs(tmp_path: Path) -> None:
    out = hilbench("export", "--results-dir", results(tmp_path))
    assert out.exit_code == 2 and "give --csv FILE, --json FILE or both" in out.output
    out = hilbench("export", "--results-dir", tmp_path / "nothing", "--csv", tmp_path / "r.csv")
    assert out.exit_code == 2 and "no run records:" in out.output and "does not exist" in out.output
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_a_file_that_cannot_be_written_is_named(tmp_path: Path, option: str) -> None:
    target = tmp_path / "no" / "such" / "runs.out"
    out = hilbench("export", "--results-dir", results(tmp_path), option, target)
    assert out.exit_code == 1 and f"cannot write {target}" in out.output
    assert "Traceback" not in out.output
