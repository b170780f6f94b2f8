"""Energy mode and the firmware's timing report, without QEMU: board tables, build options, drivers, parser.

Energy mode (DESIGN §5) replaces each timestamp's ``m-lap-us`` line with a >= 1 µs low pulse on the
board's ``[timestamp_gpio]`` pin. The runs under QEMU are in tests/integration/test_energy_mode_qemu.py.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest

from harness.boards import BOARDS_DIR, ClockKind, GpioKind, TimestampGpio, all_boards, load_board, parse_board
from harness.errors import ConfigError, FirmwareOutputError
from harness.firmware.build import (
    FIRMWARE_DIR,
    BuildOptions,
    build_firmware,
    compile_flags,
    find_compiler,
    firmware_sources,
)
from harness.firmware.elfinfo import read_elf
from harness.model import load_model
from harness.model.zoo import resolve_model
from harness.protocol import FirmwareTiming, parse_timing
from tests.conftest import requires_cc

# the real boards and the pin each one pulses (their board files say which header pin and which document)
REAL_PINS = {
    "nucleo-l4r5zi": TimestampGpio(GpioKind.STM32, "F", 13),
    "nucleo-h7a3zi-q": TimestampGpio(GpioKind.STM32, "F", 13),
    "nucleo-f411re": TimestampGpio(GpioKind.STM32, "A", 8),
    "nano33-ble-sense": TimestampGpio(GpioKind.NRF52, 1, 11),
    "rpi-pico": TimestampGpio(GpioKind.RP2040, 0, 2),
}


def _qemu_m4_with(gpio: dict[str, Any] | None) -> dict[str, Any]:
    data = tomllib.loads((BOARDS_DIR / "qemu-m4.toml").read_text(encoding="utf-8"))
    data.pop("timestamp_gpio", None)
    if gpio is not None:
        data["timestamp_gpio"] = gpio
    return data


# -- the m-hil-timing parser -------------------------------------------------------------------------

def test_a_timing_line_is_parsed_into_its_fields() -> None:
    line = "m-hil-timing clock_source=dwt cpu_hz=120000000 inferences=3 cycles=18446744073709551615,7,8"
    assert parse_timing(line) == FirmwareTiming("dwt", 120_000_000, 3, (2**64 - 1, 7, 8))
    assert parse_timing("m-hil-timing clock_source=systick cpu_hz=25000000 inferences=0 cycles=") == \
        FirmwareTiming("systick", 25_000_000, 0, ())
    many = ",".join(["5"] * 32)  # the firmware keeps the first 32
    line = f"m-hil-timing clock_source=systick cpu_hz=1000000 inferences=40 cycles={many}"
    assert parse_timing(line).cycles == (5,) * 32


@pytest.mark.parametrize("line", [
    "m-hil-timing clock_source=rtc cpu_hz=25000000 inferences=1 cycles=5",         # unknown source
    "m-hil-timing clock_source=dwt cpu_hz=0 inferences=1 cycles=5",                # no clock
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=2 cycles=5",         # one count short
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1 cycles=5,6",       # one too many
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1 cycles=-5",        # not a count
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1 cycles=5,",        # trailing comma
    "m-hil-timing clock_source=dwt cpu_hz=25000000 cycles=5 inferences=1",         # fields out of order
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1 cycles=5 extra=1",  # an unknown field
    "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1",                  # no cycles
])
def test_a_malformed_timing_line_is_refused_with_the_line(line: str) -> None:
    with pytest.raises(FirmwareOutputError) as info:
        parse_timing(line)
    assert line[:40] in str(info.value.line)


# -- [timestamp_gpio] in board files -----------------------------------------------------------------

def test_the_real_boards_and_qemu_m4_have_their_timestamp_pins() -> None:
    for name, gpio in REAL_PINS.items():
        assert load_board(name).timestamp_gpio == gpio, name
    assert load_board("qemu-m4").timestamp_gpio == TimestampGpio(GpioKind.NONE)
    assert load_board("qemu-m3").timestamp_gpio is None  # optional


@pytest.mark.parametrize(("gpio", "message"), [
    ({"kind": "gpiochip"}, r"unknown timestamp_gpio kind 'gpiochip'; expected one of \['none', 'nrf52', "),
    ({"kind": "stm32", "port": "Z", "pin": 1}, r"\[timestamp_gpio\]: port 'Z' for kind 'stm32'; expected one of"),
    ({"kind": "stm32", "port": 5, "pin": 1}, r"\[timestamp_gpio\]: 'port' is 5; expected a str"),
    ({"kind": "stm32", "port": "F", "pin": 16}, r"pin 16 for kind 'stm32'; expected 0 to 15"),
    ({"kind": "nrf52", "port": 2, "pin": 3}, r"port 2 for kind 'nrf52'; expected one of \[0, 1\]"),
    ({"kind": "rp2040", "pin": 30}, r"pin 30 for kind 'rp2040'; expected 0 to 29"),
    ({"kind": "stm32", "port": "F"}, r"\[timestamp_gpio\]: missing key 'pin'"),
    ({"kind": "none", "pin": 3}, r"\[timestamp_gpio\]: unknown keys \['pin'\]"),
    ({"kind": "nrf52", "port": 0, "pin": 3, "level": "low"}, r"unknown keys \['level'\]"),
])
def test_a_bad_timestamp_gpio_table_names_the_board_key_and_what_is_accepted(gpio: dict[str, Any],
                                                                            message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_board(_qemu_m4_with(gpio), "qemu-m4.toml")
    assert "board 'qemu-m4' (qemu-m4.toml)" in str(info.value)


# -- build options -----------------------------------------------------------------------------------

def test_energy_mode_reaches_the_build_as_defines_and_performance_builds_stay_as_they_were() -> None:
    m4 = load_board("qemu-m4")
    off = compile_flags(m4, BuildOptions())
    assert not any("ENERGY" in f or "BENCH_TS_" in f for f in off)
    assert "-DBENCH_ENERGY_MODE=1" in compile_flags(m4, BuildOptions(energy_mode="inference"))
    assert "-DBENCH_ENERGY_MODE=2" in compile_flags(m4, BuildOptions(energy_mode="layer"))
    assert [p.name for p in firmware_sources(m4, [])] == [p.name for p in firmware_sources(m4, [], "off")]
    assert {"energy.c", "gpio_none.c"} <= {p.name for p in firmware_sources(m4, [], "layer")}
    l4 = compile_flags(load_board("nucleo-l4r5zi"), BuildOptions(energy_mode="inference"))
    # PF13: GPIOF = GPIOA + 5 x 0x400, clocked by RCC_AHB2ENR bit 5 (RM0432)
    assert {"-DBENCH_TS_GPIO_BASE=0x48001400u", "-DBENCH_TS_RCC_ENR=0x4002104cu", "-DBENCH_TS_RCC_BIT=5u",
            "-DBENCH_TS_GPIO_PIN=13u"} <= set(l4)
    nano = compile_flags(load_board("nano33-ble-sense"), BuildOptions(energy_mode="inference"))
    assert {"-DBENCH_TS_GPIO_BASE=0x50000300u", "-DBENCH_TS_GPIO_PIN=11u"} <= set(nano)


def test_energy_mode_on_a_board_without_the_table_is_refused_and_says_to_add_it() -> None:
    with pytest.raises(ConfigError) as info:
        compile_flags(load_board("qemu-m3"), BuildOptions(energy_mode="layer"))
    text = str(info.value)
    assert "board 'qemu-m3' has no [timestamp_gpio] table, so it cannot build energy mode 'layer'" in text
    assert "add one to" in text and "qemu-m3.toml" in text and "kind = \"none\"" in text
    with pytest.raises(ConfigError, match=r"energy mode 'burst'; expected one of \['off', 'inference', 'layer'\]"):
        compile_flags(load_board("qemu-m4"), BuildOptions(energy_mode="burst"))
    not_stm32 = dataclasses.replace(load_board("nucleo-l4r5zi"), clock=ClockKind.NONE)
    with pytest.raises(ConfigError, match=r"kind 'stm32' needs the board's clock to name its family, one of "):
        compile_flags(not_stm32, BuildOptions(energy_mode="inference"))


@requires_cc
def test_energy_mode_is_part_of_the_builds_content_hash() -> None:
    graph, board = load_model(resolve_model("tinycnn").path), load_board("qemu-m4")
    images = {m: build_firmware(graph, board, "tinycnn", BuildOptions(energy_mode=m))
              for m in ("off", "inference", "layer")}
    assert len({im.elf_path.parent for im in images.values()}) == 3
    assert "hil_mark_timestamp" not in images["off"].markers
    assert all("hil_mark_timestamp" in images[m].markers for m in ("inference", "layer"))


# -- the real boards ---------------------------------------------------------------------------------

def _gpio_boards() -> list[str]:
    return sorted(n for n, b in all_boards().items()
                  if b.timestamp_gpio is not None and b.timestamp_gpio.kind is not GpioKind.NONE)


def test_every_real_board_has_a_timestamp_pin() -> None:
    assert set(REAL_PINS) <= set(_gpio_boards())


@requires_cc
@pytest.mark.parametrize("name", _gpio_boards())
def test_real_boards_build_tinycnn_in_per_layer_energy_mode(name: str) -> None:
    board = load_board(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rpi-pico's boot2 note (tests/test_real_boards.py checks it)
        image = build_firmware(load_model(resolve_model("tinycnn").path), board, "tinycnn",
                               BuildOptions(energy_mode="layer"))
    symbols = read_elf(image.elf_path).symbols
    assert board.timestamp_gpio is not None
    assert {"-DBENCH_ENERGY_MODE=2", f"-DBENCH_TS_GPIO_PIN={board.timestamp_gpio.pin}u"} <= set(image.cflags)
    assert "hil_mark_timestamp" in image.markers and "bench_timestamp_pulse" in symbols
    assert symbols["bench_gpio_init"][1] > 4  # the board's driver, not gpio_none.c's empty function
    assert image.flash_bytes <= board.flash_bytes and image.ram_bytes <= board.ram_bytes


@requires_cc
def test_the_gpio_drivers_compile_without_warnings(tmp_path: Path) -> None:
    """Every gpio_<kind>.c, with energy.c and the files they touch, under -Werror for a board of its kind."""
    boards = {b.timestamp_gpio.kind: b for b in all_boards().values() if b.timestamp_gpio is not None}
    drivers = {p.stem.removeprefix("gpio_") for p in (FIRMWARE_DIR / "src").glob("gpio_*.c")}
    assert drivers == {k.value for k in GpioKind} == {k.value for k in boards}
    cc = find_compiler()
    for kind, board in sorted(boards.items()):
        flags = compile_flags(board, BuildOptions(energy_mode="layer"))
        for name in (f"gpio_{kind.value}.c", "energy.c", "markers.c", "timer.c", "io.c"):
            cmd = [cc, *flags, "-Werror", f"-I{FIRMWARE_DIR / 'include'}", "-c", str(FIRMWARE_DIR / "src" / name),
                   "-o", str(tmp_path / f"{kind.value}-{name}.o")]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, f"{name} for {board.name}:\n{proc.stderr[-2000:]}"
