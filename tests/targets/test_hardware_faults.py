"""Each fault of a real-board run is its own status in the record, with a message naming the thing.

Probes through pyOCD are the fake pyOCD plugin of ``test_pyocd_probe.py`` (pyOCD's own probe discovery runs;
below the probe, a fake session and core). Everything the GDB path can do wrong runs against QEMU as the
board (``test_hardware_qemu.py``): a probe whose memory reads back differently, a port that is missing or
held by another program, a board killed or gone silent mid-run.
"""

from __future__ import annotations

import os
import re
import socket
import types
from collections.abc import Iterator
from typing import Any, cast

import pytest
import serial
from fakes.hilbench_pyocd_fake import FakeCore, FakeProgrammer, FakePyocdProbe, FakeSession
from pyocd.probe import aggregator
from test_hardware_qemu import BOARD_FILE, QemuBoard, qemu_board

from harness.boards import BoardSpec, load_board_file
from harness.errors import BoardLostError, ConfigError, MeasurementError, TargetTimeout
from harness.runner import RunOptions, run_model
from harness.store.record import RunRecord
from harness.targets import hardware, pyocd_probe
from harness.targets.base import FirmwareSession
from harness.targets.gdb_remote import GdbRemoteProbe
from harness.targets.hardware import HardwareTarget, parse_gdb_selection
from harness.targets.ports import WatchedLine, open_serial_port
from harness.types import FirmwareImage
from tests.conftest import requires_cc, requires_qemu

NUCLEO = {"unique_id": "066DFF343239424E43134728", "description": "STM32 STLink", "vendor": "STMicroelectronics",
          "product": "STM32 STLink", "board": "NUCLEO-F446RE", "target": "stm32f446re"}
BARE = {"unique_id": "E6614103E7", "description": "Generic CMSIS-DAP", "vendor": "Raspberry Pi",
        "product": "Debugprobe"}


class Port:
    """A ``ListPortInfo`` as far as ports.py reads it."""

    def __init__(self, device: str, serial_number: str | None, location: str = "1-1:1.2") -> None:
        self.device, self.serial_number, self.vid, self.pid = device, serial_number, 0x0483, 0x374B
        self.location, self.description = location, "STLink Virtual COM Port"


@pytest.fixture(scope="module")
def board() -> BoardSpec:
    return load_board_file(BOARD_FILE)


@pytest.fixture
def attached(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakePyocdProbe]]:
    """The probes pyOCD sees (only the fake class is asked), each session on one fake core; no serial port."""
    probes: list[FakePyocdProbe] = []
    monkeypatch.setattr(aggregator, "PROBE_CLASSES", {"hilbench_fake": FakePyocdProbe})
    monkeypatch.setattr(FakePyocdProbe, "attached", probes)
    monkeypatch.setattr("harness.targets.ports.list_serial_ports", list)
    core = FakeCore()

    def new_session(probe: Any, target_type: str | None) -> FakeSession:
        info = probe.associated_board_info
        return FakeSession(probe, target_type or (info.target if info else "cortex_m"), core)
    monkeypatch.setattr(pyocd_probe, "_new_session", new_session)
    yield probes


def run(board: BoardSpec, **options: Any) -> RunRecord:
    record = run_model("tinycnn", board, RunOptions(inferences=2, warmup=0, **options), target_name="hardware")
    assert record.error, record.status
    return record


# -- the probe, through pyOCD -----------------------------------------------------------------------------


@requires_cc
def test_no_probe(board: BoardSpec, attached: list[FakePyocdProbe]) -> None:
    record = run(board)
    assert record.status == "probe-missing"
    assert record.error is not None and record.error.startswith("no debug probe found (pyOCD ")
    attached.append(FakePyocdProbe(**BARE))
    record = run(board, probe="0123ABC")
    assert record.status == "probe-missing"
    assert record.error == "no debug probe with unique id '0123ABC'; attached: E6614103E7 (Generic CMSIS-DAP)"


@requires_cc
def test_two_probes_and_none_chosen_lists_both(board: BoardSpec, attached: list[FakePyocdProbe]) -> None:
    attached.extend([FakePyocdProbe(**NUCLEO), FakePyocdProbe(**BARE)])
    record = run(board)
    assert record.status == "probe-ambiguous"
    assert record.error == ("2 debug probes attached and none chosen: E6614103E7 (Generic CMSIS-DAP), "
                            "066DFF343239424E43134728 (NUCLEO-F446RE); choose one by its unique id")


