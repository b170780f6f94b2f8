"""Runs firmware under Renode (1.16), driven over its TCP monitor; the UART on a server socket terminal.

Renode is started as ``renode --disable-xwt --plain --port N`` (or the binary named by
``HILBENCH_RENODE``) with its own ``TMPDIR`` (Renode deletes stale ``$TMPDIR/renode-*`` folders,
DESIGN §4b). The driver speaks the monitor as the recordings in ``../shared/renode-sessions`` show it:
a command is one line; Renode echoes it, answers, and prints the prompt ``(<machine>) `` with no newline
after it; there is no status code, so failures are told by their texts. The session:

    mach create "hil"
    machine LoadPlatformDescription @<platform>      (a generated .repl adding a DWT where the board asks)
    sysbus.cpu PerformanceInMips [<MIPS>]
    sysbus LoadELF @<firmware.elf>
    emulation CreateServerSocketTerminal <port> "term" false
    connector Connect sysbus.<uart> term
    sysbus.cpu AddHook <marker> "self.Log(LogLevel.Info, 'HIL-BEGIN %d' % self.ExecutedInstructions)"  (x3)
    start                                            (the UART client, pyserial socket://, connected before)
    ... the UART session ...
    sysbus.cpu ExecutedInstructions / sysbus.cpu PC / pause / quit   (then the process is killed by its pid)

Exact counts (provenance ``renode-insn``) are the differences of ``ExecutedInstructions`` between the
hooks' log lines, which Renode prints on its stdout only. Where the board's ``[renode]`` section gives
``dwt_hz``, the platform gets a DWT and ``PerformanceInMips`` is set to match; the firmware then times
with CYCCNT, and the target reads those cycles from the UART (``m-hil-timing``, ``m-hil-layer
timer_ticks``) into the provenance (``renode_dwt_*``), with the platform's ``renode_mips``.

The DWT cycles are **not** the latency source; the exact instruction count stays it (``renode-insn``,
latency estimated at one instruction per cycle). Renode's DWT is no cycle model: CYCCNT follows the
virtual clock, which advances at ``PerformanceInMips`` instructions per µs, so at 168 MIPS / 168 MHz it
is the instruction count again (dwt.jsonl: 798,099 instructions, m-lap-us 4,751 µs = 798,099 / 168).
It is coarser (every recorded ``timer_ticks`` is a multiple of 21 cycles, 125 ns of virtual time), its
window is narrower than the markers' (6-30 fewer per layer), and it changes with the ``mips`` setting,
not with the firmware. As a ``CycleCount`` it would make the record claim a measured latency
(``dwt-cycles``, ``latency_estimated`` false) that no chip produced.

A board file's ``[renode]`` section belongs to this backend (``parse_renode_section``)::

    [renode]
    platform = "platforms/cpus/stm32f4.repl"   # Renode's own (resolved in its folder), or an absolute path
    uart = "usart1"                            # the platform's peripheral that the firmware's UART is
    dwt_hz = 168_000_000                       # optional: add a DWT at 0xE0001000 counting at this rate
    mips = 168                                 # optional: sysbus.cpu PerformanceInMips (default: Renode's 100)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import serial

from harness.boards import MAX_CLOCK_HZ, BoardSpec
from harness.errors import (
    ConfigError,
    EmulatorMissingError,
    FirmwareOutputError,
    MeasurementError,
    TargetError,
)
from harness.protocol import SerialLike, parse_fields, parse_timing
from harness.targets.backends import Backend
from harness.targets.base import FirmwareSession, Target, TargetResult
from harness.targets.process import keep_logs, make_workdir, spawn
from harness.targets.qemu import count_from_plugin_log
from harness.targets.readings import InstructionCount
from harness.types import FirmwareImage

RENODE = "renode"
ENV_BINARY = "HILBENCH_RENODE"
INSTALL_HINT = ("install Renode 1.16 from https://github.com/renode/renode/releases: the Debian package "
                "(`sudo apt-get install ./renode_1.16.1_amd64.deb`) or the portable Linux archive "
                "(renode-1.16.1.linux-portable.tar.gz, unpacked, its folder on PATH); or set HILBENCH_RENODE "
                "to the path of the `renode` launcher")
MONITOR_TIMEOUT_S = 15.0      # Renode's monitor accepts about 1.0 s after spawn
COMMAND_TIMEOUT_S = 30.0      # LoadPlatformDescription takes about 1 s (offline: failed SVD downloads)
QUIT_TIMEOUT_S = 3.0          # Renode exits about 0.2 s after `quit`
MACHINE = "hil"
TERMINAL = "term"
PROMPT = re.compile(r"[\r\n]\(([^()\r\n]+)\) $")
IAC = re.compile(rb"\xff[\xfb-\xfe].|\xff\xff", re.DOTALL)
ERROR_TEXTS = ("There was an error executing command", "No such command or device:", "Could not tokenize here:",
               "Parameters did not match the signature", "Bad parameters for command",
               "does not provide a field, method or property", "Cannot convert type")
PLATFORM_ERRORS = ("Could not find file", "Error E", "was already declared")
HOOK_LINE = re.compile(r"\[INFO\] [^:\n]+: HIL-(BEGIN|LAYER|END) (\d+)\s*$")
HOOK_ERROR = re.compile(r"\[ERROR\] [^:\n]+: Python runtime error.*")
HALTED = "CPU was halted"
MARKER_HOOKS = {"hil_mark_infer_begin": "BEGIN", "hil_mark_layer": "LAYER", "hil_mark_infer_end": "END"}


class RenodeMissingError(EmulatorMissingError):
    """Renode is not installed (or ``HILBENCH_RENODE`` names nothing that runs)."""

    status = "renode-missing"


class RenodePlatformError(ConfigError):
    """Renode does not know the board's platform (a missing or broken ``.repl``)."""

    status = "renode-platform"


