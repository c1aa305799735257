"""What theory predicts for a run: exact curves beside the simulated ones, and what it cannot say.

:func:`predict` takes the same :class:`~modelcollapse.config.RunConfig` the simulator takes and
returns a :class:`Prediction`: for each metric the exact curves theory gives (expectations, exact
quantile bands where the whole law is known), the exact law of the coin's absorption time, named
exact numbers (mean absorption time, stationary variance, ...) and a note for every metric or
policy theory does not cover. Nothing here is fitted to a simulation.

Coverage (``t = 0..G``; ``N`` samples per generation):

========== ======================= ============================================================
family     metric                  exact result
========== ======================= ============================================================
coin       ``p``                   law of ``p_t`` from the head-count chain (``replace``, ``mix``):
                                   mean and 5–95% quantiles; ``E p_t`` and ``sd p_t`` by moment
                                   recursion (``accumulate``, ``accumulate-subsample``)
coin       absorption              ``P(absorbed by t)``: chain (``replace``, ``mix``), closed form
                                   (``accumulate``)
categorical ``support``            ``Σ_v P(token v alive)`` from per-token chains
categorical ``gini_simpson``       ``1 − Σ_v E q_v,t²`` by moment recursion (every policy)
gaussian   ``var``, ``mean``       ``E var_t``, ``E mean_t ± 2 sd`` (every policy, both estimators)
gaussian   ``w2``, ``kl``          ``√E W2²_t``, ``E KL_t`` (``replace``)
gmm        ``var``, ``mean``       as gaussian, by the mixture-variance identity (every policy)
========== ======================= ============================================================
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import RunConfig
from ..families import GMM, Categorical, Coin, Gaussian
from ..policies import Mix, Replace
from . import gaussian
from .assembly import Pieces, pieces
from .categorical import categorical_expected_support
from .coin import (
    coin_absorption_time,
    coin_absorption_time_diffusion,
    coin_accumulate_hitting_probability,
    coin_fixation_probability,
    coin_hitting_cdf,
    coin_mix_law,
    coin_mix_stationary,
)
from .moments import proportion_moments, variance_moments

#: Largest ``k`` (coin) or ``N`` (categorical) for which a ``(k + 1)``-state chain is propagated.
CHAIN_MAX = 2000
#: Largest number of multiply-adds spent propagating exact chains for one prediction.
CHAIN_BUDGET = 1e9
#: Longest run for which the gaussian collapse-time law is computed (about 1 s per 2000 gens).
COLLAPSE_LAW_MAX_GENERATIONS = 5000
#: Generations over which a stationary level is sought before it is declared not reached.
STATIONARY_HORIZON = 200_000


@dataclass(frozen=True)
class TheoryCurve:
    """One exact curve over generations ``0..G``, optionally with a band.

    Attributes
    ----------
    label
        Legend text of the line (says what it is: "exact E var_t", ...).
    values
        ``[G + 1]``.
    lower, upper
        ``[G + 1]`` band edges, or ``None``.
    band_label
        Legend text of the band (e.g. "exact 5–95% of p_t").
    """

    label: str
    values: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    band_label: str | None = None


@dataclass
class Prediction:
    """Everything theory says about one run configuration.

    Attributes
    ----------
    config
        The configuration predicted.
    curves
        ``metric → [TheoryCurve, ...]``; metrics without exact results are absent.
    absorbed
        Coin only: ``P(p_s ∈ {0, 1} for some s ≤ t)``, ``t = 0..G``.
    collapsed
        Gaussian under ``replace``: ``P(collapse time ≤ t)``, ``t = 0..G`` (the first generation
        with ``var < collapse_fraction × var_0``).
    facts
        Exact scalars, by a readable name.
    notes
        One line for each metric or quantity theory does not give exactly here, and why.
    """

    config: RunConfig
    curves: dict[str, list[TheoryCurve]] = field(default_factory=dict)
    absorbed: TheoryCurve | None = None
    collapsed: TheoryCurve | None = None
    facts: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def for_metric(self, metric: str) -> list[TheoryCurve]:
        """The exact curves of ``metric`` (empty when theory has none)."""
        return self.curves.get(metric, [])

    def digest(self) -> dict[str, Any]:
        """JSON-able digest: the metrics covered, the facts and the notes."""
        return {"metrics": sorted(self.curves), "absorbed": self.absorbed is not None,
                "collapsed": self.collapsed is not None,
                "facts": dict(self.facts), "notes": list(self.notes)}


def predict(config: RunConfig) -> Prediction:
    """Exact predictions for ``config`` (see the module table for what is covered).

    Parameters
    ----------
    config
        A run configuration; the seed and replicate count are irrelevant.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> import modelcollapse as mc
    >>> pred = mc.predict(mc.RunConfig("coin"))
    >>> round(pred.facts["mean absorption time"], 2)
    12.59
    >>> pred.for_metric("p")[0].label
    'exact E p_t'
    """
    return _predict(config)


# A run asks twice (its summary, then its figures); the chains can take a second, so the last few
# predictions are kept. Configs are frozen and hashable; callers must not modify the result.
@functools.lru_cache(maxsize=8)
def _predict(config: RunConfig) -> Prediction:
    out = Prediction(config)
    if _acts_as_replace(config):  # every replace-only result applies as it is
        config = dataclasses.replace(config, policy=Replace())
    model = config.model
    if isinstance(model, Coin):
        _coin(config, out)
    elif isinstance(model, Categorical):
        _categorical(config, out)
    elif isinstance(model, Gaussian):
        _continuous(config, out, var0=float(model.std) ** 2, mean0=float(model.mean),
                    divisor=model.estimator)
        _gaussian_replace(config, out)
    elif isinstance(model, GMM):
        w, mu, sd = (np.asarray(v, dtype=float) for v in (model.weights, model.means, model.stds))
        mean0 = float(w @ mu)
        _continuous(config, out, var0=float(w @ (sd**2 + mu**2)) - mean0**2, mean0=mean0,
                    divisor="mle")
        out.notes.append("gmm: w2, kl, tail_mass and each component's mean, std and weight "
                         "have no closed form; only the mixture's total mean and variance do "
                         "(the mixture-variance identity)")
    else:
        out.notes.append(f"{model.name}: no exact results are known to this package")
    return out


def _acts_as_replace(config: RunConfig) -> bool:
    """A ``mix`` whose split is (0 fresh, N synthetic, 0 carried over) *is* ``replace``."""
    policy, n = config.data_policy, config.n_samples
    return isinstance(policy, Mix) and policy.split(n) == (0, n, 0)


# -- coin ---------------------------------------------------------------------------------------


def _chain_affordable(states: int, generations: int, copies: int = 1) -> bool:
    return states <= CHAIN_MAX + 1 and copies * generations * states**2 <= CHAIN_BUDGET


def _law_quantiles(law: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """The ``q``-quantile of each row of a discrete law on ``values``."""
    cdf = np.cumsum(law, axis=1)
    index = np.argmax(cdf >= q - 1e-12, axis=1)
    return values[index]


def _coin(config: RunConfig, out: Prediction) -> None:
    p0, k, g = float(config.model.truth()), config.n_samples, config.n_generations
    policy = config.data_policy
    parts = pieces(policy, k)
    t = np.arange(g + 1)
    if parts.kind == "mix":
        if _chain_affordable(k + 1, g):
            law = coin_mix_law(p0, k, g, parts)
            p = np.arange(k + 1) / k
            mean = np.concatenate([[p0], law @ p])
            lower = np.concatenate([[p0], _law_quantiles(law, p, 0.05)])
            upper = np.concatenate([[p0], _law_quantiles(law, p, 0.95)])
            out.curves["p"] = [TheoryCurve("exact E p_t", mean, lower, upper,
                                           "exact 5–95% of p_t")]
            cdf = coin_hitting_cdf(p0, k, g, parts)
            label = ("exact P(absorbed by t)" if parts.real == 0
                     else "exact P(p̂ has touched 0 or 1 by t)")
            out.absorbed = TheoryCurve(label, cdf)
        else:
            _coin_moments(p0, k, g, parts, out)
            out.notes.append(f"coin: the exact law of p_t needs a {k + 1}-state chain over {g} "
                             f"generations, more than this package propagates "
                             f"(k ≤ {CHAIN_MAX}); E p_t and sd p_t are exact")
        if isinstance(policy, Replace) or parts.real == 0:
            out.facts["fixation probability P(p → 1)"] = coin_fixation_probability(p0)
        if isinstance(policy, Replace) and 1 < k <= CHAIN_MAX:
            law_t = coin_absorption_time(p0, k, horizon=1)
            out.facts["mean absorption time"] = law_t.mean
            out.facts["sd of absorption time"] = float(np.sqrt(law_t.var))
            out.facts["mean absorption time, diffusion approximation (not exact)"] = \
                coin_absorption_time_diffusion(p0, k)
        if parts.real > 0 and k <= CHAIN_MAX:
            _, mean_p, var_p = coin_mix_stationary(p0, k, parts)
            out.facts["stationary E p"] = mean_p
            out.facts["stationary Var p"] = var_p
    else:
        _coin_moments(p0, k, g, parts, out)
        if parts.kind == "accumulate":
            touched = coin_accumulate_hitting_probability(p0, k)
            out.absorbed = TheoryCurve("exact P(absorbed by t)", np.where(t >= 1, touched, 0.0))
            out.facts["P(ever absorbed)"] = touched
        else:
            out.notes.append("coin, accumulate-subsample: no exact law of the absorption time "
                             "(the fitted subsample forgets the pool's composition)")


def _coin_moments(p0: float, k: int, g: int, parts: Pieces, out: Prediction) -> None:
    mean, square = proportion_moments(p0, k, g, parts)
    sd = np.sqrt(np.maximum(square[:, 0] - mean[:, 0] ** 2, 0.0))
    out.curves["p"] = [TheoryCurve("exact E p_t", mean[:, 0], mean[:, 0] - 2 * sd,
                                   mean[:, 0] + 2 * sd, "exact E p_t ± 2 sd")]


# -- categorical --------------------------------------------------------------------------------


def _categorical(config: RunConfig, out: Prediction) -> None:
    q = config.model.truth()
    n, g = config.n_samples, config.n_generations
    parts = pieces(config.data_policy, n)
    square = np.zeros(g + 1)
    for start in range(0, q.size, 4096):  # chunks bound the [G + 1, V] moment arrays
        square += proportion_moments(q[start:start + 4096], n, g, parts)[1].sum(axis=1)
    out.curves["gini_simpson"] = [TheoryCurve("exact E Gini–Simpson", 1.0 - square)]
    copies = 1 if parts.real == 0 or parts.kind != "mix" else np.unique(q).size
    if parts.kind == "accumulate" or (parts.kind == "mix" and _chain_affordable(n + 1, g, copies)):
        support = categorical_expected_support(q, n, g, parts)
        out.curves["support"] = [TheoryCurve("exact E support_t", support)]
    elif parts.kind == "mix":
        out.notes.append(f"categorical: exact E support_t needs {copies} chain(s) of {n + 1} "
                         f"states over {g} generations, beyond this package's budget")
    else:
        out.notes.append("categorical, accumulate-subsample: E support_t has no closed form")
    out.notes.append("categorical: entropy and tv have no closed form")
    if isinstance(config.data_policy, Replace):
        out.facts["P(token 1 is the last survivor)"] = float(q[0])
        out.facts["Gini–Simpson decay per generation"] = 1.0 - 1.0 / n


# -- gaussian and gmm ---------------------------------------------------------------------------


def _continuous(config: RunConfig, out: Prediction, *, var0: float, mean0: float,
                divisor: str) -> None:
    n, g = config.n_samples, config.n_generations
    parts = pieces(config.data_policy, n)
    mean_var, offset2 = variance_moments(var0, n, g, parts, divisor=divisor)
    name = "exact E var_t"
    if isinstance(config.model, GMM):
        name += " (mixture-variance identity)"
    out.curves["var"] = [TheoryCurve(name, mean_var)]
    sd = np.sqrt(offset2)
    out.curves["mean"] = [TheoryCurve("exact E mean_t", np.full(g + 1, mean0), mean0 - 2 * sd,
                                      mean0 + 2 * sd, "exact E mean_t ± 2 sd")]
    level = _stationary_var(var0, n, parts, divisor)
    if level is not None:
        out.facts["stationary E var"] = level
        out.facts["stationary E var / truth's"] = level / var0
    if isinstance(config.model, GMM) and config.model.backend == "sklearn":
        out.notes.append("gmm, sklearn backend: reg_covar adds 1e-6 to each component's "
                         "variance, so E var_t is exact to about 1e-6")


def _stationary_var(var0: float, n: int, parts: Pieces, divisor: str) -> float | None:
    """``lim E var_t`` where it exists: fresh data each generation, or MLE accumulation."""
    if parts.kind == "accumulate" and parts.real == 0 and divisor == "mle":
        return gaussian.gaussian_accumulate_limit_var(var0, n)
    if parts.real == 0:
        return None  # replace and mix without fresh data: E var_t → 0 (MLE) or stays (unbiased)
    if parts.kind == "mix" and parts.carry == 0 and divisor == "mle":
        return gaussian.gaussian_mix_stationary_var(var0, n, parts.real / n)
    # Otherwise iterate the exact recursion until it settles (geometric convergence).
    horizon = 1000
    while horizon <= STATIONARY_HORIZON:
        values = variance_moments(var0, n, horizon, parts, divisor=divisor)[0]
        if abs(values[-1] - values[-2]) <= 1e-12 * abs(values[-1]):
            return float(values[-1])
        horizon *= 4
    return None


def _gaussian_replace(config: RunConfig, out: Prediction) -> None:
    model: Gaussian = config.model  # type: ignore[assignment]
    var0, n, g, est = float(model.std) ** 2, config.n_samples, config.n_generations, \
        model.estimator
    if not isinstance(config.data_policy, Replace):
        out.notes.append("gaussian: w2, kl and tail_mass have exact results only under replace; "
                         "var and mean are exact under every policy")
        return
    t = np.arange(g + 1)
    if n > 1:
        log_mean = gaussian.gaussian_expected_log_var(var0, n, t, est)
        log_sd = np.sqrt(gaussian.gaussian_var_log_var(n, t))
        out.curves["var"].append(TheoryCurve(
            "exact exp E log var_t (typical path)", np.exp(log_mean),
            np.exp(log_mean - 1.645 * log_sd), np.exp(log_mean + 1.645 * log_sd),
            "≈ 5–95%: log-normal with the exact mean and sd of log var_t"))
    w2_squared = gaussian.gaussian_expected_w2_squared(var0, n, t, est)
    out.curves["w2"] = [TheoryCurve("exact √E W2²_t", np.sqrt(w2_squared))]
    if n > 3:
        out.curves["kl"] = [TheoryCurve("exact E KL_t",
                                        gaussian.gaussian_expected_kl(var0, n, t, est))]
    else:
        out.notes.append("gaussian: E KL_t is infinite for N ≤ 3")
    out.notes.append("gaussian: tail_mass has no closed form")
    if g <= COLLAPSE_LAW_MAX_GENERATIONS:
        cdf = gaussian.gaussian_collapse_time_cdf(
            n, g, collapse_fraction=config.collapse_fraction, estimator=est)
        out.collapsed = TheoryCurve("exact P(collapsed by t)", cdf)
        out.facts["P(collapsed within the run)"] = float(cdf[-1])
        if cdf[-1] >= 0.5:
            out.facts["median collapse time"] = float(np.searchsorted(cdf, 0.5 - 1e-12))
    else:
        out.notes.append(f"gaussian: the collapse-time law is computed for runs of up to "
                         f"{COLLAPSE_LAW_MAX_GENERATIONS} generations")
    out.facts["E log var per generation"] = float(
        gaussian.gaussian_expected_log_var(1.0, n, 1, est)) if n > 1 else float("-inf")

