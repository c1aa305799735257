"""Exact results the simulator must reproduce (DESIGN §6).

``t`` counts fit steps, ``N`` is the number of samples per generation (``k`` tosses for the coin),
``r = (N − 1)/N``. Everything here is exact (closed forms or finite Markov chains); approximations
are named as such.

Coin under ``replace``
    The number of heads is a Wright–Fisher chain on ``{0, …, k}``:
    ``P(X_{t+1} = j | X_t = i) = Binom(j; k, i/k)``. Hence ``E p_t = p0``,
    ``E[p_t(1 − p_t)] = p0(1 − p0)(1 − 1/k)^t`` (heterozygosity decay), ``P(fixed at 1) = p0``, and
    the absorption time's exact law follows from the transient block ``Q`` of the transition matrix
    (mean 12.59 generations for ``k = 10, p0 = ½``; Kimura's diffusion formula
    ``−2k[p ln p + (1 − p) ln(1 − p)] = 13.86`` only approximates it).
Categorical under ``replace``
    Each token's count is such a chain with ``p0 = q_v``: ``E support_1 = Σ_v 1 − (1 − q_v)^N``;
    Gini–Simpson diversity ``1 − Σ q²`` decays by exactly ``(1 − 1/N)`` per generation; token ``v``
    is the last survivor with probability ``q_v``.
Gaussian under ``replace``
    ``var_t = var_0 Π χ²_{N−1}/D`` with ``D = N`` (MLE) or ``N − 1`` (unbiased), so
    ``E var_t = var_0 r^t`` (MLE) or ``var_0`` (unbiased); ``E log var_t = log var_0 +
    t[ψ((N−1)/2) + ln(2/D)]`` and ``Var log var_t = t ψ′((N−1)/2)``; ``Var mean_t = var_0(1 − r^t)``
    (MLE) or ``var_0 t/N`` (unbiased).
Gaussian under ``mix`` (``real = a``, ``synthetic = 1 − a``, MLE)
    stationary ``E var = a(N(2−a) − 1) / (aN(2−a) + 1 − a) · var_0``.
Gaussian under ``accumulate`` (MLE)
    ``E var_t = var_0 Π_{i ≤ t}(1 − 1/(N i²)) → var_0 sin(π/√N)/(π/√N)``.
GMM
    every M-step matches the mixture's mean and variance to the training sample's, so under
    ``replace`` ``E var_t = var_0 r^t`` exactly, whatever EM does inside.

References
----------
.. [1] M. Kimura, "Solution of a process of random genetic drift with a continuous model",
   PNAS 41, 144–150 (1955).
.. [2] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
.. [3] M. Gerstgrasser et al., "Is model collapse inevitable? Breaking the curse of recursion by
   accumulating real and synthetic data", arXiv:2404.01413 (2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

# -- coin: the Wright–Fisher chain --------------------------------------------------------------


def coin_transition_matrix(k: int) -> np.ndarray:
    """``P[i, j] = Binom(j; k, i/k)`` on head counts ``0..k``."""
    states = np.arange(k + 1)
    return stats.binom.pmf(states[None, :], k, states[:, None] / k)


def coin_law(p0: float, k: int, n_generations: int) -> np.ndarray:
    """Exact law of the head count ``X_t = k p_t`` for ``t = 1..G``.

    Returns
    -------
    ndarray
        ``[G, k + 1]``; row ``t − 1`` is ``P(X_t = j)``. Generation 0 is the point mass at ``p0``
        (which need not be a multiple of ``1/k``), so it is not a row.
    """
    matrix = coin_transition_matrix(k)
    law = np.empty((n_generations, k + 1))
    law[0] = stats.binom.pmf(np.arange(k + 1), k, p0)
    for t in range(1, n_generations):
        law[t] = law[t - 1] @ matrix
    return law


def coin_heterozygosity(p0: float, k: int, t: np.ndarray | int) -> np.ndarray:
    """``E[p_t (1 − p_t)] = p0 (1 − p0) (1 − 1/k)^t``."""
    return p0 * (1 - p0) * (1 - 1 / k) ** np.asarray(t, dtype=float)


def coin_fixation_probability(p0: float) -> float:
    """``P(p_t → 1) = p0``: ``p_t`` is a bounded martingale absorbed at 0 or 1."""
    return float(p0)


@dataclass(frozen=True)
class AbsorptionTime:
    """The exact law of the coin's absorption time ``T = min{t : p_t ∈ {0, 1}}``.

    Attributes
    ----------
    mean, var
        ``E T`` and ``Var T``.
    cdf
        ``P(T ≤ t)`` for ``t = 0..len(cdf) − 1``.
    """

    mean: float
    var: float
    cdf: np.ndarray

    def quantile(self, q: float) -> int:
        """The smallest ``t`` with ``P(T ≤ t) ≥ q`` (within the tabulated range)."""
        return int(np.searchsorted(self.cdf, q - 1e-12))


def coin_absorption_time(p0: float, k: int, *, horizon: int = 1000) -> AbsorptionTime:
    """Exact law of the absorption time of the coin under ``replace``.

    With ``Q`` the transition matrix restricted to transient states ``1..k−1`` and ``F = (I − Q)⁻¹``
    (the fundamental matrix), the expected remaining time from state ``i`` is ``m = F 1`` and its
    second moment ``s = (2F − I) m``. The first step goes from ``p0`` to ``Binom(k, p0)``, so
    ``E T = 1 + Σ_i π_i m_i`` with ``π = Binom(k, p0)`` on transient states.

    Parameters
    ----------
    p0
        Initial probability of heads.
    k
        Tosses per generation (``n_samples``).
    horizon
        Generations tabulated in ``cdf``.
    """
    if p0 in (0.0, 1.0):
        return AbsorptionTime(0.0, 0.0, np.ones(horizon + 1))
    if k == 1:  # every generation's single toss is 0 or 1
        cdf = np.ones(horizon + 1)
        cdf[0] = 0.0
        return AbsorptionTime(1.0, 0.0, cdf)
    matrix = coin_transition_matrix(k)
    q = matrix[1:k, 1:k]
    fundamental = np.linalg.inv(np.eye(k - 1) - q)
    m = fundamental.sum(axis=1)
    s = (2 * fundamental - np.eye(k - 1)) @ m
    first = stats.binom.pmf(np.arange(k + 1), k, p0)[1:k]
    mean = 1.0 + first @ m
    second = 1.0 + 2.0 * (first @ m) + first @ s  # E(1 + T')² with T' the remaining time
    law = coin_law(p0, k, horizon)
    cdf = np.concatenate([[0.0], law[:, 0] + law[:, k]])
    return AbsorptionTime(float(mean), float(second - mean**2), cdf)


def coin_absorption_time_diffusion(p0: float, k: int) -> float:
    """Kimura's diffusion approximation ``−2k[p ln p + (1−p) ln(1−p)]`` (approximate)."""
    p = np.clip(p0, 1e-300, 1)
    return float(-2 * k * (special.xlogy(p, p) + special.xlogy(1 - p, 1 - p)))


