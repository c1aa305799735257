"""How decoding truncation and fresh real text change the speed at which a language loses its tail.

The question behind ``modelcollapse collapse-speed ngram``: an n-gram language model is refitted,
generation after generation, on text sampled from its previous fit with nucleus (top-p) sampling,
with or without a fraction of fresh real text. How fast do the rare words disappear?

For every pair (top-p ∈ ``top_ps``, real fraction ∈ ``real_fractions``) it simulates the same
language and model (:class:`~modelcollapse.families.NGram`, by default the synthetic order-2
language over 100 Zipfian tokens with Kneser–Ney smoothing) under ``replace`` (real 0) or ``mix``
with ``⌊aN⌋`` fresh real tokens per generation and the rest generated, and records

* ``tail_share_t / tail_share_0``: the share of training text from the truth's rarest 10% of types,
  relative to the truth's (1 = the tail intact, 0 = gone), mean ± SE over replicates;
* ``support_t``: token types still present in the text;
* the tail's half-life ``T½``: the first generation with ``tail_share < c · tail_share_0``
  (``c = ½``), per replicate (median and quartiles, ``> G`` if never) and for the mean curve.

Generation 1 is fitted to real text only (training set 1 is the truth), so truncation first acts
on training set 2: ``T½ = 2`` means the tail halved in the first generated text. There is no exact
theory here: everything is simulated, with standard errors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...config import RunConfig
from ...errors import ConfigError
from ...families import NGram
from ...policies import Mix, Policy, Replace
from ...runner.driver import simulate
from ...validation import check_float, check_int
from ..common import Log, log_seed, quiet, resolve_seed

#: Nucleus thresholds and real fractions compared by default.
DEFAULT_TOP_PS = (1.0, 0.95, 0.9, 0.8)
DEFAULT_REALS = (0.0, 0.1)
#: Default sizes: about two minutes on two cores.
NGRAM_DEFAULTS = {"n_samples": 10_000, "n_generations": 30, "n_replicates": 400}

@dataclass
class TruncationCell:
    """One (top-p, real fraction) pair.

    Attributes
    ----------
    top_p, real
        The nucleus threshold and the fraction of fresh real text.
    policy
        ``replace`` (real 0) or ``mix``.
    tail, tail_se
        Mean and SE over replicates of ``tail_share_t / tail_share_0``, ``[G + 1]``.
    support, support_se
        Mean and SE of ``support_t``, ``[G + 1]``.
    times
        Per replicate, the first generation with ``tail_share < c tail_share_0`` (NaN: never).
    seconds
        Wall time of the simulation.
    """

    top_p: float
    real: float
    policy: Policy
    tail: np.ndarray
    tail_se: np.ndarray
    support: np.ndarray
    support_se: np.ndarray
    times: np.ndarray
    seconds: float

    @property
    def collapsed(self) -> float:
        return float(np.mean(~np.isnan(self.times)))

    def time_quantile(self, q: float) -> float:
        """Quantile of the half-life, ``inf`` where it lies beyond the run."""
        times = np.where(np.isnan(self.times), np.inf, self.times)
        return float(np.quantile(times, q, method="inverted_cdf"))

    def mean_crossing(self, fraction: float) -> float:
        """First ``t`` at which the mean tail share is below ``fraction`` of the truth's."""
        below = np.flatnonzero(self.tail < fraction)
        return float(below[0]) if below.size else math.inf


