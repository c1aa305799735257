"""Plotly figure pieces shared by the run and sweep reports: layouts, bands, lines, theory.

Figures are plain dicts in Plotly's JSON schema (``{"data": [...], "layout": {...}}``), built
here rather than through ``plotly.graph_objects``: the report needs only Plotly's JavaScript, and
dicts with typed arrays stay small and fast for runs of thousands of generations. The colours are
those of the PNG figures (:data:`modelcollapse.views.style.STYLE`): blue for the simulation,
magenta for exact theory, black for the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..views.style import STYLE
from .page import chart_text, typed

if TYPE_CHECKING:
    from ..theory.prediction import TheoryCurve

#: Most points drawn along the generation axis; longer runs show every k-th generation.
MAX_POINTS = 1500
#: The label of the generation axis everywhere.
GENERATION = "generation t (fits since the truth)"


def rgba(color: str, alpha: float) -> str:
    """``#rrggbb`` as a CSS ``rgba()`` with opacity ``alpha``."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"


def thin(n: int, most: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``most`` evenly spread points of ``0..n-1``, always with the last."""
    if n <= most:
        return np.arange(n)
    step = int(np.ceil((n - 1) / (most - 1)))
    return np.unique(np.append(np.arange(0, n, step), n - 1))


def finite(values: Any) -> np.ndarray:
    """``values`` as floats with non-finite entries as NaN (drawn as gaps)."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array), array, np.nan)


def layout(x_title: str, y_title: str, *, log_y: bool = False, hovermode: str = "x unified",
           showlegend: bool = True, **extra: Any) -> dict[str, Any]:
    """The common layout: white, light grid, legend above the plot, zoomable on both axes."""
    axis = {"showgrid": True, "gridcolor": "#e6e6e6", "zeroline": False, "linecolor": "#999999",
            "ticks": "outside", "tickcolor": "#999999", "automargin": True}
    out: dict[str, Any] = {
        "xaxis": {**axis, "title": {"text": chart_text(x_title)}},
        "yaxis": {**axis, "title": {"text": chart_text(y_title)},
                  **({"type": "log"} if log_y else {})},
        "hovermode": hovermode,
        "showlegend": showlegend,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left",
                   "font": {"size": 11}},
        "margin": {"l": 70, "r": 20, "t": 30, "b": 55},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif",
                 "size": 12, "color": "#1b1b1b"},
        "hoverlabel": {"namelength": -1},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _x(x: Any) -> dict[str, Any]:
    array = np.asarray(x)
    if array.dtype.kind in "iu":  # generations: 4-byte integers
        return typed(array, "i4")
    return typed(finite(array))


def line(x: Any, y: Any, name: str, *, color: str, width: float = 2.0, dash: str = "solid",
         shape: str = "linear", group: str | None = None, showlegend: bool = True,
         hover: str | None = None, visible: bool | str = True, precise: bool = True,
         **extra: Any) -> dict[str, Any]:
    """A line trace; ``hover`` is its hover template (default: its name and the value).

    ``precise=False`` sends ``y`` as 4-byte floats (half the size; enough for a drawn line, not
    for values smaller than about 1e-38).
    """
    trace: dict[str, Any] = {
        "type": "scatter", "mode": "lines", "x": _x(x),
        "y": typed(finite(y), "f8" if precise else "f4"),
        "name": chart_text(name), "showlegend": showlegend, "visible": visible,
        "line": {"color": color, "width": width, "dash": dash, "shape": shape},
        "hovertemplate": hover or f"{chart_text(name)}: %{{y:.4g}}<extra></extra>",
    }
    if group is not None:
        trace["legendgroup"] = group
    trace.update(extra)
    return trace


def band(x: Any, lower: Any, upper: Any, name: str, *, color: str, alpha: float,
         group: str, hover_names: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """A filled band between two curves: two traces, the second filled to the first."""
    low_name, high_name = hover_names or (f"{name}, low", f"{name}, high")
    edge = {"color": rgba(color, 0.0), "width": 0}
    return [
        {"type": "scatter", "mode": "lines", "x": _x(x), "y": typed(finite(lower)),
         "line": edge, "legendgroup": group, "showlegend": False, "name": chart_text(low_name),
         "hovertemplate": f"{chart_text(low_name)}: %{{y:.4g}}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": _x(x), "y": typed(finite(upper)),
         "line": edge, "fill": "tonexty", "fillcolor": rgba(color, alpha), "legendgroup": group,
         "name": chart_text(name),
         "hovertemplate": f"{chart_text(high_name)}: %{{y:.4g}}<extra></extra>"},
    ]


def theory_traces(curves: Sequence[TheoryCurve], index: np.ndarray) -> list[dict[str, Any]]:
    """Theory's exact curves at generations ``index``: dashed magenta means, dotted band edges."""
    traces: list[dict[str, Any]] = []
    for i, curve in enumerate(curves):
        group = f"theory-{i}"
        values = np.asarray(curve.values, dtype=float)
        keep = index[index < values.size]
        traces.append(line(keep, values[keep], curve.label, color=STYLE.theory, width=1.8,
                           dash="dash", group=group))
        if curve.lower is not None and curve.upper is not None:
            name = curve.band_label or f"{curve.label}, band"
            for edge, which, show in ((curve.lower, "low", True), (curve.upper, "high", False)):
                edge_values = np.asarray(edge, dtype=float)
                traces.append(line(keep, edge_values[keep], name, color=STYLE.theory, width=1.2,
                                   dash="dot", group=f"{group}-band", showlegend=show,
                                   hover=f"{chart_text(name)}, {which}: %{{y:.4g}}"
                                         "<extra></extra>"))
    return traces


def figure(data: list[dict[str, Any]], layout_: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "layout": layout_}


def dropdown(labels: Sequence[str], visibility: Sequence[Sequence[bool]], *,
             title: str) -> dict[str, Any]:
    """An ``updatemenus`` entry switching which traces are visible (one button per label)."""
    return {
        "type": "dropdown", "direction": "down", "showactive": True, "active": 0,
        "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom", "pad": {"b": 4},
        "buttons": [{"label": chart_text(f"{title}{label}"), "method": "restyle",
                     "args": [{"visible": list(visible)}]}
                    for label, visible in zip(labels, visibility, strict=True)],
    }
