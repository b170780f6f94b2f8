"""Datasets streamed to firmware in QEMU, one session each, scored beside the host interpreter: the real AD
sample (196 windows) and the digits test set (360 images); bad samples skipped and named in a real run;
a differing output named; the ``hil.accuracy`` fixture method."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.accuracy import AccuracyOptions, run_accuracy
from harness.boards import load_board
from harness.protocol import DutClient
from tests.conftest import MODELS, model_path, requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]
pytest_plugins = ["pytester"]


def test_the_real_ad_sample_scores_the_same_on_qemu_m4_as_on_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    path = model_path("ad01_int8.tflite")
    boots: list[int] = []
    wait_boot = DutClient.wait_boot
    monkeypatch.setattr(DutClient, "wait_boot", lambda self, *a: boots.append(1) or wait_boot(self, *a))
    result = run_accuracy(path, MODELS / "ad01", load_board("qemu-m4"))
    assert boots == [1]                                      # one firmware session for the 196 windows
    assert (result.samples, result.inferences, result.kind) == (1, 196, "anomaly")
    assert result.metric == "mean_mse" and "AUC is undefined" in result.note
    assert result.mismatched_samples == () and result.target_score == result.host_score and result.ok
    assert round(result.target_score, 3) == 10.264                              # ../shared/models/README.md
    assert result.model_sha256 == "87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24"
    assert result.model_origin == "official"


def test_the_digits_test_set_has_the_same_top1_on_qemu_m4_as_on_the_host(
        digits_model: Path, digits_dataset: Path) -> None:
    result = run_accuracy(digits_model, digits_dataset, load_board("qemu-m4"))
    assert (result.samples, result.inferences, result.metric) == (360, 360, "top1")
    assert result.mismatched_samples == () and result.target_score == result.host_score and result.ok
    assert result.target_score > 0.9
    print(f"digits top-1 on qemu-m4 {result.target_score:.4f}, host {result.host_score:.4f}, "
          f"session {result.session_s} s, run {result.wall_s} s")


def test_bad_samples_are_skipped_and_named_and_a_differing_output_is_named(
        digits_model: Path, digits_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ds"
    rows = (digits_dataset / "y_labels.csv").read_text().splitlines()[:8]
    folder.mkdir()
    for row in rows:
        shutil.copy(digits_dataset / row.split(",")[0], folder)
    names = [r.split(",")[0] for r in rows]
    (folder / names[1]).write_bytes(b"\x00" * 63)                          # the wrong size
    rows[2] = f"{names[2]},12,11"                                           # past the model's 10 classes
    (folder / names[3]).unlink()                                            # listed but missing
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    calls: list[int] = []
    output_bytes = DutClient.output_bytes

    def corrupt_the_third(self: DutClient) -> bytes:
        data = output_bytes(self)
        calls.append(1)
        return bytes([data[0] ^ 1]) + data[1:] if len(calls) == 3 else data

    monkeypatch.setattr(DutClient, "output_bytes", corrupt_the_third)
    result = run_accuracy(digits_model, folder, load_board("qemu-m4"), AccuracyOptions(limit=4))
    assert result.samples == 4 and [s.file for s in result.per_sample] == [names[0], *names[4:7]]
    assert result.mismatched_samples == (names[5],) and not result.ok
    skipped = {s.name: s.reason for s in result.skipped}
    model = digits_model.stem
    assert skipped[names[1]] == f"63 bytes; model {model} takes 64 (int8 [1, 8, 8, 1], 64 bytes)"
    assert skipped[names[2]] == f"class 11 is out of range for model {model}, which has 10 classes (0 to 9)"
    assert skipped[names[3]].startswith("listed in y_labels.csv (line 4) but missing")


def test_the_hil_fixture_scores_a_dataset_on_its_board(pytester: pytest.Pytester, digits_model: Path,
                                                       digits_dataset: Path) -> None:
    pytester.makepyfile(f"""
        def test_digits(hil):
            result = hil.accuracy({str(digits_model)!r}, {str(digits_dataset)!r}, limit=5)
            assert result.board == "qemu-m4" and result.samples == 5
            assert result.ok and result.target_score == result.host_score
    """)
    result = pytester.runpytest_subprocess("--hil-board", "qemu-m4", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
