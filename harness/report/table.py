"""The terminal table of a session's runs, rendered with rich.

Every cell that holds text from the user or the firmware (model names, board names, statuses) is
passed through ``rich.markup.escape``: a model called ``x[/x]`` is printed as it is, never parsed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.store.record import RunRecord


def _n(v: float | None, fmt: str = "{:,}") -> str:
    return "-" if v is None else fmt.format(v)


def runs_table(records: Iterable[RunRecord], title: str = "hilbench runs") -> Table:
    t = Table(title=title)
    for col, justify in [("model", "left"), ("origin", "left"), ("board", "left"), ("status", "left"),
                         ("insn/inference", "right"), ("source", "left"), ("est. latency ms", "right"), ("flash B", "right"),
                         ("RAM B", "right"), ("arena B", "right"), ("stack B", "right"), ("fits", "left"),
                         ("bit-exact", "left")]:
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in records:
        latency = None if r.latency_us is None else r.latency_us / 1000
        status = escape(r.status)
        t.add_row(escape(r.model), escape(r.model_origin or "-"), escape(r.board),
                  status if r.ok else f"[red]{status}[/red]",
                  _n(r.instructions_per_inference), escape(r.latency_source or "-"),
                  _n(latency, "{:,.2f}") + (" (est.)" if r.latency_estimated and latency is not None else ""),
                  _n(r.flash_bytes), _n(r.ram_bytes), _n(r.arena_bytes), _n(r.stack_bytes),
                  _n(r.fits_board, "{}"), _n(r.matches_reference, "{}"))
    return t


def render_text(records: Iterable[RunRecord], width: int = 160) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=False, color_system=None).print(runs_table(records))
    return buf.getvalue()
