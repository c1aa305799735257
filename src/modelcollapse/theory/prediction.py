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
gmm d ≥ 2  ``var``, ``mean_x_{j}`` ``tr Σ₀`` × the 1-D law (d-D identity; ``replace``: exact with
                                   ``reg_covar``; else it is neglected, labelled approximate)
mvgaussian ``trace``, ``mean_dist`` ``tr Σ₀`` × the 1-D ``E var_t``, ``E (mean_t − μ₀)²`` (every
                                   policy: each projection is the 1-D process)
mvgaussian ``logdet``, ``kl``      ``E logdet_t ± 2 sd`` (Wishart), ``E KL_t`` (``replace``)
regression ``test_error`` etc.     ``σ² + E‖ŵ_t − w‖²``, ``E σ̂²_t`` (``replace``; ``accumulate``,
                                   fixed inputs: the π²/6 sum)
kde        ``var``, ``spread``     ``E var_t``, ``E ‖X − μ₀‖²_t = d(σ₀² + tκh²)``, ``E mean_t ±
                                   2 sd`` (``replace``, ``accumulate``; every bandwidth rule)
========== ======================= ============================================================

The loop settings of the literature (``augment``, sampling bias, weighted fits):

* ``augment`` (a fixed real set): gaussian and gmm ``var`` and ``mean`` (the mean relaxes to
  the real set's mean), coin ``p`` and categorical ``gini_simpson`` by moment recursion.
* sampling temperature ``τ``: the coin's chain with tempered tosses (``replace``, ``mix``: law
  of ``p_t``, absorption, fixation probability, mean absorption time); for categorical only
  the large-N map ``q ← a q0 + (1 − a) normalise(q^(1/τ))`` for ``entropy``, labelled as an
  approximation.
