"""The explorer's random numbers and simulators (random.js, sim.js), tested in headless Chromium.

Four openings of the explorer page (:func:`explorer_page.evaluate`), each a batch of jobs:

* the cheap parts, shared by several tests: the samplers of ``MCX.random`` against their exact
  moments (z·SE), the page's binomial and hypergeometric probabilities and normal quantile
  against scipy's, its mixture fits against the package's EM, reproducibility (per replicate,
  per seed, stepped in chunks), degenerate runs (no NaN or ±inf) and refused configs;
* ``MCX.sim.run`` against the Python package's exact theory (``mc.predict`` and the
  :mod:`modelcollapse.theory` functions it is built from, never the page's own theory.js):
  one replicate is one independent draw of a statistic at a few generations, compared with its
  exact expectation within z·SE;
* every check group again with a planted bug, where it must fail: a bug is a text substitution
  in random.js or sim.js (as ``planted_theory_bugs.py`` does for the theory), installed in the
  page by running the patched code inside the evaluated function (so the page's
  Content-Security-Policy, which forbids ``eval``, holds);
* the speed of the live sizes (printed, not asserted).

Every statistical sub-check uses one critical ``|z|``: α = 1e-3 family-wise, Bonferroni over
all the sub-checks of this file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

import modelcollapse as mc
from explorer_page import evaluate
from modelcollapse.checks import ALPHA, Check, critical_z
from modelcollapse.theory.assembly import pieces
from modelcollapse.theory.moments import proportion_moments

SEED = 20260418

# -- the page's code and the planted bugs ------------------------------------------------------


def _asset(name: str) -> str:
    return (resources.files("modelcollapse.report").joinpath("assets", "explorer", name)
            .read_text("utf-8"))


@dataclass(frozen=True)
class Bug:
    """One planted bug: ``old`` replaced by ``new`` (exactly once) in the page's ``file``."""

    file: str
    old: str
    new: str
    what: str


BUGS = {
    "uniform-bits": Bug("random.js", "const a = this.nextU32() >>> 5;",
                        "const a = this.nextU32() >>> 4;",
                        "uniform: 28 bits where 27 belong (values up to 2)"),
    "normal-layer": Bug("random.js", "const i = (hi & 31) | ((lo & 3) << 5);",
                        "const i = (hi & 31) | ((lo & 1) << 5);",
                        "ziggurat: the layer index drawn from 6 bits (half the layers unused)"),
    "gamma-shift": Bug("random.js", "const d = shape - 1 / 3;", "const d = shape - 1 / 2;",
                       "Marsaglia–Tsang: d = a − 1/2 instead of a − 1/3"),
    "binomial-inversion": Bug("random.js", "r *= a / x - s;", "r *= a / (x + 1) - s;",
                              "inversion: the pmf recurrence off by one"),
    "binomial-btrs": Bug("random.js",
                         "v = Math.log(v * alpha / (a / (us * us) + b));",
                         "v = v * alpha / (a / (us * us) + b);",
                         "BTRS: the acceptance test without its logarithm"),
    "hypergeometric-urn": Bug("random.js", "if (this.uniformInt(left) < c) {",
                              "if (this.uniformInt(left) <= c) {",
                              "urn draws: an item lands with probability (c + 1)/left"),
    "hypergeometric-mode": Bug("random.js", "((up + 1) * (b - d + up + 1));",
                               "((up + 1) * (b - d + up + 2));",
                               "mode search: the upward pmf ratio off by one"),
    "coin-generation": Bug("sim.js", "if (t === 1) {\n            const h = gen.binomial(N, p0);",
                           "if (t <= 2) {\n            const h = gen.binomial(N, p0);",
                           "coin: training set 2 also fresh truth (generation off by one)"),
    "carry-with-replacement": Bug(
        "sim.js", "gen.hypergeometric(heads[r], N - heads[r], nCarry)",
        "gen.binomial(nCarry, heads[r] / N)",
        "coin mix: the carried-over tosses drawn with replacement"),
    "coin-model-is-truth": Bug(
        "sim.js", "heads[r] += gen.binomial(nReal, p0) + modelHeads(gen, r, t, pt);",
        "heads[r] += gen.binomial(nReal, p0) + gen.binomial(nModel, p0);",
        "coin accumulate: the new tosses drawn from the truth, not the model"),
    "mle-divisor": Bug("sim.js", "const v = m2 / (mle ? size : size - 1);",
                       "const v = m2 / (size - 1);",
                       "gaussian: the MLE divides by n − 1"),
    "unbiased-divisor": Bug("sim.js", "const v = m2 / (mle ? size : size - 1);",
                            "const v = m2 / size;",
                            "gaussian: the unbiased estimator divides by n"),
    "scale-on-variance": Bug("sim.js", "const modelVar = va[r] * lambda2;",
                             "const modelVar = va[r] * cfg.scale;",
                             "gaussian: λ multiplies the variance, not the standard deviation"),
    "swapped-pieces": Bug("sim.js", "pieces: MCX.theory.pieces(cfg),",
                          "pieces: ((p) => ({ ...p, real: p.synthetic, synthetic: p.real }))("
                          "MCX.theory.pieces(cfg)),",
                          "mix: the real and synthetic counts swapped"),
    "bootstrap-carry": Bug(
        "sim.js",
        "      const j = i + gen.uniformInt(size - i);\n"
        "      const kept = data[offset + i];\n"
        "      data[offset + i] = data[offset + j];\n"
        "      data[offset + j] = kept;\n",
        "      if (i === 0) chooseWithoutReplacement.copy = data.slice(offset, offset + size);\n"
        "      data[offset + i] = chooseWithoutReplacement.copy[gen.uniformInt(size)];\n",
        "gaussian mix: the carried-over points drawn with replacement (a bootstrap)"),
    "accumulate-forgets": Bug("sim.js", "if (kind === \"accumulate\" || kind === \"augment\") {",
                              "if (kind === \"augment\") {",
                              "gaussian accumulate: the pool forgotten (a replace in disguise)"),
    "stale-pool": Bug(
        "sim.js",
        "              const end = base + poolSize - N;\n"
        "              drawReal(gen, end, nReal);\n"
        "              drawModel(gen, r, t, end + nReal, N - nReal, modelSd);\n"
        "              choose(gen, data, base, poolSize, N);\n",
        "              const end = base + poolSize - N;\n"
        "              choose(gen, data, base, poolSize - N, N);\n"
        "              drawReal(gen, end, nReal);\n"
        "              drawModel(gen, r, t, end + nReal, N - nReal, modelSd);\n",
        "accumulate-subsample: the subsample drawn before this generation's batch joins"),
    "augment-fresh-real": Bug(
        "sim.js", "                pool(kind === \"accumulate\" ? keptSize - N : N);",
        "                if (kind === \"augment\") drawGroup(gen, N, mean0, var0);\n"
        "                pool(kind === \"accumulate\" ? keptSize - N : N);",
        "augment: a fresh real set every generation instead of the same one"),
    "categorical-model-is-truth": Bug(
        "sim.js", "            addModel(gen, r, t, train, 0);\n"
                  "            if (nCarry > 0) {",
        "            addMultinomial(gen, nModel, q0, train, 0);\n"
        "            if (nCarry > 0) {",
        "categorical: the model's tokens drawn from the truth (the loop never closes)"),
    "em-stops-early": Bug("sim.js", "const GMM_TOL = 1e-10;", "const GMM_TOL = 1e-3;",
                          "EM stopped at scikit-learn's tolerance 1e-3, short of convergence"),
    "gmm-unbiased-components": Bug(
        "sim.js", "      em.fit(x, off, n, start);\n",
        "      em.fit(x, off, n, start);\n"
        "      for (let k = 0; k < K; k++) {\n"
        "        const nk = start[k] * n;\n"
        "        if (nk > 1.5) start[2 * K + k] *= nk / (nk - 1);\n"
        "      }\n",
        "gmm: each component's variance divided by n_k − 1"),
}


