"""Frozen values handed from one layer to the next (DESIGN §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LayerSpec:
    index: int
    op: str
    macs: int


@dataclass(frozen=True)
class FirmwareImage:
    """A built ELF for one model on one board, with its static sizes."""

    elf_path: Path
    sha256: str                       # of the ELF
    board: str
    model_id: str
    model_sha256: str
    flash_bytes: int                  # text + rodata + exidx + data
    ram_bytes: int                    # data + bss + stack
    code_bytes: int                   # text + rodata (+ exidx) minus the model constants (weights, biases, requantization tables; DESIGN §7)
    weights_bytes: int
    arena_bytes: int
    stack_reserved_bytes: int
    section_bytes: dict[str, int]
    macs: int
    layers: tuple[LayerSpec, ...]
    markers: dict[str, int]           # marker name -> instruction address (Thumb bit clear)
    uncounted: tuple[tuple[int, int], ...]  # [lo, hi) address ranges the instruction counter skips
    compiler: str
    cflags: tuple[str, ...]
    cached: bool = False


@dataclass(frozen=True)
class RunOutput:
    """What one session with the firmware produced, before any interpretation."""

    lines: tuple[str, ...]                      # every protocol line, in order
    marker_log: tuple[str, ...] = ()            # the instruction counter's log ("name count")
    counter: str = "none"                       # "qemu-insn", "qemu-icount" or "none"
    exit_code: int | None = None
    emulator: str = ""
    log_path: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
