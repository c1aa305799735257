"""Sampling and fitting shared by the discrete families (coin, categorical).

Both keep training sets as category counts (:class:`~modelcollapse.training_sets.Counts`), which are
exact sufficient statistics under every policy; the raw-token path (``shortcut=False``) exists to
test that equality in distribution.
"""

from __future__ import annotations

import numpy as np

from ..training_sets import Counts, Samples


def block_for(values_per_replicate: int, *, budget: int, cap: int) -> int:
    """A power-of-two block size keeping about ``budget`` values in memory per block."""
    size = max(1, budget // max(1, values_per_replicate))
    return int(min(cap, 1 << (size.bit_length() - 1)))


def draw_counts(probs: np.ndarray, n: int, rng: np.random.Generator) -> Counts:
    """Multinomial(n, probs) counts for each row of ``probs[R, V]``."""
    return Counts(rng.multinomial(n, probs))


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
