"""`hilbench accuracy`: exit statuses (0 equal and bit-exact, 1 not, 2 bad input), the JSON fields, the
samples named. Bad input is refused before anything is built; the other runs are faked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness import cli, cli_accuracy
from harness.accuracy import AccuracyResult, SampleScore, Skipped
from harness.errors import TargetError
from tests.accuracy.conftest import MakeDataset


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.main, ["accuracy", *args])


def fake_result(**changes: Any) -> AccuracyResult:
    base: dict[str, Any] = {
        "model": "m", "model_sha256": "ab" * 32, "model_path": "/m.tflite", "model_origin": "user",
        "board": "qemu-m4", "dataset": "ds", "kind": "classifier", "metric": "top1", "target_score": 0.75, "host_score": 0.75, "samples": 4,
        "inferences": 4, "mismatched_samples": (), "skipped": (Skipped("big.bin", "9 bytes; model m takes 8"),),
        "per_sample": (SampleScore("a.bin", 1, 1, 1),), "target": "qemu", "session_s": 0.5, "wall_s": 1.0}
    return AccuracyResult(**{**base, **changes})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> list[AccuracyResult | Exception]:
    """What the faked run returns (or raises): set ``fake[0]``."""
    outcome: list[AccuracyResult | Exception] = [fake_result()]

    def run(model: Any, dataset: Any, board: Any, options: Any, progress: Any) -> AccuracyResult:
        progress("host", 1, 1)
        progress("target", 1, 1)
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    monkeypatch.setattr(cli_accuracy, "run_accuracy", run)
    return outcome


def test_a_dataset_without_labels_is_exit_2_with_one_clear_line(tmp_path: Path, classifier_model: Path) -> None:
    result = invoke(str(classifier_model), str(tmp_path))
    assert result.exit_code == 2
    assert f"Error: dataset {str(tmp_path)!r} has no y_labels.csv; expected an MLPerf Tiny index" in result.output


def test_an_unknown_model_or_board_or_a_mismatched_input_is_exit_2(
        tmp_path: Path, make_dataset: MakeDataset, classifier_model: Path) -> None:
    folder = make_dataset(["a.bin,4,0"], {"a.bin": bytes(64)})
    assert "is neither a .tflite file nor a known id" in invoke("no-such-model", str(folder)).output
    assert invoke("no-such-model", str(folder)).exit_code == 2
    assert invoke(str(classifier_model), str(folder), "--board", "no-such-board").exit_code == 2
    result = invoke(str(classifier_model), str(folder))
    assert result.exit_code == 2 and "the model's input shape does not match the dataset" in result.output
    assert invoke(str(classifier_model), str(folder), "--limit", "0").exit_code == 2


def test_equal_scores_and_no_mismatch_is_exit_0_and_json_has_the_fields(
        fake: list[Any], classifier_model: Path, tmp_path: Path) -> None:
    result = invoke(str(classifier_model), str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"metric", "target_score", "host_score", "samples", "mismatched_samples", "model", "board",
            "model_sha256", "model_origin", "skipped", "per_sample", "ok"} <= set(data)
    assert data["metric"] == "top1" and data["mismatched_samples"] == [] and data["ok"] is True
    assert data["skipped"] == [{"file": "big.bin", "reason": "9 bytes; model m takes 8"}]
    assert "skipped: big.bin: 9 bytes; model m takes 8" in result.stderr


def test_a_mismatched_sample_or_a_different_score_is_exit_1_and_named(
        fake: list[Any], classifier_model: Path, tmp_path: Path) -> None:
    fake[0] = fake_result(mismatched_samples=("s#3",))
    result = invoke(str(classifier_model), str(tmp_path))
    assert result.exit_code == 1 and "output differs from the host interpreter's: s#3" in result.stderr
    fake[0] = fake_result(target_score=0.5)
    result = invoke(str(classifier_model), str(tmp_path))
    assert result.exit_code == 1 and "top-1 (50.00%) differs from the host interpreter's (75.00%)" in result.stderr
    fake[0] = TargetError("sample a.bin (1 of 4) on qemu-m4: no reply")
    result = invoke(str(classifier_model), str(tmp_path))
    assert result.exit_code == 1 and "Error: sample a.bin (1 of 4) on qemu-m4: no reply" in result.stderr
