"""Typed readings: what a target measured, each with its provenance (STYLE §9, DESIGN §9).

A target reports what it counted as values of these types, never as strings to compare:
- ``InstructionCount``: instructions executed, counted by an emulator (exact where ``exact``);
- ``CycleCount``: core clock cycles, counted by the core (DWT ``CYCCNT``) or its SysTick, at ``clock_hz``;
- ``EnergyReading`` (``harness.targets.energy.base``): energy per inference from a meter's windows.

Each holds the timed inferences one by one (``per_inference``) and the last timed inference's layers
(``per_layer``, in model order); ``source`` is the record's provenance (``latency_source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.targets.energy.base import EnergyReading

InstructionSource = Literal["qemu-insn", "qemu-icount", "renode-insn", "fake-replay"]
CycleSource = Literal["dwt-cycles", "systick-cycles"]


def _check(kind: str, per_inference: tuple[int, ...], per_layer: tuple[int, ...]) -> None:
    if not per_inference:
        raise ValueError(f"{kind}: no timed inference")
    if any(v < 0 for v in (*per_inference, *per_layer)):
        raise ValueError(f"{kind}: a negative count in {per_inference} / {per_layer}")


@dataclass(frozen=True)
class InstructionCount:
    """Instructions per timed inference and per layer, from an emulator's counter."""

    per_inference: tuple[int, ...]
    per_layer: tuple[int, ...]
    source: InstructionSource
    exact: bool = True            # False: derived from a timer (one tick of resolution)

    def __post_init__(self) -> None:
        _check("instruction count", self.per_inference, self.per_layer)


@dataclass(frozen=True)
class CycleCount:
    """Core clock cycles per timed inference and per layer, at ``clock_hz``.

    ``source`` is ``dwt-cycles`` when the DWT cycle counter counted them (the core's own clock, exact to a
    few cycles of read overhead), ``systick-cycles`` when SysTick did (cores without a DWT, e.g. Cortex-M0+).
    """

    per_inference: tuple[int, ...]
    per_layer: tuple[int, ...]
    clock_hz: int
    source: CycleSource

    def __post_init__(self) -> None:
        _check("cycle count", self.per_inference, self.per_layer)
        if self.clock_hz <= 0:
            raise ValueError(f"cycle count: clock_hz is {self.clock_hz}; expected > 0")

    def microseconds(self, cycles: int) -> float:
        return cycles / self.clock_hz * 1e6


Reading = InstructionCount | CycleCount | EnergyReading

__all__ = ["CycleCount", "CycleSource", "EnergyReading", "InstructionCount", "InstructionSource", "Reading"]
