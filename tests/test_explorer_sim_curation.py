"""Curation, rewards and weighted fits in the explorer's simulators (sim.js), in headless Chromium.

The page's curated and weighted runs (``MCX.sim.run`` with ``curation``, ``reward`` and
``real_weight`` set) are checked against the Python package, always the package and never the
page's own theory.js:

* against ``mc.predict``'s exact results where it has them: the coin's curated chains under
  replace and mix (E p_t, P(absorbed by t), E reward_t, the verifier's E accept_rate_t), the
  Gaussian verifier's exact E[1/var_t] (theory/curation.py's gaussian_verifier_inverse_var,
  the recursion behind mc.predict's fact), and the weighted fits under mix without carry-over
  and augment (coin E p_t and E p_t², Gaussian and mixture E var_t, categorical E Gini–Simpson)
  and an uncurated reward; one replicate is one independent draw of the statistic, compared
  with its expectation within z·SE;
* where mc.predict has no exact result (the categorical's curated runs, whose theory is a
  large-N limit; the Gaussian's curators other than the plain verifier, shortfalls included;
  the mixture; weighted fits with carry-over or subsamples), against the package's own
  simulation ``mc.simulate(mc.RunConfig(...))`` of the same config with many replicates, by a
  two-sample z test on a per-replicate statistic (their difference within z·SE, the SE of the
  difference of two independent means);
* the new samplers of random.js (Poisson, negative binomial) against their exact moments.

Every check group is run again with a planted bug (a text substitution in random.js or sim.js,
installed by running the patched code inside the evaluated function, as test_explorer_sim.py
does: the page's Content-Security-Policy forbids eval), and must fail. Every statistical
sub-check uses one critical |z|: α = 1e-3 family-wise, Bonferroni over all the sub-checks of
this file.

Also, without statistics: the deterministic accept_rate of best-of, top, bottom and reweight
(S kept of a fixed number of candidates) against mc.predict's exact value; identity curators
(best-of K = 1, top q = 1, a verifier of strictness 0) give the uncurated run number for number;
the metric names are the package's; curated runs are reproducible per replicate and in chunks;
degenerate curated runs (a verifier whose belief is far from a collapsed model, keep shares of
0.001, huge rewards, blown-up models) finish without a NaN; bad configs throw an Error naming
the field, and the package refuses them too. The speed of curated live sizes is printed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pytest

import modelcollapse as mc
from explorer_page import evaluate
from modelcollapse.checks import ALPHA, Check, critical_z
from modelcollapse.curation import get_curator
from modelcollapse.errors import ConfigError
from modelcollapse.theory.assembly import pieces
from modelcollapse.theory.curation import gaussian_verifier_inverse_var
from modelcollapse.theory.moments import proportion_moments
from test_explorer_sim import EXTRA, Bug, _sources
from test_explorer_sim import _evaluate as _evaluate_with_bugs

SEED = 20260419

# -- the planted bugs ---------------------------------------------------------------------------

BUGS = {
    "poisson-ptrs": Bug(
        "random.js",
        "if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= logF) return k;",
        "if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= logF + 0.5) return k;",
        "PTRS: the acceptance test loosened by e^0.5"),
    "poisson-product": Bug("random.js", "let product = this.uniform();", "let product = 1;",
                           "Poisson by multiplication: the first uniform left out"),
    "negbin-scale": Bug("random.js", "return this.poisson(this.gamma(n) * ((1 - p) / p));",
                        "return this.poisson(this.gamma(n) * ((1 - p) / p) * (1 - p));",
                        "negative binomial: the gamma's scale off by a factor 1 − p"),
    "coin-best-of-share": Bug(
        "sim.js", "const share = j === K ? 1 : (j * e1) / (j * e1 + (K - j) * e0);",
        "const share = j === K ? 1 : (j * e1) / (j * e1 + (K - j + 1) * e0);",
        "coin best-of: the Bradley–Terry share with one tails candidate too many"),
    "coin-verifier-law": Bug(
        "sim.js", "let h = accepted > 0 ? gen.binomial(accepted, (pt * a1) / alpha) : 0;",
        "let h = accepted > 0 ? gen.binomial(accepted, pt) : 0;",
        "coin verifier: the kept tosses drawn from the model, not the accepted law"),
    "verifier-candidates": Bug(
        "sim.js", "const drawn = alpha > 0 ? S + gen.negativeBinomial(S, alpha) : Infinity;",
        "const drawn = alpha > 0 ? S + gen.negativeBinomial(S - 1, alpha) : Infinity;",
        "verifier: the candidates counted to the (S − 1)-th acceptance"),
    "coin-top-is-bottom": Bug(
        "sim.js", "(logHeads > logTails) === likely ? Math.min(j, S)",
        "(logHeads > logTails) !== likely ? Math.min(j, S)",
        "coin top/bottom: the favoured side reversed"),
    "coin-filter-ties": Bug(
        "sim.js", "if (logHeads === logTails) return gen.binomial(S, pt);",
        "if (logHeads === logTails && S < 0) return gen.binomial(S, pt);",
        "coin top/bottom: a tie (p̂ = ½) ranked as if one side were likelier"),
    "coin-reweight-proposal": Bug(
        "sim.js", "const s1 = beta === 0 ? 0 : beta * (Math.log(p0) - Math.log(pt));",
        "const s1 = beta === 0 ? 0 : beta * (Math.log(p0) - Math.log(fitted));",
        "coin reweight: heads weighed against the fit, not the tempered law they came from"),
    "weights-swapped": Bug("sim.js", "return nSynthetic === 0 ? 1 : nReal === 0 ? 0 : weight;",
                           "return nSynthetic === 0 ? 1 : nReal === 0 ? 0 : 1 - weight;",
                           "weighted fit: the real and synthetic weights swapped"),
    "coin-carry-provenance": Bug(
        "sim.js",
        "            realHeads[r] = fresh + drawn[0];\n"
        "            realSize[r] = nReal + drawn[1];\n"
        "            synHeads[r] = model + drawn[2];\n"
        "            synSize[r] = nModel + nCarry - drawn[1];\n",
        "            realHeads[r] = fresh;\n"
        "            realSize[r] = nReal;\n"
        "            synHeads[r] = model + drawn[0] + drawn[2];\n"
        "            synSize[r] = nModel + nCarry;\n",
        "coin weighted mix: carried-over real tosses counted as synthetic"),
    "categorical-best-of-first": Bug(
        "sim.js", "target[offset + tokens[pickIndex(weights, K, gen.uniform())]] += 1;",
        "target[offset + tokens[0]] += 1;",
        "categorical best-of: the first candidate kept (no selection)"),
    "categorical-accepted-law": Bug("sim.js", "acceptedLaw[v] = sampling[v] * a[v];",
                                    "acceptedLaw[v] = sampling[v] * a[v] * a[v];",
                                    "categorical verifier: the accepted law with a² for a"),
    "categorical-level-cut": Bug(
        "sim.js", "gen.multivariateHypergeometric(level, end - i, room, levelKept, 0, 0);",
        "for (let j = 0, left = room; j < end - i; j++) {\n"
        "                left -= (levelKept[j] = Math.min(level[j], left));\n"
        "              }",
        "categorical top/bottom: a tied level cut by token order, not by draw order"),
    "categorical-bottom-as-top": Bug(
        "sim.js", "          ? (x, y) => (key[x] > key[y] ? -1 : key[x] < key[y] ? 1 : 0)\n"
                  "          : (x, y) => (key[x] < key[y] ? -1 : key[x] > key[y] ? 1 : 0);",
        "          ? (x, y) => (key[x] > key[y] ? -1 : key[x] < key[y] ? 1 : 0)\n"
        "          : (x, y) => (key[x] > key[y] ? -1 : key[x] < key[y] ? 1 : 0);",
        "categorical bottom: the likeliest tokens kept, as top"),
    "categorical-reweight-proposal": Bug(
        "sim.js", "const s = beta === 0 ? 0 : beta * (logTruth[v] - Math.log(sampling[v]));",
        "const s = beta === 0 ? 0 : beta * (logTruth[v] - Math.log(fitted[fOff + v]));",
        "categorical reweight: tokens weighed against the fit, not the tempered law"),
    "categorical-weighted-divisor": Bug(
        "sim.js", "const synDivisor = Math.max(size - nr, 1);",
        "const synDivisor = Math.max(size, 1);",
        "categorical weighted fit: the synthetic counts divided by the whole set's size"),
    "categorical-carry-provenance": Bug("sim.js", "outReal[v] += picked[v];",
                                        "outReal[v] += 0;",
                                        "categorical weighted: carried-over real tokens lose "
                                        "their provenance"),
    "tilted-variance": Bug("sim.js", "law[5] = Math.sqrt((v * var0) / spread);",
                           "law[5] = Math.sqrt(v);",
                           "gaussian verifier: the accepted points with the model's variance"),
    "plain-share": Bug("sim.js", "law[1] = cfg.false_accept / alpha;",
                       "law[1] = cfg.false_accept;",
                       "gaussian verifier: the false accepts' share ε, not ε/α"),
    "fill-from-tilted": Bug(
        "sim.js", "join(moments, 1, rejectedPoint(gen), 0);",
        "join(moments, 1, law[4] + law[5] * gen.normal(), 0);",
        "gaussian verifier: a replicate short of S filled from the accepted law"),
    "best-of-sign": Bug("sim.js", "keys[j] = family.score(x);", "keys[j] = -family.score(x);",
                        "continuous best-of: the lowest reward preferred"),
    "continuous-top-bottom": Bug("sim.js", 'const sign = cfg.curation === "top" ? -1 : 1;',
                                 'const sign = cfg.curation === "top" ? 1 : -1;',
                                 "continuous top/bottom swapped"),
    "top-about-truth": Bug("sim.js", "fitted: (x) => (state[4] ? -(x - state[0]) * (x - state[0])",
                           "fitted: (x) => (state[4] ? -(x - mean0) * (x - mean0)",
                           "gaussian top/bottom: candidates ranked by the truth's likelihood, "
                           "not the fit's"),
    "reweight-unscaled": Bug(
        "sim.js", "? 0.5 * (((x - state[0]) * (x - state[0])) / state[2]",
        "? 0.5 * (((x - state[0]) * (x - state[0])) / state[1]",
        "gaussian reweight: the proposal without its sampling scale"),
    "no-between-term": Bug(
        "sim.js", "wSyn * vs + wReal * wSyn * (mr - ms) ** 2);", "wSyn * vs);",
        "gaussian weighted fit: the between-part term of the variance left out"),
    "flags-stay": Bug("sim.js", "      flags[a] = flags[b];\n      flags[b] = flag;\n", "",
                      "weighted points: provenance flags not moved with their points"),
    "reward-mean-term": Bug("sim.js", ": (m, v) => -0.5 * (v + (m - rewards.target) ** 2);",
                            ": (m, v) => -0.5 * v;",
                            "gaussian target reward: E_model r without the mean's term"),
    "verifier-strictness": Bug(
        "sim.js", "if (gen.uniform() < eps + (1 - eps) * Math.exp(s * family.belief(x))) {",
        "if (gen.uniform() < eps + (1 - eps) * Math.exp(family.belief(x))) {",
        "continuous verifier (points): the strictness ignored"),
    "gmm-reward-quadrature": Bug(
        "sim.js",
        "value += nodeWeights[i] * logTruth(m + s * nodes[i]);",
        "value += nodeWeights[i] * logTruth(m + nodes[i]);",
        "gmm truth reward: the quadrature in the truth's units, not each component's"),
    "gmm-draw-weights": Bug(
        "sim.js", "        const u = gen.uniform() * cumulative[K - 1];\n"
                  "        let k = 0;\n"
                  "        while (k < K - 1 && !(cumulative[k] > u)) k += 1;\n",
        "        const k = Math.floor(gen.uniform() * K);\n",
        "gmm candidates: components drawn with equal weights"),
    "gmm-proposal-unscaled": Bug(
        "sim.js", "logRatio: (x) => logTruth(x) - mixtureLogpdf(x, w, mu, sampledVar, K, 0, 0, 0),",
        "logRatio: (x) => logTruth(x) - mixtureLogpdf(x, w, mu, fittedVar, K, 0, 0, 0),",
        "gmm reweight: the proposal without its sampling scale"),
    "weighted-em-plain": Bug("sim.js", "omega[i] = each[real[off + i]];", "omega[i] = 1 / n;",
                             "gmm weighted EM: every point weighed 1/n"),
    "candidate-count": Bug("sim.js", "Math.ceil(units / keep - 1e-9)", "Math.floor(units / keep)",
                           "m = ⌊S/q⌋ candidates instead of ⌈S/q⌉"),
}


def _evaluate(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` run in one opening of the page, with this file's planted bugs
    (:func:`test_explorer_sim._evaluate`'s runner)."""
    return _evaluate_with_bugs(spec, BUGS)


