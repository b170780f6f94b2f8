"""Client of the MLPerf Tiny (EEMBC) DUT serial protocol (DESIGN §5).

Drives any MLPerf Tiny-compatible firmware, ours or not: commands end with
``%``; replies are CR LF lines, ``m-`` messages and ``e-`` errors, each reply
closed by ``m-ready``. Tolerated quirks of the reference firmware: unprefixed
lines (its `db load` overflow message), results with 3 or 6 decimals and a
trailing comma, stray blank lines. Our extensions are ``m-hil-*`` lines with
key=value fields.

The input goes over with MLPerf Tiny's ``db`` commands (38 bytes a round trip), or, when the firmware's
``profile`` reply advertises it (``m-hil-fast-load block_bytes=B``), with our ``hil-load``: raw bytes in
blocks of B, each followed by its CRC-32 and acknowledged (``load_input``, ``fast_load``).

Several graph inputs and outputs (our extension; a firmware built for one input and one output has none
of it, and answers ``hil-input`` with ``e-[Unknown command: hil-input]``):

- ``hil-input K%`` selects the input that the next load writes; the reply is
  ``m-hil-input index=K bytes=N`` (N: that input's size), or ``e-[...]`` for K outside 0..inputs-1.
  The next load (``db load N`` and its ``db <hex>`` chunks, or ``hil-load N``) writes input K, and every
  load returns the selection to input 0: a load without ``hil-input`` before it, as MLPerf Tiny tooling
  sends it, writes input 0. So the host loads input 0 with a plain load, then ``hil-input 1``, load,
  ``hil-input 2``, load, ... (``load_inputs``). ``db print`` shows the input loaded last.
- ``hil-output%`` answers one line per graph output, in the graph's order:
  ``m-hil-output index=K bytes=N hex=<2N hex digits>`` (``outputs``). A firmware of one output answers
  its one line without ``index=``.
- ``results``, ``infer``'s ``m-results-[...]`` and ``hil-info``'s sizes are the first input's and the
  first output's, as MLPerf Tiny tooling expects.

The port is anything with pyserial's ``read(n)``/``write(b)``; ``read`` returns
what arrived before its timeout.
"""

from __future__ import annotations

import re
import time
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.errors import FirmwareFault, FirmwareOutputError, TargetError, TargetTimeout

MAX_COMMAND_CHARS = 80
DB_CHUNK_BYTES = (MAX_COMMAND_CHARS - len("db ")) // 2
FAST_LOAD_ATTEMPTS = 3  # hil-loads started for one input when the firmware refuses a block's CRC-32
_CRC_REFUSED = "e-[hil-load: CRC-32 mismatch"
_FAST_LOAD_LINE = re.compile(r"m-hil-fast-load block_bytes=([1-9]\d*)")
BOOT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 10.0
MAX_LINE_BYTES = 1 << 16
_PRINTABLE = re.compile(rb"^[\x20-\x7e\t]*$")
_FAULT_FIELD = re.compile(r"(\w+)=(0x[0-9a-fA-F]+|\d+)\b")
_FAULT_REASON = re.compile(r"\breason=(\S+)")
_LAYER_CRC_FIELDS = {"index": re.compile(r"\d+"), "op": re.compile(r"[A-Z][A-Z0-9_]*"),
                     "bytes": re.compile(r"\d+"), "crc32": re.compile(r"[0-9a-fA-F]{8}")}
_TIMING_LINE = re.compile(r"m-hil-timing clock_source=(dwt|systick) cpu_hz=([1-9]\d*) inferences=(\d+) "
                          r"cycles=(\d+(?:,\d+)*)?")
TIMING_MAX_INFERENCES = 32  # the firmware keeps the cycles of the first 32 timed inferences
_OUTPUT_FIELDS = {"hex": re.compile(r"(?:[0-9a-fA-F]{2})*")}
_LAYER_OUT_FIELDS = {"index": re.compile(r"\d+"), "offset": re.compile(r"\d+"),
                     "hex": re.compile(r"(?:[0-9a-fA-F]{2}){1,32}")}


class SerialLike(Protocol):
    @property
    def in_waiting(self) -> int: ...  # bytes that can be read without waiting
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...


@dataclass(frozen=True)
class InferReply:
    lines: tuple[str, ...]
    lap_us: tuple[int, ...]
    results: tuple[float, ...]


