"""Energy per inference from a meter's samples and the firmware's timestamp pulses (DESIGN §5).

In energy mode ``th_timestamp`` drives a GPIO low for >= 1 µs: a falling edge marks a timestamp.
One ``infer N`` block gives two edges, its start and its stop; in per-layer mode the firmware also
pulses at every layer boundary, so a window of N inferences of L layers has N*L + 1 edges and its
N*L segments are the layers in order (a boundary between two inferences is one pulse).

Method:
- Edges: the first low sample of every low run that lasts at least ``min_low_s`` (at least one
  sample); shorter low runs are glitches and ignored. A run that is already low at the first
  sample, or is cut off by the end of the capture before it is long enough, gives no edge.
- Edges are grouped in order, ``edges_per_window`` at a time, starting after ``skip_leading_edges``
  (1 when the capture covers the boot, whose init also calls the timestamp). A trailing incomplete
  group is a partial window: discarded, and said so in ``notes``.
- Integration: the per-sample rectangle sum. A window covers samples ``[i_start, i_stop)``, each
  sample contributing ``I*V*dt`` (``dt = 1/sample_rate_hz``). Dropped samples (NaN, or a jump of the
  meter's sample counter) are filled with the window's mean valid power, i.e. ``energy = mean valid
  power x duration``; their count is reported, and a window with more than
  ``max_dropped_fraction`` of its samples dropped is refused (kept, flagged, not in the median).
- Energy per inference: window energy / N, median over the usable windows. A window shorter than
  ``min_window_s`` (DESIGN: >= 10 s on hardware) is flagged ``short_window`` and still used.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

import numpy as np

from harness.errors import EnergyMeasurementError
from harness.targets.energy.base import (
    BoolArray,
    EnergyReading,
    EnergyWindow,
    FloatArray,
    IntArray,
    LayerEnergy,
    SampleStream,
)

TIMESTAMP_PULSE_S = 1e-6
MIN_WINDOW_S = 10.0
MAX_DROPPED_FRACTION = 0.001


@dataclass(frozen=True)
class EdgeScan:
    indices: IntArray          # sample index of each falling edge (its first low sample)
    glitches: int              # low runs shorter than the minimum pulse, ignored
    starts_low: bool           # the capture began inside a pulse: that edge is not seen
    cut_at_end: bool           # a pulse cut off by the end of the capture, too short to count


def min_low_samples(sample_rate_hz: float, min_low_s: float = TIMESTAMP_PULSE_S) -> int:
    """How many consecutive low samples make a pulse: ``floor(min_low_s * rate)``, at least 1."""
    return max(1, math.floor(min_low_s * sample_rate_hz + 1e-9))


def find_falling_edges(gpio: BoolArray, sample_rate_hz: float,
                       min_low_s: float = TIMESTAMP_PULSE_S) -> EdgeScan:
    """Falling edges of the timestamp input, debounced: a low run shorter than ``min_low_s``
    is a glitch."""
    level = np.asarray(gpio, dtype=bool)
    if level.size == 0:
        return EdgeScan(np.zeros(0, dtype=np.int64), 0, False, False)
    need = min_low_samples(sample_rate_hz, min_low_s)
    low = ~level
    change = np.diff(low.astype(np.int8))
    starts = np.flatnonzero(change == 1) + 1          # high -> low
    ends = np.flatnonzero(change == -1) + 1           # low -> high: first high sample
    starts_low = bool(low[0])
    if starts_low:
        ends = ends[1:]                                # the run that began before the capture
    lengths = np.empty(len(starts), dtype=np.int64)
    lengths[: len(ends)] = ends[: len(starts)] - starts[: len(ends)]
    cut_at_end = False
    if len(ends) < len(starts):                        # the last run reaches the end of the capture
        lengths[-1] = level.size - starts[-1]
        cut_at_end = bool(lengths[-1] < need)
    keep = lengths >= need
    glitches = int(np.count_nonzero(~keep)) - (1 if cut_at_end else 0)
    return EdgeScan(starts[keep].astype(np.int64), glitches, starts_low, cut_at_end)


def _integrate(power_w: FloatArray, times_s: FloatArray, sample_rate_hz: float,
               i_start: int, i_stop: int) -> tuple[float, float, int]:
    """(energy J, duration s, dropped samples) over samples [i_start, i_stop)."""
    duration_s = float(times_s[i_stop] - times_s[i_start])
    expected = round(duration_s * sample_rate_hz)
    chunk = power_w[i_start:i_stop]
    valid = chunk[np.isfinite(chunk)]
    dropped = max(0, expected - int(valid.size))
    if valid.size == 0:
        return math.nan, duration_s, dropped
    return float(np.mean(valid)) * duration_s, duration_s, dropped


def _locate_missing_edge(segments_s: FloatArray, per_window: int) -> str | None:
    """Compare each window's segments (between consecutive edges, the idle gap after it left out)
    with the previous window's; the first pair that differs by more than 5 % places the missing
    edge: it merged two segments, and every edge after it shifts by one."""
    periods = [segments_s[k * per_window:k * per_window + per_window - 1]
               for k in range(len(segments_s) // per_window + 1)]
    periods = [p for p in periods if len(p) == per_window - 1]
    for k in range(1, len(periods)):
        for i, (before, now) in enumerate(zip(periods[k - 1], periods[k], strict=True)):
            if abs(now - before) > 0.05 * max(before, now):
                return (f"window #{k + 1} does not match window #{k} (segment {i + 1}: {now:.6f} s vs "
                        f"{before:.6f} s): the edge is missing there or just before")
    return None


def _no_edge_error(stream: SampleStream, scan: EdgeScan, min_low_s: float) -> EnergyMeasurementError:
    seconds = stream.n_samples / stream.sample_rate_hz
    stuck = ""
    if stream.n_samples and not bool(np.any(stream.gpio)):
        stuck = " The input stayed low for the whole capture."
    elif stream.n_samples and bool(np.all(stream.gpio)):
        stuck = " The input stayed high for the whole capture."
    return EnergyMeasurementError(
        f"no timestamp edge on the GPIO input in {seconds:.3f} s of capture ({stream.n_samples} samples "
        f"at {stream.sample_rate_hz:g} Hz, {scan.glitches} glitches shorter than {min_low_s * 1e6:g} µs "
        f"ignored).{stuck} Check the wiring (the board's timestamp pin to the meter's digital input, "
        "and a common ground), that the firmware runs in energy mode (m-timestamp-mode-energy), and "
        f"that its pulse is longer than the meter's sample period ({1e6 / stream.sample_rate_hz:g} µs).")


def analyze_energy(stream: SampleStream, inferences: int, *, source: str,
                   layers: int = 1, expected_windows: int | None = None,
                   skip_leading_edges: int = 0, min_window_s: float = MIN_WINDOW_S,
                   min_low_s: float = TIMESTAMP_PULSE_S,
                   max_dropped_fraction: float = MAX_DROPPED_FRACTION) -> EnergyReading:
    """Energy per inference (median over windows) and, with ``layers`` > 1, per layer."""
    if inferences < 1 or layers < 1:
        raise ValueError(f"inferences ({inferences}) and layers ({layers}) must be >= 1")
    scan = find_falling_edges(stream.gpio, stream.sample_rate_hz, min_low_s)
    notes: list[str] = []
    if scan.starts_low:
        notes.append("the capture starts inside a timestamp pulse: that edge is not counted")
    if scan.cut_at_end:
        notes.append("a pulse cut off by the end of the capture is not counted")
    if scan.glitches:
        notes.append(f"{scan.glitches} low glitches shorter than {min_low_s * 1e6:g} µs ignored")
    edges = scan.indices
    if edges.size == 0:
        raise _no_edge_error(stream, scan, min_low_s)
    if skip_leading_edges:
        notes.append(f"{min(skip_leading_edges, edges.size)} leading edges skipped")
        edges = edges[skip_leading_edges:]

    per_window = inferences * layers + 1 if layers > 1 else 2
    complete = edges.size // per_window
    left = edges.size % per_window
    power = stream.power_w()
    times = np.append(stream.times_s(), stream.times_s()[-1] + 1.0 / stream.sample_rate_hz)
    groups = [edges[k * per_window:(k + 1) * per_window] for k in range(complete)]

    if expected_windows is not None and complete < expected_windows:
        where = (_locate_missing_edge(np.diff(times[edges]), per_window)
                 or f"window #{complete + 1} is incomplete")
        raise EnergyMeasurementError(
            f"missing timestamp edge: expected {expected_windows} windows x {per_window} edges = "
            f"{expected_windows * per_window} edges, found {edges.size}; {where}. "
            "Check the wiring and that the capture covers every window.")
    if left:
        notes.append(f"partial window at the end of the capture discarded ({left} of {per_window} edges)")

    windows: list[EnergyWindow] = []
    dropped_total = 0
    for k, g in enumerate(groups):
        energy_j, duration_s, dropped = _integrate(power, times, stream.sample_rate_hz, int(g[0]), int(g[-1]))
        flags: list[str] = []
        if duration_s < min_window_s:
            flags.append("short_window")
        if dropped:
            flags.append("dropped_samples")
            expected_samples = max(1, round(duration_s * stream.sample_rate_hz))
            if dropped / expected_samples > max_dropped_fraction or math.isnan(energy_j):
                flags.append("refused")
                notes.append(f"window #{k + 1} refused: {dropped} of {expected_samples} samples dropped "
                             f"(limit {max_dropped_fraction:.3%})")
        dropped_total += dropped
        layer_uj: tuple[float, ...] = ()
        layer_us: tuple[float, ...] = ()
        if layers > 1:
            seg = [_integrate(power, times, stream.sample_rate_hz, int(a), int(b))
                   for a, b in itertools.pairwise(g)]
            layer_uj = tuple(float(np.mean([seg[n * layers + i][0] for n in range(inferences)])) * 1e6
                             for i in range(layers))
            layer_us = tuple(float(np.mean([seg[n * layers + i][1] for n in range(inferences)])) * 1e6
                             for i in range(layers))
        windows.append(EnergyWindow(index=k, start_s=float(times[g[0]]), end_s=float(times[g[-1]]),
                                    energy_j=energy_j, inferences=inferences, dropped_samples=dropped,
                                    flags=tuple(flags), layer_energy_uj=layer_uj,
                                    layer_duration_us=layer_us))

    usable = [w for w in windows if w.usable]
    if not usable:
        raise EnergyMeasurementError(
            f"no usable energy window: found {len(windows)} complete windows"
            + (f"; {'; '.join(notes)}" if notes else ""))
    layer_list = tuple(
        LayerEnergy(index=i, energy_uj=statistics.median(w.layer_energy_uj[i] for w in usable),
                    duration_us=statistics.median(w.layer_duration_us[i] for w in usable))
        for i in range(layers)) if layers > 1 else ()
    return EnergyReading(
        energy_uj_per_inference=statistics.median(w.energy_uj_per_inference for w in usable),
        source=source, windows=tuple(windows), layers=layer_list, dropped_samples=dropped_total,
        estimated=False, notes=tuple(notes))


@dataclass(frozen=True)
class LayerSumCheck:
    layers_sum_uj: float
    whole_uj: float
    relative_difference: float      # (sum - whole) / whole
    tolerance: float
    ok: bool

    def describe(self) -> str:
        verdict = "within" if self.ok else "outside"
        return (f"sum of layers {self.layers_sum_uj:.3f} µJ vs whole inference {self.whole_uj:.3f} µJ: "
                f"{self.relative_difference:+.2%}, {verdict} ±{self.tolerance:.1%}")


def check_layer_sum(per_layer: EnergyReading, whole: EnergyReading,
                    tolerance: float = 0.05) -> LayerSumCheck:
    """Compare the per-layer run's layers with a run without the extra pulses (the pulses cost time
    and energy of their own, so the two differ a little)."""
    if not per_layer.layers:
        raise EnergyMeasurementError("the per-layer reading has no layers (analyse it with layers > 1)")
    if not whole.energy_uj_per_inference > 0:
        raise EnergyMeasurementError(f"the whole-inference energy is {whole.energy_uj_per_inference} µJ; "
                               "expected > 0")
    total = sum(layer.energy_uj for layer in per_layer.layers)
    rel = (total - whole.energy_uj_per_inference) / whole.energy_uj_per_inference
    return LayerSumCheck(total, whole.energy_uj_per_inference, rel, tolerance, abs(rel) <= tolerance)
