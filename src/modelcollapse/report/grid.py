"""A sweep page's collapse speed across the grid, drawn as in ``sweep.png``.

:func:`speed_charts`, from the summary read through :class:`~modelcollapse.views.sweep.SweepView`:

one grid option varies
    The mean event time ± 2 SE and the median against it, beside theory's ``E[T | T ≤ G]`` and
    median; and the fraction of replicates with the event within the run ± 2 SE beside theory's
    ``P(T ≤ G)``.
two or more
    Heatmaps of the median event time and of the fraction within the run over the first two
    options, with the simulated and exact values in each cell and a menu over the values of the
    others; invalid combinations are marked and their reason shows on hover.
"""

from __future__ import annotations

import math
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sweeps.grid import show_value
from ..views.style import STYLE
from ..views.sweep import SweepView
from .figures import dropdown, figure, finite, layout
from .page import Chart, chart_text, typed

if TYPE_CHECKING:
    from ..views.sweep import SweepView


def _axis_spec(axis: Any) -> dict[str, Any]:
    """The x axis of an option: categories, or numbers ticked at the grid's own values."""
    if axis.scale == "categorical":
        return {"type": "category"}
    return {"type": axis.scale, "tickvals": [float(v) for v in axis.positions],
            "ticktext": [chart_text(v) for v in axis.labels]}


def speed_charts(view: SweepView) -> list[Chart]:
    """Collapse speed across the grid: lines for one varying option, heatmaps for more."""
    varying = [a for a in view.axes if len(a.keys) > 1]
    if not varying or view.event is None:
        return []
    if len(varying) == 1:
        return _speed_lines(view, varying[0])
    return _speed_heatmaps(view, varying)


def _speed_lines(view: SweepView, axis: Any) -> list[Chart]:
    i = view.axes.index(axis)
    order = sorted(range(len(view.keys)), key=lambda r: axis.keys.index(view.keys[r][i]))
    x = [axis.position(view.keys[r][i]) if axis.scale != "categorical"
         else show_value(view.keys[r][i]) for r in order]

    def col(stat: str, exact: bool = False) -> np.ndarray:
        return finite(view.ev(stat, exact=exact)[order])

    assert view.event is not None
    verb, noun, event = view.verb, view.event.name, view.event
    mean, se = col("time_mean"), col("time_se")
    time_data = [
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": typed(mean),
         "error_y": {"type": "data", "array": typed(np.nan_to_num(2 * se)), "visible": True,
                     "color": STYLE.main, "thickness": 1.2},
         "name": f"mean {noun} time ± 2 SE (replicates {verb} within the run)",
         "line": {"color": STYLE.main, "width": 2.2}, "marker": {"size": 7},
         "hovertemplate": "mean %{y:.4g} ± %{error_y.array:.2g}<extra></extra>"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": typed(col("time_median")),
         "name": "median", "line": {"color": STYLE.main, "width": 1.4, "dash": "dot"},
         "marker": {"size": 5, "symbol": "square"},
         "hovertemplate": "median %{y:.4g}<extra></extra>"},
    ]
    for stat, label, symbol in (("time_mean", "exact E[T | T ≤ G]", "diamond-open"),
                                ("time_median", "exact median", "x-thin-open")):
        exact = col(stat, exact=True)
        if np.isfinite(exact).any():
            time_data.append({"type": "scatter", "mode": "markers", "x": x, "y": typed(exact),
                              "name": label, "marker": {"color": STYLE.theory, "size": 11,
                                                        "symbol": symbol,
                                                        "line": {"width": 2,
                                                                 "color": STYLE.theory}},
                              "hovertemplate": f"{label}: %{{y:.4g}}<extra></extra>"})
    frac, frac_se = col("fraction"), col("fraction_se")
    frac_data = [{"type": "scatter", "mode": "lines+markers", "x": x, "y": typed(frac),
                  "error_y": {"type": "data", "array": typed(np.nan_to_num(2 * frac_se)),
                              "visible": True, "color": STYLE.main, "thickness": 1.2},
                  "name": f"{verb} within the run ± 2 SE",
                  "line": {"color": STYLE.main, "width": 2.2}, "marker": {"size": 7},
                  "hovertemplate": "%{y:.1%} ± %{error_y.array:.1%}<extra></extra>"}]
    exact = col("fraction", exact=True)
    if np.isfinite(exact).any():
        frac_data.append({"type": "scatter", "mode": "markers", "x": x, "y": typed(exact),
                          "name": "exact P(T ≤ G)",
                          "marker": {"color": STYLE.theory, "size": 11, "symbol": "diamond-open",
                                     "line": {"width": 2, "color": STYLE.theory}},
                          "hovertemplate": "exact %{y:.1%}<extra></extra>"})
    x_axis = _axis_spec(axis)
    title = axis.title
    # Times that span decades (the coin's grow like k) read better on a log axis.
    positive = mean[np.isfinite(mean) & (mean > 0)]
    log_y = positive.size > 1 and math.log10(positive.max() / positive.min()) > 1.5
    return [
        Chart("speed-time", f"How long until the models {event.plural_verb}, against {axis.name}",
              figure(time_data, layout(title, f"{noun} time T (generations)", log_y=log_y,
                                       xaxis=x_axis, hovermode="x unified")),
              f"{_definition(view)} The mean is over the replicates whose {noun} came within "
              "the run, so it estimates E[T | T ≤ G]; theory's exact value is the magenta "
              "diamond."),
        Chart("speed-fraction", f"How many replicates {verb} within the run, against "
                                f"{axis.name}",
              figure(frac_data, layout(title, f"fraction {verb} by the last generation",
                                       xaxis=x_axis,
                                       yaxis={"tickformat": ".0%", "range": [-0.03, 1.05]})),
              "Simulated fraction ± 2 SE, with theory's exact P(T ≤ G) in magenta where it "
              "has one."),
    ]


