"""Curation of the d-dimensional mixture (``gmm --dim d``): units are points in R^d.

What is tested
--------------
* **Contract.** Every curator under every policy on the 2-D blobs and on a 3-D truth, with the
  ``truth`` and ``target:c`` rewards: the family's metrics plus ``reward`` and ``accept_rate``,
  finite, one row per replicate and generation, the first generation's reward the truth's own.
  From the command line, every curator writes a complete folder.
* **The truth reward's expectation** ``E_model log p_truth``: against a separable exact value
  (a truth and models whose log density splits into the 1-D mixture of the first coordinate,
  integrated by adaptive quadrature here, plus a closed form for the others), on the
  reduced route (components sharing a covariance, any d) to 1e-11 and on the plane's tensor
  rule (different covariances) to the error its docstring states; the two routes agree on a
  shared-covariance truth. A rule made too coarse is caught.
* **The verifier's reference point**: the blobs' peak is the 1-D peak plus the other
  coordinates' constant; a correlated three-component truth's peak bounds a fine grid's maximum
  and is reached by it.
* **Candidates in draw order**: :meth:`GMM.draw_units` keeps each point's coordinates together
  and makes the first candidate's component a Bernoulli(w) draw.
* **Exact kept laws** (statistical, Bonferroni over :data:`N_SUBCHECKS`): the verifier's kept
  mean (both coordinates) and number of candidates against a 2-D quadrature of
  ``p_model(x) b(x − δ1) / max b``; every reward's ``expected`` against the Monte Carlo mean of
  its ``score``. Each fails on a planted bug (the shift ignored; the sampler's grouping left in
  place or coordinates shuffled apart; the target reward forgetting the spread of the means).
* **Top** keeps exactly the most likely candidates under an independent density.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, stats

import modelcollapse as mc
from harness import SEED, report
from modelcollapse.checks import ALPHA, critical_z
from modelcollapse.checks import mean_check as _mean_check
from modelcollapse.checks import proportion_check as _proportion_check
from modelcollapse.curation import Verifier
from modelcollapse.families.gmm import nd
from modelcollapse.families.gmm.family import truth_log_peak as truth_log_peak_1d
from modelcollapse.loop import simulate_block
from modelcollapse.rewards import Reward
from modelcollapse.training_sets import Samples
from test_contract import POLICY_SETTINGS
from test_curation import (
    CURATOR_SETTINGS,
    UnshiftedVerifier,
    assert_recorded,
    curate,
    make_curator,
    no_warnings,
)
from test_curation_cli import CURATOR_FLAGS, manifest_of, run

#: Statistical sub-checks in this file (a guard test keeps this honest).
N_SUBCHECKS = 7
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)

#: A 2-D model with correlated components of unequal weights: [1 + 2 + 4, 2].
MODEL_2D = nd.pack(np.array([0.3, 0.7]), np.array([[-1.5, 0.5], [2.5, -0.5]]),
                   np.array([[[1.5, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]]]))


def mean_check(name, samples, exact, **kwargs):
    return _mean_check(name, samples, exact, critical=Z_CRIT, **kwargs)


def logpdf(x: np.ndarray, params: np.ndarray, d: int) -> np.ndarray:
    """``log p(x)`` of the mixture ``params`` at points ``x[..., d]``, by scipy, not the family."""
    w, mu, cov = nd.unpack(np.asarray(params, dtype=float), d)
    terms = [math.log(w[j]) + stats.multivariate_normal(mu[j], cov[j]).logpdf(x)
             for j in range(w.size) if w[j] > 0]
    return np.logaddexp.reduce(np.stack(terms), axis=0)


# -- contract ------------------------------------------------------------------------------------

FAMILIES = {
    "blobs 2-D": (mc.GMM(dim=2), ("truth", "target:0.5")),
    "3-D shared covariance": (mc.GMM(dim=3), ("truth",)),
    "3-D unequal covariances": (mc.GMM(dim=3, means=(-2, 0, 0, 2, 1, 0),
                                       covs=(1, 0, 0, 0, 1, 0, 0, 0, 1,
                                             2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.5)),
                                ("target:-1",)),
}


@pytest.mark.parametrize("case", list(FAMILIES))
@pytest.mark.parametrize("curator", list(CURATOR_SETTINGS))
def test_every_curator_and_policy_runs_in_d_dimensions(case, curator):
    family, rewards = FAMILIES[case]
    assert curator in family.available_curators
    for policy in mc.POLICIES.names():
        pol = mc.get_policy(policy, **POLICY_SETTINGS[policy])
        for spec in rewards:
            reward = family.reward(spec)
            cur = make_curator(curator, family)
            with no_warnings():
                result = simulate_block(family, pol, n_samples=40, n_generations=3,
                                        n_replicates=3, rng=np.random.default_rng(SEED),
                                        curation=cur, reward=reward)
            names = [*family.metric_names, "reward",
                     *(["accept_rate"] if not cur.is_identity else [])]
            assert list(result.metrics) == names, (policy, spec)
            assert all(v.shape == (3, 4) for v in result.metrics.values())
            assert_recorded(family, result.metrics)
            np.testing.assert_allclose(result.metrics["reward"][:, 0],
                                       reward.expected(family.truth()[None])[0], rtol=1e-13)


def test_the_truth_reward_is_refused_where_its_expectation_has_no_rule():
    family = FAMILIES["3-D unequal covariances"][0]
    with pytest.raises(mc.ConfigError, match="share one covariance"):
        family.reward("truth")
    with pytest.raises(mc.ConfigError, match="target:c"):
        mc.RunConfig(family, curation=mc.get_curator("best-of", k=2))
    with pytest.raises(mc.ConfigError, match="reward"):
        family.reward("rank")
    mc.RunConfig(family, curation=mc.get_curator("best-of", k=2), reward="target:1")


@pytest.mark.parametrize("curator", list(CURATOR_FLAGS))
def test_every_curator_runs_from_the_command_line_in_2d(tmp_path, curator):
    flags, _ = CURATOR_FLAGS[curator]
    status, _, err = run("run", "gmm", "--dim", "2", "--samples", "40", "--curate", curator,
                         *flags, "--generations", "3", "--replicates", "2", "--seed", "1",
                         "--out", "out", cwd=tmp_path)
    assert status == 0, err
    manifest = manifest_of(tmp_path / "out")
    assert manifest["status"] == "complete"
    if curator != "none":
        assert manifest["config"]["curation"]["name"] == curator
    loaded = mc.load(tmp_path / "out")
    assert np.isfinite(loaded.metrics["value"]).all()
    assert (tmp_path / "out" / "scatter.png").exists()


# -- the truth reward's expectation --------------------------------------------------------------


def separable_expected(weights_1d, means_1d, vars_1d, params: np.ndarray, d: int) -> float:
    """``E_model log p_truth`` for a truth ``p1(x₁) Π_{j≥2} N(x_j; 0, 1)`` with ``p1`` the 1-D
    mixture given, and a model of diagonal covariances: adaptive quadrature in ``x₁`` plus
    ``E log N(X_j; 0, 1) = −½(ln 2π + σ_j² + μ_j²)`` for the rest."""
    def log_p1(x):
        return float(np.logaddexp.reduce([math.log(w) - 0.5 * math.log(2 * math.pi * v)
                                          - 0.5 * (x - m) ** 2 / v
                                          for w, m, v in zip(weights_1d, means_1d, vars_1d,
                                                             strict=True)]))

    w, mu, cov = nd.unpack(params, d)
    total = 0.0
    for k in range(w.size):
        m, sd = mu[k, 0], math.sqrt(cov[k, 0, 0])
        value, error = integrate.quad(lambda x, m=m, sd=sd: stats.norm.pdf(x, m, sd) * log_p1(x),
                                      m - 40 * sd, m + 40 * sd, points=[m, *means_1d],
                                      epsabs=1e-13, epsrel=1e-13, limit=1000)
        assert error < 1e-10
        rest = sum(-0.5 * (math.log(2 * math.pi) + cov[k, j, j] + mu[k, j] ** 2)
                   for j in range(1, d))
        total += w[k] * (value + rest)
    return total


def diagonal_model(d: int, first_sd: float, other_sd: float) -> np.ndarray:
    mu = np.zeros((2, d))
    mu[:, 0], mu[0, 1:] = (-1.7, 2.4), 0.3
    scales = np.array([first_sd] + [other_sd] * (d - 1)) ** 2
    cov = np.stack([np.diag(scales), 0.7 * np.diag(scales)])
    return nd.pack(np.array([0.4, 0.6]), mu, cov)


MODEL_WIDTHS = [(1.0, 1.0), (0.3, 0.5), (2.0, 1.0), (3.0, 3.0), (5.0, 5.0)]


@pytest.mark.parametrize("d", [2, 3, 6])
@pytest.mark.parametrize(("first_sd", "other_sd"), MODEL_WIDTHS)
def test_the_shared_covariance_route_is_exact(d, first_sd, other_sd):
    family = mc.GMM(dim=d)  # the blobs: unit covariances, means (∓2, 0, ...)
    params = diagonal_model(d, first_sd, other_sd)
    value = family.reward("truth").expected(params[None])[0]
    exact = separable_expected((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0), params, d)
    assert abs(value - exact) < 1e-11 * max(1.0, abs(exact)), (value, exact)


#: Model widths (relative to the truth's narrowest component, sd 0.5) and the error the tensor
#: rule's docstring states for them.
PLANE_ERRORS = [((0.5, 0.5), 1e-12), ((0.3, 0.5), 1e-12), ((0.75, 0.75), 1e-10),
                ((1.0, 1.0), 1e-7), ((1.5, 1.5), 2e-5)]


@pytest.mark.parametrize(("widths", "bound"), PLANE_ERRORS)
def test_the_planes_tensor_rule_meets_its_stated_error(widths, bound):
    family = mc.GMM(dim=2, means=(-2, 0, 2, 0), covs=(1, 0, 0, 1, 0.25, 0, 0, 1))
    assert nd.truth_reduction(family.weights, family.means, family.covs, 2) is None
    params = diagonal_model(2, *widths)
    value = family.reward("truth").expected(params[None])[0]
    exact = separable_expected((0.5, 0.5), (-2.0, 2.0), (1.0, 0.25), params, 2)
    assert abs(value - exact) < bound, (value, exact)


def test_the_two_routes_agree_on_a_shared_covariance(monkeypatch):
    family = mc.GMM(dim=2, means=(-1, 1, 1.5, -0.5), covs=(1, 0.3, 0.3, 0.6) * 2,
                    weights=(0.35, 0.65))
    models = np.stack([MODEL_2D, family.truth()])
    reduced = family.reward("truth").expected(models)
    monkeypatch.setattr(nd, "truth_reduction", lambda *args: None)
    nd_plane = family.reward("truth").expected(models)
    np.testing.assert_allclose(reduced, nd_plane, rtol=0, atol=1e-10)


def test_a_too_coarse_rule_is_caught(monkeypatch):
    monkeypatch.setitem(nd.TRUTH_REWARD_RULES, 1, (1.5, 13.0))
    params = diagonal_model(2, 3.0, 3.0)
    value = mc.GMM(dim=2).reward("truth").expected(params[None])[0]
    exact = separable_expected((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0), params, 2)
    assert abs(value - exact) > 1e-8


def test_the_target_reward_expectation_is_exact():
    family = mc.GMM(dim=2)
    w, mu, cov = nd.unpack(MODEL_2D, 2)
    mean = w @ mu
    second = sum(w[k] * (np.trace(cov[k]) + mu[k] @ mu[k]) for k in range(2))
    c = 0.7  # E|X − c1|² = E|X|² − 2c·1ᵀE X + 2c²
    exact = -0.5 * (second - 2 * c * mean.sum() + 2 * c * c)
    assert abs(family.reward("target:0.7").expected(MODEL_2D[None])[0] - exact) < 1e-12


def test_a_blown_up_model_has_reward_minus_infinity():
    params = np.array(mc.GMM(dim=2).truth())
    params[3:] = np.inf
    for spec in ("truth", "target:0"):
        value = mc.GMM(dim=2).reward(spec).expected(params[None])
        assert value[0] == -np.inf


# -- the verifier's reference point -----------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3])
def test_the_blobs_peak_is_the_1d_peak_plus_a_constant(d):
    family = mc.GMM(dim=d)
    peak = nd.truth_log_peak(family.weights, family.means, family.covs, d)
    expected = truth_log_peak_1d((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0)) - 0.5 * (d - 1) * math.log(
        2 * math.pi)
    assert abs(peak - expected) < 1e-9


def test_a_correlated_truths_peak_bounds_a_fine_grid():
    family = mc.GMM(dim=2, means=(-1, 0.5, 0.8, -0.4, 2, 2),
                    covs=(1, 0.6, 0.6, 1, 0.5, -0.2, -0.2, 0.4, 2, 0, 0, 0.3),
                    weights=(0.3, 0.3, 0.4))
    peak = nd.truth_log_peak(family.weights, family.means, family.covs, 2)
    axis = np.linspace(-4, 5, 1801)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    values = logpdf(grid, family.truth(), 2)
    assert values.max() <= peak + 1e-12 and values.max() > peak - 1e-4
    relative = family.belief_log_relative(Samples(grid[None] + 0.3), 0.3)
    assert relative.max() <= 0 and relative.max() > -1e-4


# -- candidates in draw order ------------------------------------------------------------------


def grouped_draw(family, params, k, rng):
    """Bug: the sampler's grouping by component left in place."""
    return family.sample(params, k, rng, stats=False)