@requires_cc
def test_the_wrong_board_on_the_probe(board: BoardSpec, attached: list[FakePyocdProbe]) -> None:
    attached.append(FakePyocdProbe(**NUCLEO))          # the board file asks for pyocd_target "cortex_m"
    record = run(board)
    assert record.status == "wrong-board"
    assert record.error == ("debug probe 066DFF343239424E43134728 is on a NUCLEO-F446RE (stm32f446re), not the "
                            "target type cortex_m asked for: wrong board on this probe?")


@requires_cc
@pytest.mark.parametrize(("programmer", "message"), [
    ({"fail": "Program Page error"}, r"flashing .*\.elf failed: Program Page error \(address 0x08000000"),
    ({"corrupt_at": 0x40}, r"verify of .*\.elf failed: at 0x00000040 read 0x.., wrote 0x.."),
])
def test_a_flash_or_verify_failure_through_pyocd(board: BoardSpec, attached: list[FakePyocdProbe],
                                                 monkeypatch: pytest.MonkeyPatch, programmer: dict[str, Any],
                                                 message: str) -> None:
    monkeypatch.setattr(pyocd_probe, "_file_programmer", lambda s: FakeProgrammer(s, **programmer))
    attached.append(FakePyocdProbe(**BARE))
    record = run(board)
    assert record.status == "flash"
    assert record.error is not None
    assert record.error.startswith(f"debug probe {BARE['unique_id']} on cortex_m: ")
    assert re.search(message, record.error), record.error


@requires_cc
def test_the_probes_serial_port_missing_or_ambiguous(board: BoardSpec, attached: list[FakePyocdProbe],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyocd_probe, "_file_programmer", FakeProgrammer)
    attached.append(FakePyocdProbe(**BARE))
    record = run(board)                                  # flashed and verified; then no port has its serial
    assert record.status == "serial-port"
    assert record.error == ("debug probe E6614103E7: no serial port with USB serial number E6614103E7 (a probe "
                            "without a virtual COM port, e.g. ST-LINK/V2, needs the port named); ports seen: none")
    two = [Port("/dev/ttyACM1", BARE["unique_id"], "1-1:1.4"), Port("/dev/ttyACM0", BARE["unique_id"])]
    monkeypatch.setattr("harness.targets.ports.list_serial_ports", lambda: two)
    record = run(board)
    assert record.status == "serial-port"
    assert record.error is not None and "2 serial ports carry its serial number: /dev/ttyACM0" in record.error
    assert "/dev/ttyACM1" in record.error


# -- the GDB path, against QEMU as the board --------------------------------------------------------------


@pytest.fixture
def qemu() -> Iterator[QemuBoard]:
    with qemu_board() as q:
        yield q


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])   # nothing listens once the socket is closed


@requires_cc
def test_no_gdb_server_at_the_address_is_probe_missing(board: BoardSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setattr(GdbRemoteProbe, "__init__", _quick_gdb_init)
    record = run(board, probe=f"gdb:127.0.0.1:{port}")
    assert record.status == "probe-missing"
    assert record.error is not None and record.error.startswith(f"no GDB server answers at 127.0.0.1:{port} ")


_real_gdb_init = GdbRemoteProbe.__init__


def _quick_gdb_init(self: GdbRemoteProbe, host: str, port: int, **kw: Any) -> None:
    _real_gdb_init(self, host, port, **{**kw, "connect_timeout_s": 0.2})


def test_a_malformed_gdb_selection_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"probe 'gdb:localhost'; expected gdb:HOST:PORT or gdb:HOST:PORT:RESET"):
        parse_gdb_selection("gdb:localhost")


