"""The HTML report: one self-contained file that works offline, opened by double-click (file://).

``render_report(frame, baseline)`` returns the page; ``write_report(path, frame, baseline)`` writes it and
returns what it holds (``ReportInfo``). plotly.js is inlined exactly once (``plotly.offline.get_plotlyjs``);
each figure's JSON sits beside its ``div`` and the page's own script calls ``Plotly.newPlot``. Nothing is
fetched: no CDN, no fonts, no MathJax, and a Content-Security-Policy allows only the page's two scripts
(by hash), inline styles and ``data:``/``blob:`` images, so a string from a record that got through as
markup still could not load or run anything. Every record string is escaped (``markup``).

Sections, each with an id: ``run-matrix``, ``memory``, ``fits``, ``per-layer``, ``history``, ``baseline``,
``tflm``, ``provenance``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.boards import BoardSpec, scan_boards
from harness.errors import StoreError
from harness.report import against, provenance, sections
from harness.report.compare import Baseline, Comparison, compare
from harness.report.gates import RegressionCheck
from harness.report.markup import esc
from harness.store.frame import RunsFrame, frame_of
from harness.store.record import RunRecord

DEFAULT_TITLE = "hilbench report"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header,main{max-width:1400px;margin:auto;padding:0 1.2em}
header{padding-top:1em}nav a{margin-right:1em}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.4em 1.2em 1em;margin:1em 0}
h1{margin:.2em 0}h2{margin:.5em 0 .1em}p.explain{margin:0 0 .8em;color:#555}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:13px;margin:.5em 0}
th,td{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:left;vertical-align:top;white-space:nowrap}
th{background:#f2f2f2;position:sticky;top:0}
table.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}th.num,td[data-sort]{text-align:right}
.bad{color:#b00020;font-weight:600}.worse{color:#b00020}.good,.better{color:#11772d}.muted{color:#888}
td.good,td.bad{font-weight:normal}td.bad{background:#fdecee}td.good{background:#eef8f0}td.est{font-style:italic}
.tag{font-size:11px;color:#666}pre{white-space:pre-wrap;margin:.2em 0;font-size:12px}
dt{font-weight:600;margin-top:.6em}dd{margin-left:1.2em}.plot{width:100%}
"""
SCRIPT = """
(function () {
  'use strict';
  function key(tr, col) {
    var c = tr.children[col];
    if (!c) return '';
    var s = c.getAttribute('data-sort');
    return s !== null ? s : c.textContent.trim();
  }
  function sortBy(th) {
    var row = th.parentNode, table = th.closest('table'), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(row.children, th);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(row.children, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (tr) { var k = key(tr, col); return k === '' || !isNaN(Number(k)); });
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col), r;
      if (numeric) {
        x = x === '' ? -Infinity : Number(x); y = y === '' ? -Infinity : Number(y);
        r = x < y ? -1 : (x > y ? 1 : 0);
      } else {
        r = x.localeCompare(y, undefined, {numeric: true});
      }
      return asc ? r : -r;
    });
    rows.forEach(function (tr) { body.appendChild(tr); });
  }
  document.querySelectorAll('table.sortable thead th').forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th); }
    });
  });
  var config = {displaylogo: false, responsive: true, typesetMath: false, showLink: false};
  document.querySelectorAll('div.plot').forEach(function (div) {
    try {
      var spec = JSON.parse(document.getElementById(div.id + '-json').textContent);
      Plotly.newPlot(div, spec.data, spec.layout, config);
    } catch (err) {
      div.textContent = 'This chart could not be drawn: ' + err;
    }
  });
})();
"""


@dataclass(frozen=True)
class ReportInfo:
    """What a report holds: counts of runs, models (by content), boards and commits; ``regressions`` and
    ``matched`` against the baseline (None without one); ``path`` and ``bytes`` once written."""

    runs: int
    models: int
    boards: int
    commits: int
    regressions: int | None = None
    matched: int | None = None
    path: Path | None = None
    bytes: int = 0

    def line(self) -> str:
        """One line for a terminal.

        >>> ReportInfo(12, 4, 2, 1, regressions=0, matched=8).line()
        '12 runs, 4 models, 2 boards, 1 commit; no regression in 8 matched runs vs the baseline'
        """
        text = ", ".join(_count(n, what) for n, what in ((self.runs, "run"), (self.models, "model"),
                                                         (self.boards, "board"), (self.commits, "commit")))
        if self.regressions is not None:
            verdict = f"{self.regressions} regression(s)" if self.regressions else "no regression"
            text += f"; {verdict} in {self.matched} matched runs vs the baseline"
        return text


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


@functools.cache
def plotly_js() -> str:
    """plotly.js, as plotly.py ships it (read once per process)."""
    from plotly.offline import get_plotlyjs

    js: str = get_plotlyjs()
    return js.replace("</script", "<\\/script")  # cannot close its own element (it has none today)


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def _csp(scripts: Sequence[str]) -> str:
    return ("default-src 'none'; script-src " + " ".join(_hash(s) for s in scripts) + "; "
            "style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'")