# -- the package's configs and results -------------------------------------------------------------

CURATOR_SETTINGS = {"none": (), "best-of": ("k",), "verifier": ("strictness", "shift",
                                                                  "false_accept"),
                    "top": ("keep",), "bottom": ("keep",), "reweight": ("keep", "power")}


def _run_config(config: dict[str, Any], replicates: int | None = None) -> mc.RunConfig:
    """The package's RunConfig for a page config: the same truth, policy, sizes, curator,
    reward and weighted fit."""
    family = config["family"]
    weight = config.get("real_weight")
    if family == "coin":
        model = mc.Coin(p0=config.get("p0", 0.5), temperature=config.get("temperature", 1.0),
                        real_weight=weight)
    elif family == "gaussian":
        model = mc.Gaussian(mean=config.get("mean", 0.0), std=config.get("std", 1.0),
                            estimator=config.get("estimator", "mle"),
                            sampling_scale=config.get("scale", 1.0), real_weight=weight)
    elif family == "categorical":
        model = mc.Categorical(vocab=config.get("vocab", 100), zipf=config.get("zipf", 1.0),
                               temperature=config.get("temperature", 1.0), real_weight=weight)
    else:
        model = mc.GMM(means=tuple(config.get("means", (-2.0, 2.0))),
                       stds=tuple(config.get("stds", (1.0, 1.0))),
                       weights=tuple(config.get("weights", (0.5, 0.5))),
                       sampling_scale=config.get("scale", 1.0), real_weight=weight)
    name = config.get("policy", "replace")
    real = config.get("real", 0.0)
    synthetic = config.get("synthetic")
    policy = {"replace": mc.Replace, "mix": lambda: mc.Mix(real=real, synthetic=synthetic),
              "accumulate": lambda: mc.Accumulate(real=real),
              "accumulate-subsample": lambda: mc.AccumulateSubsample(real=real),
              "augment": lambda: mc.Augment(synthetic=1.0 if synthetic is None else synthetic),
              }[name]()
    curation = config.get("curation", "none")
    curator = get_curator(curation, **{key: config[key]
                                      for key in CURATOR_SETTINGS.get(curation, ())
                                      if key in config})
    return mc.RunConfig(model, policy, n_samples=config["n"],
                        n_generations=config["generations"],
                        n_replicates=replicates or config["replicates"], seed=config["seed"],
                        curation=curator, reward=config.get("reward"))


