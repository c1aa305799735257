"""The scatter picture per generation (``scatter.png``) of a family with points in the plane.

:func:`scatter_figure` draws replicate 0's training points at the run's pictured generations
(:func:`modelcollapse.loop.pictured_generations`: 0, 1, 2, 5, 10, … and ``G − 1``, at most 8,
at most 500 points each) as small multiples with shared limits, the truth's panel first, so the
eye sees the cloud shrink, drift, split or spread generation after generation. It is drawn for
every run whose result holds points (:meth:`~modelcollapse.results.run.Result.point_sets`),
whatever the family; the panels and limits come from :func:`modelcollapse.views.scatter.
scatter_view`, which the HTML report shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator

from ..views.run import plural
from ..views.scatter import point_alpha, scatter_view
from ..views.style import STYLE
from .canvas import FigureRun, add_note, grid_shape, new_figure

if TYPE_CHECKING:
    from ..results.run import Result

#: Most panels in one row.
MAX_COLUMNS = 4


def scatter_figure(result: Result) -> Figure:
    """Replicate 0's training points at each pictured generation, one panel each.

    Parameters
    ----------
    result
        A run whose :meth:`~modelcollapse.results.run.Result.point_sets` is not empty.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per pictured generation, the truth's (t = 0, black) first, the fitted models'
        in blue; every panel has the same limits (all points of all panels), points are small
        and translucent so density shows as darkness.

    Raises
    ------
    ValueError
        When the run kept no points (its family has none in the plane).
    """
    view = scatter_view(result.point_sets())
    if view is None:
        raise ValueError("this run kept no points to draw (its family has no points in the "
                         "plane)")
    run = FigureRun.of(result)
    nrows, ncols = grid_shape(len(view.panels), MAX_COLUMNS)
    most = max(p.points.shape[0] + p.dropped for p in view.panels)
    fig, axes = new_figure(
        view.title(run.config.model.name),
        run.subtitle(f"replicate 0's training set, {plural(most, 'point')} of each "
                     "generation, evenly spaced through it"),
        panel_size=(2.9, 2.7), nrows=nrows, ncols=ncols)
    for i, ax in enumerate(axes):
        if i >= len(view.panels):
            ax.set_visible(False)
            continue
        panel = view.panels[i]
        truth = panel.generation == 0
        ax.xaxis.set_major_locator(AutoLocator())  # coordinates, not generations
        ax.scatter(panel.points[:, 0], panel.points[:, 1], s=5, linewidths=0,
                   color=STYLE.truth if truth else STYLE.main,
                   alpha=point_alpha(panel.points.shape[0]), zorder=2)
        ax.set_xlim(*view.x_range)
        ax.set_ylim(*view.y_range)
        ax.set_title(f"{panel.label} · {panel.points.shape[0]:,} points",
                     fontsize=STYLE.label_size + 1, loc="left",
                     fontweight="bold" if truth else "normal")
        if panel.dropped:
            add_note(ax, f"{plural(panel.dropped, 'point')} not finite (not drawn)")
        if i // ncols == nrows - 1 or i + ncols >= len(view.panels):
            ax.set_xlabel("x", fontsize=STYLE.label_size)
        if i % ncols == 0:
            ax.set_ylabel("y", fontsize=STYLE.label_size)
    return fig
