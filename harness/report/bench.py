"""The ``hilbench bench`` report: our figures beside TFLite Micro's (DESIGN §7), per model and per layer.

Pure functions turn run records into rows (``model_row``, ``skipped_row``, ``layer_rows``) and rows into
a verdict (``shortfalls``); ``main_table``, ``layer_table`` and ``provenance_lines`` render them. A ratio
is our figure divided by TFLM's; a target is met when the ratio is at or below its bound
(``baselines.TARGETS``), compared exactly rather than in floating point.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rich.markup import escape
from rich.table import Table

from harness.report.baselines import CORE, MACHINE, SOURCE, TARGETS, TFLM, TflmBaseline
from harness.store.record import RunRecord

SKIPPED = "skipped"  # a row's status when the model was not run at all
COUNTERS = {  # latency_source -> what the number is
    "qemu-insn": "exact guest instruction count by the QEMU TCG plugin (firmware/qemu_plugin/hil_insn.c) "
                 "at the firmware's marker functions",
    "qemu-icount": "QEMU -icount shift=0 read through SysTick: one tick (40 instructions) of resolution",
}


@dataclass(frozen=True)
class Check:
    """One target: our figure against TFLM's; ``passed`` is None when our figure is unknown."""

    metric: str
    ours: int | None
    tflm: int
    bound: float
    ratio: float | None
    passed: bool | None


def check(metric: str, ours: int | None, tflm: int, bound: float) -> Check:
    """``ours / tflm`` against ``bound``.

    >>> check("arena_bytes", 8, 10, 0.8).passed, check("arena_bytes", 9, 10, 0.8).passed
    (True, False)
    """
    if ours is None:
        return Check(metric, None, tflm, bound, None, None)
    return Check(metric, ours, tflm, bound, ours / tflm, Fraction(ours, tflm) <= Fraction(repr(bound)))


@dataclass(frozen=True)
class ModelRow:
    """One model's line of the main table. Instructions are per inference; sizes are bytes."""

    model: str
    status: str                        # the record's status, or SKIPPED
    error: str | None
    macs: int | None
    instructions_per_inference: int | None
    instructions_per_mac: float | None
    tflm_cmsis_insn: int
    vs_tflm_cmsis: float | None        # ours / TFLM + CMSIS-NN instructions (the ratio ``cmsis`` checks)
    instructions: Check                # vs TFLM reference kernels
    cmsis: Check                       # instructions vs TFLM + CMSIS-NN
    arena: Check
    code: Check
    weights_bytes: int | None
    stack_bytes: int | None            # high-water mark
    matches_reference: bool | None
    latency_source: str | None
    counts_identical: bool | None      # every timed inference gave the same count; None below 2 inferences
    run_id: str | None = None          # the stored record's id

    @property
    def checks(self) -> tuple[Check, Check, Check, Check]:
        return self.instructions, self.cmsis, self.arena, self.code


@dataclass(frozen=True)
class LayerRow:
    index: int
    op: str
    macs: int
    instructions: int | None
    instructions_per_mac: float | None  # None when the layer has no MACs
    share_pct: float | None             # of the model's instructions per inference
    kernel: str = ""                    # the kernel variant that ran it (CONV_2D_DSP); "" in older records


def _div(a: int | None, b: int | None) -> float | None:
    return None if a is None or not b else a / b


def model_row(record: RunRecord, base: TflmBaseline) -> ModelRow:
    """The main-table row of one run (failed runs too: whatever the record holds)."""
    insn = record.instructions_per_inference
    timed = record.instructions_timed
    return ModelRow(
        model=record.model, status=record.status, error=record.error, macs=record.macs,
        instructions_per_inference=insn, instructions_per_mac=_div(insn, record.macs),
        tflm_cmsis_insn=base.tflm_cmsis_insn, vs_tflm_cmsis=_div(insn, base.tflm_cmsis_insn),
        instructions=check("instructions_per_inference", insn, base.tflm_ref_insn,
                           TARGETS.instructions_vs_tflm_ref),
        cmsis=check("instructions_vs_cmsis", insn, base.tflm_cmsis_insn, TARGETS.instructions_vs_tflm_cmsis),
        arena=check("arena_bytes", record.arena_bytes, base.tflm_arena_bytes, TARGETS.arena_vs_tflm),
        code=check("code_bytes", record.code_bytes, base.tflm_cmsis_code_bytes, TARGETS.code_vs_tflm_cmsis),
        weights_bytes=record.weights_bytes, stack_bytes=record.stack_bytes,
        matches_reference=record.matches_reference, latency_source=record.latency_source,
        counts_identical=len(set(timed)) == 1 if len(timed) >= 2 else None, run_id=record.run_id or None)


