"""Figures: every family's files exist, are real non-blank PNGs, and degenerate runs still plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import modelcollapse as mc
from modelcollapse import plots

EXPECTED = {
    "coin": {"metrics.png", "paths.png", "absorbed.png"},
    "categorical": {"metrics.png"},
    "gaussian": {"metrics.png"},
    "gmm": {"metrics.png", "variance.png", "density.png"},
}
SIZES = {"coin": dict(n_generations=20, n_replicates=30),
         "categorical": dict(n_samples=100, n_generations=15, n_replicates=6),
         "gaussian": dict(n_samples=20, n_generations=30, n_replicates=8),
         "gmm": dict(n_samples=200, n_generations=12, n_replicates=4)}


def assert_real_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 400
    assert image[..., :3].std() > 0.02, f"{path.name} looks blank"


def test_every_family_has_expected_figures():
    assert set(EXPECTED) == set(mc.FAMILIES.names())


@pytest.mark.parametrize("family", list(EXPECTED))
def test_figures_of_each_family(family, tmp_path):
    result = mc.simulate(mc.RunConfig(family, seed=1, **SIZES[family]))
    paths = plots.plot_run(result, tmp_path)
    assert {p.name for p in paths} == EXPECTED[family]
    for path in paths:
        assert_real_png(path)


@pytest.mark.parametrize("config", [
    mc.RunConfig(mc.Gaussian(), n_samples=1, n_generations=5, n_replicates=3, seed=1),
    mc.RunConfig(mc.Coin(p0=0.0), n_generations=5, n_replicates=3, seed=1),
    mc.RunConfig(mc.Coin(), n_generations=1, n_replicates=1, seed=1),
    mc.RunConfig(mc.Categorical(probs=(1.0, 0.0)), n_samples=10, n_generations=4,
                 n_replicates=2, seed=1),
    mc.RunConfig(mc.GMM(), n_samples=2, n_generations=3, n_replicates=1, seed=1),
], ids=["gaussian-collapsed-to-zero", "coin-absorbed-at-start", "single-generation",
        "one-token", "gmm-two-points"])
def test_degenerate_runs_still_plot(config, tmp_path):
    result = mc.simulate(config)
    for path in plots.plot_run(result, tmp_path):
        assert_real_png(path)


def test_absorbed_fractions_count_every_replicate():
    replicates = pd.DataFrame({"absorption_time": pd.array([0, 2, None, 5], dtype="Int64"),
                               "fixed_at": pd.array([1, 0, None, 1], dtype="Int64")})
    fractions = plots.absorbed_fractions(replicates, 6)
    absorbed = next(v for k, v in fractions.items() if "absorb" in k)
    np.testing.assert_allclose(absorbed, [0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75])


def test_titles_say_when_only_some_replicates_are_drawn():
    assert "500" in plots.replicates_text(500, 1_000_000)
    assert "1,000,000" in plots.replicates_text(500, 1_000_000)


def test_mixture_density_integrates_to_one():
    x = np.linspace(-15, 15, 20_001)
    dens = plots.mixture_density(x, np.array([0.3, 0.7]), np.array([-2.0, 3.0]),
                                 np.array([0.5, 2.0]))
    assert np.trapezoid(dens, x) == pytest.approx(1.0, rel=1e-6)
