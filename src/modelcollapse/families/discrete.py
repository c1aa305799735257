"""Sampling and fitting shared by the discrete families (coin, categorical).

Both keep training sets as category counts (:class:`~modelcollapse.training_sets.Counts`), which are
exact sufficient statistics under every policy; the raw-token path (``shortcut=False``) exists to
test that equality in distribution.
"""

from __future__ import annotations

import numpy as np

from ..training_sets import Counts, Dataset, Samples, part_weights
from ..validation import check_float

#: The curators the discrete families support: every one (each scores single tokens).
DISCRETE_CURATORS = ("none", "best-of", "verifier", "top", "bottom", "reweight")

#: The temperatures a discrete family's sampler accepts: far enough from 0 and ∞ that
#: ``log q / τ`` stays finite for every representable ``q > 0``.
TEMPERATURE_RANGE = (1e-3, 1e3)

#: Categories from which :func:`draw_counts` draws a row over its surviving categories only.
SPARSE_DRAW_MIN = 4096


def tempered(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``q^(1/τ)`` renormalised along the last axis: the sampling distribution at temperature τ.

    ``τ < 1`` sharpens towards the most probable category, ``τ > 1`` flattens towards uniform
    over the categories still alive; a category of probability 0 stays at 0 (it cannot be
    revived by sampling), and ``τ = 1`` returns ``probs`` itself. Computed in log space, with
    the largest term factored out, so that no power underflows to an all-zero row.
    """
    p = np.asarray(probs, dtype=float)
    if temperature == 1.0:
        return p
    with np.errstate(divide="ignore"):
        logp = np.log(p) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=-1, keepdims=True)
    return p


def check_temperature(value: float) -> float:
    """A sampling temperature in :data:`TEMPERATURE_RANGE`."""
    low, high = TEMPERATURE_RANGE
    return check_float("temperature", value, low=low, high=high,
                       what=f"a number between {low:g} and {high:g}")


def block_for(values_per_replicate: int, *, budget: int, cap: int) -> int:
    """A power-of-two block size keeping about ``budget`` values in memory per block."""
    size = max(1, budget // max(1, values_per_replicate))
    return int(min(cap, 1 << (size.bit_length() - 1)))


def draw_counts(probs: np.ndarray, n: int, rng: np.random.Generator) -> Counts:
    """Multinomial(n, probs) counts for each row of ``probs[R, V]``.

    numpy draws a multinomial as a chain of binomials over the categories in order, and a
    category of probability 0 draws nothing from the generator (a binomial with ``p = 0``
    returns 0 at once), leaving the chain's state as it was. So a row whose model has lost
    most of its categories (a fitted categorical after a few generations) is drawn over its
    surviving categories only, plus the last one, which receives what is left after the last
    binomial as in numpy's own loop: the same numbers from the same generator, in O(support)
    instead of O(V) generator work (numpy walks all V categories).
    """
    probs = np.asarray(probs)
    rows, v = probs.shape
    if v < SPARSE_DRAW_MIN:
        return Counts(rng.multinomial(n, probs))
    out = np.zeros((rows, v), dtype=np.int64)
    for r in range(rows):
        alive = np.flatnonzero(probs[r])
        if alive.size > v // 4:
            out[r] = rng.multinomial(n, probs[r])
            continue
        if alive.size == 0 or alive[-1] != v - 1:
            alive = np.append(alive, v - 1)
        out[r, alive] = rng.multinomial(n, probs[r, alive])
    return Counts(out)


def draw_tokens(probs: np.ndarray, n: int, rng: np.random.Generator) -> Samples:
    """``n`` token ids per row of ``probs[R, V]`` by inversion of the cumulative distribution.

    The cumulative sums are divided by their last entry so a uniform in ``[0, 1)`` always lands on
    a token, and ``side="right"`` never selects a token of probability zero.
    """
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((probs.shape[0], n))
    tokens = np.empty(u.shape, dtype=np.int32)
    for row in range(probs.shape[0]):
        tokens[row] = np.searchsorted(cdf[row], u[row], side="right")
    return Samples(tokens)


def token_counts(tokens: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts ``[R, V]`` of the token ids in each row of ``tokens[R, n]``."""
    n_rows = tokens.shape[0]
    offsets = (np.arange(n_rows, dtype=np.int64) * n_categories)[:, None]
    flat = np.bincount((tokens + offsets).ravel(), minlength=n_rows * n_categories)
    return flat.reshape(n_rows, n_categories)


def counts_of(data: Counts | Samples, n_categories: int) -> np.ndarray:
    """Category counts of a training set in either form."""
    if isinstance(data, Counts):
        return data.values
    return token_counts(data.values, n_categories)


def real_counts_of(data: Counts | Samples, n_categories: int) -> np.ndarray:
    """Category counts of the training set's real samples (its provenance must be recorded)."""
    if data.real is None:
        raise ValueError("the training set does not record which samples are real")
    if isinstance(data, Counts):
        return data.real
    return token_counts(np.where(data.real, data.values, n_categories), n_categories + 1)[:, :-1]


def frequencies(data: Counts | Samples, n_categories: int,
                real_weight: float | None) -> np.ndarray:
    """The maximum-likelihood category probabilities, weighted or not.

    Unweighted: ``c_v / n``. With ``real_weight`` = ``w``, the weighted MLE in which the real
    samples together carry ``W_r`` and the synthetic ones ``W_s``
    (:func:`~modelcollapse.training_sets.part_weights`: ``w`` and ``1 − w`` when both are
    present): ``q_v = W_r c^r_v / n_r + W_s c^s_v / n_s``, the maximiser of
    ``Σ_v (W_r c^r_v / n_r + W_s c^s_v / n_s) log q_v``.
    """
    counts = counts_of(data, n_categories)
    if real_weight is None:
        return counts / data.size
    real = real_counts_of(data, n_categories)
    synthetic = counts - real
    n_real = real.sum(axis=1)
    n_synthetic = data.size - n_real
    w_real, w_synthetic = part_weights(n_real, n_synthetic, real_weight)
    return (w_real[:, None] * real / np.maximum(n_real, 1)[:, None]
            + w_synthetic[:, None] * synthetic / np.maximum(n_synthetic, 1)[:, None])


# -- curation: tokens as units -------------------------------------------------------------


def token_log_likelihood(probs: np.ndarray, units: Dataset) -> np.ndarray:
    """``log q[x]`` of each token ``x`` of ``units.values[R, k]`` under ``probs[R, V]``
    (``−∞`` for a token of probability 0)."""
    assert isinstance(units, Samples)
    tokens = np.asarray(units.values, dtype=np.int64)
    with np.errstate(divide="ignore"):
        return np.log(np.take_along_axis(np.asarray(probs, dtype=float), tokens, axis=1))


def truth_token_log_likelihood(truth: np.ndarray, units: Dataset) -> np.ndarray:
    """``log q_0[x]`` of each token under the truth's probabilities ``truth[V]``."""
    assert isinstance(units, Samples)
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(truth, dtype=float))[np.asarray(units.values, dtype=np.int64)]


