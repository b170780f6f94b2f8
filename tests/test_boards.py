from __future__ import annotations

import pytest

from harness.boards import all_boards, load_board, parse_board
from harness.errors import ConfigError

GOOD = {"name": "x", "core": "cortex-m4", "clock_hz": 25_000_000,
        "memory": {"flash_origin": 0, "flash_bytes": 1024 * 1024, "ram_origin": 0x20000000, "ram_bytes": 65536},
        "uart": {"kind": "cmsdk", "base": 0x40004000, "clock_hz": 25_000_000}}


def test_every_required_board_loads_with_its_real_limits() -> None:
    boards = all_boards()
    assert {"qemu-m3", "qemu-m4", "qemu-m7", "qemu-m55", "netduinoplus2", "nucleo-l4r5zi-emu"} <= set(boards)
    nucleo = boards["nucleo-l4r5zi-emu"]
    assert (nucleo.clock_hz, nucleo.flash_bytes, nucleo.ram_bytes) == (120_000_000, 2 * 1024 * 1024, 640 * 1024)
    assert nucleo.qemu is not None and nucleo.qemu.machine == "mps2-an386" and nucleo.emulates == "nucleo-l4r5zi"
    assert boards["netduinoplus2"].uart_kind.value == "stm32" and boards["netduinoplus2"].ram_bytes == 192 * 1024


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown board 'nope'; expected one of \[.*'qemu-m4'"):
        load_board("nope")


@pytest.mark.parametrize("patch, message", [
    ({"core": "cortex-m99"}, r"unknown core 'cortex-m99'; expected one of \['cortex-m3'"),
    ({"clock_hz": "fast"}, r"'clock_hz' is 'fast'; expected a int"),
    ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ({"uart": {"kind": "pl011", "base": 1, "clock_hz": 1}}, r"unknown uart kind 'pl011'"),
])
def test_bad_board_files_name_the_key_and_value(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_board({**GOOD, **patch}, "test.toml")
