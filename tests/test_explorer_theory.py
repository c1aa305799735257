"""The explorer's exact theory (``theory.js``) against :func:`modelcollapse.predict`, in Chromium.

The page computes the exact curves it draws beside its simulations in JavaScript
(``MCX.theory.predict``). For a grid of configurations (every family × every policy, mix with
and without carry-over, augment, both Gaussian estimators, temperature and scale ≠ 1, small
and large sizes) the page's prediction must be the package's: the same metrics, the same curve
and band labels character for character, the same absorption curve and fact names, every value
and band edge within 1e-9 (absolute, or relative above 1), and every note of the package's
among the page's. All configurations run in one page opening; so do the planted bugs, each a
replacement of one of ``MCX.theory.internals`` (an off-by-one generation in the moment
recursion, carried-over tosses drawn with replacement, a quantile taken at 0.04, ...), and each
must make the comparison fail. Also: the page's Loader masses and special functions against
theory/binomial.py's and scipy's, the contract's types, the notes the page gives where a size is
beyond its live budget, and an Error naming the field for every config outside the contract.
The page also times its live sizes (printed, not asserted).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest

import modelcollapse as mc
from browser import require_chromium
from explorer_page import evaluate
from modelcollapse.curation import get_curator
from modelcollapse.errors import ConfigError
from modelcollapse.policies import Accumulate, AccumulateSubsample, Augment, Mix, Replace

pytest.importorskip("plotly")

#: Values agree to this, absolutely below 1 and relatively above.
TOLERANCE = 1e-9
#: What mc.predict gives that the page leaves out (the Gaussian's collapse-time law: the page
#: draws no collapse curve), so absent from the page's facts.
LEFT_OUT_FACTS = frozenset({"P(collapsed within the run)", "median collapse time"})
#: The page's own notes (what it does not compute live), by their opening words.
PAGE_NOTES = ("gaussian: the collapse-time law P(collapsed by t)",
              "coin: the absorption time's mean and sd",
              "coin: the stationary E p and Var p at temperature",
              "categorical: exact E support_t and E rare_mass_t need",
              "coin, curated: the fixation probability and the absorption time's mean and sd",
              "coin, curated: the stationary E p and Var p",
              "categorical, curated: the large-N map under")
#: mc.predict's notes the page replaces by one of its own.
REPLACED_NOTES = ("gaussian: the collapse-time law is computed for runs of up to",)

DEFAULTS: dict[str, Any] = {
    "n": 10, "generations": 60, "replicates": 100, "seed": 2026, "policy": "replace",
    "real": 0.0, "synthetic": None, "p0": 0.5, "mean": 0.0, "std": 1.0, "estimator": "mle",
    "vocab": 20, "zipf": 1.0, "means": [-2.0, 2.0], "stds": [1.0, 1.0], "weights": [0.5, 0.5],
    "temperature": 1.0, "scale": 1.0,
    "curation": "none", "k": 4, "keep": 0.5, "strictness": 1.0, "shift": 0.0,
    "false_accept": 0.0, "power": 1.0, "reward": None, "real_weight": None,
}

#: The package's curator settings of each curator of the page's contract.
CURATOR_SETTINGS: dict[str, dict[str, str]] = {
    "none": {}, "best-of": {"k": "k"}, "top": {"keep": "keep"}, "bottom": {"keep": "keep"},
    "reweight": {"keep": "keep", "power": "power"},
    "verifier": {"strictness": "strictness", "shift": "shift", "false_accept": "false_accept"},
}


def page_config(family: str, policy: str = "replace", **settings: Any) -> dict[str, Any]:
    """A config of the page's contract (brief18_common.md) with the contract's defaults."""
    unknown = set(settings) - set(DEFAULTS)
    assert not unknown, unknown
    return {"family": family, **DEFAULTS, "policy": policy, **settings}


def run_config(page: dict[str, Any]) -> mc.RunConfig:
    """The same run in the package."""
    family = page["family"]
    weight = page.get("real_weight")
    if family == "coin":
        model: Any = mc.Coin(p0=page["p0"], temperature=page["temperature"], real_weight=weight)
    elif family == "gaussian":
        model = mc.Gaussian(mean=page["mean"], std=page["std"], estimator=page["estimator"],
                            sampling_scale=page["scale"], real_weight=weight)
    elif family == "categorical":
        model = mc.Categorical(vocab=page["vocab"], zipf=page["zipf"],
                               temperature=page["temperature"], real_weight=weight)
    else:
        model = mc.GMM(means=tuple(page["means"]), stds=tuple(page["stds"]),
                       weights=tuple(page["weights"]), sampling_scale=page["scale"],
                       real_weight=weight)
    name = page.get("curation", "none")
    curator = get_curator(name, **{setting: page[field]
                                   for setting, field in CURATOR_SETTINGS.get(name, {}).items()})
    policy: Any = {
        "replace": lambda: Replace(),
        "mix": lambda: Mix(real=page["real"], synthetic=page["synthetic"]),
        "accumulate": lambda: Accumulate(real=page["real"]),
        "accumulate-subsample": lambda: AccumulateSubsample(real=page["real"]),
        "augment": lambda: Augment(synthetic=1.0 if page["synthetic"] is None
                                   else page["synthetic"]),
    }[page["policy"]]()
    return mc.RunConfig(model, policy=policy, n_samples=page["n"],
                        n_generations=page["generations"], n_replicates=page["replicates"],
                        seed=page["seed"], curation=curator, reward=page.get("reward"))


def _number(x: float) -> float | str:
    return float(x) if math.isfinite(x) else {math.inf: "Infinity", -math.inf: "-Infinity"}.get(
        x, "NaN")


def _values(values: Any) -> list | None:
    return None if values is None else [_number(float(v)) for v in values]


def python_prediction(page: dict[str, Any]) -> dict[str, Any]:
    """mc.predict's prediction for ``page`` in the page's JSON form (non-finite as text)."""
    pred = mc.predict(run_config(page))
    return {
        "curves": {metric: [{"label": c.label, "values": _values(c.values),
                             "lower": _values(c.lower), "upper": _values(c.upper),
                             "bandLabel": c.band_label} for c in curves]
                   for metric, curves in pred.curves.items()},
        "absorbed": None if pred.absorbed is None else {
            "label": pred.absorbed.label, "values": _values(pred.absorbed.values)},
        "facts": {name: _number(float(v)) for name, v in pred.facts.items()},
        "notes": list(pred.notes),
    }


def _close(mine: float | str, theirs: float | str) -> bool:
    if isinstance(mine, str) or isinstance(theirs, str):
        return mine == theirs
    return abs(mine - theirs) <= TOLERANCE * max(1.0, abs(theirs))


def _series(where: str, mine: list | None, theirs: list | None) -> list[str]:
    if mine is None or theirs is None:
        return [] if mine is None and theirs is None else [f"{where}: one of the two is missing"]
    if len(mine) != len(theirs):
        return [f"{where}: {len(mine)} values, mc.predict has {len(theirs)}"]
    bad = [t for t, (a, b) in enumerate(zip(mine, theirs, strict=True)) if not _close(a, b)]
    if not bad:
        return []
    t = bad[0]
    return [f"{where}: {len(bad)} values differ, first at t = {t}: {mine[t]!r} vs {theirs[t]!r}"]


def mismatches(js: dict[str, Any], py: dict[str, Any]) -> list[str]:
    """Every way the page's prediction ``js`` differs from mc.predict's ``py`` (empty: none)."""
    if "error" in js:
        return [f"the page raised: {js['error']}"]
    out: list[str] = []
    if sorted(js["curves"]) != sorted(py["curves"]):
        out.append(f"metrics {sorted(js['curves'])} vs mc.predict's {sorted(py['curves'])}")
    for metric in sorted(set(js["curves"]) & set(py["curves"])):
        mine, theirs = js["curves"][metric], py["curves"][metric]
        if len(mine) != len(theirs):
            out.append(f"{metric}: {len(mine)} curves vs {len(theirs)}")
        for i, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            where = f"{metric}[{i}]"
            for key in ("label", "bandLabel"):
                if a[key] != b[key]:
                    out.append(f"{where}.{key}: {a[key]!r} vs {b[key]!r}")
            for key in ("values", "lower", "upper"):
                out += _series(f"{where}.{key}", a[key], b[key])
    if (js["absorbed"] is None) != (py["absorbed"] is None):
        out.append(f"absorbed: {js['absorbed'] is not None} vs {py['absorbed'] is not None}")
    elif js["absorbed"] is not None:
        if js["absorbed"]["label"] != py["absorbed"]["label"]:
            out.append(f"absorbed label {js['absorbed']['label']!r} vs "
                       f"{py['absorbed']['label']!r}")
        out += _series("absorbed", js["absorbed"]["values"], py["absorbed"]["values"])
    wanted = {name: v for name, v in py["facts"].items() if name not in LEFT_OUT_FACTS}
    if sorted(js["facts"]) != sorted(wanted):
        out.append(f"facts {sorted(js['facts'])} vs mc.predict's {sorted(wanted)}")
    for name in sorted(set(js["facts"]) & set(wanted)):
        if not _close(js["facts"][name], wanted[name]):
            out.append(f"fact {name!r}: {js['facts'][name]!r} vs {wanted[name]!r}")
    for note in py["notes"]:
        if note not in js["notes"] and not note.startswith(REPLACED_NOTES):
            out.append(f"note missing: {note!r}")
    for note in js["notes"]:
        if note not in py["notes"] and not note.startswith(PAGE_NOTES):
            out.append(f"note not mc.predict's: {note!r}")
    return out


# -- the grid ---------------------------------------------------------------------------------

#: (policy, settings) of every policy, with and without fresh data and carry-over.
POLICIES: list[tuple[str, dict[str, Any]]] = [
    ("replace", {}),
    ("mix", {"real": 0.1}),
    ("mix", {"real": 0.2, "synthetic": 0.5}),
    ("mix", {"real": 0.0, "synthetic": 0.6}),
    ("mix", {"real": 0.04}),                       # ⌊0.04 N⌋ = 0 at N ≤ 24: acts as replace
    ("accumulate", {"real": 0.0}),
    ("accumulate", {"real": 0.3}),
    ("accumulate-subsample", {"real": 0.1}),
    ("augment", {"synthetic": 1.0}),
    ("augment", {"synthetic": 0.5}),
]


def _grid() -> dict[str, dict[str, Any]]:
    grid: dict[str, dict[str, Any]] = {}

    def add(name: str, family: str, policy: str, **settings: Any) -> None:
        grid[name] = page_config(family, policy, **settings)

    for policy, settings in POLICIES:
        tag = f"{policy} {settings}"
        add(f"coin k=1 {tag}", "coin", policy, n=1, generations=30, p0=0.3, **settings)
        add(f"coin k=10 {tag}", "coin", policy, n=10, generations=200, p0=0.3, **settings)
        add(f"coin k=10 τ=0.8 {tag}", "coin", policy, n=10, generations=60, p0=0.6,
            temperature=0.8, **settings)
        add(f"coin k=37 τ=1.3 {tag}", "coin", policy, n=37, generations=40, temperature=1.3,
            **settings)
        for estimator in ("mle", "unbiased"):
            add(f"gaussian N=10 {estimator} {tag}", "gaussian", policy, n=10, generations=200,
                estimator=estimator, mean=1.5, std=2.0, **settings)
            add(f"gaussian N=2 λ=1.1 {estimator} {tag}", "gaussian", policy, n=2,
                generations=50, estimator=estimator, scale=1.1, **settings)
        add(f"gaussian N=100 λ=0.9 {tag}", "gaussian", policy, n=100, generations=200, scale=0.9,
            **settings)
        add(f"categorical V=20 N=30 {tag}", "categorical", policy, n=30, generations=60,
            **settings)
        add(f"categorical V=12 τ=0.7 {tag}", "categorical", policy, n=50, generations=40,
            vocab=12, zipf=1.3, temperature=0.7, **settings)
        add(f"gmm N=10 {tag}", "gmm", policy, n=10, generations=100, **settings)
        add(f"gmm 3 unsorted components N=50 {tag}", "gmm", policy, n=50, generations=60,
            means=[3.0, -1.0, 0.5], stds=[0.5, 1.0, 2.0], weights=[0.2, 0.5, 0.3], **settings)
    # The live sizes and the edges.
    add("coin k=1000 replace (live)", "coin", "replace", n=1000, generations=200)
    add("coin k=1000 mix (live)", "coin", "mix", n=1000, generations=200, real=0.1, p0=0.4)
    add("coin k=400 mix with carry-over", "coin", "mix", n=400, generations=100, real=0.1,
        synthetic=0.5)
    add("coin k=300 replace τ=0.9", "coin", "replace", n=300, generations=100, temperature=0.9)
    add("coin k=200 mix τ=1.2", "coin", "mix", n=200, generations=60, real=0.05,
        temperature=1.2, p0=0.3)
    add("coin k=1000 accumulate", "coin", "accumulate", n=1000, generations=200, real=0.1)
    add("coin p0=0 mix", "coin", "mix", n=10, generations=20, p0=0.0, real=0.2)
    add("coin p0=1 replace τ=0.5", "coin", "replace", n=10, generations=20, p0=1.0,
        temperature=0.5)
    add("coin p0=1 accumulate", "coin", "accumulate", n=8, generations=20, p0=1.0)
    add("gaussian N=100 replace (live)", "gaussian", "replace", n=100, generations=200)
    add("gaussian N=1000 unbiased replace", "gaussian", "replace", n=1000, generations=200,
        estimator="unbiased")
    add("gaussian N=1 replace", "gaussian", "replace", n=1, generations=20)
    add("gaussian N=3 replace", "gaussian", "replace", n=3, generations=20, std=0.3)
    add("gaussian N=100 mix (live)", "gaussian", "mix", n=100, generations=200, real=0.1)
    add("gaussian λ=3 blows up", "gaussian", "replace", n=5, generations=200, scale=3.0)
    add("categorical V=20 N=100 replace (live)", "categorical", "replace", n=100,
        generations=200)
    add("categorical V=20 N=100 mix (live)", "categorical", "mix", n=100, generations=100,
        real=0.1)
    add("categorical V=50 N=200 accumulate", "categorical", "accumulate", n=200,
        generations=200, vocab=50, real=0.1)
    add("categorical uniform mix with carry-over", "categorical", "mix", n=20, generations=50,
        zipf=0.0, real=0.1, synthetic=0.6)
    add("gmm N=100 (live)", "gmm", "mix", n=100, generations=200, real=0.1)
    return grid


GRID = _grid()

#: Planted bugs: a JS function of MCX.theory.internals replacing one of them, and the grid's
#: configurations on which the comparison must then fail.
BUGS: dict[str, tuple[str, list[str]]] = {
    "moment recursion one generation late": (
        """I => { const f = I.varianceMoments;
              I.varianceMoments = (...a) => { const r = f(...a);
                for (const v of [r.meanVar, r.offset2]) v.copyWithin(2, 1, v.length - 1);
                return r; }; }""",
        ["gaussian N=10 mle accumulate {'real': 0.3}",
         "gmm N=10 mix {'real': 0.2, 'synthetic': 0.5}"]),
    "proportion moments one generation late": (
        """I => { const f = I.proportionMoments;
              I.proportionMoments = (...a) => { const r = f(...a);
                for (const v of [r.mean, r.square]) v.copyWithin(2, 1, v.length - 1);
                return r; }; }""",
        ["coin k=10 accumulate-subsample {'real': 0.1}",
         "categorical V=20 N=30 augment {'synthetic': 1.0}"]),
    "carried-over tosses drawn with replacement": (
        "I => { I.carriedBand = (total, good, drawn) => I.binomialBand(drawn, good / total); }",
        ["coin k=10 mix {'real': 0.2, 'synthetic': 0.5}", "coin k=400 mix with carry-over"]),
    "quantile taken at 0.04": (
        """I => { const f = I.lawQuantile;
              I.lawQuantile = (law, values, q) => f(law, values, q === 0.05 ? 0.04 : q); }""",
        ["coin k=1000 replace (live)"]),
    "temperature applied as 1/τ": (
        """I => { const f = I.temperedHeads;
              I.temperedHeads = (p, tau) => f(p, 1 / tau); }""",
        ["coin k=300 replace τ=0.9", "coin k=10 τ=0.8 mix {'real': 0.1}"]),
    "touching 0 or 1 not final in the hitting chain": (
        """I => { const f = I.chainStep;
              I.chainStep = (rows, fresh, law, out, scratch) =>
                f(rows, fresh, law, out, scratch, false); }""",
        ["coin k=10 mix {'real': 0.1}"]),
    "the scale applied to the sd, not squared": (
        """I => { const f = I.twoPartMoments;
              I.twoPartMoments = (v, n, g, parts, d, scale) =>
                f(v, n, g, parts, d, Math.sqrt(scale)); }""",
        ["gaussian N=100 λ=0.9 mix {'real': 0.1}"]),
    "unbiased fit not rescaled": (
        """I => { const f = I.twoPartMoments;
              I.twoPartMoments = (v, n, g, parts, d, scale) =>
                f(v, n, g, parts, 'mle', scale); }""",
        ["gaussian N=10 unbiased replace {}"]),
    "digamma one off": (
        "I => { const f = I.digamma; I.digamma = (x) => f(x + 1); }",
        ["gaussian N=100 replace (live)"]),
    "a Loader mass off in the 8th digit": (
        """I => { const f = I.binomialPmf;
              I.binomialPmf = (x, n, p) => f(x, n, p) * (x === 3 ? 1 + 1e-8 : 1); }""",
        ["coin k=10 replace {}"]),
    "absorption time without the first fit": (
        """I => { const f = I.coinAbsorptionFacts;
              I.coinAbsorptionFacts = (...a) => { const r = f(...a);
                return r && { ...r, mean: r.mean - 1 }; }; }""",
        ["coin k=37 τ=1.3 replace {}"]),
    "alive probabilities one generation early": (
        """I => { const f = I.aliveSums;
              I.aliveSums = (...a) => { const r = f(...a);
                if (r) for (const v of r) v.copyWithin(1, 2); return r; }; }""",
        ["categorical V=20 N=30 replace {}", "categorical V=50 N=200 accumulate"]),
}

#: Sizes beyond the page's live budgets (mc.predict computes these, in seconds): the page must
#: leave the result out and say so. (config, its metrics, its facts, its note's opening words)
BEYOND_BUDGET: dict[str, tuple[dict[str, Any], set[str], set[str], str]] = {
    "categorical support, 100 chains of 101 states": (
        page_config("categorical", "mix", n=100, generations=200, vocab=100, real=0.1),
        {"gini_simpson"}, set(),
        "categorical: exact E support_t and E rare_mass_t need 100 chain(s) of 101 states over "
        "200 generations, beyond the page's live budget"),
    "coin absorption time, k = 2000": (
        page_config("coin", n=2000, generations=5), {"p"}, {"fixation probability P(p → 1)"},
        "coin: the absorption time's mean and sd need a 1999-state linear solve beyond the "
        "page's live budget"),
    "coin stationary law at τ = 0.9, k = 1000": (
        page_config("coin", "mix", n=1000, generations=5, real=0.1, temperature=0.9), {"p"},
        set(), "coin: the stationary E p and Var p at temperature 0.9 need a 1001-state linear "
        "solve beyond the page's live budget"),
}

#: Configurations outside the contract: the field the page's Error must name.
BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    (page_config("coin", n=0), "n"),
    (page_config("coin", n=2.5), "n"),
    (page_config("coin", generations=0), "generations"),
    (page_config("coin", "bogus"), "policy"),
    ({**page_config("coin"), "family": "poisson"}, "family"),
    (page_config("coin", "mix", real=0.7, synthetic=0.5), "synthetic"),
    (page_config("coin", "mix", real=1.5), "real"),
    (page_config("coin", p0=1.2), "p0"),
    (page_config("coin", temperature=0.0), "temperature"),
    (page_config("gaussian", std=-1.0), "std"),
    (page_config("gaussian", estimator="median"), "estimator"),
    (page_config("gaussian", n=1, estimator="unbiased"), "n"),
    (page_config("gaussian", scale=1e-4), "scale"),
    (page_config("categorical", vocab=1), "vocab"),
    (page_config("gmm", weights=[0.7, 0.7]), "weights"),
    (page_config("gmm", stds=[1.0]), "stds"),
    (page_config("gmm", n=2, means=[0.0, 1.0, 2.0], stds=[1.0] * 3, weights=[0.2, 0.3, 0.5]), "n"),
    (page_config("coin", "augment", synthetic=-1.0), "synthetic"),
]

#: The live sizes, timed in the page (first call, rows and solver caches cleared; then a call
#: that changes p0 or the truth only, which reuses them).
LIVE: dict[str, dict[str, Any]] = {
    "coin k=1000 G=200 replace": page_config("coin", n=1000, generations=200),
    "coin k=1000 G=200 mix a=0.1": page_config("coin", "mix", n=1000, generations=200, real=0.1),
    "coin k=1000 G=200 mix a=0.1 b=0.5": page_config("coin", "mix", n=1000, generations=200,
                                                     real=0.1, synthetic=0.5),
    "coin k=1000 G=200 accumulate": page_config("coin", "accumulate", n=1000, generations=200),
    "gaussian N=100 G=200 replace": page_config("gaussian", n=100, generations=200),
    "gaussian N=100 G=200 accumulate-subsample": page_config(
        "gaussian", "accumulate-subsample", n=100, generations=200, real=0.1),
    "categorical V=20 N=100 G=200 replace": page_config("categorical", n=100, generations=200),
    "categorical V=20 N=100 G=200 mix a=0.1": page_config("categorical", "mix", n=100,
                                                          generations=200, real=0.1),
    "gmm N=100 G=200 mix a=0.1": page_config("gmm", "mix", n=100, generations=200, real=0.1),
}

#: Evaluated in the page: every prediction of the grid, then each planted bug on its configs,
#: the refused configs' messages and the timings. Typed arrays and non-finite numbers are
#: turned into JSON.
#: The page-side helpers both theory test scripts start with (inserted at ``%PRELUDE%``): a
#: prediction's JSON digest, every config of a batch predicted, and the contract's types of one
#: prediction (Float64Array(G + 1) curves and absorption, numbers, plain strings).
PRELUDE = """
  const T = MCX.theory;
  const enc = (x) => (Number.isFinite(x) ? x : String(x));
  const arr = (a) => (a === null ? null : Array.from(a, enc));
  const digest = (p) => ({
    curves: Object.fromEntries(Object.entries(p.curves).map(([m, cs]) => [m, cs.map((c) => ({
      label: c.label, values: arr(c.values), lower: arr(c.lower), upper: arr(c.upper),
      bandLabel: c.bandLabel }))])),
    absorbed: p.absorbed && { label: p.absorbed.label, values: arr(p.absorbed.values) },
    facts: Object.fromEntries(Object.entries(p.facts).map(([k, v]) => [k, enc(v)])),
    notes: p.notes });
  const predictAll = (configs) => Object.fromEntries(Object.entries(configs).map(([name, c]) => {
    try { return [name, digest(T.predict(c))]; } catch (err) {
      return [name, { error: String(err) }];
    }
  }));
  // Each live config timed: the first call (caches cleared) and a call that moves only the
  // truth (reusing rows and solves); the best of three of each.
  const timeLive = (live) => Object.fromEntries(Object.entries(live).map(([name, c]) => {
    const first = [], again = [];
    for (let rep = 0; rep < 3; rep++) {
      T.clearCache();
      let t0 = performance.now();
      T.predict(c);
      first.push(performance.now() - t0);
      const moved = { ...c, p0: c.p0 === 0.5 ? 0.45 : 0.5, mean: c.mean + 0.5, zipf: c.zipf + 0.1,
                      means: c.means.map((m) => m + 0.5) };
      t0 = performance.now();
      T.predict(moved);
      again.push(performance.now() - t0);
    }
    return [name, { first: Math.min(...first), again: Math.min(...again) }];
  }));
  const checkContract = (name, c, p, problems) => {
    const series = (a, what, nullable) => {
      if (a === null && nullable) return;
      if (!(a instanceof Float64Array) || a.length !== c.generations + 1) {
        problems.push(`${name}: ${what} is not a Float64Array(G + 1)`);
      }
    };
    for (const [metric, curves] of Object.entries(p.curves)) {
      curves.forEach((curve, i) => {
        series(curve.values, `${metric}[${i}].values`, false);
        series(curve.lower, `${metric}[${i}].lower`, true);
        series(curve.upper, `${metric}[${i}].upper`, true);
        if ((curve.lower === null) !== (curve.bandLabel === null)) {
          problems.push(`${name}: ${metric}[${i}] has a band without a label or back`);
        }
      });
    }
    if (p.absorbed !== null) series(p.absorbed.values, "absorbed.values", false);
    if (!Object.values(p.facts).every((v) => typeof v === "number")) {
      problems.push(`${name}: a fact is not a number`);
    }
    if (!p.notes.every((note) => typeof note === "string" && !note.includes("undefined") &&
                        !note.includes("NaN"))) {
      problems.push(`${name}: a note is not a plain string`);
    }
  };
