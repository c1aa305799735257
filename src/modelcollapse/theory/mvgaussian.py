"""Exact results for the d-dimensional normal refitted to its own samples (``mvgaussian``).

Notation: ``d`` dimensions, ``N`` samples per generation, ``D = N`` (MLE) or ``N − 1``
(unbiased), ``t`` fit steps, truth ``N(μ₀, Σ₀)``.

Every policy, by projection
    For any fixed direction ``u`` the projections ``uᵀx`` of the whole process (truth, fits,
    samples, carried-over points, sampling scale, weighted fit) are exactly the 1-D ``gaussian``
    family's process with ``var_0 = uᵀΣ₀u``: the projected sample covariance is the sample
    variance of the projections, and a projected normal is normal. The 1-D moment recursions
    (:func:`~.moments.variance_moments`) are linear and homogeneous in ``var_0``, so with
    ``c_t = E var_t`` and ``o_t = E (mean_t − μ₀)²`` of the 1-D process started at
    ``var_0 = 1``, ``uᵀ(E Σ_t)u = c_t uᵀΣ₀u`` for every ``u``, i.e.
    ``E Σ_t = c_t Σ₀`` and ``E (μ_t − μ₀)(μ_t − μ₀)ᵀ = o_t Σ₀``. Hence, exactly, under every
    policy the 1-D recursions cover: ``E trace_t = c_t tr Σ₀``, ``E mean_dist_t² = o_t tr Σ₀``,
    and the mean rewards (``truth``: ``−½[d ln 2π + ln det Σ₀ + d (c_t + o_t)]``; ``target:c``:
    ``−½[(c_t + o_t) tr Σ₀ + |μ₀ − c·1|²]``). For ``d = 1`` these are the gaussian family's.
Replace, by the Wishart law
    ``Σ_t = F_{t−1} (W_t / D) F_{t−1}ᵀ`` with ``F F ᵀ = Σ_{t−1}`` and ``W_t ~ Wishart_d(N − 1, I)``
    independent of the past; ``det W = Π_{i=0}^{d−1} χ²_{N−1−i}`` (Bartlett, independent
    factors), so for ``N > d``

    * ``E ln det Σ_t = ln det Σ₀ + t [Σ_{i=0}^{d−1} ψ((N − 1 − i)/2) + d ln(2/D)]``,
    * ``Var ln det Σ_t = t Σ_{i=0}^{d−1} ψ′((N − 1 − i)/2)``

    (a random walk with negative drift: the generalised variance collapses almost surely, faster
    in more dimensions); for ``N ≤ d`` every fit is singular and ``ln det = −∞``.
    ``E W⁻¹ = I / (N − d − 2)`` gives ``E Σ_t⁻¹ = e^t Σ₀⁻¹`` with ``e = D / (N − d − 2)``, and,
    as the sample mean and covariance are independent, ``q_t = E (μ_t − μ₀)ᵀΣ_t⁻¹(μ_t − μ₀)``
    obeys ``q_t = e (q_{t−1} + d/N)``; so for ``N > d + 2``
    ``E KL_t = ½ [d e^t + q_t − d + E ln det Σ_t − ln det Σ₀]`` with
    ``q_t = (d/N) Σ_{j=1}^t e^j`` (infinite for ``N ≤ d + 2``).

Not exact: ``w2`` (the Bures term ``tr(Σ₀^{1/2}ΣΣ₀^{1/2})^{1/2}`` has no closed expectation for
``d > 1``), ``min_eig`` (the law of a Wishart's smallest eigenvalue is known but not its
product over generations), ``logdet`` and ``kl`` off ``replace`` (a sum of fitted covariances is
not a Wishart product).

References
----------
.. [1] E. Kazdan, R. Schaeffer et al., "Collapse or thrive? Perils and promises of synthetic data
   in a self-generating world", arXiv:2410.16713 (2024).
.. [2] M. S. Bartlett, "On the theory of statistical regression", Proc. R. Soc. Edinburgh 53,
   260–283 (1933).
.. [3] R. J. Muirhead, *Aspects of Multivariate Statistical Theory*, Wiley (1982): Theorem 3.2.15
   (the Bartlett decomposition) and §3.2 (``E W⁻¹ = Σ⁻¹ / (n − d − 1)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .assembly import pieces
from .curves import Prediction, TheoryCurve
from .moments import NotCovered, variance_moments

if TYPE_CHECKING:
    from ..config import RunConfig


def _divisor(n_samples: int, estimator: str) -> int:
    if estimator not in ("mle", "unbiased"):
        raise ValueError(f"estimator must be mle or unbiased, not {estimator!r}")
    return n_samples if estimator == "mle" else n_samples - 1


def mv_logdet_step(dim: int, n_samples: int, estimator: str = "mle") -> tuple[float, float]:
    """Mean and variance of ``ln det Σ_t − ln det Σ_{t−1}`` under ``replace`` (``N > d``).

    ``ln det(W/D)`` with ``W ~ Wishart_d(N − 1, I)``: mean
    ``Σ_{i<d} ψ((N − 1 − i)/2) + d ln(2/D)``, variance ``Σ_{i<d} ψ′((N − 1 − i)/2)``.
    """
    from scipy import special

    if n_samples <= dim:
        raise ValueError(f"every fit is singular for N ≤ d ({n_samples} ≤ {dim}): ln det = −∞")
    half = (n_samples - 1 - np.arange(dim)) / 2
    mean = float(special.digamma(half).sum() + dim * np.log(2 / _divisor(n_samples, estimator)))
    return mean, float(special.polygamma(1, half).sum())


def mv_expected_logdet(logdet0: float, dim: int, n_samples: int, t: np.ndarray | int,
                       estimator: str = "mle") -> np.ndarray:
    """``E ln det Σ_t = ln det Σ₀ + t · step`` under ``replace`` (:func:`mv_logdet_step`)."""
    step, _ = mv_logdet_step(dim, n_samples, estimator)
    return logdet0 + np.asarray(t, dtype=float) * step


def mv_var_logdet(dim: int, n_samples: int, t: np.ndarray | int,
                  estimator: str = "mle") -> np.ndarray:
    """``Var ln det Σ_t = t Σ_{i<d} ψ′((N − 1 − i)/2)`` under ``replace``."""
    _, var = mv_logdet_step(dim, n_samples, estimator)
    return np.asarray(t, dtype=float) * var


def mv_expected_kl(dim: int, n_samples: int, t: np.ndarray | int,
                   estimator: str = "mle") -> np.ndarray:
    """``E KL(truth ‖ fit_t)`` under ``replace``, for ``N > d + 2`` (module docstring).

    Depends on the truth only through ``d`` (KL is invariant under affine maps).
    """
    if n_samples <= dim + 2:
        raise ValueError(f"E KL is infinite for N ≤ d + 2 ({n_samples} ≤ {dim + 2}): E W⁻¹ "
                         "diverges")
    t = np.asarray(t, dtype=float)
    e = _divisor(n_samples, estimator) / (n_samples - dim - 2)
    powers = e**t
    q = dim * (e * (powers - 1) / (e - 1) if e != 1 else t) / n_samples
    log_ratio = mv_expected_logdet(0.0, dim, n_samples, t, estimator)
    return 0.5 * (dim * powers + q - dim + log_ratio)


def mv_trace_moments(cov0: np.ndarray, n_samples: int, n_generations: int, parts, *,
                     estimator: str = "mle", scale: float = 1.0,
                     real_weight: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``E trace_t`` and ``E |mean_t − μ₀|²`` under any policy the 1-D recursion covers.

    Both are ``tr Σ₀`` times the 1-D family's ``E var_t`` and ``E (mean_t − μ₀)²`` started at
    ``var_0 = 1`` (module docstring: every projection is the 1-D process).

    Raises
    ------
    NotCovered
        Where the 1-D recursion has no exact result.
    """
    c, o = variance_moments(1.0, n_samples, n_generations, parts, divisor=estimator,
                            scale=scale, real_weight=real_weight)
    total = float(np.trace(cov0))
    with np.errstate(over="ignore", invalid="ignore"):
        return c * total, o * total


