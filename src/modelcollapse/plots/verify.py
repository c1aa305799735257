"""The figures of ``modelcollapse verify``: simulated against exact laws and curves.

:func:`write_figures` writes ``qq.png`` (each case's simulated quantiles against the exact law's)
and one ``trajectories-<family>.png`` per family (the simulated mean ± 2 SE against the exact
curve over the generations); the panels of a case with a failing check get a red title. The
points come from :mod:`modelcollapse.views.studies`.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import AutoLocator

from ..studies.verify.cases import QQ, Series
from ..studies.verify.report import Report
from ..views.studies import qq_points
from ..views.style import STYLE
from .canvas import add_note, figure_legend, new_figure, save_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes



#: Colour of the title of a panel whose case failed.
FAIL_COLOUR = "#b91c1c"


def write_figures(report: Report, folder: Path) -> list[Path]:
    """``qq.png`` and one ``trajectories-<family>.png`` per family, into ``folder``."""
    paths = []
    qq = [(panel, r.passed) for r in report.cases for panel in r.outcome.qq]
    if qq:
        paths.append(save_figure(_qq_figure(report, qq), folder / "qq.png"))
    families = list(dict.fromkeys(r.case.family for r in report.cases))
    for family in families:
        series = [(s, r.passed) for r in report.cases if r.case.family == family
                  for s in r.outcome.series]
        if series:
            fig = _trajectory_figure(report, family, series)
            paths.append(save_figure(fig, folder / f"trajectories-{family}.png"))
    return paths


def _subtitle(report: Report, what: str) -> str:
    if not report.passed:
        what += " Red title (FAIL): a panel of a case with a failing check."
    return f"{report.set_name} set · seed {report.seed} · {report.verdict()}\n{what}"


def _panel_title(ax: Axes, title: str, passed: bool) -> None:
    text = "\n".join(textwrap.wrap(title if passed else f"FAIL · {title}", 60))
    ax.set_title(text, loc="left", fontsize=STYLE.label_size,
                 color=STYLE.truth if passed else FAIL_COLOUR)


def _grid(n: int) -> tuple[int, int]:
    ncols = min(n, 3)
    return math.ceil(n / ncols), ncols


def _trajectory_figure(report: Report, family: str, series: list[tuple[Series, bool]]) -> Any:
    nrows, ncols = _grid(len(series))
    fig, axes = new_figure(
        f"modelcollapse verify: {family}, simulated against exact theory",
        _subtitle(report, "Band: simulated mean ± 2 standard errors over the replicates; black "
                          "line: the exact value from modelcollapse.theory."),
        panel_size=(4.4, 3.2), nrows=nrows, ncols=ncols)
    for ax, (s, passed) in zip(axes, series, strict=False):
        t = np.arange(s.mean.size)
        ax.fill_between(t, s.mean - 2 * s.se, s.mean + 2 * s.se, color=STYLE.main, alpha=0.25,
                        linewidth=0)
        ax.plot(t, s.mean, color=STYLE.main, linewidth=1.0, marker="o", markersize=2.5)
        ax.plot(t, s.exact, color=STYLE.truth, linewidth=1.3)
        if s.limit is not None:
            ax.axhline(s.limit, color=STYLE.muted, linestyle="--", linewidth=1.0)
        _panel_title(ax, s.title, passed)
        ax.set_xlabel("generation t", fontsize=STYLE.label_size)
        ax.set_ylabel(s.ylabel, fontsize=STYLE.label_size)
        if s.note:
            add_note(ax, s.note, loc="upper right")
    for ax in axes[len(series):]:
        ax.set_visible(False)
    handles: list[Any] = [
        Patch(facecolor=STYLE.main, alpha=0.35, edgecolor=STYLE.main,
              label="simulated mean ± 2 SE"),
        Line2D([], [], color=STYLE.truth, linewidth=1.3, label="exact"),
    ]
    if any(s.limit is not None for s, _ in series):
        handles.append(Line2D([], [], color=STYLE.muted, linestyle="--",
                              label="exact long-run value (stationary or limit)"))
    figure_legend(fig, handles)
    return fig


def _qq_figure(report: Report, panels: list[tuple[QQ, bool]]) -> Any:
    nrows, ncols = _grid(len(panels))
    fig, axes = new_figure(
        "modelcollapse verify: simulated against exact laws (QQ)",
        _subtitle(report, "Each point: a quantile of the simulated values (y) against the same "
                          "quantile of the exact law (x), at levels 0.001 … 0.999; for a "
                          "discrete law, one point per value, at the middle of its step. On the "
                          "line y = x when the laws agree."),
        panel_size=(4.4, 3.6), nrows=nrows, ncols=ncols)
    for ax, (panel, passed) in zip(axes, panels, strict=False):
        exact, simulated = qq_points(panel)
        low, high = min(exact.min(), simulated.min()), max(exact.max(), simulated.max())
        ax.plot([low, high], [low, high], color=STYLE.truth, linewidth=1.2)
        ax.plot(exact, simulated, linestyle="none", marker="o", markersize=3.5,
                color=STYLE.main, alpha=0.6)
        ax.xaxis.set_major_locator(AutoLocator())  # quantiles need not be integers
        _panel_title(ax, panel.title, passed)
        ax.set_xlabel(f"exact quantile of {panel.label}", fontsize=STYLE.label_size)
        ax.set_ylabel(f"simulated quantile of {panel.label}", fontsize=STYLE.label_size)
        add_note(ax, f"{panel.simulated.size:,} replicates", loc="lower right")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure_legend(fig, [
        Line2D([], [], linestyle="none", marker="o", color=STYLE.main, label="simulated quantile"),
        Line2D([], [], color=STYLE.truth, linewidth=1.2, label="exact (y = x)"),
    ])
    return fig
