"""Fan charts of a run's metrics against generation, with theory's exact curves (``metrics.png``).

:func:`draw_fan` draws, on one panel, the median across replicates, the 50% and 90% bands and a
few individual replicates (or every replicate, thinly); :func:`draw_theory` overlays the exact
curves of :func:`modelcollapse.predict` without moving the panel's limits; :func:`metrics_figure`
is one panel per key metric of the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..views.run import choose_scale, metric_label, quantile_bands
from ..views.style import STYLE
from .canvas import (
    FigureRun,
    add_note,
    apply_scale,
    draw_lines,
    figure_legend,
    grid_shape,
    line_alpha,
    new_figure,
    nonfinite_name,
    on_scale,
    set_data_limits,
    truth_line,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.run import Result
    from ..theory.prediction import TheoryCurve




#: Individual replicates drawn over a fan chart's bands.
FAN_EXAMPLES = 5

#: Metrics drawn with the log rule (:func:`choose_scale`); the others always on a linear axis.
LOG_METRICS = frozenset({"var"})


def draw_fan(ax: Axes, values: np.ndarray, *, color: str = STYLE.main, log_rule: bool = False,
             what: str = "values", examples: int = FAN_EXAMPLES,
             all_lines: bool = False) -> list[Any]:
    """Median, 50% and 90% bands across replicates, and a few replicates, against generation.

    Parameters
    ----------
    ax
        Where to draw.
    values
        ``[replicate, generation]`` starting at generation 0.
    color
        Of the median and the bands.
    log_rule
        Use a log axis when the values span more than :data:`LOG_DECADES` decades
        (:func:`choose_scale`); otherwise always linear.
    what
        The quantity's name, for notes in the panel.
    examples
        Replicates drawn individually (the first ones; all of them if ``all_lines``).
    all_lines
        Draw every replicate as a thin translucent line, and a 5–95% band instead of two bands.

    Returns
    -------
    list
        Legend handles.
    """
    t = np.arange(values.shape[1], dtype=float)
    scale, floor = choose_scale(values) if log_rule else ("linear", None)
    percents = [5.0, 50.0, 95.0] if all_lines else [5.0, 25.0, 50.0, 75.0, 95.0]
    bands = on_scale(quantile_bands(values, percents), scale, floor)
    shown = on_scale(values, scale, floor)
    handles: list[Any] = []
    n = values.shape[0]
    k = n if all_lines else min(examples, n)
    if all_lines:
        draw_lines(ax, t, shown, color=color, alpha=line_alpha(n), linewidth=0.6)
        handles.append(Line2D([], [], color=color, alpha=0.5, lw=0.8,
                              label=f"each replicate ({n:,})"))
        ax.fill_between(t, bands[0], bands[2], color=color, alpha=0.18, lw=0, zorder=2)
        handles.append(Patch(color=color, alpha=0.18, label="5–95% of replicates"))
    else:
        ax.fill_between(t, bands[0], bands[4], color=color, alpha=0.16, lw=0, zorder=1)
        ax.fill_between(t, bands[1], bands[3], color=color, alpha=0.32, lw=0, zorder=1)
        handles += [Patch(color=color, alpha=0.16, label="90% of replicates (5–95%)"),
                    Patch(color=color, alpha=0.40, label="50% of replicates (25–75%)")]
        if k:
            draw_lines(ax, t, shown[:k], color=STYLE.example, alpha=0.55, linewidth=0.6,
                        zorder=2)
            handles.append(Line2D([], [], color=STYLE.example, alpha=0.55, lw=0.8,
                                  label=f"{k} individual replicate" + ("s" if k > 1 else "")))
    median = bands[len(percents) // 2]
    ax.plot(t, median, color=color, lw=2.0, zorder=3, solid_capstyle="round")
    handles.append(Line2D([], [], color=color, lw=2.0, label="median"))
    set_data_limits(ax, t, np.concatenate([bands.ravel(), shown[:k].ravel()]), scale)
    apply_scale(ax, scale, floor, what)
    bad = ~np.isfinite(values[:, -1])
    if bad.any():
        add_note(ax, f"{int(bad.sum()):,} of {n:,} replicates have {what} = "
                  f"{nonfinite_name(values[:, -1][bad])} at t = {values.shape[1] - 1:,}; "
                  "bands use finite values only", loc="upper right")
    return handles


def draw_theory(ax: Axes, curves: Sequence[TheoryCurve], *, what: str = "it") -> list[Any]:
    """Overlay exact curves on a panel whose limits are already set; return legend handles.

    Expectations are dashed, exact band edges dotted, both in :attr:`Style.theory`. The limits
    are kept (they describe the simulation): a curve that leaves the panel, as an expectation
    dominated by rare paths can, is clipped and a note says where it goes.
    """
    handles: list[Any] = []
    log = ax.get_yscale() == "log"
    low, high = ax.get_ylim()
    for curve in curves:
        t = np.arange(curve.values.size, dtype=float)
        line_style: dict[str, Any] = {"color": STYLE.theory, "zorder": 5}
        shown = np.where(curve.values > 0, curve.values, np.nan) if log else curve.values
        ax.plot(t, shown, lw=1.8, ls=(0, (5, 2.5)), **line_style)
        handles.append(Line2D([], [], lw=1.8, ls=(0, (5, 2.5)), label=curve.label, **line_style))
        if curve.lower is not None and curve.upper is not None:
            for edge in (curve.lower, curve.upper):
                edge_shown = np.where(edge > 0, edge, np.nan) if log else edge
                ax.plot(t, edge_shown, lw=1.2, ls=(0, (1, 1.6)), **line_style)
            handles.append(Line2D([], [], lw=1.2, ls=(0, (1, 1.6)), label=curve.band_label,
                                  **line_style))
        outside = np.isfinite(curve.values) & ((curve.values > high) | (curve.values < low))
        if outside.any():
            last = int(np.flatnonzero(np.isfinite(curve.values))[-1])
            add_note(ax, f"{curve.label} leaves the panel (reaches {curve.values[last]:.3g} at "
                      f"t = {last:,}: rare paths dominate the mean of {what})", loc="upper left")
    ax.set_ylim(low, high)
    return handles


def _no_theory_note(ax: Axes, run: FigureRun, metric: str) -> None:
    if run.prediction is not None and not run.theory(metric):
        # A right-hand title stays clear of the data wherever the curves run.
        ax.set_title("no exact result", loc="right", fontsize=STYLE.note_size,
                     color=STYLE.muted)


def metrics_figure(result: Result) -> Figure:
    """Fan charts of the family's key metrics, one panel each (``metrics.png``).

    Each panel shows the median across replicates, the 50% and 90% bands, a few replicates as
    thin lines, the truth's value (generation 0) as a dashed line, and theory's exact curves where
    :func:`modelcollapse.predict` has them (a note where it has none).
    """
    run = FigureRun.of(result)
    keys = list(run.config.key_metrics)
    nrows, ncols = grid_shape(len(keys), 3)
    fig, axes = new_figure(
        f"How the fitted {run.config.model.name} drifts over generations",
        run.subtitle(), panel_size=(4.6, 3.1), nrows=nrows, ncols=ncols)
    handles: list[Any] = []
    theory_handles: list[Any] = []
    seen: set[str] = set()
    for ax, metric in zip(axes, keys, strict=False):
        values = run.traj(metric)
        title, label = metric_label(metric)
        handles = draw_fan(ax, values, log_rule=metric in LOG_METRICS, what=metric)
        truth = truth_line(ax, float(values[0, 0]) if values.size else np.nan,
                            "truth (generation 0)")
        theory = draw_theory(ax, run.theory(metric), what=metric)
        _no_theory_note(ax, run, metric)
        theory_handles += [h for h in theory if h.get_label() not in seen]
        seen.update(h.get_label() for h in theory)
        ax.set_title(title, fontsize=STYLE.label_size + 1, loc="left")
        ax.set_ylabel(label, fontsize=STYLE.label_size)
        ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
        if truth is not None:
            handles = [*handles, truth]
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    figure_legend(fig, handles + theory_handles)
    return fig
