from __future__ import annotations

from pathlib import Path

from harness.errors import StoreError
from harness.store import ResultStore, RunRecord


def test_records_round_trip_and_a_corrupt_file_loses_nothing_else(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    record = RunRecord(model="m", board="qemu-m4", runtime="r", target="qemu", status="ok", run_id="a-1",
                       instructions_per_inference=123)
    path = store.save(record)
    (store.runs_dir / "b-broken.json").write_text('{"schema": 1, "status": "ok", "model": ')
    got = list(store.records())
    assert got[0] == (path, record)
    assert isinstance(got[1][1], StoreError) and "b-broken.json" in str(got[1][1])
    assert not list(store.runs_dir.glob(".tmp-*"))  # atomic write leaves no temp file
