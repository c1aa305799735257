"""Verification cases for curated runs (:mod:`modelcollapse.curation`, :mod:`theory.curation`).

* **Coin, best-of and verifier.** The head count is still an exact ``(k + 1)``-state chain,
  with the model's tosses replaced by the kept ones: ``Binom(s, g(p̃))`` with best-of's
  ``g(p) = Σ_j Binom(j; K, p) j e^{r1} / (j e^{r1} + (K − j) e^{r0})`` or the verifier's
  ``g(p) = p a1 / (p a1 + (1 − p) a0)``. ``E p_t``, the law of ``p_t``, the absorption (first
  touch) law, the fixation probability, ``E min(T, G)``, ``E reward_t`` and the verifier's
  ``E accept_rate_t`` (a negative binomial mean) against the chain.
* **Coin, top and reweight.** Their kept head counts are not binomial (the ``S`` kept share
  ``⌈S/q⌉`` candidates); the chain takes their whole law.
* **Categorical, one exact step.** The large-N map ``q ← a q0 + b T(q) + c q`` is a limit, but
  one step of it is exact at any ``N`` in expectation: given model ``t`` (its ``q_t``), the
  kept tokens of best-of and the verifier are i.i.d. draws of ``T(q̃_t)``, so
  ``E[r·q_{t+1} | q_t] = (m r·q0 + s r·T + c r·q_t)/N`` and ``E[Σ q²_{t+1} | q_t]`` follows
  from the three groups' (multinomial, multinomial, hypergeometric) variances. The check
  averages, over replicates, the simulated value minus its conditional expectation computed
  from each replicate's own ``q_t`` (exactly mean 0). The large-N curve is drawn beside the
  simulated means (no check: at finite ``N`` it is not exact).
* **Gaussian, oracle-shifted verifier** (``ε = 0``): the kept law is normal and
  ``E[1/var_t] = D/(N − 3)(E[1/var_{t−1}]/λ² + s/σ0²)`` exactly, under both estimators and a
  sampling scale; and no replicate exhausted the verifier's budget (where the kept law would
  stop being normal).

As in :mod:`.catalogue`, every policy's group sizes are written out by hand.
"""

from __future__ import annotations

import numpy as np

from ... import theory
from ...checks import Check, mean_check, proportion_check
from ...config import RunConfig
from ...curation import MAX_CANDIDATES, get_curator
from ...families import Categorical, Coin, Gaussian
from ...policies import Mix, Policy, Replace
from ...runner.blocks import simulate_arrays
from ...theory import curation as curated
from ...training_sets import Samples
from .cases import (
    PLOT_GENERATIONS,
    Outcome,
    Series,
    discrete_qq,
    fraction_band,
    mean_band,
    register,
)

COIN_P0, COIN_K = 0.3, 10


def _run(family, policy: Policy, curator, *, n_samples: int, n_generations: int,
         n_replicates: int, seed: int, reward: str | None = None):
    return simulate_arrays(RunConfig(family=family, policy=policy, n_samples=n_samples,
                                     n_generations=n_generations, n_replicates=n_replicates,
                                     seed=seed, curation=curator, reward=reward), workers=1)


def _first_touch(p: np.ndarray) -> np.ndarray:
    """First generation with ``p ∈ {0, 1}`` per replicate (``inf`` where none)."""
    hit = (p == 0.0) | (p == 1.0)
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), np.inf)