def _curve(run: mc.RunConfig, metric: str, label: str) -> np.ndarray:
    for curve in mc.predict(run).for_metric(metric):
        if curve.label.startswith(label):
            return curve.values
    labels = [c.label for c in mc.predict(run).for_metric(metric)]
    raise AssertionError(f"mc.predict gives no {label!r}… for {metric} (it gives {labels})")


@cache
def _package(key: str) -> dict[str, Any]:
    """The package's simulation of a config (JSON text, with ``py_replicates``)."""
    config = json.loads(key)
    result = mc.simulate(_run_config(config, config["py_replicates"]))
    return {name: result.trajectories(name) for name in result.metric_names}


# -- the check groups ------------------------------------------------------------------------------


@dataclass
class Group:
    """Sub-checks that must pass on the page's code and fail with ``bug`` planted."""

    name: str
    bug: str
    samplers: list[dict[str, Any]] = field(default_factory=list)
    sims: list[dict[str, Any]] = field(default_factory=list)


def _config(family: str, policy: str = "replace", **settings) -> dict[str, Any]:
    config = {"family": family, "policy": policy, "seed": SEED, "generations": 20,
              "replicates": 20_000, "n": 10}
    config.update(settings)
    return config


def _exact(config, takes, absorbed=()) -> dict[str, Any]:
    """Sub-checks against exact values: E metric_t^power and P(absorbed by t)."""
    return {"config": config, "take": [[m, t, k] for m, t, k, _ in takes],
            "exact": [e for *_, e in takes], "absorbed": [t for t, _ in absorbed],
            "absorbed_exact": [e for _, e in absorbed], "package": None}


def _predicted(config, metric, label, ts, power=1):
    values = _curve(_run_config(config), metric, label)
    return [(metric, t, power, float(values[t])) for t in ts]


def _absorbed(config, ts):
    law = mc.predict(_run_config(config)).absorbed
    assert law is not None
    return [(t, float(law.values[t])) for t in ts]


def _against_package(config, takes, py_replicates) -> dict[str, Any]:
    """Sub-checks against the package's simulation: E metric_t^power, two samples."""
    return {"config": config, "take": [[m, t, k] for m, t, k in takes], "exact": None,
            "absorbed": [], "absorbed_exact": [],
            "package": json.dumps({**config, "py_replicates": py_replicates})}


def _sampler(method, args, mu, var, draws=200_000):
    return {"method": method, "args": args, "mu": mu, "var": var, "draws": draws, "seed": SEED}


def _negbin(n, p):
    return _sampler("negativeBinomial", [n, p], n * (1 - p) / p, n * (1 - p) / p**2)


