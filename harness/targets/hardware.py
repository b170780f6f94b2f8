"""Real boards: flashed and read through a debug probe, driven over the probe's serial port.

Lifecycle (``Target``): the constructor acquires nothing. ``load`` connects the probe, checks that it reaches
the board's part (pyOCD's target type; the core's CPUID against the board's ``core``), halts the core, writes
the image, verifies it by reading every loadable segment back, and resets the core (halted). ``open`` opens
the serial port and only then lets the core run, so nothing the firmware prints at boot is lost. ``stop``
waits for the firmware to park in ``bench_exit`` (no semihosting on a board), halts it, and reads the stack
high-water mark through the probe, a cross-check of what the firmware reported (``details``). ``close``
releases the port and the probe; it is idempotent.

The probe (``--hil-probe``, ``RunOptions.probe``) is chosen by ``make_probe``:
- ``gdb:HOST:PORT[:RESET]``: a GDB server (pyOCD gdbserver, OpenOCD, J-Link GDB server, QEMU ``-gdb``) through
  ``GdbRemoteProbe``; RESET is the monitor command that resets the core and leaves it halted: ``reset halt``
  (the default: OpenOCD, pyOCD), ``reset`` (J-Link), ``system_reset`` (QEMU). IPv6 hosts are not taken;
- anything else, or nothing: a USB probe through pyOCD, by unique id (nothing: the only one attached).

The serial port (``--hil-port``, ``RunOptions.port``) is any pyserial URL or device path; without one, the port
whose USB serial number is the probe's unique id (``targets.ports``), never a guess between two. A GDB server
does not say which port is its board's, so with ``gdb:`` the port must be named.

Each failure has its own status (``harness.errors``): ``probe-missing``, ``probe-ambiguous``, ``wrong-board``,
``flash``, ``serial-port``, and ``board-lost`` for a board that had booted and then stopped answering (a
``TargetTimeout``, or its port vanished); the error passes through the target's ``with`` block, which
translates it, adding what the probe sees of the core.

A board file's ``[hardware]`` section belongs to this backend (``parse_hardware_section``)::

    [hardware]
    pyocd_target = "stm32l4r5zitx"   # pyOCD's target type (built in, or from a CMSIS pack)
    pack = "STM32L4R5ZITx"           # the CMSIS pack part, when pyOCD has no built-in target
"""

from __future__ import annotations

import contextlib
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.boards import BoardSpec, Core
from harness.errors import (
    BoardLostError,
    ConfigError,
    FlashError,
    MeasurementError,
    ProbeMissingError,
    SerialPortError,
    TargetError,
    TargetTimeout,
    WrongBoardError,
)
from harness.protocol import SerialLike, parse_fields, parse_timing
from harness.targets.backends import Backend
from harness.targets.base import FirmwareSession, Target, TargetResult
from harness.targets.gdb_remote import GdbRemoteProbe
from harness.targets.ports import WatchedLine, open_serial_port, serial_port_for_probe
from harness.targets.probe import DebugProbe, elf_load_segments
from harness.targets.pyocd_probe import PyocdProbe, pyocd_version
from harness.targets.readings import CycleCount
from harness.types import FirmwareImage

CYCLES_PER_INSTRUCTION_BOUND = 4   # a real core with flash wait states, for timeouts
GDB_DEFAULT_RESET = "reset halt"
CPUID = 0xE000ED00                 # SCB CPUID: implementer [31:24], part number [15:4]
ARM_IMPLEMENTER = 0x41
CPUID_PARTNO = {Core.CORTEX_M0: 0xC20, Core.CORTEX_M0PLUS: 0xC60, Core.CORTEX_M3: 0xC23, Core.CORTEX_M4: 0xC24,
                Core.CORTEX_M7: 0xC27, Core.CORTEX_M33: 0xD21, Core.CORTEX_M55: 0xD22}
STACK_PAINT = 0xA5A5A5A5           # firmware/src/startup.c paints [_sstack, sp - 64) with it
TICKS_SATURATED = 0xFFFFFFFF       # m-hil-layer timer_ticks is clamped to 32 bits (firmware/src/main.c)
PARK_POLL_S = 0.02


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


