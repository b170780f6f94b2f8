"""Transcripts: what a target said and measured in one run, recorded to be replayed by a fake target.

A ``Transcript`` holds, in order, every write of the host and every byte the firmware sent back
(``exchanges``), the readings the target reported (``InstructionCount``, ``CycleCount``) and how the
session ended (``TargetResult``). It is saved as one JSON file::

    {"format": "hilbench-transcript", "version": 1, "board": "qemu-m4", "model": "tinycnn",
     "firmware_sha256": "...", "target": {"backend": "qemu", "instructions_per_s": 1.5e8, ...},
     "exchanges": [["host", "name%"], ["dut", "m-name-dut-[hilbench]\\r\\nm-ready\\r\\n"], ...],
     "readings": {"instruction_count": {"per_inference": [...], "per_layer": [...], "source": "qemu-insn",
                                        "exact": true}},
     "result": {"exit_code": 0, "runner": "QEMU emulator version ...", ...},
     "options": {...}, "record": {...}, "note": "..."}

Bytes are kept as text, one character per byte (latin-1), so that JSON's escapes keep any byte the
firmware sent, garbage included. Consecutive writes, and consecutive reads, are joined into one
exchange: how the bytes were cut into chunks is the timing of the line, not the protocol. ``options``
(how the run was asked for) and ``record`` (what the recording run's record said) are the recording
script's, kept as they are; this module does not read them.

To record: ``Recorder`` makes a ``RecordingTarget`` around a real backend's target, as a backend of its
own (``Recorder.backend``); ``RecordingLine`` wraps the target's serial line. ``load_transcript`` refuses
a malformed file with a ``ConfigError`` naming the file and what is wrong in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast, get_args

from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.protocol import SerialLike
from harness.targets.backends import Backend
from harness.targets.base import (
    CycleCounter,
    FirmwareSession,
    InstructionCounter,
    Target,
    TargetResult,
    create_target,
)
from harness.targets.readings import CycleCount, CycleSource, InstructionCount, InstructionSource
from harness.types import FirmwareImage

FORMAT = "hilbench-transcript"
VERSION = 1
Direction = Literal["host", "dut"]       # host: written to the firmware; dut: read from it


@dataclass(frozen=True)
class Exchange:
    direction: Direction
    data: bytes


@dataclass(frozen=True)
class Transcript:
    """One recorded session. ``result`` is None when the run ended before the target was stopped (a
    timeout, a fault); a reading is None when the target was never asked for it."""

    board: str
    model: str
    firmware_sha256: str
    exchanges: tuple[Exchange, ...]
    instruction_count: InstructionCount | None = None
    cycle_count: CycleCount | None = None
    result: TargetResult | None = None
    target: dict[str, Any] = field(default_factory=dict)    # backend, instructions_per_s, semihosting
    options: dict[str, Any] = field(default_factory=dict)   # the recording script's run options
    record: dict[str, Any] = field(default_factory=dict)    # the recording run's record (key fields)
    note: str = ""

    def cut(self, exchanges: int) -> Transcript:
        """The first ``exchanges`` exchanges only, as when the board stops answering there; nothing
        after it (no reading, no result) was seen."""
        return replace(self, exchanges=self.exchanges[:exchanges], instruction_count=None, cycle_count=None,
                       result=None, note=f"{self.note} (cut after exchange {exchanges})".strip())

    def index_of(self, host_write: str) -> int:
        """The index of the first host exchange that starts with ``host_write``; raises ``ValueError``."""
        for i, ex in enumerate(self.exchanges):
            if ex.direction == "host" and ex.data.startswith(host_write.encode("latin-1")):
                return i
        raise ValueError(f"no host write starting {host_write!r} in the transcript of {self.model}")

    def to_json(self) -> dict[str, Any]:
        readings: dict[str, Any] = {}
        if self.instruction_count is not None:
            ic = self.instruction_count
            readings["instruction_count"] = {"per_inference": list(ic.per_inference), "per_layer": list(ic.per_layer),
                                             "source": ic.source, "exact": ic.exact}
        if self.cycle_count is not None:
            cc = self.cycle_count
            readings["cycle_count"] = {"per_inference": list(cc.per_inference), "per_layer": list(cc.per_layer),
                                       "clock_hz": cc.clock_hz, "source": cc.source}
        result = None if self.result is None else {
            "exit_code": self.result.exit_code, "runner": self.result.runner, "stderr_tail": self.result.stderr_tail,
            "log_path": self.result.log_path, "details": self.result.details}
        return {"format": FORMAT, "version": VERSION, "board": self.board, "model": self.model,
                "firmware_sha256": self.firmware_sha256, "note": self.note, "target": self.target,
                "options": self.options, "record": self.record,
                "exchanges": [[ex.direction, ex.data.decode("latin-1")] for ex in self.exchanges],
                "readings": readings, "result": result}

    def save(self, path: Path) -> None:
        """Write the JSON file, one exchange a line (the exchanges last), so that a diff shows what changed."""
        data = self.to_json()
        exchanges = data.pop("exchanges")
        head = json.dumps(data, indent=1)
        rows = ",\n".join(f"  {json.dumps(ex)}" for ex in exchanges)
        path.write_text(f'{head[:-2]},\n "exchanges": [\n{rows}\n ]\n}}\n', encoding="ascii")


class _Reader:
    """Typed access to a parsed transcript; every complaint names the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, what: str) -> ConfigError:
        return ConfigError(f"transcript {self.path}: {what}")

    def get(self, table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str = "",
            optional: bool = False) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in table:
            if optional:
                return None
            raise self.fail(f"no {name!r}")
        value = table[key]
        if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)) \
                or (kind is bool and isinstance(value, bool)):
            return value
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise self.fail(f"{name!r} is {value!r:.60}; expected {want}{' or null' if optional else ''}")

    def counts(self, table: dict[str, Any], key: str, where: str) -> tuple[int, ...]:
        values = self.get(table, key, list, where)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise self.fail(f"'{where}.{key}' holds something other than whole numbers: {values!r:.80}")
        return tuple(values)

    def exchanges(self, raw: list[Any]) -> tuple[Exchange, ...]:
        out = []
        for i, item in enumerate(raw):
            if not (isinstance(item, list) and len(item) == 2 and item[0] in get_args(Direction)
                    and isinstance(item[1], str)):
                raise self.fail(f"'exchanges[{i}]' is {item!r:.60}; expected [\"host\" or \"dut\", text]")
            try:
                data = item[1].encode("latin-1")
            except UnicodeEncodeError:
                raise self.fail(f"'exchanges[{i}]' has a character above \\u00ff; each character is one byte") \
                    from None
            out.append(Exchange(cast(Direction, item[0]), data))
        return tuple(out)

    def instruction_count(self, table: dict[str, Any]) -> InstructionCount:
        w = "readings.instruction_count"
        source = self.get(table, "source", str, w)
        if source not in get_args(InstructionSource):
            raise self.fail(f"'{w}.source' is {source!r}; expected one of {list(get_args(InstructionSource))}")
        try:
            return InstructionCount(self.counts(table, "per_inference", w), self.counts(table, "per_layer", w),
                                    cast(InstructionSource, source), bool(self.get(table, "exact", bool, w)))
        except ValueError as exc:
            raise self.fail(f"'{w}': {exc}") from None

    def cycle_count(self, table: dict[str, Any]) -> CycleCount:
        w = "readings.cycle_count"
        source = self.get(table, "source", str, w)
        if source not in get_args(CycleSource):
            raise self.fail(f"'{w}.source' is {source!r}; expected one of {list(get_args(CycleSource))}")
        try:
            return CycleCount(self.counts(table, "per_inference", w), self.counts(table, "per_layer", w),
                              self.get(table, "clock_hz", int, w), cast(CycleSource, source))
        except ValueError as exc:
            raise self.fail(f"'{w}': {exc}") from None

    def result(self, table: dict[str, Any]) -> TargetResult:
        return TargetResult(exit_code=self.get(table, "exit_code", int, "result", optional=True),
                            runner=self.get(table, "runner", str, "result"),
                            stderr_tail=self.get(table, "stderr_tail", str, "result"),
                            log_path=self.get(table, "log_path", str, "result", optional=True),
                            details=self.get(table, "details", dict, "result"))


