"""Linear regression refitted to labels its own fitted model generates.

The truth is ``y = x·w + σε`` with a Gaussian design ``x ~ N(0, I_d)`` and ``ε ~ N(0, 1)``. Each
generation fits ``ŵ`` by (ridge) least squares; the next generation's labels are the fitted
model's, ``ŷ = x·ŵ + s ε`` on fresh inputs (``--inputs fresh``) or on the inputs of training set
1 (``--inputs fixed``), with ``s`` the true noise ``σ`` (Gerstgrasser et al.'s and Dohmatob et
al.'s loop, the default) or the fitted ``σ̂`` (``--label-noise fitted``).

Under ``replace`` with OLS the expected excess risk grows by exactly ``σ² d / (N − d − 1)`` per
generation (:mod:`modelcollapse.theory.regression`); under ``accumulate`` (fixed inputs) it stays
below ``π²/6`` times its first value.

References
----------
.. [1] M. Gerstgrasser et al., "Is model collapse inevitable? Breaking the curse of recursion by
   accumulating real and synthetic data", arXiv:2404.01413 (2024), §3.
.. [2] E. Dohmatob, Y. Feng, J. Kempe, "Model collapse demystified: the case of regression",
   arXiv:2402.07712 (2024).
.. [3] A. Dey, D. Donoho, "Universality of the π²/6 pathway in avoiding model collapse",
   arXiv:2410.22812 (2024).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..policies import Policy
from ..rewards import Reward, unknown_reward
from ..training_sets import Samples, sample_weights
from ..validation import (
    check_choice,
    check_float,
    check_int,
    check_real_weight,
    check_sampling_scale,
)
from . import FAMILIES
from .base import Family, loop_setting_words, option, real_weight_option, sampling_scale_option
from .continuous import CONTINUOUS_CURATORS, normal_logpdf
from .discrete import block_for

#: Where the labels of a model's samples come from: the true noise σ or the fitted σ̂.
LABEL_NOISES = ("true", "fitted")
#: Which inputs a model's samples carry: fresh draws of the design, or training set 1's.
INPUTS = ("fresh", "fixed")
#: Largest number of features.
MAX_DIM = 1000
#: The range of the noise standard deviation (the sufficient-statistic fit forms the residual
#: sum of squares as ``yᵀy − 2ŵᵀXᵀy + ŵᵀXᵀXŵ``, which loses ``‖w‖²/σ²`` in relative accuracy).
NOISE_RANGE = (1e-4, 1e4)
MAX_WEIGHT = 1e4


@dataclass(frozen=True, eq=False)
class Gram:
    """Exact sufficient statistics of a least-squares training set, per replicate.

    Parameters
    ----------
    n
        Number of ``(x, y)`` pairs in every replicate's set.
    xx
        ``XᵀX``, shape ``[R, d, d]``.
    xy
        ``Xᵀy``, shape ``[R, d]``.
    yy
        ``yᵀy``, shape ``[R]``.
    points
        The first replicate's pairs ``(x_1, y)``, ``[n, 2]``, for the scatter picture
        (:meth:`Regression.points`), or ``None``.

    Notes
    -----
    Union adds the three sums exactly; a subsample cannot be drawn from them, so policies that
    subsample use raw :class:`~modelcollapse.training_sets.Samples` instead.
    """

    n: int
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    points: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.n

    @property
    def n_replicates(self) -> int:
        return int(self.yy.shape[0])

    @staticmethod
    def concat(parts: Sequence[Gram]) -> Gram:
        if len(parts) == 1:
            return parts[0]
        points = None
        if all(p.points is not None for p in parts):
            points = np.concatenate([p.points for p in parts])
        return Gram(sum(p.n for p in parts), sum(p.xx for p in parts),  # type: ignore[arg-type]
                    sum(p.xy for p in parts), sum(p.yy for p in parts),  # type: ignore[arg-type]
                    points)

    def subsample(self, m: int, rng: np.random.Generator) -> Gram:
        if m == self.n:
            return self
        raise NotImplementedError("a subsample cannot be drawn from XᵀX and Xᵀy; use Samples")

    @staticmethod
    def of(values: np.ndarray) -> Gram:
        """The statistics of raw pairs ``values[R, n, d + 1]`` (``x`` then ``y``)."""
        x, y = values[..., :-1], values[..., -1]
        xt = x.transpose(0, 2, 1)
        return Gram(values.shape[1], xt @ x, (xt @ y[..., None])[..., 0],
                    np.einsum("rn,rn->r", y, y), values[0][:, [0, -1]])


def wishart_gram(w: np.ndarray, var: np.ndarray, n: int, rng: np.random.Generator) -> Gram:
    """Exact ``(XᵀX, Xᵀy, yᵀy)`` of ``n ≥ d`` pairs ``x ~ N(0, I_d)``, ``y = x·w + √var ε``.

    Write ``X = QU`` (thin QR): for a Gaussian matrix, ``U`` has Bartlett's law (independent
    ``U_ii = √χ²_{n−i+1}``, ``i = 1..d``, and ``U_ij ~ N(0, 1)`` above the diagonal, so
    ``XᵀX = UᵀU ~ Wishart(n, I)``) and is independent of ``Q``. Then ``z = Qᵀε ~ N(0, I_d)`` and
    ``‖ε‖² − ‖z‖² ~ χ²_{n−d}`` are independent of ``U`` and of each other, and
    ``XᵀX = UᵀU``, ``Xᵀy = UᵀU w + √var Uᵀz``,
    ``yᵀy = wᵀUᵀUw + 2√var wᵀUᵀz + var (‖z‖² + χ²_{n−d})``: O(d²) draws per replicate
    instead of O(n d). The first replicate is drawn as raw pairs (once per block: O(n d)) so that
    its points can be pictured; its statistics are those of the pairs, the same law.
    """
    r, d = w.shape
    if r == 0:
        return Gram(n, np.zeros((0, d, d)), np.zeros((0, d)), np.zeros(0))
    x = rng.standard_normal((n, d))
    with np.errstate(over="ignore", invalid="ignore"):
        y = x @ w[0] + np.sqrt(var[0]) * rng.standard_normal(n)
    first = Gram.of(np.concatenate([x, y[:, None]], axis=1)[None])
    w, var, r = w[1:], var[1:], r - 1
    u = np.triu(rng.standard_normal((r, d, d)), k=1)
    diag = np.sqrt(rng.chisquare(n - np.arange(d), (r, d)))
    u[:, np.arange(d), np.arange(d)] = diag
    z = rng.standard_normal((r, d))
    rest = rng.chisquare(n - d, r) if n > d else np.zeros(r)
    xx = np.einsum("rki,rkj->rij", u, u)
    uw = np.einsum("rij,rj->ri", u, w)
    s = np.sqrt(var)
    with np.errstate(over="ignore", invalid="ignore"):
        xy = np.einsum("rki,rk->ri", u, uw + s[:, None] * z)
        yy = ((uw**2).sum(axis=1) + 2 * s * (uw * z).sum(axis=1)
              + var * ((z**2).sum(axis=1) + rest))
    return Gram(n, np.concatenate([first.xx, xx]), np.concatenate([first.xy, xy]),
                np.concatenate([first.yy, yy]), first.points)


@FAMILIES.register
@dataclass(frozen=True)
class Regression(Family):
    """Linear regression ``y = x·w + σε``, ``x ~ N(0, I_d)``, refitted by least squares.

    Parameters
    ----------
    dim
        ``d``, the number of features (1 to 1000; default 10, or the length of ``weights``).
    weights
        The true ``w`` (``--weights``, d numbers); default ``w = (1, …, 1)/√d``, so ``‖w‖ = 1``
        and the signal variance ``E (x·w)²`` is 1.
    noise
        ``σ``, the true noise standard deviation (1e-4 to 1e4; default 1).
    ridge
        ``λ ≥ 0``: the fit minimises ``Σ (y − x·ŵ)² + λ‖ŵ‖²``, ``ŵ = (XᵀX + λI)⁻¹Xᵀy``
        (default 0: ordinary least squares).
    inputs
        ``"fresh"``: every sample of a model has fresh inputs ``x ~ N(0, I_d)``. ``"fixed"``: a
        model's ``m`` samples carry the inputs of training set 1 (rows ``i mod N``, so the first
        ``m`` of them when ``m ≤ N``), the fixed design of Gerstgrasser et al. §3; under
        ``accumulate`` the accumulated set is those ``N`` inputs repeated, each copy with its
        own labels. Real data drawn after generation 1 (``mix``, ``--real``) always have fresh
        inputs. The fitted parameters then hold the inputs (``param_shape = d + 1 + N d``).
    label_noise
        ``"true"`` (default): synthetic labels are ``x·ŵ + σε`` with the truth's ``σ``, as in
        Gerstgrasser et al. [1]_ and Dohmatob et al. [2]_ (the model is the fitted mean with the
        known noise level). ``"fitted"``: ``x·ŵ + σ̂ε`` with the fitted ``σ̂²``.
    shortcut
        With fresh inputs, unweighted, under policies that never subsample: hold training sets
        as ``(XᵀX, Xᵀy, yᵀy, n)`` and draw them exactly (:func:`wishart_gram`), O(d²) per
        replicate and generation instead of O(N d).
    sampling_scale
        ``λ_s``: a model is sampled with its noise standard deviation times ``λ_s``.
    real_weight
        ``w_r``: weighted least squares in which the real pairs together weigh ``w_r`` and the
        synthetic ones ``1 − w_r`` (each pair of a part equally), the per-pair weights scaled
        to sum to ``n`` so that ``λ`` means the same as unweighted.

    Notes
    -----
    Parameters: ``[ŵ (d), σ̂², inputs (N d, fixed only)]`` with ``σ̂² = RSS / (n − d)`` (the
    unbiased estimate for OLS; for a weighted fit the weighted RSS). Metrics:

    * ``param_error = ‖ŵ − w‖²``;
    * ``test_error``: the mean squared error of ``x·ŵ`` on fresh real data, computed exactly:
      for ``x ~ N(0, I)`` it is ``E (y − x·ŵ)² = σ² + ‖ŵ − w‖²``;
    * ``noise = σ̂²``.

    There is no collapse event (the test error grows without bound under ``replace``, smoothly);
    ``--collapse-fraction`` is refused. A fit that overflows (only with a sampling scale above
    1 and fitted label noise) keeps its last finite ``ŵ`` with ``σ̂² = inf``.
    """

    name: ClassVar[str] = "regression"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 100, "n_generations": 50,
                                                "n_replicates": 200}
    key_metrics: ClassVar[tuple[str, ...]] = ("test_error", "param_error", "noise")
    collapse_metric: ClassVar[str | None] = None
    cost_ns: ClassVar[tuple[float, float]] = (15.0, 10.0)
    curators: ClassVar[tuple[str, ...]] = CONTINUOUS_CURATORS
    shiftable_belief: ClassVar[bool] = True
    reward_words: ClassVar[str] = "truth (the truth's log density of y given x)"
    default_reward: ClassVar[str | None] = "truth"

    dim: int = option(None, flag="dim", kind="int",
                      help="number of features d, 1 to 1000 (default 10, or the length of "
                           "--weights)")
    weights: tuple[float, ...] | None = option(None, flag="weights", kind="floats",
                                               help="true coefficients w, d numbers (default "
                                                    "(1, ..., 1)/sqrt(d))")
    noise: float = option(1.0, flag="noise",
                          help="true noise standard deviation sigma, 1e-4 to 1e4 (default 1)")
    ridge: float = option(0.0, flag="ridge",
                          help="ridge penalty lambda >= 0 (default 0: ordinary least squares)")
    inputs: str = option("fresh", flag="inputs", kind="str", choices=INPUTS,
                         help="inputs of the synthetic labels: fresh draws each generation or "
                              "fixed (training set 1's)")
    label_noise: str = option("true", flag="label-noise", kind="str", choices=LABEL_NOISES,
                              help="noise of the synthetic labels: true (sigma) or fitted "
                                   "(sigma hat)")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="use exact sufficient statistics where the policy allows")
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()
    #: Derived by :meth:`for_run`: how many inputs the parameters hold (fixed inputs only).
    n_inputs: int | None = None

    def __post_init__(self) -> None:
        weights = self.weights
        if weights is not None:
            if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence | np.ndarray):
                raise ConfigError("weights", "must be a list of numbers", weights)
            weights = tuple(check_float("weights", v, low=-MAX_WEIGHT, high=MAX_WEIGHT,
                                        what=f"numbers between -{MAX_WEIGHT:g} and "
                                             f"{MAX_WEIGHT:g}") for v in weights)
            if not weights:
                raise ConfigError("weights", "must hold at least one number", self.weights)
            object.__setattr__(self, "weights", weights)
        dim = (10 if weights is None else len(weights)) if self.dim is None else self.dim
        dim = check_int("dim", dim, minimum=1)
        if dim > MAX_DIM:
            raise ConfigError("dim", f"must be an integer between 1 and {MAX_DIM}", dim)
        if weights is not None and len(weights) != dim:
            raise ConfigError("weights", f"must have dim = {dim} numbers", self.weights)
        object.__setattr__(self, "dim", dim)
        object.__setattr__(self, "noise", check_float(
            "noise", self.noise, low=NOISE_RANGE[0], high=NOISE_RANGE[1],
            what=f"a number between {NOISE_RANGE[0]:g} and {NOISE_RANGE[1]:g}"))
        object.__setattr__(self, "ridge", check_float("ridge", self.ridge, low=0.0, high=1e12,
                                                      what="a number between 0 and 1e12"))
        check_choice("inputs", self.inputs, INPUTS)
        check_choice("label_noise", self.label_noise, LABEL_NOISES)
        object.__setattr__(self, "sampling_scale", check_sampling_scale(self.sampling_scale))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        if self.n_inputs is not None:
            object.__setattr__(self, "n_inputs", check_int("n_inputs", self.n_inputs,
                                                           minimum=1))

    # -- binding and shape ---------------------------------------------------------------------

    def for_run(self, n_samples: int, n_generations: int, policy: Policy) -> Regression:
        bound = n_samples if self.inputs == "fixed" else None
        if bound == self.n_inputs:
            return self
        return dataclasses.replace(self, n_inputs=bound)

    def stream_settings(self) -> dict[str, Any]:
        out = super().stream_settings()
        out.pop("n_inputs", None)  # derived from the run's N, which the stream key holds
        return out

    def idle_settings(self) -> dict[str, str]:
        out = {"collapse_fraction": "for regression (its error grows smoothly: no collapse "
                                    "time is recorded)"}
        if self.inputs == "fixed" or self.real_weight is not None:
            out["shortcut"] = ("with fixed inputs or a real weight (training sets are then "
                               "always raw pairs)")
        return out

    @property
    def true_weights(self) -> np.ndarray:
        """``w``: ``weights``, or ``(1, …, 1)/√d``."""
        if self.weights is None:
            return np.full(self.dim, 1.0 / np.sqrt(self.dim))
        return np.asarray(self.weights, dtype=float)

    @property
    def param_shape(self) -> tuple[int, ...]:
        if self.inputs == "fixed":
            if self.n_inputs is None:
                raise ValueError("a regression with fixed inputs must be bound to its run "
                                 "(Regression.for_run) before its parameters have a shape")
            return (self.dim + 1 + self.n_inputs * self.dim,)
        return (self.dim + 1,)

    @property
    def sample_width(self) -> int:
        return self.dim + 1

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("test_error", "param_error", "noise")

    def truth(self) -> np.ndarray:
        head = np.concatenate([self.true_weights, [self.noise**2]])
        if self.inputs == "fixed":
            # No inputs yet: the truth's samples always have fresh inputs; the first fit stores
            # the inputs of training set 1 in place of these NaNs.
            return np.concatenate([head, np.full(self.param_shape[0] - head.size, np.nan)])
        return head

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        return (self.shortcut and self.inputs == "fresh" and self.real_weight is None
                and not policy.needs_subsample(n_samples))

    def block_size(self, policy: Policy, n_samples: int) -> int:
        d = self.dim
        if self.uses_sufficient_statistics(policy, n_samples):
            return block_for(d * d + d, budget=1 << 16, cap=4096)
        return block_for(n_samples * (d + 1) + int(np.prod(self.param_shape)),
                         budget=1 << 16, cap=256)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if n_samples < self.dim + 1:
            raise ConfigError("n_samples", f"must be ≥ dim + 1 = {self.dim + 1} (a unique "
                              "least-squares fit and the noise estimate RSS / (n − d) need "
                              "n > d)", n_samples)

    # -- the loop's operations -----------------------------------------------------------------

    def _split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        d = self.dim
        inputs = None
        if self.inputs == "fixed":
            inputs = params[..., d + 1:].reshape(*params.shape[:-1], -1, d)
        return params[..., :d], params[..., d], inputs

    def sampling_params(self, params):
        # The label noise of a model's samples sits in the σ̂² column: the true σ² under
        # label_noise "true", times λ_s² for a sampling scale.
        if self.label_noise == "fitted" and self.sampling_scale == 1.0:
            return params
        out = np.array(params, dtype=float)
        if self.label_noise == "true":
            out[:, self.dim] = self.noise**2
        with np.errstate(over="ignore"):
            out[:, self.dim] *= self.sampling_scale**2
        return out

    def sample(self, params, n, rng, *, stats):
        w, var, inputs = self._split(params)
        r, d = w.shape
        fresh = inputs is None or np.isnan(inputs[:, 0, 0]).all()
        if stats and fresh and n >= d:
            return wishart_gram(w, var, n, rng)
        if fresh:
            x = rng.standard_normal((r, n, d))
        else:
            assert inputs is not None
            x = inputs[:, np.arange(n) % inputs.shape[1]]
        eps = rng.standard_normal((r, n))
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.einsum("rni,ri->rn", x, w) + np.sqrt(var)[:, None] * eps
        values = np.concatenate([x, y[..., None]], axis=2)
        return Gram.of(values) if stats else Samples(values)

    def fit(self, data, *, rng, previous):
        d = self.dim
        if isinstance(data, Gram):
            xx, xy, yy, n = data.xx, data.xy, data.yy, data.n
            rss = None
        else:
            values = data.values
            x, y = values[..., :d], values[..., d]
            n = values.shape[1]
            omega = None
            if self.real_weight is not None:
                if data.real is None:
                    raise ValueError("the training set does not record which samples are real")
                omega = n * sample_weights(data.real, self.real_weight)
            xt = x.transpose(0, 2, 1)  # batched matmul: BLAS, unlike a three-operand einsum
            with np.errstate(over="ignore", invalid="ignore"):
                if omega is None:
                    xx, xy = xt @ x, (xt @ y[..., None])[..., 0]
                else:
                    xx = xt @ (omega[..., None] * x)
                    xy = (xt @ (omega * y)[..., None])[..., 0]
            yy = None
        with np.errstate(over="ignore", invalid="ignore"):
            w_hat = _solve(xx + self.ridge * np.eye(d), xy)
            if yy is not None:
                rss = yy - 2 * (w_hat * xy).sum(axis=1) + np.einsum("ri,rij,rj->r",
                                                                     w_hat, xx, w_hat)
                rss = np.maximum(rss, 0.0)  # rounding in the cancellation can go below 0
            else:
                resid = y - np.einsum("rni,ri->rn", x, w_hat)
                rss = (resid**2 if omega is None else omega * resid**2).sum(axis=1)
            var = rss / (n - d)
        blown = ~(np.isfinite(w_hat).all(axis=1) & np.isfinite(var))
        if blown.any():
            w_hat = np.where(blown[:, None], previous[:, :d], w_hat)
            var = np.where(blown, np.inf, var)
        head = np.concatenate([w_hat, var[:, None]], axis=1)
        if self.inputs == "fresh":
            return head, {}
        stored = previous[:, d + 1:]
        if np.isnan(stored[:, 0]).any():  # generation 1: keep training set 1's inputs
            assert isinstance(data, Samples)
            stored = data.values[:, :self.n_inputs, :d].reshape(len(head), -1)
        return np.concatenate([head, stored], axis=1), {}

    def metrics(self, params, info=None):
        w_hat, var, _ = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            error = ((w_hat - self.true_weights) ** 2).sum(axis=-1)
        return {"test_error": self.noise**2 + error, "param_error": error, "noise": var}

    def points(self, data):
        if isinstance(data, Gram):
            return data.points
        if not isinstance(data, Samples):
            return None
        return np.stack([data.values[0, :, 0], data.values[0, :, self.dim]], axis=1)

    # -- curation: each (x, y) pair is a unit ------------------------------------------------

    def training_form(self, units, n, *, stats):
        return Gram.of(units.values) if stats else units

    def _label_logpdf(self, values: np.ndarray, w: np.ndarray, var: np.ndarray) -> np.ndarray:
        mean = np.einsum("rki,ri->rk", values[..., :self.dim], w)
        return normal_logpdf(values[..., self.dim], mean, var[:, None])

    def unit_log_likelihood(self, params, units):
        # The log density of y given x: the design's density of x is the same for every model
        # and the truth (fresh inputs), so it cancels from every ratio a curator forms.
        w, var, _ = self._split(params)
        return self._label_logpdf(units.values, w, var)

    def proposal_log_likelihood(self, params, units):
        return self.unit_log_likelihood(self.sampling_params(params), units)

    def truth_log_likelihood(self, units):
        r = units.values.shape[0]
        return self._label_logpdf(units.values, np.broadcast_to(self.true_weights, (r, self.dim)),
                                  np.full(r, self.noise**2))

    def belief_log_relative(self, units, shift):
        # The verifier believes the truth's regression moved up by `shift`.
        mean = units.values[..., :self.dim] @ self.true_weights + shift
        return -0.5 * (units.values[..., self.dim] - mean) ** 2 / self.noise**2

    def reward(self, spec: str) -> Reward:
        if spec != "truth":
            raise unknown_reward(spec, self.name, "truth")
        var0 = self.noise**2
        w0 = self.true_weights

        def expected(params):
            # E_model log N(y; x·w, σ²) with y = x·ŵ + s ε, x ~ N(0, I): the model's label
            # noise s² is σ² (label_noise true) or its σ̂² (fitted), without the sampling bias.
            w_hat, var = params[..., :self.dim], params[..., self.dim]
            if self.label_noise == "true":
                var = np.full_like(var, var0)
            with np.errstate(over="ignore", invalid="ignore"):
                error = ((w_hat - w0) ** 2).sum(axis=-1)
                return -0.5 * (np.log(2 * np.pi * var0) + (var + error) / var0)

        return Reward(spec, self.truth_log_likelihood, expected,
                      "reward: the truth's log density of y given x")

    def describe(self) -> str:
        fit = "OLS" if self.ridge == 0 else f"ridge λ = {self.ridge:g}"
        return (f"regression d = {self.dim}, σ = {self.noise:g}, {fit}, {self.inputs} inputs, "
                f"{self.label_noise} label noise"
                + loop_setting_words(sampling_scale=self.sampling_scale,
                                     real_weight=self.real_weight))


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a⁻¹ b`` per replicate; a singular ``a`` (inputs repeated by a subsample, all equal
    rows) gets the minimum-norm least-squares solution instead of an error."""
    try:
        out = np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
    bad = ~np.isfinite(out).all(axis=1) & np.isfinite(a).all(axis=(1, 2)) & np.isfinite(b).all(
        axis=1)
    for r in np.flatnonzero(bad):
        out[r] = np.linalg.pinv(a[r]) @ b[r]
    return out
