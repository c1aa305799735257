"""A run's summary as the command line prints it: aligned text, no plotting library.

:func:`format_summary` turns the ``summary`` of a run's manifest
(:func:`modelcollapse.runner.summary.summarize`) into the lines ``modelcollapse run`` prints:
final-value quantiles of the key metrics beside theory's exact mean and the truth, each event's
count and time, theory's exact probability of it within the run, and theory's other facts;
:func:`format_samples` shows a text family's sample sentences at three generations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import RunConfig
from ..events import ABSORBED_AT, ABSORPTION, COLLAPSE, EVENTS


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def _truth(x: float) -> str:
    """The truth's value; ``–`` where it has none (a network's own metric, NaN by definition)."""
    return "–" if x is not None and np.isnan(x) else _fmt(x)


#: Event → theory's fact printed beside its exact probability within the run.
#: Facts the event lines already show (from the exact law).
PRINTED_ABOVE = frozenset({"median collapse time", "P(collapsed within the run)"})
#: Facts printed under a clearer name: theory's mean over every replicate, absorbed or not.
UNCONDITIONAL = {"mean absorption time": "mean absorption time (unconditional: E T)",
                 "sd of absorption time": "sd of absorption time (unconditional)"}


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
                     f"{(_fmt(exact) if exact is not None else '–'):>12}{_truth(q['truth']):>11}")
    theory = summary.get("theory") or {}
    facts = theory.get("facts", {})
    events = summary["events"]
    for event in EVENTS.values():
        column = event.column
        if column not in events:
            continue
        label = event.happened
        if event is COLLAPSE:
            label += (f" ({config.model.collapse_metric or 'var'} < "
                      f"{config.collapse_fraction:g} × truth)")
        e = events[column]
        g = config.n_generations
        text = f"  {label}: {e['count']} of {e['of']} within {g} generations"
        if theory.get(event.share_column) is not None:
            text += f" (exact P = {theory[event.share_column]:.4g})"
        lines.append(text)
        exact_mean = theory.get(f"exact_{column}_mean")
        exact_median = theory.get(f"exact_{column}_median")
        if e["count"]:
            se = f" ± {_fmt(e['se'])} (SE)" if e.get("se") is not None else ""
            exact = f", exact E[T | T ≤ {g}] {_fmt(exact_mean)}" if exact_mean is not None else ""
            lines.append(f"    time T over the {e['count']} that did, T ≤ {g}: mean "
                         f"{_fmt(e['mean'])}{se}{exact}")
        median = f"> {g}" if e.get("median") is None else _fmt(e["median"])
        exact = ""
        if event.share_column in theory:
            exact = f", exact {'> ' + str(g) if exact_median is None else _fmt(exact_median)}"
        lines.append(f"    median T over all {e['of']} (the others counted as later than {g}): "
                     f"{median}{exact}")
        if event is ABSORPTION and f"{ABSORBED_AT}_1" in events:
            lines.append(f"    at 1: {events[f'{ABSORBED_AT}_1']}, "
                         f"at 0: {events[f'{ABSORBED_AT}_0']}")
    # the unconditional mean absorption time stays, named so: it is not comparable with the
    # simulated mean over absorbed replicates above; the median collapse time is printed above
    shown = {UNCONDITIONAL.get(name, name): value for name, value in facts.items()
             if name not in PRINTED_ABOVE}
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
