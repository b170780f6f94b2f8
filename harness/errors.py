"""Errors raised by the harness.

::

    HarnessError                  every error the harness raises on purpose
    ├── ConfigError               a bad board file, option or argument
    │   ├── ProbeAmbiguousError   two or more debug probes and none chosen (status ``probe-ambiguous``)
    │   ├── WrongBoardError       the probe is on another board than the one asked for (``wrong-board``)
    │   └── SerialPortAmbiguousError  two serial ports carry the probe's serial number (``serial-port``)
    ├── ModelError                a model the compiler cannot take (malformed, unsupported op/dtype)
    ├── FitError                  a model too large for the board's flash or RAM
    ├── ToolchainError            a missing cross or host compiler (says how to install)
    │   └── EmulatorMissingError  a missing emulator such as QEMU (status ``boot``: nothing was built wrong)
    ├── BuildError                compiling or linking failed (keeps the command and stderr tail)
    ├── TargetError               the target could not be started or talked to
    │   ├── TargetTimeout         no answer in time (keeps the last lines of output)
    │   │   └── BoardLostError    a board that had answered stopped answering mid-run (``board-lost``)
    │   ├── ProbeMissingError     no debug probe, or none with the id asked for (``probe-missing``)
    │   ├── FlashError            writing the image through the probe, or verifying it, failed (``flash``)
    │   ├── SerialPortError       the board's serial port is missing, busy or unknown (``serial-port``)
    │   ├── FirmwareFault         the firmware reported a fault (keeps the registers)
    │   └── HostRunError          the host build of a model stopped: a sanitizer report or a layer's error
    ├── FirmwareOutputError       a line from the firmware that is not the protocol (keeps the line)
    ├── MeasurementError          the numbers could not be derived from the run
    │   └── EnergyMeasurementError  an analyzer dropped samples or saw no timestamp edge (``energy``)
    └── StoreError                a results file could not be read or written

Each class carries ``status``: the failure class a run record gets when the
error ends a run (DESIGN §9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class HarnessError(Exception):
    """Base class. ``status`` is the run-record failure class."""

    status = "error"


class ConfigError(HarnessError):
    status = "config"


class ModelError(HarnessError):
    status = "model"


class FitError(HarnessError):
    status = "build"


class ToolchainError(HarnessError):
    status = "build"


class EmulatorMissingError(ToolchainError):
    """The emulator that runs the target is not installed; the firmware was built and is fine."""

    status = "boot"


class BuildError(HarnessError):
    """Compiling or linking failed; ``command`` and ``stderr_tail`` say how."""

    status = "build"

    def __init__(self, message: str, command: Sequence[str] = (), stderr_tail: str = "") -> None:
        detail = f"{message}\n  command: {' '.join(command)}" if command else message
        if stderr_tail:
            detail += f"\n  stderr (last lines):\n{stderr_tail}"
        super().__init__(detail)
        self.command = list(command)
        self.stderr_tail = stderr_tail


class TargetError(HarnessError):
    status = "boot"


class TargetTimeout(TargetError):
    """No answer within the time allowed; ``tail`` holds the last output lines."""

    status = "timeout"

    def __init__(self, message: str, tail: Sequence[str] = (), log_path: str | None = None,
                 hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.tail = list(tail)
        self.log_path = log_path    # set later by whoever knows it; the text follows
        self.hint = hint            # e.g. how to keep the log next time

    def __str__(self) -> str:
        detail = self.message
        if self.tail:
            detail += "\n  last lines from the firmware:\n" + "\n".join(f"    {t}" for t in self.tail)
        if self.log_path:
            detail += f"\n  full log: {self.log_path}"
        if self.hint:
            detail += f"\n  {self.hint}"
        return detail


class FirmwareFault(TargetError):
    """The firmware reported a CPU fault; ``registers`` maps names to values."""

    status = "fault"

    def __init__(self, message: str, registers: Mapping[str, int]) -> None:
        regs = " ".join(f"{k}={v:#010x}" for k, v in registers.items())
        super().__init__(f"{message}: {regs}")
        self.registers = dict(registers)


class HostRunError(TargetError):
    """The host build of a model stopped: a sanitizer report (undefined behaviour,
    a bad memory access) or a layer's error status. ``stderr_tail`` keeps the
    last lines the program wrote, the sanitizer's report among them."""

    status = "fault"

    def __init__(self, message: str, command: list[str], stderr_tail: str = "") -> None:
        detail = f"{message}\n  command: {' '.join(command)}"
        if stderr_tail:
            detail += f"\n  stderr (the sanitizer's report, or the last lines):\n{stderr_tail}"
        super().__init__(detail)
        self.command = command
        self.stderr_tail = stderr_tail


class FirmwareOutputError(HarnessError):
    """A line the protocol cannot parse; ``line`` keeps it as received."""

    status = "measurement"

    def __init__(self, message: str, line: bytes | str = b"") -> None:
        super().__init__(f"{message}: {line!r}")
        self.line = line


class MeasurementError(HarnessError):
    status = "measurement"


class StoreError(HarnessError):
    status = "store"


class ProbeMissingError(TargetError):
    """No debug probe attached, or none with the unique id asked for; the message lists those seen."""

    status = "probe-missing"


class ProbeAmbiguousError(ConfigError):
    """Two or more debug probes could be meant and none was chosen; the message lists each of them."""

    status = "probe-ambiguous"


class WrongBoardError(ConfigError):
    """The probe reaches another part than the board file names (target type or core id mismatch)."""

    status = "wrong-board"


class FlashError(TargetError):
    """Writing the image through the probe failed, or reading it back differed (names the first address)."""

    status = "flash"


class SerialPortError(TargetError):
    """The board's serial port is missing, busy (open elsewhere) or cannot be found for the probe."""

    status = "serial-port"


class SerialPortAmbiguousError(ConfigError):
    """Several serial ports carry the probe's serial number; the message lists them (never guessed)."""

    status = "serial-port"


class BoardLostError(TargetTimeout):
    """A board that had answered (booted) stopped answering mid-run: no more output, or its port vanished.

    Keeps the ``TargetTimeout``'s tail, log path and hint; the message says what the probe saw of the core.
    """

    status = "board-lost"


class EnergyMeasurementError(MeasurementError):
    """An energy analyzer's stream cannot be used: dropped samples, or no timestamp edge where one must be."""

    status = "energy"
