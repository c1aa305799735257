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

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal, sparse, special, stats

# -- how a policy builds a training set -------------------------------------------------------


@dataclass(frozen=True)
class Pieces:
    """How a policy assembles each training set from ``N`` = ``n_samples`` samples.

    Attributes
    ----------
    kind
        ``"mix"`` (``replace`` is ``mix`` with ``real = carry = 0``), ``"accumulate"`` or
        ``"accumulate-subsample"``.
    real, synthetic, carry
        Sizes of the fresh, model and carried-over groups (``carry`` only for ``mix``).
    """

    kind: str
    real: int
    synthetic: int
    carry: int = 0


def pieces(policy, n_samples: int) -> Pieces:
    """The :class:`Pieces` of a policy object for ``n_samples`` per batch."""
    from .policies import Accumulate, AccumulateSubsample, Mix, Replace, fraction_count

    if isinstance(policy, Replace):
        return Pieces("mix", 0, n_samples)
    if isinstance(policy, Mix):
        real, synthetic, carry = policy.split(n_samples)
        return Pieces("mix", real, synthetic, carry)
    if isinstance(policy, AccumulateSubsample):
        real = fraction_count(policy.real, n_samples)
        return Pieces("accumulate-subsample", real, n_samples - real)
    if isinstance(policy, Accumulate):
        real = fraction_count(policy.real, n_samples)
        return Pieces("accumulate", real, n_samples - real)
    raise ValueError(f"no moment recursion for policy {policy!r}")


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

    @property
    def survival(self) -> np.ndarray:
        """``P(T > t)`` for ``t = 0..horizon``."""
        return 1.0 - self.cdf

    @property
    def horizon(self) -> int:
        """The last tabulated generation."""
        return len(self.cdf) - 1

    def quantile(self, q: float) -> int:
        """The smallest ``t`` with ``P(T ≤ t) ≥ q`` (``horizon + 1`` if beyond the table)."""
        return int(np.searchsorted(self.cdf, q - 1e-12))


def coin_absorption_time(p0: float, k: int, *, horizon: int = 1000,
                         tail: float | None = None) -> AbsorptionTime:
    """Exact law of the absorption time of the coin under ``replace``.

    With ``Q`` the transition matrix restricted to transient states ``1..k−1`` and ``π`` the law
    of generation 1 (``Binom(k, p0)``) on them, ``(I − Q) m = 1`` gives the expected remaining time
    ``m`` and ``(I − Q) s = 2m − 1`` its second moment, so ``E T = 1 + π·m`` and
    ``E T² = 1 + 2π·m + π·s`` (two linear solves, never truncated). The survival function
    ``P(T > t) = π Q^{t−1} 1`` costs one sparse vector–matrix product per generation: row ``i`` of
    ``Q`` is ``Binom(k, i/k)``, and entries below 1e-20 (beyond about ±10 standard deviations) are
    dropped, which moves no probability by more than 1e-20 per generation.

    Parameters
    ----------
    p0
        Initial probability of heads.
    k
        Tosses per generation (``n_samples``).
    horizon
        Generations tabulated in ``cdf`` (ignored when ``tail`` is given).
    tail
        Tabulate until ``P(T > t) ≤ tail`` instead (``k = 1000`` needs some 14 000 generations
        for 1e-6).
    """
    def tabulated(survival: list[float]) -> AbsorptionTime:
        return AbsorptionTime(mean, var, 1.0 - np.asarray(survival))

    if p0 <= 0.0 or p0 >= 1.0:  # the truth itself is absorbed: T = 0
        mean = var = 0.0
        return tabulated([0.0] * (1 if tail is not None else horizon + 1))
    if k == 1:  # every generation's single toss is 0 or 1
        mean, var = 1.0, 0.0
        return tabulated([1.0, 0.0] if tail is not None else [1.0] + [0.0] * horizon)
    q = np.ascontiguousarray(coin_transition_matrix(k)[1:k, 1:k])
    first = stats.binom.pmf(np.arange(1, k), k, p0)
    eye = np.eye(k - 1)
    m = np.linalg.solve(eye - q, np.ones(k - 1))
    s = np.linalg.solve(eye - q, 2.0 * m - 1.0)
    mean = float(1.0 + first @ m)
    var = float(1.0 + 2.0 * (first @ m) + first @ s - mean**2)
    # A sparse product is single-threaded: a dense BLAS one stalls when its threads compete for
    # busy cores.
    step = sparse.csr_matrix(np.where(q > 1e-20, q, 0.0).T)
    survival = [1.0, float(first.sum())]
    law = first
    while (survival[-1] > tail) if tail is not None else (len(survival) <= horizon):
        law = step @ law
        survival.append(float(law.sum()))
    return tabulated(survival[: horizon + 1] if tail is None else survival)


