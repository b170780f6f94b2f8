"""Targets run a ``FirmwareImage``: QEMU here, real boards and Renode later (DESIGN §1)."""

from __future__ import annotations

from harness.targets.base import Target, TargetResult, create_target, register_target

__all__ = ["Target", "TargetResult", "create_target", "register_target"]

# the built-in backends register themselves on import; a user's own goes through register_target
from harness.targets import qemu as _qemu  # noqa: F401