def coordinate_shuffled_draw(family, params, k, rng):
    """Bug: every coordinate shuffled on its own (numpy's ``permuted`` along axis 1 of a 3-D
    array), which tears points apart."""
    return Samples(rng.permuted(family.sample(params, k, rng, stats=False).values, axis=1))


def draw_order_checks(draw=None) -> list:
    family = mc.GMM(dim=2)
    # two tight components in opposite quadrants: a torn point changes quadrant
    params = nd.pack(np.array([0.3, 0.7]), np.array([[-5.0, -5.0], [5.0, 5.0]]),
                     np.array([0.01 * np.eye(2)] * 2))
    rows = np.broadcast_to(params, (20_000, *params.shape)).copy()
    rng = np.random.default_rng(SEED + 11)
    units = (draw or type(family).draw_units)(family, rows, 8, rng).values
    first = units[:, 0, 0] < 0
    together = (np.sign(units[..., 0]) == np.sign(units[..., 1])).all(axis=1)
    return [_proportion_check("first candidate from component 0", first, 0.3, critical=Z_CRIT),
            _proportion_check("points kept whole", together, 1.0 - 1e-9, critical=Z_CRIT)]


# -- exact kept laws ---------------------------------------------------------------------------


def verifier_checks(curator_cls: type[Verifier] = Verifier) -> list:
    """Kept ∝ p_model(x) b(x − δ1) / max b with b the blobs' density (s = 1, δ = 0.5)."""
    family, delta = mc.GMM(dim=2), 0.5
    peak = nd.truth_log_peak(family.weights, family.means, family.covs, 2)
    step = 0.02
    axis = np.arange(-14, 14 + step / 2, step)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    density = np.exp(logpdf(grid, MODEL_2D, 2) + logpdf(grid - delta, family.truth(), 2) - peak)
    alpha = density.sum() * step**2
    kept_mean = (grid * density[:, None]).sum(axis=0) * step**2 / alpha
    n_units = 5
    out = curate(curator_cls(strictness=1.0, shift=delta), family, MODEL_2D, n_units, 8000,
                 seed=SEED + 12)
    kept = out.units.values.reshape(-1, 2)
    return [mean_check("verifier E kept x₁", kept[:, 0], kept_mean[0]),
            mean_check("verifier E kept x₂", kept[:, 1], kept_mean[1]),
            mean_check("verifier E candidates", out.candidates, n_units / alpha,
                       variance=n_units * (1 - alpha) / alpha**2)]