def _sources(bug: Bug | None) -> str:
    """random.js and sim.js as one block of code, with ``bug`` planted."""
    code = {name: _asset(name) for name in ("random.js", "sim.js")}
    if bug is not None:
        count = code[bug.file].count(bug.old)
        assert count == 1, f"planted bug {bug.what!r}: its target occurs {count} times in " \
                           f"{bug.file}"
        code[bug.file] = code[bug.file].replace(bug.old, bug.new)
    return code["random.js"] + "\n" + code["sim.js"]


# -- what the page computes ----------------------------------------------------------------------

RUNNER = r"""
function (spec, INSTALL) {
  let current = "original";
  const use = (variant) => {
    if (variant !== current) {
      INSTALL[variant]();
      current = variant;
    }
  };
  // Moments of a sampler's draws about the exact mean mu: Σ(x − mu), Σ(x − mu)², Σ(x − mu)⁴.
  const sampler = (job) => {
    const gen = MCX.random.stream(job.seed, 0);
    const method = gen[job.method];
    let s1 = 0, s2 = 0, s4 = 0, tail = 0, finite = true;
    for (let i = 0; i < job.draws; i++) {
      const x = method.apply(gen, job.args);
      if (!Number.isFinite(x)) finite = false;
      const d = x - job.mu;
      const d2 = d * d;
      s1 += d; s2 += d2; s4 += d2 * d2;
      if (job.tail !== null && Math.abs(x) > job.tail) tail += 1;
    }
    return { n: job.draws, s1, s2, s4, tail, finite };
  };
  // Per-replicate values of metric^power at generation t: their count, mean, variance.
  const simulate = (job) => {
    const result = MCX.sim.run(job.config);
    const stride = result.generations + 1;
    const takes = job.take.map(([metric, t, power]) => {
      const a = result.metrics[metric];
      let mean = 0, m2 = 0, finite = true;
      for (let r = 0; r < result.replicates; r++) {
        const x = Math.pow(a[r * stride + t], power);
        if (!Number.isFinite(x)) finite = false;
        const delta = x - mean;
        mean += delta / (r + 1);
        m2 += delta * (x - mean);
      }
      return { n: result.replicates, mean, var: m2 / (result.replicates - 1), finite };
    });
    const absorbed = job.absorbed.map((t) => result.absorbed[t]);
    return { takes, absorbed };
  };
  const out = {};
  const each = (key, f) => {
    if (spec[key]) out[key] = spec[key].map((job) => { use(job.variant); return f(job); });
  };
  each("samplers", sampler);
  each("sims", simulate);
  each("em", (job) => MCX.sim.fitMixture(job.x, job.start));
  use("original");
  if (spec.pmf) {
    out.pmf = {
      binomial: spec.pmf.binomial.map(([x, n, p]) => MCX.random.binomialPmf(x, n, p)),
      hypergeometric: spec.pmf.hypergeometric.map(
        ([x, g, b, d]) => MCX.random.hypergeometricPmf(x, g, b, d)),
      ndtri: spec.pmf.ndtri.map((p) => MCX.random.ndtri(p)),
    };
  }
  Object.assign(out, (EXTRA)(spec));
  return out;
}
"""

