"""What curation does to a refitted model: the reward it gains and the diversity and tails it loses.

The question behind ``modelcollapse collapse-speed curation``: when the synthetic part of every
training set is *selected* (best-of-K by a reward, an oracle verifier, perplexity filtering)
rather than taken as sampled, the model is pushed towards what the selection prefers. How fast
does its mean reward rise, how fast do its diversity and its tails fall, and does a fraction of
fresh real data still set a floor under them?

For every family (:data:`FAMILIES`), every curation strength and every fraction of real data
(``replace`` for 0, else ``mix`` with ``⌊aN⌋`` fresh samples of the truth and the rest curated
from the last model) it simulates the loop and records per generation, mean ± SE over the
replicates:

* ``reward``: the model's mean reward ``E_model r`` (the run's metric ``reward``);
* ``diversity``: a spread relative to the truth's (1 = the truth's);
* ``tail``: how much of the truth's tail the model keeps (1 = all of it);
* ``accept_rate``: the share of candidates kept (1 without curation).

==============  ==================  ===================================  ==========================
family          reward              diversity                            tail
==============  ==================  ===================================  ==========================
``coin``        ``0,1`` (heads)     ``p(1 − p) / p0(1 − p0)``            share of replicates with
                                                                         both outcomes (not
                                                                         absorbed)
``categorical`` ``truth``           ``entropy / H(q)``                   ``rare_mass`` (the truth's
                                                                         rarest 10% of mass
                                                                         still possible)
``gmm``         ``truth``           ``var / var₀``                       ``tail_mass / 0.01``
``ngram``       ``truth``           ``entropy / entropy₀``               ``tail_share /
                                                                         tail_share₀``
==============  ==================  ===================================  ==========================

The curation strengths: best-of ``K`` for each ``K`` of ``curate_ks`` (``K = 1`` is no curation,
exactly: the baseline, always included), the oracle verifier for each strictness ``s`` and the
top-``q`` likelihood filter for each ``q`` (:mod:`modelcollapse.curation`).

**The rewards.** The coin prefers heads (``r0, r1 = 0, 1``), so ``E r = p``. The other families
are scored by ``truth``: the truth's log-likelihood of a sample (for the categorical ``log q_v``,
for the ngram per token of a sequence). It is what a reward model fitted to real data rewards
("typical" samples), it means the same thing in every family (``E_model r`` is minus the
cross-entropy of the model against the truth, in nats), and at generation 0 it is minus the
truth's own entropy, so any rise above that value is the model becoming *more typical than the
truth*. (The categorical's ``rank`` reward, ``−v/V``, tilts by at most a factor ``e`` between
the most and least frequent token, in arbitrary units; it sharpens the same way, more slowly.)
For the categorical the oracle verifier at ``s = 1`` keeps ``v`` with probability ``q_v / q_1``,
so its kept law ``∝ p_v q_v`` is that of best-of-∞ by the ``truth`` reward. For the coin at
``p0 = ½`` the oracle verifier believes heads and tails equally likely and accepts everything:
its cells are the uncurated loop in law (though not draw for draw).

**The ngram's truth** is the synthetic order-2 language with every continuation possible
(``density = 1``), Kneser–Ney smoothing: with the default sparse language (``density = 0.2``)
every smoothed model can generate a transition the truth forbids, and its mean ``truth`` reward
is ``−∞``, mathematically, whatever the curation.

Generation 1 is fitted to fresh truth (training set 1 is never curated), so curation first acts
on training set 2. The study reports simulations only, every number with its standard error
over replicates; the exact results that exist (the coin's curated chains, one exact step of the
categorical, the Gaussian's verified precision) are in ``predict`` and ``verify``
(:mod:`modelcollapse.theory.curation`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...config import RunConfig
from ...curation import MAX_K, Curator, get_curator
from ...errors import ConfigError
from ...families import GMM, Categorical, Coin, Family, NGram
from ...policies import Policy
from ...runner.blocks import default_workers, simulate_arrays
from ...runner.compilation import COMPILE_NOTICE, cold_kernels
from ...runner.memory import check_memory
from ...runner.progress import progress_bar
from ...validation import check_float, check_int
from ..common import Log, log_seed, quiet, resolve_seed
from .variance import fraction_policy

#: Families compared, in the order of the figure's rows.
FAMILIES = ("coin", "categorical", "gmm", "ngram")
#: Curation strengths compared by default (``K = 1``: no curation).
DEFAULT_CURATE_KS = (1, 2, 4, 16)
#: The verifier's strictnesses: at s = 4 the ngram's acceptance of a whole sequence (the
#: geometric mean over its tokens of (q / max q)^s) starts near 1/200, beyond the verifier's
#: budget of 64 candidates per kept unit, and the cell would measure the fill-in of rejected
#: text instead of the verifier.
DEFAULT_STRICTNESSES = (1.0, 2.0)
DEFAULT_KEEPS = (0.5,)
DEFAULT_REALS = (0.0, 0.1)
#: What every cell records, per generation.
MEASURES = ("reward", "diversity", "tail", "accept_rate")

#: Default sizes per family: the whole study in about two minutes on two cores. The coin's
#: replicate blocks hold 4096 rollouts, the categorical's 256 and the GMM's 32, and blocks are
#: always drawn whole, so these counts cost no more than smaller ones (two blocks run on two
#: cores at once).
CURATION_DEFAULTS: dict[str, dict[str, int]] = {
    "coin": {"n_samples": 100, "n_generations": 20, "n_replicates": 4000},
    "categorical": {"n_samples": 1000, "n_generations": 20, "n_replicates": 512},
    "gmm": {"n_samples": 500, "n_generations": 30, "n_replicates": 64},
    "ngram": {"n_samples": 5000, "n_generations": 20, "n_replicates": 32},
}
#: Sizes of ``quick=True`` (seconds in all; for tests and a first look).
CURATION_QUICK: dict[str, dict[str, int]] = {
    "coin": {"n_samples": 20, "n_generations": 6, "n_replicates": 4000},
    "categorical": {"n_samples": 200, "n_generations": 6, "n_replicates": 64},
    "gmm": {"n_samples": 60, "n_generations": 4, "n_replicates": 4},
    "ngram": {"n_samples": 500, "n_generations": 4, "n_replicates": 4},
}


@dataclass(frozen=True)
class FamilySetup:
    """A family as the study runs it: its model, reward and what its measures are.

    Attributes
    ----------
    name
        The family's name.
    family
        The model (its truth and fit).
    reward
        The reward spec (``--reward``).
    truth_words, reward_words, diversity_words, tail_words
        The truth and the measures in a few words (figure labels, the printed table).
    diversity_metric, tail_metric
        The family metric behind each measure (``p`` for the coin's diversity and tail).
    """

    name: str
    family: Family
    reward: str
    truth_words: str
    reward_words: str
    diversity_metric: str
    diversity_words: str
    tail_metric: str
    tail_words: str


def family_setup(name: str) -> FamilySetup:
    """The study's setup of family ``name`` (one of :data:`FAMILIES`)."""
    if name == "coin":
        return FamilySetup(
            "coin", Coin(p0=0.5), reward="0,1", truth_words="p0 = 0.5",
            reward_words="P(heads)", diversity_metric="p",
            diversity_words="p(1 − p) ÷ truth's", tail_metric="p",
            tail_words="replicates with both outcomes")
    if name == "categorical":
        return FamilySetup(
            "categorical", Categorical(vocab=100, zipf=1.0), reward="truth",
            truth_words="Zipf, V = 100", reward_words="E log q_v (nats)",
            diversity_metric="entropy", diversity_words="entropy ÷ truth's",
            tail_metric="rare_mass", tail_words="rarest 10% of mass still possible")
    if name == "gmm":
        return FamilySetup(
            "gmm", GMM(), reward="truth", truth_words="½N(−2, 1) + ½N(2, 1)",
            reward_words="E log p_truth (nats)", diversity_metric="var",
            diversity_words="variance ÷ truth's", tail_metric="tail_mass",
            tail_words="tail mass ÷ truth's (0.01)")
    if name == "ngram":
        # A dense truth (every continuation possible): with the default sparse one, any
        # smoothed model can generate a transition the truth forbids, and its mean truth reward
        # is −∞ (see NGram.reward).
        return FamilySetup(
            "ngram", NGram(density=1.0), reward="truth",
            truth_words="dense order-2 language, V = 100, Kneser–Ney",
            reward_words="E log p_truth / token (nats)", diversity_metric="entropy",
            diversity_words="unigram entropy ÷ truth's", tail_metric="tail_share",
            tail_words="rarest 10% of types' share ÷ truth's")
    raise ConfigError("families", f"must list names among {', '.join(FAMILIES)}", name)


@dataclass(frozen=True)
class Strength:
    """One curation setting: its curator and its labels.

    Attributes
    ----------
    kind
        ``"none"`` (best-of ``K = 1``), ``"best-of"``, ``"verifier"`` or ``"top"``.
    setting
        ``K``, ``s`` or ``q`` (1 for none).
    curator
        The curator the runs use.
    """

    kind: str
    setting: float
    curator: Curator

    @property
    def label(self) -> str:
        if self.kind == "none":
            return "no curation (K = 1)"
        if self.kind == "best-of":
            return f"best-of K = {self.setting:g}"
        if self.kind == "verifier":
            return f"verifier s = {self.setting:g}"
        return f"top q = {self.setting:g}"


def strengths(curate_ks: Sequence[int] = DEFAULT_CURATE_KS,
              verifier_strictnesses: Sequence[float] = DEFAULT_STRICTNESSES,
              curate_keeps: Sequence[float] = DEFAULT_KEEPS) -> list[Strength]:
    """The curation settings compared: the baseline, best-of by ``K``, verifier, top ``q``.

    The baseline (best-of ``K = 1``, which is no curation exactly) is always the first, whether
    ``curate_ks`` lists 1 or not.
    """
    ks = sorted(set(_values("curate_ks", curate_ks, integer=True)) - {1})
    ss = sorted(set(_values("verifier_strictnesses", verifier_strictnesses)))
    qs = sorted(set(_values("curate_keeps", curate_keeps)), reverse=True)
    for s in ss:
        if not 0.0 < s <= 1e6:
            raise ConfigError("verifier_strictnesses", "must be numbers in (0, 1e6] (0 accepts "
                              "everything: that is the baseline)", s)
    for q in qs:
        if not 1.0 / MAX_K <= q < 1.0:
            raise ConfigError("curate_keeps", f"must be fractions in [{1.0 / MAX_K:g}, 1) (the "
                              "share kept; 1 keeps everything: that is the baseline)", q)
    out = [Strength("none", 1.0, get_curator("best-of", k=1))]
    out += [Strength("best-of", float(k), get_curator("best-of", k=k)) for k in ks]
    out += [Strength("verifier", s, get_curator("verifier", strictness=s)) for s in ss]
    out += [Strength("top", q, get_curator("top", keep=q)) for q in qs]
    return out


def _values(name: str, values: Any, *, integer: bool = False) -> list[Any]:
    if isinstance(values, (int, float, str)):
        values = [values]
    try:
        items = list(values)
    except TypeError:
        raise ConfigError(name, "must be a list of numbers", values) from None
    if integer:
        out = []
        for v in items:
            k = check_int(name, v, minimum=1)
            if k > MAX_K:
                raise ConfigError(name, f"must be integers between 1 and {MAX_K}", k)
            out.append(k)
        return out
    return [check_float(name, v, low=-math.inf, high=math.inf, what="a list of numbers")
            for v in items]


@dataclass
class CurationCell:
    """One (family, curation strength, real fraction) triple.

    Attributes
    ----------
    family, strength, real, policy
        The cell's settings.
    mean, se
        Per measure (:data:`MEASURES`), the mean and SE over replicates, ``[G + 1]``.
    seconds
        Wall time of the simulation.
    """

    family: str
    strength: Strength
    real: float
    policy: Policy
    mean: dict[str, np.ndarray]
    se: dict[str, np.ndarray]
    seconds: float

    @property
    def label(self) -> str:
        return self.strength.label

    def half_time(self, measure: str = "diversity", fraction: float = 0.5) -> float:
        """First generation at which the mean ``measure`` is below ``fraction`` of the truth's
        (``inf``: not within the run)."""
        below = np.flatnonzero(self.mean[measure] < fraction)
        return float(below[0]) if below.size else math.inf


@dataclass
class FamilyStudy:
    """One family's cells and sizes."""

    setup: FamilySetup
    n_samples: int
    n_generations: int
    n_replicates: int
    truth: dict[str, float]
    cells: list[CurationCell]

    @property
    def name(self) -> str:
        return self.setup.name


@dataclass
class CurationSpeed:
    """The whole comparison (see the module notes)."""

    families: list[FamilyStudy]
    real_fractions: tuple[float, ...]
    seed: int
    seed_drawn: bool
    configs: list[RunConfig] = field(default_factory=list)

    @property
    def target(self) -> str:
        return "curation"

    @property
    def cells(self) -> list[CurationCell]:
        return [c for f in self.families for c in f.cells]

    def family(self, name: str) -> FamilyStudy:
        return next(f for f in self.families if f.name == name)

    def cell(self, family: str, kind: str, setting: float, real: float) -> CurationCell:
        return next(c for c in self.family(family).cells if c.strength.kind == kind
                    and c.strength.setting == setting and c.real == real)

    def table(self) -> list[dict[str, Any]]:
        """One row per cell: every measure at the last generation, mean ± SE (``inf`` in
        ``diversity_half_t``: the mean diversity never fell below half the truth's)."""
        rows = []
        for study in self.families:
            g = study.n_generations
            for c in study.cells:
                row: dict[str, Any] = {
                    "family": study.name, "curation": c.strength.kind,
                    "setting": c.strength.setting, "label": c.label, "real": c.real,
                    "policy": c.policy.describe(), "n_samples": study.n_samples,
                    "n_generations": g, "n_replicates": study.n_replicates,
                    "reward_metric": study.setup.reward,
                    "diversity_metric": study.setup.diversity_metric,
                    "tail_metric": study.setup.tail_metric,
                    "reward_0": study.truth["reward"]}
                for m in MEASURES:
                    row[f"{m}_G"] = float(c.mean[m][g])
                    row[f"{m}_G_se"] = float(c.se[m][g])
                row["reward_gain_G"] = float(c.mean["reward"][g] - study.truth["reward"])
                row["diversity_half_t"] = c.half_time("diversity")
                row["tail_half_t"] = c.half_time("tail")
                rows.append(row)
        return rows

    def curves(self) -> list[dict[str, Any]]:
        """Per cell and generation: every measure's mean and SE."""
        out = []
        for study in self.families:
            for c in study.cells:
                for t in range(study.n_generations + 1):
                    row: dict[str, Any] = {"family": study.name, "curation": c.strength.kind,
                                           "setting": c.strength.setting, "real": c.real,
                                           "t": t}
                    for m in MEASURES:
                        row[m] = float(c.mean[m][t])
                        row[f"{m}_se"] = float(c.se[m][t])
                    out.append(row)
        return out

    def settings(self) -> dict[str, Any]:
        first = self.families[0].cells if self.families else []
        kinds: dict[str, list[float]] = {"best-of": [], "verifier": [], "top": []}
        for c in first:
            if c.strength.kind in kinds and c.strength.setting not in kinds[c.strength.kind]:
                kinds[c.strength.kind].append(c.strength.setting)
        return {"families": {f.name: {"family": {"name": f.name, **f.setup.family.settings()},
                                      "reward": f.setup.reward, "n_samples": f.n_samples,
                                      "n_generations": f.n_generations,
                                      "n_replicates": f.n_replicates}
                             for f in self.families},
                "curate_ks": [1, *[int(k) for k in kinds["best-of"]]],
                "verifier_strictnesses": kinds["verifier"], "curate_keeps": kinds["top"],
                "real_fractions": list(self.real_fractions)}

    def describe(self) -> str:
        parts = [f"{f.name} (N = {f.n_samples:,}, {f.n_generations} generations, "
                 f"{f.n_replicates:,} replicates)" for f in self.families]
        return "curation × fresh real data: " + "; ".join(parts)

    def format(self) -> str:
        """The table as text, one block per family."""
        lines = [f"{self.describe()}; seed {self.seed}"]
        for study in self.families:
            s, g = study.setup, study.n_generations
            lines.append("")
            lines.append(f"{s.family.describe()}; reward {s.reward} ({s.reward_words}); truth's "
                         f"reward {study.truth['reward']:.4g}")
            lines.append(f"{'curation':<20} {'real':>5} {f'reward t={g}':>17} "
                         f"{'diversity':>15} {'tail':>15} {'accept rate':>13} "
                         f"{'div. T½':>8}")
            for c in study.cells:
                half = c.half_time("diversity")
                lines.append(
                    f"{c.label:<20} {c.real:>5g} {_pm(c.mean['reward'][g], c.se['reward'][g]):>17} "
                    f"{_pm(c.mean['diversity'][g], c.se['diversity'][g]):>15} "
                    f"{_pm(c.mean['tail'][g], c.se['tail'][g]):>15} "
                    f"{c.mean['accept_rate'][g]:>13.3f} "
                    f"{'>' + str(g) if math.isinf(half) else f'{half:.0f}':>8}")
            lines.append(f"diversity: {s.diversity_words}; tail: {s.tail_words}")
        lines.append("")
        lines.append("mean ± SE over replicates at the last generation; div. T½ = first "
                     "generation at which the mean diversity is below half the truth's. "
                     "Generation 1 is fitted to fresh truth: curation first acts on training "
                     "set 2.")
        return "\n".join(lines)


def _pm(mean: float, se: float) -> str:
    if mean != 0 and (abs(mean) < 1e-3 or abs(mean) >= 1e4):
        return f"{mean:.2e}±{se:.1e}"
    return f"{mean:.4f}±{se:.4f}"


def _families(families: Sequence[str] | str) -> list[str]:
    names = [n.strip() for n in families.split(",")] if isinstance(families, str) \
        else list(families)
    if not names or any(not isinstance(n, str) or n not in FAMILIES for n in names):
        bad = next((n for n in names if n not in FAMILIES), "an empty list")
        raise ConfigError("families", f"must list names among {', '.join(FAMILIES)}", bad)
    return [n for n in FAMILIES if n in names]  # the figure's order, once each


def _reals(values: Sequence[float]) -> tuple[float, ...]:
    out = sorted(set(_values("real_fractions", values)))
    if not out or out[0] < 0.0 or out[-1] >= 1.0:
        raise ConfigError("real_fractions", "must be a list of numbers in [0, 1) (at 1 nothing "
                          "is generated, so nothing is curated)", out[0] if out else "none")
    return tuple(out)


def _measures(setup: FamilySetup, metrics: dict[str, np.ndarray],
              truth: dict[str, float]) -> dict[str, np.ndarray]:
    """Every measure of :data:`MEASURES` per replicate and generation, ``[R, G + 1]``, from a
    run's trajectories (``metrics``: metric → ``[R, G + 1]``)."""
    reward = metrics["reward"]
    # An uncurated run records no accept_rate: every draw was kept.
    accept = metrics.get("accept_rate", np.ones_like(reward))
    if setup.name == "coin":
        p = metrics["p"]
        p0 = truth["p"]
        diversity = p * (1.0 - p) / (p0 * (1.0 - p0))
        tail = ((p > 0.0) & (p < 1.0)).astype(float)
    else:
        diversity = metrics[setup.diversity_metric] / truth[setup.diversity_metric]
        tail = metrics[setup.tail_metric] / truth[setup.tail_metric]
    return {"reward": reward, "diversity": diversity, "tail": tail, "accept_rate": accept}


def _trajectories(config: RunConfig, *, workers: int | None,
                  progress: bool) -> dict[str, np.ndarray]:
    """Every metric of ``config``'s run, ``[R, G + 1]``.

    The blocks are run directly rather than through :func:`~modelcollapse.runner.driver.simulate`,
    whose summary sets theory beside the run: the study reads only the trajectories, and the
    uncurated loop's exact laws do not describe a curated one.
    """
    check_memory(config, workers=workers or default_workers(), in_memory=True)
    total = config.n_replicates * config.n_generations
    with progress_bar(total, config.model.name, enabled=progress) as advance:
        return simulate_arrays(config, workers=workers, progress=advance).metrics


def curation_speed(families: Sequence[str] | str = FAMILIES, *,
                   curate_ks: Sequence[int] = DEFAULT_CURATE_KS,
                   verifier_strictnesses: Sequence[float] = DEFAULT_STRICTNESSES,
                   curate_keeps: Sequence[float] = DEFAULT_KEEPS,
                   real_fractions: Sequence[float] = DEFAULT_REALS,
                   n_samples: int | None = None, n_generations: int | None = None,
                   n_replicates: int | None = None, quick: bool = False,
                   seed: int | None = None, workers: int | None = None, progress: bool = False,
                   log: Log = quiet) -> CurationSpeed:
    """Reward, diversity, tail and acceptance per generation for every curation setting.

    Parameters
    ----------
    families
        Names among :data:`FAMILIES` (a list or a comma-separated text); run in that order.
    curate_ks
        Best-of ``K`` values (integers from 1 to 1000; ``K = 1``, no curation, is always run).
    verifier_strictnesses
        Strictnesses ``s > 0`` of the oracle verifier (empty: none).
    curate_keeps
        Shares ``q`` in ``[0.001, 1)`` kept by the top filter (empty: none).
    real_fractions
        Fractions ``a`` in ``[0, 1)`` of fresh real data per training set (0 = ``replace``).
    n_samples, n_generations, n_replicates
        ``N``, ``G`` and replicates per cell for every family; each defaults to the family's
        entry of :data:`CURATION_DEFAULTS` (:data:`CURATION_QUICK` with ``quick``).
    quick
        Small sizes: the whole study in seconds (tests, a first look).
    seed
        Seed of every simulation (each cell is a different experiment with its own streams);
        drawn when ``None``.
    workers
        Threads; never changes the numbers.
    progress
        Show a progress bar per cell.
    log
        Receives a line per step.

    Returns
    -------
    CurationSpeed
    """
    names = _families(families)
    settings = strengths(curate_ks, verifier_strictnesses, curate_keeps)
    reals = _reals(real_fractions)
    if not isinstance(quick, bool):
        raise ConfigError("quick", "must be true or false", quick)
    sizes = CURATION_QUICK if quick else CURATION_DEFAULTS
    seed, drawn = resolve_seed(seed)
    setups, plans = [], []
    for name in names:
        setup = family_setup(name)
        size = sizes[name]
        n = size["n_samples"] if n_samples is None else n_samples
        g = size["n_generations"] if n_generations is None else n_generations
        r = size["n_replicates"] if n_replicates is None else n_replicates
        r = check_int("n_replicates", r, minimum=2)
        g = check_int("n_generations", g, minimum=2)  # curation first acts on training set 2
        # Every cell's config, built before anything runs: a setting the family refuses (a
        # curator it does not take, a too small N) is reported at once.
        cells = [(strength, real, RunConfig(
            family=setup.family, policy=fraction_policy(real), curation=strength.curator,
            reward=setup.reward, n_samples=n, n_generations=g, n_replicates=r, seed=seed))
            for real in reals for strength in settings]
        setups.append(setup)
        plans.append(cells)
    log_seed(log, seed, drawn)  # once every setting is known to be good
    studies, configs = [], []
    for setup, cells in zip(setups, plans, strict=True):
        first = cells[0][2]
        if cold_kernels(setup.family.kernels()):
            log(COMPILE_NOTICE)
        truth = first.truth_metrics()
        done = []
        for strength, real, config in cells:
            started = time.perf_counter()
            log(f"{setup.name}, {strength.label}, real {real:g} "
                f"({config.data_policy.describe()}): {config.n_replicates:,} replicates × "
                f"{config.n_generations} generations, N = {config.n_samples:,}")
            values = _measures(setup, _trajectories(config, workers=workers,
                                                    progress=progress), truth)
            root = math.sqrt(config.n_replicates)
            mean = {m: v.mean(axis=0) for m, v in values.items()}
            se = {m: v.std(axis=0, ddof=1) / root for m, v in values.items()}
            cell = CurationCell(setup.name, strength, real, config.data_policy, mean, se,
                                time.perf_counter() - started)
            done.append(cell)
            configs.append(config)
            g = config.n_generations
            log(f"  reward {mean['reward'][g]:.4g} ± {se['reward'][g]:.2g} (truth "
                f"{truth['reward']:.4g}), diversity {mean['diversity'][g]:.3g}, tail "
                f"{mean['tail'][g]:.3g}; {cell.seconds:.1f} s")
        studies.append(FamilyStudy(setup, first.n_samples, first.n_generations,
                                   first.n_replicates, truth, done))
    return CurationSpeed(studies, reals, seed, drawn, configs)
