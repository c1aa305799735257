"""A d-dimensional normal with full covariance refitted to its own samples.

Under ``replace`` the fitted covariance is a product of independent Wishart steps,
``Σ_t = F_{t−1} (W_t / D) F_{t−1}ᵀ`` with ``F_{t−1} F_{t−1}ᵀ = Σ_{t−1}``,
``W_t ~ Wishart_d(N − 1, I)`` and ``D = N`` (MLE) or ``N − 1`` (unbiased); so
``log det Σ_t`` is a sum of independent log-chi-squares (Bartlett) and falls linearly in ``t``
while ``E Σ_t = ((N − 1)/D)^t Σ_0``: the generalised variance collapses almost surely, with
either estimator, and faster in more dimensions (:mod:`modelcollapse.theory.mvgaussian`).

Every one-dimensional projection ``uᵀx`` of the process is exactly the 1-D ``gaussian``
family's process with ``var_0 = uᵀΣ_0u`` (the projected sample variance is the sample variance
of the projections, and the projection of ``N(μ, Σ)`` is ``N(uᵀμ, uᵀΣu)``), under every policy,
sampling scale and weighted fit: so ``E trace_t`` is ``trace Σ_0`` times the 1-D family's
``E var_t / var_0``, and ``d = 1`` *is* the ``gaussian`` family in distribution.

References
----------
.. [1] E. Kazdan, R. Schaeffer et al., "Collapse or thrive? Perils and promises of synthetic data
   in a self-generating world", arXiv:2410.16713 (2024): multivariate Gaussians under replace,
   accumulate and accumulate-subsample.
.. [2] M. S. Bartlett, "On the theory of statistical regression", Proc. R. Soc. Edinburgh 53,
   260–283 (1933): the Wishart law as ``L A Aᵀ Lᵀ`` with ``A`` lower triangular.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ConfigError
from ..policies import Policy
from ..rewards import Reward, reward_target, unknown_reward
from ..training_sets import Samples, ScatterMoments, part_weights, sample_weights
from ..validation import (
    SCALE_LIMIT,
    check_choice,
    check_int,
    check_real_weight,
    check_sampling_scale,
)
from . import FAMILIES
from .base import (
    Family,
    loop_setting_words,
    option,
    real_weight_option,
    sampling_scale_option,
)
from .continuous import CONTINUOUS_CURATORS, mv_logpdf
from .discrete import block_for

#: Largest dimension accepted: a replicate holds a ``d × d`` covariance and a generation costs
#: ``O(d³)`` per replicate (an eigendecomposition); beyond this a run is a different problem.
MAX_DIM = 64

#: Default dimension (2: the scatter picture per generation shows the whole distribution).
DEFAULT_DIM = 2

#: Relative threshold below which an eigenvalue counts as zero: a covariance fitted to ``N ≤ d``
#: points (or one that has lost a direction) is singular in exact arithmetic, but its computed
#: eigenvalues are rounding noise of order ``ε × λ_max``, of either sign.
SINGULAR_TOLERANCE = 64 * np.finfo(float).eps

#: What ``--reward`` takes for this family.
MV_REWARDS = ("truth (the truth's log density) or target:c (-|x - c·1|^2 / 2, a preference for "
              "points near (c, ..., c))")

_LOG_2PI = float(np.log(2.0 * np.pi))


def split_params(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean[..., d], cov[..., d, d])`` of parameters ``[..., d + 1, d]``."""
    return params[..., 0, :], params[..., 1:, :]


