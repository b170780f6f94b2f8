"""A fake Renode 1.16 for the Renode target's tests: the recorded monitor on a real TCP socket.

Run as ``python fake_renode.py --recording X.jsonl [--uart qemu|none] [--die-on TEXT] -- <renode args>``
(the tests point ``HILBENCH_RENODE`` at a wrapper script that runs this). It takes the arguments the
driver gives Renode (``--disable-xwt --plain --port N``, ``--version``) and:

- the monitor: listens on ``--port``, sends the recorded telnet bytes and banner, and answers each
  command with the recorded reply of the same command (the exact command first, else the next unused
  one with the same first two words; ports, paths and the machine's name differ from the recording),
  echoed as Renode echoes it. A command the recording lacks gets an empty reply (Renode's success).
- the UART: ``emulation CreateServerSocketTerminal P`` listens on P. With ``--uart qemu`` (default),
  ``start`` boots the ELF given to ``sysbus LoadELF`` in ``qemu-system-arm -M netduinoplus2`` (the same
  STM32F4 USART1 at 0x40011000) and bridges its serial line to P: the firmware built here answers the
  harness, since the recorded firmware's protocol is older than the harness's (no ``hil-timing``).
  ``--uart none``: no UART byte ever comes (a CPU that halted).
- stdout: the recording's Renode log. Lines up to 0.5 s after ``start`` (boot messages, a halted CPU)
  are printed at ``start``, the rest (the hook lines ``[INFO] cpu: HIL-BEGIN n``) at ``quit``, so the
  driver gets the recorded instruction counts, as Renode prints them, before stdout's EOF.
- ``--die-on TEXT``: exit with code 134 (as Mono does on a crash) when the harness writes TEXT to the UART.
- The terminal as ``uart-late-connect.jsonl`` shows it: the firmware runs from ``start`` whether or not a
  client is connected; what it writes before the first client connects is kept and sent on connect
  (``--uart-early keep``, Renode's behaviour) or, with ``--uart-early drop`` (stricter than Renode, to
  catch a driver that connects late), thrown away. Only the first client is served: a later one is
  accepted, gets nothing, and what it sends is ignored (the recording's reconnect got no reply).
- ``--dwt-from-recording``: the platform has a DWT, which QEMU's netduinoplus2 lacks (the firmware
  there times with SysTick). The firmware's ``m-hil-layer ... timer_ticks`` are replaced by the
  recording's DWT readings and its ``m-hil-timing`` by ``clock_source=dwt`` with cycles per inference
  derived from the recording's ``m-lap-us`` (µs resolution; the recorded firmware had no hil-timing).
- ``--trace FILE``: the order of what happened (``start``, ``uart-client N``, ``uart-first <first line>``,
  ``uart-dropped N`` and ``uart-unserved N`` at quit), for the tests to check.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "renode-sessions"
VERSION = "Renode v1.16.1.11450\n  build: d66b0c2a-202612020621\n  build type: Release\n  runtime: Mono 4.0.30319.42000\n"
START_LOG_WINDOW_S = 0.5


def recorded_dwt(path: Path) -> tuple[dict[int, int], int | None]:
    """The recording's DWT readings: {layer index: timer_ticks} and cycles per inference from m-lap-us."""
    text = "".join(json.loads(raw).get("data", "") for raw in path.read_text().splitlines()
                   if '"chan": "uart"' in raw and '"dir": "rx"' in raw)
    ticks: dict[int, int] = {}
    laps: list[int] = []
    n = 0
    hz = 168_000_000
    for line in text.split("\r\n"):
        if line.startswith("m-hil-layer "):
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            ticks[int(fields["index"])] = int(fields["timer_ticks"])
        elif line.startswith("m-infer-start-"):
            n, laps = int(line.rsplit("-", 1)[1]), []
        elif line.startswith("m-lap-us-"):
            laps.append(int(line.rsplit("-", 1)[1]))
    cycles = round((laps[-1] - laps[0]) / n * hz / 1e6) if n and len(laps) >= 2 else None
    return ticks, cycles


def load(path: Path) -> tuple[bytes, list[tuple[str, bytes]], list[tuple[float, str]], float]:
    """(bytes before the first command, [(command, its reply bytes)], [(t, stdout text)], t of start)."""
    banner = b""
    exchanges: list[tuple[str, bytes]] = []
    stdout: list[tuple[float, str]] = []
    t_start = 0.0
    for raw in path.read_text().splitlines():
        r = json.loads(raw)
        data = bytes.fromhex(r["data"]) if r.get("enc") == "hex" else r.get("data", "").encode()
        if r["chan"] == "monitor" and r["dir"] == "tx":
            exchanges.append((r["data"].rstrip("\n"), b""))
            if r["data"].startswith("start"):
                t_start = r["t"]
        elif r["chan"] == "monitor" and r["dir"] == "rx":
            if exchanges:
                exchanges[-1] = (exchanges[-1][0], exchanges[-1][1] + data)
            else:
                banner += data
        elif r["chan"] == "stdout" and r["dir"] == "rx":
            stdout.append((r["t"], r["data"]))
    return banner, exchanges, stdout, t_start


