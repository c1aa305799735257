"""Verification cases of the ``kde`` family (:mod:`modelcollapse.theory.kde`).

``kde-replace``: 1-D, ``N = 10``, 10 generations. A Gaussian kernel with ``h = 0.5``: the
marginal second moment ``E spread_t = σ₀² + t h²`` and the fitted variance
``E var_t = a^t σ₀² + N h² (1 − a^t)`` (``a = (N−1)/N``), both written out here by hand; a tophat
kernel with ``h = 0.8`` (``κ = 1/3``); and Scott's rule with the data's spread, whose expected
variance grows geometrically, ``E var_t = σ₀² (1 + β²) a^t (1 + β²)^(t−1)``.

``kde-accumulate``: ``accumulate`` without fresh data, ``N = 10``: a fixed bandwidth in 1-D and
Scott's rule in 2-D sampled at scale ``λ = 1.3``, against the exact pool recursion of
:func:`~modelcollapse.theory.kde_expected_moments`.
"""

from __future__ import annotations

import numpy as np

from ... import theory
from ...checks import mean_check
from ...families import KDE
from ...policies import Accumulate
from .cases import Outcome, Series, mean_band, register, simulate_case

N, HORIZON = 10, 10


@register("kde-replace", "kde", "kde, replace: E var_t → N h², marginal variance σ₀² + t h² "
          "(Gaussian, tophat), geometric growth under Scott's rule", full=50_000, quick=1_000)
def kde_replace(n_replicates: int, seed: int) -> Outcome:
    """Three runs of ``N = 10`` for 10 generations; the exact values are closed forms."""
    ts = np.arange(HORIZON + 1)
    a = (N - 1) / N
    checks, series = [], []
    for kernel, h, kappa in (("gaussian", 0.5, 1.0), ("tophat", 0.8, 1.0 / 3.0)):
        result = simulate_case(KDE(kernel=kernel, bandwidth=h), "replace", n_samples=N,
                               n_generations=HORIZON, n_replicates=n_replicates, seed=seed)
        var, spread = result.trajectories("var"), result.trajectories("spread")
        exact_spread = 1.0 + ts * kappa * h * h
        exact_var = a**ts + N * kappa * h * h * (1 - a**ts)
        checks += [mean_check(f"{kernel}: E spread_{t} = 1 + t κ h²", spread[:, t],
                              float(exact_spread[t])) for t in (1, HORIZON)]
        checks += [mean_check(f"{kernel}: E var_{t}", var[:, t], float(exact_var[t]))
                   for t in (2, HORIZON)]
        series.append(Series(f"kde replace ({kernel}, h = {h:g}): marginal variance",
                             "E spread_t", *mean_band(spread), exact_spread))
    result = simulate_case(KDE(bandwidth="scott"), "replace", n_samples=N,
                           n_generations=HORIZON, n_replicates=n_replicates, seed=seed)
    var = result.trajectories("var")
    beta2 = N ** -0.4
    exact = np.concatenate([[1.0], (1 + beta2) * a**ts[1:] * (1 + beta2) ** (ts[1:] - 1)])
    checks += [mean_check(f"scott: E var_{t} (growth {a * (1 + beta2):.4f}/generation)",
                          var[:, t], float(exact[t])) for t in (1, 5, HORIZON)]
    series.append(Series("kde replace (Scott's rule): variance", "E var_t", *mean_band(var),
                         exact))
    return Outcome(checks, series)


@register("kde-accumulate", "kde", "kde, accumulate: the exact pool recursion (fixed h; "
          "Scott's rule in 2-D at sampling scale 1.3)", full=20_000, quick=400)
def kde_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``N = 10``, 10 generations (the pool grows to 100 points)."""
    checks, series = [], []
    for family in (KDE(bandwidth=0.5), KDE(bandwidth="scott", dim=2, sampling_scale=1.3)):
        result = simulate_case(family, Accumulate(), n_samples=N, n_generations=HORIZON,
                               n_replicates=n_replicates, seed=seed)
        d = family.dim
        exact = theory.kde_expected_moments(var0=1.0, n=N, generations=HORIZON,
                                            policy="accumulate", kappa=family.kappa,
                                            bandwidth=family.bandwidth, d=d,
                                            sampling_scale=family.sampling_scale)
        var, spread = result.trajectories("var"), result.trajectories("spread")
        label = f"d = {d}, bandwidth {family.bandwidth}"
        checks += [mean_check(f"{label}: E var_{t}", var[:, t], d * float(exact.var[t]))
                   for t in (2, HORIZON)]
        checks.append(mean_check(f"{label}: E spread_{HORIZON}", spread[:, HORIZON],
                                 d * float(exact.spread[HORIZON])))
        series.append(Series(f"kde accumulate ({label}): variance", "E var_t",
                             *mean_band(var), d * exact.var))
    return Outcome(checks, series)
