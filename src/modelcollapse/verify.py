"""``modelcollapse verify``: the simulator against the exact results of DESIGN §6.

A fixed, named set of *cases* runs seeded simulations whose answers are known exactly (closed
forms, finite Markov chains, exact moment recursions; see :mod:`modelcollapse.theory`) and
compares them through :mod:`modelcollapse.checks`: each sub-check computes
``z = (simulated − exact) / SE`` and passes when ``|z|`` is below one critical value, two-sided
at family-wise ``α = 1e-3`` with a Bonferroni correction over every sub-check of the set that ran
(the ``--quick`` set has fewer sub-checks, hence its own, smaller critical value). A correct
simulator therefore fails a run with probability at most ``1e-3`` (up to the normal
approximation of each ``z``); the sizes are chosen so that the bugs this field's code typically
has (an off-by-one in ``N`` or ``t``, the wrong variance divisor, a variance passed as a standard
deviation, swapped mixing fractions, carry-over drawn with replacement, a min-count filter) move
some ``z`` far beyond it.

The quick set runs every case but one with fewer replicates, in seconds; its GMM case compiles
the EM kernels on a machine's first run (about 20–40 s, cached afterwards).

:func:`verify` runs a set and, given a folder, writes

``checks.csv``
    one row per sub-check: ``case, check, exact, simulated, se, z, critical, passed``;
``verify.json``
    the summary: set, seed, ``α``, critical ``|z|``, counts, per-case timings, versions, argv;
``qq.png``, ``trajectories-<family>.png``
    quantile–quantile plots of simulated against exact laws, and simulated means ± 2 SE against
    the exact curves over the generations (unless ``plots=False``).

Every random number comes from the ``seed`` through :class:`numpy.random.SeedSequence`, keyed by
the case's name, so a verify run is deterministic and a case's numbers do not depend on which
other cases ran. Replicate ``i`` of a case is the same in the quick and the full set (only the
number of replicates differs), as everywhere in modelcollapse.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from . import theory
from .api import simulate
from .checks import ALPHA, Check, critical_z, mean_check, proportion_check, with_bonferroni
from .config import RunConfig
from .errors import ConfigError
from .families import GMM, Categorical, Coin, Gaussian
from .policies import Accumulate, AccumulateSubsample, Mix, Policy
from .provenance import environment, now
from .results import prepare_output, stamped_folder, write_json

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .results import Result

#: The default seed, so that ``modelcollapse verify`` gives the same numbers on every machine.
DEFAULT_SEED = 20261121
#: Generations shown in the trajectory plots of long runs (the interesting part is early).
PLOT_GENERATIONS = 40
#: Probability levels of the QQ plots of continuous laws: a regular grid, plus the tails.
QQ_LEVELS = np.concatenate([[1e-3, 3e-3], (np.arange(100) + 0.5) / 100, [0.997, 0.999]])

#: Exit statuses of the command: every check passed / some check failed.
EXIT_PASSED = 0
EXIT_FAILED = 1


# -- what a case returns ------------------------------------------------------------------------


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


#: Every case, in the order of the table (filled by :func:`_case`).
CASES: list[Case] = []


def _case(name: str, family: str, title: str, *, full: int,
          quick: int | None) -> Callable[[Callable[[int, int], Outcome]],
                                         Callable[[int, int], Outcome]]:
    """Register the decorated function as case ``name``."""
    def register(run: Callable[[int, int], Outcome]) -> Callable[[int, int], Outcome]:
        if any(c.name == name for c in CASES):
            raise ValueError(f"verify case {name!r} is defined twice")
        CASES.append(Case(name, family, title, run, full, quick))
        return run
    return register


def select_cases(quick: bool) -> list[Case]:
    """The cases of the quick or the full set."""
    return [c for c in CASES if not quick or c.quick_replicates is not None]


def case_seed(seed: int, name: str) -> int:
    """A 63-bit seed for case ``name``, keyed by its name (never by its position in the set)."""
    key = zlib.crc32(name.encode())
    words = np.random.SeedSequence(seed, spawn_key=(key,)).generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


# -- helpers shared by the cases ------------------------------------------------------------


def _simulate(family: Any, policy: Policy | str, *, n_samples: int, n_generations: int,
              n_replicates: int, seed: int) -> Result:
    return simulate(RunConfig(family=family, policy=policy, n_samples=n_samples,
                              n_generations=n_generations, n_replicates=n_replicates, seed=seed))


def _band(values: np.ndarray, horizon: int = PLOT_GENERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Mean over replicates and its standard error, for generations ``0..horizon``."""
    values = np.asarray(values, dtype=float)[:, :horizon + 1]
    se = values.std(axis=0, ddof=1) / math.sqrt(values.shape[0])
    return values.mean(axis=0), se


