"""The ``regression`` family: exact theory, the Wishart shortcut, planted bugs, bad input.

Statistical checks use ``z = (simulated − exact)/SE`` against one critical value, two-sided at
family-wise ``α = 1e-3`` with a Bonferroni correction over :data:`N_SUBCHECKS` sub-checks; every
check is also run on a planted bug, where it must fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.checks import ALPHA, critical_z
from modelcollapse.checks import mean_check as _mean_check
from modelcollapse.errors import ConfigError
from modelcollapse.families import regression as reg
from modelcollapse.loop import simulate_block
from modelcollapse.theory import regression as theory
from modelcollapse.training_sets import Samples

#: Sub-checks with the critical value below (passing ones; the planted bugs reuse them).
N_SUBCHECKS = 30
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)
SEED = 20261204
DIM, N, G, R = 4, 20, 6, 4000
C = DIM / (N - DIM - 1)


def mean_check(name, samples, exact):
    return _mean_check(name, samples, exact, critical=Z_CRIT)


def run(family, policy="replace", *, generations=G, replicates=R, seed=SEED):
    return simulate_block(family, mc.get_policy(policy), n_samples=N, n_generations=generations,
                          n_replicates=replicates, rng=np.random.default_rng(seed)).metrics


# -- planted bugs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DivideByNRegression(mc.Regression):
    """Bug: the noise estimate divides the RSS by n instead of n − d."""

    def fit(self, data, *, rng, previous):
        params, info = super().fit(data, rng=rng, previous=previous)
        params = params.copy()
        params[:, self.dim] *= (data.size - self.dim) / data.size
        return params, info


@dataclass(frozen=True)
class TruthLabelsRegression(mc.Regression):
    """Bug: synthetic labels generated from the truth's w instead of ŵ (no recursion)."""

    def sample(self, params, n, rng, *, stats):
        fake = np.array(params)
        fake[:, :self.dim] = self.true_weights
        return super().sample(fake, n, rng, stats=stats)


@dataclass(frozen=True)
class VarianceScaledRegression(mc.Regression):
    """Bug: the sampling scale multiplies the noise variance by λ, not by λ² (sd × √λ)."""

    def sampling_params(self, params):
        out = np.array(mc.Regression.sampling_params(self, params))
        out[:, self.dim] /= self.sampling_scale
        return out


def bartlett_off_by_one(w, var, n, rng):
    """Bug: Bartlett's chi-square degrees of freedom one too many (n − i + 2)."""
    return reg.wishart_gram(w, var, n + 1, rng)


# -- the Wishart shortcut -----------------------------------------------------------------------

def gram_checks(draw, label):
    """Exact moments of (XᵀX, Xᵀy, yᵀy) for n = 12 pairs, d = 3, w = (1, −1, ½), σ² = 2."""
    rng = np.random.default_rng(SEED)
    r, n = 20_000, 12
    w = np.broadcast_to([1.0, -1.0, 0.5], (r, 3))
    g = draw(w, np.full(r, 2.0), n, rng)
    return [
        mean_check(f"{label}: E (XᵀX)_33 = n", g.xx[:, 2, 2], n),
        mean_check(f"{label}: Var (XᵀX)_12 = n", g.xx[:, 0, 1] ** 2, n),
        mean_check(f"{label}: E (Xᵀy)_2 = n w_2", g.xy[:, 1], -n),
        mean_check(f"{label}: E yᵀy = n (‖w‖² + σ²)", g.yy, n * (2.25 + 2.0)),
    ]


def raw_gram(w, var, n, rng):
    fam = mc.Regression(dim=3, weights=(1.0, -1.0, 0.5), noise=np.sqrt(2.0))
    params = np.concatenate([w, var[:, None]], axis=1)
    return reg.Gram.of(fam.sample(params, n, rng, stats=False).values)


def test_wishart_shortcut_matches_the_sample_path():
    for check in gram_checks(reg.wishart_gram, "shortcut") + gram_checks(raw_gram, "raw"):
        assert check.passed, check


def test_wishart_shortcut_check_catches_a_bartlett_off_by_one():
    assert not all(c.passed for c in gram_checks(bartlett_off_by_one, "bug"))