"""


SCRIPT = """(batch) => {
%PRELUDE%
  const out = { plain: predictAll(batch.grid), beyond: predictAll(batch.beyond), bugs: {},
                refused: [], timings: {}, contract: [] };
  // The contract's types: Float64Array(G + 1) curves and absorption, numbers, strings.
  for (const [name, c] of Object.entries(batch.grid)) {
    if (out.plain[name].error) continue;    // reported by the comparison
    const p = T.predict(c);
    checkContract(name, c, p, out.contract);
  }
  const BUGS = {%BUGS%};
  for (const [name, plant] of Object.entries(BUGS)) {
    const saved = { ...T.internals };
    plant(T.internals);
    T.clearCache();
    const configs = Object.fromEntries(batch.bugs[name].map((c) => [c, batch.grid[c]]));
    out.bugs[name] = predictAll(configs);
    Object.assign(T.internals, saved);
    T.clearCache();
  }
  const I = T.internals;
  out.binomial = batch.binomial.map(([x, n, p]) => I.binomialPmf(x, n, p));
  out.hypergeometric = batch.hypergeometric.map(([y, total, good, drawn]) =>
    I.hypergeometricPmf(y, total, good, drawn));
  out.special = batch.special.map((x) => [I.lgamma(x), I.digamma(x), I.trigamma(x)]);
  for (const c of batch.refused) {
    try { T.predict(c); out.refused.push(null); } catch (err) {
      out.refused.push(err instanceof Error ? err.message : `not an Error: ${String(err)}`);
    }
  }
  out.timings = timeLive(batch.live);
  return out;
}"""


def _script() -> str:
    plants = ",\n".join(f"{name!r}: {code}" for name, (code, _) in BUGS.items())
    return SCRIPT.replace("%PRELUDE%", PRELUDE).replace("%BUGS%", plants)


def _mass_cases() -> tuple[list, list]:
    """Binomial (x, n, p) and hypergeometric (y, total, good, drawn) cases, tails included."""
    rng = np.random.default_rng(18)
    binomial, hypergeometric = [], []
    for _ in range(2000):
        n = int(rng.choice([1, 2, 5, 10, 37, 100, 1000, 5000]))
        p = float(rng.choice([rng.random(), 1e-9, 1 - 1e-9, 0.5, 0.0, 1.0]))
        binomial.append([int(rng.integers(0, n + 1)), n, p])
    for _ in range(1000):
        total = int(rng.choice([2, 10, 100, 1000]))
        good, drawn = (int(v) for v in rng.integers(0, total + 1, size=2))
        hypergeometric.append([int(rng.integers(0, drawn + 1)), total, good, drawn])
    return binomial, hypergeometric


#: Arguments of log Γ, ψ and ψ′ (the Gaussian's E sd_t, E log var_t and its band: (N − 1)/2, N/2).
SPECIAL = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 7.0, 12.5, 13.0, 20.0, 49.5, 99.5, 499.5, 999.5,
           1000.0, 4999.5, 1e5 + 0.5, 1e7, 2e8]


@cache
def _page_results() -> dict[str, Any]:
    require_chromium()
    binomial, hypergeometric = _mass_cases()
    batch = {"grid": GRID, "bugs": {name: configs for name, (_, configs) in BUGS.items()},
             "binomial": binomial, "hypergeometric": hypergeometric, "special": SPECIAL,
             "beyond": {name: config for name, (config, *_) in BEYOND_BUDGET.items()},
             "refused": [config for config, _ in BAD_CONFIGS], "live": LIVE}
    return evaluate(_script(), batch, timeout=240.0)


@cache
def _python(name: str) -> dict[str, Any]:
    return python_prediction(GRID[name])


@pytest.fixture(scope="module")
def page() -> dict[str, Any]:
    return _page_results()


def test_every_prediction_is_mc_predicts(page):
    failures = {name: problems for name in GRID
                if (problems := mismatches(page["plain"][name], _python(name)))}
    assert not failures, "\n".join(f"{name}:\n  " + "\n  ".join(problems)
                                   for name, problems in failures.items())


def test_the_grid_covers_every_result(page):
    """The grid reaches every kind of output: chains, moments, facts and notes."""
    metrics = {(GRID[name]["family"], metric) for name, pred in page["plain"].items()
               for metric in pred["curves"]}
    assert {("coin", "p"), ("gaussian", "var"), ("gaussian", "mean"), ("gaussian", "w2"),
            ("gaussian", "kl"), ("categorical", "gini_simpson"), ("categorical", "support"),
            ("categorical", "rare_mass"), ("categorical", "entropy"), ("gmm", "var"),
            ("gmm", "mean")} <= metrics
    facts = {fact for pred in page["plain"].values() for fact in pred["facts"]}
    assert {"fixation probability P(p → 1)", "mean absorption time", "sd of absorption time",
            "stationary E p", "stationary Var p", "P(ever absorbed)", "stationary E var",
            "E log var per generation", "P(token 1 is the last survivor)"} <= facts
    labels = {pred["absorbed"]["label"] for pred in page["plain"].values() if pred["absorbed"]}
    assert labels == {"exact P(absorbed by t)", "exact P(p̂ has touched 0 or 1 by t)"}


def test_the_masses_and_special_functions_are_the_packages(page):
    """theory/binomial.py's Loader masses and scipy's log Γ, ψ, ψ′, relatively to 1e-9 (they
    agree to about 1e-13: the same expressions, libm's and V8's logarithms apart)."""
    from scipy import special

    from modelcollapse.theory.binomial import binomial_pmf, hypergeometric_pmf

    binomial, hypergeometric = _mass_cases()
    pairs = [(js, float(binomial_pmf(*case)), case)
             for js, case in zip(page["binomial"], binomial, strict=True)]
    pairs += [(js, float(hypergeometric_pmf(*case)), case)
              for js, case in zip(page["hypergeometric"], hypergeometric, strict=True)]
    for x, (lg, dg, tg) in zip(SPECIAL, page["special"], strict=True):
        pairs += [(lg, float(special.gammaln(x)), ("gammaln", x)),
                  (dg, float(special.digamma(x)), ("digamma", x)),
                  (tg, float(special.polygamma(1, x)), ("trigamma", x))]
    bad = [(case, js, py) for js, py, case in pairs
           if abs(js - py) > TOLERANCE * max(abs(py), 1e-300)]
    assert not bad, bad[:5]


def test_predictions_keep_the_contract(page):
    assert not page["contract"], "\n".join(page["contract"])


@pytest.mark.parametrize("name", sorted(BEYOND_BUDGET))
def test_beyond_the_live_budget_the_page_says_what_it_leaves_out(page, name):
    _, metrics, facts, note = BEYOND_BUDGET[name]
    pred = page["beyond"][name]
    assert set(pred["curves"]) == metrics
    assert set(pred["facts"]) == facts
    assert any(line.startswith(note) for line in pred["notes"]), pred["notes"]


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_the_comparison_catches_a_planted_bug(page, bug):
    results = page["bugs"][bug]
    caught = {name: mismatches(results[name], _python(name)) for name in BUGS[bug][1]}
    missed = [name for name, problems in caught.items() if not problems]
    assert not missed, f"{bug} went unnoticed on {missed}"


@pytest.mark.parametrize("index", range(len(BAD_CONFIGS)))
def test_a_config_outside_the_contract_is_refused_naming_its_field(page, index):
    config, field = BAD_CONFIGS[index]
    message = page["refused"][index]
    assert message is not None, f"the page accepted {config}"
    assert message.startswith(f"{field} must be"), message
    if config["family"] in ("coin", "gaussian", "categorical", "gmm") and config["policy"] in (
            "replace", "mix", "accumulate", "accumulate-subsample", "augment"):
        with pytest.raises((ConfigError, ValueError, TypeError)):   # the package refuses it too
            run_config(config)


def test_live_timings_are_reported(page):
    """The page's theory at the live sizes (reported, not asserted: the machine varies)."""
    lines = [f"{name}: {t['first']:.1f} ms (first), {t['again']:.1f} ms (truth moved)"
             for name, t in page["timings"].items()]
    print("\nMCX.theory.predict in Chromium:\n  " + "\n  ".join(lines))
    assert set(page["timings"]) == set(LIVE)