def _fraction_band(hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _absorption_times(result: Result) -> np.ndarray:
    """The coin's absorption times as floats (NaN: not absorbed within the run)."""
    column = result.replicates["absorption_time"]
    return column.to_numpy(dtype=float, na_value=np.nan)


def _mixture_variance(gmm: GMM) -> float:
    """Total variance ``Σ w (σ² + μ²) − (Σ w μ)²`` of the GMM's truth."""
    w, mu, sd = (np.asarray(x, dtype=float) for x in (gmm.weights, gmm.means, gmm.stds))
    w = w / w.sum()
    return float(w @ (sd**2 + mu**2) - (w @ mu) ** 2)


# -- coin -------------------------------------------------------------------------------------

COIN_P0 = 0.3
COIN_K = 10


@_case("coin-replace", "coin", "coin, replace: martingale, heterozygosity decay, fixation and "
       "the exact absorption-time law", full=200_000, quick=20_000)
def coin_replace(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``: moments, ``P(fixed at 1) = p0`` and the absorption-time law.

    250 generations absorb every rollout but a fraction ``≈ 0.9^250 ≈ 4e-12`` (the chain's
    slowest transient eigenvalue is ``1 − 1/k``). A second run with ``p0 = ½`` checks the classic
    mean absorption time, 12.59 generations.
    """
    p0, k, horizon = COIN_P0, COIN_K, 250
    result = _simulate(Coin(p0=p0), "replace", n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p = result.trajectories("p")
    times = _absorption_times(result)
    law = theory.coin_absorption_time(p0, k, horizon=horizon)
    checks = [mean_check(f"E p_{t} = p0", p[:, t], p0) for t in (1, 5, 20)]
    checks += [mean_check(f"E p_{t}(1 − p_{t})", p[:, t] * (1 - p[:, t]),
                          float(theory.coin_heterozygosity(p0, k, t))) for t in (1, 3, 10)]
    checks.append(proportion_check("P(fixed at 1) = p0", p[:, -1] == 1.0,
                                   theory.coin_fixation_probability(p0)))
    checks.append(mean_check("E absorption time", times, law.mean, variance=law.var))
    checks += [proportion_check(f"P(absorbed by t = {t})", times <= t, float(law.cdf[t]))
               for t in (5, 10, 20)]
    classic = _simulate(Coin(p0=0.5), "replace", n_samples=k, n_generations=horizon,
                        n_replicates=n_replicates, seed=seed)
    classic_law = theory.coin_absorption_time(0.5, k, horizon=horizon)
    checks.append(mean_check("E absorption time, p0 = ½ (12.59)", _absorption_times(classic),
                             classic_law.mean, variance=classic_law.var))

    ts = np.arange(PLOT_GENERATIONS + 1)
    mean, se = _band(p * (1 - p))
    absorbed, absorbed_se = _fraction_band(times[:, None] <= ts[None, :])
    series = [
        Series("coin replace: heterozygosity", "E[p_t (1 − p_t)]", mean, se,
               theory.coin_heterozygosity(p0, k, ts)),
        Series("coin replace: absorbed by t", "P(T ≤ t)", absorbed, absorbed_se,
               law.cdf[:PLOT_GENERATIONS + 1], limit=1.0),
    ]
    t_qq = 5
    pmf = theory.coin_law(p0, k, t_qq)[t_qq - 1]
    t_values = np.arange(horizon + 1, dtype=float)
    qq = [
        discrete_qq(f"coin replace: absorption time T (p0 = {p0:g}, k = {k})",
                    "absorption time T", times, t_values, np.diff(law.cdf, prepend=0.0)),
        discrete_qq(f"coin replace: p_{t_qq} against the exact chain", f"p_{t_qq}", p[:, t_qq],
                    np.arange(k + 1) / k, pmf),
    ]
    return Outcome(checks, series, qq)


@_case("coin-mix", "coin", "coin, mix (real 0.2, synthetic 0.5, carry-over 0.3): exact law, "
       "mean, variance and first touch of 0 or 1", full=200_000, quick=20_000)
def coin_mix(n_replicates: int, seed: int) -> Outcome:
    """``k = 20``: 4 fresh tosses, 10 of the model and 6 carried over a generation.

    Moments from the recursion (:func:`~modelcollapse.theory.proportion_moments`), the law of
    ``p_t`` and the first time it touches 0 or 1 from the exact ``(k + 1)``-state chain.
    """
    p0, k, horizon = COIN_P0, 20, 30
    policy, parts = Mix(real=0.2, synthetic=0.5), theory.Pieces("mix", 4, 10, 6)
    result = _simulate(Coin(p0=p0), policy, n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p, times = result.trajectories("p"), _absorption_times(result)
    mean, square = theory.proportion_moments(np.array([p0]), k, horizon, parts)
    mean, var = mean[:, 0], square[:, 0] - mean[:, 0] ** 2
    checks = [mean_check(f"E p_{horizon}", p[:, horizon], float(mean[horizon]))]
    # (p_t − E p_t)² has expectation Var p_t: a mean check of i.i.d. values like any other.
    checks += [mean_check(f"Var p_{t}", (p[:, t] - mean[t]) ** 2, float(var[t]))
               for t in (2, 5, horizon)]
    pmf = theory.coin_mix_law(p0, k, horizon, parts)[horizon - 1]
    checks.append(proportion_check(f"P(p_{horizon} ≤ 0.25)", p[:, horizon] <= 0.25,
                                   float(pmf[:k // 4 + 1].sum())))
    hit = theory.coin_hitting_cdf(p0, k, horizon, parts)
    checks.append(proportion_check(f"P(p_t ∈ {{0, 1}} for some t ≤ {horizon})", times <= horizon,
                                   float(hit[horizon])))
    sim, se = _band((p - mean) ** 2)
    series = [Series("coin mix: variance of p_t", "Var p_t", sim, se, var[:sim.size])]
    qq = [discrete_qq(f"coin mix: p_{horizon} against the exact chain", f"p_{horizon}",
                      p[:, horizon], np.arange(k + 1) / k, pmf)]
    return Outcome(checks, series, qq)


@_case("coin-accumulate", "coin", "coin, accumulate: martingale, exact variance, absorption "
       "only in generation 1", full=200_000, quick=20_000)
def coin_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``: the pool keeps every toss, so only an all-equal first set absorbs.

    Once a head (and a tail) is in the pool it stays, so the absorbed fraction is exactly
    ``p0^k + (1 − p0)^k`` (≈ 0.028) at every generation: accumulated data stop the collapse.
    """
    p0, k, horizon = COIN_P0, COIN_K, 50
    result = _simulate(Coin(p0=p0), Accumulate(), n_samples=k, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    p = result.trajectories("p")
    mean, square = theory.proportion_moments(np.array([p0]), k, horizon,
                                             theory.Pieces("accumulate", 0, k))
    var = square[:, 0] - mean[:, 0] ** 2
    absorbed = np.isfinite(_absorption_times(result))
    checks = [mean_check(f"E p_{t} = p0", p[:, t], p0) for t in (10, horizon)]
    checks.append(mean_check(f"Var p_{horizon}", (p[:, horizon] - p0) ** 2, float(var[horizon])))
    checks.append(proportion_check(f"P(absorbed by t = {horizon}) = p0^k + (1 − p0)^k",
                                   absorbed, theory.coin_accumulate_hitting_probability(p0, k)))
    sim, se = _band((p - p0) ** 2)
    series = [Series("coin accumulate: variance of p_t", "Var p_t", sim, se, var[:sim.size])]
    return Outcome(checks, series)


# -- gaussian ---------------------------------------------------------------------------------

GAUSS_MEAN, GAUSS_STD = 1.0, 2.0  # var_0 = 4: a variance/std mix-up cannot hide behind 1 = 1²
GAUSS_VAR = GAUSS_STD**2


def _gaussian_replace(estimator: str, n_replicates: int, seed: int) -> Outcome:
    """``N = 20`` under ``replace``: variance, log variance, drift of the mean, W2² and KL.

    ``E var_t`` and ``E kl_t`` are checked only early: ``var_t`` is a product of independent
    scaled chi-squares, ever more skewed, and the means of ``var_t`` and ``1/var_t`` at large
    ``t`` rest on rare paths (DESIGN §6); ``log var_t`` is a sum and stays well behaved, and
    ``W2²`` grows with ``σ_t`` only through ``(σ_t − σ₀)²``.
    """
    n, horizon = 20, 30
    family = Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD, estimator=estimator)
    result = _simulate(family, "replace", n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    w2, kl = result.trajectories("w2"), result.trajectories("kl")
    ts = np.arange(PLOT_GENERATIONS + 1)[:horizon + 1]
    checks = [mean_check(f"E var_{t}", var[:, t],
                         float(theory.gaussian_expected_var(GAUSS_VAR, n, t, estimator)))
              for t in (1, 5, 10)]
    checks.append(mean_check(
        f"E log var_{horizon}", np.log(var[:, horizon]),
        float(theory.gaussian_expected_log_var(GAUSS_VAR, n, horizon, estimator)),
        variance=float(theory.gaussian_var_log_var(n, horizon))))
    checks.append(mean_check(
        f"Var mean_{horizon}", (mean[:, horizon] - GAUSS_MEAN) ** 2,
        float(theory.gaussian_var_mean(GAUSS_VAR, n, horizon, estimator))))
    checks += [mean_check(f"E w2²_{t}", w2[:, t] ** 2,
                          float(theory.gaussian_expected_w2_squared(GAUSS_VAR, n, t, estimator)))
               for t in (5, horizon)]
    checks += [mean_check(f"E kl_{t}", kl[:, t],
                          float(theory.gaussian_expected_kl(GAUSS_VAR, n, t, estimator)))
               for t in (1, 5)]
    v_mean, v_se = _band(var)
    log_mean, log_se = _band(np.log(var))
    m_mean, m_se = _band((mean - GAUSS_MEAN) ** 2)
    label = f"gaussian replace, {estimator}"
    series = [
        Series(f"{label}: variance", "E var_t", v_mean, v_se,
               theory.gaussian_expected_var(GAUSS_VAR, n, ts, estimator),
               note="late means rest on rare paths"),
        Series(f"{label}: log variance", "E log var_t", log_mean, log_se,
               theory.gaussian_expected_log_var(GAUSS_VAR, n, ts, estimator)),
        Series(f"{label}: drift of the mean", "Var mean_t", m_mean, m_se,
               theory.gaussian_var_mean(GAUSS_VAR, n, ts, estimator)),
        Series(f"{label}: squared W2 distance to the truth", "E w2_t²", *_band(w2**2),
               theory.gaussian_expected_w2_squared(GAUSS_VAR, n, ts, estimator)),
    ]
    divisor = n if estimator == "mle" else n - 1
    qq = [QQ(f"{label}: var_1 against var_0 χ²({n - 1}) / {divisor}", "var_1", var[:, 1],
             lambda q: GAUSS_VAR * stats.chi2.ppf(q, n - 1) / divisor)]
    return Outcome(checks, series, qq)


@_case("gaussian-replace-mle", "gaussian", "gaussian, replace, MLE: E var_t = var_0 r^t, "
       "E log var_t, Var mean_t, E w2², E kl, law of var_1", full=200_000, quick=20_000)
def gaussian_replace_mle(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_replace`."""
    return _gaussian_replace("mle", n_replicates, seed)


@_case("gaussian-replace-unbiased", "gaussian", "gaussian, replace, unbiased: E var_t = var_0, "
       "E log var_t → −∞, Var mean_t = var_0 t/N, E w2², E kl", full=200_000, quick=20_000)
def gaussian_replace_unbiased(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_gaussian_replace`."""
    return _gaussian_replace("unbiased", n_replicates, seed)


def _gaussian_policy(policy: Policy, parts: theory.Pieces, *, n: int, horizon: int,
                     var_times: Sequence[int], offset_times: Sequence[int],
                     n_replicates: int, seed: int, title: str, family: Any = None,
                     var0: float = GAUSS_VAR, mean0: float = GAUSS_MEAN,
                     limit: tuple[str, float] | None = None) -> Outcome:
    """``E var_t`` and ``E (mean_t − μ₀)²`` under ``policy`` from the exact moment recursion.

    Parameters
    ----------
    policy, parts
        The policy simulated and how it builds a training set, written out by hand from
        DESIGN §2 (not :func:`~modelcollapse.theory.pieces` of the policy), so that a wrong split
        in the policy cannot hide behind the same split in the theory.
    var_times, offset_times
        Generations at which ``E var_t`` and ``E (mean_t − μ₀)²`` are checked. The offset at
        generation 2 is where drawing carried-over data without replacement matters most.
    family
        The fitted family (default the Gaussian with ``var_0 = 4``); anything whose fit matches
        the sample's mean and variance (a GMM fitted by EM) obeys the same recursion.
    limit
        ``(name, value)`` of a closed-form long-run ``E var``, checked at ``horizon`` and drawn as
        a dashed line.
    """
    family = family or Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD)
    result = _simulate(family, policy, n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    var, mean = result.trajectories("var"), result.trajectories("mean")
    exact_var, exact_offset = theory.variance_moments(var0, n, horizon, parts)
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact_var[t])) for t in var_times]
    if limit is not None:
        checks.append(mean_check(f"E var_{horizon} = {limit[0]}", var[:, horizon], limit[1]))
    checks += [mean_check(f"E (mean_{t} − μ₀)²", (mean[:, t] - mean0) ** 2,
                          float(exact_offset[t])) for t in offset_times]
    sim, se = _band(var)
    series = [Series(title, "E var_t", sim, se, exact_var[:sim.size],
                     limit=None if limit is None else limit[1])]
    return Outcome(checks, series)


@_case("gaussian-mix", "gaussian", "gaussian, mix (real 0.3, synthetic 0.7), MLE: the "
       "stationary variance in closed form", full=200_000, quick=20_000)
def gaussian_mix(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: by generation 40, ``E var_t`` is the stationary value to within 1e-14.

    The closed form ``a(N(2 − a) − 1)/(aN(2 − a) + 1 − a) var_0`` is checked at generation 40,
    the exact recursion (:func:`~modelcollapse.theory.variance_moments`) on the way there.
    """
    real, n = 0.3, 20
    stationary = theory.gaussian_mix_stationary_var(GAUSS_VAR, n, real)
    return _gaussian_policy(Mix(real=real, synthetic=1 - real), theory.Pieces("mix", 6, 14),
                            n=n, horizon=40, var_times=(1, 5), offset_times=(40,),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian mix (real 0.3): variance → stationary",
                            limit=("stationary", stationary))


@_case("gaussian-mix-carry", "gaussian", "gaussian, mix with carry-over (real 0.3, synthetic "
       "0.4, carried 0.3): exact moment recursion", full=200_000, quick=20_000)
def gaussian_mix_carry(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: 6 fresh, 8 model and 6 carried-over samples (without replacement) a set."""
    return _gaussian_policy(Mix(real=0.3, synthetic=0.4), theory.Pieces("mix", 6, 8, 6), n=20,
                            horizon=40, var_times=(5, 40), offset_times=(2, 40),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian mix with carry-over: variance")


@_case("gaussian-accumulate", "gaussian", "gaussian, accumulate, MLE: E var_t = var_0 "
       "Π(1 − 1/(N i²))", full=200_000, quick=20_000)
def gaussian_accumulate(n_replicates: int, seed: int) -> Outcome:
    """``N = 10``: the product formula at ``t = 1, 3, 30``, and its limit ``sin(x)/x`` drawn."""
    n, horizon, times = 10, 30, (1, 3, 30)
    var = _simulate(Gaussian(mean=GAUSS_MEAN, std=GAUSS_STD), Accumulate(), n_samples=n,
                    n_generations=horizon, n_replicates=n_replicates,
                    seed=seed).trajectories("var")
    exact = theory.gaussian_accumulate_expected_var(GAUSS_VAR, n, np.arange(horizon + 1))
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact[t])) for t in times]
    sim, se = _band(var)
    series = [Series("gaussian accumulate: variance", "E var_t", sim, se, exact[:sim.size],
                     limit=theory.gaussian_accumulate_limit_var(GAUSS_VAR, n))]
    return Outcome(checks, series)


@_case("gaussian-accumulate-subsample", "gaussian", "gaussian, accumulate-subsample, MLE: "
       "exact moment recursion", full=200_000, quick=20_000)
def gaussian_accumulate_subsample(n_replicates: int, seed: int) -> Outcome:
    """``N = 20``: each set is 20 drawn without replacement from the growing pool."""
    return _gaussian_policy(AccumulateSubsample(), theory.Pieces("accumulate-subsample", 0, 20),
                            n=20, horizon=20, var_times=(5, 20), offset_times=(2, 20),
                            n_replicates=n_replicates, seed=seed,
                            title="gaussian accumulate-subsample: variance")


# -- categorical --------------------------------------------------------------------------------


@_case("categorical-replace", "categorical", "categorical, replace: E support_t and the "
       "Gini–Simpson decay (1 − 1/N)^t", full=100_000, quick=5_000)
def categorical_replace(n_replicates: int, seed: int) -> Outcome:
    """``V = 100`` tokens, Zipf 1.1, ``N = 200``."""
    family, n, horizon = Categorical(vocab=100, zipf=1.1), 200, 20
    result = _simulate(family, "replace", n_samples=n, n_generations=horizon,
                       n_replicates=n_replicates, seed=seed)
    q = family.truth()
    support, gini = result.trajectories("support"), result.trajectories("gini_simpson")
    exact = theory.categorical_expected_gini_simpson(q, n, np.arange(horizon + 1))
    exact_support = theory.categorical_expected_support(q, n, horizon,
                                                        theory.Pieces("mix", 0, n))
    checks = [mean_check("E support_1", support[:, 1],
                         theory.categorical_expected_support_one(q, n))]
    checks += [mean_check(f"E support_{t}", support[:, t], float(exact_support[t]))
               for t in (5, 20)]
    checks += [mean_check(f"E gini_simpson_{t}", gini[:, t], float(exact[t]))
               for t in (1, 5, 20)]
    sim, se = _band(gini)
    series = [Series("categorical replace: Gini–Simpson diversity", "E[1 − Σ q_t²]", sim, se,
                     exact[:sim.size]),
              Series("categorical replace: support", "E support_t", *_band(support),
                     exact_support)]
    return Outcome(checks, series)


#: Generations after which the last-survivor loop gives up (never reached in practice).
SURVIVOR_HORIZON = 5000


@_case("categorical-last-survivor", "categorical", "categorical, replace: token v is the last "
       "survivor with probability q_v", full=200_000, quick=20_000)
def categorical_last_survivor(n_replicates: int, seed: int) -> Outcome:
    """``q = (0.4, 0.3, 0.2, 0.1)``, ``N = 10``, refitted until one token is left.

    The surviving token is not a recorded metric, so this case runs the family's own ``sample``
    and ``fit`` in a loop over generations, vectorised over replicates; replicates with one token
    left are absorbed and drop out of the loop.
    """
    q = (0.4, 0.3, 0.2, 0.1)
    family, n = Categorical(probs=q), 10
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    params = np.tile(family.truth(), (n_replicates, 1))
    for _ in range(SURVIVOR_HORIZON):
        alive = np.flatnonzero((params > 0).sum(axis=1) > 1)
        if alive.size == 0:
            break
        data = family.sample(params[alive], n, rng, stats=True)
        params[alive], _info = family.fit(data, rng=rng, previous=params[alive])
    sole = (params == 1.0)  # a row with a single token left is a unit vector
    exact = theory.last_survivor_probability(np.asarray(q))
    checks = [proportion_check(f"P(token {v + 1} survives) = {exact[v]:g}", sole[:, v],
                               float(exact[v])) for v in range(len(q))]
    return Outcome(checks)


# -- gmm ----------------------------------------------------------------------------------------


@_case("gmm-replace", "gmm", "gmm (EM), replace: E var_t = var_0 ((N − 1)/N)^t by the "
       "mixture-variance identity", full=100_000, quick=4096)
def gmm_replace(n_replicates: int, seed: int) -> Outcome:
    """Default GMM (means ∓2, stds 1, var_0 = 5), ``N = 20``, three generations."""
    family, n, horizon = GMM(), 20, 3
    var0 = _mixture_variance(family)
    var = _simulate(family, "replace", n_samples=n, n_generations=horizon,
                    n_replicates=n_replicates, seed=seed).trajectories("var")
    exact = theory.gaussian_expected_var(var0, n, np.arange(horizon + 1))
    checks = [mean_check(f"E var_{t}", var[:, t], float(exact[t])) for t in (1, horizon)]
    sim, se = _band(var)
    series = [Series("gmm replace: mixture variance", "E var_t", sim, se, exact)]
    return Outcome(checks, series)


@_case("gmm-mix", "gmm", "gmm (EM), mix (real 0.5): the Gaussian moment recursion holds for EM",
       full=40_000, quick=None)
def gmm_mix(n_replicates: int, seed: int) -> Outcome:
    """Default GMM, ``N = 20``, half fresh data: ``E var_t``, ``E mean_t²`` from the recursion."""
    family = GMM()
    var0 = _mixture_variance(family)
    mean0 = float(np.dot(family.weights, family.means) / np.sum(family.weights))
    return _gaussian_policy(Mix(real=0.5), theory.Pieces("mix", 10, 10), n=20, horizon=10,
                            var_times=(2, 10), offset_times=(10,), n_replicates=n_replicates,
                            seed=seed, family=family, var0=var0,
                            mean0=mean0, title="gmm mix (real 0.5): mixture variance")


# -- running a set --------------------------------------------------------------------------


@dataclass
class CaseReport:
    """One case's sub-checks (with the set's critical value), size and wall time."""

    case: Case
    n_replicates: int
    checks: list[Check]
    seconds: float
    outcome: Outcome = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass
class Report:
    """The result of :func:`verify`.

    Attributes
    ----------
    quick
        Whether the quick set ran.
    seed, alpha, critical
        The base seed, the family-wise false-alarm rate and the Bonferroni critical ``|z|``.
    cases
        One :class:`CaseReport` per case, in order.
    path
        The folder written, if any.
    figures
        File names of the figures in it.
    wall_seconds
        Wall time of the whole verification.
    left_out
        Names of the cases not in this set (the quick set leaves out the slowest).
    """

    quick: bool
    seed: int
    alpha: float
    critical: float
    cases: list[CaseReport]
    path: Path | None = None
    figures: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    left_out: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[tuple[str, Check]]:
        """Every sub-check with its case's name."""
        return [(r.case.name, c) for r in self.cases for c in r.checks]

    @property
    def n_checks(self) -> int:
        return sum(len(r.checks) for r in self.cases)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for r in self.cases for c in r.checks)

    @property
    def passed(self) -> bool:
        return self.n_passed == self.n_checks

    @property
    def exit_status(self) -> int:
        return EXIT_PASSED if self.passed else EXIT_FAILED

    @property
    def set_name(self) -> str:
        return "quick" if self.quick else "full"

    def summary(self) -> str:
        """``"N of M checks passed (critical |z| = …, α = 1e-3 Bonferroni over M)"``."""
        return (f"{self.n_passed} of {self.n_checks} checks passed (critical |z| = "
                f"{self.critical:.2f}, α = {_alpha_text(self.alpha)} Bonferroni over "
                f"{self.n_checks})")

    def table(self) -> str:
        """The pass/fail table: case, check, exact, simulated ± SE, z, result."""
        header = ("case", "check", "exact", "simulated ± SE", "z", "result")
        rows = [(name, c.name, f"{c.exact:.6g}", f"{c.simulated:.6g} ± {c.se:.2g}",
                 f"{c.z:+.2f}", "PASS" if c.passed else "FAIL") for name, c in self.checks]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        right = {2, 3, 4}  # numbers align on the right

        def line(row: Sequence[str]) -> str:
            cells = [cell.rjust(w) if i in right else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _alpha_text(alpha: float) -> str:
    """``1e-3`` rather than ``0.001`` or ``1e-03``."""
    mantissa, exponent = f"{alpha:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if float(f"{alpha:.0e}") == alpha else f"{alpha:g}"


def needs_compiling(quick: bool) -> bool:
    """Whether a case of the set will compile numba kernels first (about 20 s, once)."""
    from .compilation import cold_kernels

    if not any(c.family == "gmm" for c in select_cases(quick)):
        return False
    return bool(cold_kernels(GMM().kernels()))


def default_out(root: Path | str = "runs") -> Path:
    """``runs/verify-<YYYYmmdd-HHMMSS>``, with a numeric suffix if that exists already."""
    return stamped_folder(root, "verify")


def run_cases(cases: Sequence[Case], *, quick: bool, seed: int, alpha: float = ALPHA,
              progress: Callable[[str], None] | None = None) -> list[CaseReport]:
    """Run ``cases`` and give every sub-check the set's Bonferroni critical value."""
    reports = []
    for i, case in enumerate(cases, start=1):
        if progress is not None:
            progress(f"[{i}/{len(cases)}] {case.name}")
        n_replicates = case.replicates(quick)
        t0 = time.perf_counter()
        outcome = case.run(n_replicates, case_seed(seed, case.name))
        reports.append(CaseReport(case, n_replicates, outcome.checks,
                                  time.perf_counter() - t0, outcome))
    checks = with_bonferroni([c for r in reports for c in r.checks], alpha)
    for report in reports:
        report.checks, checks = checks[:len(report.checks)], checks[len(report.checks):]
    return reports


def verify(*, quick: bool = False, seed: int = DEFAULT_SEED, out: Path | str | None = None,
           save: bool = True, plots: bool = True, alpha: float = ALPHA,
           progress: Callable[[str], None] | None = None,
           on_start: Callable[[list[Case]], None] | None = None,
           argv: list[str] | None = None) -> Report:
    """Run the verification set and (by default) write its folder.

    Parameters
    ----------
    quick
        Run the quick set (fewer cases and replicates; under a minute on two cores).
    seed
        Base seed (default :data:`DEFAULT_SEED`); each case's stream is keyed by its name.
    out
        The folder (new or empty); default ``runs/verify-<timestamp>``.
    save
        Write the folder at all (``False``: in memory only).
    plots
        Write the PNG figures into the folder.
    alpha
        Family-wise false-alarm rate; each sub-check is two-sided at ``alpha / M``.
    progress
        Called with a short message as each case starts.
    on_start
        Called with the cases of the set once the arguments are known to be good, before the
        first case runs.
    argv
        The command line to record in ``verify.json``.

    Returns
    -------
    Report
        ``report.passed``, ``report.table()``, ``report.summary()``, ``report.exit_status``.

    Raises
    ------
    ConfigError
        For a negative seed, an ``alpha`` outside (0, 1) or an ``out`` folder that holds files,
        before anything runs.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", "must be an integer ≥ 0", seed)
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", "must lie strictly between 0 and 1", alpha)
    path = prepare_output(out if out is not None else default_out()) if save else None
    started, t0 = now(), time.perf_counter()
    cases = select_cases(quick)
    if on_start is not None:
        on_start(cases)
    reports = run_cases(cases, quick=quick, seed=int(seed), alpha=alpha, progress=progress)
    report = Report(quick, int(seed), alpha, critical_z(alpha, sum(len(r.checks)
                                                                  for r in reports)),
                    reports, left_out=[c.name for c in CASES if c not in cases])
    report.wall_seconds = time.perf_counter() - t0
    if path is not None:
        _write_folder(report, path, plots=plots, started=started, argv=argv, t0=t0)
    return report


# -- the folder -------------------------------------------------------------------------------

CHECKS_FILE = "checks.csv"
SUMMARY_FILE = "verify.json"


def _write_folder(report: Report, path: Path, *, plots: bool, started: str,
                  argv: list[str] | None, t0: float) -> None:
    """Write everything into a hidden partial folder, then rename it into place (as a run does)."""
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_checks(report, tmp / CHECKS_FILE)
        figures_error = None
        if plots:
            try:
                report.figures = [p.name for p in write_figures(report, tmp)]
            except Exception as err:  # a figure must never hide the verdict
                figures_error = f"{type(err).__name__}: {err}"
        report.wall_seconds = time.perf_counter() - t0
        write_json(tmp / SUMMARY_FILE, _summary(report, started=started, argv=argv,
                                                figures_error=figures_error))
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.path = path


def _write_checks(report: Report, file: Path) -> None:
    with file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "check", "exact", "simulated", "se", "z", "critical", "passed"])
        for name, c in report.checks:
            writer.writerow([name, c.name, repr(c.exact), repr(c.simulated), repr(c.se),
                             repr(c.z), repr(c.critical), c.passed])


def _summary(report: Report, *, started: str, argv: list[str] | None,
             figures_error: str | None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "kind": "verify",
        "format": 1,
        "set": report.set_name,
        "seed": report.seed,
        "alpha": report.alpha,
        "correction": "bonferroni",
        "critical_z": report.critical,
        "n_checks": report.n_checks,
        "n_passed": report.n_passed,
        "passed": report.passed,
        "cases": [{"name": r.case.name, "title": r.case.title, "family": r.case.family,
                   "n_replicates": r.n_replicates, "seed": case_seed(report.seed, r.case.name),
                   "n_checks": len(r.checks), "passed": r.passed,
                   "seconds": round(r.seconds, 3)} for r in report.cases],
        "left_out": report.left_out,
        "files": {"checks": CHECKS_FILE, "figures": report.figures},
        "started": started,
        "finished": now(),
        "wall_seconds": round(report.wall_seconds, 3),
        **environment(argv),
    }
    if figures_error is not None:
        summary["figures_error"] = figures_error
    return summary


# -- figures (matplotlib is imported here only) -----------------------------------------------

#: Colour of the title of a panel whose case failed.
FAIL_COLOUR = "#b91c1c"


def write_figures(report: Report, folder: Path) -> list[Path]:
    """``qq.png`` and one ``trajectories-<family>.png`` per family, into ``folder``."""
    from .plots import save_figure  # matplotlib only when figures are wanted

    paths = []
    qq = [(panel, r.passed) for r in report.cases for panel in r.outcome.qq]
    if qq:
        paths.append(save_figure(_qq_figure(report, qq), folder / "qq.png"))
    families = list(dict.fromkeys(r.case.family for r in report.cases))
    for family in families:
        series = [(s, r.passed) for r in report.cases if r.case.family == family
                  for s in r.outcome.series]
        if series:
            fig = _trajectory_figure(report, family, series)
            paths.append(save_figure(fig, folder / f"trajectories-{family}.png"))
    return paths


def _subtitle(report: Report, what: str) -> str:
    if not report.passed:
        what += " Red title (FAIL): a panel of a case with a failing check."
    return f"{report.set_name} set · seed {report.seed} · {report.summary()}\n{what}"


def _panel_title(ax: Axes, title: str, passed: bool) -> None:
    import textwrap

    from .plots import STYLE

    text = "\n".join(textwrap.wrap(title if passed else f"FAIL · {title}", 60))
    ax.set_title(text, loc="left", fontsize=STYLE.label_size,
                 color=STYLE.truth if passed else FAIL_COLOUR)


def _grid(n: int) -> tuple[int, int]:
    ncols = min(n, 3)
    return math.ceil(n / ncols), ncols


def _trajectory_figure(report: Report, family: str, series: list[tuple[Series, bool]]) -> Any:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plots import STYLE, _figure_legend, _new_figure, _note

    nrows, ncols = _grid(len(series))
    fig, axes = _new_figure(
        f"modelcollapse verify: {family}, simulated against exact theory",
        _subtitle(report, "Band: simulated mean ± 2 standard errors over the replicates; black "
                          "line: the exact value from modelcollapse.theory."),
        panel_size=(4.4, 3.2), nrows=nrows, ncols=ncols)
    for ax, (s, passed) in zip(axes, series, strict=False):
        t = np.arange(s.mean.size)
        ax.fill_between(t, s.mean - 2 * s.se, s.mean + 2 * s.se, color=STYLE.main, alpha=0.25,
                        linewidth=0)
        ax.plot(t, s.mean, color=STYLE.main, linewidth=1.0, marker="o", markersize=2.5)
        ax.plot(t, s.exact, color=STYLE.truth, linewidth=1.3)
        if s.limit is not None:
            ax.axhline(s.limit, color=STYLE.muted, linestyle="--", linewidth=1.0)
        _panel_title(ax, s.title, passed)
        ax.set_xlabel("generation t", fontsize=STYLE.label_size)
        ax.set_ylabel(s.ylabel, fontsize=STYLE.label_size)
        if s.note:
            _note(ax, s.note, loc="upper right")
    for ax in axes[len(series):]:
        ax.set_visible(False)
    handles: list[Any] = [
        Patch(facecolor=STYLE.main, alpha=0.35, edgecolor=STYLE.main,
              label="simulated mean ± 2 SE"),
        Line2D([], [], color=STYLE.truth, linewidth=1.3, label="exact"),
    ]
    if any(s.limit is not None for s, _ in series):
        handles.append(Line2D([], [], color=STYLE.muted, linestyle="--",
                              label="exact long-run value (stationary or limit)"))
    _figure_legend(fig, handles)
    return fig


def _qq_figure(report: Report, panels: list[tuple[QQ, bool]]) -> Any:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import AutoLocator

    from .plots import STYLE, _figure_legend, _new_figure, _note

    nrows, ncols = _grid(len(panels))
    fig, axes = _new_figure(
        "modelcollapse verify: simulated against exact laws (QQ)",
        _subtitle(report, "Each point: a quantile of the simulated values (y) against the same "
                          "quantile of the exact law (x), at levels 0.001 … 0.999; for a "
                          "discrete law, one point per value, at the middle of its step. On the "
                          "line y = x when the laws agree."),
        panel_size=(4.4, 3.6), nrows=nrows, ncols=ncols)
    for ax, (panel, passed) in zip(axes, panels, strict=False):
        levels = QQ_LEVELS if panel.levels is None else panel.levels
        exact = np.asarray(panel.exact_quantile(levels), dtype=float)
        simulated = np.quantile(panel.simulated[np.isfinite(panel.simulated)], levels,
                                method="inverted_cdf")
        low, high = min(exact.min(), simulated.min()), max(exact.max(), simulated.max())
        ax.plot([low, high], [low, high], color=STYLE.truth, linewidth=1.2)
        ax.plot(exact, simulated, linestyle="none", marker="o", markersize=3.5,
                color=STYLE.main, alpha=0.6)
        ax.xaxis.set_major_locator(AutoLocator())  # quantiles need not be integers
        _panel_title(ax, panel.title, passed)
        ax.set_xlabel(f"exact quantile of {panel.label}", fontsize=STYLE.label_size)
        ax.set_ylabel(f"simulated quantile of {panel.label}", fontsize=STYLE.label_size)
        _note(ax, f"{panel.simulated.size:,} replicates", loc="lower right")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    _figure_legend(fig, [
        Line2D([], [], linestyle="none", marker="o", color=STYLE.main, label="simulated quantile"),
        Line2D([], [], color=STYLE.truth, linewidth=1.2, label="exact (y = x)"),
    ])
    return fig
