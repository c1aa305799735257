"""Figures of the coin: every rollout's p̂, and the fraction absorbed by each generation.

:func:`paths_figure` (``paths.png``) colours each rollout by where it ends (fixed at 1, fixed at 0,
still drifting) beside theory's ``E p_t`` and exact 5–95% band; :func:`absorbed_figure`
(``absorbed.png``) draws the fraction of all rollouts absorbed by each generation beside theory's
exact law, from the per-replicate table (so every rollout counts, even when only a few hundred
trajectories are kept). :class:`Curve` adds labelled lines to the latter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..views.run import absorbed_fractions, replicates_text, theory_pieces_real
from ..views.style import STYLE
from .canvas import (
    FigureRun,
    add_note,
    draw_lines,
    figure_legend,
    line_alpha,
    new_figure,
    truth_line,
)
from .metrics import draw_theory

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from ..results.run import Result


def paths_figure(result: Result) -> Figure:
    """Every coin rollout's p̂ against generation (``paths.png``).

    Rollouts are coloured by where they end: fixed at 1, fixed at 0, or still drifting at the last
    generation. The truth ``p0`` is a dashed line; theory's ``E p_t`` and its exact 5–95% band
    (from the law of ``p_t``) are overlaid.
    """
    run = FigureRun.of(result)
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
    fig, axes = new_figure("Coin rollouts: the estimated p̂ refitted generation after generation",
                            run.subtitle(), panel_size=(8.0, 4.4))
    ax = axes[0]
    alpha = line_alpha(n)
    handles: list[Any] = []
    for label, color, keep in groups:
        count = int(keep.sum())
        if count:
            draw_lines(ax, t, p[keep], color=color, alpha=alpha, linewidth=0.9)
        handles.append(Line2D([], [], color=color, lw=1.5,
                              label=f"{label} at t = {g:,}: {count:,} of {n:,}"))
    p0 = float(run.config.model.truth())
    handles.append(truth_line(ax, p0, f"truth p0 = {p0:g}"))
    ax.set_xlim(0, max(g, 1))
    ax.set_ylim(-0.03, 1.03)
    handles += draw_theory(ax, run.theory("p"), what="p̂")
    ax.set_xlabel("generation t (fits since the truth)", fontsize=STYLE.label_size)
    ax.set_ylabel("p̂ = heads / tosses (probability)", fontsize=STYLE.label_size)
    figure_legend(fig, [h for h in handles if h is not None])
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
    run = FigureRun.of(result)
    replicates = result.replicates
    g = int(run.config.n_generations)
    # With fresh tosses every generation p̂ can touch 0 or 1 and leave again.
    sticky = theory_pieces_real(run.config) == 0
    title = ("Coin rollouts absorbed at p̂ = 0 or 1 by each generation" if sticky else
             "Coin rollouts whose p̂ has touched 0 or 1 (fresh tosses: it can leave)")
    fig, axes = new_figure(title,
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
        add_note(axes[0], "no exact law of the absorption time for this policy", loc="upper left")
    figure_legend(fig, lines)
    return fig
