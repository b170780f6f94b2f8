"""``HardwareTarget``, the real-board backend, with QEMU as the board.

QEMU runs ``mps2-an386`` halted (``-S``) with no image: the firmware reaches it only through the debug
probe (QEMU's gdb stub, ``gdb:HOST:PORT:system_reset``), as a board's flash does through OpenOCD or pyOCD's
gdbserver; its UART is a TCP socket named as the board's serial port (``socket://``). The board file is
``tests/data/boards/qemu-m4-hw.toml``: qemu-m4's memory, UART and clock, a ``[hardware]`` section, no
``[qemu]``. What differs from a board on a desk: the probe writes RAM, not flash (no flash algorithm
runs), QEMU's DWT cycle counter reads 0 (the firmware falls back to SysTick: ``systick-cycles``), and the
port is a socket, not a USB CDC device found by serial number (``test_hardware_faults.py`` covers that).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.boards import BoardSpec, Core, load_board_file
from harness.errors import WrongBoardError
from harness.firmware.build import BuildOptions, build_firmware
from harness.model import load_model
from harness.model.zoo import resolve_model
from harness.runner import RunOptions, run_model
from harness.targets.base import CycleCounter, ProbeCarrier, create_target
from harness.targets.hardware import HardwareTarget, elf_symbols
from harness.targets.probe import elf_load_segments
from harness.targets.process import make_workdir, spawn
from tests.conftest import requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]
BOARD_FILE = Path(__file__).parents[1] / "data" / "boards" / "qemu-m4-hw.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class QemuBoard:
    """A QEMU "board" on the desk: its gdb stub (the probe) and its UART socket (the serial port)."""

    proc: subprocess.Popen[bytes]
    gdb_port: int
    uart_port: int

    @property
    def probe(self) -> str:
        return f"gdb:127.0.0.1:{self.gdb_port}:system_reset"

    @property
    def port(self) -> str:
        return f"socket://127.0.0.1:{self.uart_port}"

    def options(self, **kw: object) -> RunOptions:
        return RunOptions(**{"probe": self.probe, "port": self.port, "inferences": 3, **kw})  # type: ignore[arg-type]


@contextlib.contextmanager
def qemu_board() -> Iterator[QemuBoard]:
    """QEMU halted at reset with no image loaded, its gdb stub and UART listening on free ports."""
    workdir = make_workdir("hw-test")
    gdb_port, uart_port = free_port(), free_port()
    log = (workdir / "qemu.stderr").open("wb")
    proc = spawn(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                  "-serial", f"tcp:127.0.0.1:{uart_port},server=on,wait=off",
                  "-gdb", f"tcp:127.0.0.1:{gdb_port}", "-S", "-icount", "shift=0,align=off,sleep=off"],
                 stdout=log, stderr=log)
    log.close()
    try:
        yield QemuBoard(proc, gdb_port, uart_port)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def qemu() -> Iterator[QemuBoard]:
    with qemu_board() as q:
        yield q


@pytest.fixture(scope="module")
def board() -> BoardSpec:
    return load_board_file(BOARD_FILE)


def test_a_run_on_the_qemu_board_through_the_gdb_probe(qemu: QemuBoard, board: BoardSpec) -> None:
    record = run_model("tinycnn", board, qemu.options(), target_name="hardware")
    assert record.status == "ok", record.error
    assert record.matches_reference and record.output_hex == record.reference_hex     # bit-exact
    assert record.target == "hardware"
    assert record.latency_source == "systick-cycles"          # QEMU's DWT reads 0: the firmware says SysTick
    assert record.cycles_per_inference is not None and record.cycles_per_inference > 0
    assert record.latency_estimated is False
    assert record.latency_us == pytest.approx(record.cycles_per_inference / 25.0)   # at the board's 25 MHz
    assert record.layers and all("cycles" in layer for layer in record.layers)
    prov = record.provenance
    assert prov["probe_id"] == f"gdb-remote:127.0.0.1:{qemu.gdb_port}"
    assert prov["serial_port"] == qemu.port
    assert prov["emulator"] == f"GDB remote 127.0.0.1:{qemu.gdb_port}"      # the runner: what drove the board
    assert prov["probe_reset"] == "monitor system_reset"
    assert prov["firmware_parked"] is True                   # halted in bench_exit's loop after hil-exit
    assert prov["probe_stack_used_bytes"] == record.stack_bytes, prov["stack_cross_check"]
    assert prov["stack_cross_check"] == "agrees"
    assert prov["probe_arena_bytes"] == record.arena_bytes and prov["arena_cross_check"] == "agrees"
    assert "-DBENCH_SEMIHOSTING=0" in prov["cflags"]                  # a board serves no semihosting


def test_the_target_loads_verifies_and_resets_through_the_probe(qemu: QemuBoard, board: BoardSpec) -> None:
    """The lifecycle by hand: nothing acquired before load; after load the image is in memory and the core
    sits at the reset vector; the capabilities are there."""
    image = build_firmware(load_model(resolve_model("tinycnn").path), board, "tinycnn",
                           BuildOptions(semihosting=False))
    target = create_target("hardware", board, probe=qemu.probe, port=qemu.port, counter="auto")
    assert isinstance(target, HardwareTarget) and isinstance(target, CycleCounter)
    assert isinstance(target, ProbeCarrier) and target.probe is None
    assert target.semihosting is False and target.instructions_per_s == 25e6 / 4
    with target:
        target.load(image)
        probe = target.probe
        assert probe is not None
        for addr, data in elf_load_segments(image.elf_path):
            assert probe.read_memory(addr, len(data)) == data
        reset = elf_symbols(image.elf_path)["Reset_Handler"][0] & ~1
        assert probe.read_core_registers()["pc"] == reset
    assert target.probe is None
    target.close()                                             # idempotent


def test_another_core_behind_the_probe_is_the_wrong_board(qemu: QemuBoard, board: BoardSpec) -> None:
    """The CPUID check: QEMU's core is a Cortex-M4; a board file saying Cortex-M7 is refused before writing."""
    image = build_firmware(load_model(resolve_model("tinycnn").path), board, "tinycnn",
                           BuildOptions(semihosting=False))
    m7 = dataclasses.replace(board, core=Core.CORTEX_M7)
    with HardwareTarget(m7, probe=qemu.probe, port=qemu.port) as target, \
            pytest.raises(WrongBoardError) as exc:
        target.load(image)
    assert exc.value.status == "wrong-board"
    assert "has a cortex-m7, but the core behind probe gdb-remote:127.0.0.1:" in str(exc.value)
    assert "is a cortex-m4 (CPUID 0x410fc24" in str(exc.value)
