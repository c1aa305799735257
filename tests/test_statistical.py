"""Simulation against the exact results of DESIGN §6, with derived tolerances.

Every check runs twice: on the real simulator, where it must pass, and on a copy with a planted
bug (the kind published code in this field gets wrong), where it must fail. So each tolerance is
shown to be tight enough to matter, on every run of the suite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import modelcollapse as mc
from harness import N_SUBCHECKS, Check, mean_check, proportion_check, report, simulate
from modelcollapse import theory
from modelcollapse.datasets import Counts, concat

# -- planted bugs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmoothedCoin(mc.Coin):
    """Bug: add-half smoothing, p̂ = (heads + ½)/(k + 1), where the MLE was asked for."""

    def fit(self, data, *, rng, previous):
        heads = data.values[:, 1]
        return (heads + 0.5) / (data.size + 1), {}


@dataclass(frozen=True)
class WrongDivisorCoin(mc.Coin):
    """Bug: p̂ = heads/(k − 1), clipped to 1 (an off-by-one in the divisor)."""

    def fit(self, data, *, rng, previous):
        return np.minimum(data.values[:, 1] / (data.size - 1), 1.0), {}


@dataclass(frozen=True)
class ExtraTossCoin(mc.Coin):
    """Bug: draws k + 1 tosses per generation (an off-by-one in the sample size)."""

    def sample(self, params, n, rng, *, stats):
        return super().sample(params, n + 1, rng, stats=stats)


@dataclass(frozen=True)
class SquaredScaleGaussian(mc.Gaussian):
    """Bug: the variance passed where the standard deviation belongs when sampling."""

    def sample(self, params, n, rng, *, stats):
        fake = params.copy()
        fake[:, 1] = params[:, 1] ** 2  # so sqrt(fake var) = var
        return super().sample(fake, n, rng, stats=stats)


@dataclass(frozen=True)
class SingletonDroppingCategorical(mc.Categorical):
    """Bug: tokens seen once are dropped before refitting (a min-count filter)."""

    def fit(self, data, *, rng, previous):
        counts = np.where(data.values >= 2, data.values, 0)
        return counts / counts.sum(axis=1, keepdims=True), {}


@dataclass(frozen=True)
class UnbiasedComponentsGMM(mc.GMM):
    """Bug: each component's variance divided by n_k − 1 instead of n_k."""

    def fit(self, data, *, rng, previous):
        params, info = super().fit(data, rng=rng, previous=previous)
        nk = params[:, 0] * data.size
        params[:, 2] *= np.where(nk > 1.5, nk / np.maximum(nk - 1, 1e-9), 1.0)
        return params, info


@dataclass(frozen=True)
class SwappedMix(mc.Mix):
    """Bug: the real and synthetic fractions swapped."""

    def split(self, n_samples):
        n_real, n_synthetic, n_carry = super().split(n_samples)
        return n_synthetic, n_real, n_carry


@dataclass(frozen=True)
class WindowAccumulate(mc.Accumulate):
    """Bug: "accumulate" that keeps only the last two batches."""

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        new = self._new_samples(draw_model, draw_truth, n_samples)
        previous = state if state.size <= n_samples else state.subsample(n_samples, rng)
        train = concat([previous, new])
        return train, new


# -- checks ------------------------------------------------------------------------------------


def coin_moments(coin: mc.Coin | None = None, theory_shift: int = 0) -> list[Check]:
    """E p_t = p0 (t = 1, 5, 20) and E[p_t(1 − p_t)] = p0(1 − p0)(1 − 1/k)^t (t = 1, 3, 10)."""
    coin = coin or mc.Coin(p0=0.3)
    p = simulate(coin, n_samples=10, n_generations=20, n_replicates=20_000).trajectories("p")
    checks = [mean_check(f"coin E p_{t}", p[:, t], coin.p0) for t in (1, 5, 20)]
    checks += [mean_check(f"coin heterozygosity t={t}", p[:, t] * (1 - p[:, t]),
                          float(theory.coin_heterozygosity(coin.p0, 10, t + theory_shift)))
               for t in (1, 3, 10)]
    return checks


def coin_fixation(coin: mc.Coin | None = None) -> list[Check]:
    """P(fixed at 1) = p0 (k = 10, p0 = 0.3; 300 generations absorb all but ~1e-14)."""
    coin = coin or mc.Coin(p0=0.3)
    result = simulate(coin, n_samples=10, n_generations=300, n_replicates=20_000)
    fixed_at_one = result.replicates["final_p"].to_numpy() == 1.0
    return [proportion_check("coin P(fixed at 1)", fixed_at_one, coin.p0)]


def coin_absorption(coin: mc.Coin | None = None) -> list[Check]:
    """Mean absorption time from the exact (k + 1)-state chain: 12.59 for k = 10, p0 = ½."""
    coin = coin or mc.Coin(p0=0.5)
    result = simulate(coin, n_samples=10, n_generations=400, n_replicates=20_000)
    times = result.replicates["absorption_time"].to_numpy(dtype=float)
    assert np.isfinite(times).all(), "all rollouts absorb within 400 generations"
    exact = theory.coin_absorption_time(0.5, 10)
    assert abs(exact.mean - 12.59) < 0.005
    return [mean_check("coin mean absorption time", times, exact.mean, variance=exact.var)]


def gaussian_var(family: mc.Gaussian | None = None) -> list[Check]:
    """E var_t = var_0 ((N − 1)/N)^t for the MLE (N = 10; t = 1, 5)."""
    family = family or mc.Gaussian(estimator="mle")
    var = simulate(family, n_samples=10, n_generations=5,
                   n_replicates=20_000).trajectories("var")
    return [mean_check(f"gaussian mle E var_{t}", var[:, t],
                       float(theory.gaussian_expected_var(1.0, 10, t, "mle"))) for t in (1, 5)]


