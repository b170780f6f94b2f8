"""DutClient against fake serial ports: boot, replies, garbage, timeouts, faults, db load, results."""

from __future__ import annotations

import time
import zlib
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

    @property
    def in_waiting(self) -> int:
        return len(self.chunks[0]) if self.chunks else 0

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


# -- per-layer outputs (hil-layer-crc, hil-layer-out), lines recorded from tinycnn and kws01 on qemu-m4 -----

TINYCNN_LAYER_CRC = (b"m-hil-layer-crc index=0 op=CONV_2D bytes=512 crc32=d53c7427\r\n"
                     b"m-hil-layer-crc index=1 op=CONV_2D bytes=432 crc32=351d3277\r\n"
                     b"m-hil-layer-crc index=2 op=RESHAPE bytes=432 crc32=351d3277\r\n"
                     b"m-hil-layer-crc index=3 op=FULLY_CONNECTED bytes=24 crc32=961ab62f\r\n"
                     b"m-hil-layer-crc index=4 op=FULLY_CONNECTED bytes=10 crc32=8c2fca48\r\n"
                     b"m-hil-layer-crc index=5 op=SOFTMAX bytes=10 crc32=80357236\r\n"
                     b"m-ready\r\n")
TINYCNN_LAYER_3_HEX = "bb7f8080978059ec73db7f4d92c48080bf1f9c8080498080"
KWS01_LAYER_9_OUT = (b"m-hil-layer-out index=9 offset=0 "
                     b"hex=8885818d84849c8687869d85a088868e8f90848aa693b192868f9590b2838587\r\n"
                     b"m-hil-layer-out index=9 offset=32 "
                     b"hex=84878a81c184b39385a6969a81818282a382cb8382a39c879889838f82819e9a\r\n"
                     b"m-ready\r\n")


def test_layer_crcs_parse_recorded_reply() -> None:
    port = ScriptedPort({"hil-layer-crc": TINYCNN_LAYER_CRC})
    rows = DutClient(port).layer_crcs(timeout_s=1.0)
    assert port.written == [b"hil-layer-crc%"]
    assert [(i, op, n) for i, op, n, _ in rows] == [
        (0, "CONV_2D", 512), (1, "CONV_2D", 432), (2, "RESHAPE", 432), (3, "FULLY_CONNECTED", 24),
        (4, "FULLY_CONNECTED", 10), (5, "SOFTMAX", 10)]
    assert rows[0][3] == 0xD53C7427 and rows[1][3] == rows[2][3]   # RESHAPE copies its input


def test_layer_crc_of_layer_out_bytes_is_zlibs() -> None:
    crc_port = ScriptedPort({"hil-layer-crc": TINYCNN_LAYER_CRC})
    reply = f"m-hil-layer-out index=3 offset=0 hex={TINYCNN_LAYER_3_HEX}\r\nm-ready\r\n".encode()
    out_port = ScriptedPort({"hil-layer-out 3": reply})
    crc = DutClient(crc_port).layer_crcs(timeout_s=1.0)[3][3]
    data = DutClient(out_port).layer_output(3, timeout_s=1.0)
    assert out_port.written == [b"hil-layer-out 3%"]
    assert len(data) == 24 and zlib.crc32(data) == crc   # the firmware's CRC-32 is zlib's


def test_layer_output_joins_chunks_in_order() -> None:
    data = DutClient(ScriptedPort({"hil-layer-out 9": KWS01_LAYER_9_OUT})).layer_output(9, timeout_s=1.0)
    assert len(data) == 64 and data[:3] == b"\x88\x85\x81" and data[-2:] == b"\x9e\x9a"


def test_layer_output_of_a_layer_the_model_lacks_raises() -> None:
    port = ScriptedPort({"hil-layer-out 6":
                         b"e-[hil-layer-out: expected a layer index 0..5, got: 6]\r\nm-ready\r\n"})
    with pytest.raises(FirmwareOutputError) as info:
        DutClient(port).layer_output(6, timeout_s=1.0)
    assert info.value.line == "e-[hil-layer-out: expected a layer index 0..5, got: 6]"


