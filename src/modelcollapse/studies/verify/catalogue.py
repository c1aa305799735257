"""The verification cases: seeded simulations whose answers are known exactly.

Coin (``replace``, ``mix``, ``accumulate``), Gaussian (both estimators under ``replace``; ``mix``
with and without carry-over; ``accumulate``; ``accumulate-subsample``), categorical (support,
Gini–Simpson, the last survivor) and the GMM (the mixture-variance identity under ``replace`` and
``mix``). Each is registered with :func:`~modelcollapse.studies.verify.cases.register` and compares
the simulation with :mod:`modelcollapse.theory`; for policies, the group sizes are written out
from DESIGN §2 by hand (not taken from the policy objects), so a bug in a policy cannot move the
theory with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from ... import theory
from ...checks import mean_check, proportion_check
from ...families import GMM, Categorical, Coin, Gaussian
from ...policies import Accumulate, AccumulateSubsample, Mix, Policy
from .cases import (
    PLOT_GENERATIONS,
    QQ,
    Outcome,
    Series,
    absorption_times,
    discrete_qq,
    fraction_band,
    mean_band,
    mixture_variance,
    register,
    simulate_case,
)

if TYPE_CHECKING:

    pass


COIN_P0 = 0.3

COIN_K = 10


@register("coin-replace", "coin", "coin, replace: martingale, heterozygosity decay, fixation and "
       "the exact absorption-time law", full=200_000, quick=20_000)
def coin_replace(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``: moments, ``P(fixed at 1) = p0`` and the absorption-time law.

    250 generations absorb every rollout but a fraction ``≈ 0.9^250 ≈ 4e-12`` (the chain's
    slowest transient eigenvalue is ``1 − 1/k``). A second run with ``p0 = ½`` checks the classic
    mean absorption time, 12.59 generations.
    """
    p0, k, horizon = COIN_P0, COIN_K, 250
    result = simulate_case(Coin(p0=p0), "replace", n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p = result.trajectories("p")
    times = absorption_times(result)
    law = theory.coin_absorption_time(p0, k, horizon=horizon)
    checks = [mean_check(f"E p_{t} = p0", p[:, t], p0) for t in (1, 5, 20)]
    checks += [mean_check(f"E p_{t}(1 − p_{t})", p[:, t] * (1 - p[:, t]),
                          float(theory.coin_heterozygosity(p0, k, t))) for t in (1, 3, 10)]
    checks.append(proportion_check("P(fixed at 1) = p0", p[:, -1] == 1.0,
                                   theory.coin_fixation_probability(p0)))
    checks.append(mean_check("E absorption time", times, law.mean, variance=law.var))
    checks += [proportion_check(f"P(absorbed by t = {t})", times <= t, float(law.cdf[t]))
               for t in (5, 10, 20)]
    classic = simulate_case(Coin(p0=0.5), "replace", n_samples=k, n_generations=horizon,
                        n_replicates=n_replicates, seed=seed)
    classic_law = theory.coin_absorption_time(0.5, k, horizon=horizon)
    checks.append(mean_check("E absorption time, p0 = ½ (12.59)", absorption_times(classic),
                             classic_law.mean, variance=classic_law.var))

    ts = np.arange(PLOT_GENERATIONS + 1)
    mean, se = mean_band(p * (1 - p))
    absorbed, absorbed_se = fraction_band(times[:, None] <= ts[None, :])
    series = [
        Series("coin replace: heterozygosity", "E[p_t (1 − p_t)]", mean, se,
               theory.coin_heterozygosity(p0, k, ts)),
        Series("coin replace: absorbed by t", "P(T ≤ t)", absorbed, absorbed_se,
               law.cdf[:PLOT_GENERATIONS + 1], limit=1.0),
    ]
    t_qq = 5
    pmf = theory.coin_law(p0, k, t_qq)[t_qq - 1]
    t_values = np.arange(horizon + 1, dtype=float)
    qq = [
        discrete_qq(f"coin replace: absorption time T (p0 = {p0:g}, k = {k})",
                    "absorption time T", times, t_values, np.diff(law.cdf, prepend=0.0)),
        discrete_qq(f"coin replace: p_{t_qq} against the exact chain", f"p_{t_qq}", p[:, t_qq],
                    np.arange(k + 1) / k, pmf),
    ]
    return Outcome(checks, series, qq)


@register("coin-mix", "coin", "coin, mix (real 0.2, synthetic 0.5, carry-over 0.3): exact law, "
       "mean, variance and first touch of 0 or 1", full=200_000, quick=20_000)
def coin_mix(n_replicates: int, seed: int) -> Outcome:
    """``k = 20``: 4 fresh tosses, 10 of the model and 6 carried over a generation.

    Moments from the recursion (:func:`~modelcollapse.theory.proportion_moments`), the law of
    ``p_t`` and the first time it touches 0 or 1 from the exact ``(k + 1)``-state chain.
    """
    p0, k, horizon = COIN_P0, 20, 30
    policy, parts = Mix(real=0.2, synthetic=0.5), theory.Pieces("mix", 4, 10, 6)
    result = simulate_case(Coin(p0=p0), policy, n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p, times = result.trajectories("p"), absorption_times(result)
    mean, square = theory.proportion_moments(np.array([p0]), k, horizon, parts)
    mean, var = mean[:, 0], square[:, 0] - mean[:, 0] ** 2
    checks = [mean_check(f"E p_{horizon}", p[:, horizon], float(mean[horizon]))]
    # (p_t − E p_t)² has expectation Var p_t: a mean check of i.i.d. values like any other.
    checks += [mean_check(f"Var p_{t}", (p[:, t] - mean[t]) ** 2, float(var[t]))
               for t in (2, 5, horizon)]
    pmf = theory.coin_mix_law(p0, k, horizon, parts)[horizon - 1]
    checks.append(proportion_check(f"P(p_{horizon} ≤ 0.25)", p[:, horizon] <= 0.25,
                                   float(pmf[:k // 4 + 1].sum())))
    hit = theory.coin_hitting_cdf(p0, k, horizon, parts)
    checks.append(proportion_check(f"P(p_t ∈ {{0, 1}} for some t ≤ {horizon})", times <= horizon,
                                   float(hit[horizon])))
    sim, se = mean_band((p - mean) ** 2)
    series = [Series("coin mix: variance of p_t", "Var p_t", sim, se, var[:sim.size])]
    qq = [discrete_qq(f"coin mix: p_{horizon} against the exact chain", f"p_{horizon}",
                      p[:, horizon], np.arange(k + 1) / k, pmf)]
    return Outcome(checks, series, qq)


@register("coin-accumulate", "coin", "coin, accumulate: martingale, exact variance, absorption "
       "only in generation 1", full=200_000, quick=20_000)
def coin_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``: the pool keeps every toss, so only an all-equal first set absorbs.

    Once a head (and a tail) is in the pool it stays, so the absorbed fraction is exactly
    ``p0^k + (1 − p0)^k`` (≈ 0.028) at every generation: accumulated data stop the collapse.
    """
    p0, k, horizon = COIN_P0, COIN_K, 50
    result = simulate_case(Coin(p0=p0), Accumulate(), n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p = result.trajectories("p")
    mean, square = theory.proportion_moments(np.array([p0]), k, horizon,
                                             theory.Pieces("accumulate", 0, k))
    var = square[:, 0] - mean[:, 0] ** 2
    absorbed = np.isfinite(absorption_times(result))
    checks = [mean_check(f"E p_{t} = p0", p[:, t], p0) for t in (10, horizon)]
    checks.append(mean_check(f"Var p_{horizon}", (p[:, horizon] - p0) ** 2, float(var[horizon])))
    checks.append(proportion_check(f"P(absorbed by t = {horizon}) = p0^k + (1 − p0)^k",
                                   absorbed, theory.coin_accumulate_hitting_probability(p0, k)))
    sim, se = mean_band((p - p0) ** 2)
    series = [Series("coin accumulate: variance of p_t", "Var p_t", sim, se, var[:sim.size])]
    return Outcome(checks, series)


GAUSS_MEAN, GAUSS_STD = 1.0, 2.0  # var_0 = 4: a variance/std mix-up cannot hide behind 1 = 1²

GAUSS_VAR = GAUSS_STD**2


def _gaussian_replace(estimator: str, n_replicates: int, seed: int) -> Outcome:
    """``N = 20`` under ``replace``: variance, log variance, drift of the mean, W2² and KL.

    ``E var_t`` and ``E kl_t`` are checked only early: ``var_t`` is a product of independent
    scaled chi-squares, ever more skewed, and the means of ``var_t`` and ``1/var_t`` at large
    ``t`` rest on rare paths (DESIGN §6); ``log var_t`` is a sum and stays well behaved, and
    ``W2²`` grows with ``σ_t`` only through ``(σ_t − σ₀)²``.
    """
    n, horizon = 20, 30
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD, estimator=estimator)
    result = simulate_case(family, "replace", n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    w2, kl = result.trajectories("w2"), result.trajectories("kl")
    ts = np.arange(PLOT_GENERATIONS + 1)[:horizon + 1]
    checks = [mean_check(f"E var_{t}", var[:, t],
                         float(theory.gaussian_expected_var(GAUSS_VAR, n, t, estimator)))
              for t in (1, 5, 10)]
    checks.append(mean_check(
        f"E log var_{horizon}", np.log(var[:, horizon]),
        float(theory.gaussian_expected_log_var(GAUSS_VAR, n, horizon, estimator)),
        variance=float(theory.gaussian_var_log_var(n, horizon))))
    checks.append(mean_check(
        f"Var mean_{horizon}", (mean[:, horizon] - GAUSS_MEAN) ** 2,
        float(theory.gaussian_var_mean(GAUSS_VAR, n, horizon, estimator))))
    checks += [mean_check(f"E w2²_{t}", w2[:, t] ** 2,
                          float(theory.gaussian_expected_w2_squared(GAUSS_VAR, n, t, estimator)))
               for t in (5, horizon)]
    checks += [mean_check(f"E kl_{t}", kl[:, t],
                          float(theory.gaussian_expected_kl(GAUSS_VAR, n, t, estimator)))
               for t in (1, 5)]
    v_mean, v_se = mean_band(var)
    log_mean, log_se = mean_band(np.log(var))
    m_mean, m_se = mean_band((mean - GAUSS_MEAN) ** 2)
    label = f"gaussian replace, {estimator}"
    series = [
        Series(f"{label}: variance", "E var_t", v_mean, v_se,
               theory.gaussian_expected_var(GAUSS_VAR, n, ts, estimator),
               note="late means rest on rare paths"),
        Series(f"{label}: log variance", "E log var_t", log_mean, log_se,
               theory.gaussian_expected_log_var(GAUSS_VAR, n, ts, estimator)),
        Series(f"{label}: drift of the mean", "Var mean_t", m_mean, m_se,
               theory.gaussian_var_mean(GAUSS_VAR, n, ts, estimator)),
        Series(f"{label}: squared W2 distance to the truth", "E w2_t²", *mean_band(w2**2),
               theory.gaussian_expected_w2_squared(GAUSS_VAR, n, ts, estimator)),
    ]
    divisor = n if estimator == "mle" else n - 1
    qq = [QQ(f"{label}: var_1 against var_0 χ²({n - 1}) / {divisor}", "var_1", var[:, 1],
             lambda q: GAUSS_VAR * stats.chi2.ppf(q, n - 1) / divisor)]
    return Outcome(checks, series, qq)


@register("gaussian-replace-mle", "gaussian", "gaussian, replace, MLE: E var_t = var_0 r^t, "
       "E log var_t, Var mean_t, E w2², E kl, law of var_1", full=200_000, quick=20_000)
def gaussian_replace_mle(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_replace`."""
    return _gaussian_replace("mle", n_replicates, seed)


@register("gaussian-replace-unbiased", "gaussian", "gaussian, replace, unbiased: E var_t = var_0, "
       "E log var_t → −∞, Var mean_t = var_0 t/N, E w2², E kl", full=200_000, quick=20_000)
def gaussian_replace_unbiased(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_replace`."""
    return _gaussian_replace("unbiased", n_replicates, seed)


def _gaussian_policy(policy: Policy, parts: theory.Pieces, *, n: int, horizon: int,
                     var_times: Sequence[int], offset_times: Sequence[int],
                     n_replicates: int, seed: int, title: str, family: Any = None,
                     var0: float = GAUSS_VAR, mean0: float = GAUSS_MEAN,
                     limit: tuple[str, float] | None = None) -> Outcome:
    """``E var_t`` and ``E (mean_t − μ₀)²`` under ``policy`` from the exact moment recursion.

    Parameters
    ----------
    policy, parts
        The policy simulated and how it builds a training set, written out by hand from
        DESIGN §2 (not :func:`~modelcollapse.theory.pieces` of the policy), so that a wrong split
        in the policy cannot hide behind the same split in the theory.
    var_times, offset_times
        Generations at which ``E var_t`` and ``E (mean_t − μ₀)²`` are checked. The offset at
        generation 2 is where drawing carried-over data without replacement matters most.
    family
        The fitted family (default the Gaussian with ``var_0 = 4``); anything whose fit matches
        the sample's mean and variance (a GMM fitted by EM) obeys the same recursion.
    limit
        ``(name, value)`` of a closed-form long-run ``E var``, checked at ``horizon`` and drawn as
        a dashed line.
    """
    family = family or Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD)
    result = simulate_case(family, policy, n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    exact_var, exact_offset = theory.variance_moments(var0, n, horizon, parts)
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact_var[t])) for t in var_times]
    if limit is not None:
        checks.append(mean_check(f"E var_{horizon} = {limit[0]}", var[:, horizon], limit[1]))
    checks += [mean_check(f"E (mean_{t} − μ₀)²", (mean[:, t] - mean0) ** 2,
                          float(exact_offset[t])) for t in offset_times]
    sim, se = mean_band(var)
    series = [Series(title, "E var_t", sim, se, exact_var[:sim.size],
                     limit=None if limit is None else limit[1])]
    return Outcome(checks, series)


@register("gaussian-mix", "gaussian", "gaussian, mix (real 0.3, synthetic 0.7), MLE: the "
       "stationary variance in closed form", full=200_000, quick=20_000)
def gaussian_mix(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: by generation 40, ``E var_t`` is the stationary value to within 1e-14.

    The closed form ``a(N(2 − a) − 1)/(aN(2 − a) + 1 − a) var_0`` is checked at generation 40,
    the exact recursion (:func:`~modelcollapse.theory.variance_moments`) on the way there.
    """
    real, n = 0.3, 20
    stationary = theory.gaussian_mix_stationary_var(GAUSS_VAR, n, real)
    return _gaussian_policy(Mix(real=real, synthetic=1 - real), theory.Pieces("mix", 6, 14),
                            n=n, horizon=40, var_times=(1, 5), offset_times=(40,),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian mix (real 0.3): variance → stationary",
                            limit=("stationary", stationary))


@register("gaussian-mix-carry", "gaussian", "gaussian, mix with carry-over (real 0.3, synthetic "
       "0.4, carried 0.3): exact moment recursion", full=200_000, quick=20_000)
def gaussian_mix_carry(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: 6 fresh, 8 model and 6 carried-over samples (without replacement) a set."""
    return _gaussian_policy(Mix(real=0.3, synthetic=0.4), theory.Pieces("mix", 6, 8, 6), n=20,
                            horizon=40, var_times=(5, 40), offset_times=(2, 40),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian mix with carry-over: variance")


@register("gaussian-accumulate", "gaussian", "gaussian, accumulate, MLE: E var_t = var_0 "
       "Π(1 − 1/(N i²))", full=200_000, quick=20_000)
def gaussian_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``N = 10``: the product formula at ``t = 1, 3, 30``, and its limit ``sin(x)/x`` drawn."""
    n, horizon, times = 10, 30, (1, 3, 30)
    var = simulate_case(Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD), Accumulate(), n_samples=n,
                    n_generations=horizon, n_replicates=n_replicates,
                    seed=seed).trajectories("var")
    exact = theory.gaussian_accumulate_expected_var(GAUSS_VAR, n, np.arange(horizon + 1))
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact[t])) for t in times]
    sim, se = mean_band(var)
    series = [Series("gaussian accumulate: variance", "E var_t", sim, se, exact[:sim.size],
                     limit=theory.gaussian_accumulate_limit_var(GAUSS_VAR, n))]
    return Outcome(checks, series)


@register("gaussian-accumulate-subsample", "gaussian", "gaussian, accumulate-subsample, MLE: "
       "exact moment recursion", full=200_000, quick=20_000)
def gaussian_accumulate_subsample(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: each set is 20 drawn without replacement from the growing pool."""
    return _gaussian_policy(AccumulateSubsample(), theory.Pieces("accumulate-subsample", 0, 20),
                            n=20, horizon=20, var_times=(5, 20), offset_times=(2, 20),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian accumulate-subsample: variance")


@register("categorical-replace", "categorical", "categorical, replace: E support_t and the "
       "Gini–Simpson decay (1 − 1/N)^t", full=100_000, quick=5_000)
def categorical_replace(n_replicates: int, seed: int) -> Outcome:
    """``V = 100`` tokens, Zipf 1.1, ``N = 200``."""
    family, n, horizon = Categorical(vocab=100, zipf=1.1), 200, 20
    result = simulate_case(family, "replace", n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    q = family.truth()
    support, gini = result.trajectories("support"), result.trajectories("gini_simpson")
    exact = theory.categorical_expected_gini_simpson(q, n, np.arange(horizon + 1))
    exact_support = theory.categorical_expected_support(q, n, horizon,
                                                        theory.Pieces("mix", 0, n))
    checks = [mean_check("E support_1", support[:, 1],
                         theory.categorical_expected_support_one(q, n))]
    checks += [mean_check(f"E support_{t}", support[:, t], float(exact_support[t]))
               for t in (5, 20)]
    checks += [mean_check(f"E gini_simpson_{t}", gini[:, t], float(exact[t]))
               for t in (1, 5, 20)]
    sim, se = mean_band(gini)
    series = [Series("categorical replace: Gini–Simpson diversity", "E[1 − Σ q_t²]", sim, se,
                     exact[:sim.size]),
              Series("categorical replace: support", "E support_t", *mean_band(support),
                     exact_support)]
    return Outcome(checks, series)


#: Generations after which the last-survivor loop gives up (never reached in practice).
SURVIVOR_HORIZON = 5000


@register("categorical-last-survivor", "categorical", "categorical, replace: token v is the last "
       "survivor with probability q_v", full=200_000, quick=20_000)
def categorical_last_survivor(n_replicates: int, seed: int) -> Outcome:
    """``q = (0.4, 0.3, 0.2, 0.1)``, ``N = 10``, refitted until one token is left.

    The surviving token is not a recorded metric, so this case runs the family's own ``sample``
    and ``fit`` in a loop over generations, vectorised over replicates; replicates with one token
    left are absorbed and drop out of the loop.
    """
    q = (0.4, 0.3, 0.2, 0.1)
    family, n = Categorical(probs=q), 10
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    params = np.tile(family.truth(), (n_replicates, 1))
    for _ in range(SURVIVOR_HORIZON):
        alive = np.flatnonzero((params > 0).sum(axis=1) > 1)
        if alive.size == 0:
            break
        data = family.sample(params[alive], n, rng, stats=True)
        params[alive], _info = family.fit(data, rng=rng, previous=params[alive])
    sole = (params == 1.0)  # a row with a single token left is a unit vector
    exact = theory.last_survivor_probability(np.asarray(q))
    checks = [proportion_check(f"P(token {v + 1} survives) = {exact[v]:g}", sole[:, v],
                               float(exact[v])) for v in range(len(q))]
    return Outcome(checks)


@register("gmm-replace", "gmm", "gmm (EM), replace: E var_t = var_0 ((N − 1)/N)^t by the "
       "mixture-variance identity", full=100_000, quick=4096)
def gmm_replace(n_replicates: int, seed: int) -> Outcome:
    """Default GMM (means ∓2, stds 1, var_0 = 5), ``N = 20``, three generations."""
    family, n, horizon = GMM(), 20, 3
    var0 = mixture_variance(family)
    var = simulate_case(family, "replace", n_samples=n, n_generations=horizon,
                    n_replicates=n_replicates, seed=seed).trajectories("var")
    exact = theory.gaussian_expected_var(var0, n, np.arange(horizon + 1))
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact[t])) for t in (1, horizon)]
    sim, se = mean_band(var)
    series = [Series("gmm replace: mixture variance", "E var_t", sim, se, exact)]
    return Outcome(checks, series)


@register("gmm-mix", "gmm", "gmm (EM), mix (real 0.5): the Gaussian moment recursion holds for EM",
       full=40_000, quick=None)
def gmm_mix(n_replicates: int, seed: int) -> Outcome:
    """Default GMM, ``N = 20``, half fresh data: ``E var_t``, ``E mean_t²`` from the recursion."""
    family = GMM()
    var0 = mixture_variance(family)
    mean0 = float(np.dot(family.weights, family.means) / np.sum(family.weights))
    return _gaussian_policy(Mix(real=0.5), theory.Pieces("mix", 10, 10), n=20, horizon=10,
                            var_times=(2, 10), offset_times=(10,), n_replicates=n_replicates,
                            seed=seed, family=family, var0=var0,
                            mean0=mean0, title="gmm mix (real 0.5): mixture variance")
