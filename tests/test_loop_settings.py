"""Sampling bias, a fixed real set and weighted fits: semantics, exact theory and simulation.

Three ways each, as the rest of the suite: hand cases and exact identities; an independent
derivation of each new recursion (a second formulation written out here); and seeded
simulations within ``z · SE`` of the theory, each shown to fail on a planted bug in the
simulator (the planted theory bugs are in ``tests/planted_theory_bugs.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import theory
from modelcollapse.checks import ALPHA, critical_z
from modelcollapse.checks import mean_check as _mean_check
from modelcollapse.checks import proportion_check as _proportion_check
from modelcollapse.families.discrete import frequencies, tempered
from modelcollapse.families.gaussian import weighted_normal_fit
from modelcollapse.loop import simulate_block
from modelcollapse.theory.coin import (
    coin_fixation_probability_chain,
    coin_transition_matrix,
    tempered_heads,
)
from modelcollapse.theory.moments import (
    NotCovered,
    optimal_real_weight,
    proportion_moments,
    variance_moments,
    weighted_mean_stationary_var,
)
from modelcollapse.training_sets import Counts, Moments, Samples, concat, mark, part_weights

SEED = 20261203
PHI = (1 + math.sqrt(5)) / 2

#: Sub-checks of the statistical part of this file (a guard test keeps it honest).
N_SUBCHECKS = 25
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)


def mean_check(name, samples, exact):
    return _mean_check(name, samples, float(exact), critical=Z_CRIT)


def proportion_check(name, hits, p):
    return _proportion_check(name, hits, float(p), critical=Z_CRIT)


def simulate(family, policy="replace", *, n_samples, n_generations, n_replicates, seed=SEED):
    return mc.simulate(mc.RunConfig(family=family, policy=policy, n_samples=n_samples,
                                    n_generations=n_generations, n_replicates=n_replicates,
                                    seed=seed))


# -- sampling bias: the maps -----------------------------------------------------------------


def test_tempered_by_hand():
    np.testing.assert_allclose(tempered(np.array([0.2, 0.8]), 0.5), [0.04 / 0.68, 0.64 / 0.68])
    np.testing.assert_allclose(tempered(np.array([0.2, 0.8]), 2.0),
                               np.sqrt([0.2, 0.8]) / np.sqrt([0.2, 0.8]).sum())
    q = np.array([0.5, 0.3, 0.2, 0.0])
    assert tempered(q, 1.0) is not None and np.array_equal(tempered(q, 1.0), q)
    assert tempered(q, 0.3)[3] == 0.0 and tempered(q, 3.0)[3] == 0.0  # the dead stay dead
    np.testing.assert_allclose(tempered(q, 1e-3)[:3], [1.0, 0.6**1000, 0.4**1000], rtol=1e-9)
    np.testing.assert_allclose(tempered(q, 1e3)[:3], [1 / 3] * 3, rtol=2e-3)
    np.testing.assert_allclose(tempered(np.array([1e-300, 1.0 - 1e-300]), 1e-3), [0.0, 1.0])


def test_the_two_tempering_maps_agree():
    """The family's sampler (normalised powers) and the theory's (a tempered logit) are two
    implementations of one map."""
    p = np.concatenate([[0.0, 1e-12, 0.1, 0.5, 0.7, 1 - 1e-9, 1.0]])
    for tau in (0.01, 0.5, 0.8, 1.0, 1.25, 4.0, 100.0):
        family = tempered(np.stack([1 - p, p], axis=-1), tau)[:, 1]
        np.testing.assert_allclose(tempered_heads(p, tau), family, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(mc.Coin(temperature=tau).sampling_params(p), family,
                                   rtol=1e-15)


def test_sampling_scale_multiplies_the_variances():
    params = np.array([[1.0, 4.0], [0.0, 0.25]])
    np.testing.assert_array_equal(mc.Gaussian(sampling_scale=0.5).sampling_params(params),
                                  [[1.0, 1.0], [0.0, 0.0625]])
    gmm = mc.GMM(sampling_scale=2.0)
    truth = gmm.truth()[None]
    scaled = gmm.sampling_params(truth)
    np.testing.assert_array_equal(scaled[:, :2], truth[:, :2])
    np.testing.assert_array_equal(scaled[:, 2], 4 * truth[:, 2])
    assert mc.Gaussian().sampling_params(params) is params  # no bias: untouched


@pytest.mark.parametrize(("family", "biased"), [
    (mc.Coin(p0=0.3), mc.Coin(p0=0.3, temperature=0.5)),
    (mc.Categorical(vocab=8), mc.Categorical(vocab=8, temperature=2.0)),
    (mc.Gaussian(), mc.Gaussian(sampling_scale=0.5)),
])
def test_the_truth_is_never_biased(family, biased):
    """Generation 1 is fitted to the truth's own samples: the same numbers with or without a
    bias (same seed); from generation 2 on, the model's samples differ."""
    runs = [simulate_block(f, mc.Replace(), n_samples=30, n_generations=3, n_replicates=4,
                           rng=np.random.default_rng(5)).metrics for f in (family, biased)]
    name = family.metric_names[0]
    np.testing.assert_array_equal(runs[0][name][:, :2], runs[1][name][:, :2])
    assert not np.array_equal(runs[0][name][:, 2:], runs[1][name][:, 2:])


