"""The Gaussian mixture family: the classic experiment of Shumailov et al. (2024), in 1-D and
in d dimensions (``--dim``).

=================  ==========================================================================
``family.py``      :class:`GMM`: truth, settings, and the loop's fit/sample/metrics
``em.py``          the fit, compiled with numba: Newton, Levenberg–Marquardt, SQUAREM and plain
                   EM, k-means++ initialisation (its docstring says which routine runs when)
``warm_start.py``  the warm start, with coinciding components split apart (plain numpy)
``sampling.py``    draws from a block of fitted mixtures
``metrics.py``     W2, KL and tail mass against the truth, by deterministic quadrature
``nd.py``          d ≥ 2: truth (the Shumailov blobs preset), fit, sampling, metrics
``em_nd.py``       d ≥ 2: EM with full covariances, k-means++ and the sampler (numba)
=================  ==========================================================================
"""

from __future__ import annotations

from .family import GMM

__all__ = ["GMM"]
