"""The KDE loop people write today (Kazdan et al.'s ``fit_kdes.py`` pattern), as a reference.

One replicate at a time: fit scikit-learn's ``KernelDensity``, score a held-out set of real
data (the negative log-likelihood, their metric), draw the next training set with
``sample(random_state=…)`` from an integer derived from the replicate's generator, refit.
Written here, not copied.
"""

from __future__ import annotations

import numpy as np

#: Held-out real points scored every generation (modelcollapse's d-D ``nll`` uses as many).
HELD_OUT = 1000


def sklearn_kde_loop(n_replicates: int, n_generations: int, n_samples: int, seed: int, *,
                     dim: int = 1, bandwidth: float | str = "scott",
                     kernel: str = "gaussian") -> np.ndarray:
    """``replace`` with ``KernelDensity``; returns the held-out NLL ``[R, G]``."""
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(seed)
    test = rng.standard_normal((HELD_OUT, dim))
    nll = np.empty((n_replicates, n_generations))
    for r in range(n_replicates):
        data = rng.standard_normal((n_samples, dim))
        for t in range(n_generations):
            kde = KernelDensity(kernel=kernel, bandwidth=bandwidth).fit(data)
            nll[r, t] = -kde.score_samples(test).mean()
            data = kde.sample(n_samples, random_state=int(rng.integers(2**31 - 1)))
    return nll
