"""The meter adapters against fake ``joulescope`` and ``ppk2_api`` modules that mimic their APIs."""

from __future__ import annotations

import struct
import sys
import types
from typing import Any, ClassVar

import numpy as np
import pytest

from harness.boards import BoardSpec
from harness.errors import ConfigError, TargetError, ToolchainError
from harness.measure.energy import analyze_energy
from harness.targets.energy import (
    EnergyMeter,
    JoulescopeMeter,
    Ppk2Meter,
    create_energy_meter,
    estimate_energy,
    parse_energy_option,
    register_energy_meter,
)


def test_parse_energy_option() -> None:
    assert parse_energy_option("joulescope:ABC123") == ("joulescope", "ABC123")
    assert parse_energy_option("ppk2:/dev/ttyACM0") == ("ppk2", "/dev/ttyACM0")
    assert parse_energy_option("PPK2") == ("ppk2", None)
    assert parse_energy_option("estimate") == ("estimate", None)
    with pytest.raises(ConfigError, match=r"unknown energy meter 'otii'.*accepted: joulescope\[:SELECTOR\], "
                                          r"ppk2\[:SELECTOR\], estimate"):
        parse_energy_option("otii:1")
    with pytest.raises(ConfigError, match="nothing after ':'"):
        parse_energy_option("joulescope:")
    with pytest.raises(ConfigError, match="takes no selector"):
        parse_energy_option("estimate:x")


def test_registry() -> None:
    assert isinstance(create_energy_meter("joulescope:X"), JoulescopeMeter)
    meter = create_energy_meter("ppk2:/dev/ttyACM1")
    assert isinstance(meter, Ppk2Meter) and meter.port == "/dev/ttyACM1"
    assert isinstance(meter, EnergyMeter)
    with pytest.raises(ConfigError, match="already registered"):
        register_energy_meter("ppk2", lambda sel: Ppk2Meter(port=sel))
    with pytest.raises(ConfigError, match="uses no meter"):
        create_energy_meter("estimate")


def test_missing_packages_name_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "joulescope", None)
    with pytest.raises(ToolchainError, match="pip install joulescope"):
        JoulescopeMeter().open()
    monkeypatch.setitem(sys.modules, "ppk2_api", None)
    monkeypatch.setitem(sys.modules, "ppk2_api.ppk2_api", None)
    with pytest.raises(ToolchainError, match="pip install ppk2-api"):
        Ppk2Meter().open()


# --- a fake joulescope: scan() -> devices; a device streams into a stream buffer ----------------

FS = 10_000.0


def _signal(n: int) -> tuple[np.ndarray, np.ndarray]:
    current = np.full(n, 0.001)
    gpio = np.ones(n, dtype=np.uint8)
    current[1000:11000] = 0.010           # one window of 1 s at 10 mA between edges 1000 and 11000
    gpio[1000] = gpio[11000] = 0
    current[500] = np.nan                 # a sample the meter lost (outside the window)
    return current, gpio


class FakeStreamBuffer:
    def __init__(self, first_id: int) -> None:
        self.first_id = first_id
        self.current, self.gpio = _signal(12_000)
        self.end = first_id

    @property
    def sample_id_range(self) -> tuple[int, int]:
        return self.first_id, self.end

    def samples_get(self, start: int, stop: int, fields: list[str]) -> dict[str, Any]:
        a, b = start - self.first_id, stop - self.first_id
        sig = {"current": self.current[a:b], "voltage": np.full(b - a, 3.3), "current_lsb": self.gpio[a:b]}
        return {"time": {"sampling_frequency": {"value": FS, "units": "Hz"}},
                "signals": {f: {"value": sig[f], "units": ""} for f in fields}}


class FakeJoulescope:
    def __init__(self, serial: str) -> None:
        self.device_serial_number = serial
        self.params: list[tuple[str, str]] = []
        self.opened = self.closed = False
        self.procs: list[Any] = []
        self.sampling_frequency = FS

    def __str__(self) -> str:
        return f"Joulescope:{self.device_serial_number}"

    def open(self) -> None:
        self.opened = True

    def parameter_set(self, name: str, value: str) -> None:
        self.params.append((name, value))

    def stream_process_register(self, obj: Any) -> None:
        self.procs.append(obj)

    def start(self) -> None:
        buf = FakeStreamBuffer(first_id=77)
        for obj in self.procs:
            obj.start(buf)
        for end in (3000, 3000, 7000, 12_000):       # data arrives in chunks; one notify brings nothing
            buf.end = 77 + end
            for obj in self.procs:
                assert obj.stream_notify(buf) is False

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _fake_joulescope(monkeypatch: pytest.MonkeyPatch, devices: list[FakeJoulescope]) -> None:
    mod = types.ModuleType("joulescope")
    mod.scan = lambda: list(devices)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "joulescope", mod)


