"""ResultStore against a careless or hostile file system: what cannot be written or read is a StoreError."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import StoreError
from harness.store import ResultStore, RunRecord
from harness.store.results import record_file_name


def record(run_id: str = "20261201T000000-qemu-m4-ad01-abc123", **fields: object) -> RunRecord:
    return RunRecord(model="ad01", board="qemu-m4", runtime="r", target="qemu", status="ok", run_id=run_id,
                     **fields)  # type: ignore[arg-type]


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- writing -----------------------------------------------------------------------------------------------


def test_a_results_dir_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot write run record .*results/runs/.*Not a directory"):
        ResultStore(tmp_path / "results").save(record())


def test_a_runs_entry_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot write run record .*runs/.*(File exists|Not a directory)"):
        ResultStore(tmp_path).save(record())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_runs_folder_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs").chmod(0o555)
    try:
        with pytest.raises(StoreError, match=r"cannot write run record .*Permission denied"):
            ResultStore(tmp_path).save(record())
    finally:
        (tmp_path / "runs").chmod(0o755)


def test_a_permission_error_when_writing_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a read-only folder does for a user who is not root (CI runs as root, where the test above skips)."""
    real_open = os.open

    def refusing_open(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if Path(path).parent == tmp_path / "runs":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(StoreError, match=r"cannot write run record .*Permission denied"):
        ResultStore(tmp_path).save(record())


def test_a_long_run_id_gets_a_short_file_name_that_keeps_it_unique(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    a, b = record("20261201T000000-qemu-m4-" + "m" * 240 + "-a"), record("20261201T000000-qemu-m4-" + "m" * 240 + "-b")
    pa, pb = store.save(a), store.save(b)
    assert pa != pb and len(pa.name) <= 125 and len(pb.name) <= 125
    assert pa.name.startswith("20261201T000000-qemu-m4-mmm")
    assert store.load(pa) == a and store.load(pb) == b


def test_a_run_id_cannot_name_a_hidden_or_outside_file() -> None:
    assert record_file_name("../../etc/passwd") == "_.._etc_passwd.json"
    assert record_file_name("") == "record.json"


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_records_are_written_0644_less_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    path = ResultStore(tmp_path).save(record())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~mask


def test_the_seed_is_in_the_record(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    path = store.save(record(seed=7))
    assert json.loads(path.read_text())["seed"] == 7 and store.load(path).seed == 7


def test_a_nan_is_not_written_as_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Out of range float values are not JSON compliant"):
        ResultStore(tmp_path).save(record(energy_uj=float("nan")))
    assert not list((tmp_path / "runs").iterdir())  # no temp file left


# -- reading -----------------------------------------------------------------------------------------------


def _records_within(store: ResultStore, seconds: float) -> list[tuple[Path, RunRecord | StoreError]]:
    got: list[tuple[Path, RunRecord | StoreError]] = []
    reader = threading.Thread(target=lambda: got.extend(store.records()), daemon=True)
    reader.start()
    reader.join(seconds)
    assert not reader.is_alive(), "records() hung"
    return got


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_json_is_reported_not_waited_on(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    good = store.save(record("a-1"))
    os.mkfifo(store.runs_dir / "b-fifo.json")
    (store.runs_dir / "c-dir.json").mkdir()
    got = _records_within(store, 5.0)
    assert [p.name for p, _ in got] == [good.name, "b-fifo.json", "c-dir.json"]
    assert got[0][1] == record("a-1")
    assert isinstance(got[1][1], StoreError) and "b-fifo.json is not a regular file (a FIFO)" in str(got[1][1])
    assert isinstance(got[2][1], StoreError) and "is not a regular file (a directory)" in str(got[2][1])


def _stored(tmp_path: Path, **fields: object) -> Path:
    data = {**record().to_dict(), **fields}
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    path = runs / "r.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("field, value, expected", [
    ("instructions_per_inference", "many", "int | None"),
    ("inferences", True, "int"),                 # a bool is not an int
    ("latency_us", "fast", "float | None"),
    ("fits_board", 1, "bool | None"),
    ("instructions_timed", [1, "2"], r"list\[int\]"),
    ("layers", {"index": 0}, r"list\[dict\[str, Any\]\]"),
    ("provenance", None, r"dict\[str, Any\]"),
    ("model", 3, "str"),
])
def test_a_wrongly_typed_field_names_file_field_value_and_type(tmp_path: Path, field: str, value: object,
                                                               expected: str) -> None:
    path = _stored(tmp_path, **{field: value})
    with pytest.raises(StoreError, match=rf"run record .*r\.json: field '{field}' is .*; expected {expected}$"):
        ResultStore(tmp_path).load(path)
    [(_, err)] = list(ResultStore(tmp_path).records())
    assert isinstance(err, StoreError)


def test_an_int_is_a_float_and_none_is_fine_where_optional(tmp_path: Path) -> None:
    loaded = ResultStore(tmp_path).load(_stored(tmp_path, latency_us=5, energy_uj=None, macs=10))
    assert (loaded.latency_us, loaded.energy_uj, loaded.macs) == (5, None, 10)


def test_a_missing_required_field_is_named(tmp_path: Path) -> None:
    data = record().to_dict()
    del data["board"]
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r.json").write_text(json.dumps(data))
    with pytest.raises(StoreError, match=r"r\.json: missing fields \['board'\]"):
        ResultStore(tmp_path).load(tmp_path / "runs" / "r.json")


def test_unknown_fields_are_kept_and_written_back(tmp_path: Path) -> None:
    path = _stored(tmp_path, from_the_future={"a": 1}, note="kept")
    store = ResultStore(tmp_path)
    loaded = store.load(path)
    assert loaded.extra == {"from_the_future": {"a": 1}, "note": "kept"}
    again = json.loads(store.save(loaded).read_text())
    assert again["from_the_future"] == {"a": 1} and again["note"] == "kept" and "extra" not in again