def test_coin_chain_at_a_temperature_by_hand():
    """k = 3, τ = ½: from one head the model tosses heads with (1/3)²/((1/3)² + (2/3)²) = 1/5."""
    row = coin_transition_matrix(3, 0.5)[1]
    f = 1 / 5
    np.testing.assert_allclose(row, [(1 - f) ** 3, 3 * f * (1 - f) ** 2, 3 * f * f * (1 - f),
                                     f**3], rtol=1e-13)
    np.testing.assert_array_equal(coin_transition_matrix(10, 0.7)[[0, 10]][:, [0, 10]],
                                  [[1, 0], [0, 1]])  # the edges still absorb


def test_fixation_at_a_temperature():
    assert coin_fixation_probability_chain(0.3, 10) == pytest.approx(0.3, abs=1e-13)
    # k = 2: a single head tosses heads with probability ½ at every τ, so P(fix) = P(H_1=2) + ½
    # P(H_1=1) = p² + p(1−p) = p whatever τ is.
    assert coin_fixation_probability_chain(0.3, 2, 0.4) == pytest.approx(0.3, abs=1e-13)
    cold = coin_fixation_probability_chain(0.3, 10, 0.7)
    hot = coin_fixation_probability_chain(0.3, 10, 1.5)
    assert cold < 0.3 < hot < 0.5  # τ < 1 pushes to the nearer edge, τ > 1 towards ½
    absorb = [theory.coin_absorption_time(0.5, 10, temperature=t).mean for t in (0.8, 1.0, 1.3)]
    assert absorb[0] < absorb[1] < absorb[2]
    assert absorb[1] == pytest.approx(12.5905, abs=1e-4)


# -- provenance and the fixed real set -------------------------------------------------------


def test_provenance_survives_concat_and_subsample():
    rng = np.random.default_rng(0)
    real = mark(Samples(np.arange(6.0).reshape(1, 6)), real=True)
    synthetic = mark(Samples(100 + np.arange(4.0).reshape(1, 4)), real=False)
    both = concat([real, synthetic])
    assert both.real.tolist() == [[True] * 6 + [False] * 4]
    sub = both.subsample(5, rng)
    assert np.array_equal(sub.real, sub.values < 100)
    counts = concat([mark(Counts(np.array([[3, 5]])), real=True),
                     mark(Counts(np.array([[4, 0]])), real=False)])
    assert counts.values.tolist() == [[7, 5]] and counts.real.tolist() == [[3, 5]]
    drawn = counts.subsample(6, rng)
    assert drawn.values.sum() == 6 and (drawn.real <= drawn.values).all()
    assert (drawn.values - drawn.real)[0, 1] == 0  # no synthetic token 1 exists to draw
    moments = concat([mark(Moments(2, np.array([1.0]), np.array([2.0])), real=True),
                      mark(Moments(3, np.array([4.0]), np.array([6.0])), real=False)])
    assert moments.parts[0].n == 2 and moments.parts[1].n == 3
    np.testing.assert_allclose(moments.mean, [(2 * 1 + 3 * 4) / 5])
    with pytest.raises(TypeError, match="provenance"):
        concat([real, Samples(np.zeros((1, 2)))])


def test_a_subsample_draws_real_samples_hypergeometrically():
    """Without replacement, the number of real items among 6 of (4 real + 8 synthetic) of one
    token is hypergeometric: mean 6·4/12 = 2, variance 6·(4/12)(8/12)(6/11)."""
    rows = 20_000
    counts = Counts(np.tile([[12, 0]], (rows, 1)), np.tile([[4, 0]], (rows, 1)))
    real = counts.subsample(6, np.random.default_rng(SEED)).real[:, 0]
    variance = 6 * (4 / 12) * (8 / 12) * (6 / 11)
    check = _mean_check("real drawn", real, 2.0, variance=variance, critical=4.0)
    assert check.passed, check


def test_augment_keeps_the_real_set():
    first = Samples(np.array([[1.0, 2.0, 3.0, 4.0]]))
    policy = mc.Augment(synthetic=0.5)
    state = policy.start(first)
    for _ in range(3):
        train, state = policy.next_training_set(
            state, draw_model=lambda m: Samples(np.full((1, m), 9.0)),
            draw_truth=lambda m: pytest.fail("augment never draws fresh truth"),
            n_samples=4, rng=np.random.default_rng(0))
        assert train.values.tolist() == [[1.0, 2.0, 3.0, 4.0, 9.0, 9.0]]
        assert state is first
    assert policy.keeps_real_data(4) and policy.stored_samples(4, 10) == 10
    zero = mc.Augment(synthetic=0.0)
    assert zero.next_training_set(first, draw_model=None, draw_truth=None, n_samples=4,
                                  rng=None)[0] is first
    with pytest.raises(mc.ConfigError, match="synthetic"):
        mc.Augment(synthetic=-1)


# -- weighted fits ----------------------------------------------------------------------------


def test_part_weights():
    w_r, w_s = part_weights(np.array([3, 0, 5]), np.array([2, 4, 0]), 0.7)
    np.testing.assert_array_equal(w_r, [0.7, 0.0, 1.0])
    np.testing.assert_array_equal(w_r + w_s, 1.0)


def _marked_samples(rng, rows=5, n_real=7, n_synthetic=4):
    x = np.concatenate([rng.normal(1.0, 2.0, (rows, n_real)),
                        rng.normal(-1.0, 0.5, (rows, n_synthetic))], axis=1)
    real = np.zeros(x.shape, dtype=bool)
    real[:, :n_real] = True
    return Samples(x, real)