* sampling scale ``λ``: gaussian ``var`` and ``mean`` under every policy (the model's group
  has variance ``λ² v``); none for the gmm (scaling each component's deviation does not scale
  the mixture's variance).
* weighted fits (``real_weight``) under ``mix`` without carry-over and ``augment``: gaussian
  and gmm ``var`` and ``mean``, coin ``p``, categorical ``gini_simpson``; with ``--fit mean``
  also the stationary variance of the mean and its optimal weight (``1/φ`` for equal parts).
* ``--fit mean`` (the variance known): ``mean``, ``w2 = |mean − μ₀|`` and ``kl = (mean −
  μ₀)² / 2σ₀²`` exactly (their expectations from ``E (mean_t − μ₀)²``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..config import RunConfig
from ..curation import MAX_CANDIDATES, BestOf, Bottom, Top, Verifier
from ..families import GMM, Categorical, Coin, Gaussian
from ..families.neural.common import NeuralFamily
from ..policies import Mix, Replace
from ..rewards import reward_target
from ..training_sets import Samples
from . import curation as curation_theory
from . import gaussian
from . import kde as kde_theory
from . import mvgaussian as mvgaussian_theory
from . import neural as neural_theory
from . import regression as regression_theory
from .assembly import Pieces, pieces
from .categorical import categorical_expected_rare_mass, categorical_expected_support
from .coin import (
    coin_absorption_time,
    coin_absorption_time_diffusion,
    coin_accumulate_hitting_probability,
    coin_fixation_probability,
    coin_fixation_probability_chain,
    coin_hitting_cdf,
    coin_mix_law,
    coin_mix_stationary,
    tempered_heads,
)
from .curves import Prediction, TheoryCurve
from .moments import (
    NotCovered,
    optimal_real_weight,
    proportion_moments,
    proportion_square_sum,
    variance_moments,
    weighted_mean_stationary_var,
)

#: Families whose theory lives in a module of its own: name → ``predictor(config, out)``, which
#: fills the :class:`Prediction` ``out`` (curves, facts, and a note for everything it does not
#: cover) for an uncurated run of that family.
FAMILY_PREDICTORS: dict[str, Callable[[RunConfig, Prediction], None]] = {}
FAMILY_PREDICTORS["mvgaussian"] = mvgaussian_theory.predictor
FAMILY_PREDICTORS["regression"] = regression_theory.regression_predictor
FAMILY_PREDICTORS["kde"] = kde_theory.kde_predictor

#: Largest ``k`` (coin) or ``N`` (categorical) for which a ``(k + 1)``-state chain is propagated.
CHAIN_MAX = 2000
#: Largest number of multiply-adds spent propagating exact chains for one prediction.
CHAIN_BUDGET = 1e9
#: Longest run for which the gaussian collapse-time law is computed (about 1 s per 2000 gens).
COLLAPSE_LAW_MAX_GENERATIONS = 5000
#: Generations over which a stationary level is sought before it is declared not reached.
STATIONARY_HORIZON = 200_000


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
    if isinstance(config.model, NeuralFamily):  # trained networks: no exact result at all
        neural_theory.explain(config, out)
        return out
    if _acts_as_replace(config):  # every replace-only result applies as it is
        config = dataclasses.replace(config, policy=Replace())
    if _curates(config):  # the uncurated theory does not apply: none of it is given
        _curated(config, out)
        return out
    model = config.model
    offset2: np.ndarray | None = None
    if isinstance(model, Coin):
        _coin(config, out)
    elif isinstance(model, Categorical):
        _categorical(config, out)
    elif isinstance(model, Gaussian):
        offset2 = _continuous(config, out, var0=float(model.std) ** 2, mean0=float(model.mean),
                              divisor=model.estimator)
        if model.sampling_scale == 1.0 and model.refit == "mean-var":
            _gaussian_replace(config, out)
        elif model.refit == "mean" and offset2 is not None:
            _gaussian_known_var(model, offset2, out,
                                normal=not config.data_policy.needs_subsample(config.n_samples))
        else:
            out.notes.append("gaussian: with a sampling scale, w2, kl, tail_mass and the "
                             "collapse-time law have no exact result here; var and mean do")
    elif isinstance(model, GMM) and model.dim > 1:
        _gmm_nd(config, out)
    elif isinstance(model, GMM):
        w, mu, sd = (np.asarray(v, dtype=float) for v in (model.weights, model.means, model.stds))
        mean0 = float(w @ mu)
        if model.sampling_scale != 1.0:
            out.notes.append("gmm: with a sampling scale the sampled mixture's variance depends "
                             "on how it splits into within- and between-component parts, so "
                             "no exact result is known; none is drawn")
        else:
            offset2 = _continuous(config, out, var0=float(w @ (sd**2 + mu**2)) - mean0**2,
                                  mean0=mean0, divisor="mle")
        out.notes.append("gmm: w2, kl, tail_mass and each component's mean, std and weight "
                         "have no closed form; only the mixture's total mean and variance do "
                         "(the mixture-variance identity)")
    elif model.name in FAMILY_PREDICTORS:
        FAMILY_PREDICTORS[model.name](config, out)
    else:
        out.notes.append(f"{model.name}: no exact results are known to this package")
    _uncurated_extras(config, out, offset2)
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
    model: Coin = config.model  # type: ignore[assignment]
    p0, k, g = float(model.truth()), config.n_samples, config.n_generations
    tau, weight = model.temperature, model.real_weight
    policy = config.data_policy
    parts = pieces(policy, k)
    t = np.arange(g + 1)
    if weight is not None:
        if tau != 1.0:
            out.notes.append("coin: with a weighted fit and a temperature, no exact result is "
                             "known (the tempered toss is not linear in p)")
            return
        try:
            _coin_moments(p0, k, g, parts, out, real_weight=weight)
        except NotCovered as err:
            out.notes.append(f"coin: {err}")
        out.notes.append("coin, weighted fit: p̂ is not on the grid j/k, so only E p_t and "
                         "sd p_t are exact (no chain)")
        return
    if tau != 1.0 and parts.kind != "mix":
        out.notes.append(f"coin: at temperature {tau:g} the exact chain covers replace and mix "
                         f"only; under {parts.kind} the pool's composition is not a finite "
                         "chain state")
        return
    if parts.kind == "mix":
        if _chain_affordable(k + 1, g):
            law = coin_mix_law(p0, k, g, parts, tau)
            p = np.arange(k + 1) / k
            mean = np.concatenate([[p0], law @ p])
            lower = np.concatenate([[p0], _law_quantiles(law, p, 0.05)])
            upper = np.concatenate([[p0], _law_quantiles(law, p, 0.95)])
            out.curves["p"] = [TheoryCurve("exact E p_t", mean, lower, upper,
                                           "exact 5–95% of p_t")]
            cdf = coin_hitting_cdf(p0, k, g, parts, tau)
            label = ("exact P(absorbed by t)" if parts.real == 0
                     else "exact P(p̂ has touched 0 or 1 by t)")
            out.absorbed = TheoryCurve(label, cdf)
        elif tau == 1.0:
            _coin_moments(p0, k, g, parts, out)
            out.notes.append(f"coin: the exact law of p_t needs a {k + 1}-state chain over {g} "
                             f"generations, more than this package propagates "
                             f"(k ≤ {CHAIN_MAX}); E p_t and sd p_t are exact")
        else:
            out.notes.append(f"coin: at temperature {tau:g} the exact law of p_t needs a "
                             f"{k + 1}-state chain over {g} generations, more than this package "
                             f"propagates (k ≤ {CHAIN_MAX})")
        if tau == 1.0 and (isinstance(policy, Replace) or parts.real == 0):
            out.facts["fixation probability P(p → 1)"] = coin_fixation_probability(p0)
        elif isinstance(policy, Replace) and 1 < k <= CHAIN_MAX:
            out.facts["fixation probability P(p → 1)"] = coin_fixation_probability_chain(
                p0, k, tau)
        if isinstance(policy, Replace) and 1 < k <= CHAIN_MAX:
            law_t = coin_absorption_time(p0, k, horizon=1, temperature=tau)
            out.facts["mean absorption time"] = law_t.mean
            out.facts["sd of absorption time"] = float(np.sqrt(law_t.var))
            if tau == 1.0:
                out.facts["mean absorption time, diffusion approximation (not exact)"] = \
                    coin_absorption_time_diffusion(p0, k)
        if parts.real > 0 and k <= CHAIN_MAX:
            _, mean_p, var_p = coin_mix_stationary(p0, k, parts, tau)
            out.facts["stationary E p"] = mean_p
            out.facts["stationary Var p"] = var_p
    else:
        _coin_moments(p0, k, g, parts, out)
        if parts.kind == "accumulate":
            touched = coin_accumulate_hitting_probability(p0, k)
            out.absorbed = TheoryCurve("exact P(absorbed by t)", np.where(t >= 1, touched, 0.0))
            out.facts["P(ever absorbed)"] = touched
        elif parts.kind == "augment":
            out.notes.append("coin, augment: no exact law of the absorption time is computed "
                             "(p̂ touches 0 or 1 only when the real set's tosses all agree)")
        else:
            out.notes.append("coin, accumulate-subsample: no exact law of the absorption time "
                             "(the fitted subsample forgets the pool's composition)")


def _coin_moments(p0: float, k: int, g: int, parts: Pieces, out: Prediction, *,
                  real_weight: float | None = None) -> None:
    mean, square = proportion_moments(p0, k, g, parts, real_weight=real_weight)
    sd = np.sqrt(np.maximum(square[:, 0] - mean[:, 0] ** 2, 0.0))
    out.curves["p"] = [TheoryCurve("exact E p_t", mean[:, 0], mean[:, 0] - 2 * sd,
                                   mean[:, 0] + 2 * sd, "exact E p_t ± 2 sd")]


# -- categorical --------------------------------------------------------------------------------


def _categorical(config: RunConfig, out: Prediction) -> None:
    model: Categorical = config.model  # type: ignore[assignment]
    q = model.truth()
    n, g = config.n_samples, config.n_generations
    parts = pieces(config.data_policy, n)
    if model.temperature != 1.0:
        _categorical_tempered(config, parts, out)
        return
    try:
        square = proportion_square_sum(q, n, g, parts, real_weight=model.real_weight)
    except NotCovered as err:
        out.notes.append(f"categorical: {err}; entropy, support, tv, gini_simpson and "
                         "rare_mass are not drawn")
        return
    out.curves["gini_simpson"] = [TheoryCurve("exact E Gini–Simpson", 1.0 - square)]
    if model.real_weight is not None or parts.kind == "augment":
        out.notes.append("categorical: with a weighted fit or a fixed real set, only "
                         "Gini–Simpson is exact; entropy, support, tv and rare_mass have no "
                         "closed form")
        return
    copies = 1 if parts.real == 0 or parts.kind != "mix" else np.unique(q).size
    if parts.kind == "accumulate" or (parts.kind == "mix" and _chain_affordable(n + 1, g, copies)):
        support = categorical_expected_support(q, n, g, parts)
        out.curves["support"] = [TheoryCurve("exact E support_t", support)]
        rare = categorical_expected_rare_mass(q, n, g, parts)
        out.curves["rare_mass"] = [TheoryCurve("exact E rare_mass_t", rare)]
    elif parts.kind == "mix":
        out.notes.append(f"categorical: exact E support_t and E rare_mass_t need {copies} "
                         f"chain(s) of {n + 1} states over {g} generations, beyond this "
                         "package's budget")
    else:
        out.notes.append("categorical, accumulate-subsample: E support_t and E rare_mass_t "
                         "have no closed form")
    out.notes.append("categorical: entropy and tv have no closed form")
    if isinstance(config.data_policy, Replace):
        out.facts["P(token 1 is the last survivor)"] = float(q[0])
        out.facts["Gini–Simpson decay per generation"] = 1.0 - 1.0 / n


def _categorical_tempered(config: RunConfig, parts: Pieces, out: Prediction) -> None:
    """The large-N limit at temperature τ: a deterministic map, drawn as an approximation.

    As ``N → ∞`` the fitted frequencies follow their expectations, and a training set of ``m``
    fresh and ``s`` model tokens (``mix`` without carry-over, ``replace``) maps ``q`` to
    ``(m q0 + s normalise(q^(1/τ))) / N``. Without fresh data ``τ < 1`` drives it to a point mass
    on the most probable token and ``τ > 1`` to uniform over the tokens alive (Marchi et al.'s
    heat death); fresh data hold it at a fixed point between. At finite ``N`` drift adds to
    this, so the curve is labelled as a limit, not as exact.
    """
    model: Categorical = config.model  # type: ignore[assignment]
    if parts.kind != "mix" or parts.carry or model.real_weight is not None:
        out.notes.append("categorical: at a temperature ≠ 1 no exact result is known (entropy, "
                         "support, tv, gini_simpson, rare_mass); the large-N map is drawn only "
                         "under replace and mix without carry-over")
        return
    q0 = model.truth()
    n, g = config.n_samples, config.n_generations
    a = parts.real / n
    q = q0.copy()
    entropy = np.empty(g + 1)
    for t in range(g + 1):
        alive = q > 0
        entropy[t] = 0.0 - float(np.sum(q[alive] * np.log(q[alive])))
        if t == 0:
            continue  # generation 1 is fitted to the truth's own samples: q_1 → q0
        if t < g:
            # Only over the tokens alive: a dead token's log would be −inf, and any stand-in
            # for it (log 1 = 0) overflows exp at a low temperature (inf × 0 = NaN).
            log_alive = np.log(q[alive])
            tempered = np.zeros_like(q)
            tempered[alive] = np.exp((log_alive - log_alive.max()) / model.temperature)
            q = a * q0 + (1 - a) * tempered / tempered.sum()
    out.curves["entropy"] = [TheoryCurve(
        f"large-N limit of entropy at τ = {model.temperature:g} (not exact at finite N)",
        entropy)]
    out.notes.append("categorical: at a temperature ≠ 1 support, tv, rare_mass and "
                     "Gini–Simpson have no exact result; entropy is drawn in the large-N limit")


def _gmm_nd(config: RunConfig, out: Prediction) -> None:
    """gmm in d ≥ 2 (:mod:`modelcollapse.families.gmm.nd`): ``var`` (the trace of the total
    covariance) and each coordinate of the mixture mean, by the d-D mixture-variance identity.

    Each fit's total covariance is the training set's covariance (divisor N) plus ``c I``
    (``reg_covar`` = ``var_floor``), so each coordinate's marginal is the 1-D gaussian MLE
    process and ``E var_t`` is ``tr Σ₀`` times the 1-D ``E var_t / var₀``; under ``replace`` with
    ``c`` included exactly: ``E tr_t = aᵗ tr₀ + d c (1 − aᵗ)/(1 − a)``, ``a = (N − 1)/N``.
    """
    from ..families.gmm.nd import mixture_moments, replace_trace, unpack

    model: Any = config.model
    n, g, d = config.n_samples, config.n_generations, model.dim
    if model.sampling_scale != 1.0:
        out.notes.append("gmm (d ≥ 2): with a sampling scale the sampled mixture's covariance "
                         "depends on its within/between-component split: no exact result")
        return
    m0, total0 = mixture_moments(*unpack(model.truth(), d))
    parts = pieces(config.data_policy, n)
    try:
        unit_var, unit_offset = variance_moments(1.0, n, g, parts, divisor="mle",
                                                 real_weight=model.real_weight)
    except NotCovered as err:
        out.notes.append(f"gmm (d ≥ 2): {err}; var and the means are not drawn")
        return
    trace0 = float(np.trace(total0))
    plain_replace = (parts.kind == "mix" and parts.real == 0 and parts.carry == 0
                     and model.real_weight is None)
    if plain_replace:
        out.curves["var"] = [TheoryCurve("exact E var_t = E tr Σ_t (mixture-variance identity, "
                                         "reg_covar included)",
                                         replace_trace(trace0, n, g, d, model.var_floor))]
    else:
        out.curves["var"] = [TheoryCurve("E var_t = tr Σ₀ × the 1-D law (mixture-variance "
                                         "identity; approximate: reg_covar's d·c per fit "
                                         "neglected)", trace0 * unit_var)]
    for j in range(d):
        sd = np.sqrt(float(total0[j, j]) * unit_offset)
        out.curves[f"mean_x_{j}"] = [TheoryCurve(
            f"exact E mean_x_{j}", np.full(g + 1, float(m0[j])), m0[j] - 2 * sd, m0[j] + 2 * sd,
            f"exact E mean_x_{j} ± 2 sd (reg_covar neglected)")]
    out.notes.append("gmm (d ≥ 2): w2, kl and tail_mass are not recorded (no closed form in d "
                     "dimensions); each component's mean, std and weight have no closed form")


# -- gaussian and gmm ---------------------------------------------------------------------------


def _continuous(config: RunConfig, out: Prediction, *, var0: float, mean0: float,
                divisor: str) -> np.ndarray | None:
    """``var`` and ``mean`` curves and stationary facts; returns ``E (mean_t − μ₀)²``."""
    n, g = config.n_samples, config.n_generations
    model = config.model
    parts = pieces(config.data_policy, n)
    settings: dict[str, Any] = {
        "divisor": divisor, "real_weight": getattr(model, "real_weight", None),
        "scale": getattr(model, "sampling_scale", 1.0),
        "known_var": getattr(model, "refit", "mean-var") == "mean"}
    try:
        mean_var, offset2 = variance_moments(var0, n, g, parts, **settings)
    except NotCovered as err:
        out.notes.append(f"{model.name}: {err}; var and mean are not drawn")
        return None
    name = "exact E var_t"
    if isinstance(model, GMM):
        name += " (mixture-variance identity)"
    if not settings["known_var"]:
        out.curves["var"] = [TheoryCurve(name, mean_var)]
    sd = np.sqrt(offset2)
    out.curves["mean"] = [TheoryCurve("exact E mean_t", np.full(g + 1, mean0), mean0 - 2 * sd,
                                      mean0 + 2 * sd, "exact E mean_t ± 2 sd")]
    if parts.kind == "augment":
        out.notes.append(f"{model.name}, augment: E mean_t is the truth's, but each replicate's "
                         "mean relaxes to its own real set's mean, not the truth's; the band "
                         "holds that spread (var0 / N) and the drift about it")
    if settings["known_var"]:
        _weighted_mean_facts(config, var0, parts, out)
        return offset2
    level = _stationary_var(var0, n, parts, settings)
    if level is not None:
        out.facts["stationary E var"] = level
        out.facts["stationary E var / truth's"] = level / var0
    if isinstance(config.model, GMM) and config.model.backend == "sklearn":
        out.notes.append("gmm, sklearn backend: reg_covar adds 1e-6 to each component's "
                         "variance, so E var_t is exact to about 1e-6")
    return offset2


def _stationary_var(var0: float, n: int, parts: Pieces,
                    settings: dict[str, Any]) -> float | None:
    """``lim E var_t`` where it exists: fresh or fixed real data, or MLE accumulation."""
    divisor = settings["divisor"]
    plain = settings["scale"] == 1.0 and settings["real_weight"] is None
    if parts.kind == "accumulate" and parts.real == 0 and divisor == "mle" and plain:
        return gaussian.gaussian_accumulate_limit_var(var0, n)
    if parts.real == 0:
        return None  # replace and mix without fresh data: E var_t → 0 (MLE) or stays (unbiased)
    if parts.kind == "mix" and parts.carry == 0 and divisor == "mle" and plain:
        return gaussian.gaussian_mix_stationary_var(var0, n, parts.real / n)
    # Otherwise iterate the exact recursion until it settles (geometric convergence).
    horizon = 1000
    while horizon <= STATIONARY_HORIZON:
        values = variance_moments(var0, n, horizon, parts, **settings)[0]
        if not np.isfinite(values[-1]):
            return None  # grows without bound (a sampling scale above 1)
        if values[-1] < 1e-12 * var0:
            return None  # collapses (real data weighted 0): no level above 0
        if abs(values[-1] - values[-2]) <= 1e-12 * abs(values[-1]):
            return float(values[-1])
        horizon *= 4
    return None


def _weighted_mean_facts(config: RunConfig, var0: float, parts: Pieces,
                         out: Prediction) -> None:
    """The known-variance fit's stationary ``Var mean`` under ``mix`` (weighted or pooled)."""
    model: Gaussian = config.model  # type: ignore[assignment]
    if parts.kind != "mix" or parts.carry or parts.real == 0 or parts.synthetic == 0:
        return
    m, s = parts.real, parts.synthetic
    weight = m / (m + s) if model.real_weight is None else model.real_weight
    if weight <= 0.0:
        return
    level = weighted_mean_stationary_var(var0, m, s, weight, scale=model.sampling_scale)
    out.facts["stationary Var mean"] = level
    best = optimal_real_weight(m, s, scale=model.sampling_scale)
    out.facts["optimal real weight (least stationary Var mean)"] = best
    out.facts["stationary Var mean at the optimal weight"] = weighted_mean_stationary_var(
        var0, m, s, best, scale=model.sampling_scale)


def _gaussian_known_var(model: Gaussian, offset2: np.ndarray, out: Prediction, *,
                        normal: bool) -> None:
    """``--fit mean``: the fitted normal is ``N(mean_t, σ₀²)``, so W2 and KL are the mean's.

    ``normal``: the policy never subsamples, so ``mean_t − μ₀`` is a fixed linear combination
    of normal draws, exactly ``N(0, D_t)``, and ``E W2_t = E |mean_t − μ₀| = √(2 D_t / π)``.
    (A random subsample mixes normals of different variances; then only ``√E W2²`` is given.)
    """
    var0 = float(model.std) ** 2
    out.curves["var"] = [TheoryCurve("exact E var_t (= σ₀², the variance is known)",
                                     np.full(offset2.size, var0))]
    if normal:
        out.curves["w2"] = [TheoryCurve("exact E W2_t (= √(2/π · E (mean_t − μ₀)²))",
                                        np.sqrt(2 * offset2 / np.pi))]
    else:
        out.curves["w2"] = [TheoryCurve("exact √E W2²_t (= √E (mean_t − μ₀)²)",
                                        np.sqrt(offset2))]
    out.curves["kl"] = [TheoryCurve("exact E KL_t (= E (mean_t − μ₀)² / 2σ₀²)",
                                    offset2 / (2 * var0))]
    out.notes.append("gaussian, fit mean: tail_mass has no closed form")


def _gaussian_replace(config: RunConfig, out: Prediction) -> None:
    model: Gaussian = config.model  # type: ignore[assignment]
    var0, n, g, est = float(model.std) ** 2, config.n_samples, config.n_generations, \
        model.estimator
    if not isinstance(config.data_policy, Replace):
        out.notes.append("gaussian: w2, kl and tail_mass have exact results only under replace"
                         + ("; var and mean are exact under this policy"
                            if "mean" in out.curves else ""))
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



# -- the metrics of curation: reward and accept_rate ---------------------------------------------


def _token_rewards(config: RunConfig) -> np.ndarray | None:
    """``r_v`` for every token of a discrete family (the coin's ``(r0, r1)``), or ``None``."""
    reward = config.bound_reward()
    if reward is None:
        return None
    if isinstance(config.model, Coin):
        return np.asarray(reward.expected(np.array([0.0, 1.0])), dtype=float)
    size = int(config.model.param_shape[0])
    return np.asarray(reward.score(Samples(np.arange(size)[None, :])), dtype=float)[0]


def _reward_from_moments(config: RunConfig, mean_var: np.ndarray, offset2: np.ndarray, *,
                         mean0: float) -> TheoryCurve | None:
    """``E reward_t`` of a continuous family from ``E var_t`` and ``E (mean_t − μ₀)²`` (the
    fitted mean is unbiased, ``E mean_t = μ₀``, under every uncurated policy): ``target:c``
    (``−(var + (mean − c)²)/2``) for the normal and the mixture, ``truth`` for the normal."""
    spec = config.reward
    target = None if spec is None else reward_target(spec)
    if target is not None:
        return TheoryCurve(f"exact E reward_t (from E var_t and E (mean_t − μ₀)², target "
                           f"{target:g})", -0.5 * (mean_var + offset2 + (mean0 - target) ** 2))
    if spec == "truth" and isinstance(config.model, Gaussian):
        var0 = float(config.model.std) ** 2
        return TheoryCurve("exact E reward_t (from E var_t and E (mean_t − μ₀)²)",
                           -0.5 * (np.log(2 * np.pi * var0) + (mean_var + offset2) / var0))
    return None


def _uncurated_extras(config: RunConfig, out: Prediction, offset2: np.ndarray | None) -> None:
    """``reward`` (when a reward is set) and ``accept_rate`` (a curator with nothing to curate)
    of an uncurated run."""
    names = config.metric_names
    g = config.n_generations
    if "accept_rate" in names:  # a selecting curator, but no model samples to curate
        out.curves["accept_rate"] = [TheoryCurve(
            "exact accept_rate (= 1: no model sample is curated)", np.ones(g + 1))]
    if "reward" not in names or "reward" in out.curves:
        return
    model = config.model
    curve: TheoryCurve | None = None
    why = "its expectation needs more than the moments theory has here"
    if isinstance(model, Coin):
        p = out.curves.get("p", [])
        if p and p[0].label.startswith("exact E p_t"):
            r0, r1 = _token_rewards(config)  # type: ignore[misc]
            curve = TheoryCurve("exact E reward_t (= r0 + (r1 − r0) E p_t)",
                                r0 + (r1 - r0) * p[0].values)
        else:
            why = "E p_t is not known exactly here"
    elif isinstance(model, Categorical):
        if model.temperature == 1.0:
            rewards = _token_rewards(config)
            assert rewards is not None
            # Every piece of a training set is unbiased for the last model, so E q_t = q0.
            curve = TheoryCurve("exact E reward_t (= E_truth r: E q_t = q0 under every policy)",
                                np.full(g + 1, float(model.truth() @ rewards)))
        elif "reward" in out.curves:
            return
        else:
            why = "at a temperature ≠ 1 E q_t is not q0, and no exact law is known"
    elif isinstance(model, (Gaussian, GMM)) and offset2 is not None:
        var = out.curves.get("var", [])
        if var and var[0].label.startswith("exact E var_t"):
            mean0 = float(out.curves["mean"][0].values[0])
            curve = _reward_from_moments(config, var[0].values, offset2, mean0=mean0)
            if curve is None:
                why = ("the mixture's log density is not linear in the model's moments "
                       "(only target:c is)")
    if curve is not None:
        out.curves["reward"] = [curve]
    else:
        out.notes.append(f"{model.name}: reward (E_model r) has no exact result here: {why}")


def _accept_rate(config: RunConfig, out: Prediction, units: int) -> bool:
    """The deterministic ``accept_rate`` of best-of, top, bottom and reweight (``S`` kept of a
    fixed number drawn); ``False`` for the verifier, whose share is random."""
    share = curation_theory.accept_share(config.curator, units)
    if share is None:
        return False
    g = config.n_generations
    values = np.where(np.arange(g + 1) >= 2, share, 1.0)
    out.curves["accept_rate"] = [TheoryCurve(
        f"exact accept_rate (= {share:.4g}: S kept of a fixed number of candidates)", values)]
    return True


# -- curated runs -------------------------------------------------------------------------------


def _curates(config: RunConfig) -> bool:
    """Whether the run curates anything: a non-identity curator and a model group to curate.

    Identity curators (best-of ``K = 1``, top/bottom ``q = 1``, a verifier of strictness 0)
    give the uncurated run exactly, and so does a policy that never samples the model.
    """
    if config.curator.is_identity:
        return False
    try:
        parts = pieces(config.data_policy, config.n_samples)
    except ValueError:
        return True
    return parts.synthetic > 0


def _curated(config: RunConfig, out: Prediction) -> None:
    """The exact results of a curated run (:mod:`.curation`), and a note for every metric
    without one. None of the uncurated results is given: a curator changes the law of the
    model's group, and with it every uncurated chain, recursion and closed form."""
    model = config.model
    parts = pieces(config.data_policy, config.n_samples)
    units = model.curation_units(parts.synthetic)
    has_rate = _accept_rate(config, out, units)
    if isinstance(model, Coin):
        _coin_curated(config, out, parts)
    elif isinstance(model, Categorical):
        _categorical_curated(config, out, parts)
    elif isinstance(model, Gaussian):
        _gaussian_curated(config, out, parts)
    # Every metric without a curve is accounted for in a note.
    rest = [name for name in config.metric_names
            if name not in out.curves and not any(name in note for note in out.notes)]
    if "accept_rate" in rest and not has_rate:
        rest.remove("accept_rate")
        out.notes.append(f"{model.name}: accept_rate (the verifier's kept share) is random and "
                         "its expectation needs the model's whole law; not drawn")
    if rest:
        out.notes.append(f"{model.name}: {', '.join(rest)}: no exact result is known under "
                         f"{config.curator.describe()} curation")


def _coin_curated(config: RunConfig, out: Prediction, parts: Pieces) -> None:
    """The head-count chain with the curator's kept law in place of the model's tosses."""
    model: Coin = config.model  # type: ignore[assignment]
    curator = config.curator
    p0, k, g, tau = float(model.truth()), config.n_samples, config.n_generations, \
        model.temperature
    words = curator.describe()
    metrics = ", ".join(["p", "absorption"]
                        + [name for name in ("reward", "accept_rate")
                           if name in config.metric_names and name not in out.curves])
    if model.real_weight is not None:
        out.notes.append(f"coin, curated ({words}) with a weighted fit: p̂ is not on the grid "
                         f"j/k, so no finite chain is exact; {metrics} are not drawn")
        return
    if parts.kind != "mix":
        out.notes.append(f"coin, curated ({words}) under {parts.kind}: the pool's composition "
                         f"is not a finite chain state (no exact result); {metrics} are not "
                         "drawn")
        return
    s = parts.synthetic
    rewards = _token_rewards(config)
    law_of = curation_theory.coin_curation(curator, p0, s, rewards)
    if law_of.rate is not None:
        assert isinstance(curator, Verifier)
        bound = curation_theory.coin_verifier_shortfall_bound(
            p0, k, s, curator.strictness, curator.false_accept, tau, max(g - 1, 0))
        if bound > curation_theory.SHORTFALL_TOLERANCE:
            out.notes.append(
                f"coin, verifier: a replicate may exhaust the verifier's budget of "
                f"{MAX_CANDIDATES}·S candidates (and be filled with rejected ones) with "
                f"probability up to {bound:.2g} over the run, so the chain is not exact; "
                f"{metrics} are not drawn")
            return
        out.facts["P(a replicate ever exhausts the verifier's budget) ≤"] = bound
    if not (_chain_affordable(k + 1, g) and (k + 1) * law_of.cost * (s + 1) <= CHAIN_BUDGET):
        out.notes.append(f"coin, curated: the exact chain needs {k + 1} states over {g} "
                         f"generations with the {law_of.words} kept law, beyond this "
                         f"package's budget (k ≤ {CHAIN_MAX}); {metrics} are not drawn")
        return
    chain: dict[str, Any] = {"heads_map": law_of.heads_map, "kept_law": law_of.kept_law}
    law = coin_mix_law(p0, k, g, parts, tau, **chain)
    p = np.arange(k + 1) / k
    mean = np.concatenate([[p0], law @ p])
    lower = np.concatenate([[p0], _law_quantiles(law, p, 0.05)])
    upper = np.concatenate([[p0], _law_quantiles(law, p, 0.95)])
    out.curves["p"] = [TheoryCurve(f"exact E p_t ({law_of.words} chain)", mean, lower, upper,
                                   "exact 5–95% of p_t")]
    cdf = coin_hitting_cdf(p0, k, g, parts, tau, **chain)
    label = ("exact P(absorbed by t)" if parts.real == 0
             else "exact P(p̂ has touched 0 or 1 by t)")
    out.absorbed = TheoryCurve(f"{label} ({law_of.words} chain)", cdf)
    if rewards is not None:
        r0, r1 = rewards
        out.curves["reward"] = [TheoryCurve(
            f"exact E reward_t (= r0 + (r1 − r0) E p_t, {law_of.words} chain)",
            r0 + (r1 - r0) * mean)]
    if law_of.rate is not None and "accept_rate" not in out.curves:
        _coin_verifier_accept(config, out, law, law_of.rate, s)
    if parts.real == 0 and 1 < k:
        out.facts["fixation probability P(p → 1)"] = coin_fixation_probability_chain(
            p0, k, tau, parts=parts, **chain)
        law_t = coin_absorption_time(p0, k, horizon=1, temperature=tau, parts=parts, **chain)
        out.facts["mean absorption time"] = law_t.mean
        out.facts["sd of absorption time"] = float(np.sqrt(law_t.var))
    if parts.real > 0:
        _, mean_p, var_p = coin_mix_stationary(p0, k, parts, tau, **chain)
        out.facts["stationary E p"] = mean_p
        out.facts["stationary Var p"] = var_p


def _coin_verifier_accept(config: RunConfig, out: Prediction, law: np.ndarray,
                          rate: Any, units: int) -> None:
    """``E accept_rate_t = Σ_i P(H_{t−1} = i) E[S/T | α(f(i/k))]`` (budget included)."""
    model: Coin = config.model  # type: ignore[assignment]
    k, g = config.n_samples, config.n_generations
    if (k + 1) * MAX_CANDIDATES * units > 10 * CHAIN_BUDGET / 100:
        out.notes.append("coin, verifier: E accept_rate_t needs the negative binomial law of "
                         "every state, beyond this package's budget; not drawn")
        return
    tossed = tempered_heads(np.arange(k + 1) / k, model.temperature)
    per_state = curation_theory.coin_verifier_accept_rate(
        np.array([rate(float(x)) for x in tossed]), units)
    values = np.ones(g + 1)
    if g >= 2:
        values[2:] = law[: g - 1] @ per_state
    out.curves["accept_rate"] = [TheoryCurve(
        "exact E accept_rate_t (S over the candidates up to the S-th acceptance)", values)]


def _categorical_curated(config: RunConfig, out: Prediction, parts: Pieces) -> None:
    """The large-N limit ``q ← a q0 + b T(q) + c q``
    (:func:`.curation.categorical_curated_limit`)."""
    model: Categorical = config.model  # type: ignore[assignment]
    curator = config.curator
    words = curator.describe()
    q0 = np.asarray(model.truth(), dtype=float)
    n, g = config.n_samples, config.n_generations
    if model.real_weight is not None or parts.kind != "mix":
        setting = "a weighted fit" if model.real_weight is not None else parts.kind
        out.notes.append(f"categorical, curated ({words}) with {setting}: no exact result and "
                         "no large-N map is drawn (entropy, support, tv, gini_simpson, "
                         "rare_mass, reward)")
        return
    if isinstance(curator, (Top, Bottom)):
        out.notes.append(f"categorical, {curator.name}: no large-N map is drawn (entropy, "
                         "support, tv, gini_simpson, rare_mass, reward): the kept law jumps "
                         "where two tokens' probabilities cross (which of them is cut swaps), "
                         "the loop drives tokens to such crossings, and there the finite-N "
                         "means do not follow the map")
        return
    rewards = _token_rewards(config)
    if isinstance(curator, BestOf):
        assert rewards is not None
        spread = float(np.ptp(rewards[q0 > 0])) if np.any(q0 > 0) else 0.0
        nodes = (np.log(curation_theory.BEST_OF_DECAY) + spread
                 - curation_theory.BEST_OF_LOG_LOW) / curation_theory.BEST_OF_STEP
        if g * q0.size * nodes > CHAIN_BUDGET:
            out.notes.append(f"categorical, best-of: the large-N map needs a quadrature of "
                             f"{nodes:.0f} nodes per token and generation, beyond this "
                             "package's budget (entropy, support, tv, gini_simpson, rare_mass, "
                             "reward are not drawn)")
            return
    kept = curation_theory.categorical_kept_map(curator, q0, model.temperature, rewards)
    shares = (parts.real / n, parts.synthetic / n, parts.carry / n)
    limit = curation_theory.categorical_curated_limit(q0, g, shares, kept, rewards)

    def label(metric: str) -> str:
        return f"large-N limit of {metric} under {words} (not exact at finite N)"

    out.curves["entropy"] = [TheoryCurve(label("entropy"), limit["entropy"])]
    out.curves["gini_simpson"] = [TheoryCurve(label("Gini–Simpson"), limit["gini_simpson"])]
    if rewards is not None:
        out.curves["reward"] = [TheoryCurve(label("E reward"), limit["reward"])]
    if isinstance(curator, Verifier):
        out.curves["accept_rate"] = [TheoryCurve(label("accept_rate"), limit["accept"])]
    drawn = "entropy, gini_simpson" + (" and reward" if rewards is not None else "")
    out.notes.append(f"categorical, curated ({words}): {drawn} are drawn in the large-N limit "
                     "q ← a q0 + b T(q) + c q, T the kept law (not exact at finite N: sampling "
                     "drift adds to it, and tokens die)")
    out.notes.append("categorical, curated: support, tv and rare_mass have no exact result "
                     "(they turn on tokens lost to sampling drift, which the large-N limit "
                     "leaves out, and tv's limit hides a finite-N bias of order √(V/N))")


def _gaussian_curated(config: RunConfig, out: Prediction, parts: Pieces) -> None:
    """The oracle or shifted verifier with ``ε = 0`` under ``replace``: ``E 1/var_t``."""
    model: Gaussian = config.model  # type: ignore[assignment]
    curator = config.curator
    words = curator.describe()
    metrics = "mean, var, w2, kl, tail_mass, reward, accept_rate"
    if not isinstance(curator, Verifier):
        out.notes.append(f"gaussian, curated ({words}): the kept law of a normal model is not "
                         f"normal, so no exact result is known ({metrics})")
        return
    if curator.false_accept > 0:
        out.notes.append(f"gaussian, verifier with ε = {curator.false_accept:g}: the kept law is "
                         "a mixture of the model and its Gaussian tilt, not normal, so no exact "
                         f"result is known ({metrics})")
        return
    n, g = config.n_samples, config.n_generations
    plain = (parts.kind == "mix" and parts.real == 0 and parts.carry == 0
             and model.real_weight is None and model.refit == "mean-var")
    if not plain or n <= 3:
        why = ("E 1/var_t is infinite for N ≤ 3" if plain else
               "only under replace with both moments refitted, unweighted, is the fitted "
               "variance a kept variance times an independent χ²")
        out.notes.append(f"gaussian, verifier: no exact result here ({why}; {metrics})")
        return
    var0 = float(model.std) ** 2
    inverse = curation_theory.gaussian_verifier_inverse_var(
        var0, n, g, curator.strictness, model.estimator, model.sampling_scale)
    d = n if model.estimator == "mle" else n - 1
    out.facts[f"E 1/var_t at t = {g} (verifier, exact)"] = float(inverse[-1])
    out.facts["E 1/var_t: factor per generation D/(N − 3)"] = d / (n - 3)
    out.facts[f"1/E[1/var_t] at t = {g} (a lower bound on E var_t, by Jensen)"] = float(
        1.0 / inverse[-1])
    out.notes.append(
        "gaussian, verifier (ε = 0): the acceptance exp(−s (x − μ0 − δ)²/2σ0²) is soft, so the "
        "kept law of a normal model is exactly normal (no truncated-normal moments): "
        "1/v_kept = 1/(λ² var) + s/σ0², and E[1/var_t] = D/(N − 3) (E[1/var_{t−1}]/λ² + "
        "s/σ0²) exactly (facts), unless a replicate exhausts the verifier's budget of "
        f"{MAX_CANDIDATES}·S candidates (acceptance rate below about 1/{MAX_CANDIDATES})")
    out.notes.append(
        "gaussian, verifier: E var_t is not given: v_kept = 1/(1/(λ² var) + s/σ0²) is concave "
        "in var, so E var_{t+1} needs the whole law of var_t, not its mean (only 1/var is "
        f"linear); nor are {metrics}")
