"""``--hil-lg-place``: a board in a labgrid place, with labgrid's own coordinator and exporter on loopback.

``labgrid-coordinator`` listens on a free loopback port; ``labgrid-exporter`` exports
``tests/data/labgrid/exporter.yaml``: a ``NetworkSerialPort`` that is the UART TCP server of a QEMU board
(``test_hardware_qemu.qemu_board``: halted, its gdb stub the debug probe) and a ``simplerest``
``NetworkPowerPort`` whose switch is an HTTP server here that records each switching. The place is made
with ``labgrid-client create`` and ``add-match``; taking it is ``labgrid-client acquire`` under another
``LG_USERNAME``/``LG_HOSTNAME``. Each failure class runs through ``run_model`` and comes back as a record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.boards import BoardSpec, load_board_file
from harness.runner import RunOptions, run_model
from harness.targets import labgrid_place
from harness.targets.process import make_workdir
from tests.conftest import IN_CI, requires_cc, requires_qemu
from tests.targets.test_hardware_qemu import BOARD_FILE, QemuBoard, free_port, qemu_board

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]
EXPORTER_YAML = Path(__file__).parents[1] / "data" / "labgrid" / "exporter.yaml"
BIN = Path(sys.executable).parent
EXPORTER = "hilbench-exporter"
GROUP = "qemu-board"


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    reason = f"{what} did not start (exit {proc.poll()})"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@dataclasses.dataclass
class Lab:
    """The coordinator's address and a way to run ``labgrid-client`` against it."""

    address: str
    workdir: Path

    def client(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        out = subprocess.run([_tool("labgrid-client"), *args], capture_output=True, text=True, timeout=30,
                             env={**os.environ, "LG_COORDINATOR": self.address, **(env or {})}, check=False)
        if check and out.returncode != 0:
            raise AssertionError(f"labgrid-client {' '.join(args)}: {out.returncode}\n{out.stdout}\n{out.stderr}")
        return out.stdout + out.stderr

    def holder(self, place: str) -> str:
        """The ``acquired:`` line of ``labgrid-client show``."""
        shown = self.client("-p", place, "show")
        return next(line.split(":", 1)[1].strip() for line in shown.splitlines() if "acquired:" in line)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if shutil.which(_tool("labgrid-coordinator")) is None and not (BIN / "labgrid-coordinator").exists():
        reason = "labgrid-coordinator not found: pip install labgrid (a dependency of hilbench)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    workdir = make_workdir("labgrid-test")
    port = free_port()
    log = (workdir / "coordinator.log").open("wb")
    proc = subprocess.Popen([_tool("labgrid-coordinator"), "-l", f"127.0.0.1:{port}"], cwd=workdir,
                            stdout=log, stderr=log)
    log.close()
    try:
        _wait_port(port, proc, "labgrid-coordinator")
        yield Lab(f"127.0.0.1:{port}", workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


class PowerSwitch(http.server.ThreadingHTTPServer):
    """A simplerest power switch: ``GET /relay/INDEX/VALUE`` switches, ``GET /relay/INDEX`` reads."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.on_switch_on: Callable[[], None] | None = None
        self.state = "0"
        switch = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 3:
                    switch.state = parts[2]
                    switch.calls.append("on" if parts[2] == "1" else "off")
                    if parts[2] == "1" and switch.on_switch_on is not None:
                        switch.on_switch_on()
                body = switch.state.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@dataclasses.dataclass
class Place:
    name: str
    qemu: QemuBoard
    power: PowerSwitch
    exporter: subprocess.Popen[bytes]


@contextlib.contextmanager
def exported_board(lab: Lab) -> Iterator[Place]:
    """A QEMU board, its power switch and an exporter for both; a place matching them."""
    name = f"hil-{uuid.uuid4().hex[:8]}"
    power = PowerSwitch()
    thread = threading.Thread(target=power.serve_forever, daemon=True)
    thread.start()
    with qemu_board() as qemu:
        env = {**os.environ, "LG_COORDINATOR": lab.address, "HILBENCH_LG_UART_PORT": str(qemu.uart_port),
               "HILBENCH_LG_POWER_PORT": str(power.server_address[1])}
        log = (lab.workdir / f"exporter-{name}.log").open("wb")
        exporter = subprocess.Popen([_tool("labgrid-exporter"), "-n", f"{EXPORTER}-{name}",
                                     "--hostname", "127.0.0.1", str(EXPORTER_YAML)],
                                    cwd=lab.workdir, env=env, stdout=log, stderr=log)
        log.close()
        try:
            lab.client("-p", name, "create")
            lab.client("-p", name, "add-match", f"{EXPORTER}-{name}/{GROUP}/*")
            deadline = time.monotonic() + 60   # a loaded machine starts gRPC slowly
            while f"{EXPORTER}-{name}/{GROUP}/NetworkSerialPort" not in lab.client("resources", check=False):
                if exporter.poll() is not None or time.monotonic() > deadline:
                    text = (lab.workdir / f"exporter-{name}.log").read_text(errors="replace")
                    raise AssertionError(f"labgrid-exporter did not export the board:\n{text[-2000:]}")
                time.sleep(0.2)
            yield Place(name, qemu, power, exporter)
        finally:
            if exporter.poll() is None:
                exporter.terminate()
                try:
                    exporter.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    exporter.kill()
            power.shutdown()
            power.server_close()


@pytest.fixture(scope="module")
def board() -> BoardSpec:
    return load_board_file(BOARD_FILE)


@pytest.fixture
def coordinator(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    monkeypatch.setenv("LG_COORDINATOR", lab.address)
    for var in ("LG_USERNAME", "LG_HOSTNAME", "LG_PLACE"):
        monkeypatch.delenv(var, raising=False)
    return lab


def test_a_run_on_a_board_in_a_labgrid_place(coordinator: Lab, board: BoardSpec) -> None:
    """Acquired, serial port and power from the place, bit-exact, powered off and released after."""
    with exported_board(coordinator) as place:
        options = RunOptions(lg_place=place.name, probe=place.qemu.probe, inferences=3)
        record = run_model("tinycnn", board, options, target_name="hardware")
        assert record.status == "ok", record.error
        assert record.matches_reference and record.output_hex == record.reference_hex     # bit-exact
        prov = record.provenance
        assert prov["serial_port"] == f"socket://127.0.0.1:{place.qemu.uart_port}"    # the NetworkSerialPort
        assert prov["labgrid_place"] == place.name
        assert prov["labgrid_coordinator"] == coordinator.address
        assert prov["labgrid_power"] == ["NetworkPowerPort/NetworkPowerPort"]
        assert place.power.calls == ["on", "off"]                      # on before the run, off after
        assert coordinator.holder(place.name) == "None"                # released
        # the place can be taken again at once: nothing of ours holds it
        assert run_model("tinycnn", board, options, target_name="hardware").status == "ok"
        assert coordinator.holder(place.name) == "None"


def test_a_taken_place_says_who_holds_it(coordinator: Lab, board: BoardSpec) -> None:
    name = f"taken-{uuid.uuid4().hex[:8]}"
    coordinator.client("-p", name, "create")
    other = {"LG_USERNAME": "alice", "LG_HOSTNAME": "benchhost"}
    coordinator.client("-p", name, "acquire", env=other)
    try:
        record = run_model("tinycnn", board, RunOptions(lg_place=name, probe="gdb:127.0.0.1:9:system_reset"),
                           target_name="hardware")
        assert record.status == "labgrid-place-taken"
        assert f"labgrid place {name!r} is taken: acquired by benchhost/alice" in (record.error or "")
        assert coordinator.holder(name) == "benchhost/alice"         # never released from under its holder
    finally:
        coordinator.client("-p", name, "release", env=other)
        coordinator.client("-p", name, "delete")


def test_an_unknown_place(coordinator: Lab, board: BoardSpec) -> None:
    record = run_model("tinycnn", board, RunOptions(lg_place="no-such-place", probe="gdb:127.0.0.1:9"),
                       target_name="hardware")
    assert record.status == "labgrid-place-unknown"
    assert "labgrid place 'no-such-place' does not exist on the coordinator" in (record.error or "")
    assert "labgrid-client -p no-such-place create" in (record.error or "")


def test_a_coordinator_that_does_not_answer(board: BoardSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = free_port()                                 # nothing listens there
    monkeypatch.setenv("LG_COORDINATOR", f"127.0.0.1:{closed}")
    monkeypatch.setattr(labgrid_place, "COORDINATOR_TIMEOUT_S", 3.0)
    started = time.monotonic()
    record = run_model("tinycnn", board, RunOptions(lg_place="anywhere", probe="gdb:127.0.0.1:9"),
                       target_name="hardware")
    assert record.status == "labgrid-coordinator"
    assert f"labgrid coordinator 127.0.0.1:{closed}" in (record.error or "")
    assert "LG_COORDINATOR=HOST:PORT" in (record.error or "")
    assert time.monotonic() - started < 60                        # the firmware build included


def test_an_exporter_that_drops_mid_run(coordinator: Lab, board: BoardSpec) -> None:
    """The exporter dies when the board is powered on (after the place was acquired): the run's record says
    so, and the place is released all the same."""
    with exported_board(coordinator) as place:
        place.power.on_switch_on = place.exporter.kill
        record = run_model("tinycnn", board, RunOptions(lg_place=place.name, probe=place.qemu.probe, inferences=2),
                           target_name="hardware")
        assert record.status == "labgrid-exporter-lost", record.error
        assert "the exporter dropped mid-run" in (record.error or "")
        assert f"{EXPORTER}-{place.name}/{GROUP}/NetworkSerialPort/NetworkSerialPort" in (record.error or "")
        assert place.power.calls == ["on", "off"]          # the switch is reached directly: still switched off
        assert coordinator.holder(place.name) == "None"


def test_a_place_needs_the_hardware_target(board: BoardSpec) -> None:
    record = run_model("tinycnn", board, RunOptions(lg_place="p"), target_name="qemu")
    assert record.status == "config" and "expected target 'hardware'" in (record.error or "")
