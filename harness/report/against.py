"""The report's comparisons: against a baseline (``compare.Comparison``) and against TFLite Micro (DESIGN §7).

Both return a ``sections.Section``. Deltas are new - old and ratios new / old; against TFLM a ratio is
ours / TFLM's and a target is met at or below its bound (``baselines.TARGETS``, checked exactly by
``bench.check``).
"""

from __future__ import annotations

import pandas as pd

from harness.boards import DEFAULT_BOARD
from harness.report import charts
from harness.report.baselines import CORE, MACHINE, SOURCE, TARGETS, TFLM
from harness.report.bench import Check, check
from harness.report.compare import Comparison, Delta
from harness.report.compare_text import verdict_line
from harness.report.fits import core_of
from harness.report.gates import format_value
from harness.report.markup import Cell, esc, figure, ncell, table, tcell, value
from harness.report.sections import Section, note
from harness.store.frame import latest

NO_BASELINE = ("No baseline given. Give one with `hilbench report RESULTS --baseline REF` (REF: a results folder, "
               "or a run id or git commit in RESULTS), or run pytest with `--hil-compare REF --hil-report PATH`.")
LAYER_COLUMNS = ("model", "board", "runtime", "layers changed", "layer", "op", "old instructions",
                 "new instructions", "delta")
DELTA_COLUMNS = ("model", "board", "runtime", "metric", "old", "new", "delta", "ratio", "limit", "verdict")


def _delta_row(d: Delta) -> list[Cell]:
    worse = d.delta > 0            # every metric is lower-is-better (gates.Metric)
    cls = "bad" if d.regressed else ("worse" if worse else "better")
    verdict = "REGRESSED" if d.regressed else ("worse" if worse else "better")
    sign = "+" if d.delta > 0 else ""
    return [tcell(d.key.model_name), tcell(d.key.board), tcell(d.key.runtime), tcell(d.metric.value),
            Cell(format_value(d.old), sort=float(d.old)), Cell(format_value(d.new), sort=float(d.new)),
            Cell(sign + format_value(d.delta), sort=float(d.delta), cls=cls),
            ncell(d.ratio, ".4f", cls=cls), tcell(d.limit or None), Cell(verdict, cls=cls)]


def baseline_section(comparison: Comparison | None, ref: str) -> Section:
    """Deltas against the baseline, regressions first, and the layers whose cost changed most."""
    if comparison is None:
        return Section("baseline", "Against the baseline", "Deltas against a baseline set of runs.", note(NO_BASELINE))
    changed = [d for d in comparison.deltas if d.delta or d.regressed]
    changed.sort(key=lambda d: (not d.regressed, -abs((d.ratio or 2.0) - 1)))
    same = len(comparison.deltas) - len(changed)
    verdict = verdict_line(comparison)
    parts = [f'<p class="{"bad" if comparison.regressions else "good"}"><b>{esc(verdict)}</b></p>']
    if comparison.regressions:
        parts.append('<ul class="failures">' + "".join(f"<li>{esc(r)}</li>" for r in comparison.regressions)
                     + "</ul>")
    if changed:
        parts.append(table(DELTA_COLUMNS, [_delta_row(d) for d in changed], numeric=("old", "new", "delta", "ratio")))
    parts.append(note(f"{same} metric(s) of the {comparison.matched} matched run(s) are unchanged."
                      if changed else f"No metric changed in the {comparison.matched} matched run(s)."))
    if comparison.layer_changes:
        rows = [[tcell(pair.key.model_name), tcell(pair.key.board), tcell(pair.key.runtime),
                 ncell(pair.layers_changed), ncell(c.index), tcell(c.op), ncell(c.old), ncell(c.new),
                 Cell(f"{c.delta:+,}", sort=c.delta, cls="worse" if c.delta > 0 else "better")]
                for pair in comparison.layer_changes for c in pair.changes]
        parts.append("<h3>The layers whose cost changed most</h3>" + table(LAYER_COLUMNS, rows, numeric=LAYER_COLUMNS[3:]))
    for keys, what in ((comparison.only_base, "only in the baseline (not run now)"),
                       (comparison.only_new, "only in these runs (no baseline, not a regression)")):
        if keys:
            parts.append(f"<p>{esc(what)}: " + "; ".join(esc(k) for k in keys) + "</p>")
    return Section("baseline", "Against the baseline",
                   f"These runs against the baseline {ref}: red is worse (a regression is a failed check or a "
                   "run that was ok or bit-exact and is not now), green better; ratio is new / old.",
                   "\n".join(parts))


