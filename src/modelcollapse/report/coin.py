"""A coin run page's charts: the rollouts, the fraction absorbed, and the law of p̂ over time.

:func:`coin_charts`: every rollout's p̂ coloured by where it ends; the fraction of all rollouts
absorbed by each generation beside theory's exact law; and a heatmap of the share of rollouts at
each value of p̂, generation by generation (the mass draining to the absorbing ends).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..views.run import (
    absorbed_fractions,
    theory_pieces_real,
)
from ..views.style import STYLE
from .figures import GENERATION, figure, layout, line, rgba, theory_traces, thin
from .page import Chart, typed
from .view import HEAT_ROWS, ReportRun

if TYPE_CHECKING:
    pass


#: Coin rollouts drawn in the paths chart.
PATHS = 200


def coin_charts(run: ReportRun) -> list[Chart]:
    """The rollouts, the fraction absorbed by each generation and the law of p̂ over time."""
    p = run.traj("p")
    g = run.g
    sticky = theory_pieces_real(run.config) == 0
    shown = p[:PATHS]
    index = thin(g + 1)
    final = shown[:, -1]
    groups = (("still drifting" if sticky else "inside (0, 1)", STYLE.drifting,
               (final != 0.0) & (final != 1.0)),
              ("fixed at 0" if sticky else "at 0", STYLE.at_zero, final == 0.0),
              ("fixed at 1" if sticky else "at 1", STYLE.at_one, final == 1.0))
    data: list[dict[str, Any]] = []
    alpha = max(0.15, min(0.8, 6.0 / math.sqrt(max(shown.shape[0], 1))))
    for label, color, keep in groups:
        ids = np.flatnonzero(keep)
        if not ids.size:
            continue
        # One trace per group, rollouts separated by a gap: 200 rollouts stay one SVG path each.
        xs = np.concatenate([np.append(index, np.nan) for _ in ids])
        ys = np.concatenate([np.append(shown[i, index], np.nan) for i in ids])
        who = np.concatenate([np.full(index.size + 1, i) for i in ids])
        data.append(line(xs, ys, f"{label} at t = {g:,}: {ids.size:,} of {shown.shape[0]:,}",
                         color=rgba(color, alpha), width=1.0, customdata=typed(who, "i4"),
                         hover="rollout %{customdata}: p̂ = %{y:.3g} at t = %{x}"
                               "<extra></extra>", connectgaps=False))
    p0 = float(run.config.model.truth())
    data.append(line([0, g], [p0, p0], f"truth p0 = {p0:g}", color=STYLE.truth, width=1.2,
                     dash="dash"))
    data += theory_traces(run.theory("p"), index)
    paths = Chart("coin-paths", "Every rollout's p̂, generation by generation",
                  figure(data, layout(GENERATION, "p̂ = heads / tosses", hovermode="closest",
                                      yaxis={"range": [-0.03, 1.03]})),
                  f"The first {shown.shape[0]:,} of {run.total:,} rollouts, coloured by where "
                  "they are at the last generation; theory's E p_t and exact 5–95% band in "
                  "magenta. Hover a line to see which rollout it is.", height=440)

    fractions = absorbed_fractions(run.result.replicates, g)
    t = np.arange(g + 1)
    words = ("absorbed at 0 or 1", "fixed at 1", "fixed at 0") if sticky else (
        "touched 0 or 1", "touched 1 first", "touched 0 first")
    data = [line(t[index], fractions[key][index], f"{label} ({fractions[key][-1]:.1%} by "
                 f"t = {g:,})", color=color, width=w_, shape="hv")
            for key, label, color, w_ in (("absorbed", words[0], STYLE.main, 2.6),
                                          ("at 1", words[1], STYLE.at_one, 1.6),
                                          ("at 0", words[2], STYLE.at_zero, 1.6))]
    exact = run.prediction.absorbed if run.prediction is not None else None
    if exact is not None:
        data.append(line(t[index], np.asarray(exact.values)[index], exact.label,
                         color=STYLE.theory, width=1.8, dash="dash", shape="hv"))
    absorbed = Chart(
        "coin-absorbed", "Fraction of rollouts absorbed by each generation" if sticky else
        "Fraction of rollouts whose p̂ has touched 0 or 1",
        figure(data, layout(GENERATION, "fraction of rollouts", yaxis={"range": [-0.02, 1.02]})),
        f"From all {run.total:,} rollouts." + (" Theory's exact P(absorbed by t) is dashed "
                                               "magenta." if exact is not None else
                                               " Theory has no exact absorption law here."))
    return [paths, absorbed, _coin_law(run, p)]


def _coin_law(run: ReportRun, p: np.ndarray) -> Chart:
    """A heatmap: the share of rollouts at each value of p̂, generation by generation."""
    k = int(run.config.n_samples)
    rows = thin(run.g + 1, HEAT_ROWS)
    values = p[:, rows]
    if k <= 200:
        # p̂ takes the values j/k after the first fit (and p0 before): count each exactly.
        levels = np.arange(k + 1) / k
        bins = np.clip(np.rint(values * k), 0, k).astype(np.int64)
        label = "p̂ = j / k"
    else:
        levels = (np.arange(101) + 0.5) / 101
        bins = np.clip((values * 101).astype(np.int64), 0, 100)
        label = "p̂ (101 bins)"
    z = np.zeros((rows.size, levels.size))
    for i in range(rows.size):
        z[i] = np.bincount(bins[:, i], minlength=levels.size) / max(values.shape[0], 1)
    interior = z[:, 1:-1]
    top = float(interior.max()) if interior.size and interior.max() > 0 else 1.0
    data = [{"type": "heatmap", "x": typed(levels), "y": typed(rows, "i4"), "z": typed(z, "f4"),
             "zmin": 0.0, "zmax": top, "zauto": False, "colorscale": "Magma", "reversescale": True,
             "colorbar": {"title": {"text": "share"}, "thickness": 14},
             "hovertemplate": "p̂ = %{x:.3g}<br>t = %{y}<br>%{z:.1%} of rollouts<extra></extra>"}]
    return Chart("coin-law", "Where the rollouts are: the share at each value of p̂",
                 figure(data, layout(label, GENERATION, hovermode="closest", showlegend=False)),
                 f"Each row is one generation, {run.over()}. The mass drains from the middle "
                 "to the absorbing ends p̂ = 0 and p̂ = 1 (their colour saturates at the largest "
                 "share of any inner value).", height=460)