def test_gram_of_samples_is_exact():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((2, 7, 4))
    g = reg.Gram.of(values)
    x, y = values[0, :, :3], values[0, :, 3]
    np.testing.assert_allclose(g.xx[0], x.T @ x)
    np.testing.assert_allclose(g.xy[0], x.T @ y)
    np.testing.assert_allclose(g.yy[0], y @ y)
    both = reg.Gram.concat([g, g])
    assert both.size == 14 and np.allclose(both.xx, 2 * g.xx)
    with pytest.raises(NotImplementedError):
        g.subsample(3, rng)


# -- exact theory under replace and accumulate ---------------------------------------------------

def replace_checks(family, label, exact_shift=0):
    m = run(family)
    label_noise = family.label_noise
    scale = family.sampling_scale
    error = theory.regression_replace_param_error(DIM, N, 1.0, G + exact_shift,
                                                  label_noise=label_noise, sampling_scale=scale)
    noise = theory.regression_replace_noise(1.0, G, label_noise=label_noise, sampling_scale=scale)
    out = [mean_check(f"{label}: E param_error_{t}", m["param_error"][:, t],
                      float(error[t + exact_shift])) for t in (1, G)]
    out.append(mean_check(f"{label}: E noise_{G}", m["noise"][:, G], float(noise[G])))
    out.append(mean_check(f"{label}: E test_error_{G}", m["test_error"][:, G],
                          1.0 + float(error[G + exact_shift])))
    return out


REPLACE = [("fresh, shortcut", {}), ("fresh, raw", {"shortcut": False}),
           ("fixed", {"inputs": "fixed"}), ("fitted noise", {"label_noise": "fitted"}),
           ("fitted noise, fixed, scale 1.2", {"label_noise": "fitted", "inputs": "fixed",
                                               "sampling_scale": 1.2})]


@pytest.mark.parametrize(("label", "settings"), REPLACE)
def test_replace_matches_exact_theory(label, settings):
    for check in replace_checks(mc.Regression(dim=DIM, **settings), label):
        assert check.passed, check


def test_replace_check_catches_theory_off_by_one_generation():
    checks = replace_checks(mc.Regression(dim=DIM), "bug", exact_shift=1)
    assert not all(c.passed for c in checks)


def test_replace_check_catches_noise_divided_by_n():
    checks = replace_checks(DivideByNRegression(dim=DIM, label_noise="fitted"), "bug")
    assert not all(c.passed for c in checks)


def test_replace_check_catches_a_sampling_scale_on_the_variance():
    fam = VarianceScaledRegression(dim=DIM, label_noise="fitted", inputs="fixed",
                                   sampling_scale=1.2)
    assert not all(c.passed for c in replace_checks(fam, "bug"))


def accumulate_checks(family, label):
    m = run(family, "accumulate")
    exact = theory.regression_accumulate_param_error(DIM, N, 1.0, G)
    return [mean_check(f"{label}: E param_error_{t}", m["param_error"][:, t], float(exact[t]))
            for t in (2, G)]


def test_accumulate_with_fixed_inputs_matches_the_pi2_over_6_sum():
    for check in accumulate_checks(mc.Regression(dim=DIM, inputs="fixed"), "accumulate"):
        assert check.passed, check
    assert theory.regression_accumulate_limit(DIM, N, 1.0) == pytest.approx(C * np.pi**2 / 6)


def test_accumulate_check_catches_labels_from_the_truth():
    checks = accumulate_checks(TruthLabelsRegression(dim=DIM, inputs="fixed"), "bug")
    assert not all(c.passed for c in checks)


def test_subcheck_count_is_honest():
    count = (2 * 4 + 4 * len(REPLACE) + 2)
    assert count == N_SUBCHECKS


# -- shapes, binding, prediction, pictures -------------------------------------------------------

def test_fixed_inputs_are_bound_to_the_run_and_kept_out_of_the_stream_key():
    fam = mc.Regression(dim=2, inputs="fixed")
    bound = fam.for_run(30, 5, mc.Replace())
    assert bound.param_shape == (2 + 1 + 30 * 2,)
    assert bound.for_run(30, 5, mc.Replace()) is bound
    assert "n_inputs" not in bound.stream_settings()
    assert bound.stream_settings() == fam.stream_settings()
    result = simulate_block(fam, mc.Replace(), n_samples=30, n_generations=3, n_replicates=2,
                            rng=np.random.default_rng(1))
    assert np.isfinite(result.final_params).all()


