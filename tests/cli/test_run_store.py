"""`hilbench run --store URL` writes the record into the database, not the results folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.store import open_store
from tests.conftest import requires_cc, requires_qemu


@requires_qemu
@requires_cc
def test_run_with_a_sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = CliRunner().invoke(main, ["run", "tinycnn", "--inferences", "1", "--json", "--store", url])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)
    stored = [r for _, r in open_store(url).records() if not isinstance(r, Exception)]
    assert [r.run_id for r in stored] == [record["run_id"]]
    assert stored[0].session_id and stored[0].instructions_per_inference == record["instructions_per_inference"]
    assert not (tmp_path / "results").exists()


def test_store_and_results_dir_together_are_a_usage_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["run", "tinycnn", "--store", f"sqlite:///{tmp_path / 'x.db'}",
                                    "--results-dir", str(tmp_path)])
    assert out.exit_code == 2 and "give one" in out.output


def test_a_bad_store_url_is_refused_before_anything_runs() -> None:
    out = CliRunner().invoke(main, ["bench", "--store", "nosuchdb://x/y"])
    assert out.exit_code == 2 and "nosuchdb" in out.output