def skipped_row(model: str, reason: str, base: TflmBaseline) -> ModelRow:
    """The row of a model that was not run (its file is missing, say); ``reason`` says why."""
    return ModelRow(
        model=model, status=SKIPPED, error=reason, macs=None, instructions_per_inference=None,
        instructions_per_mac=None, tflm_cmsis_insn=base.tflm_cmsis_insn, vs_tflm_cmsis=None,
        instructions=check("instructions_per_inference", None, base.tflm_ref_insn,
                           TARGETS.instructions_vs_tflm_ref),
        cmsis=check("instructions_vs_cmsis", None, base.tflm_cmsis_insn, TARGETS.instructions_vs_tflm_cmsis),
        arena=check("arena_bytes", None, base.tflm_arena_bytes, TARGETS.arena_vs_tflm),
        code=check("code_bytes", None, base.tflm_cmsis_code_bytes, TARGETS.code_vs_tflm_cmsis),
        weights_bytes=None, stack_bytes=None, matches_reference=None, latency_source=None,
        counts_identical=None)


def layer_rows(record: RunRecord) -> list[LayerRow]:
    """One row per layer of ``record.layers`` (dicts with index, op, macs, instructions)."""
    total = record.instructions_per_inference
    rows = []
    for layer in record.layers:
        macs = int(layer.get("macs") or 0)
        insn = layer.get("instructions")
        rows.append(LayerRow(index=int(layer["index"]), op=str(layer["op"]), macs=macs, instructions=insn,
                             instructions_per_mac=_div(insn, macs),
                             share_pct=None if insn is None or not total else 100 * insn / total,
                             kernel=str(layer.get("kernel") or "")))
    return rows


_LABELS = {"instructions_per_inference": ("instructions", "x TFLM reference kernels"),
           "instructions_vs_cmsis": ("instructions", "x TFLM + CMSIS-NN"),
           "arena_bytes": ("arena", "x TFLM arena"), "code_bytes": ("code", "x TFLM + CMSIS-NN code")}


def shortfalls(rows: Iterable[ModelRow]) -> list[str]:
    """What keeps the bench from passing, one phrase per miss; empty when every model ran, is
    bit-exact and meets every target."""
    out: list[str] = []
    for r in rows:
        if r.status == SKIPPED:
            out.append(f"{r.model} not run ({SKIPPED})")
            continue
        if r.status != "ok":
            out.append(f"{r.model} run failed ({r.status})")
        elif r.matches_reference is not True:
            out.append(f"{r.model} not bit-exact")
        for c in r.checks:
            name, unit = _LABELS[c.metric]
            if c.passed is False:
                out.append(f"{r.model} {name} {c.ratio:.3f} {unit} > {c.bound:g}")
            elif c.passed is None and r.status == "ok":
                out.append(f"{r.model} {name} not measured")
    return out


def bench_json(board: str, rows: Sequence[ModelRow], layers: Mapping[str, Sequence[LayerRow]]) -> dict[str, Any]:
    """Everything the tables show, as plain data (raw numbers, not formatted strings)."""
    missed = shortfalls(rows)
    return {"board": board, "tflm_source": SOURCE, "targets": dataclasses.asdict(TARGETS),
            "ok": not missed, "missed": missed,
            "models": [dataclasses.asdict(r) for r in rows],
            "layers": {m: [dataclasses.asdict(x) for x in ls] for m, ls in layers.items()}}


# Rendering -------------------------------------------------------------------------------------------

def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _f(v: float | None, fmt: str) -> str:
    return "" if v is None else format(v, fmt)


