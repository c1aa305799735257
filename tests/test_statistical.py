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
from modelcollapse.training_sets import Counts, Samples, concat

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


@dataclass(frozen=True)
class CarryWithReplacementMix(mc.Mix):
    """Bug: the carried-over samples drawn with replacement (bootstrap) instead of without."""

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        n_real, n_synthetic, n_carry = self.split(n_samples)
        index = rng.integers(0, state.size, size=(state.values.shape[0], n_carry))
        carried = Samples(np.take_along_axis(state.values, index, axis=1))
        train = concat([draw_truth(n_real), draw_model(n_synthetic), carried])
        return train, train


@dataclass(frozen=True)
class StalePoolSubsample(mc.AccumulateSubsample):
    """Bug: the training set drawn from the pool before this generation's batch joins it."""

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        train = state.subsample(n_samples, rng)
        return train, concat([state, self._new_samples(draw_model, draw_truth, n_samples)])


@dataclass(frozen=True)
class FreshCarryMix(mc.Mix):
    """Bug: the "carried-over" share drawn fresh from the truth instead of the last set."""

    def split(self, n_samples):
        n_real, n_synthetic, n_carry = super().split(n_samples)
        return n_real + n_carry, n_synthetic, 0


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


def gaussian_policy_moments(mix: mc.Mix | None = None,
                            subsample: mc.AccumulateSubsample | None = None) -> list[Check]:
    """E var_t from the exact moment recursion under mix with carry-over and accumulate-subsample.

    N = 10; mix with real 0.2, synthetic 0.3 (so 5 samples are carried over), t = 2, 20;
    accumulate-subsample, t = 2, 10.
    """
    mix = mix or mc.Mix(real=0.2, synthetic=0.3)
    subsample = subsample or mc.AccumulateSubsample()
    checks = []
    for policy, times in ((mix, (2, 20)), (subsample, (2, 10))):
        var = simulate(mc.Gaussian(), policy, n_samples=10, n_generations=max(times),
                       n_replicates=20_000).trajectories("var")
        exact = theory.variance_moments(1.0, 10, max(times), theory.pieces(policy, 10))[0]
        checks += [mean_check(f"gaussian {policy.name} E var_{t}", var[:, t], float(exact[t]))
                   for t in times]
    return checks


def gaussian_w2_kl(family: mc.Gaussian | None = None) -> list[Check]:
    """E W2²_t and E KL_t under replace (N = 10, MLE; t = 1, 4)."""
    family = family or mc.Gaussian()
    result = simulate(family, n_samples=10, n_generations=4, n_replicates=40_000)
    w2, kl = result.trajectories("w2"), result.trajectories("kl")
    checks = []
    for t in (1, 4):
        checks.append(mean_check(f"gaussian E W2²_{t}", w2[:, t] ** 2,
                                 float(theory.gaussian_expected_w2_squared(1.0, 10, t))))
        checks.append(mean_check(f"gaussian E KL_{t}", kl[:, t],
                                 float(theory.gaussian_expected_kl(1.0, 10, t))))
    return checks


def coin_mix_chain(policy: mc.Mix | None = None) -> list[Check]:
    """The head-count chain under mix (k = 10, p0 = 0.3, real 0.2, synthetic 0.5, carry 3).

    P(p̂ touched 0 or 1 by t = 5, 20) from the chain with absorbing edges, and Var p_30 from its
    law (checked as E p_30² with the exact second moment).
    """
    policy = policy or mc.Mix(real=0.2, synthetic=0.5)
    exact_policy = mc.Mix(real=0.2, synthetic=0.5)
    result = simulate(mc.Coin(p0=0.3), policy, n_samples=10, n_generations=30,
                      n_replicates=20_000)
    parts = theory.pieces(exact_policy, 10)
    cdf = theory.coin_hitting_cdf(0.3, 10, 30, parts)
    times = result.replicates["absorption_time"].to_numpy(dtype=float)
    checks = [proportion_check(f"coin mix P(touched 0 or 1 by {t})", np.nan_to_num(times, nan=1e9)
                               <= t, float(cdf[t])) for t in (5, 20)]
    law = theory.coin_mix_law(0.3, 10, 30, parts)[-1]
    p = result.trajectories("p")[:, 30]
    checks.append(mean_check("coin mix E p_30²", p**2, float(law @ (np.arange(11) / 10) ** 2)))
    return checks


def categorical_support_over_time(family: mc.Categorical | None = None) -> list[Check]:
    """E support_t from per-token chains under replace (V = 50, Zipf 1.1, N = 100; t = 5, 40)."""
    family = family or mc.Categorical(vocab=50, zipf=1.1)
    support = simulate(family, n_samples=100, n_generations=40,
                       n_replicates=10_000).trajectories("support")
    truth = mc.Categorical(vocab=50, zipf=1.1).truth()
    exact = theory.categorical_expected_support(truth, 100, 40, theory.pieces(mc.Replace(), 100))
    return [mean_check(f"categorical E support_{t}", support[:, t], float(exact[t]))
            for t in (5, 40)]


def categorical_gini_simpson(policy: mc.Policy | None = None) -> list[Check]:
    """E Gini–Simpson_t by the exact moment recursion under mix with carry (V = 20, N = 20).

    Checked at t = 3 and t = 30 for ``mix`` with real 0.25, synthetic 0.25 (10 carried over).
    """
    policy = policy or mc.Mix(real=0.25, synthetic=0.25)
    family = mc.Categorical(vocab=20, zipf=1.0)
    values = simulate(family, policy, n_samples=20, n_generations=30,
                      n_replicates=20_000).trajectories("gini_simpson")
    square = theory.proportion_moments(family.truth(), 20, 30,
                                       theory.pieces(mc.Mix(real=0.25, synthetic=0.25), 20))[1]
    return [mean_check(f"categorical mix E Gini–Simpson_{t}", values[:, t],
                       float(1 - square[t].sum())) for t in (3, 30)]


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
    "gaussian_policy_moments": (4, lambda: gaussian_policy_moments(
        CarryWithReplacementMix(real=0.2, synthetic=0.3), StalePoolSubsample())),
    "gaussian_w2_kl": (4, lambda: gaussian_w2_kl(mc.Gaussian(estimator="unbiased"))),
    "coin_mix_chain": (3, lambda: coin_mix_chain(SwappedMix(real=0.2, synthetic=0.5))),
    "categorical_support_over_time": (2, lambda: categorical_support_over_time(
        SingletonDroppingCategorical(vocab=50, zipf=1.1))),
    "categorical_gini_simpson": (2, lambda: categorical_gini_simpson(
        FreshCarryMix(real=0.25, synthetic=0.25))),
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
