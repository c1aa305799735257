"""Collapse speed: how many generations until a refitted model has collapsed, and what slows it.

Two questions the classic experiments raise, each answered by simulation beside the exact theory:

Coin: how does the absorption time grow with the number of tosses ``k``?
    Under ``replace`` the head count ``X_t = k p̂_t`` is a Wright–Fisher chain,
    ``X_t | X_{t−1} ~ Binom(k, X_{t−1}/k)``, absorbed at 0 or ``k``. With ``Q`` the transition
    matrix on the transient states ``1..k−1``, the expected remaining time ``m`` solves
    ``(I − Q) m = 1`` and the second moment ``s`` solves ``(I − Q) s = 2m − 1``; generation 1 is
    ``Binom(k, p0)``, so ``E T = 1 + π·m`` with ``π`` its law on transient states. The survival
    function ``P(T > t) = π Q^{t−1} 1`` is iterated until it falls below a tolerance, which fixes
    the simulation's horizon. Kimura's diffusion limit gives ``E T ≈ −2k[p ln p + (1−p) ln(1−p)]``
    and, with ``τ = t/k``, ``P(T > t) ≈ S(p, τ) + S(1−p, τ)``, where
    ``S(p, τ) = Σ_{i≥1} (2i+1) p(1−p) (−1)^{i+1} ₂F₁(1−i, i+2; 2; p) e^{−i(i+1)τ/2}``: the
    absorption time scales with ``k``.

Gaussian and GMM: how does fresh real data change the time until ``var < ½ var₀``?
    Policy ``mix`` with ``real = a`` (``⌊aN⌋`` fresh samples of the truth per generation, the rest
    from the last model; ``a = 0`` is ``replace``). The collapse time of a replicate is the first
    generation with ``var_t < c · var₀`` (``c = ½`` by default). Exact theory:

    * ``E var_t`` for every ``a`` from the moment recursion
      (:func:`modelcollapse.theory.variance_moments`); for the GMM it holds because every EM fit
      matches the training sample's mean and variance;
    * for ``a > 0`` its limit, ``E var_∞ = a(N(2−a) − 1)/(aN(2−a) + 1 − a) · var₀``: when it stays
      above ``c var₀`` the variance does not collapse in expectation, and a collapse time only
      records a fluctuation below the threshold;
    * for the Gaussian under ``replace``, ``log(var_t/var₀) = Σ_{s≤t} log(χ²_{N−1,s}/N)`` is a
      random walk, so the collapse time is its first passage below ``log c``; its law is computed
      numerically (:func:`gaussian_collapse_time_cdf`), and ``E log var_t`` crosses ``log c`` at
      ``t = log c / [ψ((N−1)/2) + ln(2/N)]`` (a reference for the median time, not the median).

:func:`coin_speed` and :func:`variance_speed` compute everything in memory;
:func:`collapse_speed` also writes a results folder with a table, curves, a figure and a manifest
(``modelcollapse collapse-speed {coin,gaussian,gmm,ngram}``; ``ngram``, how decoding truncation
and fresh real text change how fast a language model loses its rare words, is
:func:`modelcollapse.ngram_speed.truncation_speed`). Nothing here imports matplotlib; the figure
is drawn by :mod:`modelcollapse.speed_plots` when the folder is written.

References
----------
.. [1] M. Kimura, "Solution of a process of random genetic drift with a continuous model",
   PNAS 41, 144–150 (1955).
.. [2] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import theory
from .api import simulate
from .config import RunConfig
from .errors import ConfigError
from .families import GMM, Coin, Family, Gaussian, get_family
from .families.base import check_float, check_int
from .ngram_speed import TruncationSpeed, truncation_speed
from .policies import Mix, Policy, Replace
from .provenance import environment, now
from .results import free_folder, prepare_output, stamped_folder, write_json
from .seeding import draw_seed

#: Targets of ``modelcollapse collapse-speed``.
TARGETS = ("coin", "gaussian", "gmm", "ngram")
#: Tosses per generation compared by default.
DEFAULT_KS = (1, 2, 5, 10, 100, 1000)
#: Largest ``k``: the exact chain has ``k + 1`` states and is iterated about ``14 k`` times, and
#: each rollout's trajectory (``14 k`` generations) is kept in memory.
MAX_K = 1000
#: Rollouts per ``k``. The coin's replicate blocks hold 4096 rollouts and are always drawn whole,
#: so any count up to 4096 costs the same time.
COIN_REPLICATES = 4000
#: Fractions of fresh real data compared by default.
DEFAULT_REAL_FRACTIONS = (0.0, 0.01, 0.05, 0.1, 0.5)
#: Default sizes per family: the ``replace`` case collapses well within the horizon and each
#: command takes about a minute or less on two cores.
VARIANCE_DEFAULTS: dict[str, dict[str, int]] = {
    "gaussian": {"n_samples": 100, "n_generations": 1000, "n_replicates": 1000},
    "gmm": {"n_samples": 1000, "n_generations": 2000, "n_replicates": 100},
}
#: The coin's horizon is the first ``t`` with exact ``P(T > t)`` at most this.
TAIL = 1e-6

Log = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


# -- exact laws (from modelcollapse.theory) ---------------------------------------------------


def exact_absorption(p0: float, k: int, *, tail: float = TAIL) -> theory.AbsorptionTime:
    """The coin's exact absorption-time law under ``replace``, tabulated until ``P(T > t) ≤ tail``.

    See :func:`modelcollapse.theory.coin_absorption_time`.
    """
    return theory.coin_absorption_time(p0, k, tail=tail)


diffusion_survival = theory.coin_survival_diffusion
gaussian_collapse_time_cdf = theory.gaussian_collapse_time_cdf


def law_quantile(cdf: np.ndarray, q: float) -> float:
    """The smallest ``t`` with ``cdf[t] ≥ q``; ``inf`` if there is none."""
    t = int(np.searchsorted(cdf, q - 1e-12))
    return float(t) if t < len(cdf) else math.inf


def censored_quantile(times: np.ndarray, q: float) -> float:
    """The ``q`` quantile of event times with ``NaN`` for "not within the run" (``inf`` then).

    The smallest observed time ``t`` with empirical ``P(T ≤ t) ≥ q`` (numpy's ``inverted_cdf``),
    the same definition as :func:`law_quantile`, so censored replicates count as later than every
    observed time and the quantile is ``inf`` when they are too many.
    """
    values = np.sort(np.where(np.isnan(times), np.inf, times))
    if values.size == 0:
        return math.nan
    index = max(math.ceil(q * values.size - 1e-9) - 1, 0)
    return float(values[index])


def empirical_cdf(times: np.ndarray, horizon: int) -> np.ndarray:
    """``P̂(T ≤ t)`` for ``t = 0..horizon`` over all replicates (censored ones never count)."""
    hit = times[np.isfinite(times)].astype(np.int64)
    counts = np.bincount(hit[hit <= horizon], minlength=horizon + 1)
    return np.cumsum(counts) / max(times.size, 1)


# -- validation ----------------------------------------------------------------------------------


def _check_ks(ks: Sequence[Any]) -> tuple[int, ...]:
    problem = f"must be a comma-separated list of integers from 1 to {MAX_K}"
    try:
        values = list(ks)
    except TypeError:
        raise ConfigError("ks", problem, ks) from None
    if not values:
        raise ConfigError("ks", problem, "an empty list")
    out = []
    for value in values:
        try:
            out.append(check_int("ks", value, minimum=1))
        except ConfigError:
            raise ConfigError("ks", problem, value) from None
        if out[-1] > MAX_K:
            raise ConfigError("ks", problem + " (the exact chain has k + 1 states)", value)
    return tuple(sorted(set(out)))


def _check_fractions(fractions: Sequence[Any]) -> tuple[float, ...]:
    problem = "must be a comma-separated list of numbers from 0 to 1"
    try:
        values = list(fractions)
    except TypeError:
        raise ConfigError("real_fractions", problem, fractions) from None
    if not values:
        raise ConfigError("real_fractions", problem, "an empty list")
    what = problem.removeprefix("must be ")
    out = [check_float("real_fractions", v, low=0.0, high=1.0, what=what) for v in values]
    return tuple(sorted(set(out)))


def _seed(seed: int | None) -> tuple[int, bool]:
    if seed is None:
        return draw_seed(), True
    return check_int("seed", seed, minimum=0), False


def _log_seed(log: Log, seed: int, drawn: bool) -> None:
    log(f"seed {seed}" + (" (drawn; give this seed to repeat the run)" if drawn else ""))


# -- the coin ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoinRow:
    """Simulated and exact absorption time for one ``k``.

    Attributes
    ----------
    k, n_replicates, horizon
        Tosses per generation, rollouts, generations simulated.
    censored
        Rollouts not absorbed within the horizon (expected ``n_replicates × TAIL``, so 0).
    mean, se
        Simulated mean absorption time and its standard error (absorbed rollouts).
    median
        Simulated median (``inf`` if at least half were censored).
    exact_mean, exact_sd, exact_median
        From the Markov chain.
    diffusion
        Kimura's approximation ``−2k[p ln p + (1 − p) ln(1 − p)]``.
    z
        ``(mean − exact_mean) / se`` (0 when both are exact, as for ``k = 1``).
    seconds
        Wall time of the simulation.
    """

    k: int
    n_replicates: int
    horizon: int
    censored: int
    mean: float
    se: float
    median: float
    exact_mean: float
    exact_sd: float
    exact_median: float
    diffusion: float
    z: float
    seconds: float


@dataclass
class CoinSpeed:
    """The coin's mean absorption time against ``k``: simulated, exact and approximate.

    Attributes
    ----------
    p0, seed, seed_drawn, n_replicates
        The settings (``seed_drawn``: the seed was not given but drawn).
    rows
        One :class:`CoinRow` per ``k``, in increasing ``k``.
    times
        ``k`` → every rollout's absorption time (``NaN`` if censored).
    exact
        ``k`` → :class:`ExactAbsorption`.
    configs
        The simulated configurations (for the manifest).
    """

    p0: float
    seed: int
    seed_drawn: bool
    n_replicates: int
    rows: list[CoinRow]
    times: dict[int, np.ndarray]
    exact: dict[int, theory.AbsorptionTime]
    configs: list[RunConfig] = field(default_factory=list)

    target = "coin"

    def table(self) -> list[dict[str, Any]]:
        """The rows as dictionaries (the CSV's columns)."""
        return [{"k": r.k, "n_replicates": r.n_replicates, "horizon": r.horizon,
                 "censored": r.censored, "sim_mean": r.mean, "sim_se": r.se,
                 "sim_median": r.median, "exact_mean": r.exact_mean, "exact_sd": r.exact_sd,
                 "exact_median": r.exact_median, "diffusion_approx": r.diffusion, "z": r.z}
                for r in self.rows]

    def curves(self) -> list[dict[str, Any]]:
        """``P(T ≤ t)`` simulated, exact and in the diffusion limit, per ``k`` and ``t``."""
        out = []
        for row in self.rows:
            exact = self.exact[row.k].cdf
            sim = empirical_cdf(self.times[row.k], row.horizon)
            t = np.arange(row.horizon + 1)
            diffusion = 1.0 - diffusion_survival(self.p0, t / row.k)
            for i in range(row.horizon + 1):
                out.append({"k": row.k, "t": i, "t_over_k": i / row.k, "sim_cdf": sim[i],
                            "exact_cdf": exact[min(i, len(exact) - 1)],
                            "diffusion_cdf": diffusion[i]})
        return out

    def settings(self) -> dict[str, Any]:
        return {"p0": self.p0, "ks": [r.k for r in self.rows],
                "n_replicates": self.n_replicates, "tail": TAIL}

    def format(self) -> str:
        """The table as text."""
        lines = [f"Coin (p0 = {self.p0:g}) under replace: mean generations until p̂ is absorbed "
                 f"at 0 or 1; seed {self.seed}",
                 f"{'k':>6} {'rollouts':>9} {'horizon':>8} {'censored':>9} "
                 f"{'simulated ± SE':>18} {'exact (Markov)':>15} {'diffusion (approx.)':>21} "
                 f"{'z':>6}"]
        for r in self.rows:
            rel = (r.diffusion / r.exact_mean - 1) if r.exact_mean else math.nan
            sim = f"{_num(r.mean)} ± {_num(r.se)}"
            diffusion = f"{_num(r.diffusion)} ({rel:+.1%})"
            lines.append(f"{r.k:>6} {r.n_replicates:>9,} {r.horizon:>8,} {r.censored:>9,} "
                         f"{sim:>18} {_num(r.exact_mean):>15} {diffusion:>21} {r.z:>6.2f}")
        lines.append(f"horizon: first t with exact P(T > t) ≤ {TAIL:g}; z = (simulated − exact) "
                     "/ SE; the diffusion formula −2k[p ln p + (1−p) ln(1−p)] is an "
                     "approximation")
        return "\n".join(lines)


def _num(x: float) -> str:
    """A time in generations: 4 significant digits, at least 2 decimals below 100."""
    if not math.isfinite(x):
        return "—" if math.isnan(x) else ">G"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:,.1f}"


def coin_speed(*, p0: float = 0.5, ks: Sequence[int] = DEFAULT_KS,
               n_replicates: int = COIN_REPLICATES, seed: int | None = None,
               workers: int | None = None, progress: bool = False,
               log: Log = _quiet) -> CoinSpeed:
    """Simulate the coin's absorption time for each ``k`` and compare with the exact chain.

    Parameters
    ----------
    p0
        True probability of heads, strictly between 0 and 1.
    ks
        Tosses per generation, integers from 1 to :data:`MAX_K`.
    n_replicates
        Rollouts per ``k``.
    seed
        Seed of every simulation (each ``k`` is a different experiment, so its streams differ);
        drawn when ``None``.
    workers
        Threads; never changes the numbers.
    progress
        Show a progress bar per ``k``.
    log
        Receives a line per step.

    Returns
    -------
    CoinSpeed

    Notes
    -----
    Each ``k`` is simulated to the first horizon at which the exact probability of not being
    absorbed is at most :data:`TAIL`, so censoring is negligible (and reported).
    """
    p0 = check_float("p0", p0, low=0.0, high=1.0, low_open=True, high_open=True,
                     what="a probability strictly between 0 and 1")
    ks = _check_ks(ks)
    n_replicates = check_int("n_replicates", n_replicates, minimum=2)
    seed, drawn = _seed(seed)
    _log_seed(log, seed, drawn)
    rows, times, exacts, configs = [], {}, {}, []
    for k in ks:
        started = time.perf_counter()
        exact = exact_absorption(p0, k)
        horizon = max(exact.horizon, 1)
        config = RunConfig(family=Coin(p0=p0), n_samples=k, n_generations=horizon,
                           n_replicates=n_replicates, seed=seed)
        log(f"coin k = {k}: {n_replicates:,} rollouts × {horizon:,} generations")
        result = simulate(config, workers=workers, progress=progress)
        absorbed = result.replicates["absorption_time"].to_numpy(dtype=float, na_value=np.nan)
        del result  # the trajectories (rollouts × horizon floats) are not needed any more
        done = absorbed[~np.isnan(absorbed)]
        mean = float(done.mean()) if done.size else math.nan
        se = float(done.std(ddof=1) / math.sqrt(done.size)) if done.size > 1 else math.nan
        if se > 0:
            z = (mean - exact.mean) / se
        else:  # k = 1: every rollout is absorbed at t = 1, exactly as the chain says
            z = 0.0 if mean == exact.mean else math.copysign(math.inf, mean - exact.mean)
        seconds = time.perf_counter() - started
        rows.append(CoinRow(k, n_replicates, horizon, int(np.isnan(absorbed).sum()), mean, se,
                            censored_quantile(absorbed, 0.5), exact.mean, math.sqrt(exact.var),
                            exact.quantile(0.5), theory.coin_absorption_time_diffusion(p0, k),
                            float(z), seconds))
        times[k], exacts[k] = absorbed, exact
        configs.append(config)
        log(f"  mean {mean:.2f} ± {se:.2f} (exact {exact.mean:.2f}), "
            f"{rows[-1].censored} censored, {seconds:.1f} s")
    return CoinSpeed(p0, seed, drawn, n_replicates, rows, times, exacts, configs)


# -- the variance under fresh real data ---------------------------------------------------------


@dataclass(frozen=True)
class FractionResult:
    """Collapse times and variance curves for one fraction of fresh real data.

    All variances are relative to the truth's, ``var_t / var₀``.

    Attributes
    ----------
    real
        The fraction ``a``; ``n_real = ⌊aN⌋`` fresh samples per generation.
    policy
        ``replace`` for ``a = 0``, else ``mix`` with ``real = a`` and the rest from the model.
    times
        Every replicate's collapse time (``NaN``: not within ``G``).
    quantiles
        ``[5, 25, 50, 75, 95]`` percentiles of ``var_t/var₀`` across replicates, ``[5, G + 1]``.
    mean, se
        Mean of ``var_t/var₀`` across replicates and its standard error, ``[G + 1]``.
    exact_mean
        Exact ``E var_t / var₀`` (moment recursion), ``[G + 1]``.
    stationary
        Exact ``lim E var_t / var₀`` for ``a > 0`` (``None`` under ``replace``, where it is 0, or
        when no formula applies).
    law
        Exact ``P(T ≤ t)``, ``t = 0..G`` (Gaussian under ``replace`` only).
    log_crossing
        First ``t`` with exact ``E log var_t < log(c var₀)`` (Gaussian under ``replace`` only).
    seconds
        Wall time of the simulation.
    """

    real: float
    n_real: int
    policy: Policy
    times: np.ndarray
    quantiles: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    exact_mean: np.ndarray
    stationary: float | None
    law: np.ndarray | None
    log_crossing: int | None
    seconds: float

    @property
    def collapsed(self) -> float:
        """Fraction of replicates that collapsed within ``G``."""
        return float(np.mean(~np.isnan(self.times)))

    def time_quantile(self, q: float) -> float:
        return censored_quantile(self.times, q)

    def law_quantile(self, q: float) -> float:
        return math.nan if self.law is None else law_quantile(self.law, q)


@dataclass
class VarianceSpeed:
    """Time until the variance falls below ``c var₀`` against the fraction of fresh real data.

    Attributes
    ----------
    family
        The refitted family (Gaussian or GMM).
    n_samples, n_generations, n_replicates, collapse_fraction, seed, seed_drawn
        The settings.
    var0
        The truth's variance.
    cells
        One :class:`FractionResult` per fraction, in increasing order.
    configs
        The simulated configurations (for the manifest).
    """

    family: Family
    n_samples: int
    n_generations: int
    n_replicates: int
    collapse_fraction: float
    seed: int
    seed_drawn: bool
    var0: float
    cells: list[FractionResult]
    configs: list[RunConfig] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.family.name

    def table(self) -> list[dict[str, Any]]:
        """One row per fraction (the CSV's columns; ``inf`` = not within ``G``)."""
        rows = []
        for cell in self.cells:
            rows.append({
                "real": cell.real, "n_real": cell.n_real, "policy": cell.policy.describe(),
                "n_replicates": self.n_replicates, "collapsed_fraction": cell.collapsed,
                "sim_median": cell.time_quantile(0.5), "sim_q25": cell.time_quantile(0.25),
                "sim_q75": cell.time_quantile(0.75),
                "exact_median": cell.law_quantile(0.5), "exact_q25": cell.law_quantile(0.25),
                "exact_q75": cell.law_quantile(0.75),
                "exact_log_var_crossing": cell.log_crossing,
                "stationary_var": cell.stationary,
                "sim_mean_var_G": cell.mean[-1], "sim_se_var_G": cell.se[-1],
                "exact_mean_var_G": cell.exact_mean[-1],
            })
        return rows

    def curves(self) -> list[dict[str, Any]]:
        """Per fraction and generation: var/var₀ percentiles, mean, exact mean, cdfs of T."""
        out = []
        for cell in self.cells:
            sim_cdf = empirical_cdf(cell.times, self.n_generations)
            q = cell.quantiles
            for t in range(self.n_generations + 1):
                out.append({"real": cell.real, "t": t, "q05": q[0, t], "q25": q[1, t],
                            "median": q[2, t], "q75": q[3, t], "q95": q[4, t],
                            "mean": cell.mean[t], "se": cell.se[t],
                            "exact_mean": cell.exact_mean[t], "sim_cdf": sim_cdf[t],
                            "exact_cdf": math.nan if cell.law is None else cell.law[t]})
        return out

    def settings(self) -> dict[str, Any]:
        return {"family": {"name": self.family.name, **self.family.settings()},
                "real_fractions": [c.real for c in self.cells], "n_samples": self.n_samples,
                "n_generations": self.n_generations, "n_replicates": self.n_replicates,
                "collapse_fraction": self.collapse_fraction}

    def describe(self) -> str:
        return (f"{self.family.describe()}; N = {self.n_samples:,}, "
                f"{self.n_generations:,} generations, {self.n_replicates:,} replicates; "
                f"collapse: var < {self.collapse_fraction:g} × the truth's")

    def format(self) -> str:
        """The table as text."""
        g, c = self.n_generations, self.collapse_fraction
        lines = [f"{self.describe()}; seed {self.seed}",
                 f"{'real':>6} {'real/gen':>8} {'collapsed':>10} {'median T [IQR]':>22} "
                 f"{'exact T [IQR]':>15} {'stationary E var/var0':>22} "
                 f"{'var_G/var0: sim mean ± SE':>27} {'exact E':>9}"]
        above: list[str] = []
        below: list[str] = []
        for cell in self.cells:
            sim = _iqr(cell.time_quantile(0.25), cell.time_quantile(0.5),
                       cell.time_quantile(0.75), g)
            exact = (_iqr(cell.law_quantile(0.25), cell.law_quantile(0.5),
                          cell.law_quantile(0.75), g) if cell.law is not None else "—")
            if cell.stationary is None:
                level = "0 (collapses)" if cell.n_real == 0 else "—"
            else:
                level = f"{cell.stationary:.3f} {'>' if cell.stationary > c else '≤'} {c:g}"
                (above if cell.stationary > c else below).append(f"{cell.real:g}")
            final = f"{cell.mean[-1]:.4g} ± {cell.se[-1]:.2g}"
            lines.append(f"{cell.real:>6g} {cell.n_real:>8,} {cell.collapsed:>10.1%} "
                         f"{sim:>22} {exact:>15} {level:>22} {final:>27} "
                         f"{cell.exact_mean[-1]:>9.4g}")
        notes = [f"T = first generation with var < {c:g} var0; quartiles over replicates, "
                 f">{g:,} = not within the horizon"]
        for cell in self.cells:
            if cell.law is not None:
                notes.append(f"real {cell.real:g}: exact T from the first-passage law of the "
                             "log-χ² random walk log var_t; exact E log var crosses "
                             f"log {c:g} at t = {cell.log_crossing} (the mean log variance: a "
                             "reference for the median time, not the median itself)")
            if cell.n_real == 0:
                notes.append(f"real {cell.real:g}: E var_t = r^t is carried by rare paths "
                             "(a heavy tail) at large t: the simulated mean and its SE are "
                             "unreliable there, and usually below it")
        if above:
            notes.append(f"real {', '.join(above)}: theory: no collapse in expectation (the "
                         f"stationary E var stays above {c:g} var0); the variance fluctuates "
                         "around its level instead of going to 0, and T records its first dip "
                         "below the threshold")
        if below:
            notes.append(f"real {', '.join(below)}: the stationary E var is below {c:g} var0: "
                         "collapse by this definition even in expectation")
        return "\n".join(lines + notes)


def _iqr(q25: float, q50: float, q75: float, g: int) -> str:
    def show(x: float) -> str:
        if math.isnan(x):
            return "—"
        return f">{g:,}" if math.isinf(x) else f"{x:,.0f}"

    return f"{show(q50)} [{show(q25)}, {show(q75)}]"


def _variance_family(family: str | Family) -> Family:
    model = get_family(family)
    if not isinstance(model, (Gaussian, GMM)):
        raise ConfigError("family", "must be gaussian or gmm (the collapse time is defined by "
                          "the variance)", model.name)
    return model


def fraction_policy(real: float) -> Policy:
    """``replace`` for ``real = 0``, else ``mix`` with ``real`` fresh and the rest synthetic.

    ``Mix(real=a)`` without ``synthetic`` draws all ``N − ⌊aN⌋`` other samples from the model
    and carries nothing over, so the stationary formula applies with ``a = ⌊aN⌋/N`` (``synthetic
    = 1 − a`` could leave one sample carried over when ``aN`` is not an integer).
    """
    return Replace() if real == 0.0 else Mix(real=real)


def variance_speed(family: str | Family = "gaussian", *,
                   real_fractions: Sequence[float] = DEFAULT_REAL_FRACTIONS,
                   n_samples: int | None = None, n_generations: int | None = None,
                   n_replicates: int | None = None, collapse_fraction: float = 0.5,
                   seed: int | None = None, workers: int | None = None, progress: bool = False,
                   log: Log = _quiet) -> VarianceSpeed:
    """Collapse time of the variance against the fraction of fresh real data.

    Parameters
    ----------
    family
        ``"gaussian"``, ``"gmm"`` or such a family instance (its truth and fit settings).
    real_fractions
        Fractions ``a`` in ``[0, 1]`` of each training set drawn fresh from the truth.
    n_samples, n_generations, n_replicates
        ``N``, ``G`` and replicates per fraction; defaults in :data:`VARIANCE_DEFAULTS`.
    collapse_fraction
        ``c``: a replicate has collapsed at the first generation with ``var < c var₀``.
    seed
        Seed of every simulation (each fraction is a different experiment with its own streams);
        drawn when ``None``.
    workers
        Threads; never changes the numbers.
    progress
        Show a progress bar per fraction.
    log
        Receives a line per step.

    Returns
    -------
    VarianceSpeed
    """
    model = _variance_family(family)
    defaults = VARIANCE_DEFAULTS[model.name]
    n_samples = defaults["n_samples"] if n_samples is None else n_samples
    n_generations = defaults["n_generations"] if n_generations is None else n_generations
    n_replicates = defaults["n_replicates"] if n_replicates is None else n_replicates
    n_replicates = check_int("n_replicates", n_replicates, minimum=2)
    fractions = _check_fractions(real_fractions)
    seed, drawn = _seed(seed)
    _log_seed(log, seed, drawn)
    # Validates n_samples, n_generations, collapse_fraction and the family's own constraints.
    probe = RunConfig(family=model, n_samples=n_samples, n_generations=n_generations,
                      n_replicates=n_replicates, seed=seed, collapse_fraction=collapse_fraction)
    n, g, c = probe.n_samples, probe.n_generations, probe.collapse_fraction
    estimator = getattr(model, "estimator", "mle")  # every EM fit of a GMM matches the MLE
    var0 = float(model.metrics(model.truth()[None])["var"][0])
    if model.name == "gmm":
        from .compilation import cold_kernels

        if cold_kernels(model.kernels()):
            log("compiling the numerical kernels for this machine (first run only, about 20 s; "
                "cached afterwards)")
    cells, configs = [], []
    for real in fractions:
        started = time.perf_counter()
        policy = fraction_policy(real)
        config = RunConfig(family=model, policy=policy, n_samples=n, n_generations=g,
                           n_replicates=n_replicates, seed=seed, collapse_fraction=c)
        log(f"{model.name} real = {real:g} ({policy.describe()}): {n_replicates:,} replicates × "
            f"{g:,} generations, N = {n:,}")
        result = simulate(config, workers=workers, progress=progress)
        var = result.trajectories("var") / var0
        times = result.replicates["collapse_time"].to_numpy(dtype=float, na_value=np.nan)
        del result
        parts = theory.pieces(policy, n)
        exact_mean = theory.variance_moments(1.0, n, g, parts, divisor=estimator)[0]
        stationary = None
        if parts.real > 0 and estimator == "mle" and parts.carry == 0:
            stationary = theory.gaussian_mix_stationary_var(1.0, n, parts.real / n)
        law, crossing = None, None
        if model.name == "gaussian" and parts.real == 0:
            law = gaussian_collapse_time_cdf(n, g, collapse_fraction=c, estimator=estimator)
            step = float(theory.gaussian_expected_log_var(1.0, n, 1, estimator))
            if math.isfinite(step) and step < 0:
                crossing = math.floor(math.log(c) / step) + 1  # first t with t·step < log c
        cells.append(FractionResult(
            real, parts.real, policy, times,
            np.percentile(var, [5, 25, 50, 75, 95], axis=0), var.mean(axis=0),
            var.std(axis=0, ddof=1) / math.sqrt(var.shape[0]), exact_mean, stationary, law,
            crossing, time.perf_counter() - started))
        configs.append(config)
        cell = cells[-1]
        spread = _iqr(cell.time_quantile(0.25), cell.time_quantile(0.5),
                      cell.time_quantile(0.75), g)
        log(f"  collapsed {cell.collapsed:.1%}, collapse time median [IQR] {spread}, "
            f"{cell.seconds:.1f} s")
    return VarianceSpeed(model, n, g, n_replicates, c, seed, drawn, var0, cells, configs)


# -- the command: compute, draw, write a folder -------------------------------------------------


@dataclass
class SpeedReport:
    """A finished ``collapse-speed`` command.

    Attributes
    ----------
    result
        :class:`CoinSpeed` or :class:`VarianceSpeed`.
    path
        The results folder.
    manifest
        What was written to ``manifest.json``.
    """

    result: CoinSpeed | VarianceSpeed | TruncationSpeed
    path: Path
    manifest: dict[str, Any]


def default_speed_out(target: str, root: Path | str = "runs") -> Path:
    """``runs/collapse-speed-<target>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if taken."""
    return stamped_folder(root, f"collapse-speed-{target}", reuse_empty=True)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return repr(float(value))  # full precision; inf and nan as Python spells them
        return value

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([cell(v) for v in row.values()])


def collapse_speed(target: str, *, out: Path | str | None = None, plots: bool = True,
                   progress: bool = False, log: Log = _quiet, argv: list[str] | None = None,
                   workers: int | None = None, **settings: Any) -> SpeedReport:
    """Run one collapse-speed comparison and write its results folder.

    The folder holds ``collapse-speed.csv`` (one row per ``k`` or fraction), ``curves.csv``
    (the curves behind the figure), ``collapse-speed.png`` and ``manifest.json`` (settings,
    seed, versions, argv, times). It is written under a hidden ``.partial`` name and renamed
    into place when complete, so a folder that looks finished is finished.

    Parameters
    ----------
    target
        ``"coin"`` (:func:`coin_speed`), ``"gaussian"`` or ``"gmm"`` (:func:`variance_speed`),
        ``"ngram"`` (:func:`modelcollapse.ngram_speed.truncation_speed`).
    out
        The folder (new or empty); default :func:`default_speed_out`.
    plots
        Draw the figure.
    progress, log, workers
        Passed on.
    **settings
        Keyword arguments of :func:`coin_speed`, :func:`variance_speed` or
        :func:`~modelcollapse.ngram_speed.truncation_speed`.

    Returns
    -------
    SpeedReport
    """
    if target not in TARGETS:
        raise ConfigError("target", f"must be one of {', '.join(TARGETS)}", target)
    path = prepare_output(out) if out is not None else default_speed_out(target)
    started, t0 = now(), time.perf_counter()
    result: CoinSpeed | VarianceSpeed | TruncationSpeed
    if target == "coin":
        result = coin_speed(progress=progress, log=log, workers=workers, **settings)
    elif target == "ngram":
        result = truncation_speed(progress=progress, log=log, workers=workers, **settings)
    else:
        result = variance_speed(target, progress=progress, log=log, workers=workers, **settings)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _write_csv(tmp / "collapse-speed.csv", result.table())
        _write_csv(tmp / "curves.csv", result.curves())
        figures: list[str] = []
        manifest: dict[str, Any] = {
            "kind": "collapse-speed",
            "format": 1,
            "status": "complete",
            "target": target,
            "settings": result.settings(),
            "seed": result.seed,
            "seed_drawn": result.seed_drawn,
            "runs": [config.to_dict() for config in result.configs],
            "files": {"table": "collapse-speed.csv", "curves": "curves.csv",
                      "figures": figures},
            "notes": "times in generations; inf = not within the horizon",
            "started": started,
        }
        if plots:
            try:
                # matplotlib is imported only when a figure is wanted
                from .plots import save_figure
                from .speed_plots import speed_figure

                save_figure(speed_figure(result), tmp / "collapse-speed.png")
                figures.append("collapse-speed.png")
            except Exception as err:
                warnings.warn(f"the figure was not written: {type(err).__name__}: {err}",
                              RuntimeWarning, stacklevel=2)
                manifest["figures_error"] = f"{type(err).__name__}: {err}"
        manifest.update({"finished": now(), "wall_seconds": round(time.perf_counter() - t0, 3),
                         **environment(argv)})
        write_json(tmp / "manifest.json", manifest)
        try:
            os.replace(tmp, path)
        except OSError:
            # The folder received files while the comparison ran (another command chose it
            # too): publish beside it rather than throw the results away.
            taken, path = path, free_folder(path, reuse_empty=True)
            os.replace(tmp, path)
            log(f"{taken} was filled by another process meanwhile; results written to {path}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SpeedReport(result, path, manifest)