def coin_absorption_time_diffusion(p0: float, k: int) -> float:
    """Kimura's diffusion approximation ``−2k[p ln p + (1−p) ln(1−p)]`` (approximate)."""
    p = np.clip(p0, 1e-300, 1)
    return float(-2 * k * (special.xlogy(p, p) + special.xlogy(1 - p, 1 - p)))


def coin_survival_diffusion(p0: float, tau: np.ndarray, *, terms: int = 400) -> np.ndarray:
    """Kimura's diffusion limit of ``P(T > t)`` at scaled times ``τ = t/k`` (approximate).

    ``P(T > t) ≈ S(p, τ) + S(1−p, τ)`` with
    ``S(p, τ) = Σ_{i≥1} (2i+1) p(1−p) (−1)^{i+1} ₂F₁(1−i, i+2; 2; p) e^{−i(i+1)τ/2}`` (the
    probabilities not yet fixed at 1 and not yet lost, Kimura 1955, with ``2N = k`` gene copies).
    The series converges for ``τ > 0``; it is evaluated from ``τ = 0.005`` on and set to 1 below.

    Parameters
    ----------
    p0
        Initial probability of heads.
    tau
        Scaled times ``t/k``.
    terms
        Terms of the series (400 reach ``e^{−400}`` at ``τ = 0.005``).
    """
    tau = np.asarray(tau, dtype=float)
    i = np.arange(1, terms + 1, dtype=float)[:, None]
    decay = np.exp(-i * (i + 1) * np.maximum(tau, 0.005)[None, :] / 2)
    total = np.zeros(tau.shape)
    for p in (p0, 1.0 - p0):
        coef = (2 * i + 1) * p * (1 - p) * (-1.0) ** (i + 1) * special.hyp2f1(1 - i, i + 2, 2, p)
        total = total + np.sum(coef * decay, axis=0)
    return np.where(tau < 0.005, 1.0, np.clip(total, 0.0, 1.0))


def coin_mix_transition_matrix(k: int, p0: float, parts: Pieces) -> np.ndarray:
    """Transition matrix of the head count ``H_t`` of training set ``t`` under ``mix``.

    Training set ``t + 1`` holds ``X + Y + Z`` heads: ``X ~ Binom(m, p0)`` fresh tosses,
    ``Y ~ Binom(s, H/k)`` tosses of the model fitted to set ``t`` and ``Z ~ Hypergeom(k, H, c)``
    tosses carried over from set ``t`` without replacement, independent given ``H``. ``replace``
    (``m = c = 0``) gives :func:`coin_transition_matrix`.

    Parameters
    ----------
    k
        Tosses per generation.
    p0
        The truth (enters only through the fresh tosses).
    parts
        :func:`pieces` of the policy; must be of kind ``"mix"``.

    Returns
    -------
    ndarray
        ``[k + 1, k + 1]``, rows summing to 1.
    """
    if parts.kind != "mix":
        raise ValueError("the head count is a finite Markov chain only under mix/replace")
    m, s, c = parts.real, parts.synthetic, parts.carry
    fresh = stats.binom.pmf(np.arange(m + 1), m, p0)
    matrix = np.zeros((k + 1, k + 1))
    for heads in range(k + 1):
        model = stats.binom.pmf(np.arange(s + 1), s, heads / k)
        carried = stats.hypergeom.pmf(np.arange(c + 1), k, heads, c) if c else np.ones(1)
        row = np.convolve(np.convolve(fresh, model), carried)
        matrix[heads, : row.size] = row
    return matrix