class CorruptingProbe(GdbRemoteProbe):
    """QEMU's gdb stub, but one byte reads back changed: what a flash that did not take looks like."""

    AT = 0x123

    def read_memory(self, addr: int, n: int) -> bytes:
        data = bytearray(super().read_memory(addr, n))
        if addr <= self.AT < addr + n:
            data[self.AT - addr] ^= 0xFF
        return bytes(data)


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_verify_failure_names_the_first_differing_byte(qemu: QemuBoard, board: BoardSpec,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "make_probe",
                        lambda selection, b: CorruptingProbe("127.0.0.1", qemu.gdb_port, reset_command="system_reset"))
    record = run(board, probe=qemu.probe, port=qemu.port)
    assert record.status == "flash"
    assert record.error is not None
    assert "verify of " in record.error and ": at 0x00000123 read 0x" in record.error, record.error
    assert f"probe gdb-remote:127.0.0.1:{qemu.gdb_port}" in record.error


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_missing_serial_port(qemu: QemuBoard, board: BoardSpec) -> None:
    url = f"socket://127.0.0.1:{closed_port()}"
    record = run(board, probe=qemu.probe, port=url)
    assert record.status == "serial-port"
    assert record.error is not None and record.error.startswith(f"serial port {url}: it cannot be opened (")
    with qemu_board() as fresh:   # a second session on the same gdb stub is not the point here
        record = run(board, probe=fresh.probe, port="/dev/ttyHILBENCH-none")
    assert record.status == "serial-port"
    assert record.error is not None
    assert record.error.startswith("serial port /dev/ttyHILBENCH-none: missing: no such device"), record.error


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_gdb_probe_needs_the_port_named(qemu: QemuBoard, board: BoardSpec) -> None:
    record = run(board, probe=qemu.probe)
    assert record.status == "serial-port"
    assert record.error is not None and "does not say which serial port is its board's; name it" in record.error


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_busy_serial_port(qemu: QemuBoard, board: BoardSpec) -> None:
    """A real tty (a pseudo-terminal) held with an exclusive lock, as another harness or a terminal would."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = serial.Serial(path, exclusive=True)
    try:
        record = run(board, probe=qemu.probe, port=path)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert record.status == "serial-port"
    assert record.error is not None
    assert record.error.startswith(f"serial port {path}: busy: another program"), record.error


class Line:
    """The board's real serial port, with a hook when the harness sends ``infer``."""

    def __init__(self, port: serial.SerialBase, on_infer: Any) -> None:
        self.port, self.on_infer, self.silent = port, on_infer, False

    @property
    def in_waiting(self) -> int:
        return 0 if self.silent else int(self.port.in_waiting)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.port.read(size))
        return b"" if self.silent else data

    def write(self, data: bytes) -> int | None:
        if data.startswith(b"infer "):
            self.on_infer(self)
        return cast(int | None, self.port.write(data))

    def close(self) -> None:
        self.port.close()


