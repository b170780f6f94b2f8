"""Board definitions: ``boards/*.toml`` validated into frozen ``BoardSpec`` values.

A board file is data only (DESIGN §3). It is checked once, here, when loaded;
the rest of the harness trusts a ``BoardSpec``: addresses and sizes fit the
32-bit address space, clocks are whole MHz up to ``MAX_CLOCK_HZ``, the UART
divisor is at least 16, and the power figure is finite and positive.

A board is named two ways (``load_board``): by name, a file in the built-in
``boards/`` (``qemu-m4`` is ``boards/qemu-m4.toml``) or in the user's own
folder of board files (``--hil-boards-dir``, ``--boards-dir``), a name never
reaching outside those folders; or by a path ending in ``.toml``, a user's own
board file. ``BoardSpec.source`` keeps the file's path, which the run record's
``provenance.board_file`` reports.

A board file has the board's own tables (``[memory]``, ``[uart]``, ``[power]``,
``[timestamp_gpio]``) and one section per target backend that can run it
(``[qemu]``, ``[hardware]``, a user's backend's own): each such section is
handed to the backend that owns it, which validates it
(``harness.targets.backends``); ``BoardSpec.section(name)`` gives what it
parsed. ``target = "..."`` picks the backend that runs the board; without it,
the backend of the first section does, and a file with none is a real board
(``hardware``).

A board's name means one board: the records, comparisons and reports know a
board by its name alone. So a user's board file may not take a built-in
board's name (no shadowing): it is refused with both files named, when that
board is asked for and in ``scan_boards`` (``hilbench boards``). Copy the
built-in file under a name of your own instead.
"""

from __future__ import annotations

import enum
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import BOARDS_DIR as BOARDS_DIR  # noqa: PLC0414  (re-exported for mypy --strict)

DEFAULT_BOARD = "qemu-m4"
ADDRESS_SPACE = 1 << 32               # Cortex-M: 32-bit addresses
MAX_CLOCK_HZ = 2_000_000_000          # above any Cortex-M part; the firmware holds clocks in uint32_t
MIN_UART_DIVISOR = 16                 # CMSDK BAUDDIV and STM32 BRR (16x oversampling) need clock/baud >= 16;
                                      # the nRF UART (16 MHz) takes a BAUDRATE code, within this bound too
BOARD_TABLES = frozenset({"memory", "uart", "power", "timestamp_gpio"})  # the board's own; others: backends'
_BOARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
BOARDS_DIR_HELP = ("a folder of your own board files (NAME.toml), searched besides the built-in boards; "
                   "a file there named like a built-in board is refused, as a board's name must mean one "
                   "board in the results")


class Core(str, enum.Enum):
    CORTEX_M0 = "cortex-m0"          # ARMv6-M: Thumb-1, no DWT, no unaligned access, no divide
    CORTEX_M0PLUS = "cortex-m0plus"
    CORTEX_M3 = "cortex-m3"
    CORTEX_M4 = "cortex-m4"
    CORTEX_M7 = "cortex-m7"
    CORTEX_M33 = "cortex-m33"
    CORTEX_M55 = "cortex-m55"


# ISA features a kernel variant may need (harness.ops OpSpec.isa), by core: the DSP extension's SIMD
# (SMLAD, SXTB16) is on Cortex-M4 and M7, on Cortex-M33 as GCC builds it by default, and on Cortex-M55,
# which also has MVE (Helium). Cortex-M0, M0+ and M3 have neither: they run the portable kernels.
CORE_FEATURES: dict[Core, frozenset[str]] = {
    Core.CORTEX_M4: frozenset({"dsp"}), Core.CORTEX_M7: frozenset({"dsp"}), Core.CORTEX_M33: frozenset({"dsp"}),
    Core.CORTEX_M55: frozenset({"dsp", "mve"}),
}


def core_features(core: Core) -> frozenset[str]:
    """The ISA features of ``core`` (empty for cores that run only the portable kernels)."""
    return CORE_FEATURES.get(core, frozenset())


class UartKind(str, enum.Enum):
    CMSDK = "cmsdk"
    STM32 = "stm32"
    NRF = "nrf"        # nRF51 legacy UART (no EasyDMA); the nRF52 UARTE has a driver of its own
    STM32V2 = "stm32v2"              # STM32L4/H7 USART: ISR/TDR/RDR, BRR = fck / baud
    STM32_LPUART = "stm32-lpuart"    # STM32L4/H7 LPUART: the USART v2 registers, BRR = 256 * fck / baud
    NRF52_UARTE = "nrf52-uarte"      # nRF52 UARTE with EasyDMA
    RP2040_UART = "rp2040-uart"      # RP2040 UART0/1: an ARM PL011


