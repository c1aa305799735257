"""Exact theory for curated runs: the law of what a curator keeps, and what it does to the loop.

A curator (:mod:`modelcollapse.curation`) changes only the law of the model's group of a training
set; fresh and carried-over data are never curated, and training set 1 (fresh truth) never is.
So wherever the uncurated theory is a chain or a map over the model's group, the curated theory
is the same chain or map with the curator's *kept law* in place of the model's.

Coin (exact, the ``(k + 1)``-state head-count chain of :mod:`.coin`)
    With ``p̃`` the model's toss probability after its sampling temperature:

    * best-of ``K`` with rewards ``(r0, r1)`` keeps independent tosses, heads with probability
      ``g(p̃) = Σ_j Binom(j; K, p̃) · j e^{r1} / (j e^{r1} + (K − j) e^{r0})``
      (:func:`coin_best_of_heads`);
    * the verifier, with acceptances ``a_x = ε + (1 − ε)(q_x / max q)^s`` for the truth's
      ``q = (1 − p0, p0)``, keeps independent tosses of ``g(p̃) = p̃ a1 / (p̃ a1 + (1 − p̃) a0)``
      (:func:`coin_verifier_heads`), exactly unless a replicate exhausts its budget of
      :data:`~modelcollapse.curation.MAX_CANDIDATES` ``· S`` candidates; that has probability
      ``P(Binom(64 S, α) < S)`` for an acceptance rate ``α`` (:func:`verifier_shortfall`),
      bounded over a run by :func:`coin_verifier_shortfall_bound`;
    * top and bottom keep ``S`` of ``m = ⌈S/q⌉`` candidates by the model's likelihood: with
      ``J ~ Binom(m, p̃)`` heads drawn, top keeps ``min(J, S)`` heads when ``p̃ > ½`` (heads are
      the likelier side), ``S − min(m − J, S)`` when ``p̃ < ½``, and the first ``S`` in draw order
      (``Binom(S, ½)``) when ``p̃ = ½``; bottom the reverse (:func:`coin_filter_kept_law`);
    * reweight resamples ``S`` with replacement with weights ``w_x = (q_x / p̃_x)^β``: given
      ``J``, ``Binom(S, J w1 / (J w1 + (m − J) w0))`` heads (:func:`coin_reweight_kept_law`).

    The last two kept counts are not binomial; the chains take the whole law
    (:func:`~modelcollapse.theory.coin.coin_mix_transition_matrix`'s ``kept_law``).
Categorical (the large-N limit, not exact at finite N)
    As ``N → ∞`` the fitted frequencies follow their expectations and a training set of fresh,
    model and carried-over shares ``a, b, c`` maps ``q`` to ``a q0 + b T(q) + c q``
    (:func:`categorical_curated_limit`), ``T`` the kept law of a model ``q``: the verifier
    ``T(q) ∝ q̃_v a_v`` (:func:`categorical_verifier_kept`), best-of
    ``T(q)_v = K q̃_v e^{r_v} ∫_0^∞ e^{−λ e^{r_v}} M(λ)^{K−1} dλ`` with
    ``M(λ) = Σ_u q̃_u e^{−λ e^{r_u}}`` (:func:`categorical_best_of_kept`, since
    ``1/x = ∫_0^∞ e^{−λx} dλ``), top and bottom the model truncated to its likeliest or least
    likely mass ``q`` (:func:`categorical_filter_kept`), reweight ``∝ q̃^{1−β} q0^β``
    (:func:`categorical_reweight_kept`); ``q̃`` is ``q`` at the sampling temperature.
Gaussian, oracle or shifted verifier with ``ε = 0`` (exact)
    The acceptance ``exp(−s (x − μ0 − δ)² / (2σ0²))`` is a Gaussian factor, so the kept law of
    a normal model is exactly normal (a product of Gaussians; it is a *soft* acceptance, so no
    truncated-normal moments enter): precision ``1/v + s/σ0²``, mean
    ``(m/v + s(μ0 + δ)/σ0²) / precision`` (:func:`gaussian_verifier_kept`). Under ``replace``
    with the fit's divisor ``D``, ``var_{t+1} = v_kept χ²_{N−1} / D`` with the χ² independent of
    the past, so ``E[1/var_{t+1}] = D/(N − 3) · (E[1/var_t]/λ² + s/σ0²)`` exactly
    (:func:`gaussian_verifier_inverse_var`); ``E var_t`` is not linear in the past and is not
    given.

Everything here is numpy only (a coin's prediction never loads scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..curation import MAX_CANDIDATES, MAX_K, BestOf, Bottom, Curator, Reweight, Top, Verifier
from .binomial import binomial_pmf
from .coin import HeadsMap, KeptLaw, tempered_heads

#: Trapezoidal step in ``log λ`` of :func:`categorical_best_of_kept`. The integrand
#: ``λ e^{−λ w} M(λ)^{K−1}`` is analytic and bounded in the strip ``|Im log λ| < π/2``, so the
#: rule's error is of order ``e^{−2π · 1.2 / h}`` ≈ 1e-16 at ``h = 0.2``.
BEST_OF_STEP = 0.2
#: The quadrature starts at ``λ = e^{−30}`` (the part below, ``≈ λ``, is added in closed form)
#: and ends where ``e^{−λ w_min}`` is below ``e^{−60}``.
BEST_OF_LOG_LOW = -30.0
BEST_OF_DECAY = 60.0

#: The largest probability, over a whole run, that some generation of a replicate exhausts the
#: verifier's budget, below which the coin's verifier chain is given as exact.
SHORTFALL_TOLERANCE = 1e-9


def candidates(n_units: int, keep: float) -> int:
    """``m = ⌈S/q⌉`` (at most ``MAX_K · S``): top's, bottom's and reweight's candidates."""
    return min(math.ceil(n_units / keep - 1e-9), MAX_K * n_units)