class RenodeMemoryMapError(ConfigError):
    """The firmware's memory map does not fit the platform: the CPU halted at start, with no UART output."""

    status = "renode-memory-map"


class RenodeCommandError(TargetError):
    """A monitor command failed (LoadELF, the UART connection, a hook)."""

    status = "renode-command"


class RenodeDiedError(TargetError):
    """Renode exited, or closed its monitor, while the run needed it."""

    status = "renode-died"


class RenodeHookError(MeasurementError):
    """A marker hook failed when it ran (Renode's Python), so the counts are missing."""

    status = "renode-hook"


@dataclass(frozen=True)
class RenodeSpec:
    """A board's ``[renode]`` section."""

    platform: str
    uart: str
    dwt_hz: int | None = None
    mips: int | None = None


def parse_renode_section(table: dict[str, Any], where: str) -> RenodeSpec:
    """Validate a board file's ``[renode]`` table; raises ``ConfigError`` naming the key and what is accepted."""
    platform = table.pop("platform", None)
    if not isinstance(platform, str) or not platform.endswith(".repl"):
        raise ConfigError(f"{where}: 'platform' is {platform!r}; expected a Renode platform file, "
                          "e.g. \"platforms/cpus/stm32f4.repl\" (Renode's folder) or an absolute path")
    uart = table.pop("uart", None)
    if not isinstance(uart, str) or not re.fullmatch(r"[A-Za-z_][\w.]*", uart):
        raise ConfigError(f"{where}: 'uart' is {uart!r}; expected the platform's UART peripheral, e.g. \"usart1\"")
    dwt = table.pop("dwt_hz", None)
    if dwt is not None and (isinstance(dwt, bool) or not isinstance(dwt, int) or not 0 < dwt <= MAX_CLOCK_HZ):
        raise ConfigError(f"{where}: 'dwt_hz' is {dwt!r}; expected 1 to {MAX_CLOCK_HZ} Hz")
    mips = table.pop("mips", None)
    if mips is not None and (isinstance(mips, bool) or not isinstance(mips, int) or not 0 < mips <= 10_000):
        raise ConfigError(f"{where}: 'mips' is {mips!r}; expected 1 to 10000 (sysbus.cpu PerformanceInMips)")
    if table:
        raise ConfigError(f"{where}: unknown keys {sorted(table)}; expected 'platform', 'uart', 'dwt_hz', 'mips'")
    if dwt is not None and mips is None:
        mips = max(1, dwt // 1_000_000)   # one DWT cycle per instruction, as on the recorded platform
    return RenodeSpec(platform, uart.removeprefix("sysbus."), dwt, mips)


def renode_spec(board: BoardSpec) -> RenodeSpec | None:
    """The board's ``[renode]`` section, or None when Renode cannot run it."""
    spec = board.section("renode")
    return spec if isinstance(spec, RenodeSpec) else None


def renode_binary() -> str:
    """The Renode launcher: ``HILBENCH_RENODE``, else ``renode`` on PATH; raises ``RenodeMissingError``."""
    named = os.environ.get(ENV_BINARY, "")
    if named:
        path = shutil.which(named)
        if path is None:
            raise RenodeMissingError(f"HILBENCH_RENODE is {named!r}, which is not an executable; {INSTALL_HINT}")
        return path
    path = shutil.which(RENODE)
    if path is None:
        raise RenodeMissingError(f"Renode is not on PATH; {INSTALL_HINT}")
    return path


def renode_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0].strip() if out.strip() else "unknown"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command_failed(reply: str) -> bool:
    """True when a monitor reply is one of Renode's error texts (a failed SVD download is not one)."""
    return any(text in reply for text in ERROR_TEXTS)


