"""The kernel density estimator refitted on its own samples (:class:`KDE`).

``family.py`` holds the family, ``density.py`` its numba kernels (log densities and, in 1-D,
distribution functions at query points).
"""

from __future__ import annotations

from .family import KDE

__all__ = ["KDE"]