def load_transcript(path: Path) -> Transcript:
    """The transcript in ``path``; raises ``ConfigError`` naming the file and what is wrong with it."""
    r = _Reader(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise r.fail(f"cannot read it: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise r.fail(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise r.fail(f"a JSON {type(raw).__name__}; expected an object with \"format\": \"{FORMAT}\"")
    if raw.get("format") != FORMAT:
        raise r.fail(f"'format' is {raw.get('format')!r}; expected {FORMAT!r}")
    if raw.get("version") != VERSION:
        raise r.fail(f"'version' is {raw.get('version')!r}; this harness reads version {VERSION}")
    readings = r.get(raw, "readings", dict)
    unknown = set(readings) - {"instruction_count", "cycle_count"}
    if unknown:
        raise r.fail(f"unknown readings {sorted(unknown)}; expected 'instruction_count', 'cycle_count'")
    ic, cc = readings.get("instruction_count"), readings.get("cycle_count")
    result = r.get(raw, "result", dict, optional=True)
    return Transcript(
        board=r.get(raw, "board", str), model=r.get(raw, "model", str),
        firmware_sha256=r.get(raw, "firmware_sha256", str),
        exchanges=r.exchanges(r.get(raw, "exchanges", list)),
        instruction_count=None if ic is None else r.instruction_count(r.get(readings, "instruction_count", dict)),
        cycle_count=None if cc is None else r.cycle_count(r.get(readings, "cycle_count", dict)),
        result=None if result is None else r.result(result),
        target=r.get(raw, "target", dict, optional=True) or {},
        options=r.get(raw, "options", dict, optional=True) or {},
        record=r.get(raw, "record", dict, optional=True) or {},
        note=r.get(raw, "note", str, optional=True) or "")


# -- recording ---------------------------------------------------------------------------------------


class RecordingLine:
    """A ``SerialLike`` that passes everything through to ``line`` and keeps it, in order."""

    def __init__(self, line: SerialLike) -> None:
        self.line = line
        self.exchanges: list[Exchange] = []

    def _keep(self, direction: Direction, data: bytes) -> None:
        if not data:
            return
        if self.exchanges and self.exchanges[-1].direction == direction:
            data = self.exchanges.pop().data + data
        self.exchanges.append(Exchange(direction, bytes(data)))

    @property
    def in_waiting(self) -> int:
        return self.line.in_waiting

    def read(self, size: int = 1) -> bytes:
        data = self.line.read(size)
        self._keep("dut", data)
        return data

    def write(self, data: bytes) -> int | None:
        self._keep("host", data)
        return self.line.write(data)


class RecordingTarget(Target):
    """Runs ``inner`` and keeps what it said and measured; ``transcript()`` gives it. Make one with
    ``recording_target``, which gives it the counters ``inner`` has and no others."""

    name = "recording"

    def __init__(self, inner: Target) -> None:
        super().__init__(inner.board)
        self.inner = inner
        self.instructions_per_s = inner.instructions_per_s
        self.semihosting = inner.semihosting
        self.image: FirmwareImage | None = None
        self.line: RecordingLine | None = None
        self.result: TargetResult | None = None
        self.instructions: InstructionCount | None = None
        self.cycles: CycleCount | None = None

    def load(self, image: FirmwareImage) -> None:
        self.image = image
        self.inner.load(image)

    def open(self) -> SerialLike:
        self.line = RecordingLine(self.inner.open())
        return self.line

    def stop(self, timeout_s: float) -> TargetResult:
        self.result = self.inner.stop(timeout_s)
        return self.result

    def close(self) -> None:
        self.inner.close()

    def logs(self) -> tuple[str | None, str]:
        return self.inner.logs()

    def transcript(self, options: dict[str, Any] | None = None, record: dict[str, Any] | None = None,
                   note: str = "") -> Transcript:
        if self.image is None or self.line is None:
            raise ConfigError(f"nothing recorded: the {self.inner.name} target was never loaded and opened")
        return Transcript(
            board=self.board.name, model=self.image.model_id, firmware_sha256=self.image.sha256,
            exchanges=tuple(self.line.exchanges), instruction_count=self.instructions, cycle_count=self.cycles,
            result=self.result, options=dict(options or {}), record=dict(record or {}), note=note,
            target={"backend": self.inner.name, "instructions_per_s": self.instructions_per_s,
                    "semihosting": self.semihosting})


class _CountsInstructions(RecordingTarget):
    def instruction_count(self, session: FirmwareSession) -> InstructionCount:
        assert isinstance(self.inner, InstructionCounter)   # recording_target chose this class for it
        self.instructions = self.inner.instruction_count(session)
        return self.instructions


class _CountsCycles(RecordingTarget):
    def cycle_count(self, session: FirmwareSession) -> CycleCount:
        assert isinstance(self.inner, CycleCounter)   # recording_target chose this class for it
        self.cycles = self.inner.cycle_count(session)
        return self.cycles


class _CountsBoth(_CountsInstructions, _CountsCycles):
    pass


def recording_target(inner: Target) -> RecordingTarget:
    """A ``RecordingTarget`` around ``inner`` that is an ``InstructionCounter`` or ``CycleCounter`` exactly
    when ``inner`` is (the runner asks a target for the counts its capabilities promise)."""
    kinds = {(False, False): RecordingTarget, (True, False): _CountsInstructions,
             (False, True): _CountsCycles, (True, True): _CountsBoth}
    return kinds[isinstance(inner, InstructionCounter), isinstance(inner, CycleCounter)](inner)


class Recorder:
    """A backend (``backend()``) whose targets are ``inner``'s, recorded; ``targets`` holds every one made."""

    def __init__(self, inner: str = "qemu") -> None:
        self.inner = inner
        self.targets: list[RecordingTarget] = []

    def make(self, board: BoardSpec, **settings: object) -> RecordingTarget:
        target = recording_target(create_target(self.inner, board, **settings))
        self.targets.append(target)
        return target

    def backend(self, name: str = "recording") -> Backend:
        return Backend(name=name, factory=self.make, description=f"{self.inner}, every exchange recorded")