@dataclasses.dataclass(frozen=True)
class _SpreadlessTarget:
    """Bug: the target reward's expectation forgets the spread of the components' means."""

    spec: str

    def __call__(self, family):
        good = family.reward(self.spec)

        def expected(params):
            w, mu, cov = nd.unpack(np.asarray(params), family.dim)
            inner = np.einsum("...k,...kii->...", w, cov)
            mean = np.einsum("...k,...kj->...j", w, mu)
            return -0.5 * (inner + ((mean - 0.5) ** 2).sum(axis=-1))

        return Reward(good.spec, good.score, expected, good.words)


def reward_checks(make=None) -> list:
    family = mc.GMM(dim=2)
    rows = np.broadcast_to(MODEL_2D, (4000, *MODEL_2D.shape)).copy()
    units = family.draw_units(rows, 10, np.random.default_rng(SEED + 13))
    checks = []
    for spec in ("truth", "target:0.5"):
        reward = make(family) if make is not None and spec == make.spec else family.reward(spec)
        expected = float(reward.expected(MODEL_2D[None])[0])
        checks.append(mean_check(f"reward {spec} E r", reward.score(units).mean(axis=1),
                                 expected))
    return checks


CHECKS = {
    "draw_order_checks": (2, [lambda: draw_order_checks(grouped_draw),
                              lambda: draw_order_checks(coordinate_shuffled_draw)]),
    "verifier_checks": (3, [lambda: verifier_checks(UnshiftedVerifier)]),
    "reward_checks": (2, [lambda: reward_checks(_SpreadlessTarget("target:0.5"))]),
}
FUNCTIONS = {"draw_order_checks": draw_order_checks, "verifier_checks": verifier_checks,
             "reward_checks": reward_checks}
