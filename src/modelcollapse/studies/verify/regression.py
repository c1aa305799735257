"""Verification cases of the ``regression`` family: the exact excess-risk laws.

``replace`` (fresh and fixed inputs, true and fitted label noise): ``E‖ŵ_t − w‖² = c t`` with
``c = σ² d / (N − d − 1)`` and ``E σ̂²_t = σ²``; ``accumulate`` with fixed inputs:
``E‖ŵ_t − w‖² = c Σ_{s ≤ t} 1/s²`` (Gerstgrasser et al., arXiv:2404.01413, §3). The fresh-input
``replace`` run uses the exact Wishart shortcut, the fixed-input runs the raw pairs. The exact
values are written out here from the closed forms, not taken from the predictor.
"""

from __future__ import annotations

import numpy as np

from ...checks import mean_check
from ...families.regression import Regression
from .cases import PLOT_GENERATIONS, Outcome, Series, mean_band, register, simulate_case

DIM, N, SIGMA = 4, 20, 1.0
#: ``σ² d / (N − d − 1)``.
C = SIGMA**2 * DIM / (N - DIM - 1)


@register("regression-replace", "regression", "regression, replace: excess risk grows by "
          "σ²d/(N−d−1) per generation (fresh and fixed inputs, true and fitted label noise)",
          full=20_000, quick=2_000)
def regression_replace(n_replicates: int, seed: int) -> Outcome:
    """``d = 4, N = 20``, 8 generations, under each inputs × label-noise setting."""
    g = 8
    checks = []
    series = []
    for inputs, label in (("fresh", "true"), ("fixed", "true"), ("fresh", "fitted")):
        result = simulate_case(Regression(dim=DIM, noise=SIGMA, inputs=inputs, label_noise=label),
                               "replace", n_samples=N, n_generations=g,
                               n_replicates=n_replicates, seed=seed)
        error = result.trajectories("param_error")
        noise = result.trajectories("noise")
        tag = f"{inputs} inputs, {label} label noise"
        checks += [mean_check(f"E ‖ŵ_{t} − w‖² = {t}c ({tag})", error[:, t], C * t)
                   for t in (1, 4, g)]
        checks += [mean_check(f"E σ̂²_{t} = σ² ({tag})", noise[:, t], SIGMA**2) for t in (1, g)]
        mean, se = mean_band(error, PLOT_GENERATIONS)
        series.append(Series(f"replace, {tag}", "E ‖ŵ_t − w‖²", mean, se,
                             C * np.arange(mean.size)))
    return Outcome(checks, series)


@register("regression-accumulate", "regression", "regression, accumulate (fixed inputs): "
          "excess risk c Σ 1/s², bounded by c π²/6", full=20_000, quick=2_000)
def regression_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``d = 4, N = 20``, 10 generations, the inputs of training set 1 relabelled each time."""
    g = 10
    result = simulate_case(Regression(dim=DIM, noise=SIGMA, inputs="fixed"), "accumulate",
                           n_samples=N, n_generations=g, n_replicates=n_replicates, seed=seed)
    error = result.trajectories("param_error")
    exact = C * np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, g + 1) ** 2)])
    checks = [mean_check(f"E ‖ŵ_{t} − w‖² = c Σ_(s≤{t}) 1/s²", error[:, t], float(exact[t]))
              for t in (2, 5, g)]
    mean, se = mean_band(error, PLOT_GENERATIONS)
    series = [Series("accumulate, fixed inputs", "E ‖ŵ_t − w‖²", mean, se, exact[:mean.size],
                     limit=C * np.pi**2 / 6, note="dashed: c π²/6")]
    return Outcome(checks, series)