def _definition(view: SweepView) -> str:
    if view.event is None:
        return ""
    c = view.constant("collapse-fraction")
    text = view.event.defined(metric=view.collapse_metric(),
                              fraction="c" if c is None else show_value(c))
    return text[0].upper() + text[1:] + "."


def _speed_heatmaps(view: SweepView, varying: list[Any]) -> list[Chart]:
    xa, ya, rest = varying[0], varying[1], varying[2:]
    ix, iy = view.axes.index(xa), view.axes.index(ya)
    rest_index = [view.axes.index(a) for a in rest]
    panels = list(product(*(a.keys for a in rest))) or [()]
    horizon = view.horizon()
    stats = {name: finite(view.ev(name)) for name in
             ("time_median", "time_mean", "time_se", "fraction", "fraction_se")}
    exact = {name: finite(view.ev(name, exact=True)) for name in
             ("time_median", "time_mean", "fraction")}
    charts = []
    for what in ("time", "fraction"):
        data = []
        for p_i, panel in enumerate(panels):
            z = np.full((len(ya.keys), len(xa.keys)), np.nan)
            text = [["" for _ in xa.keys] for _ in ya.keys]
            hover = [["" for _ in xa.keys] for _ in ya.keys]
            for r, key in enumerate(view.keys):
                if tuple(key[i] for i in rest_index) != panel:
                    continue
                a, b = ya.keys.index(key[iy]), xa.keys.index(key[ix])
                z[a, b], text[a][b], hover[a][b] = _heat_cell(what, r, stats, exact, horizon,
                                                              view.verb)
            for key, reason in view.invalid.items():
                if tuple(key[i] for i in rest_index) != panel:
                    continue
                a, b = ya.keys.index(key[iy]), xa.keys.index(key[ix])
                text[a][b], hover[a][b] = "invalid", chart_text(reason)
            time = what == "time"
            data.append({
                "type": "heatmap", "x": [chart_text(v) for v in xa.labels],
                "y": [chart_text(v) for v in ya.labels], "z": typed(z),
                "text": text, "customdata": hover, "texttemplate": "%{text}",
                "textfont": {"size": 11}, "hoverongaps": True,
                "hovertemplate": f"{chart_text(xa.name)} = %{{x}}<br>{chart_text(ya.name)} = "
                                 "%{y}<br>%{customdata}<extra></extra>",
                # Dark red is bad in both: fast collapse, frequent collapse.
                "colorscale": [[0, "#bd0026"], [0.5, "#fd8d3c"], [1, "#ffffcc"]] if time else
                              [[0, "#ffffcc"], [0.5, "#fd8d3c"], [1, "#bd0026"]],
                "zmin": 0.0, "zmax": (1.0 if not time else float(np.nanmax(horizon))
                                      if np.isfinite(horizon).any() else None),
                "colorbar": {"title": {"text": "median T" if time else view.verb},
                             "thickness": 14, **({} if time else {"tickformat": ".0%"})},
                "visible": p_i == 0, "xgap": 2, "ygap": 2,
            })
        menus = []
        if len(panels) > 1:
            labels = [", ".join(f"{a.name} = {show_value(v)}" for a, v in zip(rest, panel,
                                                                              strict=True))
                      for panel in panels]
            menus = [dropdown(labels, [[i == j for i in range(len(panels))]
                                       for j in range(len(panels))], title="")]
        layout_ = layout(xa.title, ya.title, hovermode="closest", showlegend=False,
                         updatemenus=menus, xaxis={"type": "category", "showgrid": False},
                         yaxis={"type": "category", "showgrid": False},
                         plot_bgcolor="#ececec", margin={"t": 45})
        if what == "time":
            charts.append(Chart(
                "speed-time",
                f"Median {view.event.name if view.event else 'event'} time across the grid",
                figure(data, layout_),
                f"{_definition(view)} Each cell shows the simulated median and, beneath, "
                "theory's exact median where it has one; “> G” means fewer than half the "
                "replicates got there within the run."
                + (" Grey cells are invalid combinations (hover for the reason)."
                   if view.invalid else "")
                + (" Pick the other options' values in the menu." if menus else ""),
                height=480))
        else:
            charts.append(Chart(
                "speed-fraction", f"Fraction of replicates {view.verb} within the run",
                figure(data, layout_),
                "Simulated fraction, and beneath it theory's exact P(T ≤ G) where it has one. "
                "Hover for the standard error.", height=480))
    return charts