# Reproducibility, degenerate runs, refused configs and timings, on the page's own code.
EXTRA = r"""
function (spec) {
  const out = {};
  const flat = (result) => {
    const values = {};
    for (const [name, v] of Object.entries(result.metrics)) values[name] = Array.from(v);
    if (result.absorbed) values.absorbed = Array.from(result.absorbed);
    return values;
  };
  const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  // replicate r's slice of a metric array
  const slice = (values, r, stride) => Array.from(values.subarray(r * stride, (r + 1) * stride));
  if (spec.repro) out.repro = spec.repro.map((config) => {
    const a = MCX.sim.run(config);
    const b = MCX.sim.run(config);
    const big = MCX.sim.run({ ...config, replicates: 10 * config.replicates });
    const other = MCX.sim.run({ ...config, seed: config.seed + 1 });
    const stride = config.generations + 1;
    const job = MCX.sim.start(config);
    const doneEarly = job.step(2);
    const partial = Object.values(job.result.metrics).every(
      (v) => Number.isNaN(v[3]) && !Number.isNaN(v[2]));
    while (!job.step(5)) { /* step in chunks */ }
    const names = Object.keys(a.metrics);
    const replicates = Array.from({ length: config.replicates }, (_, r) => r);
    return {
      names,
      identical: names.every((n) => same(Array.from(a.metrics[n]), Array.from(b.metrics[n]))),
      chunked: names.every(
        (n) => same(Array.from(a.metrics[n]), Array.from(job.result.metrics[n]))),
      prefix: names.every((n) => replicates.every(
        (r) => same(slice(a.metrics[n], r, stride), slice(big.metrics[n], r, stride)))),
      seedDiffers: names.some((n) => !same(Array.from(a.metrics[n]), Array.from(other.metrics[n]))),
      partial, doneEarly,
    };
  });
  if (spec.degenerate) out.degenerate = spec.degenerate.map((config) => flat(MCX.sim.run(config)));
  if (spec.errors) out.errors = spec.errors.map((config) => {
    try {
      MCX.sim.run(config);
      return null;
    } catch (error) {
      return `${error.name}: ${error.message}`;
    }
  });
  if (spec.timings) out.timings = spec.timings.map(([config, repeats]) => {
    const ms = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      MCX.sim.run(config);
      ms.push(performance.now() - t0);
    }
    return ms;
  });
  return out;
}
"""


def _evaluate(spec: dict[str, Any], bugs: dict[str, Bug] | None = None) -> dict[str, Any]:
    """``spec`` run in one opening of the page; bug variants (from ``bugs``, default
    :data:`BUGS`) are installed as the jobs ask."""
    bugs = BUGS if bugs is None else bugs
    wanted = sorted({job["variant"] for key in ("samplers", "sims", "em")
                     for job in spec.get(key, [])} - {"original"})
    variants = {"original": None, **{name: bugs[name] for name in wanted}}
    installers = ",\n".join(f"{json.dumps(name)}: function () {{\n{_sources(bug)}\n}}"
                            for name, bug in variants.items())
    runner = RUNNER.replace("(EXTRA)", "(" + EXTRA + ")")
    script = (f"(spec) => {{\nconst INSTALL = {{\n{installers}\n}};\n"
              f"return ({runner})(spec, INSTALL);\n}}")
    return evaluate(script, spec, timeout=300)


# -- the checks ----------------------------------------------------------------------------------


@dataclass
class Group:
    """A set of sub-checks that must pass on the page's code and fail with ``bug`` planted."""

    name: str
    bug: str
    samplers: list[dict[str, Any]] = field(default_factory=list)
    sims: list[dict[str, Any]] = field(default_factory=list)


def _sampler(method: str, args: list, mu: float, var: float, *, draws: int = 200_000,
             tail: float | None = None, tail_p: float | None = None) -> dict[str, Any]:
    return {"method": method, "args": args, "mu": mu, "var": var, "draws": draws,
            "tail": tail, "tail_p": tail_p, "seed": SEED}


def _binomial(n: int, p: float, **kw) -> dict[str, Any]:
    return _sampler("binomial", [n, p], n * p, n * p * (1 - p), **kw)


def _hypergeometric(good: int, bad: int, draws: int, **kw) -> dict[str, Any]:
    law = stats.hypergeom(good + bad, good, draws)
    return _sampler("hypergeometric", [good, bad, draws], float(law.mean()), float(law.var()),
                    **kw)


ZIGGURAT_R = 3.442619855899


