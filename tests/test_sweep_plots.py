"""The sweep figure: one, two and more grid axes, categorical and list-valued options, invalid
cells, and degenerate summaries (no theory, no event at all) must all plot without a warning.

Summaries are built from hand-made event times through the real summary functions, so the
columns are exactly those a sweep writes, without simulating.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from modelcollapse.plots import sweep as sweep_plots
from modelcollapse.plots.sweep import plot_sweep, sweep_figure
from modelcollapse.sweeps.summary import event_stats, exact_event_stats, summary_frame
from modelcollapse.views.sweep import Axis
from test_plots import all_text, assert_real_png

REASON = "real + synthetic must be at most 1"


def fake_cell(rng, *, event="collapse", scale=10.0, generations=40, replicates=50,
              theory=True):
    """One cell's summary row: geometric event times of mean ``scale``, censored at G."""
    times = np.ceil(rng.exponential(scale, replicates))
    times[times > generations] = np.nan
    row = {"replicates": replicates, **event_stats(event, times)}
    cdf = None
    if theory:
        t = np.arange(generations + 1)
        cdf = np.where(t >= 1, 1 - np.exp(-t / scale), 0.0)
    row.update(exact_event_stats(event, cdf))
    return row


def build(grid, *, event="collapse", theory=True, invalid=None, generations=40, seed=0,
          scale=None, **constant):
    """A summary frame over ``grid`` (option → values) and the skipped cells; ``scale(cell)``
    is the mean event time (default: 3 plus the sum of the cell's numeric values)."""
    rng = np.random.default_rng(seed)
    rows, skipped = [], []
    for values in itertools.product(*grid.values()):
        cell = dict(zip(grid, values, strict=True))
        if invalid is not None and invalid(cell):
            skipped.append({**cell, "reason": REASON})
            continue
        mean = scale(cell) if scale else 3.0 + sum(v for v in values
                                                   if isinstance(v, (int, float)))
        rows.append({"cell": len(rows), **cell, **constant, "generations": generations,
                     **fake_cell(rng, event=event, scale=mean, generations=generations,
                                 theory=theory)})
    return summary_frame(rows), skipped


