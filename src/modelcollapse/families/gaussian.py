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
from ..training_sets import Moments, Samples
from ..validation import check_choice, check_float
from . import FAMILIES
from .base import Family, option
from .discrete import block_for

#: Standard-normal quantile bounding the central 99% interval, Φ⁻¹(0.995).
Z_995 = 2.5758293035489004


def normal_moments(mean: np.ndarray, var: np.ndarray, n: int,
                   rng: np.random.Generator) -> Moments:
    """Exact moments of ``n`` draws from ``N(mean, var)`` without drawing them.

    The sample mean and the centred sum of squares of ``n`` normal draws are independent, with
    ``mean̂ ~ N(mean, var / n)`` and ``M2 ~ var · χ²_{n−1}`` (Cochran's theorem).
    """
    z = rng.standard_normal(mean.shape)
    sample_mean = mean + np.sqrt(var / n) * z
    m2 = var * rng.chisquare(n - 1, mean.shape) if n > 1 else np.zeros_like(mean)
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
        The truth ``N(mean, std²)``.
    estimator
        ``"mle"`` divides the sum of squares by ``N``; ``"unbiased"`` by ``N − 1``.
    shortcut
        Under policies that never subsample (``replace``, ``accumulate``, ``mix`` without
        carry-over) hold training sets as exact moments instead of samples: the sample mean is
        normal and the sum of squares a scaled chi-square, so a generation costs O(1) instead of
        O(N) per replicate.

    Notes
    -----
    Metrics: ``mean``, ``var``, ``w2``, ``kl``, ``tail_mass`` (closed forms, see
    :func:`normal_metrics`). A fitted variance of exactly 0 is absorbing and recorded as such.
    """

    name: ClassVar[str] = "gaussian"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 100, "n_generations": 500,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("var", "mean", "w2", "tail_mass")
    cost_ns: ClassVar[tuple[float, float]] = (12.0, 10.0)  # measured, see Family.cost_ns

    mean: float = option(0.0, flag="mean", help="mean of the true normal (default 0)")
    std: float = option(1.0, flag="std", help="standard deviation of the true normal (default 1)")
    estimator: str = option("mle", flag="estimator", kind="str", choices=("mle", "unbiased"),
                            help="variance estimator: mle (divide by N) or unbiased (N - 1)")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="use exact sufficient statistics where the policy allows")

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", check_float("mean", self.mean, what="a finite number"))
        object.__setattr__(self, "std", check_float("std", self.std, low=0.0, low_open=True,
                                                    what="a number > 0"))
        check_choice("estimator", self.estimator, ("mle", "unbiased"))

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

    def sample(self, params, n, rng, *, stats):
        mean, var = params[:, 0], params[:, 1]
        if stats:
            return normal_moments(mean, var, n, rng)
        z = rng.standard_normal((params.shape[0], n))
        return Samples(mean[:, None] + np.sqrt(var)[:, None] * z)

    def fit(self, data, *, rng, previous):
        if isinstance(data, Moments):
            mean, m2 = data.mean, data.m2
        else:
            x = data.values
            mean = x.mean(axis=1)
            m2 = ((x - mean[:, None]) ** 2).sum(axis=1)
        divisor = data.size if self.estimator == "mle" else data.size - 1
        return np.stack([mean, m2 / divisor], axis=1), {}

    def metrics(self, params, info=None):
        return normal_metrics(params[..., 0], params[..., 1], self.mean, self.std**2)

    def describe(self) -> str:
        return f"gaussian N({self.mean:g}, {self.std:g}²), {self.estimator} fit"