@dataclass
class TruncationSpeed:
    """The whole comparison (see the module notes)."""

    family: NGram
    n_samples: int
    n_generations: int
    n_replicates: int
    collapse_fraction: float
    seed: int
    seed_drawn: bool
    tail0: float
    support0: float
    cells: list[TruncationCell]
    configs: list[RunConfig] = field(default_factory=list)

    @property
    def target(self) -> str:
        return "ngram"

    def cell(self, top_p: float, real: float) -> TruncationCell:
        return next(c for c in self.cells if c.top_p == top_p and c.real == real)

    def table(self) -> list[dict[str, Any]]:
        """One row per (top-p, real) pair (``inf`` = not within the run)."""
        g = self.n_generations
        rows = []
        for c in self.cells:
            rows.append({
                "top_p": c.top_p, "real": c.real, "policy": c.policy.describe(),
                "n_replicates": self.n_replicates, "collapsed_fraction": c.collapsed,
                "half_life_median": c.time_quantile(0.5), "half_life_q25": c.time_quantile(0.25),
                "half_life_q75": c.time_quantile(0.75),
                "mean_curve_half_life": c.mean_crossing(self.collapse_fraction),
                "tail_2": c.tail[min(2, g)], "tail_2_se": c.tail_se[min(2, g)],
                "tail_5": c.tail[min(5, g)], "tail_5_se": c.tail_se[min(5, g)],
                "tail_G": c.tail[g], "tail_G_se": c.tail_se[g],
                "support_G": c.support[g], "support_G_se": c.support_se[g],
            })
        return rows

    def curves(self) -> list[dict[str, Any]]:
        """Per pair and generation: relative tail share and support, mean and SE."""
        return [{"top_p": c.top_p, "real": c.real, "t": t, "tail": c.tail[t],
                 "tail_se": c.tail_se[t], "support": c.support[t], "support_se": c.support_se[t]}
                for c in self.cells for t in range(self.n_generations + 1)]

    def settings(self) -> dict[str, Any]:
        return {"family": {"name": self.family.name, **self.family.settings()},
                "top_ps": sorted({c.top_p for c in self.cells}, reverse=True),
                "real_fractions": sorted({c.real for c in self.cells}),
                "n_samples": self.n_samples, "n_generations": self.n_generations,
                "n_replicates": self.n_replicates, "collapse_fraction": self.collapse_fraction}

    def describe(self) -> str:
        family = self.family.describe().replace(", plain sampling", "")  # top-p varies
        return (f"{family}; N = {self.n_samples:,} tokens, "
                f"{self.n_generations} generations, {self.n_replicates:,} replicates per pair")

    def format(self) -> str:
        """The table as text."""
        g, c = self.n_generations, self.collapse_fraction

        def when(x: float) -> str:
            return f">{g}" if math.isinf(x) else f"{x:.0f}"

        lines = [f"{self.describe()}; seed {self.seed}",
                 f"truth: tail share {self.tail0:.4g} (rarest 10% of types), support "
                 f"{self.support0:.0f}",
                 f"{'top-p':>6} {'real':>5} {'T½ median [IQR]':>17} {'mean T½':>8} "
                 f"{'tail/truth t=2':>15} {'t=5':>13} {f't={g}':>13} {f'support t={g}':>14}"]
        for cell in self.cells:
            iqr = (f"{when(cell.time_quantile(0.5))} [{when(cell.time_quantile(0.25))}, "
                   f"{when(cell.time_quantile(0.75))}]")
            lines.append(
                f"{cell.top_p:>6g} {cell.real:>5g} {iqr:>17} "
                f"{when(cell.mean_crossing(c)):>8} "
                f"{_pm(cell.tail[min(2, g)], cell.tail_se[min(2, g)]):>15} "
                f"{_pm(cell.tail[min(5, g)], cell.tail_se[min(5, g)]):>13} "
                f"{_pm(cell.tail[g], cell.tail_se[g]):>13} "
                f"{_pm(cell.support[g], cell.support_se[g], 1):>14}")
        lines.append(f"T½ = first generation with tail share < {c:g} × the truth's, per "
                     "replicate; mean T½ = the same for the mean curve; tail/truth = mean ± SE of "
                     "tail_share_t / tail_share_0. Generation 1 is fitted to real text; "
                     "truncation first acts on training set 2.")
        return "\n".join(lines)


def _pm(mean: float, se: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f}±{se:.{digits}f}"


def _check_values(name: str, values: Sequence[Any], *, low: float, high: float,
                  low_open: bool) -> tuple[float, ...]:
    if isinstance(values, (int, float)):
        values = [values]
    out = tuple(check_float(name, v, low=low, high=high, low_open=low_open,
                            what=f"a list of numbers in {'(' if low_open else '['}{low:g}, "
                                 f"{high:g}]") for v in values)
    if not out:
        raise ConfigError(name, "must list at least one value")
    return tuple(sorted(set(out), reverse=name == "top_ps"))


