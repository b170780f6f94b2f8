"""GdbRemoteProbe against QEMU's -gdb stub, on real tinycnn firmware for qemu-m4 (mps2-an386)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.boards import load_board
from harness.firmware.build import BuildOptions, build_firmware
from harness.model import load_model
from harness.model.zoo import resolve_model
from harness.protocol import DutClient
from harness.targets.gdb_remote import GdbRemoteProbe
from harness.targets.probe import SIGINT, SIGTRAP, DebugProbe, elf_load_segments
from harness.targets.process import make_workdir, spawn
from harness.types import FirmwareImage
from tests.conftest import requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]
STOP_TIMEOUT_S = 10.0


def _build(test_hook: int) -> FirmwareImage:
    ref = resolve_model("tinycnn")
    return build_firmware(load_model(ref.path), load_board("qemu-m4"), "tinycnn", BuildOptions(test_hook=test_hook))


@pytest.fixture(scope="module")
def image() -> FirmwareImage:
    return _build(0)


@pytest.fixture(scope="module")
def faulting_image() -> FirmwareImage:
    return _build(1)   # test hook 1: a bus fault at the start of bench_invoke


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def symbol(elf_path: Path, name: str) -> tuple[int, int]:
    """(address with the Thumb bit clear, size) of a function in the ELF."""
    with elf_path.open("rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        sym = symtab.get_symbol_by_name(name)
        assert sym, name
        return int(sym[0]["st_value"]) & ~1, int(sym[0]["st_size"])


def vector_table(elf_path: Path) -> tuple[int, int]:
    """(initial SP, reset vector) from the ELF's segment at address 0."""
    data = dict(elf_load_segments(elf_path))[0]
    sp, pc = struct.unpack_from("<II", data)
    return sp, pc


@contextlib.contextmanager
def qemu_gdb(elf: Path, uart: bool = False) -> Iterator[tuple[GdbRemoteProbe, DutClient | None]]:
    """QEMU halted at reset (-S) with its gdb stub on a free port, a connected probe, and the UART
    as a DutClient when ``uart`` (the core is halted, so nothing it prints is lost)."""
    workdir = make_workdir("gdb-test")
    gdb_port, uart_port = _free_port(), _free_port()
    chardev = f"tcp:127.0.0.1:{uart_port},server=on,wait=off" if uart else "null"
    log = (workdir / "qemu.stderr").open("wb")
    proc = spawn(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                  "-serial", chardev, "-semihosting-config", "enable=on,target=native",
                  "-gdb", f"tcp:127.0.0.1:{gdb_port}", "-S", "-kernel", str(elf)], stdout=log, stderr=log)
    log.close()
    probe = GdbRemoteProbe("127.0.0.1", gdb_port)
    line: serial.SerialBase | None = None
    try:
        probe.connect()
        client = None
        if uart:  # QEMU listens on both sockets once the gdb stub answered
            line = serial.serial_for_url(f"socket://127.0.0.1:{uart_port}", timeout=0.05)
            client = DutClient(line)
        yield probe, client
    finally:
        probe.close(detach=False)
        if line is not None:
            line.close()
        proc.kill()
        proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def test_registers_at_reset_come_from_the_vector_table(image: FirmwareImage) -> None:
    with qemu_gdb(image.elf_path) as (probe, _):
        assert isinstance(probe, DebugProbe)
        assert probe.target_type == "cortex-m" and probe.from_target_xml
        assert probe.unique_id.startswith("gdb-remote:127.0.0.1:")
        regs = probe.read_core_registers()
        sp, reset = vector_table(image.elf_path)
        assert (regs["sp"], regs["pc"]) == (sp, reset & ~1)
        assert regs["xpsr"] & 0x01000000                   # Thumb state
        assert probe.read_register("pc") == regs["pc"]     # p agrees with g


