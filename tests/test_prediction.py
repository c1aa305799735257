"""predict(config): exact curves per family and policy, and honest notes where there are none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import plots, theory
from modelcollapse.plots import STYLE
from modelcollapse.theory import prediction

POLICIES = [mc.Replace(), mc.Mix(real=0.2, synthetic=0.5), mc.Mix(synthetic=0.6),
            mc.Accumulate(), mc.Accumulate(real=0.2), mc.AccumulateSubsample()]


def config(family, policy=None, **sizes):
    sizes = {"n_generations": 12, "n_replicates": 4, "seed": 1, **sizes}
    return mc.RunConfig(family=family, policy=policy or mc.Replace(), **sizes)


@pytest.mark.parametrize("policy", POLICIES, ids=str)
@pytest.mark.parametrize("family", ["coin", "categorical", "gaussian", "gmm"])
def test_curves_start_at_the_truth_and_span_every_generation(family, policy):
    cfg = config(family, policy, n_samples=20)
    pred = mc.predict(cfg)
    truth = mc.simulate(config(family, policy, n_samples=20, n_generations=1, n_replicates=1))
    assert pred.curves, "every family has some exact curve under every policy"
    for metric, curves in pred.curves.items():
        start = truth.trajectories(metric)[0, 0]
        for curve in curves:
            assert curve.values.shape == (cfg.n_generations + 1,)
            assert np.isfinite(curve.values).all()
            assert curve.values[0] == pytest.approx(start, rel=1e-9, abs=1e-12), metric
            assert curve.label.startswith(("exact", "≈")), curve.label
            if curve.lower is not None:
                assert np.all(curve.lower <= curve.values + 1e-12)
                assert np.all(curve.upper >= curve.values - 1e-12)
    covered = set(pred.curves)
    uncovered = set(cfg.model.metric_names) - covered - {"em_iterations"}
    for metric in uncovered:  # every metric without a curve is accounted for in a note
        assert any(metric.rstrip("_0123456789") in note or "component" in note
                   for note in pred.notes), (metric, pred.notes)


def test_classic_coin_facts_and_absorption_law():
    pred = mc.predict(mc.RunConfig("coin"))
    assert pred.facts["mean absorption time"] == pytest.approx(12.5905, abs=1e-4)
    assert pred.facts["mean absorption time, diffusion approximation (not exact)"] == \
        pytest.approx(13.8629, abs=1e-4)
    assert pred.facts["fixation probability P(p → 1)"] == 0.5
    np.testing.assert_allclose(pred.absorbed.values,
                               theory.coin_absorption_time(0.5, 10, horizon=60).cdf)
    (p,) = pred.for_metric("p")
    np.testing.assert_allclose(p.values, 0.5, atol=1e-12)       # a martingale
    assert p.lower[-1] == 0.0 and p.upper[-1] == 1.0             # absorbed by t = 60


def test_coin_with_fresh_tosses_has_a_stationary_law_and_is_not_absorbed():
    pred = mc.predict(config(mc.Coin(p0=0.3), mc.Mix(real=0.2, synthetic=0.5), n_samples=10,
                             n_generations=400))
    assert pred.facts["stationary E p"] == pytest.approx(0.3)
    assert 0 < pred.facts["stationary Var p"] < 0.21
    (p,) = pred.for_metric("p")
    assert p.values[-1] == pytest.approx(0.3)
    assert "touched" in pred.absorbed.label        # hitting, not absorption
    assert "fixation probability P(p → 1)" not in pred.facts


def test_coin_accumulate_is_absorbed_only_by_a_unanimous_first_batch():
    pred = mc.predict(config(mc.Coin(p0=0.5), mc.Accumulate(), n_samples=10))
    np.testing.assert_allclose(pred.absorbed.values[1:], 2 * 0.5**10)
    assert pred.absorbed.values[0] == 0.0


def test_gaussian_replace_has_every_closed_form():
    pred = mc.predict(config(mc.Gaussian(std=2.0, estimator="unbiased"), n_samples=10))
    t = np.arange(13)
    np.testing.assert_allclose(pred.for_metric("var")[0].values,
                               theory.gaussian_expected_var(4.0, 10, t, "unbiased"))
    np.testing.assert_allclose(pred.for_metric("kl")[0].values,
                               theory.gaussian_expected_kl(4.0, 10, t, "unbiased"))
    typical = pred.for_metric("var")[1]
    np.testing.assert_allclose(np.log(typical.values),
                               theory.gaussian_expected_log_var(4.0, 10, t, "unbiased"))
    assert "tail_mass" not in pred.curves


def test_gmm_variance_is_the_mixture_identity_and_the_rest_is_declared_open():
    pred = mc.predict(config(mc.GMM(), n_samples=50))
    (var,) = pred.for_metric("var")
    np.testing.assert_allclose(var.values, 5.0 * (49 / 50) ** np.arange(13))
    assert set(pred.curves) == {"var", "mean"}
    assert any("no closed form" in note for note in pred.notes)


def test_stationary_levels():
    mix = mc.predict(config(mc.Gaussian(), mc.Mix(real=0.1, synthetic=0.9), n_samples=100))
    assert mix.facts["stationary E var"] == pytest.approx(
        theory.gaussian_mix_stationary_var(1.0, 100, 0.1))
    carry = mc.predict(config(mc.Gaussian(), mc.Mix(real=0.1, synthetic=0.5), n_samples=100))
    far = theory.variance_moments(1.0, 100, 20_000, theory.pieces(carry.config.data_policy,
                                                                  100))[0][-1]
    assert carry.facts["stationary E var"] == pytest.approx(far, rel=1e-9)
    accumulate = mc.predict(config(mc.Gaussian(), mc.Accumulate(), n_samples=100))
    assert accumulate.facts["stationary E var"] == pytest.approx(
        theory.gaussian_accumulate_limit_var(1.0, 100))
    assert "stationary E var" not in mc.predict(config(mc.Gaussian(), n_samples=100)).facts


def test_large_chains_are_declined_with_a_note_not_approximated():
    pred = mc.predict(config(mc.Categorical(vocab=50), mc.Mix(real=0.1, synthetic=0.9),
                             n_samples=1500, n_generations=2000))
    assert "support" not in pred.curves
    assert any("support" in note and "budget" in note for note in pred.notes)
    assert "gini_simpson" in pred.curves      # the moment recursion still applies
    big_coin = mc.predict(config(mc.Coin(), n_samples=5000))
    assert big_coin.for_metric("p")[0].band_label == "exact E p_t ± 2 sd"
    assert any("k ≤" in note for note in big_coin.notes)


def test_theory_module_exposes_predict():
    assert theory.predict(mc.RunConfig("coin")).facts == mc.predict(mc.RunConfig("coin")).facts


# -- overlays ----------------------------------------------------------------------------------


def _theory_lines(fig):
    return [line for ax in fig.axes for line in ax.get_lines()
            if line.get_color() == STYLE.theory]


def test_metric_panels_overlay_theory_and_flag_the_rest():
    result = mc.simulate(config(mc.Categorical(vocab=20), n_samples=50, n_replicates=20))
    fig = plots.metrics_figure(result)
    assert _theory_lines(fig)
    by_title = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_visible()}
    entropy = next(ax for title, ax in by_title.items() if title.startswith("Entropy"))
    support = next(ax for title, ax in by_title.items() if title.startswith("Support"))
    assert entropy.get_title(loc="right") == "no exact result"
    assert support.get_title(loc="right") == ""
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "exact E support_t" in labels and "exact E Gini–Simpson" in labels


def test_coin_figures_overlay_the_exact_law():
    result = mc.simulate(config(mc.Coin(), n_samples=10, n_replicates=50))
    assert len(_theory_lines(plots.paths_figure(result))) == 3      # mean and two band edges
    absorbed = plots.absorbed_figure(result)
    assert any(line.get_label() == "exact P(absorbed by t)"
               for line in absorbed.axes[0].get_lines())


def test_a_failing_prediction_costs_the_overlay_not_the_figure(monkeypatch):
    def broken(config):
        raise RuntimeError("planted")

    monkeypatch.setattr(prediction, "predict", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mc.simulate(config(mc.Gaussian(), n_samples=10))
        fig = plots.metrics_figure(result)
    assert result.manifest["summary"]["theory"] is None
    assert not _theory_lines(fig)
    assert any("no theory overlay: planted" in str(w.message) for w in caught)


def test_gaussian_collapse_law_in_the_prediction():
    pred = mc.predict(config(mc.Gaussian(), n_samples=100, n_generations=300))
    np.testing.assert_allclose(pred.collapsed.values, theory.gaussian_collapse_time_cdf(100, 300))
    assert pred.facts["median collapse time"] == float(
        np.searchsorted(pred.collapsed.values, 0.5 - 1e-12))
    assert mc.predict(config(mc.Gaussian(), mc.Accumulate(), n_samples=100)).collapsed is None


def test_a_mix_without_fresh_or_carried_data_is_predicted_as_replace():
    mix = mc.RunConfig("gaussian", policy=mc.Mix(real=0.0, synthetic=1.0), n_samples=50,
                    n_generations=40)
    replace = mc.RunConfig("gaussian", n_samples=50, n_generations=40)
    a, b = mc.predict(mix), mc.predict(replace)
    assert a.config is mix
    assert a.collapsed is not None and np.array_equal(a.collapsed.values, b.collapsed.values)
    assert a.facts == b.facts
    # ⌊0.01 × 50⌋ = 0 fresh samples and the model supplies the rest: replace again
    assert mc.predict(mc.RunConfig("gaussian", policy=mc.Mix(real=0.01), n_samples=50,
                                   n_generations=40)).collapsed is not None
    # but 5 samples carried over are not replace
    assert mc.predict(mc.RunConfig("gaussian", policy=mc.Mix(real=0.0, synthetic=0.9),
                                   n_samples=50, n_generations=40)).collapsed is None