def accept_share(curator: Curator, n_units: int) -> float | None:
    """The kept share of candidates where it is fixed (``S`` kept of a fixed number drawn), or
    ``None`` (the verifier's is random). Best-of: ``1/K``; top, bottom, reweight: ``S/m``."""
    if n_units == 0:
        return 1.0
    if isinstance(curator, BestOf):
        return 1.0 / curator.k
    if isinstance(curator, (Top, Bottom, Reweight)):
        return n_units / candidates(n_units, curator.keep)
    return None


# -- coin: the kept heads -----------------------------------------------------------------------


def coin_best_of_heads(p: np.ndarray | float, rewards: np.ndarray, k: int) -> np.ndarray:
    """``g(p) = Σ_j Binom(j; K, p) · j e^{r1} / (j e^{r1} + (K − j) e^{r0})``.

    The probability that best-of ``K`` keeps heads when each candidate is heads with
    probability ``p``: given ``j`` heads among the ``K``, one of them is kept with probability
    ``j e^{r1} / (j e^{r1} + (K − j) e^{r0})`` (Bradley–Terry over the ``K``). The ratio is taken
    as ``1 / (1 + ((K − j)/j) e^{r0 − r1})``, so reward gaps beyond the float range give its
    limits (0, or 1 at ``j = K``) rather than NaN.
    """
    p = np.asarray(p, dtype=float)
    r0, r1 = (float(x) for x in np.asarray(rewards, dtype=float))
    j = np.arange(k + 1, dtype=float)
    kept = (j == k).astype(float)
    inner = (j > 0) & (j < k)
    with np.errstate(over="ignore"):
        odds = (k - j[inner]) / j[inner] * np.exp(np.float64(r0 - r1))
    kept[inner] = 1.0 / (1.0 + odds)
    pmf = binomial_pmf(j, k, p[..., None])
    return pmf @ kept


