"""The exact theory of curated runs (:mod:`modelcollapse.theory.curation`).

Every kept law is checked against an independent derivation: enumeration of every candidate
tuple or sequence (best-of, top, bottom, reweight), numerical integration (the Gaussian
verifier), scipy's binomial and negative binomial laws (the verifier's budget and acceptance
rate). The curated coin chain in ``predict`` is checked against simulation with tolerances z·SE,
z from α = 1e-3, Bonferroni-corrected over the test's comparisons. ``tests/planted_theory_bugs.py``
plants mistakes in these functions and shows a test here catching each.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

import modelcollapse as mc
from modelcollapse.curation import MAX_CANDIDATES
from modelcollapse.runner.blocks import simulate_arrays
from modelcollapse.theory import curation as ct


def z_crit(comparisons: int) -> float:
    return float(stats.norm.isf(1e-3 / (2 * comparisons)))


# -- coin kept laws against enumeration ----------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("rewards", [(0.0, 1.0), (0.3, -2.0), (0.0, 0.0)])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_coin_best_of_keeps_heads_as_enumeration_of_every_k_tuple(k, rewards, p):
    r0, r1 = rewards
    expected = 0.0
    for toss in itertools.product((0, 1), repeat=k):
        j = sum(toss)
        weight = p**j * (1 - p) ** (k - j)
        expected += weight * j * math.exp(r1) / (j * math.exp(r1) + (k - j) * math.exp(r0))
    assert float(ct.coin_best_of_heads(p, np.array(rewards), k)) == pytest.approx(
        expected, abs=1e-13)


def test_coin_best_of_with_equal_rewards_or_k_1_is_no_curation():
    p = np.linspace(0, 1, 11)
    np.testing.assert_allclose(ct.coin_best_of_heads(p, np.array([0.0, 0.0]), 7), p, atol=1e-14)
    np.testing.assert_allclose(ct.coin_best_of_heads(p, np.array([0.0, 5.0]), 1), p, atol=1e-14)


def test_coin_best_of_survives_reward_gaps_beyond_the_float_range():
    g = ct.coin_best_of_heads(np.array([0.3, 0.7]), np.array([0.0, 1e4]), 4)
    np.testing.assert_allclose(g, 1 - np.array([0.7, 0.3]) ** 4, atol=1e-14)


@pytest.mark.parametrize("p0, s, eps", [(0.3, 1.0, 0.0), (0.3, 2.5, 0.1), (0.8, 1.0, 0.05)])
def test_coin_verifier_keeps_the_accepted_share_of_each_side(p0, s, eps):
    truth = np.array([1 - p0, p0])
    a = eps + (1 - eps) * (truth / truth.max()) ** s
    assert ct.coin_verifier_acceptance(p0, s, eps) == pytest.approx(tuple(a))
    for p in (0.1, 0.5, 0.95):
        expected = p * a[1] / (p * a[1] + (1 - p) * a[0])
        assert float(ct.coin_verifier_heads(p, p0, s, eps)) == pytest.approx(expected)
    assert float(ct.coin_verifier_heads(0.0, p0, s, eps)) == 0.0
    assert float(ct.coin_verifier_heads(1.0, p0, s, eps)) == 1.0


def _filter_by_enumeration(p: float, s: int, keep: float, likely: bool) -> np.ndarray:
    """Every sequence of m tosses; keep the s likeliest (or least likely) under the model,
    ties to the earlier draw; the law of the heads kept."""
    m = math.ceil(s / keep)  # ⌈S/q⌉, written out (not the module's own helper)
    log_p = {1: math.log(p), 0: math.log(1 - p)}
    law = np.zeros(s + 1)
    for toss in itertools.product((0, 1), repeat=m):
        weight = p ** sum(toss) * (1 - p) ** (m - sum(toss))
        order = sorted(range(m), key=lambda i: ((-1 if likely else 1) * log_p[toss[i]], i))
        law[sum(toss[i] for i in order[:s])] += weight
    return law


@pytest.mark.parametrize("likely", [True, False])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
@pytest.mark.parametrize("s, keep", [(3, 0.5), (2, 0.3), (4, 0.75)])
def test_coin_top_and_bottom_keep_the_law_of_enumeration(likely, p, s, keep):
    np.testing.assert_allclose(ct.coin_filter_kept_law(p, s, keep, likely=likely),
                               _filter_by_enumeration(p, s, keep, likely), atol=1e-13)


@pytest.mark.parametrize("p, p0, power", [(0.2, 0.5, 1.0), (0.7, 0.3, 0.5), (0.5, 0.5, 2.0)])
def test_coin_reweight_resamples_by_the_likelihood_ratio(p, p0, power):
    s, keep = 3, 0.5
    m = math.ceil(s / keep)  # ⌈S/q⌉, written out (not the module's own helper)
    w = {1: (p0 / p) ** power, 0: ((1 - p0) / (1 - p)) ** power}
    law = np.zeros(s + 1)
    for toss in itertools.product((0, 1), repeat=m):
        weight = p ** sum(toss) * (1 - p) ** (m - sum(toss))
        total = sum(w[x] for x in toss)
        for drawn in itertools.product(range(m), repeat=s):  # with replacement, in order
            chance = math.prod(w[toss[i]] / total for i in drawn)
            law[sum(toss[i] for i in drawn)] += weight * chance
    np.testing.assert_allclose(ct.coin_reweight_kept_law(p, p0, s, keep, power), law,
                               atol=1e-13)


def test_the_verifier_budget_and_acceptance_rate_follow_scipy():
    s = 5
    for alpha in (0.01, 0.05, 0.3):
        assert float(ct.verifier_shortfall(alpha, s)) == pytest.approx(
            stats.binom.cdf(s - 1, MAX_CANDIDATES * s, alpha), rel=1e-10, abs=1e-300)
        budget = MAX_CANDIDATES * s
        failures = np.arange(budget - s + 1)
        pmf = stats.nbinom.pmf(failures, s, alpha)  # T = s + failures
        expected = float(pmf @ (s / (s + failures))) + (1 - pmf.sum()) * s / budget
        assert float(ct.coin_verifier_accept_rate(alpha, s)[0]) == pytest.approx(expected,
                                                                                 rel=1e-10)


# -- categorical kept laws -------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_categorical_best_of_is_enumeration_of_every_k_tuple(k):
    q = np.array([0.5, 0.25, 0.15, 0.1])
    r = np.array([0.0, 1.0, -2.0, 1.0])  # two tokens share a reward
    expected = np.zeros(4)
    for tup in itertools.product(range(4), repeat=k):
        weight = math.prod(q[v] for v in tup)
        total = sum(math.exp(r[v]) for v in tup)
        for v in tup:
            expected[v] += weight * math.exp(r[v]) / total
    np.testing.assert_allclose(ct.categorical_best_of_kept(q, r, k), expected, atol=1e-12)


def test_categorical_best_of_handles_lost_tokens_and_huge_k():
    q = np.array([0.6, 0.0, 0.4])
    kept = ct.categorical_best_of_kept(q, np.array([0.0, 9.0, 1.0]), 200)
    assert kept[1] == 0.0 and kept.sum() == pytest.approx(1.0)
    # Bradley–Terry over the 200: J ~ Binom(200, 0.4) candidates of token 2, each e times
    # as likely to be chosen as one of token 0.
    j = np.arange(201)
    choose = np.where(j > 0, j * math.e / np.maximum(j * math.e + (200 - j), 1e-300), 0.0)
    assert kept[2] == pytest.approx(float(stats.binom.pmf(j, 200, 0.4) @ choose), abs=1e-12)


def test_categorical_verifier_and_filters_keep_the_stated_laws():
    q0 = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.3, 0.5])
    kept, alpha = ct.categorical_verifier_kept(q, q0, 1.0, 0.0)
    a = q0 / q0.max()
    assert alpha == pytest.approx(float(q @ a))
    np.testing.assert_allclose(kept, q * a / (q @ a))
    # top q = 0.5: half the mass from the likeliest token down (0.5 is all of token 2)
    np.testing.assert_allclose(ct.categorical_filter_kept(q, q, 0.5, likely=True), [0, 0, 1])
    # bottom q = 0.4: token 0 (0.2) then 0.2 of token 1's 0.3
    np.testing.assert_allclose(ct.categorical_filter_kept(q, q, 0.4, likely=False),
                               [0.5, 0.5, 0.0])
    np.testing.assert_allclose(ct.categorical_reweight_kept(q, q0, 1.0), q0)


def test_the_categorical_limit_holds_the_truth_without_curation_and_mixes_shares():
    q0 = np.array([0.7, 0.2, 0.1])
    identity = ct.categorical_curated_limit(q0, 5, (0.0, 1.0, 0.0), lambda q: (q, 1.0))
    np.testing.assert_allclose(identity["tv"], 0.0, atol=1e-15)
    sharpen = lambda q: (q**2 / (q**2).sum(), 0.5)  # noqa: E731
    out = ct.categorical_curated_limit(q0, 3, (0.25, 0.75, 0.0), sharpen)
    q2 = 0.25 * q0 + 0.75 * q0**2 / (q0**2).sum()
    assert out["gini_simpson"][2] == pytest.approx(1 - q2 @ q2)
    assert list(out["accept"]) == [1.0, 1.0, 0.5, 0.5]


# -- gaussian verifier -------------------------------------------------------------------------


@pytest.mark.parametrize("m, v, s, shift", [(0.0, 1.0, 1.0, 0.0), (0.7, 0.3, 2.5, 1.0),
                                            (-1.0, 4.0, 0.5, -0.5)])
def test_gaussian_verifier_kept_law_is_the_normalised_product(m, v, s, shift):
    mean0, var0 = 0.2, 1.5
    centre = mean0 + shift

    def density(x):
        return stats.norm.pdf(x, m, math.sqrt(v)) * math.exp(-s * (x - centre) ** 2 / (2 * var0))

    mass = integrate.quad(density, -np.inf, np.inf, epsabs=1e-13)[0]
    first = integrate.quad(lambda x: x * density(x), -np.inf, np.inf, epsabs=1e-13)[0] / mass
    second = integrate.quad(lambda x: (x - first) ** 2 * density(x), -np.inf, np.inf,
                            epsabs=1e-13)[0] / mass
    kept_mean, kept_var, rate = ct.gaussian_verifier_kept(m, v, mean0, var0, s, shift)
    assert float(rate) == pytest.approx(mass, rel=1e-9)
    assert float(kept_mean) == pytest.approx(first, rel=1e-9, abs=1e-12)
    assert float(kept_var) == pytest.approx(second, rel=1e-9)


def test_gaussian_verified_precision_by_hand():
    # N = 5, MLE: D/(N − 3) = 5/2; E 1/var_1 = 2.5, E 1/var_2 = 2.5 (2.5 + 1) = 8.75.
    np.testing.assert_allclose(ct.gaussian_verifier_inverse_var(1.0, 5, 2, 1.0),
                               [1.0, 2.5, 8.75])
    # unbiased, λ = 2, s = 0: 4/2 = 2, then 2 · 2/4 = 1
    np.testing.assert_allclose(ct.gaussian_verifier_inverse_var(1.0, 5, 2, 0.0, "unbiased",
                                                                2.0), [1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="N ≤ 3"):
        ct.gaussian_verifier_inverse_var(1.0, 3, 2, 1.0)


def test_gaussian_verified_precision_against_simulation():
    n, g, reps, s = 20, 6, 4000, 1.5
    config = mc.RunConfig("gaussian", n_samples=n, n_generations=g, n_replicates=reps, seed=5,
                          curation=mc.Verifier(strictness=s))
    var = simulate_arrays(config, workers=1).metrics["var"]
    exact = ct.gaussian_verifier_inverse_var(1.0, n, g, s)
    z = z_crit(g)
    for t in range(1, g + 1):
        x = 1.0 / var[:, t]
        se = x.std(ddof=1) / math.sqrt(reps)
        assert abs(x.mean() - exact[t]) < z * se, (t, x.mean(), exact[t], se)


# -- the curated coin chain in predict, against simulation ---------------------------------------


@pytest.mark.parametrize("curation, reward", [(mc.BestOf(k=3), "0,1"), (mc.Top(keep=0.5), None),
                                              (mc.Verifier(strictness=2.0), None)])
def test_the_curated_coin_chain_predicts_the_simulation(curation, reward):
    k, g, reps = 8, 12, 6000
    config = mc.RunConfig(mc.Coin(p0=0.3), n_samples=k, n_generations=g, n_replicates=reps,
                          seed=9, curation=curation, reward=reward)
    prediction = mc.predict(config)
    curve = prediction.curves["p"][0]
    assert curve.label.startswith("exact E p_t")
    p = simulate_arrays(config, workers=1).metrics["p"]
    z = z_crit(g)
    for t in range(1, g + 1):
        # Var p_t ≤ E p_t (1 − E p_t) for p_t in [0, 1]: an upper bound on the SE that stays
        # positive where nearly every replicate is absorbed.
        se = math.sqrt(max(curve.values[t] * (1 - curve.values[t]), 1e-6) / reps)
        assert abs(p[:, t].mean() - curve.values[t]) < z * se, (t, p[:, t].mean(),
                                                               curve.values[t])
    absorbed = (p[:, -1] == 0) | (p[:, -1] == 1)
    share = prediction.absorbed.values[-1]
    se = math.sqrt(max(share * (1 - share), 1e-4) / reps)
    assert abs(absorbed.mean() - share) < z_crit(1) * se


def test_curated_predictions_say_what_is_not_exact():
    gmm = mc.predict(mc.RunConfig("gmm", n_samples=100, n_generations=5, n_replicates=2,
                                  curation=mc.Top(keep=0.5)))
    assert "var" not in gmm.curves
    assert any("no exact result" in note for note in gmm.notes)
    accumulate = mc.predict(mc.RunConfig(mc.Coin(p0=0.3), policy="accumulate", n_samples=10,
                                         n_generations=5, n_replicates=2,
                                         curation=mc.BestOf(k=2), reward="0,1"))
    assert "p" not in accumulate.curves
    assert any("not a finite chain state" in note for note in accumulate.notes)
