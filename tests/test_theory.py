"""Exact results on small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

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
