"""A run page's grid of sampled images per generation (families whose samples are images).

:func:`pictures_section` draws replicate 0's first few samples (at most 16) at the run's pictured
generations (:func:`modelcollapse.loop.pictured_generations`) as one interactive chart: one row of
images per generation, the real data (t = 0) first, each row one Plotly heatmap on the grey scale
from 0 (black) to 1 (white) with fixed limits and square pixels, the gaps between images
transparent. Pixels that are not finite (a model that blew up) are drawn red, by a second
heatmap of only those pixels. The rows are those of ``samples.png``
(:mod:`modelcollapse.plots.pictures`). Plotly paints heatmaps into ``data:`` images, which the
page's Content-Security-Policy allows; nothing is fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..views.pictures import generations_text, picture_label, picture_row
from ..views.run import plural
from ..views.style import STYLE
from .figures import figure, layout
from .page import Chart, Section, chart_text, typed

if TYPE_CHECKING:
    from ..results.run import Result

#: Empty pixels between two images of a row, per pixel of an image's width.
GAP = 1 / 8
#: Empty pixels between two rows, per pixel of an image's height.
ROW_GAP = 3 / 8
#: The chart's width in pixels as the page usually shows it (to size its height).
CHART_WIDTH = 860
#: The colour of a pixel that is not finite.
NOT_FINITE = "#d62728"
#: Black at 0, white at 1.
GREYS = [[0.0, "#000000"], [1.0, "#ffffff"]]


def pictures_chart(sets: dict[int, np.ndarray]) -> Chart:
    """One chart: a heatmap per pictured generation, stacked, labelled on the y axis."""
    generations = sorted(sets)
    most = max(sets[t].shape[0] for t in generations)
    h = max(sets[t].shape[1] for t in generations)
    w = max(sets[t].shape[2] for t in generations)
    gap, row_gap = max(1, round(GAP * w)), max(1, round(ROW_GAP * h))
    width = most * (w + gap) - gap
    pitch = h + row_gap
    data: list[dict[str, Any]] = []
    bad_total = 0
    for r, t in enumerate(generations):
        row, bad = picture_row(sets[t], height=h, columns=most, gap=gap)
        label = chart_text(picture_label(t))
        common = {"type": "heatmap", "x0": 0, "dx": 1, "y0": r * pitch, "dy": 1,
                  "zmin": 0.0, "zmax": 1.0, "zauto": False, "showscale": False,
                  "hoverongaps": False, "name": label}
        data.append({**common, "z": typed(row, "f4"), "colorscale": GREYS,
                     "hovertemplate": f"{label}<br>pixel value %{{z:.2f}}<extra></extra>"})
        if bad.any():
            bad_total += int(bad.sum())
            data.append({**common, "z": typed(np.where(bad, 1.0, np.nan), "f4"),
                         "colorscale": [[0.0, NOT_FINITE], [1.0, NOT_FINITE]],
                         "hovertemplate": f"{label}<br>pixel not finite<extra></extra>"})
    axis = {"showgrid": False, "zeroline": False, "showline": False, "ticks": ""}
    base = layout("", "", hovermode="closest", showlegend=False,
                  margin={"l": 150, "r": 10, "t": 10, "b": 10},
                  xaxis={**axis, "showticklabels": False, "range": [-0.5, width - 0.5],
                         "title": {"text": ""}},
                  yaxis={**axis, "title": {"text": ""}, "autorange": "reversed",
                         "scaleanchor": "x", "scaleratio": 1,
                         "tickvals": [r * pitch + (h - 1) / 2 for r in range(len(generations))],
                         "ticktext": [chart_text(picture_label(t)) for t in generations],
                         "tickfont": {"size": 13, "color": STYLE.truth}})
    scale = (CHART_WIDTH - 160) / width  # screen pixels per image pixel at the usual width
    height = int(min(1600, max(160, len(generations) * pitch * scale + 30)))
    caption = (f"Replicate 0's first {plural(most, 'sample')} of each pictured generation: the "
               "real data first, then the first sample drawn from each generation's model. "
               "Pixels run from 0 (black) to 1 (white) with the same limits in every row, so a "
               "faded generation looks faded. All of them are in pictures.parquet.")
    if bad_total:
        caption += f" {plural(bad_total, 'pixel')} that are not finite are drawn red."
    return Chart("pictures-grid", f"Samples at generations {generations_text(generations)}",
                 figure(data, base), caption, height=height)


def pictures_section(result: Result) -> Section | None:
    """The section of a run whose family's samples are images (``None`` otherwise)."""
    sets = result.pictures()
    if not sets:
        return None
    family = result.config.model.name
    return Section("pictures", "Samples, generation by generation", [
        f"What the {family} model generates: a row of its samples per pictured generation "
        f"({generations_text(sorted(sets))}), the real data first. Watch the images blur, lose "
        "their variety or turn into one another as each model is trained on the previous one's "
        "output."], [pictures_chart(sets)])