# -- categorical --------------------------------------------------------------------------------


def categorical_expected_support_one(q: np.ndarray, n_samples: int) -> float:
    """``E support_1 = Σ_v 1 − (1 − q_v)^N``: tokens drawn at least once in generation 1."""
    q = np.asarray(q, dtype=float)
    return float(np.sum(-np.expm1(n_samples * np.log1p(-q))))


def gini_simpson(q: np.ndarray) -> np.ndarray:
    """Gini–Simpson diversity ``1 − Σ_v q_v²`` (along the last axis)."""
    q = np.asarray(q, dtype=float)
    return 1.0 - np.sum(q * q, axis=-1)


def categorical_expected_gini_simpson(q: np.ndarray, n_samples: int,
                                      t: np.ndarray | int) -> np.ndarray:
    """``E[1 − Σ q_t²] = (1 − Σ q²) (1 − 1/N)^t`` under ``replace``."""
    return gini_simpson(q) * (1 - 1 / n_samples) ** np.asarray(t, dtype=float)


def last_survivor_probability(q: np.ndarray) -> np.ndarray:
    """``P(token v is the one left) = q_v`` under ``replace``."""
    return np.asarray(q, dtype=float)


# -- gaussian -----------------------------------------------------------------------------------


def _divisor(n_samples: int, estimator: str) -> int:
    if estimator not in ("mle", "unbiased"):
        raise ValueError(f"estimator must be mle or unbiased, not {estimator!r}")
    return n_samples if estimator == "mle" else n_samples - 1


