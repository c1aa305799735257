"""Exact results for the coin refitted to its own tosses: the Wright–Fisher chain and its kin.

Under ``replace`` the number of heads is a Wright–Fisher chain on ``{0, …, k}``,
``P(X_{t+1} = j | X_t = i) = Binom(j; k, i/k)`` (:func:`coin_transition_matrix`): ``E p_t = p0``,
``E[p_t(1 − p_t)] = p0(1 − p0)(1 − 1/k)^t``, ``P(fixed at 1) = p0``, and the absorption time's
whole law from the transient block of the chain (:func:`coin_absorption_time`; mean 12.59 for
``k = 10, p0 = ½``). Under ``mix`` the training set's head count is still a ``(k + 1)``-state
chain (fresh Binomial + model Binomial + carried-over Hypergeometric,
:func:`coin_mix_transition_matrix`): its law, stationary law and first touch of 0 or 1. Under
``accumulate`` p̂ touches 0 or 1 only if generation 1's tosses all agree. Kimura's diffusion
approximations are here too, named as approximations.

Curation (:mod:`modelcollapse.theory.curation`) changes only the law of the model's group: the
chains take a heads map ``g`` (best-of, verifier: the kept tosses are independent, ``Binom(s,
g(p̃))`` heads) or a kept law (top, bottom, reweight) in place of ``Binom(s, p̃)``, with ``p̃``
the model's toss probability after its sampling temperature; every function below takes them.

The probabilities are :mod:`modelcollapse.theory.binomial`'s, so a coin's prediction needs no
scipy.stats (start-up); scipy is imported only for the long survival iteration and the diffusion
series.

References
----------
.. [1] M. Kimura, "Solution of a process of random genetic drift with a continuous model",
   PNAS 41, 144–150 (1955).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .assembly import Pieces
from .binomial import binomial_pmf, hypergeometric_pmf

#: A per-toss curator's map ``p̃ → g(p̃)``: the probability that a kept toss is heads when the
#: model tosses heads with probability ``p̃`` (after its sampling temperature). Best-of and the
#: verifier keep independent tosses, so ``s`` kept tosses hold ``Binom(s, g(p̃))`` heads
#: (:mod:`modelcollapse.theory.curation`).
HeadsMap = Callable[[float], float]

#: The law of the kept heads among ``s`` curated tosses, ``(p̃, s) → pmf over 0..s``, for a
#: curator whose kept tosses are not independent (top, bottom, reweight share candidates).
KeptLaw = Callable[[float, int], np.ndarray]


def tempered_heads(p: np.ndarray | float, temperature: float) -> np.ndarray:
    """The probability of heads a coin fitted at ``p`` tosses at temperature ``τ``.

    ``p^(1/τ) / (p^(1/τ) + (1 − p)^(1/τ))``, computed as the logistic of ``logit(p) / τ`` (no
    power underflows); 0 and 1 are fixed points, and ``τ = 1`` is the identity. The same map as
    the coin family's sampler (:func:`~modelcollapse.families.discrete.tempered`), written here
    independently so that the theory checks the simulator rather than shares its code.
    """
    p = np.asarray(p, dtype=float)
    if temperature == 1.0:
        return p
    inner = (p > 0.0) & (p < 1.0)
    safe = np.where(inner, p, 0.5)
    logit = (np.log(safe) - np.log1p(-safe)) / temperature
    tempered = np.where(logit >= 0, 1.0 / (1.0 + np.exp(-np.abs(logit))),
                        np.exp(-np.abs(logit)) / (1.0 + np.exp(-np.abs(logit))))
    return np.where(inner, tempered, p)


def coin_transition_matrix(k: int, temperature: float = 1.0, *,
                           heads_map: HeadsMap | None = None,
                           kept_law: KeptLaw | None = None) -> np.ndarray:
    """``P[i, j] = Binom(j; k, f(i/k))`` on head counts ``0..k``, ``f`` the tempering map.

    ``f`` is :func:`tempered_heads` (the identity at ``τ = 1``: Wright–Fisher). With a
    curator's ``heads_map`` ``g`` the tosses are ``Binom(k, g(f(i/k)))``; with its ``kept_law``
    row ``i`` is that law at ``f(i/k)`` (see :func:`coin_mix_transition_matrix`).
    """
    if heads_map is not None or kept_law is not None:
        return coin_mix_transition_matrix(k, 0.5, Pieces("mix", 0, k), temperature,
                                          heads_map=heads_map, kept_law=kept_law)
    states = np.arange(k + 1)
    return binomial_pmf(states[None, :], k, tempered_heads(states[:, None] / k, temperature))


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
    law[0] = binomial_pmf(np.arange(k + 1), k, p0)
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
                         tail: float | None = None, temperature: float = 1.0,
                         parts: Pieces | None = None, heads_map: HeadsMap | None = None,
                         kept_law: KeptLaw | None = None) -> AbsorptionTime:
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
    temperature
        The model's sampling temperature ``τ`` (:func:`coin_transition_matrix`); generation 1
        is always ``Binom(k, p0)``, the truth's own tosses.
    parts
        The policy's groups (default ``replace``): any ``mix`` without fresh tosses, whose
        chain is absorbed at 0 and ``k`` too (:func:`coin_mix_transition_matrix`).
    heads_map, kept_law
        A curator's law of the model's group (:func:`coin_mix_transition_matrix`).
    """
    def tabulated(survival: list[float]) -> AbsorptionTime:
        return AbsorptionTime(mean, var, 1.0 - np.asarray(survival))

    if p0 <= 0.0 or p0 >= 1.0:  # the truth itself is absorbed: T = 0
        mean = var = 0.0
        return tabulated([0.0] * (1 if tail is not None else horizon + 1))
    if k == 1:  # every generation's single toss is 0 or 1
        mean, var = 1.0, 0.0
        return tabulated([1.0, 0.0] if tail is not None else [1.0] + [0.0] * horizon)
    matrix = _absorbing_matrix(k, temperature, parts, heads_map, kept_law)
    q = np.ascontiguousarray(matrix[1:k, 1:k])
    first = binomial_pmf(np.arange(1, k), k, p0)
    eye = np.eye(k - 1)
    m = np.linalg.solve(eye - q, np.ones(k - 1))
    s = np.linalg.solve(eye - q, 2.0 * m - 1.0)
    mean = float(1.0 + first @ m)
    var = float(1.0 + 2.0 * (first @ m) + first @ s - mean**2)
    survival = [1.0, float(first.sum())]
    law = first

    def more() -> bool:
        return (survival[-1] > tail) if tail is not None else (len(survival) <= horizon)

    if more():
        # A sparse product is single-threaded: a dense BLAS one stalls when its threads compete
        # for busy cores. (scipy.sparse only here: a prediction's mean needs no iteration.)
        from scipy import sparse

        step = sparse.csr_matrix(np.where(q > 1e-20, q, 0.0).T)
        while more():
            law = step @ law
            survival.append(float(law.sum()))
    return tabulated(survival[: horizon + 1] if tail is None else survival)