def _sampler_groups() -> list[Group]:
    return [
        Group("uniform", "uniform-bits", samplers=[_sampler("uniform", [], 0.5, 1 / 12)]),
        Group("normal", "normal-layer", samplers=[
            _sampler("normal", [], 0.0, 1.0, draws=1_000_000, tail=ZIGGURAT_R,
                     tail_p=float(2 * stats.norm.sf(ZIGGURAT_R))),
            _sampler("normal", [], 0.0, 1.0, tail=1.0, tail_p=float(2 * stats.norm.sf(1.0)))]),
        Group("gamma", "gamma-shift", samplers=[
            _sampler("gamma", [0.3], 0.3, 0.3), _sampler("gamma", [1.0], 1.0, 1.0),
            _sampler("gamma", [7.5], 7.5, 7.5), _sampler("chisq", [5], 5.0, 10.0)]),
        Group("binomial, inversion (n p < 10)", "binomial-inversion", samplers=[
            _binomial(20, 0.3), _binomial(1_000_000, 2e-6), _binomial(10, 0.999)]),
        Group("binomial, BTRS (n p ≥ 10)", "binomial-btrs", samplers=[
            _binomial(50, 0.5), _binomial(200, 0.05), _binomial(1000, 0.97),
            _binomial(1_000_000, 0.3)]),
        Group("hypergeometric, urn", "hypergeometric-urn", samplers=[
            _hypergeometric(10, 20, 8), _hypergeometric(5, 100_000, 60_000),
            _hypergeometric(40, 3, 30)]),
        Group("hypergeometric, mode search", "hypergeometric-mode", samplers=[
            _hypergeometric(500, 300, 400), _hypergeometric(30_000, 70_000, 50_000),
            _hypergeometric(1000, 3000, 1000), _hypergeometric(60, 40, 70)]),
    ]


def _config(family: str, policy: str = "replace", **settings) -> dict[str, Any]:
    config = {"family": family, "policy": policy, "seed": SEED, "generations": 20,
              "replicates": 20_000, "n": 10}
    config.update(settings)
    return config


def _run_config(config: dict[str, Any]) -> mc.RunConfig:
    """The package's RunConfig for a page config (the same truth, policy and sizes)."""
    family = config["family"]
    if family == "coin":
        model = mc.Coin(p0=config.get("p0", 0.5), temperature=config.get("temperature", 1.0))
    elif family == "gaussian":
        model = mc.Gaussian(mean=config.get("mean", 0.0), std=config.get("std", 1.0),
                            estimator=config.get("estimator", "mle"),
                            sampling_scale=config.get("scale", 1.0))
    elif family == "categorical":
        model = mc.Categorical(vocab=config.get("vocab", 100), zipf=config.get("zipf", 1.0),
                               temperature=config.get("temperature", 1.0))
    else:
        model = mc.GMM(means=tuple(config.get("means", (-2.0, 2.0))),
                       stds=tuple(config.get("stds", (1.0, 1.0))),
                       weights=tuple(config.get("weights", (0.5, 0.5))),
                       sampling_scale=config.get("scale", 1.0))
    name = config["policy"]
    real = config.get("real", 0.0)
    synthetic = config.get("synthetic")
    if name == "replace":
        policy = mc.Replace()
    elif name == "mix":
        policy = mc.Mix(real=real, synthetic=synthetic)
    elif name == "accumulate":
        policy = mc.Accumulate(real=real)
    elif name == "accumulate-subsample":
        policy = mc.AccumulateSubsample(real=real)
    else:
        policy = mc.Augment(synthetic=1.0 if synthetic is None else synthetic)
    return mc.RunConfig(model, policy, n_samples=config["n"],
                        n_generations=config["generations"], n_replicates=config["replicates"],
                        seed=config["seed"])


def _curve(run: mc.RunConfig, metric: str, label: str) -> np.ndarray:
    for curve in mc.predict(run).for_metric(metric):
        if curve.label == label:
            return curve.values
    raise AssertionError(f"mc.predict gives no {label!r} for {metric} of {run}")


def _sim(config: dict[str, Any], takes: list[tuple[str, int, int, float]],
         absorbed: list[tuple[int, float]] = ()) -> dict[str, Any]:
    """A run's sub-checks: E metric_t^power = exact, and P(absorbed by t) = exact."""
    return {"config": config, "take": [[m, t, k] for m, t, k, _ in takes],
            "exact": [e for *_, e in takes], "absorbed": [t for t, _ in absorbed],
            "absorbed_exact": [e for _, e in absorbed]}


def _expected(config, metric, label, ts):
    values = _curve(_run_config(config), metric, label)
    return [(metric, t, 1, float(values[t])) for t in ts]


def _var_checks(config, ts):
    return _sim(config, _expected(config, "var", "exact E var_t", ts))


def _coin_square(config, ts):
    """E p_t² from the package's exact moment recursion (theory.moments)."""
    run = _run_config(config)
    _, square = proportion_moments(config["p0"], config["n"], config["generations"],
                                   pieces(run.policy, config["n"]))
    return [("p", t, 2, float(square[t, 0])) for t in ts]


def _absorbed(config, ts):
    law = mc.predict(_run_config(config)).absorbed
    assert law is not None
    return [(t, float(law.values[t])) for t in ts]


