"""A ``DebugProbe`` on a USB debug probe (ST-LINK, CMSIS-DAP/DAPLink, J-Link), through pyOCD's Python API.

pyOCD is imported when first needed (``import harness.targets.pyocd_probe`` costs nothing). Its API is
partly typed: every object it returns is ``Any`` here, behind ``PyocdProbe``'s typed methods. Its errors
(``pyocd.core.exceptions.Error``) become ``TargetError`` at this boundary, with pyOCD's message kept.

Choosing the probe is done here, not by pyOCD: ``session_with_chosen_probe`` asks on the terminal when
several probes match, and matches unique ids by substring. ``PyocdProbe`` takes the probe whose unique
id equals the one asked for (or the only one containing it), the only probe attached when none is asked
for, and otherwise refuses, naming each probe attached: ``ProbeMissingError`` when none is attached or
none has the id, ``ProbeAmbiguousError`` (a ``ConfigError``: the choice is the user's) when several could be meant.

The target type (pyOCD's name for the part, e.g. ``stm32f446re``, ``nrf52840``) is checked against the
board the probe says it sits on (``associated_board_info``: on-board probes such as ST-LINK/V2-1 on a
Nucleo or DAPLink on a Freedom board know theirs) and against the target pyOCD opened; a mismatch is
refused before anything is written (``WrongBoardError``). A stand-alone probe does not know its board: pyOCD then drives the
part named (``target_override``) and cannot tell a wrong one until an access fails.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import (
    FlashError,
    ProbeAmbiguousError,
    ProbeMissingError,
    TargetError,
    TargetTimeout,
    WrongBoardError,
)
from harness.targets.probe import CORE_REGISTERS, SIGINT, SIGTRAP, StopReason, elf_load_segments

SIGSEGV = 11                   # reported for a core in lockup (a fault while handling a fault)
POLL_S = 0.01                  # how often wait_for_stop asks the core for its state


@dataclass(frozen=True)
class ProbeInfo:
    """One attached probe as pyOCD sees it, before any session is opened."""

    unique_id: str
    description: str
    vendor: str
    product: str
    board: str | None          # the board the probe is built into, when it says (e.g. "NUCLEO-F446RE")
    target_type: str | None    # pyOCD's target type of that board, e.g. "stm32f446re"

    @property
    def label(self) -> str:
        return f"{self.unique_id} ({self.board or self.description})"


def normalise_target_type(name: str) -> str:
    """pyOCD's spelling of a target type: lower case, underscores for dashes."""
    return name.strip().lower().replace("-", "_")


def _pyocd_error() -> type[Exception]:
    from pyocd.core import exceptions  # pyOCD is imported lazily, here and below
    return exceptions.Error  # type: ignore[no-any-return]


def pyocd_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("pyocd")
    except PackageNotFoundError:
        return "not installed"


def _connected_probes() -> list[Any]:
    """pyOCD's probe objects for every probe attached (USB and plugins), without waiting for one."""
    try:
        from pyocd.core.helpers import ConnectHelper
    except ImportError as exc:
        raise TargetError(f"pyOCD cannot be imported ({exc}); `pip install pyocd` installs it") from exc
    try:
        return list(ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False))
    except _pyocd_error() as exc:
        raise TargetError(f"pyOCD could not list the debug probes: {exc}") from exc


def _info(probe: Any) -> ProbeInfo:
    board = getattr(probe, "associated_board_info", None)
    return ProbeInfo(unique_id=str(probe.unique_id), description=str(probe.description),
                     vendor=str(getattr(probe, "vendor_name", "") or ""),
                     product=str(getattr(probe, "product_name", "") or ""),
                     board=str(board.name) if board is not None and board.name else None,
                     target_type=str(board.target) if board is not None and board.target else None)


def list_probes() -> list[ProbeInfo]:
    """Every probe attached, sorted as pyOCD sorts them (description, then unique id)."""
    return [_info(p) for p in _connected_probes()]