def coin_absorption_time_diffusion(p0: float, k: int) -> float:
    """Kimura's diffusion approximation ``−2k[p ln p + (1−p) ln(1−p)]`` (approximate)."""
    p = float(np.clip(p0, 1e-300, 1))
    entropy = sum(v * np.log(v) for v in (p, 1.0 - p) if v > 0)  # 0 log 0 = 0
    return float(-2 * k * entropy)


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
    from scipy import special  # hyp2f1; only the collapse-speed study draws this curve

    tau = np.asarray(tau, dtype=float)
    i = np.arange(1, terms + 1, dtype=float)[:, None]
    decay = np.exp(-i * (i + 1) * np.maximum(tau, 0.005)[None, :] / 2)
    total = np.zeros(tau.shape)
    for p in (p0, 1.0 - p0):
        coef = (2 * i + 1) * p * (1 - p) * (-1.0) ** (i + 1) * special.hyp2f1(1 - i, i + 2, 2, p)
        total = total + np.sum(coef * decay, axis=0)
    return np.where(tau < 0.005, 1.0, np.clip(total, 0.0, 1.0))


def _absorbing_matrix(k: int, temperature: float, parts: Pieces | None,
                      heads_map: HeadsMap | None, kept_law: KeptLaw | None) -> np.ndarray:
    """The transition matrix of a chain absorbed at 0 and ``k`` (no fresh tosses)."""
    if parts is None or (parts.kind == "mix" and parts.real == 0 and parts.carry == 0):
        return coin_transition_matrix(k, temperature, heads_map=heads_map, kept_law=kept_law)
    if parts.kind != "mix" or parts.real != 0:
        raise ValueError("the chain is absorbed at 0 and k only under mix without fresh tosses")
    return coin_mix_transition_matrix(k, 0.5, parts, temperature, heads_map=heads_map,
                                      kept_law=kept_law)


