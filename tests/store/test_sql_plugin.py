"""The pytest plugin's ``--hil-store URL``: a suite on the fake backend writes its records to a database,
and a database that refuses the connection fails each run's test while the rest of the session goes on."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.store import RunRecord, open_store
from tests.conftest import requires_cc
from tests.fakes.fake_target import transcript

pytestmark = requires_cc
pytest_plugins = ["pytester"]
PROJECT = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import sys
sys.path.insert(0, {str(PROJECT)!r})   # the project, for tests.fakes

from harness.targets.backends import register_backend
from tests.fakes.fake_target import FakeBackend

FAKE = FakeBackend()
FAKE.replay("ok", "ok")
register_backend(FAKE.backend())
"""

SUITE = """
def test_one(hil):
    assert hil.run("tinycnn").status == "ok"

def test_two(hil):
    assert hil.run("tinycnn").status == "ok"
"""


def _run(pytester: pytest.Pytester, url: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(SUITE)
    return pytester.runpytest_subprocess("--hil-target", "fake", "--hil-board", "qemu-m4", "--hil-inferences", "3",
                                         "--hil-warmup", "1", "--hil-store", url, "-p", "no:cacheprovider")


def test_a_suite_writes_its_records_to_the_database(pytester: pytest.Pytester, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hilbench.db"
    result = _run(pytester, url)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*2 run records written to {url}*"])
    records = [r for _, r in open_store(url).records() if isinstance(r, RunRecord)]
    want = transcript("ok").record["instructions_per_inference"]
    assert len(records) == 2 and all(r.instructions_per_inference == want for r in records)
    assert not (pytester.path / "results").exists()   # the JSON folder is not written beside it


def test_a_database_that_refuses_fails_each_test_and_the_session_goes_on(pytester: pytest.Pytester) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _run(pytester, f"postgresql://ann:topsecret@127.0.0.1:{port}/hil")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*record not stored*refused the connection*"])
    assert "topsecret" not in result.stdout.str()


def test_a_bad_store_url_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "nosuchdb://x/y")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hil-store*unknown database dialect 'nosuchdb'*"])