def plot_quietly(frame, axes, folder, **kwargs):
    """``plot_sweep`` with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return plot_sweep(frame, axes=axes, folder=folder, **kwargs)


def test_one_numeric_axis(tmp_path):
    frame, _ = build({"samples": [2, 5, 10, 20, 50, 100, 200]}, event="absorption",
                     family="coin")
    paths = plot_quietly(frame, ["samples"], tmp_path, constants={"replicates": 50})
    assert paths == [tmp_path / "sweep.png"]
    assert_real_png(paths[0])
    fig = sweep_figure(frame, axes=["samples"])
    text = all_text(fig)
    assert "mean absorption time (generations)" in text
    assert "exact E[T | T ≤ G]" in text and "exact P(T ≤ G)" in text
    assert "samples (N per generation)" in text
    assert fig.axes[0].get_xscale() == "log"  # 2 to 200 spans two decades


def test_one_categorical_axis_with_an_invalid_value(tmp_path):
    frame, skipped = build({"policy": ["replace", "accumulate", "accumulate-subsample", "mix"]},
                           invalid=lambda c: c["policy"] == "mix")
    paths = plot_quietly(frame, ["policy"], tmp_path, skipped=skipped)
    assert_real_png(paths[0])
    text = all_text(sweep_figure(frame, axes=["policy"], skipped=skipped))
    assert "accumulate-subsample" in text and f"invalid: {REASON}" in text


def test_zero_beside_decades_is_drawn_evenly_spaced():
    axis = Axis.of("real", [0.0, 0.001, 0.01, 0.1])
    assert axis.scale == "categorical" and axis.positions.tolist() == [0, 1, 2, 3]
    assert Axis.of("real", [0.0, 0.2, 0.5]).scale == "linear"
    assert Axis.of("samples", [10.0, 100.0, 1000.0]).scale == "log"
    assert Axis.of("policy", ["mix", "replace"]).scale == "categorical"


def test_two_axes_with_invalid_cells(tmp_path):
    frame, skipped = build({"real": [0.0, 0.1, 0.3, 0.6], "synthetic": [0.4, 0.6, 0.9]},
                           invalid=lambda c: c["real"] + c["synthetic"] > 1, family="gaussian",
                           scale=lambda c: 3 + 100 * c["real"])
    assert len(skipped) == 3
    paths = plot_quietly(frame, ["real", "synthetic"], tmp_path, skipped=skipped,
                         constants={"samples": 50, "collapse-fraction": 0.5})
    assert_real_png(paths[0])
    text = all_text(sweep_figure(frame, axes=["real", "synthetic"], skipped=skipped,
                                 constants={"collapse-fraction": 0.5}))
    assert f"invalid: {REASON}" in text and "invalid" in text.split("\n")
    assert "> 40" in text  # a median beyond the run
    assert any(line.startswith("exact ") for line in text.split("\n"))
    assert "var < 0.5 × the truth's" in text


def test_three_axes_are_small_multiples(tmp_path):
    frame, skipped = build({"samples": [5, 10, 20], "real": [0.0, 0.6], "synthetic": [0.4, 0.9]},
                           invalid=lambda c: c["real"] + c["synthetic"] > 1, event="absorption")
    paths = plot_quietly(frame, ["samples", "real", "synthetic"], tmp_path, skipped=skipped)
    assert_real_png(paths[0])
    text = all_text(sweep_figure(frame, axes=["samples", "real", "synthetic"],
                                 skipped=skipped))
    assert "synthetic = 0.4" in text and "synthetic = 0.9" in text


def test_more_panels_than_shown_says_so():
    frame, _ = build({"samples": [5, 10], "real": [0.0, 0.1], "zipf": [1.0, 1.5, 2.0],
                      "p0": [0.2, 0.5, 0.7, 0.9, 0.95]}, event="fixation", theory=False)
    fig = sweep_figure(frame, axes=["samples", "real", "zipf", "p0"])
    assert f"first {sweep_plots.MAX_PANELS} of 15 panels" in all_text(fig)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 2 * sweep_plots.MAX_PANELS


def test_no_theory_and_no_event_at_all(tmp_path):
    """All theory columns null and no replicate ever collapsed: a figure, no warning."""
    rng = np.random.default_rng(1)
    rows = []
    for i, n in enumerate([10, 20, 40]):
        row = {"replicates": 5, **event_stats("collapse", np.full(5, np.nan)),
               **exact_event_stats("collapse", None)}
        rows.append({"cell": i, "samples": n, "generations": 30, **row})
    frame = summary_frame(rows)
    assert_real_png(plot_quietly(frame, ["samples"], tmp_path / "one")[0])
    rows2 = [dict(r, real=real) for r in rows for real in (0.0, 0.5)]
    frame2 = summary_frame(rows2)
    assert_real_png(plot_quietly(frame2, ["samples", "real"], tmp_path / "two")[0])
    text = all_text(sweep_figure(frame, axes=["samples"]))
    assert "no replicate collapsed within G in any cell" in text
    assert "no exact law of T" in text
    del rng


def test_list_valued_option_and_empty_cells(tmp_path):
    """A grid over ``means`` (lists) is categorical; a cell with no replicates shows '–'."""
    frame, _ = build({"means": [[-2.0, 2.0], [-3.0, 3.0]], "samples": [100, 1000]})
    frame.loc[0, [c for c in frame.columns if c.startswith(("collapse_", "collapsed_"))]] = None
    paths = plot_quietly(frame, ["means", "samples"], tmp_path)
    assert_real_png(paths[0])
    text = all_text(sweep_figure(frame, axes=["means", "samples"]))
    assert "-2, 2" in text and "–" in text


def test_a_single_cell_draws_nothing(tmp_path):
    frame, _ = build({"samples": [10]})
    assert plot_sweep(frame, axes=[], folder=tmp_path) == []
    assert not (tmp_path / "sweep.png").exists()


def test_options_spelled_with_underscores_and_a_title_prefix():
    """Sweeps write ``collapse-fraction`` as the column ``collapse_fraction``; the title given
    follows the figure's own."""
    frame, skipped = build({"collapse_fraction": [0.3, 0.5, 0.7], "real": [0.0, 0.6]},
                           invalid=lambda c: c["collapse_fraction"] == 0.7 and c["real"] > 0)
    skipped = [{k.replace("_", "-"): v for k, v in s.items()} for s in skipped]
    fig = sweep_figure(frame, axes=["collapse-fraction", "real"], skipped=skipped,
                       title="sweep demo")
    text = all_text(fig)
    assert "collapse-fraction (threshold c)" in text and f"invalid: {REASON}" in text
    assert "Collapse speed across the grid of collapse-fraction × real (sweep demo)" in text


def test_unknown_axis_is_an_error():
    frame, _ = build({"samples": [10, 20]})
    with pytest.raises(ValueError, match="'zipf' is not a column"):
        sweep_figure(frame, axes=["zipf"])