def parse_gdb_selection(selection: str) -> tuple[str, int, str]:
    """``gdb:HOST:PORT[:RESET]`` -> (host, port, reset command); raises ``ConfigError`` naming the form.

    >>> parse_gdb_selection("gdb:127.0.0.1:1234:system_reset")
    ('127.0.0.1', 1234, 'system_reset')
    >>> parse_gdb_selection("gdb:localhost:3333")
    ('localhost', 3333, 'reset halt')
    """
    host, _, rest = selection.removeprefix("gdb:").partition(":")
    port, _, reset = rest.partition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"probe {selection!r}; expected gdb:HOST:PORT or gdb:HOST:PORT:RESET_COMMAND, e.g. "
                          "gdb:localhost:3333 (OpenOCD) or gdb:127.0.0.1:1234:system_reset (QEMU)")
    return host, int(port), reset.strip() or GDB_DEFAULT_RESET


def make_probe(selection: str | None, board: BoardSpec) -> DebugProbe:
    """The probe ``selection`` names (module docstring); nothing is connected yet."""
    if selection is not None and selection.startswith("gdb:"):
        host, port, reset = parse_gdb_selection(selection)
        return GdbRemoteProbe(host, port, reset_command=reset)
    spec = hardware_spec(board)
    return PyocdProbe(unique_id=selection, target_type=spec.pyocd_target if spec else None)


def elf_symbols(path: Path) -> dict[str, tuple[int, int]]:
    """name -> (value, size) of every named symbol in the ELF's ``.symtab`` (functions with the Thumb bit)."""
    try:
        with path.open("rb") as f:
            symtab = ELFFile(f).get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                return {}
            return {s.name: (int(s["st_value"]), int(s["st_size"])) for s in symtab.iter_symbols() if s.name}
    except (OSError, ELFError) as exc:
        raise ConfigError(f"{path}: cannot read the symbols of this ELF: {exc}") from exc


