"""A 1-D normal distribution refitted to its own samples.

Under ``replace`` with the MLE the variance is a product of independent scaled chi-squares,
``var_t = var_0 Π_{s ≤ t} χ²_{N−1} / N``, so ``E var_t = var_0 ((N−1)/N)^t`` while
``E log var_t → −∞`` linearly: the variance collapses almost surely, with either estimator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ConfigError
from ..policies import Policy
from ..training_sets import Moments, Samples, part_weights, sample_weights
from ..validation import (
    LOCATION_RANGE,
    RESOLUTION,
    SCALE_RANGE,
    check_choice,
    check_float,
    check_location,
    check_real_weight,
    check_sampling_scale,
    check_scale,
    resolved,
)
from . import FAMILIES
from .base import (
    Family,
    loop_setting_words,
    option,
    real_weight_option,
    sampling_scale_option,
)
from .continuous import (
    CONTINUOUS_CURATORS,
    CONTINUOUS_REWARDS,
    continuous_reward,
    normal_logpdf,
)
from .discrete import block_for

#: Standard-normal quantile bounding the central 99% interval, Φ⁻¹(0.995).
Z_995 = 2.5758293035489004

#: What the Gaussian refits: both moments, or the mean with the variance known.
FITS = ("mean-var", "mean")


def scale_variances(params: np.ndarray, scale: float, *, column: int) -> np.ndarray:
    """``params`` with the variances in ``params[:, column]`` (a column of a normal's
    ``[mean, var]``, or the row of a mixture's ``[w, μ, σ²]`` per component) times ``scale²``."""
    out = np.array(params, dtype=float)
    with np.errstate(over="ignore"):  # a variance near the largest float: inf, blown up
        out[:, column] *= scale**2
    return out


def weighted_normal_fit(data: Moments | Samples,
                        real_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The weighted maximum-likelihood mean and variance of each replicate's training set.

    The real samples together weigh ``W_r`` and the synthetic ones ``W_s``
    (:func:`~modelcollapse.training_sets.part_weights`), each sample of a part equally. With
    per-sample weights ``ω_i`` summing to 1 the weighted MLE of a normal is
    ``μ = Σ ω_i x_i`` and ``σ² = Σ ω_i (x_i − μ)²``; split into the two parts this is
    ``μ = W_r m_r + W_s m_s`` and ``σ² = W_r v_r + W_s v_s + W_r W_s (m_r − m_s)²``, which is
    how it is computed from moments (no cancellation: each part keeps its own sum of squares).
    """
    if isinstance(data, Moments):
        if data.parts is None:
            raise ValueError("the training set does not record which samples are real")
        real, synthetic = data.parts
        w_real, w_synthetic = part_weights(np.full(data.mean.shape, real.n),
                                           np.full(data.mean.shape, synthetic.n), real_weight)
        m_r = real.mean if real.n else np.zeros_like(data.mean)
        m_s = synthetic.mean if synthetic.n else np.zeros_like(data.mean)
        v_r = real.m2 / real.n if real.n else np.zeros_like(data.mean)
        v_s = synthetic.m2 / synthetic.n if synthetic.n else np.zeros_like(data.mean)
        mean = w_real * m_r + w_synthetic * m_s
        var = w_real * v_r + w_synthetic * v_s + w_real * w_synthetic * (m_r - m_s) ** 2
        return mean, var
    x, is_real = data.values, data.real
    if is_real is None:
        raise ValueError("the training set does not record which samples are real")
    omega = sample_weights(is_real, real_weight)
    mean = (omega * x).sum(axis=1)
    var = (omega * (x - mean[:, None]) ** 2).sum(axis=1)
    return mean, var


def normal_moments(mean: np.ndarray, var: np.ndarray, n: int,
                   rng: np.random.Generator) -> Moments:
    """Exact moments of ``n`` draws from ``N(mean, var)`` without drawing them.

    The sample mean and the centred sum of squares of ``n`` normal draws are independent, with
    ``mean̂ ~ N(mean, var / n)`` and ``M2 ~ var · χ²_{n−1}`` (Cochran's theorem).
    """
    z = rng.standard_normal(mean.shape)
    chi2 = rng.chisquare(n - 1, mean.shape) if n > 1 else None
    with np.errstate(over="ignore", invalid="ignore"):  # a blown-up model (var = inf): inf
        sample_mean = mean + np.sqrt(var / n) * z
        m2 = var * chi2 if chi2 is not None else np.zeros_like(mean)
    return Moments(n, sample_mean, m2)


def normal_metrics(mean: np.ndarray, var: np.ndarray, mean0: float, var0: float) -> dict:
    """``mean, var, w2, kl, tail_mass`` of ``N(mean, var)`` against the truth ``N(mean0, var0)``.

    Notes
    -----
    * ``w2² = (μ − μ₀)² + (σ − σ₀)²``;
    * ``kl = KL(truth ‖ fitted) = ln(σ/σ₀) + (σ₀² + (μ − μ₀)²) / (2σ²) − ½``, infinite when the
      fitted variance is exactly zero (a point mass cannot cover the truth);
    * ``tail_mass = Φ((L − μ)/σ) + Φ((μ − U)/σ)`` with ``[L, U] = μ₀ ∓ z_{0.995} σ₀``; for σ = 0
      it is 1 when μ lies outside ``[L, U]`` and 0 otherwise.
    """
    from scipy import special  # only here: keeps scipy out of every run's start-up

    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    sd, sd0 = np.sqrt(var), np.sqrt(var0)
    lo, hi = mean0 - Z_995 * sd0, mean0 + Z_995 * sd0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kl = np.where(var > 0,
                      np.log(sd / sd0) + (var0 + (mean - mean0) ** 2) / (2 * var) - 0.5,
                      np.inf)
        tail = np.where(var > 0,
                        special.ndtr((lo - mean) / sd) + special.ndtr((mean - hi) / sd),
                        ((mean < lo) | (mean > hi)).astype(float))
    return {
        "mean": mean,
        "var": var,
        "w2": np.hypot(mean - mean0, sd - sd0),
        "kl": kl,
        "tail_mass": tail,
    }


@FAMILIES.register
@dataclass(frozen=True)
class Gaussian(Family):
    """A normal distribution refitted by the sample mean and variance.

    Parameters
    ----------
    mean, std
        The truth ``N(mean, std²)``: ``|mean| ≤ 1e50``, ``1e-50 ≤ std ≤ 1e50`` and
        ``std ≥ 1e-10 |mean|`` (:data:`~modelcollapse.validation.SCALE_LIMIT`,
        :data:`~modelcollapse.validation.RESOLUTION`): beyond, squares and differences overflow,
        or float64 does not resolve the samples.
    estimator
        ``"mle"`` divides the sum of squares by ``N``; ``"unbiased"`` by ``N − 1``.
    shortcut
        Under policies that never subsample (``replace``, ``accumulate``, ``augment``, ``mix``
        without carry-over) hold training sets as exact moments instead of samples: the sample
        mean is normal and the sum of squares a scaled chi-square, so a generation costs O(1)
        instead of O(N) per replicate.
    sampling_scale
        ``λ``: the model is sampled from ``N(mean, λ² var)`` (the truth never is). ``λ < 1`` is
        a bias towards typical samples (low temperature, truncation, guidance), ``λ > 1`` the
        opposite; Alemohammad et al.'s sampling bias.
    real_weight
        ``None``: every sample counts once. ``w``: the weighted MLE in which the real samples
        together carry weight ``W_r = w`` and the synthetic ones ``W_s = 1 − w``
        (:func:`~modelcollapse.training_sets.part_weights`):
        ``mean = W_r m_r + W_s m_s`` and
        ``var = W_r v_r + W_s v_s + W_r W_s (m_r − m_s)²`` with each part's own mean ``m`` and
        MLE variance ``v``. With ``w = n_r / n`` this is the unweighted fit. He, Xu and Cheng's
        setting (arXiv:2502.18049).
    refit
        (``--fit``) ``"mean-var"`` fits both; ``"mean"`` knows the variance (the truth's) and
        refits only the mean, as in He, Xu and Cheng's Gaussian mean estimation.

    Notes
    -----
    Metrics: ``mean``, ``var``, ``w2``, ``kl``, ``tail_mass`` (closed forms, see
    :func:`normal_metrics`). A fitted variance of exactly 0 is absorbing and recorded as such;
    so is one that overflows (possible only with ``sampling_scale > 1``): ``var = w2 = kl =
    inf``, ``tail_mass = 1``, the mean kept at its last finite value.
    """

    name: ClassVar[str] = "gaussian"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 100, "n_generations": 500,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("var", "mean", "w2", "tail_mass")
    cost_ns: ClassVar[tuple[float, float]] = (12.0, 10.0)  # measured, see Family.cost_ns
    curators: ClassVar[tuple[str, ...]] = CONTINUOUS_CURATORS
    shiftable_belief: ClassVar[bool] = True
    reward_words: ClassVar[str] = CONTINUOUS_REWARDS
    default_reward: ClassVar[str | None] = "truth"

    mean: float = option(0.0, flag="mean",
                         help=f"mean of the true normal, {LOCATION_RANGE} (default 0)")
    std: float = option(1.0, flag="std",
                        help=f"standard deviation of the true normal, {SCALE_RANGE} and at "
                             f"least {RESOLUTION:g} × |mean| (default 1)")
    estimator: str = option("mle", flag="estimator", kind="str", choices=("mle", "unbiased"),
                            help="variance estimator: mle (divide by N) or unbiased (N - 1)")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="use exact sufficient statistics where the policy allows")
    sampling_scale: float = sampling_scale_option()
    real_weight: float | None = real_weight_option()
    refit: str = option("mean-var", flag="fit", kind="str", choices=FITS, neutral=True,
                      help="what is refitted: mean-var (both) or mean (the variance known)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", check_location("mean", self.mean))
        check_float("std", self.std, low=0.0, low_open=True, what="a number > 0")
        object.__setattr__(self, "std", check_scale("std", self.std))
        if not resolved(self.std, self.mean):
            raise ConfigError("std", f"must be at least {RESOLUTION:g} × |mean| (float64 cannot "
                              f"resolve a narrower normal at mean {self.mean:g})", self.std)
        check_choice("estimator", self.estimator, ("mle", "unbiased"))
        check_choice("refit", self.refit, FITS)
        object.__setattr__(self, "sampling_scale", check_sampling_scale(self.sampling_scale))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        if self.estimator == "unbiased" and self.real_weight is not None:
            raise ConfigError("estimator", "must be mle when real data are weighted (the "
                              "weighted fit is a maximum-likelihood fit)", self.estimator)
        if self.estimator == "unbiased" and self.refit == "mean":
            raise ConfigError("estimator", "does not apply when only the mean is fitted (the "
                              "variance is known, not estimated)", self.estimator)

    def idle_settings(self) -> dict[str, str]:
        if self.refit == "mean":
            why = "with fit mean ({}: the variance is known, never refitted)"
            return {"estimator": why.format("it chooses how the variance is estimated"),
                    "collapse_fraction": why.format("it sets the variance's collapse time")}
        return super().idle_settings()

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("mean", "var", "w2", "kl", "tail_mass")

    def truth(self) -> np.ndarray:
        return np.array([self.mean, self.std**2])

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        return self.shortcut and not policy.needs_subsample(n_samples)

    def block_size(self, policy: Policy, n_samples: int) -> int:
        if self.uses_sufficient_statistics(policy, n_samples):
            return 4096
        return block_for(n_samples, budget=1 << 14, cap=256)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if self.estimator == "unbiased" and n_samples < 2:
            raise ConfigError("n_samples", "must be ≥ 2 for the unbiased estimator", n_samples)

    def sampling_params(self, params):
        if self.sampling_scale == 1.0:
            return params
        return scale_variances(params, self.sampling_scale, column=1)

    def sample(self, params, n, rng, *, stats):
        mean, var = params[:, 0], params[:, 1]
        if stats:
            return normal_moments(mean, var, n, rng)
        z = rng.standard_normal((params.shape[0], n))
        return Samples(mean[:, None] + np.sqrt(var)[:, None] * z)

    def fit(self, data, *, rng, previous):
        # A sampling scale above 1 can grow the variance past the largest float; that model has
        # blown up: recorded as var = inf with its last finite mean (absorbing), never a NaN.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.real_weight is not None:
                mean, var = weighted_normal_fit(data, self.real_weight)
            else:
                if isinstance(data, Moments):
                    mean, m2 = data.mean, data.m2
                else:
                    x = data.values
                    mean = x.mean(axis=1)
                    m2 = ((x - mean[:, None]) ** 2).sum(axis=1)
                divisor = data.size if self.estimator == "mle" else data.size - 1
                var = m2 / divisor
        if self.refit == "mean":
            var = np.full_like(mean, self.std**2)
        blown = ~(np.isfinite(mean) & np.isfinite(var))
        if blown.any():
            mean = np.where(blown, previous[:, 0], mean)
            var = np.where(blown, np.inf, var)
        return np.stack([mean, var], axis=1), {}

    def derived(self, metrics, *, collapse_fraction):
        if self.refit == "mean":
            return {}  # the variance is known and never moves: there is no collapse to time
        return super().derived(metrics, collapse_fraction=collapse_fraction)

    def metrics(self, params, info=None):
        return normal_metrics(params[..., 0], params[..., 1], self.mean, self.std**2)

    # -- curation: each sample is a unit ------------------------------------------------------

    def draw_units(self, params, k, rng):
        return self.sample(params, k, rng, stats=False)

    def training_form(self, units, n, *, stats):
        if not stats:
            return units
        x = units.values
        mean = x.mean(axis=1)
        return Moments(x.shape[1], mean, ((x - mean[:, None]) ** 2).sum(axis=1))

    def unit_log_likelihood(self, params, units):
        return normal_logpdf(units.values, params[:, :1], params[:, 1:2])

    def truth_log_likelihood(self, units):
        return normal_logpdf(units.values, self.mean, self.std**2)

    def belief_log_relative(self, units, shift):
        return -0.5 * (units.values - self.mean - shift) ** 2 / self.std**2

    def reward(self, spec):
        var0 = self.std**2

        def truth_expected(params):
            mean, var = params[..., 0], params[..., 1]
            with np.errstate(over="ignore", invalid="ignore"):
                return -0.5 * (np.log(2 * np.pi * var0) + (var + (mean - self.mean) ** 2) / var0)

        return continuous_reward(spec, self.name, truth_expected=truth_expected,
                                 log_truth=lambda x: normal_logpdf(x, self.mean, var0),
                                 moments=lambda p: (p[..., 0], p[..., 1]))

    def describe(self) -> str:
        fit = "mean-only fit (variance known)" if self.refit == "mean" else f"{self.estimator} fit"
        return (f"gaussian N({self.mean:g}, {self.std:g}²), {fit}"
                + loop_setting_words(sampling_scale=self.sampling_scale,
                                     real_weight=self.real_weight))
