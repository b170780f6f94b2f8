"""``FakeTarget``: a target backend that replays a recorded transcript (tests/data/transcripts).

It is registered like a real backend (``register_backend``, name ``fake``), so the runner, the session,
the plugin, the store and the report run as they do on QEMU, without QEMU. The firmware is still built:
the runner takes the image's static sizes and layers from the build (the Arm toolchain is needed).

- ``open()`` gives a ``ReplayLine``: each host write is checked against the recorded one, and the
  recorded bytes are the answers. A write that differs is a divergence: the test or the harness now
  sends something the recording did not, and a ``TranscriptDivergence`` names the exchange and how
  it differs. Divergences are also kept in ``FakeBackend.divergences``; the ``fake_target`` fixture
  fails the test at teardown unless the test took them (``FakeBackend.take_divergences``).
- Where the recording ends without a stopped target (the board stopped answering: a hang, a fault, a
  cut transcript), reads return nothing and writes go nowhere, so the protocol times out. Its deadlines
  run on a ``VirtualClock`` that moves on by ``idle_step_s`` at every read that found nothing, so a
  10 s protocol timeout takes milliseconds.
- ``stop()`` returns the recorded ``TargetResult``; ``instruction_count()`` (and ``cycle_count()`` when
  one was recorded) the recorded reading, as the real target reported it (``source`` is kept).
- ``load(image)`` checks the image's board and model id against the recording's, not its sha256: the
  same sources built by another compiler version give other bytes, and the replay does not run them.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.boards import BoardSpec
from harness.errors import ConfigError, MeasurementError, TargetError
from harness.firmware.build import BuildOptions
from harness.protocol import SerialLike
from harness.runner import RunOptions
from harness.targets.backends import Backend, register_backend, unregister_backend
from harness.targets.base import CycleCounter, FirmwareSession, InstructionCounter, Target, TargetResult
from harness.targets.readings import CycleCount, InstructionCount
from harness.targets.transcript import Transcript, load_transcript
from harness.types import FirmwareImage

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "data" / "transcripts"
IDLE_STEP_S = 1.0
RECORD_AGAIN = "if the change is meant, record again: .venv/bin/python tests/data/transcripts/record.py"


class TranscriptDivergence(AssertionError):
    """The harness did not do what it did when the transcript was recorded."""


@functools.cache
def transcript(name: str) -> Transcript:
    """``tests/data/transcripts/<name>.json``."""
    return load_transcript(TRANSCRIPTS / f"{name}.json")


def replay_options(t: Transcript, **overrides: Any) -> RunOptions:
    """The ``RunOptions`` the transcript was recorded with (its ``options``), with ``overrides``."""
    o = dict(t.options)
    build = dict(o.pop("build", {}))
    build["defines"] = tuple(tuple(d) for d in build.get("defines", ()))
    fields: dict[str, Any] = {k: o[k] for k in ("inferences", "warmup", "seed", "timeout_s", "counter") if k in o}
    return RunOptions(**{**fields, "build": BuildOptions(**build), **overrides})


class VirtualClock:
    """``time.monotonic`` for ``harness.protocol`` during a replay: real time, plus ``idle_step_s`` for
    every read that found nothing to read."""

    def __init__(self, idle_step_s: float = IDLE_STEP_S) -> None:
        self.idle_step_s = idle_step_s
        self.offset_s = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset_s

    def idle(self) -> None:
        self.offset_s += self.idle_step_s
        time.sleep(0.001)


def _show(data: bytes, limit: int = 60) -> str:
    text = repr(data[:limit])
    return text if len(data) <= limit else f"{text}... ({len(data)} bytes)"


class ReplayLine:
    """A ``SerialLike`` that answers with the transcript's bytes and checks the host's writes."""

    def __init__(self, transcript: Transcript, source: str, clock: VirtualClock, divergences: list[str]) -> None:
        self.transcript = transcript
        self.source = source
        self.clock = clock
        self.divergences = divergences
        self.index = 0        # the exchange being replayed
        self.offset = 0       # bytes of it already written or read
        self.complete = transcript.result is not None   # False: the board stopped answering at the end

    def _diverged(self, what: str) -> TranscriptDivergence:
        message = f"transcript {self.source}, exchange {self.index}: {what}; {RECORD_AGAIN}"
        self.divergences.append(message)
        return TranscriptDivergence(message)

    def _advance(self, n: int) -> None:
        self.offset += n
        if self.offset == len(self.transcript.exchanges[self.index].data):
            self.index, self.offset = self.index + 1, 0

    @property
    def remaining(self) -> bytes:
        if self.index >= len(self.transcript.exchanges):
            return b""
        return self.transcript.exchanges[self.index].data[self.offset:]

    @property
    def in_waiting(self) -> int:
        ex = self.transcript.exchanges[self.index] if self.index < len(self.transcript.exchanges) else None
        return len(self.remaining) if ex is not None and ex.direction == "dut" else 0

    def read(self, size: int = 1) -> bytes:
        if self.in_waiting:
            chunk = self.remaining[:max(size, 1)]
            self._advance(len(chunk))
            return chunk
        if self.index < len(self.transcript.exchanges):   # the recording has the host write next
            what = (f"the harness waits for the firmware, but the recording has the host write "
                    f"{_show(self.remaining)} next")
            if not self.divergences or not self.divergences[-1].endswith(f"{what}; {RECORD_AGAIN}"):
                self._diverged(what)
        self.clock.idle()
        return b""

    def write(self, data: bytes) -> int:
        if self.index >= len(self.transcript.exchanges):
            if not self.complete:
                return len(data)   # the board stopped answering; what is sent to it is lost
            raise self._diverged(f"the recording ended with the target stopped, and the harness wrote {_show(data)}")
        ex = self.transcript.exchanges[self.index]
        if ex.direction == "dut":
            raise self._diverged(f"the harness wrote {_show(data)} before it read {_show(self.remaining)}, "
                                 "which the firmware sent first in the recording")
        want = self.remaining
        if not want.startswith(data):
            at = next((i for i, (a, b) in enumerate(zip(data, want)) if a != b), min(len(data), len(want)))
            raise self._diverged(f"the harness wrote {_show(data)}; the recording has {_show(want)} "
                                 f"(they differ from byte {at})")
        self._advance(len(data))
        return len(data)

    def unreplayed_writes(self) -> list[bytes]:
        return [ex.data for ex in self.transcript.exchanges[self.index:] if ex.direction == "host"]


class FakeTarget(Target, InstructionCounter):
    """Replays ``transcript`` (see the module's docstring); ``source`` names it in messages."""

    name = "fake"

    def __init__(self, board: BoardSpec, transcript: Transcript, source: str, clock: VirtualClock,
                 divergences: list[str]) -> None:
        super().__init__(board)
        if board.name != transcript.board:
            raise ConfigError(f"transcript {source} was recorded on board {transcript.board!r}; "
                              f"this run is on {board.name!r}")
        self.transcript, self.source, self.clock, self.divergences = transcript, source, clock, divergences
        self.instructions_per_s = float(transcript.target.get("instructions_per_s", Target.instructions_per_s))
        self.semihosting = bool(transcript.target.get("semihosting", Target.semihosting))
        self.image: FirmwareImage | None = None
        self.line: ReplayLine | None = None

    def load(self, image: FirmwareImage) -> None:
        if (image.board, image.model_id) != (self.transcript.board, self.transcript.model):
            raise ConfigError(f"transcript {self.source} was recorded with model {self.transcript.model!r} on "
                              f"board {self.transcript.board!r}; the image is {image.model_id!r} on {image.board!r}")
        self.image = image

    def open(self) -> SerialLike:
        if self.image is None:
            raise TargetError("FakeTarget.open() before load()")
        self.line = ReplayLine(self.transcript, self.source, self.clock, self.divergences)
        return self.line

    def stop(self, timeout_s: float) -> TargetResult:
        if self.line is not None and self.line.complete and self.line.unreplayed_writes():
            self.line._diverged(f"the harness stopped the target, but the recording has the host write "
                                f"{_show(self.line.unreplayed_writes()[0])} next")
        recorded = self.transcript.result
        if recorded is None:
            return TargetResult(exit_code=None, runner=f"fake replay of {self.source}",
                                details={"transcript": self.source})
        return replace(recorded, details={**recorded.details, "transcript": self.source})

    def instruction_count(self, session: FirmwareSession) -> InstructionCount:
        if self.transcript.instruction_count is None:
            raise MeasurementError(f"transcript {self.source} has no instruction count (the recorded run "
                                   "never read one)")
        return self.transcript.instruction_count

    def close(self) -> None:
        self.line = None


class FakeCycleTarget(FakeTarget, CycleCounter):
    """A ``FakeTarget`` whose recording has a cycle count: a ``CycleCounter`` too."""

    def cycle_count(self, session: FirmwareSession) -> CycleCount:
        assert self.transcript.cycle_count is not None   # FakeBackend.make chose this class for it
        return self.transcript.cycle_count


class FakeBackend:
    """The ``fake`` backend: each target it makes replays the next transcript given to ``replay``."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.clock = VirtualClock()
        self.queue: list[tuple[Transcript, str]] = []
        self.targets: list[FakeTarget] = []
        self.divergences: list[str] = []

    def replay(self, *transcripts: Transcript | str) -> None:
        """Queue transcripts, by name (``ok``: tests/data/transcripts/ok.json) or as values."""
        for t in transcripts:
            self.queue.append((transcript(t), f"{t}.json") if isinstance(t, str) else (t, t.note or t.model))

    def make(self, board: BoardSpec, **_settings: object) -> FakeTarget:
        if not self.queue:
            raise ConfigError("the fake target backend has no transcript to replay: give it one with "
                              "fake_target.replay(NAME) before the run")
        t, source = self.queue.pop(0)
        kind = FakeCycleTarget if t.cycle_count is not None else FakeTarget
        target = kind(board, t, source, self.clock, self.divergences)
        self.targets.append(target)
        return target

    def backend(self) -> Backend:
        return Backend(name=self.name, factory=self.make, description="replays a recorded transcript (tests)")

    def take_divergences(self) -> list[str]:
        """The divergences so far, which the test then answers for (the fixture no longer fails on them)."""
        taken, self.divergences[:] = list(self.divergences), []
        return taken


@contextlib.contextmanager
def installed(monkeypatch: pytest.MonkeyPatch, name: str = "fake") -> Iterator[FakeBackend]:
    """A ``FakeBackend`` registered as backend ``name``, ``harness.protocol`` on its virtual clock; fails
    the test at exit on a divergence the test did not take."""
    import harness.protocol

    fake = FakeBackend(name)
    register_backend(fake.backend())
    monkeypatch.setattr(harness.protocol, "time", fake.clock)
    try:
        yield fake
    finally:
        unregister_backend(name)
    if fake.divergences:
        pytest.fail("the harness diverged from the recording:\n" + "\n".join(fake.divergences), pytrace=False)
