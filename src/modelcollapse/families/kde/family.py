"""A kernel density estimator refitted to its own samples.

A KDE fitted to points ``x_1..x_n`` with weights ``w_i`` (``1/n`` unless real data are weighted)
and bandwidth ``h`` is ``f(x) = Σ_i w_i K_h(x − x_i)``; sampling it is choosing a point ``x_J``
with probability ``w_J`` and adding ``h`` times a draw of the kernel. So every generation adds
kernel noise: under ``replace`` with a fixed bandwidth the marginal variance of a generation-t
sample is exactly ``σ₀² + t h² κ`` (``κ`` = the kernel's variance: 1 for the Gaussian, 1/3 for the
tophat), and the fitted KDE's own variance tends to ``N h² κ``: a KDE's variance *grows*
instead of collapsing (Kazdan, Schaeffer et al. [1]_). With a bandwidth proportional to the data's
spread (Scott's, Silverman's rule) it grows geometrically (:mod:`modelcollapse.theory.kde`).

References
----------
.. [1] J. Kazdan, R. Schaeffer, A. Dey, M. Gerstgrasser, R. Rafailov, D. L. Donoho, S. Koyejo,
   "Collapse or thrive? Perils and promises of synthetic data in a self-generating world",
   arXiv:2410.16713 (2024); code ``RylanSchaeffer/KoyejoLab-Collapse-or-Thrive``
   (``src/fit_kdes/fit_kdes.py``: scikit-learn's ``KernelDensity``, Gaussian kernel, bandwidths
   ``'scott'``, ``'silverman'`` or fixed, held-out negative log-likelihood).
.. [2] D. W. Scott, *Multivariate Density Estimation*, Wiley (1992), §6.3 (Scott's rule).
.. [3] B. W. Silverman, *Density Estimation for Statistics and Data Analysis*, Chapman & Hall
   (1986), eq. (4.14) (the normal-reference rule in d dimensions).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...rewards import unknown_reward
from ...training_sets import Dataset, Samples, sample_weights
from ...validation import (
    LOCATION_RANGE,
    SCALE_RANGE,
    check_choice,
    check_float,
    check_int,
    check_location,
    check_real_weight,
    check_sampling_scale,
    check_scale,
)
from .. import FAMILIES
from ..base import (
    Family,
    loop_setting_words,
    option,
    real_weight_option,
    sampling_scale_option,
)
from ..continuous import CONTINUOUS_CURATORS, CONTINUOUS_REWARDS, continuous_reward
from ..discrete import block_for

#: The kernels and their variance ``κ`` per coordinate (``∫ u² K(u) du``).
KERNEL_VARIANCE = {"gaussian": 1.0, "tophat": 1.0 / 3.0}

#: Bandwidth rules: name → whether ``h`` is proportional to the data's spread ``σ̂``. Each is
#: ``h_j = c_d n^(−1/(d+4)) (σ̂_j or 1)`` (:func:`rule_factor`).
BANDWIDTH_RULES = {"scott": True, "silverman": True, "sklearn-scott": False,
                   "sklearn-silverman": False}

#: Largest dimension (the product kernel's cost is linear in ``d``, the metrics' held-out set
#: loses resolution long before).
MAX_DIM = 64

#: Held-out set of the d-D ``nll``: this many draws of the truth, from a fixed key.
HELD_OUT_SIZE = 1000
#: The :class:`numpy.random.SeedSequence` entropy of the held-out set: the same points for every
#: run, replicate and generation (one ruler), whatever the run's seed.
HELD_OUT_KEY = 2410_16713

#: Truth-side quadrature of ``kl`` and ``nll`` in 1-D: trapezoidal nodes ``z = −10..10`` (the
#: truth's mass beyond is 2e-23) in steps of ``KL_STEP`` truth standard deviations, or of
#: a quarter of the narrowest bandwidth when that is smaller.
KL_STEP = 0.125
KL_HALF_WIDTH = 10.0
#: Model-side grid of ``w2`` in 1-D: at least this many nodes over the KDE's support (10
#: bandwidths past its extreme points for the Gaussian kernel, 1 for the tophat), and a step of
#: at most ``h/3``.
W2_NODES = 64
#: ... and at least this many for the tophat (its quantile function has kinks at ``x_i ± h``).
W2_NODES_TOPHAT = 512
#: Most quadrature nodes per row (bounds one call's time when a bandwidth is tiny against the
#: spread; beyond it the step, and the error, grow).
MAX_NODES = 16385

#: Standard-normal quantile bounding the central 99% interval, Φ⁻¹(0.995).
Z_995 = 2.5758293035489004

#: Rows of history handed to the density kernels per call (bounds one call's time and memory).
METRICS_CHUNK = 2048


def rule_factor(rule: str, d: int) -> float:
    """``c_d`` of a bandwidth rule, ``h = c_d n^(−1/(d+4))`` (times ``σ̂`` for a spread rule).

    * ``scott``, ``sklearn-scott``: ``c_d = 1`` (Scott [2]_);
    * ``silverman``, ``sklearn-silverman``: ``c_d = (4/(d+2))^(1/(d+4))`` (Silverman's
      normal-reference rule [3]_; ``≈ 1.06`` in 1-D), which is scikit-learn's
      ``(n (d+2)/4)^(−1/(d+4))`` written the same way.
    """
    if rule in ("scott", "sklearn-scott"):
        return 1.0
    return (4.0 / (d + 2.0)) ** (1.0 / (d + 4.0))


def rule_beta(rule: str, n: int, d: int) -> float:
    """``β = c_d n^(−1/(d+4))``: the bandwidth of a rule for ``n`` points, per unit of spread."""
    return rule_factor(rule, d) * n ** (-1.0 / (d + 4.0))


@functools.lru_cache(maxsize=4)
def held_out_normal(d: int) -> np.ndarray:
    """``HELD_OUT_SIZE`` standard-normal points ``[M, d]`` from the fixed key (read-only)."""
    z = np.random.default_rng(np.random.SeedSequence(HELD_OUT_KEY)).standard_normal(
        (HELD_OUT_SIZE, d))
    z.setflags(write=False)
    return z


@FAMILIES.register
@dataclass(frozen=True)
class KDE(Family):
    """A kernel density estimator refitted on its own samples.

    Parameters
    ----------
    kernel
        ``"gaussian"`` (``K = φ``) or ``"tophat"`` (uniform on ``[−h, h]`` per coordinate: a
        product of boxes, so in d-D a cube; scikit-learn's tophat is a ball). ``κ = 1`` or
        ``1/3``.
    bandwidth
        A number ``h > 0`` (fixed for ever), or a rule applied to each training set of ``n``
        points, per coordinate ``j`` with that coordinate's weighted spread ``σ̂_j`` (the
        maximum-likelihood standard deviation, divisor ``n``; a choice: per coordinate rather
        than pooled, so that the product kernel's coordinates evolve independently and the
        theory is exact per coordinate):

        ``scott``              ``h_j = σ̂_j n^(−1/(d+4))``
        ``silverman``          ``h_j = (4/(d+2))^(1/(d+4)) σ̂_j n^(−1/(d+4))``
        ``sklearn-scott``      ``h = n^(−1/(d+4))``: scikit-learn's
                               ``KernelDensity(bandwidth='scott')``, which ignores the spread
        ``sklearn-silverman``  ``h = (n (d+2)/4)^(−1/(d+4))``: ``bandwidth='silverman'``,
                               likewise

        The default is ``sklearn-scott``, the estimated bandwidth of Kazdan et al.'s runs [1]_.
    dim
        ``d``: the truth is ``N(mean·1, std² I_d)``.
    mean, std
        The truth's mean (every coordinate) and standard deviation.
    sampling_scale
        ``λ``: the model is sampled with bandwidth ``λ h`` (its points are not moved); the fit is
        unchanged.
    real_weight
        ``None``: every point weighs ``1/n``. ``w``: a weighted KDE whose real points together
        weigh ``w`` and synthetic ones ``1 − w``
        (:func:`~modelcollapse.training_sets.sample_weights`); sampling picks points by weight,
        and a spread rule uses the weighted spread.
    capacity
        Not an option: the most points a fitted KDE holds in this run, set by :meth:`for_run`
        (the policy's :meth:`~modelcollapse.policies.Policy.stored_samples`).

    Notes
    -----
    Parameters ``[capacity + 1, d + 1]``: row 0 holds the bandwidths ``h_1..h_d`` and the count
    ``n`` of points; rows ``1..n`` the points and their weights, the rest zeros. The truth is
    stored as a Gaussian "KDE" of one point (its mean) with bandwidth ``std`` and count 0 (which
    marks it: its kernel is Gaussian whatever :attr:`kernel` is).

    Metrics (computed from the parameters, for every generation):

    ``mean``       the KDE's mean (of coordinate 1 in d-D);
    ``var``        its total variance, ``Σ_j (Σ_i w_i (x_ij − m_j)² + κ h_j²)``;
    ``spread``     ``E‖X − μ₀‖² = var + ‖m − μ₀‖²``: its expectation over replicates is the
                   marginal second moment of a model sample, exactly ``d σ₀² + t κ Σ h²`` under
                   ``replace`` with a fixed bandwidth;
    ``nll``        the negative log-likelihood of real data. 1-D: its expectation, the
                   cross-entropy ``−∫ p₀ log f`` by quadrature (``KL_STEP``; infinite for the
                   tophat, whose support is bounded); d-D: the mean over a fixed held-out set of
                   ``HELD_OUT_SIZE`` truth points drawn once from ``HELD_OUT_KEY`` (the same
                   ruler for every generation and run; Kazdan et al. held out half of their
                   first sample instead);
    ``w2``, ``kl`` 1-D only: ``W₂`` from the exact distribution function and density on a
                   grid with a step of at most ``h/3`` (Gaussian kernel: trapezoidal rule,
                   geometrically convergent, agreeing with adaptive quadrature to 1e-9; tophat:
                   exact between the kernel's breakpoints, to about 1e-5), and
                   ``KL(truth ‖ KDE)`` by the trapezoidal rule with a step of at most
                   ``min(σ₀/8, h/4)`` (agreeing with adaptive quadrature to 1e-9; infinite
                   for the tophat, whose support is bounded);
    ``tail_mass``  1-D only: the KDE's exact mass outside the truth's central 99% interval.
    """

    name: ClassVar[str] = "kde"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 100, "n_generations": 100,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("var", "nll", "mean", "spread")
    cost_ns: ClassVar[tuple[float, float]] = (5000.0, 20.0)  # dominated by the 1-D metrics
    curators: ClassVar[tuple[str, ...]] = CONTINUOUS_CURATORS
    shiftable_belief: ClassVar[bool] = True
    reward_words: ClassVar[str] = CONTINUOUS_REWARDS
    default_reward: ClassVar[str | None] = "truth"

    kernel: str = option("gaussian", flag="kernel", kind="str", choices=tuple(KERNEL_VARIANCE),
                         help="the kernel: gaussian or tophat (default gaussian)")
    bandwidth: float | str = option("sklearn-scott", flag="bandwidth", kind="name-or-number",
                            help="h > 0, or a rule: scott, silverman (with the data's spread), "
                                 "sklearn-scott, sklearn-silverman (scikit-learn's, without) "
                                 "(default sklearn-scott)")
    dim: int = option(1, flag="dim", kind="int",
                      help=f"d: dimension of the truth N(mean, std^2 I_d), 1 to {MAX_DIM} "
                           "(default 1)")
    mean: float = option(0.0, flag="mean",
                         help=f"mean of the true normal, every coordinate, {LOCATION_RANGE} "
                              "(default 0)")
    std: float = option(1.0, flag="std",
                        help=f"standard deviation of the true normal, {SCALE_RANGE} (default 1)")
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()
    capacity: int = 0

    def __post_init__(self) -> None:
        check_choice("kernel", self.kernel, tuple(KERNEL_VARIANCE))
        object.__setattr__(self, "bandwidth", _check_bandwidth(self.bandwidth))
        dim = check_int("dim", self.dim, minimum=1)
        if dim > MAX_DIM:
            raise ConfigError("dim", f"must be an integer between 1 and {MAX_DIM}", self.dim)
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "mean", check_location("mean", self.mean))
        check_float("std", self.std, low=0.0, low_open=True, what="a number > 0")
        object.__setattr__(self, "std", check_scale("std", self.std))
        object.__setattr__(self, "sampling_scale", check_sampling_scale(self.sampling_scale))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        object.__setattr__(self, "capacity", check_int("capacity", self.capacity, minimum=0))

    # -- settings: the capacity is derived from the run, never part of its identity -----------

    def settings(self) -> dict[str, Any]:
        out = super().settings()
        out.pop("capacity")
        return out

    def for_run(self, n_samples: int, n_generations: int, policy: Policy) -> KDE:
        capacity = max(1, policy.stored_samples(n_samples, n_generations))
        if capacity == self.capacity:
            return self
        return dataclasses.replace(self, capacity=capacity)

    # -- shape and truth ----------------------------------------------------------------------

    @property
    def kappa(self) -> float:
        """``κ``: the variance of one coordinate of the kernel."""
        return KERNEL_VARIANCE[self.kernel]

    @property
    def rule(self) -> str | None:
        """The bandwidth rule, or ``None`` for a fixed bandwidth."""
        return self.bandwidth if isinstance(self.bandwidth, str) else None

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (max(1, self.capacity) + 1, self.dim + 1)

    @property
    def metric_names(self) -> tuple[str, ...]:
        if self.dim == 1:
            return ("mean", "var", "spread", "nll", "w2", "kl", "tail_mass")
        return ("mean", "var", "spread", "nll")

    @property
    def sample_width(self) -> int:
        return self.dim

    def truth(self) -> np.ndarray:
        out = np.zeros(self.param_shape)
        out[0, :self.dim] = self.std
        out[1, :self.dim] = self.mean
        out[1, self.dim] = 1.0
        return out

    def block_size(self, policy: Policy, n_samples: int) -> int:
        points = max(1, self.capacity) * self.dim
        return block_for(points, budget=1 << 15, cap=256)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if self.rule in ("scott", "silverman") and n_samples < 2:
            raise ConfigError("n_samples", f"must be ≥ 2 for the {self.rule} rule (one point "
                              "has no spread: its bandwidth would be 0)", n_samples)

    # -- unpacking parameters -----------------------------------------------------------------

    def _unpack(self, params: np.ndarray):
        """``(h[..., d], count[...], points[..., C, d], weights[..., C], is_truth[...])``."""
        d = self.dim
        h = params[..., 0, :d]
        count = params[..., 0, d]
        return h, count, params[..., 1:, :d], params[..., 1:, d], count == 0

    def _moments(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-coordinate mean and variance ``[..., d]`` of each KDE (kernel included)."""
        h, _, points, weights, is_truth = self._unpack(params)
        kappa = np.where(is_truth, 1.0, self.kappa)[..., None]
        with np.errstate(over="ignore", invalid="ignore"):
            mean = np.einsum("...i,...ij->...j", weights, points)
            centred = points - mean[..., None, :]
            var = np.einsum("...i,...ij->...j", weights, centred * centred) + kappa * h * h
        return mean, var

    # -- the loop's operations ----------------------------------------------------------------

    def sampling_params(self, params):
        if self.sampling_scale == 1.0:
            return params
        out = np.array(params, dtype=float)
        fitted = out[:, 0, self.dim] > 0  # the truth is never scaled
        with np.errstate(over="ignore"):
            out[fitted, 0, :self.dim] *= self.sampling_scale
        return out

    def sample(self, params, n, rng, *, stats):
        rows, d = params.shape[0], self.dim
        h, count, points, weights, is_truth = self._unpack(params)
        live = count.astype(np.int64)
        u = rng.random((rows, n))
        if self.real_weight is None and not is_truth.any() and (live == live[0]).all():
            index = np.minimum((u * live[0]).astype(np.int64), live[0] - 1)
        else:  # weighted choice: one searchsorted over every row's cumulative weights
            cum = np.cumsum(weights, axis=1)
            cum /= cum[:, -1:]
            offset = np.arange(rows)[:, None]
            flat = np.searchsorted((cum + offset).ravel(), (u + offset).ravel(), side="right")
            index = flat.reshape(rows, n) - offset * cum.shape[1]
            index = np.clip(index, 0, np.maximum(live, 1)[:, None] - 1)
        chosen = np.take_along_axis(points, index[..., None], axis=1)
        gaussian = is_truth | (self.kernel == "gaussian")
        if gaussian.all():
            noise = rng.standard_normal((rows, n, d))
        elif not gaussian.any():
            noise = rng.uniform(-1.0, 1.0, (rows, n, d))
        else:
            noise = np.where(gaussian[:, None, None], rng.standard_normal((rows, n, d)),
                             rng.uniform(-1.0, 1.0, (rows, n, d)))
        with np.errstate(over="ignore", invalid="ignore"):
            x = chosen + h[:, None, :] * noise
        return Samples(x[..., 0] if d == 1 else x)

    def bandwidths(self, x: np.ndarray, omega: np.ndarray) -> np.ndarray:
        """``h[R, d]`` for training points ``x[R, n, d]`` with weights ``omega[R, n]``."""
        rows, n, d = x.shape
        if self.rule is None:
            return np.full((rows, d), float(self.bandwidth))
        beta = rule_beta(self.rule, n, d)
        if not BANDWIDTH_RULES[self.rule]:
            return np.full((rows, d), beta)
        mean = np.einsum("ri,rij->rj", omega, x)
        spread = np.einsum("ri,rij->rj", omega, (x - mean[:, None, :]) ** 2)
        return beta * np.sqrt(spread)

    def fit(self, data, *, rng, previous):
        x = np.asarray(data.values, dtype=float)
        rows, n = x.shape[:2]
        x = x.reshape(rows, n, self.dim)
        if self.real_weight is not None:
            if data.real is None:
                raise ValueError("the training set does not record which samples are real")
            omega = sample_weights(data.real, self.real_weight)
        else:
            omega = np.full((rows, n), 1.0 / n)
        capacity = self.capacity if self.capacity >= n else n  # an unbound family holds all
        out = np.zeros((rows, capacity + 1, self.dim + 1))
        with np.errstate(over="ignore", invalid="ignore"):
            out[:, 0, :self.dim] = self.bandwidths(x, omega)
        out[:, 0, self.dim] = n
        out[:, 1:n + 1, :self.dim] = x
        out[:, 1:n + 1, self.dim] = omega
        # A sampling scale above 1 with a spread rule can grow the points past the largest
        # float: that model has blown up, recorded as its last finite KDE with an infinite
        # bandwidth (absorbing: var = w2 = kl = nll = inf, tail_mass = 1), never a NaN.
        blown = ~np.isfinite(out).all(axis=(1, 2))
        if blown.any() and previous.shape == out.shape:
            out[blown] = previous[blown]
            out[blown, 0, :self.dim] = np.inf
        elif blown.any():  # no previous KDE of this shape (an unbound fit): inf everywhere
            out[blown, 0, :self.dim] = np.inf
            out[blown, 1:, :self.dim] = np.nan_to_num(out[blown, 1:, :self.dim])
        return out, {}

    # -- metrics ------------------------------------------------------------------------------

    def metrics(self, params, info=None):
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-2]
        flat = params.reshape(-1, *params.shape[-2:])
        mean, var = self._moments(flat)
        mu0, var0 = self.mean, self.std**2
        with np.errstate(over="ignore", invalid="ignore"):
            out = {"mean": mean[:, 0], "var": var.sum(axis=1),
                   "spread": var.sum(axis=1) + ((mean - mu0) ** 2).sum(axis=1)}
        chunks: list[dict[str, np.ndarray]] = []
        for start in range(0, flat.shape[0], METRICS_CHUNK):
            part = flat[start:start + METRICS_CHUNK]
            chunks.append(self._density_metrics(part))
        for key in chunks[0]:
            out[key] = np.concatenate([c[key] for c in chunks])
        is_truth = flat[:, 0, self.dim] == 0
        if self.dim == 1 and is_truth.any():  # the truth's own values, exactly
            out["nll"] = np.where(is_truth, 0.5 * math.log(2 * math.pi * math.e * var0),
                                  out["nll"])
            out["w2"] = np.where(is_truth, 0.0, out["w2"])
            out["kl"] = np.where(is_truth, 0.0, out["kl"])
            out["tail_mass"] = np.where(is_truth, _normal_tail(), out["tail_mass"])
        return {name: np.asarray(out[name]).reshape(lead) for name in self.metric_names}

    def _kernel_arrays(self, params: np.ndarray):
        h, count, points, weights, is_truth = self._unpack(params)
        return (np.ascontiguousarray(points), np.ascontiguousarray(weights),
                np.maximum(count, 1).astype(np.int64),  # the truth: one point, count 0
                np.ascontiguousarray(h),
                is_truth | (self.kernel == "gaussian"))

    def _density_metrics(self, params: np.ndarray) -> dict[str, np.ndarray]:
        from .density import density_cdf, log_density

        points, weights, count, h, gaussian = self._kernel_arrays(params)
        rows = params.shape[0]
        mu0, sd0 = self.mean, self.std
        if self.dim > 1:
            queries = (mu0 + sd0 * held_out_normal(self.dim))[None]
            logf = np.empty((rows, queries.shape[1]))
            log_density(points, weights, count, h, gaussian, queries, logf)
            return {"nll": -logf.mean(axis=1)}
        # kl and nll: trapezoidal rule over the truth, in its standard units, with a step of at
        # most a quarter of the narrowest bandwidth (the KDE's log density bends on the scale h).
        # A tophat KDE has bounded support: both are +inf, exactly, without quadrature.
        finite_h = h[:, 0][np.isfinite(h[:, 0]) & (h[:, 0] > 0) & gaussian]
        step = KL_STEP
        if finite_h.size:
            step = min(KL_STEP, 0.25 * float(finite_h.min()) / sd0)
        nodes = min(math.ceil(2 * KL_HALF_WIDTH / step), MAX_NODES) | 1
        z = np.linspace(-KL_HALF_WIDTH, KL_HALF_WIDTH, nodes)
        node_w = (z[1] - z[0]) * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        log_p = -0.5 * z * z - math.log(sd0) - 0.5 * math.log(2 * math.pi)
        logf = np.full((rows, z.size), -np.inf)
        use = np.flatnonzero(gaussian)
        if use.size:
            part = np.empty((use.size, z.size))
            log_density(points[use], weights[use], count[use], h[use], gaussian[use],
                        (mu0 + sd0 * z)[None, :, None], part)
            logf[use] = part
        with np.errstate(invalid="ignore"):
            cross = np.where(gaussian, -(logf @ node_w), np.inf)
        kl = cross + log_p @ node_w
        # w2 from the exact distribution function on a grid over the KDE's support.
        live = np.arange(points.shape[1])[None, :] < count[:, None]
        pts = np.where(live, points[..., 0], np.nan)
        reach = np.where(gaussian, 10.0, 1.0) * h[:, 0]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            lo, hi = np.nanmin(pts, axis=1) - reach, np.nanmax(pts, axis=1) + reach
            widths = (hi - lo) / h[:, 0]
        ok = np.isfinite(widths) & (h[:, 0] > 0)
        nodes = W2_NODES if gaussian.all() else W2_NODES_TOPHAT
        if ok.any():  # a step of at most h/3 (the Gaussian trapezoid then errs below 1e-10)
            nodes = min(max(nodes, math.ceil(3 * float(widths[ok].max())) + 1), MAX_NODES)
        levels = np.linspace(0.0, 1.0, nodes)
        with np.errstate(invalid="ignore", over="ignore"):
            grid = lo[:, None] + (hi - lo)[:, None] * levels[None, :]
        grid = np.where(np.isfinite(grid), grid, 0.0)
        dens, cdf, sf = (np.empty((rows, nodes)) for _ in range(3))
        density_cdf(points, weights, count, h, gaussian, grid, dens, cdf, sf)
        w2 = np.empty(rows)
        # The trapezoidal rule where the grid resolves the kernel (a step of at most h/3); the
        # piecewise-linear quantile rule elsewhere (tophat, or a bandwidth too small for
        # MAX_NODES nodes: an error of the order of the step, not a density missed between nodes).
        with np.errstate(invalid="ignore"):
            smooth = gaussian & (3.0 * (grid[:, 1] - grid[:, 0]) <= 1.000001 * h[:, 0])
        top = ~smooth
        w2[smooth] = _w2_trapezoid(grid[smooth], dens[smooth], cdf[smooth], sf[smooth], mu0,
                                   sd0)
        w2[top] = _w2_piecewise_linear(grid[top], cdf[top], sf[top], mu0, sd0)
        degenerate = ~(h[:, 0] > 0)
        if degenerate.any():  # a point mass at the fitted mean: W2 in closed form
            w2 = np.where(degenerate, np.hypot(pts[:, 0] - mu0, sd0), w2)
        w2 = np.where(np.isfinite(lo) & np.isfinite(hi) & np.isfinite(h[:, 0]), w2, np.inf)
        return {"nll": cross, "w2": w2, "kl": kl, "tail_mass": self._tail_mass(params)}

    def _tail_mass(self, params: np.ndarray) -> np.ndarray:
        """Exact mass outside ``μ₀ ∓ z_{0.995} σ₀`` (1-D)."""
        from scipy import special

        h, _, points, weights, is_truth = self._unpack(params)
        lo, hi = self.mean - Z_995 * self.std, self.mean + Z_995 * self.std
        x, hh = points[..., 0], h[:, :1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a, b = (lo - x) / hh, (x - hi) / hh
            gauss = special.ndtr(a) + special.ndtr(b)
            box = np.clip(0.5 * (a + 1.0), 0.0, 1.0) + np.clip(0.5 * (b + 1.0), 0.0, 1.0)
            gaussian = (is_truth | (self.kernel == "gaussian"))[:, None]
            tail = np.where(gaussian, gauss, box)
            tail = np.where(hh > 0, tail, ((x < lo) | (x > hi)).astype(float))
        return (weights * np.nan_to_num(tail)).sum(axis=1)

    # -- curation: each sample is a unit ------------------------------------------------------

    def unit_log_likelihood(self, params, units):
        from .density import log_density

        points, weights, count, h, gaussian = self._kernel_arrays(np.asarray(params))
        x = np.asarray(units.values, dtype=float)
        queries = np.ascontiguousarray(x.reshape(x.shape[0], x.shape[1], self.dim))
        out = np.empty(x.shape[:2])
        log_density(points, weights, count, h, gaussian, queries, out)
        return out

    def _log_truth(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        z = (x - self.mean) / self.std
        logp = -0.5 * z * z - math.log(self.std) - 0.5 * math.log(2 * math.pi)
        return logp if self.dim == 1 else logp.sum(axis=-1)

    def truth_log_likelihood(self, units):
        return self._log_truth(units.values)

    def belief_log_relative(self, units, shift):
        z = (np.asarray(units.values) - self.mean - shift) / self.std
        out = -0.5 * z * z
        return out if self.dim == 1 else out.sum(axis=-1)

    def reward(self, spec):
        var0 = self.std**2
        if spec != "truth" and self.dim > 1:
            raise unknown_reward(spec, self.name, "truth (the truth's log density; target:c "
                                 "is 1-D only)")

        def truth_expected(params):
            mean, var = self._moments(np.asarray(params))
            with np.errstate(over="ignore", invalid="ignore"):
                per = -0.5 * (np.log(2 * np.pi * var0) + (var + (mean - self.mean) ** 2) / var0)
            return per.sum(axis=-1)

        def moments(params):
            mean, var = self._moments(np.asarray(params))
            return mean[..., 0], var[..., 0]

        return continuous_reward(spec, self.name, truth_expected=truth_expected,
                                 log_truth=self._log_truth, moments=moments)

    # -- pictures and kernels -----------------------------------------------------------------

    def points(self, data: Dataset) -> np.ndarray | None:
        if self.dim < 2 or not isinstance(data, Samples):
            return None
        return np.asarray(data.values[0, :, :2])

    def kernels(self) -> tuple[Any, ...]:
        from .density import density_cdf, log_density

        return (log_density, density_cdf)

    def describe(self) -> str:
        h = (f"bandwidth {self.bandwidth}" if self.rule is not None
             else f"bandwidth {float(self.bandwidth):g}")
        space = f"N({self.mean:g}, {self.std:g}²)" + (f" in {self.dim} dimensions"
                                                      if self.dim > 1 else "")
        scale = (f", sampled with bandwidth × {self.sampling_scale:g}"
                 if self.sampling_scale != 1.0 else "")
        return (f"kde ({self.kernel} kernel, {h}) refitted to samples of {space}{scale}"
                + loop_setting_words(real_weight=self.real_weight))


def _check_bandwidth(value: Any) -> float | str:
    """A rule's name or a fixed bandwidth ``0 < h ≤ 1e50`` (text that reads as a number is one)."""
    allowed = f"a number > 0 or one of {', '.join(BANDWIDTH_RULES)}"
    if isinstance(value, str):
        text = value.strip().lower()
        if text in BANDWIDTH_RULES:
            return text
        try:
            value = float(text)
        except ValueError:
            raise ConfigError("bandwidth", f"must be {allowed}", value) from None
    if isinstance(value, bool):
        raise ConfigError("bandwidth", f"must be {allowed}", value)
    h = check_float("bandwidth", value, low=0.0, low_open=True, high=1e50, what=allowed)
    return h


def _normal_tail() -> float:
    """``2 Φ(−z_{0.995})``: the truth's own mass outside its central 99% interval."""
    return math.erfc(Z_995 / math.sqrt(2.0))


def _levels(cdf: np.ndarray, sf: np.ndarray) -> np.ndarray:
    """``Φ⁻¹(F)``, taken from ``F`` below the median and from ``1 − F`` above (precision)."""
    from scipy import special

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cdf < 0.5, special.ndtri(cdf), -special.ndtri(sf))


def _w2_trapezoid(grid: np.ndarray, dens: np.ndarray, cdf: np.ndarray, sf: np.ndarray,
                  mu0: float, sd0: float) -> np.ndarray:
    """``W₂`` to ``N(μ₀, σ₀²)`` of smooth (Gaussian-kernel) KDEs: ``W₂² = ∫ (x − G⁻¹(F(x)))²
    f(x) dx`` by the trapezoidal rule on a uniform grid reaching 10 bandwidths past the extreme
    points. The integrand is analytic and negligible at both ends, so the rule converges
    geometrically: with a step of at most ``h/3`` its error is below 1e-10 (tested);
    the mass beyond the grid (below 1e-23) is dropped."""
    q = _levels(cdf, sf)
    with np.errstate(invalid="ignore", over="ignore"):
        integrand = np.where(dens > 0, (grid - mu0 - sd0 * q) ** 2 * dens, 0.0)
    step = grid[:, 1] - grid[:, 0]
    total = integrand.sum(axis=1) - 0.5 * (integrand[:, 0] + integrand[:, -1])
    return np.sqrt(np.maximum(total * step, 0.0))


def _w2_piecewise_linear(grid: np.ndarray, cdf: np.ndarray, sf: np.ndarray, mu0: float,
                         sd0: float) -> np.ndarray:
    """``W₂`` to ``N(μ₀, σ₀²)`` of a distribution whose quantile function is linear between
    the grid's levels ``F(x_k)`` (exact for a tophat KDE between its breakpoints ``x_i ± h``).

    On a level interval ``[u_a, u_b]`` with ``F⁻¹(u) = μ₀ + c + s (u − ū)`` (``c = x̄ − μ₀``,
    ``s = δ / Δu``) and ``G⁻¹ = μ₀ + σ₀ Z(u)``, the integral of ``(F⁻¹ − G⁻¹)²`` is, exactly,
    ``c² Δu + s² Δu³/12 − 2σ₀ (c M₁ + s (M_u − ū M₁)) + σ₀² M₂`` with the normal's partial
    moments ``M₁ = ∫ Z du = φ(z_a) − φ(z_b)``, ``M₂ = ∫ Z² du = Δu − [z φ(z)]_a^b`` and
    ``M_u = ∫ u Z du = [−Φ(z) φ(z) + Φ(√2 z) / (2√π)]_a^b``. Only the intervals holding a
    breakpoint are approximated (error ``O(δ²)`` each); the truth's unbounded quantiles at
    ``u → 0, 1`` are integrated exactly. Intervals of almost no mass (``δ/Δu > 1e6``, where the
    exact form cancels) take the midpoint rule.
    """
    from scipy import special

    z = _levels(cdf, sf)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        phi = np.where(np.isfinite(z), np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi), 0.0)
        zphi = np.where(np.isfinite(z), z * phi, 0.0)
        big = np.where(np.isfinite(z), special.ndtr(math.sqrt(2.0) * z), (z > 0).astype(float))
        mu_part = -cdf * phi + big / (2 * math.sqrt(math.pi))
        du = np.where(cdf[:, 1:] < 0.5, np.diff(cdf, axis=1), -np.diff(sf, axis=1))
        du = np.maximum(du, 0.0)
        m1 = phi[:, :-1] - phi[:, 1:]
        m2 = du - (zphi[:, 1:] - zphi[:, :-1])
        mu = np.diff(mu_part, axis=1)
        u_mid = 0.5 * (cdf[:, 1:] + cdf[:, :-1])
        c = 0.5 * (grid[:, 1:] + grid[:, :-1]) - mu0
        delta = np.diff(grid, axis=1)
        s = np.where(du > 0, delta / du, 0.0)
        exact = (c * c * du + delta * delta * du / 12
                 - 2 * sd0 * (c * m1 + s * (mu - u_mid * m1)) + sd0 * sd0 * m2)
        # Where s = δ/Δu is huge (the Gaussian kernel's far tails, Δu ≈ 1e-20) the difference
        # M_u − ū M₁ cancels catastrophically and s magnifies it: there the midpoint rule, with
        # a negligible error on a negligible mass.
        q_mid = np.where(u_mid < 0.5, special.ndtri(u_mid),
                         -special.ndtri(0.5 * (sf[:, 1:] + sf[:, :-1])))
        midpoint = du * (c - sd0 * q_mid) ** 2 + delta * delta * du / 12
        terms = np.where(s <= 1e6, exact, midpoint)
        terms = np.where(du > 0, terms, 0.0)
    return np.sqrt(np.maximum(terms.sum(axis=1), 0.0))
