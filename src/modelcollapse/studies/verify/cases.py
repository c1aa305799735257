"""What a verification case is and returns, the registry of cases, and helpers they share.

A :class:`Case` is a named function ``run(n_replicates, seed) -> Outcome``, registered with the
:func:`register` decorator into :data:`CASES` (in the order of the table) with its replicates in the
full and the quick set. Its :class:`Outcome` holds its sub-checks
(:class:`~modelcollapse.checks.Check`) and the data of its figures: :class:`Series` (a simulated
mean over generations ± SE against the exact curve) and :class:`QQ` (simulated values against an
exact quantile function). :func:`case_seed` keys each case's stream by its name.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ...checks import Check
from ...config import RunConfig
from ...families import GMM
from ...policies import Policy
from ...runner.driver import simulate

if TYPE_CHECKING:

    from ...results.run import Result


#: Generations shown in the trajectory plots of long runs (the interesting part is early).
PLOT_GENERATIONS = 40

#: Probability levels of the QQ plots of continuous laws: a regular grid, plus the tails.
QQ_LEVELS = np.concatenate([[1e-3, 3e-3], (np.arange(100) + 0.5) / 100, [0.997, 0.999]])


@dataclass(frozen=True)
class Series:
    """A simulated mean over generations with its standard error, and the exact curve.

    Attributes
    ----------
    title
        The panel's title.
    ylabel
        The quantity averaged, e.g. ``"E var_t"``.
    mean, se, exact
        Arrays over generations ``0..len − 1``.
    limit
        An exact long-run value (stationary or limiting) drawn as a dashed line, if any.
    note
        A remark shown in the panel.
    """

    title: str
    ylabel: str
    mean: np.ndarray
    se: np.ndarray
    exact: np.ndarray
    limit: float | None = None
    note: str = ""


@dataclass(frozen=True)
class QQ:
    """Simulated values of a quantity and the quantile function of its exact law.

    Attributes
    ----------
    title
        The panel's title.
    label
        The quantity, for the axis labels.
    simulated
        One value per replicate.
    exact_quantile
        Maps probabilities to exact quantiles (the smallest ``x`` with ``F(x) ≥ q``, matching
        the simulated side's ``inverted_cdf`` quantiles).
    levels
        The probabilities compared (default :data:`QQ_LEVELS`). A discrete law uses the middle
        of each step of its distribution function (:func:`discrete_qq`): at a level close to a
        step either neighbouring value is a correct quantile, and sampling noise would pick one
        at random.
    """

    title: str
    label: str
    simulated: np.ndarray
    exact_quantile: Callable[[np.ndarray], np.ndarray]
    levels: np.ndarray | None = None


@dataclass
class Outcome:
    """What a case found: its sub-checks and the data behind its figures."""

    checks: list[Check]
    series: list[Series] = field(default_factory=list)
    qq: list[QQ] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """A named verification case.

    Attributes
    ----------
    name
        Its identity (also the key of its random stream).
    family
        The model family it exercises (figures are grouped by it).
    title
        What it checks, in one line.
    run
        ``run(n_replicates, seed) -> Outcome``.
    n_replicates
        Replicates in the full set.
    quick_replicates
        Replicates in the ``--quick`` set, or ``None`` when the case is left out of it.
    """

    name: str
    family: str
    title: str
    run: Callable[[int, int], Outcome]
    n_replicates: int
    quick_replicates: int | None = None

    def replicates(self, quick: bool) -> int:
        """The replicates of this case in the quick or the full set."""
        if quick and self.quick_replicates is not None:
            return self.quick_replicates
        return self.n_replicates


#: Every case, in the order of the table (filled by :func:`register`).
CASES: list[Case] = []


def register(name: str, family: str, title: str, *, full: int,
             quick: int | None) -> Callable[[Callable[[int, int], Outcome]],
                                            Callable[[int, int], Outcome]]:
    """Register the decorated function as the verification case ``name``."""
    def add(run: Callable[[int, int], Outcome]) -> Callable[[int, int], Outcome]:
        if any(c.name == name for c in CASES):
            raise ValueError(f"verify case {name!r} is defined twice")
        CASES.append(Case(name, family, title, run, full, quick))
        return run
    return add


def select_cases(quick: bool) -> list[Case]:
    """The cases of the quick or the full set."""
    return [c for c in CASES if not quick or c.quick_replicates is not None]


def case_seed(seed: int, name: str) -> int:
    """A 63-bit seed for case ``name``, keyed by its name (never by its position in the set)."""
    key = zlib.crc32(name.encode())
    words = np.random.SeedSequence(seed, spawn_key=(key,)).generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def simulate_case(family: Any, policy: Policy | str, *, n_samples: int, n_generations: int,
              n_replicates: int, seed: int) -> Result:
    return simulate(RunConfig(family=family, policy=policy, n_samples=n_samples,
                              n_generations=n_generations, n_replicates=n_replicates, seed=seed))


def mean_band(values: np.ndarray, horizon: int = PLOT_GENERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replicates and its standard error, for generations ``0..horizon``."""
    values = np.asarray(values, dtype=float)[:, :horizon + 1]
    se = values.std(axis=0, ddof=1) / math.sqrt(values.shape[0])
    return values.mean(axis=0), se


def fraction_band(hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fraction over replicates (per generation) and its binomial standard error."""
    fraction = hits.mean(axis=0)
    return fraction, np.sqrt(fraction * (1 - fraction) / hits.shape[0])


def discrete_qq(title: str, label: str, simulated: np.ndarray, values: np.ndarray,
                pmf: np.ndarray) -> QQ:
    """A QQ panel against the law putting mass ``pmf[i]`` on ``values[i]`` (increasing).

    One point per value, at the middle of its step of the distribution function, for the
    values whose step lies within the central 99.8%: there the simulated quantile equals the
    value unless the simulated distribution function is off by half a step.
    """
    cdf = np.cumsum(pmf)

    def quantile(q: np.ndarray) -> np.ndarray:
        # The tolerance keeps rounding in the cumulative sum from moving a quantile up a step.
        index = np.searchsorted(cdf, np.asarray(q) - 1e-12)
        return values[np.minimum(index, values.size - 1)]

    middles = cdf - pmf / 2
    levels = middles[(pmf > 0) & (middles >= QQ_LEVELS[0]) & (middles <= QQ_LEVELS[-1])]
    return QQ(title, label, simulated, quantile, levels)


def absorption_times(result: Result) -> np.ndarray:
    """The coin's absorption times as floats (NaN: not absorbed within the run)."""
    column = result.replicates["absorption_time"]
    return column.to_numpy(dtype=float, na_value=np.nan)


def mixture_variance(gmm: GMM) -> float:
    """Total variance ``Σ w (σ² + μ²) − (Σ w μ)²`` of the GMM's truth."""
    w, mu, sd = (np.asarray(x, dtype=float) for x in (gmm.weights, gmm.means, gmm.stds))
    w = w / w.sum()
    return float(w @ (sd**2 + mu**2) - (w @ mu) ** 2)
