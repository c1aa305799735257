"""One row of statistics per sweep cell: the numbers ``summary.parquet`` holds.

:func:`cell_summary` reduces a cell's per-replicate table (``results.replicate_columns``, or
``replicates.parquet`` read back) to a flat dictionary; :func:`summary_frame` stacks the rows of
all cells into a DataFrame whose missing values stay missing (null) in Parquet. The sweep driver
adds the cell id and one column per grid option.

Columns (``m`` = each key metric of the family, and ``std_i`` per component for the gmm; ``e`` =
the family's event and ``v`` its participle: ``absorption``/``absorbed`` for the coin,
``collapse``/``collapsed`` for gaussian and gmm, ``fixation``/``fixed`` for categorical; ``G`` =
the number of generations, ``R`` = the number of replicates). Every value is a number or ``None``
(null): never NaN, and ``inf`` only where noted. (The share is ``<v>_by_end``, not
``<e>_fraction``: ``collapse_fraction`` is already the option that sets the collapse threshold,
and a sweep's table has a column for it.)

==================================== ======= ==================================================
column                               type    meaning
==================================== ======= ==================================================
``replicates``                       int     ``R``
``final_<m>_q05``                    float   5% quantile of ``m`` at generation ``G`` (linear
                                             interpolation, as in the run summary); ``inf`` only
                                             if the metric is infinite there (``kl`` of a point
                                             mass)
``final_<m>_median``, ``_q95``       float   median and 95% quantile, likewise
``final_<m>_mean``                   float   mean over the replicates with a finite value
``final_<m>_se``                     float   its standard error ``s / √n`` (``None`` if n < 2)
``final_<m>_exact``                  float   theory's ``E m_G`` (``None`` where theory has none)
``<v>_by_end``                       float   share of replicates whose event happened at some
                                             ``t ≤ G``
``<v>_by_end_se``                    float   binomial standard error ``√(f(1 − f)/R)``
``<e>_time_mean``                    float   mean event time over the replicates where it
                                             happened (``None`` if none did): an estimate of
                                             ``E[T | T ≤ G]``
``<e>_time_se``                      float   its standard error (``None`` if fewer than 2)
``<e>_time_q05``, ``_median``,       int     quantiles of ``T`` over ALL replicates, those
``_q95``                                     without the event counted as later than ``G``;
                                             ``None`` when not reached within the run
``exact_<v>_by_end``                 float   theory's ``P(T ≤ G)``
``exact_<e>_time_mean``              float   theory's ``E[T | T ≤ G]`` (``None`` if
                                             ``P(T ≤ G) = 0``)
``exact_<e>_time_median``            int     theory's median of ``T`` (``None`` if
                                             ``P(T ≤ G) < ½``)
``absorbed_at_1_by_end``             float   coin only: share of ALL replicates absorbed at 1
                                             within the run
==================================== ======= ==================================================

The ``exact_`` event columns exist for every family and are ``None`` where theory has no law of
the event time: it has one for the coin (``replace``, ``mix``, ``accumulate``) and for the
gaussian under ``replace`` (:attr:`modelcollapse.theory.Prediction.absorbed` and
``.collapsed``), not for the gmm or categorical fixation.

Notes
-----
Why the conditional mean. Only replicates whose event happened within the run have an event
time, so the simulated ``<e>_time_mean`` estimates ``E[T | T ≤ G]``, not ``E T``: for the coin
with ``k = 10``, ``G = 8`` about half the rollouts are still drifting and the mean over the
absorbed ones is far below the unconditional 12.59. Theory's counterpart is computed from the
exact cdf ``F(t) = P(T ≤ t)``, ``t = 0..G``:

.. math:: E[T \\mid T \\le G] = \\frac{\\sum_{t=0}^{G} t\\,(F(t) - F(t-1))}{F(G)},
          \\qquad F(-1) = 0,

so the two agree, within sampling error, at any ``G``.

Quantiles of the event time use the generalised inverse of the empirical cdf ``F_R`` (numpy's
``inverted_cdf``): ``Q(q) = min{t : F_R(t) ≥ q}`` with ``F_R(t) = #{T_i ≤ t}/R``. This needs no
value for a censored ``T_i`` beyond "later than ``G``", is an observed generation (an integer),
and is the same definition as the exact median, ``min{t : F(t) ≥ ½}``. When fewer than ``qR``
replicates had the event by ``G`` the quantile is not reached: ``None``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import RunConfig
from ..events import ABSORBED_AT, ABSORPTION, Event, as_event, event_in
from ..results.tables import float_column
from ..statistics import exact_event_stats, sorted_censored_quantile

if TYPE_CHECKING:
    import pandas as pd

    from ..theory.prediction import Prediction

#: A cell summary: column name → value (``None`` = not available).
Row = dict[str, float | int | None]

#: Quantile levels and their column suffixes.
QUANTILES = ((0.05, "q05"), (0.5, "median"), (0.95, "q95"))

#: Summary columns holding whole generations (written as nullable integers); every other
#: statistic of :func:`cell_summary` is a float.
INTEGER_COLUMN = re.compile(r"^(replicates|(exact_)?[a-z]+_time_(q05|median|q95))$")
_FLOAT_COLUMN = re.compile(
    r"^(final_\w+_(q05|median|q95|mean|se|exact)"
    r"|(exact_)?[a-z]+_(by_end|by_end_se|time_mean|time_se)|absorbed_at_1_by_end)$")


def cell_summary(config: RunConfig, replicates: Mapping[str, Any]) -> Row:
    """Statistics of one sweep cell's replicates, beside theory's exact values.

    Parameters
    ----------
    config
        The cell's configuration (for the key metrics and for theory).
    replicates
        The cell's per-replicate table: numpy columns as made by
        :func:`modelcollapse.results.tables.replicate_columns` (event times as floats, NaN where the
        event did not happen) or a DataFrame read from ``replicates.parquet`` (event times as
        nullable ``Int64``).

    Returns
    -------
    dict
        Column name → number or ``None``; the columns are listed in the module docstring.
        Degenerate data (one replicate, no event, every event at ``t = 1``) gives ``None`` where a
        statistic is undefined; it never raises. If :func:`modelcollapse.predict` fails, a
        ``RuntimeWarning`` is issued and the ``exact`` columns are ``None``.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> from modelcollapse.results.tables import replicate_columns
    >>> cfg = mc.RunConfig("coin", n_samples=10, n_generations=8, n_replicates=200, seed=1)
    >>> result = mc.simulate(cfg)
    >>> row = cell_summary(cfg, result.replicates)
    >>> round(row["exact_absorption_time_mean"], 2)      # E[T | T ≤ 8], not E T = 12.59
    5.3
    >>> row["absorption_time_median"] is None            # fewer than half absorbed by t = 8
    True
    """
    row: Row = {"replicates": _count(replicates)}
    prediction = _prediction(config)
    for name in _final_metrics(config):
        row.update(_final_stats(name, float_column(replicates, f"final_{name}"), prediction))
    event = event_in(replicates)
    if event is not None:
        times = float_column(replicates, event.column)
        row.update(event_stats(event, times))
        row.update(exact_event_stats(event, _event_cdf(event, prediction)))
        if event is ABSORPTION and ABSORBED_AT in replicates:
            at = float_column(replicates, ABSORBED_AT)
            row["absorbed_at_1_by_end"] = (float(np.count_nonzero(at == 1.0)) / at.size
                                             if at.size else None)
    return row


def _count(replicates: Mapping[str, Any]) -> int:
    if "replicate" in replicates:
        return len(replicates["replicate"])
    return len(next(iter(replicates.values()))) if len(replicates) else 0


def _final_metrics(config: RunConfig) -> list[str]:
    """The key metrics, and each component's std for the gmm (as the run summary)."""
    family = config.model
    names = list(config.key_metrics)
    if family.name == "gmm":
        names += [f"std_{i}" for i in range(family.n_components)]  # type: ignore[attr-defined]
    return names


