"""Board definitions: ``boards/*.toml`` validated into frozen ``BoardSpec`` values.

A board file is data only (DESIGN §3). It is checked once, here, when loaded;
the rest of the harness trusts a ``BoardSpec``.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BOARDS_DIR = Path(__file__).resolve().parent.parent / "boards"
DEFAULT_BOARD = "qemu-m4"


class Core(str, enum.Enum):
    CORTEX_M3 = "cortex-m3"
    CORTEX_M4 = "cortex-m4"
    CORTEX_M7 = "cortex-m7"
    CORTEX_M33 = "cortex-m33"
    CORTEX_M55 = "cortex-m55"


class UartKind(str, enum.Enum):
    CMSDK = "cmsdk"
    STM32 = "stm32"


@dataclass(frozen=True)
class QemuSpec:
    machine: str
    icount_systick_hz: int | None = None  # SysTick rate under -icount shift=0, for the fallback timer


@dataclass(frozen=True)
class BoardSpec:
    """One board: its core, clock, the real part's memory limits and its UART."""

    name: str
    description: str
    core: Core
    fpu: str | None
    clock_hz: int
    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int
    stack_bytes: int
    uart_kind: UartKind
    uart_base: int
    uart_clock_hz: int
    baud: int
    qemu: QemuSpec | None
    emulates: str | None = None
    active_power_mw: float | None = None  # an estimate, for energy estimates
    source: str = ""

    @property
    def target(self) -> str:
        return "qemu" if self.qemu is not None else "hardware"


def _take(table: dict[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key {key!r}")
        return default
    value = table.pop(key)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where}: {key!r} is {value!r}; expected a {kind.__name__}")
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"{where}: {key!r} is {value}; expected a number >= 0")
    return value


def _enum(enum_type: type[enum.Enum], value: str, key: str, where: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        accepted = sorted(e.value for e in enum_type)
        raise ConfigError(f"{where}: unknown {key} {value!r}; expected one of {accepted}") from None


def _no_extra(table: dict[str, Any], where: str) -> None:
    if table:
        raise ConfigError(f"{where}: unknown keys {sorted(table)}")


def parse_board(data: dict[str, Any], source: str) -> BoardSpec:
    """Validate one board table (as read from TOML) into a ``BoardSpec``; raises ``ConfigError``."""
    data = dict(data)
    where = f"board file {source}"
    name = _take(data, "name", str, where)
    where = f"board {name!r} ({source})"
    memory = dict(_take(data, "memory", dict, where))
    uart = dict(_take(data, "uart", dict, where))
    qemu_table = _take(data, "qemu", dict, where, None)
    power = dict(_take(data, "power", dict, where, {}))
    qemu = None
    if qemu_table is not None:
        qemu_table = dict(qemu_table)
        qemu = QemuSpec(
            machine=_take(qemu_table, "machine", str, f"{where} [qemu]"),
            icount_systick_hz=_take(qemu_table, "icount_systick_hz", int, f"{where} [qemu]", None),
        )
        _no_extra(qemu_table, f"{where} [qemu]")
    spec = BoardSpec(
        name=name,
        description=_take(data, "description", str, where, ""),
        core=_enum(Core, _take(data, "core", str, where), "core", where),
        fpu=_take(data, "fpu", str, where, None),
        clock_hz=_take(data, "clock_hz", int, where),
        emulates=_take(data, "emulates", str, where, None),
        flash_origin=_take(memory, "flash_origin", int, f"{where} [memory]"),
        flash_bytes=_take(memory, "flash_bytes", int, f"{where} [memory]"),
        ram_origin=_take(memory, "ram_origin", int, f"{where} [memory]"),
        ram_bytes=_take(memory, "ram_bytes", int, f"{where} [memory]"),
        stack_bytes=_take(memory, "stack_bytes", int, f"{where} [memory]", 8192),
        uart_kind=_enum(UartKind, _take(uart, "kind", str, f"{where} [uart]"), "uart kind", where),
        uart_base=_take(uart, "base", int, f"{where} [uart]"),
        uart_clock_hz=_take(uart, "clock_hz", int, f"{where} [uart]"),
        baud=_take(uart, "baud", int, f"{where} [uart]", 115200),
        qemu=qemu,
        active_power_mw=_take(power, "active_mw", float, f"{where} [power]", None),
        source=source,
    )
    for sub, table in (("", data), (" [memory]", memory), (" [uart]", uart), (" [power]", power)):
        _no_extra(table, where + sub)
    for key in ("clock_hz", "flash_bytes", "ram_bytes", "uart_clock_hz", "baud", "stack_bytes"):
        if getattr(spec, key) <= 0:
            raise ConfigError(f"{where}: {key} is {getattr(spec, key)}; expected a number > 0")
    if spec.stack_bytes >= spec.ram_bytes:
        raise ConfigError(f"{where}: stack_bytes {spec.stack_bytes} leaves no RAM of {spec.ram_bytes}")
    if spec.clock_hz % 1_000_000:
        raise ConfigError(f"{where}: clock_hz {spec.clock_hz} must be a whole number of MHz")
    return spec


def load_board_file(path: Path) -> BoardSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"board file {path}: cannot read it: {exc}") from exc
    spec = parse_board(data, str(path))
    if spec.name != path.stem:
        raise ConfigError(f"board file {path}: name {spec.name!r} differs from the file name {path.stem!r}")
    return spec


def all_boards(boards_dir: Path = BOARDS_DIR) -> dict[str, BoardSpec]:
    """Every board in ``boards_dir``, by name."""
    return {p.stem: load_board_file(p) for p in sorted(boards_dir.glob("*.toml"))}


def load_board(name: str, boards_dir: Path = BOARDS_DIR) -> BoardSpec:
    """The board called ``name``; raises ``ConfigError`` naming the boards that exist."""
    path = boards_dir / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in boards_dir.glob("*.toml"))
        raise ConfigError(f"unknown board {name!r}; expected one of {known}")
    return load_board_file(path)