def hook_groups_log(lines: list[str]) -> tuple[str, ...]:
    """Renode's hook log lines as the QEMU plugin's log (``begin N``/``layer N``/``end N``)."""
    out = []
    for line in lines:
        m = HOOK_LINE.search(line)
        if m:
            out.append(f"{m.group(1).lower()} {m.group(2)}")
    return tuple(out)


def dwt_readings(lines: list[str]) -> dict[str, Any]:
    """The firmware's CYCCNT readings on a platform with a DWT, for the provenance (not the latency, see
    the module's doc): the last ``m-hil-timing`` (cycles per timed inference) and the last
    ``m-hil-layer`` group's ``timer_ticks``. Empty when the firmware did not time with the DWT."""
    timing = None
    layers: list[int] = []
    for raw in lines:
        line = raw.strip()
        if line.startswith("m-hil-timing"):
            with contextlib.suppress(FirmwareOutputError):
                timing = parse_timing(line)
        elif line.startswith("m-hil-layer "):
            fields = parse_fields(line)
            if fields.get("index") == "0":
                layers = []
            if fields.get("timer_ticks", "").isdigit():
                layers.append(int(fields["timer_ticks"]))
    if timing is None:
        return {}
    if timing.clock_source != "dwt":
        return {"renode_dwt_clock_source": timing.clock_source}
    return {"renode_dwt_clock_source": "dwt", "renode_dwt_cycles_timed": list(timing.cycles),
            "renode_dwt_cycles_per_inference": int(statistics.median(timing.cycles)) if timing.cycles else None,
            "renode_dwt_layer_cycles": layers}


class Monitor:
    """Renode's monitor over TCP: one command at a time, each answered up to the prompt."""

    def __init__(self, sock: socket.socket, alive: Any) -> None:
        self.sock = sock
        self.alive = alive            # () -> bool: Renode still runs
        self.buffer = b""
        self.prompt = ""
        self.log: list[tuple[str, str]] = []   # (command, reply)

    def _recv(self, deadline: float, what: str) -> bytes:
        while True:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                if not self.alive():
                    raise RenodeDiedError(f"Renode exited while the monitor was {what}") from None
                if time.monotonic() > deadline:
                    raise RenodeCommandError(f"Renode's monitor did not answer in time while {what}") from None
                continue
            except OSError as exc:
                raise RenodeDiedError(f"Renode's monitor connection broke while {what}: {exc}") from exc
            if not data:
                raise RenodeDiedError(f"Renode closed its monitor while {what}")
            return IAC.sub(b"", data)

    def read_prompt(self, timeout_s: float, what: str) -> str:
        """Everything up to the next prompt (exclusive)."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.buffer.decode(errors="replace")
            m = PROMPT.search(text)
            if m:
                self.buffer = b""
                self.prompt = m.group(1)
                return text[:m.start() + 1]
            self.buffer += self._recv(deadline, what)

    def command(self, cmd: str, timeout_s: float = COMMAND_TIMEOUT_S) -> str:
        """Send ``cmd``; its reply, without the echo, ``\\r``s and blank lines."""
        self.sock.sendall(cmd.encode() + b"\n")
        text = self.read_prompt(timeout_s, f"running {cmd!r}")
        text = text.lstrip("\r\n")
        text = text.removeprefix(cmd)
        reply = "\n".join(line for line in text.replace("\r", "").split("\n") if line.strip())
        self.log.append((cmd, reply))
        return reply

    def quit(self, timeout_s: float = QUIT_TIMEOUT_S) -> None:
        """``quit``: no prompt follows; wait for the socket's EOF."""
        self.sock.sendall(b"quit\n")
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(RenodeDiedError, RenodeCommandError):
            while time.monotonic() < deadline:
                self._recv(deadline, "quitting")


