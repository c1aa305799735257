"""Data policies: how training set *t* is built from the last model, the truth and earlier data.

Training set 1 is always ``N`` fresh samples of the truth; a policy builds every later one. With
``N`` = ``n_samples`` and fractions ``a`` = ``real``, ``b`` = ``synthetic``:

=========================  =========================================================================
``replace``                ``N`` samples of model *t − 1*.
``mix``                    ``⌊aN⌋`` fresh samples of the truth, ``⌊bN⌋`` samples of model
                           *t − 1*, and the remaining ``N − ⌊aN⌋ − ⌊bN⌋`` drawn without
                           replacement from training set *t − 1* (the three-way rule of the
                           classic GMM experiment). ``replace`` is ``mix`` with ``a = 0, b = 1``;
                           without ``synthetic`` the model supplies all ``N − ⌊aN⌋`` others.
``accumulate``             training set *t − 1* plus ``N`` new samples of model *t − 1*, of which
                           ``⌊aN⌋`` are fresh truth instead; the set grows by ``N`` per generation.
``accumulate-subsample``   the pool grows as under ``accumulate``; training set *t* is ``N`` drawn
                           without replacement from the pool (all data seen so far).
``augment``                the real set (training set 1, ``N`` samples of the truth) kept for
                           ever, plus ``⌊λN⌋`` new samples of model *t − 1*, ``λ`` = ``synthetic``
                           (any ``λ ≥ 0``): the size stays ``N + ⌊λN⌋``.
=========================  =========================================================================

``augment`` is the "synthetic augmentation" loop of Alemohammad et al. [3]_ and the iterative
retraining of Bertrand et al. [4]_: the *same* real data every generation. ``mix`` draws *fresh*
real data every generation (so the fit's mean wanders with the model but is pulled back to the
truth's), and ``accumulate`` keeps the real set too but also every synthetic sample ever drawn,
so its synthetic share grows towards 1.

Within a generation the pieces are always drawn in the same order (truth, model, carry-over) from
the block's generator, so a run is a deterministic function of its seed.

References
----------
.. [1] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
.. [2] M. Gerstgrasser et al., "Is model collapse inevitable? Breaking the curse of recursion by
   accumulating real and synthetic data", arXiv:2404.01413 (2024).
.. [3] S. Alemohammad et al., "Self-consuming generative models go MAD", ICLR 2024,
   arXiv:2307.01850.
.. [4] Q. Bertrand, A. J. Bose, A. Duplessis, M. Jiralerspong, G. Gidel, "On the stability of
   iterative retraining of generative models on their own data", ICLR 2024, arXiv:2310.00429.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import ConfigError
from .registry import Registry
from .training_sets import Dataset, concat
from .validation import check_float, check_fraction

#: Draws ``m`` samples per replicate (of the last model, or of the truth).
Draw = Callable[[int], Dataset]


def fraction_count(fraction: float, n: int) -> int:
    """``⌊fraction · n⌋``, robust to decimal fractions that binary floats cannot hold.

    ``0.29 * 100`` is ``28.999999999999996`` in floating point; a user who asks for 29% of 100
    samples means 29, so products within a relative 1e-9 of an integer round to it.
    """
    x = fraction * n
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return int(nearest)
    return math.floor(x)


class Policy(ABC):
    """How training set *t ≥ 2* is built. Subclasses are small frozen dataclasses."""

    name: ClassVar[str]

    def needs_subsample(self, n_samples: int) -> bool:
        """Whether training sets of ``n_samples`` include subsamples of earlier training sets."""
        return False

    @abstractmethod
    def start(self, first: Dataset) -> Any:
        """The policy's state after training set 1 (``first``) has been drawn."""

    @abstractmethod
    def next_training_set(self, state: Any, *, draw_model: Draw, draw_truth: Draw, n_samples: int,
                          rng: np.random.Generator) -> tuple[Dataset, Any]:
        """Training set *t* and the new state, given the state after training set *t − 1*."""

    def stored_samples(self, n_samples: int, n_generations: int) -> int:
        """Most samples per replicate held at once (for memory estimates)."""
        return 2 * n_samples

    def keeps_real_data(self, n_samples: int) -> bool:
        """Whether every training set holds real data (needed to weigh it, ``--real-weight``).

        ``True`` for policies that draw fresh truth each generation or keep training set 1.
        """
        return False

    def params(self) -> dict[str, float | None]:
        """The policy's settings, for manifests and stream keys."""
        return {}

    def describe(self) -> str:
        settings = ", ".join(f"{k} = {v:g}" for k, v in self.params().items())
        return f"{self.name} ({settings})" if settings else self.name