def belief_token_log_relative(truth: np.ndarray, units: Dataset) -> np.ndarray:
    """``log(q_0[x] / max q_0)``: the oracle verifier's score of each token."""
    return truth_token_log_likelihood(truth, units) - np.log(np.max(truth))


def tokens_as_training(units: Dataset, n_categories: int, *, stats: bool) -> Dataset:
    """Kept tokens as the loop holds training sets: counts with ``stats``, else the tokens."""
    if not stats:
        return units
    assert isinstance(units, Samples)
    return Counts(token_counts(np.asarray(units.values, dtype=np.int64), n_categories))


def rarest_tokens(truth: np.ndarray, share: float) -> np.ndarray:
    """The truth's rarest tokens holding (at most) ``share`` of its mass, as a boolean mask.

    Tokens of positive probability are taken from the least probable up (ties by id) while
    their cumulative mass stays within ``share``; at least the rarest of them is always in the
    set, so it holds positive mass. A token of probability 0 never belongs to it.
    """
    q = np.asarray(truth, dtype=float)
    order = np.argsort(np.where(q > 0, q, np.inf), kind="stable")
    cumulative = np.cumsum(np.where(q > 0, q, 0.0)[order])
    count = max(1, int(np.searchsorted(cumulative, share * (1 + 1e-12), side="right")))
    mask = np.zeros(q.size, dtype=bool)
    mask[order[:count]] = True
    return mask
