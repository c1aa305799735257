"""The picture of sampled images per generation, as numbers: rows of pixels and their labels.

A run of a family whose samples are images (``vae``'s digits) keeps replicate 0's first few
samples at the pictured generations (:meth:`~modelcollapse.results.run.Result.pictures`).
``samples.png`` (:mod:`modelcollapse.plots.pictures`) and the report's grid
(:mod:`modelcollapse.report.pictures`) both lay them out with :func:`picture_row` and label them
with :func:`picture_label`, so the two show the same images with the same words.
"""

from __future__ import annotations

import numpy as np


def picture_label(generation: int) -> str:
    """``"real data (t = 0)"`` or ``"generation 5"``."""
    return "real data (t = 0)" if generation == 0 else f"generation {generation:,}"


def generations_text(generations: list[int]) -> str:
    """``"0 (real data), 1, 2, 5 and 19"``."""
    words = [f"{t:,}" + (" (real data)" if t == 0 else "") for t in generations]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def picture_row(images: np.ndarray, *, height: int, columns: int,
                gap: int) -> tuple[np.ndarray, np.ndarray]:
    """``images[m, h, w]`` side by side in one array ``[height, columns · (w + gap) − gap]``.

    Returns the pixels clipped to [0, 1], NaN in the gaps, after a short row and at pixels
    that are not finite, and a mask of the latter (which each drawing colours as an error).
    """
    m, h, w = images.shape
    row = np.full((height, columns * (w + gap) - gap), np.nan)
    bad = np.zeros(row.shape, dtype=bool)
    for i in range(m):
        image = np.asarray(images[i], dtype=float)
        ok = np.isfinite(image)
        cells = (slice(0, h), slice(i * (w + gap), i * (w + gap) + w))
        row[cells] = np.where(ok, np.clip(image, 0.0, 1.0), np.nan)
        bad[cells] = ~ok
    return row, bad
