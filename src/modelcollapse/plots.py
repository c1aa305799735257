"""Figures of a run, written as PNG files by :func:`plot_run`.

Every family gets ``metrics.png``, a fan chart of its key metrics. The Gaussian mixture adds
``variance.png`` (each component's fitted variance) and ``density.png`` (truth against the fitted
mixtures after the first and the last generation); the coin adds ``paths.png`` (the fan of rollouts)
and ``absorbed.png`` (the fraction of rollouts absorbed at 0 or 1 by each generation).

Each figure also has a builder that returns the :class:`matplotlib.figure.Figure` unsaved
(:func:`metrics_figure`, :func:`variance_figure`, :func:`density_figure`, :func:`paths_figure`,
:func:`absorbed_figure`), so notebooks and the report can add to it. The absorption figure takes
extra labelled curves (:class:`Curve`).

Wherever :func:`modelcollapse.predict` has an exact result for the run's configuration, the figures
draw it beside the simulation in one colour (:attr:`Style.theory`), labelled "exact": dashed lines
for expectations, dotted lines for exact bands. A panel whose metric theory does not cover says so.

Figures are built with the object API (:class:`~matplotlib.figure.Figure` on an Agg canvas), never
through :mod:`matplotlib.pyplot`: nothing needs a display and no figure stays registered in pyplot's
global list, so long sessions do not leak memory. Many thin lines are drawn as one
:class:`~matplotlib.collections.LineCollection`, which keeps a 500-replicate figure fast.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

# The numbers and the look are shared with the HTML report; the public ones are re-exported here.
from .figure_data import (
    LOG_DECADES,
    LOG_FLOOR,
    METRIC_LABELS,
    STYLE,
    RunView,
    Style,
    _plural,
    absorbed_fractions,
    choose_scale,
    metric_label,
    mixture_density,
    quantile_bands,
    replicates_text,
    theory_pieces_real,
)

__all__ = ["LOG_DECADES", "LOG_FLOOR", "METRIC_LABELS", "STYLE", "Curve", "Style",
           "absorbed_figure", "absorbed_fractions", "choose_scale", "density_figure",
           "draw_absorbed", "draw_fan", "draw_theory", "metric_label", "metrics_figure",
           "mixture_density", "paths_figure", "plot_run", "quantile_bands", "replicates_text",
           "save_figure", "theory_pieces_real", "variance_figure"]

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from .prediction import TheoryCurve
    from .results import Result

#: Most replicates drawn as individual lines (a run keeps at most this many trajectories anyway,
#: see :data:`modelcollapse.api.PLOT_REPLICATES`; a loaded run may hold more).
MAX_LINES = 500
#: Resolution of every PNG.
DPI = 150
#: Individual replicates drawn over a fan chart's bands.
FAN_EXAMPLES = 5
#: Fitted densities higher than this multiple of the truth's peak are clipped in ``density.png``.
DENSITY_CLIP = 3.0
#: ``density.png`` spans the x where some density exceeds this fraction of the truth's peak.
DENSITY_VISIBLE = 2e-3
#: Narrowest figure, in inches (room for the title and the subtitle).
MIN_WIDTH = 8.0
#: Metrics drawn with the log rule (:func:`choose_scale`); the others always on a linear axis.
LOG_METRICS = frozenset({"var"})


# -- style -----------------------------------------------------------------------------------


def _style_axes(ax: Axes, *, integer_x: bool = True) -> None:
    """Grid, spines and tick sizes, set on the axes themselves (independent of ``rcParams``)."""
    ax.grid(True, color=STYLE.grid, linewidth=0.6, alpha=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=STYLE.tick_size)
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _line_alpha(n_lines: int) -> float:
    """Opacity of one of ``n_lines`` overlapping thin lines: dense fans stay readable."""
    return float(np.clip(1.2 / math.sqrt(max(n_lines, 1)), 0.04, 0.6))


def _note(ax: Axes, text: str, *, loc: str = "lower left") -> None:
    """A small grey remark inside a panel (clipping, floors, left-out values)."""
    x, ha = (0.02, "left") if "left" in loc else (0.98, "right")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=STYLE.note_size,
            color=STYLE.muted, bbox={"boxstyle": "round,pad=0.25", "facecolor": "white",
                                     "edgecolor": "none", "alpha": 0.8})


def _new_figure(title: str, subtitle: str, *, panel_size: tuple[float, float],
                nrows: int = 1, ncols: int = 1, sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A figure with a left-aligned title and grey subtitle above a grid of panels.

    Returns the figure and its axes as a flat array. The header's height is computed from the
    wrapped subtitle, and the constrained layout is told to keep out of it.
    """
    width = max(panel_size[0] * ncols, MIN_WIDTH)  # the title must fit even over one panel
    chars = max(40, int(width * 14))  # about 14 characters per inch at the subtitle's size
    lines = [line for part in subtitle.split("\n") for line in textwrap.wrap(part, chars)]
    header = 0.5 + 0.17 * len(lines)  # inches: title, one line per subtitle line, padding
    height = panel_size[1] * nrows + header
    fig = Figure(figsize=(width, height), layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)
    engine.set(rect=(0.0, 0.0, 1.0, 1.0 - header / height))
    top = 1.0 - 0.12 / height
    fig.text(0.012, top, title, ha="left", va="top", fontsize=STYLE.title_size,
             fontweight="bold", color=STYLE.truth)
    fig.text(0.012, top - 0.3 / height, "\n".join(lines), ha="left", va="top",
             fontsize=STYLE.subtitle_size, color=STYLE.muted, linespacing=1.35)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    for ax in axes.flat:
        _style_axes(ax)
    return fig, axes.ravel()


