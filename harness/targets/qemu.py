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
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import cast

import serial

from harness.boards import BoardSpec
from harness.errors import ConfigError, EmulatorMissingError, TargetError
from harness.protocol import SerialLike
from harness.targets.base import Target, TargetResult, register_target
from harness.targets.plugin_build import build_plugin
from harness.targets.process import keep_logs, make_workdir, spawn
from harness.types import FirmwareImage

QEMU = "qemu-system-arm"
INSTALL_HINT = "install it with `sudo apt-get install qemu-system-arm`, or run ./bootstrap.sh"
CONNECT_TIMEOUT_S = 10.0
ICOUNT = "shift=0,align=off,sleep=off"  # 1 instruction = 1 ns of virtual time
MARKER_NAMES = {"hil_mark_infer_begin": "begin", "hil_mark_layer": "layer", "hil_mark_infer_end": "end"}


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


class QemuTarget(Target):
    name = "qemu"

    def __init__(self, board: BoardSpec, counter: str = "auto") -> None:
        super().__init__(board)
        if board.qemu is None:
            raise ConfigError(f"board {board.name!r} has no [qemu] section; it cannot run under QEMU")
        if counter not in ("auto", "plugin", "icount"):
            raise ConfigError(f"instruction counter {counter!r}; expected one of ['auto', 'icount', 'plugin']")
        self.counter = counter
        self.image: FirmwareImage | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: serial.SerialBase | None = None
        self.workdir: Path | None = None
        self.mode = "none"

    def load(self, image: FirmwareImage) -> None:
        if image.board != self.board.name:
            raise ConfigError(f"image built for board {image.board!r} loaded on {self.board.name!r}")
        self.image = image

    def _command(self, port: int, mode: str) -> list[str]:
        assert self.board.qemu is not None and self.image is not None and self.workdir is not None
        cmd = [QEMU, "-M", self.board.qemu.machine, "-display", "none", "-monitor", "none",
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
                raise TargetError(f"QEMU ({self.board.qemu.machine if self.board.qemu else '?'}) exited with "
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
        # a path only when it outlives close()
        kept = str(self.workdir) if self.workdir is not None and keep_logs() else None
        return TargetResult(exit_code=code, counter=self.mode, counter_log=log, emulator=qemu_version(),
                            stderr_tail=stderr, log_path=kept)

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


register_target("qemu", QemuTarget)
