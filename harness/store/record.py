"""The run record: one per run, field names as in DESIGN §9 (an interface)."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from harness.errors import StoreError

SCHEMA_VERSION = 1
STATUSES = ("ok", "config", "model", "build", "flash", "boot", "timeout", "fault", "mismatch", "measurement",
            "probe-missing", "probe-ambiguous", "wrong-board", "serial-port", "board-lost", "energy",
            "renode-missing", "renode-platform", "renode-memory-map", "renode-command", "renode-died",
            "renode-hook", "labgrid-place-unknown", "labgrid-place-taken", "labgrid-coordinator",
            "labgrid-exporter", "labgrid-exporter-lost", "store", "error")


@dataclass(frozen=True)
class RunRecord:
    model: str
    board: str
    runtime: str
    target: str
    status: str
    model_sha256: str | None = None
    model_path: str | None = None
    # where the model file came from: official (a published MLPerf Tiny file, sha256 as pinned),
    # built-untrained or built-trained (built from code by harness.model.builtin), user (any other file);
    # None when the model could not be resolved, and in records written before the field existed
    model_origin: str | None = None
    error: str | None = None
    inferences: int = 0
    warmup: int = 0
    instructions_per_inference: int | None = None
    instructions_timed: list[int] = field(default_factory=list)
    latency_source: str | None = None
    cycles_per_inference: int | None = None
    latency_us: float | None = None
    latency_estimated: bool | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    macs: int | None = None
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    weights_bytes: int | None = None
    code_bytes: int | None = None
    arena_bytes: int | None = None
    stack_bytes: int | None = None
    stack_reserved_bytes: int | None = None
    sections: dict[str, int] = field(default_factory=dict)
    board_flash_bytes: int | None = None
    board_ram_bytes: int | None = None
    fits_board: bool | None = None
    energy_uj: float | None = None
    energy_source: str | None = None
    input_sha256: str | None = None
    seed: int | None = None                # of the random input; None when the input was given
    output_hex: str | None = None          # the first graph output
    reference_hex: str | None = None
    # a model of several graph outputs: each one's bytes, in the graph's order (None for one output)
    outputs_hex: list[str] | None = None
    references_hex: list[str] | None = None
    matches_reference: bool | None = None
    # on a mismatch: {index, op, differing_bytes, bytes, first_difference_offset} of the first layer
    # whose output differs from the host interpreter's; None when the output matches or it was not found
    first_diverging_layer: dict[str, Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION
    run_id: str = ""
    time_utc: str = ""
    session_id: str = ""                   # the pytest session or `hilbench` command the run was part of
    # fields this version does not know (from a newer harness or another tool), kept as read and
    # written back beside the known ones by to_dict: a record is never trimmed by loading it
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data: the known fields, then the ``extra`` ones at the same level."""
        data = dataclasses.asdict(self)
        extra = data.pop("extra")
        return {**{k: v for k, v in extra.items() if k not in data}, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """A record from ``to_dict`` data; unknown fields go to ``extra``.

        Raises ``StoreError`` naming the field, its value and the type its annotation expects
        (a bool is not an int; an int is a float), or a required field that is missing.
        """
        hints = _field_types()
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key not in hints:
                extra[key] = value
                continue
            if not _is_instance(value, hints[key]):
                raise StoreError(f"field {key!r} is {_short(value)}; expected {_type_name(hints[key])}")
            values[key] = value
        missing = [f.name for f in dataclasses.fields(cls) if f.name in hints and f.name not in values
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise StoreError(f"missing fields {missing}")
        return cls(**values, extra=extra)


@functools.cache
def _field_types() -> dict[str, Any]:
    """The record's fields and their annotations, evaluated; ``extra`` is not a field of the file."""
    hints = typing.get_type_hints(RunRecord)
    del hints["extra"]
    return hints


def _is_instance(value: Any, hint: Any) -> bool:
    """Whether JSON-loaded ``value`` fits ``hint``: the annotations RunRecord uses, no more."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_instance(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_is_instance(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(hint) or (Any, Any)
        return isinstance(value, dict) and all(_is_instance(k, key) and _is_instance(v, item)
                                               for k, v in value.items())
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is None:
        return "None" if hint is type(None) else str(hint.__name__)
    return str(hint).replace("typing.", "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