def truncation_speed(family: NGram | None = None, *, top_ps: Sequence[float] = DEFAULT_TOP_PS,
                     real_fractions: Sequence[float] = DEFAULT_REALS,
                     n_samples: int | None = None, n_generations: int | None = None,
                     n_replicates: int | None = None, collapse_fraction: float = 0.5,
                     smoothing: str | None = None, seed: int | None = None,
                     workers: int | None = None, progress: bool = False,
                     log: Log = quiet) -> TruncationSpeed:
    """The tail's decline for every (top-p, real fraction) pair.

    Parameters
    ----------
    family
        The language and model (default :class:`NGram()`); its ``top_p`` is replaced by each
        value of ``top_ps``, its other settings kept.
    top_ps
        Nucleus thresholds in ``(0, 1]`` (1 = plain sampling).
    real_fractions
        Fractions ``a`` in ``[0, 1)`` of fresh real tokens per training set (0 = ``replace``).
    n_samples, n_generations, n_replicates
        ``N`` tokens per generation, ``G``, replicates per pair (:data:`NGRAM_DEFAULTS`).
    collapse_fraction
        ``c`` of the half-life (first generation with ``tail_share < c tail_share_0``).
    smoothing
        Replaces the family's smoothing (``mle``, ``add-k``, ``kn``).
    seed, workers, progress, log
        As for :func:`modelcollapse.studies.collapse_speed.variance_speed`.
    """
    family = family if family is not None else NGram()
    if not isinstance(family, NGram):
        raise ConfigError("family", "must be an ngram family", getattr(family, "name", family))
    if smoothing is not None:
        family = replace(family, smoothing=smoothing)
    top_ps = _check_values("top_ps", top_ps, low=0.0, high=1.0, low_open=True)
    reals = _check_values("real_fractions", real_fractions, low=0.0, high=1.0, low_open=False)
    reals = tuple(sorted(reals))
    if reals[-1] >= 1.0:
        raise ConfigError("real_fractions", "must be below 1 (at 1 nothing is generated)",
                          reals[-1])
    n_samples = check_int("n_samples", n_samples if n_samples is not None
                          else NGRAM_DEFAULTS["n_samples"], minimum=1)
    if n_samples < family.length:  # a training set holds at least one whole sequence
        raise ConfigError("n_samples", f"must be at least the sequence length L = "
                          f"{family.length} of the language model", n_samples)
    n_generations = check_int("n_generations", n_generations if n_generations is not None
                              else NGRAM_DEFAULTS["n_generations"], minimum=2)
    n_replicates = check_int("n_replicates", n_replicates if n_replicates is not None
                             else NGRAM_DEFAULTS["n_replicates"], minimum=2)
    collapse_fraction = check_float("collapse_fraction", collapse_fraction, low=0.0, high=1.0,
                                    low_open=True, high_open=True,
                                    what="a number between 0 and 1 (exclusive)")
    seed, drawn = resolve_seed(seed)
    RunConfig(family=family, n_samples=n_samples, n_generations=n_generations,  # the bounds
              n_replicates=n_replicates, seed=seed, collapse_fraction=collapse_fraction)
    log_seed(log, seed, drawn)
    truth = family.metrics(family.truth()[None])
    tail0, support0 = float(truth["tail_share"][0]), float(truth["support"][0])
    cells, configs = [], []
    for real in reals:
        for top_p in top_ps:
            started = time.perf_counter()
            policy: Policy = Replace() if real == 0.0 else Mix(real=real)
            config = RunConfig(family=replace(family, top_p=top_p), policy=policy,
                               n_samples=n_samples, n_generations=n_generations,
                               n_replicates=n_replicates, seed=seed,
                               collapse_fraction=collapse_fraction)
            log(f"top-p {top_p:g}, real {real:g} ({policy.describe()}): {n_replicates:,} "
                f"replicates × {n_generations} generations, N = {n_samples:,}")
            result = simulate(config, workers=workers, progress=progress)
            tail = result.trajectories("tail_share") / tail0
            support = result.trajectories("support")
            times = result.replicates["collapse_time"].to_numpy(dtype=float, na_value=np.nan)
            root = math.sqrt(n_replicates)
            cells.append(TruncationCell(
                top_p, real, policy, tail.mean(axis=0), tail.std(axis=0, ddof=1) / root,
                support.mean(axis=0), support.std(axis=0, ddof=1) / root, times,
                time.perf_counter() - started))
            configs.append(config)
            cell = cells[-1]
            log(f"  tail/truth at t = 2: {cell.tail[2]:.3f}, at t = {n_generations}: "
                f"{cell.tail[-1]:.3f}; support {cell.support[-1]:.1f}; {cell.seconds:.1f} s")
    return TruncationSpeed(family, n_samples, n_generations, n_replicates, collapse_fraction,
                           seed, drawn, tail0, support0, cells, configs)