def _groups() -> list[Group]:
    coin = dict(p0=0.3)
    best_of = _config("coin", curation="best-of", k=4, reward="0,1", **coin)
    verifier = _config("coin", curation="verifier", strictness=2, false_accept=0.1, **coin)
    verifier_mix = _config("coin", "mix", curation="verifier", strictness=1, false_accept=0.2,
                           real=0.1, generations=8, **coin)
    top_carry = _config("coin", "mix", real=0.1, synthetic=0.5, curation="top", keep=0.5,
                        **coin)
    bottom = _config("coin", curation="bottom", keep=0.5, p0=0.5)
    reweight = _config("coin", "mix", real=0.2, curation="reweight", keep=0.5, power=2,
                       temperature=0.7, **coin)
    weighted = _config("coin", "mix", real=0.2, real_weight=0.8, **coin)
    weighted_carry = _config("coin", "mix", real=0.2, synthetic=0.3, real_weight=0.8,
                             generations=10, replicates=10_000, **coin)

    def cat(policy="replace", **settings):
        return _config("categorical", policy, **{"vocab": 8, "n": 30, "generations": 4,
                                                 "replicates": 6000, **settings})

    cat_best_of = cat("mix", real=0.1, synthetic=0.5, curation="best-of", k=3, reward="rank",
                      temperature=0.8)
    cat_verifier = cat(curation="verifier", strictness=1, false_accept=0.05, zipf=0.5)
    cat_top = cat("accumulate-subsample", real=0.1, curation="top", keep=0.5, zipf=0.3,
                  reward="rank")
    cat_bottom = cat(curation="bottom", keep=0.5, reward="truth")
    cat_reweight = cat("augment", synthetic=0.5, curation="reweight", keep=0.5, power=1,
                       temperature=0.5, reward="truth")
    cat_weighted = _config("categorical", "mix", vocab=20, real=0.2, real_weight=0.3)
    cat_weighted_carry = cat("mix", real=0.2, synthetic=0.4, real_weight=0.6)

    def gauss(policy="replace", **settings):
        return _config("gaussian", policy, **{"generations": 3, "replicates": 6000, **settings})

    g_verifier = _config("gaussian", curation="verifier", strictness=2, shift=0.5, scale=0.9,
                         generations=10)
    g_verifier_carry = gauss("mix", n=20, real=0.1, synthetic=0.5, curation="verifier",
                             strictness=3, false_accept=0.3, shift=0.3)
    g_short = gauss(curation="verifier", strictness=20, shift=3)
    g_best_of = gauss("accumulate", n=10, curation="best-of", k=4, reward="target:1")
    g_bottom = gauss("mix", n=10, real=0.2, curation="bottom", keep=0.5)
    g_top = gauss("augment", n=10, synthetic=1.0, curation="top", keep=0.6, real_weight=0.7)
    g_top_replace = gauss(n=10, generations=6, curation="top", keep=0.5)
    g_reweight = gauss("augment", n=10, curation="reweight", keep=0.5, power=1, scale=0.7)
    g_weighted = _config("gaussian", "mix", real=0.2, real_weight=0.5)
    g_weighted_augment = _config("gaussian", "augment", synthetic=0.5, real_weight=0.8)
    g_weighted_sub = gauss("accumulate-subsample", n=10, real=0.1, real_weight=0.2)
    g_reward = _config("gaussian", "mix", real=0.2, reward="target:1", generations=5)

    def gmm(policy="replace", **settings):
        return _config("gmm", policy, **{"n": 30, "generations": 3, "replicates": 1500,
                                         **settings})

    m_verifier = gmm("mix", real=0.2, synthetic=0.5, curation="verifier", strictness=2,
                     shift=0.5, false_accept=0.05)
    m_best_of = gmm(curation="best-of", k=3, generations=2)
    m_bottom = gmm("mix", real=0.2, curation="bottom", keep=0.5, weights=[0.3, 0.7])
    m_reweight = gmm("mix", real=0.2, curation="reweight", keep=0.25, power=2, scale=0.6)
    m_weighted = _config("gmm", "mix", n=30, generations=8, replicates=2000, real=0.2,
                         real_weight=0.05)

    p_exact, gini = "exact E p_t", "exact E Gini–Simpson"
    return [
        Group("poisson, PTRS (λ ≥ 10)", "poisson-ptrs", samplers=[
            _sampler("poisson", [12.5], 12.5, 12.5), _sampler("poisson", [400.0], 400.0, 400.0),
            _sampler("poisson", [1e7], 1e7, 1e7)]),
        Group("poisson, multiplication (λ < 10)", "poisson-product", samplers=[
            _sampler("poisson", [0.7], 0.7, 0.7), _sampler("poisson", [6.0], 6.0, 6.0)]),
        Group("negative binomial", "negbin-scale", samplers=[
            _negbin(1, 0.5), _negbin(40, 0.8), _negbin(500, 0.02)]),
        Group("coin best-of, replace", "coin-best-of-share", sims=[_exact(
            best_of, _predicted(best_of, "p", p_exact, [2, 5, 20])
            + _predicted(best_of, "reward", "exact E reward_t", [5]),
            _absorbed(best_of, [3, 10, 20]))]),
        Group("coin verifier, replace", "coin-verifier-law", sims=[_exact(
            verifier, _predicted(verifier, "p", p_exact, [2, 3, 5])
            + _predicted(verifier, "accept_rate", "exact E accept_rate_t", [2, 3]),
            _absorbed(verifier, [3, 10]))]),
        Group("coin verifier, mix: E accept_rate", "verifier-candidates", sims=[_exact(
            verifier_mix, _predicted(verifier_mix, "accept_rate", "exact E accept_rate_t",
                                     [2, 4, 8])
            + _predicted(verifier_mix, "p", p_exact, [8]))]),
        Group("coin top, mix with carry-over", "coin-top-is-bottom", sims=[_exact(
            top_carry, _predicted(top_carry, "p", p_exact, [2, 5, 20]),
            _absorbed(top_carry, [5, 20]))]),
        Group("coin bottom, replace (ties at ½)", "coin-filter-ties", sims=[_exact(
            bottom, _predicted(bottom, "p", p_exact, [2, 5, 20]), _absorbed(bottom, [5, 20]))]),
        Group("coin reweight at τ = 0.7, mix", "coin-reweight-proposal", sims=[_exact(
            reweight, _predicted(reweight, "p", p_exact, [2, 5, 20]))]),
        Group("coin weighted fit, mix", "weights-swapped", sims=[_exact(
            weighted, _predicted(weighted, "p", p_exact, [2, 5, 20])
            + _coin_square(weighted, [5, 20]))]),
        Group("coin weighted fit, mix with carry-over", "coin-carry-provenance", sims=[
            _against_package(weighted_carry, [("p", 3, 1), ("p", 10, 1), ("p", 10, 2)],
                             10_000)]),
        Group("categorical best-of (rank), mix with carry-over", "categorical-best-of-first",
              sims=[_against_package(cat_best_of, [("gini_simpson", 4, 1), ("support", 4, 1),
                                                   ("reward", 4, 1)], 6000)]),
        Group("categorical verifier, replace", "categorical-accepted-law", sims=[
            _against_package(cat_verifier, [("gini_simpson", 4, 1), ("accept_rate", 2, 1),
                                            ("accept_rate", 4, 1)], 6000)]),
        Group("categorical top, accumulate-subsample", "categorical-level-cut", sims=[
            _against_package(cat_top, [("gini_simpson", 2, 1), ("reward", 2, 1),
                                       ("reward", 4, 1), ("support", 4, 1)], 6000)]),
        Group("categorical bottom, replace", "categorical-bottom-as-top", sims=[
            _against_package(cat_bottom, [("gini_simpson", 4, 1), ("reward", 4, 1)], 6000)]),
        Group("categorical reweight at τ = 0.5, augment", "categorical-reweight-proposal", sims=[
            _against_package(cat_reweight, [("gini_simpson", 2, 1), ("gini_simpson", 4, 1),
                                            ("reward", 4, 1)], 6000)]),
        Group("categorical weighted fit, mix", "categorical-weighted-divisor", sims=[_exact(
            cat_weighted, _predicted(cat_weighted, "gini_simpson", gini, [2, 5, 20]))]),
        Group("categorical weighted fit, mix with carry-over", "categorical-carry-provenance",
              sims=[_against_package(cat_weighted_carry, [("gini_simpson", 4, 1),
                                                          ("support", 4, 1)], 6000)]),
        Group("gaussian verifier, replace: E 1/var_t", "tilted-variance", sims=[_exact(
            g_verifier, _inverse_var(g_verifier, [1, 2, 5, 10]))]),
        Group("gaussian verifier with false accepts, mix with carry-over", "plain-share", sims=[
            _against_package(g_verifier_carry, [("var", 3, 1), ("mean", 3, 1),
                                                ("accept_rate", 2, 1), ("accept_rate", 3, 1)],
                             6000)]),
        Group("gaussian verifier far from the model (shortfalls)", "fill-from-tilted", sims=[
            _against_package(g_short, [("var", 2, 1), ("var", 3, 1), ("mean", 3, 1),
                                       ("accept_rate", 2, 1)], 6000)]),
        Group("gaussian best-of (target), accumulate", "best-of-sign", sims=[
            _against_package(g_best_of, [("var", 3, 1), ("mean", 3, 1), ("reward", 3, 1)],
                             6000)]),
        Group("gaussian bottom, mix", "continuous-top-bottom", sims=[
            _against_package(g_bottom, [("var", 2, 1), ("var", 3, 1), ("mean", 3, 1)], 6000)]),
        Group("gaussian top: replace, and augment with a weighted fit", "top-about-truth", sims=[
            _against_package(g_top_replace, [("var", 3, 1), ("var", 6, 1), ("mean", 6, 2)],
                             6000),
            _against_package(g_top, [("var", 2, 1), ("var", 3, 1), ("mean", 3, 1)], 6000)]),
        Group("gaussian reweight at λ = 0.7, augment", "reweight-unscaled", sims=[
            _against_package(g_reweight, [("var", 2, 1), ("var", 3, 1)], 6000)]),
        Group("gaussian weighted fit, mix", "no-between-term", sims=[_exact(
            g_weighted, _predicted(g_weighted, "var", "exact E var_t", [2, 5, 20]))]),
        Group("gaussian weighted fit, augment", "weights-swapped", sims=[_exact(
            g_weighted_augment, _predicted(g_weighted_augment, "var", "exact E var_t",
                                           [2, 5, 20]))]),
        Group("gaussian weighted fit, accumulate-subsample", "flags-stay", sims=[
            _against_package(g_weighted_sub, [("var", 3, 1), ("mean", 3, 2)], 6000)]),
        Group("gaussian target reward, mix", "reward-mean-term", sims=[_exact(
            g_reward, _predicted(g_reward, "reward", "exact E reward_t", [1, 2, 5]))]),
        Group("gmm verifier (shifted, false accepts), mix", "verifier-strictness", sims=[
            _against_package(m_verifier, [("var", 3, 1), ("mean", 3, 1), ("accept_rate", 2, 1),
                                          ("accept_rate", 3, 1)], 1500)]),
        Group("gmm best-of (truth reward), replace", "gmm-reward-quadrature", sims=[
            _against_package(m_best_of, [("var", 2, 1), ("reward", 1, 1), ("reward", 2, 1)],
                             1500)]),
        Group("gmm bottom, mix, unequal weights", "gmm-draw-weights", sims=[
            _against_package(m_bottom, [("var", 3, 1), ("weight_0", 3, 1), ("mean", 3, 1)],
                             1500)]),
        Group("gmm reweight at λ = 0.6, mix", "gmm-proposal-unscaled", sims=[
            _against_package(m_reweight, [("var", 3, 1), ("std_0", 2, 1), ("std_0", 3, 1)],
                             1500)]),
        Group("gmm weighted fit, mix (the mixture-variance identity)", "weighted-em-plain",
              sims=[_exact(m_weighted, _predicted(m_weighted, "var", "exact E var_t",
                                                  [1, 4, 8]))]),
    ]


