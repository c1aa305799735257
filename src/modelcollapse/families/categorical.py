"""Categorical tokens: a unigram language model over ``V`` tokens refitted to its own samples.

The truth is Zipf(s), ``q_v ∝ v^(−s)`` for ``v = 1..V``, or explicit probabilities. The fit is the
token frequencies (maximum likelihood), so a token that draws no sample gets probability zero and,
under ``replace``, never returns: the tail of the vocabulary disappears first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from ..errors import ConfigError
from ..events import FIXATION, Event
from ..policies import Policy
from ..rewards import Reward, reward_values, token_reward, unknown_reward
from ..validation import check_float, check_int, check_real_weight
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
    draw_counts,
    draw_tokens,
    frequencies,
    rarest_tokens,
    tempered,
    token_log_likelihood,
    tokens_as_training,
    truth_token_log_likelihood,
)

#: ``rare_mass`` follows the truth's rarest tokens that together hold this share of its mass.
RARE_SHARE = 0.1


@lru_cache(maxsize=8)
def zipf_probabilities(n_tokens: int, exponent: float) -> np.ndarray:
    """``q_v = v^(−s) / Σ_u u^(−s)`` for ``v = 1..n_tokens``, cached and read-only: every
    generation's metrics compare the fit with it, and recomputing ``V`` powers each time cost
    more than the rest of a generation at large ``V``."""
    weights = np.arange(1, n_tokens + 1, dtype=float) ** (-exponent)
    q = weights / weights.sum()
    q.flags.writeable = False
    return q


@FAMILIES.register
@dataclass(frozen=True)
class Categorical(Family):
    """Token frequencies refitted by maximum likelihood.

    Parameters
    ----------
    vocab
        Number of tokens ``V`` (taken from ``probs`` when those are given).
    zipf
        Zipf exponent ``s`` of the truth (default 1).
    probs
        Explicit true probabilities instead of Zipf (normalised if they sum to 1 within 1e-9).
    shortcut
        Keep training sets as token counts (exact); ``False`` keeps every token.
    temperature
        The model is sampled from ``q^(1/τ)`` renormalised (:func:`~.discrete.tempered`; the
        n-gram family's temperature means the same); the truth is never tempered. Marchi et
        al.'s heat death: without fresh data ``τ < 1`` drives the loop to a point mass and
        ``τ > 1`` towards uniform over the surviving tokens.
    real_weight
        ``None``: every token counts once. ``w``: the weighted MLE
        ``q_v = w c^real_v / n_real + (1 − w) c^synthetic_v / n_synthetic``.

    Notes
    -----
    Metrics: ``entropy`` (nats), ``support`` (tokens with nonzero probability), ``tv`` (total
    variation distance to the truth) and ``gini_simpson`` (``1 − Σ q_v²``, the probability that
    two draws differ: under ``replace`` its expectation decays by exactly ``1 − 1/N`` per
    generation, so it is the diversity measure theory predicts for every policy). Derived per
    replicate: ``fixation_time``, the first generation with a single surviving token.
    """

    name: ClassVar[str] = "categorical"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 1000, "n_generations": 500,
                                                "n_replicates": 100}
    key_metrics: ClassVar[tuple[str, ...]] = ("support", "entropy", "gini_simpson", "tv",
                                              "rare_mass")
    # measured (see Family.cost_ns) at V = 10²…4·10⁶ with the counts drawn and the metrics
    # taken over the surviving tokens: about 20 ns per token, plus a few µs per generation
    cost_ns: ClassVar[tuple[float, float]] = (30.0, 25.0)
    generation_ns: ClassVar[float] = 3_000.0
    event: ClassVar[Event] = FIXATION
    collapse_metric: ClassVar[str | None] = None
    curators: ClassVar[tuple[str, ...]] = DISCRETE_CURATORS
    reward_words: ClassVar[str] = "V comma-separated values, rank (r_v = -v/V) or truth (log q_v)"
    default_reward: ClassVar[str | None] = "truth"

    # vocab and zipf given as None are resolved in __post_init__ and typed as resolved.
    vocab: int = option(None, flag="vocab", kind="int",
                               help="number of tokens V (default 100)")
    zipf: float = option(None, flag="zipf",
                                help="Zipf exponent s of the truth, q_v ∝ v^-s (default 1)")
    probs: tuple[float, ...] | None = option(None, flag="probs", kind="floats",
                                             help="explicit true probabilities, comma-separated")
    shortcut: bool = option(True, flag="shortcut", kind="bool",
                            help="hold training sets as token counts, exact (default true)")
    temperature: float = temperature_option()
    real_weight: float | None = real_weight_option()

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", check_temperature(self.temperature))
        object.__setattr__(self, "real_weight", check_real_weight(self.real_weight))
        if self.probs is not None:
            if self.zipf is not None:
                raise ConfigError("zipf", "cannot be combined with probs (they are alternatives)")
            probs = np.asarray(self.probs, dtype=float)
            if probs.ndim != 1 or probs.size < 2:
                raise ConfigError("probs", "must list at least 2 probabilities", self.probs)
            if not np.all(np.isfinite(probs)) or np.any(probs < 0):
                raise ConfigError("probs", "must be finite and ≥ 0", self.probs)
            if abs(probs.sum() - 1.0) > 1e-9:
                raise ConfigError("probs", "must sum to 1", float(probs.sum()))
            if self.vocab is not None and self.vocab != probs.size:
                raise ConfigError("vocab", f"must equal the number of probs ({probs.size})",
                                  self.vocab)
            object.__setattr__(self, "probs", tuple(float(p) for p in probs / probs.sum()))
            object.__setattr__(self, "vocab", probs.size)
        else:
            vocab = 100 if self.vocab is None else check_int("vocab", self.vocab, minimum=2)
            zipf = 1.0 if self.zipf is None else check_float("zipf", self.zipf, low=0.0,
                                                             what="a number ≥ 0")
            object.__setattr__(self, "vocab", vocab)
            object.__setattr__(self, "zipf", zipf)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (self.vocab,)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("entropy", "support", "tv", "gini_simpson", "rare_mass")

    def truth(self) -> np.ndarray:
        if self.probs is not None:
            return np.asarray(self.probs)
        return zipf_probabilities(self.vocab, self.zipf)

    def uses_sufficient_statistics(self, policy: Policy, n_samples: int) -> bool:
        return self.shortcut

    def block_size(self, policy: Policy, n_samples: int) -> int:
        stats = self.uses_sufficient_statistics(policy, n_samples)
        per_replicate = self.vocab if stats else n_samples
        return block_for(per_replicate, budget=1 << 16, cap=256)

    def sampling_params(self, params):
        return tempered(params, self.temperature)

    def sample(self, params, n, rng, *, stats):
        return draw_counts(params, n, rng) if stats else draw_tokens(params, n, rng)

    def fit(self, data, *, rng, previous):
        return frequencies(data, self.vocab, self.real_weight), {}

    def metrics(self, params, info=None):
        q = np.asarray(params, dtype=float)
        # Logarithms of the surviving tokens only (after a few generations a handful of the V),
        # written into zeros and summed as before, so the numbers are the same.
        alive = q > 0
        plogp = np.zeros(q.shape)
        kept = q[alive]
        plogp[alive] = kept * np.log(kept)
        gap = q - self.truth()
        np.abs(gap, out=gap)
        return {
            "entropy": 0.0 - plogp.sum(axis=-1),  # 0 − 0 = +0 for a point mass, not −0
            "support": np.count_nonzero(alive, axis=-1).astype(float),
            "tv": 0.5 * gap.sum(axis=-1),
            "gini_simpson": 1.0 - np.einsum("...v,...v->...", q, q),
            "rare_mass": self._rare_mass(alive),
        }

    def _rare_mass(self, alive: np.ndarray) -> np.ndarray:
        """The share of the truth's rarest 10% of mass whose tokens the model still has."""
        truth = self.truth()
        rare = rarest_tokens(truth, RARE_SHARE)
        weight = np.where(rare, truth, 0.0)
        return (alive @ weight) / weight.sum()

    def derived(self, metrics, *, collapse_fraction):
        return {self.event.column: first_generation(metrics["support"] <= 1)}

    # -- curation: each token is a unit -------------------------------------------------------

    def draw_units(self, params, k, rng):
        return draw_tokens(params, k, rng)

    def training_form(self, units, n, *, stats):
        return tokens_as_training(units, self.vocab, stats=stats)

    def unit_log_likelihood(self, params, units):
        return token_log_likelihood(params, units)

    def truth_log_likelihood(self, units):
        return truth_token_log_likelihood(self.truth(), units)

    def belief_log_relative(self, units, shift):
        return belief_token_log_relative(self.truth(), units)

    def reward(self, spec: str) -> Reward:
        v = self.vocab
        if spec == "rank":
            return token_reward(spec, -np.arange(1, v + 1) / v, "reward: -v/V (rank)")
        if spec == "truth":
            with np.errstate(divide="ignore"):
                values = np.log(self.truth())
            if not np.all(np.isfinite(values)):
                raise ConfigError("reward", "truth needs every true probability > 0 (log q_v "
                                  "is -inf for a token of probability 0)", spec)
            return token_reward(spec, values, "reward: log q_v (the truth's)")
        if "," not in spec and v > 1:
            try:
                float(spec)
            except ValueError:
                raise unknown_reward(spec, self.name, self.reward_words.replace(
                    "V comma", f"{v} comma", 1)) from None
        values = reward_values(spec, v, what=f"{v} comma-separated numbers (one per token), "
                                             "rank or truth")
        return token_reward(spec, values, "reward: per token as given")

    def describe(self) -> str:
        extra = loop_setting_words(temperature=self.temperature, real_weight=self.real_weight)
        if self.probs is not None:
            return f"categorical, V = {self.vocab}, explicit probabilities{extra}"
        return f"categorical, V = {self.vocab}, Zipf s = {self.zipf:g}{extra}"
