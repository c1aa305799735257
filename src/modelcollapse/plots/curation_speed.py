"""The figure of ``modelcollapse collapse-speed curation`` (:mod:`~modelcollapse.studies.
collapse_speed.curation`).

One row per family, three panels per row: the model's mean reward, its diversity and its tail
(both relative to the truth's), against generation. One colour per curation strength (blues for
best-of by ``K``, darker for larger ``K``; oranges for the verifier by strictness; greens for the
top-``q`` filter; grey for no curation), solid without real data and dashed with it; bands are
± 2 SE over replicates. Tails that fall by orders of magnitude (the GMM's tail mass) are drawn on
a log axis, with values below :data:`LOG_FLOOR` (exact zeros included) at the floor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D

from ..studies.collapse_speed.curation import CurationCell, CurationSpeed, FamilyStudy
from ..views.style import STYLE
from .canvas import add_note, figure_legend, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Colour ramps (light to dark) per curator kind: blue, orange and bluish green after Okabe and
#: Ito's colour-blind-safe palette, so the kinds stay apart for every kind of colour vision and
#: the strength within a kind reads as lightness.
RAMPS = {"best-of": ("#7fb8e6", "#0072b2", "#08264a"),
         "verifier": ("#f0b445", "#d55e00", "#7a2a00"),
         "top": ("#5fcca8", "#009e73", "#00432f")}
#: No curation.
BASELINE = "#4a4a4a"
#: Line style per fraction of real data (first: none).
REAL_STYLES = ("-", (0, (4.5, 2.2)), (0, (1.4, 1.6)), (0, (6, 2, 1.5, 2)))
#: Tails drawn on a log axis go down to this (the GMM's falls to 1e-100 and to exact zeros).
LOG_FLOOR = 1e-8
#: Families whose tail is drawn on a log axis.
LOG_TAILS = ("gmm",)

_TITLES = {"coin": "Coin", "categorical": "Categorical", "gmm": "Mixture", "ngram": "n-gram"}


def _ramp(kind: str, n: int) -> list[str]:
    """``n`` colours of ``kind``'s ramp, light to dark (the middle one alone)."""
    low, mid, high = RAMPS[kind]
    if n == 1:
        return [mid]
    cmap = LinearSegmentedColormap.from_list(kind, [low, mid, high])
    # Short of both ends: the lightest would fade into the bands, the darkest turn to black.
    return [_hex(cmap(x)) for x in np.linspace(0.12, 0.88, n)]


def _hex(rgba: Any) -> str:
    return "#" + "".join(f"{round(255 * c):02x}" for c in rgba[:3])


def strength_colors(result: CurationSpeed) -> dict[tuple[str, float], str]:
    """Colour of every (curator kind, setting) of the study."""
    seen: dict[str, list[float]] = {}
    for cell in result.cells:
        kind, setting = cell.strength.kind, cell.strength.setting
        if kind != "none" and setting not in seen.setdefault(kind, []):
            seen[kind].append(setting)
    colors = {("none", 1.0): BASELINE}
    for kind, settings in seen.items():
        # Stronger curation darker: larger K and s; smaller q.
        ordered = sorted(settings, reverse=kind == "top")
        colors.update({(kind, s): c for s, c in zip(ordered, _ramp(kind, len(ordered)),
                                                    strict=True)})
    return colors