def choose_probe(probes: Sequence[Any], unique_id: str | None) -> Any:
    """The probe ``unique_id`` names (equal, else the only one containing it, case ignored), or the only
    probe when ``unique_id`` is None. Raises ``ProbeMissingError`` (a ``TargetError``) when none is attached
    or none matches, and ``ProbeAmbiguousError`` (a ``ConfigError``) when the choice is ambiguous."""
    seen = ", ".join(_info(p).label for p in probes)
    if not probes:
        raise ProbeMissingError(f"no debug probe found (pyOCD {pyocd_version()} sees none on USB): plug the board "
                          "in, and check the USB permissions (udev rules) if `pyocd list` does not show it")
    if unique_id is None:
        if len(probes) > 1:
            raise ProbeAmbiguousError(f"{len(probes)} debug probes attached and none chosen: {seen}; "
                              "choose one by its unique id")
        return probes[0]
    want = unique_id.strip().lower()
    exact = [p for p in probes if str(p.unique_id).lower() == want]
    if exact:
        return exact[0]
    partial = [p for p in probes if want and want in str(p.unique_id).lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise ProbeAmbiguousError(f"probe id {unique_id!r} matches {len(partial)} probes: "
                          f"{', '.join(_info(p).label for p in partial)}; give more of the unique id")
    raise ProbeMissingError(f"no debug probe with unique id {unique_id!r}; attached: {seen}")


def _new_session(probe: Any, target_type: str | None) -> Any:
    """An opened pyOCD session on ``probe`` (tests replace this: a real one needs hardware)."""
    from pyocd.core.session import Session
    options: dict[str, Any] = {"target_override": target_type} if target_type else {}
    session = Session(probe, options=options)   # pyOCD's own config (pyocd.yaml) still applies
    session.open()
    return session


def _file_programmer(session: Any) -> Any:
    from pyocd.flash.file_programmer import FileProgrammer
    return FileProgrammer(session)


class PyocdProbe:
    """A ``DebugProbe`` on one USB debug probe and the core behind it, through pyOCD.

    ``unique_id`` chooses the probe (None: the only one attached); ``target_type`` is pyOCD's name of the
    part (None: the one the probe's board names, or pyOCD's generic ``cortex_m``, which cannot flash).
    """

    def __init__(self, unique_id: str | None = None, target_type: str | None = None) -> None:
        self._want_id = unique_id
        self._want_type = normalise_target_type(target_type) if target_type else None
        self._session: Any = None
        self._target: Any = None
        self._id = unique_id or ""
        self._type = self._want_type or ""

    @property
    def unique_id(self) -> str:
        return self._id

    @property
    def target_type(self) -> str:
        return self._type

    @property
    def where(self) -> str:
        return f"debug probe {self._id or '(not chosen)'}" + (f" on {self._type}" if self._type else "")

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """pyOCD's errors become ``TargetError`` naming the probe and what was being done."""
        try:
            yield
        except _pyocd_error() as exc:
            raise TargetError(f"{self.where}: {what} failed: {exc}") from exc

    def _core(self) -> Any:
        if self._target is None:
            raise TargetError(f"{self.where}: not connected (call connect first)")
        return self._target

    def connect(self) -> None:
        if self._session is not None:
            return
        probe = choose_probe(_connected_probes(), self._want_id)
        info = _info(probe)
        self._id = info.unique_id
        if self._want_type and info.target_type and normalise_target_type(info.target_type) != self._want_type:
            raise WrongBoardError(f"debug probe {info.unique_id} is on a {info.board} ({info.target_type}), "
                              f"not the target type {self._want_type} asked for: wrong board on this probe?")
        with self._translated("opening the session"):
            session = _new_session(probe, self._want_type)
        self._session = session
        try:
            opened = str(session.board.target_type)
            if self._want_type and normalise_target_type(opened) != self._want_type:
                raise WrongBoardError(f"debug probe {info.unique_id}: pyOCD opened target type {opened}, "
                                  f"not the target type {self._want_type} asked for")
            self._type = opened
            self._target = session.board.target
        except BaseException:
            self.close()
            raise

    def halt(self) -> None:
        with self._translated("halt"):
            self._core().halt()

    def resume(self) -> None:
        with self._translated("resume"):
            self._core().resume()

    def reset(self) -> None:
        with self._translated("reset and halt"):
            self._core().reset_and_halt()

    def read_memory(self, addr: int, n: int) -> bytes:
        with self._translated(f"reading {n} bytes at {addr:#010x}"):
            return bytes(self._core().read_memory_block8(addr, n))

    def write_memory(self, addr: int, data: bytes) -> None:
        with self._translated(f"writing {len(data)} bytes at {addr:#010x}"):
            self._core().write_memory_block8(addr, list(data))

    def read_core_registers(self) -> dict[str, int]:
        with self._translated("reading the core registers"):
            values = self._core().read_core_registers_raw(list(CORE_REGISTERS))
        return {name: int(v) for name, v in zip(CORE_REGISTERS, values, strict=True)}

    def set_breakpoint(self, addr: int) -> None:
        with self._translated(f"setting a breakpoint at {addr:#010x}"):
            ok = self._core().set_breakpoint(addr & ~1)
        if ok is False:
            raise TargetError(f"{self.where}: no breakpoint could be set at {addr:#010x} "
                              "(every hardware comparator in use?)")

    def clear_breakpoint(self, addr: int) -> None:
        with self._translated(f"clearing the breakpoint at {addr:#010x}"):
            self._core().remove_breakpoint(addr & ~1)

    def wait_for_stop(self, timeout_s: float) -> StopReason:
        from pyocd.core.target import Target
        core = self._core()
        deadline = time.monotonic() + timeout_s
        while True:
            with self._translated("reading the core's state"):
                state = core.get_state()
                if state == Target.State.LOCKUP:
                    return StopReason("signal", signal=SIGSEGV, raw="lockup")
                if state == Target.State.HALTED:
                    reason = core.get_halt_reason()
                    signal = SIGINT if reason == Target.HaltReason.USER else SIGTRAP
                    return StopReason("signal", signal=signal, raw=getattr(reason, "name", str(reason)))
            if time.monotonic() >= deadline:
                raise TargetTimeout(f"{self.where}: the core did not stop within {timeout_s:g} s "
                                    f"(state {getattr(state, 'name', state)})")
            time.sleep(POLL_S)

    def load_elf(self, path: Path) -> None:
        """Program the ELF's loadable segments into flash with pyOCD, then read them back to verify; raises
        ``FlashError`` naming the first differing address."""
        segments = elf_load_segments(path)     # a ConfigError for a file that is not an ELF
        self._core()
        try:
            _file_programmer(self._session).program(str(path), file_format="elf")
        except _pyocd_error() as exc:
            raise FlashError(f"{self.where}: flashing {path} failed: {exc}") from exc
        for addr, data in segments:
            back = self.read_memory(addr, len(data))
            if back != data:
                first = next(i for i, (a, b) in enumerate(zip(back, data, strict=True)) if a != b)
                raise FlashError(f"{self.where}: verify of {path} failed: at {addr + first:#010x} read "
                                  f"{back[first]:#04x}, wrote {data[first]:#04x} "
                                  f"(segment {addr:#010x}, {len(data)} bytes)")

    def close(self) -> None:
        session, self._session, self._target = self._session, None, None
        if session is not None:
            with contextlib.suppress(Exception):   # closing a session whose probe is gone may raise anything
                session.close()
