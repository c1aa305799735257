"""What a prediction is made of: exact curves over the generations, facts and notes.

:class:`Prediction` is what :func:`modelcollapse.predict` returns; it lives here, apart from the
predictors, so that a family's own theory module (:mod:`.kde`, :mod:`.regression`, ...) can fill
one without importing the dispatcher that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..config import RunConfig


@dataclass(frozen=True)
class TheoryCurve:
    """One exact curve over generations ``0..G``, optionally with a band.

    Attributes
    ----------
    label
        Legend text of the line (says what it is: "exact E var_t", ...).
    values
        ``[G + 1]``.
    lower, upper
        ``[G + 1]`` band edges, or ``None``.
    band_label
        Legend text of the band (e.g. "exact 5–95% of p_t").
    """

    label: str
    values: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    band_label: str | None = None


@dataclass
class Prediction:
    """Everything theory says about one run configuration.

    Attributes
    ----------
    config
        The configuration predicted.
    curves
        ``metric → [TheoryCurve, ...]``; metrics without exact results are absent.
    absorbed
        Coin only: ``P(p_s ∈ {0, 1} for some s ≤ t)``, ``t = 0..G``.
    collapsed
        Gaussian under ``replace``: ``P(collapse time ≤ t)``, ``t = 0..G`` (the first generation
        with ``var < collapse_fraction × var_0``).
    facts
        Exact scalars, by a readable name.
    notes
        One line for each metric or quantity theory does not give exactly here, and why.
    """

    config: RunConfig
    curves: dict[str, list[TheoryCurve]] = field(default_factory=dict)
    absorbed: TheoryCurve | None = None
    collapsed: TheoryCurve | None = None
    facts: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def for_metric(self, metric: str) -> list[TheoryCurve]:
        """The exact curves of ``metric`` (empty when theory has none)."""
        return self.curves.get(metric, [])

    def digest(self) -> dict[str, Any]:
        """JSON-able digest: the metrics covered, the facts and the notes."""
        return {"metrics": sorted(self.curves), "absorbed": self.absorbed is not None,
                "collapsed": self.collapsed is not None,
                "facts": dict(self.facts), "notes": list(self.notes)}
