"""The report's Provenance section: where every figure on the page came from.

Counts per source (``latency_source``, ``energy_source``), the tools and hosts the runs name in their
``provenance``, the git commits, the results folder, and every file that was skipped while loading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from harness.report.baselines import SOURCE
from harness.report.bench import COUNTERS
from harness.report.markup import Cell, esc, ncell, table, tcell, value
from harness.report.sections import Section
from harness.store.frame import RunsFrame

COMMITS_SHOWN = 30
ENERGY = {"estimate-board-active-power": "estimated: the board file's active power ([power] active_mw) times the "
                                         "estimated latency; not a measurement"}
SIZES = ("flash and RAM: from the firmware ELF's sections, read with pyelftools (flash = .text + .rodata + .data; "
         "RAM = .data + .bss + the stack reserve); code = .text + .rodata minus the model's constants (weights, "
         "biases, requantization tables), as DESIGN §7 counts TFLM's code; arena: the compile-time memory plan, "
         "as the firmware reports it; stack: the high-water mark of the painted stack; board limits: the "
         "board files in boards/ and each record's board_flash_bytes and board_ram_bytes")


def _counts(values: Iterable[object]) -> list[tuple[str, int]]:
    return Counter(str(v) for v in values if value(v) not in (None, "")).most_common()


def _listing(pairs: Sequence[tuple[str, int]], describe: dict[str, str] | None = None) -> str:
    if not pairs:
        return '<span class="muted">none recorded</span>'
    items = []
    for name, n in pairs:
        what = (describe or {}).get(name)
        items.append(f"<li><code>{esc(name)}</code> ({n:,} run{'s' if n != 1 else ''})"
                     + (f": {esc(what)}" if what else "") + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _ul(texts: Iterable[object]) -> str:
    return "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in texts) + "</ul>"


def _field(runs: pd.DataFrame, key: str) -> list[object]:
    return [p.get(key) if isinstance(p, dict) else None for p in runs["provenance"]]


def _when(t: object) -> str:
    return "-" if value(t) is None else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")


def _commits(runs: pd.DataFrame) -> str:
    by = runs.groupby("git_commit", sort=False)["time"].agg(["count", "min", "max"])
    by = by.sort_values("max", ascending=False)
    rows = [[tcell(str(commit)), ncell(row["count"]),
             Cell(_when(row["min"]), sort=_when(row["min"])), Cell(_when(row["max"]), sort=_when(row["max"]))]
            for commit, row in by.head(COMMITS_SHOWN).iterrows()]
    more = f'<p class="muted">and {len(by) - COMMITS_SHOWN} older commit(s)</p>' if len(by) > COMMITS_SHOWN else ""
    return table(("git commit", "runs", "first run (UTC)", "last run (UTC)"), rows, numeric=("runs",)) + more


def provenance_section(frame: RunsFrame, baseline: RunsFrame | None = None,
                       board_errors: Sequence[str] = ()) -> Section:
    """Sources, tools, commits, hosts, folders and skipped files of the runs on the page."""
    runs = frame.runs
    flags = [value(v) for v in runs["latency_estimated"]]
    latency = (f"{flags.count(True):,} run(s) estimate latency from the instruction count at the board's clock "
               f"(latency_estimated: yes); {flags.count(False):,} measured it; {flags.count(None):,} have none")
    items = [
        ("Results folder", (f"<code>{esc(frame.source or 'records held in memory (this session)')}</code>: "
                            f"{len(runs):,} run record(s)")),
        ("Instruction counts (latency_source)", _listing(_counts(runs["latency_source"]), COUNTERS)),
        ("Latency", esc(latency)),
        ("Sizes", esc(SIZES)),
        ("Energy (energy_source)", _listing(_counts(runs["energy_source"]), ENERGY)),
        ("Emulators", _listing(_counts(_field(runs, "emulator")))),
        ("Compilers", _listing(_counts(_field(runs, "compiler")))),
        ("Harness versions", _listing(_counts(_field(runs, "harness_version")))),
        ("Hosts", _listing(_counts(_field(runs, "host")))),
        ("Git commits", _commits(runs)),
        ("TFLite Micro figures", esc(SOURCE)),
    ]
    if baseline is not None:
        items.append(("Baseline", (f"<code>{esc(baseline.source or 'records held in memory')}</code>: "
                                   f"{len(baseline.runs):,} run record(s) at "
                                   f"{baseline.runs['git_commit'].nunique()} commit(s)")))
    skipped = [*frame.warnings, *(baseline.warnings if baseline is not None else ())]
    items.append(("Skipped record files", _ul(skipped) if skipped else '<span class="muted">none</span>'))
    if board_errors:
        items.append(("Board files not loaded", _ul(board_errors)))
    body = "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"
    return Section("provenance", "Provenance",
                   "Where every figure on this page came from: counters, sizes, tools, commits, hosts and files.",
                   body)
