"""Collapse speed of the coin: the absorption time against ``k``, simulated beside the exact chain.

:func:`coin_speed` simulates, for each ``k``, the coin refitted to its own ``k`` tosses under
``replace`` until the exact probability of not being absorbed is below :data:`TAIL`, and compares
the mean absorption time with the exact ``(k + 1)``-state Markov chain and Kimura's diffusion
formula (see the package's docstring for the maths). :class:`CoinSpeed` holds the table and the
curves.
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
from ...families import Coin
from ...runner.driver import simulate
from ...statistics import censored_quantile, empirical_cdf
from ...validation import check_float, check_int
from ..common import Log, log_seed, quiet, resolve_seed

#: Tosses per generation compared by default.
DEFAULT_KS = (1, 2, 5, 10, 100, 1000)

#: Largest ``k``: the exact chain has ``k + 1`` states and is iterated about ``14 k`` times, and
#: each rollout's trajectory (``14 k`` generations) is kept in memory.
MAX_K = 1000

#: Rollouts per ``k``. The coin's replicate blocks hold 4096 rollouts and are always drawn whole,
#: so any count up to 4096 costs the same time.
COIN_REPLICATES = 4000

#: The coin's horizon is the first ``t`` with exact ``P(T > t)`` at most this.
TAIL = 1e-6


def exact_absorption(p0: float, k: int, *, tail: float = TAIL) -> theory.AbsorptionTime:
    """The coin's exact absorption-time law under ``replace``, tabulated until ``P(T > t) ≤ tail``.

    See :func:`modelcollapse.theory.coin_absorption_time`.
    """
    return theory.coin_absorption_time(p0, k, tail=tail)


diffusion_survival = theory.coin_survival_diffusion


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
               log: Log = quiet) -> CoinSpeed:
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
    seed, drawn = resolve_seed(seed)
    RunConfig(family=Coin(p0=p0), n_samples=ks[-1], n_generations=1,  # the sizes' bounds
              n_replicates=n_replicates, seed=seed)
    log_seed(log, seed, drawn)
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
