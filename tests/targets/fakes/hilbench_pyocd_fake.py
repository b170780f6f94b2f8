"""A fake pyOCD debug probe, a pyOCD plugin as a real backend is, and a fake session on a fake core.

``FakePyocdProbe`` subclasses pyOCD's ``DebugProbe`` and answers pyOCD's plugin API
(``get_all_connected_probes``, ``get_probe_with_id``); ``FakeProbePlugin`` is what the ``pyocd.probe``
entry-point group names. The attached probes are ``FakePyocdProbe.attached`` (tests set it), or, in a
fresh process (the entry-point test), the JSON list in ``HILBENCH_FAKE_PROBES``.

Below the probe nothing of pyOCD runs: ``FakeSession`` stands for ``pyocd.core.session.Session`` and
``FakeCore`` for the Cortex-M target (memory, registers, breakpoints, run state), as far as
``PyocdProbe`` uses them. ``write_elf`` writes a minimal ARM ELF with the segments given.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, ClassVar

from pyocd.board.board_ids import BoardInfo
from pyocd.core import exceptions
from pyocd.core.plugin import Plugin
from pyocd.core.target import Target
from pyocd.probe.debug_probe import DebugProbe


class FakePyocdProbe(DebugProbe):  # type: ignore[misc]
    attached: ClassVar[list[FakePyocdProbe] | None] = None

    def __init__(self, unique_id: str, description: str = "Fake CMSIS-DAP", vendor: str = "Fake Inc.",
                 product: str = "FakeLink", board: str | None = None, target: str | None = None) -> None:
        super().__init__()
        self._uid, self._description, self._vendor, self._product = unique_id, description, vendor, product
        self._board = BoardInfo(board, target) if board else None

    @classmethod
    def _all(cls) -> list[FakePyocdProbe]:
        if cls.attached is not None:
            return list(cls.attached)
        return [cls(**d) for d in json.loads(os.environ.get("HILBENCH_FAKE_PROBES", "[]"))]

    @classmethod
    def get_all_connected_probes(cls, unique_id: str | None = None, is_explicit: bool = False
                                 ) -> list[FakePyocdProbe]:
        return cls._all()

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> FakePyocdProbe | None:
        return next((p for p in cls._all() if p.unique_id == unique_id), None)

    @property
    def description(self) -> str:
        return self._description

    @property
    def vendor_name(self) -> str:
        return self._vendor

    @property
    def product_name(self) -> str:
        return self._product

    @property
    def unique_id(self) -> str:
        return self._uid

    @property
    def associated_board_info(self) -> BoardInfo | None:
        return self._board


class FakeProbePlugin(Plugin):  # type: ignore[misc]
    def load(self) -> type[FakePyocdProbe]:
        return FakePyocdProbe

    @property
    def name(self) -> str:
        return "hilbench_fake"

    @property
    def description(self) -> str:
        return "hilbench's fake debug probe (tests)"


class FakeCore:
    """A halted Cortex-M with ``memory`` (address -> byte), registers and hardware breakpoints."""

    def __init__(self, comparators: int = 2) -> None:
        self.memory: dict[int, int] = {}
        self.regs = {name: 0 for name in ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9",
                                          "r10", "r11", "r12", "sp", "lr", "pc", "xpsr")}
        self.breakpoints: list[int] = []
        self.comparators = comparators
        self.state = Target.State.HALTED
        self.reason = Target.HaltReason.USER
        self.run_to: int | None = None      # resume stops here (a breakpoint hit), or runs on forever
        self.calls: list[str] = []

    def halt(self) -> None:
        self.calls.append("halt")
        if self.state != Target.State.HALTED:
            self.state, self.reason = Target.State.HALTED, Target.HaltReason.USER

    def resume(self) -> None:
        self.calls.append("resume")
        self.state = Target.State.RUNNING
        if self.run_to is not None and self.run_to in self.breakpoints:
            self.state, self.reason = Target.State.HALTED, Target.HaltReason.BREAKPOINT
            self.regs["pc"] = self.run_to

    def reset_and_halt(self, reset_type: Any = None) -> None:
        self.calls.append("reset_and_halt")
        self.state, self.reason = Target.State.HALTED, Target.HaltReason.DEBUG
        self.regs["pc"] = 0x08000100

    def get_state(self) -> Target.State:
        return self.state

    def get_halt_reason(self) -> Target.HaltReason:
        return self.reason

    def read_memory_block8(self, addr: int, size: int) -> list[int]:
        if addr >= 0xF0000000:
            raise exceptions.TransferFaultError("Memory transfer fault", fault_address=addr)
        return [self.memory.get(addr + i, 0xFF) for i in range(size)]

    def write_memory_block8(self, addr: int, data: list[int]) -> None:
        for i, b in enumerate(data):
            self.memory[addr + i] = b

    def read_core_registers_raw(self, names: list[str]) -> list[int]:
        return [self.regs[n] for n in names]

    def set_breakpoint(self, addr: int, type: Any = None) -> bool:
        if len(self.breakpoints) >= self.comparators:
            return False
        self.breakpoints.append(addr)
        return True

    def remove_breakpoint(self, addr: int) -> None:
        self.breakpoints.remove(addr)


class FakeBoard:
    def __init__(self, target_type: str, core: FakeCore) -> None:
        self.target_type = target_type
        self.target = core


class FakeSession:
    """What ``_new_session`` returns: the probe it was opened on, a board of ``target_type``."""

    def __init__(self, probe: Any, target_type: str, core: FakeCore) -> None:
        self.probe = probe
        self.board = FakeBoard(target_type, core)
        self.target = core
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeProgrammer:
    """``FileProgrammer``: writes the ELF's segments into the core's memory, or fails as told."""

    def __init__(self, session: FakeSession, fail: str | None = None, corrupt_at: int | None = None) -> None:
        self.session, self.fail, self.corrupt_at = session, fail, corrupt_at
        self.programmed: list[str] = []

    def program(self, path: str, file_format: str | None = None, **kwargs: Any) -> None:
        from harness.targets.probe import elf_load_segments
        if self.fail:
            raise exceptions.FlashProgramFailure(self.fail, address=0x08000000, result_code=1)
        self.programmed.append(path)
        core = self.session.board.target
        for addr, data in elf_load_segments(Path(path)):
            core.write_memory_block8(addr, list(data))
        if self.corrupt_at is not None:
            core.memory[self.corrupt_at] ^= 0xFF


def write_elf(path: Path, segments: list[tuple[int, bytes]]) -> Path:
    """A 32-bit little-endian ARM executable holding ``segments`` as ``PT_LOAD`` (no sections)."""
    ehsize, phentsize = 52, 32
    data_off = ehsize + phentsize * len(segments)
    phdrs, blobs = b"", b""
    for addr, data in segments:
        phdrs += struct.pack("<8I", 1, data_off + len(blobs), addr, addr, len(data), len(data), 5, 4)
        blobs += data
    header = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, 40, 1,
                         segments[0][0] if segments else 0, ehsize, 0, 0x05000000, ehsize, phentsize,
                         len(segments), 40, 0, 0)
    path.write_bytes(header + phdrs + blobs)
    return path
