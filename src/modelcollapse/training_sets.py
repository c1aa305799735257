"""Training sets for a block of replicates, in the four forms the families use.

A data policy builds training set *t* from pieces: fresh draws of the truth, draws of the last
model, and rows carried over (without replacement) from earlier training sets. It needs
exactly three operations on a training set, which every form here provides:

``size``
    the number of samples in each replicate's set (all replicates in a block have the same size);
``concat(parts)``
    the union of several sets, replicate by replicate;
``subsample(m, rng)``
    ``m`` samples drawn uniformly *without replacement* from each replicate's set.

The forms:

:class:`Samples`
    the raw draws, an array ``[R, n]`` (floats for continuous families, token ids for discrete
    ones).
:class:`Counts`
    category counts ``[R, V]``: a sufficient statistic for the coin and categorical families that
    supports all three operations *exactly* (union adds counts; a subsample without replacement is a
    multivariate hypergeometric draw), so discrete families never need raw tokens.
:class:`Sequences`
    token sequences (text) for the n-gram family: token ids ``[R, n]`` and a mask marking where
    each sequence starts. The unit of ``size`` is still one token, but a subsample keeps whole
    sequences (a language model learns from contiguous text, not from shuffled tokens).
:class:`Moments`
    count, mean and centred sum of squares ``M2 = Σ (x − mean)²`` per replicate: sufficient for the
    Gaussian fit and exact under union (Chan et al.'s pairwise update), but a subsample of a set
    cannot be drawn from its moments alone, so :class:`Moments` refuses ``subsample``; the Gaussian
    family falls back to :class:`Samples` for policies that subsample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Samples:
    """Raw samples, one row per replicate.

    Parameters
    ----------
    values
        Array of shape ``[R, n]``.
    """

    values: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_replicates(self) -> int:
        return int(self.values.shape[0])

    @staticmethod
    def concat(parts: Sequence[Samples]) -> Samples:
        if len(parts) == 1:
            return parts[0]
        return Samples(np.concatenate([p.values for p in parts], axis=1))

    def subsample(self, m: int, rng: np.random.Generator) -> Samples:
        """``m`` values per row, uniformly without replacement.

        Each row gets independent uniform keys and keeps the ``m`` smallest: every ``m``-subset is
        equally likely, in O(n) per row.
        """
        n = self.size
        if m == n:
            return self
        if m == 0:
            return Samples(self.values[:, :0])
        keys = rng.random(self.values.shape)
        keep = np.argpartition(keys, m - 1, axis=1)[:, :m]
        return Samples(np.take_along_axis(self.values, keep, axis=1))


@dataclass(frozen=True, eq=False)
class Counts:
    """Category counts, one row per replicate.

    Parameters
    ----------
    values
        Integer array of shape ``[R, V]``; every row sums to the same ``size``.
    """

    values: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values[0].sum()) if self.values.shape[0] else 0

    @property
    def n_replicates(self) -> int:
        return int(self.values.shape[0])

    @staticmethod
    def concat(parts: Sequence[Counts]) -> Counts:
        if len(parts) == 1:
            return parts[0]
        return Counts(np.sum([p.values for p in parts], axis=0))

    def subsample(self, m: int, rng: np.random.Generator) -> Counts:
        """A multivariate hypergeometric draw of ``m`` items per row.

        Drawn as a chain of conditional hypergeometrics, category by category, vectorised over rows:
        given the draws for categories ``< v``, the number from category ``v`` is hypergeometric
        with
        ``c_v`` good items among the ``c_v + c_{>v}`` not yet considered.
        """
        counts = self.values
        total = self.size
        if m == total:
            return self
        out = np.zeros_like(counts)
        if m == 0:
            return Counts(out)
        remaining_draws = np.full(counts.shape[0], m, dtype=np.int64)
        remaining_items = np.full(counts.shape[0], total, dtype=np.int64)
        for v in range(counts.shape[1] - 1):
            good = counts[:, v]
            remaining_items = remaining_items - good
            active = remaining_draws > 0
            if not active.any():
                break
            draw = np.zeros_like(remaining_draws)
            draw[active] = rng.hypergeometric(good[active], remaining_items[active],
                                              remaining_draws[active])
            out[:, v] = draw
            remaining_draws = remaining_draws - draw
        out[:, -1] = remaining_draws
        return Counts(out)


@dataclass(frozen=True, eq=False)
class Sequences:
    """Token sequences, one row of concatenated sequences per replicate.

    Parameters
    ----------
    tokens
        Integer token ids ``[R, n]``.
    starts
        Boolean ``[R, n]``: ``True`` where a sequence begins (always at column 0). Sequences are
        contiguous runs of columns; a model's context never reaches back across a start.

    Notes
    -----
    ``subsample(m)`` takes whole sequences in a uniformly random order (independently per row)
    until ``m`` tokens are reached; the last one taken is cut to a prefix if it does not fit. When
    every sequence has length ``L`` and ``L`` divides ``m``, this is exactly ``m / L`` sequences
    drawn uniformly without replacement.
    """

    tokens: np.ndarray
    starts: np.ndarray

    @property
    def size(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def n_replicates(self) -> int:
        return int(self.tokens.shape[0])

    @staticmethod
    def concat(parts: Sequence[Sequences]) -> Sequences:
        if len(parts) == 1:
            return parts[0]
        return Sequences(np.concatenate([p.tokens for p in parts], axis=1),
                         np.concatenate([p.starts for p in parts], axis=1))

    def subsample(self, m: int, rng: np.random.Generator) -> Sequences:
        n = self.size
        if m == n:
            return self
        if m == 0:
            return Sequences(self.tokens[:, :0], self.starts[:, :0])
        # One uniform key per sequence, spread over its tokens; a stable sort by key puts the
        # sequences in random order and keeps each one's tokens in order.
        sequence_id = np.cumsum(self.starts, axis=1) - 1
        keys = rng.random(self.starts.shape)
        token_keys = np.take_along_axis(keys, sequence_id, axis=1)
        order = np.argsort(token_keys, axis=1, kind="stable")[:, :m]
        return Sequences(np.take_along_axis(self.tokens, order, axis=1),
                         np.take_along_axis(self.starts, order, axis=1))


@dataclass(frozen=True, eq=False)
class Moments:
    """Count, mean and centred sum of squares of each replicate's samples.

    Parameters
    ----------
    n
        Number of samples in every replicate's set.
    mean
        Sample means, shape ``[R]``.
    m2
        ``Σ (x − mean)²``, shape ``[R]``.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray

    @property
    def size(self) -> int:
        return self.n

    @property
    def n_replicates(self) -> int:
        return int(self.mean.shape[0])

    @staticmethod
    def concat(parts: Sequence[Moments]) -> Moments:
        """Pool moments exactly: ``M2 = Σ M2_i + Σ n_i (mean_i − mean)²``."""
        if len(parts) == 1:
            return parts[0]
        n = sum(p.n for p in parts)
        mean = sum(p.n * p.mean for p in parts) / n
        m2 = sum(p.m2 + p.n * (p.mean - mean) ** 2 for p in parts)
        return Moments(n, np.asarray(mean), np.asarray(m2))

    def subsample(self, m: int, rng: np.random.Generator) -> Moments:
        if m == self.n:
            return self
        raise NotImplementedError("a subsample cannot be drawn from moments; use Samples")


Dataset = Samples | Counts | Moments | Sequences


def concat(parts: Sequence[Dataset]) -> Dataset:
    """The replicate-wise union of non-empty training-set pieces of one form."""
    parts = [p for p in parts if p.size > 0]
    kinds = {type(p) for p in parts}
    if len(kinds) != 1:
        names = sorted(k.__name__ for k in kinds)
        raise TypeError(f"cannot join training-set pieces of forms {names}")
    return parts[0].concat(parts)  # type: ignore[arg-type]
