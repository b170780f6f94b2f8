"""The reference suite needs no model files: without the official MLPerf Tiny files (no ../shared/models,
nothing downloaded) it runs the models built from code and says so. Only a model that cannot be had at
all (no file, and no TensorFlow to build it) stops it: a failure under CI=true, a skip with a message
elsewhere."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.conftest import IN_CI, requires_cc, requires_qemu

pytest_plugins = ["pytester"]

SUITE = Path(__file__).resolve().parents[1] / "suites" / "mlperf_tiny" / "test_reference.py"
HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None
if IN_CI and not HAS_TENSORFLOW:
    raise RuntimeError("CI: tensorflow is missing; bootstrap.sh should have installed it (.[models])")
requires_tensorflow = pytest.mark.skipif(not HAS_TENSORFLOW, reason="pip install '.[models]' (tensorflow-cpu)")

# loaded into the suite's pytest with -p: building from code fails as it does without TensorFlow
NO_BUILD = """
from harness.errors import ModelError
from harness.model import builtin

def _build(model_id):
    raise ModelError(f"building {model_id} needs TensorFlow: pip install '.[models]'")

builtin.build = _build
"""


def _run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str,
               *args: str) -> pytest.RunResult:
    """The suite's ad01 test with no models folder and an empty cache (nothing downloaded or built)."""
    monkeypatch.setenv("HILBENCH_MODELS_DIR", str(pytester.path / "nonexistent"))
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(pytester.path / "cache"))
    monkeypatch.delenv("HILBENCH_MODEL_MIRROR", raising=False)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), os.environ.get("PYTHONPATH", "")]))
    return pytester.runpytest_subprocess(str(SUITE), "-k", "ad01", "-p", "no:cacheprovider", "-rA", *args,
                                         "--hil-results-dir", str(pytester.path / "results"))


@requires_qemu
@requires_cc
@requires_tensorflow
def test_without_the_official_files_the_suite_runs_the_built_model_and_says_so(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run_suite(pytester, monkeypatch, "true")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ad01: built from code (untrained weights) *",
                                 "ad01: TFLite Micro targets not asserted for a built-untrained model: *"])
    result.stdout.re_match_lines([r".*\bad01\b.*\bbuilt-untrained\b.*\bqemu-m4\b.*\bok\b"])  # the summary table
    assert not (pytester.path / "cache" / "official").exists()


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), ("", "skipped")])
def test_a_model_that_cannot_be_built_fails_in_ci_and_skips_elsewhere(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str) -> None:
    pytester.makepyfile(no_build=NO_BUILD)
    result = _run_suite(pytester, monkeypatch, ci, "-p", "no_build")
    result.assert_outcomes(**{outcome: 1})
    message = ("*model 'ad01': no official ad01_int8.tflite in the cache *nonexistent*, and building it from "
               "code failed *hilbench models download mlperf-tiny*building ad01 needs TensorFlow*")
    result.stdout.fnmatch_lines([message])