@dataclass(frozen=True)
class FirmwareTiming:
    """The firmware's own timing of the last ``infer`` block (``hil-timing``).

    ``clock_source``: "dwt" (the DWT cycle counter) or "systick" (no DWT cycle counter, or one that
    does not count, as under QEMU). ``cpu_hz``: the clock the core runs at (``bench_clock_hz``: the board's
    rated clock, or the one its clock set-up fell back to). ``cycles``: ``bench_cycles()`` per timed
    inference, at ``cpu_hz``, for the first min(``inferences``, 32).
    """

    clock_source: str
    cpu_hz: int
    inferences: int
    cycles: tuple[int, ...]


def parse_timing(line: str) -> FirmwareTiming:
    """One ``m-hil-timing`` line; raises ``FirmwareOutputError`` (keeping the line) unless it is exactly
    that line with min(inferences, 32) cycle counts.

    >>> parse_timing("m-hil-timing clock_source=systick cpu_hz=25000000 inferences=2 cycles=1200,1199")
    FirmwareTiming(clock_source='systick', cpu_hz=25000000, inferences=2, cycles=(1200, 1199))
    """
    m = _TIMING_LINE.fullmatch(line)
    if m is None:
        raise FirmwareOutputError("not an m-hil-timing line (clock_source=dwt|systick cpu_hz=N inferences=N "
                                  "cycles=C1,C2,...)", line)
    inferences = int(m.group(3))
    cycles = tuple(int(c) for c in m.group(4).split(",")) if m.group(4) else ()
    if len(cycles) != min(inferences, TIMING_MAX_INFERENCES):
        raise FirmwareOutputError(f"m-hil-timing has {len(cycles)} cycle counts for {inferences} inferences; "
                                  f"expected {min(inferences, TIMING_MAX_INFERENCES)}", line)
    return FirmwareTiming(m.group(1), int(m.group(2)), inferences, cycles)


def parse_fields(line: str) -> dict[str, str]:
    """``key=value`` fields of an extension line.

    >>> parse_fields("m-hil-layer index=3 op=CONV_2D insn=123456")
    {'index': '3', 'op': 'CONV_2D', 'insn': '123456'}
    """
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


