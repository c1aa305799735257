"""A run page's charts of the fitted distribution (``gaussian``, ``gmm``).

:func:`density_charts`: a heatmap of one replicate's fitted density over x and generation, and the
truth beside the fitted densities at 1, 10%, 25%, 50% and 100% of the run, with a menu to pick
the replicate. Each heatmap cell holds the bin's mean density (:func:`bin_density`, the exact
probability of the bin divided by its width), so a component collapsing to a needle narrower than
a bin keeps its mass and stays visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..views.run import (
    mixture_density,
)
from ..views.style import STYLE
from .figures import GENERATION, dropdown, figure, layout, line, thin
from .page import Chart, typed
from .view import HEAT_COLUMNS, HEAT_ROWS, ReportRun

if TYPE_CHECKING:
    pass


#: Replicates offered in the density charts' menus.
DENSITY_REPLICATES = 5

#: Fitted densities above this multiple of the truth's peak saturate the heatmap's colours.
DENSITY_CLIP = 3.0


def _mixture_params(run: ReportRun, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and standard deviations ``[R, G + 1, K]`` of the first ``n`` replicates."""
    model: Any = run.config.model
    if model.name == "gaussian":
        mean = run.traj("mean")[:n, :, None]
        return np.ones_like(mean), mean, np.sqrt(np.maximum(run.traj("var")[:n, :, None], 0.0))
    k = int(model.n_components)
    return tuple(np.stack([run.traj(f"{name}_{i}")[:n] for i in range(k)], axis=-1)
                 for name in ("weight", "mean", "std"))  # type: ignore[return-value]