def coin_mix_law(p0: float, k: int, n_generations: int, parts: Pieces) -> np.ndarray:
    """Exact law of ``p_t = H_t / k`` under ``mix`` (and ``replace``) for ``t = 1..G``.

    Generation 1 is ``Binom(k, p0)``; each later generation applies
    :func:`coin_mix_transition_matrix`. With fresh tosses (``m > 0``) the chain is irreducible, so
    ``p_t`` never sticks and its law tends to the stationary law of :func:`coin_mix_stationary`.

    Returns
    -------
    ndarray
        ``[G, k + 1]``; row ``t − 1`` is ``P(H_t = j)``.
    """
    matrix = coin_mix_transition_matrix(k, p0, parts)
    law = np.empty((n_generations, k + 1))
    law[0] = stats.binom.pmf(np.arange(k + 1), k, p0)
    for t in range(1, n_generations):
        law[t] = law[t - 1] @ matrix
    return law


def coin_mix_stationary(p0: float, k: int, parts: Pieces) -> tuple[np.ndarray, float, float]:
    """Stationary law of the head count under ``mix`` with fresh tosses, and ``E p``, ``Var p``.

    Solves ``π P = π``, ``Σ π = 1`` for the irreducible chain (``m ≥ 1`` fresh tosses). Without
    fresh tosses the chain is absorbed at 0 or ``k`` and there is no unique stationary law.
    """
    if parts.real < 1:
        raise ValueError("a stationary law needs at least one fresh toss per generation")
    matrix = coin_mix_transition_matrix(k, p0, parts)
    system = np.vstack([matrix.T - np.eye(k + 1), np.ones(k + 1)])
    rhs = np.zeros(k + 2)
    rhs[-1] = 1.0
    law = np.linalg.lstsq(system, rhs, rcond=None)[0]
    law = np.clip(law, 0.0, None)
    law /= law.sum()
    p = np.arange(k + 1) / k
    mean = float(law @ p)
    return law, mean, float(law @ (p - mean) ** 2)


def coin_hitting_cdf(p0: float, k: int, n_generations: int, parts: Pieces) -> np.ndarray:
    """``P(p_s ∈ {0, 1} for some 1 ≤ s ≤ t)`` for ``t = 0..G`` under ``mix``/``replace``.

    The coin's ``absorption_time`` is this first hitting time. Making states 0 and ``k`` absorbing
    in a copy of the chain turns "hit by ``t``" into "in {0, k} at ``t``". Under ``replace`` and
    under ``mix`` without fresh tosses they are absorbing anyway; with fresh tosses ``p_t`` can
    touch 0 or 1 and leave again, and this is the law of the first touch.
    """
    matrix = coin_mix_transition_matrix(k, p0, parts)
    for edge in (0, k):
        matrix[edge] = 0.0
        matrix[edge, edge] = 1.0
    cdf = np.zeros(n_generations + 1)
    if p0 in (0.0, 1.0):
        cdf[:] = 1.0
        return cdf
    law = stats.binom.pmf(np.arange(k + 1), k, p0)
    for t in range(1, n_generations + 1):
        cdf[t] = law[0] + law[k]
        law = law @ matrix
    return cdf


