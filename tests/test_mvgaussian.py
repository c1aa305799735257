"""The ``mvgaussian`` family: exact maths on hand inputs, degenerate fits, bad input, the Wishart
shortcut against the sample path, the exact theory under every policy, ``d = 1`` against the
``gaussian`` family, and a planted bug for each statistical check (each must fail on it).

Statistical tolerances are ``z · SE`` with ``z`` from ``α = 1e-3`` and a Bonferroni correction
over the sub-checks of each test (:func:`modelcollapse.checks.critical_z`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import theory
from modelcollapse.checks import Check, critical_z, mean_check
from modelcollapse.errors import ConfigError
from modelcollapse.families import mvgaussian as mvg
from modelcollapse.loop import simulate_block
from modelcollapse.theory import mvgaussian as mvt
from modelcollapse.theory.assembly import Pieces
from modelcollapse.training_sets import Samples, ScatterMoments, concat, mark

ALPHA = 1e-3
COV3 = (2.0, 0.6, 0.0, 0.6, 1.0, -0.3, 0.0, -0.3, 0.5)
MEAN3 = (1.0, -1.0, 0.5)


def run(family, policy="replace", *, n=20, g=5, r=4000, seed=0, **policy_settings):
    pol = mc.get_policy(policy, **policy_settings) if isinstance(policy, str) else policy
    return simulate_block(family, pol, n_samples=n, n_generations=g, n_replicates=r,
                          rng=np.random.default_rng(seed)).metrics


def two_sample(name: str, a: np.ndarray, b: np.ndarray) -> Check:
    """``mean(a) − mean(b)`` against 0 with the two-sample standard error."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return Check(name, float(a.mean() - b.mean()), 0.0, se)


def verdict(checks: list[Check]) -> list[Check]:
    """The checks that fail at family-wise ``α`` over the set (Bonferroni)."""
    crit = critical_z(ALPHA, len(checks))
    return [c for c in checks if not c.passes(crit)]


# -- exact maths on hand inputs ------------------------------------------------------------------


def test_metrics_match_closed_forms_by_hand():
    from scipy import linalg

    fam = mc.MVGaussian(mean=MEAN3, cov=COV3)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + 0.3 * np.eye(3)
    mean = np.array([0.2, 0.1, -0.4])
    got = fam.metrics(mvg.join_params(mean[None], cov[None]))
    cov0, mean0 = fam.cov0, fam.mean0
    root0 = linalg.sqrtm(cov0).real
    w2sq = (np.sum((mean - mean0) ** 2) + np.trace(cov) + np.trace(cov0)
            - 2 * np.trace(linalg.sqrtm(root0 @ cov @ root0).real))
    inv = np.linalg.inv(cov)
    kl = 0.5 * (np.trace(inv @ cov0) + (mean - mean0) @ inv @ (mean - mean0) - 3
                + np.linalg.slogdet(cov)[1] - np.linalg.slogdet(cov0)[1])
    np.testing.assert_allclose(got["w2"], math.sqrt(w2sq), rtol=1e-10)
    np.testing.assert_allclose(got["kl"], kl, rtol=1e-10)
    np.testing.assert_allclose(got["trace"], np.trace(cov), rtol=1e-12)
    np.testing.assert_allclose(got["logdet"], np.linalg.slogdet(cov)[1], rtol=1e-12)
    np.testing.assert_allclose(got["min_eig"], np.linalg.eigvalsh(cov)[0], rtol=1e-12)
    np.testing.assert_allclose(got["mean_dist"], np.linalg.norm(mean - mean0), rtol=1e-12)
    truth = fam.metrics(fam.truth()[None])
    assert truth["w2"][0] == pytest.approx(0, abs=1e-7) and truth["kl"][0] == pytest.approx(0)
    # The isotropic truth's shortcut for the Bures term agrees with the general formula.
    iso = mc.MVGaussian(dim=3, cov=(2.0, 0, 0, 0, 2.0, 0, 0, 0, 2.0))
    root = math.sqrt(2.0) * np.eye(3)
    expect = math.sqrt(np.sum(mean**2) + np.trace(cov) + 6.0
                       - 2 * np.trace(linalg.sqrtm(root @ cov @ root).real))
    np.testing.assert_allclose(iso.metrics(mvg.join_params(mean[None], cov[None]))["w2"], expect,
                               rtol=1e-10)