def join_params(mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Parameters ``[R, d + 1, d]``: row 0 the mean, rows ``1..d`` the covariance."""
    return np.concatenate([mean[:, None, :], cov], axis=1)


def psd_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L Lᵀ = cov`` for each covariance ``[R, d, d]``, singular
    (positive semi-definite) ones included.

    The Cholesky recursion, column by column and vectorised over replicates:
    ``s_j = Σ_jj − Σ_{k<j} L_jk²``, ``L_jj = √s_j``, ``L_ij = (Σ_ij − Σ_{k<j} L_ik L_jk) / L_jj``.
    A pivot ``s_j ≤`` :data:`SINGULAR_TOLERANCE` ``× Σ_jj`` (a direction the covariance has lost,
    up to rounding) gives a zero column: for a semi-definite matrix the rest of that column is
    then 0 too, so ``L Lᵀ = cov`` still holds and samples lie in its subspace (where LAPACK's
    factorisation would fail). Elementwise IEEE arithmetic only, so each replicate's factor
    depends on its own matrix alone, on every machine.
    """
    d = cov.shape[-1]
    low = np.zeros_like(cov)
    for j in range(d):
        head = low[:, j, :j]
        pivot = cov[:, j, j] - (head * head).sum(axis=-1)
        keep = pivot > SINGULAR_TOLERANCE * np.abs(cov[:, j, j])
        root = np.sqrt(np.where(keep, pivot, 1.0))
        low[:, j, j] = np.where(keep, root, 0.0)
        if j + 1 < d:
            rest = cov[:, j + 1:, j] - np.einsum("rik,rk->ri", low[:, j + 1:, :j], head)
            low[:, j + 1:, j] = np.where(keep[:, None], rest / root[:, None], 0.0)
    return low


def wishart_bartlett(factor: np.ndarray, dof: int, rng: np.random.Generator) -> np.ndarray:
    """``F A Aᵀ Fᵀ ~ Wishart_d(dof, F Fᵀ)`` for each factor ``[R, d, d]`` (any ``F``), vectorised.

    For ``dof ≥ d``, Bartlett's decomposition: ``A`` lower triangular with
    ``A_ii² ~ χ²_{dof − i}`` (``i = 0..d−1``) and ``A_ij ~ N(0, 1)`` below the diagonal, all
    independent. For ``dof < d`` (a singular Wishart: fewer points than dimensions) it is
    ``F Zᵀ Z Fᵀ`` with ``Z`` a ``dof × d`` standard normal matrix, the definition. ``dof = 0``
    gives 0. Order of draws: the ``R × d`` chi-squares, then the ``R × d(d−1)/2`` normals.
    """
    r, d = factor.shape[0], factor.shape[-1]
    if dof == 0:
        return np.zeros_like(factor)
    if dof < d:
        z = rng.standard_normal((r, dof, d))
        root = np.einsum("rij,rkj->rki", factor, z)  # rows F z_k
        return np.einsum("rki,rkj->rij", root, root)
    a = np.zeros((r, d, d))
    diag = np.arange(d)
    a[:, diag, diag] = np.sqrt(rng.chisquare(dof - diag, (r, d)))
    low = np.tril_indices(d, -1)
    if low[0].size:
        a[:, low[0], low[1]] = rng.standard_normal((r, low[0].size))
    root = factor @ a
    return root @ np.swapaxes(root, -1, -2)


def scatter_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[R, d]`` and centred scatter ``[R, d, d]`` of points ``x[R, n, d]``."""
    mean = x.mean(axis=1)
    centred = x - mean[:, None, :]
    return mean, np.einsum("rni,rnj->rij", centred, centred)


def mv_metrics(mean: np.ndarray, cov: np.ndarray, mean0: np.ndarray,
               cov0: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of ``N(mean, cov)`` (any leading shape) against the truth ``N(mean0, cov0)``.

    Notes
    -----
    * ``trace = tr Σ`` (the total variance; the 1-D family's ``var``), ``logdet = ln det Σ``,
      ``min_eig`` = the smallest eigenvalue, ``mean_dist = |μ − μ₀|``;
    * ``w2`` is the Bures–Wasserstein distance
      ``W2² = |μ − μ₀|² + tr Σ + tr Σ₀ − 2 tr (Σ₀^{1/2} Σ Σ₀^{1/2})^{1/2}``;
    * ``kl = KL(truth ‖ fitted) = ½ [tr(Σ⁻¹Σ₀) + (μ − μ₀)ᵀΣ⁻¹(μ − μ₀) − d + ln det Σ −
      ln det Σ₀]``.

    A singular fitted covariance (smallest eigenvalue at most :data:`SINGULAR_TOLERANCE` times
    the largest: fewer points than dimensions, or a collapsed direction) is recorded as
    ``min_eig = 0``, ``logdet = −inf`` and ``kl = inf`` (a degenerate normal cannot cover the
    truth); ``trace`` and ``w2`` stay finite. A blown-up covariance (overflow, possible only with
    a sampling scale above 1) has every metric but ``mean_dist`` ``inf``.
    """
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    d = cov.shape[-1]
    blown = ~np.isfinite(cov).all(axis=(-1, -2))
    safe = np.where(blown[..., None, None], np.eye(d), cov)
    lam = np.linalg.eigvalsh(safe)
    top = np.maximum(lam[..., -1], 0.0)
    singular = lam[..., 0] <= SINGULAR_TOLERANCE * top
    lam_pos = np.maximum(lam, 0.0)
    lam0, vec0 = np.linalg.eigh(cov0)
    logdet0 = float(np.log(lam0).sum())
    delta = mean - mean0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        trace = np.trace(safe, axis1=-2, axis2=-1)
        if np.array_equal(cov0, cov0[0, 0] * np.eye(d)):
            # An isotropic truth c·I: Σ₀^{1/2} Σ Σ₀^{1/2} = c Σ, whose eigenvalues are known.
            cross = np.sqrt(cov0[0, 0] * lam_pos).sum(axis=-1)
        else:
            root0 = (vec0 * np.sqrt(lam0)) @ vec0.T
            inner = np.linalg.eigvalsh(root0 @ safe @ root0)
            cross = np.sqrt(np.maximum(inner, 0.0)).sum(axis=-1)
        w2sq = (delta**2).sum(axis=-1) + trace + float(np.trace(cov0)) - 2 * cross
        w2 = np.sqrt(np.maximum(w2sq, 0.0))
        logdet = np.where(singular, -np.inf,
                          np.log(np.where(singular[..., None], 1.0, lam_pos)).sum(axis=-1))
        # tr(Σ⁻¹Σ₀) + δᵀΣ⁻¹δ from one batched solve Σ X = [Σ₀ | δ] (LU: cheaper than an
        # eigendecomposition); singular fits are solved against I and then set to inf.
        regular = np.where(singular[..., None, None], np.eye(d), safe)
        rhs = np.concatenate([np.broadcast_to(cov0, safe.shape), delta[..., None]], axis=-1)
        solved = np.linalg.solve(regular, rhs)
        quad = (np.trace(solved[..., :d], axis1=-2, axis2=-1)
                + (delta * solved[..., d]).sum(axis=-1))
        kl = np.where(singular, np.inf, 0.5 * (quad - d + logdet - logdet0))
        min_eig = np.where(singular, 0.0, lam_pos[..., 0])
    inf = np.inf
    return {
        "trace": np.where(blown, inf, trace),
        "logdet": np.where(blown, inf, logdet),
        "w2": np.where(blown, inf, w2),
        "kl": np.where(blown, inf, np.maximum(kl, 0.0)),
        "min_eig": np.where(blown, inf, min_eig),
        "mean_dist": _norm(delta),
    }


def _norm(v: np.ndarray) -> np.ndarray:
    """``|v|`` over the last axis without overflow in the squares (a blown-up model's mean)."""
    top = np.abs(v).max(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = v / np.where(top > 0, top, 1.0)[..., None]
        return np.where(top > 0, top * np.sqrt((scaled**2).sum(axis=-1)), 0.0)


def _floats(name: str, value: object) -> tuple[float, ...]:
    """A tuple of finite floats, or a one-line :class:`ConfigError` naming ``name``."""
    items = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    try:
        out = tuple(float(v) for v in np.ravel(np.asarray(items, dtype=float)))
    except (TypeError, ValueError):
        raise ConfigError(name, "must be a list of numbers", value) from None
    if not all(np.isfinite(out)) or any(abs(v) > SCALE_LIMIT for v in out):
        raise ConfigError(name, f"must be finite numbers of size at most {SCALE_LIMIT:g}", value)
    return out


@FAMILIES.register
@dataclass(frozen=True)
class MVGaussian(Family):
    """A d-dimensional normal with full covariance, refitted by the sample mean and covariance.

    Parameters
    ----------
    dim
        ``d``, between 1 and :data:`MAX_DIM` (default 2, or the length of ``mean``). With neither
        ``mean`` nor ``cov`` the truth is the standard normal ``N(0, I_d)``.
    mean
        The truth's mean, ``d`` numbers (default 0).
    cov
        The truth's covariance, ``d²`` numbers row by row, symmetric positive definite (default
        the identity).
    estimator
        ``"mle"`` divides the scatter matrix by ``N``; ``"unbiased"`` by ``N − 1``.
    shortcut
        Under policies that never subsample hold training sets as exact moments
        (:class:`~modelcollapse.training_sets.ScatterMoments`): the sample mean is
        ``N(μ, Σ/n)`` and the scatter matrix ``Wishart_d(n − 1, Σ)``, independent, drawn by
        Bartlett's decomposition, so a generation costs ``O(d³)`` instead of ``O(N d²)`` per
        replicate.
    sampling_scale
        ``λ``: the model is sampled from ``N(μ, λ² Σ)`` (every standard deviation times λ).
    real_weight
        ``w``: the weighted MLE in which the real points together weigh ``W_r = w`` and the
        synthetic ones ``W_s = 1 − w``: ``μ = W_r m_r + W_s m_s`` and
        ``Σ = W_r S_r/n_r + W_s S_s/n_s + W_r W_s (m_r − m_s)(m_r − m_s)ᵀ``.

    Notes
    -----
    Parameters are ``[d + 1, d]``: row 0 the mean, rows ``1..d`` the covariance. Metrics (closed
    forms, :func:`mv_metrics`): ``trace``, ``logdet``, ``w2`` (Bures–Wasserstein), ``kl``
    (KL(truth ‖ fitted)), ``min_eig``, ``mean_dist``. The collapse metric is ``trace`` (the
    total variance, the 1-D family's ``var``). A singular fit (``N ≤ d`` points, or a collapsed
    direction) is recorded, never a NaN: ``min_eig = 0``, ``logdet = −inf``, ``kl = inf``; its
    samples lie in its subspace. Curation: units are points; the ``truth`` reward is the truth's
    log density. The verifier's belief cannot be shifted (a shift in d dimensions needs a
    direction this package does not ask for).
    """

    name: ClassVar[str] = "mvgaussian"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 100, "n_generations": 200,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("trace", "logdet", "w2", "min_eig")
    collapse_metric: ClassVar[str | None] = "trace"
    cost_ns: ClassVar[tuple[float, float]] = (120.0, 300.0)  # measured at d = 2, one core
    curators: ClassVar[tuple[str, ...]] = CONTINUOUS_CURATORS
    shiftable_belief: ClassVar[bool] = False
    reward_words: ClassVar[str] = MV_REWARDS
    default_reward: ClassVar[str | None] = "truth"

    dim: int = option(None, flag="dim", kind="int",
                      help=f"dimension d, 1 to {MAX_DIM} (default {DEFAULT_DIM}, or the length "
                           "of --mean); the truth is N(0, I) unless --mean/--cov are given")
    mean: tuple[float, ...] = option(None, flag="mean", kind="floats",
                                     help="true mean, d numbers (default 0)")
    cov: tuple[float, ...] = option(None, flag="cov", kind="floats",
                                    help="true covariance, d*d numbers row by row, symmetric "
                                         "positive definite (default the identity)")
    estimator: str = option("mle", flag="estimator", kind="str", choices=("mle", "unbiased"),
                            help="covariance estimator: mle (divide by N) or unbiased (N - 1)")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="use exact sufficient statistics (a Wishart draw) where the "
                                 "policy allows")
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()

    def __post_init__(self) -> None:
        mean = None if self.mean is None else _floats("mean", self.mean)
        cov = None if self.cov is None else _floats("cov", self.cov)
        if self.dim is not None:
            d = check_int("dim", self.dim, minimum=1)
        elif mean is not None:
            d = len(mean)
        elif cov is not None:
            d = round(float(np.sqrt(len(cov))))
        else:
            d = DEFAULT_DIM
        if d > MAX_DIM:
            raise ConfigError("dim", f"must be an integer between 1 and {MAX_DIM}", self.dim)
        if mean is None:
            mean = (0.0,) * d
        elif len(mean) != d:
            raise ConfigError("mean", f"must have d = {d} numbers", self.mean)
        if cov is None:
            cov = tuple(np.eye(d).ravel().tolist())
        elif len(cov) != d * d:
            raise ConfigError("cov", f"must have d² = {d * d} numbers (a d × d matrix row by "
                              "row)", self.cov)
        matrix = np.array(cov).reshape(d, d)
        if not np.allclose(matrix, matrix.T, rtol=1e-12, atol=0.0):
            raise ConfigError("cov", "must be a symmetric matrix", self.cov)
        lam = np.linalg.eigvalsh(matrix)
        if not lam[0] > SINGULAR_TOLERANCE * 1e3 * lam[-1] or lam[0] < 1 / SCALE_LIMIT:
            raise ConfigError("cov", "must be positive definite (well conditioned: smallest "
                              "eigenvalue above 1e-10 × the largest)", self.cov)
        object.__setattr__(self, "dim", d)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)
        check_choice("estimator", self.estimator, ("mle", "unbiased"))
        object.__setattr__(self, "sampling_scale", check_sampling_scale(self.sampling_scale))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        if self.estimator == "unbiased" and self.real_weight is not None:
            raise ConfigError("estimator", "must be mle when real data are weighted (the "
                              "weighted fit is a maximum-likelihood fit)", self.estimator)

    # -- shape and truth ---------------------------------------------------------------------

    @property
    def mean0(self) -> np.ndarray:
        return np.array(self.mean, dtype=float)

    @property
    def cov0(self) -> np.ndarray:
        return np.array(self.cov, dtype=float).reshape(self.dim, self.dim)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (self.dim + 1, self.dim)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("trace", "logdet", "w2", "kl", "min_eig", "mean_dist")

    @property
    def sample_width(self) -> int:
        return self.dim

    def truth(self) -> np.ndarray:
        return np.concatenate([self.mean0[None], self.cov0])

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        return self.shortcut and not policy.needs_subsample(n_samples)

    def block_size(self, policy: Policy, n_samples: int) -> int:
        if self.uses_sufficient_statistics(policy, n_samples):
            return max(16, 4096 // (self.dim * self.dim))
        return block_for(n_samples * self.dim, budget=1 << 14, cap=256)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if self.estimator == "unbiased" and n_samples < 2:
            raise ConfigError("n_samples", "must be ≥ 2 for the unbiased estimator", n_samples)

    # -- the loop's operations ----------------------------------------------------------------

    def sampling_params(self, params):
        if self.sampling_scale == 1.0:
            return params
        out = np.array(params, dtype=float)
        with np.errstate(over="ignore"):
            out[:, 1:, :] *= self.sampling_scale**2
        return out

    def sample(self, params, n, rng, *, stats):
        mean, cov = split_params(np.asarray(params, dtype=float))
        with np.errstate(over="ignore", invalid="ignore"):
            factor = psd_cholesky(_finite(cov))
            if stats:
                if self.dim < 2 or mean.shape[0] == 0:
                    return self._moments(mean, factor, n, rng)
                # The block's first replicate is drawn as points, once per block (O(n d)), so
                # that its training sets can be pictured (points()); its moments are those of
                # the points, the same law as the others' exact draws.
                z0 = rng.standard_normal((1, n, self.dim))
                x0 = mean[:1, None, :] + z0 @ np.swapaxes(factor[:1], -1, -2)
                mean0, scatter0 = scatter_of(x0)
                rest = self._moments(mean[1:], factor[1:], n, rng)
                return ScatterMoments(n, np.concatenate([mean0, rest.mean]),
                                      np.concatenate([scatter0, rest.scatter]),
                                      points=np.array(x0[0, :, :2]))
            z = rng.standard_normal((mean.shape[0], n, self.dim))
            return Samples(mean[:, None, :] + z @ np.swapaxes(factor, -1, -2))

    @staticmethod
    def _moments(mean: np.ndarray, factor: np.ndarray, n: int,
                 rng: np.random.Generator) -> ScatterMoments:
        """Exact moments of ``n`` draws of each ``N(mean, F Fᵀ)``: the mean is
        ``N(mean, F Fᵀ / n)`` and the scatter ``Wishart(n − 1, F Fᵀ)``, independent."""
        z = rng.standard_normal(mean.shape)
        sample_mean = mean + np.einsum("rij,rj->ri", factor, z) / np.sqrt(n)
        return ScatterMoments(n, sample_mean, wishart_bartlett(factor, n - 1, rng))

    def fit(self, data, *, rng, previous):
        with np.errstate(over="ignore", invalid="ignore"):
            if self.real_weight is not None:
                mean, cov = self._weighted_fit(data)
            else:
                if isinstance(data, ScatterMoments):
                    mean, scatter = data.mean, data.scatter
                else:
                    mean, scatter = scatter_of(data.values)
                divisor = data.size if self.estimator == "mle" else data.size - 1
                cov = scatter / divisor
            cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))  # exact symmetry despite rounding
        # A sampling scale above 1 can grow the covariance past the largest float: recorded as
        # an infinite covariance with the last finite mean (absorbing), never NaN.
        blown = ~(np.isfinite(mean).all(axis=-1) & np.isfinite(cov).all(axis=(-1, -2)))
        if blown.any():
            mean = np.where(blown[:, None], previous[:, 0, :], mean)
            cov = np.where(blown[:, None, None], np.inf, cov)
        return join_params(mean, cov), {}

    def _weighted_fit(self, data) -> tuple[np.ndarray, np.ndarray]:
        """The weighted MLE (see the class docstring), from points or from moments."""
        assert self.real_weight is not None
        if isinstance(data, ScatterMoments):
            if data.parts is None:
                raise ValueError("the training set does not record which samples are real")
            real, synthetic = data.parts
            shape = data.mean.shape[:1]
            w_r, w_s = part_weights(np.full(shape, real.n), np.full(shape, synthetic.n),
                                    self.real_weight)
            zero_m, zero_s = np.zeros_like(data.mean), np.zeros_like(data.scatter)
            m_r = real.mean if real.n else zero_m
            m_s = synthetic.mean if synthetic.n else zero_m
            c_r = real.scatter / real.n if real.n else zero_s
            c_s = synthetic.scatter / synthetic.n if synthetic.n else zero_s
            gap = m_r - m_s
            mean = w_r[:, None] * m_r + w_s[:, None] * m_s
            cov = (w_r[:, None, None] * c_r + w_s[:, None, None] * c_s
                   + (w_r * w_s)[:, None, None] * gap[:, :, None] * gap[:, None, :])
            return mean, cov
        if data.real is None:
            raise ValueError("the training set does not record which samples are real")
        omega = sample_weights(data.real, self.real_weight)
        x = data.values
        mean = np.einsum("rn,rni->ri", omega, x)
        centred = x - mean[:, None, :]
        return mean, np.einsum("rn,rni,rnj->rij", omega, centred, centred)

    def metrics(self, params, info=None):
        mean, cov = split_params(np.asarray(params, dtype=float))
        return mv_metrics(mean, cov, self.mean0, self.cov0)

    def points(self, data):
        if self.dim < 2:
            return None
        if isinstance(data, ScatterMoments):  # the first replicate's points, kept for this
            return data.points
        return np.array(data.values[0, :, :2])

    # -- curation: each point is a unit --------------------------------------------------------

    def training_form(self, units, n, *, stats):
        if not stats:
            return units
        mean, scatter = scatter_of(units.values)
        return ScatterMoments(units.values.shape[1], mean, scatter)

    def unit_log_likelihood(self, params, units):
        mean, cov = split_params(np.asarray(params, dtype=float))
        return mv_logpdf(units.values, mean, _finite(cov))

    def truth_log_likelihood(self, units):
        return mv_logpdf(units.values, self.mean0, self.cov0)

    def belief_log_relative(self, units, shift):
        # The verifier's belief is the truth itself (shiftable_belief is False: a shift in d
        # dimensions would need a direction), so log(b(x) / max b) = −½ (x − μ₀)ᵀΣ₀⁻¹(x − μ₀).
        centred = units.values - self.mean0 - shift
        return -0.5 * np.einsum("rki,ij,rkj->rk", centred, np.linalg.inv(self.cov0), centred)

    def reward(self, spec):
        mean0, cov0 = self.mean0, self.cov0
        precision0 = np.linalg.inv(cov0)
        logdet0 = float(np.linalg.slogdet(cov0)[1])
        d = self.dim
        if spec == "truth":
            def expected(params):
                # E_model log p_truth = −½ [d ln 2π + ln det Σ₀ + tr(Σ₀⁻¹Σ) + δᵀΣ₀⁻¹δ].
                mean, cov = split_params(np.asarray(params, dtype=float))
                delta = mean - mean0
                with np.errstate(over="ignore", invalid="ignore"):
                    spread = np.einsum("ij,...ji->...", precision0, cov)
                    offset = np.einsum("...i,ij,...j->...", delta, precision0, delta)
                    return -0.5 * (d * _LOG_2PI + logdet0 + spread + offset)

            return Reward(spec, self.truth_log_likelihood, expected,
                          "reward: the truth's log density")
        target = reward_target(spec)
        if target is None:
            raise unknown_reward(spec, self.name, MV_REWARDS)

        def score(units):
            return -0.5 * ((units.values - target) ** 2).sum(axis=-1)

        def expected_target(params):
            mean, cov = split_params(np.asarray(params, dtype=float))
            with np.errstate(over="ignore", invalid="ignore"):
                return -0.5 * (np.trace(cov, axis1=-2, axis2=-1)
                               + ((mean - target) ** 2).sum(axis=-1))

        return Reward(spec, score, expected_target, f"reward: -|x - {target:g}·1|²/2")

    def describe(self) -> str:
        standard = (not any(self.mean)) and np.array_equal(self.cov0, np.eye(self.dim))
        truth = f"N(0, I_{self.dim})" if standard else f"N(μ, Σ) in {self.dim} dimensions"
        return (f"mvgaussian {truth}, {self.estimator} fit"
                + loop_setting_words(sampling_scale=self.sampling_scale,
                                     real_weight=self.real_weight))


def _finite(cov: np.ndarray) -> np.ndarray:
    """``cov`` with blown-up (non-finite) matrices replaced by the identity times the largest
    float, so an eigendecomposition never sees NaN (a blown-up model stays blown up)."""
    bad = ~np.isfinite(cov).all(axis=(-1, -2))
    if not bad.any():
        return cov
    return np.where(bad[..., None, None], np.eye(cov.shape[-1]) * np.finfo(float).max, cov)
