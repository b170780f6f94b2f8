"""`hilbench report` and pytest's `--hil-report PATH`: the page of stored runs, or of a session's runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.report.html import plotly_js
from tests.conftest import model_path, requires_cc, requires_qemu

pytest_plugins = ["pytester"]
DATA = Path(__file__).parent / "data"
HOSTILE = "<img src=x onerror=alert(1)>"


def results(tmp_path: Path) -> Path:
    """A results folder holding the three real records of tests/report/data."""
    runs = tmp_path / "results" / "runs"
    runs.mkdir(parents=True)
    for p in DATA.glob("*.json"):
        shutil.copy(p, runs / p.name)
    return tmp_path / "results"


def test_report_writes_the_page_beside_the_runs_and_says_what_it_holds(tmp_path: Path) -> None:
    folder = results(tmp_path)
    out = CliRunner().invoke(main, ["report", str(folder)])
    assert out.exit_code == 0, out.output
    page = folder / "report.html"
    assert out.output.splitlines() == [f"report: {page} ({page.stat().st_size:,} bytes)",
                                       "3 runs, 2 models, 3 boards, 1 commit"]
    same = CliRunner().invoke(main, ["report", "--results-dir", str(folder), "-o", str(tmp_path / "r.html")])
    assert same.exit_code == 0 and (tmp_path / "r.html").is_file()


def test_report_against_a_baseline_commit_counts_regressions(tmp_path: Path) -> None:
    folder = results(tmp_path)
    commit = json.loads(next(DATA.glob("*.json")).read_text())["provenance"]["git_commit"][:10]
    out = CliRunner().invoke(main, ["report", str(folder), "--baseline", commit, "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[1] == ("3 runs, 2 models, 3 boards, 1 commit; no regression in 3 matched runs "
                                          "vs the baseline")
    assert 'id="baseline"' in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["{empty}"], "Invalid value for RESULTS_DIR: no run records: {empty}/runs does not exist"),
    (["{folder}", "--baseline", "deadbeef"], "Invalid value for '--baseline': baseline 'deadbeef' names nothing"),
    (["{folder}", "--baseline", "{empty}"], "Invalid value for '--baseline': no run records: {empty}/runs"),
    (["{alien}"], "schema version 99"),
    (["{folder}", "--results-dir", "{empty}"], "RESULTS_DIR '{folder}' and --results-dir '{empty}' differ"),
])
def test_bad_input_is_one_clear_line_and_exit_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    names = {"folder": str(results(tmp_path)), "empty": str(tmp_path / "empty"), "alien": str(tmp_path / "alien")}
    (tmp_path / "empty").mkdir()
    (tmp_path / "alien" / "runs").mkdir(parents=True)
    (tmp_path / "alien" / "runs" / "a.json").write_text(json.dumps({"schema": 99, "status": "ok"}))
    out = CliRunner().invoke(main, ["report", *(a.format(**names) for a in args)])
    assert out.exit_code == 2 and message.format(**names) in " ".join(out.output.split())
    assert "Traceback" not in out.output


def test_help_lists_hil_report_with_metavar_and_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--hil-report=PATH*"])
    assert "(default:none,noreport)" in "".join(result.stdout.str().split())


FAKE_RUNS = """
import hashlib, json, pathlib
import harness.session
from harness.store import RunRecord

RECORD = json.loads(pathlib.Path({record!r}).read_text())

def fake_run(model, board, options, target_name=None):
    sha = hashlib.sha256(str(model).encode()).hexdigest()
    return RunRecord.from_dict({{**RECORD, "model": str(model), "model_sha256": sha, "board": board.name,
                                "run_id": "t-" + sha[:8] + "-" + board.name}})

harness.session.run_model = fake_run
"""
TWO_MODELS = """
import pytest

@pytest.mark.parametrize("model", ["ad01", {hostile!r}])
def test_runs(hil, model):
    assert hil.run(model).ok
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_hil_report_writes_the_sessions_runs_and_prints_the_path(pytester: pytest.Pytester, xdist: list[str]) -> None:
    pytester.makeconftest(FAKE_RUNS.format(record=str(next(DATA.glob("*qemu-m4-ad01*.json")))))
    pytester.makepyfile(TWO_MODELS.format(hostile=HOSTILE))
    # a subprocess: the conftest replaces run_model in harness.session, which must not leak into this process
    result = pytester.runpytest_subprocess("--hil-report", "out/report.html", "--hil-board", "qemu-m4",
                                           "--hil-board", "qemu-m7", "--hil-results-dir", "res", *xdist)
    assert result.ret == 0, result.stdout.str()
    page = pytester.path / "out" / "report.html"
    result.stdout.fnmatch_lines([f"hilbench report: {page} (*bytes)", "4 runs, 2 models, 2 boards, 1 commit"])
    ours = page.read_text().replace(plotly_js(), "")
    assert ours.count("<tr>") >= 5 and "<img src=x" not in ours and "&lt;img src=x onerror=alert(1)&gt;" in ours


def test_hil_report_without_runs_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--hil-report", "r.html")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["hilbench report: not written to */r.html: no run in this session"])
    assert not (pytester.path / "r.html").exists()


@requires_qemu
@requires_cc
def test_real_runs_of_a_model_file_named_like_markup(tmp_path: Path) -> None:
    hostile = tmp_path / f"{HOSTILE}.tflite"
    shutil.copy(model_path("ad01_int8.tflite"), hostile)
    folder = tmp_path / "results"
    run = CliRunner().invoke(main, ["run", str(hostile), "--board", "qemu-m4", "--board", "qemu-m7",
                                    "--inferences", "1", "--results-dir", str(folder)])
    assert run.exit_code == 0, run.output
    out = CliRunner().invoke(main, ["report", str(folder)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[1] == "2 runs, 1 model, 2 boards, 1 commit"
    ours = (folder / "report.html").read_text().replace(plotly_js(), "")
    assert "<img src=x" not in ours and "&lt;img src=x onerror=alert(1)&gt;" in ours  # the model name, as text
