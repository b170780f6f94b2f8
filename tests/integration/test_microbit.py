"""Cortex-M0 on QEMU's microbit (nRF51: no DWT, nRF UART, 256 KB flash, 16 KB RAM) and the other small boards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.boards import Core, UartKind, load_board
from harness.errors import FitError
from harness.firmware.build import BuildOptions, compile_flags, generate_checked
from harness.model import load_model
from harness.runner import RunOptions, run_model
from harness.targets.qemu import qemu_spec
from tests.conftest import fc_dequantize_model, model_path, requires_cc, requires_qemu

TINYCNN_OPS = ["CONV_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]


def test_microbit_board_is_a_cortex_m0_with_an_nrf_uart() -> None:
    board = load_board("microbit")
    assert board.core is Core.CORTEX_M0 and board.fpu is None and board.clock_hz == 16_000_000
    assert (board.flash_origin, board.flash_bytes) == (0, 256 * 1024)
    assert (board.ram_origin, board.ram_bytes) == (0x2000_0000, 16 * 1024)
    assert board.uart_kind is UartKind.NRF and board.uart_base == 0x4000_2000
    assert (q := qemu_spec(board)) is not None and q.machine == "microbit"
    assert board.stack_bytes == 2048
    flags = compile_flags(board, BuildOptions())
    assert "-mcpu=cortex-m0" in flags and "-mfloat-abi=soft" in flags


def test_a_model_too_large_for_the_microbit_is_refused_up_front() -> None:
    board = load_board("microbit")
    with pytest.raises(FitError, match="does not fit board microbit") as info:
        generate_checked(load_model(model_path("ad01_int8.tflite")), board, "ad01")
    assert "262144 bytes of flash" in str(info.value) and "16384 bytes of RAM" in str(info.value)
    run = run_model(model_path("ad01_int8.tflite"), board, RunOptions())
    assert run.status == "build" and "does not fit board microbit" in (run.error or "")
    assert run.flash_bytes is None  # nothing was built


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_tinycnn_on_the_microbit_is_bit_exact_and_deterministic() -> None:
    board = load_board("microbit")
    run = run_model("tinycnn", board, RunOptions(inferences=2, warmup=1))
    assert run.status == "ok", run.error
    assert run.matches_reference and run.output_hex == run.reference_hex
    assert run.fits_board is True
    assert run.flash_bytes is not None and run.flash_bytes <= board.flash_bytes
    assert run.ram_bytes is not None and run.ram_bytes <= board.ram_bytes
    assert run.latency_source == "qemu-insn"
    assert len(run.instructions_timed) == 2 and len(set(run.instructions_timed)) == 1
    assert [l["op"] for l in run.layers] == TINYCNN_OPS and all(l["instructions"] > 0 for l in run.layers)
    reserved = run.stack_reserved_bytes or 0
    assert reserved >= board.stack_bytes
    assert run.stack_bytes is not None and 0 < run.stack_bytes <= reserved // 2   # well under the reserve


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_microbit_icount_fallback_agrees_with_the_plugin() -> None:
    # SysTick runs at the 16 MHz processor clock under -icount shift=0 (boards/microbit.toml)
    board = load_board("microbit")
    exact = run_model("tinycnn", board, RunOptions(inferences=1, warmup=0))
    approx = run_model("tinycnn", board, RunOptions(inferences=1, warmup=0, counter="icount"))
    assert approx.status == "ok", approx.error
    assert approx.latency_source == "qemu-icount"
    assert exact.instructions_per_inference and approx.instructions_per_inference
    assert abs(approx.instructions_per_inference - exact.instructions_per_inference) < 0.01 * exact.instructions_per_inference


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_a_hardfault_on_the_m0_is_reported_by_the_thumb1_handler() -> None:
    # test hook 1 on ARMv6-M: an unaligned `str`, which QEMU's M0 traps as the silicon does; so the
    # bit-exact runs above also show that the kernels make no unaligned word access on the M0
    run = run_model("tinycnn", load_board("microbit"), RunOptions(inferences=1, warmup=0,
                                                                  build=BuildOptions(test_hook=1)))
    assert run.status == "fault", run.error
    error = run.error or ""
    assert "exception=0x00000003" in error and "pc=0x" in error and "exc_return=0xfffffff9" in error
    assert "cfsr=" not in error  # ARMv6-M has no configurable fault status registers


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_float32_output_on_the_m0_is_copied_bytewise_and_exact(tmp_path: Path) -> None:
    # DEQUANTIZE writes float32 into the byte arena by memcpy: the M0 (and QEMU, see the test above)
    # faults on an unaligned word access, so the copies must be byte accesses there
    model = fc_dequantize_model(tmp_path)
    run = run_model(model, load_board("microbit"), RunOptions(inferences=1, warmup=0))
    assert run.status == "ok", run.error
    assert run.matches_reference and len(bytes.fromhex(run.output_hex or "")) == 16


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_a_cortex_m0plus_build_runs_bit_exact_on_the_microbit_machine() -> None:
    # same ISA (ARMv6-M); QEMU's microbit core stands in for an M0+ part's code
    board = dataclasses.replace(load_board("microbit"), name="microbit-m0plus", core=Core.CORTEX_M0PLUS)
    run = run_model("tinycnn", board, RunOptions(inferences=1, warmup=0))
    assert run.status == "ok", run.error
    assert run.matches_reference and "-mcpu=cortex-m0plus" in run.provenance["cflags"]


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_tinycnn_on_netduinoplus2_stm32_usart_is_bit_exact() -> None:
    run = run_model("tinycnn", load_board("netduinoplus2"), RunOptions(inferences=2, warmup=1))
    assert run.status == "ok", run.error
    assert run.matches_reference and run.fits_board is True
    assert len(set(run.instructions_timed)) == 1
    assert [l["op"] for l in run.layers] == TINYCNN_OPS