def distinct_names(frame: RunsFrame) -> RunsFrame:
    """``frame`` with one ``model_name`` per ``model_key``: a name two models share (two files called
    ``model.tflite``) gets the start of each one's key, so no chart merges them."""
    keys = frame.runs.groupby("model_name")["model_key"].nunique()
    shared = set(keys[keys > 1].index)
    if not shared:
        return frame

    def names(table: pd.DataFrame) -> list[str]:
        return [f"{n} [{str(k).removeprefix('id:')[:8]}]" if n in shared else str(n)
                for n, k in zip(table["model_name"], table["model_key"])]

    return dataclasses.replace(frame, runs=frame.runs.assign(model_name=names(frame.runs)),
                               layers=frame.layers.assign(model_name=names(frame.layers)))


def _info(frame: RunsFrame, comparison: Comparison | None) -> ReportInfo:
    runs = frame.runs
    return ReportInfo(runs=len(runs), models=runs["model_key"].nunique(), boards=runs["board"].nunique(),
                      commits=runs["git_commit"].nunique(),
                      regressions=None if comparison is None else len(comparison.regressions),
                      matched=None if comparison is None else comparison.matched)


def _build(frame: RunsFrame, baseline: RunsFrame | None, title: str, checks: Sequence[RegressionCheck],
           boards: Mapping[str, BoardSpec] | None, baseline_ref: str) -> tuple[str, ReportInfo]:
    if frame.runs.empty:
        raise StoreError(f"no runs to report{f' in {frame.source}' if frame.source else ''}")
    frame = distinct_names(frame)
    board_errors: list[str] = []
    if boards is None:
        scan = scan_boards()
        boards, board_errors = scan.boards, [str(e) for e in scan.errors]
    comparison = None if baseline is None else compare(baseline, frame, checks)
    info = _info(frame, comparison)
    parts = [sections.run_matrix(frame), sections.memory(frame), sections.fits(frame, boards),
             sections.per_layer(frame), sections.history(frame),
             against.baseline_section(comparison, (baseline_ref or baseline.source) if baseline else ""),
             against.tflm_section(frame.runs), provenance.provenance_section(frame, baseline, board_errors)]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{p.id}">{esc(p.title)}</a>' for p in parts)
    body = "\n".join(f'<section id="{p.id}"><h2>{esc(p.title)}</h2><p class="explain">{esc(p.explain)}</p>\n'
                     f"{p.body}\n</section>" for p in parts)
    js = plotly_js()
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_csp([js, SCRIPT])}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style></head>\n<body>\n"
            f"<header><h1>{esc(title)}</h1><p>{esc(info.line())}; generated {when}.</p><nav>{nav}</nav></header>\n"
            f"<main>\n{body}\n</main>\n<script>{js}</script>\n<script>{SCRIPT}</script>\n</body></html>\n")
    return page, info


def render_report(frame: RunsFrame, baseline: RunsFrame | None = None, title: str = DEFAULT_TITLE, *,
                  checks: Sequence[RegressionCheck] = (), boards: Mapping[str, BoardSpec] | None = None,
                  baseline_ref: str = "") -> str:
    """The report of ``frame``'s runs as one HTML page, against ``baseline`` when given.

    ``checks`` are the regression checks applied against the baseline (``gates.parse_fail_on``); without
    them only a lost ok status or bit-exactness is a regression. ``boards`` defaults to ``boards/``
    (``scan_boards``); ``baseline_ref`` is how the baseline was named (else its folder). Raises
    ``StoreError`` when ``frame`` holds no run.
    """
    return _build(frame, baseline, title, checks, boards, baseline_ref)[0]


def write_report(path: Path, frame: RunsFrame, baseline: RunsFrame | None = None, title: str = DEFAULT_TITLE, *,
                 checks: Sequence[RegressionCheck] = (), boards: Mapping[str, BoardSpec] | None = None,
                 baseline_ref: str = "") -> ReportInfo:
    """Write ``render_report``'s page to ``path`` (its folder is made); returns what it holds.

    Raises ``StoreError`` when there is no run or the file cannot be written (naming the path)."""
    page, info = _build(frame, baseline, title, checks, boards, baseline_ref)
    data = page.encode("utf-8")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise StoreError(f"cannot write the report {path}: {exc}") from exc
    return dataclasses.replace(info, path=path, bytes=len(data))


def write_session_report(path: Path, records: Sequence[RunRecord],
                         baseline: Baseline | None = None) -> list[tuple[str, bool]]:
    """The report of a pytest session's records (held in memory), against its ``--hil-compare`` baseline.

    Returns lines for the terminal summary, each with whether it is an error; never raises for a report
    that cannot be written (the session's own result stands)."""
    if not records:
        return [(f"hilbench report: not written to {path}: no run in this session", True)]
    frame = frame_of([(None, r) for r in records])
    try:
        if baseline is None:
            info = write_report(path, frame)
        else:
            info = write_report(path, frame, baseline.frame, checks=baseline.checks, baseline_ref=baseline.ref)
    except StoreError as exc:
        return [(f"hilbench report: not written: {exc}", True)]
    return [(f"hilbench report: {path} ({info.bytes:,} bytes)", False), (info.line(), False)]