def test_weighted_normal_fit_from_samples_and_from_moments_agree():
    rng = np.random.default_rng(1)
    data = _marked_samples(rng)
    x, real = data.values, data.real
    parts = tuple(Moments(int(mask[0].sum()), x[:, mask[0]].mean(axis=1),
                          ((x[:, mask[0]] - x[:, mask[0]].mean(axis=1)[:, None]) ** 2).sum(axis=1))
                  for mask in (real, ~real))
    pooled = concat(list(parts))
    moments = Moments(pooled.n, pooled.mean, pooled.m2, parts)
    for w in (0.0, 0.3, 1 / PHI, 1.0):
        a, b = weighted_normal_fit(data, w), weighted_normal_fit(moments, w)
        np.testing.assert_allclose(a, b, rtol=1e-12)
        omega = np.where(real, w / 7, (1 - w) / 4)
        mean = (omega * x).sum(axis=1)
        np.testing.assert_allclose(a[0], mean, rtol=1e-12)
        np.testing.assert_allclose(a[1], (omega * (x - mean[:, None]) ** 2).sum(axis=1),
                                   rtol=1e-12)
    # w = n_r / n is the pooled MLE; w = 1 fits the real part alone
    pooled_fit = weighted_normal_fit(data, 7 / 11)
    np.testing.assert_allclose(pooled_fit[0], x.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(pooled_fit[1], x.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(weighted_normal_fit(data, 1.0)[1], x[:, :7].var(axis=1))


def test_weighted_frequencies_by_hand_and_in_both_forms():
    tokens = np.array([[0, 1, 1, 2, 2, 2]])
    real = np.array([[True, True, False, False, False, False]])
    q = frequencies(Samples(tokens, real), 3, 0.25)
    np.testing.assert_allclose(q, [[0.25 * 0.5 + 0, 0.25 * 0.5 + 0.75 * 0.25, 0.75 * 0.75]])
    counts = Counts(np.array([[1, 2, 3]]), np.array([[1, 1, 0]]))
    np.testing.assert_allclose(frequencies(counts, 3, 0.25), q)
    np.testing.assert_allclose(frequencies(counts, 3, 2 / 6), [[1 / 6, 2 / 6, 3 / 6]])
    coin = mc.Coin(real_weight=0.25)
    np.testing.assert_allclose(coin.fit(Counts(np.array([[4, 6]]), np.array([[0, 4]])),
                               rng=None, previous=None)[0], [0.25 * 1 + 0.75 * 2 / 6])


def test_weighted_em_is_the_weighted_mle():
    """With uniform weights it finds the unweighted fit; with any weights the mixture's mean and
    variance are the weighted sample's (the M-step identity)."""
    rng = np.random.default_rng(3)
    data = _marked_samples(rng, rows=3, n_real=150, n_synthetic=100)
    truth = mc.GMM().truth()
    previous = np.broadcast_to(truth, (3, *truth.shape))
    plain, _ = mc.GMM().fit(Samples(data.values), rng=rng, previous=previous)
    uniform, _ = mc.GMM(real_weight=150 / 250).fit(data, rng=rng, previous=previous)
    np.testing.assert_allclose(uniform, plain, rtol=2e-4, atol=2e-4)
    weighted, info = mc.GMM(real_weight=0.2).fit(data, rng=rng, previous=previous)
    omega = np.where(data.real, 0.2 / 150, 0.8 / 100)
    w, mu, var = weighted[:, 0], weighted[:, 1], weighted[:, 2]
    mean = (w * mu).sum(axis=1)
    np.testing.assert_allclose(mean, (omega * data.values).sum(axis=1), rtol=1e-8)
    total = (w * (var + mu**2)).sum(axis=1) - mean**2
    np.testing.assert_allclose(total, (omega * (data.values - mean[:, None]) ** 2).sum(axis=1),
                               rtol=1e-7)
    assert (info["em_iterations"] < mc.GMM().max_iter).all()


@pytest.mark.parametrize(("family", "policy", "words"), [
    (mc.Coin(real_weight=0.5), mc.Replace(), "needs real data"),
    (mc.Gaussian(real_weight=0.5), mc.Mix(real=0.0, synthetic=0.5), "needs real data"),
])
def test_a_weighted_fit_needs_real_data(family, policy, words):
    with pytest.raises(mc.ConfigError, match=words):
        mc.RunConfig(family=family, policy=policy)


@pytest.mark.parametrize(("make", "field"), [
    (lambda: mc.Coin(temperature=0), "temperature"),
    (lambda: mc.Categorical(temperature=float("nan")), "temperature"),
    (lambda: mc.Gaussian(sampling_scale=-1), "sampling_scale"),
    (lambda: mc.GMM(sampling_scale=0), "sampling_scale"),
    (lambda: mc.Gaussian(real_weight=1.5), "real_weight"),
    (lambda: mc.Gaussian(real_weight=0.5, estimator="unbiased"), "estimator"),
    (lambda: mc.Gaussian(refit="mean", estimator="unbiased"), "estimator"),
    (lambda: mc.Gaussian(refit="variance"), "refit"),
    (lambda: mc.GMM(real_weight=0.5, backend="sklearn"), "backend"),
    (lambda: mc.GMM(real_weight=0.5, init="kmeans"), "init"),
])
def test_bad_settings_name_the_field(make, field):
    with pytest.raises(mc.ConfigError) as err:
        make()
    assert err.value.field == field


#: Every family that takes the new settings, with all of them on at once.
BIASED = {"coin": {"temperature": 0.7, "real_weight": 0.6},
          "categorical": {"vocab": 12, "temperature": 1.5, "real_weight": 0.6},
          "gaussian": {"sampling_scale": 0.9, "real_weight": 0.6},
          "gmm": {"sampling_scale": 1.1, "real_weight": 0.6}}
WITH_REAL = {"mix": mc.Mix(real=0.2, synthetic=0.5), "mix-fresh": mc.Mix(real=0.3),
             "accumulate": mc.Accumulate(real=0.1),
             "accumulate-subsample": mc.AccumulateSubsample(),
             "augment": mc.Augment(synthetic=0.5)}


@pytest.mark.parametrize("shortcut", [True, False])
@pytest.mark.parametrize("policy", list(WITH_REAL))
@pytest.mark.parametrize("family", list(BIASED))
def test_every_family_and_policy_with_every_setting(family, policy, shortcut):
    """The contract with bias and weights on: shapes, generation 0 the truth, finite metrics,
    and the same numbers from the same seed."""
    settings = dict(BIASED[family])
    if family != "gmm":
        settings["shortcut"] = shortcut
    elif not shortcut:
        pytest.skip("the gmm has no shortcut")
    fam = mc.get_family(family, **settings)
    runs = [simulate_block(fam, WITH_REAL[policy], n_samples=20, n_generations=4, n_replicates=3,
                           rng=np.random.default_rng(9)).metrics for _ in range(2)]
    truth = fam.metrics(fam.truth()[None])
    for name, values in runs[0].items():
        assert values.shape == (3, 5) and np.isfinite(values).all(), name
        np.testing.assert_allclose(values[:, 0], truth[name][0], err_msg=name)
        np.testing.assert_array_equal(values, runs[1][name])


# -- theory: hand cases and independent derivations ------------------------------------------


def test_golden_ratio_weight():
    assert optimal_real_weight(50, 50) == pytest.approx(1 / PHI, abs=1e-15)
    grid = np.linspace(0.01, 1.0, 9901)
    for m, s, scale in ((50, 50, 1.0), (30, 70, 1.0), (50, 50, 0.8)):
        values = [weighted_mean_stationary_var(1.0, m, s, w, scale=scale) for w in grid]
        assert optimal_real_weight(m, s, scale=scale) == pytest.approx(
            grid[int(np.argmin(values))], abs=2e-4)
    # at m = s, λ = 1: (w² + (1 − w)²) / (w (2 − w)) / m
    w = 0.3
    assert weighted_mean_stationary_var(2.0, 10, 10, w) == pytest.approx(
        2.0 / 10 * (w**2 + (1 - w) ** 2) / (w * (2 - w)), rel=1e-14)
    # the recursion reaches it
    _, offset2 = variance_moments(2.0, 20, 400, theory.Pieces("mix", 10, 10), known_var=True,
                                  real_weight=w)
    assert offset2[-1] == pytest.approx(weighted_mean_stationary_var(2.0, 10, 10, w), rel=1e-12)


def _pooled_mix_reference(var0, n, g, m, s, scale=1.0, unbiased=False):
    """The pooled sum-of-squares recursion of ``mix`` without carry-over, written out with the
    group formula ``SS = SS_r + SS_s + (m s / n)(mean_r − mean_s)²`` (not with weights)."""
    div = n - 1 if unbiased else n
    v, d = np.empty(g + 1), np.empty(g + 1)
    v[0], d[0] = var0, 0.0
    v[1], d[1] = (n - 1) * var0 / div, var0 / n
    for t in range(2, g + 1):
        model = scale**2 * v[t - 1]
        gap = (var0 / m if m else 0) + (model / s if s else 0) + d[t - 1]
        ss = max(m - 1, 0) * var0 + max(s - 1, 0) * model + (m * s / n) * gap
        v[t] = ss / div
        d[t] = (m * var0 + s * model) / n**2 + (s / n) ** 2 * d[t - 1]
    return v, d


def _pooled_augment_reference(var0, n, g, k, scale=1.0):
    """Augment by pooled sums of squares, conditionally on the real set.

    ``SS = SS_real + SS_s + (n k / (n + k)) (m_r − m_s)²`` and ``D = E (mean − m_r)²``, then
    ``E (mean − μ₀)² = D + var0/n``.
    """
    v, d = np.empty(g + 1), np.empty(g + 1)
    v[0], d[0] = var0, 0.0
    v[1], big_d = (n - 1) / n * var0, 0.0
    d[1] = var0 / n
    for t in range(2, g + 1):
        model = scale**2 * v[t - 1]
        gap = big_d + model / k
        v[t] = ((n - 1) * var0 + (k - 1) * model + n * k / (n + k) * gap) / (n + k)
        big_d = (k / (n + k)) ** 2 * gap
        d[t] = big_d + var0 / n
    return v, d


@pytest.mark.parametrize(("m", "s", "scale", "unbiased"), [
    (0, 20, 1.0, False), (6, 14, 1.0, False), (6, 14, 0.9, False), (5, 15, 1.2, True),
    (20, 0, 1.0, False),
])
def test_two_part_recursion_is_the_pooled_one(m, s, scale, unbiased):
    parts = theory.Pieces("mix", m, s)
    got = variance_moments(1.7, m + s, 30, parts, scale=scale,
                           divisor="unbiased" if unbiased else "mle")
    want = _pooled_mix_reference(1.7, m + s, 30, m, s, scale, unbiased)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if not unbiased:  # the weighted form at w = m / n is the pooled fit
        weighted = variance_moments(1.7, m + s, 30, parts, scale=scale, real_weight=m / (m + s))
        np.testing.assert_allclose(weighted, want, rtol=1e-12)


@pytest.mark.parametrize(("n", "k", "scale"), [(10, 5, 1.0), (10, 20, 1.0), (8, 8, 0.7),
                                               (12, 3, 1.3)])
def test_augment_recursion_by_pooled_sums_of_squares(n, k, scale):
    got = variance_moments(2.0, n, 40, theory.Pieces("augment", n, k), scale=scale)
    np.testing.assert_allclose(got, _pooled_augment_reference(2.0, n, 40, k, scale), rtol=1e-12)


def test_augment_is_stable_and_the_carry_path_sees_the_scale():
    v, d = variance_moments(1.0, 10, 2000, theory.Pieces("augment", 10, 10))
    assert 0.5 < v[-1] < 1.0 and abs(v[-1] - v[-2]) < 1e-12  # a stationary level, not 0
    assert d[-1] > 1.0 / 10  # the real set's own spread plus the drift about it
    parts = theory.Pieces("mix", 4, 10, 6)
    plain = variance_moments(1.0, 20, 10, parts)[0]
    assert (variance_moments(1.0, 20, 10, parts, scale=0.9)[0][2:] < plain[2:]).all()
    assert (variance_moments(1.0, 20, 10, parts, scale=1.0)[0] == plain).all()


def test_proportion_moments_of_two_parts():
    """Weighted coin under mix by hand at t = 2, and augment's cross term by enumeration."""
    q0, m, s, w = 0.3, 4, 6, 0.7
    mean, square = proportion_moments(q0, 10, 2, theory.Pieces("mix", m, s), real_weight=w)
    e_q1, e_q1sq = q0, (q0 * (1 - q0) / 10 + q0**2)
    expect = (w**2 * (q0 * (1 - q0) / m + q0**2)
              + (1 - w) ** 2 * ((e_q1 - e_q1sq) / s + e_q1sq) + 2 * w * (1 - w) * q0 * e_q1)
    assert mean[2, 0] == pytest.approx(q0)
    assert square[2, 0] == pytest.approx(expect, rel=1e-14)
    # augment, N = 2 real tosses, k = 1 model toss, three generations, by enumerating all paths
    n, k = 2, 1
    law: dict[tuple[int, float], float] = {}
    for h in range(3):
        law[(h, h / n)] = math.comb(2, h) * q0**h * (1 - q0) ** (2 - h)
    for _ in range(2):
        nxt: dict[tuple[int, float], float] = {}
        for (h, q), p in law.items():
            for y, py in ((1, q), (0, 1 - q)):
                key = (h, (h + y) / (n + k))
                nxt[key] = nxt.get(key, 0.0) + p * py
        law = nxt
    mean, square = proportion_moments(q0, n, 3, theory.Pieces("augment", n, k))
    assert mean[3, 0] == pytest.approx(sum(p * q for (_, q), p in law.items()), rel=1e-13)
    assert square[3, 0] == pytest.approx(sum(p * q * q for (_, q), p in law.items()), rel=1e-13)


def test_what_theory_does_not_cover_is_said():
    with pytest.raises(NotCovered):
        variance_moments(1.0, 10, 5, theory.Pieces("accumulate", 2, 8), real_weight=0.5)
    with pytest.raises(NotCovered):
        proportion_moments(0.3, 10, 5, theory.Pieces("mix", 2, 5, 3), real_weight=0.5)
    pred = mc.predict(mc.RunConfig(mc.GMM(sampling_scale=0.8)))
    assert "var" not in pred.curves and any("sampling scale" in n for n in pred.notes)
    pred = mc.predict(mc.RunConfig(mc.Gaussian(sampling_scale=0.8)))
    assert "w2" not in pred.curves and "var" in pred.curves
    pred = mc.predict(mc.RunConfig(mc.Categorical(temperature=0.7)))
    assert "not exact" in pred.curves["entropy"][0].label and "gini_simpson" not in pred.curves
    pred = mc.predict(mc.RunConfig(mc.Coin(p0=0.3, temperature=0.7)))
    assert pred.facts["fixation probability P(p → 1)"] == pytest.approx(
        coin_fixation_probability_chain(0.3, 10, 0.7))
    assert "mean absorption time, diffusion approximation (not exact)" not in pred.facts
    pred = mc.predict(mc.RunConfig(mc.Gaussian(refit="mean", real_weight=0.4),
                                   policy=mc.Mix(real=0.5)))
    assert {"var", "mean", "w2", "kl"} <= set(pred.curves)
    assert (pred.curves["var"][0].values == 1.0).all()  # known: the truth's, every generation
    assert pred.facts["optimal real weight (least stationary Var mean)"] == pytest.approx(
        1 / PHI)


def test_the_large_n_map_heats_and_freezes():
    """Marchi et al.'s dichotomy in the large-N limit, and fresh data holding it."""
    def entropy(tau, policy):
        cfg = mc.RunConfig(mc.Categorical(vocab=20, temperature=tau), policy=policy,
                           n_samples=1000, n_generations=300)
        return mc.predict(cfg).curves["entropy"][0].values
    cold, hot = entropy(0.7, mc.Replace()), entropy(1.4, mc.Replace())
    assert cold[-1] < 1e-6 and hot[-1] == pytest.approx(math.log(20), rel=1e-6)
    held = entropy(0.7, mc.Mix(real=0.2))
    assert cold[-1] < 0.5 < held[-1] < cold[1] and abs(held[-1] - held[-2]) < 1e-9


# -- simulation against theory -----------------------------------------------------------------


@dataclass(frozen=True)
class HotTruthCoin(mc.Coin):
    """Bug: the truth is tempered too (the bias applied to every draw)."""

    def sample(self, params, n, rng, *, stats):
        return super().sample(self.sampling_params(params), n, rng, stats=stats)


@dataclass(frozen=True)
class UntemperedCoin(mc.Coin):
    """Bug: the temperature accepted and ignored."""

    def sampling_params(self, params):
        return params


@dataclass(frozen=True)
class SdScaledGaussian(mc.Gaussian):
    """Bug: λ applied to the variance instead of the standard deviation."""

    def sampling_params(self, params):
        out = np.array(params, dtype=float)
        out[:, 1] *= self.sampling_scale
        return out


@dataclass(frozen=True)
class FreshRealAugment(mc.Augment):
    """Bug: the real part drawn fresh each generation (that is ``mix``, not ``augment``)."""

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        return concat([draw_truth(n_samples), draw_model(self.n_synthetic(n_samples))]), state


@dataclass(frozen=True)
class SwappedWeightGaussian(mc.Gaussian):
    """Bug: the weight given to the synthetic part instead of the real one."""

    def fit(self, data, *, rng, previous):
        swapped = mc.Gaussian(refit=self.refit, real_weight=1 - self.real_weight)
        return swapped.fit(data, rng=rng, previous=previous)


@dataclass(frozen=True)
class PooledCoin(mc.Coin):
    """Bug: the weight ignored (every toss counted once)."""

    def fit(self, data, *, rng, previous):
        return mc.Coin(p0=self.p0).fit(Counts(data.values), rng=rng, previous=previous)


def coin_temperature(coin: mc.Coin | None = None) -> list:
    """τ = 0.8 under replace: P(absorbed by t), P(fixed at 1), E p_t from the tempered chain."""
    coin = coin or mc.Coin(p0=0.3, temperature=0.8)
    k, g = 10, 40
    p = simulate(coin, n_samples=k, n_generations=g, n_replicates=20_000).trajectories("p")
    law = theory.coin_absorption_time(0.3, k, horizon=g, temperature=0.8)
    hit = (p == 0) | (p == 1)
    checks = [proportion_check(f"coin τ=0.8 absorbed by {t}", hit[:, t], law.cdf[t])
              for t in (3, 10)]
    chain = theory.coin_mix_law(0.3, k, g, theory.Pieces("mix", 0, k), temperature=0.8)
    checks.append(proportion_check(f"coin τ=0.8 fixed at 1 by {g}", p[:, -1] == 1,
                                   chain[g - 1][k]))
    checks.append(mean_check("coin τ=0.8 E p_5", p[:, 5], chain[4] @ (np.arange(k + 1) / k)))
    return checks


def coin_temperature_mix(coin: mc.Coin | None = None) -> list:
    """τ = 1.25 with fresh tosses (real 0.2, synthetic 0.8): law of p_8 from the chain."""
    coin = coin or mc.Coin(p0=0.3, temperature=1.25)
    k = 10
    p = simulate(coin, mc.Mix(real=0.2), n_samples=k, n_generations=8,
                 n_replicates=20_000).trajectories("p")[:, 8]
    law = theory.coin_mix_law(0.3, k, 8, theory.Pieces("mix", 2, 8), temperature=1.25)[7]
    grid = np.arange(k + 1) / k
    mean = law @ grid
    return [mean_check("coin τ=1.25 mix E p_8", p, mean),
            mean_check("coin τ=1.25 mix Var p_8", (p - mean) ** 2, law @ (grid - mean) ** 2)]


def gaussian_scale(family: mc.Gaussian | None = None) -> list:
    """λ = 0.9 under mix (real 0.2): E var_t and E (mean_t − μ₀)² (t = 3, 15)."""
    family = family or mc.Gaussian(sampling_scale=0.9)
    n = 20
    result = simulate(family, mc.Mix(real=0.2), n_samples=n, n_generations=15,
                      n_replicates=40_000)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    ev, d = variance_moments(1.0, n, 15, theory.Pieces("mix", 4, 16), scale=0.9)
    checks = [mean_check(f"gaussian λ=0.9 E var_{t}", var[:, t], ev[t]) for t in (3, 15)]
    checks += [mean_check(f"gaussian λ=0.9 E mean²_{t}", mean[:, t] ** 2, d[t]) for t in (3, 15)]
    return checks


def gaussian_scale_carry(family: mc.Gaussian | None = None) -> list:
    """λ = 1.1 under mix with carry-over and under accumulate-subsample (samples, not moments)."""
    family = family or mc.Gaussian(sampling_scale=1.1)
    n = 20
    checks = []
    for policy, parts in ((mc.Mix(real=0.2, synthetic=0.5), theory.Pieces("mix", 4, 10, 6)),
                          (mc.AccumulateSubsample(), theory.Pieces("accumulate-subsample", 0, n))):
        var = simulate(family, policy, n_samples=n, n_generations=10,
                       n_replicates=10_000).trajectories("var")
        ev = variance_moments(1.0, n, 10, parts, scale=1.1)[0]
        checks.append(mean_check(f"gaussian λ=1.1 {policy.name} E var_10", var[:, 10], ev[10]))
    return checks


def gaussian_augment(policy: mc.Augment | None = None, shortcut: bool = True) -> list:
    """augment λ = 0.5, N = 10: E var_t, E (mean_t − μ₀)², E (mean_t − mean_1)² (t = 20)."""
    policy = policy or mc.Augment(synthetic=0.5)
    n, g = 10, 20
    result = simulate(mc.Gaussian(shortcut=shortcut), policy, n_samples=n, n_generations=g,
                      n_replicates=40_000)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    ev, d = variance_moments(1.0, n, g, theory.Pieces("augment", n, 5))
    return [mean_check("augment E var_20", var[:, g], ev[g]),
            mean_check("augment E mean²_20", mean[:, g] ** 2, d[g]),
            # the mean relaxes to the real set's mean (model 1's), whose spread is var0 / N
            mean_check("augment E (mean_20 − mean_1)²", (mean[:, g] - mean[:, 1]) ** 2,
                       d[g] - 1.0 / n)]


def gaussian_augment_samples(policy: mc.Augment | None = None) -> list:
    """The same on raw samples (no moments shortcut), λ = 0.5: E var_20 only."""
    policy = policy or mc.Augment(synthetic=0.5)
    n, g = 10, 20
    var = simulate(mc.Gaussian(shortcut=False), policy, n_samples=n, n_generations=g,
                   n_replicates=10_000).trajectories("var")
    ev = variance_moments(1.0, n, g, theory.Pieces("augment", n, 5))[0]
    return [mean_check("augment (samples) E var_20", var[:, g], ev[g])]


def weighted_mean(family: mc.Gaussian | None = None) -> list:
    """He–Xu–Cheng: --fit mean, w = 0.3, mix real 0.5, N = 20: Var mean_t (t = 2, 40)."""
    family = family or mc.Gaussian(refit="mean", real_weight=0.3)
    n = 20
    mean = simulate(family, mc.Mix(real=0.5), n_samples=n, n_generations=40,
                    n_replicates=40_000).trajectories("mean")
    _, d = variance_moments(1.0, n, 40, theory.Pieces("mix", 10, 10), known_var=True,
                            real_weight=0.3)
    return [mean_check(f"weighted mean E mean²_{t}", mean[:, t] ** 2, d[t]) for t in (2, 40)]


def weighted_gaussian(family: mc.Gaussian | None = None) -> list:
    """The weighted mean-and-variance fit, w = 0.7, mix real 0.4 and augment λ = 1: E var."""
    family = family or mc.Gaussian(real_weight=0.7)
    n, checks = 20, []
    for policy, parts in ((mc.Mix(real=0.4), theory.Pieces("mix", 8, 12)),
                          (mc.Augment(synthetic=1.0), theory.Pieces("augment", n, n))):
        var = simulate(family, policy, n_samples=n, n_generations=12,
                       n_replicates=20_000).trajectories("var")
        ev = variance_moments(1.0, n, 12, parts, real_weight=0.7)[0]
        checks.append(mean_check(f"weighted gaussian {policy.name} E var_12", var[:, 12], ev[12]))
    return checks


def weighted_coin(coin: mc.Coin | None = None) -> list:
    """w = 0.7, mix real 0.5, k = 10, and augment λ = 1: E p and Var p at t = 10."""
    coin = coin or mc.Coin(p0=0.3, real_weight=0.7)
    checks = []
    for policy, parts in ((mc.Mix(real=0.5), theory.Pieces("mix", 5, 5)),
                          (mc.Augment(synthetic=1.0), theory.Pieces("augment", 10, 10))):
        p = simulate(coin, policy, n_samples=10, n_generations=10,
                     n_replicates=20_000).trajectories("p")[:, 10]
        square = proportion_moments(0.3, 10, 10, parts, real_weight=0.7)[1]
        checks.append(mean_check(f"weighted coin {policy.name} Var p_10", (p - 0.3) ** 2,
                                 square[10, 0] - 0.3**2))
    return checks


def augment_discrete(policy: mc.Augment | None = None) -> list:
    """Unweighted augment λ = 2: the coin's E p_t² and categorical Gini–Simpson (t = 10)."""
    policy = policy or mc.Augment(synthetic=2.0)
    p = simulate(mc.Coin(p0=0.3), policy, n_samples=5, n_generations=10,
                 n_replicates=20_000).trajectories("p")[:, 10]
    square = proportion_moments(0.3, 5, 10, theory.Pieces("augment", 5, 10))[1][10, 0]
    family = mc.Categorical(vocab=6, zipf=1.0)
    gini = simulate(family, policy, n_samples=8, n_generations=10,
                    n_replicates=10_000).trajectories("gini_simpson")[:, 10]
    sq = proportion_moments(family.truth(), 8, 10, theory.Pieces("augment", 8, 16))[1][10]
    return [mean_check("augment coin E p²_10", p**2, square),
            mean_check("augment categorical E Gini–Simpson_10", gini, 1 - sq.sum())]


def weighted_gmm(family: mc.GMM | None = None) -> list:
    """Weighted EM (w = 0.9, mix real 0.3, N = 30): E var_4 by the weighted mixture identity."""
    family = family or mc.GMM(real_weight=0.9)
    n = 30
    var = simulate(family, mc.Mix(real=0.3), n_samples=n, n_generations=4,
                   n_replicates=2_000).trajectories("var")[:, 4]
    w, mu, sd = (np.asarray(v) for v in (family.weights, family.means, family.stds))
    var0 = float(w @ (sd**2 + mu**2) - (w @ mu) ** 2)
    ev = variance_moments(var0, n, 4, theory.Pieces("mix", 9, 21), real_weight=0.9)[0]
    return [mean_check("weighted gmm E var_4", var, ev[4])]


#: check → (number of sub-checks, the same check with a planted bug)
CHECKS = {
    "coin_temperature": (4, lambda: coin_temperature(UntemperedCoin(p0=0.3, temperature=0.8))),
    "coin_temperature_mix": (2, lambda: coin_temperature_mix(
        HotTruthCoin(p0=0.3, temperature=1.25))),
    "gaussian_scale": (4, lambda: gaussian_scale(SdScaledGaussian(sampling_scale=0.9))),
    "gaussian_scale_carry": (2, lambda: gaussian_scale_carry(
        SdScaledGaussian(sampling_scale=1.1))),
    "gaussian_augment": (3, lambda: gaussian_augment(FreshRealAugment(synthetic=0.5))),
    "gaussian_augment_samples": (1, lambda: gaussian_augment_samples(
        FreshRealAugment(synthetic=0.5))),
    "weighted_mean": (2, lambda: weighted_mean(
        SwappedWeightGaussian(refit="mean", real_weight=0.3))),
    "weighted_gaussian": (2, lambda: weighted_gaussian(SwappedWeightGaussian(real_weight=0.7))),
    "weighted_coin": (2, lambda: weighted_coin(PooledCoin(p0=0.3, real_weight=0.7))),
    "augment_discrete": (2, lambda: augment_discrete(FreshRealAugment(synthetic=2.0))),
    "weighted_gmm": (1, lambda: weighted_gmm(mc.GMM())),
}
FUNCTIONS = {name: globals()[name] for name in CHECKS}


def test_every_subcheck_is_counted():
    assert sum(n for n, _ in CHECKS.values()) == N_SUBCHECKS


@pytest.mark.parametrize("name", list(CHECKS))
def test_simulation_matches_theory(name):
    checks = FUNCTIONS[name]()
    assert len(checks) == CHECKS[name][0]
    assert all(c.passed for c in checks), "\n".join(map(str, checks))


@pytest.mark.parametrize("name", list(CHECKS))
def test_planted_bug_is_caught(name):
    checks = CHECKS[name][1]()
    assert not all(c.passed for c in checks), "unnoticed:\n" + "\n".join(map(str, checks))


def test_the_report_says_what_each_setting_does():
    from modelcollapse.report.run import lede, policy_words

    words = policy_words(mc.RunConfig("gaussian", policy=mc.Augment(synthetic=0.5),
                                      n_samples=100))
    assert "100 real samples, the same ones every generation" in words
    assert "plus 50 new samples of the previous fit" in words
    text = " ".join(lede(mc.RunConfig(mc.Coin(temperature=0.8, real_weight=0.3),
                                      policy=mc.Mix(real=0.5), seed=1)))
    assert "sampled at temperature 0.8" in text and "real data weighted 0.3" in text


#: Stream keys of default configs before the loop settings existed (version 0.1.0, stop 21).
OLD_KEYS = {"coin": (3847919101418925896, 4079791689687129667),
            "categorical": (16379338527031090075, 7383183458795378871),
            "gaussian": (11031589787081817735, 8103538602983925713),
            "gmm": (12673269385763840698, 6530715271950152805)}


@pytest.mark.parametrize("family", list(OLD_KEYS))
def test_runs_without_the_new_settings_draw_the_same_numbers_as_before(family):
    """The new options are neutral at their defaults: they leave the stream key alone, so every
    earlier (config, seed) still gives the same numbers; setting one makes a new experiment."""
    keys = (mc.RunConfig(family).stream_key,
            mc.RunConfig(family, policy=mc.Mix(real=0.2)).stream_key)
    assert keys == OLD_KEYS[family]
    setting = {"coin": {"temperature": 0.8}, "categorical": {"real_weight": 0.5},
               "gaussian": {"sampling_scale": 0.9}, "gmm": {"sampling_scale": 1.1}}[family]
    biased = mc.RunConfig(mc.get_family(family, **setting), policy=mc.Mix(real=0.2))
    assert biased.stream_key != keys[1]
    assert mc.RunConfig.from_dict(biased.to_dict()) == biased


@pytest.mark.parametrize("family", [mc.Gaussian(sampling_scale=10.0),
                                    mc.Gaussian(sampling_scale=10.0, shortcut=False),
                                    mc.GMM(sampling_scale=10.0)])
def test_a_blown_up_model_is_recorded_never_a_nan(family, recwarn):
    """λ > 1 can grow the variance past the largest float: var, w2 and kl are inf, the tail
    mass 1, the mean finite, and the state absorbing; no NaN and no warning."""
    metrics = simulate_block(family, mc.Replace(), n_samples=50, n_generations=400,
                             n_replicates=2, rng=np.random.default_rng(1)).metrics
    assert np.isinf(metrics["var"][:, -1]).all() and (metrics["tail_mass"][:, -1] == 1).all()
    assert np.isfinite(metrics["mean"]).all()
    for name, values in metrics.items():
        assert not np.isnan(values).any(), name
    first = np.argmax(np.isinf(metrics["var"]), axis=1)
    for row, t in enumerate(first):
        assert np.isinf(metrics["var"][row, t:]).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
