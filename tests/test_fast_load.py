"""DutClient's input load against a fake DUT: ``hil-load`` when the firmware advertises it, ``db`` otherwise,
a bad block resent, a load abandoned by the firmware reported as FirmwareOutputError."""

from __future__ import annotations

import zlib

import pytest

from harness.errors import FirmwareOutputError, TargetTimeout
from harness.protocol import FAST_LOAD_ATTEMPTS, DutClient
from tests.test_protocol import FakePort

ALL_BYTES = bytes(range(256)) + b"%\r\n%%\n\r" + bytes(range(255, -1, -1))


class FastDut(FakePort):
    """A DUT with `profile`, `db` and `hil-load` as firmware/src/main.c has them. The first ``corrupt`` block
    sends arrive with one bit flipped; ``advertise`` False is a firmware without `hil-load`."""

    def __init__(self, block_bytes: int = 64, advertise: bool = True, corrupt: int = 0) -> None:
        super().__init__()
        self.block_bytes, self.advertise, self.corrupt = block_bytes, advertise, corrupt
        self.buffer = bytearray()
        self.loading: int | None = None   # bytes announced by hil-load while its blocks arrive
        self.pending = b""
        self.commands: list[str] = []
        self.block_sends = 0

    def on_write(self, data: bytes) -> None:
        if self.loading is not None:
            self._block_bytes(data)
            return
        assert data.endswith(b"%")
        cmd = data[:-1].decode("ascii")
        self.commands.append("db" if cmd.startswith("db ") and cmd.split(" ")[1] not in ("load", "print") else cmd)
        if cmd == "profile":
            fast = f"m-hil-fast-load block_bytes={self.block_bytes}\r\n" if self.advertise else ""
            self.feed(f"m-profile-[fake]\r\nm-model-[x]\r\n{fast}m-ready\r\n".encode())
        elif cmd.startswith("hil-load ") and self.advertise:
            n = int(cmd.split()[1])
            self.loading = n
            self.buffer = bytearray()
            self.feed(f"m-hil-load bytes={n}\r\n".encode())
        elif cmd.startswith("db load "):
            self.loading_db = int(cmd.split()[2])
            self.buffer = bytearray()
            self.feed(f"m-[Expecting {self.loading_db} bytes]\r\nm-ready\r\n".encode())
        elif cmd.startswith("db "):
            self.buffer += bytes.fromhex(cmd[3:])
            self.feed((b"m-load-done\r\n" if len(self.buffer) == self.loading_db else b"") + b"m-ready\r\n")
        else:
            self.feed(f"e-[Unknown command: {cmd}]\r\nm-ready\r\n".encode())

    def _block_bytes(self, data: bytes) -> None:
        assert self.loading is not None
        self.pending += data
        offset = len(self.buffer)
        size = min(self.block_bytes, self.loading - offset)
        if len(self.pending) < size + 4:
            return
        block, crc, self.pending = self.pending[:size], self.pending[size:size + 4], self.pending[size + 4:]
        self.block_sends += 1
        if self.block_sends <= self.corrupt:
            block = bytes([block[0] ^ 0x10]) + block[1:]
        if zlib.crc32(block) == int.from_bytes(crc, "little"):
            self.buffer += block
            self.feed(f"m-hil-ack offset={offset}\r\n".encode())
            if len(self.buffer) == self.loading:
                self.loading = None
                self.feed(b"m-load-done\r\nm-ready\r\n")
            return
        self.loading = None
        self.buffer = bytearray()
        self.pending = b""
        self.feed(b"e-[hil-load: CRC-32 mismatch]\r\nm-ready\r\n")


def test_advertised_fast_load_carries_every_byte_value_in_blocks() -> None:
    dut = FastDut(block_bytes=64)
    client = DutClient(dut)
    client.profile()
    assert client.fast_load_block_bytes == 64
    client.load_input(ALL_BYTES)
    assert bytes(dut.buffer) == ALL_BYTES
    assert dut.commands == ["profile", f"hil-load {len(ALL_BYTES)}"]
    assert dut.block_sends == -(-len(ALL_BYTES) // 64)


def test_without_the_advertisement_the_client_keeps_db() -> None:
    dut = FastDut(advertise=False)
    client = DutClient(dut)
    client.profile()
    assert client.fast_load_block_bytes is None
    client.load_input(ALL_BYTES)
    assert bytes(dut.buffer) == ALL_BYTES
    assert dut.commands[:2] == ["profile", f"db load {len(ALL_BYTES)}"]
    assert "hil-load" not in " ".join(dut.commands)


def test_without_profile_the_client_keeps_db() -> None:
    dut = FastDut()
    DutClient(dut).load_input(ALL_BYTES)
    assert dut.commands[0] == f"db load {len(ALL_BYTES)}"
    assert bytes(dut.buffer) == ALL_BYTES


def test_a_block_with_a_wrong_crc_is_refused_and_the_load_started_again() -> None:
    n_blocks = -(-len(ALL_BYTES) // 64)
    dut = FastDut(block_bytes=64, corrupt=FAST_LOAD_ATTEMPTS - 1)
    client = DutClient(dut)
    client.profile()
    client.load_input(ALL_BYTES)
    assert bytes(dut.buffer) == ALL_BYTES
    assert dut.block_sends == n_blocks + FAST_LOAD_ATTEMPTS - 1
    assert dut.commands == ["profile"] + [f"hil-load {len(ALL_BYTES)}"] * FAST_LOAD_ATTEMPTS
    assert client.transcript.count("e-[hil-load: CRC-32 mismatch]") == FAST_LOAD_ATTEMPTS - 1


def test_a_block_refused_every_time_is_a_firmware_output_error_and_the_line_stays_usable() -> None:
    dut = FastDut(block_bytes=64, corrupt=FAST_LOAD_ATTEMPTS)
    client = DutClient(dut)
    client.profile()
    with pytest.raises(FirmwareOutputError) as info:
        client.load_input(ALL_BYTES)
    assert info.value.line == "e-[hil-load: CRC-32 mismatch]"
    assert dut.block_sends == FAST_LOAD_ATTEMPTS
    assert client.command("profile", timeout_s=1.0)   # the m-ready of the refusal was read: in step again


def test_a_refused_byte_count_is_a_firmware_output_error() -> None:
    class Refusing(FastDut):
        def on_write(self, data: bytes) -> None:
            if data.startswith(b"hil-load "):
                self.feed(b"e-[hil-load: bad byte count: 600]\r\nm-ready\r\n")
            else:
                super().on_write(data)

    client = DutClient(Refusing())
    client.profile()
    with pytest.raises(FirmwareOutputError) as info:
        client.load_input(bytes(600))
    assert info.value.line == "e-[hil-load: bad byte count: 600]"


def test_a_missing_ack_times_out() -> None:
    class Silent(FastDut):
        def _block_bytes(self, data: bytes) -> None:
            pass

    client = DutClient(Silent())
    client.profile()
    with pytest.raises(TargetTimeout):
        client.load_input(bytes(100), timeout_s=0.2)
