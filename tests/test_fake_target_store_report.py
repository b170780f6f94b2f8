"""Records made from fake runs go through the store, `hilbench report` and the plugin like real ones.

The runs replay tests/data/transcripts through the ``fake`` backend (tests/fakes/fake_target.py): no
QEMU, the Arm toolchain for the build.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.boards import load_board
from harness.cli import main
from harness.report.table import render_text
from harness.session import HilSession
from harness.store import ResultStore, RunRecord
from tests.conftest import requires_cc
from tests.fakes.fake_target import FakeBackend, replay_options, transcript

pytestmark = requires_cc
pytest_plugins = ["pytester"]
PROJECT = Path(__file__).resolve().parents[1]


def test_the_store_and_the_report_read_records_of_fake_runs(fake_target: FakeBackend, tmp_path: Path) -> None:
    names = ["ok", "mismatch", "fault"]
    fake_target.replay(*names)
    session = HilSession(tmp_path / "results", inferences=3, warmup=1, target="fake")
    board = load_board("qemu-m4")
    made = [session.run("tinycnn", board, options=replay_options(transcript(n))) for n in names]
    assert [r.status for r in made] == ["ok", "mismatch", "fault"]

    loaded = [r for _, r in ResultStore(tmp_path / "results").records()]
    stored = {r.run_id: r for r in loaded if isinstance(r, RunRecord)}
    assert len(loaded) == len(stored) == 3 and all(stored[r.run_id] == r for r in made)
    assert {r.session_id for r in stored.values()} == {session.session_id}

    table = render_text(made)
    assert "111,642" in table and "mismatch" in table and "fault" in table

    out = CliRunner().invoke(main, ["report", str(tmp_path / "results")])
    assert out.exit_code == 0, out.output
    page = tmp_path / "results" / "report.html"
    assert out.output.splitlines() == [f"report: {page} ({page.stat().st_size:,} bytes)",
                                       "3 runs, 1 model, 1 board, 1 commit"]
    html = page.read_text()
    assert "tinycnn" in html and "FULLY_CONNECTED" in html


CONFTEST = f"""
import sys
sys.path.insert(0, {str(PROJECT)!r})   # the project, for tests.fakes

from harness.targets.backends import register_backend
from tests.fakes.fake_target import FakeBackend

FAKE = FakeBackend()
FAKE.replay("ok", "mismatch")
register_backend(FAKE.backend())
"""


def test_a_suite_runs_on_the_fake_backend_through_the_hil_fixture(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(f"""
        def test_tinycnn_is_exact(hil):
            run = hil.run("tinycnn")
            assert run.status == "ok" and run.matches_reference and run.target == "fake"
            assert run.instructions_per_inference == {transcript("ok").record["instructions_per_inference"]}

        def test_a_replayed_mismatch_is_a_mismatch(hil):   # the transcript, not this build, has the bad layer
            run = hil.run("tinycnn")
            assert run.status == "mismatch" and run.first_diverging_layer["index"] == 3
    """)
    results = tmp_path / "results"
    result = pytester.runpytest_subprocess("--hil-target", "fake", "--hil-board", "qemu-m4", "--hil-inferences", "3",
                                           "--hil-warmup", "1", "--hil-results-dir", str(results),
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*hilbench*", "*tinycnn*qemu-m4*ok*111,642*", "*tinycnn*qemu-m4*mismatch*"])
    assert len(list((results / "runs").glob("*.json"))) == 2
