"""`hilbench compare`: exit statuses, clear errors, and a deliberate regression in two real ad01 runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.store import ResultStore, RunRecord
from tests.conftest import model_path, requires_cc, requires_qemu

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def rec(run_id: str, model: str = "ad01", insn: int | None = 800_000, time: str = "10:00",
        sha: str = "ad" * 32, **fields: Any) -> RunRecord:
    fields.setdefault("status", "ok")
    return RunRecord(model=model, board="qemu-m4", runtime="hilbench-aot", target="qemu", model_sha256=sha,
                     run_id=run_id, time_utc=f"2026-12-01T{time}:00+00:00", instructions_per_inference=insn,
                     provenance={"git_commit": fields.pop("commit", COMMIT)}, **fields)


def store(root: Path, *records: RunRecord) -> Path:
    for r in records:
        ResultStore(root).save(r)
    return root


def hilbench(*args: str | Path) -> Result:
    return CliRunner(env={"COLUMNS": "250"}).invoke(main, [str(a) for a in args])


def test_unchanged_runs_pass(tmp_path: Path) -> None:
    base = store(tmp_path / "a", rec("a1"))
    new = store(tmp_path / "b", rec("b1"))
    out = hilbench("compare", base, new, "--fail-on", "instructions_per_inference:+0")
    assert out.exit_code == 0, out.output
    assert "instructions_per_inference" in out.output and "same" in out.output
    assert "no regression in 1 matched run(s); checks: instructions_per_inference:+0" in out.output


def test_a_failed_check_exits_1_naming_metric_old_new_and_ratio(tmp_path: Path) -> None:
    base = store(tmp_path / "a", rec("a1"))
    new = store(tmp_path / "b", rec("b1", insn=840_000), rec("b2", model="new-model", sha="ee" * 32, insn=5))
    out = hilbench("compare", base, new, "--fail-on", "instructions_per_inference:+2%")
    assert out.exit_code == 1, out.output
    assert ("regression: ad01 on qemu-m4 (hilbench-aot): instructions_per_inference 800,000 -> 840,000 "
            "(x1.0500), limit +2% (at most 816,000)") in out.output
    assert "REGRESSED" in out.output and "+40,000" in out.output
    assert "1 regression(s) in 1 matched run(s)" in out.output
    assert ("only in the new runs (no baseline, not a regression): new-model on qemu-m4 (hilbench-aot)"
            in out.output)


def test_a_run_no_longer_ok_exits_1_without_any_check(tmp_path: Path) -> None:
    base = store(tmp_path / "a", rec("a1"))
    new = store(tmp_path / "b", rec("b1", status="timeout", insn=None, error="no answer"))
    out = hilbench("compare", base, new)
    assert out.exit_code == 1, out.output
    assert "regression: ad01 on qemu-m4 (hilbench-aot): status ok -> timeout (was ok)" in out.output


def test_run_ids_and_commits_are_looked_up_in_the_results_dir(tmp_path: Path) -> None:
    results = store(tmp_path / "results", rec("old-run", commit="aaaa" * 10),
                    rec("new-run", time="11:00", insn=900_000))
    out = hilbench("compare", "old-run", "new-run", "--results-dir", results, "--fail-on",
                   "instructions_per_inference:+10%")
    assert out.exit_code == 1 and "800,000 -> 900,000 (x1.1250)" in out.output, out.output
    out = hilbench("compare", "aaaa", "0123456", "--results-dir", results)
    assert out.exit_code == 0 and "+100,000" in out.output, out.output


def test_user_text_is_printed_not_parsed_as_markup(tmp_path: Path) -> None:
    base = store(tmp_path / "a", rec("a1", model="m[/red]x[bold]"))
    new = store(tmp_path / "b", rec("b1", model="m[/red]x[bold]", status="fault", insn=None))
    out = hilbench("compare", base, new)
    assert out.exit_code == 1 and "m[/red]x[bold] on qemu-m4" in out.output, out.output


@pytest.mark.parametrize("args, message", [
    (["--fail-on", "flash:+1%"], ("Invalid value for '--fail-on': regression check 'flash:+1%': unknown "
                                  "metric 'flash'; expected one of instructions_per_inference, ")),
    (["--fail-on", "flash_bytes:2x"], "threshold '2x' does not parse; expected `+N%`"),
    (["--fail-on", ""], "regression checks '' are empty"),
])
def test_a_bad_fail_on_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    base = store(tmp_path / "a", rec("a1"))
    out = hilbench("compare", base, base, *args)
    assert out.exit_code == 2 and message in " ".join(out.output.split()), out.output


def test_a_baseline_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    results = store(tmp_path / "results", rec("r1"))
    out = hilbench("compare", "nope", results, "--results-dir", results)
    assert out.exit_code == 2, out.output
    assert ("Invalid value for BASELINE: baseline 'nope' names nothing: it is not a results folder, nor a "
            "run id or a git commit in" in " ".join(out.output.split()))
    out = hilbench("compare", results, "deadbeef", "--results-dir", results)
    assert out.exit_code == 2 and "Invalid value for NEW: new runs 'deadbeef' names nothing" in out.output
    assert "Traceback" not in out.output


def test_an_empty_results_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = hilbench("compare", tmp_path / "empty", tmp_path / "empty")
    assert out.exit_code == 2, out.output
    assert f"no run records: {tmp_path / 'empty' / 'runs'} does not exist" in " ".join(out.output.split())
    (tmp_path / "empty" / "runs").mkdir()
    out = hilbench("compare", tmp_path / "empty", tmp_path / "empty")
    assert out.exit_code == 2 and "no run records in" in out.output and out.exception is not None
    assert isinstance(out.exception, SystemExit)       # a clean usage error, not a traceback


def test_records_of_an_unknown_schema_are_refused_by_version(tmp_path: Path) -> None:
    base = store(tmp_path / "a", rec("a1"))
    path = base / "runs" / "a1.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema": 99}))
    out = hilbench("compare", base, base)
    assert out.exit_code == 2 and isinstance(out.exception, SystemExit), out.output
    text = " ".join(out.output.split())
    assert "has schema version 99; this hilbench" in text and "reads schema versions 1 to 1" in text
    store(base, rec("a2"))                              # one good record: the bad one is skipped, and named
    out = hilbench("compare", base, base)
    assert out.exit_code == 0, out.output
    assert "skipped: run record" in out.output and "schema version 99" in out.output


# -- end to end: two real runs of ad01 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def two_ad01_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    ad01 = model_path("ad01_int8.tflite")
    folders = []
    for name in ("base", "new"):
        folder = tmp_path_factory.mktemp(name)
        out = hilbench("run", ad01, "--board", "qemu-m4", "--inferences", "1", "--warmup", "0",
                       "--results-dir", folder)
        assert out.exit_code == 0, out.output
        folders.append(folder)
    return folders[0], folders[1]


def only_record(folder: Path) -> Path:
    (path,) = (folder / "runs").glob("*.json")
    return path


@requires_qemu
@requires_cc
def test_a_deliberate_regression_in_a_real_run_is_flagged_with_its_numbers_and_layer(
        two_ad01_runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, new = two_ad01_runs
    spec = "instructions_per_inference:+2%,flash_bytes:+0,arena_bytes:+0"
    unchanged = hilbench("compare", base, new, "--fail-on", spec)
    assert unchanged.exit_code == 0, unchanged.output
    assert "no regression in 1 matched run(s)" in unchanged.output
    assert "layer(s) changed" not in unchanged.output

    worse = tmp_path / "worse"
    shutil.copytree(new, worse)
    path = only_record(worse)
    record = json.loads(path.read_text())
    old_insn = record["instructions_per_inference"]
    extra = old_insn * 5 // 100                                     # +5%, all of it in layer 3
    record["instructions_per_inference"] = old_insn + extra
    layer = record["layers"][3]
    old_layer = layer["instructions"]
    layer["instructions"] = old_layer + extra
    path.write_text(json.dumps(record))

    out = hilbench("compare", base, worse, "--fail-on", spec)
    assert out.exit_code == 1, out.output
    ratio = (old_insn + extra) / old_insn
    allowed = old_insn * 102 // 100
    assert (f"regression: ad01 on qemu-m4 (hilbench-aot): instructions_per_inference {old_insn:,} -> "
            f"{old_insn + extra:,} (x{ratio:.4f}), limit +2% (at most {allowed:,}") in out.output
    assert "ad01 on qemu-m4 (hilbench-aot): 1 layer(s) changed; the most:" in out.output
    assert (f"layer 3 {layer['op']}: {old_layer:,} -> {old_layer + extra:,} instructions (+{extra:,})"
            in out.output)
    assert "1 regression(s) in 1 matched run(s)" in out.output

    # the same two runs by run id, from one results folder
    both = tmp_path / "both"
    (both / "runs").mkdir(parents=True)
    shutil.copy(only_record(base), both / "runs")
    shutil.copy(path, both / "runs")
    by_id = hilbench("compare", json.loads(only_record(base).read_text())["run_id"], record["run_id"],
                     "--results-dir", both, "--fail-on", spec)
    assert by_id.exit_code == 1 and f"{old_insn:,} -> {old_insn + extra:,}" in by_id.output, by_id.output
