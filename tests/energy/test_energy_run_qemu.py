"""The energy procedure end to end on QEMU: energy-mode firmware, a meter registered like a real one.

QEMU has no current to measure, so the meter here is synthetic: it returns a stream with a known energy
per layer and the timestamp edges the energy-mode firmware makes (2 per window for whole inferences,
N*L + 1 per window per layer). What is real: the energy-mode builds (inference and layer), the runner's
energy pipeline over QEMU, the analysis, the layer-sum check and the record's fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from harness.boards import load_board
from harness.runner import RunOptions, run_model
from harness.targets import energy as energy_registry
from harness.targets.energy.base import SampleStream
from tests.conftest import requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]

RATE_HZ = 100_000.0
VOLTAGE_V = 3.3
LAYER_S = (0.004, 0.006, 0.002, 0.003, 0.001, 0.002)        # tinycnn's 6 layers
LAYER_A = (0.010, 0.012, 0.008, 0.009, 0.007, 0.006)
IDLE_A = 0.001
PULSE_S = 20e-6


def layer_uj() -> list[float]:
    return [a * VOLTAGE_V * s * 1e6 for a, s in zip(LAYER_A, LAYER_S)]


def synthetic_stream(windows: int, inferences: int, per_layer: bool, drop_edges: bool = False) -> SampleStream:
    """Windows of ``inferences`` inferences, each layer at its own current; edges as the firmware makes them."""
    current: list[np.ndarray] = []
    gpio: list[np.ndarray] = []

    def add(seconds: float, amps: float, pulse: bool) -> None:
        n = round(seconds * RATE_HZ)
        level = np.ones(n, dtype=bool)
        if pulse and not drop_edges:
            level[:max(1, round(PULSE_S * RATE_HZ))] = False
        current.append(np.full(n, amps))
        gpio.append(level)

    for _ in range(windows):
        add(0.01, IDLE_A, False)
        for k in range(inferences):
            for i, (s, a) in enumerate(zip(LAYER_S, LAYER_A)):
                # whole mode: one edge at the block's start; layer mode: one at every layer's start
                add(s, a, pulse=(k == 0 and i == 0) or per_layer)
        add(0.01, IDLE_A, True)   # the block's end: the stop edge
    return SampleStream(RATE_HZ, np.concatenate(current), VOLTAGE_V, np.concatenate(gpio), source="synthetic")


class SyntheticMeter:
    source = "synthetic"

    def __init__(self, stream: SampleStream) -> None:
        self.stream = stream
        self.calls: list[str] = []

    def open(self) -> None:
        self.calls.append("open")

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> SampleStream:
        self.calls.append("stop")
        return self.stream

    def close(self) -> None:
        self.calls.append("close")

    def describe(self) -> str:
        return "synthetic meter (tests)"


@dataclass
class Meters:
    """The streams the meters will return, in order, and the meters made."""

    streams: list[SampleStream] = field(default_factory=list)
    made: list[SyntheticMeter] = field(default_factory=list)


@pytest.fixture
def meters() -> Iterator[Meters]:
    """Registers the meter ``synthetic`` as a real one is registered; each one made takes the next stream."""
    state = Meters()

    def factory(selector: str | None) -> SyntheticMeter:
        meter = SyntheticMeter(state.streams[len(state.made)])
        state.made.append(meter)
        return meter

    energy_registry.register_energy_meter("synthetic", factory)
    try:
        yield state
    finally:
        energy_registry._METERS.pop("synthetic", None)


def test_energy_per_inference_and_per_layer_land_in_the_record(meters: Meters) -> None:
    n, windows = 2, 2
    meters.streams.extend([synthetic_stream(windows, n, per_layer=False), synthetic_stream(windows, n, per_layer=True)])
    record = run_model("tinycnn", load_board("qemu-m4"),
                       RunOptions(inferences=n, energy="synthetic", energy_layers=True, energy_windows=windows))
    assert record.status == "ok", record.error
    assert record.matches_reference and record.latency_source == "qemu-insn"
    assert record.energy_source == "synthetic"
    assert record.energy_uj == pytest.approx(sum(layer_uj()), rel=0.01)
    assert [row["energy_uj"] for row in record.layers] == pytest.approx(layer_uj(), rel=0.02)
    energy = record.provenance["energy"]
    assert energy["windows"] == windows and energy["inferences_per_window"] == n
    assert "short_window" in energy["flags"]       # 0.036 s windows, under the 10 s the method asks for
    assert "within" in energy["layer_sum_check"]
    assert [m.calls for m in meters.made] == [["open", "start", "stop", "close"]] * 2


def test_a_stream_without_edges_fails_the_run_with_the_wiring_hint(meters: Meters) -> None:
    meters.streams.append(synthetic_stream(2, 2, per_layer=False, drop_edges=True))
    record = run_model("tinycnn", load_board("qemu-m4"), RunOptions(inferences=2, energy="synthetic",
                                                                      energy_windows=2))
    assert record.status == "energy"
    assert "no timestamp edge" in (record.error or "") and "Check the wiring" in (record.error or "")
    assert record.energy_uj is None


def test_energy_on_a_board_without_a_timestamp_pin_is_a_config_error(meters: Meters) -> None:
    record = run_model("tinycnn", load_board("qemu-m3"), RunOptions(inferences=1, energy="synthetic"))
    assert record.status == "config"
    assert "qemu-m3" in (record.error or "") and "timestamp_gpio" in (record.error or "")


def test_an_unknown_meter_is_refused_before_anything_runs() -> None:
    from harness.errors import ConfigError
    with pytest.raises(ConfigError, match=r"unknown energy meter 'otii'.*joulescope"):
        RunOptions(energy="otii")
