"""Energy without a meter: the board's active power (``[power] active_mw``) x the inference time.

Always marked ``estimated`` with source ``estimate-board-active-power``: it ignores what the model
does to the power (memory traffic, sleep between inferences), and QEMU time is itself an estimate.
"""

from __future__ import annotations

import math

from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.targets.energy.base import EnergyReading


def estimate_energy(board: BoardSpec, latency_us: float) -> EnergyReading:
    """Energy per inference in µJ = active power (mW) x latency (µs) / 1000."""
    if board.active_power_mw is None:
        raise ConfigError(f"board {board.name!r} has no [power] active_mw: cannot estimate energy "
                          "(add it to the board file, or measure with --energy joulescope|ppk2)")
    if not (math.isfinite(latency_us) and latency_us > 0):
        raise ConfigError(f"latency is {latency_us} µs; an energy estimate needs a finite latency > 0")
    energy_uj = board.active_power_mw * latency_us / 1000.0
    return EnergyReading(
        energy_uj_per_inference=energy_uj, source="estimate-board-active-power", estimated=True,
        notes=(f"{board.active_power_mw:g} mW (board {board.name}) x {latency_us:g} µs",))
