"""Exact theory of linear regression refitted to its own labels (``regression``).

Setting: ``y = x·w + σε``, ``x ~ N(0, I_d)``, ordinary least squares on ``N`` pairs, synthetic
labels ``x·ŵ + s ε`` with ``s = λ_s σ`` (``--label-noise true``) or ``s = λ_s σ̂``
(``fitted``). Write ``e_t = ŵ_t − w`` and ``c = σ² d / (N − d − 1)`` (``N ≥ d + 2``).

Replace (fresh or fixed inputs), exact. ``e_t = e_{t−1} + (XᵀX)⁻¹Xᵀ s_t ε_t``; the increment
has mean zero given the past and ``E tr (XᵀX)⁻¹ = d / (N − d − 1)`` (the inverse-Wishart mean),
with fixed inputs too (the label noise of every generation is independent of ``X``), so

* true label noise: ``E‖e_t‖² = c (1 + λ_s² (t − 1))``: linear growth by ``c`` per generation
  (``λ_s = 1``), Gerstgrasser et al.'s result for the replace (discard) workflow;
* fitted label noise: ``σ̂_t² = s_t² χ²_{N−d} / (N − d)`` independent of ``e_t``, so
  ``E σ̂_t² = σ² λ_s^{2(t−1)}`` and ``E‖e_t‖² = c Σ_{k<t} λ_s^{2k}`` (``= c t`` for ``λ_s = 1``:
  the unbiased ``σ̂²`` keeps the slope).

The test error on fresh real data is ``σ² + ‖e_t‖²`` exactly (isotropic design), so
``E test_error_t = σ² + E‖e_t‖²``.

Accumulate (no fresh real data, fixed inputs, true label noise), exact. Training set ``t`` is the
``N`` inputs of training set 1 repeated ``t`` times; ``ŵ_t`` is the average of the per-copy fits,
whence ``e_t = e_{t−1} + u_t / t`` with ``E‖u_1‖² = c`` and ``E‖u_s‖² = λ_s² c``:
``E‖e_t‖² = c (1 + λ_s² Σ_{s=2}^t 1/s²) → c (1 + λ_s² (π²/6 − 1))`` (Gerstgrasser et al.,
Dey & Donoho's π²/6). With fresh inputs the same formula holds only to first order in ``d/N``
(a limit ``N → ∞``, labelled so).

Mix (fresh real fraction ``a``, the rest synthetic, no carry-over), limit ``N → ∞`` with ``d``
fixed: ``e_t ≈ (1 − a) e_{t−1} + noise``, so ``E‖e‖²`` plateaus at
``σ² d (a + (1 − a) λ_s²) / (N (1 − (1 − a)²))``: ``1/(a(2 − a))`` times the all-real error
(approximate). In this recursive loop the plateau still falls like ``1/N``; Dohmatob et al.'s
*strong* model collapse (a plateau that more data does not lower) needs synthetic labels from a
fixed, biased source.

References
----------
.. [1] M. Gerstgrasser et al., arXiv:2404.01413 (2024), §3 (linear regression).
.. [2] A. Dey, D. Donoho, arXiv:2410.22812 (2024).
.. [3] E. Dohmatob, Y. Feng, J. Kempe, arXiv:2402.07712 (2024); E. Dohmatob, Y. Feng, A.
   Subramonian, J. Kempe, "Strong model collapse", arXiv:2410.04840 (2024).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .curves import Prediction, TheoryCurve

if TYPE_CHECKING:
    from ..config import RunConfig


def inverse_wishart_trace(dim: int, n: int) -> float:
    """``E tr (XᵀX)⁻¹ = d / (N − d − 1)`` for ``N`` rows of ``N(0, I_d)`` (``N ≥ d + 2``)."""
    if n < dim + 2:
        raise ValueError(f"E tr (XᵀX)⁻¹ is finite only for N ≥ d + 2 (N = {n}, d = {dim})")
    return dim / (n - dim - 1)


def regression_replace_param_error(dim: int, n: int, noise: float, generations: int, *,
                        label_noise: str = "true", sampling_scale: float = 1.0) -> np.ndarray:
    """Exact ``E‖ŵ_t − w‖²`` for ``t = 0..G`` under ``replace`` (OLS, fresh or fixed inputs)."""
    c = noise**2 * inverse_wishart_trace(dim, n)
    t = np.arange(generations + 1)
    lam2 = sampling_scale**2
    if label_noise == "true":
        out = c * (1 + lam2 * (t - 1.0))
    else:
        out = c * np.array([np.sum(lam2 ** np.arange(k)) for k in t])
    out[0] = 0.0
    return out


def regression_replace_noise(noise: float, generations: int, *, label_noise: str = "true",
                  sampling_scale: float = 1.0) -> np.ndarray:
    """Exact ``E σ̂_t²`` (``RSS / (N − d)``) for ``t = 0..G`` under ``replace``."""
    t = np.arange(generations + 1)
    lam2 = sampling_scale**2
    if label_noise == "true":
        out = np.full(t.shape, noise**2 * lam2)
        out[:2] = noise**2
    else:
        out = noise**2 * lam2 ** np.maximum(t - 1, 0).astype(float)
    return out


def regression_accumulate_param_error(dim: int, n: int, noise: float, generations: int, *,
                           sampling_scale: float = 1.0) -> np.ndarray:
    """``E‖ŵ_t − w‖² = c (1 + λ_s² Σ_{s=2}^t 1/s²)`` under ``accumulate``, ``t = 0..G``.

    Exact with fixed inputs and true label noise; with fresh inputs a limit (``N → ∞``).
    """
    c = noise**2 * inverse_wishart_trace(dim, n)
    t = np.arange(generations + 1)
    inv2 = np.concatenate([[0.0, 0.0], 1.0 / np.arange(2, generations + 1) ** 2])
    out = c * (1 + sampling_scale**2 * np.cumsum(inv2)[: generations + 1])
    out[0] = 0.0
    return out[t]


def regression_accumulate_limit(dim: int, n: int, noise: float, *,
                                sampling_scale: float = 1.0) -> float:
    """``lim_t E‖ŵ_t − w‖² = c (1 + λ_s² (π²/6 − 1))`` (fixed inputs: exact limit)."""
    c = noise**2 * inverse_wishart_trace(dim, n)
    return float(c * (1 + sampling_scale**2 * (np.pi**2 / 6 - 1)))


def regression_mix_plateau(dim: int, n: int, noise: float, real: float, *,
                sampling_scale: float = 1.0) -> float:
    """Approximate stationary ``E‖ŵ − w‖²`` under ``mix`` with real fraction ``a`` (large N).

    ``σ² d (a + (1 − a) λ_s²) / (N (1 − (1 − a)²))``: first order in ``d / N``.
    """
    a = real
    if a <= 0:
        return float("inf")
    return float(noise**2 * dim * (a + (1 - a) * sampling_scale**2) / (n * (1 - (1 - a) ** 2)))


def regression_predictor(config: RunConfig, out: Prediction) -> None:
    """Fill ``out`` for a ``regression`` run: exact curves where exact, notes elsewhere."""
    from ..families.regression import Regression
    from ..policies import Accumulate, AccumulateSubsample, Mix, Replace

    model = config.model
    assert isinstance(model, Regression)
    policy, n, g = config.data_policy, config.n_samples, config.n_generations
    d, sigma, lam = model.dim, model.noise, model.sampling_scale
    if model.ridge != 0.0 or model.real_weight is not None:
        out.notes.append("regression: with a ridge penalty or a weighted fit no exact result is "
                         "known here (ŵ is then biased and the recursion is not a sum of "
                         "independent increments); none is drawn")
        return
    if n < d + 2:
        out.notes.append(f"regression: E ‖ŵ − w‖² is infinite for N < d + 2 (N = {n}, d = {d}): "
                         "the inverse Wishart has no mean")
        return
    c = sigma**2 * inverse_wishart_trace(d, n)
    out.facts["first-generation param error σ²d/(N−d−1)"] = c
    if isinstance(policy, Replace):
        error = regression_replace_param_error(d, n, sigma, g, label_noise=model.label_noise,
                                    sampling_scale=lam)
        out.curves["param_error"] = [TheoryCurve("exact E ‖ŵ_t − w‖²", error)]
        out.curves["test_error"] = [TheoryCurve("exact E test error", sigma**2 + error)]
        out.curves["noise"] = [TheoryCurve("exact E σ̂²_t", regression_replace_noise(
            sigma, g, label_noise=model.label_noise, sampling_scale=lam))]
        if model.label_noise == "true":
            out.facts["param error growth per generation"] = c * lam**2
        return
    if isinstance(policy, Accumulate) and not isinstance(policy, AccumulateSubsample) \
            and policy.real == 0.0 and model.label_noise == "true":
        limit = regression_accumulate_limit(d, n, sigma, sampling_scale=lam)
        if model.inputs == "fixed":
            error = regression_accumulate_param_error(d, n, sigma, g, sampling_scale=lam)
            out.curves["param_error"] = [TheoryCurve("exact E ‖ŵ_t − w‖²", error)]
            out.curves["test_error"] = [TheoryCurve("exact E test error", sigma**2 + error)]
            out.facts["limit param error c(1 + λ²(π²/6 − 1))"] = limit
        else:
            out.facts["approximate limit param error c(1 + λ²(π²/6 − 1)), N → ∞"] = limit
            out.notes.append("regression, accumulate with fresh inputs: the π²/6 bound on the "
                             "param error holds only in the limit N → ∞ (first order in d/N); "
                             "no curve is drawn (exact with --inputs fixed)")
        out.notes.append("regression, accumulate: noise (the pooled σ̂²) has no exact result "
                         "here")
        return
    if isinstance(policy, Mix) and policy.split(n)[2] == 0 and policy.real > 0:
        a = policy.split(n)[0] / n
        out.facts["approximate plateau param error, mix (N → ∞)"] = regression_mix_plateau(
            d, n, sigma, a, sampling_scale=lam)
        out.notes.append("regression, mix: the plateau σ²d(a + (1 − a)λ²)/(N(1 − (1 − a)²)) is "
                         "a large-N approximation (first order in d/N); it still falls like 1/N "
                         "(Dohmatob et al.'s strong collapse needs a fixed synthetic source)")
        return
    out.notes.append(f"regression: no exact result is known here for policy {policy.name} "
                     "with these settings (exact: replace; accumulate without fresh real data, "
                     "fixed inputs and true label noise)")
