"""The gmm family's figures in d ≥ 2 dimensions, and the dispatch by dimension.

:func:`gmm_variance_figure` and :func:`gmm_density_figure` are what ``FAMILY_FIGURES["gmm"]``
builds: in 1-D they are :func:`~modelcollapse.plots.mixture.variance_figure` and
:func:`~modelcollapse.plots.mixture.density_figure` unchanged; in d ≥ 2 (``--dim``)

``variance.png``
    each component's ``std_i² = tr Σ_i / d`` against generation (every replicate, median,
    5–95% band, the truth's value);
``density.png``
    the first replicate's training points (first two coordinates) at the first and the last
    pictured generation, over the truth's 1σ and 2σ ellipses; the fitted components of the
    first replicate are drawn as circles of radius ``2 std_i`` about their means (the run
    records each fit's means and ``tr Σ_i``, not its full covariance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Ellipse, Patch

from ..views.run import quantile_bands
from ..views.style import STYLE
from .canvas import FigureRun, draw_lines, figure_legend, grid_shape, line_alpha, new_figure
from .mixture import density_figure, variance_figure

if TYPE_CHECKING:
    from ..results.run import Result


def _dim(result: Result) -> int:
    return int(getattr(result.config.model, "dim", 1))


def gmm_variance_figure(result: Result) -> Figure:
    """``variance.png``: the 1-D figure in 1-D; each component's ``tr Σ_i / d`` in d ≥ 2."""
    if _dim(result) == 1:
        return variance_figure(result)
    run = FigureRun.of(result)
    model: Any = run.config.model
    k, d = int(model.n_components), int(model.dim)
    nrows, ncols = grid_shape(k, 3)
    fig, axes = new_figure(f"Fitted spread tr Σ / {d} of each mixture component, generation by "
                           "generation", run.subtitle(), panel_size=(4.8, 3.3), nrows=nrows,
                           ncols=ncols, sharey=True)
    means = np.asarray(model.means).reshape(k, d)
    handles: list[Any] = []
    for i, ax in zip(range(k), axes, strict=False):
        values = np.square(run.traj(f"std_{i}"))
        t = np.arange(values.shape[1], dtype=float)
        color = STYLE.components[i % len(STYLE.components)]
        draw_lines(ax, t, values, color=color, alpha=line_alpha(values.shape[0]), linewidth=0.6)
        band = quantile_bands(values, [5.0, 50.0, 95.0])
        ax.fill_between(t, band[0], band[2], color=color, alpha=0.2, lw=0, zorder=2)
        ax.plot(t, band[1], color=color, lw=2.2, zorder=3)
        ax.axhline(float(model.stds[i]) ** 2, color=STYLE.truth, lw=1.1, ls=(0, (5, 3)))
        centre = ", ".join(f"{v:g}" for v in means[i])
        ax.set_title(f"Component {i}: truth mean ({centre}), weight {model.weights[i]:g}",
                     fontsize=STYLE.label_size + 1, loc="left")
        ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
        if i % ncols == 0:
            ax.set_ylabel(f"tr Σ / {d} (data units²)", fontsize=STYLE.label_size)
        handles = [Line2D([], [], color="#555555", lw=0.8, label="each replicate"),
                   Line2D([], [], color="#555555", lw=2.2, label="median"),
                   Patch(color="#555555", alpha=0.25, label="5–95% of replicates"),
                   Line2D([], [], color=STYLE.truth, lw=1.1, ls=(0, (5, 3)), label="truth")]
    for ax in axes[k:]:
        ax.set_visible(False)
    figure_legend(fig, handles)
    return fig


def _truth_ellipses(ax: Any, means: np.ndarray, covs: np.ndarray) -> None:
    """The truth's 1σ and 2σ ellipses in the first two coordinates."""
    for mean, cov in zip(means, covs, strict=True):
        values, vectors = np.linalg.eigh(cov[:2, :2])
        angle = float(np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])))
        for scale in (1.0, 2.0):
            ax.add_patch(Ellipse((mean[0], mean[1]), 2 * scale * np.sqrt(values[1]),
                                 2 * scale * np.sqrt(values[0]), angle=angle, fill=False,
                                 color=STYLE.truth, lw=1.6 if scale == 1 else 0.9, zorder=3))


def gmm_density_figure(result: Result) -> Figure:
    """``density.png``: the 1-D densities in 1-D; in d ≥ 2 the points of the first replicate and
    its fitted components at the first and last pictured generation, over the truth."""
    if _dim(result) == 1:
        return density_figure(result)
    run = FigureRun.of(result)
    model: Any = run.config.model
    k, d = int(model.n_components), int(model.dim)
    means = np.asarray(model.means).reshape(k, d)
    covs = np.asarray(model.covs).reshape(k, d, d)
    sets = result.point_sets()
    g = run.n_generations
    pictured = sorted(sets) if sets else []
    generations = [pictured[0], pictured[-1]] if len(pictured) > 1 else (pictured or [0, g])
    fig, axes = new_figure("Training points and fitted components (first two coordinates), "
                           "first vs last pictured generation", run.subtitle(),
                           panel_size=(4.6, 4.2), ncols=len(generations))
    for ax, t in zip(axes, generations, strict=True):
        if t in sets:
            xy = sets[t]
            ax.scatter(xy[:, 0], xy[:, 1], s=3, color=STYLE.main, alpha=0.35, lw=0, zorder=1)
        _truth_ellipses(ax, means, covs)
        for i in range(k):
            w = run.traj(f"weight_{i}")[0, t]
            if not w > 1e-3:
                continue
            centre = (run.traj(f"mean_{i}_0")[0, t], run.traj(f"mean_{i}_1")[0, t])
            radius = 2 * run.traj(f"std_{i}")[0, t]
            color = STYLE.components[i % len(STYLE.components)]
            if np.isfinite(radius) and np.isfinite(centre).all():
                ax.add_patch(Circle(centre, radius, fill=False, color=color, lw=1.4, zorder=4))
                ax.plot(*centre, marker="+", color=color, ms=9, zorder=5)
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
        ax.set_title(f"generation t = {t:,}", fontsize=STYLE.label_size + 1, loc="left")
        ax.set_xlabel("x₀ (data units)", fontsize=STYLE.label_size)
        ax.set_ylabel("x₁ (data units)", fontsize=STYLE.label_size)
    figure_legend(fig, [
        Line2D([], [], color=STYLE.main, marker="o", ls="", ms=4, alpha=0.5,
               label="training points (replicate 0)"),
        Line2D([], [], color=STYLE.truth, lw=1.6, label="truth: 1σ and 2σ ellipses"),
        Line2D([], [], color=STYLE.components[0], lw=1.4,
               label="fit (replicate 0): circle of radius 2·√(tr Σ_i / d)")])
    return fig
