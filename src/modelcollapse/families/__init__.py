"""Model families, registered by name.

=============== ====================================================================
``coin``        Bernoulli(p) refitted by its mean (:class:`Coin`)
``categorical`` a unigram over V tokens, Zipf or explicit truth (:class:`Categorical`)
``gaussian``    a 1-D normal, MLE or unbiased variance (:class:`Gaussian`)
``gmm``         a mixture of K normals (1-D, or d-D with full covariances) fitted by EM
                (:class:`GMM`)
``ngram``       an n-gram language model with decoding strategies (:class:`NGram`)
``mvgaussian``  a d-dimensional normal with full covariance (:class:`MVGaussian`)
``regression``  linear regression y = x·w + σε refitted by least squares (:class:`Regression`)
``kde``         a kernel density estimator, 1-D or d-D, refitted on its samples (:class:`KDE`)
``vae``         a variational autoencoder on handwritten digits (PyTorch; :mod:`.neural.vae`)
``charlm``      a character-level transformer language model (PyTorch; :mod:`.neural.charlm`)
=============== ====================================================================

Adding a family: write one module with a frozen dataclass subclassing :class:`Family`, decorate it
with ``@FAMILIES.register`` and import the module below.
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import Family

FAMILIES: Registry[Family] = Registry("family")

# Importing a module registers its family; the order here is the order users see.
# isort: off
from .coin import Coin  # noqa: E402
from .categorical import Categorical  # noqa: E402
from .gaussian import Gaussian  # noqa: E402
from .gmm.family import GMM  # noqa: E402
from .ngram.family import NGram  # noqa: E402
from .mvgaussian import MVGaussian  # noqa: E402
from .regression import Regression  # noqa: E402
from .kde.family import KDE  # noqa: E402
from .neural.vae import VAE  # noqa: E402
from .neural.charlm import CharLM  # noqa: E402
# isort: on


def get_family(spec: str | Family, **settings: Any) -> Family:
    """A family from its name and settings, or an instance unchanged."""
    if isinstance(spec, Family):
        return spec
    return FAMILIES.get(spec)(**settings)


__all__ = ["FAMILIES", "GMM", "KDE", "VAE", "Categorical", "CharLM", "Coin", "Family", "Gaussian",
           "MVGaussian", "NGram", "Regression", "get_family"]
