"""The unigram coin: Bernoulli(p) re-estimated from its own tosses.

Under ``replace`` the count of heads is a Wright–Fisher chain with ``k`` = ``n_samples`` gene
copies: ``k p_t ~ Binomial(k, p_{t−1})``. It drifts until it is absorbed at 0 or 1; with
accumulating data it becomes a Pólya-urn-like process that is almost never absorbed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..events import ABSORBED_AT, ABSORPTION, Event
from ..policies import Policy
from ..rewards import Reward, reward_values
from ..training_sets import Counts, Samples
from ..validation import check_float, check_real_weight
from . import FAMILIES
from .base import (
    Family,
    first_generation,
    loop_setting_words,
    option,
    real_weight_option,
    temperature_option,
)
from .discrete import (
    DISCRETE_CURATORS,
    belief_token_log_relative,
    block_for,
    check_temperature,
    frequencies,
    tempered,
    token_log_likelihood,
    tokens_as_training,
    truth_token_log_likelihood,
)


def _sides(p: np.ndarray) -> np.ndarray:
    """``[1 − p, p]`` along a new last axis: the coin as a categorical over (tails, heads)."""
    p = np.asarray(p, dtype=float)
    return np.stack([1.0 - p, p], axis=-1)


@FAMILIES.register
@dataclass(frozen=True)
class Coin(Family):
    """A coin (Bernoulli) refitted by maximum likelihood, ``p̂ = heads / k``.

    Parameters
    ----------
    p0
        The true probability of heads.
    shortcut
        Keep each training set as its count of heads (exact); ``False`` keeps every toss.
    temperature
        The model is sampled at temperature ``τ``: heads with probability
        ``p^(1/τ) / (p^(1/τ) + (1 − p)^(1/τ))`` (``τ < 1`` pushes ``p`` towards the nearer of 0
        and 1, ``τ > 1`` towards ½; the truth is always tossed at ``p0``). The head count stays
        an exact ``(k + 1)``-state chain (:mod:`modelcollapse.theory.coin`).
    real_weight
        ``None``: every toss counts once. ``w``: the weighted MLE
        ``p̂ = w · heads_real / n_real + (1 − w) · heads_synthetic / n_synthetic``
        (:func:`~modelcollapse.families.discrete.frequencies`); needs a policy with real data
        in every training set.

    Notes
    -----
    Metric ``p``. Derived per replicate: ``absorption_time``, the first generation with
    ``p ∈ {0, 1}`` (``NaN`` if not absorbed within the run), and ``absorbed_at``, the boundary
    (0 or 1) it hit then. Under ``replace`` both are final; with fresh real data a coin at 0 or 1
    can drift back, and these still record the first hit.
    """

    name: ClassVar[str] = "coin"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 10, "n_generations": 60,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("p",)
    cost_ns: ClassVar[tuple[float, float]] = (6.0, 5.0)  # measured, see Family.cost_ns
    event: ClassVar[Event] = ABSORPTION
    collapse_metric: ClassVar[str | None] = None
    curators: ClassVar[tuple[str, ...]] = DISCRETE_CURATORS
    reward_words: ClassVar[str] = "r0,r1 (the rewards of tails and heads)"

    p0: float = option(0.5, flag="p0", help="true probability of heads (default 0.5)")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="hold training sets as exact sufficient statistics (counts, "
                                 "moments) where the policy allows (default true)")
    temperature: float = temperature_option()
    real_weight: float | None = real_weight_option()

    def __post_init__(self) -> None:
        object.__setattr__(self, "p0", check_float("p0", self.p0, low=0.0, high=1.0,
                                                    what="a probability between 0 and 1"))
        object.__setattr__(self, "temperature", check_temperature(self.temperature))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))

    @property
    def param_shape(self) -> tuple[int, ...]:
        return ()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("p",)

    def truth(self) -> np.ndarray:
        return np.array(self.p0)

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        return self.shortcut

    def block_size(self, policy: Policy, n_samples: int) -> int:
        if self.uses_sufficient_statistics(policy, n_samples):
            return 4096
        return block_for(n_samples, budget=1 << 16, cap=4096)

    def sampling_params(self, params):
        if self.temperature == 1.0:
            return params
        p = np.asarray(params, dtype=float)
        return tempered(np.stack([1.0 - p, p], axis=-1), self.temperature)[..., 1]

    def sample(self, params, n, rng, *, stats):
        if stats:
            # Only rollouts still drifting need a draw: at p = 0 or 1 the count is certain, and
            # most rollouts are absorbed within a few dozen generations. (numpy, not a numba
            # kernel: the coin never pays numba's 0.4 s start-up.)
            heads = np.where(params >= 1.0, n, 0)
            drifting = np.flatnonzero((params > 0.0) & (params < 1.0))
            if drifting.size:
                heads[drifting] = rng.binomial(n, params[drifting])
            return Counts(np.stack([n - heads, heads], axis=1))
        return Samples((rng.random((params.shape[0], n)) < params[:, None]).astype(np.int8))

    def fit(self, data, *, rng, previous):
        return frequencies(data, 2, self.real_weight)[:, 1], {}

    def metrics(self, params, info=None):
        return {"p": np.asarray(params, dtype=float)}

    def derived(self, metrics, *, collapse_fraction):
        p = metrics["p"]
        time = first_generation((p == 0.0) | (p == 1.0))
        hit = np.nan_to_num(time).astype(int)
        boundary = p[np.arange(p.shape[0]), hit]
        return {self.event.column: time,
                ABSORBED_AT: np.where(np.isnan(time), np.nan, boundary)}

    # -- curation: each toss is a unit --------------------------------------------------------

    def draw_units(self, params, k, rng):
        return self.sample(params, k, rng, stats=False)

    def training_form(self, units, n, *, stats):
        return tokens_as_training(units, 2, stats=stats)

    def unit_log_likelihood(self, params, units):
        return token_log_likelihood(_sides(params), units)

    def truth_log_likelihood(self, units):
        return truth_token_log_likelihood(_sides(self.p0), units)

    def belief_log_relative(self, units, shift):
        return belief_token_log_relative(_sides(self.p0), units)

    def reward(self, spec: str) -> Reward:
        values = reward_values(spec, 2, what="2 numbers r0,r1 (the rewards of tails and heads)")

        def score(units):
            return values[np.asarray(units.values, dtype=np.int64)]

        def expected(params):
            return _sides(params) @ values

        return Reward(spec, score, expected,
                      f"reward: {values[0]:g} for tails, {values[1]:g} for heads")

    def describe(self) -> str:
        return f"coin, p0 = {self.p0:g}" + loop_setting_words(temperature=self.temperature,
                                                              real_weight=self.real_weight)
