"""Curation: the synthetic part of a training set is selected from candidates of the last model.

Whatever the data policy, every sample of model *t − 1* that goes into training set *t* is made
here. Fresh real data and carried-over data are never curated. With ``S`` the number of units
the policy asks for (samples; for a sequence family, sequences: ``Family.curation_units``):

==============  ==============================================================================
``none``        ``S`` units drawn from the model, kept as they are.
``best-of``     ``K`` candidates per kept unit; one of them is kept with probability
                ``∝ exp(r(x))`` (K-wise Bradley–Terry, Ferbach et al. [1]_). ``K = 1`` is no
                curation, exactly.
``verifier``    candidates are drawn and each kept with probability
                ``a(x) = ε + (1 − ε) (b(x) / max b)^s``, ``b`` the verifier's belief (the
                truth, its location shifted by ``δ`` for an imperfect verifier, Yi et al.
                [2]_), ``s`` the strictness and ``ε`` a false-accept rate (Feng et al. [3]_);
                rejected candidates are redrawn until ``S`` are kept.
``top``         ``⌈S/q⌉`` candidates, the ``S`` with the highest likelihood under the model
                itself kept (perplexity filtering); ``q = 1`` is no curation, exactly.
``bottom``      the same, keeping the ``S`` with the *lowest* likelihood.
``reweight``    ``⌈S/q⌉`` candidates, ``S`` resampled from them with replacement with weights
                ``(p_truth(x) / p_model(x))^β``: importance resampling by a detector whose score
                is the exact likelihood ratio (Drayson et al. [4]_), tempered by ``β``.
==============  ==============================================================================

Order of random draws (part of the reproducibility guarantee; every draw comes from the block's
generator, for all replicates of the block at once, in this order):

* ``best-of``: the ``S·K`` candidates (candidate ``j`` of kept unit ``i`` is draw ``i·K + j``),
  then ``S`` uniforms, one per kept unit, that choose among its ``K`` candidates by inversion.
* ``verifier``: rounds. Each round draws ``c`` candidates per replicate and then ``c``
  uniforms; candidate ``x`` is accepted when its uniform is below ``a(x)``. Each replicate keeps
  its first ``S`` accepted candidates in draw order. The first round has ``c = S``; each later
  one ``c = min(8S, ⌈1.2 m / α⌉)`` with ``m`` the most units any replicate of the block still
  lacks and ``α`` the block's acceptance rate so far (at least ``1 / (8S)``). After
  :data:`MAX_CANDIDATES` ``× S`` candidates a replicate still short is filled with its earliest
  rejected candidates (its ``accept_rate`` shows it).
* ``top``, ``bottom``: the ``⌈S/q⌉`` candidates and nothing else (ties in likelihood go to the
  earlier draw, which for exchangeable candidates is a uniformly random tie-break).
* ``reweight``: the ``⌈S/q⌉`` candidates, then ``S`` uniforms that pick by inversion of the
  weights' cumulative sum.

So a run with curation is a deterministic function of (config, seed), like every run.

The kept units are in the order of their slots (``best-of``), of acceptance (``verifier``), of
draw (``top``, ``bottom``) or of their uniforms (``reweight``).

References
----------
.. [1] D. Ferbach, Q. Bertrand, A. J. Bose, G. Gidel, "Self-consuming generative models with
   curated data provably optimize human preferences", NeurIPS 2024, arXiv:2407.09499.
.. [2] B. Yi, Q. Liu, Y. Cheng, H. Xu, "Escaping model collapse via synthetic data
   verification: near-term improvements and long-term convergence", ICLR 2026,
   arXiv:2510.16657.
.. [3] Y. Feng, E. Dohmatob, P. Yang, F. Charton, J. Kempe, "Beyond model collapse: scaling up
   with synthesized data requires verification", arXiv:2406.07515 (2024).
.. [4] G. Drayson, E. Yilmaz, V. Lampos, "Machine-generated text detection prevents language
   model collapse", EMNLP 2025, arXiv:2502.15654.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import ConfigError
from .families.base import Family
from .registry import Registry
from .rewards import Reward
from .training_sets import Dataset, concat
from .validation import check_float, check_int

#: Candidates per kept unit after which a verifier stops redrawing (see the module notes).
MAX_CANDIDATES = 64

#: Most candidates per kept unit in one verifier round.
ROUND_FACTOR = 8

#: The largest K of best-of and the smallest q of top/bottom/reweight: 1000 candidates per kept
#: unit, far beyond the literature's K ≤ 16 and a bound on a generation's memory.
MAX_K = 1000


@dataclass(frozen=True)
class Curated:
    """The synthetic units a curator kept, with its bookkeeping.

    Attributes
    ----------
    units
        The kept units (raw: ``Samples`` or ``Sequences``), ``S`` per replicate.
    candidates
        Candidates drawn per replicate, ``[R]`` (the kept share is ``S / candidates``).
    """

    units: Dataset
    candidates: np.ndarray


class Curator(ABC):
    """How the synthetic part of a training set is selected. Small frozen dataclasses."""

    name: ClassVar[str]
    #: Whether the curator scores candidates by the run's reward.
    uses_reward: ClassVar[bool] = False

    @property
    def is_identity(self) -> bool:
        """Whether the curator keeps every draw as it is (then the run is uncurated, exactly)."""
        return False

    @property
    def candidates_per_unit(self) -> float:
        """Candidates drawn per kept unit, or a typical number where it depends on the data (the
        verifier's): for time and memory estimates only."""
        return 1.0

    def params(self) -> dict[str, Any]:
        """The curator's settings (manifests, stream keys)."""
        return {f.name: getattr(self, f.name)
                for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def describe(self) -> str:
        settings = ", ".join(f"{k} = {v:g}" for k, v in self.params().items())
        return f"{self.name} ({settings})" if settings else self.name

    def check_family(self, family: Family) -> None:
        """Raise :class:`ConfigError` if ``family`` cannot be curated this way."""
        if self.name not in family.available_curators:
            supported = ", ".join(family.available_curators) or "none"
            raise ConfigError("curate", f"{self.name} is not available for family "
                              f"{family.name} (it takes: {supported})")

    @abstractmethod
    def curate(self, family: Family, fitted: np.ndarray, sampling: np.ndarray, n_units: int,
               rng: np.random.Generator, reward: Reward | None) -> Curated:
        """``n_units`` kept units per replicate of the model.

        Parameters
        ----------
        family
            The run's family (it draws, scores and selects units).
        fitted
            Parameters of model *t − 1*, ``[R, *param_shape]`` (its own likelihood: top, bottom).
        sampling
            The parameters candidates are drawn from (``family.sampling_params(fitted)``).
        n_units
            ``S``.
        rng
            The block's generator.
        reward
            The run's reward (``best-of``).
        """


CURATORS: Registry[Curator] = Registry("curate")


@CURATORS.register
@dataclass(frozen=True)
class NoCuration(Curator):
    """Every drawn unit is kept (the default)."""

    name: ClassVar[str] = "none"

    @property
    def is_identity(self) -> bool:
        return True

    def check_family(self, family: Family) -> None:
        return None

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        units = family.draw_units(sampling, n_units, rng)
        return Curated(units, np.full(units.n_replicates, n_units))


def _check_k(value: Any) -> int:
    bounds = f"must be an integer between 1 and {MAX_K}"
    try:
        k = check_int("curate_k", value, minimum=1)
    except ConfigError:
        raise ConfigError("curate_k", bounds, value) from None
    if k > MAX_K:
        raise ConfigError("curate_k", bounds, k)
    return k


def _check_keep(value: Any) -> float:
    return check_float("curate_keep", value, low=1.0 / MAX_K, high=1.0,
                       what=f"a fraction between {1.0 / MAX_K:g} and 1 (the share kept)")


def _pick(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the first ``cumulative[..., j] > u · total`` along the last axis (inversion)."""
    total = cumulative[..., -1:]
    picked = (cumulative <= u[..., None] * total).sum(axis=-1)
    return np.minimum(picked, cumulative.shape[-1] - 1)


def _invert(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row of ``cumulative[R, m]``, the indices picked by the uniforms ``u[R, S]``.

    One ``searchsorted`` over all rows: row ``r``'s normalised cumulative weights are shifted
    into ``(r, r + 1]`` and its uniforms into ``[r, r + 1)``, so the rows never mix.
    """
    rows, m = cumulative.shape
    offset = np.arange(rows, dtype=float)[:, None]
    shifted = (cumulative / cumulative[:, -1:] + offset).ravel()
    picked = np.searchsorted(shifted, (u + offset).ravel(), side="right").reshape(u.shape)
    return np.minimum(picked - (offset.astype(np.int64) * m), m - 1)


def _softmax_cumulative(scores: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``exp(scores − max)`` along the last axis (never all zero).

    Rows whose scores are all ``−∞`` (every candidate impossible under the weights) fall back to
    equal weights.
    """
    top = scores.max(axis=-1, keepdims=True)
    dead = ~np.isfinite(top)
    with np.errstate(invalid="ignore"):
        weights = np.exp(np.where(dead, 0.0, scores - np.where(dead, 0.0, top)))
    weights = np.where(np.isnan(weights), 0.0, weights)
    empty = weights.sum(axis=-1, keepdims=True) <= 0
    weights = np.where(empty, 1.0, weights)
    return np.cumsum(weights, axis=-1)


@CURATORS.register
@dataclass(frozen=True)
class BestOf(Curator):
    """Each kept unit is one of ``K`` candidates, chosen with probability ``∝ exp(r(x))``.

    With ``K → ∞`` the kept law tends to ``p_model(x) e^{r(x)} / E_model e^r`` (the model tilted
    by the reward); with ``K = 1`` the candidate is kept as it is.

    Parameters
    ----------
    k
        ``K`` (``--curate-k``), candidates per kept unit (default 4).
    """

    name: ClassVar[str] = "best-of"
    uses_reward: ClassVar[bool] = True
    k: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _check_k(self.k))

    @property
    def is_identity(self) -> bool:
        return self.k == 1

    @property
    def candidates_per_unit(self) -> float:
        return float(self.k)

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        k = self.k
        units = family.draw_units(sampling, n_units * k, rng)
        rows = units.n_replicates
        if k == 1:
            return Curated(units, np.full(rows, n_units))
        assert reward is not None
        scores = reward.score(units).reshape(rows, n_units, k)
        u = rng.random((rows, n_units))
        chosen = _pick(_softmax_cumulative(scores), u)
        index = np.arange(n_units)[None, :] * k + chosen
        return Curated(family.take_units(units, index), np.full(rows, n_units * k))


@CURATORS.register
@dataclass(frozen=True)
class Verifier(Curator):
    """Candidates kept with probability ``a(x) = ε + (1 − ε)(b(x) / max b)^s``; others redrawn.

    The kept law is ``p_model(x) a(x) / E_model a``. The oracle verifier (``δ = 0``, ``ε = 0``)
    believes the truth; with strictness ``s = 0`` it accepts everything.

    Parameters
    ----------
    strictness
        ``s ≥ 0`` (``--verifier-strictness``, default 1).
    shift
        ``δ`` (``--verifier-shift``): the belief is the truth moved by ``δ`` (continuous
        families; a biased verifier, whose "knowledge centre" is not the truth's).
    false_accept
        ``ε`` (``--verifier-false-accept``): a rejected candidate is accepted anyway with this
        probability (a noisy verifier).
    """

    name: ClassVar[str] = "verifier"
    strictness: float = 1.0
    shift: float = 0.0
    false_accept: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "strictness", check_float(
            "verifier_strictness", self.strictness, low=0.0, high=1e6,
            what="a number between 0 and 1e6"))
        object.__setattr__(self, "shift", check_float(
            "verifier_shift", self.shift, low=-1e6, high=1e6,
            what="a number between -1e6 and 1e6"))
        object.__setattr__(self, "false_accept", check_float(
            "verifier_false_accept", self.false_accept, low=0.0, high=1.0,
            what="a probability between 0 and 1"))

    @property
    def is_identity(self) -> bool:
        return self.strictness == 0.0 or self.false_accept == 1.0

    @property
    def candidates_per_unit(self) -> float:
        return 2.0

    def describe(self) -> str:
        # The flags' words; the settings left at 0 (no shift, no false accepts) are not named.
        parts = [f"strictness = {self.strictness:g}"]
        if self.shift:
            parts.append(f"shift = {self.shift:g}")
        if self.false_accept:
            parts.append(f"false-accept = {self.false_accept:g}")
        return f"{self.name} ({', '.join(parts)})"

    def check_family(self, family: Family) -> None:
        super().check_family(family)
        if self.shift != 0.0 and not family.shiftable_belief:
            raise ConfigError("verifier_shift", f"applies to continuous families, not "
                              f"{family.name} (a discrete verifier's belief is the truth; a "
                              "false-accept rate makes it noisy)", self.shift)

    def acceptance(self, family: Family, units: Dataset) -> np.ndarray:
        """``a(x)`` for each unit ``[R, c]``."""
        log_relative = family.belief_log_relative(units, self.shift)
        with np.errstate(under="ignore"):
            strict = np.exp(self.strictness * log_relative)
        return self.false_accept + (1.0 - self.false_accept) * strict

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        budget = MAX_CANDIDATES * n_units
        rounds: list[Dataset] = []
        accepted: list[np.ndarray] = []
        drawn = 0
        kept = None
        size = n_units
        while True:
            units = family.draw_units(sampling, size, rng)
            u = rng.random((units.n_replicates, size))
            rounds.append(units)
            accepted.append(u < self.acceptance(family, units))
            drawn += size
            ok = np.concatenate(accepted, axis=1)
            kept = ok.sum(axis=1)
            missing = int(np.maximum(n_units - kept, 0).max())
            if missing == 0 or drawn >= budget:
                break
            rate = max(ok.mean(), 1.0 / (ROUND_FACTOR * n_units))
            size = min(ROUND_FACTOR * n_units, budget - drawn, math.ceil(1.2 * missing / rate))
        pool = concat(rounds) if len(rounds) > 1 else rounds[0]
        # Accepted candidates first (in draw order), then the rejected ones (in draw order) as
        # the fill of a replicate that fell short: a stable sort on "not accepted".
        index = np.argsort(~ok, axis=1, kind="stable")[:, :n_units]
        rows = pool.n_replicates
        candidates = np.full(rows, drawn)
        # A replicate counts the candidates up to and including its S-th acceptance.
        done = kept >= n_units
        if done.any():
            position = np.cumsum(ok, axis=1)
            last = np.argmax(position >= n_units, axis=1) + 1
            candidates = np.where(done, last, drawn)
        return Curated(family.take_units(pool, index), candidates)


@dataclass(frozen=True)
class _Filter(Curator):
    """Shared by top and bottom: ``⌈S/q⌉`` candidates, ``S`` kept by the model's likelihood."""

    keep: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep", _check_keep(self.keep))

    @property
    def is_identity(self) -> bool:
        return self.keep == 1.0

    @property
    def candidates_per_unit(self) -> float:
        return 1.0 / self.keep

    #: +1 keeps the most likely, −1 the least likely.
    direction: ClassVar[int] = 1

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        m = min(math.ceil(n_units / self.keep - 1e-9), MAX_K * n_units)
        units = family.draw_units(sampling, m, rng)
        rows = units.n_replicates
        if m == n_units:
            return Curated(units, np.full(rows, m))
        loglik = family.unit_log_likelihood(fitted, units)
        # NaN (never expected) sorts last either way, so it is never preferred.
        key = np.where(np.isnan(loglik), np.inf, -self.direction * loglik)
        order = np.argsort(key, axis=1, kind="stable")[:, :n_units]
        return Curated(family.take_units(units, np.sort(order, axis=1)), np.full(rows, m))


@CURATORS.register
@dataclass(frozen=True)
class Top(_Filter):
    """Keep the ``S`` most likely of ``⌈S/q⌉`` candidates (perplexity filtering).

    Parameters
    ----------
    keep
        ``q`` (``--curate-keep``), the share of candidates kept (default 0.5).
    """

    name: ClassVar[str] = "top"
    direction: ClassVar[int] = 1


@CURATORS.register
@dataclass(frozen=True)
class Bottom(_Filter):
    """Keep the ``S`` least likely of ``⌈S/q⌉`` candidates (the opposite of perplexity filtering).

    Parameters
    ----------
    keep
        ``q`` (``--curate-keep``), the share of candidates kept (default 0.5).
    """

    name: ClassVar[str] = "bottom"
    direction: ClassVar[int] = -1


@CURATORS.register
@dataclass(frozen=True)
class Reweight(Curator):
    """``S`` resampled with replacement from ``⌈S/q⌉`` candidates, weighted ``(p_truth/p_model)^β``.

    As ``q → 0`` the kept law tends to ``p_model^(1−β) p_truth^β`` normalised: the truth itself at
    ``β = 1``.

    Parameters
    ----------
    keep
        ``q`` (``--curate-keep``): ``S`` kept per ``⌈S/q⌉`` candidates (default 0.5).
    power
        ``β ≥ 0`` (``--reweight-power``, default 1): the detector's score tempered.
    """

    name: ClassVar[str] = "reweight"
    keep: float = 0.5
    power: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep", _check_keep(self.keep))
        object.__setattr__(self, "power", check_float(
            "reweight_power", self.power, low=0.0, high=1e3, what="a number between 0 and 1000"))

    @property
    def candidates_per_unit(self) -> float:
        return 1.0 / self.keep

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        m = min(math.ceil(n_units / self.keep - 1e-9), MAX_K * n_units)
        units = family.draw_units(sampling, m, rng)
        rows = units.n_replicates
        log_ratio = family.truth_log_likelihood(units) - family.proposal_log_likelihood(
            fitted, units)
        with np.errstate(invalid="ignore"):
            scores = self.power * log_ratio if self.power else np.zeros_like(log_ratio)
        u = rng.random((rows, n_units))
        index = _invert(_softmax_cumulative(scores), u)
        return Curated(family.take_units(units, index), np.full(rows, m))


def curation_metric_names(curation: Curator | None, reward: Reward | None) -> tuple[str, ...]:
    """The metrics a run records beyond its family's: ``reward`` when a reward is set, and
    ``accept_rate`` (the kept share of candidates; 1 where none were curated) when a curator
    selects."""
    names: tuple[str, ...] = ("reward",) if reward is not None else ()
    if curation is not None and not curation.is_identity:
        names += ("accept_rate",)
    return names


def get_curator(spec: str | Curator, **settings: Any) -> Curator:
    """A curator from its name and settings, or an instance unchanged.

    Raises
    ------
    ConfigError
        For an unknown name or a setting the curator does not take.
    """
    if isinstance(spec, Curator):
        if settings:
            raise ConfigError("curate", "settings apply only when the curator is given by name")
        return spec
    cls = CURATORS.get(spec)
    accepted = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in settings:
        if key not in accepted:
            allowed = ", ".join(sorted(accepted)) or "no settings"
            raise ConfigError(key, f"does not apply to curate {spec} (it takes {allowed})")
    return cls(**settings)