TFLM_COLUMNS = ("model", "board", "core", "insn/inference", "insn/MAC", "TFLM ref insn",
                f"vs ref ≤ {TARGETS.instructions_vs_tflm_ref:g}", "TFLM+CMSIS-NN insn", "vs CMSIS-NN", "arena B",
                "TFLM arena B", f"vs arena ≤ {TARGETS.arena_vs_tflm:g}", "code B", "TFLM+CMSIS-NN code B",
                f"vs code ≤ {TARGETS.code_vs_tflm_cmsis:g}")


def _ratio_cell(c: Check) -> Cell:
    if c.ratio is None:
        return Cell(sort="")
    return Cell(f"{c.ratio:.3f} " + ("pass" if c.passed else "MISSED"), sort=c.ratio,
                cls="good" if c.passed else "bad")


def _int(x: object) -> int | None:
    v = value(x)
    return None if v is None else int(v)


def tflm_section(runs: pd.DataFrame) -> Section:
    """The MLPerf Tiny models beside TFLite Micro's figures, with ratios and the targets."""
    ours = latest(runs[(runs["status"] == "ok") & runs["model_name"].isin(list(TFLM))])
    explain = (f"The MLPerf Tiny models ({', '.join(TFLM)}) beside TFLite Micro's figures (DESIGN §7, {CORE} on "
               f"{MACHINE}); a ratio is ours / TFLM's, a target is met at or below its bound.")
    if ours.empty:
        return Section("tflm", "Against TFLite Micro", explain,
                       note(f"None of {', '.join(TFLM)} ran successfully here; `hilbench bench` runs them."))
    rows = []
    chart: dict[str, tuple[tuple[int, float], tuple[str, list[float | None]]]] = {}  # model -> (order, bar)
    for r in ours.itertuples(index=False):
        base = TFLM[str(r.model_name)]
        insn = _int(r.instructions_per_inference)
        checks = (check("instructions_per_inference", insn, base.tflm_ref_insn, TARGETS.instructions_vs_tflm_ref),
                  check("arena_bytes", _int(r.arena_bytes), base.tflm_arena_bytes, TARGETS.arena_vs_tflm),
                  check("code_bytes", _int(r.code_bytes), base.tflm_cmsis_code_bytes, TARGETS.code_vs_tflm_cmsis))
        core = core_of(r.provenance)
        vs_cmsis = None if insn is None else insn / base.tflm_cmsis_insn
        per_mac = None if insn is None or not _int(r.macs) else insn / int(r.macs)
        rows.append([tcell(r.model_name), tcell(r.board),
                     tcell(core, cls="" if core == CORE else "muted",
                           title="" if core == CORE else f"TFLM's figures are {CORE}: a different core"),
                     ncell(insn), ncell(per_mac, ".2f"), ncell(base.tflm_ref_insn), _ratio_cell(checks[0]),
                     ncell(base.tflm_cmsis_insn), ncell(vs_cmsis, ".2f"), ncell(checks[1].ours),
                     ncell(base.tflm_arena_bytes), _ratio_cell(checks[1]), ncell(checks[2].ours),
                     ncell(base.tflm_cmsis_code_bytes), _ratio_cell(checks[2])])
        # one bar group per model: the default board (TFLM's machine) first, then any board of TFLM's core
        rank = 0 if r.board == DEFAULT_BOARD else (1 if core == CORE else 2)
        order = (rank, -r.time.timestamp() if value(r.time) is not None else 0.0)
        if r.model_name not in chart or order < chart[r.model_name][0]:
            chart[r.model_name] = (order, (f"{r.model_name} ({r.board})", [c.ratio for c in checks]))
    metrics = ("instructions / TFLM reference", "arena / TFLM arena", "code / TFLM+CMSIS-NN code")
    bounds = (TARGETS.instructions_vs_tflm_ref, TARGETS.arena_vs_tflm, TARGETS.code_vs_tflm_cmsis)
    fig = charts.tflm_figure([bar for _, bar in chart.values()], metrics, bounds)
    which = (f"one run per model: on {DEFAULT_BOARD} ({MACHINE}, as TFLM's figures) when there is one, else on a "
             f"{CORE} board, else the latest")
    body = (table(TFLM_COLUMNS, rows, numeric=[c for c in TFLM_COLUMNS if c not in ("model", "board", "core")])
            + f'<p class="muted">The chart shows {esc(which)}. TFLM: {esc(SOURCE)}.</p>'
            + figure(fig, "fig-tflm", height=380))
    return Section("tflm", "Against TFLite Micro", explain, body)
