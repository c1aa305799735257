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
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...training_sets import Samples, sample_weights
from ...validation import check_int, check_locations_and_scales

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
