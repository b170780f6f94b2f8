"""Real boards: flashed and read through a debug probe, driven over the probe's serial port.

A board file's ``[hardware]`` section belongs to this backend (``parse_hardware_section``)::

    [hardware]
    pyocd_target = "stm32l4r5zitx"   # pyOCD's target type (built in, or from a CMSIS pack)
    pack = "STM32L4R5ZITx"           # the CMSIS pack part, when pyOCD has no built-in target
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.targets.backends import Backend


@dataclass(frozen=True)
class HardwareSpec:
    """A board's ``[hardware]`` section."""

    pyocd_target: str
    pack: str | None = None


def parse_hardware_section(table: dict[str, Any], where: str) -> HardwareSpec:
    """Validate a board file's ``[hardware]`` table; raises ``ConfigError`` naming the key and what is accepted."""
    target = table.pop("pyocd_target", None)
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{where}: 'pyocd_target' is {target!r}; expected pyOCD's target type of the part "
                          "(`pyocd list --targets` lists them), e.g. \"stm32l4r5zitx\"")
    pack = table.pop("pack", None)
    if pack is not None and (not isinstance(pack, str) or not pack.strip()):
        raise ConfigError(f"{where}: 'pack' is {pack!r}; expected the CMSIS pack part name, e.g. \"STM32L4R5ZITx\"")
    if table:
        raise ConfigError(f"{where}: unknown keys {sorted(table)}; expected 'pyocd_target', 'pack'")
    return HardwareSpec(target.strip(), pack.strip() if pack else None)


def hardware_spec(board: BoardSpec) -> HardwareSpec | None:
    spec = board.section("hardware")
    return spec if isinstance(spec, HardwareSpec) else None


def _not_yet(board: BoardSpec, **_settings: object) -> Any:
    raise ConfigError(f"board {board.name!r} is a real board, and hilbench cannot run real boards yet; "
                      f"`hilbench compile MODEL --board {board.name} -o DIR` writes a firmware project to build "
                      "with make and flash yourself")


BACKEND = Backend(name="hardware", factory=_not_yet, section="hardware", parse_section=parse_hardware_section,
                  description="a real board through a debug probe (pyOCD) and its serial port")