class ClockKind(str, enum.Enum):
    """The clock set-up the firmware runs before main (``firmware/src/clock_<kind>.c``)."""

    NONE = "none"        # the reset clock: emulated boards (QEMU ignores clock registers)
    STM32F4 = "stm32f4"
    STM32L4 = "stm32l4"
    STM32H7 = "stm32h7"
    NRF52 = "nrf52"
    RP2040 = "rp2040"


class GpioKind(str, enum.Enum):
    """The timestamp GPIO's driver (``firmware/src/gpio_<kind>.c``), for energy mode (DESIGN §5)."""

    NONE = "none"        # no pin: the pulse only calls the emulator's marker (emulated boards)
    STM32 = "stm32"      # STM32 F4/L4/H7 GPIO (MODER/OTYPER/OSPEEDR/BSRR); the family from the board's clock
    NRF52 = "nrf52"      # nRF52 P0/P1 (OUTSET/OUTCLR/DIRSET)
    RP2040 = "rp2040"    # RP2040 SIO (GPIO_OUT_SET/CLR, GPIO_OE_SET), FUNCSEL = SIO


# kind -> (accepted ports, highest pin); "none" takes neither
_GPIO_PORTS: dict[GpioKind, tuple[tuple[str | int, ...], int]] = {
    GpioKind.STM32: (tuple("ABCDEFGHIJK"), 15), GpioKind.NRF52: ((0, 1), 31), GpioKind.RP2040: ((0,), 29)}


@dataclass(frozen=True)
class TimestampGpio:
    """``[timestamp_gpio]``: the pin the firmware pulses low at each timestamp in energy mode.

    ``port`` is a letter for ``stm32`` ("F" for PF13), a number for ``nrf52`` (0 or 1) and
    ``rp2040`` (0, its only bank, the default); ``pin`` is the pin in that port. Both are None
    for ``none``.
    """

    kind: GpioKind
    port: str | int | None = None
    pin: int | None = None


def _parse_timestamp_gpio(table: dict[str, Any], where: str) -> TimestampGpio:
    table, where = dict(table), f"{where} [timestamp_gpio]"
    kind = _enum(GpioKind, _take(table, "kind", str, where), "timestamp_gpio kind", where)
    if kind is GpioKind.NONE:
        _no_extra(table, where)
        return TimestampGpio(kind)
    ports, max_pin = _GPIO_PORTS[kind]
    port = _take(table, "port", str if kind is GpioKind.STM32 else int, where,
                 0 if kind is GpioKind.RP2040 else ...)
    pin = _take(table, "pin", int, where)
    _no_extra(table, where)
    if port not in ports:
        raise ConfigError(f"{where}: port {port!r} for kind {kind.value!r}; expected one of {list(ports)}")
    if pin > max_pin:
        raise ConfigError(f"{where}: pin {pin} for kind {kind.value!r}; expected 0 to {max_pin}")
    return TimestampGpio(kind, port, pin)


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
    emulates: str | None = None
    active_power_mw: float | None = None  # an estimate, for energy estimates
    source: str = ""
    clock: ClockKind = ClockKind.NONE     # the clock set-up: "none" keeps the reset clock (emulated boards)
    # each target backend's own section, validated by that backend: (section name, its settings)
    sections: tuple[tuple[str, object], ...] = ()
    target: str = "hardware"              # the backend that runs this board unless another is asked for
    timestamp_gpio: TimestampGpio | None = None  # [timestamp_gpio]: energy mode's pin; None: no energy mode

    def section(self, name: str) -> object | None:
        """The settings of the board file's ``[name]`` section, as its backend parsed them; None if absent."""
        return dict(self.sections).get(name)


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
    power = dict(_take(data, "power", dict, where, {}))
    gpio_table = _take(data, "timestamp_gpio", dict, where, None)  # taken before the backends' sections
    target = _take(data, "target", str, where, None)
    sections, owners = _backend_sections(data, where)
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
        active_power_mw=_take(power, "active_mw", float, f"{where} [power]", None),
        source=source,
        clock=_enum(ClockKind, _take(data, "clock", str, where, "none"), "clock", where),
        sections=sections,
        target=_default_target(target, owners, where),
        timestamp_gpio=None if gpio_table is None else _parse_timestamp_gpio(gpio_table, where),
    )
    for sub, table in (("", data), (" [memory]", memory), (" [uart]", uart), (" [power]", power)):
        _no_extra(table, where + sub)
    _check_numbers(spec, where)
    return spec


