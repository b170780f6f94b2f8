"""The firmware's timing report and energy mode, run on qemu-m4 with tinycnn.

Energy mode (DESIGN §5): each timestamp is a >= 1 µs low pulse on the board's timestamp GPIO
instead of an ``m-lap-us`` line. qemu-m4's ``[timestamp_gpio]`` has kind "none": the pulse only
calls ``hil_mark_timestamp``, which the QEMU plugin logs as ``timestamp COUNT``, so the edges are
seen at exact instruction counts.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from harness.boards import BoardSpec, load_board
from harness.firmware.build import BuildOptions, build_firmware
from harness.measure.energy import TIMESTAMP_PULSE_S, analyze_energy, check_layer_sum
from harness.model import load_model
from harness.model.reference import default_input, reference_output
from harness.model.zoo import resolve_model
from harness.protocol import DutClient
from harness.targets import create_target
from harness.targets.energy.base import SampleStream
from tests.conftest import requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]

N, W = 3, 1  # `infer 3 1`


@dataclass
class Session:
    client: DutClient
    boot: list[str]
    plugin_log: list[tuple[str, int]] = field(default_factory=list)  # filled when the session ends


def _counter_log(target: object, result: object) -> tuple[str, ...]:
    # the plugin's "name count" lines: kept by the target (or, in older versions, in its stop() result)
    return tuple(getattr(target, "counter_log", None) or getattr(result, "counter_log", ()))


@contextlib.contextmanager
def booted(board: BoardSpec, energy_mode: str) -> Iterator[Session]:
    """tinycnn's firmware booted in QEMU with the instruction-counting plugin, its input loaded."""
    graph = load_model(resolve_model("tinycnn").path)
    image = build_firmware(graph, board, "tinycnn", BuildOptions(energy_mode=energy_mode))
    target = create_target("qemu", board, counter="plugin")
    try:
        target.load(image)
        client = DutClient(target.open())
        session = Session(client, client.wait_boot())
        client.load_input(default_input(graph))
        yield session
        client.exit(0)
        result = target.stop(timeout_s=5.0)
        assert result.exit_code == 0
        for line in _counter_log(target, result):
            name, count = line.split()
            session.plugin_log.append((name, int(count)))
    finally:
        target.close()


def timed_block(log: list[tuple[str, int]], warmup: int) -> list[tuple[str, int]]:
    """The marks after the warm-up inferences' ``end`` marks (and before the plugin's total)."""
    ends = [i for i, (name, _) in enumerate(log) if name == "end"]
    return [(name, count) for name, count in log[ends[warmup - 1] + 1:] if name != "total"]


def test_hil_timing_reports_each_timed_inference_by_systick_under_qemu() -> None:
    board = load_board("qemu-m4")
    with booted(board, "off") as s:
        assert s.boot[0] == "m-timestamp-mode-performance"
        none_yet = s.client.timing()
        assert (none_yet.inferences, none_yet.cycles) == (0, ())
        s.client.infer(N, W, timeout_s=30)
        timing = s.client.timing()
        info = s.client.ext_fields("hil-info", "m-hil-info")[0]
        s.client.infer(34, 0, timeout_s=60)
        capped = s.client.timing()
    # QEMU's DWT CYCCNT reads 0, so the firmware falls back to SysTick, at the board's clock
    assert timing.clock_source == "systick" and info["clock_source"] == "systick"
    assert timing.cpu_hz == board.clock_hz == int(info["cpu_hz"])
    assert timing.inferences == N and len(timing.cycles) == N
    # under -icount shift=0 SysTick follows the instruction count: 1 tick per 40 instructions at 25 MHz
    insn = [end - begin for (b, begin), (e, end) in zip(
        [m for m in s.plugin_log if m[0] == "begin"], [m for m in s.plugin_log if m[0] == "end"], strict=True)]
    for cycles, count in zip(timing.cycles, insn[W:W + N], strict=True):
        assert abs(cycles - count * board.clock_hz / 1e9) < 0.02 * cycles
    assert capped.inferences == 34 and len(capped.cycles) == 32


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[Session, bytes]]:
    """tinycnn on qemu-m4 after `infer 3 1`, in each timestamp mode: the session and the output bytes."""
    out: dict[str, tuple[Session, bytes]] = {}
    for mode in ("off", "inference", "layer"):
        with booted(load_board("qemu-m4"), mode) as s:
            reply = s.client.infer(N, W, timeout_s=30)
            s.boot.extend(reply.lines)  # kept for the checks below
            output = s.client.output_bytes()
        out[mode] = (s, output)
    return out


@pytest.mark.parametrize("mode", ["inference", "layer"])
def test_energy_mode_pulses_instead_of_printing_and_stays_bit_exact(mode: str,
                                                                   runs: dict[str, tuple[Session, bytes]]) -> None:
    graph = load_model(resolve_model("tinycnn").path)
    session, output = runs[mode]
    assert session.boot[0] == "m-timestamp-mode-energy"
    assert not any(line.startswith("m-lap-us-") for line in session.boot)  # nothing printed for a timestamp
    assert output == runs["off"][1] == reference_output(str(resolve_model("tinycnn").path), graph,
                                                        default_input(graph))
    layers = len(graph.operators)
    block = timed_block(session.plugin_log, W)
    stamps = [i for i, (name, _) in enumerate(block) if name == "timestamp"]
    assert len(stamps) == (2 if mode == "inference" else N * layers + 1)
    assert stamps[0] == 0  # the block opens with a pulse, before the first timed inference begins
    if mode == "inference":
        assert stamps[-1] == len(block) - 1  # ... and closes with one after the last ends
    else:
        # one pulse after every layer: the last one is the block's stop, before the last inference's end
        assert [name for name, _ in block[-2:]] == ["timestamp", "end"]
    # the boot timestamp pulses too (init calls it), and warm-up inferences never pulse per layer
    last_warmup_end = [i for i, (name, _) in enumerate(session.plugin_log) if name == "end"][W - 1]
    warmup_marks = [name for name, _ in session.plugin_log[:last_warmup_end + 1]]
    assert warmup_marks.count("timestamp") == 1 and warmup_marks[0] == "timestamp"


