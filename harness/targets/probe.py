"""The debug-probe interface: halt, read and write a running core, whatever is underneath.

A probe is an extra ability of a target (STYLE §2): its own small protocol, not optional
methods on ``Target``. ``GdbRemoteProbe`` (``targets.gdb_remote``) implements it over the
GDB Remote Serial Protocol, which QEMU's ``-gdb`` stub, OpenOCD, pyOCD and J-Link GDB
servers all speak. Addresses are plain integers; Thumb addresses may carry bit 0, which a
probe clears where it needs an instruction address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from harness.errors import ConfigError

CORE_REGISTERS = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
                  "sp", "lr", "pc", "xpsr")
SIGINT = 2
SIGTRAP = 5

StopKind = Literal["signal", "exited", "terminated"]


@dataclass(frozen=True)
class StopReason:
    """Why the core stopped: a signal (``SIGTRAP`` at a breakpoint or after a step, ``SIGINT``
    after ``halt``), or the program ended (``exited`` with ``exit_code``, e.g. QEMU's semihosting
    exit; ``terminated`` by ``signal``). ``registers`` holds what the stop reply carried, by name."""

    kind: StopKind
    signal: int | None = None
    exit_code: int | None = None
    registers: Mapping[str, int] = field(default_factory=dict)
    raw: str = ""

    @property
    def ended(self) -> bool:
        return self.kind != "signal"


@runtime_checkable
class DebugProbe(Protocol):
    """A debug connection to one core. ``connect`` first; ``close`` is idempotent.

    Every wait has a timeout and raises ``TargetTimeout``; a refused request raises ``TargetError``.
    """

    @property
    def unique_id(self) -> str:
        """Names this probe and target, e.g. ``gdb-remote:127.0.0.1:3333`` or a probe serial number."""
        ...

    @property
    def target_type(self) -> str:
        """The kind of core, e.g. ``cortex-m``."""
        ...

    def connect(self) -> None: ...

    def halt(self) -> None:
        """Stop the core if it runs (a no-op when it is halted already)."""
        ...

    def resume(self) -> None:
        """Let the core run; ``wait_for_stop`` says when it stops again."""
        ...

    def reset(self) -> None:
        """Reset the core and leave it halted at the reset vector."""
        ...

    def read_memory(self, addr: int, n: int) -> bytes: ...

    def write_memory(self, addr: int, data: bytes) -> None: ...

    def read_core_registers(self) -> dict[str, int]:
        """``CORE_REGISTERS`` by name (the core must be halted)."""
        ...

    def set_breakpoint(self, addr: int) -> None: ...

    def clear_breakpoint(self, addr: int) -> None: ...

    def wait_for_stop(self, timeout_s: float) -> StopReason: ...

    def load_elf(self, path: Path) -> None:
        """Write every loadable segment of the ELF at ``path`` to its load address."""
        ...

    def close(self) -> None: ...


def elf_load_segments(path: Path) -> list[tuple[int, bytes]]:
    """``(load address, bytes)`` of each ``PT_LOAD`` segment with file contents, in file order.

    The load address is the physical one (``p_paddr``): initialised data lives in flash and the
    start-up code copies it to RAM, as on hardware and under QEMU's ``-kernel``. Zero-filled memory
    (``p_memsz`` beyond ``p_filesz``, i.e. ``.bss``) is the start-up code's job, so it is not written.
    Raises ``ConfigError`` when the file is not an ELF.
    """
    try:
        with Path(path).open("rb") as f:
            elf = ELFFile(f)
            return [(int(seg["p_paddr"]), bytes(seg.data()))
                    for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0]
    except (OSError, ELFError) as exc:
        raise ConfigError(f"{path}: cannot read the loadable segments of this ELF: {exc}") from exc
