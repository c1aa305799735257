"""The loop a user would write for the 2-D GMM experiment, with scikit-learn (the reference)."""

from __future__ import annotations

import numpy as np

#: Shumailov's 2-D blobs as ``modelcollapse run gmm --dim 2`` runs them: weights, means, covs.
BLOBS = (np.array([0.5, 0.5]), np.array([[-2.0, 0.0], [2.0, 0.0]]), np.array([np.eye(2)] * 2))


def sklearn_gmm_nd_loop(n_generations: int, n_samples: int, seed: int) -> np.ndarray:
    """Sample N points of the last fit, refit ``GaussianMixture(2, covariance_type="full")``.

    scikit-learn's defaults (tolerance 1e-3, k-means init, reg_covar 1e-6); samples drawn with
    numpy (component by multinomial, then mean + Cholesky × z). Returns the trace of each fit's
    total covariance per generation, ``[G]``.
    """
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    weights, means, covs = (a.copy() for a in BLOBS)
    traces = np.empty(n_generations)
    for t in range(n_generations):
        counts = rng.multinomial(n_samples, weights)
        x = np.concatenate([m + rng.standard_normal((c, 2)) @ np.linalg.cholesky(s).T
                            for c, m, s in zip(counts, means, covs, strict=True)])
        model = GaussianMixture(n_components=2, covariance_type="full",
                                random_state=int(rng.integers(2**31 - 1))).fit(x)
        weights, means, covs = model.weights_, model.means_, model.covariances_
        mean = weights @ means
        dev = means - mean
        traces[t] = float(weights @ (np.einsum("kii->k", covs) + (dev**2).sum(axis=1)))
    return traces