def gaussian_log_var(family_cls: type[mc.Gaussian] = mc.Gaussian) -> list[Check]:
    """E log var_t = log var_0 + t[ψ((N−1)/2) + ln(2/D)], exact variance t ψ′((N−1)/2)."""
    checks = []
    for estimator in ("mle", "unbiased"):
        family = family_cls(std=2.0, estimator=estimator)
        var = simulate(family, n_samples=10, n_generations=20,
                       n_replicates=20_000).trajectories("var")
        checks.append(mean_check(
            f"gaussian {estimator} E log var_20", np.log(var[:, 20]),
            float(theory.gaussian_expected_log_var(4.0, 10, 20, estimator)),
            variance=float(theory.gaussian_var_log_var(10, 20))))
    return checks


def categorical_support(family: mc.Categorical | None = None) -> list[Check]:
    """E support_1 = Σ_v 1 − (1 − q_v)^N (V = 100, Zipf 1.1, N = 200)."""
    family = family or mc.Categorical(vocab=100, zipf=1.1)
    support = simulate(family, n_samples=200, n_generations=1,
                       n_replicates=20_000).trajectories("support")
    exact = theory.categorical_expected_support_one(family.truth(), 200)
    return [mean_check("categorical E support_1", support[:, 1], exact)]


def gmm_variance(family: mc.GMM | None = None) -> list[Check]:
    """Mixture-variance identity: E var_t = var_0 ((N − 1)/N)^t under replace (N = 20)."""
    family = family or mc.GMM()
    var = simulate(family, n_samples=20, n_generations=3, n_replicates=8192).trajectories("var")
    var0 = var[0, 0]
    return [mean_check(f"gmm E var_{t}", var[:, t], var0 * (19 / 20) ** t) for t in (1, 3)]


def gaussian_mix_stationary(policy: mc.Mix | None = None) -> list[Check]:
    """Stationary E var under mix (a = 0.3, b = 0.7, N = 20), reached after 60 generations."""
    policy = policy or mc.Mix(real=0.3, synthetic=0.7)
    var = simulate(mc.Gaussian(), policy, n_samples=20, n_generations=60,
                   n_replicates=20_000).trajectories("var")
    return [mean_check("gaussian mix stationary E var", var[:, 60],
                       theory.gaussian_mix_stationary_var(1.0, 20, 0.3))]


def gaussian_accumulate(policy: mc.Accumulate | None = None) -> list[Check]:
    """E var_t = var_0 Π_{i ≤ t}(1 − 1/(N i²)) under accumulate (N = 10; t = 1, 3, 10)."""
    policy = policy or mc.Accumulate()
    var = simulate(mc.Gaussian(), policy, n_samples=10, n_generations=10,
                   n_replicates=20_000).trajectories("var")
    exact = theory.gaussian_accumulate_expected_var(1.0, 10, [1, 3, 10])
    return [mean_check(f"gaussian accumulate E var_{t}", var[:, t], float(e))
            for t, e in zip((1, 3, 10), exact, strict=True)]


#: check → (number of sub-checks, the same check with a planted bug)
CHECKS = {
    "coin_moments": (6, lambda: coin_moments(SmoothedCoin(p0=0.3))),
    "coin_fixation": (1, lambda: coin_fixation(WrongDivisorCoin(p0=0.3))),
    "coin_absorption": (1, lambda: coin_absorption(ExtraTossCoin(p0=0.5))),
    "gaussian_var": (2, lambda: gaussian_var(mc.Gaussian(estimator="unbiased"))),
    "gaussian_log_var": (2, lambda: gaussian_log_var(SquaredScaleGaussian)),
    "categorical_support": (1, lambda: categorical_support(
        SingletonDroppingCategorical(vocab=100, zipf=1.1))),
    "gmm_variance": (2, lambda: gmm_variance(UnbiasedComponentsGMM())),
    "gaussian_mix_stationary": (1, lambda: gaussian_mix_stationary(
        SwappedMix(real=0.3, synthetic=0.7))),
    "gaussian_accumulate": (3, lambda: gaussian_accumulate(WindowAccumulate())),
}
FUNCTIONS = {name: globals()[name] for name in CHECKS}


def test_every_subcheck_is_counted():
    assert CHECKS, "the statistical suite must not be empty"
    assert sum(n for n, _ in CHECKS.values()) == N_SUBCHECKS


@pytest.mark.parametrize("name", list(CHECKS))
def test_simulation_matches_theory(name):
    checks = FUNCTIONS[name]()
    assert len(checks) == CHECKS[name][0]
    assert all(c.passed for c in checks), report(checks)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # some planted bugs diverge to inf
@pytest.mark.parametrize("name", list(CHECKS))
def test_planted_bug_is_caught(name):
    checks = CHECKS[name][1]()
    assert not all(c.passed for c in checks), "the planted bug went unnoticed:\n" + report(checks)


def test_off_by_one_generation_is_caught():
    """Comparing generation t with theory at t + 1 (an indexing slip) must fail."""
    checks = coin_moments(theory_shift=1)
    assert not all(c.passed for c in checks), report(checks)


def test_counts_type_is_what_the_planted_coin_bugs_assume():
    coin = mc.Coin()
    data = coin.sample(np.array([0.5]), 10, np.random.default_rng(0), stats=True)
    assert isinstance(data, Counts) and data.values.shape == (1, 2)