def _coin_square(config, ts):
    """E p_t² from the package's exact moment recursion (theory.moments), weighted fit included."""
    run = _run_config(config)
    _, square = proportion_moments(config["p0"], config["n"], config["generations"],
                                   pieces(run.policy, config["n"]),
                                   real_weight=config.get("real_weight"))
    return [("p", t, 2, float(square[t, 0])) for t in ts]


def _inverse_var(config, ts):
    """E 1/var_t of the Gaussian verifier (ε = 0) under replace, exactly (theory/curation.py;
    mc.predict states its value at t = G as a fact)."""
    inverse = gaussian_verifier_inverse_var(config.get("std", 1.0) ** 2, config["n"],
                                            config["generations"], config["strictness"],
                                            config.get("estimator", "mle"),
                                            config.get("scale", 1.0))
    fact = mc.predict(_run_config(config)).facts
    assert math.isclose(fact[f"E 1/var_t at t = {config['generations']} (verifier, exact)"],
                        inverse[-1], rel_tol=1e-12)
    return [("var", t, -1, float(inverse[t])) for t in ts]


def _n_subchecks(groups: list[Group]) -> int:
    samplers = 2 * sum(len(g.samplers) for g in groups)
    sims = sum(len(job["take"]) + len(job["absorbed"]) for g in groups for job in g.sims)
    return samplers + sims


@cache
def _critical() -> float:
    """Two-sided |z| at family-wise α = 1e-3, Bonferroni over every sub-check of the file."""
    return critical_z(ALPHA, _n_subchecks(_groups()))


def _sampler_checks(name, job, got) -> list[Check]:
    n = got["n"]
    label = f"{name}: {job['method']}({', '.join(map(str, job['args']))})"
    if not got["finite"]:
        return [Check(f"{label} (non-finite draws)", math.inf, job["mu"], 1.0)] * 2
    mean_d2 = got["s2"] / n
    return [
        Check(f"{label} mean", job["mu"] + got["s1"] / n, job["mu"], math.sqrt(job["var"] / n)),
        Check(f"{label} variance", mean_d2, job["var"],
              math.sqrt(max(got["s4"] / n - mean_d2**2, 0.0) / n)),
    ]


def _sim_checks(name, job, got) -> list[Check]:
    checks = []
    reference = None if job["package"] is None else _package(job["package"])
    for i, ((metric, t, power), take) in enumerate(zip(job["take"], got["takes"], strict=True)):
        label = f"{name}: E {metric}_{t}" + {1: "", 2: "²", -1: "^-1"}[power]
        if reference is None:
            exact, se = job["exact"][i], math.sqrt(take["var"] / take["n"])
        else:  # two samples: the page's mean against the package's, SE of the difference
            values = reference[metric][:, t] ** power
            exact = float(values.mean())
            se = math.sqrt(take["var"] / take["n"] + float(values.var(ddof=1)) / values.size)
            label += " (the package's simulation)"
        if not take["finite"]:
            checks.append(Check(f"{label} (non-finite values)", math.inf, exact, 1.0))
        else:
            checks.append(Check(label, take["mean"], exact, se))
    replicates = job["config"]["replicates"]
    for t, exact, value in zip(job["absorbed"], job["absorbed_exact"], got["absorbed"],
                               strict=True):
        checks.append(Check(f"{name}: P(absorbed by {t})", value, exact,
                            math.sqrt(exact * (1 - exact) / replicates)))
    return checks