def test_psd_cholesky_factors_definite_singular_and_zero_covariances():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 4, 4))
    definite = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(4)
    _, singular = mvg.scatter_of(rng.standard_normal((5, 3, 4)))  # rank 2 in 4-D
    for cov in (definite, singular, np.zeros((2, 4, 4))):
        low = mvg.psd_cholesky(cov)
        assert np.allclose(np.triu(low, 1), 0)
        np.testing.assert_allclose(low @ np.swapaxes(low, 1, 2), cov,
                                   atol=1e-12 * (1 + abs(cov).max()))
    np.testing.assert_allclose(mvg.psd_cholesky(definite), np.linalg.cholesky(definite),
                               rtol=1e-10, atol=1e-12)


def test_log_density_and_reward_match_scipy():
    from scipy import stats

    fam = mc.MVGaussian(mean=MEAN3, cov=COV3)
    x = np.random.default_rng(2).standard_normal((1, 5, 3))
    expect = stats.multivariate_normal(MEAN3, fam.cov0).logpdf(x[0])
    np.testing.assert_allclose(fam.truth_log_likelihood(Samples(x))[0], expect, rtol=1e-12)
    reward = fam.reward("truth")
    # E_model log p_truth at the truth is minus the truth's entropy.
    entropy = stats.multivariate_normal(MEAN3, fam.cov0).entropy()
    assert reward.expected(fam.truth()[None])[0] == pytest.approx(-entropy, rel=1e-12)
    target = fam.reward("target:1")
    np.testing.assert_allclose(target.score(Samples(x))[0],
                               -0.5 * ((x[0] - 1) ** 2).sum(axis=1))


