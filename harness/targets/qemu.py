"""Runs firmware under qemu-system-arm, its UART on a loopback TCP socket.

QEMU waits for the host to connect before the guest starts (``wait=on``), so
no output is lost. Instructions are counted by the project's TCG plugin
(exact; provenance ``qemu-insn``); where the plugin cannot load, the firmware's
SysTick readings under ``-icount shift=0`` stand in (``qemu-icount``). QEMU
always runs with ``-icount``, so interrupts, timestamps and the stack
high-water mark repeat from run to run. QEMU is always stopped: ``close`` kills what is still running,
and QEMU dies with the harness even when that is killed (``targets.process``).
Its work folder (stderr, the counter's log) is removed at ``close`` unless
``HILBENCH_KEEP_LOGS=1``; those of killed harnesses are swept at the next start.

A board file's ``[qemu]`` section belongs to this backend (``parse_qemu_section``)::

    [qemu]
    machine = "mps2-an386"          # qemu-system-arm -M
    icount_systick_hz = 25_000_000  # SysTick's rate under -icount, for the fallback counter
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import serial

from harness.boards import MAX_CLOCK_HZ, BoardSpec
from harness.errors import ConfigError, EmulatorMissingError, MeasurementError, TargetError
from harness.protocol import SerialLike, parse_fields
from harness.targets.backends import Backend
from harness.targets.base import FirmwareSession, Target, TargetResult
from harness.targets.plugin_build import build_plugin
from harness.targets.process import keep_logs, make_workdir, spawn
from harness.targets.readings import InstructionCount
from harness.types import FirmwareImage

QEMU = "qemu-system-arm"
INSTALL_HINT = "install it with `sudo apt-get install qemu-system-arm`, or run ./bootstrap.sh"
CONNECT_TIMEOUT_S = 10.0
ICOUNT = "shift=0,align=off,sleep=off"  # 1 instruction = 1 ns of virtual time
MARKER_NAMES = {"hil_mark_infer_begin": "begin", "hil_mark_layer": "layer", "hil_mark_infer_end": "end",
                "hil_mark_timestamp": "timestamp"}


@dataclass(frozen=True)
class QemuSpec:
    """A board's ``[qemu]`` section."""

    machine: str
    icount_systick_hz: int | None = None  # SysTick rate under -icount shift=0, for the fallback timer


def parse_qemu_section(table: dict[str, Any], where: str) -> QemuSpec:
    """Validate a board file's ``[qemu]`` table; raises ``ConfigError`` naming the key and what is accepted."""
    machine = table.pop("machine", None)
    if not isinstance(machine, str) or not machine:
        raise ConfigError(f"{where}: 'machine' is {machine!r}; expected the name of a qemu-system-arm machine "
                          "(qemu-system-arm -M help lists them), e.g. \"mps2-an386\"")
    hz = table.pop("icount_systick_hz", None)
    if hz is not None and (isinstance(hz, bool) or not isinstance(hz, int) or not 0 < hz <= MAX_CLOCK_HZ):
        raise ConfigError(f"{where}: 'icount_systick_hz' is {hz!r}; expected 1 to {MAX_CLOCK_HZ} Hz")
    if table:
        raise ConfigError(f"{where}: unknown keys {sorted(table)}; expected 'machine', 'icount_systick_hz'")
    return QemuSpec(machine, hz)


def qemu_spec(board: BoardSpec) -> QemuSpec | None:
    """The board's ``[qemu]`` section, or None when QEMU cannot run it."""
    spec = board.section("qemu")
    return spec if isinstance(spec, QemuSpec) else None


def qemu_version() -> str:
    path = shutil.which(QEMU)
    if path is None:
        return "absent"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _groups(log: tuple[str, ...]) -> list[tuple[int, list[int], int]]:
    """(begin, [layer marks], end) per inference in the plugin log."""
    groups: list[tuple[int, list[int], int]] = []
    begin: int | None = None
    layers: list[int] = []
    for line in log:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise MeasurementError(f"instruction counter log: unreadable line {line!r}")
        name, count = parts[0], int(parts[1])
        if name == "begin":
            begin, layers = count, []
        elif name == "layer" and begin is not None:
            layers.append(count)
        elif name == "end" and begin is not None:
            groups.append((begin, layers, count))
            begin = None
    return groups


