"""Turn a run's typed readings into the record's numbers, each with its provenance.

Readings come from the target's capabilities (``harness.targets.base``), most exact first:
- cycles (``dwt-cycles`` on a real core, ``systick-cycles`` without a DWT): latency in µs at the
  board's real clock, measured (``latency_estimated`` False);
- instructions (``qemu-insn`` exact, ``qemu-icount`` to one timer tick): latency derived at one
  instruction per cycle at the board clock, an estimate, and marked so.
Energy is the meter's reading where there is one; otherwise the board's active power x that latency,
labelled an estimate. The stack high-water mark and the arena are what the firmware reports.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from harness.boards import BoardSpec
from harness.errors import MeasurementError
from harness.protocol import parse_fields
from harness.targets.energy.base import EnergyReading
from harness.targets.readings import CycleCount, InstructionCount, Reading
from harness.types import FirmwareImage


@dataclass(frozen=True)
class LayerMeasurement:
    index: int
    op: str
    macs: int
    instructions: int | None
    cycles: int | None = None
    energy_uj: float | None = None


@dataclass(frozen=True)
class Measurement:
    instructions_per_inference: int | None
    instructions_timed: tuple[int, ...]      # every timed inference
    latency_source: str
    latency_us: float | None
    latency_estimated: bool
    layers: tuple[LayerMeasurement, ...]
    stack_bytes: int | None                  # high-water mark
    arena_bytes: int | None                  # as the firmware reports it
    energy_uj: float | None
    energy_source: str | None
    cycles_per_inference: int | None = None
    cycles_timed: tuple[int, ...] = ()
    energy: EnergyReading | None = None      # the meter's reading with its windows, when measured


T = TypeVar("T")


def _one(readings: Sequence[Reading], kind: type[T]) -> T | None:
    found = [r for r in readings if isinstance(r, kind)]
    if len(found) > 1:
        raise MeasurementError(f"{len(found)} {kind.__name__} readings for one run; expected at most one")
    return found[0] if found else None


def firmware_info(lines: Sequence[str]) -> dict[str, str]:
    """The fields of the last ``m-hil-info`` line (empty when there is none)."""
    info = [parse_fields(line) for line in lines if line.startswith("m-hil-info ")]
    return info[-1] if info else {}


def measure(readings: Sequence[Reading], lines: Sequence[str], image: FirmwareImage,
            board: BoardSpec) -> Measurement:
    """Numbers from one run's readings and protocol lines; raises ``MeasurementError`` when there is
    neither an instruction nor a cycle count, or when a count does not fit the model's layers."""
    insn = _one(readings, InstructionCount)
    cycles = _one(readings, CycleCount)
    energy = _one(readings, EnergyReading)
    if insn is None and cycles is None:
        raise MeasurementError(f"no instruction or cycle count from the target running {board.name}")
    for reading in (insn, cycles):
        if reading is not None and len(reading.per_layer) != len(image.layers):
            raise MeasurementError(f"{reading.source}: {len(reading.per_layer)} layers counted; the model has "
                                   f"{len(image.layers)}")
    insn_median = int(statistics.median(insn.per_inference)) if insn else None
    cycle_median = int(statistics.median(cycles.per_inference)) if cycles else None
    source: str
    if cycles is not None and cycle_median is not None:
        source, latency_us, estimated = cycles.source, cycles.microseconds(cycle_median), False
    else:
        assert insn is not None and insn_median is not None
        source, latency_us, estimated = insn.source, insn_median / board.clock_hz * 1e6, True
    info = firmware_info(lines)
    stack = int(info["stack_used_bytes"]) if "stack_used_bytes" in info else None
    reserve = int(info["stack_size_bytes"]) if "stack_size_bytes" in info else None
    if stack is not None and reserve is not None and stack >= reserve:
        # the paint is gone from the whole reserve: the stack ran into what lies below it
        raise MeasurementError(f"the firmware used all {reserve} bytes of its stack on {board.name} (stack "
                               f"overflow; the arena or data below it may be corrupt): raise stack_bytes in the "
                               f"board file {board.source or board.name}")
    arena = int(info["arena_bytes"]) if "arena_bytes" in info else None
    if energy is not None:
        energy_uj: float | None = energy.energy_uj_per_inference
        energy_source: str | None = energy.source
    elif board.active_power_mw is not None:
        energy_uj, energy_source = board.active_power_mw * latency_us / 1000.0, "estimate-board-active-power"
    else:
        energy_uj, energy_source = None, None
    layer_energy = {le.index: le.energy_uj for le in energy.layers} if energy is not None else {}
    layers = tuple(LayerMeasurement(spec.index, spec.op, spec.macs,
                                    insn.per_layer[i] if insn else None,
                                    cycles.per_layer[i] if cycles else None,
                                    layer_energy.get(spec.index))
                   for i, spec in enumerate(image.layers))
    return Measurement(
        instructions_per_inference=insn_median, instructions_timed=insn.per_inference if insn else (),
        latency_source=source, latency_us=latency_us, latency_estimated=estimated, layers=layers,
        stack_bytes=stack, arena_bytes=arena, energy_uj=energy_uj, energy_source=energy_source,
        cycles_per_inference=cycle_median, cycles_timed=cycles.per_inference if cycles else (), energy=energy)
