"""Verification cases for the loop settings of the literature: sampling bias, ``augment``, weights.

* **Sampling temperature** ``τ`` of the coin: under ``replace`` and ``mix`` the head count is
  still a finite chain, with the model tossing ``p^(1/τ) / (p^(1/τ) + (1 − p)^(1/τ))``
  (:func:`~modelcollapse.theory.coin.coin_mix_law`): ``E p_t`` (no longer ``p0``), the law of
  ``p_t``, the absorption-time law and the fixation probability
  (:func:`~modelcollapse.theory.coin.coin_fixation_probability_chain`).
* **Sampling scale** ``λ`` of the Gaussian: model ``t − 1`` is sampled with variance
  ``λ² var_{t−1}``; ``E var_t`` and ``E (mean_t − μ₀)²`` from the moment recursion
  (:func:`~modelcollapse.theory.variance_moments` with ``scale``), and under ``replace`` also
  the closed form ``E var_t = var_0 r^t λ^(2(t−1))``.
* **augment** (the real set of training set 1 kept for ever, plus ``⌊λN⌋`` model samples):
  the Gaussian's moments, and the relaxation of the fitted mean to the *real set's* mean,
  ``E (mean_t − m̄_real)² = E (mean_t − μ₀)² − var_0/N``.
* **Weighted fits** (``real_weight`` ``w``: the real samples together weigh ``w``): the
  known-variance Gaussian mean and its stationary variance (smallest at ``w = 1/φ`` for equal
  parts), the coin's and the categorical's moments
  (:func:`~modelcollapse.theory.proportion_moments` with ``real_weight``), and weighted EM for
  the GMM through the weighted mixture-variance identity.

As in :mod:`.catalogue`, the group sizes of every policy are written out by hand from DESIGN §2
(and the ``augment`` rule of :mod:`modelcollapse.policies`), never taken from the policy objects,
so that a wrong split in a policy cannot move the theory with it.
"""

from __future__ import annotations

import math

import numpy as np

