"""The d-dimensional Gaussian mixture (``--dim d ≥ 2``): truth, fit, sampling and metrics.

:class:`~modelcollapse.families.gmm.family.GMM` hands every operation here when ``dim ≥ 2``; its
1-D code paths are untouched (``--dim 1``, the default, is bit-identical to the family before
this module existed, and ``dim`` is a neutral option: it leaves every 1-D stream key alone).

Truth
    ``K`` components with weights ``w_k``, means ``μ_k ∈ R^d`` (``--means``: a flat row-major
    ``K × d`` list) and covariances ``Σ_k`` (``--covs``: a flat list of ``K`` row-major ``d × d``
    symmetric positive definite matrices; or isotropic ``s_k² I`` from ``--stds``, unit by
    default). Components are sorted by their means' first coordinate.

The Shumailov blobs preset
    ``--dim 2`` with no ``--means``: two equally weighted isotropic unit blobs at ``(−2, 0)`` and
    ``(2, 0)``, the 2-D form of the family's classic 1-D truth, as in the two-Gaussian mixture of
    Shumailov et al.'s GMM experiment (Nature 2024, and its preprint arXiv 2305.17493, whose GMM
    figure shows a GMM separating two artificially generated Gaussians refitted over thousands
    of generations). The exact means and covariances they used could not be found in the stored
    sources (their text gives none); the preset's are this package's choice, stated here and
    shown by ``describe()`` ("Shumailov blobs").

Curation
    Every curator; a unit is one point. The verifier's belief is the truth moved by ``δ`` along
    ``(1, ..., 1)``, its reference point the truth's peak (:func:`truth_log_peak`). Rewards
    (:data:`ND_REWARDS`): ``target:c`` with a closed-form model mean, and ``truth``, whose model
    mean is exact when the truth's components share a covariance (:func:`truth_reduction`) and a
    tensor quadrature of stated error in the plane otherwise (:func:`truth_reward_expected`).

Parameters of one replicate: an array ``[1 + d + d², K]``: row 0 the weights, rows ``1..d`` the
means' coordinates, rows ``1 + d..`` the covariances row-major (:func:`unpack`, :func:`pack`).

Metrics
    ``var``: the trace of the mixture's total covariance
    ``Σ_k w_k (Σ_k + (μ_k − m)(μ_k − m)ᵀ)``; ``mean_x_{j}``: coordinate ``j`` of the mixture mean
    ``m = Σ_k w_k μ_k``; per component ``mean_{i}_{j}``, ``std_{i} = √(tr Σ_i / d)``,
    ``weight_{i}``; ``em_iterations``. ``w2``, ``kl`` and ``tail_mass`` have no closed form or
    cheap quadrature in d dimensions and are not recorded.

References
----------
.. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson and Y. Gal, "AI models
   collapse when trained on recursively generated data", Nature 631, 755–759 (2024).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...rewards import Reward, reward_target, unknown_reward
from ...training_sets import Samples, sample_weights
from ...validation import check_int, check_locations_and_scales
from ..continuous import (
    QUADRATURE_HALF_WIDTH,
    QUADRATURE_STEP,
    mv_logpdf,
    mv_mixture_logpdf,
)

#: The most dimensions: a run records ``K (d + 2) + d + 2`` metrics and the results table
#: codes a metric's name in one signed byte (:data:`MAX_METRICS`).
MAX_DIM = 16
#: At most this many metric names (the 1-D family's ``3K + 6`` reaches 126 at ``K = 40``).
MAX_METRICS = 126
#: The blobs preset's component means (``--dim 2`` with no ``--means``; zero-padded in d > 2).
BLOBS_MEANS = ((-2.0, 0.0), (2.0, 0.0))
#: Samples beyond this magnitude mean a blown-up model (as the 1-D family's ``BLOWN_UP``).
BLOWN_UP = 1e150


def check_dim(value: Any) -> int:
    """``--dim``: an integer between 1 and :data:`MAX_DIM`."""
    try:
        d = check_int("dim", value, minimum=1)
    except ConfigError:
        d = 0
    if not 1 <= d <= MAX_DIM:
        raise ConfigError("dim", f"must be an integer between 1 and {MAX_DIM}", value)
    return d


def finite_floats(name: str, values: Any) -> tuple[float, ...]:
    """``values`` as a tuple of finite floats, or a ConfigError naming ``name``."""
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ConfigError(name, "must be a list of numbers", values) from None
    if not all(np.isfinite(out)):
        raise ConfigError(name, "must be finite numbers", values)
    return out


def configure(model: Any, k: int | None) -> None:
    """Validate and resolve a d-D truth in place (``model`` is frozen: ``object.__setattr__``).

    ``k`` is the validated ``n_components`` or ``None``. Sets ``n_components``, ``means`` (flat
    ``K·d``), ``covs`` (flat ``K·d²``), ``stds`` (``√(tr Σ_k / d)``) and ``weights``, all in the
    order of the means' first coordinate.
    """
    d = model.dim
    if model.means is None:
        if k not in (None, 2):
            raise ConfigError("means", f"must be given for {k} components")
        means = np.zeros((2, d))
        means[:, :2] = BLOBS_MEANS
    else:
        flat = finite_floats("means", model.means)
        if k is None:
            if len(flat) % d:
                raise ConfigError("means", f"must have K × {d} values (K means of {d} "
                                  "coordinates, row-major)", model.means)
            k = len(flat) // d
        if len(flat) != k * d or k == 0:
            raise ConfigError("means", f"must have {k} × {d} values (one mean of {d} "
                              "coordinates per component, row-major)", model.means)
        means = np.array(flat).reshape(k, d)
    k = means.shape[0]
    if k * (d + 2) + d + 2 > MAX_METRICS:
        raise ConfigError("n_components", f"must be at most {(MAX_METRICS - d - 2) // (d + 2)} "
                          f"in {d} dimensions (a run records K (d + 2) + d + 2 metrics)", k)
    weights = (1.0 / k,) * k if model.weights is None else finite_floats("weights", model.weights)
    if len(weights) != k:
        raise ConfigError("weights", f"must have {k} values, one per component", model.weights)
    if min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-9:
        raise ConfigError("weights", "must be ≥ 0 and sum to 1", model.weights)
    stds_given = None if model.stds is None else finite_floats("stds", model.stds)
    if model.covs is None:
        stds = (1.0,) * k if stds_given is None else stds_given
        if len(stds) != k:
            raise ConfigError("stds", f"must have {k} values, one per component", model.stds)
        if min(stds) <= 0:
            raise ConfigError("stds", "must all be > 0", model.stds)
        covs = np.array([s * s * np.eye(d) for s in stds])
    else:
        flat = finite_floats("covs", model.covs)
        if len(flat) != k * d * d:
            raise ConfigError("covs", f"must have {k} × {d}×{d} values (one row-major "
                              "covariance per component)", model.covs)
        covs = np.array(flat).reshape(k, d, d)
        if not np.allclose(covs, covs.transpose(0, 2, 1), rtol=1e-12, atol=0.0):
            raise ConfigError("covs", "must be symmetric matrices", model.covs)
        covs = 0.5 * (covs + covs.transpose(0, 2, 1))
        if np.linalg.eigvalsh(covs).min() <= 0:
            raise ConfigError("covs", "must be positive definite matrices", model.covs)
    traces = np.einsum("kii->k", covs)
    derived = np.sqrt(traces / d)
    # A stored configuration carries both (resolved); a user giving both must agree with itself.
    if model.covs is not None and stds_given is not None and not np.allclose(
            stds_given, derived, rtol=1e-9, atol=0.0):
        raise ConfigError("stds", "give --covs or --stds in d ≥ 2, not both", model.stds)
    scales = np.sqrt(np.einsum("kii->ki", covs))
    check_locations_and_scales(tuple(means.ravel()), tuple(scales.ravel()))
    order = np.argsort(means[:, 0], kind="stable")
    means, covs, derived = means[order], covs[order], derived[order]
    weights_sorted = np.asarray(weights)[order]
    if model.init == "warm":
        for i in range(k):
            for j in range(i):
                if np.array_equal(means[i], means[j]) and np.array_equal(covs[i], covs[j]):
                    raise ConfigError("means", "two components coincide (equal means and "
                                      "covariances): a warm-started EM never separates them; "
                                      "use --init kmeans", model.means)
    object.__setattr__(model, "n_components", k)
    object.__setattr__(model, "means", tuple(float(v) for v in means.ravel()))
    object.__setattr__(model, "covs", tuple(float(v) for v in covs.ravel()))
    object.__setattr__(model, "stds", tuple(float(v) for v in derived))
    object.__setattr__(model, "weights", tuple(float(v) / sum(weights) for v in weights_sorted))


# -- parameters ---------------------------------------------------------------------------------


def unpack(params: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``w[..., K]``, ``mu[..., K, d]``, ``cov[..., K, d, d]`` from
    ``params[..., 1 + d + d², K]``."""
    k = params.shape[-1]
    w = params[..., 0, :]
    mu = np.swapaxes(params[..., 1:1 + d, :], -1, -2)
    cov = np.moveaxis(params[..., 1 + d:, :], -1, -2).reshape(*params.shape[:-2], k, d, d)
    return w, mu, cov


