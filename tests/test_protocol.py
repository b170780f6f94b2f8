"""DutClient against fake serial ports: boot, replies, garbage, timeouts, faults, db load, results."""

from __future__ import annotations

import time
from collections import deque

import pytest

from harness.errors import FirmwareFault, FirmwareOutputError, TargetTimeout
from harness.protocol import DB_CHUNK_BYTES, MAX_COMMAND_CHARS, DutClient, parse_results


class FakePort:
    """read(n) hands out queued chunks (at most n bytes at a time), then b""; write records what was sent."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks: deque[bytes] = deque(chunks)
        self.written: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.chunks.append(data)

    def read(self, size: int = 1) -> bytes:
        if not self.chunks:
            time.sleep(0.002)  # like a serial read timing out, without spinning the CPU
            return b""
        chunk = self.chunks.popleft()
        if len(chunk) > size:
            self.chunks.appendleft(chunk[size:])
            chunk = chunk[:size]
        return chunk

    def write(self, data: bytes) -> int:
        self.written.append(data)
        self.on_write(data)
        return len(data)

    def on_write(self, data: bytes) -> None:
        pass


class ScriptedPort(FakePort):
    """Answers each written command from a fixed table: command text -> reply bytes."""

    def __init__(self, replies: dict[str, bytes]) -> None:
        super().__init__()
        self.replies = replies

    def on_write(self, data: bytes) -> None:
        self.feed(self.replies[data.decode("ascii").rstrip("%")])


class FakeDut(FakePort):
    """A small MLPerf Tiny DUT that understands `db load N` and `db <hex>`."""

    def __init__(self) -> None:
        super().__init__()
        self.expected = 0
        self.received = bytearray()

    def on_write(self, data: bytes) -> None:
        assert data.endswith(b"%")
        cmd = data[:-1].decode("ascii")
        if cmd.startswith("db load "):
            self.expected = int(cmd.split()[2])
            self.received.clear()
            self.feed(f"m-[Expecting {self.expected} bytes]\r\nm-ready\r\n".encode())
        elif cmd.startswith("db "):
            self.received += bytes.fromhex(cmd[3:])
            done = b"m-load-done\r\n" if len(self.received) == self.expected else b""
            self.feed(done + b"m-ready\r\n")
        else:
            self.feed(f"e-[Unknown command: {cmd}]\r\nm-ready\r\n".encode())


def test_wait_boot_returns_the_lines_before_ready() -> None:
    port = FakePort(b"m-timestamp-mode-performance\r\nm-lap-us-12\r\nm-init-done\r\nm-ready\r\n")
    assert DutClient(port).wait_boot(timeout_s=1.0) == [
        "m-timestamp-mode-performance", "m-lap-us-12", "m-init-done"]


def test_wait_boot_reassembles_lines_split_across_reads() -> None:
    port = FakePort(b"m-init-", b"done\r", b"\nm-re", b"ady\r\n")
    assert DutClient(port).wait_boot(timeout_s=1.0) == ["m-init-done"]


def test_garbage_bytes_raise_firmware_output_error_keeping_raw_line() -> None:
    port = FakePort(b"m-init-done\r\n\x01\x02\xff garbage\r\nm-ready\r\n")
    with pytest.raises(FirmwareOutputError) as info:
        DutClient(port).wait_boot(timeout_s=1.0)
    assert info.value.line == b"\x01\x02\xff garbage"


def test_missing_ready_times_out_with_last_lines() -> None:
    port = FakePort(b"m-timestamp-mode-performance\r\nm-init-done\r\nhalf a li")
    start = time.monotonic()
    with pytest.raises(TargetTimeout) as info:
        DutClient(port).wait_boot(timeout_s=0.2)
    assert time.monotonic() - start < 2.0
    assert info.value.tail == ["m-timestamp-mode-performance", "m-init-done", "half a li"]
    assert "m-init-done" in str(info.value)
    assert info.value.status == "timeout"


def test_fault_line_raises_firmware_fault_with_registers() -> None:
    port = FakePort(b"m-init-done\r\n"
                    b"e-hil-fault exception=3 cfsr=0x00000400 hfsr=0x40000000 pc=0x000001f0 lr=0x00000123\r\n")
    with pytest.raises(FirmwareFault) as info:
        DutClient(port).wait_boot(timeout_s=1.0)
    regs = info.value.registers
    assert regs["pc"] == 0x1F0
    assert regs == {"exception": 3, "cfsr": 0x400, "hfsr": 0x40000000, "pc": 0x1F0, "lr": 0x123}


def test_unknown_command_error_reply_raises() -> None:
    port = ScriptedPort({"bogus": b"e-[Unknown command: bogus]\r\nm-ready\r\n"})
    with pytest.raises(FirmwareOutputError) as info:
        DutClient(port).command("bogus", timeout_s=1.0)
    assert info.value.line == "e-[Unknown command: bogus]"
    assert port.written == [b"bogus%"]


def test_unknown_command_with_allow_error_returns_the_line() -> None:
    port = ScriptedPort({"bogus": b"e-[Unknown command: bogus]\r\nm-ready\r\n"})
    assert DutClient(port).command("bogus", timeout_s=1.0, allow_error=True) == ["e-[Unknown command: bogus]"]


def test_command_rejects_overlong_or_percent_commands() -> None:
    client = DutClient(FakePort())
    with pytest.raises(ValueError):
        client.command("x" * (MAX_COMMAND_CHARS + 1))
    with pytest.raises(ValueError):
        client.command("db 50%")


def test_load_input_sends_header_then_small_hex_chunks() -> None:
    data = bytes(range(100))
    dut = FakeDut()
    DutClient(dut).load_input(data)
    commands = [w.decode("ascii") for w in dut.written]
    assert commands[0] == "db load 100%"
    chunks = commands[1:]
    assert DB_CHUNK_BYTES <= 38
    assert len(chunks) == -(-100 // DB_CHUNK_BYTES)
    hexes = []
    for c in chunks:
        assert c.startswith("db ") and c.endswith("%")
        assert len(c) - 1 <= 80
        assert len(bytes.fromhex(c[3:-1])) <= 38
        hexes.append(c[3:-1])
    assert bytes.fromhex("".join(hexes)) == data
    assert bytes(dut.received) == data


def test_load_input_without_load_done_raises() -> None:
    class ForgetfulDut(FakeDut):
        def on_write(self, data: bytes) -> None:
            super().on_write(data)
            if self.chunks and self.chunks[-1].startswith(b"m-load-done"):
                self.chunks[-1] = b"m-ready\r\n"

    with pytest.raises(FirmwareOutputError, match="m-load-done"):
        DutClient(ForgetfulDut()).load_input(bytes(50))


def test_parse_results_three_decimals() -> None:
    assert parse_results("m-results-[0.000,0.996,0.004]") == (0.0, 0.996, 0.004)


def test_parse_results_six_decimals_with_trailing_comma() -> None:
    assert parse_results("m-results-[0.000000,0.996000,]") == (0.0, 0.996)


def test_parse_results_rejects_non_results_lines() -> None:
    with pytest.raises(FirmwareOutputError):
        parse_results("m-lap-us-12")
    with pytest.raises(FirmwareOutputError):
        parse_results("m-results-[0.1,abc]")


def test_unprefixed_reference_firmware_line_is_tolerated() -> None:
    port = ScriptedPort({"db load 9999": b"Buffer overflow\r\n\r\nm-ready\r\n"})
    assert DutClient(port).command("db load 9999", timeout_s=1.0) == ["Buffer overflow"]
