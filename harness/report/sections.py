"""The report's sections on our own runs: run matrix, memory, which boards a model fits, per layer, history.

Each builder takes the ``RunsFrame`` tables and returns a ``Section``: an id, a heading, a one-line
explanation (plain text, escaped when the page is written) and a body of HTML built from escaped parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from harness.boards import BoardSpec
from harness.report import charts
from harness.report.fits import fit_grid
from harness.report.markup import Cell, esc, figure, kib, ncell, table, tcell, value, yes_no
from harness.store.frame import RunsFrame, latest


@dataclass(frozen=True)
class Section:
    """One part of the page: ``id`` is its anchor, ``explain`` one line of plain text, ``body`` HTML."""

    id: str
    title: str
    explain: str
    body: str


def note(text: str) -> str:
    return f'<p class="muted">{esc(text)}</p>'


def _sized(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["flash_bytes"].notna() & runs["ram_bytes"].notna()]


MATRIX_COLUMNS = ("model", "board", "runtime", "status", "bit-exact", "insn/inference", "cycles/inference",
                  "latency µs", "latency source", "estimated", "flash B", "RAM B", "arena B", "stack B",
                  "fits board", "energy µJ", "energy source", "commit", "time (UTC)", "run")
MATRIX_NUMERIC = ("insn/inference", "cycles/inference", "latency µs", "flash B", "RAM B", "arena B", "stack B",
                  "energy µJ")


def run_matrix(frame: RunsFrame) -> Section:
    """The latest run of each (model, board, runtime) as a sortable table; failed ones with their error."""
    last = latest(frame.runs)
    rows = []
    for r in last.itertuples(index=False):
        ok = r.status == "ok"
        rows.append([
            tcell(r.model_name, title=f"{r.model} (model key {r.model_key})"), tcell(r.board), tcell(r.runtime),
            Cell(str(r.status), sort=str(r.status), cls="" if ok else "bad", title=str(value(r.error) or "")),
            yes_no(r.matches_reference, bad_when=False),
            ncell(r.instructions_per_inference), ncell(r.cycles_per_inference), ncell(r.latency_us, ",.1f"),
            tcell(r.latency_source), yes_no(r.latency_estimated),
            ncell(r.flash_bytes), ncell(r.ram_bytes), ncell(r.arena_bytes), ncell(r.stack_bytes),
            yes_no(r.fits_board, bad_when=False), ncell(r.energy_uj, ",.1f"), tcell(r.energy_source),
            tcell(str(r.git_commit)[:12], title=str(r.git_commit)),
            Cell(r.time.strftime("%Y-%m-%d %H:%M") if value(r.time) is not None else "-",
                 sort=str(r.time_utc)), tcell(r.run_id)])
    failed = last[last["status"] != "ok"]
    items = "".join(f"<li><b>{esc(r.model_name)}</b> on <b>{esc(r.board)}</b> ({esc(r.runtime)}): "
                    f'<span class="bad">{esc(r.status)}</span> <code>{esc(r.run_id)}</code>'
                    f"<pre>{esc(value(r.error) or 'no error message in the record')}</pre></li>"
                    for r in failed.itertuples(index=False))
    older = int((frame.runs["status"] != "ok").sum()) - len(failed)
    body = table(MATRIX_COLUMNS, rows, numeric=MATRIX_NUMERIC)
    if items:
        body += f'<h3 id="failed-runs">Failed runs ({len(failed)})</h3><ul class="failures">{items}</ul>'
    if older:
        body += note(f"{older} earlier failed run(s) are in the store; a later run of the same model, board "
                     "and runtime replaced each here.")
    return Section("run-matrix", "Run matrix",
                   f"The latest of {len(frame.runs):,} runs for each model × board × runtime "
                   f"({len(last)} rows); click a header to sort. Latency is instructions at the board's clock "
                   "where 'estimated' says yes.", body)


def memory(frame: RunsFrame) -> Section:
    """Stacked flash and RAM bars per (model, board), against each board's limits."""
    rows = latest(_sized(frame.runs))
    if rows.empty:
        return Section("memory", "Memory", "Flash and RAM of each model on each board.",
                       note("No run has sizes (every run failed before linking)."))
    from_sections = sum(isinstance(s, dict) and ".bss" in s for s in rows["sections"])
    how = ("static RAM is .data + .bss minus the arena, from the ELF's sections" if from_sections == len(rows)
           else f"static RAM is .data + .bss minus the arena from the ELF's sections ({from_sections} of "
                f"{len(rows)} runs), else RAM - arena - stack reserve")
    body = (figure(charts.memory_figure(rows, "flash"), "fig-memory-flash") +
            figure(charts.memory_figure(rows, "ram"), "fig-memory-ram"))
    return Section("memory", "Memory",
                   "Flash (weights, code, the rest) and RAM (arena, static RAM, stack high-water mark, unused "
                   f"stack reserve) of the latest run per model and board, in bytes; {how}. The red mark is "
                   "the board's limit (press 'with limits' to see it), the total's share of it is above the bar or "
                   "on hover.", body)


