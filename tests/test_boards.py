from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.boards import all_boards, load_board, parse_board, scan_boards
from harness.errors import ConfigError
from harness.targets.qemu import qemu_spec

GOOD = {"name": "x", "core": "cortex-m4", "clock_hz": 25_000_000,
        "memory": {"flash_origin": 0, "flash_bytes": 1024 * 1024, "ram_origin": 0x20000000, "ram_bytes": 65536},
        "uart": {"kind": "cmsdk", "base": 0x40004000, "clock_hz": 25_000_000}}


def test_every_required_board_loads_with_its_real_limits() -> None:
    boards = all_boards()
    assert {"qemu-m3", "qemu-m4", "qemu-m7", "qemu-m55", "netduinoplus2", "nucleo-l4r5zi-emu", "microbit"} <= set(boards)
    nucleo = boards["nucleo-l4r5zi-emu"]
    assert (nucleo.clock_hz, nucleo.flash_bytes, nucleo.ram_bytes) == (120_000_000, 2 * 1024 * 1024, 640 * 1024)
    assert (q := qemu_spec(nucleo)) is not None and q.machine == "mps2-an386" and nucleo.emulates == "nucleo-l4r5zi"
    assert boards["netduinoplus2"].uart_kind.value == "stm32" and boards["netduinoplus2"].ram_bytes == 192 * 1024


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown board 'nope'; expected one of \[.*'qemu-m4'"):
        load_board("nope")


@pytest.mark.parametrize("patch, message", [
    ({"core": "cortex-m99"}, r"unknown core 'cortex-m99'; expected one of \['cortex-m0', 'cortex-m0plus', 'cortex-m3'"),
    ({"clock_hz": "fast"}, r"'clock_hz' is 'fast'; expected a int"),
    ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ({"uart": {"kind": "pl011", "base": 1, "clock_hz": 1}}, r"unknown uart kind 'pl011'"),
])
def test_bad_board_files_name_the_key_and_value(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_board({**GOOD, **patch}, "test.toml")


# -- numbers a board file may hold (TOML reads nan, inf and 64-bit integers) -----------------------------

def _with(section: str, **values: object) -> dict[str, object]:
    if not section:
        return {**GOOD, **values}
    return {**GOOD, section: {**GOOD.get(section, {}), **values}}  # type: ignore[dict-item]


@pytest.mark.parametrize("data, message", [
    (_with("power", active_mw=float("nan")), r"active_mw is nan; expected a finite number > 0"),
    (_with("power", active_mw=float("inf")), r"active_mw is inf; expected a finite number > 0"),
    (_with("power", active_mw=-5), r"active_mw is -5.0; expected a finite number > 0"),
    (_with("power", active_mw=0), r"active_mw is 0.0; expected a finite number > 0"),
    (_with("memory", flash_origin=0xFFFFFFFFFFFF),
     r"flash_origin is 0xffffffffffff; expected a 32-bit address \(below 0x100000000\)"),
    (_with("memory", ram_origin=1 << 32), r"ram_origin is 0x100000000; expected a 32-bit address"),
    (_with("memory", flash_bytes=2**63 - 1), r"flash_origin 0x0 \+ flash_bytes 9223372036854775807 ends at"),
    (_with("memory", flash_origin=0xFFFF0000, flash_bytes=0x20000),
     r"flash_origin 0xffff0000 \+ flash_bytes 131072 ends at 0x100010000; expected the region to end at or below "),
    (_with("memory", ram_bytes=2**40), r"ram_origin 0x20000000 \+ ram_bytes 1099511627776 ends at"),
    (_with("memory", stack_bytes=2**40), r"stack_bytes 1099511627776 leaves no RAM of 65536"),
    (_with("uart", base=2**40), r"uart_base is 0x10000000000; expected a 32-bit address"),
    (_with("uart", base=0x40004001), r"uart base 0x40004001; expected a multiple of 4"),
    (_with("", clock_hz=2**62), r"clock_hz is 4611686018427387904; expected 1 to 2000000000 Hz"),
    (_with("uart", clock_hz=2**40), r"uart clock_hz is 1099511627776; expected 1 to 2000000000 Hz"),
    (_with("uart", baud=2**40), r"baud 1099511627776 with a uart clock_hz of 25000000; expected at most 1562500"),
    (_with("qemu", machine="mps2-an386", icount_systick_hz=2**40),
     r"\[qemu\]: 'icount_systick_hz' is 1099511627776; expected 1 to 2000000000 Hz"),
])
def test_numbers_outside_the_32_bit_part_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_board(data, "test.toml")


def test_the_largest_region_that_fits_loads() -> None:
    spec = parse_board(_with("memory", flash_origin=0, flash_bytes=1 << 31, ram_origin=0xF0000000,
                             ram_bytes=0x10000000), "test.toml")
    assert spec.ram_origin + spec.ram_bytes == 1 << 32


# -- board files: encoding, one bad file among good ones, names and paths ----------------------------------

GOOD_TOML = """name = "{name}"
core = "cortex-m4"
clock_hz = 25_000_000
[memory]
flash_origin = 0
flash_bytes = 1_048_576
ram_origin = 0x20000000
ram_bytes = 65_536
[uart]
kind = "cmsdk"
base = 0x40004000
clock_hz = 25_000_000
"""


def _boards_dir(tmp_path: Path) -> Path:
    boards = tmp_path / "boards"
    boards.mkdir()
    for name in ("alpha", "omega"):
        (boards / f"{name}.toml").write_text(GOOD_TOML.format(name=name))
    return boards


def test_a_board_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    boards = _boards_dir(tmp_path)
    (boards / "latin.toml").write_bytes(GOOD_TOML.format(name="latin").encode() + b'description = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"board file .*latin\.toml: cannot read it: 'utf-8' codec"):
        load_board("latin", boards)
    scan = scan_boards(boards)
    assert sorted(scan.boards) == ["alpha", "omega"]
    assert len(scan.errors) == 1 and "latin.toml" in str(scan.errors[0])


def test_a_name_never_reaches_outside_the_boards_folder(tmp_path: Path) -> None:
    boards = _boards_dir(tmp_path)
    (tmp_path / "x.toml").write_text(GOOD_TOML.format(name="x"))
    for name in ("../x", str(tmp_path / "x"), "..", ".hidden", "a/../alpha"):
        with pytest.raises(ConfigError, match=rf"unknown board {re.escape(repr(name))}; expected one of "
                                              r"\['alpha', 'omega'\] or the path of a board file ending in "
                                              r"\.toml"):
            load_board(name, boards)


def test_a_path_ending_in_toml_is_a_users_board_file(tmp_path: Path) -> None:
    boards = _boards_dir(tmp_path)
    mine = tmp_path / "elsewhere" / "mine.toml"
    mine.parent.mkdir()
    mine.write_text(GOOD_TOML.format(name="mine"))
    spec = load_board(str(mine), boards)
    assert spec.name == "mine" and spec.source == str(mine)
    with pytest.raises(ConfigError, match=r"board file .*missing\.toml: not found or not a regular file"):
        load_board(str(tmp_path / "missing.toml"), boards)


def test_a_users_board_file_may_not_take_a_known_boards_name(tmp_path: Path) -> None:
    boards = _boards_dir(tmp_path)
    (tmp_path / "alpha.toml").write_text(GOOD_TOML.format(name="alpha").replace("65_536", "1_024"))
    with pytest.raises(ConfigError, match=r"'alpha' is the name of a board in .*; give the file and its board "
                                          "another name"):
        load_board(str(tmp_path / "alpha.toml"), boards)
