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
    ones), or ``[R, n, *event]`` when one sample is a vector (a point in d dimensions, an
    ``(x, y)`` pair of a regression): the policies act on whole samples, never on coordinates.
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
:class:`ScatterMoments`
    the same in d dimensions: count, mean vector ``[R, d]`` and scatter matrix ``[R, d, d]``
    (the ``mvgaussian`` family's sufficient statistic), exact under union, refusing
    ``subsample``.

Provenance. When a fit weighs real data against synthetic data (``--real-weight``), every form
but :class:`Sequences` also records which samples are real: a boolean mask for
:class:`Samples`, the real samples' counts for :class:`Counts`, the real and synthetic parts'
own moments for :class:`Moments` (:func:`mark` sets it on a fresh draw). ``concat`` and
``subsample`` carry it along exactly (a subsample of counts is then a hypergeometric draw over
real and synthetic categories together), so after any policy a family can tell, per replicate,
which of its training samples came from the truth.
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
        Array of shape ``[R, n]``, or ``[R, n, *event]`` for vector-valued samples.
    real
        Provenance, or ``None`` when not tracked: boolean ``[R, n]``, ``True`` for a sample of the
        truth.
    """

    values: np.ndarray
    real: np.ndarray | None = None

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
        real = None
        if _tracked(parts):
            real = np.concatenate([np.asarray(p.real) for p in parts], axis=1)
        return Samples(np.concatenate([p.values for p in parts], axis=1), real)

    def subsample(self, m: int, rng: np.random.Generator) -> Samples:
        """``m`` values per row, uniformly without replacement.

        Each row gets independent uniform keys and keeps the ``m`` smallest: every ``m``-subset is
        equally likely, in O(n) per row.
        """
        n = self.size
        if m == n:
            return self
        if m == 0:
            return Samples(self.values[:, :0], None if self.real is None else self.real[:, :0])
        keys = rng.random(self.values.shape[:2])  # one key per sample, whatever its event shape
        # argpartition leaves the m kept positions in an order that depends on the machine
        # (numpy dispatches to SIMD selection where the CPU has it); the next generation's keys
        # are matched to positions, so the kept values are put back in their original order.
        keep = np.sort(np.argpartition(keys, m - 1, axis=1)[:, :m], axis=1)
        real = None if self.real is None else np.take_along_axis(self.real, keep, axis=1)
        return Samples(take_samples(self.values, keep), real)


def take_samples(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The samples at ``index[R, m]`` of each row of ``values[R, n, *event]``."""
    index = index.reshape(index.shape + (1,) * (values.ndim - 2))
    return np.take_along_axis(values, index, axis=1)


@dataclass(frozen=True, eq=False)
class Counts:
    """Category counts, one row per replicate.

    Parameters
    ----------
    values
        Integer array of shape ``[R, V]``; every row sums to the same ``size``.
    real
        Provenance, or ``None`` when not tracked: the counts ``[R, V]`` of the samples that came
        from the truth (at most ``values``; the synthetic counts are ``values − real``).
    """

    values: np.ndarray
    real: np.ndarray | None = None

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
        real = np.sum([np.asarray(p.real) for p in parts], axis=0) if _tracked(parts) else None
        return Counts(np.sum([p.values for p in parts], axis=0), real)

    def subsample(self, m: int, rng: np.random.Generator) -> Counts:
        """A multivariate hypergeometric draw of ``m`` items per row.

        Drawn as a chain of conditional hypergeometrics, category by category, vectorised over rows:
        given the draws for categories ``< v``, the number from category ``v`` is hypergeometric
        with
        ``c_v`` good items among the ``c_v + c_{>v}`` not yet considered. With provenance the
        draw runs over ``2V`` categories (each token's real and synthetic samples), which is the
        same draw of tokens with the provenance of each drawn item.
        """
        if self.real is not None:
            both = Counts(np.concatenate([self.real, self.values - self.real], axis=1))
            drawn = both.subsample(m, rng).values
            v = self.values.shape[1]
            return Counts(drawn[:, :v] + drawn[:, v:], drawn[:, :v])
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
    parts
        Provenance, or ``None`` when not tracked: the moments of the (real, synthetic) samples
        separately (either may have ``n = 0``), whose pool is this set.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    parts: tuple[Moments, Moments] | None = None

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
        split = None
        if _tracked(parts):
            split = tuple(_pool([p.parts[i] for p in parts])  # type: ignore[index]
                          for i in (0, 1))
        return Moments(n, np.asarray(mean), np.asarray(m2), split)  # type: ignore[arg-type]

    def subsample(self, m: int, rng: np.random.Generator) -> Moments:
        if m == self.n:
            return self
        raise NotImplementedError("a subsample cannot be drawn from moments; use Samples")


def _pool(parts: Sequence[Moments]) -> Moments:
    """The pool of moment sets of which some may be empty (``n = 0``)."""
    present = [p for p in parts if p.n > 0]
    if not present:
        return parts[0]
    return Moments.concat(present)


@dataclass(frozen=True, eq=False)
class ScatterMoments:
    """Count, mean vector and scatter matrix of each replicate's d-dimensional samples.

    The multivariate counterpart of :class:`Moments`, for the ``mvgaussian`` family: sufficient
    for a normal fit with full covariance, exact under union, and refusing ``subsample`` for the
    same reason (a subsample cannot be drawn from moments alone).

    Parameters
    ----------
    n
        Number of samples in every replicate's set.
    mean
        Sample means, shape ``[R, d]``.
    scatter
        The centred scatter matrix ``S = Σ_i (x_i − mean)(x_i − mean)ᵀ``, shape ``[R, d, d]``.
    parts
        Provenance, or ``None`` when not tracked: the moments of the (real, synthetic) samples
        separately (either may have ``n = 0``), whose pool is this set.
    points
        The first replicate's samples (first two coordinates, ``[n, 2]``) when they were drawn
        as points, for the scatter picture (:meth:`~modelcollapse.families.base.Family.points`);
        ``None`` otherwise. Union keeps them when every piece has them.
    """

    n: int
    mean: np.ndarray
    scatter: np.ndarray
    parts: tuple[ScatterMoments, ScatterMoments] | None = None
    points: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.n

    @property
    def n_replicates(self) -> int:
        return int(self.mean.shape[0])

    @staticmethod
    def concat(parts: Sequence[ScatterMoments]) -> ScatterMoments:
        """Pool exactly (Chan et al.'s update in d dimensions):
        ``S = Σ S_i + Σ n_i (mean_i − mean)(mean_i − mean)ᵀ``."""
        if len(parts) == 1:
            return parts[0]
        n = sum(p.n for p in parts)
        mean = sum(p.n * p.mean for p in parts) / n
        scatter = sum(p.scatter + p.n * _outer(p.mean - mean) for p in parts)
        split = None
        if _tracked(parts):
            split = tuple(_pool_scatter([p.parts[i] for p in parts])  # type: ignore[index]
                          for i in (0, 1))
        points = None
        if all(p.points is not None for p in parts):
            points = np.concatenate([p.points for p in parts])
        return ScatterMoments(n, np.asarray(mean), np.asarray(scatter),
                              split, points)  # type: ignore[arg-type]

    def subsample(self, m: int, rng: np.random.Generator) -> ScatterMoments:
        if m == self.n:
            return self
        raise NotImplementedError("a subsample cannot be drawn from moments; use Samples")


def _outer(v: np.ndarray) -> np.ndarray:
    """``v vᵀ`` for each row of ``v[R, d]``."""
    return v[:, :, None] * v[:, None, :]


def _pool_scatter(parts: Sequence[ScatterMoments]) -> ScatterMoments:
    """The pool of scatter-moment sets of which some may be empty (``n = 0``)."""
    present = [p for p in parts if p.n > 0]
    if not present:
        return parts[0]
    return ScatterMoments.concat(present)


def _tracked(parts: Sequence[Samples | Counts | Moments | ScatterMoments]) -> bool:
    """Whether the pieces carry provenance: all of them or none (mixing them is a bug)."""
    flags = {(p.parts if isinstance(p, (Moments, ScatterMoments)) else p.real) is not None
             for p in parts}
    if len(flags) != 1:
        raise TypeError("cannot join training-set pieces with and without provenance")
    return flags.pop()


Dataset = Samples | Counts | Moments | ScatterMoments | Sequences


def part_weights(n_real: np.ndarray, n_synthetic: np.ndarray,
                 real_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Total weights ``(W_r, W_s)`` of each replicate's real and synthetic samples in a fit.

    ``(w, 1 − w)`` when both parts are present; a part that is empty in a replicate's training
    set (possible after a subsample) passes its weight to the other, so the weights always sum
    to 1. Within a part every sample weighs the same, ``W_r / n_r`` or ``W_s / n_s``.
    """
    n_real = np.asarray(n_real)
    n_synthetic = np.asarray(n_synthetic)
    w_real = np.where(n_synthetic == 0, 1.0, np.where(n_real == 0, 0.0, real_weight))
    return w_real, 1.0 - w_real


def sample_weights(is_real: np.ndarray, real_weight: float) -> np.ndarray:
    """Per-sample weights ``ω[R, n]`` from a provenance mask: ``W_r / n_r`` for each real sample,
    ``W_s / n_s`` for each synthetic one (:func:`part_weights`), so each row sums to 1."""
    n = is_real.shape[1]
    n_real = is_real.sum(axis=1)
    w_real, w_synthetic = part_weights(n_real, n - n_real, real_weight)
    return np.where(is_real, (w_real / np.maximum(n_real, 1))[:, None],
                    (w_synthetic / np.maximum(n - n_real, 1))[:, None])


def mark(data: Dataset, *, real: bool) -> Dataset:
    """``data`` with every sample's provenance set: all from the truth, or all synthetic.

    Raises
    ------
    TypeError
        For :class:`Sequences` (the n-gram family does not weigh real data).
    """
    if isinstance(data, Samples):
        return Samples(data.values, np.full(data.values.shape[:2], real))
    if isinstance(data, Counts):
        return Counts(data.values, data.values.copy() if real else np.zeros_like(data.values))
    if isinstance(data, Moments):
        empty = Moments(0, np.zeros_like(data.mean), np.zeros_like(data.m2))
        plain = Moments(data.n, data.mean, data.m2)
        return Moments(data.n, data.mean, data.m2, (plain, empty) if real else (empty, plain))
    if isinstance(data, ScatterMoments):
        hollow = ScatterMoments(0, np.zeros_like(data.mean), np.zeros_like(data.scatter))
        whole = ScatterMoments(data.n, data.mean, data.scatter)
        return ScatterMoments(data.n, data.mean, data.scatter,
                              (whole, hollow) if real else (hollow, whole), data.points)
    raise TypeError(f"{type(data).__name__} training sets do not record provenance")


def concat(parts: Sequence[Dataset]) -> Dataset:
    """The replicate-wise union of non-empty training-set pieces of one form."""
    parts = [p for p in parts if p.size > 0]
    kinds = {type(p) for p in parts}
    if len(kinds) != 1:
        names = sorted(k.__name__ for k in kinds)
        raise TypeError(f"cannot join training-set pieces of forms {names}")
    return parts[0].concat(parts)  # type: ignore[arg-type]
