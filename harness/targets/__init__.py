"""Targets run a ``FirmwareImage``: QEMU here, real boards and Renode later (DESIGN §1)."""

from __future__ import annotations

from harness.targets.base import Target, TargetResult, create_target, register_target

__all__ = ["Target", "TargetResult", "create_target", "register_target"]