def predictor(config: RunConfig, out: Prediction) -> None:
    """Fill ``out`` for an uncurated ``mvgaussian`` run (``FAMILY_PREDICTORS["mvgaussian"]``)."""
    from ..families import MVGaussian
    from ..policies import Replace
    from ..rewards import reward_target

    model = config.model
    assert isinstance(model, MVGaussian)
    d, n, g = int(model.dim), config.n_samples, config.n_generations
    cov0, mean0 = model.cov0, model.mean0
    est, scale, weight = model.estimator, float(model.sampling_scale), model.real_weight
    parts = pieces(config.data_policy, n)
    t = np.arange(g + 1)
    try:
        trace, offset2 = mv_trace_moments(cov0, n, g, parts, estimator=est, scale=scale,
                                          real_weight=weight)
    except NotCovered as err:
        out.notes.append(f"mvgaussian: {err}; trace, mean_dist and reward are not drawn")
    else:
        out.curves["trace"] = [TheoryCurve(
            "exact E trace_t (= tr Σ₀ × the 1-D E var_t / var_0)", trace)]
        out.curves["mean_dist"] = [TheoryCurve(
            "exact √E mean_dist_t² (= √(tr Σ₀ × the 1-D E (mean_t − μ₀)² / var_0))",
            np.sqrt(offset2))]
        if config.reward is not None and "reward" in config.metric_names:
            share = (trace + offset2) / float(np.trace(cov0))  # c_t + o_t
            if config.reward == "truth":
                logdet0 = float(np.linalg.slogdet(cov0)[1])
                values = -0.5 * (d * np.log(2 * np.pi) + logdet0 + d * share)
                label = "exact E reward_t (= −½[d ln 2π + ln det Σ₀ + d (c_t + o_t)])"
            else:
                c = reward_target(config.reward)
                assert c is not None
                values = -0.5 * (share * float(np.trace(cov0)) + float(((mean0 - c) ** 2).sum()))
                label = "exact E reward_t (= −½[(c_t + o_t) tr Σ₀ + |μ₀ − c·1|²])"
            out.curves["reward"] = [TheoryCurve(label, values)]
    plain = scale == 1.0 and weight is None
    if not (isinstance(config.data_policy, Replace) and plain):
        out.notes.append("mvgaussian: logdet and kl have exact results only under replace "
                         "without a sampling scale or a weighted fit; w2 and min_eig have none")
        return
    logdet0 = float(np.linalg.slogdet(cov0)[1])
    if n > d:
        mean = mv_expected_logdet(logdet0, d, n, t, est)
        sd = np.sqrt(mv_var_logdet(d, n, t, est))
        out.curves["logdet"] = [TheoryCurve(
            "exact E logdet_t (Wishart: Σ ψ((N−1−i)/2) + d ln(2/D) per generation)", mean,
            mean - 2 * sd, mean + 2 * sd, "exact E logdet_t ± 2 sd")]
        out.facts["E logdet per generation"] = mv_logdet_step(d, n, est)[0]
        out.facts["Var logdet per generation"] = mv_logdet_step(d, n, est)[1]
        out.notes.append("mvgaussian: logdet and kl are exact while every fit is numerically "
                         "non-singular; a fit whose smallest eigenvalue falls below 64 ε × its "
                         "largest (a condition number past about 7e13, reached after many "
                         "generations in high dimension) is recorded as singular (logdet = "
                         "−inf, kl = inf), and then the simulated means leave the exact ones")
    else:
        out.notes.append(f"mvgaussian: with N ≤ d ({n} ≤ {d}) every fit is singular: "
                         "logdet = −inf and kl = inf from generation 1")
    if n > d + 2:
        out.curves["kl"] = [TheoryCurve("exact E KL_t (inverse-Wishart mean)",
                                        mv_expected_kl(d, n, t, est))]
    elif n > d:
        out.notes.append(f"mvgaussian: E KL_t is infinite for N ≤ d + 2 ({n} ≤ {d + 2})")
    out.notes.append("mvgaussian: w2 and min_eig have no closed form (the Bures term and a "
                     "Wishart product's smallest eigenvalue)")
