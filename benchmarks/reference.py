"""The loops people write today, as references for the benchmarks (written here, not copied).

Each is the straightforward notebook version: one replicate at a time, a Python loop over
generations, numpy for sampling, scikit-learn for the mixture fit.
"""

from __future__ import annotations

import numpy as np

GMM_TRUTH = (np.array([0.5, 0.5]), np.array([-2.0, 2.0]), np.array([1.0, 1.0]))


def sklearn_gmm_loop(n_generations: int, n_samples: int, seed: int) -> np.ndarray:
    """The classic GMM loop: sample N points of the last fit, refit GaussianMixture(2).

    Returns the fitted component variances per generation, ``[G, 2]``.
    """
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    weights, means, stds = (a.copy() for a in GMM_TRUTH)
    variances = np.empty((n_generations, 2))
    for t in range(n_generations):
        upper = rng.random(n_samples) < weights[1]
        x = np.where(upper, rng.normal(means[1], stds[1], n_samples),
                     rng.normal(means[0], stds[0], n_samples))
        model = GaussianMixture(n_components=2, random_state=int(rng.integers(2**31 - 1)))
        model.fit(x[:, None])
        order = np.argsort(model.means_[:, 0])
        weights = model.weights_[order]
        means = model.means_[order, 0]
        stds = np.sqrt(model.covariances_[order, 0, 0])
        variances[t] = stds**2
    return variances


def coin_loop(n_rollouts: int, n_generations: int, k: int, p0: float, seed: int) -> np.ndarray:
    """The unigram coin, one rollout at a time: toss k times, refit p as the mean."""
    rng = np.random.default_rng(seed)
    paths = np.empty((n_rollouts, n_generations + 1))
    for r in range(n_rollouts):
        p = p0
        paths[r, 0] = p
        for t in range(1, n_generations + 1):
            p = float((rng.random(k) < p).mean())
            paths[r, t] = p
    return paths


def gaussian_loop(n_replicates: int, n_generations: int, n_samples: int, seed: int) -> np.ndarray:
    """A normal refitted (MLE) to its own samples, one replicate at a time."""
    rng = np.random.default_rng(seed)
    variances = np.empty((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        mean, var = 0.0, 1.0
        variances[r, 0] = var
        for t in range(1, n_generations + 1):
            x = rng.normal(mean, np.sqrt(var), n_samples)
            mean, var = x.mean(), x.var()
            variances[r, t] = var
    return variances


def categorical_loop(n_replicates: int, n_generations: int, n_samples: int, probs: np.ndarray,
                     seed: int) -> np.ndarray:
    """Token frequencies refitted to their own samples, one replicate at a time."""
    rng = np.random.default_rng(seed)
    vocab = probs.size
    support = np.empty((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        q = probs.copy()
        support[r, 0] = np.count_nonzero(q)
        for t in range(1, n_generations + 1):
            tokens = rng.choice(vocab, size=n_samples, p=q)
            q = np.bincount(tokens, minlength=vocab) / n_samples
            support[r, t] = np.count_nonzero(q)
    return support


def gaussian_best_of_loop(n_replicates: int, n_generations: int, n_samples: int, k: int,
                          target: float, seed: int) -> np.ndarray:
    """A normal refitted to best-of-K curated samples (reward ``−(x − c)²/2``), as a notebook
    writes it: one replicate at a time, each kept sample chosen among its K candidates with
    probability ∝ exp(reward) by ``rng.choice``."""
    rng = np.random.default_rng(seed)
    variances = np.empty((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        x = rng.normal(0.0, 1.0, n_samples)  # training set 1: the truth's own samples
        mean, var = x.mean(), x.var()
        variances[r, 0], variances[r, 1] = 1.0, var
        for t in range(2, n_generations + 1):
            kept = np.empty(n_samples)
            for i in range(n_samples):
                candidates = rng.normal(mean, np.sqrt(var), k)
                weights = np.exp(-0.5 * (candidates - target) ** 2)
                kept[i] = rng.choice(candidates, p=weights / weights.sum())
            mean, var = kept.mean(), kept.var()
            variances[r, t] = var
    return variances