def _figure_legend(fig: Figure, handles: Sequence[Any]) -> None:
    """One legend for the whole figure, below the panels, in as many rows as its width needs."""
    handles = list(handles)
    # Rough width of one entry in inches: its marker and padding, then ~0.068 in per character
    # at 8 pt. Wrapping early is harmless; running off the figure's edge is not.
    widths = [0.75 + 0.068 * len(str(h.get_label())) for h in handles]
    room = fig.get_figwidth() * 0.95
    ncols = len(handles)
    # Matplotlib fills a legend column by column, so a row is as wide as its widest columns.
    while ncols > 1 and sum(max(col) for col in np.array_split(widths, ncols)) > room:
        ncols -= 1
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
               fontsize=STYLE.legend_size, frameon=False)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at :data:`DPI` and return ``path``."""
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


# -- the run as the figures see it -----------------------------------------------------------


class _Run(RunView):
    """The parts of a :class:`Result` every figure needs, read once (at most
    :data:`MAX_LINES` replicates)."""

    @classmethod
    def of(cls, result: Result) -> _Run:
        return cls(result, MAX_LINES)

    def subtitle(self, replicates: str | None = None) -> str:
        """Family and truth on one line; policy, sizes and seed on the next."""
        cfg = self.config
        seed = "seed not recorded" if self.seed is None else f"seed {self.seed}"
        replicates = replicates or replicates_text(self.shown, self.total)
        return (f"{cfg.model.describe()}\n"
                f"policy {cfg.data_policy.describe()} · N = {_plural(cfg.n_samples, 'sample')} "
                f"per generation · {_plural(self.n_generations, 'generation')} · {replicates} · "
                f"{seed}")


# -- drawing pieces --------------------------------------------------------------------------


def _segments(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``[lines, points, 2]`` for a LineCollection; non-finite points become gaps."""
    x = np.broadcast_to(x, y.shape)
    return np.stack([x, np.where(np.isfinite(y), y, np.nan)], axis=-1)


def _draw_lines(ax: Axes, x: np.ndarray, y: np.ndarray, *, color: Any, alpha: float,
                linewidth: float = 0.6, zorder: float = 1.0) -> LineCollection:
    """Draw every row of ``y`` against ``x`` as one collection (fast for thousands of lines)."""
    lines = LineCollection(list(_segments(x, y)), colors=color, linewidths=linewidth, alpha=alpha,
                           zorder=zorder, capstyle="round", joinstyle="round")
    ax.add_collection(lines, autolim=False)
    return lines