def pack(w: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """The inverse of :func:`unpack`."""
    k, d = mu.shape[-2:]
    flat = cov.reshape(*cov.shape[:-3], k, d * d)
    return np.concatenate([w[..., None, :], np.swapaxes(mu, -1, -2),
                           np.swapaxes(flat, -1, -2)], axis=-2)


def truth(model: Any) -> np.ndarray:
    d, k = model.dim, model.n_components
    return pack(np.asarray(model.weights), np.asarray(model.means).reshape(k, d),
                np.asarray(model.covs).reshape(k, d, d))


def metric_names(model: Any) -> tuple[str, ...]:
    d, k = model.dim, model.n_components
    return ("var", *(f"mean_x_{j}" for j in range(d)),
            *(f"mean_{i}_{j}" for i in range(k) for j in range(d)),
            *(f"std_{i}" for i in range(k)), *(f"weight_{i}" for i in range(k)),
            "em_iterations")


def mixture_moments(w: np.ndarray, mu: np.ndarray,
                    cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mixture's mean ``m = Σ w_k μ_k`` and total covariance
    ``Σ_k w_k (Σ_k + (μ_k − m)(μ_k − m)ᵀ)`` (centred: no cancellation)."""
    m = np.einsum("...k,...kj->...j", w, mu)
    dev = mu - m[..., None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.einsum("...k,...kab->...ab", w, cov + dev[..., :, None] * dev[..., None, :])
    return m, total


# -- the loop's operations ----------------------------------------------------------------------


def sampling_params(model: Any, params: np.ndarray) -> np.ndarray:
    """Every component's covariance times ``λ²`` (deviations times ``λ``); weights, means kept."""
    out = np.array(params, dtype=float)
    with np.errstate(over="ignore"):
        out[..., 1 + model.dim:, :] *= model.sampling_scale ** 2
    return out


def sample(model: Any, params: np.ndarray, n: int, rng: np.random.Generator) -> Samples:
    from .em_nd import sample_block_nd

    w, mu, cov = unpack(np.asarray(params, dtype=float), model.dim)
    out = np.empty((params.shape[0], n, model.dim))
    sample_block_nd(rng, np.ascontiguousarray(w), np.ascontiguousarray(mu),
                    np.ascontiguousarray(cov), n, out)
    return Samples(out)


def fit(model: Any, data: Any, rng: np.random.Generator,
        previous: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from .em_nd import fit_block_nd, fit_block_nd_kmeans

    d = model.dim
    x = np.ascontiguousarray(data.values, dtype=float)
    blown = np.zeros(x.shape[0], dtype=bool)
    if model.sampling_scale > 1.0:  # as the 1-D family: a blown-up row is kept, not fitted
        with np.errstate(invalid="ignore"):
            blown = ~(np.abs(x) <= BLOWN_UP).all(axis=(1, 2))
    if blown.any():
        x = x.copy()
        x[blown] = 0.0
    if model.real_weight is not None:
        assert data.real is not None, "the loop marks provenance when real_weight is set"
        omega = np.ascontiguousarray(sample_weights(data.real, model.real_weight))
    else:
        omega = np.ones(x.shape[:2])
    w, mu, cov = (np.array(a, dtype=float) for a in unpack(np.asarray(previous, dtype=float), d))
    if model.backend == "sklearn":
        w, mu, cov, iterations = _fit_sklearn(model, x, rng, w, mu, cov)
    elif model.init == "warm":
        iterations = fit_block_nd(x, omega, w, mu, cov, model.tol, model.max_iter,
                                  model.var_floor)
    else:
        iterations = fit_block_nd_kmeans(rng, x, omega, w, mu, cov, model.tol, model.max_iter,
                                         model.var_floor)
    params = pack(w, mu, cov)
    if blown.any():
        params[blown] = previous[blown]
        params[blown, 1 + d:] = np.inf
        iterations = np.where(blown, 0, iterations)
    return params, {"em_iterations": np.asarray(iterations, dtype=float)}


def _fit_sklearn(model: Any, x: np.ndarray, rng: np.random.Generator, w: np.ndarray,
                 mu: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, ...]:
    """scikit-learn's ``GaussianMixture(covariance_type="full")`` per replicate."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    rows, k = w.shape
    iterations = np.empty(rows)
    for r in range(rows):
        settings: dict[str, Any] = dict(n_components=k, covariance_type="full", tol=model.tol,
                                        reg_covar=model.var_floor, max_iter=model.max_iter,
                                        random_state=int(rng.integers(2**31 - 1)))
        if model.init == "warm":
            weights = np.maximum(w[r], 10 * np.finfo(float).eps)
            settings.update(weights_init=weights / weights.sum(), means_init=mu[r],
                            precisions_init=np.linalg.inv(cov[r]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = GaussianMixture(**settings).fit(x[r])
        order = np.argsort(fitted.means_[:, 0], kind="stable")
        w[r], mu[r], cov[r] = (fitted.weights_[order], fitted.means_[order],
                               fitted.covariances_[order])
        iterations[r] = fitted.n_iter_
    return w, mu, cov, iterations


def metrics(model: Any, params: np.ndarray,
            info: Any = None) -> dict[str, np.ndarray]:
    d, k = model.dim, model.n_components
    w, mu, cov = unpack(np.asarray(params, dtype=float), d)
    m, total = mixture_moments(w, mu, cov)
    out: dict[str, np.ndarray] = {"var": np.einsum("...ii->...", total)}
    blown = ~np.isfinite(params).all(axis=(-2, -1))
    out["var"] = np.where(blown, np.inf, out["var"])
    for j in range(d):
        out[f"mean_x_{j}"] = m[..., j]
    for i in range(k):
        for j in range(d):
            out[f"mean_{i}_{j}"] = mu[..., i, j]
    with np.errstate(invalid="ignore"):
        std = np.sqrt(np.einsum("...kii->...k", cov) / d)
    for i in range(k):
        out[f"std_{i}"] = std[..., i]
    for i in range(k):
        out[f"weight_{i}"] = w[..., i]
    iterations = None if info is None else info.get("em_iterations")
    out["em_iterations"] = (np.zeros(w.shape[:-1]) if iterations is None
                            else np.asarray(iterations, dtype=float))
    return out


def points(model: Any, data: Any) -> np.ndarray | None:
    """The first replicate's training points, first two coordinates ``[n, 2]``."""
    values = getattr(data, "values", None)
    if values is None or np.ndim(values) != 3:
        return None
    return np.array(values[0, :, :2], dtype=float)


def describe(model: Any) -> str:
    d, k = model.dim, model.n_components
    means = np.asarray(model.means).reshape(k, d)
    covs = np.asarray(model.covs).reshape(k, d, d)
    parts = []
    for i in range(k):
        centre = "(" + ", ".join(f"{v:g}" for v in means[i]) + ")"
        iso = np.array_equal(covs[i], covs[i, 0, 0] * np.eye(d))
        shape = f"{model.stds[i]:g}² I" if iso else "Σ"
        parts.append(f"{model.weights[i]:g}·N({centre}, {shape})")
    preset = ""
    if model.means == tuple(float(v) for v in truth_blobs(d).ravel()) and d == 2:
        preset = " (Shumailov blobs)"
    fitter = "scikit-learn" if model.backend == "sklearn" else "EM"
    return (f"gmm in {d}-D{preset}, truth {' + '.join(parts)}; {fitter} with full covariances "
            f"to tol {model.tol:g}, {model.init} init")


def truth_blobs(d: int) -> np.ndarray:
    means = np.zeros((2, d))
    means[:, :2] = BLOBS_MEANS
    return means


def replace_trace(trace0: float, n: int, g: int, d: int, reg: float) -> np.ndarray:
    """Exact ``E var_t`` (the total covariance's trace) under ``replace``, ``t = 0..g``.

    Each fit's total covariance is the sample covariance (divisor ``n``) plus ``reg · I`` (the
    d-D mixture-variance identity), and ``E S = (n − 1)/n · Σ_{t−1}`` for ``n`` draws of a law of
    covariance ``Σ_{t−1}``; so ``E tr_t = a E tr_{t−1} + d·reg``, ``a = (n − 1)/n``.
    """
    a = (n - 1) / n
    t = np.arange(g + 1)
    power = a ** t
    return trace0 * power + d * reg * (1.0 - power) / (1.0 - a)


# -- curation: each point is a unit ---------------------------------------------------------------

#: The tensor trapezoidal rules of the ``truth`` reward's expectation by the dimension ``r`` it
#: integrates over: (step, half-width) per dimension in standard units
#: (:func:`truth_reward_expected`); ``r = 1`` is the 1-D family's own rule.
TRUTH_REWARD_RULES = {1: (QUADRATURE_STEP, QUADRATURE_HALF_WIDTH), 2: (0.2, 8.0)}
#: Grid points per block of replicates in that quadrature (bounds its memory to ~100 MB).
_QUADRATURE_BLOCK = 1_000_000

#: What ``--reward`` takes in d dimensions.
ND_REWARDS = ("truth (the truth's log density: in 2-D, or in any dimension when the truth's "
              "components share one covariance and their means span at most two directions) or "
              "target:c (-|x - c·1|^2 / 2, a preference for points near (c, ..., c))")


def finite_covs(cov: np.ndarray) -> np.ndarray:
    """``cov`` with every blown-up (non-finite) matrix replaced by the largest float times the
    identity, so an eigendecomposition never sees one (a blown-up model stays blown up)."""
    bad = ~np.isfinite(cov).all(axis=(-1, -2))
    if not bad.any():
        return cov
    return np.where(bad[..., None, None], np.eye(cov.shape[-1]) * np.finfo(float).max, cov)


def draw_units(model: Any, params: np.ndarray, k: int, rng: np.random.Generator) -> Samples:
    """``k`` candidate points per replicate in i.i.d. draw order.

    The sampler groups a row's points by component (a multinomial split); a uniformly random
    permutation of each row's *points* (never of coordinates separately) makes them
    exchangeable again, exactly, as the 1-D family's shuffle does.
    """
    values = sample(model, params, k, rng).values
    order = rng.permuted(np.tile(np.arange(k), (values.shape[0], 1)), axis=1)
    return Samples(np.take_along_axis(values, order[:, :, None], axis=1))


def unit_log_likelihood(model: Any, params: np.ndarray, units: Any) -> np.ndarray:
    """``log p_model(x)`` of each candidate point ``[R, k]``."""
    w, mu, cov = unpack(np.asarray(params, dtype=float), model.dim)
    return mv_mixture_logpdf(units.values, w, mu, finite_covs(cov))


def log_truth(model: Any, x: np.ndarray) -> np.ndarray:
    """``log p_truth(x)`` of points ``x[..., d]``."""
    w, mu, cov = unpack(truth(model), model.dim)
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1, model.dim)
    return mv_mixture_logpdf(flat, w, mu, cov).reshape(x.shape[:-1])


@lru_cache(maxsize=16)
def truth_log_peak(weights: tuple[float, ...], means: tuple[float, ...],
                   covs: tuple[float, ...], d: int) -> float:
    """``max_x log p(x)`` of a d-D normal mixture: the verifier's reference point.

    A quasi-Newton ascent (BFGS, with the exact gradient
    ``∇ log p = Σ_j r_j(x) Σ_j⁻¹(μ_j − x)``, ``r_j`` the responsibilities) from every mean and
    from the mixture's mean; the highest point found. Every local maximum of a normal mixture
    lies in the convex hull of its means, and each start climbs to the mode of its basin, so
    this finds the global maximum whenever some start lies in its basin (always for one
    component, and for separated or overlapping equal blobs alike).
    """
    from scipy.optimize import minimize

    w = np.asarray(weights)
    mu = np.asarray(means).reshape(-1, d)
    cov = np.asarray(covs).reshape(-1, d, d)
    precision = np.linalg.inv(cov)

    def negative(x):
        point = x[None, None, :]
        terms = np.log(np.maximum(w, np.finfo(float).tiny)) + np.stack(
            [mv_logpdf(point, mu[j], cov[j])[0, 0] for j in range(w.size)])
        top = terms.max()
        resp = np.exp(terms - top)
        log_p = top + np.log(resp.sum())
        resp /= resp.sum()
        grad = np.einsum("j,jab,jb->a", resp, precision, mu - x)
        return -log_p, -grad

    best = -np.inf
    for start in (*mu, w @ mu):
        found = minimize(negative, start, jac=True, method="BFGS", options={"gtol": 1e-12})
        best = max(best, -float(found.fun), -float(negative(start)[0]))
    return best


def belief_log_relative(model: Any, units: Any, shift: float) -> np.ndarray:
    """``log(b(x) / max b)`` for the truth moved by ``shift`` along ``(1, ..., 1)``."""
    peak = truth_log_peak(model.weights, model.means, model.covs, model.dim)
    return np.minimum(log_truth(model, np.asarray(units.values) - shift) - peak, 0.0)


@lru_cache(maxsize=16)
def truth_reduction(weights: tuple[float, ...], means: tuple[float, ...],
                    covs: tuple[float, ...], d: int) -> tuple[Any, ...] | None:
    """The truth's log density as a quadratic plus a function of at most ``K − 1`` projections.

    When the truth's components (those of positive weight) share one covariance ``B``
    (precision ``P = B⁻¹``), with ``ref`` the heaviest,
    ``log p(x) = ℓ_ref(x) + log Σ_j exp(c_jᵀx + e_j)``: ``ℓ_ref`` is the reference component's
    log density (weight included), ``c_j = P(a_j − a_ref)`` and
    ``e_j = log(v_j / v_ref) − ½(a_jᵀPa_j − a_refᵀPa_ref)``, so the differences of the
    components' log densities are linear in ``x``. Returns ``(log v_ref + log N's constant, P,
    a_ref, Q, CQ, e)`` with ``Q`` an orthonormal basis ``[d, r]`` of the span of the ``c_j`` and
    ``CQ = C Q`` (``cᵀx = cᵀQQᵀx`` exactly); ``None`` when the covariances differ.
    """
    keep = np.asarray(weights) > 0
    v = np.asarray(weights)[keep]
    a = np.asarray(means).reshape(-1, d)[keep]
    cov = np.asarray(covs).reshape(-1, d, d)[keep]
    if not (cov == cov[0]).all():
        return None
    ref = int(np.argmax(v))
    precision = np.linalg.inv(cov[0])
    constant = float(np.log(v[ref]) - 0.5 * (d * np.log(2 * np.pi)
                                             + np.linalg.slogdet(cov[0])[1]))
    c = (a - a[ref]) @ precision
    quad = np.einsum("ja,ab,jb->j", a, precision, a)
    e = np.log(v / v[ref]) - 0.5 * (quad - quad[ref])
    _, singular, vt = np.linalg.svd(c)
    rank = int((singular > 1e-12 * max(float(singular.max(initial=0.0)), 1e-300)).sum())
    basis = vt[:rank].T
    return constant, precision, a[ref], basis, c @ basis, e


def _integration_dim(model: Any) -> int:
    """The dimension the ``truth`` reward's expectation integrates over (see
    :func:`truth_reward_expected`)."""
    reduced = truth_reduction(model.weights, model.means, model.covs, model.dim)
    return model.dim if reduced is None else reduced[3].shape[1]


def normal_expectation_nd(function: Any, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``E f(Z)`` for ``Z ~ N(mean[..., r], cov[..., r, r])`` (``r`` = 1 or 2) by the tensor
    trapezoidal rule of :data:`TRUTH_REWARD_RULES` in standard coordinates
    ``z = mean + V Λ^{1/2} u`` (``cov = V Λ Vᵀ``, so a singular ``cov`` is fine); ``function``
    maps points ``[..., G, r]`` to values ``[..., G]``."""
    r = mean.shape[-1]
    step, half = TRUTH_REWARD_RULES[r]
    axis = np.arange(-half, half + step / 2, step)
    grid = np.stack(np.meshgrid(*([axis] * r), indexing="ij"), axis=-1).reshape(-1, r)
    node_weights = np.prod(step * np.exp(-0.5 * grid * grid) / np.sqrt(2 * np.pi), axis=-1)
    lead = mean.shape[:-1]
    mean, cov = mean.reshape(-1, r), cov.reshape(-1, r, r)
    lam, vec = np.linalg.eigh(cov)
    scale = vec * np.sqrt(np.maximum(lam, 0.0))[..., None, :]
    out = np.empty(mean.shape[0])
    block = max(1, _QUADRATURE_BLOCK // grid.shape[0])
    for lo in range(0, mean.shape[0], block):
        sl = slice(lo, lo + block)
        points = mean[sl, None, :] + np.einsum("nab,gb->nga", scale[sl], grid)
        with np.errstate(over="ignore", invalid="ignore"):
            out[sl] = function(points) @ node_weights
    return out.reshape(lead)


def truth_reward_expected(model: Any, params: np.ndarray) -> np.ndarray:
    """``E_model log p_truth(X) = Σ_k w_k E_{N(μ_k, Σ_k)} log p_truth(X)``.

    When the truth's components share one covariance (the blobs preset, in any ``d``), the
    expectation of :func:`truth_reduction`'s quadratic is closed-form,
    ``E ℓ_ref = const − ½[tr(PΣ_k) + (μ_k − a_ref)ᵀP(μ_k − a_ref)]``, and the log-sum-exp term
    depends on ``X`` only through ``QᵀX ~ N(Qᵀμ_k, QᵀΣ_kQ)``, an integral over ``r ≤ K − 1``
    dimensions: for two truth components the 1-D family's rule
    (:func:`~modelcollapse.families.continuous.normal_expectation`, about 1e-13). Otherwise
    (2-D only) the integral of ``log p_truth`` is over the plane, by the tensor rule of
    :data:`TRUTH_REWARD_RULES` (81² points), whose error grows with the ratio ``ρ`` of a model
    component's standard deviation to the truth's narrowest, because ``log p_truth`` bends on
    the narrowest component's scale: measured against a separable exact value (adaptive
    quadrature in the first coordinate, a closed form in the second), about 1e-14 for
    ``ρ ≤ 1``, 1e-11 at 1.5, 3e-8 at 2, 1e-5 at 3, 1e-4 at 4 and 2e-3 at 10. A component of
    zero weight adds nothing; a blown-up model's value is ``−∞``.
    """
    d = model.dim
    params = np.asarray(params, dtype=float)
    lead = params.shape[:-2]
    flat = params.reshape(-1, *params.shape[-2:])
    w, mu, cov = unpack(flat, d)
    blown = ~np.isfinite(flat).all(axis=(-2, -1))
    cov = np.where(blown[:, None, None, None], np.eye(d), cov)
    mu = np.where(blown[:, None, None], 0.0, mu)
    reduced = truth_reduction(model.weights, model.means, model.covs, d)
    with np.errstate(over="ignore", invalid="ignore"):
        if reduced is None:
            values = normal_expectation_nd(lambda x: log_truth(model, x), mu, cov)
        else:
            constant, precision, a_ref, basis, cq, e = reduced
            dev = mu - a_ref
            values = constant - 0.5 * (np.einsum("ab,rkba->rk", precision, cov)
                                       + np.einsum("rka,ab,rkb->rk", dev, precision, dev))
            if basis.shape[1] == 0:
                values = values + float(np.log(np.exp(e).sum()))
            else:
                def log_sum(z):
                    terms = z @ cq.T + e
                    top = terms.max(axis=-1, keepdims=True)
                    return top[..., 0] + np.log(np.exp(terms - top).sum(axis=-1))

                values = values + normal_expectation_nd(
                    log_sum, mu @ basis, np.swapaxes(basis, 0, 1) @ cov @ basis)
        out = np.where(w > 0, w * values, 0.0).sum(axis=-1)
    return np.where(blown, -np.inf, out).reshape(lead)


def reward(model: Any, spec: str) -> Reward:
    """The ``truth`` or ``target:c`` reward in d dimensions (:data:`ND_REWARDS`)."""
    if spec == "truth":
        if _integration_dim(model) not in TRUTH_REWARD_RULES:
            raise ConfigError("reward", "truth needs, in d ≥ 3, a truth whose components share "
                              "one covariance and whose means span at most two directions (its "
                              "model expectation is a quadrature over those); use target:c",
                              spec)
        return Reward(spec, lambda units: log_truth(model, units.values),
                      lambda params: truth_reward_expected(model, params),
                      "reward: the truth's log density")
    target = reward_target(spec)
    if target is None:
        raise unknown_reward(spec, model.name, ND_REWARDS)

    def score(units):
        return -0.5 * ((np.asarray(units.values) - target) ** 2).sum(axis=-1)

    def expected(params):
        # E |X − c1|² = tr Σ_total + |m − c1|² for the mixture's mean m and total covariance.
        m, total = mixture_moments(*unpack(np.asarray(params, dtype=float), model.dim))
        with np.errstate(over="ignore", invalid="ignore"):
            return -0.5 * (np.einsum("...ii->...", total) + ((m - target) ** 2).sum(axis=-1))

    return Reward(spec, score, expected, f"reward: -|x - {target:g}·1|²/2")