def _sim_groups() -> list[Group]:
    coin = _config("coin", p0=0.3)
    coin_mix = _config("coin", "mix", p0=0.3, real=0.1, synthetic=0.1, replicates=50_000)
    coin_acc = _config("coin", "accumulate", p0=0.3)
    gauss = _config("gaussian")
    unbiased = _config("gaussian", estimator="unbiased")
    scaled = _config("gaussian", scale=0.8)
    g_mix = _config("gaussian", "mix", real=0.2)
    g_carry = _config("gaussian", "mix", real=0.1, synthetic=0.1)
    g_acc = _config("gaussian", "accumulate")
    g_sub = _config("gaussian", "accumulate-subsample", real=0.1, scale=0.9)
    g_aug = _config("gaussian", "augment", synthetic=0.5)
    cat = _config("categorical", vocab=20)
    cat_mix = _config("categorical", "mix", vocab=20, real=0.2)
    gmm = _config("gmm", n=100, generations=10, replicates=2000)
    gini = "exact E Gini–Simpson"
    return [
        Group("coin, replace", "coin-generation", sims=[_sim(
            coin, _expected(coin, "p", "exact E p_t", [1, 5, 20]),
            _absorbed(coin, [2, 5, 10, 20]))]),
        Group("coin, mix with carry-over", "carry-with-replacement", sims=[_sim(
            coin_mix, _coin_square(coin_mix, [2, 5, 20]), _absorbed(coin_mix, [3, 10, 20]))]),
        Group("coin, accumulate", "coin-model-is-truth", sims=[_sim(
            coin_acc, _expected(coin_acc, "p", "exact E p_t", [20])
            + _coin_square(coin_acc, [2, 5, 20]), _absorbed(coin_acc, [20]))]),
        Group("gaussian, replace, mle", "mle-divisor", sims=[_var_checks(gauss, [1, 5, 20])]),
        Group("gaussian, replace, unbiased", "unbiased-divisor",
              sims=[_var_checks(unbiased, [1, 5, 20])]),
        Group("gaussian, replace, sampling scale 0.8", "scale-on-variance",
              sims=[_var_checks(scaled, [1, 3, 8])]),
        Group("gaussian, mix without carry-over", "swapped-pieces",
              sims=[_var_checks(g_mix, [2, 5, 20])]),
        Group("gaussian, mix with carry-over", "bootstrap-carry",
              sims=[_var_checks(g_carry, [2, 5, 20])]),
        Group("gaussian, accumulate", "accumulate-forgets", sims=[_var_checks(g_acc, [2, 5, 20])]),
        Group("gaussian, accumulate-subsample, sampling scale 0.9", "stale-pool",
              sims=[_var_checks(g_sub, [2, 3, 20])]),
        Group("gaussian, augment", "augment-fresh-real", sims=[_var_checks(g_aug, [2, 5, 20])]),
        Group("categorical, replace", "categorical-model-is-truth", sims=[_sim(
            cat, _expected(cat, "gini_simpson", gini, [1, 5, 20])
            + _expected(cat, "support", "exact E support_t", [1, 5]))]),
        Group("categorical, mix", "swapped-pieces", sims=[_sim(
            cat_mix, _expected(cat_mix, "gini_simpson", gini, [2, 5, 20]))]),
        Group("gmm, replace (the mixture-variance identity)", "gmm-unbiased-components",
              sims=[_sim(gmm, _expected(gmm, "var", "exact E var_t (mixture-variance identity)",
                                        [1, 5, 10]))]),
    ]


def _sampler_checks(name: str, job: dict[str, Any], got: dict[str, Any]) -> list[Check]:
    n = got["n"]
    label = f"{name}: {job['method']}({', '.join(map(str, job['args']))})"
    if not got["finite"]:
        return [Check(f"{label} (non-finite draws)", math.inf, job["mu"], 1.0)]
    mean_d2 = got["s2"] / n
    checks = [
        Check(f"{label} mean", job["mu"] + got["s1"] / n, job["mu"], math.sqrt(job["var"] / n)),
        Check(f"{label} variance", mean_d2, job["var"],
              math.sqrt(max(got["s4"] / n - mean_d2**2, 0.0) / n)),
    ]
    if job["tail"] is not None:
        p = job["tail_p"]
        checks.append(Check(f"{label} P(|x| > {job['tail']:g})", got["tail"] / n, p,
                            math.sqrt(p * (1 - p) / n)))
    return checks


def _sim_checks(name: str, job: dict[str, Any], got: dict[str, Any]) -> list[Check]:
    checks = []
    for (metric, t, power), exact, take in zip(job["take"], job["exact"], got["takes"],
                                               strict=True):
        label = f"{name}: E {metric}_{t}" + ("²" if power == 2 else "")
        if not take["finite"]:
            checks.append(Check(f"{label} (non-finite values)", math.inf, exact, 1.0))
        else:
            checks.append(Check(label, take["mean"], exact, math.sqrt(take["var"] / take["n"])))
    replicates = job["config"]["replicates"]
    for t, exact, value in zip(job["absorbed"], job["absorbed_exact"], got["absorbed"],
                               strict=True):
        checks.append(Check(f"{name}: P(absorbed by {t})", value, exact,
                            math.sqrt(exact * (1 - exact) / replicates)))
    return checks


PMF_CASES = {
    "binomial": [[3, 10, 0.3], [0, 10, 0.3], [10, 10, 0.3], [500, 1000, 0.5],
                 [300_123, 1_000_000, 0.3], [5, 1_000_000, 1e-6], [17, 40, 0.97],
                 [0, 1_000_000, 1e-6]],
    "hypergeometric": [[3, 10, 20, 8], [0, 10, 20, 8], [250, 1000, 3000, 1000],
                       [15_000, 30_000, 70_000, 50_000], [8, 10, 20, 8], [70, 60, 40, 70]],
    "ndtri": [1e-300, 1e-20, 0.01, 0.3, 0.5, 0.9, 0.999999],
}