def test_memory_reads_match_the_elf_across_chunks(image: FirmwareImage) -> None:
    addr, data = elf_load_segments(image.elf_path)[0]
    n = min(len(data), 3 * probe_chunk() + 123)   # several m packets, the last one short
    with qemu_gdb(image.elf_path) as (probe, _):
        assert probe.read_memory(addr, 64) == data[:64]  # the vector table
        assert probe.read_memory(addr, n) == data[:n]


def probe_chunk() -> int:
    return (4096 - 8) // 2   # QEMU 7.2 offers PacketSize=1000 (hex)


def test_load_elf_writes_every_segment(image: FirmwareImage) -> None:
    segments = elf_load_segments(image.elf_path)
    with qemu_gdb(image.elf_path) as (probe, _):
        for addr, data in segments:
            probe.write_memory(addr, bytes(len(data)))
            assert probe.read_memory(addr, len(data)) == bytes(len(data))
        probe.load_elf(image.elf_path)
        for addr, data in segments:
            assert probe.read_memory(addr, len(data)) == data


def test_breakpoint_at_the_inference_marker_then_the_semihosting_exit(image: FirmwareImage) -> None:
    marker = image.markers["hil_mark_infer_begin"]
    with qemu_gdb(image.elf_path, uart=True) as (probe, client):
        assert client is not None
        probe.set_breakpoint(marker)
        probe.resume()
        client.wait_boot()
        client.port.write(b"infer 1 0%")
        stop = probe.wait_for_stop(STOP_TIMEOUT_S)
        assert (stop.kind, stop.signal) == ("signal", SIGTRAP)
        assert probe.read_core_registers()["pc"] == marker
        probe.clear_breakpoint(marker)
        probe.resume()
        assert "m-infer-done" in client.read_until_ready(STOP_TIMEOUT_S, "the reply to infer")
        client.exit(3)
        end = probe.wait_for_stop(STOP_TIMEOUT_S)
        assert (end.kind, end.exit_code, end.ended) == ("exited", 3, True)


def test_a_fault_stops_in_the_fault_handler_with_the_stacked_frame(faulting_image: FirmwareImage) -> None:
    elf = faulting_image.elf_path
    handler, _ = symbol(elf, "bench_fault_entry")
    invoke, invoke_size = symbol(elf, "bench_invoke")
    with qemu_gdb(elf, uart=True) as (probe, client):
        assert client is not None
        probe.set_breakpoint(handler)
        probe.resume()
        client.wait_boot()
        client.port.write(b"infer 1 0%")
        assert probe.wait_for_stop(STOP_TIMEOUT_S).signal == SIGTRAP
        regs = probe.read_core_registers()
        assert regs["pc"] == handler
        assert regs["xpsr"] & 0x1FF in (3, 5)               # HardFault, or BusFault when enabled
        assert regs["lr"] & 0xFFFFFFE0 == 0xFFFFFFE0         # EXC_RETURN
        frame = struct.unpack("<8I", probe.read_memory(regs["sp"], 32))  # r0-r3, r12, lr, pc, xpsr
        assert invoke <= frame[6] < invoke + invoke_size     # the faulting store in bench_invoke
        assert frame[7] & 0x01000000                         # stacked xPSR: Thumb


def test_halt_step_and_reset(image: FirmwareImage) -> None:
    sp, reset = vector_table(image.elf_path)
    with qemu_gdb(image.elf_path, uart=True) as (probe, client):
        assert client is not None
        probe.resume()
        client.wait_boot()             # booted; now it polls the UART for a command
        probe.halt()
        assert probe.wait_for_stop(0).signal == SIGINT
        pc = probe.read_core_registers()["pc"]
        assert pc != reset & ~1
        stepped = probe.step()
        assert stepped.kind == "signal" and stepped.signal == SIGTRAP
        assert probe.read_core_registers()["pc"] != pc
        probe.reset()
        assert probe.reset_method == "monitor system_reset"
        regs = probe.read_core_registers()
        assert (regs["sp"], regs["pc"]) == (sp, reset & ~1)