@pytest.mark.parametrize("line", [
    b"m-hil-layer-crc index=0 op=CONV_2D bytes=512",                        # no crc32
    b"m-hil-layer-crc index=0 op=CONV_2D bytes=512 crc32=d53c742",          # 7 hex digits
    b"m-hil-layer-crc index=0 op=CONV_2D bytes=512 crc32=0xd53c7427",       # not 8 bare hex digits
    b"m-hil-layer-crc index=0 op=CONV_2D bytes=-1 crc32=d53c7427",          # negative size
    b"m-hil-layer-crc index=zero op=CONV_2D bytes=512 crc32=d53c7427",
    b"m-hil-layer-crc index=0,op=CONV_2D,bytes=512,crc32=d53c7427",         # fields not split by spaces
    b"m-hil-layer-crc index=1 op=CONV_2D bytes=512 crc32=d53c7427",         # does not start at layer 0
])
def test_malformed_layer_crc_line_raises_keeping_it(line: bytes) -> None:
    port = ScriptedPort({"hil-layer-crc": line + b"\r\nm-ready\r\n"})
    with pytest.raises(FirmwareOutputError) as info:
        DutClient(port).layer_crcs(timeout_s=1.0)
    assert info.value.line == line.decode()


def test_garbage_in_layer_crc_reply_raises() -> None:
    reply = TINYCNN_LAYER_CRC.replace(b"op=RESHAPE", b"op=RES\xffHAPE\x01")
    with pytest.raises(FirmwareOutputError, match="garbage on the serial line") as info:
        DutClient(ScriptedPort({"hil-layer-crc": reply})).layer_crcs(timeout_s=1.0)
    assert info.value.line == b"m-hil-layer-crc index=2 op=RES\xffHAPE\x01 bytes=432 crc32=351d3277"


def test_layer_crc_reply_without_crc_lines_raises() -> None:
    port = ScriptedPort({"hil-layer-crc": b"e-[Unknown command: hil-layer-crc]\r\nm-ready\r\n"})
    with pytest.raises(FirmwareOutputError):
        DutClient(port).layer_crcs(timeout_s=1.0)
    with pytest.raises(FirmwareOutputError, match="no m-hil-layer-crc line"):
        DutClient(ScriptedPort({"hil-layer-crc": b"m-ready\r\n"})).layer_crcs(timeout_s=1.0)


def test_layer_crc_reply_cut_short_times_out_with_the_last_lines() -> None:
    port = ScriptedPort({"hil-layer-crc": TINYCNN_LAYER_CRC[:150]})
    with pytest.raises(TargetTimeout) as info:
        DutClient(port).layer_crcs(timeout_s=0.2)
    assert info.value.tail[-1].startswith("m-hil-layer-crc index=")


@pytest.mark.parametrize("reply", [
    b"m-hil-layer-out index=9 offset=0 hex=8885818\r\n",                        # odd number of digits
    b"m-hil-layer-out index=9 offset=0 hex=88zz\r\n",                           # not hex
    b"m-hil-layer-out index=9 offset=0 hex=" + b"00" * 33 + b"\r\n",            # more than 32 bytes a line
    b"m-hil-layer-out index=9 offset=0\r\n",                                    # no hex
    b"m-hil-layer-out index=8 offset=0 hex=8885\r\n",                           # another layer
    b"m-hil-layer-out index=9 offset=32 hex=8885\r\n",                          # a chunk missing before it
    KWS01_LAYER_9_OUT.split(b"\r\n")[1] + b"\r\n" + KWS01_LAYER_9_OUT.split(b"\r\n")[0] + b"\r\n",  # swapped
    b"",                                                                        # nothing at all
])
def test_malformed_layer_out_reply_raises(reply: bytes) -> None:
    port = ScriptedPort({"hil-layer-out 9": reply + b"m-ready\r\n"})
    with pytest.raises(FirmwareOutputError):
        DutClient(port).layer_output(9, timeout_s=1.0)