#: Mixture fits compared with the package's EM (families/gmm/em.py's fit_block_warm with the
#: numba backend's defaults, warm from the truth after warm_start.split_coinciding): (numpy
#: seed, N, truth (weights, means, stds)); the points are drawn by :func:`_em_points`.
EM_CASES = [
    (1, 1000, ((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0))),
    (2, 300, ((0.5, 0.5), (-0.5, 0.5), (1.0, 1.0))),     # overlapping: Levenberg–Marquardt
    (3, 500, ((0.2, 0.3, 0.5), (-3.0, 0.0, 3.0), (0.5, 1.0, 2.0))),  # K = 3: SQUAREM
    (4, 200, ((1.0,), (0.0,), (1.0,))),                 # one component: closed form
    (5, 400, ((0.3, 0.7), (0.0, 0.0), (1.0, 1.0))),     # coinciding start: split first
    (6, 20, ((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0))),
]
#: The package's fits of EM_CASES (weights, means, variances), to 12 digits; recomputed with
#: numba by the slow test below.
EM_GOLDEN = [
    ((0.486546639379, 0.513453360621), (-2.06554389809, 1.90591132441),
     (0.770639212065, 1.1313374978)),
    ((0.0563204167242, 0.943679583276), (-1.36073889467, 0.0263502662283),
     (0.00923634363228, 1.20570901684)),
    ((0.207514745564, 0.317831901157, 0.474653353279),
     (-2.99451155679, 0.0620661768403, 3.37276780573),
     (0.27626965181, 0.766878960402, 3.28278942163)),
    ((1.0,), (0.0479107410302,), (0.994945053657,)),
    ((0.902152252443, 0.0978477475571), (-0.198922634392, 1.39008329029),
     (0.761599466364, 0.337740322165)),
    ((0.821485551545, 0.178514448455), (-0.299539394002, 3.42737759908),
     (3.40641168063, 0.0430235053526)),
]


def _em_points(seed: int, n: int, truth) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights, means, stds = truth
    counts = rng.multinomial(n, weights)
    return np.concatenate([rng.normal(m, s, c) for m, s, c in zip(means, stds, counts,
                                                                    strict=True)])


def _em_jobs(variant: str) -> list[dict[str, Any]]:
    return [{"variant": variant, "x": _em_points(seed, n, truth).tolist(),
             "start": {"weights": truth[0], "means": truth[1],
                       "variances": [s * s for s in truth[2]]}}
            for seed, n, truth in EM_CASES]


#: Reproducibility: each config twice, with 10× the replicates, with another seed, stepped.
REPRO = [
    {"family": "coin", "n": 10, "generations": 12, "replicates": 10, "seed": 5},
    {"family": "coin", "policy": "mix", "real": 0.2, "synthetic": 0.5, "n": 10,
     "generations": 12, "replicates": 10, "seed": 5},
    {"family": "gaussian", "n": 10, "generations": 12, "replicates": 10, "seed": 5},
    {"family": "gaussian", "policy": "accumulate-subsample", "real": 0.1, "n": 10,
     "generations": 12, "replicates": 10, "seed": 5},
    {"family": "categorical", "policy": "mix", "real": 0.1, "synthetic": 0.6, "vocab": 30,
     "n": 20, "generations": 12, "replicates": 10, "seed": 5},
    {"family": "gmm", "policy": "accumulate-subsample", "n": 40, "generations": 12,
     "replicates": 10, "seed": 5},
]

#: Runs that collapse, lose tokens or components: every value must stay finite.
DEGENERATE = [
    {"family": "coin", "n": 1, "generations": 50, "replicates": 50, "seed": 1},
    {"family": "coin", "n": 1, "generations": 50, "replicates": 50, "seed": 1, "p0": 1.0,
     "temperature": 0.01},
    {"family": "gaussian", "n": 2, "generations": 200, "replicates": 50, "seed": 1},
    {"family": "gaussian", "n": 2, "generations": 200, "replicates": 50, "seed": 1,
     "estimator": "unbiased"},
    {"family": "gaussian", "n": 1, "generations": 50, "replicates": 20, "seed": 1,
     "policy": "accumulate-subsample"},
    {"family": "gaussian", "n": 3, "generations": 200, "replicates": 20, "seed": 1,
     "policy": "mix", "real": 0.0, "synthetic": 0.34, "scale": 0.001},
    {"family": "categorical", "vocab": 1000, "n": 10, "generations": 100,
     "replicates": 20, "seed": 1},
    {"family": "categorical", "vocab": 50, "n": 10, "generations": 60, "replicates": 20,
     "seed": 1, "temperature": 0.001, "policy": "accumulate-subsample"},
    {"family": "gmm", "n": 4, "generations": 100, "replicates": 20, "seed": 1},
    {"family": "gmm", "n": 6, "generations": 60, "replicates": 10, "seed": 1,
     "means": [0, 0, 0], "stds": [1, 1, 1], "weights": [0.2, 0.3, 0.5], "scale": 0.5},
]

#: The live sizes (config, repeats): timed in Chromium, printed.
TIMINGS = [
    [{"family": "coin", "n": 1000, "generations": 200, "replicates": 1000, "seed": 1}, 4],
    [{"family": "coin", "n": 10, "generations": 200, "replicates": 1000, "seed": 1}, 4],
    [{"family": "gaussian", "n": 100, "generations": 200, "replicates": 200, "seed": 1}, 4],
    [{"family": "gaussian", "policy": "mix", "real": 0.1, "synthetic": 0.5, "n": 100,
      "generations": 200, "replicates": 200, "seed": 1}, 2],
    [{"family": "categorical", "vocab": 1000, "n": 1000, "generations": 100,
      "replicates": 100, "seed": 1}, 2],
    [{"family": "gmm", "n": 1000, "generations": 100, "replicates": 20, "seed": 1}, 1],
]

