"""The reference suite is not green without its models: under CI=true a missing MLPerf Tiny file fails
the test; elsewhere it skips with a message that says where the file was looked for."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = Path(__file__).resolve().parents[1] / "suites" / "mlperf_tiny" / "test_reference.py"


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), ("", "skipped")])
def test_a_missing_model_fails_in_ci_and_skips_elsewhere(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                        ci: str, outcome: str) -> None:
    monkeypatch.setenv("HILBENCH_MODELS_DIR", str(pytester.path / "nonexistent"))
    monkeypatch.setenv("CI", ci)
    result = pytester.runpytest_subprocess(str(SUITE), "-k", "kws01 or ad01", "-p", "no:cacheprovider", "-rfs",
                                           "--hil-results-dir", str(pytester.path / "results"))
    result.assert_outcomes(**{outcome: 2})
    result.stdout.fnmatch_lines(["*kws01: no kws_ref_model.tflite in *nonexistent*"])
