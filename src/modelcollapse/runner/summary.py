"""The numbers a user wants at the end of a run: final values, events, and theory beside them."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..config import RunConfig
from ..events import ABSORBED_AT, EVENTS
from ..results.tables import float_column
from ..statistics import exact_event_stats, sorted_censored_quantile

#: Quantiles reported for final metric values.
QUANTILES = (0.05, 0.5, 0.95)


def summarize(config: RunConfig, replicates: Mapping[str, Any]) -> dict[str, Any]:
    """Final-value quantiles and means of the key metrics, event times, and theory beside them.

    ``exact`` (per metric) is theory's expectation at the last generation and ``theory`` holds
    :func:`modelcollapse.predict`'s facts, notes and, for the coin, the exact probability of
    absorption within the run, wherever theory covers the configuration.

    Parameters
    ----------
    config
        The run's configuration.
    replicates
        The per-replicate table (``final_<metric>`` and event-time columns), as numpy columns
        or a DataFrame.
    """
    family = config.model
    truth = config.truth_metrics()
    names = list(config.key_metrics)
    if family.name == "gmm":
        names += [f"std_{i}" for i in range(family.n_components)]  # type: ignore[attr-defined]
    final: dict[str, Any] = {}
    for name in names:
        values = float_column(replicates, f"final_{name}")
        with np.errstate(invalid="ignore"):  # inf − inf when interpolating between infinities
            q = np.quantile(values, QUANTILES)
        if np.isinf(values).any():  # e.g. an mle perplexity: no interpolation between inf
            q = np.where(np.isnan(q), np.quantile(values, QUANTILES, method="inverted_cdf"), q)
        finite = values[np.isfinite(values)]
        final[name] = {"q05": q[0], "median": q[1], "q95": q[2],
                       "mean": float(finite.mean()) if finite.size else _mean_of_infinities(values),
                       "exact": None, "truth": truth[name]}
    events: dict[str, Any] = {}
    for event in EVENTS.values():
        column = event.column
        if column not in replicates:
            continue
        times = float_column(replicates, column)
        total = times.size
        times = np.sort(times[~np.isnan(times)])
        # One definition per statistic, as in the sweep summary (sweeps/summary.py): the mean
        # over the replicates whose event happened within the run (E[T | T ≤ G]), the median
        # over all of them, the others counted as later than G (None: beyond the run).
        entry: dict[str, Any] = {"count": int(times.size), "of": int(total)}
        if times.size:
            entry["mean"] = float(times.mean())
            entry["se"] = float(times.std(ddof=1) / math.sqrt(times.size)) if times.size > 1 \
                else None
        median = sorted_censored_quantile(times, total, 0.5)
        entry["median"] = float(median) if math.isfinite(median) else None
        events[column] = entry
    if ABSORBED_AT in replicates:
        boundary = float_column(replicates, ABSORBED_AT)
        events[f"{ABSORBED_AT}_1"] = int((boundary == 1).sum())
        events[f"{ABSORBED_AT}_0"] = int((boundary == 0).sum())
    theory = _theory(config, final)
    return {"final": final, "events": events, "theory": theory}


def _mean_of_infinities(values: np.ndarray) -> float:
    """The mean when no value is finite: ``±inf`` if all agree in sign, else NaN."""
    if values.size and (np.all(values == np.inf) or np.all(values == -np.inf)):
        return float(values[0])
    return float("nan")


def _theory(config: RunConfig, final: dict[str, Any]) -> dict[str, Any] | None:
    """Fill ``final[metric]["exact"]`` and return theory's facts for the summary."""
    from ..theory.prediction import predict

    try:
        prediction = predict(config)
    except Exception as err:  # the run's numbers matter more than their commentary
        warnings.warn(f"theory unavailable for this run: {err}", RuntimeWarning, stacklevel=3)
        return None
    for name, entry in final.items():
        curves = prediction.for_metric(name)
        # Only an exact expectation belongs in the "exact mean" column: not √E W2², not a
        # large-N limit, not a typical path.
        if curves and curves[0].label.startswith("exact E "):
            entry["exact"] = float(curves[0].values[-1])
    out = prediction.digest()
    for event in EVENTS.values():
        law = getattr(prediction, event.theory) if event.theory else None
        if law is not None:  # P(T ≤ G), E[T | T ≤ G] and the median of T, from the exact law
            stats = exact_event_stats(event, np.asarray(law.values, dtype=float))
            out[event.share_column] = stats[f"exact_{event.share_column}"]
            out[f"exact_{event.column}_mean"] = stats[f"exact_{event.column}_mean"]
            out[f"exact_{event.column}_median"] = stats[f"exact_{event.column}_median"]
    return out
