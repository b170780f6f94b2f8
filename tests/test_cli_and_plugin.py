"""The `hilbench` command and the pytest plugin's contract (options, a full run that writes a record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.conftest import model_path, requires_cc, requires_qemu

pytest_plugins = ["pytester"]


def test_boards_command_lists_core_clock_flash_ram() -> None:
    out = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["boards"])
    assert out.exit_code == 0, out.output
    assert "nucleo-l4r5zi-emu" in out.output and "cortex-m55" in out.output
    assert "2048" in out.output and "640" in out.output  # the reference board's KiB of flash and RAM


def test_run_with_an_unknown_board_is_a_usage_error() -> None:
    out = CliRunner().invoke(main, ["run", "ad01", "--board", "nope"])
    assert out.exit_code != 0 and "unknown board 'nope'" in out.output


def test_help_lists_the_hil_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--hil-board=BOARD*", "*--hil-inferences=N*", "*--hil-results-dir=DIR*"])


def test_bad_option_value_is_rejected(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--hil-inferences", "0")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--hil-inferences*0 is out of range; expected 1 to 2147483647*"])


@pytest.mark.parametrize("option, value, accepted", [
    ("--hil-inferences", str(2**31), "1 to 2147483647"),
    ("--hil-inferences", str(10**80), "1 to 2147483647"),
    ("--hil-warmup", str(2**31), "0 to 2147483647"),
    ("--hil-warmup", "-1", "0 to 2147483647"),
])
def test_counts_beyond_the_firmwares_are_rejected(pytester: pytest.Pytester, option: str, value: str,
                                                  accepted: str) -> None:
    result = pytester.runpytest(option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}*{value} is out of range; expected {accepted}*"])


FAKE_RUNS = """
import harness.session
from harness.store import RunRecord

def fake_run(model, board, options, target_name=None):
    return RunRecord(model=str(model), board=board.name, runtime="fake", target="qemu", status="ok",
                     instructions_per_inference=4321, run_id=f"t-{model}")

harness.session.run_model = fake_run
"""


def test_a_record_the_store_cannot_write_fails_its_test_and_is_in_the_summary(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAKE_RUNS)
    pytester.makepyfile("""
        def test_unstored(hil):
            hil.run("m1")

        def test_after_it(hil):
            assert hil.session.records[0].model == "m1"
    """)
    (pytester.path / "res").write_text("a file where the results folder should be")
    result = pytester.runpytest_subprocess("--hil-results-dir", "res", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        ("*the run of m1 on qemu-m4 ended with status 'ok', but its record was not stored: "
         "cannot write run record res/runs/t-m1.json: *Not a directory*"),
        "*hilbench*", "*m1*qemu-m4*ok*4,321*",
        "record not stored (m1 on qemu-m4, status ok): cannot write run record res/runs/t-m1.json*"])
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()


@requires_qemu
@requires_cc
def test_a_suite_run_writes_records_and_a_table(pytester: pytest.Pytester, tmp_path) -> None:
    ad01 = model_path("ad01_int8.tflite")
    pytester.makepyfile(f"""
        def test_ad01(hil):
            run = hil.run({str(ad01)!r}, inferences=1, warmup=0)
            assert run.matches_reference and run.fits_board
    """)
    results = tmp_path / "res"
    # a subprocess: the host interpreter's extension module cannot be imported twice in one process
    result = pytester.runpytest_subprocess("--hil-board", "qemu-m4", "--hil-board", "qemu-m3",
                                "--hil-results-dir", str(results), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*hilbench*", "*ad01_int8*qemu-m4*ok*", "*ad01_int8*qemu-m3*ok*",
                                 f"*2 run records written to {results / 'runs'}*"])
    records = [json.loads(p.read_text()) for p in (results / "runs").glob("*.json")]
    assert sorted(r["board"] for r in records) == ["qemu-m3", "qemu-m4"]
    assert all(r["schema"] == 1 and r["provenance"]["compiler"] for r in records)


@requires_qemu
@requires_cc
def test_the_summary_lists_every_record_under_xdist(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist", reason="pip install pytest-xdist (the dev extra)")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("seed", [1, 2])
        def test_tinycnn(hil, seed):
            from harness.runner import RunOptions
            assert hil.run("tinycnn", inferences=1, warmup=0, options=RunOptions(seed=seed)).ok
    """)
    results = tmp_path / "res"
    result = pytester.runpytest_subprocess("-n", "2", "--hil-results-dir", str(results), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*hilbench*", "*tinycnn*qemu-m4*ok*", "*tinycnn*qemu-m4*ok*",
                                 f"*2 run records written to {results / 'runs'}*"])
    assert sorted(json.loads(p.read_text())["seed"] for p in (results / "runs").glob("*.json")) == [1, 2]


@requires_qemu
@requires_cc
def test_cli_run_json_prints_the_record(tmp_path) -> None:
    ad01 = model_path("ad01_int8.tflite")
    out = CliRunner().invoke(main, ["run", str(ad01), "--board", "qemu-m4", "--inferences", "1", "--json",
                                    "--results-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)
    assert record["status"] == "ok" and record["matches_reference"] is True
    assert record["latency_source"] == "qemu-insn" and record["instructions_per_inference"] > 0
