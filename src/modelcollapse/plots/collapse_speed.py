"""Figures of the collapse-speed comparisons (:mod:`modelcollapse.studies.collapse_speed`).

:func:`coin_speed_figure`
    Left: the coin's mean absorption time against ``k`` on log–log axes, simulated (± 2 SE),
    exact (Markov chain) and Kimura's diffusion approximation, with a panel of ratios to the
    exact value beneath (where the approximation's error shows). Right: the probability of being
    absorbed by generation ``t`` against ``t/k``, simulated and exact for a few ``k``, beside the
    diffusion limit they approach.
:func:`variance_speed_figure`
    Left: the time until the variance falls below ``c var₀`` against the fraction of fresh real
    data (median and interquartile range of the replicates; ``> G`` for replicates that never
    did), with the exact law where it exists. Right: the median ``var_t/var₀`` per fraction with
    its interquartile band, the simulated mean and the exact ``E var_t/var₀``, and the
    threshold. (The 5–95% percentiles are in ``curves.csv``; drawn for five fractions at once
    their bands hide the medians.)

:func:`truncation_speed_figure`
    The n-gram language model: left, the share of its training text from the truth's rarest 10%
    of types, relative to the truth's, against generation, one colour per top-p and one line
    style per fraction of real text (mean ± 2 SE); right, the token types still present.
:func:`~modelcollapse.plots.curation_speed.curation_speed_figure`
    What curation does (in :mod:`modelcollapse.plots.curation_speed`): reward, diversity and
    tail against generation, one row per family.

All use the look of :mod:`modelcollapse.plots.canvas` (:data:`~modelcollapse.views.style.STYLE`,
header and Agg canvas: no display, nothing registered in pyplot).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..studies.collapse_speed.coin import CoinSpeed, diffusion_survival
from ..studies.collapse_speed.curation import CurationSpeed
from ..studies.collapse_speed.truncation import TruncationSpeed
from ..studies.collapse_speed.variance import VarianceSpeed
from ..views.studies import absorption_curves
from ..views.style import STYLE
from .canvas import add_note, figure_legend, new_figure, save_figure, style_axes
from .curation_speed import curation_speed_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One colour per k or per fraction, in increasing order: from the collapsing end (red) to the
#: protected end (blue), so order reads at a glance; more than six fall back on STYLE.components.
ORDERED = ("#c0262d", "#e08214", "#7a9a01", "#17928a", "#2b5fb8", "#6a3d9a")
#: Most ``k`` drawn in the absorption-probability panel.
CDF_CURVES = 4
#: Right edge of that panel, in units of ``t/k`` (the exact P(T > t) is about 1.5 e^{−t/k}).
CDF_SPAN = 5.0


def _colors(n: int) -> list[str]:
    if n <= len(ORDERED):
        # Spread a short list over the palette so neighbours stay distinct.
        picks = np.round(np.linspace(0, len(ORDERED) - 1, n)).astype(int) if n > 1 else [0]
        return [ORDERED[i] for i in picks]
    return [STYLE.components[i % len(STYLE.components)] for i in range(n)]


def _plain_log_ticks(ax: Axes, axis: str) -> None:
    """Log axis ticks written as plain numbers (1, 10, 100, 1,000), not powers of ten."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def _pick_cdf_ks(ks: list[int]) -> list[int]:
    """At most :data:`CDF_CURVES` values of ``k ≥ 2``, spread evenly on a log scale."""
    usable = [k for k in ks if k >= 2] or ks
    if len(usable) <= CDF_CURVES:
        return usable
    targets = np.geomspace(usable[0], usable[-1], CDF_CURVES)
    chosen: list[int] = []
    for target in targets:
        best = min((k for k in usable if k not in chosen), key=lambda k: abs(math.log(k / target)))
        chosen.append(best)
    return sorted(chosen)


# -- the coin ---------------------------------------------------------------------------------


