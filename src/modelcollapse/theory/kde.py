"""Exact moments of a kernel density estimator refitted on its own samples.

Setting (per coordinate; the product kernel and a per-coordinate bandwidth make the coordinates
evolve independently). Model ``t`` is a KDE on training set ``t`` (``n_t`` points, sample mean
``m_t``, sample variance ``S_t = (1/n_t) Σ (x_i − m_t)²``) with bandwidth ``h_t`` and kernel
variance ``κ`` (1 Gaussian, 1/3 tophat); its variance is ``V_t = S_t + κ h_t²``. Sampling it
with bandwidth ``λ h_t`` (``λ`` the sampling scale) draws a point ``x_J`` uniformly and adds
``λ h_t`` times a kernel draw, so a sample has conditional mean ``m_t`` and variance
``U_t = S_t + λ² κ h_t²``. Model 0 is the truth ``N(μ₀, σ₀²)`` (``U_0 = V_0 = σ₀²``).

Every bandwidth rule here makes ``h_t²`` either a constant (``--bandwidth h``; scikit-learn's
spread-free rules, ``h = β(n_t)``) or exactly ``β(n_t)² S_t`` (Scott's and Silverman's rules
with the MLE spread), so each step below is linear in ``S`` and the recursions are exact in
expectation, not approximations.

``replace`` (training set ``t`` = ``N`` draws of model ``t − 1``): the sample variance of ``N``
i.i.d. draws has expectation ``(N−1)/N`` times their variance, so

    E S_t = a E U_{t−1},  a = (N − 1)/N,      Var m_t = Var m_{t−1} + E U_{t−1} / N.

With a fixed bandwidth and ``λ = 1``: ``E V_t = a^t σ₀² + N κ h² (1 − a^t)`` → ``N κ h²``: the
fitted KDE's variance tends to ``N κ h²`` whatever ``σ₀``, and the marginal second moment of a
generation-t sample is exactly ``E V_t + Var m_t = σ₀² + t κ h²`` (a random walk of kernel
noise). With Scott's or Silverman's rule (``h² = β² S``) the expected variance grows
geometrically, ``E V_t = σ₀² (1 + β²κ) a^t (1 + λ²β²κ)^(t−1)``, by the factor
``g = a (1 + λ² β² κ)`` per generation (``≈ 1.147`` for Scott, ``N = 100``, 1-D).

``accumulate`` (without fresh real data: training set ``t`` = training set ``t − 1`` plus ``N``
draws of model ``t − 1``, ``n_t = tN``): summing ``E (x_i − x_j)²`` over the pool's pairs (old
pairs ``2 S``, old–new ``2 S + λ²κh²`` averaged over the chosen point, new–new
``2 S + 2 λ²κh²``) gives

    E S_t = [(n_t² − N) E S_{t−1} + N (n_t − 1) λ² κ E h_{t−1}²] / n_t²,
    Var m_t = Var m_{t−1} + (N / n_t)² E U_{t−1} / N.

``E mean_t = μ₀`` under every policy (each piece of every training set has mean ``μ₀`` in
expectation). Not covered exactly: ``mix``, ``augment``, ``accumulate-subsample``, accumulate
with fresh real data, weighted fits (their pieces' variances couple through the shared pool in
ways this module does not track), and ``w2``, ``kl``, ``nll``, ``tail_mass`` (they depend on the
whole configuration of points, not on its moments).

References
----------
.. [1] J. Kazdan, R. Schaeffer, A. Dey, M. Gerstgrasser, R. Rafailov, D. L. Donoho, S. Koyejo,
   "Collapse or thrive? Perils and promises of synthetic data in a self-generating world",
   arXiv:2410.16713 (2024): KDEs under replace and accumulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .curves import Prediction, TheoryCurve

if TYPE_CHECKING:
    from ..config import RunConfig

#: Policies this module's recursions cover.
COVERED = ("replace", "accumulate")


@dataclass(frozen=True)
class KDEMoments:
    """Exact per-coordinate expectations over generations ``0..G``.

    Attributes
    ----------
    points_var
        ``E S_t``: the sample variance of training set ``t`` (``σ₀²`` at ``t = 0``).
    var
        ``E V_t = E S_t + κ E h_t²``: the fitted KDE's variance (``σ₀²`` at ``t = 0``).
    mean_var
        ``Var m_t``: the variance of the fitted mean over replicates (0 at ``t = 0``).
    """

    points_var: np.ndarray
    var: np.ndarray
    mean_var: np.ndarray

    @property
    def spread(self) -> np.ndarray:
        """``E (X − μ₀)²`` of a sample of model ``t`` at sampling scale 1, per coordinate."""
        return self.var + self.mean_var


def kde_beta(rule: str, n: int, d: int) -> float:
    """``β`` of a bandwidth rule for ``n`` points in ``d`` dimensions (``h = β`` or ``β σ̂``)."""
    from ..families.kde.family import rule_beta

    return rule_beta(rule, n, d)


def kde_expected_moments(*, var0: float, n: int, generations: int, policy: str = "replace",
                         kappa: float = 1.0, bandwidth: float | str = 1.0, d: int = 1,
                         sampling_scale: float = 1.0) -> KDEMoments:
    """Exact ``E S_t``, ``E V_t`` and ``Var m_t`` per coordinate, ``t = 0..G``.

    Parameters
    ----------
    var0
        ``σ₀²``, the truth's variance per coordinate.
    n
        ``N`` samples per generation.
    generations
        ``G``.
    policy
        ``"replace"`` or ``"accumulate"`` (without fresh real data).
    kappa
        The kernel's variance per coordinate (1 Gaussian, 1/3 tophat).
    bandwidth
        A fixed ``h``, or a rule's name (``scott``, ``silverman``: ``h² = β² S``;
        ``sklearn-scott``, ``sklearn-silverman``: ``h = β(n_t)``).
    d
        The dimension (enters the rules' ``β``).
    sampling_scale
        ``λ``.

    Returns
    -------
    KDEMoments
    """
    if policy not in COVERED:
        raise ValueError(f"no exact KDE moments for policy {policy!r}")
    from ..families.kde.family import BANDWIDTH_RULES

    lam2 = sampling_scale**2
    rule = bandwidth if isinstance(bandwidth, str) else None

    def h2(size: int, s: float) -> float:
        """``E h²`` of a KDE fitted to ``size`` points with ``E S = s``."""
        if rule is None:
            return float(bandwidth) ** 2
        beta = kde_beta(rule, size, d)
        return beta**2 * (s if BANDWIDTH_RULES[rule] else 1.0)

    points = np.empty(generations + 1)
    var = np.empty(generations + 1)
    mean_var = np.zeros(generations + 1)
    points[0] = var[0] = var0
    sampled = var0  # E U_0: the truth is sampled as it is
    size = 0
    for t in range(1, generations + 1):
        new = n if policy == "replace" or t == 1 else size + n
        if policy == "replace" or t == 1:
            s = (n - 1) / n * sampled
            mean_var[t] = mean_var[t - 1] + sampled / n
        else:
            noise = lam2 * kappa * h2(size, points[t - 1])
            s = ((new * new - n) * points[t - 1] + n * (new - 1) * noise) / (new * new)
            mean_var[t] = mean_var[t - 1] + (n / new) ** 2 * sampled / n
        size = new
        points[t] = s
        var[t] = s + kappa * h2(size, s)
        sampled = s + lam2 * kappa * h2(size, s)
    return KDEMoments(points, var, mean_var)


def kde_growth_factor(rule: str, n: int, *, d: int = 1, kappa: float = 1.0,
                      sampling_scale: float = 1.0) -> float:
    """``g = (N−1)/N · (1 + λ² β² κ)``: ``E var_{t+1} / E var_t`` under ``replace`` with a
    spread rule (Scott's or Silverman's), exact for every ``t ≥ 1``."""
    beta = kde_beta(rule, n, d)
    return (n - 1) / n * (1.0 + sampling_scale**2 * beta**2 * kappa)


def kde_fixed_limit_var(h: float, n: int, *, kappa: float = 1.0,
                        sampling_scale: float = 1.0) -> float:
    """``lim E var_t = κ h² ((N − 1) λ² + 1)`` under ``replace`` with a fixed bandwidth
    (``N κ h²`` at ``λ = 1``), per coordinate."""
    return kappa * h * h * ((n - 1) * sampling_scale**2 + 1.0)


def kde_predictor(config: RunConfig, out: Prediction) -> None:
    """Fill ``out`` for a ``kde`` run (registered in ``FAMILY_PREDICTORS``)."""
    from ..families.kde.family import KDE

    model = config.model
    assert isinstance(model, KDE)
    policy = config.data_policy
    name = policy.name
    d, var0, mu0 = int(model.dim), float(model.std) ** 2, float(model.mean)
    g = config.n_generations
    ts = np.arange(g + 1)
    out.curves["mean"] = [TheoryCurve("exact E mean_t = μ₀", np.full(g + 1, mu0))]
    real = getattr(policy, "real", 0.0) or 0.0
    covered = (name == "replace" or (name == "accumulate" and real == 0.0))
    if model.real_weight is not None:
        covered = False
    out.notes.append("kde: w2, kl, nll and tail_mass depend on every point of the KDE, not on "
                     "its moments; no exact result is known for them")
    if not covered:
        out.notes.append(f"kde: policy {policy.describe()}"
                         + (" with weighted real data" if model.real_weight is not None else "")
                         + " has no exact variance recursion here (only replace and accumulate "
                           "without fresh real data); E mean_t = μ₀ still holds")
        return
    moments = kde_expected_moments(var0=var0, n=config.n_samples, generations=g,
                                   policy=name, kappa=model.kappa, bandwidth=model.bandwidth,
                                   d=d, sampling_scale=model.sampling_scale)
    sd = np.sqrt(moments.mean_var)
    out.curves["mean"] = [TheoryCurve("exact E mean_t = μ₀", np.full(g + 1, mu0),
                                      mu0 - 2 * sd, mu0 + 2 * sd, "exact E mean_t ± 2 sd")]
    out.curves["var"] = [TheoryCurve("exact E var_t", d * moments.var)]
    out.curves["spread"] = [TheoryCurve("exact E ‖X − μ₀‖²_t", d * moments.spread)]
    rule = model.rule
    if name == "replace" and rule is None:
        h = float(model.bandwidth)
        limit = d * kde_fixed_limit_var(h, config.n_samples, kappa=model.kappa,
                                        sampling_scale=model.sampling_scale)
        out.facts["limit E var (fixed bandwidth)"] = limit
        if model.sampling_scale == 1.0:
            out.facts["marginal variance growth per generation (κ h² d)"] = model.kappa * h * h * d
            out.curves["spread"][0] = TheoryCurve("exact E ‖X − μ₀‖²_t = d(σ₀² + t κ h²)",
                                                  d * (var0 + ts * model.kappa * h * h))
    elif name == "replace" and rule in ("scott", "silverman"):
        out.facts["growth factor of E var per generation"] = kde_growth_factor(
            rule, config.n_samples, d=d, kappa=model.kappa, sampling_scale=model.sampling_scale)
