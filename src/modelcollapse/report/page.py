"""The HTML report as data, and its rendering into one self-contained page.

A report is a :class:`Page`: a title, a plain-words account of the experiment, a table of facts,
and :class:`Section` s holding paragraphs, :class:`Chart` s (Plotly figure dicts) and
:class:`Table` s. :func:`render` turns it into one HTML file with everything inlined: the styles,
Plotly's JavaScript and the figures as JSON, so the page opens in any browser without a network.

Escaping. Every text from the run (titles, option values, file names, sample texts) is written
through :func:`html.escape`; the figures' JSON goes into a ``<script type="application/json">``
block with ``<``, ``>``, ``&`` and the two JavaScript line separators written as ``\\uXXXX``
escapes, so no text can close the block; texts shown inside charts go through :func:`chart_text`,
because Plotly reads a few HTML tags in its labels. A Content-Security-Policy forbids the page any
connection, so even a mistake could not make it fetch something.

Large arrays travel as Plotly's typed-array specs (:func:`typed`: base64 of little-endian
floats), about a third of the size of decimal JSON and exact.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

#: What the page may load: only its own inline scripts and styles, and images it makes itself
#: (Plotly draws heatmaps into data: URLs). No connection of any kind.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; "
       "form-action 'none'")


@dataclass
class Chart:
    """One interactive chart.

    Attributes
    ----------
    id
        Unique within the page (an HTML id: letters, digits, ``-``).
    title
        Shown above the chart (plain text).
    figure
        A Plotly figure: ``{"data": [...], "layout": {...}}`` of JSON-able values and
        :func:`typed` arrays.
    caption
        Plain text under the chart: how to read it.
    height
        Pixels.
    """

    id: str
    title: str
    figure: dict[str, Any]
    caption: str = ""
    height: int = 380


@dataclass
class Table:
    """A table of plain-text cells; ``numeric`` columns are right-aligned and sort as numbers.

    Attributes
    ----------
    columns
        Header texts.
    rows
        Cell values (``None`` shows as "–"; floats are shown with 4 significant digits).
    numeric
        Indices of numeric columns.
    caption
        Plain text above the table.
    sortable
        Clicking a header sorts the rows by that column.
    links
        ``{(row, column): href}``: cells that are links (relative paths).
    """

    columns: list[str]
    rows: list[list[Any]]
    numeric: set[int] = field(default_factory=set)
    caption: str = ""
    sortable: bool = False
    links: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass
class Preformatted:
    """A block of monospaced text (the run's printed summary)."""

    text: str


@dataclass
class Section:
    """A titled part of the page: paragraphs, then charts, tables and text blocks in order."""

    id: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: Sequence[Chart | Table | Preformatted] = field(default_factory=list)


@dataclass
class Page:
    """A whole report.

    Attributes
    ----------
    title
        The page's heading and ``<title>``.
    lede
        Paragraphs saying, in plain words, what was simulated.
    facts
        ``(label, value)`` pairs: family, truth, policy, sizes, seed, version, ...
    sections
        In page order.
    footer
        One line at the bottom (version, when the page was made).
    """

    title: str
    lede: list[str]
    facts: list[tuple[str, str]]
    sections: list[Section]
    footer: str = ""

    def charts(self) -> list[Chart]:
        return [item for s in self.sections for item in s.items if isinstance(item, Chart)]


# -- values for the figures ----------------------------------------------------------------------


def typed(values: Any, dtype: str = "f8") -> dict[str, Any]:
    """A Plotly typed-array spec of ``values`` (``"f8"``, ``"f4"``, ``"i4"``; 1-D or 2-D).

    Non-finite floats stay as they are: Plotly draws NaN as a gap.
    """
    array = np.ascontiguousarray(np.asarray(values, dtype={"f8": "<f8", "f4": "<f4",
                                                           "i4": "<i4"}[dtype]))
    spec: dict[str, Any] = {"dtype": dtype, "bdata": base64.b64encode(array.data).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def chart_text(text: str) -> str:
    """``text`` safe to show in a Plotly label (Plotly reads ``<br>``, ``<b>``, ... in labels)."""
    return html.escape(str(text), quote=False)


def fmt(value: Any, digits: int = 4) -> str:
    """A cell's text: 4 significant digits for floats, thousands separators for integers."""
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable in a figure: {type(value).__name__}")


def script_json(data: Any) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9."""
    text = json.dumps(data, default=_json_default, allow_nan=False, separators=(",", ":"),
                      ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


# -- rendering -----------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("modelcollapse.report").joinpath("assets", name).read_text("utf-8")


def document_head(title: str, css: str) -> list[str]:
    """The lines of a self-contained page up to its ``<body>``: the Content-Security-Policy
    (:data:`CSP`), the escaped ``title`` and the styles ``css`` inlined."""
    return ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>", f"<style>{css}</style>", "</head>"]


def inline_script(code: str) -> str:
    """``code`` as an inline ``<script>`` element that no string inside it can end early."""
    # "</script" would end the element early; "<\/script" means the same inside JS strings.
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def _table(table: Table) -> str:
    e = html.escape
    sortable = " sortable" if table.sortable else ""
    head = "".join(f'<th{" class=num" if i in table.numeric else ""} scope="col">{e(c)}</th>'
                   for i, c in enumerate(table.columns))
    body = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, value in enumerate(row):
            text = e(fmt(value))
            if (r, c) in table.links:
                text = f'<a href="{e(table.links[(r, c)])}">{text}</a>'
            if c in table.numeric:
                key = "" if value is None or (isinstance(value, float) and math.isnan(value)) \
                    else f' data-sort="{float(value)!r}"'
                cells.append(f"<td class=num{key}>{text}</td>")
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{e(table.caption)}</caption>" if table.caption else ""
    return (f'<div class="table-wrap"><table class="data{sortable}">{caption}<thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _item(item: Chart | Table | Preformatted) -> str:
    e = html.escape
    if isinstance(item, Chart):
        caption = f'<p class="caption">{e(item.caption)}</p>' if item.caption else ""
        return (f'<figure class="chart-box"><figcaption>{e(item.title)}</figcaption>'
                f'<div class="mc-chart" id="{e(item.id)}" data-title="{e(item.title)}" '
                f'style="height:{int(item.height)}px"></div>{caption}</figure>')
    if isinstance(item, Table):
        return _table(item)
    return f"<pre>{e(item.text)}</pre>"


def render(page: Page, plotly_js: str) -> str:
    """The page as one HTML document, with ``plotly_js`` (Plotly's bundle) inlined."""
    e = html.escape
    ids = [c.id for c in page.charts()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"chart ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
    nav = "".join(f'<a href="#{e(s.id)}">{e(s.heading)}</a>' for s in page.sections)
    facts = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in page.facts)
    sections = []
    for s in page.sections:
        paragraphs = "".join(f"<p>{e(p)}</p>" for p in s.paragraphs)
        items = "".join(_item(i) for i in s.items)
        sections.append(f'<section id="{e(s.id)}"><h2>{e(s.heading)}</h2>{paragraphs}{items}'
                        "</section>")
    figures = {c.id: c.figure for c in page.charts()}
    lede = "".join(f'<p class="lede">{e(p)}</p>' for p in page.lede)
    return "\n".join([
        *document_head(page.title, _asset("report.css")),
        "<body>",
        f'<header><h1 id="report-title">{e(page.title)}</h1>{lede}'
        f'<dl class="facts">{facts}</dl></header>',
        f"<nav>{nav}</nav>",
        f"<main>{''.join(sections)}</main>",
        f"<footer>{e(page.footer)}</footer>",
        f'<script type="application/json" id="mc-figures">{script_json(figures)}</script>',
        inline_script(plotly_js),
        inline_script(_asset("report.js")),
        "</body>",
        "</html>",
        "",
    ])


def colors(n: int, palette: Sequence[str]) -> list[str]:
    """``n`` colours cycling through ``palette``."""
    return [palette[i % len(palette)] for i in range(n)]