def _ratio(c: Check) -> str:
    if c.ratio is None:
        return "-"
    return f"{c.ratio:.3f} " + ("[green]pass[/green]" if c.passed else "[red]FAIL[/red]")


def _yes_no(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "[red]NO[/red]")


def main_table(rows: Iterable[ModelRow], board: str) -> Table:
    """One row per model: our figures, TFLM's, the ratios and whether each target is met; a run that
    is not ok shows its status beside the model."""
    t = Table(title=f"hilbench bench on {board}: hilbench-aot vs TFLite Micro (DESIGN §7)")
    cols = ["model", "MACs", "insn/\ninference", "insn/\nMAC", "TFLM ref\ninsn",
            f"vs ref\n<= {TARGETS.instructions_vs_tflm_ref:g}", f"vs CMSIS-NN\n<= {TARGETS.instructions_vs_tflm_cmsis:g}",
            "arena\nB", "TFLM\narena B",
            f"vs arena\n<= {TARGETS.arena_vs_tflm:g}", "code\nB", "TFLM+CMSIS\ncode B",
            f"vs code\n<= {TARGETS.code_vs_tflm_cmsis:g}", "weights\nB", "stack\nB", "bit-\nexact"]
    for col in cols:  # numbers fold onto a second line in a narrow terminal rather than lose digits
        t.add_column(col, justify="left" if col == "model" else "right", overflow="fold")
    for r in rows:
        model = r.model if r.status == "ok" else f"{r.model} [red]{r.status}[/red]"
        t.add_row(model, _n(r.macs), _n(r.instructions_per_inference),
                  _f(r.instructions_per_mac, ".2f"), _n(r.instructions.tflm), _ratio(r.instructions),
                  _ratio(r.cmsis), _n(r.arena.ours), _n(r.arena.tflm), _ratio(r.arena),
                  _n(r.code.ours), _n(r.code.tflm), _ratio(r.code), _n(r.weights_bytes), _n(r.stack_bytes),
                  _yes_no(r.matches_reference))
    return t


MARKDOWN_COLUMNS = ("model", "insn/inference", "insn/MAC", "vs TFLM reference", "vs TFLM+CMSIS-NN", "arena B", "vs TFLM",
                    "code B", "vs TFLM+CMSIS-NN", "weights B", "stack B", "bit-exact")


def markdown_table(rows: Iterable[ModelRow]) -> str:
    """The main figures as a Markdown table (the README's table is this text, checked by a test).

    >>> row = model_row(RunRecord("ad01", "qemu-m4", "hilbench-aot", "qemu", "ok", macs=264_192,
    ...     instructions_per_inference=800_000, arena_bytes=1_408, code_bytes=11_104, weights_bytes=270_880,
    ...     stack_bytes=200, matches_reference=True), TFLM["ad01"])
    >>> print(markdown_table([row]).splitlines()[-1])
    | ad01 | 800,000 | 3.03 | 0.409 | 1.372 (missed) | 1,408 | 0.546 | 11,104 | 0.223 | 270,880 | 200 | yes |
    """
    def ratio(c: Check) -> str:
        return "-" if c.ratio is None else f"{c.ratio:.3f}" + ("" if c.passed else " (missed)")

    lines = ["| " + " | ".join(MARKDOWN_COLUMNS) + " |", "|" + "---|" * len(MARKDOWN_COLUMNS)]
    for r in rows:
        model = r.model if r.status == "ok" else f"{r.model} ({r.status})"
        exact = "-" if r.matches_reference is None else ("yes" if r.matches_reference else "NO")
        cells = [model, _n(r.instructions_per_inference), _f(r.instructions_per_mac, ".2f") or "-",
                 ratio(r.instructions), ratio(r.cmsis), _n(r.arena.ours), ratio(r.arena), _n(r.code.ours),
                 ratio(r.code),
                 _n(r.weights_bytes), _n(r.stack_bytes), exact]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def layer_table(row: ModelRow, layers: Sequence[LayerRow]) -> Table:
    """One row per layer, and a footer with the sum over layers (the rest is outside any layer)."""
    t = Table(title=f"{row.model}: per layer ({_n(row.instructions_per_inference)} instructions per inference)",
              show_footer=True)
    insn = [x.instructions for x in layers if x.instructions is not None]
    macs = sum(x.macs for x in layers)
    total_insn = sum(insn) if insn else None
    share = None if total_insn is None or not row.instructions_per_inference \
        else 100 * total_insn / row.instructions_per_inference
    footer = ["", "all layers", "", _n(macs), _n(total_insn), _f(_div(total_insn, macs), ".2f"), _f(share, ".1f")]
    for col, foot in zip(["layer", "op", "kernel", "MACs", "instructions", "insn/MAC", "share %"], footer):
        t.add_column(col, footer=foot, justify="left" if col in ("op", "kernel") else "right")
    for x in layers:
        t.add_row(str(x.index), x.op, x.kernel, _n(x.macs), _n(x.instructions), _f(x.instructions_per_mac, ".2f"),
                  _f(x.share_pct, ".1f"))
    return t