POLICIES: Registry[Policy] = Registry("policy")


@POLICIES.register
@dataclass(frozen=True)
class Replace(Policy):
    """Train each generation only on ``N`` samples of the previous model."""

    name: ClassVar[str] = "replace"

    def start(self, first: Dataset) -> None:
        return None

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        return draw_model(n_samples), None


@POLICIES.register
@dataclass(frozen=True)
class Mix(Policy):
    """Fresh truth, model samples and carried-over data in fixed fractions.

    Parameters
    ----------
    real
        Fraction ``a`` of each training set drawn fresh from the truth.
    synthetic
        Fraction ``b`` drawn from the previous model. The remaining ``N − ⌊aN⌋ − ⌊bN⌋`` samples
        are drawn without replacement from the previous training set. ``None`` (the default): the
        model supplies all the rest, ``N − ⌊aN⌋`` samples, and nothing is carried over.
    """

    name: ClassVar[str] = "mix"
    real: float = 0.0
    synthetic: float | None = None

    def __post_init__(self) -> None:
        real = check_fraction("real", self.real)
        object.__setattr__(self, "real", real)
        if self.synthetic is None:
            return
        synthetic = check_fraction("synthetic", self.synthetic)
        if real + synthetic > 1.0 + 1e-12:
            raise ConfigError("real + synthetic", "must be at most 1",
                              f"{real:g} + {synthetic:g} = {real + synthetic:g}")
        object.__setattr__(self, "synthetic", synthetic)

    def split(self, n_samples: int) -> tuple[int, int, int]:
        """Sizes of the (real, synthetic, carried-over) pieces of a training set."""
        n_real = fraction_count(self.real, n_samples)
        if self.synthetic is None:
            return n_real, n_samples - n_real, 0
        n_synthetic = min(fraction_count(self.synthetic, n_samples), n_samples - n_real)
        return n_real, n_synthetic, n_samples - n_real - n_synthetic

    def needs_subsample(self, n_samples: int) -> bool:
        return self.split(n_samples)[2] > 0

    def keeps_real_data(self, n_samples: int) -> bool:
        return self.split(n_samples)[0] > 0

    def start(self, first: Dataset) -> Dataset:
        return first

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        n_real, n_synthetic, n_carry = self.split(n_samples)
        parts = []
        if n_real:
            parts.append(draw_truth(n_real))
        if n_synthetic:
            parts.append(draw_model(n_synthetic))
        if n_carry:
            parts.append(state.subsample(n_carry, rng))
        train = concat(parts)
        return train, train

    def params(self) -> dict[str, float | None]:
        return {"real": self.real, "synthetic": self.synthetic}

    def describe(self) -> str:
        synthetic = "the rest" if self.synthetic is None else f"{self.synthetic:g}"
        return f"mix (real = {self.real:g}, synthetic = {synthetic})"