def _checks(groups: list[Group], got: dict[str, Any]) -> dict[str, list[Check]]:
    samplers, sims = iter(got.get("samplers", [])), iter(got.get("sims", []))
    out = {}
    for group in groups:
        checks = []
        for job in group.samplers:
            checks += _sampler_checks(group.name, job, next(samplers))
        for job in group.sims:
            checks += _sim_checks(group.name, job, next(sims))
        out[group.name] = checks
    return out


def _spec(groups: list[Group], planted: bool) -> dict[str, Any]:
    def variant(group):
        return group.bug if planted else "original"

    def sim(job, group):
        return {"config": job["config"], "take": job["take"], "absorbed": job["absorbed"],
                "variant": variant(group)}

    return {"samplers": [{**job, "variant": variant(g)} for g in groups for job in g.samplers],
            "sims": [sim(job, g) for g in groups for job in g.sims]}


def _failures(checks, critical):
    return [c for c in checks if not c.passes(critical)]


def _lines(checks, critical):
    return "\n".join(f"  {c.name}: simulated {c.simulated:.6g} ± {c.se:.2g}, exact {c.exact:.6g}, "
                     f"z = {c.z:+.2f} (critical {critical:.2f})" for c in checks)


# -- tests: statistics -----------------------------------------------------------------------------


def test_curated_and_weighted_runs_match_the_package():
    groups = _groups()
    checks = [c for cs in _checks(groups, _evaluate(_spec(groups, planted=False))).values()
              for c in cs]
    assert len(checks) == _n_subchecks(groups)
    failed = _failures(checks, _critical())
    assert not failed, "curated or weighted runs off the package:\n" + _lines(failed, _critical())


def test_every_check_group_fails_on_its_planted_bug():
    groups = _groups()
    planted = _checks(groups, _evaluate(_spec(groups, planted=True)))
    missed = [f"{g.name} did not notice: {BUGS[g.bug].what}\n"
              + _lines(planted[g.name], _critical())
              for g in groups if not _failures(planted[g.name], _critical())]
    assert not missed, "\n".join(missed)
    # every planted bug is used (candidate-count by the accept_rate test)
    assert {g.bug for g in groups} | {"candidate-count"} == set(BUGS)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_planted_bug_targets_exist(name):
    _sources(BUGS[name])  # asserts the target text occurs exactly once


# -- tests: without statistics ---------------------------------------------------------------------

#: Configs whose metric names must be the package's (those the page records).
NAMES = [
    _config("coin", replicates=5, generations=3),
    _config("coin", replicates=5, generations=3, reward="1,2"),
    _config("coin", replicates=5, generations=3, curation="best-of", reward="0,1"),
    _config("coin", replicates=5, generations=3, curation="best-of", k=1),
    _config("coin", replicates=5, generations=3, curation="verifier", strictness=0),
    _config("coin", replicates=5, generations=3, curation="reweight", keep=1.0),
    _config("categorical", replicates=5, generations=3, curation="best-of"),
    _config("gaussian", replicates=5, generations=3, curation="verifier", reward="target:2"),
    _config("gmm", n=20, replicates=3, generations=2, curation="top", keep=1.0, reward="truth"),
    _config("gmm", n=20, replicates=3, generations=2, curation="bottom"),
]

#: Runs whose accept_rate is fixed (S kept of a fixed number drawn), against mc.predict's.
ACCEPT = [
    _config("coin", replicates=20, generations=4, curation="best-of", k=7, reward="0,1"),
    _config("coin", "mix", real=0.2, synthetic=0.7, replicates=20, generations=4,
            curation="top", keep=0.3),
    _config("categorical", "accumulate", real=0.1, replicates=20, generations=4,
            curation="bottom", keep=0.45, n=20),
    _config("gaussian", "augment", synthetic=0.7, replicates=20, generations=4,
            curation="reweight", keep=0.6),
    _config("gaussian", "mix", real=0.3, synthetic=0.0, replicates=5, generations=4,
            curation="top", keep=0.6),
    _config("gmm", "mix", real=0.2, n=30, replicates=5, generations=3, curation="top",
            keep=0.7),
]

#: Identity curators and the uncurated run: the same numbers.
IDENTITY = [
    (_config("coin", "mix", real=0.2, replicates=30, curation="best-of", k=1),
     _config("coin", "mix", real=0.2, replicates=30)),
    (_config("categorical", replicates=30, curation="top", keep=1.0),
     _config("categorical", replicates=30)),
    (_config("gaussian", "accumulate-subsample", real=0.1, replicates=30, curation="verifier",
             strictness=0.0, shift=1.0),
     _config("gaussian", "accumulate-subsample", real=0.1, replicates=30)),
    (_config("gmm", n=20, replicates=5, generations=5, curation="verifier", false_accept=1.0),
     _config("gmm", n=20, replicates=5, generations=5)),
]

#: Curated and weighted runs: reproducible per replicate, per seed and in chunks.
REPRO = [
    _config("coin", "accumulate-subsample", real=0.1, replicates=8, generations=10,
            curation="verifier", strictness=3, real_weight=0.4),
    _config("categorical", "mix", real=0.1, synthetic=0.5, vocab=30, n=20, replicates=8,
            generations=10, curation="best-of", reward="rank", real_weight=0.7),
    _config("gaussian", "mix", real=0.1, synthetic=0.5, replicates=8, generations=10,
            curation="reweight", power=0.5, real_weight=0.3),
    _config("gmm", "accumulate-subsample", real=0.1, n=30, replicates=6, generations=8,
            curation="verifier", shift=0.5, real_weight=0.5),
]

