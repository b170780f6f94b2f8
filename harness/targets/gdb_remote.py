"""A GDB Remote Serial Protocol client over TCP, and a ``DebugProbe`` on it (no gdb binary needed).

``RspConnection`` frames packets (``$data#cs``), acks them (``+``/``-``) until ``QStartNoAckMode``,
and decodes replies (``}`` escapes, ``*`` run lengths). ``GdbRemoteProbe`` speaks the commands:
``qSupported`` (PacketSize), ``qXfer:features:read`` (the register layout; the default ARM
layout when not offered), ``?``, ``g``/``p``/``P``, ``m``/``M`` in chunks under PacketSize,
``Z0``/``z0`` (Thumb, kind 2), ``c``, ``s``, interrupt (0x03), ``qRcmd`` (monitor), ``k``, ``D``,
and the stop replies ``S``/``T``/``W``/``X``. Checked against QEMU's ``-gdb`` stub (DESIGN §4).
Every wait has a deadline; errors name ``host:port`` and what was waited for.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.errors import TargetError, TargetTimeout
from harness.targets.probe import CORE_REGISTERS, StopReason, elf_load_segments

REPLY_TIMEOUT_S = 5.0
MAX_CHUNK_BYTES = 4096
VTOR = 0xE000ED08                  # Cortex-M vector table offset register
XPSR_THUMB = 0x01000000
_ALIASES = {"r13": "sp", "r14": "lr", "r15": "pc", "cpsr": "xpsr"}
# GDB's ARM layout without a target description: r0-r15, f0-f7 (96 bits), fps, cpsr (regnum 25)
DEFAULT_LAYOUT = ([(f"r{i}", i, 32) for i in range(16)] + [(f"f{i}", 16 + i, 96) for i in range(8)]
                  + [("fps", 24, 32), ("cpsr", 25, 32)])


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(data: bytes) -> bytes:
    return b"$" + data + b"#" + b"%02x" % checksum(data)


def escape(data: bytes) -> bytes:
    """Binary data for a packet: ``#``, ``$``, ``}`` and ``*`` become ``}`` and the byte xor 0x20."""
    out = bytearray()
    for b in data:
        out += bytes((0x7D, b ^ 0x20)) if b in b"#$}*" else bytes((b,))
    return bytes(out)


def decode(body: bytes) -> bytes:
    """A packet body as sent: undo ``}`` escapes and expand ``X*n`` runs (n - 29 more copies of X)."""
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        if b == 0x7D and i + 1 < len(body):
            out.append(body[i + 1] ^ 0x20)
            i += 2
        elif b == 0x2A and out and i + 1 < len(body):
            out += bytes((out[-1],)) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