def test_whole_inference_energy_mode_does_not_change_the_inferences_instruction_count(
        runs: dict[str, tuple[Session, bytes]]) -> None:
    def per_inference(log: list[tuple[str, int]]) -> list[int]:
        begins = [c for n, c in log if n == "begin"]
        return [end - begin for begin, end in zip(begins, [c for n, c in log if n == "end"], strict=True)]

    assert per_inference(runs["inference"][0].plugin_log) == per_inference(runs["off"][0].plugin_log)


def emulated_capture(log: list[tuple[str, int]], clock_hz: int, sample_rate_hz: float, base_a: float,
                     layer_a: tuple[float, ...], voltage_v: float) -> SampleStream:
    """What a power analyzer would record of this run: the emulated analyzer.

    Time is the plugin's instruction count at the board's clock (one instruction per cycle); the
    GPIO is low for 1 µs from every ``timestamp`` mark; the current is ``base_a``, plus
    ``layer_a[i]`` from layer i's mark to the next mark (the layer's kernel).
    """
    end_s = log[-1][1] / clock_hz + 20e-6
    n = int(end_s * sample_rate_hz)
    t = np.arange(n) / sample_rate_hz
    current = np.full(n, base_a)
    gpio = np.ones(n, dtype=bool)
    layer = -1
    for (name, count), (_, next_count) in zip(log, [*log[1:], ("", log[-1][1])], strict=True):
        start, stop = count / clock_hz, next_count / clock_hz
        if name == "begin":
            layer = -1
        elif name == "layer":
            layer += 1
            current[(t >= start) & (t < stop)] += layer_a[layer]
        elif name == "timestamp":
            gpio[(t >= start) & (t < start + TIMESTAMP_PULSE_S)] = False
    return SampleStream(sample_rate_hz=sample_rate_hz, current_a=current, voltage_v=voltage_v, gpio=gpio)


def expected_layer_energy_uj(log: list[tuple[str, int]], clock_hz: int, base_a: float,
                             layer_a: tuple[float, ...], voltage_v: float, warmup: int) -> list[float]:
    """Each layer's energy per timed inference, integrated exactly from the marks: from the pulse before
    it to the pulse after it (the segment the analyzer sees), base current throughout plus the layer's
    own current from its mark to the next mark."""
    block = timed_block(log, warmup)
    stamps = [k for k, (name, _) in enumerate(block) if name == "timestamp"]
    sums = [0.0] * len(layer_a)
    for seg, (a, b) in enumerate(itertools.pairwise(stamps)):
        i = seg % len(layer_a)
        joules = base_a * voltage_v * (block[b][1] - block[a][1]) / clock_hz
        for k in range(a, b):
            if block[k][0] == "layer":
                joules += layer_a[i] * voltage_v * (block[k + 1][1] - block[k][1]) / clock_hz
        sums[i] += joules * 1e6
    return [s / ((len(stamps) - 1) // len(layer_a)) for s in sums]


def test_the_emulated_analyzer_gives_each_layers_energy_and_they_sum_to_the_inference(
        runs: dict[str, tuple[Session, bytes]]) -> None:
    """The emulated analyzer check: the plugin's timestamp marks of a per-layer energy-mode run become a
    synthetic meter capture (time from instruction counts at the board clock, the GPIO low 1 µs at each
    mark, a base current plus a different current per layer), and harness.measure.energy.analyze_energy,
    the code that reads real analyzers, recovers each layer's energy and an inference's energy, which the
    layers sum to within 1 %."""
    board = load_board("qemu-m4")
    layer_a = (0.012, 0.020, 0.002, 0.015, 0.006, 0.004)   # per-layer extra current, A
    base_a, voltage_v, fs = 0.010, 3.3, 10e6
    log = runs["layer"][0].plugin_log
    stream = emulated_capture(log, board.clock_hz, fs, base_a, layer_a, voltage_v)
    reading = analyze_energy(stream, N, layers=len(layer_a), source="estimate-board-active-power",
                             skip_leading_edges=1, min_window_s=0.0, expected_windows=1)
    assert len(reading.windows) == 1 and reading.windows[0].flags == ()
    want = expected_layer_energy_uj(log, board.clock_hz, base_a, layer_a, voltage_v, W)
    one_sample_uj = (base_a + max(layer_a)) * voltage_v / fs * 1e6
    for got, expected in zip([layer.energy_uj for layer in reading.layers], want, strict=True):
        assert abs(got - expected) <= 2 * one_sample_uj + 0.005 * expected  # edges fall on whole samples
    layers_sum = sum(layer.energy_uj for layer in reading.layers)
    assert abs(layers_sum - reading.energy_uj_per_inference) <= 0.01 * reading.energy_uj_per_inference
    assert abs(layers_sum - sum(want)) <= 0.01 * sum(want)

    # the whole-inference run, without the per-layer pulses (each costs ~1 µs and a few instructions)
    whole_log = runs["inference"][0].plugin_log
    whole = analyze_energy(emulated_capture(whole_log, board.clock_hz, fs, base_a, layer_a, voltage_v), N,
                           source="estimate-board-active-power", skip_leading_edges=1, min_window_s=0.0,
                           expected_windows=1)
    check = check_layer_sum(reading, whole)
    assert check.ok, check.describe()

