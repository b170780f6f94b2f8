"""A ``Comparison`` for the terminal: the deltas as a rich table, and plain lines for the rest.

Model, board and runtime names come from the records (the user's text): the table escapes them with
``rich.markup.escape``; the plain lines are for pytest's terminal summary, which does not parse markup.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from harness.report.compare import Comparison, Delta
from harness.report.gates import format_value


def _signed(delta: Delta) -> str:
    text = format_value(delta.delta)
    return text if text.startswith("-") else f"+{text}"


def _ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"x{ratio:.4f}"


def deltas_table(comparison: Comparison, title: str = "hilbench compare") -> Table:
    """Every delta, regressions first (in red), then the rest (changed ones in yellow)."""
    t = Table(title=title)
    for col, justify in [("model", "left"), ("board", "left"), ("runtime", "left"), ("metric", "left"),
                         ("old", "right"), ("new", "right"), ("delta", "right"), ("ratio", "right"),
                         ("limit", "left"), ("verdict", "left")]:
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for d in comparison.deltas:
        verdict = "REGRESSED" if d.regressed else ("changed" if d.delta else "same")
        style = "red" if d.regressed else ("yellow" if d.delta else None)
        t.add_row(escape(d.key.model_name), escape(d.key.board), escape(d.key.runtime), d.metric.value,
                  format_value(d.old), format_value(d.new), _signed(d), _ratio(d.ratio), d.limit or "-",
                  verdict, style=style)
    return t


def layer_lines(comparison: Comparison) -> list[str]:
    """Per changed pair, the layers whose instructions per inference changed most."""
    lines = []
    for pair in comparison.layer_changes:
        lines.append(f"{pair.key}: {pair.layers_changed} layer(s) changed; the most:")
        for c in pair.changes:
            old = "-" if c.old is None else f"{c.old:,}"
            new = "-" if c.new is None else f"{c.new:,}"
            lines.append(f"  layer {c.index} {c.op}: {old} -> {new} instructions ({c.delta:+,})")
    return lines


def unmatched_lines(comparison: Comparison) -> list[str]:
    lines = []
    if comparison.only_base:
        lines.append("only in the baseline (not run now): " + "; ".join(map(str, comparison.only_base)))
    if comparison.only_new:
        lines.append("only in the new runs (no baseline, not a regression): "
                     + "; ".join(map(str, comparison.only_new)))
    return lines


def regression_lines(comparison: Comparison) -> list[str]:
    """One line per regression: the pair, the metric, old and new value, ratio and limit."""
    return [str(r) for r in comparison.regressions]


def verdict_line(comparison: Comparison) -> str:
    checks = ", ".join(map(str, comparison.checks)) or "none (only status and bit-exactness)"
    n = len(comparison.regressions)
    head = f"{n} regression(s)" if n else "no regression"
    return f"{head} in {comparison.matched} matched run(s); checks: {checks}"


def summary_lines(comparison: Comparison, ref: str) -> list[tuple[str, bool]]:
    """Plain lines for pytest's terminal summary, each with whether it is a regression (printed red)."""
    lines = [(f"against {ref}: {verdict_line(comparison)}", not comparison.ok)]
    lines += [(f"regression: {line}", True) for line in regression_lines(comparison)]
    lines += [(line, False) for line in layer_lines(comparison) + unmatched_lines(comparison)]
    return lines