def coin_synthetic_law(p: float, s: int, temperature: float = 1.0, *,
                       heads_map: HeadsMap | None = None,
                       kept_law: KeptLaw | None = None) -> np.ndarray:
    """The law of the heads among the ``s`` tosses of a model fitted at ``p``, ``[s + 1]``.

    ``Binom(s, p̃)`` with ``p̃ = f(p)`` (:func:`tempered_heads`); ``Binom(s, g(p̃))`` with a
    curator's heads map; ``kept_law(p̃, s)`` with its kept law.
    """
    tossed = float(tempered_heads(p, temperature))
    if kept_law is not None:
        return np.asarray(kept_law(tossed, s), dtype=float)
    if heads_map is not None:
        tossed = float(heads_map(tossed))
    return binomial_pmf(np.arange(s + 1), s, tossed)


def coin_mix_transition_matrix(k: int, p0: float, parts: Pieces,
                               temperature: float = 1.0, *,
                               heads_map: HeadsMap | None = None,
                               kept_law: KeptLaw | None = None) -> np.ndarray:
    """Transition matrix of the head count ``H_t`` of training set ``t`` under ``mix``.

    Training set ``t + 1`` holds ``X + Y + Z`` heads: ``X ~ Binom(m, p0)`` fresh tosses,
    ``Y ~ Binom(s, H/k)`` tosses of the model fitted to set ``t`` and ``Z ~ Hypergeom(k, H, c)``
    tosses carried over from set ``t`` without replacement, independent given ``H``. ``replace``
    (``m = c = 0``) gives :func:`coin_transition_matrix`. At temperature ``τ`` the model tosses
    with probability ``f(H/k)`` (:func:`tempered_heads`) instead of ``H/k``. A curator changes
    only ``Y``'s law (fresh and carried-over tosses are never curated): ``Binom(s, g(f(H/k)))``
    with a heads map ``g``, ``kept_law(f(H/k), s)`` with a kept law
    (:func:`coin_synthetic_law`).

    Parameters
    ----------
    k
        Tosses per generation.
    p0
        The truth (enters only through the fresh tosses).
    parts
        :func:`pieces` of the policy; must be of kind ``"mix"``.
    heads_map, kept_law
        A curator's law of the model's group (at most one; see :data:`HeadsMap`,
        :data:`KeptLaw`).

    Returns
    -------
    ndarray
        ``[k + 1, k + 1]``, rows summing to 1.
    """
    if parts.kind != "mix":
        raise ValueError("the head count is a finite Markov chain only under mix/replace")
    m, s, c = parts.real, parts.synthetic, parts.carry
    fresh = binomial_pmf(np.arange(m + 1), m, p0)
    matrix = np.zeros((k + 1, k + 1))
    for heads in range(k + 1):
        model = coin_synthetic_law(heads / k, s, temperature, heads_map=heads_map,
                                   kept_law=kept_law)
        carried = hypergeometric_pmf(np.arange(c + 1), k, heads, c) if c else np.ones(1)
        row = np.convolve(np.convolve(fresh, model), carried)
        matrix[heads, : row.size] = row
    return matrix


def coin_mix_law(p0: float, k: int, n_generations: int, parts: Pieces,
                 temperature: float = 1.0, *, heads_map: HeadsMap | None = None,
                 kept_law: KeptLaw | None = None) -> np.ndarray:
    """Exact law of ``p_t = H_t / k`` under ``mix`` (and ``replace``) for ``t = 1..G``.

    Generation 1 is ``Binom(k, p0)``; each later generation applies
    :func:`coin_mix_transition_matrix`. With fresh tosses (``m > 0``) the chain is irreducible, so
    ``p_t`` never sticks and its law tends to the stationary law of :func:`coin_mix_stationary`.

    Returns
    -------
    ndarray
        ``[G, k + 1]``; row ``t − 1`` is ``P(H_t = j)``.
    """
    matrix = coin_mix_transition_matrix(k, p0, parts, temperature, heads_map=heads_map,
                                        kept_law=kept_law)
    law = np.empty((n_generations, k + 1))
    law[0] = binomial_pmf(np.arange(k + 1), k, p0)
    for t in range(1, n_generations):
        law[t] = law[t - 1] @ matrix
    return law


