"""Client of the MLPerf Tiny (EEMBC) DUT serial protocol (DESIGN §5).

Drives any MLPerf Tiny-compatible firmware, ours or not: commands end with
``%``; replies are CR LF lines, ``m-`` messages and ``e-`` errors, each reply
closed by ``m-ready``. Tolerated quirks of the reference firmware: unprefixed
lines (its `db load` overflow message), results with 3 or 6 decimals and a
trailing comma, stray blank lines. Our extensions are ``m-hil-*`` lines with
key=value fields.

The port is anything with pyserial's ``read(n)``/``write(b)``; ``read`` returns
what arrived before its timeout.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from harness.errors import FirmwareFault, FirmwareOutputError, TargetError, TargetTimeout

MAX_COMMAND_CHARS = 80
DB_CHUNK_BYTES = (MAX_COMMAND_CHARS - len("db ")) // 2
BOOT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 10.0
MAX_LINE_BYTES = 1 << 16
_PRINTABLE = re.compile(rb"^[\x20-\x7e\t]*$")
_FAULT_FIELD = re.compile(r"(\w+)=(0x[0-9a-fA-F]+|\d+)")


class SerialLike(Protocol):
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...


@dataclass(frozen=True)
class InferReply:
    lines: tuple[str, ...]
    lap_us: tuple[int, ...]
    results: tuple[float, ...]


def parse_fields(line: str) -> dict[str, str]:
    """``key=value`` fields of an extension line.

    >>> parse_fields("m-hil-layer index=3 op=CONV_2D insn=123456")
    {'index': '3', 'op': 'CONV_2D', 'insn': '123456'}
    """
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


def parse_results(line: str) -> tuple[float, ...]:
    """Scores from an ``m-results-[...]`` line (3 or 6 decimals, optional trailing comma)."""
    m = re.match(r"^m-results-\[(.*)\]$", line)
    if m is None:
        raise FirmwareOutputError("not an m-results line", line)
    try:
        return tuple(float(v) for v in m.group(1).split(",") if v.strip())
    except ValueError:
        raise FirmwareOutputError("results are not numbers", line) from None


class DutClient:
    """One conversation with a firmware over ``port``. Every wait has a deadline."""

    def __init__(self, port: SerialLike, *, transcript: list[str] | None = None,
                 log_path: str | None = None) -> None:
        self.port = port
        self.transcript: list[str] = transcript if transcript is not None else []
        self.tail: deque[str] = deque(maxlen=12)
        self.log_path = log_path
        self._buf = b""

    # -- lines -----------------------------------------------------------------------------------------
    def _read_line(self, deadline: float, waiting_for: str) -> str:
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                partial = self._buf.decode("ascii", errors="replace")
                tail = [*self.tail, partial] if partial else list(self.tail)
                raise TargetTimeout(f"no {waiting_for} from the firmware in time", tail, self.log_path)
            try:
                chunk = self.port.read(4096)
            except Exception as exc:  # pyserial raises SerialException when QEMU closes the socket
                raise TargetError(f"serial line closed while waiting for {waiting_for}: {exc}") from exc
            self._buf += chunk
            if len(self._buf) > MAX_LINE_BYTES and b"\n" not in self._buf:
                raise FirmwareOutputError(f"a line longer than {MAX_LINE_BYTES} bytes", self._buf[:80])
        raw, self._buf = self._buf.split(b"\n", 1)
        raw = raw.rstrip(b"\r")
        if not _PRINTABLE.match(raw):
            raise FirmwareOutputError(f"garbage on the serial line while waiting for {waiting_for}", raw)
        line = raw.decode("ascii")
        self.transcript.append(line)
        self.tail.append(line)
        if line.startswith("e-hil-fault"):
            fields = _FAULT_FIELD.findall(line)
            raise FirmwareFault("the firmware reported a fault", {k: int(v, 0) for k, v in fields})
        return line

    def read_until_ready(self, timeout_s: float, waiting_for: str) -> list[str]:
        """Lines up to and excluding ``m-ready``."""
        deadline = time.monotonic() + timeout_s
        lines = []
        while True:
            line = self._read_line(deadline, waiting_for)
            if line == "m-ready":
                return lines
            if line:
                lines.append(line)

    def command(self, cmd: str, timeout_s: float = COMMAND_TIMEOUT_S, allow_error: bool = False) -> list[str]:
        """Send one command; its reply lines. An ``e-`` reply raises unless ``allow_error``."""
        if len(cmd) > MAX_COMMAND_CHARS or "%" in cmd:
            raise ValueError(f"command {cmd!r}: at most {MAX_COMMAND_CHARS} characters and no '%'")
        self.transcript.append(f"> {cmd}%")
        self.port.write(cmd.encode("ascii") + b"%")
        lines = self.read_until_ready(timeout_s, f"reply to {cmd.split(' ')[0]!r}")
        errors = [line for line in lines if line.startswith("e-")]
        if errors and not allow_error:
            raise FirmwareOutputError(f"the firmware refused {cmd[:24]!r}", errors[0])
        return lines

    # -- MLPerf Tiny commands --------------------------------------------------------------------------
    def wait_boot(self, timeout_s: float = BOOT_TIMEOUT_S) -> list[str]:
        return self.read_until_ready(timeout_s, "m-ready after boot")

    def name(self) -> str:
        for line in self.command("name"):
            m = re.match(r"^m-name-dut-\[(.*)\]$", line)
            if m:
                return m.group(1)
        raise FirmwareOutputError("no m-name-dut line in the reply to 'name'", "")

    def profile(self) -> dict[str, str]:
        out = {}
        for line in self.command("profile"):
            m = re.match(r"^m-(profile|model)-\[(.*)\]$", line)
            if m:
                out[m.group(1)] = m.group(2)
        return out

    def load_input(self, data: bytes) -> None:
        reply = self.command(f"db load {len(data)}")
        if not any(f"Expecting {len(data)} bytes" in line for line in reply):
            raise FirmwareOutputError("db load was not acknowledged", reply[-1] if reply else "")
        done = False
        for i in range(0, len(data), DB_CHUNK_BYTES):
            reply = self.command("db " + data[i:i + DB_CHUNK_BYTES].hex())
            done = done or "m-load-done" in reply
        if not done:
            raise FirmwareOutputError("the firmware did not answer m-load-done after the last chunk", "")

    def infer(self, n: int, warmup: int, timeout_s: float) -> InferReply:
        lines = self.command(f"infer {n} {warmup}", timeout_s=timeout_s)
        laps = tuple(int(line[len("m-lap-us-"):]) for line in lines if re.match(r"^m-lap-us-\d+$", line))
        results = [line for line in lines if line.startswith("m-results-")]
        if "m-infer-done" not in lines or not results:
            raise FirmwareOutputError("the reply to infer lacks m-infer-done or m-results", lines[-1] if lines else "")
        return InferReply(tuple(lines), laps, parse_results(results[-1]))

    # -- hilbench extensions ---------------------------------------------------------------------------
    def ext_fields(self, cmd: str, prefix: str) -> list[dict[str, str]]:
        return [parse_fields(line) for line in self.command(cmd) if line.startswith(prefix + " ")]

    def output_bytes(self) -> bytes:
        fields = self.ext_fields("hil-output", "m-hil-output")
        if not fields or "hex" not in fields[0]:
            raise FirmwareOutputError("no m-hil-output line in the reply to hil-output", "")
        try:
            return bytes.fromhex(fields[0]["hex"])
        except ValueError:
            raise FirmwareOutputError("m-hil-output hex is not hex", fields[0]["hex"][:80]) from None

    def exit(self, status: int = 0) -> None:
        """Ask the firmware to stop (semihosting exit under emulation). The line may close at once."""
        self.transcript.append(f"> hil-exit {status}%")
        self.port.write(f"hil-exit {status}%".encode("ascii"))
