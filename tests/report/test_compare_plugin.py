"""The pytest gate: `--hil-compare REF` and `--hil-fail-on SPEC` fail a session that regressed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.store import ResultStore, RunRecord
from tests.conftest import model_path, requires_cc, requires_qemu

pytest_plugins = ["pytester"]

NEVER_RUN = """
def test_must_not_run(tmp_path_factory):
    raise AssertionError("a test ran although the options were bad")
"""


def test_help_lists_the_compare_options_with_metavar_and_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--hil-compare=REF*", "*--hil-fail-on=SPEC*"])
    text = "".join(result.stdout.str().split())   # argparse wraps long words anywhere
    assert "failsthesession(default:none,nocomparison)" in text
    assert "instructions_per_inference:+2%,flash_bytes:+1%,arena_bytes:+0" in text
    assert "isnotnowalwaysfails(default:none)" in text


def test_fail_on_without_compare_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEVER_RUN)
    result = pytester.runpytest("--hil-fail-on", "instructions_per_inference:+2%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hil-fail-on needs --hil-compare REF, the baseline the checks compare*"])


@pytest.mark.parametrize("spec, message", [
    ("flash:+1%", ("*argument --hil-fail-on: regression check 'flash:+1%': unknown metric 'flash'; "
                   "expected one of instructions_per_inference, *")),
    ("flash_bytes:+1x", "*--hil-fail-on: regression check 'flash_bytes:+1x': threshold '+1x' does not*"),
    ("flash_bytes:+1,flash_bytes:+2", "*--hil-fail-on: *metric 'flash_bytes' is given twice*"),
])
def test_a_bad_fail_on_is_a_usage_error(pytester: pytest.Pytester, spec: str, message: str) -> None:
    pytester.makepyfile(NEVER_RUN)
    result = pytester.runpytest("--hil-compare", "x", "--hil-fail-on", spec)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_reference_naming_nothing_is_a_usage_error_before_any_run(pytester: pytest.Pytester) -> None:
    ResultStore(pytester.path / "res").save(RunRecord("m1", "qemu-m4", "fake", "qemu", "ok", run_id="r1"))
    pytester.makepyfile(NEVER_RUN)
    result = pytester.runpytest("--hil-results-dir", "res", "--hil-compare", "deadbeef")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([("*--hil-compare: baseline 'deadbeef' names nothing: it is not a results "
                                  "folder, nor a run id or a git commit in res (its commits: unknown)*")])
    result = pytester.runpytest("--hil-results-dir", "nowhere", "--hil-compare", "also-nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([("*--hil-compare: baseline 'also-nowhere' names nothing*no run records: "
                                 "nowhere/runs does not exist*")])


FAKE_RUNS = """
import harness.session
from harness.store import RunRecord

def fake_run(model, board, options, target_name=None):
    status = "timeout" if str(model) == "m-breaks" else "ok"
    return RunRecord(model=str(model), board=board.name, runtime="fake", target="qemu", status=status,
                     instructions_per_inference=4321, run_id=f"t-{model}",
                     time_utc="2026-12-02T00:00:00+00:00")

harness.session.run_model = fake_run
"""


def test_a_run_that_stops_being_ok_fails_the_session_without_any_check(pytester: pytest.Pytester) -> None:
    for model in ("m-breaks", "m-fine"):
        ResultStore(pytester.path / "base").save(RunRecord(
            model, "qemu-m4", "fake", "qemu", "ok", instructions_per_inference=4321, run_id=f"b-{model}",
            time_utc="2026-12-01T00:00:00+00:00"))
    pytester.makeconftest(FAKE_RUNS)
    pytester.makepyfile("""
        def test_both(hil):
            hil.run("m-breaks")
            hil.run("m-fine")
    """)
    # a subprocess: the conftest replaces run_model in harness.session, which must not leak into this process
    result = pytester.runpytest_subprocess("--hil-results-dir", "new", "--hil-compare", "base",
                                           "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*hilbench compare*",
                                 "against base: 1 regression(s) in 2 matched run(s); checks: none*",
                                 "regression: m-breaks on qemu-m4 (fake): status ok -> timeout (was ok)"])


# -- real runs of ad01 on qemu-m4 ----------------------------------------------------------------------

AD01_TEST = """
import pytest