def _set_data_limits(ax: Axes, x: np.ndarray, values: np.ndarray, scale: str) -> None:
    """Limits from the data (collections added without autoscaling)."""
    ax.set_xlim(float(x[0]), float(x[-1]) if x[-1] > x[0] else float(x[0]) + 1.0)
    finite = values[np.isfinite(values)]
    if scale == "log":
        finite = finite[finite > 0]
    if finite.size == 0:
        return
    low, high = float(finite.min()), float(finite.max())
    if scale == "log":
        ax.set_ylim(low / 10 ** 0.15, high * 10 ** 0.15)
    elif high > low:
        pad = 0.05 * (high - low)
        ax.set_ylim(low - pad, high + pad)
    else:  # all equal: a visible band around the constant
        pad = 0.05 * abs(low) if low != 0 else 0.05
        ax.set_ylim(low - pad, high + pad)


def _apply_scale(ax: Axes, scale: str, floor: float | None, what: str) -> None:
    ax.set_yscale(scale)
    if floor is not None:
        _note(ax, f"{what} below {floor:.2g} (incl. exact 0) drawn at {floor:.2g}")


def _on_scale(values: np.ndarray, scale: str, floor: float | None) -> np.ndarray:
    """Values as drawn: on a log axis, non-positive ones would vanish, so they sit at the floor."""
    if scale != "log":
        return values
    lowest = floor if floor is not None else LOG_FLOOR
    return np.where(np.isfinite(values), np.maximum(values, lowest), values)


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
    bands = _on_scale(quantile_bands(values, percents), scale, floor)
    shown = _on_scale(values, scale, floor)
    handles: list[Any] = []
    n = values.shape[0]
    k = n if all_lines else min(examples, n)
    if all_lines:
        _draw_lines(ax, t, shown, color=color, alpha=_line_alpha(n), linewidth=0.6)
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
            _draw_lines(ax, t, shown[:k], color=STYLE.example, alpha=0.55, linewidth=0.6,
                        zorder=2)
            handles.append(Line2D([], [], color=STYLE.example, alpha=0.55, lw=0.8,
                                  label=f"{k} individual replicate" + ("s" if k > 1 else "")))
    median = bands[len(percents) // 2]
    ax.plot(t, median, color=color, lw=2.0, zorder=3, solid_capstyle="round")
    handles.append(Line2D([], [], color=color, lw=2.0, label="median"))
    _set_data_limits(ax, t, np.concatenate([bands.ravel(), shown[:k].ravel()]), scale)
    _apply_scale(ax, scale, floor, what)
    bad = ~np.isfinite(values[:, -1])
    if bad.any():
        _note(ax, f"{int(bad.sum()):,} of {n:,} replicates have {what} = "
                  f"{_nonfinite_name(values[:, -1][bad])} at t = {values.shape[1] - 1:,}; "
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
            _note(ax, f"{curve.label} leaves the panel (reaches {curve.values[last]:.3g} at "
                      f"t = {last:,}: rare paths dominate the mean of {what})", loc="upper left")
    ax.set_ylim(low, high)
    return handles


def _no_theory_note(ax: Axes, run: _Run, metric: str) -> None:
    if run.prediction is not None and not run.theory(metric):
        # A right-hand title stays clear of the data wherever the curves run.
        ax.set_title("no exact result", loc="right", fontsize=STYLE.note_size,
                     color=STYLE.muted)


def _nonfinite_name(values: np.ndarray) -> str:
    if np.isposinf(values).all():
        return "∞"
    if np.isneginf(values).all():
        return "−∞"
    return "±∞ or NaN"


def _truth_line(ax: Axes, value: float, label: str) -> Line2D | None:
    """Dashed horizontal reference at the truth's value (skipped when not finite)."""
    if not np.isfinite(value):
        return None
    return ax.axhline(value, color=STYLE.truth, lw=1.1, ls=(0, (5, 3)), zorder=4, label=label)


def _grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    ncols = min(n, max_cols) if n != 4 else 2
    return math.ceil(n / ncols), ncols


# -- the figures -----------------------------------------------------------------------------


def metrics_figure(result: Result) -> Figure:
    """Fan charts of the family's key metrics, one panel each (``metrics.png``).

    Each panel shows the median across replicates, the 50% and 90% bands, a few replicates as
    thin lines, the truth's value (generation 0) as a dashed line, and theory's exact curves where
    :func:`modelcollapse.predict` has them (a note where it has none).
    """
    run = _Run.of(result)
    keys = list(run.config.model.key_metrics)
    nrows, ncols = _grid_shape(len(keys), 3)
    fig, axes = _new_figure(
        f"How the fitted {run.config.model.name} drifts over generations",
        run.subtitle(), panel_size=(4.6, 3.1), nrows=nrows, ncols=ncols)
    handles: list[Any] = []
    theory_handles: list[Any] = []
    seen: set[str] = set()
    for ax, metric in zip(axes, keys, strict=False):
        values = run.traj(metric)
        title, label = metric_label(metric)
        handles = draw_fan(ax, values, log_rule=metric in LOG_METRICS, what=metric)
        truth = _truth_line(ax, float(values[0, 0]) if values.size else np.nan,
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
    _figure_legend(fig, handles + theory_handles)
    return fig


def variance_figure(result: Result) -> Figure:
    """Each mixture component's fitted variance σ² against generation (``variance.png``).

    One panel per component (components sorted by mean): every replicate as a thin line, the
    median, the 5–95% band, and the true variance as a dashed line. All panels share a y-axis,
    logarithmic when the variances span more than :data:`LOG_DECADES` decades.
    """
    run = _Run.of(result)
    model: Any = run.config.model
    k = int(model.n_components)
    var = np.stack([np.square(run.traj(f"std_{i}")) for i in range(k)])  # [K, R, G + 1]
    scale, floor = choose_scale(var)
    nrows, ncols = _grid_shape(k, 3)
    fig, axes = _new_figure(
        "Fitted variance σ² of each mixture component, generation by generation",
        run.subtitle(), panel_size=(4.8, 3.3), nrows=nrows, ncols=ncols, sharey=True)
    t = np.arange(var.shape[2], dtype=float)
    handles: list[Any] = []
    for i, ax in zip(range(k), axes, strict=False):
        color = STYLE.components[i % len(STYLE.components)]
        values = _on_scale(var[i], scale, floor)
        n = values.shape[0]
        _draw_lines(ax, t, values, color=color, alpha=_line_alpha(n), linewidth=0.6)
        band = _on_scale(quantile_bands(var[i], [5.0, 50.0, 95.0]), scale, floor)
        ax.fill_between(t, band[0], band[2], color=color, alpha=0.2, lw=0, zorder=2)
        ax.plot(t, band[1], color=color, lw=2.2, zorder=3, solid_capstyle="round")
        true_var = float(model.stds[i]) ** 2
        _truth_line(ax, true_var, "truth")
        ax.set_title(f"Component {i}: truth N({model.means[i]:g}, {model.stds[i]:g}²), "
                     f"weight {model.weights[i]:g}", fontsize=STYLE.label_size + 1, loc="left")
        ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
        if i % ncols == 0:
            ax.set_ylabel("fitted variance σ² (data units²)", fontsize=STYLE.label_size)
        handles = [Line2D([], [], color="#555555", alpha=0.6, lw=0.8,
                          label=f"each replicate ({n:,})"),
                   Line2D([], [], color="#555555", lw=2.2, label="median"),
                   Patch(color="#555555", alpha=0.25, label="5–95% of replicates"),
                   Line2D([], [], color=STYLE.truth, lw=1.1, ls=(0, (5, 3)),
                          label="true variance")]
    _set_data_limits(axes[0], t, np.append(_on_scale(var, scale, floor).ravel(),
                                           np.square(model.stds)), scale)
    for i, ax in enumerate(axes[:k]):
        ax.set_yscale(scale)
        if floor is not None and i == 0:
            _note(ax, f"σ² below {floor:.2g} drawn at {floor:.2g}")
    if run.prediction is not None:
        # Theory covers the mixture's total variance (metrics.png), not a component's.
        for ax in axes[:k]:
            ax.set_title("no exact result", loc="right", fontsize=STYLE.note_size,
                         color=STYLE.muted)
        ax.set_xlim(0, max(t[-1], 1))
    for ax in axes[k:]:
        ax.set_visible(False)
    _figure_legend(fig, handles)
    return fig


def density_figure(result: Result) -> Figure:
    """The true mixture density beside the fitted ones at ``t = 1`` and ``t = G`` (``density.png``).

    Each panel draws the truth as a thick black line and every replicate's fitted mixture as a thin
    line (coloured per replicate when there are at most ten). Spikes of collapsed components are
    clipped at :data:`DENSITY_CLIP` times the truth's peak, and the panel says so.
    """
    run = _Run.of(result)
    model: Any = run.config.model
    k = int(model.n_components)
    g = run.n_generations
    generations = [1, g] if g > 1 else [g]
    params = {name: np.stack([run.traj(f"{name}_{i}") for i in range(k)], axis=-1)
              for name in ("weight", "mean", "std")}  # each [R, G + 1, K]
    w0, mu0, sd0 = (np.asarray(v, dtype=float) for v in (model.weights, model.means, model.stds))

    # x-range: start from the truth and every visible fitted component ± 4σ, then trim to where
    # some density is visible, so one broad, low component does not squeeze the rest.
    lows, highs = [np.min(mu0 - 4 * sd0)], [np.max(mu0 + 4 * sd0)]
    centres = [mu0]
    for t in generations:
        w, mu, sd = (params[name][:, t] for name in ("weight", "mean", "std"))
        visible = (w > 1e-3) & np.isfinite(mu) & np.isfinite(sd)
        if visible.any():
            lows.append(np.min((mu - 4 * sd)[visible]))
            highs.append(np.max((mu + 4 * sd)[visible]))
            centres.append(mu[visible])
    wide = np.linspace(float(min(lows)), float(max(highs)), 2000)
    truth = mixture_density(np.sort(np.concatenate([wide, mu0])), w0, mu0, sd0)
    peak = float(truth.max())
    cap = DENSITY_CLIP * peak
    envelope = mixture_density(wide, w0, mu0, sd0)
    for t in generations:
        fits = mixture_density(wide, *(params[name][:, t] for name in ("weight", "mean", "std")))
        envelope = np.fmax(envelope, np.nanmax(fits, axis=0) if fits.size else envelope)
    seen = wide[envelope > DENSITY_VISIBLE * peak]
    spots = np.concatenate([seen, *centres, mu0 - 3 * sd0, mu0 + 3 * sd0])
    lo, hi = float(spots.min()), float(spots.max())
    lo, hi = lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)
    base = np.linspace(lo, hi, 1200)

    titles = {1: "after the first fit (t = 1)", g: f"after the last generation (t = {g:,})"}
    if g == 1:
        titles = {1: "after the first and only fit (t = 1)"}
    fig, axes = _new_figure(
        "True mixture density and the fitted densities, first vs last generation",
        run.subtitle(), panel_size=(5.2, 3.6), ncols=len(generations), sharey=True)
    n = run.shown
    colors: Any = (list(STYLE.components[:n]) if n <= len(STYLE.components) else STYLE.main)
    clipped_any = False
    top = peak
    for ax, t in zip(axes, generations, strict=True):
        w, mu, sd = (params[name][:, t] for name in ("weight", "mean", "std"))
        ok = np.isfinite(w).all(axis=1) & np.isfinite(mu).all(axis=1) & np.isfinite(sd).all(axis=1)
        # Each replicate gets its own x-grid: the common points plus points across each of its
        # components, so a collapsed (needle-thin) component is drawn, not stepped over.
        offsets = np.array([-4, -3, -2, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2, 3, 4.0])
        extra = (mu[:, :, None] + sd[:, :, None] * offsets).reshape(mu.shape[0], -1)
        x = np.sort(np.concatenate([np.broadcast_to(base, (mu.shape[0], base.size)),
                                    np.clip(np.nan_to_num(extra, nan=lo), lo, hi)], axis=1),
                    axis=1)
        y = mixture_density(x, w, mu, sd)
        y[~ok] = np.nan
        highest = float(np.nanmax(y)) if ok.any() else 0.0
        clipped = highest > cap
        clipped_any |= clipped
        top = max(top, min(highest, cap))
        lines = LineCollection(list(np.stack([x, np.minimum(y, 2 * cap)], axis=-1)),
                               colors=colors, linewidths=0.8,
                               alpha=0.8 if n <= 10 else _line_alpha(n), zorder=2)
        ax.add_collection(lines, autolim=False)
        xs = np.sort(np.concatenate([base, mu0]))
        ax.plot(xs, mixture_density(xs, w0, mu0, sd0), color=STYLE.truth, lw=2.4, zorder=3)
        title = titles[t]
        if clipped:
            # Said in the title: a note inside the panel would sit on the clipped spikes.
            n_high = int(np.sum(np.nanmax(y, axis=1) > cap))
            title += (f"\ny clipped at {DENSITY_CLIP:g}× the truth's peak; {n_high:,} of {n:,} "
                      f"fits go higher (to {highest:.3g})")
        ax.set_title(title, fontsize=STYLE.label_size + 1, loc="left")
        ax.set_xlabel("x (data units)", fontsize=STYLE.label_size)
        ax.set_xlim(lo, hi)
    axes[0].set_ylabel("density (1 / data unit)", fontsize=STYLE.label_size)
    axes[0].set_ylim(0, cap if clipped_any else top * 1.08)
    fitted_label = (f"fitted mixture, one colour per replicate ({n:,})" if n <= 10
                    else f"fitted mixture, one line per replicate ({n:,})")
    fitted_color = STYLE.components[0] if n <= 10 else STYLE.main
    _figure_legend(fig, [Line2D([], [], color=STYLE.truth, lw=2.4, label="truth"),
                         Line2D([], [], color=fitted_color, lw=0.8, label=fitted_label)])
    return fig


def paths_figure(result: Result) -> Figure:
    """Every coin rollout's p̂ against generation (``paths.png``).

    Rollouts are coloured by where they end: fixed at 1, fixed at 0, or still drifting at the last
    generation. The truth ``p0`` is a dashed line; theory's ``E p_t`` and its exact 5–95% band
    (from the law of ``p_t``) are overlaid.
    """
    run = _Run.of(result)
    p = run.traj("p")
    n, g = p.shape[0], p.shape[1] - 1
    t = np.arange(g + 1, dtype=float)
    final = p[:, -1]
    # With fresh tosses every generation, 0 and 1 are visited, not absorbing.
    sticky = theory_pieces_real(run.config) == 0
    groups = (("still drifting" if sticky else "inside (0, 1)", STYLE.drifting,
               (final != 0.0) & (final != 1.0)),
              ("fixed at 0" if sticky else "at 0", STYLE.at_zero, final == 0.0),
              ("fixed at 1" if sticky else "at 1", STYLE.at_one, final == 1.0))
    fig, axes = _new_figure("Coin rollouts: the estimated p̂ refitted generation after generation",
                            run.subtitle(), panel_size=(8.0, 4.4))
    ax = axes[0]
    alpha = _line_alpha(n)
    handles: list[Any] = []
    for label, color, keep in groups:
        count = int(keep.sum())
        if count:
            _draw_lines(ax, t, p[keep], color=color, alpha=alpha, linewidth=0.9)
        handles.append(Line2D([], [], color=color, lw=1.5,
                              label=f"{label} at t = {g:,}: {count:,} of {n:,}"))
    p0 = float(run.config.model.truth())
    handles.append(_truth_line(ax, p0, f"truth p0 = {p0:g}"))
    ax.set_xlim(0, max(g, 1))
    ax.set_ylim(-0.03, 1.03)
    handles += draw_theory(ax, run.theory("p"), what="p̂")
    ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
    ax.set_ylabel("p̂ = heads / tosses (probability)", fontsize=STYLE.label_size)
    _figure_legend(fig, [h for h in handles if h is not None])
    return fig


@dataclass(frozen=True)
class Curve:
    """An extra labelled line for :func:`absorbed_figure` (e.g. a theoretical prediction).

    Attributes
    ----------
    label
        Legend text.
    x, y
        The points (generation, fraction).
    style
        Keyword arguments for :meth:`matplotlib.axes.Axes.plot` (colour, line style, ...).
    """

    label: str
    x: np.ndarray
    y: np.ndarray
    style: dict[str, Any] = field(default_factory=dict)


def draw_absorbed(ax: Axes, replicates: pd.DataFrame, n_generations: int, *,
                  extra: Sequence[Curve] = (), sticky: bool = True) -> list[Any]:
    """Draw the fractions of :func:`absorbed_fractions` (and ``extra`` curves) onto ``ax``.

    ``sticky=False`` (fresh data each generation) words it as "touched": p̂ can leave 0 or 1.

    Returns
    -------
    list
        The drawn lines, for a legend.
    """
    t = np.arange(n_generations + 1)
    fractions = absorbed_fractions(replicates, n_generations)
    n = len(replicates)
    lines = []
    words = ("absorbed at 0 or 1", "fixed at 1", "fixed at 0") if sticky else (
        "touched 0 or 1", "touched 1 first", "touched 0 first")
    for key, label, color, width in (("absorbed", words[0], STYLE.main, 2.4),
                                     ("at 1", words[1], STYLE.at_one, 1.4),
                                     ("at 0", words[2], STYLE.at_zero, 1.4)):
        y = fractions[key]
        # Generations are discrete: a step drawn after each t shows "absorbed by generation t".
        (line,) = ax.step(t, y, where="post", color=color, lw=width, zorder=3,
                          label=f"{label} ({y[-1]:.1%} of {n:,} by t = {n_generations:,})")
        lines.append(line)
    for curve in extra:
        style = {"lw": 1.6, "ls": "--", "zorder": 4, **curve.style}
        (line,) = ax.plot(curve.x, curve.y, label=curve.label, **style)
        lines.append(line)
    ax.set_xlim(0, max(n_generations, 1))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
    ax.set_ylabel("fraction of rollouts " + ("absorbed" if sticky else "that touched 0 or 1")
                  + " by t", fontsize=STYLE.label_size)
    return lines


def absorbed_figure(result: Result, *, extra: Sequence[Curve] = ()) -> Figure:
    """Fraction of ALL rollouts absorbed at 0 or 1 by each generation (``absorbed.png``).

    Computed from the per-replicate table, so it uses every replicate even when only a few
    hundred trajectories were kept. Theory's exact ``P(absorbed by t)`` is overlaid when
    :func:`modelcollapse.predict` has it; ``extra`` curves are overlaid with their labels.
    """
    run = _Run.of(result)
    replicates = result.replicates
    g = int(run.config.n_generations)
    # With fresh tosses every generation p̂ can touch 0 or 1 and leave again.
    sticky = theory_pieces_real(run.config) == 0
    title = ("Coin rollouts absorbed at p̂ = 0 or 1 by each generation" if sticky else
             "Coin rollouts whose p̂ has touched 0 or 1 (fresh tosses: it can leave)")
    fig, axes = _new_figure(title,
                            run.subtitle(replicates_text(len(replicates), len(replicates))),
                            panel_size=(8.0, 4.2))
    exact = run.prediction.absorbed if run.prediction is not None else None
    if exact is not None:
        t = np.arange(exact.values.size)
        extra = [Curve(exact.label, t, exact.values,
                       {"color": STYLE.theory, "ls": (0, (5, 2.5)), "lw": 1.8,
                        "drawstyle": "steps-post"}), *extra]
    lines = draw_absorbed(axes[0], replicates, g, extra=extra, sticky=sticky)
    if exact is None:
        _note(axes[0], "no exact law of the absorption time for this policy", loc="upper left")
    _figure_legend(fig, lines)
    return fig


#: Figures written by :func:`plot_run` for each family (``metrics.png`` is written for all).
FAMILY_FIGURES: dict[str, list[tuple[str, Callable[[Result], Figure]]]] = {
    "gmm": [("variance.png", variance_figure), ("density.png", density_figure)],
    "coin": [("paths.png", paths_figure), ("absorbed.png", absorbed_figure)],
}


def plot_run(result: Result, folder: Path) -> list[Path]:
    """Write the run's PNG figures into ``folder``; return their paths.

    Parameters
    ----------
    result
        A finished run (in memory or loaded); at most :data:`MAX_LINES` replicates are drawn as
        lines, and titles say so when the run has more.
    folder
        Where the PNG files go (created if missing).

    Returns
    -------
    list of pathlib.Path
        ``metrics.png`` for every family, then the family's own figures: ``variance.png`` and
        ``density.png`` for ``gmm``; ``paths.png`` and ``absorbed.png`` for ``coin``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    builders = [("metrics.png", metrics_figure),
                *FAMILY_FIGURES.get(result.config.model.name, [])]
    return [save_figure(build(result), folder / name) for name, build in builders]