def coin_verifier_acceptance(p0: float, strictness: float,
                             false_accept: float) -> tuple[float, float]:
    """``(a0, a1)``: ``a_x = ε + (1 − ε)(q_x / max q)^s`` for the truth ``q = (1 − p0, p0)``."""
    q = np.array([1.0 - p0, p0])
    with np.errstate(divide="ignore"):
        relative = np.where(q > 0, (q / q.max()) ** strictness, 0.0)
    a = false_accept + (1.0 - false_accept) * relative
    return float(a[0]), float(a[1])


def coin_verifier_heads(p: np.ndarray | float, p0: float, strictness: float,
                        false_accept: float) -> np.ndarray:
    """``g(p) = p a1 / (p a1 + (1 − p) a0)``: the verifier's kept law of one toss.

    The kept candidates are the first ``S`` accepted of an i.i.d. sequence, so they are i.i.d.
    draws of the kept law (as long as the budget is not exhausted: :func:`verifier_shortfall`).
    ``g(0) = 0`` and ``g(1) = 1`` (every candidate the same side, whatever is accepted).
    """
    p = np.asarray(p, dtype=float)
    a0, a1 = coin_verifier_acceptance(p0, strictness, false_accept)
    accepted = p * a1 + (1.0 - p) * a0
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(accepted > 0, p * a1 / np.where(accepted > 0, accepted, 1.0), 0.0)
    return np.where(p <= 0.0, 0.0, np.where(p >= 1.0, 1.0, g))


def verifier_shortfall(rate: np.ndarray | float, n_units: int) -> np.ndarray:
    """``P(Binom(MAX_CANDIDATES · S, α) < S)``: a replicate falls short of ``S`` acceptances.

    The verifier draws i.i.d. candidates until every replicate of its block has ``S`` accepted
    or ``MAX_CANDIDATES · S`` were drawn; a replicate is short exactly when its first
    ``MAX_CANDIDATES · S`` candidates hold fewer than ``S`` accepted (each with probability
    ``α``, the model's acceptance rate). It is then filled with rejected candidates.
    """
    rate = np.asarray(rate, dtype=float)
    budget = MAX_CANDIDATES * n_units
    j = np.arange(n_units, dtype=float)
    return binomial_pmf(j, budget, rate[..., None]).sum(axis=-1)


def coin_verifier_shortfall_bound(p0: float, k: int, n_units: int, strictness: float,
                                  false_accept: float, temperature: float,
                                  n_curated: int) -> float:
    """A bound on the probability that a replicate ever exhausts the verifier's budget.

    Only states ``0 < p < 1`` matter: at ``p ∈ {0, 1}`` every candidate is the same toss, and
    filling with rejected ones keeps the same tosses. The acceptance rate
    ``α(p̃) = p̃ a1 + (1 − p̃) a0`` is linear in ``p̃``, so over the states ``1..k−1`` it is
    least at ``p = 1/k`` or ``(k − 1)/k``; with ``n_curated`` curated generations, the union
    bound gives ``n_curated · max_state P(Binom(64 S, α) < S)``, a bound on the total
    variation between the simulated law of the whole path and the chain's.
    """
    if k < 2 or n_curated <= 0 or n_units == 0:
        return 0.0
    a0, a1 = coin_verifier_acceptance(p0, strictness, false_accept)
    edges = tempered_heads(np.array([1.0 / k, (k - 1.0) / k]), temperature)
    rate = float(np.min(edges * a1 + (1.0 - edges) * a0))
    return float(min(1.0, n_curated * float(verifier_shortfall(rate, n_units))))


