"""The run record's first_diverging_layer: new records keep it, records written before it still load."""

from __future__ import annotations

import json
from pathlib import Path

from harness.store import ResultStore, RunRecord

# a record as the store wrote it before first_diverging_layer existed (fields trimmed)
OLD_RECORD = {
    "schema": 1, "model": "tinycnn", "board": "qemu-m4", "runtime": "hilbench-aot", "target": "qemu",
    "status": "mismatch", "error": "output differs from the tflite-micro host interpreter in 1 of 10 bytes",
    "inferences": 1, "warmup": 0, "instructions_per_inference": 242286, "matches_reference": False,
    "output_hex": "00" * 10, "reference_hex": "01" + "00" * 9,
    "run_id": "20261123T044733-qemu-m4-tinycnn-6fa5cb", "time_utc": "2026-11-23T04:47:33+00:00", "provenance": {"wall_s": 1.5},
}


def test_a_record_from_before_the_field_loads_with_none(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "old.json").write_text(json.dumps(OLD_RECORD))
    [(_, record)] = list(ResultStore(tmp_path).records())
    assert isinstance(record, RunRecord)
    assert record.status == "mismatch" and record.first_diverging_layer is None
    assert record.schema == 1


def test_the_field_round_trips_through_the_store(tmp_path: Path) -> None:
    layer = {"index": 3, "op": "FULLY_CONNECTED", "differing_bytes": 1, "bytes": 24,
             "first_difference_offset": 0}
    record = RunRecord.from_dict({**OLD_RECORD, "first_diverging_layer": layer})
    store = ResultStore(tmp_path)
    path = store.save(record)
    assert json.loads(path.read_text())["first_diverging_layer"] == layer
    assert store.load(path) == record
