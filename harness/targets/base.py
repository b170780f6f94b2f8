"""The Target interface and the registry that finds backends by name."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.protocol import SerialLike
from harness.types import FirmwareImage


@dataclass(frozen=True)
class TargetResult:
    """What a target reports after a session: how it ended and what it counted."""

    exit_code: int | None
    counter: str                    # "qemu-insn", "qemu-icount" or "none"
    counter_log: tuple[str, ...]    # "name count" lines from the instruction counter
    emulator: str
    stderr_tail: str = ""
    log_path: str | None = None


class Target(abc.ABC):
    """One board, emulated or real. Lifecycle: ``load`` -> ``open`` -> ``stop`` -> ``close``.

    ``close`` is idempotent and always safe to call (use ``with``).
    """

    name = "abstract"

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
        """Release everything (processes, ports); idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


TargetFactory = Callable[..., Target]  # (board, **settings) -> Target
_REGISTRY: dict[str, TargetFactory] = {}


def register_target(name: str, factory: TargetFactory) -> None:
    """Register a backend; a second registration of one name raises ``ConfigError``."""
    if name in _REGISTRY:
        raise ConfigError(f"target backend {name!r} is already registered")
    _REGISTRY[name] = factory


def create_target(name: str, board: BoardSpec, **settings: object) -> Target:
    """A new target of backend ``name``; ``settings`` go to its constructor (e.g. ``counter``)."""
    if name == "hardware" and name not in _REGISTRY:
        # TODO(#11): the hardware target (flash through a debug probe, serial port by probe) comes next
        raise ConfigError(f"board {board.name!r} is a real board, and hilbench cannot run real boards yet "
                          f"(targets available: {sorted(_REGISTRY)}); `hilbench compile MODEL --board "
                          f"{board.name} -o DIR` writes a firmware project to build with make and flash yourself")
    if name not in _REGISTRY:
        raise ConfigError(f"unknown target backend {name!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[name](board, **settings)
