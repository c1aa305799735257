"""The numbers a user wants at the end of a run, as a dictionary and as text."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..config import RunConfig

#: Quantiles reported for final metric values.
QUANTILES = (0.05, 0.5, 0.95)


def _column(replicates: Mapping[str, Any], name: str) -> np.ndarray:
    """A column as floats, missing values as NaN (numpy columns or a pandas DataFrame)."""
    values = replicates[name]
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


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
    truth = family.metrics(family.truth()[None])
    names = list(family.key_metrics)
    if family.name == "gmm":
        names += [f"std_{i}" for i in range(family.n_components)]  # type: ignore[attr-defined]
    final: dict[str, Any] = {}
    for name in names:
        values = _column(replicates, f"final_{name}")
        with np.errstate(invalid="ignore"):  # inf − inf when interpolating between infinities
            q = np.quantile(values, QUANTILES)
        if np.isinf(values).any():  # e.g. an mle perplexity: no interpolation between inf
            q = np.where(np.isnan(q), np.quantile(values, QUANTILES, method="inverted_cdf"), q)
        finite = values[np.isfinite(values)]
        final[name] = {"q05": q[0], "median": q[1], "q95": q[2],
                       "mean": float(finite.mean()) if finite.size else float("nan"),
                       "exact": None, "truth": float(np.asarray(truth[name]).ravel()[0])}
    events: dict[str, Any] = {}
    for column in ("absorption_time", "collapse_time", "fixation_time"):
        if column not in replicates:
            continue
        times = _column(replicates, column)
        total = times.size
        times = times[~np.isnan(times)]
        entry: dict[str, Any] = {"count": int(times.size), "of": int(total)}
        if times.size:
            entry["mean"] = float(times.mean())
            entry["se"] = float(times.std(ddof=1) / math.sqrt(times.size)) if times.size > 1 \
                else None
            entry["median"] = float(np.median(times))
        events[column] = entry
    if "absorbed_at" in replicates:
        boundary = _column(replicates, "absorbed_at")
        events["absorbed_at_1"] = int((boundary == 1).sum())
        events["absorbed_at_0"] = int((boundary == 0).sum())
    theory = _theory(config, final)
    return {"final": final, "events": events, "theory": theory}


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
        if curves:
            entry["exact"] = float(curves[0].values[-1])
    out = prediction.summary()
    if prediction.absorbed is not None:
        out["absorbed_by_end"] = float(prediction.absorbed.values[-1])
    if prediction.collapsed is not None:
        out["collapsed_by_end"] = float(prediction.collapsed.values[-1])
    return out


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return str(x)
    return f"{x:.4g}"


#: event column → (theory's key for P(event within the run), its verb, the fact shown beside it)
EXACT_EVENTS = {"absorption_time": ("absorbed_by_end", "absorbed", "mean absorption time"),
                "collapse_time": ("collapsed_by_end", "collapsed", "median collapse time")}


def format_summary(config: RunConfig, summary: dict[str, Any]) -> str:
    """A few aligned lines for the terminal."""
    lines = [f"final generation ({config.n_generations}), over {config.n_replicates} replicates:"]
    header = (f"  {'metric':<12}{'5%':>11}{'median':>11}{'95%':>11}{'mean':>11}"
              f"{'exact mean':>12}{'truth':>11}")
    lines.append(header)
    for name, q in summary["final"].items():
        exact = q.get("exact")
        lines.append(f"  {name:<12}{_fmt(q['q05']):>11}{_fmt(q['median']):>11}"
                     f"{_fmt(q['q95']):>11}{_fmt(q.get('mean')):>11}"
                     f"{(_fmt(exact) if exact is not None else '–'):>12}{_fmt(q['truth']):>11}")
    theory = summary.get("theory") or {}
    facts = theory.get("facts", {})
    events = summary["events"]
    labels = {"absorption_time": "absorbed at 0 or 1",
              "collapse_time": f"collapsed ({config.model.collapse_metric or 'var'} < "
                               f"{config.collapse_fraction:g} × truth)",
              "fixation_time": "fixed on a single token"}
    for column, label in labels.items():
        if column not in events:
            continue
        e = events[column]
        text = f"  {label}: {e['count']} of {e['of']} within {config.n_generations} generations"
        if e["count"]:
            se = f" ± {_fmt(e['se'])} (SE)" if e.get("se") is not None else ""
            text += f"; time mean {_fmt(e['mean'])}{se}, median {_fmt(e['median'])}"
        lines.append(text)
        if column in EXACT_EVENTS and EXACT_EVENTS[column][0] in theory:
            key, verb, fact = EXACT_EVENTS[column]
            exact = f"    exact: P({verb} within {config.n_generations}) = {theory[key]:.4g}"
            if fact in facts:
                exact += f", {fact} {facts[fact]:.4g}"
            lines.append(exact)
        if column == "absorption_time" and "absorbed_at_1" in events:
            lines.append(f"    at 1: {events['absorbed_at_1']}, at 0: {events['absorbed_at_0']}")
    shown = {name: value for name, value in facts.items()
             if "mean absorption time" not in name and "collapse" not in name}
    if shown:
        lines.append("theory: " + "; ".join(f"{name} {_fmt(value)}"
                                             for name, value in shown.items()))
    return "\n".join(lines)


def format_samples(samples: Any, *, width: int = 96, shown: int = 3) -> str:
    """Replicate 0's sample text at the first, a middle and the last sampled generation.

    Parameters
    ----------
    samples
        The ``samples.parquet`` table (``replicate, generation, text``) as a DataFrame.
    """
    rows = samples[samples["replicate"] == 0].sort_values("generation")
    if rows.empty:
        return ""
    generations = rows["generation"].to_numpy()
    picks = sorted({int(generations[i]) for i in
                    np.linspace(0, generations.size - 1, shown).round().astype(int)})
    lines = ["sample text of replicate 0 (all in samples.parquet):"]
    for t in picks:
        text = str(rows.loc[rows["generation"] == t, "text"].iloc[0])
        text = " ".join(text.split())  # one line: newlines and runs of spaces shown as one space
        if len(text) > width:
            text = text[:width - 1] + "…"
        lines.append(f"  t = {t:<4d} {text}")
    return "\n".join(lines)