def painted_stack_used(data: bytes) -> int:
    """Bytes of the stack used: its size minus the painted words at its bottom (as the firmware counts)."""
    words = struct.unpack(f"<{len(data) // 4}I", data[:len(data) // 4 * 4])
    painted = next((i for i, w in enumerate(words) if w != STACK_PAINT), len(words))
    return len(data) - 4 * painted


class HardwareTarget(Target):
    """A real board through a debug probe and its serial port; a ``CycleCounter`` and a ``ProbeCarrier``.

    ``probe``: the probe selection (module docstring); ``port``: the serial port's URL or path (None: the
    probe's own). Raises, from ``load`` on: the errors of the module docstring, each with its status.
    """

    name = "hardware"
    semihosting = False   # no debugger serves semihosting calls on a board: the firmware must not make any

    def __init__(self, board: BoardSpec, probe: str | None = None, port: str | None = None,
                 **_ignored: object) -> None:
        super().__init__(board)
        self.instructions_per_s = board.clock_hz / CYCLES_PER_INSTRUCTION_BOUND
        self.selection, self.port_setting = probe, port
        self._probe: DebugProbe | None = None
        self._line: WatchedLine | None = None
        self._symbols: dict[str, tuple[int, int]] = {}

    @property
    def probe(self) -> DebugProbe | None:
        return self._probe

    def _connected(self, what: str) -> DebugProbe:
        if self._probe is None:
            raise TargetError(f"HardwareTarget.{what}() before load()")
        return self._probe

    def _runner(self) -> str:
        if isinstance(self._probe, GdbRemoteProbe):
            return f"GDB remote {self._probe.rsp.host}:{self._probe.rsp.port}"
        return f"pyOCD {pyocd_version()}, probe {self._probe.unique_id if self._probe else '?'}"

    # -- load: connect, check, halt, write, verify, reset ---------------------------------------------
    def load(self, image: FirmwareImage) -> None:
        if image.board != self.board.name:
            raise ConfigError(f"image built for board {image.board!r} loaded on {self.board.name!r}")
        self.close()
        self._symbols = elf_symbols(image.elf_path)
        probe = self._probe = make_probe(self.selection, self.board)
        try:
            probe.connect()
        except TargetError as exc:
            if not isinstance(probe, GdbRemoteProbe) or isinstance(exc, ProbeMissingError):
                raise
            raise ProbeMissingError(f"no GDB server answers at {probe.rsp.host}:{probe.rsp.port} "
                                    f"(probe {self.selection!r}): {exc}") from exc
        probe.halt()
        self._check_core(probe)
        try:
            probe.load_elf(image.elf_path)
        except FlashError:
            raise
        except TargetError as exc:
            raise FlashError(f"board {self.board.name}: writing {image.elf_path} through {self._runner()} "
                             f"failed: {exc}") from exc
        self._verify(probe, image.elf_path)
        probe.reset()

    def _check_core(self, probe: DebugProbe) -> None:
        """The core's CPUID against the board's core, where the core says (an ARM part number)."""
        cpuid = struct.unpack("<I", probe.read_memory(CPUID, 4))[0]
        partno = (cpuid >> 4) & 0xFFF
        known = {v: k for k, v in CPUID_PARTNO.items()}
        if cpuid >> 24 == ARM_IMPLEMENTER and partno in known and known[partno] != self.board.core:
            raise WrongBoardError(f"board {self.board.name!r} has a {self.board.core.value}, but the core behind "
                                  f"probe {probe.unique_id} is a {known[partno].value} (CPUID {cpuid:#010x}): "
                                  "wrong board on this probe?")

    def _verify(self, probe: DebugProbe, path: Path) -> None:
        for addr, data in elf_load_segments(path):
            try:
                back = probe.read_memory(addr, len(data))
            except TargetError as exc:
                raise FlashError(f"board {self.board.name}: verify of {path} failed: cannot read back "
                                 f"{len(data)} bytes at {addr:#010x}: {exc}") from exc
            if back != data:
                first = next((i for i, (a, b) in enumerate(zip(back, data)) if a != b), min(len(back), len(data)))
                got = f"{back[first]:#04x}" if first < len(back) else "nothing"
                raise FlashError(f"board {self.board.name}: verify of {path} failed: at {addr + first:#010x} "
                                 f"read {got}, wrote {data[first]:#04x} (segment {addr:#010x}, {len(data)} bytes; "
                                 f"probe {probe.unique_id})")

    # -- open: the port first, then the core runs -----------------------------------------------------
    def open(self) -> SerialLike:
        probe = self._connected("open")
        url = self.port_setting
        if url is None:
            if isinstance(probe, GdbRemoteProbe):
                raise SerialPortError(f"board {self.board.name}: a GDB server ({self._runner()}) does not say "
                                      "which serial port is its board's; name it (--hil-port, RunOptions.port): "
                                      "a device path such as /dev/ttyACM0 or a pyserial URL")
            url = serial_port_for_probe(probe.unique_id)
        self._line = WatchedLine(open_serial_port(url, self.board.baud), url)
        probe.resume()
        return self._line

    # -- stop: park, halt, cross-check ---------------------------------------------------------------
    def _parked(self, probe: DebugProbe, timeout_s: float) -> bool | None:
        """Halt the core once it is in ``bench_exit``'s loop (True), or at ``timeout_s`` (False); None when the
        image has no ``bench_exit`` symbol to tell by."""
        lo, size = self._symbols.get("bench_exit", (0, 0))
        lo &= ~1
        deadline = time.monotonic() + timeout_s
        while True:
            probe.halt()
            if not size:
                return None
            if lo <= probe.read_core_registers()["pc"] < lo + size:
                return True
            if time.monotonic() >= deadline:
                return False
            probe.resume()
            time.sleep(PARK_POLL_S)

    def _cross_check(self, probe: DebugProbe) -> dict[str, Any]:
        """The stack high-water mark read through the probe and the arena's size in the verified image,
        each beside the firmware's own ``m-hil-info`` figure."""
        info = self._line.info if self._line is not None else {}
        out: dict[str, Any] = {}
        if "_sstack" in self._symbols and "_estack" in self._symbols:
            lo, hi = self._symbols["_sstack"][0], self._symbols["_estack"][0]
            out["probe_stack_used_bytes"] = painted_stack_used(probe.read_memory(lo, hi - lo))
        if "g_arena" in self._symbols:
            out["probe_arena_bytes"] = self._symbols["g_arena"][1]
        for what, probe_key, fw_key in (("stack", "probe_stack_used_bytes", "stack_used_bytes"),
                                        ("arena", "probe_arena_bytes", "arena_bytes")):
            fw = int(info[fw_key]) if info.get(fw_key, "").isdigit() else None
            seen = out.get(probe_key)
            out[f"{what}_cross_check"] = (
                "not made: " + ("the firmware sent no m-hil-info" if fw is None else "no symbol in the image")
                if fw is None or seen is None else "agrees" if fw == seen
                else f"differs: the probe read {seen} bytes, the firmware reported {fw}")
        return out

    def stop(self, timeout_s: float) -> TargetResult:
        probe = self._connected("stop")
        details: dict[str, Any] = {"probe_id": probe.unique_id, "probe_target_type": probe.target_type,
                                   "serial_port": self._line.url if self._line else None,
                                   "probe_reset": getattr(probe, "reset_method", "") or "reset and halt"}
        details["firmware_parked"] = self._parked(probe, timeout_s)
        details.update(self._cross_check(probe))
        if self._line is not None:
            self._line.close()
        return TargetResult(exit_code=None, runner=self._runner(), details=details)

    # -- the cycle counter ---------------------------------------------------------------------------
    def cycle_count(self, session: FirmwareSession) -> CycleCount:
        """Cycles per timed inference (``m-hil-timing``) and per layer (the last ``hil-layers`` reply's
        ``timer_ticks``) at the board's clock; raises ``MeasurementError`` when one is missing or disagrees."""
        where = f"board {self.board.name}"
        timing_lines = [line for line in session.lines if line.startswith("m-hil-timing")]
        if not timing_lines:
            raise MeasurementError(f"{where}: no m-hil-timing line from the firmware; its cycles are unknown")
        timing = parse_timing(timing_lines[-1])
        if timing.cpu_hz != self.board.clock_hz:
            raise MeasurementError(f"{where}: the firmware says it runs at cpu_hz={timing.cpu_hz}, the board file "
                                   f"({self.board.source}) says clock_hz={self.board.clock_hz}: its clock set-up "
                                   "fell back (a PLL or oscillator ready flag timed out) or the board file's clock "
                                   "is not the part's; cycles at the wrong clock would give a wrong latency")
        if timing.inferences != session.inferences:
            raise MeasurementError(f"{where}: m-hil-timing covers {timing.inferences} inferences; "
                                   f"{session.inferences} were timed")
        ticks: list[int] = []
        for line in session.lines:
            if line == "> hil-layers%":
                ticks = []
            elif line.startswith("m-hil-layer "):
                ticks.append(int(parse_fields(line).get("timer_ticks", "-1")))
        if len(ticks) != len(session.image.layers) or min(ticks, default=-1) < 0:
            raise MeasurementError(f"{where}: expected {len(session.image.layers)} m-hil-layer lines with "
                                   f"timer_ticks, got {len(ticks)}")
        if TICKS_SATURATED in ticks:
            raise MeasurementError(f"{where}: layer {ticks.index(TICKS_SATURATED)} took 2**32 - 1 cycles or more "
                                   "(its timer_ticks saturated)")
        return CycleCount(per_inference=timing.cycles, per_layer=tuple(ticks), clock_hz=self.board.clock_hz,
                          source="dwt-cycles" if timing.clock_source == "dwt" else "systick-cycles")

    # -- errors passing through, and release ---------------------------------------------------------
    def _core_view(self) -> str:
        """What the probe sees of the core now, for a board-lost message."""
        if self._probe is None:
            return "no probe connected"
        try:
            self._probe.halt()
            pc = self._probe.read_core_registers()["pc"]
        except Exception as exc:  # noqa: BLE001  a probe that cannot reach the core is the answer here
            return f"the debug probe cannot reach the core either ({exc})"
        func = next((n for n, (a, s) in self._symbols.items() if s and (a & ~1) <= pc < (a & ~1) + s), "?")
        return f"the debug probe halted the core at pc={pc:#010x} (in {func})"

    def _lost(self, exc: BaseException | None) -> BoardLostError | None:
        line = self._line
        if line is None or not line.answered or isinstance(exc, BoardLostError):
            return None
        silent = isinstance(exc, TargetTimeout)
        vanished = isinstance(exc, TargetError) and isinstance(exc.__cause__, (serial.SerialException, OSError))
        if not (silent or vanished):
            return None
        what = "went silent" if silent else f"its serial port {line.url} closed"
        message = exc.message if isinstance(exc, TargetTimeout) else str(exc)
        return BoardLostError(f"board {self.board.name!r} stopped answering mid-run after it had booted ({what}): "
                              f"{message}; {self._core_view()}",
                              tail=exc.tail if isinstance(exc, TargetTimeout) and exc.tail else list(line.tail),
                              log_path=getattr(exc, "log_path", None), hint=getattr(exc, "hint", ""))

    def __exit__(self, *exc: object) -> None:
        """Close; a ``TargetTimeout`` (or a vanished port) after the firmware had booted becomes
        ``BoardLostError``, keeping its tail."""
        error = exc[1] if len(exc) > 1 and isinstance(exc[1], BaseException) else None
        lost = self._lost(error)
        self.close()
        if lost is not None:
            raise lost from error

    def close(self) -> None:
        """Close the port and the probe (a GDB probe detaches: the core runs on); idempotent."""
        line, self._line = self._line, None
        if line is not None:
            line.close()
        probe, self._probe = self._probe, None
        if probe is not None:
            with contextlib.suppress(Exception):
                probe.close()


BACKEND = Backend(name="hardware", factory=HardwareTarget, section="hardware", parse_section=parse_hardware_section,
                  description="a real board through a debug probe (pyOCD, or a GDB server) and its serial port")
