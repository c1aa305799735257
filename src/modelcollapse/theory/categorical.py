"""Exact results for the categorical family: support, Gini–Simpson diversity, the last survivor.

Each token's count is a coin chain with ``p0 = q_v`` and ``k = N`` (a multinomial's margins are
binomial, a multivariate hypergeometric's hypergeometric), so ``E support_1 = Σ_v 1 − (1 − q_v)^N``
and, generation by generation, ``E support_t`` follows from per-token chains
(:func:`categorical_expected_support`). Under ``replace`` the Gini–Simpson diversity
``1 − Σ q²`` decays by exactly ``1 − 1/N`` per generation and token ``v`` is the last survivor
with probability ``q_v`` (both from the martingale property of each ``q_v``).
"""

from __future__ import annotations

import numpy as np

from .assembly import Pieces
from .binomial import binomial_pmf
from .coin import coin_mix_law, coin_mix_transition_matrix

#: Entries of the binomial table ``[tokens, N + 1]`` held at once by
#: :func:`categorical_expected_support`.
SUPPORT_CHUNK = 1 << 20


def categorical_expected_support_one(q: np.ndarray, n_samples: int) -> float:
    """``E support_1 = Σ_v 1 − (1 − q_v)^N``: tokens drawn at least once in generation 1."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):  # a token of probability 1: log 0 = −inf, never missed
        return float(np.sum(-np.expm1(n_samples * np.log1p(-q))))


def categorical_expected_support(q: np.ndarray, n_samples: int, n_generations: int,
                                 parts: Pieces) -> np.ndarray:
    """Exact ``E support_t`` for ``t = 0..G`` (``support_0 = V``).

    Each token's count in the training set is a coin chain with ``p0 = q_v`` and ``k = N`` (a
    multinomial's margins are binomial, a multivariate hypergeometric's are hypergeometric), and
    the token is in the model's support iff its count is positive, so
    ``E support_t = Σ_v P(H^v_t > 0)``.

    * ``mix`` without fresh data (``replace`` included): the chain does not depend on ``q_v``,
      so one backward pass gives ``a_t(i) = P(H_t > 0 | H_1 = i)`` for all ``i`` and
      ``E support_t = Σ_i B_i a_t(i)`` with ``B_i = Σ_v Binom(i; N, q_v)``: cost
      ``O(V N + G N²)``.
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
        with np.errstate(divide="ignore"):  # q_v = 1: log 0 = −inf, the token is never gone
            gone = np.exp(draws[:, None] * np.log1p(-np.minimum(q, 1.0))[None, :])
        out[1:] = np.sum(1.0 - gone, axis=1)
        return out
    if parts.kind != "mix":
        raise ValueError(f"no exact support law under {parts.kind}")
    states = np.arange(n + 1)
    if parts.real == 0:
        # Σ_v P(H^v_t > 0) = Σ_i B_i a_t(i), with B_i = Σ_v Binom(i; N, q_v) (the expected number
        # of tokens drawn i times in generation 1) and a_t(i) = P(H_t > 0 | H_1 = i): the tokens
        # enter through B only, summed in chunks of the [V, N + 1] table (memory O(N) per
        # token of a chunk; time O(V N + G N²) instead of O(G V N)).
        drawn = np.zeros(n + 1)
        chunk = max(1, SUPPORT_CHUNK // (n + 1))
        for start in range(0, q.size, chunk):
            drawn += binomial_pmf(states[None, :], n, q[start:start + chunk, None]).sum(axis=0)
        matrix = coin_mix_transition_matrix(n, 0.5, parts)          # p0 unused without m
        alive_from = (states > 0).astype(float)                     # a_1
        for t in range(1, g + 1):
            out[t] = drawn @ alive_from
            alive_from = matrix @ alive_from
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