def coin_accumulate_hitting_probability(p0: float, k: int) -> float:
    """``P(p_t ∈ {0, 1} for some t)`` under ``accumulate`` (any real fraction): ``p0^k + (1−p0)^k``.

    The pool never loses a toss. Once it holds a head and a tail, every later fit lies strictly
    between 0 and 1; so ``p_t`` touches 0 or 1 only if generation 1's ``k`` tosses all agree, and
    then (without fresh tosses) it stays there for ever.
    """
    return float(p0**k + (1 - p0) ** k)


# -- categorical --------------------------------------------------------------------------------


def categorical_expected_support_one(q: np.ndarray, n_samples: int) -> float:
    """``E support_1 = Σ_v 1 − (1 − q_v)^N``: tokens drawn at least once in generation 1."""
    q = np.asarray(q, dtype=float)
    return float(np.sum(-np.expm1(n_samples * np.log1p(-q))))


def categorical_expected_support(q: np.ndarray, n_samples: int, n_generations: int,
                                 parts: Pieces) -> np.ndarray:
    """Exact ``E support_t`` for ``t = 0..G`` (``support_0 = V``).

    Each token's count in the training set is a coin chain with ``p0 = q_v`` and ``k = N`` (a
    multinomial's margins are binomial, a multivariate hypergeometric's are hypergeometric), and
    the token is in the model's support iff its count is positive, so
    ``E support_t = Σ_v P(H^v_t > 0)``.

    * ``mix`` without fresh data (``replace`` included): the chain does not depend on ``q_v``,
      so one backward pass gives ``u_t(i) = P(H_t = 0 | H_1 = i)`` for all ``i`` and
      ``P(H^v_t = 0) = Σ_i Binom(i; N, q_v) u_t(i)``: cost ``O(G N²)``.
    * ``mix`` with fresh data: one forward pass per distinct ``q_v``: cost ``O(V G N²)``.
    * ``accumulate``: a token never leaves the pool, and only fresh data can add one the pool
      lacks, so ``P(gone at t) = (1 − q_v)^{N + (t − 1) m}``.

    ``accumulate-subsample`` has no such closed form: :class:`ValueError`.
    """
    q = np.asarray(q, dtype=float)
    n, g = n_samples, n_generations
    out = np.empty(g + 1)
    out[0] = np.count_nonzero(q)
    if g == 0:
        return out
    if parts.kind == "accumulate":
        draws = n + parts.real * np.arange(g)            # fresh draws seen by generation t
        gone = np.exp(draws[:, None] * np.log1p(-np.minimum(q, 1.0))[None, :])
        out[1:] = np.sum(1.0 - gone, axis=1)
        return out
    if parts.kind != "mix":
        raise ValueError(f"no exact support law under {parts.kind}")
    states = np.arange(n + 1)
    first = stats.binom.pmf(states[None, :], n, q[:, None])        # [V, N + 1], H_1's law
    if parts.real == 0:
        matrix = coin_mix_transition_matrix(n, 0.5, parts)          # p0 unused without m
        gone_from = (states == 0).astype(float)                     # u_1
        for t in range(1, g + 1):
            out[t] = np.sum(1.0 - first @ gone_from)
            gone_from = matrix @ gone_from
        return out
    values, inverse = np.unique(q, return_inverse=True)
    gone = np.empty((g, values.size))
    for j, value in enumerate(values):
        law = coin_mix_law(float(value), n, g, parts)
        gone[:, j] = law[:, 0]
    out[1:] = np.sum(1.0 - gone[:, inverse], axis=1)
    return out


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


def gaussian_expected_sd(var0: float, n_samples: int, t: np.ndarray | int,
                         estimator: str = "mle") -> np.ndarray:
    """``E sd_t = sd_0 c^t`` with ``c = E √(χ²_{N−1}/D) = √(2/D) Γ(N/2) / Γ((N−1)/2)``."""
    t = np.asarray(t, dtype=float)
    if n_samples == 1:  # one sample: the fitted variance is 0 from the first fit on
        return np.where(t == 0, np.sqrt(var0), 0.0)
    d = _divisor(n_samples, estimator)
    log_c = 0.5 * np.log(2 / d) + special.gammaln(n_samples / 2) \
        - special.gammaln((n_samples - 1) / 2)
    return np.sqrt(var0) * np.exp(t * log_c)