def count_from_plugin_log(log: tuple[str, ...], session: FirmwareSession) -> InstructionCount:
    """Exact counts from the TCG plugin's log: each timed inference, and the last one's layers."""
    groups = _groups(log)
    warmup, n = session.warmup, session.inferences
    if len(groups) < warmup + n:
        raise MeasurementError(f"instruction counter saw {len(groups)} inferences; expected {warmup + n} "
                               f"({warmup} warm-up + {n} timed)")
    timed = groups[warmup:warmup + n]
    _, marks, end = timed[-1]
    if len(marks) != len(session.image.layers):
        raise MeasurementError(f"instruction counter saw {len(marks)} layers; the model has "
                               f"{len(session.image.layers)}")
    return InstructionCount(per_inference=tuple(e - b for b, _, e in timed),
                            per_layer=tuple(b - a for a, b in zip(marks, [*marks[1:], end])), source="qemu-insn")


def count_from_icount(board: BoardSpec, session: FirmwareSession) -> InstructionCount:
    """Counts from the firmware's SysTick readings of the last inference under ``-icount shift=0``
    (one instruction per ns of virtual time); resolution one tick."""
    spec = qemu_spec(board)
    hz = spec.icount_systick_hz if spec else None
    if not hz:
        raise MeasurementError(f"board {board.name} has no qemu.icount_systick_hz; the -icount fallback "
                               "cannot convert timer ticks to instructions (the QEMU plugin is needed)")
    ticks = [int(parse_fields(line).get("timer_ticks", "-1"))
             for line in session.lines if line.startswith("m-hil-layer ")]
    if len(ticks) != len(session.image.layers) or min(ticks, default=-1) < 0:
        raise MeasurementError(f"expected {len(session.image.layers)} m-hil-layer lines with timer_ticks, "
                               f"got {len(ticks)}")
    per_layer = tuple(t * 1_000_000_000 // hz for t in ticks)
    return InstructionCount(per_inference=(sum(per_layer),), per_layer=per_layer, source="qemu-icount",
                            exact=False)


class QemuTarget(Target):
    """QEMU; an ``InstructionCounter`` (exact with the plugin, from SysTick under ``-icount`` without)."""

    name = "qemu"
    instructions_per_s = 150e6  # a slow CI machine under the counting plugin, for timeouts

    def __init__(self, board: BoardSpec, counter: str = "auto", **_ignored: object) -> None:
        super().__init__(board)
        if qemu_spec(board) is None:
            raise ConfigError(f"board {board.name!r} has no [qemu] section; it cannot run under QEMU")
        if counter not in ("auto", "plugin", "icount"):
            raise ConfigError(f"instruction counter {counter!r}; expected one of ['auto', 'icount', 'plugin']")
        self.counter = counter
        self.image: FirmwareImage | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: serial.SerialBase | None = None
        self.workdir: Path | None = None
        self.mode = "none"
        self.counter_log: tuple[str, ...] = ()

    def load(self, image: FirmwareImage) -> None:
        if image.board != self.board.name:
            raise ConfigError(f"image built for board {image.board!r} loaded on {self.board.name!r}")
        self.image = image

    def _command(self, port: int, mode: str) -> list[str]:
        spec = qemu_spec(self.board)
        assert spec is not None and self.image is not None and self.workdir is not None
        cmd = [QEMU, "-M", spec.machine, "-display", "none", "-monitor", "none",
               "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(self.image.elf_path)]
        if mode == "qemu-insn":
            args = [f"out={self.workdir / 'insn.log'}"]
            args += [f"mark={MARKER_NAMES[n]}:{a:#x}" for n, a in self.image.markers.items()]
            args += [f"skip={lo:#x}:{hi:#x}" for lo, hi in self.image.uncounted]
            cmd += ["-plugin", f"{build_plugin()},{','.join(args)}"]
        # -icount in both modes: virtual time follows instructions, so SysTick interrupts land at the
        # same instruction in every run and the stack high-water mark (which includes their exception
        # frames) is as deterministic as the counts; the plugin's counts are unchanged by it (DESIGN §4)
        cmd += ["-icount", ICOUNT]
        return cmd

    def _start(self, mode: str) -> SerialLike:
        port = _free_port()
        assert self.workdir is not None
        stderr = (self.workdir / "qemu.stderr").open("wb")
        try:
            self.proc = spawn(self._command(port, mode), stdout=stderr, stderr=stderr)
        finally:
            stderr.close()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                err = (self.workdir / "qemu.stderr").read_text(errors="replace")[-2000:]
                spec = qemu_spec(self.board)
                raise TargetError(f"QEMU ({spec.machine if spec else '?'}) exited with "
                                  f"code {self.proc.returncode} before the UART connected:\n{err}")
            try:
                line: serial.SerialBase = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.05)
                self.port, self.mode = line, mode
                return cast(SerialLike, line)
            except (serial.SerialException, OSError):
                if time.monotonic() > deadline:
                    raise TargetError(f"could not connect to QEMU's UART on port {port} "
                                      f"within {CONNECT_TIMEOUT_S} s") from None
                time.sleep(0.02)

    def open(self) -> SerialLike:
        if self.image is None:
            raise TargetError("QemuTarget.open() before load()")
        if shutil.which(QEMU) is None:
            raise EmulatorMissingError(f"board {self.board.name!r} runs under QEMU, but {QEMU} is not on "
                                       f"PATH; {INSTALL_HINT}")
        self.workdir = make_workdir(self.board.name)
        if self.counter in ("auto", "plugin"):
            try:
                return self._start("qemu-insn")
            except TargetError as exc:
                if self.counter == "plugin" or "plugin" not in str(exc).lower():
                    raise
                self.close_process()  # this QEMU cannot load plugins: count by -icount instead
        return self._start("qemu-icount")

    def stop(self, timeout_s: float) -> TargetResult:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                code = None
        self.close_process()
        log: tuple[str, ...] = ()
        stderr = ""
        if self.workdir is not None:
            insn = self.workdir / "insn.log"
            if insn.is_file():
                log = tuple(insn.read_text().splitlines())
            err = self.workdir / "qemu.stderr"
            if err.is_file():
                stderr = err.read_text(errors="replace")[-2000:]
        self.counter_log = log
        return TargetResult(exit_code=code, runner=qemu_version(), stderr_tail=stderr, log_path=self.logs()[0],
                            details={"counter": self.mode})

    def instruction_count(self, session: FirmwareSession) -> InstructionCount:
        if self.mode == "qemu-insn":
            return count_from_plugin_log(self.counter_log, session)
        if self.mode == "qemu-icount":
            return count_from_icount(self.board, session)
        raise MeasurementError(f"QEMU on {self.board.name} ran without an instruction counter")

    def logs(self) -> tuple[str | None, str]:
        if self.workdir is None:
            return None, ""
        if keep_logs():  # a path only when it outlives close()
            return str(self.workdir), ""
        return None, ("QEMU's work folder (its stderr and instruction log) is removed at the end of the run; "
                      "rerun with HILBENCH_KEEP_LOGS=1 to keep it")

    def close_process(self) -> None:
        if self.port is not None:
            with contextlib.suppress(Exception):
                self.port.close()
            self.port = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=5)
            self.proc = None

    def close(self) -> None:
        """Kill QEMU if it still runs and remove the work folder (kept with ``HILBENCH_KEEP_LOGS=1``)."""
        self.close_process()
        if self.workdir is not None and not keep_logs():
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


BACKEND = Backend(name="qemu", factory=QemuTarget, section="qemu", parse_section=parse_qemu_section,
                  description="qemu-system-arm; exact instruction counts from the project's TCG plugin")
