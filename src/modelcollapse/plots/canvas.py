"""What every figure shares: the header, the grid of panels, the legend, notes, lines and scales.

:func:`new_figure` makes a figure with a left-aligned title and a grey subtitle above a grid of
panels, sized from the wrapped subtitle; :func:`figure_legend` puts one legend below all panels in
as many rows as its width needs; :func:`add_note` writes a small remark inside a panel;
:func:`save_figure` writes a PNG at :data:`DPI`. Many thin lines are drawn as one
:class:`~matplotlib.collections.LineCollection` (:func:`draw_lines`), which keeps a 500-replicate
figure fast; :func:`on_scale` and :func:`set_data_limits` place exact zeros and infinities on a
log axis. :class:`FigureRun` is a run as the run figures read it (at most :data:`MAX_LINES`
replicates).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..views.run import LOG_FLOOR, RunView, plural, replicates_text
from ..views.style import STYLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..results.run import Result


#: Most replicates drawn as individual lines (a run keeps at most this many trajectories anyway,
#: see :data:`modelcollapse.runner.driver.PLOT_REPLICATES`; a loaded run may hold more).
MAX_LINES = 500
#: Resolution of every PNG.
DPI = 150

#: Narrowest figure, in inches (room for the title and the subtitle).
MIN_WIDTH = 8.0


def style_axes(ax: Axes, *, integer_x: bool = True) -> None:
    """Grid, spines and tick sizes, set on the axes themselves (independent of ``rcParams``)."""
    ax.grid(True, color=STYLE.grid, linewidth=0.6, alpha=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=STYLE.tick_size)
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def line_alpha(n_lines: int) -> float:
    """Opacity of one of ``n_lines`` overlapping thin lines: dense fans stay readable."""
    return float(np.clip(1.2 / math.sqrt(max(n_lines, 1)), 0.04, 0.6))


def add_note(ax: Axes, text: str, *, loc: str = "lower left") -> None:
    """A small grey remark inside a panel (clipping, floors, left-out values)."""
    x, ha = (0.02, "left") if "left" in loc else (0.98, "right")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=STYLE.note_size,
            color=STYLE.muted, bbox={"boxstyle": "round,pad=0.25", "facecolor": "white",
                                     "edgecolor": "none", "alpha": 0.8})


def new_figure(title: str, subtitle: str, *, panel_size: tuple[float, float],
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
        style_axes(ax)
    return fig, axes.ravel()


def figure_legend(fig: Figure, handles: Sequence[Any]) -> None:
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


class FigureRun(RunView):
    """The parts of a :class:`Result` every figure needs, read once (at most
    :data:`MAX_LINES` replicates)."""

    @classmethod
    def of(cls, result: Result) -> FigureRun:
        return cls(result, MAX_LINES)

    def subtitle(self, replicates: str | None = None) -> str:
        """Family and truth on one line; policy, sizes and seed on the next."""
        cfg = self.config
        seed = "seed not recorded" if self.seed is None else f"seed {self.seed}"
        replicates = replicates or replicates_text(self.shown, self.total)
        return (f"{cfg.model.describe()}\n"
                f"policy {cfg.data_policy.describe()}{cfg.curation_words()} · "
                f"N = {plural(cfg.n_samples, 'sample')} per generation · "
                f"{plural(self.n_generations, 'generation')} · {replicates} · {seed}")


def _segments(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``[lines, points, 2]`` for a LineCollection; non-finite points become gaps."""
    x = np.broadcast_to(x, y.shape)
    return np.stack([x, np.where(np.isfinite(y), y, np.nan)], axis=-1)


def draw_lines(ax: Axes, x: np.ndarray, y: np.ndarray, *, color: Any, alpha: float,
                linewidth: float = 0.6, zorder: float = 1.0) -> LineCollection:
    """Draw every row of ``y`` against ``x`` as one collection (fast for thousands of lines)."""
    lines = LineCollection(list(_segments(x, y)), colors=color, linewidths=linewidth, alpha=alpha,
                           zorder=zorder, capstyle="round", joinstyle="round")
    ax.add_collection(lines, autolim=False)
    return lines


def set_data_limits(ax: Axes, x: np.ndarray, values: np.ndarray, scale: str) -> None:
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


def apply_scale(ax: Axes, scale: str, floor: float | None, what: str) -> None:
    ax.set_yscale(scale)
    if floor is not None:
        add_note(ax, f"{what} below {floor:.2g} (incl. exact 0) drawn at {floor:.2g}")


def on_scale(values: np.ndarray, scale: str, floor: float | None) -> np.ndarray:
    """Values as drawn: on a log axis, non-positive ones would vanish, so they sit at the floor."""
    if scale != "log":
        return values
    lowest = floor if floor is not None else LOG_FLOOR
    return np.where(np.isfinite(values), np.maximum(values, lowest), values)


def nonfinite_name(values: np.ndarray) -> str:
    if np.isposinf(values).all():
        return "∞"
    if np.isneginf(values).all():
        return "−∞"
    return "±∞ or NaN"


def truth_line(ax: Axes, value: float, label: str) -> Line2D | None:
    """Dashed horizontal reference at the truth's value (skipped when not finite)."""
    if not np.isfinite(value):
        return None
    return ax.axhline(value, color=STYLE.truth, lw=1.1, ls=(0, (5, 3)), zorder=4, label=label)


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    ncols = min(n, max_cols) if n != 4 else 2
    return math.ceil(n / ncols), ncols