def _heat_cell(what: str, r: int, stats: dict[str, np.ndarray], exact: dict[str, np.ndarray],
               horizon: np.ndarray, verb: str) -> tuple[float, str, str]:
    """A heatmap cell's colour value, its text, and its hover text."""
    def num(x: float) -> str:
        return "–" if not math.isfinite(x) else f"{x:.3g}"

    fraction, fraction_se = stats["fraction"][r], stats["fraction_se"][r]
    hover = (f"{verb} within the run: {num(100 * fraction)}% ± {num(100 * fraction_se)}"
             f"<br>mean time {num(stats['time_mean'][r])} ± {num(stats['time_se'][r])}, "
             f"median {num(stats['time_median'][r])}")
    if math.isfinite(exact["fraction"][r]):
        hover += (f"<br>exact: {num(100 * exact['fraction'][r])}%, E[T | T ≤ G] "
                  f"{num(exact['time_mean'][r])}, median {num(exact['time_median'][r])}")
    if what == "time":
        median = stats["time_median"][r]
        g = horizon[r]
        if not math.isfinite(median):
            value, text = (g if math.isfinite(g) else np.nan), "> G"
        else:
            value, text = median, num(median)
        e = exact["time_median"][r]
        if math.isfinite(e):
            text += f"<br>{num(e)}"
        return float(value), text, hover
    text = "–" if not math.isfinite(fraction) else f"{100 * fraction:.0f}%"
    e = exact["fraction"][r]
    if math.isfinite(e):
        text += f"<br>{100 * e:.0f}%"
    return float(fraction), text, hover
