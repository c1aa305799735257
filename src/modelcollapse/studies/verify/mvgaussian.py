"""Verification cases of the ``mvgaussian`` family (:mod:`modelcollapse.theory.mvgaussian`).

``mvgaussian-replace``: a standard normal in 3 dimensions under ``replace``, ``N = 12``:
``E trace_t`` (``tr Σ₀ r^t``), ``E logdet_t`` with its exact variance (the Wishart law),
``E kl_t`` (the inverse-Wishart mean) and the exact law of ``trace_1`` (``χ²_{3(N−1)} / N``: the
trace of a standard Wishart is a chi-square), drawn by the Wishart shortcut.

``mvgaussian-accumulate``: a correlated truth in 3 dimensions under ``accumulate`` and
``accumulate-subsample`` (the sample path), ``N = 10``: ``E trace_t`` and ``E mean_dist_t²``
from the 1-D moment recursion times ``tr Σ₀`` (every projection is the 1-D process). The group
sizes are written out from DESIGN §2 by hand.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ... import theory
from ...checks import mean_check
from ...families import MVGaussian
from ...policies import Accumulate, AccumulateSubsample
from .cases import QQ, Outcome, Series, mean_band, register, simulate_case

#: A correlated truth for the policy case (trace 3.5, not the identity's 3).
MV_MEAN = (1.0, -1.0, 0.5)
MV_COV = (2.0, 0.6, 0.0, 0.6, 1.0, -0.3, 0.0, -0.3, 0.5)


@register("mvgaussian-replace", "mvgaussian", "mvgaussian (d = 3), replace: E trace_t, "
          "E logdet_t (Wishart), E kl_t, law of trace_1", full=200_000, quick=10_000)
def mvgaussian_replace(n_replicates: int, seed: int) -> Outcome:
    """``N = 12``, ``d = 3``, 20 generations; ``E kl_t`` checked early only (heavy tails)."""
    n, d, horizon = 12, 3, 20
    family = MVGaussian(dim=d)
    result = simulate_case(family, "replace", n_samples=n, n_generations=horizon,
                           n_replicates=n_replicates, seed=seed)
    trace, logdet = result.trajectories("trace"), result.trajectories("logdet")
    kl = result.trajectories("kl")
    r = (n - 1) / n
    ts = np.arange(horizon + 1)
    checks = [mean_check(f"E trace_{t}", trace[:, t], d * r**t) for t in (1, 5)]
    checks += [mean_check(f"E logdet_{t}", logdet[:, t],
                          float(theory.mv_expected_logdet(0.0, d, n, t)),
                          variance=float(theory.mv_var_logdet(d, n, t))) for t in (1, 10, 20)]
    checks += [mean_check(f"E kl_{t}", kl[:, t], float(theory.mv_expected_kl(d, n, t)))
               for t in (1, 3)]
    series = [
        Series("mvgaussian replace (d = 3): trace", "E trace_t", *mean_band(trace),
               d * r ** ts, note="late means rest on rare paths"),
        Series("mvgaussian replace (d = 3): log det", "E logdet_t", *mean_band(logdet),
               theory.mv_expected_logdet(0.0, d, n, ts)),
    ]
    qq = [QQ(f"mvgaussian replace: trace_1 against χ²({d * (n - 1)}) / {n}", "trace_1",
             trace[:, 1], lambda q: stats.chi2.ppf(q, d * (n - 1)) / n)]
    return Outcome(checks, series, qq)


@register("mvgaussian-accumulate", "mvgaussian", "mvgaussian (d = 3), accumulate and "
          "accumulate-subsample: E trace_t = tr Σ₀ × the 1-D recursion", full=100_000,
          quick=5_000)
def mvgaussian_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``N = 10``, 12 generations, a correlated truth."""
    n, horizon = 10, 12
    family = MVGaussian(mean=MV_MEAN, cov=MV_COV)
    cov0 = family.cov0
    checks, series = [], []
    for policy, parts in ((Accumulate(), theory.Pieces("accumulate", 0, n)),
                          (AccumulateSubsample(), theory.Pieces("accumulate-subsample", 0, n))):
        result = simulate_case(family, policy, n_samples=n, n_generations=horizon,
                               n_replicates=n_replicates, seed=seed)
        trace, dist = result.trajectories("trace"), result.trajectories("mean_dist")
        exact, offset = theory.mv_trace_moments(cov0, n, horizon, parts)
        checks += [mean_check(f"{policy.name} E trace_{t}", trace[:, t], float(exact[t]))
                   for t in (2, horizon)]
        checks += [mean_check(f"{policy.name} E mean_dist_{t}²", dist[:, t] ** 2,
                              float(offset[t])) for t in (2, horizon)]
        series.append(Series(f"mvgaussian {policy.name}: trace", "E trace_t",
                             *mean_band(trace), exact))
    return Outcome(checks, series)