#: Degenerate curated runs: a verifier far from a collapsed model, shares of 0.001, rewards of
#: ±1e6, temperatures at their limits, models that blow up (var = ∞, their only allowed
#: non-finite value); none may give a NaN, and those that cannot blow up stay finite.
DEGENERATE = [
    _config("coin", n=5, p0=1.0, replicates=50, generations=30, curation="verifier",
            strictness=3),
    _config("coin", n=5, p0=0.0, replicates=50, generations=30, curation="reweight", power=2,
            temperature=0.01),
    _config("coin", n=3, replicates=50, generations=30, curation="best-of", k=1000,
            reward="-1e6,1e6"),
    _config("coin", "augment", n=4, p0=0.9, replicates=20, generations=30, curation="top",
            keep=0.001, real_weight=0.0),
    _config("categorical", vocab=50, zipf=3.0, n=10, replicates=20, generations=40,
            curation="verifier", strictness=50),
    _config("categorical", vocab=50, n=10, replicates=20, generations=40, curation="bottom",
            keep=0.01, temperature=0.001),
    _config("categorical", "accumulate-subsample", real=0.1, vocab=50, n=10, replicates=20,
            generations=40, curation="reweight", power=1000, keep=0.001, real_weight=1.0),
    _config("gaussian", n=5, replicates=20, generations=60, curation="verifier", strictness=5,
            shift=50),
    _config("gaussian", "mix", real=0.2, synthetic=0.4, n=5, replicates=20, generations=60,
            curation="verifier", strictness=5, shift=50, false_accept=0.001),
    _config("gaussian", n=3, replicates=20, generations=100, curation="top", keep=0.01),
    _config("gaussian", n=4, replicates=20, generations=100, curation="reweight", power=1000,
            scale=0.001),
    _config("gaussian", n=4, replicates=10, generations=50, curation="best-of", k=1000,
            reward="target:1000000"),
    _config("gaussian", n=3, replicates=5, generations=100, curation="bottom", scale=1000,
            reward="truth"),
    _config("gmm", n=6, replicates=10, generations=40, curation="verifier", strictness=5,
            shift=30),
    _config("gmm", n=6, replicates=10, generations=40, curation="top", keep=0.05),
    _config("gmm", "mix", real=0.5, n=6, replicates=10, generations=40, curation="reweight",
            power=5, real_weight=0.9),
    _config("gmm", n=4, replicates=5, generations=60, curation="verifier", scale=1000,
            reward="target:1"),
]

#: (config changes, the field its error must name first), each on a valid coin config.
BAD = [
    ({"curation": "best"}, "curation"),
    ({"curation": "best-of", "reward": "0,1", "k": 0}, "k"),
    ({"curation": "best-of", "reward": "0,1", "k": 1001}, "k"),
    ({"curation": "best-of", "reward": "0,1", "k": 2.5}, "k"),
    ({"curation": "top", "keep": 0}, "keep"),
    ({"curation": "bottom", "keep": 1.5}, "keep"),
    ({"curation": "reweight", "keep": 0.0009}, "keep"),
    ({"curation": "verifier", "strictness": -1}, "strictness"),
    ({"curation": "verifier", "strictness": 2e6}, "strictness"),
    ({"curation": "verifier", "false_accept": 1.1}, "false_accept"),
    ({"curation": "verifier", "shift": 0.5}, "shift"),
    ({"family": "categorical", "curation": "verifier", "shift": 1.0}, "shift"),
    ({"family": "gaussian", "curation": "verifier", "shift": 2e6}, "shift"),
    ({"curation": "reweight", "power": -1}, "power"),
    ({"curation": "reweight", "power": 1001}, "power"),
    ({"curation": "best-of"}, "reward"),
    ({"reward": "1"}, "reward"),
    ({"reward": "a,b"}, "reward"),
    ({"reward": "0,inf"}, "reward"),
    ({"reward": "0,2e6"}, "reward"),
    ({"reward": 5}, "reward"),
    ({"reward": " "}, "reward"),
    ({"family": "categorical", "vocab": 3, "reward": "1,2"}, "reward"),
    ({"family": "categorical", "reward": "best"}, "reward"),
    ({"family": "categorical", "vocab": 5000, "zipf": 100.0, "reward": "truth"}, "reward"),
    ({"family": "gaussian", "reward": "target:x"}, "reward"),
    ({"family": "gaussian", "reward": "target:2e6"}, "reward"),
    ({"family": "gmm", "reward": "rank"}, "reward"),
    ({"real_weight": 0.5}, "real_weight"),
    ({"policy": "mix", "real": 0.05, "real_weight": 0.5}, "real_weight"),
    ({"policy": "mix", "real": 0.2, "real_weight": 1.5}, "real_weight"),
    ({"policy": "augment", "real_weight": "half"}, "real_weight"),
    ({"family": "gaussian", "estimator": "unbiased", "policy": "mix", "real": 0.2,
      "real_weight": 0.5}, "estimator"),
]

#: Configs the package takes and the page must take too (edges of the ranges).
ACCEPTED = [
    {"curation": "best-of", "k": 1},
    {"curation": "best-of", "k": 1000, "reward": " -1e6, 1e6 "},
    {"curation": "top", "keep": 0.001},
    {"curation": "verifier", "strictness": 0, "false_accept": 1},
    {"family": "categorical", "vocab": 3, "reward": "1,2,3"},
    {"family": "categorical", "vocab": 3, "reward": [1, 2, 3], "curation": "best-of"},
    {"family": "categorical", "reward": "rank"},
    {"family": "gaussian", "reward": "target: -3.5", "curation": "verifier", "shift": -1e6},
    {"family": "gmm", "reward": "truth", "curation": "reweight", "power": 0},
    {"policy": "accumulate", "real_weight": 0.0},
    {"policy": "mix", "real": 0.1, "real_weight": 1.0},
]

TIMINGS = [
    *[[{"family": "coin", "n": 1000, "generations": 200, "replicates": 1000, "seed": 1,
        **settings}, 2]
      for settings in ({}, {"curation": "best-of", "reward": "0,1"}, {"curation": "verifier"},
                       {"curation": "top"}, {"curation": "bottom"}, {"curation": "reweight"})],
    *[[{"family": "gaussian", "n": 100, "generations": 200, "replicates": 200, "seed": 1,
        **settings}, 1]
      for settings in ({}, {"curation": "best-of"}, {"curation": "verifier"},
                       {"curation": "verifier", "false_accept": 0.1}, {"curation": "top"},
                       {"curation": "bottom"}, {"curation": "reweight"},
                       {"policy": "mix", "real": 0.2, "real_weight": 0.5})],
    [{"family": "categorical", "vocab": 1000, "n": 1000, "generations": 100, "replicates": 100,
      "seed": 1, "curation": "verifier"}, 1],
    [{"family": "gmm", "n": 1000, "generations": 100, "replicates": 20, "seed": 1,
      "curation": "top"}, 1],
]


