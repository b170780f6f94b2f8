"""``serial_port_for_probe``: the probe's virtual COM port by USB serial number, never a guess."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError, TargetError
from harness.targets.ports import describe_port, list_serial_ports, serial_port_for_probe

STLINK = "066DFF343239424E43134728"


class Port:
    """A ``serial.tools.list_ports_common.ListPortInfo`` as far as ports.py reads it."""

    def __init__(self, device: str, serial_number: str | None, vid: int | None = 0x0483, pid: int | None = 0x374B,
                 location: str | None = "1-1:1.2", description: str = "STM32 STLink") -> None:
        self.device, self.serial_number, self.vid, self.pid = device, serial_number, vid, pid
        self.location, self.description = location, description


UART = Port("/dev/ttyS0", None, None, None, None, "ttyS0")
FTDI = Port("/dev/ttyUSB0", "A50285BI", 0x0403, 0x6001, "1-3:1.0", "FT232R USB UART")


def test_the_port_with_the_probes_serial_number() -> None:
    ports = [UART, FTDI, Port("/dev/ttyACM1", "other"), Port("/dev/ttyACM0", STLINK)]
    assert serial_port_for_probe(STLINK, ports) == "/dev/ttyACM0"
    assert serial_port_for_probe(STLINK.lower(), ports) == "/dev/ttyACM0"     # case ignored
    assert serial_port_for_probe("A50285BI", ports) == "/dev/ttyUSB0"


def test_a_part_of_the_serial_number_is_not_a_match() -> None:
    with pytest.raises(TargetError, match="no serial port with USB serial number 066DFF34"):
        serial_port_for_probe("066DFF34", [Port("/dev/ttyACM0", STLINK)])


def test_two_candidates_are_refused_naming_both() -> None:
    ports = [Port("/dev/ttyACM1", STLINK, location="1-1:1.4"), Port("/dev/ttyACM0", STLINK, location="1-1:1.2")]
    with pytest.raises(ConfigError) as exc:
        serial_port_for_probe(STLINK, ports)
    assert str(exc.value) == (
        f"debug probe {STLINK}: 2 serial ports carry its serial number: "
        f"/dev/ttyACM0 (0483:374b, serial {STLINK}, location 1-1:1.2, STM32 STLink); "
        f"/dev/ttyACM1 (0483:374b, serial {STLINK}, location 1-1:1.4, STM32 STLink); "
        "name the board's UART port yourself")


def test_none_found_lists_the_ports_seen() -> None:
    with pytest.raises(TargetError) as exc:
        serial_port_for_probe(STLINK, [UART, FTDI])
    msg = str(exc.value)
    assert msg.startswith(f"debug probe {STLINK}: no serial port with USB serial number {STLINK}")
    assert msg.endswith("ports seen: /dev/ttyS0 (no serial number); "
                        "/dev/ttyUSB0 (0403:6001, serial A50285BI, location 1-3:1.0, FT232R USB UART)")
    with pytest.raises(TargetError, match="ports seen: none$"):
        serial_port_for_probe(STLINK, [])


def test_an_empty_serial_number_matches_nothing() -> None:
    with pytest.raises(TargetError):
        serial_port_for_probe("", [Port("/dev/ttyACM0", ""), UART])


def test_the_real_port_list_is_read_through_pyserial(monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(hasattr(p, "serial_number") and hasattr(p, "device") for p in list_serial_ports())
    monkeypatch.setattr("harness.targets.ports.list_serial_ports", lambda: [Port("/dev/ttyACM3", STLINK)])
    assert serial_port_for_probe(STLINK) == "/dev/ttyACM3"
    assert describe_port(FTDI).startswith("/dev/ttyUSB0 (0403:6001")