def _prediction(config: RunConfig) -> Prediction | None:
    from ..theory.prediction import predict

    try:
        return predict(config)
    except Exception as err:  # a cell's numbers matter more than their commentary
        warnings.warn(f"theory unavailable for {config.describe()}: {err}", RuntimeWarning,
                      stacklevel=3)
        return None


# -- final metric values -------------------------------------------------------------------------


def _final_stats(name: str, values: np.ndarray, prediction: Prediction | None) -> Row:
    prefix = f"final_{name}"
    out: Row = {f"{prefix}_{suffix}": value
                for (_, suffix), value in zip(QUANTILES, metric_quantiles(values), strict=True)}
    finite = values[np.isfinite(values)]
    out[f"{prefix}_mean"] = float(finite.mean()) if finite.size else None
    out[f"{prefix}_se"] = _standard_error(finite)
    exact = None
    if prediction is not None:
        curves = prediction.for_metric(name)
        if curves:
            exact = _number(curves[0].values[-1])
    out[f"{prefix}_exact"] = exact
    return out


def metric_quantiles(values: np.ndarray) -> list[float | None]:
    """The :data:`QUANTILES` of ``values`` by linear interpolation, infinities kept in order.

    ``np.quantile`` interpolates ``inf − inf`` into NaN when two neighbouring order statistics
    are both infinite; here such a quantile is ``inf`` (it lies among infinite values), and a
    quantile between a finite and an infinite value is ``inf`` too. NaN entries are ignored;
    with no values left every quantile is ``None``.
    """
    values = np.sort(values[~np.isnan(values)])
    n = values.size
    if n == 0:
        return [None] * len(QUANTILES)
    out: list[float | None] = []
    for q, _ in QUANTILES:
        position = q * (n - 1)
        lo = math.floor(position)
        hi = min(lo + 1, n - 1)
        weight = position - lo
        a, b = float(values[lo]), float(values[hi])
        if weight == 0 or a == b:
            out.append(a)
        elif math.isinf(a) or math.isinf(b):
            out.append(b if math.isinf(b) and not math.isinf(a) else a)
        else:
            out.append(a + (b - a) * weight)
    return out


