"""Instructions per inference and per layer, stack and arena, from a run's output.

Sources, most exact first:
- ``qemu-insn``: the TCG plugin's running count at the firmware's marker
  functions; exact and deterministic (the marker calls themselves, a few
  instructions per layer, are included).
- ``qemu-icount``: QEMU with ``-icount shift=0`` (one instruction per ns),
  read through the firmware's SysTick; resolution one tick (40 instructions
  at 25 MHz).
Latency in µs is derived from instructions at the board clock, one
instruction per cycle: an estimate, and marked so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness.boards import BoardSpec
from harness.errors import MeasurementError
from harness.protocol import parse_fields
from harness.targets.base import TargetResult
from harness.types import FirmwareImage


@dataclass(frozen=True)
class LayerMeasurement:
    index: int
    op: str
    macs: int
    instructions: int | None


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


def _groups(log: tuple[str, ...]) -> list[tuple[int, list[int], int]]:
    """(begin, [layer marks], end) per inference in the plugin log."""
    groups: list[tuple[int, list[int], int]] = []
    begin: int | None = None
    layers: list[int] = []
    for line in log:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise MeasurementError(f"instruction counter log: unreadable line {line!r}")
        name, count = parts[0], int(parts[1])
        if name == "begin":
            begin, layers = count, []
        elif name == "layer" and begin is not None:
            layers.append(count)
        elif name == "end" and begin is not None:
            groups.append((begin, layers, count))
            begin = None
    return groups


def _from_plugin(result: TargetResult, image: FirmwareImage, warmup: int, n: int) -> tuple[list[int], list[int]]:
    groups = _groups(result.counter_log)
    if len(groups) < warmup + n:
        raise MeasurementError(f"instruction counter saw {len(groups)} inferences; expected {warmup + n} "
                               f"({warmup} warm-up + {n} timed)")
    timed = groups[warmup:warmup + n]
    totals = [end - begin for begin, _, end in timed]
    _, marks, end = timed[-1]
    if len(marks) != len(image.layers):
        raise MeasurementError(f"instruction counter saw {len(marks)} layers; the model has {len(image.layers)}")
    per_layer = [b - a for a, b in zip(marks, [*marks[1:], end])]
    return totals, per_layer


def _from_icount(lines: tuple[str, ...], board: BoardSpec, image: FirmwareImage) -> tuple[list[int], list[int]]:
    hz = board.qemu.icount_systick_hz if board.qemu else None
    if not hz:
        raise MeasurementError(f"board {board.name} has no qemu.icount_systick_hz; the -icount fallback "
                               "cannot convert timer ticks to instructions (the QEMU plugin is needed)")
    ticks = [int(parse_fields(line).get("timer_ticks", "-1")) for line in lines if line.startswith("m-hil-layer ")]
    if len(ticks) != len(image.layers) or min(ticks, default=-1) < 0:
        raise MeasurementError(f"expected {len(image.layers)} m-hil-layer lines with timer_ticks, got {len(ticks)}")
    per_layer = [t * 1_000_000_000 // hz for t in ticks]  # -icount shift=0: 1 instruction per ns
    return [sum(per_layer)], per_layer


def measure(lines: tuple[str, ...], result: TargetResult, image: FirmwareImage, board: BoardSpec,
            warmup: int, n: int) -> Measurement:
    """Numbers from one run; raises ``MeasurementError`` when they cannot be derived."""
    if result.counter == "qemu-insn":
        totals, per_layer = _from_plugin(result, image, warmup, n)
    elif result.counter == "qemu-icount":
        totals, per_layer = _from_icount(lines, board, image)
    else:
        raise MeasurementError(f"no instruction or cycle counter for target counter {result.counter!r}")
    median = int(statistics.median(totals))
    info = [parse_fields(line) for line in lines if line.startswith("m-hil-info ")]
    stack = int(info[-1]["stack_used_bytes"]) if info and "stack_used_bytes" in info[-1] else None
    arena = int(info[-1]["arena_bytes"]) if info and "arena_bytes" in info[-1] else None
    latency_us = median / board.clock_hz * 1e6
    energy = None if board.active_power_mw is None else board.active_power_mw * latency_us / 1000.0
    layers = tuple(LayerMeasurement(spec.index, spec.op, spec.macs, insn)
                   for spec, insn in zip(image.layers, per_layer))
    return Measurement(
        instructions_per_inference=median, instructions_timed=tuple(totals), latency_source=result.counter,
        latency_us=latency_us, latency_estimated=True, layers=layers, stack_bytes=stack, arena_bytes=arena,
        energy_uj=energy, energy_source=None if energy is None else "estimate-board-active-power",
    )
