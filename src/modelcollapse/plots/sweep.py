"""The figure of a sweep: how fast collapse comes, across the grid (``sweep.png``).

:func:`plot_sweep` draws the sweep's summary table (:mod:`modelcollapse.sweeps.summary`, one row per
cell, plus a column per grid option) against the options that vary:

one axis
    Left: the mean event time (absorption, collapse or fixation) ± 2 SE and the median, against
    the option, with theory's ``E[T | T ≤ G]`` and median where it has them. Right: the fraction
    of replicates whose event happened within the run ± 2 SE, with theory's ``P(T ≤ G)``.
two axes
    Two heatmaps over the grid: the median event time ("> G" where fewer than half the replicates
    had the event) and the fraction within the run, each cell annotated with the simulated value
    and, beneath, the exact one; invalid cells hatched, with their reason in the legend.
three or more
    The two heatmaps for each combination of the remaining options (at most
    :data:`MAX_PANELS`), on shared colour scales.

The simulated mean event time is over the replicates whose event happened within the run, so it
estimates ``E[T | T ≤ G]``: theory's value beside it is that conditional mean, comparable at any
``G`` (see :mod:`modelcollapse.sweeps.summary`).

The summary is read through :class:`~modelcollapse.views.sweep.SweepView`, which the report's
sweep page shares; the look is :mod:`modelcollapse.plots.canvas`'s (magenta is "exact").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LogNorm, Normalize, to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullFormatter, NullLocator, PercentFormatter

from ..views.style import STYLE
from ..views.sweep import Axis, SweepView, value_label
from .canvas import add_note, figure_legend, new_figure, save_figure, style_axes

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure


#: Most combinations of the remaining options drawn with three or more axes.
MAX_PANELS = 12

#: The figure's file name.
FILE_NAME = "sweep.png"

#: Heatmap colours: dark red is fast or frequent collapse in both panels; a median beyond the
#: run is pale blue (safe for now), cells without data white, invalid cells hatched grey.
TIME_CMAP = "YlOrRd_r"

FRACTION_CMAP = "OrRd"

BEYOND = "#d6e6f4"

INVALID = "#ececec"

NO_DATA = "#ffffff"


def plot_sweep(summary: pd.DataFrame, *, axes: Sequence[str], folder: Path | str,
               skipped: Iterable[Mapping[str, Any]] = (), title: str = "",
               constants: Mapping[str, Any] | None = None) -> list[Path]:
    """Write ``sweep.png``, the collapse speed across the grid, into ``folder``.

    Parameters
    ----------
    summary
        One row per cell: the :func:`~modelcollapse.sweeps.summary.cell_summary` columns (the
        event is found from the ``<verb>_by_end_se`` column), one column per grid option named
        as the option, ``-`` or ``_`` alike (``samples``, ``real``, ``top_p``, ...), and
        optionally ``family``, ``policy``, ``samples``, ``generations``, ``collapse_fraction``
        (the threshold) for the header; ``generations`` also places the "> G" marks.
    axes
        The grid options with more than one value, in grid order (the first is the heatmaps'
        x axis, the second their y axis, the rest select the panels).
    folder
        Where the PNG goes (created if missing).
    skipped
        Invalid cells: their grid values and a ``"reason"``; drawn hatched in the heatmaps and
        marked on a single axis.
    title
        Added in brackets after the figure's own title, which names the family, the event and
        the axes (``"sweep gmm-mix"`` → "Gmm: collapse speed across the grid of real ×
        synthetic (sweep gmm-mix)").
    constants
        Options fixed for the whole sweep (the ``[experiment]`` table), for the header: family,
        samples, generations, replicates, policy, collapse-fraction. Constant columns of
        ``summary`` are used where this is silent.

    Returns
    -------
    list of pathlib.Path
        ``[folder / "sweep.png"]``, or ``[]`` for a sweep of a single cell (no axis varies).
    """
    skipped = list(skipped)
    if not axes or (len(summary) == 0 and not skipped):
        return []

    fig = sweep_figure(summary, axes=axes, skipped=skipped, title=title, constants=constants)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [save_figure(fig, folder / FILE_NAME)]


def sweep_figure(summary: pd.DataFrame, *, axes: Sequence[str],
                 skipped: Iterable[Mapping[str, Any]] = (), title: str = "",
                 constants: Mapping[str, Any] | None = None) -> Figure:
    """The figure of :func:`plot_sweep`, unsaved (for notebooks and reports)."""
    if not axes:
        raise ValueError("a sweep figure needs at least one grid option that varies")
    sweep = SweepView.of(summary, list(axes), list(skipped), dict(constants or {}))
    if len(axes) == 1:
        return _line_figure(sweep, title)
    return _heatmap_figure(sweep, title)


def _line_figure(sweep: SweepView, title: str) -> Figure:
    axis = sweep.axes[0]
    head, subtitle = sweep.header(title)
    subtitle += ("\nsimulated mean: over the replicates whose event happened within G, an "
                 "estimate of E[T | T ≤ G]; magenta: exact, where theory has it")
    fig, (left, right) = new_figure(head, subtitle, panel_size=(5.6, 4.4), ncols=2)
    x = np.array([axis.position(k[0]) for k in sweep.keys], dtype=float)
    order = np.argsort(x, kind="stable")
    x = x[order]
    g = sweep.horizon()[order]
    verb, event = sweep.verb, sweep.event.name if sweep.event else "event"
    handles: dict[str, Any] = {}

    # Left: event times.
    mean, se = sweep.ev("time_mean")[order], sweep.ev("time_se")[order]
    median = sweep.ev("time_median")[order]
    exact_mean, exact_median = (sweep.ev(s, exact=True)[order]
                                for s in ("time_mean", "time_median"))
    fraction = sweep.ev("fraction")[order]
    exact_fraction = sweep.ev("fraction", exact=True)[order]
    top = np.nanmax(np.concatenate([g, mean + 2 * np.nan_to_num(se), median, exact_mean,
                                    [1.0]]))
    beyond_y = top * 1.12
    has = np.isfinite(mean)
    if has.any():
        left.errorbar(x[has], mean[has], yerr=2 * np.nan_to_num(se[has]), fmt="o", ms=6,
                      color=STYLE.main, ecolor=STYLE.main, elinewidth=1.4, capsize=3, zorder=4)
        handles["mean"] = Line2D([], [], color=STYLE.main, marker="o", ms=6, lw=1.4,
                                 label=f"simulated mean ± 2 SE ({verb} within G)")
    if np.isfinite(median).any():
        left.plot(x, median, lw=0, marker="s", ms=6.5, mfc="white", mec=STYLE.example,
                  mew=1.3, zorder=5)
        handles["median"] = Line2D([], [], lw=0, marker="s", ms=6.5, mfc="white",
                                   mec=STYLE.example, mew=1.3,
                                   label="simulated median (all replicates)")
    if np.isfinite(exact_mean).any():
        # Open diamonds around the simulated dots: both stay visible where they agree.
        left.plot(x, exact_mean, color=STYLE.theory, lw=1.3, ls=(0, (5, 2.5)), marker="D",
                  ms=8.5, mfc="none", mew=1.3, zorder=6)
        handles["exact mean"] = Line2D([], [], color=STYLE.theory, lw=1.3, ls=(0, (5, 2.5)),
                                       marker="D", ms=8.5, mfc="none", mew=1.3,
                                       label="exact E[T | T ≤ G]")
    if np.isfinite(exact_median).any():
        left.plot(x, exact_median, lw=0, marker="s", ms=9, mfc="none", mec=STYLE.theory,
                  mew=1.2, zorder=6)
        handles["exact median"] = Line2D([], [], lw=0, marker="s", ms=9, mfc="none",
                                         mec=STYLE.theory, mew=1.2, label="exact median of T")
    # A median beyond the run: an open triangle at the top, "> G" beside it.
    beyond = ~np.isfinite(median) & np.isfinite(fraction)
    for xi, gi in zip(x[beyond], g[beyond], strict=True):
        left.plot([xi], [beyond_y], marker="^", ms=8, mfc="white", mec=STYLE.example, mew=1.3,
                  lw=0, zorder=5)
        text = f"> {gi:,.0f}" if np.isfinite(gi) else "> G"
        left.annotate(text, (xi, beyond_y), xytext=(0, 7), textcoords="offset points",
                      ha="center", fontsize=STYLE.note_size, color=STYLE.muted)
        handles.setdefault("beyond", Line2D([], [], lw=0, marker="^", ms=8, mfc="white",
                                            mec=STYLE.example, mew=1.3,
                                            label="median > G (not reached within the run)"))
    if np.isfinite(g).any() and np.nanmin(g) == np.nanmax(g):
        left.axhline(g[0], color=STYLE.muted, lw=1.0, ls=":", zorder=1)
        left.annotate(f"G = {g[0]:,.0f}", (1.0, g[0]), xycoords=("axes fraction", "data"),
                      xytext=(-2, -3), textcoords="offset points", ha="right", va="top",
                      fontsize=STYLE.note_size, color=STYLE.muted)
    times = np.concatenate([mean, median, exact_mean, g])
    times = times[np.isfinite(times) & (times > 0)]
    if times.size and times.max() / times.min() > 100:
        left.set_yscale("log")
        left.set_ylim(times.min() / 1.6, beyond_y * 1.6)
    else:
        left.set_ylim(0, beyond_y * 1.1)
    if not has.any():
        # Low: the top of the panel holds the "> G" markers of exactly this case.
        add_note(left, f"no replicate {verb} within G in any cell", loc="lower left")
    left.set_ylabel(f"mean {event} time (generations)", fontsize=STYLE.label_size)
    left.set_title(f"When: {event} time", fontsize=STYLE.label_size + 1, loc="left")

    # Right: how often within the run.
    fse = sweep.ev("fraction_se")[order]
    ok = np.isfinite(fraction)
    if ok.any():
        low = np.minimum(2 * np.nan_to_num(fse[ok]), fraction[ok])
        high = np.minimum(2 * np.nan_to_num(fse[ok]), 1 - fraction[ok])
        right.errorbar(x[ok], fraction[ok], yerr=[low, high], fmt="o", ms=6, color=STYLE.main,
                       ecolor=STYLE.main, elinewidth=1.4, capsize=3, zorder=4)
        handles["fraction"] = Line2D([], [], color=STYLE.main, marker="o", ms=6, lw=1.4,
                                     label=f"simulated fraction {verb} within G ± 2 SE")
    if np.isfinite(exact_fraction).any():
        right.plot(x, exact_fraction, color=STYLE.theory, lw=1.3, ls=(0, (5, 2.5)), marker="D",
                   ms=8.5, mfc="none", mew=1.3, zorder=6)
        handles["exact fraction"] = Line2D([], [], color=STYLE.theory, lw=1.3,
                                           ls=(0, (5, 2.5)), marker="D", ms=8.5, mfc="none",
                                           mew=1.3, label="exact P(T ≤ G)")
    right.set_ylim(-0.03, 1.08)
    right.yaxis.set_major_formatter(_percent())
    right.set_ylabel(f"fraction {verb} within G", fontsize=STYLE.label_size)
    right.set_title(f"How often: {verb} within the run", fontsize=STYLE.label_size + 1,
                    loc="left")

    no_theory = not (np.isfinite(exact_mean).any() or np.isfinite(exact_fraction).any())
    for ax in (left, right):
        _x_axis(ax, axis)
        _mark_invalid_1d(ax, sweep, axis, handles)
    if no_theory:
        add_note(right, "no exact law of T for this family or policy", loc="upper left")
    figure_legend(fig, list(handles.values()))
    return fig


def _percent() -> Any:
    return PercentFormatter(xmax=1.0, decimals=0)


def _x_axis(ax: Axes, axis: Axis) -> None:
    """Ticks at the grid's values, labelled as the user wrote them."""
    style_axes(ax, integer_x=False)
    positions = axis.positions
    if axis.scale == "log":
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    if len(positions) <= 16:
        ax.set_xticks(positions)
        ax.set_xticklabels(axis.labels, fontsize=STYLE.tick_size,
                           rotation=30 if max(map(len, axis.labels)) > 8 else 0,
                           ha="right" if max(map(len, axis.labels)) > 8 else "center")
    if axis.scale == "categorical":
        ax.set_xlim(-0.5, len(positions) - 0.5)
        ax.grid(False, axis="x")
    elif axis.scale == "log":
        ax.set_xlim(positions[0] / 1.5, positions[-1] * 1.5)
    elif len(positions) > 1:
        pad = 0.06 * (positions[-1] - positions[0])
        ax.set_xlim(positions[0] - pad, positions[-1] + pad)
    ax.set_xlabel(axis.title, fontsize=STYLE.label_size)


def _mark_invalid_1d(ax: Axes, sweep: SweepView, axis: Axis, handles: dict[str, Any]) -> None:
    """A grey cross at the foot of the panel for each invalid value, its reason in the legend."""
    for key, reason in sweep.invalid.items():
        ax.plot([axis.position(key[0])], [0.03], marker="X", ms=8, color="#9a9a9a", lw=0,
                transform=ax.get_xaxis_transform(), zorder=6, clip_on=False)
        handles.setdefault(f"invalid {reason}", Line2D(
            [], [], marker="X", ms=8, color="#9a9a9a", lw=0, label=f"invalid: {reason}"))


@dataclass
class _Grid:
    """One panel's cells: the summary row (or invalid reason) at each (x, y) index."""

    rows: dict[tuple[int, int], int]
    invalid: dict[tuple[int, int], str]


def _panels(sweep: SweepView) -> list[tuple[tuple[Any, ...], _Grid]]:
    """The combinations of the options beyond the first two, each with its grid of cells."""
    xa, ya, *rest = sweep.axes
    combos = list(product(*(a.keys for a in rest))) if rest else [()]
    out = []
    for combo in combos:
        grid = _Grid({}, {})
        for i, key in enumerate(sweep.keys):
            if tuple(key[2:]) == combo:
                grid.rows.setdefault((xa.keys.index(key[0]), ya.keys.index(key[1])), i)
        for key, reason in sweep.invalid.items():
            if tuple(key[2:]) == combo:
                grid.invalid[(xa.keys.index(key[0]), ya.keys.index(key[1]))] = reason
        if grid.rows or grid.invalid:
            out.append((combo, grid))
    return out


def _heatmap_figure(sweep: SweepView, title: str) -> Figure:
    xa, ya = sweep.axes[:2]
    panels = _panels(sweep)
    shown = panels[:MAX_PANELS]
    head, subtitle = sweep.header(title)
    if len(panels) > len(shown):
        head += f" (first {len(shown)} of {len(panels)} panels)"
    exact_any = np.isfinite(sweep.ev("fraction", exact=True)).any()
    subtitle += ("\neach cell: the simulated value" +
                 ("; beneath it, the exact one where theory has it" if exact_any else
                  " (no exact law of T for these cells)"))
    # Two blocks side by side: the median times on the left, the fractions on the right, each
    # a grid of the combinations (row by row), each with one colour bar.
    per_row = 1 if len(shown) == 1 else 2
    nrows = math.ceil(len(shown) / per_row)
    nx, ny = len(xa.keys), len(ya.keys)
    width = max(3.4, 0.62 * nx + 1.9)
    height = max(2.7, 0.46 * ny + 1.35)
    fig, flat = new_figure(head, subtitle, panel_size=(width, height), nrows=nrows,
                            ncols=2 * per_row)
    if per_row > 1:  # room between a panel's right-hand title and its neighbour's left one
        fig.get_layout_engine().set(wspace=0.06)  # type: ignore[call-arg, union-attr]
    grid_axes = flat.reshape(nrows, 2 * per_row)
    time_axes = [grid_axes[k // per_row, k % per_row] for k in range(len(shown))]
    fraction_axes = [grid_axes[k // per_row, per_row + k % per_row] for k in range(len(shown))]
    # Cell size in inches decides the annotation's font and whether the exact line fits.
    cell_w, cell_h = (width - 1.6) / nx, (height - 1.1) / ny
    font = float(np.clip(min(cell_w * 11, cell_h * 16), 5.0, 8.5))
    two_lines = exact_any and cell_h * 72 >= 2.6 * font

    # The time scale runs up to the horizon, so a cell's colour says how early in the run its
    # median came, and the pale end meets the pale blue of "> G".
    horizon = sweep.horizon()
    times = np.concatenate([sweep.ev("time_median"), sweep.ev("time_median", exact=True),
                            horizon])
    times = times[np.isfinite(times)]
    low, high = (max(float(times.min()), 0.5), max(float(times.max()), 1.0)) if times.size \
        else (0.5, 1.0)
    time_norm: Normalize = LogNorm(low, max(high, low * 1.01)) if high / low > 10 \
        else Normalize(0, high)
    fraction_norm = Normalize(0, 1)

    used: set[str] = set()
    event, verb = (sweep.event.name if sweep.event else "event"), sweep.verb
    for k, (combo, grid) in enumerate(shown):
        t_ax, f_ax = time_axes[k], fraction_axes[k]
        where = " · ".join(f"{a.name} = {value_label(v)}" for a, v in zip(sweep.axes[2:], combo,
                                                                       strict=True))
        t_map = _heatmap(t_ax, sweep, grid, "time", TIME_CMAP, time_norm, font, two_lines, used)
        f_map = _heatmap(f_ax, sweep, grid, "fraction", FRACTION_CMAP, fraction_norm, font,
                         two_lines, used)
        if where:  # the metric on the left, the combination on the right: one short line
            t_ax.set_title("median time", fontsize=STYLE.label_size, loc="left",
                           fontweight="bold")
            f_ax.set_title(f"fraction {verb}", fontsize=STYLE.label_size, loc="left",
                           fontweight="bold")
            for ax in (t_ax, f_ax):
                ax.set_title(where, fontsize=STYLE.label_size, loc="right")
        else:
            t_ax.set_title(f"median {event} time", fontsize=STYLE.label_size + 1, loc="left")
            f_ax.set_title(f"fraction {verb} within G", fontsize=STYLE.label_size + 1,
                           loc="left")
        last_row = k + per_row >= len(shown)
        first_col = k % per_row == 0
        # The fraction block's rows are the time block's: its y labels would only crowd the
        # time block's colour bar.
        _heat_axes(t_ax, xa, ya, label_x=last_row, label_y=first_col, ticks_y=first_col)
        _heat_axes(f_ax, xa, ya, label_x=last_row, label_y=False, ticks_y=False)
        if k == 0:
            # Each bar's unit goes above it, not along its right side: there, the time bar's
            # label would sit where the fraction block's y-axis label belongs and read as one.
            bar = fig.colorbar(t_map, ax=time_axes, shrink=0.9, pad=0.02, aspect=25)
            bar.ax.set_title("generations", fontsize=STYLE.tick_size, pad=6)
            bar.ax.tick_params(labelsize=STYLE.tick_size)
            fbar = fig.colorbar(f_map, ax=fraction_axes, shrink=0.9, pad=0.02, aspect=25,
                                format=_percent())
            fbar.ax.set_title("share", fontsize=STYLE.tick_size, pad=6)
            fbar.ax.tick_params(labelsize=STYLE.tick_size)
    for ax in set(flat) - set(time_axes) - set(fraction_axes):
        ax.remove()

    handles: list[Any] = []
    if "beyond" in used:
        handles.append(Patch(facecolor=BEYOND, edgecolor="#9a9a9a", lw=0.5,
                             label="> G: fewer than half had the event within the run"))
    if "no data" in used:
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#9a9a9a", lw=0.5,
                             label="–: no result for this cell"))
    # One entry per kind of reason: "(got 0.1 + 1 = 1.1)" differs from cell to cell.
    for reason in dict.fromkeys(re.sub(r" \(got .*\)$", "", r) for r in sweep.invalid.values()):
        handles.append(Patch(facecolor=INVALID, edgecolor="#8a8a8a", hatch="///", lw=0.5,
                             label=f"invalid: {reason}"))
    if handles:
        figure_legend(fig, handles)
    return fig


def _heat_axes(ax: Axes, xa: Axis, ya: Axis, *, label_x: bool, label_y: bool,
               ticks_y: bool) -> None:
    ax.grid(False)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks(range(len(xa.keys)))
    rotate = max(map(len, xa.labels)) > 6 and len(xa.keys) > 3
    ax.set_xticklabels(xa.labels, fontsize=STYLE.tick_size, rotation=30 if rotate else 0,
                       ha="right" if rotate else "center")
    ax.set_yticks(range(len(ya.keys)))
    ax.set_yticklabels(ya.labels if ticks_y else [], fontsize=STYLE.tick_size)
    ax.tick_params(length=0)
    ax.set_xlim(-0.5, len(xa.keys) - 0.5)
    ax.set_ylim(-0.5, len(ya.keys) - 0.5)
    if label_x:
        ax.set_xlabel(xa.title, fontsize=STYLE.label_size)
    if label_y:  # on two lines: a long title would run past a short panel into the header
        ax.set_ylabel(ya.title.replace(" (", "\n("), fontsize=STYLE.label_size)


def _heatmap(ax: Axes, sweep: SweepView, grid: _Grid, what: str, cmap_name: str,
             norm: Normalize, font: float, two_lines: bool, used: set[str]) -> Any:
    """Fill one panel's cells; return the mappable for the colour bar."""
    cmap: Colormap = mpl.colormaps[cmap_name]
    nx, ny = len(sweep.axes[0].keys), len(sweep.axes[1].keys)
    image = np.full((ny, nx), np.nan)
    g = sweep.horizon()
    if what == "time":
        sim, exact = sweep.ev("time_median"), sweep.ev("time_median", exact=True)
    else:
        sim, exact = sweep.ev("fraction"), sweep.ev("fraction", exact=True)
    reached = sweep.ev("fraction", exact=True)  # exact P(T ≤ G): says if theory has a law
    has_data = np.isfinite(sweep.ev("fraction"))
    for (i, j), row in grid.rows.items():
        image[j, i] = sim[row]
    mappable = ax.imshow(np.ma.masked_invalid(image), cmap=cmap, norm=norm, origin="lower",
                         aspect="auto", interpolation="nearest")
    for (i, j), row in grid.rows.items():
        value = sim[row]
        if not has_data[row]:
            face, text = NO_DATA, "–"
            used.add("no data")
        elif what == "time" and not np.isfinite(value):
            face, text = BEYOND, f"> {g[row]:,.0f}" if np.isfinite(g[row]) else "> G"
            used.add("beyond")
        else:
            face, text = None, _format(value, what)
        if face is not None:
            ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=face, lw=0, zorder=2))
        colour = _ink(cmap(norm(value)) if face is None else face)
        lines = [(text, font, "bold")]
        if two_lines and np.isfinite(reached[row]):
            if np.isfinite(exact[row]):
                lines.append((f"exact {_format(exact[row], what)}", font * 0.82, "normal"))
            elif what == "time":  # theory has the law, and its median lies beyond G
                lines.append((f"exact > {g[row]:,.0f}" if np.isfinite(g[row]) else "exact > G",
                              font * 0.82, "normal"))
        _cell_text(ax, i, j, lines, colour)
    for (i, j) in grid.invalid:
        ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=INVALID, edgecolor="#8a8a8a",
                               hatch="///", lw=0, zorder=2))
        ax.text(i, j, "invalid", ha="center", va="center", fontsize=font * 0.85,
                color=STYLE.muted, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": INVALID, "edgecolor": "none"})
    for (i, j) in product(range(nx), range(ny)):  # the grid's own gaps (nothing ran there)
        if (i, j) not in grid.rows and (i, j) not in grid.invalid:
            ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=NO_DATA,
                                   edgecolor="#dddddd", lw=0.5, zorder=2))
    # Thin white lines between cells keep neighbours of equal colour apart.
    for i in range(nx + 1):
        ax.axvline(i - 0.5, color="white", lw=1.2, zorder=3)
    for j in range(ny + 1):
        ax.axhline(j - 0.5, color="white", lw=1.2, zorder=3)
    return mappable


def _format(value: float, what: str) -> str:
    if what == "fraction":
        if 0 < value < 0.005:
            return "< 1%"
        if 0.995 <= value < 1:
            return "> 99%"
        return f"{value:.0%}"
    if value >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ink(rgba: Any) -> str:
    """Black or white, whichever reads better on the cell's colour (relative luminance)."""
    r, g, b = to_rgb(rgba)
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def _cell_text(ax: Axes, i: int, j: int, lines: list[tuple[str, float, str]],
               colour: str) -> None:
    """One or two centred lines in cell (i, j): the value, then a smaller exact value."""
    if len(lines) == 1:
        text, size, weight = lines[0]
        ax.text(i, j, text, ha="center", va="center", fontsize=size, fontweight=weight,
                color=colour, zorder=4)
        return
    (top, top_size, top_weight), (bottom, bottom_size, _) = lines
    ax.annotate(top, (i, j), xytext=(0, 1.5), textcoords="offset points", ha="center",
                va="bottom", fontsize=top_size, fontweight=top_weight, color=colour, zorder=4)
    ax.annotate(bottom, (i, j), xytext=(0, -1.0), textcoords="offset points", ha="center",
                va="top", fontsize=bottom_size, color=colour, zorder=4)