#: The non-statistical facts, all in one opening of the page: reproducibility, degenerate runs,
#: refusals and timings by :data:`test_explorer_sim.EXTRA`'s code, and here metric names, the
#: fixed accept rates (smallest and largest over replicates at each generation), identity
#: curators against the uncurated run and the accepted edge configs.
BASICS = r"""
(spec) => {
  const out = (EXTRA)(spec);
  const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  out.names = spec.names.map((config) => Object.keys(MCX.sim.run(config).metrics));
  out.accept = spec.accept.map((config) => {
    const values = MCX.sim.run(config).metrics.accept_rate;
    const stride = config.generations + 1;
    return Array.from({ length: stride }, (_, t) => {
      let low = Infinity, high = -Infinity;
      for (let r = 0; r < config.replicates; r++) {
        low = Math.min(low, values[r * stride + t]);
        high = Math.max(high, values[r * stride + t]);
      }
      return [low, high];
    });
  });
  out.identity = spec.identity.map(([curated, plain]) => {
    const a = MCX.sim.run(curated), b = MCX.sim.run(plain);
    const names = Object.keys(a.metrics), plainNames = Object.keys(b.metrics);
    return { names, plainNames,
             same: names.every((n) => b.metrics[n] &&
                               same(Array.from(a.metrics[n]), Array.from(b.metrics[n]))) };
  });
  out.accepted = spec.accepted.map((config) => {
    try {
      MCX.sim.run(config);
      return null;
    } catch (error) {
      return `${error.name}: ${error.message}`;
    }
  });
  return out;
}
""".replace("(EXTRA)", "(" + EXTRA + ")")


def _base(change: dict[str, Any]) -> dict[str, Any]:
    return {**_config("coin", replicates=2, generations=3), **change}


@cache
def _basics() -> dict[str, Any]:
    spec = {"names": NAMES, "accept": ACCEPT, "identity": IDENTITY, "repro": REPRO,
            "degenerate": DEGENERATE, "errors": [_base(change) for change, _ in BAD],
            "accepted": [_base(change) for change in ACCEPTED], "timings": TIMINGS}
    return evaluate(BASICS, spec, timeout=300)


def test_metric_names_are_the_packages():
    for config, names in zip(NAMES, _basics()["names"], strict=True):
        package = _run_config(config).metric_names
        assert set(names) <= set(package), (config, names, package)
        # the curation metrics come last, in the package's order (the family's in the contract's)
        extra = [n for n in package if n in ("reward", "accept_rate")]
        assert names[len(names) - len(extra):] == extra, (config, names, package)
        assert ("reward" in names) == ("reward" in package), (config, names)
        assert ("accept_rate" in names) == ("accept_rate" in package), (config, names)


def _accept_share(config: dict[str, Any]) -> np.ndarray:
    values = _curve(_run_config(config), "accept_rate", "exact accept_rate")
    return np.asarray(values)


def test_fixed_accept_rates_are_the_packages():
    for config, got in zip(ACCEPT, _basics()["accept"], strict=True):
        want = _accept_share(config)
        got = np.asarray(got)
        assert np.allclose(got[:, 0], want, rtol=1e-12) and np.allclose(got[:, 1], want,
                                                                         rtol=1e-12), \
            (config, got, want)


def test_fixed_accept_rate_fails_on_its_planted_bug():
    # ⌊S/q⌋ candidates instead of ⌈S/q⌉: the page's accept_rate moves off mc.predict's.
    config = ACCEPT[1]
    script = ("(spec) => { (function () {\n" + _sources(BUGS["candidate-count"]) + "\n})();\n"
              "const r = MCX.sim.run(spec); return Array.from(r.metrics.accept_rate); }")
    got = np.asarray(evaluate(script, config)).reshape(config["replicates"], -1)
    assert not np.allclose(got[0], _accept_share(config), rtol=1e-12), \
        BUGS["candidate-count"].what


def test_identity_curators_are_the_uncurated_run():
    for (curated, _), got in zip(IDENTITY, _basics()["identity"], strict=True):
        assert got["names"] == got["plainNames"], (curated, got)
        assert got["same"], f"{curated}: an identity curator changed the numbers"


def test_curated_runs_are_reproducible_per_replicate():
    for config, got in zip(REPRO, _basics()["repro"], strict=True):
        where = json.dumps(config)
        assert got["identical"], f"{where}: the same config gave different numbers"
        assert got["prefix"], f"{where}: replicate i differs between R and 10R"
        assert got["chunked"], f"{where}: stepping in chunks differs from run()"
        assert got["seedDiffers"], f"{where}: another seed gave the same numbers"


def test_degenerate_curated_runs_finish_without_nan():
    for config, got in zip(DEGENERATE, _basics()["degenerate"], strict=True):
        where = json.dumps(config)
        may_blow_up = config.get("scale", 1.0) > 1
        for name, values in got.items():
            values = np.asarray(values, dtype=float)
            assert not np.isnan(values).any(), f"{where}: {name} has NaN"
            if not may_blow_up:
                assert np.isfinite(values).all(), f"{where}: {name} has ±inf"
        if "accept_rate" in got:
            accept = np.asarray(got["accept_rate"])
            assert accept.min() >= 1e-3 * (1 - 1e-12) and accept.max() <= 1.0, where


def test_bad_curation_configs_are_refused_naming_the_field():
    for (change, field_name), message in zip(BAD, _basics()["errors"], strict=True):
        assert message is not None, f"{change} was accepted"
        assert message.startswith(f"Error: {field_name} "), (change, message)
        assert "\n" not in message, message
        with pytest.raises(ConfigError):  # the package refuses it too
            _run_config(_base(change))


def test_valid_edge_configs_are_accepted():
    for change, message in zip(ACCEPTED, _basics()["accepted"], strict=True):
        assert message is None, (change, message)
        config = _base(change)
        if isinstance(config.get("reward"), list):
            config["reward"] = ",".join(map(str, config["reward"]))
        _run_config(config)  # and the package takes it


def test_speed_of_curated_live_sizes(capsys):
    lines = []
    for (config, _), ms in zip(TIMINGS, _basics()["timings"], strict=True):
        extra = {k: v for k, v in config.items()
                 if k not in ("family", "n", "generations", "replicates", "seed")}
        what = (f"{config['family']} N = {config['n']}, {config['replicates']} × "
                f"{config['generations']} {json.dumps(extra) if extra else '(uncurated)'}")
        lines.append(f"{what}: " + ", ".join(f"{t:.0f}" for t in ms) + " ms")
    with capsys.disabled():
        print("\ncurated explorer simulation in Chromium (each run, ms):\n  "
              + "\n  ".join(lines))
    assert all(t > 0 for ms in _basics()["timings"] for t in ms)
