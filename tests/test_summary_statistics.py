"""One definition per event-time statistic, in a run's summary as in a sweep's.

The mean is over the replicates whose event happened within the run, compared with theory's
``E[T | T ≤ G]``; the median is over all replicates, those without the event counted as later
than ``G`` (beyond the run when more than half are), compared with the exact law's median. The
unconditional ``E T`` is printed as such, never beside the conditional simulated mean.
"""

from __future__ import annotations

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import theory
from modelcollapse.runner.summary import summarize
from modelcollapse.statistics import exact_event_stats
from modelcollapse.sweeps.summary import event_stats
from modelcollapse.views.text import format_summary


def replicates_with(times):
    return {"replicate": np.arange(len(times)), "absorption_time": np.asarray(times, float),
            "absorbed_at": np.where(np.isnan(times), np.nan, 1.0),
            "final_p": np.where(np.isnan(times), 0.5, 1.0)}


@pytest.mark.parametrize("times", [[3, 5, np.nan, 7, np.nan], [2, np.nan, np.nan, np.nan],
                                   [4, 4, 6, 8, 1, 9], [np.nan, np.nan]])
def test_run_and_sweep_summaries_agree(times):
    config = mc.RunConfig("coin", n_generations=10, n_replicates=len(times), seed=1)
    run = summarize(config, replicates_with(times))["events"]["absorption_time"]
    sweep = event_stats("absorption", np.asarray(times, float))
    assert run["median"] == sweep["absorption_time_median"]
    assert run.get("mean") == sweep["absorption_time_mean"]


def test_hand_values():
    config = mc.RunConfig("coin", n_generations=10, n_replicates=5, seed=1)
    events = summarize(config, replicates_with([3, 5, np.nan, 7, np.nan]))["events"]
    assert events["absorption_time"]["mean"] == 5.0
    assert events["absorption_time"]["median"] == 7.0  # the 3rd of 5: 3, 5, 7, (>10), (>10)
    events = summarize(config, replicates_with([2, np.nan, np.nan, np.nan, 9]))["events"]
    assert events["absorption_time"]["median"] is None  # beyond the run


def test_the_coin_summary_compares_like_with_like():
    config = mc.RunConfig("coin", seed=1)  # k = 10, 60 generations
    law = theory.coin_absorption_time(0.5, 10, horizon=60)
    exact = exact_event_stats("absorption", law.cdf)
    result = mc.simulate(config)
    summary = result.manifest["summary"]
    assert summary["theory"]["exact_absorption_time_mean"] == pytest.approx(
        exact["exact_absorption_time_mean"])
    assert exact["exact_absorption_time_mean"] < law.mean  # E[T | T ≤ 60] < E T = 12.59
    text = format_summary(config, summary)
    assert f"exact E[T | T ≤ 60] {exact['exact_absorption_time_mean']:.4g}" in text
    assert "mean absorption time (unconditional: E T) 12.59" in text
    assert f"exact {exact['exact_absorption_time_median']}" in text
