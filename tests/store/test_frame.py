"""harness.store.frame: runs as DataFrames, one key per model, the queries, references and bad files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.errors import StoreError
from harness.store import ResultStore, RunRecord
from harness.store.frame import (
    MATCH_KEYS,
    StoreWarning,
    at_commit,
    frame_of,
    latest,
    load_runs,
    of_session,
    resolve_ref,
)

KWS = "a1" * 32        # the sha256 of the keyword-spotting model's bytes, made up
AD = "b2" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def rec(run_id: str, model: str = "kws01", sha: str | None = KWS, board: str = "qemu-m4",
        time: str = "2026-12-01T10:00:00+00:00", commit: str = COMMIT, **fields: Any) -> RunRecord:
    provenance = {"git_commit": commit, "host": fields.pop("host", "box-1")}
    return RunRecord(model=model, board=board, runtime="hilbench-aot", target="qemu",
                     status=fields.pop("status", "ok"), model_sha256=sha, run_id=run_id, time_utc=time,
                     provenance=provenance, **fields)


def store(root: Path, *records: RunRecord) -> Path:
    for r in records:
        ResultStore(root).save(r)
    return root


def test_a_model_run_by_path_and_by_id_is_one_model() -> None:
    by_path = rec("r1", model="kws_ref_model", time="2026-12-01T10:00:00+00:00")
    by_id = rec("r2", model="kws01", time="2026-12-01T09:00:00+00:00")
    frame = frame_of([(None, by_path), (None, by_id)], known={})
    assert set(frame.runs["model_key"]) == {KWS}
    assert set(frame.runs["model_name"]) == {"kws01"}   # a known id wins over a later run's file name
    assert len(latest(frame.runs)) == 1


def test_a_known_file_is_named_by_its_id_though_no_run_used_the_id() -> None:
    frame = frame_of([(None, rec("r1", model="kws_ref_model"))], known={KWS: "kws01"})
    assert frame.runs.loc[0, "model_name"] == "kws01" and frame.runs.loc[0, "model"] == "kws_ref_model"


def test_an_unknown_model_takes_the_name_of_its_latest_run_and_a_failed_run_its_id() -> None:
    old = rec("r1", model="mine_v1", sha=AD, time="2026-12-01T09:00:00+00:00")
    new = rec("r2", model="mine_v2", sha=AD, time="2026-12-01T10:00:00+00:00")
    failed = rec("r3", model="ghost", sha=None, status="model")
    frame = frame_of([(None, new), (None, old), (None, failed)], known={})
    names = dict(zip(frame.runs["run_id"], frame.runs["model_name"]))
    assert names == {"r1": "mine_v2", "r2": "mine_v2", "r3": "ghost"}
    assert frame.runs.set_index("run_id").loc["r3", "model_key"] == "id:ghost"


def test_latest_takes_the_last_run_of_each_model_board_runtime_never_split_by_host() -> None:
    runs = frame_of([
        (None, rec("early", time="2026-12-01T08:00:00+00:00", host="box-1")),
        (None, rec("late", time="2026-12-01T11:00:00+00:00", host="box-2")),
        (None, rec("middle", time="2026-12-01T09:00:00+00:00")),
        (None, rec("no-time", time="")),                       # unknown time: the oldest, never the latest
        (None, rec("m3", board="qemu-m3", time="2026-12-01T07:00:00+00:00")),
    ], known={}).runs
    top = latest(runs)
    assert MATCH_KEYS == ("model_key", "board", "runtime")
    assert sorted(top["run_id"]) == ["late", "m3"]
    assert latest(runs.iloc[0:0]).empty


def test_at_commit_takes_a_prefix_and_dirty_trees() -> None:
    runs = frame_of([(None, rec("clean")), (None, rec("dirty", commit=COMMIT + "-dirty")),
                     (None, rec("other", commit="fedcba9876543210"))], known={}).runs
    assert sorted(at_commit(runs, "0123456")["run_id"]) == ["clean", "dirty"]
    assert sorted(at_commit(runs, "FEDC")["run_id"]) == ["other"]
    assert at_commit(runs, "abcd").empty
    with pytest.raises(StoreError, match=r"git commit '012' is too short; give at least 4 hex digits"):
        at_commit(runs, "012")


def test_of_session() -> None:
    runs = frame_of([(None, rec("a", session_id="s1")), (None, rec("b", session_id="s2")),
                     (None, rec("c", session_id="s1"))], known={}).runs
    assert list(of_session(runs, "s1")["run_id"]) == ["a", "c"]
    assert of_session(runs, "nope").empty


def test_resolve_ref_by_folder_run_id_and_commit(tmp_path: Path) -> None:
    results = store(tmp_path / "results", rec("r-old", commit="aaaa1111"), rec("r-new", commit=COMMIT),
                    rec("r-ad", sha=AD, model="ad01", commit=COMMIT))
    other = store(tmp_path / "elsewhere", rec("x1"))
    assert list(resolve_ref(str(other), results, known={}).runs["run_id"]) == ["x1"]
    by_id = resolve_ref("r-old", results, known={})
    assert list(by_id.runs["run_id"]) == ["r-old"] and by_id.layers.empty
    assert sorted(resolve_ref("0123456", results, known={}).runs["run_id"]) == ["r-ad", "r-new"]


def test_a_reference_that_names_nothing_says_what_it_was_looked_up_as(tmp_path: Path) -> None:
    results = store(tmp_path / "results", rec("r1", commit=COMMIT))
    with pytest.raises(StoreError) as info:
        resolve_ref("deadbeef", results, known={})
    assert str(info.value) == (f"baseline 'deadbeef' names nothing: it is not a results folder, nor a run id "
                               f"or a git commit in {results} (its commits: 0123456789ab)")
    expected = (r"^new runs 'nope' names nothing: it is not a results folder, and no run id or git "
                r"commit can be looked up in .*missing: no run records: .*missing/runs does not exist")
    with pytest.raises(StoreError, match=expected):
        resolve_ref("nope", tmp_path / "missing", known={}, what="new runs")


def test_an_empty_results_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no run records: .*/runs does not exist \(a results folder holds"):
        load_runs(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(StoreError, match=r"^no run records in .*/runs$"):
        load_runs(tmp_path)


def test_a_corrupt_file_is_named_in_warnings_and_the_rest_load(tmp_path: Path) -> None:
    store(tmp_path, rec("good-1"), rec("good-2", time="2026-12-01T11:00:00+00:00"))
    bad = tmp_path / "runs" / "broken.json"
    bad.write_text('{"schema": 1, "status": "ok", "model": ')
    with pytest.warns(StoreWarning, match="broken.json"):
        frame = load_runs(tmp_path, known={})
    assert list(frame.runs["run_id"]) == ["good-1", "good-2"]
    assert len(frame.warnings) == 1 and str(bad) in frame.warnings[0] and "not JSON" in frame.warnings[0]
    assert frame.source == str(tmp_path)


def test_a_record_of_schema_version_99_is_refused_by_its_version(tmp_path: Path) -> None:
    path = store(tmp_path, rec("future")) / "runs" / "future.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "schema": 99}))
    with pytest.warns(StoreWarning), pytest.raises(StoreError) as info:
        load_runs(tmp_path)
    assert "no run records in" in str(info.value)
    assert "has schema version 99; this hilbench" in str(info.value)
    assert "reads schema versions 1 to 1" in str(info.value)
    store(tmp_path, rec("present"))
    with pytest.warns(StoreWarning, match="schema version 99"):
        frame = load_runs(tmp_path, known={})
    assert list(frame.runs["run_id"]) == ["present"] and "schema version 99" in frame.warnings[0]


def test_the_layers_frame_holds_each_layer_with_its_run() -> None:
    layers = [{"index": 0, "op": "CONV_2D", "macs": 1000, "instructions": 2500},
              {"index": 1, "op": "SOFTMAX", "macs": 0, "instructions": 300},
              {"index": 2, "op": "RESHAPE", "cycles": 40}]
    frame = frame_of([(Path("runs/r1.json"), rec("r1", layers=layers, instructions_per_inference=2800)),
                      (None, rec("r2", status="build"))], known={})
    got = frame.layers.to_dict(orient="records")
    assert [(g["run_id"], g["index"], g["op"], g["macs"], g["board"]) for g in got] == [
        ("r1", 0, "CONV_2D", 1000, "qemu-m4"), ("r1", 1, "SOFTMAX", 0, "qemu-m4"),
        ("r1", 2, "RESHAPE", 0, "qemu-m4")]
    assert got[0]["instructions"] == 2500 and got[0]["instructions_per_mac"] == 2.5
    assert math.isnan(got[1]["instructions_per_mac"])                   # no MACs: no ratio
    assert got[2]["cycles"] == 40
    assert math.isnan(got[2]["instructions"]) and math.isnan(got[2]["instructions_per_mac"])
    assert all(g["model_key"] == KWS and g["git_commit"] == COMMIT for g in got)
    runs = frame.runs.set_index("run_id")
    assert runs.loc["r1", "path"] == "runs/r1.json" and pd.isna(runs.loc["r2", "path"])
    assert runs.loc["r1", "instructions_per_inference"] == 2800 and runs.loc["r2", "status"] == "build"


def test_the_official_files_are_known_by_their_pinned_hashes_without_reading_a_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.store.frame import known_model_ids

    monkeypatch.setenv("HILBENCH_MODELS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    from harness.model.official import OFFICIAL

    known = known_model_ids()
    assert known == {f.sha256: model_id for model_id, f in OFFICIAL.items()}
    assert known["aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae"] == "kws01"
