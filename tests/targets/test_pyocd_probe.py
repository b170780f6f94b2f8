"""``PyocdProbe`` and ``hilbench probes`` without hardware.

The probes are ``FakePyocdProbe`` (tests/targets/fakes), a pyOCD ``DebugProbe`` plugin class. Here it
is put into pyOCD's own table of probe classes (``pyocd.probe.aggregator.PROBE_CLASSES``, which the
``pyocd.probe`` entry points fill when pyOCD loads) in place of the USB backends, so pyOCD's
``ConnectHelper`` and aggregator really run; ``test_entry_point_plugin_lists_in_hilbench_probes``
registers it through a real entry point in a fresh process. Below the probe, the session and the core are
fakes (``_new_session``, ``_file_programmer`` replaced): opening a real session needs a real probe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakes.hilbench_pyocd_fake import FakeCore, FakeProgrammer, FakePyocdProbe, FakeSession, write_elf
from pyocd.probe import aggregator

from harness import cli
from harness.errors import ConfigError, TargetError, TargetTimeout
from harness.targets import pyocd_probe
from harness.targets.probe import CORE_REGISTERS, SIGINT, SIGTRAP, DebugProbe
from harness.targets.pyocd_probe import PyocdProbe

FAKES = Path(__file__).parent / "fakes"
NUCLEO = {"unique_id": "066DFF343239424E43134728", "description": "STM32 STLink", "vendor": "STMicroelectronics",
          "product": "STM32 STLink", "board": "NUCLEO-F446RE", "target": "stm32f446re"}
DAPLINK = {"unique_id": "0240000032044e4500257009997b00386781000097969900", "description": "DAPLink CMSIS-DAP",
           "vendor": "ARM", "product": "DAPLink CMSIS-DAP", "board": "FRDM-K64F", "target": "k64f"}
BARE = {"unique_id": "E6614103E7", "description": "Generic CMSIS-DAP", "vendor": "Raspberry Pi",
        "product": "Debugprobe"}


class Port:
    """A ``ListPortInfo`` as far as ports.py reads it."""

    def __init__(self, device: str, serial_number: str | None, vid: int | None = 0x0483, pid: int | None = 0x374B,
                 location: str | None = "1-1:1.2", description: str = "STLink Virtual COM Port") -> None:
        self.device, self.serial_number, self.vid, self.pid = device, serial_number, vid, pid
        self.location, self.description = location, description


@pytest.fixture
def attached(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakePyocdProbe]]:
    """The probes pyOCD sees: only the fake class is asked (no USB backend); the test fills the list."""
    probes: list[FakePyocdProbe] = []
    monkeypatch.setattr(aggregator, "PROBE_CLASSES", {"hilbench_fake": FakePyocdProbe})
    monkeypatch.setattr(FakePyocdProbe, "attached", probes)
    monkeypatch.setattr("harness.targets.ports.list_serial_ports", list)
    yield probes


@pytest.fixture
def core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    """The core behind any session opened; the session's target type is the one asked for (or the board's)."""
    the_core = FakeCore()

    def new_session(probe: Any, target_type: str | None) -> FakeSession:
        board = probe.associated_board_info
        return FakeSession(probe, target_type or (board.target if board else "cortex_m"), the_core)
    monkeypatch.setattr(pyocd_probe, "_new_session", new_session)
    return the_core


def connected(attached: list[FakePyocdProbe], *probes: dict[str, Any], unique_id: str | None = None,
              target_type: str | None = None) -> PyocdProbe:
    attached.extend(FakePyocdProbe(**p) for p in probes)
    probe = PyocdProbe(unique_id, target_type)
    probe.connect()
    return probe


# -- choosing the probe --------------------------------------------------------------------------------


def test_no_probe_attached_says_so(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    with pytest.raises(TargetError, match=r"no debug probe found \(pyOCD 0\.\d+\.\d+ sees none on USB\)"):
        PyocdProbe().connect()


def test_two_probes_and_none_chosen_names_both(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    with pytest.raises(ConfigError) as exc:
        connected(attached, NUCLEO, DAPLINK)
    msg = str(exc.value)
    assert "2 debug probes attached and none chosen" in msg
    for p in (NUCLEO, DAPLINK):
        assert f"{p['unique_id']} ({p['board']})" in msg


def test_a_probe_is_chosen_by_its_unique_id(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    probe = connected(attached, NUCLEO, DAPLINK, unique_id=DAPLINK["unique_id"])
    assert probe.unique_id == DAPLINK["unique_id"]
    assert probe.target_type == "k64f"          # the board's, as none was asked for
    assert isinstance(probe, DebugProbe)


def test_a_unique_part_of_the_id_chooses_and_an_ambiguous_one_is_refused(
        attached: list[FakePyocdProbe], core: FakeCore) -> None:
    probe = connected(attached, NUCLEO, DAPLINK, unique_id="066dff34")   # case ignored
    assert probe.unique_id == NUCLEO["unique_id"]
    with pytest.raises(ConfigError, match=r"probe id '4e4' matches 2 probes: .*FRDM-K64F.*NUCLEO-F446RE"):
        PyocdProbe("4e4").connect()


def test_an_unknown_id_lists_the_probes_attached(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    with pytest.raises(TargetError, match=rf"no debug probe with unique id 'XYZ'; attached: {NUCLEO['unique_id']}"):
        connected(attached, NUCLEO, unique_id="XYZ")


def test_the_wrong_board_on_the_probe_names_both_target_types(attached: list[FakePyocdProbe],
                                                              core: FakeCore) -> None:
    with pytest.raises(ConfigError) as exc:
        connected(attached, NUCLEO, target_type="nRF52840")
    assert str(exc.value) == (f"debug probe {NUCLEO['unique_id']} is on a NUCLEO-F446RE (stm32f446re), not the "
                              "target type nrf52840 asked for: wrong board on this probe?")
    assert core.calls == []                      # refused before a session was opened


def test_a_session_opened_on_another_target_type_is_refused_and_closed(
        attached: list[FakePyocdProbe], monkeypatch: pytest.MonkeyPatch) -> None:
    sessions: list[FakeSession] = []

    def new_session(probe: Any, target_type: str | None) -> FakeSession:
        sessions.append(FakeSession(probe, "stm32f401xe", FakeCore()))   # e.g. a pyocd.yaml overriding it
        return sessions[-1]
    monkeypatch.setattr(pyocd_probe, "_new_session", new_session)
    with pytest.raises(ConfigError, match="opened target type stm32f401xe, not the target type stm32f446re"):
        connected(attached, BARE, target_type="STM32F446RE")
    assert sessions[0].closed


def test_a_probe_without_board_info_takes_the_target_type_given(attached: list[FakePyocdProbe],
                                                                core: FakeCore) -> None:
    probe = connected(attached, BARE, target_type="stm32-f446re")
    assert (probe.unique_id, probe.target_type) == (BARE["unique_id"], "stm32_f446re")


def test_pyocd_errors_on_opening_become_target_errors(attached: list[FakePyocdProbe],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pyocd.core import exceptions

    def new_session(probe: Any, target_type: str | None) -> None:
        raise exceptions.ProbeError("Unable to open device")
    monkeypatch.setattr(pyocd_probe, "_new_session", new_session)
    with pytest.raises(TargetError, match=r"debug probe E6614103E7: opening the session failed: Unable to open"):
        connected(attached, BARE)


# -- the DebugProbe operations on a fake core ----------------------------------------------------------


def test_memory_registers_breakpoints_and_stops(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    probe = connected(attached, NUCLEO)
    probe.write_memory(0x20000000, b"\x01\x02\x03")
    assert probe.read_memory(0x20000000, 4) == b"\x01\x02\x03\xff"
    core.regs["r3"], core.regs["xpsr"] = 7, 0x01000000
    regs = probe.read_core_registers()
    assert list(regs) == list(CORE_REGISTERS) and regs["r3"] == 7 and regs["xpsr"] == 0x01000000

    probe.reset()
    assert probe.wait_for_stop(1.0).signal == SIGTRAP
    probe.set_breakpoint(0x08000201)                     # the Thumb bit is cleared
    assert core.breakpoints == [0x08000200]
    core.run_to = 0x08000200
    probe.resume()
    stop = probe.wait_for_stop(1.0)
    assert (stop.kind, stop.signal, stop.raw) == ("signal", SIGTRAP, "BREAKPOINT")
    probe.clear_breakpoint(0x08000201)
    assert core.breakpoints == []

    core.run_to = None
    probe.resume()
    t0 = time.monotonic()
    with pytest.raises(TargetTimeout, match=r"did not stop within 0\.05 s \(state RUNNING\)"):
        probe.wait_for_stop(0.05)
    assert time.monotonic() - t0 < 1
    probe.halt()
    assert probe.wait_for_stop(1.0).signal == SIGINT
    probe.close()
    probe.close()                                        # idempotent
    with pytest.raises(TargetError, match="not connected"):
        probe.read_memory(0, 4)


def test_a_refused_access_keeps_pyocds_message(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    probe = connected(attached, NUCLEO)
    with pytest.raises(TargetError, match=r"reading 4 bytes at 0xf0000000 failed: Memory transfer fault"):
        probe.read_memory(0xF0000000, 4)


def test_no_free_breakpoint_comparator_is_an_error(attached: list[FakePyocdProbe], core: FakeCore) -> None:
    probe = connected(attached, NUCLEO)
    probe.set_breakpoint(0x100)
    probe.set_breakpoint(0x200)
    with pytest.raises(TargetError, match="no breakpoint could be set at 0x00000300"):
        probe.set_breakpoint(0x300)


# -- flashing ------------------------------------------------------------------------------------------


SEGMENTS = [(0x08000000, bytes(range(64))), (0x08004000, b"\xde\xad\xbe\xef")]


def test_load_elf_programs_and_verifies(attached: list[FakePyocdProbe], core: FakeCore, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    programmers: list[FakeProgrammer] = []

    def programmer(session: FakeSession) -> FakeProgrammer:
        programmers.append(FakeProgrammer(session))
        return programmers[-1]
    monkeypatch.setattr(pyocd_probe, "_file_programmer", programmer)
    elf = write_elf(tmp_path / "fw.elf", SEGMENTS)
    probe = connected(attached, NUCLEO)
    probe.load_elf(elf)
    assert programmers[0].programmed == [str(elf)]
    assert probe.read_memory(0x08004000, 4) == b"\xde\xad\xbe\xef"


def test_a_flash_failure_keeps_pyocds_message(attached: list[FakePyocdProbe], core: FakeCore, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyocd_probe, "_file_programmer",
                        lambda s: FakeProgrammer(s, fail="Program Page error"))
    elf = write_elf(tmp_path / "fw.elf", SEGMENTS)
    probe = connected(attached, NUCLEO)
    with pytest.raises(TargetError) as exc:
        probe.load_elf(elf)
    assert str(exc.value) == (f"debug probe {NUCLEO['unique_id']} on stm32f446re: flashing {elf} failed: "
                              "Program Page error (address 0x08000000; result code 0x1)")


def test_a_verify_failure_names_the_first_wrong_byte(attached: list[FakePyocdProbe], core: FakeCore,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyocd_probe, "_file_programmer", lambda s: FakeProgrammer(s, corrupt_at=0x08000011))
    elf = write_elf(tmp_path / "fw.elf", SEGMENTS)
    probe = connected(attached, NUCLEO)
    with pytest.raises(TargetError, match=r"verify of .*fw\.elf failed: at 0x08000011 read 0xee, wrote 0x11"):
        probe.load_elf(elf)


def test_load_elf_of_a_file_that_is_not_an_elf(attached: list[FakePyocdProbe], core: FakeCore,
                                               tmp_path: Path) -> None:
    probe = connected(attached, NUCLEO)
    (tmp_path / "x.elf").write_bytes(b"not an elf")
    with pytest.raises(ConfigError, match="cannot read the loadable segments"):
        probe.load_elf(tmp_path / "x.elf")


# -- hilbench probes -----------------------------------------------------------------------------------


def test_hilbench_probes_with_no_probe_uses_real_pyocd_and_exits_0() -> None:
    # real pyOCD, real (empty) USB: what `pyocd list` would find on this machine
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "harness.cli", "probes"], check=False, capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).parents[2])
    if "no debug probe found" not in out.stdout:
        pytest.skip(f"a debug probe is attached here: {out.stdout.strip()}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("no debug probe found (pyOCD ")
    assert time.monotonic() - t0 < 20


def test_hilbench_probes_table_and_json(attached: list[FakePyocdProbe], monkeypatch: pytest.MonkeyPatch) -> None:
    attached.extend(FakePyocdProbe(**p) for p in (NUCLEO, BARE))
    ports = [Port("/dev/ttyACM0", NUCLEO["unique_id"]), Port("/dev/ttyS0", None, None, None, None, "ttyS0")]
    monkeypatch.setattr("harness.targets.ports.list_serial_ports", lambda: ports)
    out = CliRunner().invoke(cli.main, ["probes"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    nucleo = next(ln for ln in lines if NUCLEO["unique_id"] in ln)
    for cell in ("STM32 STLink", "STMicroelectronics", "NUCLEO-F446RE", "stm32f446re", "/dev/ttyACM0"):
        assert cell in nucleo
    bare = next(ln for ln in lines if BARE["unique_id"] in ln)
    assert "Debugprobe" in bare and "Raspberry Pi" in bare
    assert f"serial port of {BARE['unique_id']}: debug probe {BARE['unique_id']}: no serial port" in out.output

    out = CliRunner().invoke(cli.main, ["probes", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["unique_id"] for r in rows] == [BARE["unique_id"], NUCLEO["unique_id"]]   # pyOCD's order
    assert rows[1] == {"unique_id": NUCLEO["unique_id"], "description": "STM32 STLink",
                       "vendor": "STMicroelectronics", "product": "STM32 STLink", "board": "NUCLEO-F446RE",
                       "target_type": "stm32f446re", "serial_port": "/dev/ttyACM0", "serial_port_error": None}
    assert rows[0]["board"] is None and rows[0]["serial_port"] is None
    assert "ports seen: /dev/ttyACM0" in rows[0]["serial_port_error"]


def test_hilbench_probes_json_with_none_is_an_empty_list(attached: list[FakePyocdProbe]) -> None:
    out = CliRunner().invoke(cli.main, ["probes", "--json"])
    assert (out.exit_code, json.loads(out.stdout)) == (0, [])
    out = CliRunner().invoke(cli.main, ["probes"])
    assert out.exit_code == 0 and out.stdout.startswith("no debug probe found (pyOCD ")


def test_entry_point_plugin_lists_in_hilbench_probes(tmp_path: Path) -> None:
    """The fake registered as pyOCD plugins are, through the ``pyocd.probe`` entry-point group."""
    dist = tmp_path / "hilbench_fake_probe-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hilbench-fake-probe\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[pyocd.probe]\nhilbench_fake = hilbench_pyocd_fake:FakeProbePlugin\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(FAKES)]),
               HILBENCH_FAKE_PROBES=json.dumps([DAPLINK]))
    out = subprocess.run([sys.executable, "-m", "harness.cli", "probes", "--json"], check=False, capture_output=True,
                         text=True, timeout=60, env=env, cwd=Path(__file__).parents[2])
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["unique_id"], r["board"], r["target_type"]) for r in rows] == [
        (DAPLINK["unique_id"], "FRDM-K64F", "k64f")]
