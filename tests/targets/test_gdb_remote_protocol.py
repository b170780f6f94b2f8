"""The RSP client's framing and the paths QEMU 7.2 does not take, against a scripted fake server."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

from harness.errors import TargetError, TargetTimeout
from harness.targets.gdb_remote import GdbRemoteProbe, checksum, decode, escape, frame

Handler = Callable[[bytes], "bytes | None"]


def test_framing_escaping_and_run_lengths() -> None:
    assert frame(b"OK") == b"$OK#9a"
    assert checksum(b"") == 0
    assert escape(b"a#$}*b") == b"a}\x03}\x04}]}\nb"
    assert decode(escape(bytes(range(256)))) == bytes(range(256))
    assert decode(b"0* ") == b"0000"          # ' ' is 32: three more copies
    assert decode(b"ab*\"c") == b"abbbbbbc"   # '"' is 34: five more


class FakeServer:
    """Answers each packet with ``handler(body)`` (None: no answer); records what it received."""

    def __init__(self, handler: Handler, ack: bool = True, corrupt_first: bool = False) -> None:
        self.handler, self.ack, self.corrupt_first = handler, ack, corrupt_first
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.received: list[bytes] = []
        self.naks = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
                while b"#" in buf and len(buf) >= buf.index(b"#") + 3:
                    start, end = buf.find(b"$"), buf.index(b"#")
                    if b"-" in buf[:max(start, 0)]:
                        self.naks += 1
                    body, buf = buf[start + 1:end], buf[end + 3:]
                    self.received.append(body)
                    if self.ack:
                        conn.sendall(b"+")
                    if body == b"QStartNoAckMode":
                        self.ack = False
                    reply = self.handler(body)
                    if reply is not None:
                        packet = frame(reply)
                        if self.corrupt_first:
                            self.corrupt_first = False
                            conn.sendall(packet[:-1] + b"0" if packet[-1:] != b"0" else packet[:-1] + b"1")
                        conn.sendall(packet)


def scripted(extra: dict[bytes, bytes]) -> Handler:
    base = {b"qSupported": b"PacketSize=20;QStartNoAckMode+", b"?": b"S05", b"QStartNoAckMode": b"OK"}

    def handler(body: bytes) -> bytes | None:
        for prefix, reply in {**base, **extra}.items():
            if body.startswith(prefix):
                return reply
        return b""   # unknown packet: unsupported

    return handler


@pytest.fixture
def regs_g() -> bytes:
    # default layout: r0..r15, f0..f7 (12 bytes each), fps, cpsr
    words = list(range(13)) + [0x20001000, 0xFFFFFFF9, 0x100]
    raw = struct.pack("<16I", *words) + bytes(96) + struct.pack("<II", 0, 0x01000000)
    return raw.hex().encode()


@pytest.fixture
def connected(regs_g: bytes) -> Iterator[tuple[GdbRemoteProbe, FakeServer]]:
    server = FakeServer(scripted({b"g": regs_g, b"me000ed08,4": b"00000000", b"m0,8": b"0010002045000000",
                                  b"m2000000": b"a*4", b"P": b"OK", b"c": b"T0b0f:00010000;thread:1;"}))
    probe = GdbRemoteProbe("127.0.0.1", server.port, connect_timeout_s=2.0)
    probe.connect()
    yield probe, server
    probe.close(detach=False)


def test_no_ack_mode_default_layout_and_chunking(connected: tuple[GdbRemoteProbe, FakeServer]) -> None:
    probe, server = connected
    assert probe.rsp.ack is False and probe.packet_size == 0x20 and not probe.from_target_xml
    regs = probe.read_core_registers()
    assert (regs["sp"], regs["pc"], regs["xpsr"]) == (0x20001000, 0x100, 0x01000000)
    assert probe.read_memory(0x20000000, 24) == b"\xaa" * 24   # run-length replies, chunks of 12 bytes
    assert [r for r in server.received if r.startswith(b"m2")] == [b"m20000000,c", b"m2000000c,c"]


def test_stop_reply_registers_and_reset_from_the_vector_table(connected: tuple[GdbRemoteProbe, FakeServer]) -> None:
    probe, server = connected
    probe.resume()
    stop = probe.wait_for_stop(2.0)
    assert (stop.kind, stop.signal, stop.registers["pc"]) == ("signal", 11, 0x100)
    probe.reset()   # qRcmd answers "": no monitor, so SP and PC come from the vector table at VTOR=0
    assert probe.reset_method == "vector table"
    assert b"Pd=00100020" in server.received and b"Pf=44000000" in server.received


def test_bad_checksum_is_nakked_and_resent() -> None:
    server = FakeServer(scripted({}), corrupt_first=True)
    probe = GdbRemoteProbe("127.0.0.1", server.port, connect_timeout_s=2.0)
    probe.connect()
    assert probe.packet_size == 0x20 and server.received[0].startswith(b"qSupported")
    assert server.naks == 1
    probe.close(detach=False)


def test_timeouts_and_errors_name_the_server() -> None:
    server = FakeServer(lambda body: None if body.startswith(b"?") else scripted({b"m": b"E14"})(body))
    probe = GdbRemoteProbe("127.0.0.1", server.port, connect_timeout_s=2.0)
    with pytest.raises(TargetTimeout, match=rf"127.0.0.1:{server.port}: no reply to '\?'"):
        probe.rsp.open(2.0)
        probe.rsp.request("?", "'?'", timeout_s=0.2)
    with pytest.raises(TargetError, match=r"m \(read 4 bytes at 0x0\) refused with error E14"):
        probe.read_memory(0, 4)
    probe.close(detach=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    with pytest.raises(TargetTimeout, match=rf"127.0.0.1:{free}: could not connect within 0.1 s"):
        GdbRemoteProbe("127.0.0.1", free, connect_timeout_s=0.1).connect()


def test_exit_reply_ends_the_session(connected: tuple[GdbRemoteProbe, FakeServer]) -> None:
    probe, server = connected
    server.handler = scripted({b"c": b"W07"})
    probe.resume()
    assert probe.wait_for_stop(2.0).exit_code == 7
    with pytest.raises(TargetError, match="the target ended"):
        probe.read_core_registers()
