"""harness.store.sql and open_store: the SQL store on SQLite and on a real PostgreSQL cluster.

Each test taking ``store_url`` runs twice: on a SQLite file and on a fresh PostgreSQL database
(tests/store/conftest.py starts the cluster).
"""

from __future__ import annotations

import json
import multiprocessing
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from harness.cli import main
from harness.errors import StoreError
from harness.report.compare import compare
from harness.report.gates import parse_fail_on
from harness.store import (
    ResultStore,
    RunRecord,
    SqlStore,
    StoreSchemaError,
    StoreUnreachable,
    StoreURLError,
    copy_records,
    open_store,
)
from harness.store.frame import load_runs, resolve_ref
from harness.store.sql import STORE_SCHEMA_VERSION, redact

KWS, AD = "a1" * 32, "b2" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def rec(run_id: str, model: str = "kws01", sha: str = KWS, time: str = "2026-12-01T10:00:00+00:00",
        **fields: Any) -> RunRecord:
    """A record as a real run writes it: layers, sections, provenance, and fields of a newer harness."""
    record = RunRecord(
        model=model, board="qemu-m4", runtime="hilbench-aot", target="qemu", status="ok", model_sha256=sha,
        model_path=f"/models/{model}.tflite", model_origin="official", inferences=5, warmup=1,
        instructions_per_inference=7_654_321, instructions_timed=[7_654_321] * 5, latency_source="qemu-insn",
        latency_us=45_025.41, latency_estimated=True, macs=2_661_152, flash_bytes=71_234, ram_bytes=23_456,
        weights_bytes=52_000, code_bytes=19_234, arena_bytes=21_000, stack_bytes=1_234,
        layers=[{"index": 0, "op": "CONV_2D", "macs": 1_000_000, "instructions": 3_000_000, "cycles": None},
                {"index": 1, "op": "FULLY_CONNECTED", "macs": 12_000, "instructions": 40_000, "cycles": None}],
        sections={".text": 19_234, ".rodata": 52_000, ".bss": 23_456}, board_flash_bytes=1_048_576,
        board_ram_bytes=196_608, fits_board=True, input_sha256="c3" * 32, seed=7, output_hex="7f80",
        reference_hex="7f80", matches_reference=True,
        provenance={"git_commit": COMMIT, "host": "box-1", "qemu": "8.2.2", "flags": ["-O2", "-mthumb"]},
        run_id=run_id, time_utc=time, session_id="sess-1",
        extra={"energy_trace": [1.5, 2.25], "future_field": {"nested": [1, None, "x"]}})
    return replace(record, **fields)


RECORDS = [
    rec("20261201T100000-qemu-m4-kws01-aaaa"),
    rec("20261201T110000-qemu-m4-kws01-bbbb", time="2026-12-01T11:00:00+00:00", instructions_per_inference=8_000_000,
        provenance={"git_commit": "fedcba9876543210" * 2 + "01234567", "host": "box-2"}),
    rec("20261201T090000-qemu-m4-ad01-cccc", model="ad01", sha=AD, time="2026-12-01T09:00:00+00:00",
        status="mismatch", matches_reference=False, output_hex="00", error="output differs from the reference",
        first_diverging_layer={"index": 1, "op": "FULLY_CONNECTED", "differing_bytes": 3, "bytes": 10,
                               "first_difference_offset": 2}),
    rec("20261201T120000-qemu-m4-vww01-dddd", model="vww01", sha="d4" * 32, time="2026-12-01T12:00:00+00:00",
        status="build", error="arm-none-eabi-gcc: región too large \u2713", instructions_per_inference=None,
        layers=[], latency_us=None),
]


def json_folder(root: Path, records: list[RunRecord] = RECORDS) -> Path:
    for r in records:
        ResultStore(root).save(r)
    return root


# the backend, on both databases -------------------------------------------------------------------------

def test_records_round_trip_with_every_field_and_unknown_ones(store_url: str) -> None:
    store = open_store(store_url)
    assert isinstance(store, SqlStore)
    assert list(store.records()) == []          # a database without our tables holds no records
    for r in RECORDS:
        store.save(r)
    loaded = [item for _, item in store.records()]
    assert loaded == sorted(RECORDS, key=lambda r: (r.time_utc, r.run_id))   # oldest first
    assert all(isinstance(r, RunRecord) for r in loaded)
    by_id = {r.run_id: r for r in loaded if isinstance(r, RunRecord)}
    assert by_id[RECORDS[0].run_id].extra == {"energy_trace": [1.5, 2.25], "future_field": {"nested": [1, None, "x"]}}
    assert by_id[RECORDS[0].run_id].to_dict() == RECORDS[0].to_dict()
    # a fresh store object (another process) reads the same
    assert [r for _, r in open_store(store_url).records()] == loaded


