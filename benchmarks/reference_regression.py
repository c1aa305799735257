"""The regression loop people write today (written here, not copied): scikit-learn, one
replicate at a time, a Python loop over generations."""

from __future__ import annotations

import numpy as np


def sklearn_regression_loop(n_replicates: int, n_generations: int, n_samples: int, dim: int,
                            seed: int, *, noise: float = 1.0) -> np.ndarray:
    """OLS refitted to labels of its own fit on fresh Gaussian inputs (Gerstgrasser et al.'s
    replace loop with the true noise level), with ``sklearn.linear_model.LinearRegression``.

    Returns ``‖ŵ_t − w‖²`` per replicate and generation, ``[R, G + 1]``.
    """
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(seed)
    w_true = np.full(dim, 1.0 / np.sqrt(dim))
    errors = np.zeros((n_replicates, n_generations + 1))
    for r in range(n_replicates):
        w = w_true
        for t in range(1, n_generations + 1):
            x = rng.standard_normal((n_samples, dim))
            y = x @ w + noise * rng.standard_normal(n_samples)
            model = LinearRegression(fit_intercept=False).fit(x, y)
            w = model.coef_
            errors[r, t] = float(((w - w_true) ** 2).sum())
    return errors