from ... import theory
from ...checks import Check, mean_check, proportion_check
from ...families import GMM, Categorical, Coin, Gaussian
from ...policies import Augment, Mix, Policy
from .cases import (
    PLOT_GENERATIONS,
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

COIN_P0, COIN_K = 0.3, 10

#: ``var_0 = 4`` (as in :mod:`.catalogue`): a variance passed as a deviation cannot hide.
GAUSS_MEAN, GAUSS_STD = 1.0, 2.0
GAUSS_VAR = GAUSS_STD**2

#: ``1/φ = (√5 − 1)/2``, the real weight that minimises the stationary variance of the
#: known-variance mean when the real and synthetic parts are equal (He, Xu and Cheng).
INVERSE_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _chain_mean(law: np.ndarray, k: int, p0: float) -> np.ndarray:
    """``E p_t`` for ``t = 0..G`` from the law of the head count (rows ``t = 1..G``)."""
    return np.concatenate([[p0], law @ (np.arange(k + 1) / k)])


# -- coin at a sampling temperature -----------------------------------------------------------


def _coin_tempered_replace(temperature: float, horizon: int, n_replicates: int,
                           seed: int) -> Outcome:
    """``p0 = 0.3, k = 10`` under ``replace``, the model tossed at temperature ``τ``.

    The horizon leaves fewer than 5e-6 of the rollouts unabsorbed (at ``τ = 1.25``, which
    pushes towards ½, the slowest transient eigenvalue is about 0.96), a bias in the fixation
    check below 0.01 of its standard error in the full set; the absorption time is checked
    through ``E min(T, G) = Σ_{t<G} P(T > t)``, exact whatever is left unabsorbed.
    """
    p0, k = COIN_P0, COIN_K
    result = simulate_case(Coin(p0=p0, temperature=temperature), "replace", n_samples=k,
                           n_generations=horizon, n_replicates=n_replicates, seed=seed)
    p, times = result.trajectories("p"), absorption_times(result)
    parts = theory.Pieces("mix", 0, k)
    law = theory.coin_mix_law(p0, k, horizon, parts, temperature=temperature)
    mean = _chain_mean(law, k, p0)
    absorption = theory.coin_absorption_time(p0, k, horizon=horizon, temperature=temperature)
    fixation = theory.coin_fixation_probability_chain(p0, k, temperature)
    checks = [mean_check(f"E p_{t}", p[:, t], float(mean[t])) for t in (2, 5, 20)]
    checks += [proportion_check(f"P(absorbed by t = {t})", times <= t, float(absorption.cdf[t]))
               for t in (3, 10, 30)]
    checks.append(proportion_check("P(fixed at 1), absorbing chain", p[:, -1] == 1.0, fixation))
    truncated = np.where(np.isnan(times), horizon, np.minimum(times, horizon))
    checks.append(mean_check(f"E min(T, {horizon})", truncated,
                             float(np.sum(1.0 - absorption.cdf[:horizon]))))
    label = f"coin replace, τ = {temperature:g}"
    ts = np.arange(PLOT_GENERATIONS + 1)
    absorbed, absorbed_se = fraction_band(times[:, None] <= ts[None, :])
    series = [
        Series(f"{label}: mean of p_t", "E p_t", *mean_band(p), mean[:PLOT_GENERATIONS + 1],
               limit=fixation, note="→ P(fixed at 1)"),
        Series(f"{label}: absorbed by t", "P(T ≤ t)", absorbed, absorbed_se,
               absorption.cdf[:PLOT_GENERATIONS + 1], limit=1.0),
    ]
    qq = [discrete_qq(f"{label}: absorption time T", "absorption time T", truncated,
                      np.arange(horizon + 1, dtype=float), np.diff(absorption.cdf, prepend=0.0))]
    return Outcome(checks, series, qq)


@register("coin-temperature-replace-0.8", "coin", "coin, replace, sampled at τ = 0.8: E p_t, "
          "absorption-time law and fixation probability from the tempered chain",
          full=200_000, quick=20_000)
def coin_temperature_replace_cold(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_coin_tempered_replace`; ``τ < 1`` pushes ``p`` to the nearer edge (0)."""
    return _coin_tempered_replace(0.8, 100, n_replicates, seed)


@register("coin-temperature-replace-1.25", "coin", "coin, replace, sampled at τ = 1.25: E p_t, "
          "absorption-time law and fixation probability from the tempered chain",
          full=100_000, quick=10_000)
def coin_temperature_replace_hot(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_coin_tempered_replace`; ``τ > 1`` pushes ``p`` towards ½ (slower absorption)."""
    return _coin_tempered_replace(1.25, 300, n_replicates, seed)


@register("coin-temperature-mix", "coin", "coin, mix (real 0.2, synthetic 0.8), sampled at "
          "τ = 0.8: exact law of p_t from the tempered chain", full=200_000, quick=20_000)
def coin_temperature_mix(n_replicates: int, seed: int) -> Outcome:
    """``k = 20``: 4 fresh tosses of the truth and 16 of the tempered model a generation."""
    p0, k, horizon, temperature = COIN_P0, 20, 30, 0.8
    policy, parts = Mix(real=0.2, synthetic=0.8), theory.Pieces("mix", 4, 16)
    result = simulate_case(Coin(p0=p0, temperature=temperature), policy, n_samples=k,
                           n_generations=horizon, n_replicates=n_replicates, seed=seed)
    p, times = result.trajectories("p"), absorption_times(result)
    law = theory.coin_mix_law(p0, k, horizon, parts, temperature=temperature)
    mean = _chain_mean(law, k, p0)
    grid = np.arange(k + 1) / k
    var = np.concatenate([[0.0], law @ grid**2 - mean[1:] ** 2])  # p_0 = p0 exactly
    checks = [mean_check(f"E p_{t}", p[:, t], float(mean[t])) for t in (2, 5, horizon)]
    checks += [mean_check(f"Var p_{t}", (p[:, t] - mean[t]) ** 2, float(var[t]))
               for t in (2, 5, horizon)]
    checks.append(proportion_check(f"P(p_{horizon} ≤ 0.25)", p[:, horizon] <= 0.25,
                                   float(law[horizon - 1][:k // 4 + 1].sum())))
    hit = theory.coin_hitting_cdf(p0, k, horizon, parts, temperature=temperature)
    checks.append(proportion_check(f"P(p_t ∈ {{0, 1}} for some t ≤ {horizon})",
                                   times <= horizon, float(hit[horizon])))
    series = [Series("coin mix, τ = 0.8: mean of p_t", "E p_t", *mean_band(p), mean),
              Series("coin mix, τ = 0.8: variance of p_t", "Var p_t",
                     *mean_band((p - mean) ** 2), var)]
    qq = [discrete_qq(f"coin mix, τ = 0.8: p_{horizon} against the tempered chain",
                      f"p_{horizon}", p[:, horizon], grid, law[horizon - 1])]
    return Outcome(checks, series, qq)


# -- gaussian: sampling scale and augment -----------------------------------------------------


def _gaussian_moments(family: Gaussian, policy: Policy | str, parts: theory.Pieces, *, n: int,
                      horizon: int, var_times: tuple[int, ...], offset_times: tuple[int, ...],
                      scale: float, n_replicates: int, seed: int,
                      title: str) -> tuple[list[Check], list[Series], np.ndarray, np.ndarray,
                                           np.ndarray]:
    """``E var_t`` and ``E (mean_t − μ₀)²`` against :func:`~modelcollapse.theory.variance_moments`.

    Returns the checks, the variance series, and the simulated means and the exact offsets
    (for checks a case adds).
    """
    result = simulate_case(family, policy, n_samples=n, n_generations=horizon,
                           n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    exact_var, exact_offset = theory.variance_moments(GAUSS_VAR, n, horizon, parts, scale=scale)
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact_var[t])) for t in var_times]
    checks += [mean_check(f"E (mean_{t} − μ₀)²", (mean[:, t] - GAUSS_MEAN) ** 2,
                          float(exact_offset[t])) for t in offset_times]
    series = [Series(f"{title}: variance", "E var_t", *mean_band(var),
                     exact_var[:PLOT_GENERATIONS + 1])]
    return checks, series, var, mean, exact_offset


@register("gaussian-sampling-scale-mix", "gaussian", "gaussian, mix (real 0.2, synthetic 0.8), "
          "sampled with sd × 0.9: exact moment recursion", full=200_000, quick=20_000)
def gaussian_sampling_scale_mix(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: 4 fresh samples and 16 of ``N(mean_{t−1}, 0.81 var_{t−1})`` a set."""
    scale = 0.9
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD, sampling_scale=scale)
    checks, series, *_ = _gaussian_moments(
        family, Mix(real=0.2, synthetic=0.8), theory.Pieces("mix", 4, 16), n=20, horizon=40,
        var_times=(2, 5, 40), offset_times=(2, 40), scale=scale, n_replicates=n_replicates,
        seed=seed, title="gaussian mix, sd × 0.9")
    return Outcome(checks, series)


@register("gaussian-sampling-scale-replace", "gaussian", "gaussian, replace, sampled with "
          "sd × 1.1: E var_t = var_0 r^t λ^(2(t−1)) and the drift of the mean",
          full=200_000, quick=20_000)
def gaussian_sampling_scale_replace(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``, ``λ = 1.1``: each generation multiplies ``E var`` by ``λ² r ≈ 1.15``.

    ``var_t`` is ``var_0`` times a product of independent scaled chi-squares (ever more skewed),
    so its mean is checked up to ``t = 8`` only; the closed form is checked beside the
    recursion.
    """
    n, horizon, scale = 20, 10, 1.1
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD, sampling_scale=scale)
    checks, series, var, _, _ = _gaussian_moments(
        family, "replace", theory.Pieces("mix", 0, n), n=n, horizon=horizon,
        var_times=(1, 3), offset_times=(5, horizon), scale=scale, n_replicates=n_replicates,
        seed=seed, title="gaussian replace, sd × 1.1")
    r = (n - 1) / n
    t = 8
    checks.append(mean_check(f"E var_{t} = var_0 r^t λ^(2(t−1))", var[:, t],
                             GAUSS_VAR * r**t * scale ** (2 * (t - 1))))
    return Outcome(checks, series)


def _gaussian_augment(synthetic: float, n_synthetic: int, n_replicates: int,
                      seed: int) -> Outcome:
    """``N = 20`` real samples kept for ever, plus ``n_synthetic = ⌊λN⌋`` of the model a set.

    The fitted mean relaxes to the real set's mean ``m̄_real`` (each replicate's generation-1
    fit, which is fitted to the real set alone), not to ``μ₀``: ``E (mean_t − μ₀)²`` splits into
    ``E (mean_t − m̄_real)²`` plus ``Var m̄_real = var_0/N`` (the cross term vanishes).
    """
    n, horizon = 20, 30
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD)
    parts = theory.Pieces("augment", n, n_synthetic)
    title = f"gaussian augment, λ = {synthetic:g}"
    checks, series, _, mean, exact_offset = _gaussian_moments(
        family, Augment(synthetic=synthetic), parts, n=n, horizon=horizon,
        var_times=(2, 5, horizon), offset_times=(2, horizon), scale=1.0,
        n_replicates=n_replicates, seed=seed, title=title)
    relative = (mean - mean[:, [1]]) ** 2
    exact_relative = exact_offset - GAUSS_VAR / n
    exact_relative[0] = GAUSS_VAR / n  # generation 0 is the truth: E (μ₀ − m̄_real)² = var_0/N
    checks += [mean_check(f"E (mean_{t} − m̄_real)²", relative[:, t], float(exact_relative[t]))
               for t in (2, horizon)]
    series.append(Series(f"{title}: mean about the real set's", "E (mean_t − m̄_real)²",
                         *mean_band(relative), exact_relative[:PLOT_GENERATIONS + 1]))
    return Outcome(checks, series)


@register("gaussian-augment-0.5", "gaussian", "gaussian, augment (λ = 0.5): exact moments, and "
          "the mean relaxes to the real set's mean", full=200_000, quick=20_000)
def gaussian_augment_half(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_augment`: 20 real and 10 synthetic samples a set."""
    return _gaussian_augment(0.5, 10, n_replicates, seed)


@register("gaussian-augment-2", "gaussian", "gaussian, augment (λ = 2): exact moments, and the "
          "mean relaxes to the real set's mean", full=200_000, quick=20_000)
def gaussian_augment_double(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_augment`: 20 real and 40 synthetic samples a set."""
    return _gaussian_augment(2.0, 40, n_replicates, seed)


# -- weighted fits ----------------------------------------------------------------------------


def _weighted_mean(real_weight: float, n_replicates: int, seed: int, *,
                   shortcut: bool = True) -> Outcome:
    """Known variance, mean refitted with the real half weighing ``w``: ``N = 20``, mix real ½.

    ``D_t = E (mean_t − μ₀)²`` follows ``D' = w² var_0/m + (1 − w)² (D + var_0/s)`` with
    ``m = s = 10``; it settles geometrically at rate ``(1 − w)²``, so by generation 40 it is the
    stationary value to within 1e-12. ``shortcut=False`` keeps every sample, so the weighted fit
    runs on per-sample weights instead of the two parts' moments.
    """
    n, horizon, m, s = 20, 40, 10, 10
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD, refit="mean", real_weight=real_weight,
                      shortcut=shortcut)
    result = simulate_case(family, Mix(real=0.5, synthetic=0.5), n_samples=n,
                           n_generations=horizon, n_replicates=n_replicates, seed=seed)
    mean = result.trajectories("mean")
    _, exact = theory.variance_moments(GAUSS_VAR, n, horizon, theory.Pieces("mix", m, s),
                                       known_var=True, real_weight=real_weight)
    stationary = theory.weighted_mean_stationary_var(GAUSS_VAR, m, s, real_weight)
    offset = (mean - GAUSS_MEAN) ** 2
    checks = [mean_check(f"Var mean_{t}", offset[:, t], float(exact[t])) for t in (2, 5)]
    checks.append(mean_check(f"Var mean_{horizon} = stationary", offset[:, horizon], stationary))
    series = [Series(f"gaussian fit mean, real weight {real_weight:.3g}: drift",
                     "Var mean_t", *mean_band(offset), exact[:PLOT_GENERATIONS + 1],
                     limit=stationary)]
    return Outcome(checks, series)


@register("gaussian-weighted-mean-0.618", "gaussian", "gaussian, known variance, mix (real 0.5), "
          "real data weighted 1/φ: Var mean_t and its (least) stationary value",
          full=200_000, quick=20_000)
def gaussian_weighted_mean_golden(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_weighted_mean`; ``w = 1/φ`` minimises the stationary variance."""
    return _weighted_mean(INVERSE_GOLDEN, n_replicates, seed)


@register("gaussian-weighted-mean-0.3", "gaussian", "gaussian, known variance, mix (real 0.5), "
          "real data weighted 0.3, every sample kept: Var mean_t and its stationary value",
          full=50_000, quick=10_000)
def gaussian_weighted_mean_low(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_weighted_mean`; on samples with per-sample weights (no moments shortcut)."""
    return _weighted_mean(0.3, n_replicates, seed, shortcut=False)


def _coin_weighted(policy: Policy, parts: theory.Pieces, real_weight: float, label: str,
                   n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 20``: ``E p_t`` and ``Var p_t`` of the weighted fit from the recursion."""
    p0, k, horizon = COIN_P0, 20, 30
    result = simulate_case(Coin(p0=p0, real_weight=real_weight), policy, n_samples=k,
                           n_generations=horizon, n_replicates=n_replicates, seed=seed)
    p = result.trajectories("p")
    mean, square = theory.proportion_moments(np.array([p0]), k, horizon, parts,
                                             real_weight=real_weight)
    mean, var = mean[:, 0], square[:, 0] - mean[:, 0] ** 2
    checks = [mean_check(f"E p_{t}", p[:, t], float(mean[t])) for t in (2, horizon)]
    checks += [mean_check(f"Var p_{t}", (p[:, t] - mean[t]) ** 2, float(var[t]))
               for t in (2, 5, horizon)]
    series = [Series(f"coin {label}: variance of p_t", "Var p_t", *mean_band((p - mean) ** 2),
                     var[:PLOT_GENERATIONS + 1])]
    return Outcome(checks, series)


@register("coin-weighted-mix", "coin", "coin, mix (real 0.2, synthetic 0.8), real data weighted "
          "0.6: E p_t, Var p_t of the weighted fit", full=200_000, quick=20_000)
def coin_weighted_mix(n_replicates: int, seed: int) -> Outcome:
    """4 fresh tosses weighing 0.6 together, 16 of the model weighing 0.4 together."""
    return _coin_weighted(Mix(real=0.2, synthetic=0.8), theory.Pieces("mix", 4, 16), 0.6,
                          "mix, real weighted 0.6", n_replicates, seed)


@register("coin-weighted-augment", "coin", "coin, augment (λ = 1), real data weighted 0.3: "
          "E p_t, Var p_t of the weighted fit", full=200_000, quick=20_000)
def coin_weighted_augment(n_replicates: int, seed: int) -> Outcome:
    """The 20 real tosses of generation 1 weigh 0.3 together, 20 of the model 0.7."""
    return _coin_weighted(Augment(synthetic=1.0), theory.Pieces("augment", 20, 20), 0.3,
                          "augment, real weighted 0.3", n_replicates, seed)


def _categorical_weighted(policy: Policy, parts: theory.Pieces, real_weight: float, label: str,
                          n_replicates: int, seed: int) -> Outcome:
    """``V = 20`` tokens, Zipf 1.1, ``N = 100``: ``E`` Gini–Simpson of the weighted fit."""
    family, n, horizon = Categorical(vocab=20, zipf=1.1, real_weight=real_weight), 100, 20
    result = simulate_case(family, policy, n_samples=n, n_generations=horizon,
                           n_replicates=n_replicates, seed=seed)
    gini = result.trajectories("gini_simpson")
    square = theory.proportion_moments(family.truth(), n, horizon, parts,
                                       real_weight=real_weight)[1]
    exact = 1.0 - square.sum(axis=1)
    checks = [mean_check(f"E gini_simpson_{t}", gini[:, t], float(exact[t]))
              for t in (1, 3, horizon)]
    series = [Series(f"categorical {label}: Gini–Simpson diversity", "E[1 − Σ q_t²]",
                     *mean_band(gini), exact[:PLOT_GENERATIONS + 1])]
    return Outcome(checks, series)


@register("categorical-weighted-mix", "categorical", "categorical, mix (real 0.3, synthetic 0.7), "
          "real data weighted 0.6: E Gini–Simpson of the weighted fit", full=50_000, quick=5_000)
def categorical_weighted_mix(n_replicates: int, seed: int) -> Outcome:
    """30 fresh tokens weighing 0.6 together, 70 of the model weighing 0.4."""
    return _categorical_weighted(Mix(real=0.3, synthetic=0.7), theory.Pieces("mix", 30, 70),
                                 0.6, "mix, real weighted 0.6", n_replicates, seed)


@register("categorical-weighted-augment", "categorical", "categorical, augment (λ = 0.5), real "
          "data weighted 0.4: E Gini–Simpson of the weighted fit", full=50_000, quick=5_000)
def categorical_weighted_augment(n_replicates: int, seed: int) -> Outcome:
    """The 100 real tokens of generation 1 weigh 0.4 together, 50 of the model 0.6."""
    return _categorical_weighted(Augment(synthetic=0.5), theory.Pieces("augment", 100, 50), 0.4,
                                 "augment, real weighted 0.4", n_replicates, seed)


@register("gmm-weighted-mix", "gmm", "gmm (weighted EM), mix (real 0.3), real data weighted 0.5: "
          "E var_t by the weighted mixture-variance identity", full=10_000, quick=None)
def gmm_weighted_mix(n_replicates: int, seed: int) -> Outcome:
    """Default GMM (var_0 = 5), ``N = 100``: 30 fresh samples weighing ½, 70 of the model ½.

    Every weighted M-step sets the mixture's mean and variance to the weighted sample's, so the
    weighted Gaussian recursion (divisor MLE) gives ``E var_t`` and ``E (mean_t − μ₀)²``
    exactly, however far EM is from convergence. (The pooled fit, weight 0.3, would move
    ``E (mean_4 − μ₀)²`` from 0.079 to 0.091, some ten standard errors of the full set.)
    """
    family, n, horizon, real_weight = GMM(real_weight=0.5), 100, 4, 0.5
    var0 = mixture_variance(family)
    mean0 = float(np.dot(family.weights, family.means) / np.sum(family.weights))
    result = simulate_case(family, Mix(real=0.3, synthetic=0.7), n_samples=n,
                           n_generations=horizon, n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    exact_var, exact_offset = theory.variance_moments(var0, n, horizon,
                                                      theory.Pieces("mix", 30, 70),
                                                      real_weight=real_weight)
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact_var[t])) for t in (2, horizon)]
    checks += [mean_check(f"E (mean_{t} − μ₀)²", (mean[:, t] - mean0) ** 2,
                          float(exact_offset[t])) for t in (2, horizon)]
    series = [Series("gmm mix, real weighted 0.5: mixture variance", "E var_t",
                     *mean_band(var), exact_var)]
    return Outcome(checks, series)
