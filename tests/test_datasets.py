"""The three training-set forms and their union / subsample operations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats

from modelcollapse.training_sets import Counts, Moments, Samples, concat


def test_samples_subsample_draws_without_replacement(rng):
    values = np.arange(20.0)[None, :].repeat(3, axis=0)
    sub = Samples(values).subsample(7, rng)
    assert sub.values.shape == (3, 7)
    for row in sub.values:
        assert len(set(row)) == 7 and set(row) <= set(range(20))


def test_samples_subsample_is_uniform_over_items(rng):
    # each of 10 items is kept with probability 3/10; chi-square over many draws
    values = np.arange(10.0)[None, :].repeat(20_000, axis=0)
    kept = Samples(values).subsample(3, rng).values.astype(int).ravel()
    counts = np.bincount(kept, minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_counts_subsample_is_multivariate_hypergeometric(rng):
    counts = np.array([[5, 0, 3, 2]])
    rows = np.repeat(counts, 40_000, axis=0)
    sub = Counts(rows).subsample(4, rng).values
    assert (sub.sum(axis=1) == 4).all() and (sub <= counts).all()
    # compare the joint law with numpy's reference sampler
    reference = rng.multivariate_hypergeometric(counts[0], 4, size=40_000)
    ours = Counter(map(tuple, sub))
    theirs = Counter(map(tuple, reference))
    keys = sorted(set(ours) | set(theirs))
    table = np.array([[ours[k] for k in keys], [theirs[k] for k in keys]])
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_counts_subsample_edge_sizes(rng):
    data = Counts(np.array([[2, 3], [5, 0]]))
    assert data.subsample(5, rng) is data
    assert (data.subsample(0, rng).values == 0).all()


def test_moments_concat_matches_direct_computation(rng):
    a, b = rng.normal(size=(4, 7)), rng.normal(3, 2, size=(4, 11))
    def moments(x):
        return Moments(x.shape[1], x.mean(1), ((x - x.mean(1, keepdims=True)) ** 2).sum(1))
    pooled = concat([moments(a), moments(b)])
    both = np.concatenate([a, b], axis=1)
    direct = moments(both)
    assert pooled.n == 18
    np.testing.assert_allclose(pooled.mean, direct.mean, rtol=1e-13)
    np.testing.assert_allclose(pooled.m2, direct.m2, rtol=1e-12)


def test_moments_refuse_subsample(rng):
    with pytest.raises(NotImplementedError):
        Moments(3, np.zeros(1), np.ones(1)).subsample(2, rng)


def test_concat_skips_empty_and_refuses_mixed_forms():
    s = Samples(np.ones((2, 3)))
    assert concat([Samples(np.ones((2, 0))), s]) is s
    with pytest.raises(TypeError):
        concat([s, Counts(np.ones((2, 2), dtype=int))])
