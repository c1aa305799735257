"""The loops people write today for a multivariate normal refitted to its own samples.

Written here for the benchmarks, in the notebook style of :mod:`reference`: one replicate at a
time, a Python loop over generations.
"""

from __future__ import annotations

import numpy as np


def mvgaussian_loop(n_replicates: int, n_generations: int, n_samples: int, dim: int,
                    seed: int) -> np.ndarray:
    """numpy: ``rng.multivariate_normal`` then ``x.mean(0)`` and ``np.cov(x.T, bias=True)``.

    Returns the fitted covariance's trace per replicate and generation, ``[R, G + 1]``.
    """
    rng = np.random.default_rng(seed)
    traces = np.empty((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        mean, cov = np.zeros(dim), np.eye(dim)
        traces[r, 0] = dim
        for t in range(1, n_generations + 1):
            x = rng.multivariate_normal(mean, cov, n_samples)
            mean, cov = x.mean(axis=0), np.cov(x.T, bias=True).reshape(dim, dim)
            traces[r, t] = np.trace(cov)
    return traces


def sklearn_mvgaussian_loop(n_replicates: int, n_generations: int, n_samples: int, dim: int,
                            seed: int) -> np.ndarray:
    """scikit-learn: ``GaussianMixture(n_components=1, covariance_type='full')`` refitted to
    its own ``sample``s (the loop of Kazdan et al.'s multivariate-Gaussian experiments).

    ``reg_covar=0`` so the fit is the plain MLE (scikit-learn adds 1e-6 to the diagonal by
    default). Returns the traces, ``[R, G + 1]``.
    """
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    traces = np.empty((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        x = rng.standard_normal((n_samples, dim))
        traces[r, 0] = dim
        for t in range(1, n_generations + 1):
            model = GaussianMixture(n_components=1, covariance_type="full", reg_covar=0.0,
                                    random_state=int(rng.integers(2**31 - 1))).fit(x)
            traces[r, t] = np.trace(model.covariances_[0])
            x = model.sample(n_samples)[0]
    return traces
