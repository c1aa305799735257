"""The numbers behind the study figures, without a plotting library.

A study's result objects (:mod:`modelcollapse.studies`) already hold its tables and curves;
what a figure draws beyond them is computed here: the points of a quantile–quantile panel of
``modelcollapse verify`` (:func:`qq_points`) and the coin's absorption curves against scaled time
of ``collapse-speed coin`` (:func:`absorption_curves`).
"""

from __future__ import annotations

import numpy as np

from ..statistics import empirical_cdf
from ..studies.collapse_speed.coin import CoinSpeed
from ..studies.verify.cases import QQ, QQ_LEVELS


def qq_points(panel: QQ) -> tuple[np.ndarray, np.ndarray]:
    """``(exact, simulated)`` quantiles of a QQ panel at its probability levels.

    The simulated quantiles are numpy's ``inverted_cdf`` (the smallest value with empirical
    ``F ≥ q``), the same definition as the exact law's quantile function; non-finite simulated
    values are left out.
    """
    levels = QQ_LEVELS if panel.levels is None else panel.levels
    exact = np.asarray(panel.exact_quantile(levels), dtype=float)
    simulated = np.quantile(panel.simulated[np.isfinite(panel.simulated)], levels,
                            method="inverted_cdf")
    return exact, simulated


def absorption_curves(result: CoinSpeed, k: int,
                      last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t / k, simulated P(T ≤ t), exact P(T ≤ t))`` for ``t = 0..last`` of the coin with ``k``.

    The simulated fraction is over every rollout (those not absorbed within the horizon count as
    not absorbed); the exact law is the Markov chain's.
    """
    row = next(r for r in result.rows if r.k == k)
    t = np.arange(last + 1)
    simulated = empirical_cdf(result.times[k], row.horizon)[: last + 1]
    exact = result.exact[k].cdf[: last + 1]
    return t / k, simulated, exact
