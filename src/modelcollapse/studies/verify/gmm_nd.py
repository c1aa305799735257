"""Verification cases of the gmm family in d ≥ 2 dimensions (``--dim``).

``gmm-2d-replace``: Shumailov's 2-D blobs (the ``--dim 2`` preset) refitted by EM with full
covariances under ``replace``. Every EM fit ends on an M-step, whose sums over components give
the d-D mixture-variance identity: the fitted mixture's total covariance is the training set's
covariance (divisor ``N``) plus ``c I`` (``reg_covar``). Hence, exactly,
``E tr Σ_t = aᵗ tr Σ₀ + d c (1 − aᵗ)/(1 − a)`` with ``a = (N − 1)/N``, and each coordinate of
the mixture mean is a martingale, ``E m_t = m₀``.

References
----------
.. [1] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
"""

from __future__ import annotations

import numpy as np

from ...checks import mean_check
from ...families import GMM
from ...families.gmm.nd import mixture_moments, replace_trace, unpack
from .cases import Outcome, Series, mean_band, register, simulate_case


@register("gmm-2d-replace", "gmm", "gmm in 2-D (Shumailov blobs, full covariances), replace: "
          "E tr Σ_t by the d-D mixture-variance identity, E mean_t = mean_0",
          full=100_000, quick=4096)
def gmm_2d_replace(n_replicates: int, seed: int) -> Outcome:
    """The ``--dim 2`` blobs (means (∓2, 0), unit covariances: tr Σ₀ = 6), ``N = 20``,
    three generations."""
    family, n, horizon = GMM(dim=2), 20, 3
    m0, total0 = mixture_moments(*unpack(family.truth(), family.dim))
    result = simulate_case(family, "replace", n_samples=n, n_generations=horizon,
                           n_replicates=n_replicates, seed=seed)
    var = result.trajectories("var")
    exact = replace_trace(float(np.trace(total0)), n, horizon, family.dim, family.var_floor)
    checks = [mean_check(f"E tr Σ_{t}", var[:, t], float(exact[t])) for t in (1, horizon)]
    for j in range(family.dim):
        mean_j = result.trajectories(f"mean_x_{j}")
        checks.append(mean_check(f"E mean_x_{j}_{horizon}", mean_j[:, horizon], float(m0[j])))
    sim, se = mean_band(var)
    series = [Series("gmm 2-D replace: trace of the mixture covariance", "E tr Σ_t", sim, se,
                     exact)]
    return Outcome(checks, series)
