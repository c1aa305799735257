"""Collapse speed of the variance: the time until ``var < c var₀`` against the fresh-data fraction.

:func:`variance_speed` simulates the Gaussian or the GMM under ``replace`` (no fresh data) and
``mix`` with each fraction of fresh real data, and records each replicate's collapse time beside
the exact ``E var_t`` (moment recursion), the stationary level, and, for the Gaussian under
``replace``, the collapse time's exact law (see the package's docstring for the maths).
:class:`VarianceSpeed` holds the table and the curves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import theory
from ...config import RunConfig
from ...errors import ConfigError
from ...families import GMM, Family, Gaussian, get_family
from ...policies import Mix, Policy, Replace
from ...runner.compilation import COMPILE_NOTICE, cold_kernels
from ...runner.driver import simulate
from ...statistics import censored_quantile, empirical_cdf, law_quantile
from ...validation import check_float, check_int
from ..common import Log, log_seed, quiet, resolve_seed

#: Fractions of fresh real data compared by default.
DEFAULT_REAL_FRACTIONS = (0.0, 0.01, 0.05, 0.1, 0.5)

#: Default sizes per family: the ``replace`` case collapses well within the horizon and each
#: command takes about a minute or less on two cores.
VARIANCE_DEFAULTS: dict[str, dict[str, int]] = {
    "gaussian": {"n_samples": 100, "n_generations": 1000, "n_replicates": 1000},
    "gmm": {"n_samples": 1000, "n_generations": 2000, "n_replicates": 100},
}

gaussian_collapse_time_cdf = theory.gaussian_collapse_time_cdf


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
                   log: Log = quiet) -> VarianceSpeed:
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
    seed, drawn = resolve_seed(seed)
    # Validates n_samples, n_generations, collapse_fraction and the family's own constraints.
    probe = RunConfig(family=model, n_samples=n_samples, n_generations=n_generations,
                      n_replicates=n_replicates, seed=seed, collapse_fraction=collapse_fraction)
    log_seed(log, seed, drawn)  # once every setting is known to be good
    n, g, c = probe.n_samples, probe.n_generations, probe.collapse_fraction
    estimator = getattr(model, "estimator", "mle")  # every EM fit of a GMM matches the MLE
    var0 = float(model.metrics(model.truth()[None])["var"][0])
    if model.name == "gmm":

        if cold_kernels(model.kernels()):
            log(COMPILE_NOTICE)
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
