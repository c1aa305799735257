"""The description of one run: what is simulated, how long, how often, from which seed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .curation import Curator, NoCuration, curation_metric_names, get_curator
from .errors import ConfigError
from .families import FAMILIES, Family, get_family
from .policies import POLICIES, Policy, Replace, get_policy
from .rewards import Reward
from .seeding import draw_seed, stream_key
from .validation import check_float, check_int

#: The largest run sizes, far beyond any run that finishes (the coin's exact counts, the fastest
#: loop, take about 3 µs a replicate-generation, so 10^7 generations of 100 replicates is most
#: of an hour), and small enough that every count, index and size the loop forms of them is an
#: int64 and exact in float64 where it becomes one (2^53 ≈ 9 × 10^15): ``N`` tosses are one
#: Binomial draw, ``R`` indexes replicates. An accumulating training set grows to
#: ``N × (G + 1)`` samples, bounded separately by :data:`MAX_STORED`. Memory is checked after.
MAX_SIZES: dict[str, int] = {"n_samples": 10**12, "n_generations": 10**7,
                             "n_replicates": 10**9}

#: The largest training set a policy may grow to (``Policy.stored_samples``): its counts stay
#: well inside int64 (9.2 × 10^18).
MAX_STORED = 10**18


def _power_of_ten(n: int) -> str:
    """``10^12`` for 10**12 (how the bounds are written in messages)."""
    text = str(n)
    return f"10^{len(text) - 1}" if text.strip("0") == "1" else f"{n:,}"


def _about(n: int) -> str:
    """``1.2 × 10^19``."""
    exponent = len(str(n)) - 1
    return f"{n / 10**exponent:.1f} × 10^{exponent}"


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's numbers (with the seed).

    Parameters
    ----------
    family
        A :class:`~modelcollapse.families.Family` instance or registered name; the default is the
        classic GMM.
    policy
        A :class:`~modelcollapse.policies.Policy` instance or registered name (``replace``).
    n_samples, n_generations, n_replicates
        ``N``, ``G`` and the number of replicates; ``None`` takes the family's classic experiment
        (``Family.default_run``).
    seed
        Non-negative integer; ``None`` draws one when the run starts (see :meth:`with_seed`).
    collapse_fraction
        A replicate's collapse time is the first generation at which its ``var`` falls below this
        fraction of the truth's (continuous families).
    curation
        A :class:`~modelcollapse.curation.Curator` instance or registered name (``"none"``): how
        the synthetic samples of every training set are selected.
    reward
        The family's reward as text (``"truth"``, ``"target:2"``, ``"0,1"``;
        :mod:`modelcollapse.rewards`), or ``None``. Best-of curation scores by it (taking the
        family's ``default_reward`` when none is given); whenever one is set, every model's
        mean reward is recorded as the metric ``reward``.

    Examples
    --------
    >>> from modelcollapse import RunConfig, Coin
    >>> cfg = RunConfig(family=Coin(p0=0.5), seed=1)   # the classic coin: k = 10, 60 × 100
    >>> cfg.n_samples, cfg.n_generations, cfg.n_replicates
    (10, 60, 100)
    """

    family: Family | str = "gmm"
    policy: Policy | str = dataclasses.field(default_factory=Replace)
    # ``None`` is accepted and resolved in __post_init__; afterwards these are always ints.
    n_samples: int = None  # type: ignore[assignment]
    n_generations: int = None  # type: ignore[assignment]
    n_replicates: int = None  # type: ignore[assignment]
    seed: int | None = None
    collapse_fraction: float = 0.5
    curation: Curator | str = dataclasses.field(default_factory=NoCuration)
    reward: str | None = None

    def __post_init__(self) -> None:
        family = get_family(self.family)
        policy = get_policy(self.policy)
        curation = get_curator(self.curation)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "curation", curation)
        curation.check_family(family)
        if self.reward is not None:
            if not isinstance(self.reward, str) or not self.reward.strip():
                raise ConfigError("reward", f"must be text: {family.reward_words or 'none'}",
                                  self.reward)
            object.__setattr__(self, "reward", self.reward.strip())
        elif curation.uses_reward and not curation.is_identity:
            if family.default_reward is None:
                raise ConfigError("reward", f"is needed by {curation.name} curation for family "
                                  f"{family.name}: {family.reward_words}")
            object.__setattr__(self, "reward", family.default_reward)
        if self.reward is not None:
            family.reward(self.reward)  # refuses a reward the family does not take
        for name in ("n_samples", "n_generations", "n_replicates"):
            value = getattr(self, name)
            value = family.default_run[name] if value is None else check_int(name, value,
                                                                            minimum=1)
            if value > MAX_SIZES[name]:
                raise ConfigError(name, "must be an integer between 1 and "
                                  f"{_power_of_ten(MAX_SIZES[name])}", value)
            object.__setattr__(self, name, value)
        stored = policy.stored_samples(self.n_samples, self.n_generations)
        if stored > MAX_STORED:
            raise ConfigError("n_samples × n_generations", f"is too large for policy "
                              f"{policy.name}: its training set grows to N × (G + 1), about "
                              f"{_about(stored)} samples, more than {_power_of_ten(MAX_STORED)}")
        family = family.for_run(self.n_samples, self.n_generations, policy)
        object.__setattr__(self, "family", family)
        if self.seed is not None:
            object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0))
        object.__setattr__(self, "collapse_fraction", check_float(
            "collapse_fraction", self.collapse_fraction, low=0.0, high=1.0, low_open=True,
            high_open=True, what="a number between 0 and 1 (exclusive)"))
        if family.weighs_real and not policy.keeps_real_data(self.n_samples):
            raise ConfigError("real_weight", "needs real data in every training set: a policy "
                              "that adds fresh truth (mix with real > 0) or keeps the real set "
                              "(accumulate, accumulate-subsample, augment), not "
                              f"{policy.describe()}")
        family.validate_run(self.n_samples, policy)

    # The fields are resolved in __post_init__; these properties give them precise types.
    @property
    def model(self) -> Family:
        return self.family  # type: ignore[return-value]

    @property
    def data_policy(self) -> Policy:
        return self.policy  # type: ignore[return-value]

    @property
    def curator(self) -> Curator:
        return self.curation  # type: ignore[return-value]

    def bound_reward(self) -> Reward | None:
        """The reward bound to the family's truth (``None`` when no reward is set)."""
        return None if self.reward is None else self.model.reward(self.reward)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Every metric a run of this config records: the family's, then ``reward`` (when a
        reward is set) and ``accept_rate`` (when a curator selects)."""
        return (*self.model.metric_names,
                *curation_metric_names(self.curator, self.bound_reward()))

    @property
    def key_metrics(self) -> tuple[str, ...]:
        """The metrics shown as fan charts and summarised: the family's key metrics, then the
        curation metrics (:attr:`metric_names`' extras)."""
        extra = self.metric_names[len(self.model.metric_names):]
        return (*self.model.key_metrics, *extra)

    def truth_metrics(self) -> dict[str, float]:
        """Every metric's value at generation 0 (the truth's own; ``accept_rate`` 1)."""
        family = self.model
        values = {name: float(np.asarray(v).ravel()[0])
                  for name, v in family.metrics(family.truth()[None]).items()}
        reward = self.bound_reward()
        if reward is not None:
            values["reward"] = float(np.asarray(reward.expected(family.truth()[None])).ravel()[0])
        if "accept_rate" in self.metric_names:
            values["accept_rate"] = 1.0
        return values

    def with_seed(self) -> RunConfig:
        """This config with a seed: its own, or a freshly drawn one."""
        return self if self.seed is not None else dataclasses.replace(self, seed=draw_seed())

    def identity(self) -> dict[str, Any]:
        """The settings that define the experiment's random streams (not G, R or the seed)."""
        identity: dict[str, Any] = {
            "family": {"name": self.model.name, **self.model.stream_settings()},
            "policy": {"name": self.data_policy.name, **self.data_policy.params()},
            "n_samples": self.n_samples,
        }
        # A curator that keeps every draw is the uncurated run, streams and all; a reward moves
        # the streams only when a curator scores by it.
        if not self.curator.is_identity:
            curation: dict[str, Any] = {"name": self.curator.name, **self.curator.params()}
            if self.curator.uses_reward:
                curation["reward"] = self.reward
            identity["curation"] = curation
        return identity

    @property
    def stream_key(self) -> int:
        return stream_key(self.identity())

    @property
    def block_size(self) -> int:
        return self.model.block_size(self.data_policy, self.n_samples)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description, inverse of :meth:`from_dict`."""
        out = {
            **self.identity(),
            "n_generations": self.n_generations,
            "n_replicates": self.n_replicates,
            "seed": self.seed,
            "collapse_fraction": self.collapse_fraction,
        }
        if self.curator.is_identity and not isinstance(self.curator, NoCuration):
            out["curation"] = {"name": self.curator.name, **self.curator.params()}
        if self.reward is not None:
            out["reward"] = self.reward
        out.get("curation", {}).pop("reward", None)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Rebuild a config from :meth:`to_dict` output (as stored in a run's manifest)."""
        family = dict(data["family"])
        policy = dict(data["policy"])
        curation = dict(data.get("curation") or {})
        curation.pop("reward", None)
        family_cls = FAMILIES.get(family.pop("name"))
        policy_cls = POLICIES.get(policy.pop("name"))
        return cls(
            family=family_cls(**{k: tuple(v) if isinstance(v, list) else v
                                 for k, v in family.items()}),
            policy=policy_cls(**policy),
            n_samples=data["n_samples"],
            n_generations=data["n_generations"],
            n_replicates=data["n_replicates"],
            seed=data.get("seed"),
            collapse_fraction=data.get("collapse_fraction", 0.5),
            curation=get_curator(curation.pop("name"), **curation) if curation else NoCuration(),
            reward=data.get("reward"),
        )

    def curation_words(self, sep: str = " · ") -> str:
        """``" · curate best-of (k = 4), reward …"``: the curator and reward, or ``""``."""
        words = "" if self.curator.is_identity else f"{sep}curate {self.curator.describe()}"
        reward = self.bound_reward()
        if reward is not None:
            words += f"{', ' if words else sep}{reward.words}"
        return words

    def describe(self) -> str:
        """One line: family, policy, curation and sizes."""
        return (f"{self.model.describe()}; policy {self.data_policy.describe()}"
                f"{self.curation_words(sep='; ')}; "
                f"N = {self.n_samples}, {self.n_generations} generations, "
                f"{self.n_replicates} replicates")

