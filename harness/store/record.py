"""The run record: one per run, field names as in DESIGN §9 (an interface)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("ok", "config", "model", "build", "flash", "boot", "timeout", "fault", "mismatch", "measurement")


@dataclass(frozen=True)
class RunRecord:
    model: str
    board: str
    runtime: str
    target: str
    status: str
    model_sha256: str | None = None
    model_path: str | None = None
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
    output_hex: str | None = None
    reference_hex: str | None = None
    matches_reference: bool | None = None
    # on a mismatch: {index, op, differing_bytes, bytes, first_difference_offset} of the first layer
    # whose output differs from the host interpreter's; None when the output matches or it was not found
    first_diverging_layer: dict[str, Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION
    run_id: str = ""
    time_utc: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
