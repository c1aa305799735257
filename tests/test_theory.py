"""Exact results on small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import theory


def test_coin_absorption_k_equals_one_is_immediate():
    law = theory.coin_absorption_time(0.3, 1)
    assert law.mean == 1 and law.var == 0


def test_coin_absorption_k_equals_two_by_hand():
    # X_1 ~ Binom(2, ½): absorbed w.p. ½; from state 1 each step absorbs w.p. ½ (geometric)
    law = theory.coin_absorption_time(0.5, 2)
    assert law.mean == pytest.approx(2.0)
    assert law.var == pytest.approx(2.0)
    assert law.cdf[1] == pytest.approx(0.5) and law.cdf[2] == pytest.approx(0.75)


def test_coin_absorption_k_10_is_12_59_and_diffusion_is_13_86():
    assert theory.coin_absorption_time(0.5, 10).mean == pytest.approx(12.5905, abs=1e-4)
    assert theory.coin_absorption_time_diffusion(0.5, 10) == pytest.approx(13.8629, abs=1e-4)


def test_coin_law_is_a_martingale_with_decaying_heterozygosity():
    law = theory.coin_law(0.3, 10, 25)
    p = np.arange(11) / 10
    np.testing.assert_allclose(law @ p, 0.3, rtol=1e-12)
    np.testing.assert_allclose(law @ (p * (1 - p)),
                               theory.coin_heterozygosity(0.3, 10, np.arange(1, 26)), rtol=1e-10)


def test_gaussian_with_two_samples_by_hand():
    # N = 2, MLE: var_1 = var_0 χ²_1 / 2, E = var_0 / 2; E log χ²_1 = ψ(½) + ln 2
    assert theory.gaussian_expected_var(1.0, 2, 1) == pytest.approx(0.5)
    assert theory.gaussian_expected_log_var(1.0, 2, 1) == pytest.approx(-1.9635100260214235 +
                                                                        np.log(2) - np.log(2))
    assert theory.gaussian_var_mean(1.0, 2, 1) == pytest.approx(0.5)
    assert theory.gaussian_var_mean(1.0, 2, 3, "unbiased") == pytest.approx(1.5)


def test_mix_stationary_limits():
    assert theory.gaussian_mix_stationary_var(1.0, 50, 1.0) == pytest.approx(49 / 50)
    assert theory.gaussian_mix_stationary_var(1.0, 50, 0.0) == 0.0


def test_accumulate_product_and_limit():
    assert theory.gaussian_accumulate_expected_var(1.0, 4, [1, 2])[0] == pytest.approx(0.75)
    assert theory.gaussian_accumulate_expected_var(1.0, 4, [2])[0] == pytest.approx(
        0.75 * (1 - 1 / 16))
    far = theory.gaussian_accumulate_expected_var(1.0, 10, [100_000])[0]
    assert far == pytest.approx(theory.gaussian_accumulate_limit_var(1.0, 10), rel=1e-5)


def test_categorical_support_and_diversity_by_hand():
    q = np.array([0.5, 0.25, 0.25])
    # N = 2: P(token seen) = 1 − (1 − q)²
    assert theory.categorical_expected_support_one(q, 2) == pytest.approx(
        0.75 + 2 * (1 - 0.75**2))
    assert theory.categorical_expected_gini_simpson(q, 4, 2) == pytest.approx(
        (1 - 0.375) * 0.75**2)


# -- moment recursions and chains under every policy -------------------------------------------


def _enumerate_coin(p0: float, k: int, n_generations: int, parts: theory.Pieces) -> list[dict]:
    """Exact law of p_t by brute-force enumeration of every path (tiny k only).

    An independent derivation: states are tuples and probabilities multiply along the tree, with
    no moment algebra and no transition matrix.
    """
    from scipy import stats

    def pmf(dist):
        return [(x, dist.pmf(x)) for x in range(int(dist.support()[1]) + 1) if dist.pmf(x) > 0]

    def binom(n, p):
        return [(0, 1.0)] if n == 0 else pmf(stats.binom(n, p))

    m, s, c = parts.real, parts.synthetic, parts.carry
    # state: (heads in the last training set, pool heads, pool size)
    states = {(h, h, k): w for h, w in binom(k, p0)}
    laws = []
    for t in range(1, n_generations + 1):
        if t > 1:
            new: dict = {}
            for (h, pool_h, size), w in states.items():
                q = h / k
                for x, wx in binom(m, p0):
                    for y, wy in binom(s, q):
                        if parts.kind == "mix":
                            carry = [(0, 1.0)] if c == 0 else pmf(stats.hypergeom(k, h, c))
                            for z, wz in carry:
                                key = (x + y + z, 0, k)
                                new[key] = new.get(key, 0.0) + w * wx * wy * wz
                        else:
                            ph, ps = pool_h + x + y, size + k
                            draws = [(ph, 1.0)] if parts.kind == "accumulate" else [
                                (z * 1.0, wz) for z, wz in pmf(stats.hypergeom(ps, ph, k))]
                            for heads, wz in draws:
                                key = (heads / ps * k if parts.kind == "accumulate" else heads,
                                       ph, ps)
                                new[key] = new.get(key, 0.0) + w * wx * wy * wz
            states = new
        law: dict = {}
        for (h, _, _), w in states.items():
            law[h / k] = law.get(h / k, 0.0) + w
        laws.append(law)
    return laws


@pytest.mark.parametrize("policy", [
    mc.Replace(), mc.Mix(real=0.34, synthetic=0.34), mc.Mix(synthetic=0.34),
    mc.Accumulate(), mc.Accumulate(real=0.34), mc.AccumulateSubsample(),
    mc.AccumulateSubsample(real=0.34)], ids=str)
def test_proportion_moments_match_brute_force_enumeration(policy):
    k, g, p0 = 3, 4, 0.3
    parts = theory.pieces(policy, k)
    mean, square = theory.proportion_moments(p0, k, g, parts)
    for t, law in enumerate(_enumerate_coin(p0, k, g, parts), start=1):
        values, weights = np.array(list(law)), np.array(list(law.values()))
        assert weights.sum() == pytest.approx(1.0)
        assert mean[t, 0] == pytest.approx(weights @ values, abs=1e-12)
        assert square[t, 0] == pytest.approx(weights @ values**2, abs=1e-12)


@pytest.mark.parametrize("policy", [mc.Replace(), mc.Mix(real=0.2, synthetic=0.5),
                                    mc.Mix(synthetic=0.3)], ids=str)
def test_coin_chain_agrees_with_the_moment_recursion(policy):
    parts = theory.pieces(policy, 10)
    matrix = theory.coin_mix_transition_matrix(10, 0.3, parts)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-12)
    law = theory.coin_mix_law(0.3, 10, 25, parts)
    mean, square = theory.proportion_moments(0.3, 10, 25, parts)
    p = np.arange(11) / 10
    np.testing.assert_allclose(law @ p, mean[1:, 0], atol=1e-12)
    np.testing.assert_allclose(law @ p**2, square[1:, 0], atol=1e-12)


def test_replace_chain_and_hitting_law_are_the_classic_ones():
    parts = theory.pieces(mc.Replace(), 10)
    np.testing.assert_allclose(theory.coin_mix_transition_matrix(10, 0.5, parts),
                               theory.coin_transition_matrix(10), atol=1e-15)
    np.testing.assert_allclose(theory.coin_hitting_cdf(0.5, 10, 40, parts),
                               theory.coin_absorption_time(0.5, 10, horizon=40).cdf, atol=1e-14)


def test_coin_mix_stationary_law_by_hand():
    # k = 2, one fresh and one model toss: from H = 0, 1, 2 the next H is X + Bern(H/2), X ~
    # Bern(½); π = (¼, ½, ¼) solves πP = π, so E p = ½ and Var p = ⅜ − ¼ = ⅛.
    law, mean, var = theory.coin_mix_stationary(0.5, 2, theory.pieces(
        mc.Mix(real=0.5, synthetic=0.5), 2))
    np.testing.assert_allclose(law, [0.25, 0.5, 0.25], atol=1e-12)
    assert mean == pytest.approx(0.5) and var == pytest.approx(0.125)
    # k = 1, all fresh: the stationary law is the truth's Bernoulli
    _, mean, var = theory.coin_mix_stationary(0.3, 1, theory.pieces(mc.Mix(real=1.0), 1))
    assert mean == pytest.approx(0.3) and var == pytest.approx(0.21)


def test_coin_accumulate_touches_an_edge_only_at_the_first_fit():
    assert theory.coin_accumulate_hitting_probability(0.5, 2) == pytest.approx(0.5)
    assert theory.coin_accumulate_hitting_probability(0.3, 1) == pytest.approx(1.0)


def test_variance_moments_reduce_to_the_closed_forms():
    for estimator in ("mle", "unbiased"):
        var, offset2 = theory.variance_moments(2.0, 7, 30, theory.pieces(mc.Replace(), 7),
                                               divisor=estimator)
        t = np.arange(31)
        np.testing.assert_allclose(var, theory.gaussian_expected_var(2.0, 7, t, estimator))
        np.testing.assert_allclose(offset2, theory.gaussian_var_mean(2.0, 7, t, estimator),
                                   atol=1e-14)
    var, _ = theory.variance_moments(1.0, 10, 50, theory.pieces(mc.Accumulate(), 10))
    np.testing.assert_allclose(var[1:], theory.gaussian_accumulate_expected_var(
        1.0, 10, np.arange(1, 51)), rtol=1e-12)
    var, _ = theory.variance_moments(1.0, 20, 400, theory.pieces(
        mc.Mix(real=0.3, synthetic=0.7), 20))
    assert var[-1] == pytest.approx(theory.gaussian_mix_stationary_var(1.0, 20, 0.3), rel=1e-12)


def test_gaussian_sd_w2_and_kl_by_hand():
    # N = 2, MLE: sd_1 = sd_0 |z|/√2, so E sd_1 = 1/√π; E W2²_1 = ½ + ½ + 1 − 2/√π
    assert theory.gaussian_expected_sd(1.0, 2, 1) == pytest.approx(1 / np.sqrt(np.pi))
    assert theory.gaussian_expected_w2_squared(1.0, 2, 1) == pytest.approx(2 - 2 / np.sqrt(np.pi))
    # N = 1: the first fit has variance 0 and the mean is one draw: E W2² = 2 var_0 for ever
    np.testing.assert_allclose(theory.gaussian_expected_w2_squared(3.0, 1, [0, 1, 5]), [0, 6, 6],
                               atol=1e-12)
    # N = 4, MLE, t = 1: E var_0/var_1 = 4/(4 − 3) = 4, E z²/(N var_1) = 4/4 = 1, and
    # E log var_1 = ψ(3/2) + ln ½ with ψ(3/2) = 2 − γ − 2 ln 2
    psi = 2 - np.euler_gamma - 2 * np.log(2)
    assert theory.gaussian_expected_kl(1.0, 4, 1) == pytest.approx(
        0.5 * (psi + np.log(0.5) + 4 + 1 - 1))
    assert theory.gaussian_expected_kl(1.0, 10, 0) == 0.0
    with pytest.raises(ValueError, match="N ≤ 3"):
        theory.gaussian_expected_kl(1.0, 3, 1)


def test_categorical_support_by_hand():
    q = np.array([0.5, 0.5])
    # N = 1 under replace: one token from the first fit on
    np.testing.assert_allclose(theory.categorical_expected_support(
        q, 1, 4, theory.pieces(mc.Replace(), 1)), [2, 1, 1, 1, 1])
    # N = 1, accumulate with all-fresh batches: token gone at t w.p. (½)^t, each
    np.testing.assert_allclose(theory.categorical_expected_support(
        q, 1, 3, theory.pieces(mc.Accumulate(real=1.0), 1)), [2, 1, 1.5, 1.75])
    with pytest.raises(ValueError, match="accumulate-subsample"):
        theory.categorical_expected_support(q, 2, 3, theory.pieces(mc.AccumulateSubsample(), 2))


def test_categorical_support_matches_per_token_coin_chains():
    q = np.array([0.5, 0.3, 0.15, 0.05])
    support = theory.categorical_expected_support(q, 8, 12, theory.pieces(mc.Replace(), 8))
    by_token = [sum(1 - theory.coin_law(v, 8, 12)[t - 1, 0] for v in q) for t in range(1, 13)]
    np.testing.assert_allclose(support[1:], by_token, atol=1e-12)
    assert support[1] == pytest.approx(theory.categorical_expected_support_one(q, 8))