def curation_speed_figure(result: CurationSpeed) -> Figure:
    """Reward, diversity and tail against generation for every family, curation and real
    fraction."""
    colors = strength_colors(result)
    reals = list(result.real_fractions)
    styles = {r: REAL_STYLES[i % len(REAL_STYLES)] for i, r in enumerate(reals)}
    sizes = " · ".join(f"{f.name} ({f.setup.truth_words}): N = {f.n_samples:,}, "
                       f"{f.n_replicates:,} replicates" for f in result.families)
    subtitle = (f"Each generation the synthetic part of the training set is curated from the "
                f"last model's samples; fresh real data never is. Rewards: the coin's heads = 1, "
                f"tails = 0; the others' the truth's log-likelihood. Lines: mean over "
                f"replicates, bands ± 2 SE · seed {result.seed}\n{sizes}\n"
                "Generation 1 is fitted to fresh truth, so curation first shows at t = 2")
    fig, axes = new_figure("What curation does: the reward rises, diversity and tails "
                           "collapse, and fresh real data sets a floor", subtitle,
                           panel_size=(4.4, 2.75), nrows=len(result.families), ncols=3)
    grid = axes.reshape(len(result.families), 3)
    for row, study in zip(grid, result.families, strict=True):
        _draw_family(row, study, colors, styles)
    handles: list[Any] = []
    for cell in result.families[0].cells:
        key = (cell.strength.kind, cell.strength.setting)
        if cell.real == reals[0]:
            handles.append(Line2D([], [], color=colors[key], lw=2.4, label=cell.label))
    handles += [Line2D([], [], color="#555555", lw=1.6, ls=styles[r],
                       label="no real data (replace)" if r == 0 else
                       f"{r:.0%} fresh real data (mix)") for r in reals]
    handles.append(Line2D([], [], color=STYLE.truth, lw=0.9, ls=(0, (2, 2)),
                          label="the truth's value"))
    figure_legend(fig, handles)
    return fig


def _draw_family(row: np.ndarray, study: FamilyStudy, colors: dict[tuple[str, float], str],
                 styles: dict[float, Any]) -> None:
    setup, g = study.setup, study.n_generations
    t = np.arange(g + 1)
    log_tail = setup.name in LOG_TAILS
    panels = (("reward", f"mean reward {setup.reward_words}"),
              ("diversity", setup.diversity_words),
              ("tail", setup.tail_words))
    floored = False
    # Strongest curation first, so the baseline and weak settings are drawn on top.
    cells: list[CurationCell] = sorted(study.cells, key=lambda c: c.strength.kind == "none")
    for ax, (measure, words) in zip(row, panels, strict=True):
        log = log_tail and measure == "tail"
        for cell in cells:
            color = colors[(cell.strength.kind, cell.strength.setting)]
            mean, se = cell.mean[measure], cell.se[measure]
            low, high = mean - 2 * se, mean + 2 * se
            if log:
                floored |= bool(np.any(mean < LOG_FLOOR))
                mean, low, high = (np.maximum(x, LOG_FLOOR) for x in (mean, low, high))
            ax.fill_between(t, low, high, color=color, alpha=0.14, lw=0, zorder=1)
            ax.plot(t, mean, color=color, ls=styles[cell.real], lw=1.6, zorder=3,
                    solid_capstyle="round", dash_capstyle="round")
        reference = study.truth["reward"] if measure == "reward" else 1.0
        ax.axhline(reference, color=STYLE.truth, lw=0.9, ls=(0, (2, 2)), zorder=2)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(LOG_FLOOR / 3, 10.0)
        elif measure != "reward":
            top = max(1.05, max(float(np.max(c.mean[measure])) for c in study.cells) * 1.05)
            ax.set_ylim(-0.03 * top, top)
        ax.set_xlim(0, g)
        ax.set_title(f"{_TITLES.get(setup.name, setup.name)}: {words}", loc="left",
                     fontsize=STYLE.label_size)
        ax.set_xlabel("generation t", fontsize=STYLE.label_size - 0.5)
    if floored:
        add_note(row[2], f"below {LOG_FLOOR:g} (exact 0 included) drawn at {LOG_FLOOR:g}",
                 loc="lower right")
    if setup.name == "coin" and any(c.strength.kind == "verifier" for c in study.cells):
        # Where no line runs: right of the rise, between the plateaus and the baseline.
        row[0].text(0.98, 0.42, "verifier: the fair coin's truth rates heads\nand tails alike, "
                    "so it accepts everything\n(its lines lie on the grey ones)",
                    transform=row[0].transAxes, ha="right", va="center",
                    fontsize=STYLE.note_size, color=STYLE.muted)