def gaussian_expected_var(var0: float, n_samples: int, t: np.ndarray | int,
                          estimator: str = "mle") -> np.ndarray:
    """``E var_t``: ``var_0 r^t`` (MLE) or ``var_0`` (unbiased)."""
    t = np.asarray(t, dtype=float)
    r = (n_samples - 1) / _divisor(n_samples, estimator)
    return var0 * r**t


def gaussian_expected_log_var(var0: float, n_samples: int, t: np.ndarray | int,
                              estimator: str = "mle") -> np.ndarray:
    """``E log var_t = log var_0 + t[ψ((N−1)/2) + ln(2/D)]``."""
    d = _divisor(n_samples, estimator)
    step = special.digamma((n_samples - 1) / 2) + np.log(2 / d)
    return np.log(var0) + np.asarray(t, dtype=float) * step


def gaussian_var_log_var(n_samples: int, t: np.ndarray | int) -> np.ndarray:
    """``Var log var_t = t ψ′((N−1)/2)`` (a sum of independent log chi-squares)."""
    return np.asarray(t, dtype=float) * special.polygamma(1, (n_samples - 1) / 2)


def gaussian_var_mean(var0: float, n_samples: int, t: np.ndarray | int,
                      estimator: str = "mle") -> np.ndarray:
    """``Var mean_t``: ``var_0 (1 − r^t)`` (MLE) or ``var_0 t / N`` (unbiased).

    ``mean_t = mean_{t−1} + √(var_{t−1}/N) z_t``, so ``Var mean_t = Σ_{s<t} E var_s / N``.
    """
    t = np.asarray(t, dtype=float)
    if _divisor(n_samples, estimator) == n_samples:
        return var0 * (1 - ((n_samples - 1) / n_samples) ** t)
    return var0 * t / n_samples


def gaussian_mix_stationary_var(var0: float, n_samples: int, real: float) -> float:
    """Stationary ``E var`` under ``mix`` with ``real = a`` and ``synthetic = 1 − a`` (MLE).

    ``a(N(2 − a) − 1) / (aN(2 − a) + 1 − a) · var_0``; equal to ``r var_0`` for ``a = 1`` and
    to 0 for ``a = 0`` (pure replacement collapses).
    """
    a, n = real, n_samples
    return float(a * (n * (2 - a) - 1) / (a * n * (2 - a) + 1 - a) * var0)


def gaussian_accumulate_expected_var(var0: float, n_samples: int,
                                     t: np.ndarray | int) -> np.ndarray:
    """``E var_t = var_0 Π_{i ≤ t}(1 − 1/(N i²))`` under ``accumulate`` (MLE)."""
    t = np.atleast_1d(np.asarray(t, dtype=int))
    i = np.arange(1, t.max() + 1)
    products = np.concatenate([[1.0], np.cumprod(1 - 1 / (n_samples * i**2))])
    return var0 * products[t]


def gaussian_accumulate_limit_var(var0: float, n_samples: int) -> float:
    """``lim E var_t = var_0 sin(π/√N) / (π/√N)`` under ``accumulate`` (MLE)."""
    x = np.pi / np.sqrt(n_samples)
    return float(var0 * np.sin(x) / x)
