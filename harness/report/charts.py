"""The report's plotly figures, built from ``RunsFrame`` tables (one row per run, one per layer).

Each figure is built with ``graph_objects`` and few traces: one per component, per board group or per
(model, board) series, never one per run, so 2,000 runs stay a few figures of arrays. Every string
from a record goes through ``markup.label`` before it becomes a category, a trace name or hover text.
Sizes are bytes; instructions are per inference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from harness.report.markup import base_layout, kib, label, value

HISTORY_METRICS = (("instructions_per_inference", "instructions / inference"), ("flash_bytes", "flash bytes"),
                   ("ram_bytes", "RAM bytes"), ("arena_bytes", "arena bytes"), ("code_bytes", "code bytes"),
                   ("stack_bytes", "stack high-water bytes"))
FLASH_PARTS = (("weights", "#4c78a8"), ("code", "#f58518"), ("other flash (.data, .ARM.exidx)", "#bab0ac"))
RAM_PARTS = (("arena", "#54a24b"), ("static RAM", "#b279a2"), ("stack high-water", "#e45756"),
             ("stack reserve unused", "#f2cfcf"))
LIMIT_COLOR = "#c00000"
SHARES_SHOWN = 16   # bars up to which the memory charts label each bar with its share of the board's limit
PALETTE = qualitative.D3 + qualitative.Dark24


def _i(x: Any) -> int:
    v = value(x)
    return 0 if v is None else int(v)


def flash_parts(r: Any) -> list[int]:
    """weights, code and the rest of flash (bytes) of a run row."""
    weights, code, total = _i(r.weights_bytes), _i(r.code_bytes), _i(r.flash_bytes)
    return [weights, code, max(total - weights - code, 0)]


def ram_parts(ram: int, arena: int, stack_used: int, stack_reserved: int,
              sections: Mapping[str, int] | None) -> tuple[list[int], str]:
    """arena, static RAM, stack high-water and unused stack reserve (bytes), and where static RAM came from.

    Static RAM is .data + .bss minus the arena when the ELF's sections are known, else the rest of RAM:
    RAM - arena - stack reserve.

    >>> ram_parts(27232, 10624, 380, 16388, {".data": 0, ".bss": 10844})
    ([10624, 220, 380, 16008], 'sections')
    >>> ram_parts(27232, 10624, 380, 16388, {})
    ([10624, 220, 380, 16008], 'rest')
    """
    if sections and ".bss" in sections:
        static, source = sections.get(".data", 0) + sections[".bss"] - arena, "sections"
    else:
        static, source = ram - arena - stack_reserved, "rest"
    unused = max(stack_reserved - stack_used, 0) if stack_reserved else 0
    return [arena, max(static, 0), stack_used, unused], source


def _x(rows: pd.DataFrame, multi_runtime: bool) -> list[list[str]]:
    boards = [label(f"{b} ({rt})" if multi_runtime else b) for b, rt in zip(rows["board"], rows["runtime"])]
    return [[label(m) for m in rows["model_name"]], boards]


def memory_figure(rows: pd.DataFrame, kind: str) -> go.Figure:
    """Stacked bars of flash (``kind="flash"``) or RAM per (model, board) row, with each board's limit.

    The y axis starts scaled to the bars; the "with limits" button rescales it to show every limit."""
    multi = rows["runtime"].nunique() > 1
    x = _x(rows, multi)
    parts_names = FLASH_PARTS if kind == "flash" else RAM_PARTS
    values: list[list[int]] = []
    for r in rows.itertuples(index=False):
        if kind == "flash":
            values.append(flash_parts(r))
        else:
            sections = r.sections if isinstance(r.sections, dict) else None
            values.append(ram_parts(_i(r.ram_bytes), _i(r.arena_bytes), _i(r.stack_bytes),
                                    _i(r.stack_reserved_bytes), sections)[0])
    fig = go.Figure(layout=base_layout(barmode="stack", hovermode="x unified", yaxis={"title": {"text": "bytes"}},
                                       title={"text": "Flash" if kind == "flash" else "RAM", "x": 0.01},
                                       xaxis={"automargin": True}, margin={"l": 70, "r": 20, "t": 70, "b": 30},
                                       legend={"orientation": "h", "x": 0.06, "y": 1.02, "yanchor": "bottom",
                                               "traceorder": "normal"}))
    for i, (name, color) in enumerate(parts_names):
        fig.add_trace(go.Bar(x=x, y=[v[i] for v in values], name=name, marker={"color": color},
                             hovertemplate="%{y:,} B"))
    totals = [_i(t) for t in rows[f"{kind}_bytes"]]
    limits = [_i(v) for v in rows[f"board_{kind}_bytes"]]
    shares = [f"{100 * t / lim:.1f}% of {kib(lim)}" if lim else "" for t, lim in zip(totals, limits)]
    few = len(totals) <= SHARES_SHOWN     # more labels than that overlap: the share is on hover only
    fig.add_trace(go.Scatter(x=x, y=totals, mode="text" if few else "markers", text=shares, textposition="top center",
                             marker={"opacity": 0}, name="total", showlegend=False,
                             hovertemplate="%{y:,} B (%{text})"))
    fig.add_trace(go.Scatter(x=x, y=[lim or None for lim in limits], mode="markers", name=f"the board's {'flash' if kind == 'flash' else 'RAM'} limit",
                             marker={"symbol": "line-ew", "size": 36, "line": {"width": 3, "color": LIMIT_COLOR}},
                             hovertemplate="%{y:,} B"))
    top_bar = max(totals, default=0) * 1.25 or 1
    top_all = max([top_bar, *limits]) * 1.05
    fig.update_layout(yaxis_range=[0, top_bar], updatemenus=[{
        "type": "buttons", "direction": "right", "x": 1, "y": 1.12, "xanchor": "right", "showactive": True,
        "buttons": [{"label": "scaled to usage", "method": "relayout", "args": [{"yaxis.range": [0, top_bar]}]},
                    {"label": "with limits", "method": "relayout", "args": [{"yaxis.range": [0, top_all]}]}]}])
    return fig


def layer_figure(layers: pd.DataFrame) -> go.Figure:
    """Instructions (cycles where no run of the model has instruction counts) per layer of one model;
    boards whose counts are identical share a trace."""
    counter = "instructions" if layers["instructions"].notna().any() else "cycles"
    fig = go.Figure(layout=base_layout(barmode="group", yaxis={"title": {"text": f"{counter} per layer"}},
                                       xaxis={"type": "category", "automargin": True}, showlegend=True,
                                       margin={"l": 70, "r": 20, "t": 20, "b": 40},
                                       legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}))
    groups: dict[tuple[Any, ...], list[str]] = {}
    runs: dict[tuple[Any, ...], pd.DataFrame] = {}
    for (board, runtime), g in layers.groupby(["board", "runtime"], sort=True):
        g = g.sort_values("index")
        key = (tuple(g["op"]), tuple(value(v) for v in g[counter]))
        groups.setdefault(key, []).append(str(board) if layers["runtime"].nunique() == 1 else f"{board} ({runtime})")
        runs.setdefault(key, g)
    for key, boards in groups.items():
        g = runs[key]
        counts = [value(v) for v in g[counter]]
        total = sum(c for c in counts if c)
        hover = []
        for macs, ipm, c in zip(g["macs"], g["instructions_per_mac"], counts):
            per_mac = "" if value(ipm) is None else f" · {value(ipm):.2f} insn/MAC"
            share = "" if not c or not total else f" · {100 * c / total:.1f}% of the layers"
            hover.append(f"{_i(macs):,} MACs{per_mac}{share}")
        fig.add_trace(go.Bar(x=[label(f"{i} {op}") for i, op in zip(g["index"], g["op"])], y=counts,
                             name=label(", ".join(boards)), hovertext=hover,
                             hovertemplate="layer %{x}: %{y:,} " + counter + "<br>%{hovertext}"))
    return fig


def op_share_figure(layers: pd.DataFrame) -> go.Figure:
    """Share of each operator type in the layers' instructions, one bar per model (boards with identical
    shares merged)."""
    counter = "instructions" if layers["instructions"].notna().any() else "cycles"
    sums = layers.groupby(["model_name", "board", "runtime", "op"], sort=True)[counter].sum()
    bars: dict[tuple[str, tuple[Any, ...]], list[str]] = {}
    shares: dict[tuple[str, tuple[Any, ...]], dict[str, float]] = {}
    for (model, board, _runtime), s in sums.groupby(level=[0, 1, 2], sort=True):
        total = float(s.sum())
        if not total:
            continue
        share = {str(op): 100 * float(v) / total for (_m, _b, _r, op), v in s.items()}
        key = (str(model), tuple(sorted(share.items())))
        bars.setdefault(key, []).append(str(board))
        shares[key] = share
    ylabels = [label(f"{model} · {', '.join(boards)}") for (model, _), boards in bars.items()]
    ops = sorted({op for share in shares.values() for op in share})
    fig = go.Figure(layout=base_layout(barmode="stack", xaxis={"title": {"text": f"% of {counter} in layers"}},
                                       yaxis={"automargin": True}, margin={"l": 20, "r": 20, "t": 20, "b": 40},
                                       legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}))
    for op in ops:
        fig.add_trace(go.Bar(y=ylabels, x=[shares[k].get(op, 0.0) for k in bars], orientation="h",
                             name=label(op), hovertemplate="%{x:.1f}%"))
    return fig


def history_figure(runs: pd.DataFrame) -> go.Figure:
    """Each of ``HISTORY_METRICS`` across runs by time, one trace per (model, board, runtime) per metric;
    a legend entry toggles a series in every panel. The commit is on hover."""
    fig = make_subplots(rows=len(HISTORY_METRICS), cols=1, shared_xaxes=True, vertical_spacing=0.035,
                        subplot_titles=[t for _, t in HISTORY_METRICS])
    fig.update_layout(**base_layout(height=170 * len(HISTORY_METRICS), hovermode="closest",
                                    legend={"orientation": "h", "y": -0.06}))
    multi = runs["runtime"].nunique() > 1
    ordered = runs.sort_values(["time", "run_id"], kind="stable")
    traces: list[go.Scatter] = []
    rows: list[int] = []
    for n, ((model, board, runtime), g) in enumerate(ordered.groupby(["model_name", "board", "runtime"], sort=True)):
        color = PALETTE[n % len(PALETTE)]
        name = label(f"{model} · {board}" + (f" ({runtime})" if multi else ""))
        times = g["time"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
        commits = [label(str(c)[:12]) for c in g["git_commit"]]
        for row, (metric, _) in enumerate(HISTORY_METRICS, start=1):
            ys = [value(v) for v in g[metric]]
            traces.append(go.Scatter(x=times, y=ys, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=row == 1, customdata=commits, connectgaps=True,
                                     line={"color": color}, marker={"color": color, "size": 5},
                                     hovertemplate="%{y:,}<br>commit %{customdata}<br>%{x}"))
            rows.append(row)
    fig.add_traces(traces, rows=rows, cols=[1] * len(rows))
    return fig


def tflm_figure(rows: Sequence[tuple[str, Sequence[float | None]]], metrics: Sequence[str],
                targets: Sequence[float]) -> go.Figure:
    """Ratios ours / TFLM per metric, one bar group per metric and one bar per (model, board) row, with
    each metric's target as a line (a ratio at or below it meets the target)."""
    fig = go.Figure(layout=base_layout(barmode="group", yaxis={"title": {"text": "ours / TFLite Micro"}},
                                       xaxis={"type": "category"}))
    for name, ratios in rows:
        fig.add_trace(go.Bar(x=list(metrics), y=list(ratios), name=label(name), hovertemplate="%{y:.3f}"))
    for i, bound in enumerate(targets):
        fig.add_shape(type="line", xref="x", yref="y", x0=i - 0.45, x1=i + 0.45, y0=bound, y1=bound,
                      line={"color": LIMIT_COLOR, "width": 2, "dash": "dash"})
        fig.add_annotation(x=i, y=bound, text=f"target ≤ {bound:g}", showarrow=False, yshift=10,
                           font={"color": LIMIT_COLOR})
    return fig