def _backend_sections(data: dict[str, Any], where: str) -> tuple[tuple[tuple[str, object], ...], list[str]]:
    """Every remaining table of the board file is a target backend's section: each is handed to the
    backend that owns it (``harness.targets.backends``), which validates it. Takes them out of ``data``."""
    from harness.targets.backends import parse_backend_section  # the registry loads backends lazily

    sections: list[tuple[str, object]] = []
    owners: list[str] = []
    for key in [k for k, v in data.items() if isinstance(v, dict) and k not in BOARD_TABLES]:
        owner, settings = parse_backend_section(key, data.pop(key), where)
        sections.append((key, settings))
        owners.append(owner)
    return tuple(sections), owners


def _default_target(target: str | None, owners: list[str], where: str) -> str:
    """``target = "..."`` when the file says so (its backend must exist), else the backend of the first
    section, else ``hardware`` (a real board; the hardware backend's section is optional)."""
    from harness.targets.backends import backend_names

    if target is None:
        return owners[0] if owners else "hardware"
    if target not in backend_names():
        raise ConfigError(f"{where}: target {target!r}; expected one of {backend_names()}")
    return target


def _check_numbers(spec: BoardSpec, where: str) -> None:
    """Ranges ``_take`` cannot know: the address space, clocks, the UART divisor, the power figure."""
    for key in ("clock_hz", "flash_bytes", "ram_bytes", "uart_clock_hz", "baud", "stack_bytes"):
        if getattr(spec, key) <= 0:
            raise ConfigError(f"{where}: {key} is {getattr(spec, key)}; expected a number > 0")
    for key in ("flash_origin", "ram_origin", "uart_base"):
        if getattr(spec, key) >= ADDRESS_SPACE:
            raise ConfigError(f"{where}: {key} is {getattr(spec, key):#x}; expected a 32-bit address "
                              f"(below {ADDRESS_SPACE:#x})")
    for region in ("flash", "ram"):
        origin, size = getattr(spec, f"{region}_origin"), getattr(spec, f"{region}_bytes")
        if origin + size > ADDRESS_SPACE:
            raise ConfigError(f"{where}: {region}_origin {origin:#x} + {region}_bytes {size} ends at "
                              f"{origin + size:#x}; expected the region to end at or below {ADDRESS_SPACE:#x}")
    if spec.uart_base % 4:
        raise ConfigError(f"{where}: uart base {spec.uart_base:#x}; expected a multiple of 4 (word registers)")
    clocks = {"clock_hz": spec.clock_hz, "uart clock_hz": spec.uart_clock_hz}
    for key, hz in clocks.items():
        if not 0 < hz <= MAX_CLOCK_HZ:
            raise ConfigError(f"{where}: {key} is {hz}; expected 1 to {MAX_CLOCK_HZ} Hz")
    if spec.baud > spec.uart_clock_hz // MIN_UART_DIVISOR:
        raise ConfigError(f"{where}: baud {spec.baud} with a uart clock_hz of {spec.uart_clock_hz}; expected at "
                          f"most {spec.uart_clock_hz // MIN_UART_DIVISOR} (a divisor of {MIN_UART_DIVISOR} or more)")
    if spec.stack_bytes >= spec.ram_bytes:
        raise ConfigError(f"{where}: stack_bytes {spec.stack_bytes} leaves no RAM of {spec.ram_bytes}")
    if spec.clock_hz % 1_000_000:
        raise ConfigError(f"{where}: clock_hz {spec.clock_hz} must be a whole number of MHz")
    mw = spec.active_power_mw
    if mw is not None and not (math.isfinite(mw) and mw > 0):
        raise ConfigError(f"{where}: [power] active_mw is {mw}; expected a finite number > 0")