def coin_mix_stationary(p0: float, k: int, parts: Pieces,
                        temperature: float = 1.0, *, heads_map: HeadsMap | None = None,
                        kept_law: KeptLaw | None = None) -> tuple[np.ndarray, float, float]:
    """Stationary law of the head count under ``mix`` with fresh tosses, and ``E p``, ``Var p``.

    Solves ``π P = π``, ``Σ π = 1`` for the irreducible chain (``m ≥ 1`` fresh tosses). Without
    fresh tosses the chain is absorbed at 0 or ``k`` and there is no unique stationary law.
    """
    if parts.real < 1:
        raise ValueError("a stationary law needs at least one fresh toss per generation")
    matrix = coin_mix_transition_matrix(k, p0, parts, temperature, heads_map=heads_map,
                                        kept_law=kept_law)
    system = np.vstack([matrix.T - np.eye(k + 1), np.ones(k + 1)])
    rhs = np.zeros(k + 2)
    rhs[-1] = 1.0
    law = np.linalg.lstsq(system, rhs, rcond=None)[0]
    law = np.clip(law, 0.0, None)
    law /= law.sum()
    p = np.arange(k + 1) / k
    mean = float(law @ p)
    return law, mean, float(law @ (p - mean) ** 2)


def coin_hitting_cdf(p0: float, k: int, n_generations: int, parts: Pieces,
                     temperature: float = 1.0, *, heads_map: HeadsMap | None = None,
                     kept_law: KeptLaw | None = None) -> np.ndarray:
    """``P(p_s ∈ {0, 1} for some 1 ≤ s ≤ t)`` for ``t = 0..G`` under ``mix``/``replace``.

    The coin's ``absorption_time`` is this first hitting time. Making states 0 and ``k`` absorbing
    in a copy of the chain turns "hit by ``t``" into "in {0, k} at ``t``". Under ``replace`` and
    under ``mix`` without fresh tosses they are absorbing anyway; with fresh tosses ``p_t`` can
    touch 0 or 1 and leave again, and this is the law of the first touch.
    """
    matrix = coin_mix_transition_matrix(k, p0, parts, temperature, heads_map=heads_map,
                                        kept_law=kept_law)
    for edge in (0, k):
        matrix[edge] = 0.0
        matrix[edge, edge] = 1.0
    cdf = np.zeros(n_generations + 1)
    if p0 in (0.0, 1.0):
        cdf[:] = 1.0
        return cdf
    law = binomial_pmf(np.arange(k + 1), k, p0)
    for t in range(1, n_generations + 1):
        cdf[t] = law[0] + law[k]
        law = law @ matrix
    return cdf


def coin_fixation_probability_chain(p0: float, k: int, temperature: float = 1.0, *,
                                    parts: Pieces | None = None,
                                    heads_map: HeadsMap | None = None,
                                    kept_law: KeptLaw | None = None) -> float:
    """``P(p_t → 1)`` under ``replace`` at any temperature, from the absorbing chain.

    With ``Q`` the transient block and ``r`` the column of transitions into ``k`` heads,
    ``b = (I − Q)⁻¹ r`` is each transient state's probability of ending at 1, and
    ``P = P(H_1 = k) + Σ_{0<i<k} P(H_1 = i) b_i``. At ``τ = 1`` this is ``p0`` (a martingale);
    at ``τ ≠ 1`` the tempering map pushes towards the nearer edge (``τ < 1``) or towards ½
    (``τ > 1``), and the probability is no longer ``p0``; nor with a curator (``heads_map``,
    ``kept_law``), or under ``mix`` without fresh tosses (``parts``) with either.
    """
    if p0 <= 0.0 or p0 >= 1.0 or k == 1:
        return float(p0)
    matrix = _absorbing_matrix(k, temperature, parts, heads_map, kept_law)
    q = matrix[1:k, 1:k]
    b = np.linalg.solve(np.eye(k - 1) - q, matrix[1:k, k])
    first = binomial_pmf(np.arange(k + 1), k, p0)
    return float(first[k] + first[1:k] @ b)


def coin_accumulate_hitting_probability(p0: float, k: int) -> float:
    """``P(p_t ∈ {0, 1} for some t)`` under ``accumulate`` (any real fraction): ``p0^k + (1−p0)^k``.

    The pool never loses a toss. Once it holds a head and a tail, every later fit lies strictly
    between 0 and 1; so ``p_t`` touches 0 or 1 only if generation 1's ``k`` tosses all agree, and
    then (without fresh tosses) it stays there for ever.
    """
    return float(p0**k + (1 - p0) ** k)
