"""The real boards (target "hardware"): their files load with the parts' limits, and the models build for them.

Only compile and link are checked here: the clock set-up and UART drivers these builds link
(``firmware/src/clock_*.c``, ``uart_stm32v2.c``, ``uart_nrf52.c``, ``uart_pl011.c``) have not run on
hardware yet.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from harness.boards import BoardSpec, ClockKind, Core, UartKind, load_board
from harness.errors import FitError
from harness.firmware.build import (
    BUILD_NOTES,
    BuildNote,
    BuildOptions,
    build_firmware,
    compile_flags,
    firmware_sources,
)
from harness.firmware.elfinfo import read_elf
from harness.model import load_model
from harness.model.zoo import resolve_model
from harness.targets.qemu import qemu_spec
from harness.types import FirmwareImage
from tests.conftest import model_path, requires_cc

KIB = 1024
# name -> (core, clock Hz, flash origin, flash bytes, RAM origin, RAM bytes, clock set-up, UART kind, UART base)
REAL = {
    "nucleo-l4r5zi": (Core.CORTEX_M4, 120_000_000, 0x0800_0000, 2048 * KIB, 0x2000_0000, 640 * KIB,
                      ClockKind.STM32L4, UartKind.STM32_LPUART, 0x4000_8000),
    "nucleo-h7a3zi-q": (Core.CORTEX_M7, 280_000_000, 0x0800_0000, 2048 * KIB, 0x2400_0000, 1024 * KIB,
                        ClockKind.STM32H7, UartKind.STM32V2, 0x4000_4800),
    "nucleo-f411re": (Core.CORTEX_M4, 100_000_000, 0x0800_0000, 512 * KIB, 0x2000_0000, 128 * KIB,
                      ClockKind.STM32F4, UartKind.STM32, 0x4000_4400),
    "nano33-ble-sense": (Core.CORTEX_M4, 64_000_000, 0x0001_0000, 960 * KIB, 0x2000_0000, 256 * KIB,
                         ClockKind.NRF52, UartKind.NRF52_UARTE, 0x4000_2000),
    "rpi-pico": (Core.CORTEX_M0PLUS, 133_000_000, 0x1000_0100, 2048 * KIB - 256, 0x2000_0000, 264 * KIB,
                 ClockKind.RP2040, UartKind.RP2040_UART, 0x4003_4000),
}
EMULATED = ("qemu-m3", "qemu-m4", "qemu-m7", "qemu-m55", "netduinoplus2", "nucleo-l4r5zi-emu", "microbit")


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_board_loads_with_the_parts_limits(name: str) -> None:
    board = load_board(name)
    core, hz, flash_origin, flash, ram_origin, ram, clock, uart, base = REAL[name]
    assert (board.core, board.clock_hz, board.flash_origin, board.flash_bytes) == (core, hz, flash_origin, flash)
    assert (board.ram_origin, board.ram_bytes, board.clock, board.uart_kind, board.uart_base) == (
        ram_origin, ram, clock, uart, base)
    assert qemu_spec(board) is None and board.target == "hardware"
    assert board.stack_bytes == 4 * KIB
    sources = [p.name for p in firmware_sources(board, [])]
    assert f"clock_{clock.value}.c" in sources and all(p.is_file() for p in firmware_sources(board, []))


@pytest.mark.parametrize("name", EMULATED)
def test_emulated_boards_keep_the_reset_clock(name: str) -> None:
    board = load_board(name)
    assert board.clock is ClockKind.NONE
    assert "clock_none.c" in [p.name for p in firmware_sources(board, [])]
    # no clock call in their start-up, no new -D: their builds (and qemu-m4's bench table) stay as they were
    assert not any("CLOCK_SETUP" in flag or "LPUART" in flag for flag in compile_flags(board, BuildOptions()))


@pytest.fixture(scope="module")
def models() -> dict[str, Path]:
    return {m: resolve_model(m).path for m in ("tinycnn", "ad01")}


def _build(model: Path, board: BoardSpec, model_id: str) -> FirmwareImage:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = build_firmware(load_model(model), board, model_id)
    notes = [w for w in caught if issubclass(w.category, BuildNote)]
    if board.clock in BUILD_NOTES:
        assert notes and "boot2" in str(notes[0].message) and board.name in str(notes[0].message)
    else:
        assert not notes
    return image


def _vector_table_address(elf: Path) -> int:
    with elf.open("rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        assert text is not None
        return int(text["sh_addr"])


@requires_cc
@pytest.mark.parametrize("model_id", ["tinycnn", "ad01"])
@pytest.mark.parametrize("name", sorted(REAL))
def test_models_build_for_the_real_boards(name: str, model_id: str, models: dict[str, Path]) -> None:
    board = load_board(name)
    image = _build(models[model_id], board, model_id)
    info = read_elf(image.elf_path)
    # the vector table opens .text at the flash origin (after the bootloader / boot2 where there is one)
    assert _vector_table_address(image.elf_path) == board.flash_origin
    assert info.symbols["vector_table"][0] == board.flash_origin
    assert board.flash_origin <= info.symbols["Reset_Handler"][0] < board.flash_origin + board.flash_bytes
    for symbol in ("bench_clock_init", "bench_clock_state", "bench_uart_init", "bench_uart_putc",
                   "bench_uart_getc"):
        assert symbol in info.symbols, symbol
    assert info.symbols["bench_clock_init"][1] > 4  # the family's set-up, not clock_none.c's empty function
    assert image.flash_bytes <= board.flash_bytes and image.ram_bytes <= board.ram_bytes
    assert board.stack_bytes <= image.stack_reserved_bytes < board.stack_bytes + 8  # ALIGN(8) before it
    assert f"-DBENCH_CPU_HZ={board.clock_hz}u" in image.cflags and "-DBENCH_CLOCK_SETUP=1" in image.cflags


@requires_cc
def test_lpuart_builds_with_its_own_brr_formula(models: dict[str, Path]) -> None:
    image = _build(models["tinycnn"], load_board("nucleo-l4r5zi"), "tinycnn")
    assert "-DBENCH_UART_LPUART=1" in image.cflags
    other = _build(models["tinycnn"], load_board("nucleo-h7a3zi-q"), "tinycnn")
    assert not any("LPUART" in f for f in other.cflags)


@requires_cc
@pytest.mark.parametrize("name", sorted(REAL))
def test_a_model_too_large_for_the_board_is_refused(name: str, models: dict[str, Path]) -> None:
    # tinycnn, ad01 and the other MLPerf Tiny models all fit every real board here: the refusal is
    # checked on each board's own description with its flash cut to 64 KiB (ad01's weights are ~270 KB)
    board = dataclasses.replace(load_board(name), flash_bytes=64 * KIB)
    with pytest.raises(FitError, match=rf"model ad01 does not fit board {name}"):
        build_firmware(load_model(models["ad01"]), board, "ad01")


def test_a_real_board_without_a_probe_attached_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hardware target is reached (the firmware builds for the board without semihosting), and no
    probe is the record's own failure class, with what to check."""
    from harness.runner import RunOptions, run_model
    from harness.targets import pyocd_probe

    monkeypatch.setattr(pyocd_probe, "_connected_probes", list)
    record = run_model(model_path("ad01_int8.tflite"), load_board("nucleo-l4r5zi"),
                       RunOptions(inferences=1, warmup=0))
    assert record.status == "probe-missing", record.error
    assert "no debug probe found" in (record.error or "")
    assert "-DBENCH_SEMIHOSTING=0" in record.provenance["cflags"]
