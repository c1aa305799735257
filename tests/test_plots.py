"""Figures: every family's files exist, are real non-blank PNGs, and degenerate runs still plot.

The pictures themselves are judged by eye; these tests pin what can be checked mechanically: the
file names, that each PNG decodes and is not blank, that nothing warns or crashes on degenerate
data (zero variance, infinite KL, everything absorbed at the start, one replicate, one generation),
the numbers behind the figures, and that titles and notes say what was left out or clipped.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

import modelcollapse as mc
from modelcollapse import plots
from modelcollapse.plots import canvas

EXPECTED = {
    "coin": {"metrics.png", "paths.png", "absorbed.png"},
    "categorical": {"metrics.png"},
    "gaussian": {"metrics.png"},
    "gmm": {"metrics.png", "variance.png", "density.png"},
    "ngram": {"metrics.png"},
    # Their shortcuts draw each block's first replicate as points, so both picture it.
    "mvgaussian": {"metrics.png", "scatter.png"},
    "regression": {"metrics.png", "scatter.png"},
    "kde": {"metrics.png"},  # 1-D by default: no scatter
    "vae": {"metrics.png", "samples.png"},  # digits: a grid of samples per generation
    "charlm": {"metrics.png"},
}
#: Networks small enough for the suite (the defaults train for a minute).
SETTINGS = {"vae": {"hidden": 16, "latent": 2, "epochs": 2},
            "charlm": {"embedding": 16, "layers": 1, "heads": 2, "context": 16, "length": 16,
                       "epochs": 1}}
SIZES = {"coin": dict(n_generations=20, n_replicates=30),
         "categorical": dict(n_samples=100, n_generations=15, n_replicates=6),
         "gaussian": dict(n_samples=20, n_generations=30, n_replicates=8),
         "gmm": dict(n_samples=200, n_generations=20, n_replicates=4),
         "ngram": dict(n_samples=500, n_generations=10, n_replicates=4),
         "mvgaussian": dict(n_samples=20, n_generations=30, n_replicates=8),
         "regression": dict(n_samples=20, n_generations=30, n_replicates=8),
         "kde": dict(n_samples=50, n_generations=10, n_replicates=4),
         "vae": dict(n_samples=100, n_generations=3, n_replicates=2),
         "charlm": dict(n_samples=400, n_generations=3, n_replicates=2)}


def assert_real_png(path):
    """A decodable PNG of a sensible size that is not a single flat colour."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 400
    assert image[..., :3].std() > 0.02, f"{path.name} looks blank"


