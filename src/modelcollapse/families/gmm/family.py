"""A 1-D Gaussian mixture refitted by EM to samples of its previous fit.

The classic experiment of Shumailov et al. (2024): two components at −2 and 2 with unit standard
deviations and equal weights, fitted, sampled and refitted. The components' variances wander and
shrink, their weights drift, and the mixture's tails thin out.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...training_sets import Samples, sample_weights
from ...validation import (
    LOCATION_RANGE,
    RESOLUTION,
    SCALE_RANGE,
    check_choice,
    check_float,
    check_int,
    check_locations_and_scales,
    check_real_weight,
    check_sampling_scale,
)
from .. import FAMILIES
from ..base import (
    Family,
    loop_setting_words,
    option,
    real_weight_option,
    sampling_scale_option,
)
from ..continuous import (
    CONTINUOUS_CURATORS,
    continuous_reward,
    mixture_logpdf,
    normal_expectation,
)
from ..discrete import block_for
from ..gaussian import scale_variances
from . import nd
from .warm_start import split_coinciding

#: Samples beyond this magnitude mean a model's variance has left float range (their squares
#: would overflow): the model has blown up (possible only with ``sampling_scale > 1``).
BLOWN_UP = 1e150

#: The variance floors allowed: 1/var_floor stays finite, and the floor stays below the square
#: of the widest truth (:data:`~modelcollapse.validation.SCALE_LIMIT`).
VAR_FLOOR_RANGE = (1e-300, 1e100)

#: EM tolerances, iteration caps and starts when the user gives none (per backend: the
#: scikit-learn backend keeps scikit-learn's own defaults, so it is the classic fitter).
DEFAULT_TOL = {"numba": 1e-10, "sklearn": 1e-3}
DEFAULT_MAX_ITER = {"numba": 10_000, "sklearn": 100}
DEFAULT_INIT = {"numba": "warm", "sklearn": "kmeans"}

#: The most components a mixture may have. A run records ``3K + 6`` metrics, and the results
#: table codes a metric's name in one signed byte (at most 128 names: ``K ≤ 40``); the metrics'
#: quadrature also grows as ``K³`` per fit (a panel break at every crossing of two components'
#: densities, each panel evaluating all ``K``), a few milliseconds at ``K = 40``.
MAX_COMPONENTS = 40
#: The largest cap on EM iterations: each is a pass over the training set, so a million is
#: already minutes per fit at ``N = 10⁶``; the kernels' counters never approach int64's range.
MAX_ITER = 10**6


@lru_cache(maxsize=16)
def truth_log_peak(weights: tuple[float, ...], means: tuple[float, ...],
                   stds: tuple[float, ...]) -> float:
    """``max_x log p(x)`` of a normal mixture: the oracle verifier's reference point.

    The maximum lies within the range of the means; a fine grid there (and at each mean) finds
    its neighbourhood and a bounded scalar search refines it to about 1e-12.
    """
    from scipy.optimize import minimize_scalar

    w, mu, var = np.asarray(weights), np.asarray(means), np.square(stds)

    def log_p(x):
        return mixture_logpdf(np.atleast_1d(np.asarray(x, dtype=float)), w, mu, var)

    grid = np.unique(np.concatenate([np.linspace(mu.min(), mu.max(), 4001), mu]))
    values = log_p(grid)
    best = int(np.argmax(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    if high > low:
        found = minimize_scalar(lambda x: -float(log_p(x)[0]), bounds=(low, high),
                                method="bounded", options={"xatol": 1e-12})
        return float(max(values[best], -found.fun))
    return float(values[best])


def _bounded_int(name: str, value: Any, high: int) -> int:
    """An integer between 1 and ``high``; anything else is refused naming that range."""
    try:
        n = check_int(name, value, minimum=1)
    except ConfigError:
        n = 0
    if not 1 <= n <= high:
        shown = f"10^{len(str(high)) - 1}" if str(high).strip("0") == "1" else str(high)
        raise ConfigError(name, f"must be an integer between 1 and {shown}", value)
    return n


@FAMILIES.register
@dataclass(frozen=True)
class GMM(Family):
    """A mixture of ``K`` normals fitted by expectation–maximisation.

    Parameters
    ----------
    n_components
        ``K``, between 1 and 40 (:data:`MAX_COMPONENTS`); taken from ``means`` when omitted (2
        by default).
    means, stds, weights
        The truth's components; default means ``(−2, 2)``, unit standard deviations, equal weights.
        Components are sorted by mean. Means lie within ±1e50 and standard deviations between
        1e-50 and 1e50, each at least 1e-10 × its mean's magnitude (see
        :data:`~modelcollapse.validation.SCALE_LIMIT` and
        :data:`~modelcollapse.validation.RESOLUTION`): beyond, squares and differences overflow,
        or float64 does not resolve the samples.
    tol
        EM stops when the mean log-likelihood changes by less than ``tol`` between iterations
        (scikit-learn's criterion). Default ``1e-10``, i.e. to convergence: scikit-learn's default
        ``1e-3`` stops early and adds its own noise to the drift being measured. With the
        ``sklearn`` backend the default is scikit-learn's own ``1e-3``.
    max_iter
        Cap on EM iterations per fit, between 1 and 10⁶ (:data:`MAX_ITER`); 10 000 by default,
        scikit-learn's 100 with the ``sklearn`` backend.
    init
        ``"warm"`` (default): start from the previous generation's fit; ``"kmeans"`` (default
        with the ``sklearn`` backend): re-initialise every fit by k-means++ and Lloyd's
        iterations, as scikit-learn does. Both
        fit to convergence; over 2 × 200 replicates of the classic experiment their collapse
        statistics were indistinguishable (``benchmarks/init_choice.py``), and warm starts are
        about 4× faster and never re-split the data differently from one generation to the next.
        A warm start in which live components coincide (equal means and variances, as in a
        truth ``means=(0, 0)``) is a fixed point of EM, which would never separate them; such
        components are first split apart deterministically, at their normal's quantiles
        (:func:`~modelcollapse.families.gmm.warm_start.split_coinciding`: the mixture's mean
        and variance kept, no random number drawn), on every backend. A start without
        coinciding components is used as it is.
    backend
        ``"numba"`` (this package's EM) or ``"sklearn"`` (scikit-learn's ``GaussianMixture``, the
        classic fitter; needs the ``sklearn`` extra).
    accelerate
        Accelerate EM with SQUAREM (:mod:`modelcollapse.families.gmm.em`): the same fixed point,
        reached to full precision in a fraction of the steps. ``False`` runs plain EM,
        iteration for iteration as scikit-learn does.
    var_floor
        Lower bound on every component's variance, so a collapsed component is recorded, never a
        crash; between 1e-300 (its reciprocal stays finite) and 1e100 (the square of the largest
        standard deviation a truth may have). scikit-learn *adds* its ``reg_covar`` instead;
        the ``sklearn`` backend passes ``var_floor`` as ``reg_covar``.
    sampling_scale
        ``λ``: the model is sampled with every component's standard deviation times ``λ`` (the
        weights and means unchanged; the truth never is). Note that this scales only the
        within-component part of the mixture's variance.
    real_weight
        ``None``: every sample counts once. ``w``: weighted EM (:mod:`.weighted`) in which the
        real samples together carry weight ``w`` and the synthetic ones ``1 − w``; it starts
        from the previous fit (``init`` warm) and runs on the numba backend.
    dim
        ``d``, between 1 and 16. ``1`` (default) is the 1-D family, bit-identical to before the
        option existed (it is neutral: no stream key changes). ``d ≥ 2`` hands every operation
        to :mod:`.nd`: full covariances, ``means`` a flat row-major ``K × d`` list, ``--dim 2``
        alone the Shumailov blobs preset; see that module for metrics, curation and what is
        refused.
    covs
        ``d ≥ 2``: the truth's covariances, ``K`` row-major ``d × d`` symmetric positive definite
        matrices in one flat list (default ``stds² I``); refused in 1-D.

    Notes
    -----
    Metrics: ``mean``, ``var`` (the mixture's total variance), ``w2``, ``kl``, ``tail_mass``
    (deterministic quadrature, :mod:`modelcollapse.families.gmm.metrics`), ``mean_i``, ``std_i``,
    ``weight_i`` per component sorted by mean, and ``em_iterations`` (E-steps of the fit; with the
    ``sklearn`` backend, scikit-learn's ``n_iter_``).
    """

    name: ClassVar[str] = "gmm"
    curators: ClassVar[tuple[str, ...]] = CONTINUOUS_CURATORS
    shiftable_belief: ClassVar[bool] = True
    reward_words: ClassVar[str] = ("truth (the truth's log density; with --dim at most 3) or "
                                   "target:c (-(x - c)^2 / 2; -|x - c·1|^2 / 2 with --dim)")
    default_reward: ClassVar[str | None] = "truth"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 10_000, "n_generations": 2000,
                                                "n_replicates": 10}
    #: The key metrics in 1-D (:attr:`key_metrics`; in d ≥ 2 only ``var`` has a meaning).
    key_metrics_1d: ClassVar[tuple[str, ...]] = ("var", "w2", "kl", "tail_mass")
    cost_ns: ClassVar[tuple[float, float]] = (20.0, 20.0)  # measured, see Family.cost_ns
    generation_ns: ClassVar[float] = 55_000.0  # W2 and KL by quadrature, sampling set-up

    # Fields given as None are resolved in __post_init__ and typed as resolved.
    n_components: int = option(None, flag="components", kind="int",
                                      help=f"number of mixture components K, between 1 and "
                                           f"{MAX_COMPONENTS} (default 2)")
    means: tuple[float, ...] = option(None, flag="means", kind="floats",
                                             help=f"true component means, each {LOCATION_RANGE} "
                                                  "(default -2,2)")
    stds: tuple[float, ...] = option(None, flag="stds", kind="floats",
                                            help=f"true component standard deviations, each "
                                                 f"{SCALE_RANGE} and at least {RESOLUTION:g} "
                                                 "× |mean| (default 1)")
    weights: tuple[float, ...] = option(None, flag="weights", kind="floats",
                                               help="true component weights (default equal)")
    tol: float = option(None, flag="tol",
                               help="EM stops when the mean log-likelihood gains less than this "
                                    "(default 1e-10; sklearn backend 1e-3)")
    max_iter: int = option(None, flag="max-iter", kind="int",
                                  help="cap on EM iterations per fit, between 1 and 10^6 "
                                       "(default 10000; sklearn 100)")
    init: str = option(None, flag="init", kind="str", choices=("warm", "kmeans"),
                       help="EM start: warm (the previous fit; default) or kmeans (fresh "
                            "k-means++ each fit; default with --backend sklearn)")
    backend: str = option("numba", flag="backend", kind="str", choices=("numba", "sklearn"),
                          help="fitter: numba (built in) or sklearn (scikit-learn's, classic)")
    accelerate: bool = option(True, flag="accelerate", kind="bool",
                              help="SQUAREM-accelerated EM (default); --no-accelerate: plain EM")
    var_floor: float = option(1e-6, flag="var-floor",
                              help="lower bound on component variances, between 1e-300 "
                                   "and 1e100 (default 1e-6)")
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()
    # Later additions, neutral: at their defaults they leave every 1-D run's stream key alone.
    dim: int = option(1, flag="dim", kind="int", neutral=True,
                      help=f"dimension d of the points, between 1 and {nd.MAX_DIM} (default 1; "
                           "--dim 2 alone runs Shumailov's 2-D blobs)")
    covs: tuple[float, ...] | None = option(None, flag="covs", kind="floats", neutral=True,
                                            help="d ≥ 2: true covariances, K row-major d×d "
                                                 "matrices in one list (default: --stds² I)")

    def __post_init__(self) -> None:
        check_choice("backend", self.backend, ("numba", "sklearn"))
        init = DEFAULT_INIT[self.backend] if self.init is None else self.init
        object.__setattr__(self, "init", check_choice("init", init, ("warm", "kmeans")))
        object.__setattr__(self, "dim", nd.check_dim(self.dim))
        k = None if self.n_components is None else _bounded_int(
            "n_components", self.n_components, MAX_COMPONENTS)
        if self.dim > 1:
            nd.configure(self, k)
        else:
            if self.covs is not None:
                raise ConfigError("covs", "needs --dim ≥ 2 (in 1-D give --stds)", self.covs)
            self._configure_1d(k)
        self._configure_fit()

    def _configure_1d(self, k: int | None) -> None:
        if self.means is None:
            if k not in (None, 2):
                raise ConfigError("means", f"must be given for {k} components")
            means: tuple[float, ...] = (-2.0, 2.0)
        else:
            means = nd.finite_floats("means", self.means)
            if k is None and len(means) > MAX_COMPONENTS:
                raise ConfigError("means", f"must have at most {MAX_COMPONENTS} values (one per "
                                  "component)", self.means)
        k = len(means) if k is None else k
        if len(means) != k:
            raise ConfigError("means", f"must have {k} values, one per component", self.means)
        stds = (1.0,) * k if self.stds is None else nd.finite_floats("stds", self.stds)
        weights = ((1.0 / k,) * k if self.weights is None
                   else nd.finite_floats("weights", self.weights))
        for field, values in (("stds", stds), ("weights", weights)):
            if len(values) != k:
                raise ConfigError(field, f"must have {k} values, one per component",
                                  getattr(self, field))
        if min(stds) <= 0:
            raise ConfigError("stds", "must all be > 0", self.stds)
        check_locations_and_scales(means, stds)
        if min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-9:
            raise ConfigError("weights", "must be ≥ 0 and sum to 1", self.weights)
        order = np.argsort(means, kind="stable")
        total = sum(weights)
        object.__setattr__(self, "n_components", k)
        object.__setattr__(self, "means", tuple(means[i] for i in order))
        object.__setattr__(self, "stds", tuple(stds[i] for i in order))
        object.__setattr__(self, "weights", tuple(weights[i] / total for i in order))

    def _configure_fit(self) -> None:
        tol = DEFAULT_TOL[self.backend] if self.tol is None else check_float(
            "tol", self.tol, low=0.0, low_open=True, what="a number > 0")
        max_iter = DEFAULT_MAX_ITER[self.backend] if self.max_iter is None else _bounded_int(
            "max_iter", self.max_iter, MAX_ITER)
        object.__setattr__(self, "tol", tol)
        object.__setattr__(self, "max_iter", max_iter)
        object.__setattr__(self, "var_floor", check_float(
            "var_floor", self.var_floor, low=VAR_FLOOR_RANGE[0], high=VAR_FLOOR_RANGE[1],
            what="a number between 1e-300 and 1e100"))
        object.__setattr__(self, "sampling_scale", check_sampling_scale(self.sampling_scale))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        if self.real_weight is not None and self.backend == "sklearn":
            raise ConfigError("backend", "must be numba when real data are weighted "
                              "(scikit-learn's GaussianMixture takes no sample weights)",
                              self.backend)
        if self.real_weight is not None and self.init != "warm":
            raise ConfigError("init", "must be warm when real data are weighted (the weighted "
                              "EM starts from the previous fit)", self.init)
        if self.backend == "sklearn":
            try:
                import sklearn.mixture  # noqa: F401
            except ImportError:
                raise ConfigError("backend", "sklearn needs scikit-learn: pip install "
                                  "'modelcollapse[sklearn]'") from None

    # -- shape and truth ---------------------------------------------------------------------

    @property
    def param_shape(self) -> tuple[int, ...]:
        if self.dim > 1:
            return (1 + self.dim + self.dim**2, self.n_components)
        return (3, self.n_components)

    @property
    def key_metrics(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("var",) if self.dim > 1 else self.key_metrics_1d

    @property
    def sample_width(self) -> int:
        return self.dim

    def points(self, data):
        return nd.points(self, data) if self.dim > 1 else None

    def idle_settings(self) -> dict[str, str]:
        out = super().idle_settings()
        if self.dim > 1:
            out["accelerate"] = "in d ≥ 2 (the d-D fit is plain EM; SQUAREM and Newton are 1-D)"
        return out

    @property
    def metric_names(self) -> tuple[str, ...]:
        if self.dim > 1:
            return nd.metric_names(self)
        k = range(self.n_components)
        return ("mean", "var", "w2", "kl", "tail_mass", *(f"mean_{i}" for i in k),
                *(f"std_{i}" for i in k), *(f"weight_{i}" for i in k), "em_iterations")

    def truth(self) -> np.ndarray:
        if self.dim > 1:
            return nd.truth(self)
        return np.array([self.weights, self.means, np.square(self.stds)])

    def block_size(self, policy: Policy, n_samples: int) -> int:
        if self.dim > 1:
            return block_for(n_samples * self.dim, budget=1 << 14, cap=64)
        return block_for(n_samples, budget=1 << 14, cap=64)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if n_samples < self.n_components:
            raise ConfigError("n_samples", f"must be ≥ the number of components "
                              f"({self.n_components})", n_samples)

    # -- sample and fit ----------------------------------------------------------------------

    # The compiled kernels (em, sampling, metrics) are imported where they are called: numba
    # costs a third of a second to import, and a command that never fits a GMM (``--help``, a
    # coin run) should not pay it.

    def sampling_params(self, params):
        if self.sampling_scale == 1.0:
            return params
        if self.dim > 1:
            return nd.sampling_params(self, params)
        return scale_variances(params, self.sampling_scale, column=2)

    def sample(self, params, n, rng, *, stats):
        from .sampling import sample_block

        if self.dim > 1:
            return nd.sample(self, params, n, rng)
        params = np.ascontiguousarray(params)
        out = np.empty((params.shape[0], n))
        sample_block(rng, params[:, 0], params[:, 1], np.sqrt(params[:, 2]), n, out)
        return Samples(out)

    def fit(self, data, *, rng, previous):
        from . import em

        if self.dim > 1:
            return nd.fit(self, data, rng, previous)
        x = np.ascontiguousarray(data.values, dtype=float)
        # A sampling scale above 1 can blow a model up: samples beyond ±BLOWN_UP (whose squares
        # would overflow) mean its variance has left float range. Such a row is not fitted; it
        # keeps its weights and means with infinite variances (absorbing), recorded, never NaN.
        # Only then: with λ ≤ 1 the truth's bounded scales keep every sample finite, and the
        # extra pass over the data is not paid in the hot loop.
        blown = np.zeros(x.shape[0], dtype=bool)
        if self.sampling_scale > 1.0:
            with np.errstate(invalid="ignore"):
                blown = ~(np.abs(x) <= BLOWN_UP).all(axis=1)
        if blown.any():
            x = x.copy()
            x[blown] = 0.0
        # A warm start with coinciding components is a fixed point of EM, which would never
        # separate them (a truth like --means 0,0 starts every replicate there): split them
        # apart first, deterministically (:mod:`.warm_start`). Any other start is passed on as
        # it is, the same object, so runs without coinciding components are unchanged.
        start = previous
        if self.init == "warm":
            start = split_coinciding(previous, self.var_floor)
        if self.real_weight is not None:
            from .weighted import fit_block_weighted

            assert data.real is not None, "the loop marks provenance when real_weight is set"
            omega = np.ascontiguousarray(sample_weights(data.real, self.real_weight))
            w, mu, var = (np.array(start[:, i], dtype=float) for i in range(3))
            iterations = fit_block_weighted(x, omega, w, mu, var, self.tol, self.max_iter,
                                            self.var_floor)
            params = np.stack([w, mu, var], axis=1)
        elif self.backend == "sklearn":
            params, iterations = self._fit_sklearn(x, rng, start)
        else:
            # Contiguous copies of the start: the kernels update them in place.
            w, mu, var = (np.array(start[:, i], dtype=float) for i in range(3))
            if self.init == "warm":
                iterations = em.fit_block_warm(x, w, mu, var, self.tol, self.max_iter,
                                               self.var_floor, self.accelerate)
            else:
                iterations = em.fit_block(rng, x, w, mu, var, self.tol, self.max_iter,
                                          self.var_floor, self.accelerate)
            params = np.stack([w, mu, var], axis=1)  # the kernels sort components by mean
        if blown.any():
            params[blown] = previous[blown]
            params[blown, 2] = np.inf
            iterations = np.where(blown, 0, iterations)
        return params, {"em_iterations": iterations.astype(float)}

    def _fit_sklearn(self, x, rng, start):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        rows, k = x.shape[0], self.n_components
        params = np.empty((rows, 3, k))
        iterations = np.empty(rows)
        for r in range(rows):
            settings: dict[str, Any] = dict(n_components=k, tol=self.tol, reg_covar=self.var_floor,
                                            max_iter=self.max_iter,
                                            random_state=int(rng.integers(2**31 - 1)))
            if self.init == "warm":
                # scikit-learn takes the log of each initial weight and itself never lets a
                # weight reach 0 (it adds 10 eps to every count); a dead component is given the
                # same floor, so a truth with a zero weight warm-starts without log(0).
                weights = np.maximum(start[r, 0], 10 * np.finfo(float).eps)
                weights = weights / weights.sum()
                settings.update(weights_init=weights, means_init=start[r, 1][:, None],
                                precisions_init=(1.0 / start[r, 2])[:, None, None])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = GaussianMixture(**settings).fit(x[r][:, None])
            params[r] = model.weights_, model.means_[:, 0], model.covariances_[:, 0, 0]
            iterations[r] = model.n_iter_
        order = np.argsort(params[:, 1], axis=1, kind="stable")
        return np.take_along_axis(params, order[:, None, :], axis=2), iterations

    def kernels(self) -> tuple[Any, ...]:
        from . import em
        from . import metrics as mixtures
        from .sampling import sample_block

        if self.dim > 1:
            from . import em_nd

            return (em_nd.sample_block_nd, em_nd.fit_block_nd if self.init == "warm"
                    else em_nd.fit_block_nd_kmeans)
        fit: Any = em.fit_block_warm if self.init == "warm" else em.fit_block
        if self.real_weight is not None:
            from .weighted import fit_block_weighted

            fit = fit_block_weighted
        return (sample_block, fit, mixtures._mixture_metrics, mixtures._build_tail_table)

    # -- curation: each sample is a unit ------------------------------------------------------

    def draw_units(self, params, k, rng):
        # The sampler groups each row's draws by component (a multinomial split, exact for a
        # training set, which is a multiset); candidates must be in i.i.d. draw order, because
        # best-of takes K consecutive ones per slot and the verifier keeps the first accepted.
        # A uniformly random permutation of the row makes them exchangeable again, exactly.
        if self.dim > 1:
            return nd.draw_units(self, params, k, rng)
        samples = self.sample(params, k, rng, stats=False)
        return Samples(rng.permuted(samples.values, axis=1))

    def unit_log_likelihood(self, params, units):
        if self.dim > 1:
            return nd.unit_log_likelihood(self, params, units)
        params = np.asarray(params, dtype=float)
        return mixture_logpdf(units.values, params[:, 0], params[:, 1], params[:, 2])

    def _log_truth(self, x: np.ndarray) -> np.ndarray:
        return mixture_logpdf(x, np.asarray(self.weights), np.asarray(self.means),
                              np.square(self.stds))

    def truth_log_likelihood(self, units):
        if self.dim > 1:
            return nd.log_truth(self, units.values)
        return self._log_truth(units.values)

    def belief_log_relative(self, units, shift):
        if self.dim > 1:  # the truth moved by shift along (1, ..., 1)
            return nd.belief_log_relative(self, units, shift)
        peak = truth_log_peak(self.weights, self.means, self.stds)
        return np.minimum(self._log_truth(units.values - shift) - peak, 0.0)

    def reward(self, spec):
        if self.dim > 1:
            return nd.reward(self, spec)
        def truth_expected(params):
            params = np.asarray(params, dtype=float)
            return normal_expectation(self._log_truth, params[..., 0, :], params[..., 1, :],
                                      params[..., 2, :])

        def moments(params):
            w, mu, var = params[..., 0, :], params[..., 1, :], params[..., 2, :]
            mean = np.sum(w * mu, axis=-1)
            with np.errstate(over="ignore", invalid="ignore"):
                return mean, np.sum(w * (var + (mu - mean[..., None]) ** 2), axis=-1)

        return continuous_reward(spec, self.name, log_truth=self._log_truth,
                                 truth_expected=truth_expected, moments=moments)

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, params, info=None):
        from .metrics import mixture_metrics

        if self.dim > 1:
            return nd.metrics(self, params, info)
        blown = ~np.isfinite(params).all(axis=(-2, -1))
        if blown.any():  # quadrature on the truth instead; overwritten below
            params_ok = np.where(blown[..., None, None], self.truth(), params)
        else:
            params_ok = params
        w, mu, var = params_ok[..., 0, :], params_ok[..., 1, :], params_ok[..., 2, :]
        out = mixture_metrics(w, mu, np.sqrt(var), (self.weights, self.means, self.stds))
        if blown.any():
            for name, value in (("var", np.inf), ("w2", np.inf), ("kl", np.inf),
                                ("tail_mass", 1.0)):
                out[name] = np.where(blown, value, out[name])
            out["mean"] = np.where(blown, np.sum(params[..., 0, :] * params[..., 1, :], axis=-1),
                                   out["mean"])
        w, mu, var = params[..., 0, :], params[..., 1, :], params[..., 2, :]
        sd = np.sqrt(var)
        # The truth itself (generation 0) is at distance exactly 0, not quadrature-noise close.
        is_truth = np.all(params == self.truth(), axis=(-2, -1))
        for name in ("w2", "kl"):
            out[name] = np.where(is_truth, 0.0, out[name])
        for name, values in (("mean", mu), ("std", sd), ("weight", w)):
            for i in range(self.n_components):
                out[f"{name}_{i}"] = values[..., i]
        iterations = None if info is None else info.get("em_iterations")
        out["em_iterations"] = (np.zeros(w.shape[:-1]) if iterations is None
                                else np.asarray(iterations, dtype=float))
        return out

    def describe(self) -> str:
        if self.dim > 1:
            return nd.describe(self) + loop_setting_words(
                sampling_scale=self.sampling_scale, real_weight=self.real_weight)
        parts = ", ".join(f"{w:g}·N({m:g}, {s:g}²)"
                          for w, m, s in zip(self.weights, self.means, self.stds, strict=True))
        fitter = "scikit-learn" if self.backend == "sklearn" else "EM"
        return (f"gmm, truth {parts}; {fitter} to tol {self.tol:g}, {self.init} init"
                + loop_setting_words(sampling_scale=self.sampling_scale,
                                     real_weight=self.real_weight))
