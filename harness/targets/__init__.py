"""Targets run a ``FirmwareImage``: QEMU, real boards through a debug probe, and any backend a package
registers (``harness.targets.backends``; DESIGN §1)."""

from __future__ import annotations

from harness.targets.backends import Backend, backend_names, get_backend, register_backend
from harness.targets.base import (
    CycleCounter,
    FirmwareSession,
    InstructionCounter,
    ProbeCarrier,
    Target,
    TargetResult,
    create_target,
)
from harness.targets.readings import CycleCount, InstructionCount, Reading

__all__ = ["Backend", "CycleCount", "CycleCounter", "FirmwareSession", "InstructionCount", "InstructionCounter",
           "ProbeCarrier", "Reading", "Target", "TargetResult", "backend_names", "create_target", "get_backend",
           "register_backend"]