class FakeRenode:
    def __init__(self, recording: Path, port: int, uart: str, die_on: str | None, early: str = "keep",
                 dwt: bool = False, trace: str | None = None) -> None:
        self.banner, self.exchanges, self.stdout, self.t_start = load(recording)
        self.used = [False] * len(self.exchanges)
        self.port, self.uart, self.die_on, self.early = port, uart, die_on, early
        self.dwt = recorded_dwt(recording) if dwt else None
        self.trace_path = trace
        self.elf: str | None = None
        self.terminal: socket.socket | None = None
        self.client: socket.socket | None = None
        self.clients = 0
        self.pending = b""         # firmware output before the first client (kept, as Renode does)
        self.dropped = 0           # ... or thrown away (--uart-early drop)
        self.unserved = 0          # firmware output after the first client left
        self.first_sent = False
        self.head = b""            # the first bytes sent, up to the first line's end
        self.lock = threading.Lock()
        self.fw: socket.socket | None = None
        self.fw_ready = threading.Event()
        self.printed = 0
        self.qemu: subprocess.Popen[bytes] | None = None

    def trace(self, text: str) -> None:
        if self.trace_path:
            with open(self.trace_path, "a") as f:
                f.write(text + "\n")

    def reply(self, cmd: str) -> bytes:
        key = cmd.split()[:2]
        for exact in (True, False):
            for i, (recorded, data) in enumerate(self.exchanges):
                if not self.used[i] and (recorded == cmd if exact else recorded.split()[:2] == key):
                    self.used[i] = True
                    text = data.decode(errors="replace")
                    text = text.removeprefix(recorded)           # the recorded echo; ours comes instead
                    return cmd.encode() + text.encode()
        return cmd.encode() + b"\n\r(hil) "

    def log(self, until: float | None) -> None:
        out = []
        while self.printed < len(self.stdout) and (until is None or self.stdout[self.printed][0] <= until):
            out.append(self.stdout[self.printed][1])
            self.printed += 1
        sys.stdout.write("".join(out))
        sys.stdout.flush()

    def side_effects(self, cmd: str) -> None:
        words = cmd.split()
        if words[:2] == ["sysbus", "LoadELF"] and len(words) > 2:
            self.elf = words[2].lstrip("@")
        elif words[:2] == ["emulation", "CreateServerSocketTerminal"]:
            self.terminal = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.terminal.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.terminal.bind(("0.0.0.0", int(words[2])))   # Renode listens on all interfaces
            self.terminal.listen(4)
            threading.Thread(target=self.accept_clients, daemon=True).start()
        elif words[:1] == ["start"]:
            self.log(self.t_start + START_LOG_WINDOW_S)
            if self.uart == "qemu":
                threading.Thread(target=self.run_firmware, daemon=True).start()

    def accept_clients(self) -> None:
        while self.terminal is not None and self.terminal.fileno() >= 0:
            with contextlib.suppress(OSError, ValueError):
                select.select([self.terminal], [], [], 0.05)
                self.accept_pending()

    def accept_pending(self) -> None:
        """Accept the clients whose connect() has completed (the kernel's backlog), in order."""
        with self.lock:
            assert self.terminal is not None
            while select.select([self.terminal], [], [], 0)[0]:
                conn, _ = self.terminal.accept()
                self.clients += 1
                self.trace(f"uart-client {self.clients}")
                first = self.clients == 1
                if first:
                    self.client = conn
                    if self.pending:
                        self.send(self.pending)
                        self.pending = b""
                target = self.host_to_fw if first else self.ignore
                threading.Thread(target=target, args=(conn,), daemon=True).start()

    def send(self, data: bytes) -> None:
        """To the first client (the lock held)."""
        assert self.client is not None
        if not self.first_sent:
            self.head += data
            if b"\n" in self.head:
                self.first_sent = True
                line = self.head.split(b"\n", 1)[0].decode(errors="replace").strip()
                self.trace(f"uart-first {line}")
        with contextlib.suppress(OSError):
            self.client.sendall(data)

    def ignore(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while conn.recv(4096):
                pass

    def host_to_fw(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := conn.recv(4096):
                if self.die_on and self.die_on.encode() in data:
                    sys.stdout.write("Unhandled Exception:\nSystem.NullReferenceException\n")
                    sys.stdout.flush()
                    self.qemu_kill()
                    os._exit(134)
                self.fw_ready.wait(30)
                assert self.fw is not None
                self.fw.sendall(data)
        with self.lock:
            self.client = None     # Renode serves no later client

    def deliver(self, data: bytes) -> None:
        with self.lock:
            if self.client is not None:
                self.send(data)
            elif self.clients == 0 and self.early == "keep":
                self.pending += data
            elif self.clients == 0:
                self.dropped += len(data)
            else:
                self.unserved += len(data)

    def rewrite(self, line: bytes) -> bytes:
        """A firmware line as the recorded DWT platform gave it."""
        assert self.dwt is not None
        ticks, cycles = self.dwt
        text = line.decode(errors="replace")
        if text.startswith("m-hil-layer "):
            fields = dict(f.split("=", 1) for f in text.split()[1:] if "=" in f)
            index = int(fields.get("index", "-1"))
            if index in ticks and "timer_ticks" in fields:
                text = text.replace(f"timer_ticks={fields['timer_ticks']}", f"timer_ticks={ticks[index]}")
        elif text.startswith("m-hil-timing ") and cycles is not None:
            fields = dict(f.split("=", 1) for f in text.split()[1:] if "=" in f)
            n = len(fields.get("cycles", "").split(","))
            text = (f"m-hil-timing clock_source=dwt cpu_hz={fields.get('cpu_hz')} inferences={fields.get('inferences')}"
                    f" cycles={','.join([str(cycles)] * n)}\r\n")
        return text.encode()

    def run_firmware(self) -> None:
        """From ``start``: the ELF in QEMU, its serial line to the terminal's first client."""
        assert self.elf is not None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            qport = s.getsockname()[1]
        self.qemu = subprocess.Popen(
            ["qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-monitor", "none",
             "-serial", f"tcp:127.0.0.1:{qport},server=on,wait=on,nodelay=on",
             "-semihosting-config", "enable=on,target=native", "-kernel", self.elf],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                q = socket.create_connection(("127.0.0.1", qport))
                break
            except OSError:
                time.sleep(0.02)
        else:
            return
        self.fw = q
        self.fw_ready.set()
        partial = b""
        with contextlib.suppress(OSError):
            while data := q.recv(4096):    # the semihosting exit ends QEMU; Renode's terminal stays open
                if self.dwt is not None:
                    partial += data
                    *lines, partial = partial.split(b"\n")
                    data = b"".join(self.rewrite(line + b"\n") for line in lines)
                if data:
                    self.deliver(data)

    def qemu_kill(self) -> None:
        if self.qemu is not None and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()

    def serve(self) -> int:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        time.sleep(0.2)   # Renode's monitor accepts about 1.0 s after spawn; shorter here
        server.bind(("127.0.0.1", self.port))
        server.listen(1)
        print(f"00:00:00.0000 [INFO] Monitor available in telnet mode on port {self.port}", flush=True)
        conn, _ = server.accept()
        conn.sendall(self.banner)
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = line.decode().strip()
                if cmd == "quit":
                    conn.sendall(b"quit\n\rRenode is quitting\r\n\r")
                    self.qemu_kill()
                    self.trace(f"uart-dropped {self.dropped}")
                    self.trace(f"uart-unserved {self.unserved}")
                    for s in (self.client, self.terminal):
                        if s is not None:
                            s.close()
                    self.log(None)
                    conn.close()
                    return 0
                if cmd == "start":
                    if self.terminal is not None:   # a client whose connect() returned before `start` was sent
                        self.accept_pending()
                    self.trace("start")
                conn.sendall(self.reply(cmd))
                self.side_effects(cmd)
        self.qemu_kill()
        return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--recording", required=True)
    p.add_argument("--uart", choices=("qemu", "none"), default="qemu")
    p.add_argument("--die-on")
    p.add_argument("--uart-early", choices=("keep", "drop"), default="keep")
    p.add_argument("--dwt-from-recording", action="store_true")
    p.add_argument("--trace")
    p.add_argument("--port", "-P", type=int)
    p.add_argument("--version", action="store_true")
    p.add_argument("--disable-xwt", action="store_true")
    p.add_argument("--plain", "-p", action="store_true")
    args = p.parse_args(argv)
    if args.version:
        sys.stdout.write(VERSION)
        return 0
    rec = Path(args.recording)
    fake = FakeRenode(rec if rec.is_absolute() else RECORDINGS / rec, args.port, args.uart, args.die_on,
                      args.uart_early, args.dwt_from_recording, args.trace)
    return fake.serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