def test_scatter_moments_pool_exactly_and_carry_provenance():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 7, 3)), rng.standard_normal((2, 5, 3)) + 2
    fam = mc.MVGaussian(dim=3)
    a = fam.training_form(Samples(x), 7, stats=True)
    b = fam.training_form(Samples(y), 5, stats=True)
    pooled = concat([mark(a, real=True), mark(b, real=False)])
    mean, scatter = mvg.scatter_of(np.concatenate([x, y], axis=1))
    assert isinstance(pooled, ScatterMoments) and pooled.n == 12
    np.testing.assert_allclose(pooled.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(pooled.scatter, scatter, rtol=1e-12, atol=1e-12)
    assert pooled.parts is not None and pooled.parts[0].n == 7 and pooled.parts[1].n == 5
    with pytest.raises(NotImplementedError):
        pooled.subsample(3, rng)
    # The weighted fit from moments equals the one from the points themselves.
    weighted = mc.MVGaussian(dim=3, real_weight=0.7)
    points = Samples.concat([mark(Samples(x), real=True), mark(Samples(y), real=False)])
    from_points, _ = weighted.fit(points, rng=rng, previous=weighted.truth()[None])
    from_moments, _ = weighted.fit(pooled, rng=rng, previous=weighted.truth()[None])
    np.testing.assert_allclose(from_moments, from_points, rtol=1e-10, atol=1e-12)


def test_singular_fits_are_recorded_never_nan():
    """N ≤ d: every fit is singular; min_eig = 0, logdet = −inf, kl = inf, all else finite."""
    fam = mc.MVGaussian(dim=4)
    for shortcut in (True, False):
        m = run(dataclasses.replace(fam, shortcut=shortcut), n=3, g=4, r=5)
        assert (m["min_eig"][:, 1:] == 0).all() and (m["logdet"][:, 1:] == -np.inf).all()
        assert (m["kl"][:, 1:] == np.inf).all()
        for name in ("trace", "w2", "mean_dist"):
            assert np.isfinite(m[name]).all(), name
    # All points equal: a zero covariance, sampled as a point mass.
    zero = mvg.join_params(np.zeros((1, 2)), np.zeros((1, 2, 2)))
    plane = mc.MVGaussian()
    assert (plane.sample(zero, 4, np.random.default_rng(0), stats=False).values == 0).all()
    assert (plane.sample(zero, 4, np.random.default_rng(0), stats=True).scatter == 0).all()
    metrics = plane.metrics(zero)
    assert metrics["kl"][0] == np.inf and metrics["min_eig"][0] == 0
    assert metrics["w2"][0] == pytest.approx(math.sqrt(2))


def test_blown_up_covariance_is_inf_not_nan():
    fam = mc.MVGaussian(dim=2, sampling_scale=4.0)
    m = run(fam, n=5, g=800, r=3, seed=1)
    assert not any(np.isnan(v).any() for v in m.values())
    assert np.isinf(m["trace"][:, -1]).all() and np.isfinite(m["mean_dist"]).all()


@pytest.mark.parametrize(("settings", "field"), [
    ({"dim": 0}, "dim"), ({"dim": 1000}, "dim"), ({"dim": 2.5}, "dim"),
    ({"mean": (0.0, 1.0), "dim": 3}, "mean"), ({"cov": (1.0, 0.0, 0.0)}, "cov"),
    ({"cov": (1.0, 0.5, 0.4, 1.0)}, "cov"), ({"cov": (1.0, 2.0, 2.0, 1.0)}, "cov"),
    ({"mean": (0.0, float("nan"))}, "mean"), ({"estimator": "mad"}, "estimator"),
    ({"estimator": "unbiased", "real_weight": 0.5}, "estimator"),
])
def test_bad_input_is_one_line_naming_the_field(settings, field):
    with pytest.raises(ConfigError) as err:
        mc.MVGaussian(**settings)
    assert err.value.field == field and "\n" not in str(err.value)


def test_points_are_the_first_replicates_first_two_coordinates():
    fam = mc.MVGaussian(dim=3, shortcut=False)
    data = fam.sample(np.broadcast_to(fam.truth(), (2, 4, 3)), 6, np.random.default_rng(0),
                      stats=False)
    np.testing.assert_array_equal(fam.points(data), data.values[0, :, :2])
    assert mc.MVGaussian(dim=1).points(data) is None
    assert fam.points(fam.training_form(data, 6, stats=True)) is None


def test_cli_options_and_prediction_notes():
    fam = mc.MVGaussian(mean=(1.0, 2.0))
    assert fam.dim == 2 and fam.cov == (1.0, 0.0, 0.0, 1.0)
    pred = mc.predict(mc.RunConfig(fam, n_samples=10, n_generations=3))
    assert {"trace", "logdet", "kl", "mean_dist"} <= set(pred.curves)
    assert any("w2" in note for note in pred.notes)


# -- the Wishart shortcut against the sample path --------------------------------------------------


def shortcut_checks(seed: int = 11) -> list[Check]:
    """Generations 1–3 of trace, logdet, kl and min_eig: shortcut against sample path."""
    fam = mc.MVGaussian(mean=MEAN3, cov=COV3)
    a = run(fam, n=10, g=3, r=6000, seed=seed)
    b = run(dataclasses.replace(fam, shortcut=False), n=10, g=3, r=6000, seed=seed + 1)
    return [two_sample(f"{name}_{t}", a[name][:, t], b[name][:, t])
            for name in ("trace", "logdet", "min_eig", "mean_dist") for t in (1, 3)]


def test_wishart_shortcut_equals_the_sample_path_in_distribution():
    assert not verdict(shortcut_checks())


def test_planted_bartlett_off_by_one_is_caught(monkeypatch):
    real = mvg.wishart_bartlett

    def wrong(factor, dof, rng):
        return real(factor, dof + 1, rng)  # a chi-square with one degree of freedom too many

    monkeypatch.setattr(mvg, "wishart_bartlett", wrong)
    assert verdict(shortcut_checks())


# -- exact theory under every policy ------------------------------------------------------------

POLICIES = [
    ("replace", {}, Pieces("mix", 0, 20)),
    ("mix", {"real": 0.3, "synthetic": 0.5}, Pieces("mix", 6, 10, 4)),
    ("accumulate", {"real": 0.1}, Pieces("accumulate", 2, 18)),
    ("accumulate-subsample", {}, Pieces("accumulate-subsample", 0, 20)),
    ("augment", {"synthetic": 0.5}, Pieces("augment", 20, 10)),
]


def trace_checks(family, *, shift: int = 0, seed: int = 5) -> list[Check]:
    """``E trace_t`` and ``E mean_dist_t²`` at t = 1, 4 under every policy (N = 20); the
    pieces are written by hand (DESIGN §2) so a wrong split cannot hide behind the theory's."""
    checks = []
    cov0 = family.cov0
    for k, (policy, settings, parts) in enumerate(POLICIES):
        m = run(family, policy, n=20, g=4, r=3000, seed=seed + k, **settings)
        trace, offset = mvt.mv_trace_moments(cov0, 20, 4 + shift, parts,
                                             estimator=family.estimator,
                                             scale=family.sampling_scale,
                                             real_weight=family.real_weight)
        for t in (1, 4):
            checks.append(mean_check(f"{policy} E trace_{t}", m["trace"][:, t],
                                     float(trace[t + shift])))
            checks.append(mean_check(f"{policy} E mean_dist_{t}²", m["mean_dist"][:, t] ** 2,
                                     float(offset[t + shift])))
    return checks


def test_expected_trace_under_every_policy():
    assert not verdict(trace_checks(mc.MVGaussian(mean=MEAN3, cov=COV3)))


def test_expected_trace_with_sampling_scale_and_unbiased():
    assert not verdict(trace_checks(mc.MVGaussian(dim=2, sampling_scale=0.8,
                                                  estimator="unbiased"), seed=50))


def test_planted_theory_one_generation_late_is_caught():
    assert verdict(trace_checks(mc.MVGaussian(mean=MEAN3, cov=COV3), shift=1))


@dataclasses.dataclass(frozen=True)
class WrongDivisor(mvg.MVGaussian):
    """A planted bug: the 'MLE' divides the scatter matrix by N − 1."""

    def fit(self, data, *, rng, previous):
        params, info = super().fit(data, rng=rng, previous=previous)
        out = params.copy()
        out[:, 1:] *= data.size / (data.size - 1)
        return out, info


def test_planted_wrong_divisor_is_caught():
    assert verdict(trace_checks(WrongDivisor(mean=MEAN3, cov=COV3)))


def replace_checks(family, *, n: int = 12, shift: int = 0, seed: int = 21) -> list[Check]:
    """Under replace: ``E logdet_t`` (exact variance) and ``E kl_t`` at t = 1, 3, 6."""
    d, est = family.dim, family.estimator
    m = run(family, n=n, g=6, r=8000, seed=seed)
    logdet0 = float(np.linalg.slogdet(family.cov0)[1])
    checks = []
    for t in (1, 3, 6):
        checks.append(mean_check(
            f"E logdet_{t}", m["logdet"][:, t],
            float(mvt.mv_expected_logdet(logdet0, d, n, t + shift, est)),
            variance=float(mvt.mv_var_logdet(d, n, t + shift, est))))
    for t in (1, 3):
        checks.append(mean_check(f"E kl_{t}", m["kl"][:, t],
                                 float(mvt.mv_expected_kl(d, n, t + shift, est))))
    return checks


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_logdet_and_kl_under_replace(estimator):
    assert not verdict(replace_checks(mc.MVGaussian(mean=MEAN3, cov=COV3, estimator=estimator)))


def test_planted_logdet_theory_off_by_one_generation_is_caught():
    assert verdict(replace_checks(mc.MVGaussian(mean=MEAN3, cov=COV3), shift=1))


def test_planted_divisor_in_logdet_is_caught():
    assert verdict(replace_checks(WrongDivisor(mean=MEAN3, cov=COV3)))


def test_d1_theory_is_the_gaussian_theory():
    t = np.arange(6)
    np.testing.assert_allclose(mvt.mv_expected_kl(1, 10, t),
                               theory.gaussian_expected_kl(1.0, 10, t), rtol=1e-12)
    np.testing.assert_allclose(mvt.mv_expected_logdet(np.log(4.0), 1, 10, t, "unbiased"),
                               theory.gaussian_expected_log_var(4.0, 10, t, "unbiased"))
    np.testing.assert_allclose(mvt.mv_var_logdet(1, 10, t), theory.gaussian_var_log_var(10, t))


# -- d = 1 is the gaussian family in distribution ---------------------------------------------


def d1_checks(mv_family, seed: int = 31) -> list[Check]:
    gauss = mc.Gaussian(mean=1.0, std=2.0)
    a = run(mv_family, "accumulate-subsample", n=10, g=4, r=6000, seed=seed)
    b = run(gauss, "accumulate-subsample", n=10, g=4, r=6000, seed=seed + 1)
    pairs = [("trace", "var"), ("mean_dist", None), ("w2", "w2"), ("kl", "kl")]
    checks = []
    for t in (1, 4):
        for mine, theirs in pairs:
            other = (np.abs(b["mean"][:, t] - 1.0) if theirs is None else b[theirs][:, t])
            checks.append(two_sample(f"{mine}_{t}", a[mine][:, t], other))
        checks.append(two_sample(f"log trace_{t}", np.log(a["trace"][:, t]),
                                 np.log(b["var"][:, t])))
    return checks


def test_d1_equals_the_gaussian_family_in_distribution():
    from scipy import stats

    mv = mc.MVGaussian(mean=(1.0,), cov=(4.0,), shortcut=False)
    assert not verdict(d1_checks(mv))
    # And the whole law of var_3 under replace: two-sample Kolmogorov–Smirnov.
    a = run(mc.MVGaussian(mean=(1.0,), cov=(4.0,)), n=10, g=3, r=4000, seed=3)["trace"][:, 3]
    b = run(mc.Gaussian(mean=1.0, std=2.0), n=10, g=3, r=4000, seed=4)["var"][:, 3]
    assert stats.ks_2samp(a, b).pvalue > ALPHA


def test_planted_d1_estimator_mismatch_is_caught():
    assert verdict(d1_checks(mc.MVGaussian(mean=(1.0,), cov=(4.0,), shortcut=False,
                                           estimator="unbiased")))


# -- curation and the loop settings run ------------------------------------------------------------


@pytest.mark.parametrize("curator", ["best-of", "verifier", "top", "reweight"])
def test_curators_run_and_are_finite(curator):
    config = mc.RunConfig(mc.MVGaussian(dim=2), n_samples=20, n_generations=3, n_replicates=4,
                          curation=curator, seed=1)
    result = mc.simulate(config)
    for name in ("trace", "w2", "min_eig"):
        assert np.isfinite(result.trajectories(name)).all()


def test_weighted_fit_trace_under_mix_and_augment():
    """``--real-weight``: E trace_t from the 1-D two-part recursion (mix without carry-over,
    augment), shortcut and sample path alike."""
    family = mc.MVGaussian(mean=MEAN3, cov=COV3, real_weight=0.1)
    cases = [("mix", {"real": 0.3}, Pieces("mix", 6, 14)),
             ("augment", {"synthetic": 0.5}, Pieces("augment", 20, 10))]
    checks, unweighted = [], []
    for k, (policy, settings, parts) in enumerate(cases):
        for shortcut in (True, False):
            fam = dataclasses.replace(family, shortcut=shortcut)
            m = run(fam, policy, n=20, g=4, r=3000, seed=70 + 2 * k + shortcut, **settings)
            for weight, out in ((0.1, checks), (None, unweighted)):
                trace, _ = mvt.mv_trace_moments(fam.cov0, 20, 4, parts, real_weight=weight)
                out += [mean_check(f"{policy} {shortcut} E trace_{t}", m["trace"][:, t],
                                   float(trace[t])) for t in (2, 4)]
    assert not verdict(checks)
    assert verdict(unweighted)  # planted: the theory of the unweighted fit is caught


def test_prediction_reward_curve_matches_simulation():
    config = mc.RunConfig(mc.MVGaussian(mean=MEAN3, cov=COV3), policy="accumulate",
                          n_samples=20, n_generations=4, n_replicates=3000, seed=4,
                          reward="truth")
    exact = mc.predict(config).for_metric("reward")[0].values
    simulated = mc.simulate(config).trajectories("reward")
    checks = [mean_check(f"E reward_{t}", simulated[:, t], float(exact[t])) for t in (1, 4)]
    assert not verdict(checks)


def test_verify_cases_pass_at_small_sizes():
    from modelcollapse.studies.verify.cases import CASES

    cases = [c for c in CASES if c.family == "mvgaussian"]
    assert {c.name for c in cases} == {"mvgaussian-replace", "mvgaussian-accumulate"}
    checks = [check for case in cases for check in case.run(3000, 2026).checks]
    assert not verdict(checks)


@pytest.mark.parametrize("shortcut", [True, False])
def test_replicate_i_is_the_same_in_a_small_and_a_large_run(shortcut):
    def trace(replicates):
        config = mc.RunConfig(mc.MVGaussian(dim=3, shortcut=shortcut), n_samples=10,
                              n_generations=4, n_replicates=replicates, seed=9)
        return mc.simulate(config).trajectories("trace")

    np.testing.assert_array_equal(trace(3), trace(40)[:3])


def cli(*args: str, cwd) -> tuple[int, str, str]:
    import contextlib
    import io

    from modelcollapse import cli as command_line

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = command_line.main(list(args))
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, out.getvalue(), err.getvalue()


def test_toml_and_command_line_lists(tmp_path):
    (tmp_path / "run.toml").write_text('family = "mvgaussian"\nmean = [1, 2]\n'
                                       'cov = [2, 0.5, 0.5, 1]\nsamples = 10\n'
                                       'generations = 2\nreplicates = 2\n')
    status, _, err = cli("run", "--config", "run.toml", "--no-plots", "--out", "a",
                         cwd=tmp_path)
    assert status == 0, err
    config = mc.load(tmp_path / "a").config
    assert config.model.mean == (1.0, 2.0) and config.model.cov == (2.0, 0.5, 0.5, 1.0)
    status, _, err = cli("run", "mvgaussian", "--cov", "1,2,2,1", "--out", "b", cwd=tmp_path)
    assert status == 2 and "--cov must be positive definite" in err
    status, _, err = cli("run", "gaussian", "--mean", "1,2", "--out", "c", cwd=tmp_path)
    assert status == 2  # the gaussian's --mean is one number