def test_joulescope_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    devices = [FakeJoulescope("000111"), FakeJoulescope("000222")]
    _fake_joulescope(monkeypatch, devices)
    meter = JoulescopeMeter(serial="000222")
    meter.open()
    dev = devices[1]
    assert dev.opened and ("i_range", "auto") in dev.params and ("sensor_power", "on") in dev.params
    assert ("source", "raw") in dev.params and ("io_voltage", "3.3V") in dev.params
    assert ("current_lsb", "gpi0") in dev.params
    meter.start()
    stream = meter.stop()
    meter.close()
    assert dev.closed and stream.n_samples == 12_000 and stream.sample_rate_hz == FS
    assert stream.sample_id is not None and int(stream.sample_id[0]) == 77
    assert stream.source == "joulescope:000222"
    r = analyze_energy(stream, 100, source="joulescope", expected_windows=1, min_window_s=0)
    assert r.energy_uj_per_inference == pytest.approx(330.0)


def test_joulescope_selection_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_joulescope(monkeypatch, [])
    with pytest.raises(TargetError, match=r"no Joulescope found \(joulescope.scan\(\) found none\)"):
        JoulescopeMeter().open()
    _fake_joulescope(monkeypatch, [FakeJoulescope("000111"), FakeJoulescope("000222")])
    with pytest.raises(TargetError, match="2 Joulescopes found \\(000111, 000222\\); choose one"):
        JoulescopeMeter().open()
    with pytest.raises(TargetError, match="no Joulescope with serial '999'; found: 000111, 000222"):
        JoulescopeMeter(serial="999").open()
    with pytest.raises(TargetError, match="before open"):
        JoulescopeMeter().start()


# --- a fake ppk2_api: 4-byte samples, µA in the low 24 bits, the logic inputs in the top 8 -------

def _encode(current_ua: np.ndarray, logic: np.ndarray) -> bytes:
    return b"".join(struct.pack("<I", (int(c) & 0xFFFFFF) | (int(b) << 24)) for c, b in zip(current_ua, logic))