def coin_verifier_accept_rate(rate: np.ndarray | float, n_units: int) -> np.ndarray:
    """``E accept_rate`` of one verified group, ``E[S / T]``, exactly (budget included).

    ``T``, the candidates up to the ``S``-th acceptance, is negative binomial:
    ``P(T = n) = (S/n) Binom(S; n, α)`` for ``n ≥ S``; a replicate short after
    ``B = MAX_CANDIDATES · S`` candidates records ``S / B``.
    """
    rate = np.atleast_1d(np.asarray(rate, dtype=float))
    budget = MAX_CANDIDATES * n_units
    n = np.arange(n_units, budget + 1, dtype=float)
    out = np.empty(rate.shape)
    for i, alpha in enumerate(rate.ravel()):
        if alpha >= 1.0:
            out.flat[i] = 1.0
            continue
        if alpha <= 0.0:
            out.flat[i] = n_units / budget
            continue
        hit = n_units / n * binomial_pmf(n_units, n, alpha)
        done = float(hit.sum())
        out.flat[i] = float(hit @ (n_units / n)) + max(0.0, 1.0 - done) * n_units / budget
    return out


def coin_filter_kept_law(p: float, n_units: int, keep: float, *, likely: bool) -> np.ndarray:
    """The law of the heads among ``S`` kept of ``m = ⌈S/q⌉`` tosses (top: ``likely``).

    The model ranks a toss by its own likelihood: heads are the likelier side when ``p > ½``
    (after the sampling temperature, which keeps the side of ½). The favoured side (the likelier
    for top, the less likely for bottom) fills the ``S`` kept units first: of
    ``F ~ Binom(m, p_F)`` drawn, ``min(F, S)`` are kept. At ``p = ½`` every toss ties, and the
    first ``S`` in draw order are kept: ``Binom(S, ½)``.
    """
    m = candidates(n_units, keep)
    s = n_units
    if m == s or p == 0.5 or p <= 0.0 or p >= 1.0:
        return binomial_pmf(np.arange(s + 1), s, p)
    heads_favoured = (p > 0.5) == likely
    favoured = binomial_pmf(np.arange(m + 1), m, p if heads_favoured else 1.0 - p)
    law = np.zeros(s + 1)
    law[:s] = favoured[:s]
    law[s] = max(0.0, 1.0 - float(favoured[:s].sum()))
    return law if heads_favoured else law[::-1].copy()