def load_board_file(path: Path) -> BoardSpec:
    """Read and validate one board file; raises ``ConfigError`` (unreadable, not TOML, not UTF-8, invalid)."""
    if not path.is_file():
        raise ConfigError(f"board file {path}: not found or not a regular file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"board file {path}: cannot read it: {exc}") from exc
    spec = parse_board(data, str(path))
    if spec.name != path.stem:
        raise ConfigError(f"board file {path}: name {spec.name!r} differs from the file name {path.stem!r}")
    return spec


def _board_files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def _folders(boards_dir: Path, user_dir: Path | None) -> tuple[dict[str, Path], dict[str, Path]]:
    """The board files of the built-in folder and of the user's (none if not given, or the same folder)."""
    builtin = _board_files(boards_dir)
    if user_dir is None or check_boards_dir(user_dir).resolve() == boards_dir.resolve():
        return builtin, {}
    return builtin, _board_files(user_dir)


def check_boards_dir(user_dir: Path) -> Path:
    """``user_dir`` if it is a folder; raises ``ConfigError`` otherwise."""
    if not user_dir.is_dir():
        raise ConfigError(f"boards folder {user_dir}: not found or not a folder; expected a folder of "
                          "board files (NAME.toml)")
    return user_dir


def _shadowing(path: Path, builtin: Path) -> ConfigError:
    return ConfigError(f"board file {path}: {path.stem!r} is the name of the built-in board {builtin}; a board's "
                       "name must mean one board in the results, so give your file and its board another name")


@dataclass(frozen=True)
class BoardScan:
    """The boards of a folder (and of the user's folder) that load, and an error for each file that does not.

    ``user_boards`` names the boards that came from the user's folder.
    """

    boards: dict[str, BoardSpec]
    errors: tuple[ConfigError, ...]
    user_boards: frozenset[str] = frozenset()


def scan_boards(boards_dir: Path = BOARDS_DIR, user_dir: Path | None = None) -> BoardScan:
    """Every board file in ``boards_dir``, then in ``user_dir``: one bad file does not hide the others.

    A file in ``user_dir`` named like one in ``boards_dir`` is an error, not a board (no shadowing).
    """
    boards: dict[str, BoardSpec] = {}
    errors: list[ConfigError] = []
    builtin, user = _folders(boards_dir, user_dir)
    for name, path, shadows in [*((n, p, False) for n, p in builtin.items()),
                                *((n, p, n in builtin) for n, p in user.items())]:
        try:
            if shadows:
                raise _shadowing(path, builtin[name])
            boards[name] = load_board_file(path)
        except ConfigError as exc:
            errors.append(exc)
    return BoardScan(boards, tuple(errors), frozenset(n for n in user if n in boards and n not in builtin))


def all_boards(boards_dir: Path = BOARDS_DIR, user_dir: Path | None = None) -> dict[str, BoardSpec]:
    """Every board in ``boards_dir`` and ``user_dir``, by name; raises the first file's ``ConfigError``."""
    scan = scan_boards(boards_dir, user_dir)
    if scan.errors:
        raise scan.errors[0]
    return scan.boards


def board_names(boards_dir: Path = BOARDS_DIR, user_dir: Path | None = None) -> list[str]:
    builtin, user = _folders(boards_dir, user_dir)
    return sorted({*builtin, *user})


def load_board(name: str, boards_dir: Path = BOARDS_DIR, user_dir: Path | None = None) -> BoardSpec:
    """The board called ``name`` in ``boards_dir`` or ``user_dir``, or the user's board file ``name`` if it
    ends in ``.toml``.

    A name is only a board's name: one containing a path separator or starting with a dot is refused
    (``../../tmp/x`` never reaches outside the folders). A board in ``user_dir`` may not take the name of
    one in ``boards_dir`` (no shadowing). A name ending in ``.toml`` is a path to a board file, relative to
    the working directory; its board's name must be the file's stem and differ from every name in the
    folders (unless it is that folder's very file), so that a record's ``board`` always means one thing,
    and its path is the spec's ``source``. Raises ``ConfigError`` naming the boards that exist, or both
    files of a clash.
    """
    builtin, user = _folders(boards_dir, user_dir)
    if name.endswith(".toml"):
        path = Path(name)
        if path.stem in builtin and path.stem in user:
            raise _shadowing(user[path.stem], builtin[path.stem])
        for folder, files in ((boards_dir, builtin), (user_dir, user)):
            same = path.stem in files and path.resolve() == files[path.stem].resolve()
            if path.stem in files and not same:
                raise ConfigError(f"board file {path}: {path.stem!r} is the name of a board in {folder}; "
                                  "give the file and its board another name")
        return load_board_file(path)
    if not _BOARD_NAME.fullmatch(name) or (name not in builtin and name not in user):
        raise ConfigError(f"unknown board {name!r}; expected one of {sorted({*builtin, *user})} "
                          "or the path of a board file ending in .toml")
    if name in builtin and name in user:
        raise _shadowing(user[name], builtin[name])
    return load_board_file(builtin[name] if name in builtin else user[name])
