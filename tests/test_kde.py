"""The ``kde`` family: the loop under every policy, its metrics against independent computations,
its bandwidth rules against scikit-learn's, and its exact theory (statistical checks that fail
on planted bugs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import modelcollapse as mc
from modelcollapse import theory
from modelcollapse.checks import ALPHA, critical_z, mean_check
from modelcollapse.errors import ConfigError
from modelcollapse.families.kde import family as kde_module
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Samples, mark

POLICY_SETTINGS = {"replace": {}, "mix": {"real": 0.2, "synthetic": 0.5},
                   "accumulate": {"real": 0.1}, "accumulate-subsample": {"real": 0.1},
                   "augment": {"synthetic": 0.5}}
VARIANTS = {"default": {}, "tophat": {"kernel": "tophat"}, "2-D": {"dim": 2},
            "scott": {"bandwidth": "scott"}, "fixed": {"bandwidth": 0.3},
            "scaled": {"sampling_scale": 0.7}}

#: Sub-checks of the statistical tests below (each test's checks share one Bonferroni budget).
N_SUBCHECKS = 17
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)
SEED = 20261204


def run(family, policy="replace", *, n=30, g=5, r=3, seed=1, **kwargs):
    pol = mc.get_policy(policy, **POLICY_SETTINGS.get(policy, {}))
    return simulate_block(family, pol, n_samples=n, n_generations=g, n_replicates=r,
                          rng=np.random.default_rng(seed), **kwargs)


# -- the loop -------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", list(POLICY_SETTINGS))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_policy_runs(policy, variant):
    fam = mc.KDE(**VARIANTS[variant])
    pol = mc.get_policy(policy, **POLICY_SETTINGS[policy])
    result = run(fam, policy)
    bound = fam.for_run(30, 5, pol)
    assert result.final_params.shape == (3, *bound.param_shape)
    truth = fam.metrics(fam.truth()[None])
    for name, values in result.metrics.items():
        assert values.shape == (3, 6)
        assert not np.isnan(values).any(), name
        np.testing.assert_allclose(values[:, 0], truth[name][0], err_msg=name)
        if not (fam.kernel == "tophat" and name in ("kl", "nll")):
            assert np.isfinite(values).all(), name
    again = run(fam, policy)
    for name in fam.metric_names:
        np.testing.assert_array_equal(result.metrics[name], again.metrics[name])


def test_tophat_kl_and_nll_are_infinite_and_recorded():
    result = run(mc.KDE(kernel="tophat"))
    assert np.isinf(result.metrics["kl"][:, 1:]).all()
    assert np.isinf(result.metrics["nll"][:, 1:]).all()
    assert result.metrics["kl"][0, 0] == 0.0


@pytest.mark.parametrize("policy", ["mix", "accumulate", "augment"])
def test_weighted_kde(policy):
    fam = mc.KDE(real_weight=0.8)
    result = run(fam, policy)
    assert np.isfinite(result.metrics["var"]).all()
    # The weights sit in the parameters: real points carry 0.8 in total.
    w = result.final_params[:, 1:, 1]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def _weighted_share_check(*, ignore_weights=False):
    """Sampling a weighted KDE picks real points with their total weight 0.9."""
    fam = mc.KDE(real_weight=0.9, bandwidth=1e-6)
    real = mark(Samples(np.zeros((2, 10))), real=True)
    synthetic = mark(Samples(np.ones((2, 30))), real=False)
    params, _ = fam.fit(Samples.concat([real, synthetic]), rng=np.random.default_rng(0),
                        previous=fam.truth()[None])
    if ignore_weights:  # the planted bug: every point equally likely
        params[:, 1:41, 1] = 1 / 40
    x = fam.sample(params, 20_000, np.random.default_rng(SEED), stats=False).values
    return mean_check("P(a real point)", (x < 0.5).ravel(), 0.9, variance=0.09,
                      critical=Z_CRIT)


def test_weighted_kde_samples_by_weight():
    check = _weighted_share_check()
    assert check.passed, str(check)


def test_planted_sampler_ignoring_weights_fails():
    assert not _weighted_share_check(ignore_weights=True).passed


@pytest.mark.parametrize("curator", ["best-of", "verifier", "top", "bottom", "reweight"])
@pytest.mark.parametrize("dim", [1, 2])
def test_curation(curator, dim):
    config = mc.RunConfig(mc.KDE(dim=dim), n_samples=20, n_generations=3, n_replicates=2,
                          seed=3, curation=mc.get_curator(curator), reward="truth")
    result = mc.simulate(config)
    assert np.isfinite(result.trajectories("var")).all()


def test_target_reward_is_1d_only():
    assert mc.KDE().reward("target:1").spec == "target:1"
    with pytest.raises(ConfigError, match="reward"):
        mc.KDE(dim=2).reward("target:1")


def test_points_for_the_scatter_picture():
    fam = mc.KDE(dim=3)
    data = fam.sample(np.broadcast_to(fam.truth(), (2, *fam.param_shape)), 7,
                      np.random.default_rng(0), stats=False)
    assert fam.points(data).shape == (7, 2)
    assert mc.KDE().points(Samples(np.zeros((2, 5)))) is None


def test_run_binding_and_round_trip():
    config = mc.RunConfig(mc.KDE(bandwidth="silverman", dim=2), policy="accumulate",
                          n_samples=10, n_generations=4)
    assert config.model.capacity == 50  # N (G + 1) points under accumulate
    assert "capacity" not in config.model.stream_settings()
    assert "capacity" not in config.to_dict()["family"]
    assert mc.RunConfig.from_dict(config.to_dict()) == config
    bound = config.model
    assert bound.for_run(10, 4, config.data_policy) is bound


@pytest.mark.parametrize(("field", "value"), [
    ("bandwidth", "fast"), ("bandwidth", -1.0), ("bandwidth", 0.0), ("bandwidth", True),
    ("kernel", "epanechnikov"), ("dim", 0), ("dim", 1000), ("std", 0.0), ("sampling_scale", 0.0),
    ("real_weight", 2.0)])
def test_bad_input(field, value):
    with pytest.raises(ConfigError, match=field):
        mc.KDE(**{field: value})


def test_spread_rule_needs_two_samples():
    with pytest.raises(ConfigError, match="n_samples"):
        mc.RunConfig(mc.KDE(bandwidth="scott"), n_samples=1)


def test_bandwidth_text_is_a_number():
    assert mc.KDE(bandwidth="0.25").bandwidth == 0.25


# -- the rules against scikit-learn -----------------------------------------------------------

@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("rule", ["sklearn-scott", "sklearn-silverman"])
def test_sklearn_rules_match_kernel_density(rule, d):
    from sklearn.neighbors import KernelDensity

    x = np.random.default_rng(0).normal(0, 5, (1, 37, d))
    fam = mc.KDE(bandwidth=rule, dim=d)
    h = fam.bandwidths(x, np.full((1, 37), 1 / 37))
    reference = KernelDensity(bandwidth=rule.removeprefix("sklearn-")).fit(x[0]).bandwidth_
    np.testing.assert_allclose(h, reference, rtol=1e-12)  # the spread (5) is ignored


def test_spread_rules():
    x = np.random.default_rng(0).normal(0, 3, (2, 50, 2))
    omega = np.full((2, 50), 1 / 50)
    sd = x.std(axis=1)
    np.testing.assert_allclose(mc.KDE(bandwidth="scott", dim=2).bandwidths(x, omega),
                               sd * 50 ** (-1 / 6))
    np.testing.assert_allclose(mc.KDE(bandwidth="silverman").bandwidths(x[..., :1], omega),
                               (4 / 3) ** 0.2 * sd[:, :1] * 50 ** -0.2)


@pytest.mark.parametrize("kernel", ["gaussian", "tophat"])
@pytest.mark.parametrize("d", [1, 2])
def test_log_density_matches_kernel_density(kernel, d):
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(1)
    fam = mc.KDE(kernel=kernel, dim=d, bandwidth=0.7)
    data = Samples(rng.normal(size=(1, 25, d)) if d > 1 else rng.normal(size=(1, 25)))
    params, _ = fam.fit(data, rng=rng, previous=fam.truth()[None])
    query = rng.normal(size=(1, 40, d)) * 0.5
    ours = fam.unit_log_likelihood(params, Samples(query if d > 1 else query[..., 0]))
    points = data.values.reshape(25, d)
    if kernel == "gaussian" or d == 1:
        ref = KernelDensity(kernel=kernel, bandwidth=0.7).fit(points).score_samples(query[0])
    else:  # a product of boxes (scikit-learn's tophat is a ball): counted by hand
        inside = (np.abs(query[0][:, None, :] - points[None]) <= 0.7).all(axis=2)
        with np.errstate(divide="ignore"):
            ref = np.log(inside.mean(axis=1) / 1.4**d)
    np.testing.assert_allclose(ours[0], ref, rtol=1e-10, atol=1e-12)


# -- the metrics against independent computations -------------------------------------------

def _kde_params(points, h, kernel="gaussian"):
    fam = mc.KDE(kernel=kernel, bandwidth=h)
    params, _ = fam.fit(Samples(np.asarray(points, dtype=float)[None]),
                        rng=np.random.default_rng(0), previous=fam.truth()[None])
    return fam, params


def test_one_point_kde_is_a_normal():
    """A Gaussian KDE of one point at ``m`` with bandwidth ``h`` is ``N(m, h²)``."""
    m, h = 0.7, 1.6
    fam, params = _kde_params([m], h)
    out = fam.metrics(params)
    kl = math.log(h) + (1 + m * m) / (2 * h * h) - 0.5
    np.testing.assert_allclose(out["kl"], kl, rtol=1e-9)
    np.testing.assert_allclose(out["nll"], kl + 0.5 * math.log(2 * math.pi * math.e), rtol=1e-9)
    np.testing.assert_allclose(out["w2"], math.hypot(m, h - 1), rtol=1e-10)
    tail = stats.norm.cdf(-2.5758293035489004, m, h) + stats.norm.sf(2.5758293035489004, m, h)
    np.testing.assert_allclose(out["tail_mass"], tail, rtol=1e-12)
    np.testing.assert_allclose(out["var"], h * h)


def test_quadrature_against_adaptive_integration():
    points, h = [-1.2, 0.1, 0.4, 2.0], 0.45
    fam, params = _kde_params(points, h)
    out = fam.metrics(params)

    def f(x):
        return np.mean(stats.norm.pdf(x, points, h))

    def integrand(x):
        return stats.norm.pdf(x) * (stats.norm.logpdf(x) - math.log(f(x)))

    kl = integrate.quad(integrand, -14, 14, limit=400, epsabs=1e-13)[0]
    np.testing.assert_allclose(out["kl"], kl, atol=1e-9)

    def cdf(x):
        return np.mean(stats.norm.cdf(x, points, h))

    def quantile(u):
        from scipy.optimize import brentq
        return brentq(lambda x: cdf(x) - u, -30, 30, xtol=1e-14)

    w2sq = integrate.quad(lambda u: (quantile(u) - stats.norm.ppf(u)) ** 2, 0, 1,
                          limit=400, epsabs=1e-10)[0]
    np.testing.assert_allclose(out["w2"] ** 2, w2sq, atol=1e-9)


def test_tophat_w2_and_tail_mass():
    points, h = [-0.5, 0.3, 1.0], 0.8
    fam, params = _kde_params(points, h, kernel="tophat")
    out = fam.metrics(params)
    law = [stats.uniform(p - h, 2 * h) for p in points]
    z = 2.5758293035489004
    tail = np.mean([d.cdf(-z) + d.sf(z) for d in law])
    np.testing.assert_allclose(out["tail_mass"], tail, atol=1e-15)
    np.testing.assert_allclose(out["var"], np.var(points) + h * h / 3)

    def cdf(x):
        return np.mean([d.cdf(x) for d in law])

    from scipy.optimize import brentq
    w2sq = integrate.quad(lambda u: (brentq(lambda x: cdf(x) - u, -5, 5, xtol=1e-14)
                                     - stats.norm.ppf(u)) ** 2, 0, 1, limit=400)[0]
    np.testing.assert_allclose(out["w2"] ** 2, w2sq, atol=1e-4)


def test_held_out_nll_in_d_dimensions():
    fam = mc.KDE(dim=2, mean=1.0, std=2.0)
    out = fam.metrics(fam.truth()[None])
    held = 1.0 + 2.0 * kde_module.held_out_normal(2)
    exact = -stats.norm.logpdf(held, 1.0, 2.0).sum(axis=1).mean()
    np.testing.assert_allclose(out["nll"], exact, rtol=1e-12)
    np.testing.assert_array_equal(kde_module.held_out_normal(2), kde_module.held_out_normal(2))


def test_collapsed_bandwidth_is_recorded_not_nan():
    fam = mc.KDE(bandwidth="scott")
    params, _ = fam.fit(Samples(np.full((1, 5), 2.0)), rng=np.random.default_rng(0),
                        previous=fam.truth()[None])
    out = fam.metrics(params)
    assert out["var"][0] == 0.0
    assert np.isinf(out["kl"][0]) and np.isinf(out["nll"][0])
    np.testing.assert_allclose(out["w2"], math.hypot(2.0, 1.0), rtol=1e-3)
    assert not any(np.isnan(v).any() for v in out.values())


# -- statistical tests of the exact theory, each shown to fail on a planted bug ----------------

@pytest.fixture
def moments_only(monkeypatch):
    """The statistical tests check moments (``var``, ``spread``, computed from the points and
    bandwidths alone); the density metrics (quadratures, held-out likelihoods) are tested above
    and would cost most of their time, so here they are skipped (zeros)."""
    def zeros(self, params):
        names = ("nll", "w2", "kl", "tail_mass") if self.dim == 1 else ("nll",)
        return {name: np.zeros(params.shape[0]) for name in names}

    monkeypatch.setattr(kde_module.KDE, "_density_metrics", zeros)


def _checks(family, policy, *, n, g, r, times, theory_shift=0, seed=SEED, theory_policy=None):
    pol = mc.get_policy(policy)
    result = simulate_block(family, pol, n_samples=n, n_generations=g, n_replicates=r,
                            rng=np.random.default_rng(seed))
    exact = theory.kde_expected_moments(var0=family.std**2, n=n, generations=g + 1,
                                        policy=theory_policy or policy, kappa=family.kappa,
                                        bandwidth=family.bandwidth, d=family.dim,
                                        sampling_scale=family.sampling_scale)
    d = family.dim
    checks = []
    for t in times:
        te = max(t - theory_shift, 0)
        checks.append(mean_check(f"E var_{t}", result.metrics["var"][:, t],
                                 d * float(exact.var[te]), critical=Z_CRIT))
        checks.append(mean_check(f"E spread_{t}", result.metrics["spread"][:, t],
                                 d * float(exact.spread[te]), critical=Z_CRIT))
    return checks


CASES = {
    "replace-fixed": (dict(bandwidth=0.5), "replace", (1, 8)),
    "replace-tophat": (dict(bandwidth=0.8, kernel="tophat"), "replace", (2, 8)),
    "replace-scott": (dict(bandwidth="scott"), "replace", (3, 8)),
    "accumulate-scott-2d": (dict(bandwidth="scott", dim=2, sampling_scale=1.3), "accumulate",
                            (2, 8)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.usefixtures("moments_only")
def test_exact_variance_recursions(case):
    settings, policy, times = CASES[case]
    checks = _checks(mc.KDE(**settings), policy, n=10, g=8, r=4000, times=times)
    assert all(c.passed for c in checks), "\n".join(map(str, checks))


@pytest.mark.usefixtures("moments_only")
def test_planted_theory_off_by_one_generation_fails():
    settings, policy, times = CASES["replace-fixed"]
    checks = _checks(mc.KDE(**settings), policy, n=10, g=8, r=4000, times=times,
                     theory_shift=1)
    assert not all(c.passed for c in checks)


@pytest.mark.usefixtures("moments_only")
def test_planted_accumulate_read_as_replace_fails():
    """The pool recursion replaced by replace's (the set's growth forgotten) is caught."""
    settings, policy, times = CASES["accumulate-scott-2d"]
    checks = _checks(mc.KDE(**settings), policy, n=10, g=8, r=4000, times=times,
                     theory_policy="replace")
    assert not all(c.passed for c in checks)


@pytest.mark.usefixtures("moments_only")
def test_planted_unbiased_spread_fails(monkeypatch):
    """A spread rule computed with the N − 1 divisor (scipy's convention) moves E var_t."""
    original = kde_module.KDE.bandwidths

    def unbiased(self, x, omega):
        n = x.shape[1]
        return original(self, x, omega) * math.sqrt(n / (n - 1))

    monkeypatch.setattr(kde_module.KDE, "bandwidths", unbiased)
    settings, policy, times = CASES["replace-scott"]
    checks = _checks(mc.KDE(**settings), policy, n=10, g=8, r=4000, times=times)
    assert not all(c.passed for c in checks)


@pytest.mark.usefixtures("moments_only")
def test_planted_tophat_kernel_variance_fails(monkeypatch):
    """A tophat sampled on [−√3 h, √3 h] (unit variance: the Gaussian's κ) moves E var_t."""
    original = np.random.Generator.uniform

    class Wide:
        def __init__(self, rng):
            self.rng = rng

        def __getattr__(self, name):
            return getattr(self.rng, name)

        def uniform(self, low, high, size):
            return math.sqrt(3.0) * original(self.rng, low, high, size)

    fam = mc.KDE(bandwidth=0.8, kernel="tophat")
    sample = kde_module.KDE.sample
    monkeypatch.setattr(kde_module.KDE, "sample",
                        lambda self, params, n, rng, *, stats: sample(self, params, n, Wide(rng),
                                                                      stats=stats))
    checks = _checks(fam, "replace", n=10, g=8, r=4000, times=(2, 8))
    assert not all(c.passed for c in checks)


def test_predict_gives_the_exact_curves():
    config = mc.RunConfig(mc.KDE(bandwidth=0.5), n_samples=10, n_generations=6)
    pred = mc.predict(config)
    ts = np.arange(7)
    np.testing.assert_allclose(pred.for_metric("spread")[0].values, 1 + ts * 0.25)
    var = pred.for_metric("var")[0].values
    a = 0.9
    np.testing.assert_allclose(var, a**ts + 10 * 0.25 * (1 - a**ts))
    assert pred.facts["limit E var (fixed bandwidth)"] == pytest.approx(2.5)
    scott = mc.predict(mc.RunConfig(mc.KDE(bandwidth="scott"), n_samples=100))
    g = scott.facts["growth factor of E var per generation"]
    assert g == pytest.approx(0.99 * (1 + 100 ** -0.4))
    curve = scott.for_metric("var")[0].values
    np.testing.assert_allclose(curve[2:] / curve[1:-1], g)
    mixed = mc.predict(mc.RunConfig(mc.KDE(), policy=mc.Mix(real=0.5)))
    assert "var" not in mixed.curves and any("no exact variance" in n for n in mixed.notes)


def test_subcheck_budget_is_honest():
    assert N_SUBCHECKS == 2 * sum(len(times) for _, _, times in CASES.values()) + 1


def test_blown_up_model_is_absorbing_and_recorded():
    fam = mc.KDE(bandwidth="scott", sampling_scale=1000.0)
    result = run(fam, "replace", n=5, g=60)
    for name, values in result.metrics.items():
        assert not np.isnan(values).any(), name
    assert np.isinf(result.metrics["var"][:, -1]).all()
    assert (result.metrics["tail_mass"][:, -1] == 1.0).all()


def test_tiny_bandwidth_w2_is_the_empirical_distributions():
    """``h → 0``: the KDE is the empirical law, ``W₂² = Σ_i ∫ (x_(i) − Φ⁻¹(u))² du`` over
    ``u ∈ [(i−1)/n, i/n]`` (the grid cannot resolve ``h``: the piecewise-linear rule, error of
    the order of the grid step)."""
    x = np.sort(np.random.default_rng(4).normal(0.3, 1.5, 20))
    fam, params = _kde_params(x, 1e-9)
    z = stats.norm.ppf(np.arange(21) / 20)
    phi = stats.norm.pdf(z)
    with np.errstate(invalid="ignore"):  # z = ±inf at the ends, where φ = 0
        m2 = 1 / 20 - np.diff(np.where(np.isfinite(z), z * phi, 0.0))
    w2sq = (x * x / 20 + 2 * x * np.diff(phi) + m2).sum()
    np.testing.assert_allclose(fam.metrics(params)["w2"] ** 2, w2sq, atol=2e-3)
