"""Curation hooks shared by the continuous families (gaussian, gmm, mvgaussian): densities and
rewards.

Units are single real samples. The rewards are ``truth`` (the truth's log density) and
``target:c`` (``−(x − c)² / 2``, a preference for samples near ``c``); the model's mean reward
``E_model r`` is exact for ``target:c`` (it needs only the model's mean and variance) and for
``truth`` under a normal truth; for a mixture truth it is a trapezoidal quadrature in standard
units per model component (:func:`normal_expectation`), accurate to about 1e-13.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..rewards import Reward, reward_target, unknown_reward

#: The curators the continuous families support.
CONTINUOUS_CURATORS = ("none", "best-of", "verifier", "top", "bottom", "reweight")

#: What ``--reward`` takes for a continuous family.
CONTINUOUS_REWARDS = "truth (the truth's log density) or target:c (-(x - c)^2 / 2)"

#: Step and half-width, in standard deviations, of :func:`normal_expectation`'s trapezoidal rule.
QUADRATURE_STEP = 0.05
QUADRATURE_HALF_WIDTH = 13.0

_LOG_2PI = float(np.log(2.0 * np.pi))


def normal_logpdf(x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``log N(x; mean, var)``, with ``mean`` and ``var`` broadcast against ``x``.

    A variance of 0 (a collapsed model, whose every sample is its mean) is read as the smallest
    positive double, so its samples have a large finite log density rather than a NaN.
    """
    var = np.maximum(var, np.finfo(float).tiny)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = -0.5 * (_LOG_2PI + np.log(var) + (x - mean) ** 2 / var)
    return np.where(np.isnan(out), -np.inf, out)


def mixture_logpdf(x: np.ndarray, weights: np.ndarray, means: np.ndarray,
                   variances: np.ndarray) -> np.ndarray:
    """``log Σ_j w_j N(x; μ_j, σ_j²)`` for ``x[..., k]`` and component arrays ``[..., K]``."""
    x = np.asarray(x, dtype=float)[..., None]
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(weights, dtype=float))[..., None, :]
    terms = log_w + normal_logpdf(x, np.asarray(means)[..., None, :],
                                  np.asarray(variances)[..., None, :])
    top = terms.max(axis=-1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(under="ignore"):
        total = np.exp(terms - safe).sum(axis=-1)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe[..., 0]


def mv_logpdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``log N(x; mean, cov)`` of points ``x[..., k, d]`` under normals ``mean[..., d]``,
    ``cov[..., d, d]`` (leading shapes broadcast: one normal for all replicates, or one each).

    Eigenvalues are floored at the smallest positive double (as :func:`normal_logpdf` floors a
    variance), so a singular model gives its own points a large finite density and others
    ``−∞``, never NaN.
    """
    lam, vec = np.linalg.eigh(cov)
    lam = np.maximum(lam, np.finfo(float).tiny)
    centred = x - np.asarray(mean)[..., None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        proj = centred @ vec  # coordinates in the eigenbasis, [..., k, d]
        quad = (proj**2 / lam[..., None, :]).sum(axis=-1)
        out = -0.5 * (lam.shape[-1] * _LOG_2PI + np.log(lam).sum(axis=-1)[..., None] + quad)
    return np.where(np.isnan(out), -np.inf, out)


def mv_mixture_logpdf(x: np.ndarray, weights: np.ndarray, means: np.ndarray,
                      covs: np.ndarray) -> np.ndarray:
    """``log Σ_j w_j N(x; μ_j, Σ_j)`` for points ``x[..., k, d]`` and components
    ``weights[..., K]``, ``means[..., K, d]``, ``covs[..., K, d, d]`` (the d-D
    :func:`mixture_logpdf`; a log-sum-exp over components, so far points give finite logs)."""
    weights, means, covs = (np.asarray(a, dtype=float) for a in (weights, means, covs))
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    terms = np.stack([log_w[..., j, None] + mv_logpdf(x, means[..., j, :], covs[..., j, :, :])
                      for j in range(weights.shape[-1])], axis=-1)
    top = terms.max(axis=-1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(under="ignore"):
        total = np.exp(terms - safe).sum(axis=-1)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe[..., 0]


def normal_expectation(function: Callable[[np.ndarray], np.ndarray], weights: np.ndarray,
                       means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``Σ_j w_j E_{N(μ_j, σ_j²)} f(X)`` by the trapezoidal rule in ``z = (x − μ_j)/σ_j``.

    ``E f(X) ≈ Σ_i h φ(z_i) f(μ + σ z_i)`` over ``z_i = −13, −13 + h, …, 13`` with
    ``h`` = :data:`QUADRATURE_STEP`. For an integrand analytic in a strip and decaying like
    ``φ``, the trapezoidal rule converges geometrically in ``1/h`` (its error is that of the
    aliasing of ``φ f``'s Fourier transform), and cutting at 13 standard deviations loses
    ``φ(13) ≈ 1e-37`` of the mass. For the log density of a normal mixture (the ``truth``
    reward) it agrees with adaptive quadrature to about 1e-13, including model components much
    wider than the truth's, where a Gauss–Hermite rule of 80 nodes errs by 1e-4: the mixture's
    log density bends between its components on a scale small next to such a component.
    A component of zero weight contributes nothing, and one of infinite variance ``−∞``.
    """
    z = np.arange(-QUADRATURE_HALF_WIDTH, QUADRATURE_HALF_WIDTH + QUADRATURE_STEP / 2,
                  QUADRATURE_STEP)
    node_weights = QUADRATURE_STEP * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    means = np.asarray(means, dtype=float)[..., None]
    sd = np.sqrt(np.asarray(variances, dtype=float))[..., None]
    with np.errstate(invalid="ignore", over="ignore"):
        points = means + sd * z
        values = function(points) @ node_weights
        weighted = np.where(np.asarray(weights) > 0, np.asarray(weights) * values, 0.0)
    return weighted.sum(axis=-1)


def continuous_reward(spec: str, family: str, *, log_truth: Callable[[np.ndarray], np.ndarray],
                      truth_expected: Callable[[np.ndarray], np.ndarray],
                      moments: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Reward:
    """The ``truth`` or ``target:c`` reward of a continuous family.

    Parameters
    ----------
    log_truth
        ``x → log p_truth(x)``.
    truth_expected
        ``params → E_model log p_truth``.
    moments
        ``params → (mean, var)`` of the model (for ``target:c``:
        ``E_model r = −(var + (mean − c)²) / 2``).
    """
    if spec == "truth":
        return Reward(spec, lambda units: log_truth(units.values), truth_expected,
                      "reward: the truth's log density")
    target = reward_target(spec)
    if target is None:
        raise unknown_reward(spec, family, CONTINUOUS_REWARDS)

    def score(units):
        return -0.5 * (units.values - target) ** 2

    def expected(params):
        mean, var = moments(params)
        with np.errstate(over="ignore", invalid="ignore"):
            return -0.5 * (var + (mean - target) ** 2)

    return Reward(spec, score, expected, f"reward: -(x - {target:g})²/2")