def gaussian_expected_w2_squared(var0: float, n_samples: int, t: np.ndarray | int,
                                 estimator: str = "mle") -> np.ndarray:
    """``E W2²_t = Var mean_t + E var_t + var_0 − 2 sd_0 E sd_t`` under ``replace``.

    Between normals ``W2² = (μ − μ₀)² + (σ − σ₀)²``, and ``E mean_t = μ₀``.
    """
    value = (gaussian_var_mean(var0, n_samples, t, estimator)
             + gaussian_expected_var(var0, n_samples, t, estimator) + var0
             - 2 * np.sqrt(var0) * gaussian_expected_sd(var0, n_samples, t, estimator))
    return np.maximum(value, 0.0)  # at t = 0 the terms cancel to a rounding error


def gaussian_expected_kl(var0: float, n_samples: int, t: np.ndarray | int,
                         estimator: str = "mle") -> np.ndarray:
    """``E KL(truth ‖ fit_t)`` under ``replace`` (finite for ``N > 3``).

    ``KL = ½ log(var_t/var_0) + ½ var_0/var_t + ½ (mean_t − μ₀)²/var_t − ½``. With
    ``e = E[D/χ²_{N−1}] = D/(N − 3)``: ``E[var_0/var_t] = e^t``; and since a normal sample's mean
    and variance are independent, ``W_t = E[(mean_t − μ₀)²/var_t]`` obeys
    ``W_t = e (W_{t−1} + 1/N)``, so ``W_t = (1/N) Σ_{j=1..t} e^j``.
    """
    if n_samples <= 3:
        raise ValueError("E KL is infinite for N ≤ 3 (E 1/χ²_{N−1} diverges)")
    t = np.asarray(t, dtype=float)
    e = _divisor(n_samples, estimator) / (n_samples - 3)
    powers = e**t
    w = (e * (powers - 1) / (e - 1) if e != 1 else t) / n_samples
    log_ratio = gaussian_expected_log_var(var0, n_samples, t, estimator) - np.log(var0)
    return 0.5 * (log_ratio + powers + w - 1.0)


