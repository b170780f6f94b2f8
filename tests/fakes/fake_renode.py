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
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "renode-sessions"
VERSION = "Renode v1.16.1.11450\n  build: d66b0c2a-202612020621\n  build type: Release\n  runtime: Mono 4.0.30319.42000\n"
START_LOG_WINDOW_S = 0.5


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
    def __init__(self, recording: Path, port: int, uart: str, die_on: str | None) -> None:
        self.banner, self.exchanges, self.stdout, self.t_start = load(recording)
        self.used = [False] * len(self.exchanges)
        self.port, self.uart, self.die_on = port, uart, die_on
        self.elf: str | None = None
        self.terminal: socket.socket | None = None
        self.client: socket.socket | None = None
        self.printed = 0
        self.qemu: subprocess.Popen[bytes] | None = None

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
            self.terminal.listen(1)
        elif words[:1] == ["start"]:
            self.log(self.t_start + START_LOG_WINDOW_S)
            if self.uart == "qemu":
                threading.Thread(target=self.bridge, daemon=True).start()

    def bridge(self) -> None:
        assert self.terminal is not None and self.elf is not None
        self.client, _ = self.terminal.accept()
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
        client = self.client

        def host_to_fw() -> None:
            while data := client.recv(4096):
                if self.die_on and self.die_on.encode() in data:
                    sys.stdout.write("Unhandled Exception:\nSystem.NullReferenceException\n")
                    sys.stdout.flush()
                    self.qemu_kill()
                    os._exit(134)
                q.sendall(data)

        threading.Thread(target=host_to_fw, daemon=True).start()
        while data := q.recv(4096):    # the semihosting exit ends QEMU; Renode's terminal stays open
            client.sendall(data)

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
                    for s in (self.client, self.terminal):
                        if s is not None:
                            s.close()
                    self.log(None)
                    conn.close()
                    return 0
                conn.sendall(self.reply(cmd))
                self.side_effects(cmd)
        self.qemu_kill()
        return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--recording", required=True)
    p.add_argument("--uart", choices=("qemu", "none"), default="qemu")
    p.add_argument("--die-on")
    p.add_argument("--port", "-P", type=int)
    p.add_argument("--version", action="store_true")
    p.add_argument("--disable-xwt", action="store_true")
    p.add_argument("--plain", "-p", action="store_true")
    args = p.parse_args(argv)
    if args.version:
        sys.stdout.write(VERSION)
        return 0
    rec = Path(args.recording)
    fake = FakeRenode(rec if rec.is_absolute() else RECORDINGS / rec, args.port, args.uart, args.die_on)
    return fake.serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
