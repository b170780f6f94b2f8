"""The Target interface, its capabilities, and how a backend is found by name.

A ``Target`` runs a firmware image and gives the serial line to it; that is all every target does.
What a target can measure besides is a capability, a small protocol of its own (STYLE §2, after
labgrid's protocols), checked with ``isinstance``:
- ``InstructionCounter``: exact instruction counts (QEMU's TCG plugin, Renode);
- ``CycleCounter``: core clock cycles (DWT ``CYCCNT`` on a real core);
- ``ProbeCarrier``: a ``DebugProbe`` on the running core (read memory, registers);
- ``EnergyMeter`` (``harness.targets.energy``) is a device of its own beside the target.
Readings are typed (``harness.targets.readings``), each with its provenance.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, runtime_checkable

from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.protocol import SerialLike
from harness.targets.backends import get_backend
from harness.targets.probe import DebugProbe
from harness.targets.readings import CycleCount, InstructionCount
from harness.types import FirmwareImage


@dataclass(frozen=True)
class TargetResult:
    """How a session ended: the exit code where the target knows it, and what ran it.

    ``runner`` names the emulator or probe with its version (``QEMU emulator version 7.2.22``,
    ``pyOCD 0.36.0, probe 0668FF...``); ``details`` holds the backend's own provenance (counter mode,
    serial port, probe id), which goes into the record's provenance.
    """

    exit_code: int | None
    runner: str
    stderr_tail: str = ""
    log_path: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FirmwareSession:
    """What a procedure saw of one firmware session, for the target's counters to read."""

    lines: tuple[str, ...]          # every protocol line, in order
    image: FirmwareImage
    warmup: int
    inferences: int


@runtime_checkable
class InstructionCounter(Protocol):
    """A target that counts the instructions the firmware executes (after ``stop``)."""

    def instruction_count(self, session: FirmwareSession) -> InstructionCount: ...


@runtime_checkable
class CycleCounter(Protocol):
    """A target whose core counts its own clock cycles (after ``stop``)."""

    def cycle_count(self, session: FirmwareSession) -> CycleCount: ...


@runtime_checkable
class ProbeCarrier(Protocol):
    """A target reached through a debug probe; ``probe`` is connected between ``load`` and ``close``."""

    @property
    def probe(self) -> DebugProbe | None: ...


class Target(abc.ABC):
    """One board, emulated or real. Lifecycle: ``load`` -> ``open`` -> ``stop`` -> ``close``.

    ``close`` is idempotent and always safe to call (use ``with``). ``instructions_per_s`` is how fast the
    target runs firmware at the slowest it should (an emulator on a slow CI machine, a core at its clock),
    from which the procedures set their timeouts. ``semihosting`` False makes the runner build the image
    without semihosting (a real board halts on a semihosting call when no debugger serves it).
    """

    name = "abstract"
    instructions_per_s: float = 150e6
    semihosting: bool = True     # False: the firmware must not use semihosting (no debugger answers it)

    def __init__(self, board: BoardSpec) -> None:
        self.board = board

    @abc.abstractmethod
    def load(self, image: FirmwareImage) -> None:
        """Take the image to run (flash it, or remember it for the emulator)."""

    @abc.abstractmethod
    def open(self) -> SerialLike:
        """Start the firmware; the serial line to it."""

    @abc.abstractmethod
    def stop(self, timeout_s: float) -> TargetResult:
        """Wait up to ``timeout_s`` for the firmware to end after it was asked to, then end it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release everything (processes, ports, probes); idempotent."""

    def logs(self) -> tuple[str | None, str]:
        """(a log path that outlives ``close``, or None; a hint on how to keep one) for error messages."""
        return None, ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_target(name: str, board: BoardSpec, **settings: object) -> Target:
    """A new target of backend ``name`` (``harness.targets.backends``); ``settings`` go to its factory
    (``counter`` for QEMU, ``probe`` for hardware); a backend ignores the settings it does not take."""
    target = get_backend(name).factory(board, **settings)
    if not isinstance(target, Target):
        raise ConfigError(f"target backend {name!r} made a {type(target).__name__}, not a Target")
    return target
