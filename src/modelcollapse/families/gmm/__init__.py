"""The 1-D Gaussian mixture family: the classic experiment of Shumailov et al. (2024).

=================  ==========================================================================
``family.py``      :class:`GMM`: truth, settings, and the loop's fit/sample/metrics
``em.py``          the fit, compiled with numba: Newton, Levenberg–Marquardt, SQUAREM and plain
                   EM, k-means++ initialisation (its docstring says which routine runs when)
``warm_start.py``  the warm start, with coinciding components split apart (plain numpy)
``sampling.py``    draws from a block of fitted mixtures
``metrics.py``     W2, KL and tail mass against the truth, by deterministic quadrature
=================  ==========================================================================
"""

from __future__ import annotations

from .family import GMM

__all__ = ["GMM"]
