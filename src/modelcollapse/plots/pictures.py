"""The grid of sampled images per generation (``samples.png``) of a family whose samples are images.

:func:`pictures_figure` draws replicate 0's first few samples (at most 16) at the run's pictured
generations (:func:`modelcollapse.loop.pictured_generations`: 0, 1, 2, 5, 10, … and ``G − 1``, at
most 8) as one row of images per generation, the real data first, so the eye sees the digits
blur, lose their variety or turn into one another generation after generation. It is drawn for
every run whose result holds images (:meth:`~modelcollapse.results.run.Result.pictures`),
whatever the family; the report draws the same rows (:mod:`modelcollapse.report.pictures`).

Pixels are in [0, 1] (0 the background, 1 full ink), drawn on the grey scale from black to white
with fixed limits, so a faded generation looks faded; a pixel that is not finite (a model that
blew up) is drawn red.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..views.pictures import generations_text, picture_label, picture_row
from ..views.run import plural
from ..views.style import STYLE
from .canvas import FigureRun, new_figure

if TYPE_CHECKING:
    from ..results.run import Result

#: Inches per image (its width; its height follows its aspect ratio).
IMAGE_INCHES = 0.5
#: Empty pixels between two images of a row, per pixel of an image's width.
GAP = 1 / 8
#: The colour of a pixel that is not finite.
NOT_FINITE = "#d62728"


def pictures_figure(result: Result) -> Figure:
    """Replicate 0's sampled images at each pictured generation, one row each.

    Parameters
    ----------
    result
        A run whose :meth:`~modelcollapse.results.run.Result.pictures` is not empty.

    Returns
    -------
    matplotlib.figure.Figure
        One row per pictured generation (the real data, t = 0, first), labelled on the left,
        its images side by side on the grey scale from 0 (black) to 1 (white), no ticks.

    Raises
    ------
    ValueError
        When the run kept no images (its family's samples are not images).
    """
    sets = result.pictures()
    if not sets:
        raise ValueError("this run kept no images to draw (its family's samples are not "
                         "images)")
    generations = sorted(sets)
    most = max(sets[t].shape[0] for t in generations)
    h = max(sets[t].shape[1] for t in generations)
    w = max(sets[t].shape[2] for t in generations)
    gap = max(1, round(GAP * w))
    width = most * (w + gap) - gap  # pixels across a full row
    inches = IMAGE_INCHES * most + 1.6  # the images and the row labels
    row_inches = IMAGE_INCHES * h / w + 0.12
    run = FigureRun.of(result)
    bad = sum(int((~np.isfinite(sets[t])).sum()) for t in generations)
    note = f"; {plural(bad, 'pixel')} not finite, in red" if bad else ""
    fig, axes = new_figure(
        f"{run.config.model.name}: samples at generations {generations_text(generations)}",
        run.subtitle(f"replicate 0's first {plural(most, 'sample')} of each generation, "
                     f"pixels from 0 (black) to 1 (white){note}"),
        panel_size=(inches, row_inches), nrows=len(generations), ncols=1)
    cmap = matplotlib.colormaps["gray"].with_extremes(bad=(1.0, 1.0, 1.0, 0.0), over=NOT_FINITE)
    for ax, t in zip(axes, generations, strict=True):
        row, not_finite = picture_row(sets[t], height=h, columns=most, gap=gap)
        row[not_finite] = 2.0  # above the colour range: drawn NOT_FINITE
        ax.imshow(row, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
        ax.set_xlim(-0.5, width - 0.5)
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(picture_label(t), rotation=0, ha="right", va="center",
                      fontsize=STYLE.label_size + 1, color=STYLE.truth,
                      fontweight="bold" if t == 0 else "normal")
    return fig
