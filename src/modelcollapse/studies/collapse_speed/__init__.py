"""Collapse speed: how many generations until a refitted model has collapsed, and what slows it.

Two questions the classic experiments raise, each answered by simulation beside the exact theory:

Coin: how does the absorption time grow with the number of tosses ``k``?
    Under ``replace`` the head count ``X_t = k p̂_t`` is a Wright–Fisher chain,
    ``X_t | X_{t−1} ~ Binom(k, X_{t−1}/k)``, absorbed at 0 or ``k``. With ``Q`` the transition
    matrix on the transient states ``1..k−1``, the expected remaining time ``m`` solves
    ``(I − Q) m = 1`` and the second moment ``s`` solves ``(I − Q) s = 2m − 1``; generation 1 is
    ``Binom(k, p0)``, so ``E T = 1 + π·m`` with ``π`` its law on transient states. The survival
    function ``P(T > t) = π Q^{t−1} 1`` is iterated until it falls below a tolerance, which fixes
    the simulation's horizon. Kimura's diffusion limit gives ``E T ≈ −2k[p ln p + (1−p) ln(1−p)]``
    and, with ``τ = t/k``, ``P(T > t) ≈ S(p, τ) + S(1−p, τ)``, where
    ``S(p, τ) = Σ_{i≥1} (2i+1) p(1−p) (−1)^{i+1} ₂F₁(1−i, i+2; 2; p) e^{−i(i+1)τ/2}``: the
    absorption time scales with ``k``.

Gaussian and GMM: how does fresh real data change the time until ``var < ½ var₀``?
    Policy ``mix`` with ``real = a`` (``⌊aN⌋`` fresh samples of the truth per generation, the rest
    from the last model; ``a = 0`` is ``replace``). The collapse time of a replicate is the first
    generation with ``var_t < c · var₀`` (``c = ½`` by default). Exact theory:

    * ``E var_t`` for every ``a`` from the moment recursion
      (:func:`modelcollapse.theory.variance_moments`); for the GMM it holds because every EM fit
      matches the training sample's mean and variance;
    * for ``a > 0`` its limit, ``E var_∞ = a(N(2−a) − 1)/(aN(2−a) + 1 − a) · var₀``: when it stays
      above ``c var₀`` the variance does not collapse in expectation, and a collapse time only
      records a fluctuation below the threshold;
    * for the Gaussian under ``replace``, ``log(var_t/var₀) = Σ_{s≤t} log(χ²_{N−1,s}/N)`` is a
      random walk, so the collapse time is its first passage below ``log c``; its law is computed
      numerically (:func:`modelcollapse.theory.gaussian_collapse_time_cdf`), and
      ``E log var_t`` crosses ``log c`` at ``t = log c / [ψ((N−1)/2) + ln(2/N)]`` (a reference
      for the median time, not the median).

:func:`~.coin.coin_speed` (``coin.py``) and :func:`~.variance.variance_speed` (``variance.py``)
compute everything in memory; ``ngram``, how decoding truncation and fresh real text change how
fast a language model loses its rare words, is :func:`~.truncation.truncation_speed`
(``truncation.py``); ``curation``, how fast selecting the synthetic data (best-of-K, a verifier,
a likelihood filter) raises the reward and removes diversity and tails, with and without fresh
real data, is :func:`~.curation.curation_speed` (``curation.py``).
:func:`~.folder.collapse_speed` (``folder.py``) runs one of them and writes a results folder with
a table, curves, the figures and a manifest (``modelcollapse collapse-speed
{coin,gaussian,gmm,ngram,curation}``). Nothing here draws: :func:`modelcollapse.api.collapse_speed`
passes the figure (:mod:`modelcollapse.plots.collapse_speed`).

References
----------
.. [1] M. Kimura, "Solution of a process of random genetic drift with a continuous model",
   PNAS 41, 144–150 (1955).
.. [2] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
"""

from __future__ import annotations

from .coin import CoinRow, CoinSpeed, coin_speed
from .curation import CurationCell, CurationSpeed, FamilyStudy, curation_speed
from .folder import TARGETS, SpeedReport, collapse_speed, default_speed_out
from .truncation import TruncationCell, TruncationSpeed, truncation_speed
from .variance import FractionResult, VarianceSpeed, fraction_policy, variance_speed

__all__ = ["TARGETS", "CoinRow", "CoinSpeed", "CurationCell", "CurationSpeed", "FamilyStudy",
           "FractionResult", "SpeedReport", "TruncationCell", "TruncationSpeed", "VarianceSpeed",
           "coin_speed", "collapse_speed", "curation_speed", "default_speed_out",
           "fraction_policy", "truncation_speed", "variance_speed"]
