"""A run page's scatter of training points per generation (families with points in the plane).

:func:`scatter_section` draws replicate 0's training points at the run's pictured generations
(:func:`modelcollapse.loop.pictured_generations`, at most 500 points each) as small multiples in
one interactive chart: the truth's panel first, every panel with the same limits, and the axes
linked, so zooming into one panel zooms them all. The panels, limits and words are those of
``scatter.png`` (:func:`modelcollapse.views.scatter.scatter_view`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..views.run import plural
from ..views.scatter import ScatterView, point_alpha, scatter_view
from ..views.style import STYLE
from .figures import figure, layout
from .page import Chart, Section, chart_text, typed

if TYPE_CHECKING:
    from ..results.run import Result

#: Most panels in one row of the chart.
MAX_COLUMNS = 4
#: Pixels per row of panels.
ROW_HEIGHT = 270


def _domains(n: int, gap: float) -> list[tuple[float, float]]:
    """``n`` equal intervals of ``[0, 1]`` with ``gap`` between them."""
    width = (1.0 - gap * (n - 1)) / n
    return [(i * (width + gap), i * (width + gap) + width) for i in range(n)]


def scatter_chart(view: ScatterView) -> Chart:
    """One Plotly chart holding a panel per pictured generation, axes shared and linked."""
    n = len(view.panels)
    ncols = min(n, MAX_COLUMNS) if n != 4 else 2
    nrows = math.ceil(n / ncols)
    columns = _domains(ncols, 0.045)
    rows = _domains(nrows, 0.16 if nrows > 1 else 0.0)[::-1]  # row 0 at the top
    base = layout("x", "y", hovermode="closest", showlegend=False,
                  margin={"l": 60, "r": 20, "t": 34, "b": 50})
    axis_style = {k: v for k, v in base["xaxis"].items() if k != "title"}
    data: list[dict[str, Any]] = []
    annotations = []
    for i, panel in enumerate(view.panels):
        row, col = divmod(i, ncols)
        suffix = "" if i == 0 else str(i + 1)
        truth = panel.generation == 0
        points = panel.points
        data.append({
            "type": "scatter", "mode": "markers", "name": chart_text(panel.label),
            "x": typed(points[:, 0]), "y": typed(points[:, 1]),
            "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
            "marker": {"size": 4, "color": STYLE.truth if truth else STYLE.main,
                       "opacity": point_alpha(points.shape[0]), "line": {"width": 0}},
            "hovertemplate": f"{chart_text(panel.label)}<br>x = %{{x:.4g}}<br>"
                             "y = %{y:.4g}<extra></extra>"})
        bottom = i + ncols >= n
        base[f"xaxis{suffix}"] = {
            **axis_style, "domain": list(columns[col]), "anchor": f"y{suffix}",
            "range": list(view.x_range), **({"matches": "x"} if i else {}),
            "title": {"text": "x" if bottom else ""}}
        base[f"yaxis{suffix}"] = {
            **axis_style, "domain": list(rows[row]), "anchor": f"x{suffix}",
            "range": list(view.y_range), **({"matches": "y"} if i else {}),
            "title": {"text": "y" if col == 0 else ""}}
        note = f" · {panel.dropped:,} not finite" if panel.dropped else ""
        annotations.append({
            "text": chart_text(f"{panel.label} · {points.shape[0]:,} points{note}"),
            "x": columns[col][0], "y": rows[row][1], "xref": "paper", "yref": "paper",
            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 12, "color": STYLE.truth if truth else STYLE.main}})
    base["annotations"] = annotations
    most = max(p.points.shape[0] + p.dropped for p in view.panels)
    caption = (f"Replicate 0's training points: {plural(most, 'point')} evenly spaced through "
               "the truth's sample (black), then through the first sample drawn from each pictured "
               "generation's model (blue). Every panel has the same limits; zoom into one and "
               "all follow, double-click to reset. All of them are in points.parquet.")
    if view.dropped:
        caption += (f" {plural(view.dropped, 'point')} that are not finite (a model that blew "
                    "up) are not drawn.")
    return Chart("scatter-points", f"Training points at generations {view.generations_text()}",
                 figure(data, base), caption, height=ROW_HEIGHT * nrows + 70)


def scatter_section(result: Result) -> Section | None:
    """The section of a run whose family has points in the plane (``None`` otherwise)."""
    view = scatter_view(result.point_sets())
    if view is None:
        return None
    family = result.config.model.name
    return Section("scatter", "Points, generation by generation", [
        f"What the {family} model's samples look like: one panel per pictured generation "
        f"({view.generations_text()}), the truth's first. Watch the cloud shrink, drift, "
        "spread or lose its clusters as each model is fitted to the previous one's output."],
        [scatter_chart(view)])