#: (config changes, the field its error must name first), each on a valid base config.
BAD = [
    ({"family": "dice"}, "family"),
    ({"family": "<img src=x onerror=alert(1)>"}, "family"),
    ({"policy": "bogus"}, "policy"),
    ({"n": 0}, "n"), ({"n": 2.5}, "n"), ({"n": "10"}, "n"),
    ({"generations": 0}, "generations"), ({"replicates": 0}, "replicates"),
    ({"seed": -1}, "seed"), ({"seed": 2**32}, "seed"), ({"seed": 1.5}, "seed"),
    ({"real": 1.5}, "real"), ({"real": -0.1}, "real"),
    ({"policy": "mix", "real": 0.6, "synthetic": 0.6}, "real + synthetic"),
    ({"policy": "mix", "synthetic": 1.2}, "synthetic"),
    ({"policy": "augment", "synthetic": -1}, "synthetic"),
    ({"p0": 1.2}, "p0"), ({"temperature": 0}, "temperature"),
    ({"family": "gaussian", "std": 0}, "std"), ({"family": "gaussian", "std": -1}, "std"),
    ({"family": "gaussian", "estimator": "median"}, "estimator"),
    ({"family": "gaussian", "estimator": "unbiased", "n": 1}, "n"),
    ({"family": "gaussian", "scale": 0}, "scale"),
    ({"family": "categorical", "vocab": 1}, "vocab"),
    ({"family": "categorical", "zipf": -1}, "zipf"),
    ({"family": "gmm", "means": [0, 1, 2], "stds": [1, 1]}, "stds"),
    ({"family": "gmm", "weights": [0.5, 0.4]}, "weights"),
    ({"family": "gmm", "weights": [1.5, -0.5]}, "weights"),
    ({"family": "gmm", "stds": [1, 0]}, "stds"),
    ({"family": "gmm", "means": []}, "means"),
    ({"family": "gmm", "n": 1}, "n"),
]


@cache
def _groups() -> list[Group]:
    return _sampler_groups() + _sim_groups()


def _n_subchecks(groups: list[Group]) -> int:
    """The file's sub-checks: one per sampler moment and tail, per simulated statistic."""
    samplers = sum(2 + (job["tail"] is not None) for g in groups for job in g.samplers)
    sims = sum(len(job["take"]) + len(job["absorbed"]) for g in groups for job in g.sims)
    return samplers + sims


@cache
def _critical() -> float:
    """Two-sided |z| at family-wise α = 1e-3, Bonferroni over every sub-check of the file."""
    return critical_z(ALPHA, _n_subchecks(_groups()))


def _checks(groups: list[Group], got: dict[str, Any]) -> dict[str, list[Check]]:
    """Each group's sub-checks from the page's answers (in the order the jobs were sent)."""
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
    """The jobs of ``groups``, on the page's code or each with its group's bug planted."""
    def variant(group):
        return group.bug if planted else "original"

    return {"samplers": [{**job, "variant": variant(g)} for g in groups for job in g.samplers],
            "sims": [{**job, "variant": variant(g)} for g in groups for job in g.sims]}


@cache
def _basics() -> dict[str, Any]:
    """The cheap parts in one opening: samplers, probabilities, EM fits, reproducibility,
    degenerate runs and refused configs (shared by several tests)."""
    spec = {**_spec(_sampler_groups(), planted=False), "pmf": PMF_CASES,
            "em": _em_jobs("original") + _em_jobs("em-stops-early"),
            "repro": REPRO, "degenerate": DEGENERATE,
            "errors": [{**_config("coin", replicates=2, generations=2), **change}
                       for change, _ in BAD]}
    return _evaluate(spec)


def _failures(checks: list[Check], critical: float) -> list[Check]:
    return [c for c in checks if not c.passes(critical)]


def _lines(checks: list[Check], critical: float) -> str:
    return "\n".join(f"  {c.name}: simulated {c.simulated:.6g} ± {c.se:.2g}, exact {c.exact:.6g}, "
                     f"z = {c.z:+.2f} (critical {critical:.2f})" for c in checks)


# -- tests -------------------------------------------------------------------------------------


def test_samplers_match_their_exact_moments():
    groups = _sampler_groups()
    checks = [c for cs in _checks(groups, _basics()).values() for c in cs]
    assert len(checks) == _n_subchecks(groups)
    failed = _failures(checks, _critical())
    assert not failed, "samplers off their exact moments:\n" + _lines(failed, _critical())


def test_probabilities_match_scipy():
    pmf = _basics()["pmf"]
    want = [stats.binom.pmf(x, n, p) for x, n, p in PMF_CASES["binomial"]]
    assert np.allclose(pmf["binomial"], want, rtol=1e-12, atol=0)
    want = [stats.hypergeom.pmf(x, g + b, g, d) for x, g, b, d in PMF_CASES["hypergeometric"]]
    assert np.allclose(pmf["hypergeometric"], want, rtol=1e-12, atol=0)
    assert np.allclose(pmf["ndtri"], special.ndtri(PMF_CASES["ndtri"]), rtol=1e-14, atol=1e-15)


def test_simulators_match_the_package_theory():
    groups = _sim_groups()
    checks = [c for cs in _checks(groups, _evaluate(_spec(groups, planted=False))).values()
              for c in cs]
    assert len(checks) == _n_subchecks(groups)
    failed = _failures(checks, _critical())
    assert not failed, "simulators off the exact theory:\n" + _lines(failed, _critical())