def test_save_replaces_a_run_and_add_keeps_the_stored_one(store_url: str) -> None:
    store = open_store(store_url)
    store.save(RECORDS[0])
    store.save(replace(RECORDS[0], status="timeout"))
    assert [r.status for _, r in store.records() if isinstance(r, RunRecord)] == ["timeout"]
    assert store.add(replace(RECORDS[0], status="ok")) is False
    assert store.add(RECORDS[1]) is True
    assert store.contains(RECORDS[1].run_id) and not store.contains("nope")
    assert [r.status for _, r in store.records() if isinstance(r, RunRecord)] == ["timeout", "ok"]


def test_the_queried_fields_are_columns(store_url: str) -> None:
    store = open_store(store_url)
    assert isinstance(store, SqlStore)
    store.save(RECORDS[2])
    with sa.create_engine(store.url).connect() as conn:
        row = conn.execute(sa.text("SELECT model, board, status, git_commit, instructions_per_inference, "
                                   "matches_reference, record FROM hilbench_runs")).one()
    assert row[:6] == ("ad01", "qemu-m4", "mismatch", COMMIT, 7_654_321, False)
    assert json.loads(row[6]) == RECORDS[2].to_dict()


def test_report_and_gates_read_the_database_as_the_json_folder(store_url: str, tmp_path: Path) -> None:
    folder = json_folder(tmp_path / "results")
    copy_records(ResultStore(folder), open_store(store_url))
    from_json, from_sql = load_runs(folder, known={}), load_runs(store_url, known={})
    assert list(from_sql.runs["path"]) == [f"{redact(store_url)}#{r}" for r in from_json.runs["run_id"]]
    pd.testing.assert_frame_equal(from_json.runs.drop(columns="path"), from_sql.runs.drop(columns="path"))
    pd.testing.assert_frame_equal(from_json.layers, from_sql.layers)
    # the gates: the same comparison, whichever store the two sides come from
    checks = parse_fail_on("instructions_per_inference:+1%")
    base_id, new_id = RECORDS[0].run_id, RECORDS[1].run_id
    via_json = compare(resolve_ref(base_id, folder, known={}), resolve_ref(new_id, folder, known={}), checks)
    via_sql = compare(resolve_ref(base_id, store_url, known={}), resolve_ref(new_id, store_url, known={}), checks)
    assert via_json.regressions == via_sql.regressions and via_sql.regressions
    assert via_json.ok is via_sql.ok is False
    # the commands: report, export and compare with --store
    runner = CliRunner()
    out = runner.invoke(main, ["report", "--store", store_url, "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert "vww01" in (tmp_path / "r.html").read_text()
    for args, name in (([ "--store", store_url], "sql.json"), (["--results-dir", str(folder)], "json.json")):
        out = runner.invoke(main, ["export", *args, "--json", str(tmp_path / name)])
        assert out.exit_code == 0, out.output
    rows = [json.loads((tmp_path / n).read_text()) for n in ("sql.json", "json.json")]
    assert [{k: v for k, v in r.items() if k != "path"} for r in rows[0]] == \
           [{k: v for k, v in r.items() if k != "path"} for r in rows[1]]
    out = runner.invoke(main, ["compare", base_id, new_id, "--store", store_url, "--fail-on", "instructions_per_inference:+1%"])
    assert out.exit_code == 1 and "regression" in out.output, out.output


def test_import_and_export_both_ways_skip_what_is_there(store_url: str, tmp_path: Path) -> None:
    folder = json_folder(tmp_path / "results")
    (folder / "runs" / "broken.json").write_text("{not json")
    runner = CliRunner()
    out = runner.invoke(main, ["store", "import", str(folder), store_url])
    assert out.exit_code == 0, out.output
    assert f"4 run records copied from {folder / 'runs'} to {redact(store_url)}" in out.output
    assert "broken.json" in out.output and "1 unreadable" in out.output
    again = runner.invoke(main, ["store", "import", str(folder), store_url])
    assert again.exit_code == 0 and "0 run records copied" in again.output and "4 already there" in again.output
    assert f"already in {redact(store_url)}, skipped: {RECORDS[0].run_id}" in again.output
    back = tmp_path / "back"
    out = runner.invoke(main, ["store", "export", store_url, str(back)])
    assert out.exit_code == 0 and "4 run records copied" in out.output, out.output
    for r in RECORDS:   # the same files, byte for byte
        name = next((folder / "runs").glob(f"{r.run_id}.json")).name
        assert (back / "runs" / name).read_bytes() == (folder / "runs" / name).read_bytes()
    out = runner.invoke(main, ["store", "export", store_url, str(back)])
    assert "0 run records copied" in out.output and "4 already there" in out.output
    # database to database
    other = f"sqlite:///{tmp_path}/other.db"
    assert copy_records(open_store(store_url), open_store(other)).copied == [r.run_id for r in
                                                                          sorted(RECORDS, key=lambda r: r.time_utc)]
    assert copy_records(open_store(other), open_store(store_url)).present


def test_a_store_of_an_older_schema_is_refused_and_so_is_a_newer(store_url: str) -> None:
    store = open_store(store_url)
    assert isinstance(store, SqlStore)
    store.save(RECORDS[0])
    engine = sa.create_engine(store.url)
    for version, words in ((STORE_SCHEMA_VERSION - 1, "older than this hilbench's"),
                           (STORE_SCHEMA_VERSION + 1, "newer than this hilbench's")):
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE hilbench_schema SET version = :v"), {"v": version})
        for action in (lambda s: list(s.records()), lambda s: s.save(RECORDS[1])):
            with pytest.raises(StoreSchemaError) as info:
                action(open_store(store_url))
            assert f"schema version {version}, {words}" in str(info.value)
            assert redact(store_url) in str(info.value)
            if version < STORE_SCHEMA_VERSION:
                assert "needs migrating" in str(info.value)
    with engine.begin() as conn:   # runs from before the schema table: version 0
        conn.execute(sa.text("DROP TABLE hilbench_schema"))
    with pytest.raises(StoreSchemaError, match="schema version 0, older"):
        list(open_store(store_url).records())
    engine.dispose()
    out = CliRunner().invoke(main, ["report", "--store", store_url])
    assert out.exit_code == 2 and "needs migrating" in out.output


# bad URLs and unreachable databases ----------------------------------------------------------------------

@pytest.mark.parametrize(("url", "words"), [
    ("nosuchdb://host/x", "unknown database dialect 'nosuchdb'"),
    ("postgresql://ann:pw@host:notaport/db", "malformed"),
    ("sqlite://", "names no database file"),
])
def test_a_bad_url_is_a_store_url_error(url: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match=words) as info:
        open_store(url)
    assert ":pw@" not in str(info.value)
    out = CliRunner().invoke(main, ["export", "--store", url, "--json", str(tmp_path / "x.json")])
    assert out.exit_code == 2 and "--store" in out.output
    out = CliRunner().invoke(main, ["store", "import", str(tmp_path), url])
    assert out.exit_code == 2 and words.split("'")[0] in out.output


def test_a_path_is_a_json_folder() -> None:
    assert isinstance(open_store("results"), ResultStore)
    assert isinstance(open_store(Path("sqlite:/x")), ResultStore)


def test_a_database_that_refuses_the_connection_is_named_without_its_password(tmp_path: Path) -> None:
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ann:topsecret@127.0.0.1:{port}/hil"
    for action in (lambda s: list(s.records()), lambda s: s.save(RECORDS[0])):
        with pytest.raises(StoreUnreachable) as info:
            action(open_store(url))
        text = str(info.value)
        assert "topsecret" not in text and f"postgresql://ann:***@127.0.0.1:{port}/hil" in text
        assert "refused the connection" in text and "check that the server runs" in text
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="database"):   # SQLite under a file, not a folder
        open_store(f"sqlite:///{tmp_path}/file/x.db").save(RECORDS[0])
    out = CliRunner().invoke(main, ["store", "import", str(json_folder(tmp_path / "r")), url])
    assert out.exit_code == 1 and "refused the connection" in out.output and "topsecret" not in out.output


def test_a_wrong_password_is_refused(pg_cluster: Any) -> None:
    url = pg_cluster.url("postgres", password="wrong-pw")
    with pytest.raises(StoreUnreachable, match="password authentication failed") as info:
        open_store(url).save(RECORDS[0])
    assert "wrong-pw" not in str(info.value)


def test_the_session_writes_to_the_store_url(store_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.session as session_module
    from harness.session import HilSession

    monkeypatch.setattr(session_module, "run_model", lambda model, spec, opts, target_name=None: RECORDS[0])
    session = HilSession(results_dir=tmp_path / "unused", store_url=store_url)
    session.run("kws01", "qemu-m4")
    assert session.saved == [f"{redact(store_url)}#{RECORDS[0].run_id}"]
    assert [r.run_id for _, r in open_store(store_url).records() if isinstance(r, RunRecord)] == [RECORDS[0].run_id]
    assert not (tmp_path / "unused").exists()


def test_the_pytest_option_checks_the_url() -> None:
    import argparse

    from harness.plugin import _store

    assert _store("sqlite:///results/hilbench.db") == "sqlite:///results/hilbench.db"
    assert _store("results") == "results"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown database dialect"):
        _store("oracle9://x/y")


# several writers at once ----------------------------------------------------------------------------------

WRITERS, EACH = 4, 50


def _write_many(url: str, writer: int) -> None:
    store = open_store(url)
    for i in range(EACH):
        store.save(rec(f"w{writer}-{i:03d}", time=f"2026-12-01T10:{writer:02d}:{i:02d}+00:00"))


def test_several_writers_at_once_lose_nothing(store_url: str) -> None:
    """WRITERS processes each write EACH records to one new database (the tables too are made at once)."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(store_url, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    ids = [r.run_id for _, r in open_store(store_url).records() if isinstance(r, RunRecord)]
    assert len(ids) == WRITERS * EACH
    assert set(ids) == {f"w{w}-{i:03d}" for w in range(WRITERS) for i in range(EACH)}