def plot_quietly(result, folder):
    """``plot_run`` with every warning turned into an error (degenerate data must not warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return plots.plot_run(result, folder)


def all_text(fig: Figure) -> str:
    """Every string drawn on a figure: titles, notes, axis labels and legend entries."""
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_every_family_has_expected_figures():
    assert set(EXPECTED) == set(mc.FAMILIES.names())


@pytest.mark.parametrize("family", list(EXPECTED))
def test_figures_of_each_family(family, tmp_path):
    model = mc.get_family(family, **SETTINGS.get(family, {}))
    result = mc.simulate(mc.RunConfig(model, seed=1, **SIZES[family]))
    paths = plot_quietly(result, tmp_path)
    assert {p.name for p in paths} == EXPECTED[family]
    assert all(p.parent == tmp_path for p in paths)
    for path in paths:
        assert_real_png(path)


@pytest.mark.parametrize("config", [
    mc.RunConfig(mc.Gaussian(), n_samples=1, n_generations=5, n_replicates=3, seed=1),
    mc.RunConfig(mc.Gaussian(), n_samples=2, n_generations=400, n_replicates=10, seed=1),
    mc.RunConfig(mc.Coin(p0=0.0), n_generations=5, n_replicates=3, seed=1),
    mc.RunConfig(mc.Coin(), n_generations=1, n_replicates=1, seed=1),
    mc.RunConfig(mc.Categorical(probs=(1.0, 0.0)), n_samples=10, n_generations=4,
                 n_replicates=2, seed=1),
    mc.RunConfig(mc.NGram(vocab=20, length=10, smoothing="mle"), n_samples=200,
                 n_generations=5, n_replicates=3, seed=1),  # perplexity and kl_rate inf
    mc.RunConfig(mc.GMM(), n_samples=2, n_generations=3, n_replicates=1, seed=1),
    mc.RunConfig(mc.GMM(), n_samples=50, n_generations=1, n_replicates=1, seed=1),
], ids=["gaussian-var-exactly-zero", "gaussian-var-underflows", "coin-absorbed-at-start",
        "single-generation", "one-token", "ngram-mle-infinite-perplexity", "gmm-two-points",
        "gmm-one-generation"])
def test_degenerate_runs_still_plot(config, tmp_path):
    with np.errstate(all="ignore"):  # the simulation itself may overflow; plotting may not warn
        result = mc.simulate(config)
    paths = plot_quietly(result, tmp_path)
    assert {p.name for p in paths} == EXPECTED[config.model.name]
    for path in paths:
        assert_real_png(path)


def test_no_pyplot_figure_is_left_open(tmp_path):
    result = mc.simulate(mc.RunConfig("coin", n_generations=5, n_replicates=5, seed=1))
    before = sys.modules.get("matplotlib.pyplot")
    plots.plot_run(result, tmp_path)
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert before is not None or pyplot is None, "plotting imported pyplot"
    if pyplot is not None:
        assert pyplot.get_fignums() == []


def test_run_writes_and_records_the_figures(tmp_path):
    config = mc.RunConfig("coin", n_generations=10, n_replicates=20, seed=1)
    result = mc.run(config, out=tmp_path / "run")
    figures = result.manifest["files"]["figures"]
    assert set(figures) == EXPECTED["coin"]
    for name in figures:
        assert_real_png(tmp_path / "run" / name)


# -- what the figures say ----------------------------------------------------------------------


def test_titles_say_when_only_some_replicates_are_drawn(monkeypatch):
    assert plots.replicates_text(500, 1_000_000) == "first 500 of 1,000,000 replicates"
    assert plots.replicates_text(10, 10) == "10 replicates"
    assert plots.replicates_text(1, 1) == "1 replicate"
    result = mc.simulate(mc.RunConfig("coin", n_generations=8, n_replicates=30, seed=1))
    monkeypatch.setattr(canvas, "MAX_LINES", 12)
    assert "first 12 of 30 replicates" in all_text(plots.paths_figure(result))
    assert "first 12 of 30 replicates" in all_text(plots.metrics_figure(result))
    # The absorption curve counts every replicate, so it says all 30.
    absorbed = all_text(plots.absorbed_figure(result))
    assert "30 replicates" in absorbed and "first 12" not in absorbed


def test_subtitle_names_family_policy_sizes_and_seed():
    result = mc.simulate(mc.RunConfig("gaussian", n_samples=20, n_generations=7, n_replicates=3,
                                      seed=42))
    text = all_text(plots.metrics_figure(result))
    for piece in ("gaussian", "replace", "N = 20 samples", "7 generations", "3 replicates",
                  "seed 42"):
        assert piece in text


def test_density_says_when_spikes_are_clipped():
    # Two points for two components: each fitted component sits on one point at the variance
    # floor, a spike far above the truth's peak.
    result = mc.simulate(mc.RunConfig(mc.GMM(), n_samples=2, n_generations=3, n_replicates=2,
                                      seed=1))
    assert "clipped" in all_text(plots.density_figure(result))
    calm = mc.simulate(mc.RunConfig("gmm", n_samples=2000, n_generations=2, n_replicates=2,
                                    seed=1))
    assert "clipped" not in all_text(plots.density_figure(calm))


def test_absorbed_figure_takes_extra_labelled_curves():
    result = mc.simulate(mc.RunConfig("coin", n_generations=10, n_replicates=20, seed=1))
    t = np.arange(11)
    theory = plots.Curve("theory (exact chain)", t, 1 - 0.9 ** t, {"color": "black"})
    fig = plots.absorbed_figure(result, extra=[theory])
    assert "theory (exact chain)" in all_text(fig)
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == theory.label)
    np.testing.assert_allclose(line.get_ydata(), theory.y)


# -- the numbers behind the figures --------------------------------------------------------


def test_absorbed_fractions_count_every_replicate():
    replicates = pd.DataFrame({"absorption_time": pd.array([0, 2, None, 5], dtype="Int64"),
                               "absorbed_at": pd.array([1, 0, None, 1], dtype="Int64")})
    fractions = plots.absorbed_fractions(replicates, 6)
    np.testing.assert_allclose(fractions["absorbed"], [0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75])
    np.testing.assert_allclose(fractions["at 1"], [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 0.5])
    np.testing.assert_allclose(fractions["at 0"], [0, 0, 0.25, 0.25, 0.25, 0.25, 0.25])


def test_absorbed_fractions_ignore_events_after_the_last_generation():
    replicates = pd.DataFrame({"absorption_time": pd.array([1, 9], dtype="Int64"),
                               "absorbed_at": pd.array([0, 1], dtype="Int64")})
    np.testing.assert_allclose(plots.absorbed_fractions(replicates, 3)["absorbed"],
                               [0, 0.5, 0.5, 0.5])


@pytest.mark.parametrize(("values", "scale", "floor"), [
    (np.array([1.0, 2.0, 50.0]), "linear", None),            # under two decades
    (np.array([1.0, 1e-3, 0.5]), "log", None),               # three decades
    (np.array([1.0, 1e-5, 0.0]), "log", 1e-5),               # an exact zero: drawn at the floor
    (np.array([1.0, 1e-320, 0.0]), "log", plots.LOG_FLOOR),  # subnormals: floor at LOG_FLOOR
    (np.array([0.0, 0.0]), "linear", None),                  # nothing positive
    (np.array([3.0, 3.0, np.nan, np.inf]), "linear", None),  # all equal; non-finite ignored
    (np.array([-5.0, 1e-4, 1.0]), "log", 1e-4),              # negatives as zeros
])
def test_choose_scale_follows_the_log_rule(values, scale, floor):
    assert plots.choose_scale(values) == (scale, floor)


def test_quantile_bands_skip_non_finite_values_quietly():
    values = np.array([[0.0, 1.0, np.inf], [0.0, 3.0, np.inf], [0.0, np.inf, np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bands = plots.quantile_bands(values, [0, 50, 100])
    np.testing.assert_allclose(bands[:, 0], 0.0)
    np.testing.assert_allclose(bands[:, 1], [1.0, 2.0, 3.0])
    assert np.isnan(bands[:, 2]).all()  # no finite value: a gap, not a crash


def test_fan_chart_notes_infinite_values():
    values = np.array([[0.0, 0.1, np.inf], [0.0, 0.2, 0.3], [0.0, 0.1, np.inf]])
    fig = Figure()
    ax = fig.add_subplot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        handles = plots.draw_fan(ax, values, what="kl")
    assert any(h.get_label() == "median" for h in handles)
    assert "2 of 3 replicates have kl = ∞" in all_text(fig)


def test_mixture_density_integrates_to_one():
    x = np.linspace(-15, 15, 20_001)
    dens = plots.mixture_density(x, np.array([0.3, 0.7]), np.array([-2.0, 3.0]),
                                 np.array([0.5, 2.0]))
    assert np.trapezoid(dens, x) == pytest.approx(1.0, rel=1e-6)


def test_mixture_density_rows_are_separate_mixtures():
    x = np.array([[0.0, 1.0], [0.0, 1.0]])
    dens = plots.mixture_density(x, np.array([[1.0, 0.0], [0.0, 1.0]]),
                                 np.array([[0.0, 5.0], [5.0, 1.0]]), np.ones((2, 2)))
    peak = 1 / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(dens, [[peak, peak * np.exp(-0.5)], [peak * np.exp(-0.5), peak]])


def test_metric_labels_cover_every_metric():
    for family in mc.FAMILIES.names():
        model = mc.get_family(family)
        for metric in model.metric_names:
            title, label = plots.metric_label(metric)
            assert title != metric and label != metric, metric
