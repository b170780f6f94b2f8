"""The serial port (the probe's virtual COM port) of a debug probe, found by the probe's unique id.

ST-LINK/V2-1 and V3, DAPLink/CMSIS-DAP and J-Link OB probes carry the board's UART as a USB CDC
interface of the probe itself, so the port's USB serial number (``ListPortInfo.serial_number``) is the
probe's unique id as pyOCD reports it. That equality is the only match made: two ports with it (a probe
with two VCPs, or two probes sharing a serial number) are refused, naming both, never guessed between.
ST-LINK/V2 (not V2-1) has no VCP: its board's UART needs a USB-serial adapter, named by its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from harness.errors import ConfigError, TargetError


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

    ``ports`` defaults to ``serial.tools.list_ports.comports()``. Raises ``TargetError`` when no port has
    that serial number (listing the ports seen) and ``ConfigError`` when several have it (listing them).
    """
    seen = list_serial_ports() if ports is None else list(ports)
    found = ports_for_probe(unique_id, seen)
    if len(found) == 1:
        return found[0].device
    if found:
        raise ConfigError(f"debug probe {unique_id}: {len(found)} serial ports carry its serial number: "
                          f"{'; '.join(describe_port(p) for p in found)}; name the board's UART port yourself")
    listed = "; ".join(describe_port(p) for p in sorted(seen, key=lambda p: p.device)) or "none"
    raise TargetError(f"debug probe {unique_id}: no serial port with USB serial number {unique_id} (a probe "
                      f"without a virtual COM port, e.g. ST-LINK/V2, needs the port named); ports seen: {listed}")
