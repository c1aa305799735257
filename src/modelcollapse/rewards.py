"""Rewards: a number ``r(x)`` for every sample, the score that curation selects by.

A reward is chosen per family by a short text (``--reward`` on the command line, ``reward`` in
TOML); the family turns it into a :class:`Reward` (``Family.reward``):

=================  ===========================================================================
coin               ``r0,r1``: the reward of tails and of heads.
categorical        a comma list of ``V`` values (token ``v`` gets the ``v``-th); ``rank``:
                   ``r_v = −v / V`` for ``v = 1..V`` (frequent tokens preferred, a reward that
                   knows nothing of the truth's law); ``truth``: ``r_v = log q_v``.
gaussian, gmm      ``truth``: the truth's log density; ``target:c``: ``−(x − c)² / 2``.
ngram              ``truth``: the synthetic truth's log-probability per token of a sequence;
                   ``self``: the model's own.
=================  ===========================================================================

A reward is used two ways: to score candidates (best-of curation, :mod:`modelcollapse.curation`)
and to measure a model (the metric ``reward``, ``E_model r``, recorded whenever a reward is
set, curated or not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError

#: The largest reward magnitude accepted in a list: Bradley–Terry selection weighs candidates by
#: ``exp(r)``, and differences beyond this make it a hard maximum anyway.
MAX_REWARD = 1e6


@dataclass(frozen=True, eq=False)
class Reward:
    """A family's reward, bound to its truth.

    Attributes
    ----------
    spec
        The reward as the user wrote it, normalised (``"truth"``, ``"target:1.5"``, ``"0,1"``).
    score
        ``score(units) → r[R, k]``: the reward of each of ``k`` candidate units per replicate
        (samples, tokens or whole sequences).
    expected
        ``expected(params[..., *param_shape]) → E_model r [...]``: the model's mean reward,
        exactly or by a quadrature of stated accuracy (the family's docstring says which).
    words
        A few words for descriptions, always starting ``"reward: "`` (``"reward: the truth's
        log density"``).
    """

    spec: str
    score: Callable[[Any], np.ndarray]
    expected: Callable[[np.ndarray], np.ndarray]
    words: str


def reward_values(spec: str, count: int, *, what: str) -> np.ndarray:
    """A comma list of exactly ``count`` finite numbers (the coin's ``r0,r1``, a token list).

    Raises
    ------
    ConfigError
        Naming ``reward`` and what was expected (``what``: ``"2 numbers r0,r1"``).
    """
    items = [item.strip() for item in spec.split(",")]
    try:
        values = np.array([float(item) for item in items])
    except ValueError:
        raise ConfigError("reward", f"must be {what}", spec) from None
    if values.size != count:
        raise ConfigError("reward", f"must be {what}; {values.size} given")
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) > MAX_REWARD):
        raise ConfigError("reward", f"must be finite numbers within ±{MAX_REWARD:g}", spec)
    return values


def reward_target(spec: str) -> float | None:
    """``c`` of a ``target:c`` reward, ``None`` when ``spec`` is not one.

    Raises
    ------
    ConfigError
        For ``target:`` followed by something that is not a finite number.
    """
    if not spec.startswith("target:"):
        return None
    text = spec.removeprefix("target:").strip()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError("reward", "must be target:c with c a number", spec) from None
    if not np.isfinite(value) or abs(value) > MAX_REWARD:
        raise ConfigError("reward", f"must be target:c with c a finite number within "
                          f"±{MAX_REWARD:g}", spec)
    return value


def unknown_reward(spec: str, family: str, allowed: str) -> ConfigError:
    """The error for a reward the family does not take."""
    return ConfigError("reward", f"must be {allowed} for family {family}", spec)


def token_reward(spec: str, values: np.ndarray, words: str) -> Reward:
    """A reward ``r_v`` per token of a discrete family whose parameters are probabilities.

    ``score`` reads token ids (raw samples ``[R, k]``); ``expected`` is ``Σ_v q_v r_v`` for
    parameters ``q[..., V]`` (the coin passes ``[1 − p, p]``).
    """
    values = np.asarray(values, dtype=float)
    values.flags.writeable = False

    def score(units: Any) -> np.ndarray:
        return values[np.asarray(units.values, dtype=np.int64)]

    def expected(probs: np.ndarray) -> np.ndarray:
        return np.asarray(probs, dtype=float) @ values

    return Reward(spec, score, expected, words)
