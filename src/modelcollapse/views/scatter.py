"""The scatter picture per generation, as numbers: which points, what limits, what words.

A run of a family whose samples are points in the plane keeps replicate 0's training points at a
few pictured generations (:func:`modelcollapse.loop.pictured_generations`, at most 500 points
each; :meth:`~modelcollapse.results.run.Result.point_sets`). ``scatter.png``
(:mod:`modelcollapse.plots.scatter`) and the report's scatter section
(:mod:`modelcollapse.report.scatter`) both draw them through :func:`scatter_view`, so the two
show the same panels with the same shared limits and the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

#: Room left around the points on each side, as a fraction of their span.
PAD = 0.05


@dataclass(frozen=True)
class ScatterPanel:
    """One pictured generation: its finite points and how many were not finite."""

    generation: int
    points: np.ndarray  # [n, 2], finite
    dropped: int

    @property
    def label(self) -> str:
        """``"t = 0 · truth"`` or ``"t = 5"``."""
        return "t = 0 · truth" if self.generation == 0 else f"t = {self.generation:,}"


@dataclass(frozen=True)
class ScatterView:
    """Every panel of the picture and the limits they share.

    Attributes
    ----------
    panels
        In generation order; the truth's (generation 0) first when the run kept it.
    x_range, y_range
        The shared limits: every finite point of every panel, with :data:`PAD` of room.
    """

    panels: tuple[ScatterPanel, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @property
    def generations(self) -> list[int]:
        return [p.generation for p in self.panels]

    def generations_text(self) -> str:
        """``"0 (the truth), 1, 2, 5 and 19"``."""
        words = [f"{t:,}" + (" (the truth)" if t == 0 else "") for t in self.generations]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def title(self, family: str) -> str:
        """The figure's title: the family and the generations pictured."""
        return f"{family}: training points at generations {self.generations_text()}"

    @property
    def dropped(self) -> int:
        return sum(p.dropped for p in self.panels)


def _limits(values: np.ndarray) -> tuple[float, float]:
    """``[min, max]`` of ``values`` with :data:`PAD` of room; a band around a constant."""
    if values.size == 0:
        return (-1.0, 1.0)
    low, high = float(values.min()), float(values.max())
    with np.errstate(over="ignore"):
        span = high - low
        if span == 0:  # every point equal: a collapsed model
            half = 0.5 if low == 0 else 0.05 * abs(low)
            padded = (low - half, high + half)
        else:
            padded = (low - PAD * span, high + PAD * span)
    # Points near the largest float: no room to pad without overflowing.
    return padded if np.isfinite(padded).all() else (low, high)


def scatter_view(point_sets: Mapping[int, np.ndarray]) -> ScatterView | None:
    """The panels and shared limits of a run's points (``None`` when it kept none).

    Non-finite points (a model that blew up) are left out of the panels and the limits, and
    counted, so a panel says what it does not show.
    """
    panels = []
    for t in sorted(point_sets):
        xy = np.asarray(point_sets[t], dtype=float).reshape(-1, 2)
        ok = np.isfinite(xy).all(axis=1)
        panels.append(ScatterPanel(int(t), xy[ok], int((~ok).sum())))
    if not panels:
        return None
    every = np.concatenate([p.points for p in panels])
    return ScatterView(tuple(panels), _limits(every[:, 0]), _limits(every[:, 1]))


def point_alpha(n: int) -> float:
    """Opacity of one of ``n`` overlapping points: light enough that dense regions read as
    darker, not as one blot."""
    return float(np.clip(8.0 / np.sqrt(max(n, 1)), 0.15, 0.7))