def gaussian_collapse_time_cdf(n_samples: int, n_generations: int, *,
                               collapse_fraction: float = 0.5,
                               estimator: str = "mle") -> np.ndarray:
    """Law of the Gaussian's collapse time under ``replace``, ``P(T ≤ t)`` for ``t = 0..G``.

    ``T = min{t : var_t < c var₀}``. Under ``replace``, ``log(var_t/var₀) = S_t`` is a random walk
    with i.i.d. steps ``X = log(χ²_{N−1}/D)`` (``D = N`` for the MLE, ``N − 1`` unbiased), so ``T``
    is the walk's first passage below ``log c``. Its law is computed numerically: the density of
    ``S_t`` on the surviving side is carried on a lattice of spacing
    ``h = min(sd X / 50, |log c| / 1000)`` (coarser if that needs more than 30 000 cells, as for
    ``c`` close to 1), convolved with the step's exact lattice masses
    ``P(X ∈ [(j − ½)h, (j + ½)h))`` (from the χ² cdf) and cut at the barrier each generation.
    Mass that climbs beyond ``18 σ²/(2|μ|) + 10σ`` above the start (a walk with drift ``μ < 0``
    gets that high with probability about ``e^{−18}``) is kept in the top cell. Checked against
    20 000 simulated replicates to within their sampling error (about 0.004 in the cdf); halving
    ``h`` changes the cdf by less than 1e-4.

    Parameters
    ----------
    n_samples
        ``N``.
    n_generations
        ``G``: the cdf is returned for ``t = 0..G`` (exactly 1 once the survival is below 1e-12).
    collapse_fraction
        ``c``.
    estimator
        ``"mle"`` or ``"unbiased"``.
    """
    cdf = np.ones(n_generations + 1)
    cdf[0] = 0.0
    if n_samples < 2 or n_generations == 0:  # one sample: the fitted variance is 0 at t = 1
        return cdf
    df = n_samples - 1
    divisor = n_samples if estimator == "mle" else n_samples - 1
    drift = float(special.digamma(df / 2) + math.log(2 / divisor))
    sd = float(math.sqrt(special.polygamma(1, df / 2)))
    barrier_height = math.log(collapse_fraction)
    if drift < 0:
        reach = 18 * sd**2 / (2 * abs(drift)) + 10 * sd
    else:  # the unbiased fit drifts down too, but guard against a flat walk
        reach = 10 * sd * math.sqrt(n_generations) + 10 * sd
    # Fine enough for the step's shape and the barrier's position, but at most about 30 000
    # cells (a threshold close to 1 would otherwise ask for millions).
    h = max(min(sd / 50, abs(barrier_height) / 1000), (reach - barrier_height) / 30_000)
    # The step's lattice masses over its central 1 − 2e-13.
    lo = math.log(stats.chi2.ppf(1e-13, df) / divisor)
    hi = math.log(stats.chi2.isf(1e-13, df) / divisor)
    steps = np.arange(math.floor(lo / h), math.ceil(hi / h) + 1)
    mass = np.diff(stats.chi2.cdf(divisor * np.exp(np.append(steps - 0.5, steps[-1] + 0.5) * h),
                                  df))
    # Lattice points m·h alive while m·h ≥ log c, i.e. m ≥ barrier; the start is m = 0.
    barrier = math.ceil(barrier_height / h - 1e-9)
    top = math.ceil(reach / h)
    size = top - barrier + 1
    density = np.zeros(size)
    density[-barrier] = 1.0
    shift = -int(steps[0])  # index in the full convolution of the new state `barrier`
    for t in range(1, n_generations + 1):
        full = signal.fftconvolve(density, mass)
        new = np.clip(full[shift:shift + size], 0.0, None)  # FFT round-off can dip below 0
        new[-1] += max(float(full[shift + size:].sum()), 0.0)
        density = new
        alive = float(density.sum())
        cdf[t] = 1.0 - alive
        if alive < 1e-12:
            break
    return cdf


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


# -- moment recursions: exact first and second moments under every data policy ----------------
#
# A policy builds training set t from groups: m fresh draws of the truth, s draws of model t − 1
# and c samples carried over without replacement from an earlier set (``Pieces``). Given the
# past, the groups are independent, and the expectation of a pooled set's sum of squares, or of a
# token's count and its square, depends only on the groups' first two moments. Both are therefore
# linear in the previous generation's moments: iterating the map gives E var_t, E (mean_t − μ₀)²,
# E q_t and E q_t² exactly, for every policy, with no simulation and no approximation.


