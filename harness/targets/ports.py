"""The serial port (the probe's virtual COM port) of a debug probe, found by the probe's unique id.

ST-LINK/V2-1 and V3, DAPLink/CMSIS-DAP and J-Link OB probes carry the board's UART as a USB CDC
interface of the probe itself, so the port's USB serial number (``ListPortInfo.serial_number``) is the
probe's unique id as pyOCD reports it. That equality is the only match made: two ports with it (a probe
with two VCPs, or two probes sharing a serial number) are refused, naming both, never guessed between.
ST-LINK/V2 (not V2-1) has no VCP: its board's UART needs a USB-serial adapter, named by its path.

``open_serial_port`` opens a port (any pyserial URL) exclusively, saying whether it is missing or busy;
``WatchedLine`` is the opened port as the protocol client reads it, watched for the hardware backend.
"""

from __future__ import annotations

import contextlib
import errno
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, cast

import serial

from harness.errors import SerialPortAmbiguousError, SerialPortError
from harness.protocol import parse_fields


class PortInfo(Protocol):
    """What is read of ``serial.tools.list_ports_common.ListPortInfo``."""

    device: str
    serial_number: str | None
    location: str | None
    vid: int | None
    pid: int | None
    description: str


def describe_port(port: PortInfo) -> str:
    """``/dev/ttyACM0 (0483:374b, serial 066DFF..., location 1-1.2:1.2, STM32 STLink)``."""
    bits = []
    if port.vid is not None and port.pid is not None:
        bits.append(f"{port.vid:04x}:{port.pid:04x}")
    bits.append(f"serial {port.serial_number}" if port.serial_number else "no serial number")
    if port.location:
        bits.append(f"location {port.location}")
    if port.description and port.description not in ("n/a", port.device, port.device.rsplit("/", 1)[-1]):
        bits.append(port.description)
    return f"{port.device} ({', '.join(bits)})"


def list_serial_ports() -> list[Any]:
    from serial.tools.list_ports import comports
    return list(comports())


def ports_for_probe(unique_id: str, ports: Iterable[PortInfo]) -> list[PortInfo]:
    """The ports whose USB serial number is ``unique_id`` (case ignored), sorted by device path."""
    want = unique_id.strip().lower()
    found = [p for p in ports if want and (p.serial_number or "").strip().lower() == want]
    return sorted(found, key=lambda p: p.device)


def serial_port_for_probe(unique_id: str, ports: Sequence[PortInfo] | None = None) -> str:
    """The device path (``/dev/ttyACM0``, ``COM5``) of the one serial port of probe ``unique_id``.

    ``ports`` defaults to ``serial.tools.list_ports.comports()``. Raises ``SerialPortError`` (a
    ``TargetError``) when no port has that serial number (listing the ports seen) and
    ``SerialPortAmbiguousError`` (a ``ConfigError``) when several have it (listing them).
    """
    seen = list_serial_ports() if ports is None else list(ports)
    found = ports_for_probe(unique_id, seen)
    if len(found) == 1:
        return found[0].device
    if found:
        raise SerialPortAmbiguousError(f"debug probe {unique_id}: {len(found)} serial ports carry its serial number: "
                          f"{'; '.join(describe_port(p) for p in found)}; name the board's UART port yourself")
    listed = "; ".join(describe_port(p) for p in sorted(seen, key=lambda p: p.device)) or "none"
    raise SerialPortError(f"debug probe {unique_id}: no serial port with USB serial number {unique_id} (a probe "
                      f"without a virtual COM port, e.g. ST-LINK/V2, needs the port named); ports seen: {listed}")


def open_serial_port(url: str, baud: int) -> serial.SerialBase:
    """``url`` opened exclusively at ``baud``; raises ``SerialPortError`` saying whether it is missing or busy."""
    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=0.05, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        code = getattr(exc, "errno", None)
        text = str(exc).lower()
        why = ("busy: another program (a terminal, another harness) has it open" if "lock" in text
               or code in (errno.EBUSY, errno.EAGAIN) else
               "missing: no such device (is the board plugged in?)" if code == errno.ENOENT
               or "no such file" in text else "it cannot be opened")
        raise SerialPortError(f"serial port {url}: {why} ({exc})") from exc


class WatchedLine:
    """The serial port as ``DutClient`` reads it, watched: whether the firmware has booted (an ``m-ready``),
    its last lines (for a ``board-lost`` tail) and its last ``m-hil-info`` (for the cross-check)."""

    def __init__(self, port: serial.SerialBase, url: str) -> None:
        self.port, self.url = port, url
        self.answered = False
        self.tail: deque[str] = deque(maxlen=12)
        self.info: dict[str, str] = {}
        self._buf = b""

    @property
    def in_waiting(self) -> int:
        return int(self.port.in_waiting)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.port.read(size))
        if data:
            *lines, self._buf = (self._buf + data).split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r").decode("ascii", errors="replace")
                self.tail.append(line)
                self.answered = self.answered or line == "m-ready"
                if line.startswith("m-hil-info "):
                    self.info = parse_fields(line)
            self._buf = self._buf[-4096:]
        return data

    def write(self, data: bytes) -> int | None:
        return cast(int | None, self.port.write(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()