class RspConnection:
    """Packets over one TCP connection to a GDB server."""

    def __init__(self, host: str, port: int) -> None:
        self.where = f"gdb server {host}:{port}"
        self.host, self.port = host, port
        self.sock: socket.socket | None = None
        self.ack = True
        self._buf = b""
        self._last = b""

    def open(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sock.sendall(b"+")  # as gdb does: acknowledges anything the server sent first
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise TargetTimeout(f"{self.where}: could not connect within {timeout_s} s: {exc}") from exc
                time.sleep(0.02)  # the server is still starting: QEMU listens ~0.06 s after spawn

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None

    def send_raw(self, data: bytes) -> None:
        if self.sock is None:
            raise TargetError(f"{self.where}: not connected")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise TargetError(f"{self.where}: connection lost while sending {data[:40]!r}: {exc}") from exc

    def send(self, data: bytes) -> None:
        self._last = frame(data)
        self.send_raw(self._last)

    def _fill(self, deadline: float, what: str) -> None:
        if self.sock is None:
            raise TargetError(f"{self.where}: not connected")
        left = deadline - time.monotonic()
        if left <= 0:
            raise TargetTimeout(f"{self.where}: no {what} in time", tail=[self._buf[-200:].decode("latin-1")])
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise TargetTimeout(f"{self.where}: no {what} in time",
                                tail=[self._buf[-200:].decode("latin-1")]) from None
        except OSError as exc:
            raise TargetError(f"{self.where}: connection lost while waiting for {what}: {exc}") from exc
        if not chunk:
            raise TargetError(f"{self.where}: the server closed the connection while we waited for {what}")
        self._buf += chunk

    def receive(self, timeout_s: float, what: str) -> bytes:
        """The next packet's decoded body; acks are consumed, a ``-`` resends the last packet."""
        deadline = time.monotonic() + timeout_s
        while True:
            start = self._buf.find(b"$")
            for b in self._buf[:start if start >= 0 else len(self._buf)]:
                if b == 0x2D and self._last:  # '-': the server got our last packet damaged
                    self.send_raw(self._last)
            if start < 0:
                self._buf = b""
                self._fill(deadline, what)
                continue
            self._buf = self._buf[start:]
            end = self._buf.find(b"#")
            if end < 0 or len(self._buf) < end + 3:
                self._fill(deadline, what)
                continue
            body, cs, self._buf = self._buf[1:end], self._buf[end + 1:end + 3], self._buf[end + 3:]
            if int(cs, 16) != checksum(body):
                if not self.ack:
                    raise TargetError(f"{self.where}: bad checksum on {body[:40]!r} in no-ack mode")
                self.send_raw(b"-")
                continue
            if self.ack:
                self.send_raw(b"+")
            return decode(body)

    def request(self, data: str | bytes, what: str, timeout_s: float = REPLY_TIMEOUT_S) -> str:
        """Send one packet; the reply as text. ``Exx`` replies raise ``TargetError``."""
        raw = data.encode("latin-1") if isinstance(data, str) else data
        self.send(raw)
        reply = self.receive(timeout_s, f"reply to {what}").decode("latin-1")
        if len(reply) == 3 and reply[0] == "E":
            raise TargetError(f"{self.where}: {what} refused with error {reply}")
        return reply


def _hex_le(value: str) -> int:
    return int.from_bytes(bytes.fromhex(value), "little")


class GdbRemoteProbe:
    """A ``DebugProbe`` over the GDB Remote Serial Protocol (QEMU ``-gdb``, OpenOCD, pyOCD, J-Link).

    ``reset_command`` is the monitor command ``reset`` tries first (QEMU: ``system_reset``;
    OpenOCD and pyOCD: ``reset halt``); ``reset_method`` says afterwards which way was taken.
    """

    def __init__(self, host: str, port: int, *, connect_timeout_s: float = 5.0,
                 reset_command: str = "system_reset") -> None:
        self.rsp = RspConnection(host, port)
        self.connect_timeout_s = connect_timeout_s
        self.reset_command = reset_command
        self.reset_method = ""
        self.features: dict[str, str] = {}
        self.packet_size = 256
        self.layout = list(DEFAULT_LAYOUT)
        self.from_target_xml = False
        self._target_type = "arm"
        self.running = False
        self.exited: StopReason | None = None
        self.last_stop: StopReason | None = None

    @property
    def unique_id(self) -> str:
        return f"gdb-remote:{self.rsp.host}:{self.rsp.port}"

    @property
    def target_type(self) -> str:
        return self._target_type

    # -- session --------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.rsp.open(self.connect_timeout_s)
        reply = self.rsp.request("qSupported:swbreak+;hwbreak+;xmlRegisters=arm", "qSupported")
        while reply[:1] in ("T", "S"):
            # QEMU greets a client that connects while the guest runs with an unprompted stop reply
            # (it stops the guest for the debugger); the reply to qSupported follows it
            reply = self.rsp.receive(REPLY_TIMEOUT_S, "reply to qSupported").decode("latin-1")
        for item in reply.split(";"):
            key, _, value = item.partition("=")
            self.features[key.rstrip("+-?")] = value or item[-1:]
        self.packet_size = int(self.features.get("PacketSize", "100"), 16)
        if self.features.get("QStartNoAckMode") == "+" and self.rsp.request("QStartNoAckMode", "QStartNoAckMode") == "OK":
            self.rsp.ack = False
        if self.features.get("qXfer:features:read") == "+":
            self._read_target_description()
        self.last_stop = self._parse_stop(self.rsp.request("?", "'?' (stop reason)"))

    def close(self, detach: bool = True) -> None:
        """Detach (the core runs on) and drop the connection; idempotent."""
        if self.rsp.sock is not None and detach and self.exited is None:
            with contextlib.suppress(TargetError):
                if self.running:
                    self.halt(1.0)
                self.rsp.request("D", "D (detach)", 1.0)
        self.rsp.close()

    def kill(self) -> None:
        """Ask the server to end the target (``k``; QEMU exits) and drop the connection."""
        with contextlib.suppress(TargetError):
            self.rsp.send(b"k")
        self.rsp.close()

    def _xfer(self, annex: str) -> str:
        data, chunk = b"", max(64, self.packet_size - 16)
        while True:
            reply = self.rsp.request(f"qXfer:features:read:{annex}:{len(data):x},{chunk:x}", f"qXfer {annex}")
            if not reply or reply[0] not in "ml":
                raise TargetError(f"{self.rsp.where}: qXfer {annex} answered {reply[:40]!r}")
            data += reply[1:].encode("latin-1")
            if reply[0] == "l":
                return data.decode("utf-8")

    def _read_target_description(self) -> None:
        regs: list[tuple[str, int, int]] = []
        nxt = [0]

        def walk(annex: str) -> None:
            # QEMU uses the xi: prefix without declaring it, which ElementTree refuses
            text = self._xfer(annex).replace("<xi:include", "<include")
            for el in ET.fromstring(text).iter():
                if el.tag == "include":
                    walk(el.get("href", ""))
                elif el.tag == "architecture" and el.text:
                    self._target_type = el.text.strip()
                elif el.tag == "feature" and el.get("name", "").endswith("arm.m-profile"):
                    self._target_type = "cortex-m"
                elif el.tag == "reg":
                    num = int(el.get("regnum", nxt[0]))
                    regs.append((el.get("name", f"reg{num}"), num, int(el.get("bitsize", "32"))))
                    nxt[0] = num + 1

        walk("target.xml")
        if regs:
            self.layout, self.from_target_xml = sorted(regs, key=lambda r: r[1]), True

    def _parse_stop(self, reply: str) -> StopReason:
        if reply[:1] in ("W", "X"):
            code = int(reply[1:3], 16)
            stop = (StopReason("exited", exit_code=code, raw=reply) if reply[0] == "W"
                    else StopReason("terminated", signal=code, raw=reply))
            self.exited, self.running = stop, False
            return stop
        if reply[:1] not in ("S", "T"):
            raise TargetError(f"{self.rsp.where}: unexpected stop reply {reply[:60]!r}")
        regs: dict[str, int] = {}
        names = {num: _ALIASES.get(name, name) for name, num, _ in self.layout}
        for pair in reply[3:].split(";") if reply[0] == "T" else ():
            key, _, value = pair.partition(":")
            with contextlib.suppress(ValueError):
                num = int(key, 16)
                regs[names.get(num, f"reg{num}")] = _hex_le(value)
        self.running = False
        return StopReason("signal", signal=int(reply[1:3], 16), registers=regs, raw=reply)

    # -- run control ----------------------------------------------------------------------------------
    def _check_halted(self, what: str) -> None:
        if self.exited is not None:
            raise TargetError(f"{self.rsp.where}: cannot {what}: the target ended ({self.exited.raw})")
        if self.running:
            raise TargetError(f"{self.rsp.where}: cannot {what} while the core runs; halt() first")

    def halt(self, timeout_s: float = REPLY_TIMEOUT_S) -> None:
        if self.running:
            self.rsp.send_raw(b"\x03")
            self.wait_for_stop(timeout_s)

    def resume(self) -> None:
        self._check_halted("continue")
        self.rsp.send(b"c")
        self.running = True

    def step(self, timeout_s: float = REPLY_TIMEOUT_S) -> StopReason:
        self._check_halted("step")
        self.rsp.send(b"s")
        self.running = True
        return self.wait_for_stop(timeout_s)

    def wait_for_stop(self, timeout_s: float) -> StopReason:
        """The next stop reply (console ``O`` packets are skipped); the last one when not running."""
        if not self.running:
            if self.last_stop is None:
                raise TargetError(f"{self.rsp.where}: wait_for_stop before connect")
            return self.last_stop
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self.rsp.receive(max(0.0, deadline - time.monotonic()), f"a stop reply within {timeout_s} s")
            text = reply.decode("latin-1")
            if not (text.startswith("O") and text != "OK"):
                self.last_stop = self._parse_stop(text)
                return self.last_stop

    def reset(self) -> None:
        """``monitor <reset_command>`` where the server has it; else SP, PC and xPSR from the vector table
        at VTOR (the core registers only: peripherals and memory keep their state)."""
        self.halt()
        self._check_halted("reset")
        if self.monitor(self.reset_command) is not None:
            self.reset_method = f"monitor {self.reset_command}"
            return
        base = struct.unpack("<I", self.read_memory(VTOR, 4))[0]
        sp, pc = struct.unpack("<II", self.read_memory(base, 8))
        for name, value in (("sp", sp), ("pc", pc & ~1), ("xpsr", XPSR_THUMB)):
            self.write_register(name, value)
        self.reset_method = "vector table"

    def monitor(self, command: str) -> str | None:
        """Run a monitor command (``qRcmd``); its output, or None when the server has no such command."""
        self.rsp.send(b"qRcmd," + command.encode().hex().encode())
        out = ""
        while True:
            reply = self.rsp.receive(REPLY_TIMEOUT_S, f"reply to monitor {command!r}").decode("latin-1")
            if reply.startswith("O") and reply != "OK":
                out += bytes.fromhex(reply[1:]).decode("utf-8", "replace")
            elif reply == "OK":
                return out
            elif reply == "" or reply.startswith("E"):
                return None
            else:  # some servers answer with the output hex-encoded, without O
                return out + bytes.fromhex(reply).decode("utf-8", "replace")

    # -- registers and memory -------------------------------------------------------------------------
    def _regnum(self, name: str) -> tuple[int, int]:
        for reg, num, bits in self.layout:
            if _ALIASES.get(reg, reg) == name:
                return num, bits
        raise TargetError(f"{self.rsp.where}: no register {name!r} in the target description")

    def read_core_registers(self) -> dict[str, int]:
        self._check_halted("read registers")
        data = bytes.fromhex(self.rsp.request("g", "g (read registers)").replace("x", "0"))
        values, offset = {}, 0
        for name, _, bits in self.layout:
            size = bits // 8
            if offset + size <= len(data):
                values[_ALIASES.get(name, name)] = int.from_bytes(data[offset:offset + size], "little")
            offset += size
        for name in CORE_REGISTERS:
            if name not in values:  # a short g reply: ask for the register itself
                values[name] = self.read_register(name)
        return {name: values[name] for name in CORE_REGISTERS}

    def read_register(self, name: str) -> int:
        self._check_halted("read a register")
        num, _ = self._regnum(name)
        return _hex_le(self.rsp.request(f"p{num:x}", f"p (read {name})"))

    def write_register(self, name: str, value: int) -> None:
        self._check_halted("write a register")
        num, bits = self._regnum(name)
        self._expect_ok(f"P{num:x}={value.to_bytes(bits // 8, 'little').hex()}", f"P (write {name})")

    def _expect_ok(self, packet: str, what: str) -> None:
        reply = self.rsp.request(packet, what)
        if reply != "OK":
            raise TargetError(f"{self.rsp.where}: {what} answered {reply[:40]!r}"
                              + (" (not supported by this server)" if reply == "" else ""))

    def read_memory(self, addr: int, n: int) -> bytes:
        self._check_halted("read memory")
        chunk, out = max(1, min(MAX_CHUNK_BYTES, (self.packet_size - 8) // 2)), bytearray()
        while len(out) < n:
            size = min(chunk, n - len(out))
            reply = self.rsp.request(f"m{addr + len(out):x},{size:x}", f"m (read {size} bytes at {addr + len(out):#x})")
            if not reply:
                raise TargetError(f"{self.rsp.where}: no memory at {addr + len(out):#x}")
            out += bytes.fromhex(reply)
        return bytes(out)

    def write_memory(self, addr: int, data: bytes) -> None:
        self._check_halted("write memory")
        chunk = max(1, min(MAX_CHUNK_BYTES, (self.packet_size - 24) // 2))
        for i in range(0, len(data), chunk):
            part = data[i:i + chunk]
            self._expect_ok(f"M{addr + i:x},{len(part):x}:{part.hex()}", f"M (write {len(part)} bytes at {addr + i:#x})")

    def load_elf(self, path: Path) -> None:
        for addr, data in elf_load_segments(path):
            self.write_memory(addr, data)

    # -- breakpoints ----------------------------------------------------------------------------------
    def set_breakpoint(self, addr: int) -> None:
        self._check_halted("set a breakpoint")
        self._expect_ok(f"Z0,{addr & ~1:x},2", f"Z0 (breakpoint at {addr & ~1:#x})")

    def clear_breakpoint(self, addr: int) -> None:
        self._check_halted("clear a breakpoint")
        self._expect_ok(f"z0,{addr & ~1:x},2", f"z0 (breakpoint at {addr & ~1:#x})")
