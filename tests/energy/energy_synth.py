"""Synthetic meter streams with known integrals, for the energy analysis tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.targets.energy.base import SampleStream


def build_stream(fs: float, pieces: Sequence[tuple[float, float]], edges_at_s: Sequence[float],
                 *, voltage_v: float = 3.3, pulse_s: float | None = None,
                 noise_a: float = 0.0, seed: int = 0) -> SampleStream:
    """``pieces``: (duration s, current A) in order; ``edges_at_s``: where the GPIO falls.

    The pulse lasts ``pulse_s`` (default: one sample). Durations are whole samples: choose values
    that are multiples of 1/fs so the integrals are exact.
    """
    current = np.concatenate([np.full(round(d * fs), i, dtype=np.float64) for d, i in pieces])
    if noise_a:
        current = current + np.random.default_rng(seed).normal(0.0, noise_a, current.size)
    gpio = np.ones(current.size, dtype=bool)
    width = max(1, round((pulse_s or 0.0) * fs))
    for t in edges_at_s:
        i = round(t * fs)
        gpio[i:i + width] = False
    return SampleStream(sample_rate_hz=fs, current_a=current, voltage_v=voltage_v, gpio=gpio)


def windows_stream(fs: float, currents_a: Sequence[float], *, window_s: float = 1.0,
                   idle_s: float = 0.1, idle_a: float = 0.001, **kw: object) -> SampleStream:
    """Idle, then per window: start edge, ``window_s`` at its current, stop edge, idle."""
    pieces: list[tuple[float, float]] = [(idle_s, idle_a)]
    edges: list[float] = []
    t = idle_s
    for current in currents_a:
        edges += [t, t + window_s]
        pieces += [(window_s, current), (idle_s, idle_a)]
        t += window_s + idle_s
    return build_stream(fs, pieces, edges, **kw)  # type: ignore[arg-type]
