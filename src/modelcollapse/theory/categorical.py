"""Exact results for the categorical family: support, Gini–Simpson diversity, the last survivor.

Each token's count is a coin chain with ``p0 = q_v`` and ``k = N`` (a multinomial's margins are
binomial, a multivariate hypergeometric's hypergeometric), so ``E support_1 = Σ_v 1 − (1 − q_v)^N``
and, generation by generation, each token's probability of being alive follows from its chain
(:func:`categorical_alive_sums`): ``E support_t`` is their sum and ``E rare_mass_t`` their
average over the truth's rarest tokens weighted by ``q_v``
(:func:`categorical_expected_rare_mass`). Under ``replace`` the Gini–Simpson diversity
``1 − Σ q²`` decays by exactly ``1 − 1/N`` per generation and token ``v`` is the last survivor
with probability ``q_v`` (both from the martingale property of each ``q_v``).
"""

from __future__ import annotations

import numpy as np

from .assembly import Pieces
from .binomial import binomial_pmf
from .coin import coin_mix_law, coin_mix_transition_matrix

#: Entries of the binomial table ``[tokens, N + 1]`` (or ``[G, tokens]``) held at once by
#: :func:`categorical_alive_sums`.
SUPPORT_CHUNK = 1 << 20


def categorical_expected_support_one(q: np.ndarray, n_samples: int) -> float:
    """``E support_1 = Σ_v 1 − (1 − q_v)^N``: tokens drawn at least once in generation 1."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):  # a token of probability 1: log 0 = −inf, never missed
        return float(np.sum(-np.expm1(n_samples * np.log1p(-q))))


def categorical_alive_sums(q: np.ndarray, n_samples: int, n_generations: int, parts: Pieces,
                           weights: np.ndarray) -> np.ndarray:
    """Exact ``Σ_v W[v, j] P(token v alive at t)`` for ``t = 0..G``, ``[G + 1, J]``.

    The core of :func:`categorical_expected_support`, :func:`categorical_alive_probability` and
    :func:`categorical_expected_rare_mass`: each token's count in the training set is a coin
    chain with ``p0 = q_v`` and ``k = N`` (a multinomial's margins are binomial, a multivariate
    hypergeometric's are hypergeometric), and the token is in the model's support iff its count
    is positive. A token of probability 0 is never alive (at ``t = 0`` neither: the truth's
    support is its tokens of positive probability).

    * ``mix`` without fresh data (``replace`` included): the chain does not depend on ``q_v``,
      so one backward pass gives ``a_t(i) = P(H_t > 0 | H_1 = i)`` for all ``i`` and
      ``Σ_v W_v P(alive) = Σ_i B_i a_t(i)`` with ``B_i = Σ_v W_v Binom(i; N, q_v)``: cost
      ``O(V N J + G N² )``.
    * ``mix`` with fresh data: one forward pass per distinct ``q_v``: cost ``O(V G N²)``.
    * ``accumulate``: a token never leaves the pool, and only fresh data can add one the pool
      lacks, so ``P(gone at t) = (1 − q_v)^{N + (t − 1) m}``.

    ``accumulate-subsample`` has no such closed form: :class:`ValueError`.

    Parameters
    ----------
    weights
        ``[V, J]``: ``J`` weightings of the tokens (a column of ones: the support).
    """
    q = np.asarray(q, dtype=float)
    weights = np.asarray(weights, dtype=float).reshape(q.size, -1)
    n, g = n_samples, n_generations
    out = np.empty((g + 1, weights.shape[1]))
    out[0] = (q > 0).astype(float) @ weights
    if g == 0:
        return out
    if parts.kind == "accumulate":
        draws = n + parts.real * np.arange(g)            # fresh draws seen by generation t
        chunk = max(1, SUPPORT_CHUNK // max(g, 1))
        out[1:] = 0.0
        for start in range(0, q.size, chunk):
            part = np.minimum(q[start:start + chunk], 1.0)
            with np.errstate(divide="ignore"):  # q_v = 1: log 0 = −inf, never gone
                gone = np.exp(draws[:, None] * np.log1p(-part)[None, :])
            out[1:] += (1.0 - gone) @ weights[start:start + chunk]
        return out
    if parts.kind != "mix":
        raise ValueError(f"no exact support law under {parts.kind}")
    states = np.arange(n + 1)
    if parts.real == 0:
        # Σ_v W_v P(H^v_t > 0) = Σ_i B_i a_t(i), with B_i = Σ_v W_v Binom(i; N, q_v) (the
        # weighted number of tokens drawn i times in generation 1) and a_t(i) = P(H_t > 0 |
        # H_1 = i): the tokens enter through B only, summed in chunks of the [V, N + 1] table
        # (memory O(N) per token of a chunk; time O(V N + G N²) instead of O(G V N)).
        drawn = np.zeros((n + 1, weights.shape[1]))
        chunk = max(1, SUPPORT_CHUNK // (n + 1))
        for start in range(0, q.size, chunk):
            table = binomial_pmf(states[None, :], n, q[start:start + chunk, None])
            drawn += table.T @ weights[start:start + chunk]
        matrix = coin_mix_transition_matrix(n, 0.5, parts)          # p0 unused without m
        alive_from = (states > 0).astype(float)                     # a_1
        for t in range(1, g + 1):
            out[t] = alive_from @ drawn
            alive_from = matrix @ alive_from
        return out
    values, inverse = np.unique(q, return_inverse=True)
    gone = np.empty((g, values.size))
    for j, value in enumerate(values):
        law = coin_mix_law(float(value), n, g, parts)
        gone[:, j] = law[:, 0]
    # the weights of each distinct probability, summed: [distinct, J]
    grouped = np.zeros((values.size, weights.shape[1]))
    np.add.at(grouped, inverse.ravel(), weights)
    out[1:] = (1.0 - gone) @ grouped
    return out


def categorical_expected_support(q: np.ndarray, n_samples: int, n_generations: int,
                                 parts: Pieces) -> np.ndarray:
    """Exact ``E support_t = Σ_v P(token v alive at t)`` for ``t = 0..G`` (``support_0 = V``).

    See :func:`categorical_alive_sums` for the per-token chains and what each policy costs.
    """
    q = np.asarray(q, dtype=float)
    return categorical_alive_sums(q, n_samples, n_generations, parts, np.ones(q.size))[:, 0]


def categorical_alive_probability(q: np.ndarray, n_samples: int, n_generations: int,
                                  parts: Pieces, tokens: np.ndarray | None = None) -> np.ndarray:
    """``P(token v alive at t)`` for ``t = 0..G`` and each token of ``tokens`` (default: all).

    Returns ``[G + 1, len(tokens)]`` (memory ``G × len(tokens)``: select the tokens needed).
    Their sum over all tokens is :func:`categorical_expected_support`.
    """
    q = np.asarray(q, dtype=float)
    index = np.arange(q.size) if tokens is None else np.asarray(tokens, dtype=np.int64)
    weights = np.zeros((q.size, index.size))
    weights[index, np.arange(index.size)] = 1.0
    return categorical_alive_sums(q, n_samples, n_generations, parts, weights)


def categorical_expected_rare_mass(q: np.ndarray, n_samples: int, n_generations: int,
                                   parts: Pieces, share: float | None = None) -> np.ndarray:
    """Exact ``E rare_mass_t = Σ_{v rare} q_v P(v alive at t) / Σ_{v rare} q_v``, ``t = 0..G``.

    The rare tokens are the truth's rarest holding (at most) ``share`` of its mass, at least
    one (:func:`~modelcollapse.families.discrete.rarest_tokens`, the metric's own definition;
    ``share`` defaults to the metric's, :data:`~modelcollapse.families.categorical.RARE_SHARE`).
    Linear in the per-token alive probabilities of :func:`categorical_alive_sums`.
    """
    from ..families.categorical import RARE_SHARE
    from ..families.discrete import rarest_tokens

    q = np.asarray(q, dtype=float)
    rare = rarest_tokens(q, RARE_SHARE if share is None else share)
    weight = np.where(rare, q, 0.0)
    weight = weight / weight.sum()
    return categorical_alive_sums(q, n_samples, n_generations, parts, weight)[:, 0]


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