def _standard_error(finite: np.ndarray) -> float | None:
    """``s / √n`` with the sample standard deviation ``s`` (``None`` for fewer than 2 values)."""
    if finite.size < 2:
        return None
    return _number(finite.std(ddof=1) / math.sqrt(finite.size))


def _number(value: Any) -> float | None:
    """A float, or ``None`` for NaN (anything not a number in our tables)."""
    value = float(value)
    return None if math.isnan(value) else value


# -- event times -----------------------------------------------------------------------------


def event_stats(event: Event | str, times: np.ndarray) -> Row:
    """Simulated statistics of one event's times (NaN = did not happen within the run).

    Parameters
    ----------
    event
        The event, or its name (its name and participle prefix the columns).
    times
        One event generation per replicate, NaN where censored at ``G``.

    Returns
    -------
    dict
        ``<verb>_by_end``, ``<verb>_by_end_se`` and ``<event>_time_mean``, ``_time_se``,
        ``_time_q05``, ``_time_median``, ``_time_q95`` (see the module docstring).
    """
    event = as_event(event)
    total = times.size
    happened = np.sort(times[~np.isnan(times)])
    share = event.share_column
    out: Row = {}
    if total:
        fraction = happened.size / total
        out[share] = fraction
        # The plug-in (Wald) binomial SE; 0 when every or no replicate had the event.
        out[f"{share}_se"] = math.sqrt(fraction * (1.0 - fraction) / total)
    else:
        out[share] = out[f"{share}_se"] = None
    out[f"{event.column}_mean"] = float(happened.mean()) if happened.size else None
    out[f"{event.column}_se"] = _standard_error(happened)
    for q, suffix in QUANTILES:
        out[f"{event.column}_{suffix}"] = censored_quantile(happened, total, q)
    return out


def censored_quantile(happened: np.ndarray, total: int, q: float) -> int | None:
    """The event time's ``q`` quantile as a summary holds it: a generation, or ``None``.

    :func:`modelcollapse.statistics.sorted_censored_quantile` of the sorted observed times
    ``happened`` among ``total`` replicates; ``None`` when the quantile lies beyond the run (fewer
    than ``q·R`` replicates had the event) or there are no replicates.
    """
    value = sorted_censored_quantile(happened, total, q)
    return int(value) if math.isfinite(value) else None


def _event_cdf(event: Event, prediction: Prediction | None) -> np.ndarray | None:
    """Theory's ``P(T ≤ t)``, ``t = 0..G``, for this event, where it has one."""
    if prediction is None or event.theory is None:
        return None
    curve = getattr(prediction, event.theory)
    return None if curve is None else np.asarray(curve.values, dtype=float)


# -- the table of all cells ------------------------------------------------------------------


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows of all cells as a DataFrame with nullable dtypes, stable whatever the data.

    Parameters
    ----------
    rows
        One dictionary per cell (:func:`cell_summary` plus the caller's cell id and grid
        columns); columns are the union, in order of first appearance, and a cell without a
        column gets null there.

    Returns
    -------
    pandas.DataFrame
        Each column's dtype is chosen once for all rows, so missing values are ``<NA>`` in
        pandas and null in Parquet (never NaN): the integer statistics of
        :data:`INTEGER_COLUMN` are ``Int64`` and the other statistics ``Float64``, even when
        every value is missing; other columns by their values: ``boolean``, ``Int64``,
        ``Float64``, ``string`` (mixed kinds are written as text), and lists (a grid over
        ``means``, say) kept as objects (Parquet lists; read back as numpy arrays).
    """
    import pandas as pd

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    data = {name: pd.array([_missing_as_none(row.get(name)) for row in rows],
                           dtype=_dtype(name, [row.get(name) for row in rows]))
            for name in names}
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _missing_as_none(value: Any) -> Any:
    """``None`` for every flavour of missing (None, NaN, ``pandas.NA``, NaT); arrays as lists."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return None
    import pandas as pd

    return None if pd.isna(value) else value


def _dtype(name: str, values: list[Any]) -> str | None:
    """The column's pandas dtype: by name for our statistics, else by its values."""
    if INTEGER_COLUMN.match(name):
        return "Int64"
    if _FLOAT_COLUMN.match(name):
        return "Float64"
    present = [v for v in map(_missing_as_none, values) if v is not None]
    if not present:
        return "Float64"
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return "boolean"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in present):
        return "Int64"
    if all(isinstance(v, (int, float, np.integer, np.floating))
           and not isinstance(v, (bool, np.bool_)) for v in present):
        return "Float64"
    if any(isinstance(v, (list, tuple)) for v in present):
        return "object"
    return "string"