def coin_speed_figure(result: CoinSpeed) -> Figure:
    """Mean absorption time against ``k`` and absorption probability against ``t/k``."""
    rows = result.rows
    ks = np.array([r.k for r in rows], dtype=float)
    colors = dict(zip([r.k for r in rows], _colors(len(rows)), strict=True))
    horizons = ", ".join(f"{r.horizon:,}" for r in rows)
    subtitle = (f"coin, p0 = {result.p0:g}, refitted to its own k tosses each generation "
                f"(policy replace) · {result.n_replicates:,} rollouts per k · seed {result.seed}\n"
                f"each k simulated until the exact probability of not being absorbed is below "
                f"1e-6 (horizons {horizons} generations)")
    fig, axes = new_figure("How fast does the coin collapse? Mean absorption time grows in "
                            "proportion to k", subtitle, panel_size=(5.4, 4.9), ncols=2)
    # Left column: the log–log panel over a short panel of ratios to the exact value.
    spec = axes[0].get_subplotspec()
    axes[0].remove()
    inner = spec.subgridspec(2, 1, height_ratios=(3.0, 1.35), hspace=0.05)
    ax = fig.add_subplot(inner[0])
    ratio = fig.add_subplot(inner[1], sharex=ax)
    for a in (ax, ratio):
        style_axes(a, integer_x=False)

    grid = np.geomspace(ks.min() / 1.4, ks.max() * 1.4, 200)
    p = result.p0
    diffusion = -2 * grid * (p * math.log(p) + (1 - p) * math.log(1 - p))
    exact = np.array([r.exact_mean for r in rows])
    (diff_line,) = ax.plot(grid, diffusion, color=STYLE.muted, lw=1.4, ls=(0, (5, 3)),
                           zorder=2, label="diffusion approximation −2k[p ln p + (1−p) ln(1−p)]")
    (exact_line,) = ax.plot(ks, exact, color=STYLE.truth, lw=1.0, marker="D", ms=8,
                            mfc="white", mec=STYLE.truth, mew=1.1, zorder=3,
                            label="exact (Markov chain)")
    for row in rows:
        ax.errorbar([row.k], [row.mean], yerr=[[2 * row.se], [2 * row.se]], fmt="o", ms=4.2,
                    color=colors[row.k], ecolor=colors[row.k], elinewidth=1.4, capsize=3,
                    zorder=4)
        ax.annotate(f"{row.exact_mean:,.4g}", (row.k, row.exact_mean), xytext=(7, -10),
                    textcoords="offset points", fontsize=STYLE.note_size, color=STYLE.muted)
    sim_handle = Line2D([], [], color=STYLE.main, marker="o", ms=4.2, lw=0,
                        label="simulated mean ± 2 SE (colour = k)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_ticks(ax, "y")
    ax.set_ylim(max(float(exact.min()), 0.5) / 1.8, float(max(exact.max(), diffusion.max())) * 1.5)
    ax.tick_params(labelbottom=False)
    ax.set_ylabel("mean absorption time E T (generations)", fontsize=STYLE.label_size)
    ax.set_title("Mean generations until p̂ hits 0 or 1", fontsize=STYLE.label_size + 1,
                 loc="left")
    ax.legend(handles=[exact_line, sim_handle, diff_line], fontsize=STYLE.legend_size - 0.5,
              loc="upper left", frameon=False)

    ratio.axhline(1.0, color=STYLE.truth, lw=1.0, zorder=2)
    ratio.plot(ks, [r.diffusion / r.exact_mean for r in rows], color=STYLE.muted, lw=1.4,
               ls=(0, (5, 3)), marker="o", ms=3.5, zorder=3)
    for row in rows:
        ratio.errorbar([row.k], [row.mean / row.exact_mean],
                       yerr=[[2 * row.se / row.exact_mean], [2 * row.se / row.exact_mean]],
                       fmt="o", ms=4.2, color=colors[row.k], elinewidth=1.4, capsize=3, zorder=4)
    ratio.set_ylabel("÷ exact", fontsize=STYLE.label_size)
    ratio.set_xlabel("k (tosses per generation)", fontsize=STYLE.label_size)
    _plain_log_ticks(ratio, "x")
    ratio.set_xlim(grid[0], grid[-1])
    add_note(ratio, "dashed: diffusion ÷ exact (too long at small k)\n"
                 "dots: simulated ÷ exact, ± 2 SE", loc="upper right")

    # Right: P(absorbed by t) against t/k.
    cdf_ax = axes[1]
    style_axes(cdf_ax, integer_x=False)
    tau = np.linspace(0, CDF_SPAN, 600)
    (limit,) = cdf_ax.plot(tau, 1 - diffusion_survival(p, tau), color=STYLE.truth, lw=1.2,
                           zorder=5, label="diffusion limit k → ∞ (Kimura 1955)")
    handles: list[Any] = []
    for k in _pick_cdf_ks([r.k for r in rows]):
        row = next(r for r in rows if r.k == k)
        last = min(row.horizon, math.ceil(CDF_SPAN * k))
        scaled, sim, exact_cdf = absorption_curves(result, k, last)
        cdf_ax.step(scaled, sim, where="post", color=colors[k], lw=4.0, alpha=0.35, zorder=3)
        cdf_ax.step(scaled, exact_cdf, where="post", color=colors[k], lw=1.1, ls=(0, (4, 2)),
                    zorder=4)
        handles.append(Patch(color=colors[k], label=f"k = {k:,}"))
    handles += [Line2D([], [], color="#777777", lw=4.0, alpha=0.45,
                       label="simulated (all rollouts)"),
                Line2D([], [], color="#444444", lw=1.1, ls=(0, (4, 2)),
                       label="exact (Markov chain)"),
                limit]
    cdf_ax.set_xlim(0, CDF_SPAN)
    cdf_ax.set_ylim(-0.02, 1.02)
    cdf_ax.set_xlabel("generation t ÷ k", fontsize=STYLE.label_size)
    cdf_ax.set_ylabel("P(absorbed by generation t)", fontsize=STYLE.label_size)
    cdf_ax.set_title("Time scaled by k: the curves fall onto one diffusion curve",
                     fontsize=STYLE.label_size + 1, loc="left")
    cdf_ax.legend(handles=handles, fontsize=STYLE.legend_size - 0.5, loc="lower right",
                  frameon=True, framealpha=0.9, edgecolor="none")
    return fig


# -- the variance ----------------------------------------------------------------------------


def _fraction_label(real: float, n_real: int) -> str:
    if real == 0:
        return "real 0 (replace)"
    return f"real {real:.3g} ({n_real:,} fresh / gen)"


def variance_speed_figure(result: VarianceSpeed) -> Figure:
    """Collapse time against the fraction of real data, and the variance curves behind it."""
    cells = result.cells
    g, c = result.n_generations, result.collapse_fraction
    colors = _colors(len(cells))
    half = "half" if c == 0.5 else f"{c:g} of"
    name = "Gaussian" if result.family.name == "gaussian" else "Gaussian mixture"
    subtitle = (f"{result.family.describe()} · N = {result.n_samples:,} samples per "
                f"generation: a fraction of fresh real data, the rest sampled from the last fit "
                f"(real 0 = replace) · {result.n_replicates:,} replicates · "
                f"{g:,} generations · seed {result.seed}\n"
                f"collapse time T = first generation with var < {c:g} × the truth's variance "
                f"(var₀ = {result.var0:g})")
    if result.family.name == "gmm":
        subtitle += "; var is the fitted mixture's total variance"
    fig, (left, right) = new_figure(
        f"{name}: generations until the variance falls below {half} the truth's, "
        "against the fraction of fresh real data", subtitle, panel_size=(5.6, 4.6), ncols=2)
    style_axes(left, integer_x=False)
    style_axes(right, integer_x=False)
    time_handles = _draw_times(left, result, colors)
    _draw_variance(right, result, colors)

    # One legend below both panels: inside the left panel it would cover the "> G" markers or
    # the medians, depending on the data.
    handles: list[Any] = [Line2D([], [], color=col, lw=2.2,
                                 label=_fraction_label(cell.real, cell.n_real))
                          for cell, col in zip(cells, colors, strict=True)]
    handles += time_handles
    handles += [Patch(color="#777777", alpha=0.25, label="25–75% of replicates"),
                Line2D([], [], color="#555555", lw=0, marker="o", mfc="white", ms=4.5,
                       label="simulated mean"),
                Line2D([], [], color="#555555", lw=1.3, ls=(0, (5, 3)),
                       label="exact E var_t (→ stationary level)"),
                Line2D([], [], color=STYLE.truth, lw=1.0, ls=":",
                       label=f"collapse threshold {c:g} var₀")]
    figure_legend(fig, handles)
    return fig


def _draw_times(ax: Axes, result: VarianceSpeed, colors: list[str]) -> list[Any]:
    """Median and IQR of the collapse time per fraction; ``> G`` drawn at the horizon.

    Returns the legend handles of what was drawn.
    """
    g, c = result.n_generations, result.collapse_fraction
    top = g * 1.9  # room above the horizon for the "> G" markers
    x = np.arange(len(result.cells), dtype=float)

    def at(value: float) -> float:
        return min(value, g) if math.isfinite(value) else g

    legend: dict[str, Any] = {}
    lows: list[float] = []
    for xi, cell, color in zip(x, result.cells, colors, strict=True):
        q25, q50, q75 = (cell.time_quantile(q) for q in (0.25, 0.5, 0.75))
        if math.isfinite(q25):
            lows.append(q25)
            ax.plot([xi, xi], [at(q25), at(q75)], color=color, lw=5, alpha=0.45,
                    solid_capstyle="butt", zorder=2)
        if math.isinf(q75) and math.isfinite(q25):  # the bar runs into the horizon
            ax.plot([xi], [g * 1.18], marker="^", color=color, ms=7, zorder=3)
        if math.isfinite(q50):
            ax.plot([xi], [q50], marker="o", color=color, ms=8, mec="white", mew=1.0, zorder=4)
            legend.setdefault("sim", Line2D([], [], color="#555555", marker="o", ms=7, lw=5,
                                            alpha=0.7, label="collapse time: median, IQR bar"))
        else:
            ax.plot([xi], [g * 1.18], marker="^", color=color, ms=9, mfc="white", mew=1.6,
                    zorder=4)
            ax.annotate(f"median > {g:,}", (xi, g * 1.18), xytext=(0, 8),
                        textcoords="offset points", ha="center", fontsize=STYLE.note_size,
                        color=color)
            legend.setdefault("over", Line2D([], [], color="#555555", marker="^", ms=7, lw=0,
                                             mfc="white", label=f"> {g:,}: not within the run"))
        ax.annotate(f"{cell.collapsed:.0%}\ncollapsed", (xi, 0), xytext=(0, 4),
                    xycoords=("data", "axes fraction"), textcoords="offset points",
                    ha="center", va="bottom", fontsize=STYLE.note_size, color=color)
        if cell.law is not None:
            e25, e50, e75 = (cell.law_quantile(q) for q in (0.25, 0.5, 0.75))
            xe = xi + 0.28
            ax.plot([xe, xe], [at(e25), at(e75)], color=STYLE.truth, lw=1.4, zorder=3)
            ax.plot([xe], [at(e50)], marker="D", ms=6, mfc="white", mec=STYLE.truth, mew=1.2,
                    zorder=4)
            legend.setdefault("law", Line2D([], [], color=STYLE.truth, marker="D", ms=6,
                                            mfc="white", lw=1.4,
                                            label="exact law of T: median, IQR"))
        if cell.log_crossing is not None and cell.log_crossing <= g:
            ax.plot([xi + 0.42], [cell.log_crossing], marker="x", ms=7, color=STYLE.truth,
                    mew=1.5, zorder=4)
            legend.setdefault("cross", Line2D([], [], color=STYLE.truth, marker="x", ms=7, lw=0,
                                              mew=1.5,
                                              label=f"t where exact E log var = log {c:g}"))
    ax.axhline(g, color=STYLE.muted, lw=1.0, ls=":", zorder=1)
    ax.annotate(f"horizon G = {g:,}", (1.0, g), xycoords=("axes fraction", "data"),
                xytext=(-2, -3), textcoords="offset points", ha="right", va="top",
                fontsize=STYLE.note_size, color=STYLE.muted)
    ax.set_yscale("log")
    _plain_log_ticks(ax, "y")
    # Room below the lowest quartile for the "collapsed" labels at the foot of the panel.
    ax.set_ylim(max(min(lows, default=g / 10) / 3.5, 0.5), top)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_xticks(x)
    labels = []
    for cell in result.cells:
        head = "0\n(replace)" if cell.real == 0 else f"{cell.real:.3g}\n{cell.n_real:,} / gen"
        if cell.stationary is not None:
            head += f"\nE var∞ = {cell.stationary:.3f}"
        elif cell.n_real == 0:
            head += "\nE var∞ = 0"
        labels.append(head)
    ax.set_xticklabels(labels, fontsize=STYLE.tick_size - 0.5)
    ax.set_xlabel(f"fraction of fresh real data per generation\n(E var∞: exact stationary mean "
                  f"of var ÷ var₀; above {c:g}, no collapse in expectation)",
                  fontsize=STYLE.label_size)
    ax.set_ylabel(f"collapse time T: generations until var < {c:g} var₀",
                  fontsize=STYLE.label_size)
    ax.set_title("Time to collapse, by fraction of real data", fontsize=STYLE.label_size + 1,
                 loc="left")
    ax.grid(False, axis="x")
    return list(legend.values())


def _draw_variance(ax: Axes, result: VarianceSpeed, colors: list[str]) -> None:
    """Median var/var₀ per fraction with interquartile bands, simulated and exact mean."""
    g, c = result.n_generations, result.collapse_fraction
    t = np.arange(g + 1, dtype=float)
    shown = t >= 1  # generation 0 is the truth; the axis is logarithmic
    marks = np.unique(np.round(np.geomspace(1, g, 14)).astype(int))
    high = 1.05
    for cell, color in zip(result.cells, colors, strict=True):
        q = cell.quantiles
        # The middle half of the replicates: 5–95% bands of five fractions overlap into a
        # murky wash whose noisy upper edges draw the eye away from the medians.
        ax.fill_between(t[shown], q[1, shown], q[3, shown], color=color, alpha=0.13, lw=0,
                        zorder=1)
        ax.plot(t[shown], q[2, shown], color=color, lw=2.0, zorder=3)
        ax.plot(t[shown], cell.exact_mean[shown], color=color, lw=1.3, ls=(0, (5, 3)), zorder=4)
        ax.plot(marks, cell.mean[marks], lw=0, marker="o", ms=4.5, mfc="white", mec=color,
                mew=1.1, zorder=5)
        high = max(high, float(np.max(q[3, shown])), float(np.max(cell.mean[shown])))
    ax.axhline(c, color=STYLE.truth, lw=1.0, ls=":", zorder=2)
    ax.annotate(f"{c:g} var₀", (1.0, c), xycoords=("axes fraction", "data"), xytext=(-2, 3),
                textcoords="offset points", ha="right", va="bottom", fontsize=STYLE.note_size,
                color=STYLE.truth)
    ax.set_xscale("log")
    _plain_log_ticks(ax, "x")
    ax.set_xlim(1, max(g, 2))
    ax.set_ylim(0, min(high * 1.05, 2.0))
    ax.set_xlabel("generation t (log scale)", fontsize=STYLE.label_size)
    ax.set_ylabel("fitted variance ÷ true variance, var_t / var₀", fontsize=STYLE.label_size)
    ax.set_title("Variance over generations: median (solid), exact mean (dashed)",
                 fontsize=STYLE.label_size + 1, loc="left")


def speed_figure(result: CoinSpeed | VarianceSpeed | TruncationSpeed | CurationSpeed) -> Figure:
    """The figure of a :func:`~modelcollapse.studies.collapse_speed.collapse_speed` result."""
    if isinstance(result, CoinSpeed):
        return coin_speed_figure(result)
    if isinstance(result, TruncationSpeed):
        return truncation_speed_figure(result)
    if isinstance(result, CurationSpeed):
        return curation_speed_figure(result)
    return variance_speed_figure(result)


# -- the n-gram language model ------------------------------------------------------------------

#: Line style per fraction of real text (first: none).
REAL_STYLES = ("-", (0, (5, 2.5)), (0, (1.5, 1.5)), (0, (6, 2, 1.5, 2)))


def truncation_speed_figure(result: TruncationSpeed) -> Figure:
    """Tail share and support against generation for every (top-p, real fraction) pair."""
    top_ps = sorted({c.top_p for c in result.cells})  # most truncated first: red
    reals = sorted({c.real for c in result.cells})
    colors = dict(zip(top_ps, _colors(len(top_ps)), strict=True))
    styles = {r: REAL_STYLES[i % len(REAL_STYLES)] for i, r in enumerate(reals)}
    g, c = result.n_generations, result.collapse_fraction
    t = np.arange(g + 1)
    subtitle = (f"{result.family.describe().replace(', plain sampling', '')} · "
                f"N = {result.n_samples:,} tokens per generation, generated with nucleus sampling "
                f"(top-p), plus a fraction of fresh real text (real 0 = replace) · "
                f"{result.n_replicates:,} replicates per line · seed {result.seed}\n"
                f"tail = the truth's rarest 10% of token types, {result.tail0:.2%} of its text; "
                "lines: mean over replicates, bands ± 2 SE. Generation 1 is fitted to real text, "
                "so truncation first shows at t = 2")
    fig, (left, right) = new_figure(
        "How fast a language model loses its rare words: decoding truncation against fresh "
        "real text", subtitle, panel_size=(5.8, 4.4), ncols=2)
    for ax in (left, right):
        style_axes(ax)
    for cell in result.cells:
        color, style = colors[cell.top_p], styles[cell.real]
        for ax, mean, se in ((left, cell.tail, cell.tail_se),
                             (right, cell.support, cell.support_se)):
            ax.fill_between(t, mean - 2 * se, mean + 2 * se, color=color, alpha=0.18, lw=0)
            ax.plot(t, mean, color=color, ls=style, lw=1.8)
    left.axhline(1.0, color=STYLE.truth, lw=1.0, ls="--", zorder=1)
    left.axhline(c, color=STYLE.truth, lw=1.0, ls=":", zorder=1)
    left.set_ylim(bottom=0)
    right.axhline(result.support0, color=STYLE.truth, lw=1.0, ls="--", zorder=1)
    right.set_ylim(bottom=0)
    left.set_title("Tail share of the text, relative to the truth's", loc="left",
                   fontsize=STYLE.label_size + 1)
    left.set_ylabel("tail_share_t / tail_share_0", fontsize=STYLE.label_size)
    right.set_title("Token types still in the text", loc="left", fontsize=STYLE.label_size + 1)
    right.set_ylabel("support (types)", fontsize=STYLE.label_size)
    for ax in (left, right):
        ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
        ax.set_xlim(0, g)
    handles: list[Any] = [Line2D([], [], color=colors[p], lw=2.2, label=f"top-p {p:g}")
                          for p in sorted(top_ps, reverse=True)]
    handles += [Line2D([], [], color="#555555", lw=1.6, ls=styles[r],
                       label="no real text (replace)" if r == 0 else f"{r:.0%} fresh real text")
                for r in reals]
    handles += [Line2D([], [], color=STYLE.truth, lw=1.0, ls="--", label="truth"),
                Line2D([], [], color=STYLE.truth, lw=1.0, ls=":",
                       label=f"half-life threshold {c:g}")]
    figure_legend(fig, handles)
    return fig


#: The figure's file name in a collapse-speed folder.
FILE_NAME = "collapse-speed.png"


def write_speed_figure(result: CoinSpeed | VarianceSpeed | TruncationSpeed | CurationSpeed,
                       folder: Path) -> list[Path]:
    """Write ``collapse-speed.png`` (:func:`speed_figure`) into ``folder``."""
    return [save_figure(speed_figure(result), folder / FILE_NAME)]
