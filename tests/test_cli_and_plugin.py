"""The `hilbench` command and the pytest plugin's contract (options, a full run that writes a record)."""

from __future__ import annotations

import json

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
    result.stderr.fnmatch_lines(["*--hil-inferences*0 must be >= 1*"])


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
def test_cli_run_json_prints_the_record(tmp_path) -> None:
    ad01 = model_path("ad01_int8.tflite")
    out = CliRunner().invoke(main, ["run", str(ad01), "--board", "qemu-m4", "--inferences", "1", "--json",
                                    "--results-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)
    assert record["status"] == "ok" and record["matches_reference"] is True
    assert record["latency_source"] == "qemu-insn" and record["instructions_per_inference"] > 0
