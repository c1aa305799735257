"""Charts and pages that say what they show: axes that fit the data, plain words, honest times."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

import modelcollapse as mc
from modelcollapse.report.run import metric_chart
from modelcollapse.report.sweep import facts as sweep_facts
from modelcollapse.report.view import ReportRun


def chart_of(tmp_path, config, metric):
    result = mc.run(config, out=tmp_path / "run", plots=False)
    return metric_chart(ReportRun(result), metric)


def test_kl_goes_on_a_log_axis_when_theory_reaches_far_above(tmp_path):
    """E KL_t of the Gaussian under replace reaches ~1e8 while simulated KL stays small: on a
    linear axis the simulation would be a flat line at the bottom."""
    config = mc.RunConfig("gaussian", n_samples=20, n_generations=400, n_replicates=20, seed=1)
    chart = chart_of(tmp_path, config, "kl")
    assert chart.figure["layout"]["yaxis"].get("type") == "log"
    assert "logarithmic" in chart.caption
    mean = chart_of(tmp_path / "b", config, "mean")  # can be negative: never log
    assert mean.figure["layout"]["yaxis"].get("type") != "log"


def test_thinned_generations_in_words(tmp_path):
    config = mc.RunConfig("coin", n_samples=10, n_generations=5000, n_replicates=5, seed=1)
    caption = chart_of(tmp_path, config, "p").caption
    assert "One generation in " in caption and "th generation" not in caption


def test_an_interrupted_sweep_says_what_time_it_recorded(tmp_path):
    manifest = {"spec": {"experiment": {"family": "coin"}, "grid": {"samples": [5, 10]}},
                "cells": [{"units": 4}], "skipped": [], "units": 4, "status": "interrupted",
                "seed": 1, "versions": {"modelcollapse": "0"},
                "sessions": [{"started": "2026-12-03T10:00:00+00:00", "wall_seconds": 12.5,
                              "executor": "1 process"},
                             {"started": "2026-12-03T11:00:00+00:00", "executor": "1 process"}]}
    sweep = SimpleNamespace(manifest=manifest, cells=pd.DataFrame({"finished_units": [2]}),
                            spec=None, status="interrupted")
    ran = dict(sweep_facts(sweep, tmp_path))["ran"]
    assert "12.5 s recorded" in ran and "1 ended without recording its time" in ran
    assert "0.0 s" not in ran


def test_a_stopped_sweep_session_records_its_wall_time():
    from modelcollapse.sweeps.driver import _seconds_between

    assert _seconds_between("2026-12-03T10:00:00+00:00", "2026-12-03T10:01:30+00:00") == 90.0
    assert _seconds_between(None, "2026-12-03T10:01:30+00:00") is None