def _join(values: Iterable[object]) -> str:
    seen = sorted({str(v) for v in values if v not in (None, "")})
    return ", ".join(seen) if seen else "unknown"


def provenance_lines(records: Sequence[RunRecord], board: str, machine: str | None,
                     core: str | None) -> list[str]:
    """Where each number under the tables comes from, and what makes a comparison unfair."""
    ran = [r for r in records if r.instructions_per_inference is not None]
    lines = []
    sources: dict[tuple[str, str], list[str]] = {}
    for r in ran:
        key = (r.latency_source or "unknown", str(r.provenance.get("counter", "unknown")))
        sources.setdefault(key, []).append(r.model)
    for (source, counter), models in sources.items():
        what = COUNTERS.get(source, "see the record's provenance")
        lines.append(f"instructions ({', '.join(models)}): {what}; latency_source {source}, counter {counter}")
    if ran:
        timed = {f"{r.inferences} timed after {r.warmup} warm-up" for r in ran}
        differ = [r.model for r in ran if len(set(r.instructions_timed)) > 1]
        single = [r.model for r in ran if len(r.instructions_timed) < 2]
        if differ:
            verdict = f"counts differ between inferences for {', '.join(differ)} (median shown)"
        elif single:  # one value cannot show that the counts repeat
            verdict = f"fewer than 2 timed inferences for {', '.join(single)}: repeatability not checked"
        else:
            verdict = "identical counts on every timed inference"
        lines.append(f"inferences: {', '.join(sorted(timed))}; {verdict}")
        lines.append(f"emulator: {_join(r.provenance.get('emulator') for r in ran)}; "
                     f"compiler: {_join(r.provenance.get('compiler') for r in ran)}; "
                     f"harness commit: {_join(r.provenance.get('git_commit') for r in ran)}")
    lines.append("sizes: code = .text + .rodata minus the model constants: weights, biases, requantization "
                 "tables (as DESIGN §7 counts TFLM's code minus the flatbuffer); "
                 "arena: the compile-time memory plan, as the firmware reports it; "
                 "stack: high-water mark of the painted stack")
    lines.append("ratios: ours / TFLM's; a target is met at or below its bound; 'vs CMSIS-NN' is our "
                 "instructions / TFLM + CMSIS-NN's, shown without a target")
    lines.append(f"TFLM: {SOURCE}")
    other = [f"{r.model} ({r.model_origin})" for r in records if r.model_origin not in (None, "official")]
    if other:
        lines.append(f"note: not the official files: {', '.join(other)}; built from code, they have the official "
                     "architectures, but TFLite Micro's figures are of the official files")
    for r in records:
        base = TFLM.get(r.model)
        if base is not None and r.macs is not None and r.macs != base.macs:
            lines.append(f"note: {r.model} counts {r.macs:,} MACs; DESIGN §6 says {base.macs:,}")
    if machine != MACHINE or core != CORE:
        lines.append(f"note: board {board} is {core} on {machine or 'no QEMU machine'}; the TFLM figures are "
                     f"{CORE} on {MACHINE}, so the instruction ratios compare different cores")
    return [escape(x) for x in lines]