def _coin_case(curator, parts: theory.Pieces, policy: Policy, reward: str | None,
               horizon: int, n_replicates: int, seed: int, label: str,
               prefix: str = "") -> Outcome:
    """The coin's curated chain against the simulation (see the module notes)."""
    p0, k = COIN_P0, COIN_K
    run = _run(Coin(p0=p0), policy, curator, n_samples=k, n_generations=horizon,
               n_replicates=n_replicates, seed=seed, reward=reward)
    p = run.metrics["p"]
    rewards = None if reward is None else np.array([float(x) for x in reward.split(",")])
    law_of = curated.coin_curation(curator, p0, parts.synthetic, rewards)
    heads_map, kept_law = law_of.heads_map, law_of.kept_law
    law = theory.coin_mix_law(p0, k, horizon, parts, heads_map=heads_map, kept_law=kept_law)
    mean = np.concatenate([[p0], law @ (np.arange(k + 1) / k)])
    touched = theory.coin_hitting_cdf(p0, k, horizon, parts, heads_map=heads_map, kept_law=kept_law)
    times = _first_touch(p)
    checks = [mean_check(f"E p_{t}", p[:, t], float(mean[t])) for t in (2, 5, horizon)]
    checks += [proportion_check(f"P(p_{t} ≤ 0.2)", p[:, t] <= 0.2 + 1e-12,
                                float(law[t - 1, :3].sum())) for t in (3, horizon)]
    checks += [proportion_check(f"P(p touched 0 or 1 by t = {t})", times <= t,
                                float(touched[t])) for t in (3, 10)]
    if parts.real == 0:
        fixation = theory.coin_fixation_probability_chain(
            p0, k, parts=parts, heads_map=heads_map, kept_law=kept_law)
        absorption = theory.coin_absorption_time(
            p0, k, horizon=horizon, parts=parts, heads_map=heads_map, kept_law=kept_law)
        checks.append(proportion_check("P(fixed at 1), absorbing chain", p[:, -1] == 1.0,
                                       fixation))
        checks.append(mean_check(f"E min(T, {horizon})", np.minimum(times, horizon),
                                 float(np.sum(1.0 - absorption.cdf[:horizon]))))
    if rewards is not None:
        r0, r1 = rewards
        checks.append(mean_check(f"E reward_{horizon}", run.metrics["reward"][:, horizon],
                                 float(r0 + (r1 - r0) * mean[horizon])))
    if law_of.rate is not None:
        rate = law_of.rate
        per_state = curated.coin_verifier_accept_rate(
            np.array([rate(i / k) for i in range(k + 1)]), parts.synthetic)
        for t in (2, 6):
            checks.append(mean_check(f"E accept_rate_{t}", run.metrics["accept_rate"][:, t],
                                     float(law[t - 2] @ per_state)))
    checks = [Check(prefix + c.name, c.simulated, c.exact, c.se) for c in checks]
    ts = np.arange(min(horizon, PLOT_GENERATIONS) + 1)
    touched_sim, touched_se = fraction_band(times[:, None] <= ts[None, :])
    series = [
        Series(f"{label}: mean of p_t", "E p_t", *mean_band(p), mean[:ts.size]),
        Series(f"{label}: touched 0 or 1 by t", "P(T ≤ t)", touched_sim, touched_se,
               touched[:ts.size], limit=1.0),
    ]
    qq = [discrete_qq(f"{label}: p_5 against the exact chain", "p_5", p[:, 5],
                      np.arange(k + 1) / k, law[4])]
    return Outcome(checks, series, qq)


@register("coin-best-of", "coin", "coin, replace, best-of K = 3 (rewards 0.5, -0.3): E p_t, law "
          "of p_t, absorption and fixation, E reward_t from the curated chain",
          full=200_000, quick=20_000)