class FakePPK2:
    ports: ClassVar[list[Any]] = []
    instances: ClassVar[list[FakePPK2]] = []

    def __init__(self, port: str) -> None:
        self.port = port
        self.calls: list[tuple[str, Any]] = []
        n = 1200
        current = np.full(n, 1000)                    # 1 mA idle
        current[100:1100] = 10_000                    # 10 mA for 1000 samples = 10 ms at 100 kS/s
        logic = np.full(n, 0xFF)
        logic[100] = logic[1100] = 0xFE               # D0 low: the two timestamps
        raw = _encode(current, logic)
        self.pending = [raw[:1001], raw[1001:3333], raw[3333:]]   # chunks cut mid-sample
        self.instances.append(self)

    @staticmethod
    def list_devices() -> list[Any]:
        return list(FakePPK2.ports)

    def get_modifiers(self) -> bool:
        self.calls.append(("get_modifiers", None))
        return True

    def use_source_meter(self) -> None:
        self.calls.append(("use_source_meter", None))

    def use_ampere_meter(self) -> None:
        self.calls.append(("use_ampere_meter", None))

    def set_source_voltage(self, mv: int) -> None:
        self.calls.append(("set_source_voltage", mv))

    def toggle_DUT_power(self, state: str) -> None:
        self.calls.append(("toggle_DUT_power", state))

    def start_measuring(self) -> None:
        self.calls.append(("start_measuring", None))

    def stop_measuring(self) -> None:
        self.calls.append(("stop_measuring", None))

    def get_data(self) -> bytes:
        return self.pending.pop(0) if self.pending else b""

    def get_samples(self, buf: bytes) -> tuple[list[float], list[int]]:
        words = struct.unpack(f"<{len(buf) // 4}I", buf[: len(buf) // 4 * 4])
        return [float(w & 0xFFFFFF) for w in words], [w >> 24 for w in words]

    def digital_channels(self, bits: list[int]) -> list[list[int]]:
        return [[(b >> ch) & 1 for b in bits] for ch in range(8)]


def _fake_ppk2(monkeypatch: pytest.MonkeyPatch, ports: list[Any]) -> None:
    FakePPK2.ports = ports
    FakePPK2.instances = []
    pkg = types.ModuleType("ppk2_api")
    mod = types.ModuleType("ppk2_api.ppk2_api")
    mod.PPK2_API = FakePPK2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ppk2_api", pkg)
    monkeypatch.setitem(sys.modules, "ppk2_api.ppk2_api", mod)


def test_ppk2_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ppk2(monkeypatch, [("/dev/ttyACM0", "C1"), ("/dev/ttyACM3", "C2")])
    meter = Ppk2Meter(port="/dev/ttyACM3", voltage_mv=3000, poll_s=0.001)
    meter.open()
    ppk2 = FakePPK2.instances[0]
    assert ppk2.port == "/dev/ttyACM3"
    meter.start()
    stream = meter.stop()
    meter.close()
    names = [c[0] for c in ppk2.calls]
    assert names[:5] == ["get_modifiers", "use_source_meter", "set_source_voltage", "toggle_DUT_power",
                         "start_measuring"]
    assert ("set_source_voltage", 3000) in ppk2.calls and ("toggle_DUT_power", "OFF") in ppk2.calls
    assert stream.n_samples == 1200 and stream.voltage_v == pytest.approx(3.0)
    r = analyze_energy(stream, 10, source="ppk2", expected_windows=1, min_window_s=0, min_low_s=1e-5)
    assert r.energy_uj_per_inference == pytest.approx(0.010 * 3.0 * 0.010 * 1e6 / 10)   # 30 µJ
    assert "D0" in meter.describe()


def test_ppk2_selection_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ppk2(monkeypatch, [])
    with pytest.raises(TargetError, match=r"no PPK2 found \(PPK2_API.list_devices\(\) found none\)"):
        Ppk2Meter().open()
    _fake_ppk2(monkeypatch, ["/dev/ttyACM0", "/dev/ttyACM1"])
    with pytest.raises(TargetError, match="2 PPK2s found \\(/dev/ttyACM0, /dev/ttyACM1\\)"):
        Ppk2Meter().open()
    with pytest.raises(TargetError, match="no PPK2 on '/dev/ttyUSB9'; found: /dev/ttyACM0, /dev/ttyACM1"):
        Ppk2Meter(port="/dev/ttyUSB9").open()
    with pytest.raises(ValueError, match="D0..D7"):
        Ppk2Meter(gpio_channel=8)


def test_ppk2_too_old_for_logic_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ppk2(monkeypatch, ["/dev/ttyACM0"])
    monkeypatch.setattr(FakePPK2, "get_samples", lambda self, buf: [1.0] * (len(buf) // 4))
    meter = Ppk2Meter(poll_s=0.001)
    meter.open()
    meter.start()
    with pytest.raises(ToolchainError, match="pip install -U ppk2-api"):
        meter.stop()
    meter.close()


def _board(mw: float | None) -> BoardSpec:
    return BoardSpec(name="b", description="", core="cortex-m4", fpu=None, clock_hz=64_000_000,  # type: ignore[arg-type]
                     flash_origin=0, flash_bytes=1, ram_origin=0, ram_bytes=1, stack_bytes=1,
                     uart_kind="pl011", uart_base=0, uart_clock_hz=1, baud=115200,  # type: ignore[arg-type]
                     active_power_mw=mw)


def test_estimate_from_board_active_power() -> None:
    r = estimate_energy(_board(15.0), latency_us=2000.0)       # 15 mW x 2 ms = 30 µJ
    assert r.energy_uj_per_inference == pytest.approx(30.0)
    assert r.estimated and r.source == "estimate-board-active-power"
    with pytest.raises(ConfigError, match="no \\[power\\] active_mw"):
        estimate_energy(_board(None), latency_us=2000.0)
    with pytest.raises(ConfigError, match="finite latency"):
        estimate_energy(_board(15.0), latency_us=float("nan"))