def _x_range(w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> tuple[float, float]:
    """Where the truth and the visible fitted components lie (± 4σ), not wider than 4 × the
    truth's own span, so one exploding component does not flatten the rest."""
    mu0, sd0 = mu[0, 0], sd[0, 0]
    lo0, hi0 = float(np.min(mu0 - 4 * sd0)), float(np.max(mu0 + 4 * sd0))
    visible = (w > 1e-3) & np.isfinite(mu) & np.isfinite(sd)
    lo = min(lo0, float(np.min((mu - 4 * sd)[visible]))) if visible.any() else lo0
    hi = max(hi0, float(np.max((mu + 4 * sd)[visible]))) if visible.any() else hi0
    centre, span = (lo0 + hi0) / 2, hi0 - lo0
    return max(lo, centre - 2 * span), min(hi, centre + 2 * span)


def bin_density(centres: np.ndarray, weights: np.ndarray, means: np.ndarray,
                stds: np.ndarray) -> np.ndarray:
    """Mixtures' mean density over the bins centred on the evenly spaced ``centres``.

    Each bin's probability mass ``Σ_k w_k [Φ((b − μ_k)/σ_k) − Φ((a − μ_k)/σ_k)]`` divided by its
    width: unlike the density at the centres, it keeps a collapsed component, narrower than a
    bin, visible as one bright bin.

    Parameters
    ----------
    centres
        ``[X]`` evenly spaced.
    weights, means, stds
        ``[T, K]``.

    Returns
    -------
    numpy.ndarray
        ``[T, X]``; NaN where a mixture is not finite.
    """
    from scipy.special import ndtr

    step = centres[1] - centres[0]
    edges = np.append(centres - step / 2, centres[-1] + step / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (edges[None, :, None] - means[:, None, :]) / stds[:, None, :]  # [T, X + 1, K]
        cdf = (weights[:, None, :] * ndtr(z)).sum(axis=-1)
    out = np.diff(cdf, axis=1) / step
    out[~np.isfinite(out)] = np.nan
    return out


def density_charts(run: ReportRun) -> list[Chart]:
    """The fitted density over x and generation (heatmap) and at a few generations (lines)."""
    n = min(DENSITY_REPLICATES, run.shown)
    w, mu, sd = _mixture_params(run, n)
    lo, hi = _x_range(w, mu, sd)
    x = np.linspace(lo, hi, HEAT_COLUMNS)
    rows = thin(run.g + 1, HEAT_ROWS)
    peak = float(mixture_density(x, w[0, 0], mu[0, 0], sd[0, 0]).max())
    heat = []
    for r in range(n):
        z = bin_density(x, w[r, rows], mu[r, rows], sd[r, rows])
        heat.append({"type": "heatmap", "x": typed(x), "y": typed(rows, "i4"),
                     "z": typed(np.where(np.isfinite(z), z, np.nan), "f4"),
                     "zmin": 0.0, "zmax": DENSITY_CLIP * peak, "zauto": False,
                     "colorscale": "Viridis", "visible": r == 0, "name": f"replicate {r}",
                     "colorbar": {"title": {"text": "density"}, "thickness": 14},
                     "hovertemplate": "x = %{x:.3g}<br>t = %{y}<br>density %{z:.3g}"
                                      "<extra></extra>"})
    menus = [dropdown([str(r) for r in range(n)], [[i == r for i in range(n)] for r in range(n)],
                      title="replicate ")] if n > 1 else []
    heat_chart = Chart(
        "density-heatmap", "The fitted density over x and generation",
        figure(heat, layout("x (data units)", GENERATION, hovermode="closest", showlegend=False,
                            updatemenus=menus, margin={"t": 40})),
        f"Each row is one generation's fitted density of one replicate (pick it in the menu), "
        f"averaged over each of {HEAT_COLUMNS} bins of x; colours saturate at {DENSITY_CLIP:g}× "
        "the truth's peak. A component that collapses shows as a thin bright line, one that "
        "widens as a fading smear.", height=520)

    g = run.g
    chosen = sorted({0, 1, g // 10, g // 4, g // 2, g} - {0}) if g >= 1 else [0]
    palette = ["#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b", "#041d44"][-len(chosen):]
    offsets = np.array([-4, -3, -2, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2, 3, 4.0])
    data: list[dict[str, Any]] = []
    visible = []
    top = peak
    for r in range(n):
        for j, t in enumerate(chosen):
            # The common grid plus points across each component: a needle is drawn, not skipped.
            extra = (mu[r, t][:, None] + sd[r, t][:, None] * offsets).ravel()
            xs = np.sort(np.concatenate([x, np.clip(extra[np.isfinite(extra)], lo, hi)]))
            ys = np.minimum(mixture_density(xs, w[r, t], mu[r, t], sd[r, t]),
                            2 * DENSITY_CLIP * peak)
            top = max(top, float(np.nanmax(ys)) if np.isfinite(ys).any() else top)
            data.append(line(xs, ys, f"t = {t:,}", color=palette[j % len(palette)], width=1.6,
                             visible=r == 0, group=f"t{t}",
                             hover=f"t = {t:,}: %{{y:.3g}}<extra></extra>"))
            visible.append(r)
    truth_x = np.sort(np.concatenate([x, mu[0, 0]]))
    data.append(line(truth_x, mixture_density(truth_x, w[0, 0], mu[0, 0], sd[0, 0]), "truth",
                     color=STYLE.truth, width=2.6, hover="truth: %{y:.3g}<extra></extra>"))
    visible.append(-1)
    menus = [dropdown([str(r) for r in range(n)],
                      [[v in (r, -1) for v in visible] for r in range(n)],
                      title="replicate ")] if n > 1 else []
    # Needles of collapsed components would squash everything else: clip the axis, say so.
    clipped = top > DENSITY_CLIP * peak
    y_axis = {"range": [0, 1.05 * DENSITY_CLIP * peak]} if clipped else {}
    lines_chart = Chart(
        "density-lines", "The truth and the fitted density at selected generations",
        figure(data, layout("x (data units)", "density (1 / data unit)", hovermode="x unified",
                            updatemenus=menus, yaxis=y_axis)),
        "The truth (black) and one replicate's fitted density after 1 fit and at 10%, 25%, 50% "
        "and 100% of the run (light to dark). Pick the replicate in the menu; click a legend "
        "entry to hide a generation."
        + (f" The y axis stops at {DENSITY_CLIP:g}× the truth's peak; collapsed components go "
           "higher (double-click the chart to see them in full)." if clipped else ""),
        height=420)
    return [heat_chart, lines_chart]