PLANTED = [(name, i) for name, (_, bugs) in CHECKS.items() for i in range(len(bugs))]


def test_every_subcheck_is_counted():
    assert sum(n for n, _ in CHECKS.values()) == N_SUBCHECKS


@pytest.mark.parametrize("name", list(CHECKS))
def test_kept_law_matches_the_exact_law(name):
    checks = FUNCTIONS[name]()
    assert len(checks) == CHECKS[name][0]
    assert all(c.passed for c in checks), report(checks)


@pytest.mark.parametrize(("name", "bug"), PLANTED, ids=[f"{n}-{i}" for n, i in PLANTED])
def test_planted_bug_is_caught(name, bug):
    checks = CHECKS[name][1][bug]()
    assert not all(c.passed for c in checks), "the planted bug went unnoticed:\n" + report(checks)


# -- top and bottom: the kept candidates are the most (least) likely ---------------------------


@pytest.mark.parametrize("name", ["top", "bottom"])
def test_top_and_bottom_keep_by_an_independent_density(name):
    family = mc.GMM(dim=2)
    rows = np.broadcast_to(MODEL_2D, (6, *MODEL_2D.shape)).copy()
    curator = mc.get_curator(name, keep=0.4)
    out = curator.curate(family, rows, family.sampling_params(rows), 6,
                         np.random.default_rng(SEED + 14), None)
    candidates = family.draw_units(rows, 15, np.random.default_rng(SEED + 14)).values
    for r in range(rows.shape[0]):
        ll = logpdf(candidates[r], MODEL_2D, 2)
        kept = (candidates[r][:, None, :] == out.units.values[r][None]).all(axis=-1).any(axis=1)
        assert kept.sum() == 6
        if name == "top":
            assert ll[kept].min() >= ll[~kept].max()
        else:
            assert ll[kept].max() <= ll[~kept].min()