def _hook(monkeypatch: pytest.MonkeyPatch, on_infer: Any) -> None:
    monkeypatch.setattr(hardware, "open_serial_port", lambda url, baud: Line(open_serial_port(url, baud), on_infer))


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_board_killed_mid_run_is_board_lost(qemu: QemuBoard, board: BoardSpec,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _hook(monkeypatch, lambda line: qemu.proc.kill())
    record = run(board, probe=qemu.probe, port=qemu.port)
    assert record.status == "board-lost"
    assert record.error is not None
    assert record.error.startswith(f"board 'qemu-m4-hw' stopped answering mid-run after it had booted (its serial "
                                   f"port {qemu.port} closed): serial line closed while waiting for reply to 'infer'")
    assert "the debug probe cannot reach the core either" in record.error
    assert "last lines from the firmware:" in record.error and "m-load-done" in record.error   # the tail


@pytest.mark.qemu
@requires_qemu
@requires_cc
def test_a_board_gone_silent_mid_run_is_board_lost(qemu: QemuBoard, board: BoardSpec,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def silence(line: Line) -> None:
        line.silent = True
    _hook(monkeypatch, silence)
    monkeypatch.setattr("harness.procedures.BOOT_MARGIN_S", 0.0)   # the infer timeout is then timeout_s
    record = run(board, probe=qemu.probe, port=qemu.port, timeout_s=1.0)
    assert record.status == "board-lost"
    assert record.error is not None
    assert record.error.startswith("board 'qemu-m4-hw' stopped answering mid-run after it had booted (went "
                                   "silent): no reply to 'infer' from the firmware in time; the debug probe "
                                   "halted the core at pc=0x"), record.error
    assert "last lines from the firmware:" in record.error and "m-load-done" in record.error


def test_a_timeout_is_board_lost_only_after_the_firmware_answered(board: BoardSpec) -> None:
    """The rule on its own: a loopback line stands for the port; ``m-ready`` seen = the board had booted."""
    target = HardwareTarget(board, probe="gdb:127.0.0.1:1")
    target._line = WatchedLine(serial.serial_for_url("loop://", timeout=0.05), "loop://")
    with pytest.raises(TargetTimeout) as before, target:
        raise TargetTimeout("no m-ready after boot from the firmware in time", ["garbage"])
    assert type(before.value) is TargetTimeout and before.value.status == "timeout"

    target._line = line = WatchedLine(serial.serial_for_url("loop://", timeout=0.05), "loop://")
    line.write(b"m-ready\r\nm-load-done\r\n")
    while line.read(64):
        pass
    with pytest.raises(BoardLostError) as after, target:
        raise TargetTimeout("no reply to 'infer' from the firmware in time", ["m-load-done"], hint="keep logs")
    assert after.value.status == "board-lost" and after.value.tail == ["m-load-done"]
    assert after.value.hint == "keep logs" and isinstance(after.value.__cause__, TargetTimeout)
    assert str(after.value).startswith("board 'qemu-m4-hw' stopped answering mid-run after it had booted (went "
                                       "silent): no reply to 'infer' from the firmware in time; no probe connected")


# -- the cycle counter ----------------------------------------------------------------------------------


def session(*lines: str, inferences: int = 2, layers: int = 2) -> FirmwareSession:
    image = cast(FirmwareImage, types.SimpleNamespace(layers=tuple(range(layers))))
    return FirmwareSession(lines, image, warmup=0, inferences=inferences)


LAYERS = ("> hil-layers%", "m-hil-layer index=0 op=CONV_2D macs=10 timer_ticks=70",
          "m-hil-layer index=1 op=SOFTMAX macs=0 timer_ticks=30")


def test_cycles_per_inference_and_layer_from_the_firmware(board: BoardSpec) -> None:
    target = HardwareTarget(board)
    dwt = target.cycle_count(session(*LAYERS, "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=2 "
                                              "cycles=101,99"))
    assert (dwt.per_inference, dwt.per_layer, dwt.clock_hz, dwt.source) == ((101, 99), (70, 30), 25_000_000,
                                                                            "dwt-cycles")
    systick = target.cycle_count(session(*LAYERS, "m-hil-timing clock_source=systick cpu_hz=25000000 "
                                                  "inferences=2 cycles=5,6"))
    assert systick.source == "systick-cycles"


@pytest.mark.parametrize(("lines", "message"), [
    (LAYERS, "no m-hil-timing line from the firmware"),
    ((*LAYERS, "m-hil-timing clock_source=dwt cpu_hz=80000000 inferences=2 cycles=1,2"),
     r"the firmware says it runs at cpu_hz=80000000, the board file \(.*qemu-m4-hw.toml\) says clock_hz=25000000"),
    (("m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=2 cycles=1,2", *LAYERS[:2]),
     "expected 2 m-hil-layer lines with timer_ticks, got 1"),
    ((*LAYERS, "m-hil-timing clock_source=dwt cpu_hz=25000000 inferences=1 cycles=1"),
     "m-hil-timing covers 1 inferences; 2 were timed"),
])
def test_cycle_count_refuses_what_does_not_add_up(board: BoardSpec, lines: tuple[str, ...], message: str) -> None:
    with pytest.raises(MeasurementError, match=message):
        HardwareTarget(board).cycle_count(session(*lines))


def test_the_probe_selection(board: BoardSpec) -> None:
    probe = hardware.make_probe("gdb:localhost:3333", board)
    assert isinstance(probe, GdbRemoteProbe) and probe.reset_command == "reset halt"
    assert hardware.make_probe("gdb:127.0.0.1:1234:system_reset", board).reset_command == "system_reset"  # type: ignore[attr-defined]
    usb = hardware.make_probe("066DFF34", board)
    assert isinstance(usb, pyocd_probe.PyocdProbe) and usb.target_type == "cortex_m"
