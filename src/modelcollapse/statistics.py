"""Descriptive statistics of event times, shared by the studies, the sweeps and the figures.

An event time (:mod:`modelcollapse.events`) is a generation, or ``NaN`` where the event did not
happen within the run (censored at ``G``). Quantiles use the generalised inverse of the empirical
distribution function (numpy's ``inverted_cdf``): ``Q(q) = min{t : F̂(t) ≥ q}``, which needs no
value for a censored time beyond "later than ``G``" and is the same definition as the exact law's
quantile (:func:`law_quantile`).
"""

from __future__ import annotations

import math

import numpy as np

from .events import Event, as_event


def law_quantile(cdf: np.ndarray, q: float) -> float:
    """The smallest ``t`` with ``cdf[t] ≥ q``; ``inf`` if there is none."""
    t = int(np.searchsorted(cdf, q - 1e-12))
    return float(t) if t < len(cdf) else math.inf


def sorted_censored_quantile(happened: np.ndarray, total: int, q: float) -> float:
    """``min{t : #{T_i ≤ t} ≥ q·R}`` from the sorted observed times of ``R = total`` replicates.

    Parameters
    ----------
    happened
        The sorted event times of the replicates whose event happened within the run.
    total
        ``R``, all replicates (the others are later than every observed time).
    q
        The quantile level, ``0 < q < 1``.

    Returns
    -------
    float
        The ``ceil(qR)``-th smallest time; ``inf`` when fewer replicates than that had the event
        (the quantile lies beyond the run); NaN when ``R = 0``.
    """
    if total == 0:
        return math.nan
    # 1e-9 keeps q·R = 5.000000000000001 (a binary-rounding artefact) from rounding up to 6.
    rank = max(math.ceil(q * total - 1e-9), 1)
    return float(happened[rank - 1]) if rank <= happened.size else math.inf


def censored_quantile(times: np.ndarray, q: float) -> float:
    """The ``q`` quantile of event times with ``NaN`` for "not within the run" (``inf`` then).

    The smallest observed time ``t`` with empirical ``P(T ≤ t) ≥ q`` (numpy's ``inverted_cdf``),
    the same definition as :func:`law_quantile`, so censored replicates count as later than every
    observed time and the quantile is ``inf`` when they are too many.
    """
    times = np.asarray(times, dtype=float)
    return sorted_censored_quantile(np.sort(times[~np.isnan(times)]), times.size, q)


def empirical_cdf(times: np.ndarray, horizon: int) -> np.ndarray:
    """``P̂(T ≤ t)`` for ``t = 0..horizon`` over all replicates (censored ones never count)."""
    hit = times[np.isfinite(times)].astype(np.int64)
    counts = np.bincount(hit[hit <= horizon], minlength=horizon + 1)
    return np.cumsum(counts) / max(times.size, 1)


def exact_event_stats(event: Event | str,
                      cdf: np.ndarray | None) -> dict[str, float | int | None]:
    """Theory's ``P(T ≤ G)``, ``E[T | T ≤ G]`` and median of ``T`` from its cdf.

    The counterparts of the simulated statistics every summary reports (runs and sweeps alike):
    the mean over the replicates whose event happened within the run, and the median over all
    replicates, those without the event counted as later than ``G``.

    Parameters
    ----------
    event
        The event, or its name.
    cdf
        ``F(t) = P(T ≤ t)`` for ``t = 0..G``, or ``None`` (every value is then ``None``).

    Returns
    -------
    dict
        ``exact_<verb>_by_end = F(G)``;
        ``exact_<event>_time_mean = Σ_t t (F(t) − F(t−1)) / F(G)`` (``None`` if ``F(G) = 0``);
        ``exact_<event>_time_median = min{t : F(t) ≥ ½}`` (``None`` if ``F(G) < ½``).
    """
    event = as_event(event)
    keys = [f"exact_{event.share_column}", f"exact_{event.column}_mean",
            f"exact_{event.column}_median"]
    out: dict[str, float | int | None] = dict.fromkeys(keys)
    if cdf is None or cdf.size == 0 or not np.isfinite(cdf).all():
        return out
    reached = float(cdf[-1])
    out[keys[0]] = reached
    # Numerical cdfs (the gaussian's lattice) may dip by rounding; a probability is ≥ 0.
    pmf = np.clip(np.diff(cdf, prepend=0.0), 0.0, None)
    if reached > 0 and pmf.sum() > 0:
        out[keys[1]] = float(np.arange(cdf.size) @ pmf / pmf.sum())
    if reached >= 0.5 - 1e-12:  # the tolerance of prediction's own median
        out[keys[2]] = int(np.searchsorted(cdf, 0.5 - 1e-12))
    return out
