"""Energy analysis on synthetic streams whose integrals are known exactly (DESIGN §5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from energy_synth import build_stream, windows_stream

from harness.errors import MeasurementError
from harness.measure.energy import (
    analyze_energy,
    check_layer_sum,
    find_falling_edges,
    min_low_samples,
)
from harness.targets.energy.base import SampleStream

FS = 10_000.0


def test_constant_10ma_at_3v3_is_exact() -> None:
    # 10 mA x 3.3 V x 1.0 s = 33 mJ per window; 100 inferences -> 330 µJ each
    stream = windows_stream(FS, [0.010] * 5)
    r = analyze_energy(stream, 100, source="joulescope", expected_windows=5, min_window_s=0.5)
    assert r.energy_uj_per_inference == pytest.approx(330.0, rel=1e-12)
    assert len(r.windows) == 5 and all(w.flags == () for w in r.windows)
    assert all(w.duration_s == pytest.approx(1.0) for w in r.windows)
    assert r.windows[0].energy_j == pytest.approx(0.033, rel=1e-12)
    assert r.dropped_samples == 0 and r.notes == () and not r.estimated


def test_median_over_windows() -> None:
    stream = windows_stream(FS, [0.010, 0.011, 0.012, 0.009, 0.030])
    r = analyze_energy(stream, 100, source="ppk2", min_window_s=0.5)
    assert r.energy_uj_per_inference == pytest.approx(0.011 * 3.3 * 1e6 / 100)   # 363 µJ


def test_short_windows_are_flagged_not_dropped() -> None:
    r = analyze_energy(windows_stream(FS, [0.010] * 5), 100, source="joulescope")  # default >= 10 s
    assert all("short_window" in w.flags for w in r.windows)
    assert r.flags == ("short_window",)
    assert r.energy_uj_per_inference == pytest.approx(330.0)


def test_voltage_per_sample() -> None:
    s = windows_stream(FS, [0.010] * 2)
    volts = np.full(s.n_samples, 1.8)
    stream = SampleStream(FS, s.current_a, volts, s.gpio)
    r = analyze_energy(stream, 10, source="joulescope", min_window_s=0)
    assert r.energy_uj_per_inference == pytest.approx(0.010 * 1.8 * 1e6 / 10)


def test_noise_within_tolerance() -> None:
    stream = windows_stream(FS, [0.010] * 5, noise_a=0.002, seed=1234)   # 20 % rms noise per sample
    r = analyze_energy(stream, 100, source="joulescope", min_window_s=0)
    assert r.energy_uj_per_inference == pytest.approx(330.0, rel=0.005)


def _layered(fs: float, n: int, levels: list[tuple[float, float]], *, pulses_per_layer: bool,
             windows: int = 3) -> SampleStream:
    pieces: list[tuple[float, float]] = [(0.01, 0.001)]
    edges: list[float] = []
    t = 0.01
    for _ in range(windows):
        edges.append(t)
        for _ in range(n):
            for d, i in levels:
                pieces.append((d, i))
                t += d
                edges.append(t)
        if not pulses_per_layer:
            edges = edges[:-n * len(levels)] + [t]
        pieces.append((0.01, 0.001))
        t += 0.01
    return build_stream(fs, pieces, edges)


LEVELS = [(0.001, 0.005), (0.002, 0.010), (0.003, 0.020)]     # (s, A) per layer
LAYER_UJ = [3.3 * i * d * 1e6 for d, i in LEVELS]             # 16.5, 66, 198 µJ


def test_per_layer_energies_and_sum_check() -> None:
    fs = 100_000.0
    per_layer = analyze_energy(_layered(fs, 10, LEVELS, pulses_per_layer=True), 10, layers=3,
                               source="joulescope", expected_windows=3, min_window_s=0)
    assert [layer.energy_uj for layer in per_layer.layers] == pytest.approx(LAYER_UJ, rel=1e-9)
    assert [layer.duration_us for layer in per_layer.layers] == pytest.approx([1000, 2000, 3000])
    assert per_layer.energy_uj_per_inference == pytest.approx(sum(LAYER_UJ))
    whole = analyze_energy(_layered(fs, 10, LEVELS, pulses_per_layer=False), 10,
                           source="joulescope", expected_windows=3, min_window_s=0)
    assert whole.energy_uj_per_inference == pytest.approx(280.5)
    check = check_layer_sum(per_layer, whole)
    assert check.ok and abs(check.relative_difference) < 1e-9
    # the whole run 10 % dearer (say the pulses were not the only difference): outside 5 %
    slower = [(d, i * 1.1) for d, i in LEVELS]
    dearer = analyze_energy(_layered(fs, 10, slower, pulses_per_layer=False), 10,
                            source="joulescope", min_window_s=0)
    bad = check_layer_sum(per_layer, dearer)
    assert not bad.ok and bad.relative_difference == pytest.approx(1 / 1.1 - 1)
    assert "outside" in bad.describe()
    with pytest.raises(MeasurementError, match="no layers"):
        check_layer_sum(whole, whole)


def test_missing_inner_layer_edge_names_the_window() -> None:
    s = _layered(100_000.0, 4, LEVELS, pulses_per_layer=True, windows=3)
    low = np.flatnonzero(~s.gpio)
    gpio = s.gpio.copy()
    gpio[low[13 + 5]] = True      # window #2: its 6th edge
    broken = SampleStream(s.sample_rate_hz, s.current_a, s.voltage_v, gpio)
    with pytest.raises(MeasurementError, match=r"window #2 does not match window #1 \(segment 5: .*missing there"):
        analyze_energy(broken, 4, layers=3, source="joulescope", expected_windows=3, min_window_s=0)


def test_missing_stop_edge_names_the_window() -> None:
    s = windows_stream(FS, [0.010] * 5, idle_s=0.5)
    gpio = s.gpio.copy()
    gpio[np.flatnonzero(~gpio)[5]] = True     # the stop edge of window #3
    broken = SampleStream(FS, s.current_a, s.voltage_v, gpio)
    with pytest.raises(MeasurementError, match=r"expected 5 windows x 2 edges = 10 edges, found 9; "
                                               r"window #3 does not match window #2"):
        analyze_energy(broken, 100, source="joulescope", expected_windows=5)


def test_missing_last_edge_says_incomplete() -> None:
    s = windows_stream(FS, [0.010] * 3)
    gpio = s.gpio.copy()
    gpio[np.flatnonzero(~gpio)[-1]] = True
    with pytest.raises(MeasurementError, match=r"window #3 is incomplete"):
        analyze_energy(SampleStream(FS, s.current_a, 3.3, gpio), 100, source="joulescope",
                       expected_windows=3)


def test_partial_window_at_the_end_is_discarded() -> None:
    s = windows_stream(FS, [0.010] * 3)
    cut = np.flatnonzero(~s.gpio)[-1] - 10          # the capture ends inside window #3
    stream = SampleStream(FS, s.current_a[:cut], 3.3, s.gpio[:cut])
    r = analyze_energy(stream, 100, source="joulescope", min_window_s=0)
    assert len(r.windows) == 2 and r.energy_uj_per_inference == pytest.approx(330.0)
    assert any("partial window at the end" in n for n in r.notes)


def test_pulse_cut_by_the_end_and_capture_starting_in_a_pulse() -> None:
    fs = 1_000_000.0     # 1 µs pulse = 1 sample; use a 5 µs pulse and min_low_s 5 µs
    s = build_stream(fs, [(0.001, 0.001), (0.01, 0.010), (0.001, 0.001)], [0.0, 0.001, 0.011, 0.012 - 2e-6],
                     pulse_s=5e-6)
    r = analyze_energy(s, 1, source="joulescope", min_low_s=5e-6, min_window_s=0)
    assert r.windows[0].energy_j == pytest.approx(0.010 * 3.3 * 0.01)
    assert any("starts inside a timestamp pulse" in n for n in r.notes)
    assert any("cut off by the end" in n for n in r.notes)


def test_dropped_nan_samples_counted_and_filled() -> None:
    s = windows_stream(FS, [0.010] * 5)
    current = s.current_a.copy()
    start = np.flatnonzero(~s.gpio)[0]
    current[start + 100:start + 105] = np.nan             # 5 of 10 000: 0.05 %
    r = analyze_energy(SampleStream(FS, current, 3.3, s.gpio), 100, source="joulescope", min_window_s=0)
    assert r.dropped_samples == 5 and r.windows[0].flags == ("dropped_samples",)
    assert r.windows[0].usable and r.energy_uj_per_inference == pytest.approx(330.0)


def test_too_many_dropped_samples_refuse_the_window() -> None:
    s = windows_stream(FS, [0.010, 0.020, 0.010, 0.010, 0.010])
    current = s.current_a.copy()
    start = np.flatnonzero(~s.gpio)[2]                    # window #2 (the 20 mA one)
    current[start:start + 100] = np.nan                   # 1 %
    r = analyze_energy(SampleStream(FS, current, 3.3, s.gpio), 100, source="joulescope", min_window_s=0)
    assert not r.windows[1].usable and "refused" in r.windows[1].flags
    assert any("window #2 refused: 100 of 10000 samples dropped" in n for n in r.notes)
    assert r.energy_uj_per_inference == pytest.approx(330.0)
    every = s.current_a.copy()
    every[:] = np.nan
    with pytest.raises(MeasurementError, match="no usable energy window"):
        analyze_energy(SampleStream(FS, every, 3.3, s.gpio), 100, source="joulescope")


def test_sample_counter_gap_keeps_time_and_counts_the_loss() -> None:
    s = windows_stream(FS, [0.010] * 2)
    start = np.flatnonzero(~s.gpio)[0]
    keep = np.ones(s.n_samples, dtype=bool)
    keep[start + 500:start + 503] = False                 # 3 samples lost by the meter
    ids = np.arange(s.n_samples, dtype=np.int64)[keep]
    stream = SampleStream(FS, s.current_a[keep], 3.3, s.gpio[keep], sample_id=ids)
    r = analyze_energy(stream, 100, source="joulescope", min_window_s=0)
    assert r.windows[0].dropped_samples == 3 and r.windows[0].duration_s == pytest.approx(1.0)
    assert r.energy_uj_per_inference == pytest.approx(330.0)


def test_no_edge_at_all() -> None:
    s = windows_stream(FS, [0.010])
    high = SampleStream(FS, s.current_a, 3.3, np.ones(s.n_samples, dtype=bool))
    with pytest.raises(MeasurementError, match=r"no timestamp edge on the GPIO input.*check the wiring"
                                               r"|stayed high.*Check the wiring"):
        analyze_energy(high, 1, source="ppk2")
    low = SampleStream(FS, s.current_a, 3.3, np.zeros(s.n_samples, dtype=bool))
    with pytest.raises(MeasurementError, match="stayed low for the whole capture"):
        analyze_energy(low, 1, source="ppk2")


def test_debounce_ignores_glitches_shorter_than_the_pulse() -> None:
    fs = 10_000_000.0                                     # 10 samples per µs
    gpio = np.ones(1000, dtype=bool)
    gpio[100:103] = False                                 # 0.3 µs glitch
    gpio[300:310] = False                                 # 1.0 µs pulse
    gpio[500:540] = False                                 # 4 µs pulse
    scan = find_falling_edges(gpio, fs)
    assert scan.indices.tolist() == [300, 500] and scan.glitches == 1
    assert min_low_samples(fs) == 10 and min_low_samples(100_000.0) == 1


def test_skip_the_boot_timestamp() -> None:
    s = windows_stream(FS, [0.010] * 2)
    gpio = s.gpio.copy()
    gpio[10] = False                                      # init's timestamp, before the first window
    stream = SampleStream(FS, s.current_a, 3.3, gpio)
    r = analyze_energy(stream, 100, source="joulescope", skip_leading_edges=1, min_window_s=0,
                       expected_windows=2)
    assert r.energy_uj_per_inference == pytest.approx(330.0)
    assert any("1 leading edges skipped" in n for n in r.notes)


def test_stream_validation() -> None:
    with pytest.raises(ValueError, match="gpio has"):
        SampleStream(FS, np.zeros(3), 3.3, np.ones(2, dtype=bool))
    with pytest.raises(ValueError, match="increase strictly"):
        SampleStream(FS, np.zeros(3), 3.3, np.ones(3, dtype=bool), sample_id=np.array([0, 2, 2]))
    with pytest.raises(ValueError, match="sample_rate_hz"):
        SampleStream(0.0, np.zeros(3), 3.3, np.ones(3, dtype=bool))


def test_recorded_like_capture() -> None:
    data = np.load(Path(__file__).with_name("data") / "recorded_like.npz")
    stream = SampleStream(float(data["sample_rate_hz"]), data["current_a"].astype(np.float64),
                          data["voltage_v"].astype(np.float64), data["gpio"])
    r = analyze_energy(stream, int(data["inferences"]), source="joulescope", skip_leading_edges=1,
                       expected_windows=int(data["windows"]))
    assert r.energy_uj_per_inference == pytest.approx(float(data["expected_uj"]), rel=0.002)
    assert r.dropped_samples == 1 and len(r.windows) == 5
    assert r.flags == ("short_window", "dropped_samples")          # 0.3 s windows, not 10 s
    assert r.windows[0].duration_s == pytest.approx(0.3)
