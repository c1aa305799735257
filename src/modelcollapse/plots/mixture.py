"""Figures of the Gaussian mixture: each component's variance, and the fitted densities.

:func:`variance_figure` (``variance.png``) draws every replicate's fitted variance of each
component against generation, with its median and 5–95% band and the true variance;
:func:`density_figure` (``density.png``) draws the true density beside every replicate's fitted
mixture after the first and the last generation, with a needle-thin collapsed component drawn on
its own grid of points rather than stepped over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..views.run import choose_scale, mixture_density, quantile_bands
from ..views.style import STYLE
from .canvas import (
    FigureRun,
    add_note,
    draw_lines,
    figure_legend,
    grid_shape,
    line_alpha,
    new_figure,
    on_scale,
    set_data_limits,
    truth_line,
)

if TYPE_CHECKING:

    from ..results.run import Result


#: Fitted densities higher than this multiple of the truth's peak are clipped in ``density.png``.
DENSITY_CLIP = 3.0

#: ``density.png`` spans the x where some density exceeds this fraction of the truth's peak.
DENSITY_VISIBLE = 2e-3


def variance_figure(result: Result) -> Figure:
    """Each mixture component's fitted variance σ² against generation (``variance.png``).

    One panel per component (components sorted by mean): every replicate as a thin line, the
    median, the 5–95% band, and the true variance as a dashed line. All panels share a y-axis,
    logarithmic when the variances span more than :data:`LOG_DECADES` decades.
    """
    run = FigureRun.of(result)
    model: Any = run.config.model
    k = int(model.n_components)
    var = np.stack([np.square(run.traj(f"std_{i}")) for i in range(k)])  # [K, R, G + 1]
    scale, floor = choose_scale(var)
    nrows, ncols = grid_shape(k, 3)
    fig, axes = new_figure(
        "Fitted variance σ² of each mixture component, generation by generation",
        run.subtitle(), panel_size=(4.8, 3.3), nrows=nrows, ncols=ncols, sharey=True)
    t = np.arange(var.shape[2], dtype=float)
    handles: list[Any] = []
    for i, ax in zip(range(k), axes, strict=False):
        color = STYLE.components[i % len(STYLE.components)]
        values = on_scale(var[i], scale, floor)
        n = values.shape[0]
        draw_lines(ax, t, values, color=color, alpha=line_alpha(n), linewidth=0.6)
        band = on_scale(quantile_bands(var[i], [5.0, 50.0, 95.0]), scale, floor)
        ax.fill_between(t, band[0], band[2], color=color, alpha=0.2, lw=0, zorder=2)
        ax.plot(t, band[1], color=color, lw=2.2, zorder=3, solid_capstyle="round")
        true_var = float(model.stds[i]) ** 2
        truth_line(ax, true_var, "truth")
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
    set_data_limits(axes[0], t, np.append(on_scale(var, scale, floor).ravel(),
                                           np.square(model.stds)), scale)
    for i, ax in enumerate(axes[:k]):
        ax.set_yscale(scale)
        if floor is not None and i == 0:
            add_note(ax, f"σ² below {floor:.2g} drawn at {floor:.2g}")
    if run.prediction is not None:
        # Theory covers the mixture's total variance (metrics.png), not a component's.
        for ax in axes[:k]:
            ax.set_title("no exact result", loc="right", fontsize=STYLE.note_size,
                         color=STYLE.muted)
        ax.set_xlim(0, max(t[-1], 1))
    for ax in axes[k:]:
        ax.set_visible(False)
    figure_legend(fig, handles)
    return fig


def density_figure(result: Result) -> Figure:
    """The true mixture density beside the fitted ones at ``t = 1`` and ``t = G`` (``density.png``).

    Each panel draws the truth as a thick black line and every replicate's fitted mixture as a thin
    line (coloured per replicate when there are at most ten). Spikes of collapsed components are
    clipped at :data:`DENSITY_CLIP` times the truth's peak, and the panel says so.
    """
    run = FigureRun.of(result)
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
    fig, axes = new_figure(
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
                               alpha=0.8 if n <= 10 else line_alpha(n), zorder=2)
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
    figure_legend(fig, [Line2D([], [], color=STYLE.truth, lw=2.4, label="truth"),
                         Line2D([], [], color=fitted_color, lw=0.8, label=fitted_label)])
    return fig