def test_every_check_group_fails_on_its_planted_bug():
    groups = _groups()
    planted = _checks(groups, _evaluate(_spec(groups, planted=True)))
    missed = [f"{g.name} did not notice: {BUGS[g.bug].what}\n"
              + _lines(planted[g.name], _critical())
              for g in groups if not _failures(planted[g.name], _critical())]
    assert not missed, "\n".join(missed)
    # every planted bug is used (em-stops-early by test_em_fits_match_the_package)
    assert {g.bug for g in groups} | {"em-stops-early"} == set(BUGS)


def _em_gap(fit: dict[str, Any], golden) -> float:
    return max(float(np.max(np.abs(np.asarray(fit[key]) - np.asarray(want))))
               for key, want in zip(("weights", "means", "variances"), golden, strict=True))


def test_em_fits_match_the_package():
    fits = _basics()["em"]
    honest, planted = fits[:len(EM_CASES)], fits[len(EM_CASES):]
    for case, fit, golden in zip(EM_CASES, honest, EM_GOLDEN, strict=True):
        assert _em_gap(fit, golden) < 1e-7, (case, fit, golden)
    # planted: EM stopped at scikit-learn's 1e-3 (the fits that need more than a few steps)
    gaps = [_em_gap(fit, golden) for fit, golden in zip(planted, EM_GOLDEN, strict=True)]
    assert max(gaps) > 1e-4, f"{BUGS['em-stops-early'].what} went unnoticed: {gaps}"


@pytest.mark.slow
def test_em_golden_values_are_the_packages():
    """The golden values above, recomputed by the package (compiles numba's EM: slow)."""
    from modelcollapse.families.gmm import em
    from modelcollapse.families.gmm.warm_start import split_coinciding

    for (seed, n, truth), golden in zip(EM_CASES, EM_GOLDEN, strict=True):
        weights, means, stds = truth
        start = split_coinciding(np.array([[weights, means, np.square(stds)]]), 1e-6)
        w, mu, var = (np.array(start[:, i]) for i in range(3))
        x = np.ascontiguousarray(_em_points(seed, n, truth)[None])
        em.fit_block_warm(x, w, mu, var, 1e-10, 10_000, 1e-6, True)
        fit = {"weights": w[0], "means": mu[0], "variances": var[0]}
        assert _em_gap(fit, golden) < 1e-10, (seed, fit, golden)


def test_runs_are_reproducible_per_replicate():
    for config, got in zip(REPRO, _basics()["repro"], strict=True):
        where = f"{config['family']} {config.get('policy', 'replace')}"
        assert got["identical"], f"{where}: the same config gave different numbers"
        assert got["prefix"], f"{where}: replicate i differs between R = 10 and R = 100"
        assert got["chunked"], f"{where}: stepping in chunks differs from run()"
        assert got["seedDiffers"], f"{where}: another seed gave the same numbers"
        assert got["partial"], f"{where}: after step(2), generation 3 should be NaN, 2 filled"
        assert got["doneEarly"] is False


def test_degenerate_runs_stay_finite():
    for config, got in zip(DEGENERATE, _basics()["degenerate"], strict=True):
        where = json.dumps(config)
        for name, values in got.items():
            values = np.asarray(values, dtype=float)
            assert np.isfinite(values).all(), f"{where}: {name} has NaN or ±inf"
        if config["family"] == "coin":
            p = np.asarray(got["p"]).reshape(config["replicates"], -1)
            assert set(np.unique(p[:, 1:])) <= {0.0, 1.0}, "k = 1: every p̂ is 0 or 1"
            assert got["absorbed"][1] == 1.0 and np.all(np.diff(got["absorbed"]) >= 0)
        if config["family"] == "gaussian":
            assert np.all(np.asarray(got["var"]) >= 0)
        if config["family"] == "categorical":
            support = np.asarray(got["support"]).reshape(config["replicates"], -1)
            assert support.min() >= 1
            if config.get("policy", "replace") == "replace":  # a lost token never returns
                assert np.all(np.diff(support, axis=1) <= 0)
            gini = np.asarray(got["gini_simpson"])
            assert gini.min() >= 0 and gini.max() < 1
        if config["family"] == "gmm":
            k = len(config.get("means", [-2, 2]))
            weights = sum(np.asarray(got[f"weight_{i}"]) for i in range(k))
            assert np.allclose(weights, 1.0)


def test_bad_configs_are_refused_naming_the_field():
    errors = _basics()["errors"]
    for (change, field_name), message in zip(BAD, errors, strict=True):
        assert message is not None, f"{change} was accepted"
        assert message.startswith(f"Error: {field_name} "), (change, message)


def test_speed_of_the_live_sizes(capsys):
    timings = _evaluate({"timings": TIMINGS})["timings"]
    lines = []
    for (config, _), ms in zip(TIMINGS, timings, strict=True):
        what = (f"{config['family']} {config.get('policy', 'replace')}: N = {config['n']}, "
                f"{config['replicates']} × {config['generations']}")
        lines.append(f"{what}: " + ", ".join(f"{t:.0f}" for t in ms) + " ms")
    with capsys.disabled():
        print("\nexplorer simulation in Chromium (each run, ms):\n  " + "\n  ".join(lines))
    assert all(t > 0 for ms in timings for t in ms)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_planted_bug_targets_exist(name):
    _sources(BUGS[name])  # asserts the target text occurs exactly once