def parse_ext_line(line: str, prefix: str, patterns: dict[str, re.Pattern[str]]) -> dict[str, str]:
    """The fields of one ``prefix`` line, each present and matching its pattern in full.

    Raises ``FirmwareOutputError`` (keeping the line) when one is missing or malformed.

    >>> parse_ext_line("m-hil-layer-out index=2 offset=0 hex=7f80", "m-hil-layer-out",
    ...                {"index": re.compile("[0-9]+"), "hex": re.compile("[0-9a-f]+")})
    {'index': '2', 'offset': '0', 'hex': '7f80'}
    """
    fields = parse_fields(line)
    bad = [k for k, pattern in patterns.items() if pattern.fullmatch(fields.get(k, "")) is None]
    if bad:
        raise FirmwareOutputError(f"{prefix} line with a missing or malformed {', '.join(bad)}", line)
    return fields


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
        # bytes per hil-load block, once the firmware's profile reply advertised the fast load; else None
        self.fast_load_block_bytes: int | None = None

    # -- lines -----------------------------------------------------------------------------------------
    def _read_line(self, deadline: float, waiting_for: str) -> str:
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                partial = self._buf.decode("ascii", errors="replace")
                tail = [*self.tail, partial] if partial else list(self.tail)
                raise TargetTimeout(f"no {waiting_for} from the firmware in time", tail, self.log_path)
            try:
                chunk = self.port.read(self.port.in_waiting or 1)  # what has arrived, else wait for a byte
            except TargetError:
                raise   # a target's own line knows better what ended it (e.g. the emulator died)
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
            fields = {k: int(v, 0) for k, v in _FAULT_FIELD.findall(line)}
            if "layer" in fields:  # a layer's kernel returned an error status, not a CPU fault
                reason = _FAULT_REASON.search(line)
                raise FirmwareFault(
                    f"the firmware refused layer {fields['layer']} (operator number {fields.get('op')}): "
                    f"{reason.group(1).replace('-', ' ') if reason else 'no reason given'}", fields)
            raise FirmwareFault("the firmware reported a fault", fields)
        return line

    def read_until_ready(self, timeout_s: float, waiting_for: str) -> list[str]:
        """Lines up to and excluding ``m-ready``."""
        deadline = time.monotonic() + timeout_s
        lines: list[str] = []
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
        """``profile`` and ``model`` of the ``profile`` reply; notes whether the firmware has ``hil-load``."""
        out = {}
        for line in self.command("profile"):
            m = re.match(r"^m-(profile|model)-\[(.*)\]$", line)
            if m:
                out[m.group(1)] = m.group(2)
            fast = _FAST_LOAD_LINE.fullmatch(line)
            if fast:
                self.fast_load_block_bytes = int(fast.group(1))
        return out

    def load_input(self, data: bytes, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """Load ``data`` into the firmware's input: ``hil-load`` when the last ``profile`` reply advertised
        it, else MLPerf Tiny ``db`` chunks. A ``hil-load`` whose block the firmware refused for its CRC-32
        is started again, up to ``FAST_LOAD_ATTEMPTS`` loads in all. Raises ``FirmwareOutputError`` when
        the firmware refuses or does not acknowledge the load, ``TargetTimeout`` when it does not answer."""
        if self.fast_load_block_bytes is None:
            self.db_load(data)
            return
        for attempt in range(1, FAST_LOAD_ATTEMPTS + 1):
            try:
                self.fast_load(data, self.fast_load_block_bytes, timeout_s)
                return
            except FirmwareOutputError as exc:
                if not str(exc.line).startswith(_CRC_REFUSED) or attempt == FAST_LOAD_ATTEMPTS:
                    raise

    def fast_load(self, data: bytes, block_bytes: int, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """One ``hil-load N``: ``data`` in raw blocks of ``block_bytes``, each followed by its CRC-32 (zlib's,
        4 bytes little-endian) and acknowledged ``m-hil-ack offset=O`` before the next goes.

        A block whose CRC-32 does not match what arrived ends the load with an ``e-`` line; that, and any
        other reply, raises ``FirmwareOutputError``. ``timeout_s`` bounds each block's wait.
        """
        cmd = f"hil-load {len(data)}"
        self.transcript.append(f"> {cmd}%")
        self.port.write(cmd.encode("ascii") + b"%")
        head = self._load_reply(time.monotonic() + timeout_s, "the reply to 'hil-load'")
        if head != f"m-hil-load bytes={len(data)}":
            raise FirmwareOutputError(f"hil-load was not acknowledged with m-hil-load bytes={len(data)}", head)
        for offset in range(0, len(data), block_bytes):
            block = data[offset:offset + block_bytes]
            crc = zlib.crc32(block)
            self.transcript.append(f"> [hil-load block offset={offset} bytes={len(block)} crc32={crc:08x}]")
            self.port.write(block + crc.to_bytes(4, "little"))
            reply = self._load_reply(time.monotonic() + timeout_s, f"the ack of hil-load block {offset}")
            if reply != f"m-hil-ack offset={offset}":
                raise FirmwareOutputError(f"hil-load block at offset {offset} was not acknowledged", reply)
        lines = self.read_until_ready(timeout_s, "m-load-done after hil-load")
        if "m-load-done" not in lines:
            raise FirmwareOutputError("the firmware did not answer m-load-done after the last hil-load block",
                                      lines[-1] if lines else "")

    def _load_reply(self, deadline: float, waiting_for: str) -> str:
        """The next non-empty line during ``hil-load``; an ``e-`` line (the firmware gave up and returned to
        its command loop) raises ``FirmwareOutputError`` once its ``m-ready`` has been read."""
        line = ""
        while not line:
            line = self._read_line(deadline, waiting_for)
        if line.startswith("e-"):
            self.read_until_ready(max(deadline - time.monotonic(), 0.5), "m-ready after a refused hil-load")
            raise FirmwareOutputError("the firmware refused the hil-load", line)
        return line

    def select_input(self, index: int, size: int, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """``hil-input index``: the next load writes graph input ``index``, of ``size`` bytes. Raises
        ``FirmwareOutputError`` unless the reply is ``m-hil-input index=<index> bytes=<size>``."""
        lines = self.command(f"hil-input {index}", timeout_s=timeout_s)
        want = f"m-hil-input index={index} bytes={size}"
        if want not in lines:
            raise FirmwareOutputError(f"hil-input {index} was not acknowledged with {want!r}",
                                      lines[-1] if lines else "")

    def load_inputs(self, inputs: Sequence[bytes], timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """Load each graph input in turn: input 0 with a plain load (as MLPerf Tiny tooling does), each
        further input ``k`` after ``hil-input k`` (``load_input`` each)."""
        for k, data in enumerate(inputs):
            if k > 0:
                self.select_input(k, len(data), timeout_s)
            self.load_input(data, timeout_s)

    def db_load(self, data: bytes) -> None:
        """MLPerf Tiny's load: ``db load N``, then ``db <hex>`` chunks of ``DB_CHUNK_BYTES``, one round trip
        each. Raises ``FirmwareOutputError`` without ``m-[Expecting N bytes]`` or a final ``m-load-done``."""
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
        """The first graph output's bytes (``hil-output``)."""
        return self.outputs()[0]

    def outputs(self) -> list[bytes]:
        """Every graph output's bytes, in the graph's order (``hil-output``: one line, or one per output
        with ``index=0, 1, ...`` in order). Raises ``FirmwareOutputError`` on a malformed or missing line,
        indexes out of order, or a byte count other than ``bytes=``."""
        out: list[bytes] = []
        lines = [line for line in self.command("hil-output") if line.startswith("m-hil-output ")]
        for line in lines:
            f = parse_ext_line(line, "m-hil-output", _OUTPUT_FIELDS)
            if ("index" in f and int(f["index"]) != len(out)) or ("index" not in f and len(lines) != 1):
                raise FirmwareOutputError(f"m-hil-output out of order: expected index {len(out)}", line)
            data = bytes.fromhex(f["hex"])
            if "bytes" in f and int(f["bytes"]) != len(data):
                raise FirmwareOutputError(f"m-hil-output has {len(data)} bytes of hex; bytes={f['bytes']}", line[:80])
            out.append(data)
        if not out:
            raise FirmwareOutputError("no m-hil-output line in the reply to hil-output", "")
        return out

    def layer_crcs(self, timeout_s: float = COMMAND_TIMEOUT_S) -> list[tuple[int, str, int, int]]:
        """``(index, op, bytes, crc32)`` of every layer's output, from one inference on the loaded input.

        The firmware runs the layers one by one and takes the CRC-32 (zlib's) of each output
        right after its layer. Raises ``FirmwareOutputError`` on a malformed line, on indices
        that are not 0, 1, 2, ... in order, or when there is no line at all.
        """
        rows: list[tuple[int, str, int, int]] = []
        for line in self.command("hil-layer-crc", timeout_s=timeout_s):
            if not line.startswith("m-hil-layer-crc "):
                continue
            f = parse_ext_line(line, "m-hil-layer-crc", _LAYER_CRC_FIELDS)
            if int(f["index"]) != len(rows):
                raise FirmwareOutputError(f"m-hil-layer-crc out of order: expected index {len(rows)}", line)
            rows.append((int(f["index"]), f["op"], int(f["bytes"]), int(f["crc32"], 16)))
        if not rows:
            raise FirmwareOutputError("no m-hil-layer-crc line in the reply to hil-layer-crc", "")
        return rows

    def layer_output(self, index: int, timeout_s: float = COMMAND_TIMEOUT_S) -> bytes:
        """The output bytes of layer ``index`` after layers 0..index ran on the loaded input.

        Raises ``FirmwareOutputError`` on an ``e-`` reply (no such layer), a malformed line, or
        chunks that are not contiguous from offset 0.
        """
        data = bytearray()
        for line in self.command(f"hil-layer-out {index}", timeout_s=timeout_s):
            if not line.startswith("m-hil-layer-out "):
                continue
            f = parse_ext_line(line, "m-hil-layer-out", _LAYER_OUT_FIELDS)
            if int(f["index"]) != index or int(f["offset"]) != len(data):
                raise FirmwareOutputError(f"m-hil-layer-out chunk out of place: expected index {index} "
                                          f"offset {len(data)}", line)
            data += bytes.fromhex(f["hex"])
        if not data:
            raise FirmwareOutputError(f"no m-hil-layer-out line in the reply to hil-layer-out {index}", "")
        return bytes(data)

    def timing(self, timeout_s: float = COMMAND_TIMEOUT_S) -> FirmwareTiming:
        """The cycles of each timed inference of the last ``infer`` (``hil-timing``).

        Raises ``FirmwareOutputError`` when the reply has not exactly one well-formed m-hil-timing line.
        """
        reply = self.command("hil-timing", timeout_s=timeout_s)
        lines = [line for line in reply if line.startswith("m-hil-timing")]
        if len(lines) != 1:
            raise FirmwareOutputError(f"{len(lines)} m-hil-timing lines in the reply to hil-timing; expected 1",
                                      lines[-1] if lines else "")
        return parse_timing(lines[0])

    def exit(self, status: int = 0) -> None:
        """Ask the firmware to stop (semihosting exit under emulation). The line may close at once."""
        self.transcript.append(f"> hil-exit {status}%")
        self.port.write(f"hil-exit {status}%".encode("ascii"))