def coin_best_of(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``; best-of prefers tails here (``r0 > r1``), so fixation at 1 is rarer
    than ``p0``."""
    return _coin_case(get_curator("best-of", k=3), theory.Pieces("mix", 0, COIN_K), Replace(),
                      "0.5,-0.3", 40, n_replicates, seed, "coin best-of")


@register("coin-verifier-mix", "coin", "coin, mix (real 0.2, synthetic 0.5, carry-over 0.3), "
          "verifier s = 1.5, ε = 0.1: law of p_t, first touch, E accept_rate_t",
          full=200_000, quick=20_000)
def coin_verifier_mix(n_replicates: int, seed: int) -> Outcome:
    """``p0 = 0.3, k = 10``: 2 fresh tosses, 5 verified and 3 carried over per generation."""
    return _coin_case(get_curator("verifier", strictness=1.5, false_accept=0.1),
                      theory.Pieces("mix", 2, 5, 3), Mix(real=0.2, synthetic=0.5), None, 30,
                      n_replicates, seed, "coin verifier, mix")


@register("coin-top-reweight", "coin", "coin, top (q = 0.6, replace) and reweight (q = 0.5, "
          "β = 0.7, mix without carry-over): chains with non-binomial kept counts",
          full=100_000, quick=10_000)
def coin_top_reweight(n_replicates: int, seed: int) -> Outcome:
    """Top keeps the likelier side first; reweight resamples towards the truth."""
    top = _coin_case(get_curator("top", keep=0.6), theory.Pieces("mix", 0, COIN_K), Replace(),
                     None, 30, n_replicates, seed, "coin top", "top: ")
    reweight = _coin_case(get_curator("reweight", keep=0.5, power=0.7),
                          theory.Pieces("mix", 3, 7), Mix(real=0.3, synthetic=0.7), None, 30,
                          n_replicates, seed + 1, "coin reweight, mix", "reweight: ")
    return Outcome(top.checks + reweight.checks, top.series + reweight.series,
                   top.qq + reweight.qq)


# -- categorical: one exact step of the large-N map ---------------------------------------------


CAT_PROBS = (0.4, 0.25, 0.15, 0.1, 0.06, 0.04)


def _categorical_step(curator, reward: str, n_replicates: int, seed: int,
                      label: str) -> Outcome:
    """``V = 6, N = 200``, ``mix`` (real 0.2, synthetic 0.5, carry-over 0.3): generation
    ``t + 1`` against its exact conditional expectation given each replicate's ``q_t``."""
    family = Categorical(probs=CAT_PROBS)
    q0 = np.asarray(CAT_PROBS)
    n, t = 200, 3
    m, s, c = 40, 100, 60
    policy = Mix(real=0.2, synthetic=0.5)
    before = _run(family, policy, curator, n_samples=n, n_generations=t,
                  n_replicates=n_replicates, seed=seed, reward=reward)
    after = _run(family, policy, curator, n_samples=n, n_generations=t + 1,
                 n_replicates=n_replicates, seed=seed, reward=reward)
    q_t, q_next = before.final_params, after.final_params
    r = np.asarray(family.reward(reward).score(Samples(np.arange(q0.size)[None, :])),
                   dtype=float)[0]
    kept = _kept(curator, q_t, q0, r, s)
    mean = (m * q0[None, :] + s * kept + c * q_t) / n
    spread = (m * q0 * (1 - q0))[None, :] + s * kept * (1 - kept) \
        + c * q_t * (1 - q_t) * (n - c) / (n - 1)
    square = np.sum(mean**2 + spread / n**2, axis=1)
    checks = [
        mean_check(f"E[reward_{t + 1} − its conditional mean given q_{t}] = 0",
                   q_next @ r - mean @ r, 0.0),
        mean_check(f"E[Σ q²_{t + 1} − its conditional mean given q_{t}] = 0",
                   np.sum(q_next**2, axis=1) - square, 0.0),
        Check(f"generation {t} agrees in both runs", float(np.abs(
            before.metrics["reward"][:, t] - after.metrics["reward"][:, t]).max()), 0.0, 0.0),
    ]
    horizon = 12
    kept_map = curated.categorical_kept_map(curator, q0, 1.0, r)
    limit = curated.categorical_curated_limit(q0, horizon, (m / n, s / n, c / n), kept_map, r)
    longer = _run(family, policy, curator, n_samples=n, n_generations=horizon,
                  n_replicates=min(n_replicates, 2000), seed=seed, reward=reward)
    series = [Series(f"{label}: E reward_t beside the large-N limit", "E reward_t",
                     *mean_band(longer.metrics["reward"]), limit["reward"],
                     note=f"large-N limit, not exact at N = {n}")]
    return Outcome(checks, series)


def _kept(curator, q: np.ndarray, q0: np.ndarray, r: np.ndarray, s: int) -> np.ndarray:
    """``T(q)`` per replicate row."""
    out = np.empty_like(q)
    for i, row in enumerate(q):
        if curator.name == "best-of":
            out[i] = curated.categorical_best_of_kept(row, r, curator.k)
        else:
            out[i] = curated.categorical_verifier_kept(row, q0, curator.strictness,
                                                       curator.false_accept, s)[0]
    return out


@register("categorical-best-of-step", "categorical", "categorical, mix, best-of K = 4 (reward "
          "rank): one exact step of q ← a q0 + b T(q) + c q given q_t", full=50_000,
          quick=5_000)
def categorical_best_of_step(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_categorical_step`; ``T`` by the quadrature of
    :func:`~modelcollapse.theory.curation.categorical_best_of_kept`."""
    return _categorical_step(get_curator("best-of", k=4), "rank", n_replicates, seed,
                             "categorical best-of")


@register("categorical-verifier-step", "categorical", "categorical, mix, verifier s = 1, "
          "ε = 0.05: one exact step of q ← a q0 + b T(q) + c q given q_t", full=50_000,
          quick=5_000)
def categorical_verifier_step(n_replicates: int, seed: int) -> Outcome:
    """See :func:`_categorical_step`; ``T ∝ q a``, the acceptance at least ε, so the budget
    is never near exhaustion (fewer than S of 64 S candidates accepted: ``P < 1e-40``)."""
    return _categorical_step(get_curator("verifier", strictness=1.0, false_accept=0.05),
                             "rank", n_replicates, seed, "categorical verifier")


# -- gaussian: the verifier's precision recursion -----------------------------------------------


@register("gaussian-verifier-precision", "gaussian", "gaussian, replace, verifier s = 1, shift "
          "0.5, ε = 0: E[1/var_t] = D/(N − 3)(E[1/var_{t−1}]/λ² + s/σ0²), MLE and unbiased "
          "with λ = 1.1", full=100_000, quick=10_000)
def gaussian_verifier_precision(n_replicates: int, seed: int) -> Outcome:
    """``N(1, 2²)``, ``N = 20``, 8 generations. ``E[1/var_t]`` is finite with a finite variance
    for ``N > 5`` (``E 1/χ⁴_ν`` needs ``ν > 4``), so its sample mean has a normal error."""
    n, horizon, var0 = 20, 8, 4.0
    curator = get_curator("verifier", strictness=1.0, shift=0.5)
    checks: list[Check] = []
    series = []
    for estimator, scale, offset in (("mle", 1.0, 0), ("unbiased", 1.1, 1)):
        family = Gaussian(mean=1.0, std=2.0, estimator=estimator, sampling_scale=scale)
        run = _run(family, Replace(), curator, n_samples=n, n_generations=horizon,
                   n_replicates=n_replicates, seed=seed + offset)
        inverse = 1.0 / run.metrics["var"]
        exact = curated.gaussian_verifier_inverse_var(var0, n, horizon, 1.0, estimator, scale)
        tag = f"{estimator}, λ = {scale:g}"
        checks += [mean_check(f"{tag}: E 1/var_{t}", inverse[:, t], float(exact[t]))
                   for t in (1, 2, 4, horizon)]
        short = np.isclose(run.metrics["accept_rate"][:, 2:], 1.0 / MAX_CANDIDATES).any(axis=1)
        checks.append(Check(f"{tag}: replicates that exhausted the verifier's budget",
                            float(short.sum()), 0.0, 0.0))
        series.append(Series(f"gaussian verifier, {tag}: precision", "E 1/var_t",
                             *mean_band(inverse), exact))
    return Outcome(checks, series)
