"""Real firmware booted in QEMU: real numbers, real failures, each ending in a record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.firmware.build import BuildOptions
from harness.runner import RunOptions, run_model
from harness.session import HilSession
from tests.conftest import model_path, requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]

# sha256 of the host interpreter's ad01 output on default_rng(0) input (../shared/models/README.md)
AD01_RAND_OUTPUT_SHA256 = "a13b59f9b51521f45a97caba49150dd6b8ef5490b68b415015add1c126f95fea"


@pytest.fixture(scope="module")
def ad01() -> Path:
    return model_path("ad01_int8.tflite")


def test_ad01_on_qemu_m4_is_bit_exact_and_deterministic(ad01: Path) -> None:
    board = load_board("qemu-m4")
    first = run_model(ad01, board, RunOptions(inferences=3, warmup=1))
    second = run_model(ad01, board, RunOptions(inferences=2, warmup=0))
    assert first.status == "ok", first.error
    assert first.matches_reference and first.output_hex == first.reference_hex
    assert hashlib.sha256(bytes.fromhex(first.output_hex or "")).hexdigest() == AD01_RAND_OUTPUT_SHA256
    assert first.latency_source == "qemu-insn" and first.latency_estimated is True
    assert len(set(first.instructions_timed)) == 1            # every timed inference counts the same
    assert second.instructions_per_inference == first.instructions_per_inference  # and so does a rerun
    assert second.provenance["firmware_cached"] is True
    assert [l["op"] for l in first.layers] == ["FULLY_CONNECTED"] * 10
    assert sum(l["instructions"] for l in first.layers) <= first.instructions_per_inference
    assert first.macs == 264_192 and first.arena_bytes is not None and first.arena_bytes <= 2_064
    assert first.weights_bytes is not None and first.weights_bytes >= 264_192
    assert first.code_bytes is not None and 0 < first.code_bytes < 20_000
    assert first.stack_bytes is not None and 0 < first.stack_bytes < (first.stack_reserved_bytes or 0)
    assert first.fits_board is True and first.flash_bytes is not None and first.flash_bytes > first.weights_bytes


def test_tinycnn_with_conv_reshape_softmax_on_qemu_m7() -> None:
    run = run_model("tinycnn", load_board("qemu-m7"), RunOptions(inferences=2, warmup=0))
    assert run.status == "ok", run.error
    assert run.matches_reference
    assert [l["op"] for l in run.layers] == ["CONV_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED",
                                             "FULLY_CONNECTED", "SOFTMAX"]
    assert all(l["instructions"] > 0 for l in run.layers)


def test_icount_fallback_agrees_with_the_plugin(ad01: Path) -> None:
    board = load_board("qemu-m4")
    exact = run_model(ad01, board, RunOptions(inferences=1, warmup=0))
    approx = run_model(ad01, board, RunOptions(inferences=1, warmup=0, counter="icount"))
    assert approx.status == "ok", approx.error
    assert approx.latency_source == "qemu-icount"
    assert exact.instructions_per_inference and approx.instructions_per_inference
    assert abs(approx.instructions_per_inference - exact.instructions_per_inference) < 0.01 * exact.instructions_per_inference


def test_hardfault_becomes_a_fault_record_with_registers(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0,
                                                            build=BuildOptions(test_hook=1)))
    assert run.status == "fault"
    assert "pc=0x" in (run.error or "") and "cfsr=0x" in (run.error or "")
    assert run.instructions_per_inference is None


def test_hung_firmware_times_out_with_the_last_lines(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0, timeout_s=2.0,
                                                            build=BuildOptions(test_hook=2)))
    assert run.status == "timeout"
    assert "m-infer-start" in (run.error or "") or "m-warmup" in (run.error or "")


def test_garbage_on_the_serial_line_is_a_clear_error(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(build=BuildOptions(test_hook=3)))
    assert run.status == "measurement"
    assert "garbage on the serial line" in (run.error or "")


def test_model_too_large_is_refused_before_building(ad01: Path) -> None:
    small = dataclasses.replace(load_board("qemu-m4"), name="tiny-board", flash_bytes=128 * 1024)
    run = run_model(ad01, small, RunOptions())
    assert run.status == "build"
    assert "does not fit board tiny-board" in (run.error or "")
    assert "131072 bytes of flash" in (run.error or "") and "needs about" in (run.error or "")
    assert run.flash_bytes is None  # nothing was built


def test_missing_cross_compiler_says_how_to_install(ad01: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    run = run_model(ad01, load_board("qemu-m4"), RunOptions())
    assert run.status == "build"
    assert "arm-none-eabi-gcc" in (run.error or "") and "apt-get install gcc-arm-none-eabi" in (run.error or "")


def test_a_failing_run_does_not_lose_the_others(ad01: Path, tmp_path: Path) -> None:
    session = HilSession(results_dir=tmp_path, inferences=1, warmup=0)
    bad = session.run(ad01, "qemu-m4", options=RunOptions(build=BuildOptions(test_hook=1)))
    good = session.run(ad01, "qemu-m4")
    assert (bad.status, good.status) == ("fault", "ok")
    stored = sorted(json.loads(p.read_text())["status"] for p in (tmp_path / "runs").glob("*.json"))
    assert stored == ["fault", "ok"]