def test_fixed_inputs_are_those_of_training_set_one():
    fam = mc.Regression(dim=2, inputs="fixed").for_run(10, 2, mc.Replace())
    rng = np.random.default_rng(2)
    truth = np.broadcast_to(fam.truth(), (3, *fam.param_shape))
    first = fam.sample(truth, 10, rng, stats=False)
    params, _ = fam.fit(first, rng=rng, previous=truth)
    again = fam.sample(params, 15, rng, stats=False)
    np.testing.assert_array_equal(again.values[:, :10, :2], first.values[:, :, :2])
    np.testing.assert_array_equal(again.values[:, 10:, :2], first.values[:, :5, :2])


def test_points_are_the_first_replicates_x1_and_y():
    fam = mc.Regression(dim=3)
    data = fam.sample(np.broadcast_to(fam.truth(), (2, 4)), 6, np.random.default_rng(0),
                      stats=False)
    pts = fam.points(data)
    assert pts.shape == (6, 2)
    np.testing.assert_array_equal(pts[:, 0], data.values[0, :, 0])
    np.testing.assert_array_equal(pts[:, 1], data.values[0, :, 3])


def test_predict_draws_exact_curves_under_replace_and_notes_elsewhere():
    pred = mc.predict(mc.RunConfig(mc.Regression(dim=DIM), n_samples=N, n_generations=G))
    np.testing.assert_allclose(pred.for_metric("param_error")[0].values, C * np.arange(G + 1))
    np.testing.assert_allclose(pred.for_metric("test_error")[0].values,
                               1 + C * np.arange(G + 1))
    ridge = mc.predict(mc.RunConfig(mc.Regression(dim=DIM, ridge=1.0), n_samples=N))
    assert not ridge.curves and any("ridge" in n for n in ridge.notes)
    mix = mc.predict(mc.RunConfig(mc.Regression(dim=DIM), policy=mc.Mix(real=0.5),
                                  n_samples=N))
    assert any("approximate" in k for k in mix.facts)


def test_curation_and_loop_settings_run():
    for settings in ({"real_weight": 0.7}, {"sampling_scale": 1.2, "ridge": 0.5},
                     {"inputs": "fixed", "label_noise": "fitted"}):
        cfg = mc.RunConfig(mc.Regression(dim=2, **settings), policy="accumulate", n_samples=10,
                           n_generations=3, n_replicates=3, curation="best-of")
        result = mc.simulate(cfg)
        assert np.isfinite(result.trajectories("test_error")).all()


# -- degenerate data and bad input ---------------------------------------------------------------

def test_all_equal_inputs_give_a_finite_minimum_norm_fit():
    fam = mc.Regression(dim=2)
    values = np.zeros((2, 5, 3))
    values[..., 0] = 1.0
    values[..., 1] = 1.0
    values[..., 2] = 2.0
    params, _ = fam.fit(Samples(values), rng=np.random.default_rng(0),
                        previous=np.broadcast_to(fam.truth(), (2, 3)))
    assert np.isfinite(params).all()
    np.testing.assert_allclose(params[:, :2], 1.0)  # the minimum-norm w with w1 + w2 = 2


@pytest.mark.parametrize(("settings", "field"), [
    ({"dim": 0}, "dim"), ({"dim": 2000}, "dim"), ({"weights": (1.0, 2.0), "dim": 3}, "weights"),
    ({"weights": ()}, "weights"), ({"noise": 0.0}, "noise"), ({"ridge": -1.0}, "ridge"),
    ({"inputs": "same"}, "inputs"), ({"label_noise": "none"}, "label_noise"),
    ({"sampling_scale": 0.0}, "sampling_scale"), ({"real_weight": 2.0}, "real_weight"),
])
def test_bad_settings_name_their_field(settings, field):
    with pytest.raises(ConfigError) as err:
        mc.Regression(**settings)
    assert err.value.field == field


def test_too_few_samples_for_least_squares_is_refused():
    with pytest.raises(ConfigError) as err:
        mc.Regression(dim=5).validate_run(5, mc.Replace())
    assert err.value.field == "n_samples"


def test_only_the_truth_reward_applies():
    fam = mc.Regression(dim=2)
    reward = fam.reward("truth")
    truth = fam.truth()[None]
    np.testing.assert_allclose(reward.expected(truth), -0.5 * (np.log(2 * np.pi) + 1.0))
    with pytest.raises(ConfigError):
        fam.reward("target:1")