class RenodeLine:
    """The UART (pyserial ``socket://``), which notices a Renode that died or a CPU that halted."""

    def __init__(self, port: serial.SerialBase, target: RenodeTarget) -> None:
        self.port = port
        self.target = target
        self.received = bytearray()   # every byte the firmware sent: the DWT readings come from it

    @property
    def in_waiting(self) -> int:
        n = int(self.port.in_waiting)
        if n == 0:
            self.target.check_alive()
        return n

    def read(self, size: int = 1) -> bytes:
        try:
            data = bytes(self.port.read(size))
        except (serial.SerialException, OSError) as exc:   # Renode closed the terminal: it is going
            self.target.wait_exit(1.0)
            self.target.check_alive()
            raise RenodeDiedError(f"Renode closed the UART terminal during the run: {exc}") from exc
        if not data:
            self.target.check_alive()
        self.received += data
        return data

    def write(self, data: bytes) -> int | None:
        self.target.check_alive()
        return cast(int | None, self.port.write(data))

    def close(self) -> None:
        self.port.close()


class RenodeTarget(Target):
    """Renode; an ``InstructionCounter`` (exact, from hooks at the firmware's marker functions)."""

    name = "renode"
    instructions_per_s = 10e6     # Renode with three hooks on a slow CI machine, for timeouts

    def __init__(self, board: BoardSpec, **_ignored: object) -> None:
        super().__init__(board)
        spec = renode_spec(board)
        if spec is None:
            raise ConfigError(f"board {board.name!r} has no [renode] section; it cannot run under Renode")
        self.spec = spec
        self.image: FirmwareImage | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.monitor: Monitor | None = None
        self.line: RenodeLine | None = None
        self.workdir: Path | None = None
        self.log_lines: list[str] = []
        self.log_lock = threading.Lock()
        self.reader: threading.Thread | None = None
        self.binary = ""
        self.mips: int | None = None
        self.stopped = False

    # -- set-up --------------------------------------------------------------------------------------
    def load(self, image: FirmwareImage) -> None:
        if image.board != self.board.name:
            raise ConfigError(f"image built for board {image.board!r} loaded on {self.board.name!r}")
        missing = sorted(set(MARKER_HOOKS) - set(image.markers))
        if missing:
            raise ConfigError(f"image {image.elf_path} has no marker functions {missing}; Renode cannot count it")
        self.image = image

    def _read_stdout(self, stream: Any, path: Path) -> None:
        with path.open("w") as log:
            for raw in iter(stream.readline, b""):
                text = raw.decode(errors="replace").rstrip("\r\n")
                with self.log_lock:
                    self.log_lines.append(text)
                log.write(text + "\n")
                log.flush()

    def log_text(self, tail: int = 40) -> str:
        with self.log_lock:
            return "\n".join(self.log_lines[-tail:])

    def _platform(self) -> str:
        """The ``@path`` of the platform: Renode's own, or a generated one adding a DWT."""
        assert self.workdir is not None
        if self.spec.dwt_hz is None:
            return self.spec.platform
        repl = self.workdir / "platform_dwt.repl"
        repl.write_text(f"// {self.spec.platform} plus a DWT (cycle counter) at 0xE0001000\n"
                        f"using \"{self.spec.platform}\"\n\n"
                        f"dwt: Miscellaneous.DWT @ sysbus 0xE0001000\n    frequency: {self.spec.dwt_hz}\n")
        return str(repl)

    def _connect_monitor(self, port: int) -> Monitor:
        deadline = time.monotonic() + MONITOR_TIMEOUT_S
        while True:
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc is not None else None
                raise RenodeDiedError(f"Renode ({self.binary}) exited with code {code} before its monitor "
                                      f"answered:\n{self.log_text()}")
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RenodeCommandError(f"Renode's monitor on port {port} did not accept a connection "
                                             f"within {MONITOR_TIMEOUT_S} s:\n{self.log_text()}") from None
                time.sleep(0.02)
        sock.settimeout(0.2)
        mon = Monitor(sock, lambda: self.proc is not None and self.proc.poll() is None)
        mon.read_prompt(MONITOR_TIMEOUT_S, "greeting")
        return mon

    def _run(self, cmd: str, timeout_s: float = COMMAND_TIMEOUT_S) -> str:
        assert self.monitor is not None
        reply = self.monitor.command(cmd, timeout_s)
        if command_failed(reply):
            raise RenodeCommandError(f"Renode refused `{cmd}`:\n{reply}")
        return reply

    def open(self) -> SerialLike:
        if self.image is None:
            raise TargetError("RenodeTarget.open() before load()")
        self.binary = renode_binary()
        self.workdir = make_workdir(self.board.name)
        tmp = self.workdir / "tmp"   # Renode's own TMPDIR: it deletes stale $TMPDIR/renode-* folders
        tmp.mkdir()
        port = _free_port()
        env = shutil.which("env") or "/usr/bin/env"   # execs Renode: the pid stays Renode's
        try:
            self.proc = spawn([env, "-C", str(self.workdir), f"TMPDIR={tmp}", self.binary, "--disable-xwt",
                               "--plain", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise RenodeMissingError(f"cannot run Renode ({self.binary}): {exc}; {INSTALL_HINT}") from exc
        self.reader = threading.Thread(target=self._read_stdout, args=(self.proc.stdout, self.workdir / "renode.log"),
                                       daemon=True)
        self.reader.start()
        self.monitor = self._connect_monitor(port)
        self._run(f'mach create "{MACHINE}"')
        platform = self._platform()
        assert self.monitor is not None
        reply = self.monitor.command(f"machine LoadPlatformDescription @{platform}")
        if command_failed(reply) or any(t in reply for t in PLATFORM_ERRORS):
            raise RenodePlatformError(f"board {self.board.name}: Renode cannot load the platform {platform!r} "
                                      f"([renode] platform in {self.board.source}):\n{reply}")
        if self.spec.mips is not None:
            self._run(f"sysbus.cpu PerformanceInMips {self.spec.mips}")
        mips = re.search(r"0x[0-9A-Fa-f]+", self._run("sysbus.cpu PerformanceInMips"))
        self.mips = int(mips.group(0), 16) if mips else self.spec.mips
        self._run(f"sysbus LoadELF @{self.image.elf_path}")
        uart_port = _free_port()
        self._run(f'emulation CreateServerSocketTerminal {uart_port} "{TERMINAL}" false')
        self._run(f"connector Connect sysbus.{self.spec.uart} {TERMINAL}")
        for marker, label in MARKER_HOOKS.items():
            self._run(f"sysbus.cpu AddHook {self.image.markers[marker]:#010x} "
                      f"\"self.Log(LogLevel.Info, 'HIL-{label} %d' % self.ExecutedInstructions)\"")
        try:   # one UART client for the whole session, connected before start (DESIGN §4b)
            port_ = serial.serial_for_url(f"socket://127.0.0.1:{uart_port}", timeout=0.05)
        except (serial.SerialException, OSError) as exc:
            raise RenodeCommandError(f"could not connect to Renode's UART terminal on port {uart_port}: "
                                     f"{exc}") from exc
        self.line = RenodeLine(port_, self)
        self._run("start")
        # a firmware for another memory map halts the CPU at start, silently but for the log (DESIGN §4b)
        if self._run("sysbus.cpu IsHalted").strip().endswith("True"):
            deadline = time.monotonic() + 1.0
            while HALTED not in self.log_text() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.check_alive()
            raise RenodeMemoryMapError(f"the CPU halted at start on Renode's platform {self.spec.platform!r}; "
                                       f"the firmware does not fit its memory map:\n{self.log_text(12)}")
        return self.line

    # -- during the run ------------------------------------------------------------------------------
    def check_alive(self) -> None:
        """Raise when Renode died, or the CPU halted because the firmware does not fit the platform."""
        if self.stopped:
            return
        if self.proc is not None and self.proc.poll() is not None:
            raise RenodeDiedError(f"Renode exited with code {self.proc.returncode} during the run:\n"
                                  f"{self.log_text()}")
        with self.log_lock:
            halted = [line for line in self.log_lines if HALTED in line]
        if halted:
            assert self.image is not None
            raise RenodeMemoryMapError(
                f"the firmware's memory map does not fit Renode's platform {self.spec.platform!r}: "
                f"{halted[0].split('] ', 1)[-1]} (flash at {self.board.flash_origin:#x}, RAM at "
                f"{self.board.ram_origin:#x} in board {self.board.name}; build it for that board):\n"
                f"{self.log_text(12)}")

    def wait_exit(self, timeout_s: float) -> None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout_s)

    # -- ending --------------------------------------------------------------------------------------
    def stop(self, timeout_s: float) -> TargetResult:
        """Read the CPU's state, ``pause``, ``quit``, and kill Renode by its pid if it lingers."""
        details: dict[str, Any] = {"renode_platform": self.spec.platform, "renode_mips": self.mips,
                                   "counter": "renode-insn"}
        if self.spec.dwt_hz is not None:
            details["renode_dwt_hz"] = self.spec.dwt_hz
            if self.line is not None:
                details.update(dwt_readings(self.line.received.decode(errors="replace").splitlines()))
        self.stopped = True
        if self.monitor is not None and self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(TargetError, ValueError, IndexError):
                details["renode_executed_instructions"] = int(self._run("sysbus.cpu ExecutedInstructions",
                                                                        timeout_s).split()[-1], 16)
                details["renode_pc"] = self._run("sysbus.cpu PC", timeout_s).split()[-1]
                self._run("pause", timeout_s)
        code = self.end_process(timeout_s)
        return TargetResult(exit_code=None, runner=renode_version(self.binary) if self.binary else "absent",
                            stderr_tail=self.log_text(), log_path=self.logs()[0],
                            details={**details, "renode_exit_code": code})

    def end_process(self, timeout_s: float = QUIT_TIMEOUT_S) -> int | None:
        """``quit``, then kill by pid; Renode's exit code (None when it had to be killed)."""
        if self.line is not None:
            with contextlib.suppress(Exception):
                self.line.close()
            self.line = None
        code: int | None = None
        if self.proc is not None:
            if self.monitor is not None and self.proc.poll() is None:
                with contextlib.suppress(OSError, TargetError):
                    self.monitor.quit(min(timeout_s, QUIT_TIMEOUT_S))
            try:
                code = self.proc.wait(timeout=min(timeout_s, QUIT_TIMEOUT_S))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)
            if self.reader is not None:
                self.reader.join(timeout=5)   # stdout to EOF: every hook line is in
            self.proc = None
        if self.monitor is not None:
            with contextlib.suppress(OSError):
                self.monitor.sock.close()
            self.monitor = None
        return code

    def instruction_count(self, session: FirmwareSession) -> InstructionCount:
        with self.log_lock:
            lines = list(self.log_lines)
        errors = [m.group(0) for line in lines if (m := HOOK_ERROR.search(line))]
        if errors:
            raise RenodeHookError(f"a marker hook failed in Renode, so its counts are missing: {errors[0]}")
        count = count_from_plugin_log(hook_groups_log(lines), session)
        return InstructionCount(per_inference=count.per_inference, per_layer=count.per_layer, source="renode-insn")

    def logs(self) -> tuple[str | None, str]:
        if self.workdir is None:
            return None, ""
        if keep_logs():
            return str(self.workdir / "renode.log"), ""
        return None, "Renode's log is removed at the end of the run; rerun with HILBENCH_KEEP_LOGS=1 to keep it"

    def close(self) -> None:
        """End Renode if it still runs and remove the work folder (kept with ``HILBENCH_KEEP_LOGS=1``)."""
        self.stopped = True
        self.end_process()
        if self.workdir is not None and not keep_logs():
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def make_target(board: BoardSpec, **settings: object) -> RenodeTarget:
    return RenodeTarget(board, **settings)


BACKEND = Backend(name="renode", factory=make_target, section="renode", parse_section=parse_renode_section,
                  description="Renode 1.16; exact instruction counts from hooks at the marker functions")