def fits(frame: RunsFrame, boards: Mapping[str, BoardSpec]) -> Section:
    """The model × board grid of flash and RAM margins, measured or estimated."""
    grid = fit_grid(frame.runs, boards)
    if not grid.rows:
        return Section("fits", "Fits which boards", "Flash and RAM margins of each model on each board.",
                       note("No run has sizes to compare with the boards."))
    rows = []
    for row in grid.rows:
        cells = [tcell(row[2])]
        for b in grid.boards:
            fit = grid.cells[(row[0], row[1], b.name)]
            if fit is None:
                cells.append(Cell())
                continue
            how = "measured" if fit.measured else f"est. from {fit.from_board}"
            title = (f"flash {fit.flash_need:,} of {fit.flash_limit:,} B, RAM {fit.ram_need:,} of "
                     f"{fit.ram_limit:,} B; {how} (run {fit.run_id})")
            markup = (f"flash {esc(_signed(fit.flash_margin))}<br>RAM {esc(_signed(fit.ram_margin))}"
                      f'<br><span class="tag">{esc("measured" if fit.measured else "estimated")}</span>')
            cells.append(Cell(sort=round(fit.tightest, 6), markup=markup, title=title,
                              cls=("good" if fit.fits else "bad") + ("" if fit.measured else " est")))
        rows.append(cells)
    columns = ["model", *(b.name for b in grid.boards)]
    return Section("fits", "Fits which boards",
                   "Free flash and RAM (board limit − need, compile-time sizes) of every model that ran anywhere "
                   "on every board; 'measured' where a run was built for that board, else estimated from a run "
                   "on another board (same core when possible) with this board's stack reserve.",
                   table(columns, rows, numeric=columns[1:]))


def _signed(n: int) -> str:
    return ("+" if n >= 0 else "−") + kib(abs(n))


def per_layer(frame: RunsFrame) -> Section:
    """Instructions per layer of the latest run of each (model, board), and the share of each operator."""
    ok = latest(frame.runs[frame.runs["status"] == "ok"])
    layers = frame.layers[frame.layers["run_id"].isin(set(ok["run_id"]))]
    if layers.empty:
        return Section("per-layer", "Per layer", "Instructions per layer of each model.",
                       note("No successful run has per-layer figures."))
    parts = []
    for n, (model, g) in enumerate(layers.groupby("model_name", sort=True)):
        fig = charts.layer_figure(g)
        parts.append(f"<h3>{esc(model)}</h3>" + figure(fig, f"fig-layers-{n}", height=360))
    share = charts.op_share_figure(layers)
    height = 120 + 32 * len(share.data[0].y) if share.data else 200
    parts.append("<h3>Share of each operator type</h3>" + figure(share, "fig-op-share", height=height))
    return Section("per-layer", "Per layer",
                   "Instructions (cycles where no instruction count exists) per layer in the latest successful "
                   "run of each model and board, with MACs and instructions per MAC on hover; boards with "
                   "identical counts share a bar.", "\n".join(parts))


def history(frame: RunsFrame) -> Section:
    """The main metrics across every stored run, by time, one line per (model, board)."""
    metrics = [m for m, _ in charts.HISTORY_METRICS]
    runs = frame.runs[frame.runs[metrics].notna().any(axis=1)]
    if runs.empty:
        return Section("history", "History", "The main metrics across stored runs.",
                       note("No run has figures to plot."))
    commits = runs["git_commit"].nunique()
    fig = charts.history_figure(runs)
    return Section("history", "History",
                   f"Instructions per inference and sizes across {len(runs):,} stored runs at {commits} commit(s), "
                   "by time, one line per model and board; hover for the commit; click a legend entry to hide "
                   "its line, double-click to show it alone.", figure(fig, "fig-history", height=int(fig.layout.height or 1000)))