def coin_reweight_kept_law(p: float, p0: float, n_units: int, keep: float,
                           power: float) -> np.ndarray:
    """The law of the heads among ``S`` resampled from ``m = ⌈S/q⌉`` tosses of ``p``.

    Weights ``w1 = (p0/p)^β``, ``w0 = ((1 − p0)/(1 − p))^β`` (the truth over the proposal, the
    model at its sampling temperature); given ``J ~ Binom(m, p)`` heads drawn, each of the ``S``
    draws with replacement is heads with probability ``π_J = J w1 / (J w1 + (m − J) w0)``
    (``J/m`` if every weight is 0, as the simulator falls back to equal weights).
    """
    m = candidates(n_units, keep)
    s = n_units
    if p <= 0.0 or p >= 1.0:
        return binomial_pmf(np.arange(s + 1), s, p)
    j = np.arange(m + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        score1 = power * (math.log(p0) - math.log(p)) if p0 > 0 else -math.inf
        score0 = power * (math.log1p(-p0) - math.log1p(-p)) if p0 < 1 else -math.inf
        if power == 0.0:
            score0 = score1 = 0.0
        if math.isinf(score1) and math.isinf(score0):
            heads = j / m
        elif math.isinf(score1):
            heads = np.where(j == m, 1.0, 0.0)
        elif math.isinf(score0):
            heads = np.where(j == 0, 0.0, 1.0)
        else:
            with np.errstate(over="ignore"):
                odds = (m - j) / np.maximum(j, 1.0) * np.exp(np.float64(score0 - score1))
            heads = np.where(j == 0, 0.0, np.where(j == m, 1.0, 1.0 / (1.0 + odds)))
    drawn = binomial_pmf(j, m, p)
    live = drawn > 0
    laws = binomial_pmf(np.arange(s + 1)[None, :], s, heads[live][:, None])
    return drawn[live] @ laws


@dataclass(frozen=True)
class CoinCuration:
    """A curator's effect on the coin's chain.

    Attributes
    ----------
    heads_map
        ``p̃ → g(p̃)`` for curators that keep independent tosses (best-of, verifier), else
        ``None``.
    kept_law
        ``(p̃, s) → pmf`` of the kept heads otherwise (top, bottom, reweight).
    rate
        ``p̃ → α(p̃)``, the verifier's acceptance rate (``None`` for the others).
    cost
        Multiply-adds to tabulate one row of the transition matrix (a budget hint).
    words
        What the chain's model group is, for labels (``"best-of K = 4"``).
    """

    heads_map: HeadsMap | None
    kept_law: KeptLaw | None
    rate: Callable[[float], float] | None
    cost: float
    words: str


def coin_curation(curator: Curator, p0: float, n_units: int,
                  rewards: np.ndarray | None) -> CoinCuration:
    """The :class:`CoinCuration` of a non-identity curator for a coin of truth ``p0`` whose
    model's group has ``S = n_units`` tosses (``rewards``: ``(r0, r1)`` for best-of)."""
    if isinstance(curator, BestOf):
        if rewards is None:
            raise ValueError("best-of needs the reward (r0, r1)")
        values = np.asarray(rewards, dtype=float)
        k = curator.k
        return CoinCuration(lambda p: float(coin_best_of_heads(p, values, k)), None, None,
                            float(k + n_units), f"best-of K = {k}")
    if isinstance(curator, Verifier):
        a0, a1 = coin_verifier_acceptance(p0, curator.strictness, curator.false_accept)
        s, eps = curator.strictness, curator.false_accept
        return CoinCuration(lambda p: float(coin_verifier_heads(p, p0, s, eps)), None,
                            lambda p: p * a1 + (1.0 - p) * a0, float(n_units),
                            f"verifier s = {s:g}, ε = {eps:g}")
    if isinstance(curator, (Top, Bottom)):
        likely = isinstance(curator, Top)
        keep = curator.keep
        m = candidates(n_units, keep)
        return CoinCuration(None, lambda p, s: coin_filter_kept_law(p, s, keep, likely=likely),
                            None, float(m), f"{curator.name} q = {keep:g}")
    if isinstance(curator, Reweight):
        keep, power = curator.keep, curator.power
        m = candidates(n_units, keep)
        return CoinCuration(None,
                            lambda p, s: coin_reweight_kept_law(p, p0, s, keep, power),
                            None, float((m + 1) * (n_units + 1)),
                            f"reweight q = {keep:g}, β = {power:g}")
    raise ValueError(f"no coin theory for curator {curator.name}")


# -- categorical: the kept law of a model, and the large-N limit --------------------------------


def categorical_verifier_kept(q: np.ndarray, q0: np.ndarray, strictness: float,
                              false_accept: float, n_units: int | None = None
                              ) -> tuple[np.ndarray, float]:
    """The verifier's kept law ``∝ q_v a_v`` and the acceptance rate ``α = Σ q_v a_v``.

    ``a_v = ε + (1 − ε)(q0_v / max q0)^s``. ``n_units = None`` is the large-``S`` limit of the
    budget: a replicate with ``α < 1/MAX_CANDIDATES`` keeps its ``MAX_CANDIDATES · S α``
    accepted candidates and fills the rest with rejected ones, so the kept law is
    ``MAX_CANDIDATES q a + (1 − MAX_CANDIDATES α) q (1 − a)/(1 − α)``; with ``n_units`` the
    plain kept law is returned (exact when :func:`verifier_shortfall` is negligible).
    """
    q, q0 = np.asarray(q, dtype=float), np.asarray(q0, dtype=float)
    with np.errstate(divide="ignore"):
        relative = np.where(q0 > 0, (q0 / q0.max()) ** strictness, 0.0)
    a = false_accept + (1.0 - false_accept) * relative
    alpha = float(q @ a)
    if alpha <= 0.0:
        return q.copy(), 0.0
    kept = q * a / alpha
    if n_units is None and alpha < 1.0 / MAX_CANDIDATES:
        rejected = q * (1.0 - a) / (1.0 - alpha)
        kept = MAX_CANDIDATES * q * a + (1.0 - MAX_CANDIDATES * alpha) * rejected
    return kept, alpha


def categorical_best_of_kept(q: np.ndarray, rewards: np.ndarray, k: int) -> np.ndarray:
    """Best-of ``K``'s kept law ``T_v = K q_v w_v ∫_0^∞ e^{−λ w_v} M(λ)^{K−1} dλ``.

    ``w_v = e^{r_v − max r}`` (the choice is invariant to a common shift of the rewards) and
    ``M(λ) = Σ_u q_u e^{−λ w_u}``: with ``1/x = ∫_0^∞ e^{−λx} dλ``,
    ``E[w_v / (w_v + Σ_{j=2}^K w_{X_j})] = w_v ∫ e^{−λ w_v} M(λ)^{K−1} dλ``.

    Computed by the trapezoidal rule in ``x = log λ`` with step :data:`BEST_OF_STEP` from
    ``λ = e^{−30}`` (below, the integrand is ``λ`` to within ``e^{−30}``, added in closed form)
    to ``λ = e^{60}/w_min``; for an integrand analytic and bounded in a strip the rule
    converges geometrically, here to about 1e-12 relative (tested against enumeration of every
    ``K``-tuple). Tokens with equal rewards share one integral; the cost is ``O(D · nodes)``
    for ``D`` distinct rewards among the tokens alive.
    """
    q = np.asarray(q, dtype=float)
    r = np.asarray(rewards, dtype=float)
    out = np.zeros(q.size)
    alive = q > 0
    if k == 1:
        return q.copy()
    if not alive.any():
        return out
    top = r[alive].max()
    distinct, inverse = np.unique(r[alive] - top, return_inverse=True)
    inverse = inverse.ravel()
    mass = np.zeros(distinct.size)
    np.add.at(mass, inverse, q[alive])
    w = np.exp(distinct)                    # (0, 1], the largest 1
    w_min = max(float(w.min()), 1e-300)
    x = np.arange(BEST_OF_LOG_LOW, math.log(BEST_OF_DECAY / w_min) + BEST_OF_STEP, BEST_OF_STEP)
    lam = np.exp(x)
    with np.errstate(under="ignore"):
        decay = np.exp(-np.outer(w, lam))          # [D, nodes]
        big_m = mass @ decay                       # M(λ) at the nodes
        power = big_m ** (k - 1)
        integrand = decay * (lam * power)[None, :]  # λ e^{−λ w} M^{K−1}, d λ = λ dx
    integral = BEST_OF_STEP * (integrand.sum(axis=1) - 0.5 * (integrand[:, 0] + integrand[:, -1]))
    integral += lam[0]  # ∫_0^{λ_0} e^{−λ w} M^{K−1} dλ = λ_0 (1 − O(λ_0))
    per_token = k * w * integral                    # T_v / q_v for each distinct reward
    out[alive] = q[alive] * per_token[inverse]
    # The exact T sums to Σ q; the rule's error (≈ 1e-15) is removed, since the map off the
    # simplex is unstable (a mass 1 + δ maps to about (1 + δ)^K, so δ grows K-fold when
    # iterated).
    return out * (q.sum() / out.sum())


def categorical_filter_kept(q_sampled: np.ndarray, q_fitted: np.ndarray, keep: float, *,
                            likely: bool) -> np.ndarray:
    """Top's (``likely``) or bottom's kept law in the large-``S`` limit.

    The ``⌈S/q⌉`` candidates' frequencies tend to ``q̃`` (the sampled law), and the ``S`` kept
    are those of highest (lowest) likelihood under the fitted ``q``: the kept law fills mass
    ``q`` from the likeliest (least likely) token down, each token with its ``q̃`` share; a
    group of tokens of equal ``q`` is cut in proportion to ``q̃`` (ties go to the earlier draw,
    a uniformly random tie-break).
    """
    sampled, fitted = np.asarray(q_sampled, dtype=float), np.asarray(q_fitted, dtype=float)
    alive = sampled > 0
    levels = np.unique(fitted[alive])
    if likely:
        levels = levels[::-1]
    out = np.zeros(sampled.size)
    room = keep
    for level in levels:
        members = alive & (fitted == level)
        mass = float(sampled[members].sum())
        take = min(mass, room)
        if take > 0:
            out[members] = sampled[members] * (take / mass)
        room -= take
        if room <= 0:
            break
    return out / keep


def categorical_reweight_kept(q_sampled: np.ndarray, q0: np.ndarray, power: float) -> np.ndarray:
    """Reweight's kept law in the large-``S`` limit: ``∝ q̃_v (q0_v / q̃_v)^β``."""
    sampled, q0 = np.asarray(q_sampled, dtype=float), np.asarray(q0, dtype=float)
    alive = sampled > 0
    out = np.zeros(sampled.size)
    with np.errstate(divide="ignore"):
        log_w = power * (np.log(q0[alive]) - np.log(sampled[alive])) if power else np.zeros(
            int(alive.sum()))
    if not np.isfinite(log_w).any():
        out[alive] = sampled[alive]
        return out / out.sum()
    log_w = log_w - log_w[np.isfinite(log_w)].max()
    with np.errstate(under="ignore"):
        out[alive] = sampled[alive] * np.exp(log_w)
    return out / out.sum()


def categorical_kept_map(curator: Curator, q0: np.ndarray, temperature: float,
                         rewards: np.ndarray | None
                         ) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    """``q → (T(q), accepted share)``: a curator's kept law of the fitted model ``q`` in the
    large-``S`` limit, the sampling temperature included; the share is the verifier's
    acceptance rate (at least ``1/MAX_CANDIDATES``) and the fixed share of the others."""
    from ..families.discrete import tempered

    def sampled(q: np.ndarray) -> np.ndarray:
        return np.asarray(tempered(q[None], temperature)[0], dtype=float)

    if isinstance(curator, Verifier):
        s, eps = curator.strictness, curator.false_accept

        def verified(q):
            kept, alpha = categorical_verifier_kept(sampled(q), q0, s, eps)
            return kept, max(alpha, 1.0 / MAX_CANDIDATES)
        return verified
    if isinstance(curator, BestOf):
        if rewards is None:
            raise ValueError("best-of needs the rewards")
        values = np.asarray(rewards, dtype=float)
        return lambda q: (categorical_best_of_kept(sampled(q), values, curator.k),
                          1.0 / curator.k)
    if isinstance(curator, (Top, Bottom)):
        likely = isinstance(curator, Top)
        return lambda q: (categorical_filter_kept(sampled(q), q, curator.keep, likely=likely),
                          curator.keep)
    if isinstance(curator, Reweight):
        return lambda q: (categorical_reweight_kept(sampled(q), q0, curator.power),
                          curator.keep)
    raise ValueError(f"no categorical theory for curator {curator.name}")


def categorical_curated_limit(q0: np.ndarray, n_generations: int, shares: tuple[float, float,
                              float], kept: Callable[[np.ndarray], tuple[np.ndarray, float]],
                              rewards: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The large-N limit of a curated categorical loop, ``t = 0..G``.

    ``q_0 = q_1 = q0`` (generation 1 is fitted to the truth's own tokens) and
    ``q_{t+1} = a q0 + b T(q_t) + c q_t`` with the fresh, model and carried-over shares
    ``(a, b, c)`` (carried-over tokens are a subsample of the last training set, whose
    frequencies are ``q_t``). Returns ``entropy``, ``gini_simpson``, ``tv`` and (with
    ``rewards``) ``reward = Σ q_v r_v`` of the limit, and ``accept`` (the limit of the kept
    share of candidates, 1 at ``t ≤ 1``).
    """
    a, b, c = shares
    q0 = np.asarray(q0, dtype=float)
    q = q0.copy()
    g = n_generations
    out = {name: np.empty(g + 1) for name in ("entropy", "gini_simpson", "tv", "accept")}
    if rewards is not None:
        out["reward"] = np.empty(g + 1)
    share = 1.0
    for t in range(g + 1):
        if t >= 2:
            curated, share = kept(q)
            q = a * q0 + b * curated + c * q
            q /= q.sum()  # against rounding drift over many generations (Σ q = 1 exactly)
        alive = q > 0
        out["entropy"][t] = 0.0 - float(np.sum(q[alive] * np.log(q[alive])))
        out["gini_simpson"][t] = 1.0 - float(q @ q)
        out["tv"][t] = 0.5 * float(np.abs(q - q0).sum())
        out["accept"][t] = share if t >= 2 and b > 0 else 1.0
        if rewards is not None:
            out["reward"][t] = float(q @ rewards)
    return out


# -- gaussian: the oracle or shifted verifier with ε = 0 ----------------------------------------


def gaussian_verifier_kept(mean: np.ndarray | float, var: np.ndarray | float, mean0: float,
                           var0: float, strictness: float, shift: float = 0.0
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kept law and acceptance rate of the verifier ``a(x) = exp(−s (x − c)² / (2 σ0²))``.

    ``c = μ0 + δ``. A normal model ``N(m, v)`` times the Gaussian factor ``a`` is normal: the
    kept law is ``N(m_k, v_k)`` with ``1/v_k = 1/v + s/σ0²`` and
    ``m_k = v_k (m/v + s c/σ0²)``, and the acceptance rate is
    ``α = E_model a = √(σ0² / (σ0² + s v)) exp(−s (m − c)² / (2(σ0² + s v)))``.

    Returns
    -------
    kept_mean, kept_var, rate
    """
    m, v = np.asarray(mean, dtype=float), np.asarray(var, dtype=float)
    centre = mean0 + shift
    precision = 1.0 / v + strictness / var0
    kept_var = 1.0 / precision
    kept_mean = kept_var * (m / v + strictness * centre / var0)
    spread = var0 + strictness * v
    rate = np.sqrt(var0 / spread) * np.exp(-strictness * (m - centre) ** 2 / (2.0 * spread))
    return kept_mean, kept_var, rate


def gaussian_verifier_inverse_var(var0: float, n_samples: int, n_generations: int,
                                  strictness: float, estimator: str = "mle",
                                  scale: float = 1.0) -> np.ndarray:
    """Exact ``E[1/var_t]``, ``t = 0..G``, under ``replace`` with the verifier (``ε = 0``).

    ``var_1 = var0 χ²_{N−1}/D`` (the truth's own samples), and for ``t ≥ 1`` model ``t`` is
    sampled with variance ``λ² var_t``, the kept law is normal with
    ``1/v_kept = 1/(λ² var_t) + s/σ0²`` (:func:`gaussian_verifier_kept`, whatever the mean and
    the shift), and ``var_{t+1} = v_kept χ²_{N−1}/D`` with the χ² independent of the past. With
    ``E[D/χ²_{N−1}] = D/(N − 3)``:
    ``E[1/var_{t+1}] = D/(N − 3) · (E[1/var_t]/λ² + s/σ0²)`` (``D = N`` for the MLE, ``N − 1``
    unbiased). Infinite for ``N ≤ 3``. Exact as long as no replicate exhausts the verifier's
    budget (then the kept law is not normal).
    """
    if n_samples <= 3:
        raise ValueError("E 1/var_t is infinite for N ≤ 3 (E 1/χ²_{N−1} diverges)")
    d = n_samples if estimator == "mle" else n_samples - 1
    factor = d / (n_samples - 3)
    out = np.empty(n_generations + 1)
    out[0] = 1.0 / var0
    for t in range(1, n_generations + 1):
        out[t] = factor / var0 if t == 1 else factor * (out[t - 1] / scale**2
                                                         + strictness / var0)
    return out