def variance_moments(var0: float, n_samples: int, n_generations: int, parts: Pieces, *,
                     divisor: str = "mle") -> tuple[np.ndarray, np.ndarray]:
    """Exact ``E var_t`` and ``E (mean_t − μ₀)²`` of a normal (or GMM) refitted to its own data.

    Parameters
    ----------
    var0
        The truth's variance (of the mixture, for a GMM).
    n_samples
        ``N``.
    n_generations
        ``G``.
    parts
        The policy's :class:`Pieces`.
    divisor
        ``"mle"`` (a fit's variance is ``SS / n``; also every EM fit of a GMM, by the
        mixture-variance identity) or ``"unbiased"`` (``SS / (n − 1)``).

    Returns
    -------
    mean_var, mean_offset2
        Arrays ``[G + 1]``; generation 0 is the truth (``var0``, 0).

    Notes
    -----
    Only the fitted distribution's first two moments enter, so the result holds for any fitted
    family whose fit matches the sample's mean and variance exactly (normal MLE, EM for a
    Gaussian mixture) and for the unbiased normal fit. Variance floors are ignored.
    """
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry

    def div(size: float) -> float:
        return size if divisor == "mle" else size - 1.0

    mean_var = np.empty(g + 1)
    offset2 = np.empty(g + 1)
    mean_var[0], offset2[0] = var0, 0.0
    if g == 0:
        return mean_var, offset2
    # Generation 1: N fresh samples of the truth.
    ss = (n - 1) * var0            # E SS of the last training set (mix) or of the pool
    mean_var[1] = ss / div(n)
    offset2[1] = var0 / n
    if parts.kind == "mix":
        for t in range(2, g + 1):
            v, d, ss_prev = mean_var[t - 1], offset2[t - 1], ss
            between = ss_prev / (n - 1) if n > 1 else 0.0   # the old set's unbiased variance
            # within-group sums of squares
            ss = (max(m - 1, 0) * var0 + max(s - 1, 0) * v + max(c - 1, 0) * between)
            # Var of the group means (given the past) and of the pooled mean
            var_means = [var0 / m if m else 0.0, v / s if s else 0.0,
                         between * (1 / c - 1 / n) if c else 0.0]
            sizes = [m, s, c]
            total_var = sum(k * vm for k, vm in zip(sizes, var_means, strict=True))  # Σ n_g v_g
            pooled_var = sum(k * k * vm for k, vm in zip(sizes, var_means, strict=True)) / n
            # offsets: 0 for the real group, δ = M − μ₀ for the model and carried groups
            k_model = s + c
            ss += total_var - pooled_var + (k_model - k_model**2 / n) * d
            mean_var[t] = ss / div(n)
            offset2[t] = pooled_var / n + (k_model / n) ** 2 * d
        return mean_var, offset2
    if parts.kind == "accumulate":
        size = float(n)
        for t in range(2, g + 1):
            v, d = mean_var[t - 1], offset2[t - 1]
            new = size + n
            groups_var = (var0 if m else 0.0) + (v if s else 0.0)          # Σ n_g v_g
            pooled_var = ((m * var0 if m else 0.0) + (s * v if s else 0.0)) / new
            ss = (ss + max(m - 1, 0) * var0 + max(s - 1, 0) * v + groups_var - pooled_var
                  + (size + s - (size + s) ** 2 / new) * d)
            mean_var[t] = ss / div(new)
            offset2[t] = pooled_var / new + ((size + s) / new) ** 2 * d
            size = new
        return mean_var, offset2
    if parts.kind == "accumulate-subsample":
        # State: pool (E SS, E (mean_P − μ₀)²), model (E var, E (M − μ₀)²), cross E[(M−μ₀)(P−μ₀)].
        size = float(n)
        pool_ss, pool_d, cross = ss, var0 / n, var0 / n
        for t in range(2, g + 1):
            v, d = mean_var[t - 1], offset2[t - 1]
            new = size + n
            groups_var = (var0 if m else 0.0) + (v if s else 0.0)
            pooled_var = ((m * var0 if m else 0.0) + (s * v if s else 0.0)) / new
            # E[Σ n_g e_g² − new ē²] with e_old = π, e_model = δ: n_p π² + s δ² − (n_p π + s δ)²/new
            spread = (size * pool_d + s * d
                      - (size**2 * pool_d + 2 * size * s * cross + s**2 * d) / new)
            pool_ss = (pool_ss + max(m - 1, 0) * var0 + max(s - 1, 0) * v + groups_var
                       - pooled_var + spread)
            pool_d = (size**2 * pool_d + 2 * size * s * cross + s**2 * d) / new**2 \
                + pooled_var / new
            # training set: N drawn without replacement from the pool of `new`
            train_ss = (n - 1) * pool_ss / (new - 1)
            mean_var[t] = train_ss / div(n)
            offset2[t] = pool_d + pool_ss / (new - 1) * (1 / n - 1 / new)
            cross = pool_d
            size = new
        return mean_var, offset2
    raise ValueError(f"unknown policy kind {parts.kind!r}")