@pytest.mark.parametrize("seed", {seeds})
def test_ad01(hil, seed):
    from harness.runner import RunOptions
    assert hil.run({path!r}, inferences=1, warmup=0, options=RunOptions(seed=seed)).ok
"""


@pytest.fixture(scope="module")
def ad01_baselines(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, int]:
    """A folder with one real ad01 run, and a copy whose record claims 10% fewer instructions."""
    same = tmp_path_factory.mktemp("same")
    out = CliRunner().invoke(main, ["run", str(model_path("ad01_int8.tflite")), "--board", "qemu-m4",
                                    "--inferences", "1", "--warmup", "0", "--results-dir", str(same)])
    assert out.exit_code == 0, out.output
    lower = tmp_path_factory.mktemp("lower")
    shutil.copytree(same, lower, dirs_exist_ok=True)
    (path,) = (lower / "runs").glob("*.json")
    record = json.loads(path.read_text())
    insn = record["instructions_per_inference"]
    record["instructions_per_inference"] = fewer = insn * 90 // 100
    path.write_text(json.dumps(record))
    return same, lower, insn, fewer


@requires_qemu
@requires_cc
def test_a_real_run_against_a_baseline_with_fewer_instructions_fails_naming_the_metric(
        pytester: pytest.Pytester, ad01_baselines: tuple[Path, Path, int, int]) -> None:
    same, lower, insn, fewer = ad01_baselines
    pytester.makepyfile(AD01_TEST.format(seeds=[0], path=str(model_path("ad01_int8.tflite"))))
    spec = "instructions_per_inference:+2%,flash_bytes:+0,arena_bytes:+0"
    # a subprocess: the host interpreter's extension module cannot be imported twice in one process
    result = pytester.runpytest_subprocess("--hil-board", "qemu-m4", "--hil-results-dir", "new",
                                           "--hil-compare", str(lower), "--hil-fail-on", spec,
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*hilbench compare*",
        f"against {lower}: 1 regression(s) in 1 matched run(s); checks: {spec.replace(',', ', ')}",
        (f"regression: ad01 on qemu-m4 (hilbench-aot): instructions_per_inference {fewer:,} -> {insn:,} "
        f"(x{insn / fewer:.4f}), limit +2% (at most {fewer * 102 // 100:,}*")])

    result = pytester.runpytest_subprocess("--hil-board", "qemu-m4", "--hil-results-dir", "new",
                                           "--hil-compare", str(same), "--hil-fail-on", spec,
                                           "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"against {same}: no regression in 1 matched run(s); checks: *"])


@requires_qemu
@requires_cc
def test_the_controller_compares_the_records_of_every_xdist_worker(
        pytester: pytest.Pytester, ad01_baselines: tuple[Path, Path, int, int]) -> None:
    pytest.importorskip("xdist", reason="pip install pytest-xdist (the dev extra)")
    _, lower, _, fewer = ad01_baselines
    pytester.makepyfile(AD01_TEST.format(seeds=[1, 2], path=str(model_path("ad01_int8.tflite"))))
    result = pytester.runpytest_subprocess("-n", "2", "--hil-board", "qemu-m4", "--hil-results-dir", "new",
                                           "--hil-compare", str(lower), "--hil-fail-on",
                                           "instructions_per_inference:+5%", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # the latest of the two runs is compared; ad01's count depends a little on the input (the seed)
    result.stdout.fnmatch_lines([f"*instructions_per_inference {fewer:,} -> *limit +5%*"])
    assert len(list((pytester.path / "new" / "runs").glob("*.json"))) == 2