@POLICIES.register
@dataclass(frozen=True)
class Accumulate(Policy):
    """Keep every earlier sample and add ``N`` new ones per generation.

    Parameters
    ----------
    real
        Fraction of the ``N`` new samples drawn fresh from the truth instead of the model.
    """

    name: ClassVar[str] = "accumulate"
    real: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "real", check_fraction("real", self.real))

    def _new_samples(self, draw_model: Draw, draw_truth: Draw, n_samples: int) -> Dataset:
        n_real = fraction_count(self.real, n_samples)
        parts = []
        if n_real:
            parts.append(draw_truth(n_real))
        if n_samples - n_real:
            parts.append(draw_model(n_samples - n_real))
        return concat(parts)

    def start(self, first: Dataset) -> Dataset:
        return first

    def keeps_real_data(self, n_samples: int) -> bool:
        return True  # training set 1 stays in the pool

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        train = concat([state, self._new_samples(draw_model, draw_truth, n_samples)])
        return train, train

    def stored_samples(self, n_samples: int, n_generations: int) -> int:
        return n_samples * (n_generations + 1)

    def params(self) -> dict[str, float | None]:
        return {"real": self.real}


@POLICIES.register
@dataclass(frozen=True)
class AccumulateSubsample(Accumulate):
    """Accumulate a pool as :class:`Accumulate` does; train on ``N`` drawn from it each generation.

    The pool after generation *t − 1* holds training set 1 plus the ``N`` new samples added at each
    later generation; training set *t* is ``N`` of its samples drawn without replacement, so the
    training-set size stays fixed while the data seen so far keeps anchoring it.
    """

    name: ClassVar[str] = "accumulate-subsample"

    def needs_subsample(self, n_samples: int) -> bool:
        return True

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        pool = concat([state, self._new_samples(draw_model, draw_truth, n_samples)])
        return pool.subsample(n_samples, rng), pool


@POLICIES.register
@dataclass(frozen=True)
class Augment(Policy):
    """Train every generation on the same real set plus fresh samples of the last model.

    Training set 1 is ``N`` samples of the truth, the real set. Training set *t ≥ 2* is that set,
    unchanged, plus ``⌊λN⌋`` samples of model *t − 1*; nothing synthetic is carried over.

    Parameters
    ----------
    synthetic
        ``λ``, synthetic samples per real sample (any ``λ ≥ 0``; 0 refits the real set for ever,
        1 doubles it). Bertrand et al. prove that this loop is stable when the model is close
        enough to the real data's and ``λ`` small enough; for the Gaussian it is stable for every
        ``λ``, and the fitted mean relaxes to the *real set's* mean, not the truth's
        (:mod:`modelcollapse.theory.moments`).
    """

    name: ClassVar[str] = "augment"
    synthetic: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "synthetic", check_float(
            "synthetic", self.synthetic, low=0.0, high=1e6,
            what="a number between 0 and 1e6 (synthetic samples per real sample)"))

    def n_synthetic(self, n_samples: int) -> int:
        """``⌊λN⌋``, the model's samples in every training set after the first."""
        return fraction_count(self.synthetic, n_samples)

    def keeps_real_data(self, n_samples: int) -> bool:
        return True

    def start(self, first: Dataset) -> Dataset:
        return first

    def next_training_set(self, state, *, draw_model, draw_truth, n_samples, rng):
        n_synthetic = self.n_synthetic(n_samples)
        if n_synthetic == 0:
            return state, state
        return concat([state, draw_model(n_synthetic)]), state

    def stored_samples(self, n_samples: int, n_generations: int) -> int:
        return 2 * n_samples + self.n_synthetic(n_samples)

    def params(self) -> dict[str, float | None]:
        return {"synthetic": self.synthetic}

    def describe(self) -> str:
        return f"augment (the real set kept, plus λ = {self.synthetic:g} × N synthetic)"


def get_policy(spec: str | Policy, **settings: Any) -> Policy:
    """A policy from its name and settings, or an instance unchanged.

    Raises
    ------
    ConfigError
        For an unknown name or a setting the policy does not take.
    """
    if isinstance(spec, Policy):
        if settings:
            raise ConfigError("policy", "settings apply only when the policy is given by name")
        return spec
    cls = POLICIES.get(spec)
    accepted = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in settings:
        if key not in accepted:
            allowed = ", ".join(sorted(accepted)) or "no settings"
            raise ConfigError(key, f"does not apply to policy {spec} (it takes {allowed})")
    return cls(**settings)