def proportion_moments(q0: np.ndarray | float, n_samples: int, n_generations: int,
                       parts: Pieces) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``E q_t`` and ``E q_t²`` of each category's fitted frequency (coin: ``q = p``).

    A category's count is binomial given the model and hypergeometric when carried over or
    subsampled, so its first two moments follow a linear recursion whatever the policy.

    Parameters
    ----------
    q0
        True probabilities, shape ``[V]`` (or a scalar for the coin).

    Returns
    -------
    mean, mean_square
        Arrays ``[G + 1, V]``.
    """
    q0 = np.atleast_1d(np.asarray(q0, dtype=float))
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry
    mean = np.empty((g + 1, q0.size))
    square = np.empty((g + 1, q0.size))
    mean[0], square[0] = q0, q0**2
    if g == 0:
        return mean, square
    # Generation 1: H ~ Bin(N, q0), q = H / N.
    mean[1] = q0
    square[1] = (n * q0 * (1 - q0) + (n * q0) ** 2) / n**2

    def binomial(size, prob_mean, prob_square):
        """E H, E H² of H ~ Bin(size, q) with q random: E q and E q² given."""
        return size * prob_mean, size * (prob_mean - prob_square) + size**2 * prob_square

    if parts.kind == "mix":
        for t in range(2, g + 1):
            a, b = mean[t - 1], square[t - 1]  # E q, E q² of model t − 1 (= the last set's)
            xr, xr2 = binomial(m, q0, q0**2)
            ys, ys2 = binomial(s, a, b)
            # carried: hypergeometric c of N from a set with H = N q heads
            zc = c * a
            zc2 = (c * (n - c) / (n - 1) * (a - b) + c * c * b) if n > 1 else c * c * b
            cross = 2 * (xr * ys + xr * zc) + 2 * s * c * b  # E[XY], E[XZ], E[YZ] = s c E q²
            mean[t] = (xr + ys + zc) / n
            square[t] = (xr2 + ys2 + zc2 + cross) / n**2
        return mean, square
    if parts.kind in ("accumulate", "accumulate-subsample"):
        size = float(n)
        h, h2 = n * mean[1], n * n * square[1]  # pool heads: E H, E H²
        model_q, model_q2 = mean[1], square[1]
        cross_qh = h2 / n  # E[q H] with q = H / N at t = 1
        for t in range(2, g + 1):
            new = size + n
            xr, xr2 = binomial(m, q0, q0**2)
            ys, ys2 = binomial(s, model_q, model_q2)
            ys_h = s * cross_qh          # E[Y H] = s E[q H]
            h_new = h + xr + ys
            h2_new = (h2 + xr2 + ys2 + 2 * (h * xr + ys_h + xr * ys))
            if parts.kind == "accumulate":
                model_q, model_q2 = h_new / new, h2_new / new**2
                cross_qh = h2_new / new
            else:  # N drawn without replacement from the pool: hypergeometric
                model_q = h_new / new
                var_part = (n * (new - n) / (new - 1)) * (h_new / new - h2_new / new**2)
                model_q2 = (var_part + n * n * h2_new / new**2) / n**2
                cross_qh = h2_new / new   # E[q H] = E[E[T|H] H] / N = E[H²] / new
            mean[t], square[t] = model_q, model_q2
            h, h2, size = h_new, h2_new, new
        return mean, square
    raise ValueError(f"unknown policy kind {parts.kind!r}")


def predict(config):
    """Exact predictions for a :class:`~modelcollapse.RunConfig`: see
    :func:`modelcollapse.prediction.predict` (kept there so this module stays formulas only)."""
    from .prediction import predict as _predict

    return _predict(config)
