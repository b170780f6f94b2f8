r"""HTML building blocks of the report: escaping, numbers, the sortable table, an embedded plotly figure.

Every string that comes from a record (model, board, layer and tensor names, errors, commits, hosts) is
data, never markup. In HTML it goes through ``esc``. In a plotly label (trace names, tick labels, hover
text) it goes through ``label`` too, because plotly renders a subset of HTML tags there. A figure's JSON
is embedded with ``<``, ``>`` and ``&`` written as JSON escapes (``script_json``), so no string can close
the script element it sits in or open another.

>>> esc("<img src=x onerror=alert(1)>")
'&lt;img src=x onerror=alert(1)&gt;'
>>> script_json('{"name": "</script><b>"}')
'{"name": "\\u003c/script\\u003e\\u003cb\\u003e"}'
>>> num(1234567), num(None), num(float("nan")), num(2.5, ".2f")
('1,234,567', '-', '-', '2.50')
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

MISSING = "-"


def value(x: Any) -> Any:
    """``x`` as a plain Python value, or None for None, NaN, NaT and pandas' NA."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):  # numpy scalars
        x = x.item()
        return None if isinstance(x, float) and math.isnan(x) else x
    return x


def esc(text: object) -> str:
    """``text`` (a record's string, say) as HTML text or an attribute value: nothing in it is markup."""
    return html.escape(str(text), quote=True)


def label(text: object) -> str:
    """A string for a plotly label (trace name, category, hover text): escaped as in HTML, since plotly
    renders tags such as ``<b>`` and ``<a>`` there and decodes ``&lt;`` back to ``<`` for display."""
    return esc(text)


def script_json(text: str) -> str:
    """JSON ``text`` made safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` become
    ``\\u003c``, ``\\u003e`` and ``\\u0026``. JSON has these only inside strings, where the escapes mean
    the same characters to ``JSON.parse``."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def num(x: Any, fmt: str = ",.0f") -> str:
    """A number for a table cell (thousands separated; ``fmt`` as for ``format``), ``-`` when missing."""
    x = value(x)
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    return format(x, fmt)


def kib(n: Any) -> str:
    """Bytes as a short size (``1.5 KiB``, ``2 MiB``), ``-`` when missing.

    >>> kib(1536), kib(4_194_304), kib(-2048), kib(100)
    ('1.5 KiB', '4 MiB', '-2 KiB', '100 B')
    """
    n = value(n)
    if n is None:
        return MISSING
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}" if abs(n) < 1000 * size else f"{n / size:,.0f} {unit}"
    return f"{n:,.0f} B"


@dataclass(frozen=True)
class Cell:
    """One table cell: ``text`` is escaped here; ``markup`` is HTML already built from escaped parts.

    ``sort`` is the value the column sorts by (a number sorts numerically); ``cls`` a CSS class
    (``good``, ``bad``, ``muted``); ``title`` a tooltip."""

    text: str = MISSING
    sort: float | str | None = None
    cls: str = ""
    title: str = ""
    markup: str | None = None

    def html(self, tag: str = "td") -> str:
        attrs = ""
        if self.sort is not None:
            attrs += f' data-sort="{esc(self.sort)}"'
        if self.cls:
            attrs += f' class="{esc(self.cls)}"'
        if self.title:
            attrs += f' title="{esc(self.title)}"'
        return f"<{tag}{attrs}>{self.markup if self.markup is not None else esc(self.text)}</{tag}>"


def ncell(x: Any, fmt: str = ",.0f", cls: str = "", title: str = "") -> Cell:
    """A number cell: shown with ``fmt``, sorted by its value (missing values sort first)."""
    v = value(x)
    sort = float(v) if isinstance(v, (int, float)) else ""
    return Cell(num(v, fmt), sort=sort, cls=cls or ("muted" if v is None else ""), title=title)


def tcell(x: Any, cls: str = "", title: str = "") -> Cell:
    """A text cell; a missing value shows as ``-``."""
    v = value(x)
    return Cell(MISSING if v is None else str(v), cls=cls or ("muted" if v is None else ""), title=title)


def yes_no(x: Any, bad_when: bool | None = None) -> Cell:
    """``yes``/``no`` (``-`` when unknown); the cell is marked bad when the value is ``bad_when``."""
    v = value(x)
    if v is None:
        return Cell(MISSING, sort=-1, cls="muted")
    return Cell("yes" if v else "no", sort=int(bool(v)), cls="bad" if bad_when is not None and bool(v) == bad_when else "")


def table(columns: Sequence[str], rows: Iterable[Sequence[Cell]], numeric: Iterable[str] = (),
          caption: str = "", sortable: bool = True) -> str:
    """A table; with ``sortable`` a click on a header sorts by that column (the page's script).

    ``numeric`` names the right-aligned columns. Column names are escaped."""
    right = set(numeric)
    head = "".join(f'<th{" class=num" if c in right else ""} scope="col">{esc(c)}</th>' for c in columns)
    body = "\n".join("<tr>" + "".join(c.html() for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    cls = ' class="sortable"' if sortable else ""
    return f'<div class="scroll"><table{cls}>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>'


def figure(fig: go.Figure, fig_id: str, height: int = 420) -> str:
    """A placeholder ``div`` and the figure's JSON beside it; the page's script calls ``Plotly.newPlot``.

    ``fig_id`` is the report's own (``fig-memory-flash``), never a record's string."""
    spec = script_json(fig.to_json(validate=False))
    return (f'<div class="plot" id="{esc(fig_id)}" style="height:{int(height)}px"></div>\n'
            f'<script type="application/json" id="{esc(fig_id)}-json">{spec}</script>')


def base_layout(**layout: Any) -> dict[str, Any]:
    """A figure's layout without plotly.py's default template (kilobytes per figure), in the page's style."""
    base: dict[str, Any] = {
        "template": "none", "font": {"family": "system-ui, sans-serif", "size": 12},
        "margin": {"l": 70, "r": 20, "t": 40, "b": 60}, "hoverlabel": {"align": "left"},
        "legend": {"orientation": "h", "y": -0.18}, "paper_bgcolor": "white", "plot_bgcolor": "white",
    }
    base.update(layout)
    return base
