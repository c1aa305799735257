"""Curation (issue 14): the contract, identities, reproducibility and the exact kept laws.

What is tested
--------------
* **Contract.** Every registered family × every registered curator runs a small block under
  every data policy, with ``shortcut`` on and off where the family has it, with and without a
  reward: the metrics are the family's plus ``reward`` (exactly when a reward is set) and
  ``accept_rate`` (exactly when a curator selects), finite (an infinity only where a docstring
  documents it), and ``accept_rate`` lies in (0, 1], 1 at generations 0 and 1.
* **Identities.** Best-of with K = 1, top and bottom with q = 1 and a verifier of strictness 0
  (or false-accept rate 1) give the uncurated run bit for bit, and neither ``curation="none"``
  nor a reward without a curator moves an uncurated run's random streams (the stream keys of
  runs made before curation existed are pinned in ``test_loop_settings.OLD_KEYS``).
* **Reproducibility.** A curated run depends only on (config, seed): the same numbers with 1 or
  2 workers, and replicate *i* the same in a run of 3 replicates as in a run of 300.
* **Exact kept laws.** With the model held fixed, :meth:`Curator.curate` is called directly on
  many replicates and the law of the kept units is compared with the exact law, derived here
  independently of the package (by enumeration of every candidate tuple or composition, by
  numerical integration, or in closed form; never from :mod:`modelcollapse.theory`): best-of on
  the coin, the categorical and the Gaussian; the verifier on the categorical, the Gaussian (its
  kept law is exactly normal) and the mixture, with the number of candidates it draws; top and
  bottom on the coin (the count of heads kept) and the Gaussian (the mean square of the kept
  standardised samples, an exact finite-S integral over order statistics); reweight on the coin,
  the tempered categorical and the Gaussian with a sampling scale; and every reward's
  ``expected`` against a Monte Carlo mean of its ``score``.
* **Planted bugs.** Every one of those statistical checks also runs on a copy with a planted bug
  (at least one per curator: best-of choosing ∝ exp(−r), a verifier accepting when u > a or
  ignoring its shift or counting every candidate it drew, top keeping the least likely, bottom
  the most likely, reweight with the ratio inverted or ignoring the sampling bias, a reward
  forgetting the model's variance) and must fail there: each tolerance is shown to be tight
  enough to matter, on every run of the suite. The exact, deterministic checks (which units top
  and bottom keep, the quadrature of the mixture reward) are shown to fail on planted bugs too.
* **Candidate accounting** (``accept_rate`` = 1/K, S/⌈S/q⌉, and for the verifier S over the
  candidates up to its S-th acceptance, seen on a coin whose verifier accepts heads only) and
  **degenerate data** (collapsed models under every curator: finite metrics, no warning; a
  verifier whose belief is far from a collapsed model spends its 64·S budget and completes).

Tolerances
----------
A statistical check fails when ``|z| = |estimate − exact| / SE`` exceeds one critical value
``z_crit = Φ⁻¹(1 − α / (2m))``: family-wise ``α = 1e-3`` with a Bonferroni correction over all
``m`` =  :data:`N_SUBCHECKS` sub-checks of this file (two-sided), as in
``tests/test_statistical.py``; a test holds a subset, so each test's own family-wise level is
below ``α``. ``SE`` comes from the exact variance where it is known (a proportion, a normal's
moments, the negative binomial number of candidates) and otherwise from the replicates'
sample variance; units are i.i.d. across replicates (and across kept slots for best-of and the
verifier, whose kept units are independent draws of the kept law), and where the kept units of
one replicate are dependent (top, bottom, reweight share candidates) the statistic is one number
per replicate. Exact values computed by quadrature are accurate to far below one SE
(``1e-9`` or better). Seeds are fixed (``MODELCOLLAPSE_TEST_SEED`` moves them all, as for the
rest of the statistical suite), so the file is deterministic.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

import modelcollapse as mc
from harness import SEED, report
from modelcollapse.checks import ALPHA, Check, critical_z
from modelcollapse.checks import mean_check as _mean_check
from modelcollapse.checks import proportion_check as _proportion_check
from modelcollapse.curation import CURATORS, MAX_CANDIDATES, BestOf, Bottom, Reweight, Top, Verifier
from modelcollapse.families import continuous
from modelcollapse.families.discrete import tempered
from modelcollapse.loop import simulate_block
from modelcollapse.rewards import Reward
from modelcollapse.runner.blocks import simulate_arrays
from modelcollapse.training_sets import Samples
from test_contract import FAMILY_SETTINGS, POLICY_SETTINGS
from test_loop_settings import OLD_KEYS
from test_reproducibility import arrays

#: Sub-checks of the statistical kept-law checks below (a guard test keeps this honest).
N_SUBCHECKS = 40
#: Two-sided critical |z| after Bonferroni over every sub-check of the file.
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)


def mean_check(name: str, samples: np.ndarray, exact: float, **kwargs) -> Check:
    return _mean_check(name, samples, exact, critical=Z_CRIT, **kwargs)


def proportion_check(name: str, hits: np.ndarray, p: float) -> Check:
    return _proportion_check(name, hits, p, critical=Z_CRIT)


# -- helpers ------------------------------------------------------------------------------------


def trajectories(config: mc.RunConfig) -> dict[str, np.ndarray]:
    """Every metric of a run, in memory, without the summary (whose theory is beside the point
    here, and slow for some configurations)."""
    return simulate_arrays(config).metrics


def shortcuts(family: mc.Family) -> tuple[bool | None, ...]:
    """Both settings of ``shortcut`` where the family has the option, else just its own."""
    names = {f.name for f in dataclasses.fields(family)}  # type: ignore[arg-type]
    return (True, False) if "shortcut" in names else (None,)


def rows(params, n_replicates: int) -> np.ndarray:
    """One model's parameters repeated for ``n_replicates`` replicates."""
    params = np.asarray(params, dtype=float)
    return np.broadcast_to(params, (n_replicates, *params.shape)).copy()


def curate(curator, family, params, n_units, n_replicates, *, seed, reward=None):
    """``curator.curate`` on ``n_replicates`` copies of one fitted model (sampled with the
    family's own sampling bias, as the loop does)."""
    fitted = rows(params, n_replicates)
    return curator.curate(family, fitted, family.sampling_params(fitted), n_units,
                          np.random.default_rng(seed), reward)


@contextlib.contextmanager
def no_warnings():
    """Every warning raised inside (numpy's floating-point ones too) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


#: Documented infinities: (family, metric) → where the value may be infinite.
DOCUMENTED_INFINITE = {
    # Gaussian.metrics: KL(truth ‖ fitted) is infinite for a fitted variance of exactly 0
    ("gaussian", "kl"): lambda metrics: metrics["var"] == 0,
    # MVGaussian.metrics: a singular fitted covariance has logdet = −inf and kl = inf
    ("mvgaussian", "kl"): lambda metrics: metrics["min_eig"] == 0,
    ("mvgaussian", "logdet"): lambda metrics: metrics["min_eig"] == 0,
}


def assert_recorded(family: mc.Family, metrics: dict[str, np.ndarray]) -> None:
    """No NaN anywhere (but a network's own metrics at generation 0, NaN by definition); an
    infinity only where documented; ``accept_rate`` in (0, 1]."""
    for name, values in metrics.items():
        if name in getattr(family, "model_only_metrics", ()):
            assert np.isnan(values[:, 0]).all(), name
            values = values[:, 1:]
        assert not np.isnan(values).any(), name
        infinite = np.isinf(values)
        if infinite.any():
            allowed = DOCUMENTED_INFINITE.get((family.name, name))
            assert allowed is not None, f"{name} is infinite"
            assert (allowed(metrics)[infinite]).all(), f"{name} infinite where not documented"
    if "accept_rate" in metrics:
        rate = metrics["accept_rate"]
        assert ((rate > 0) & (rate <= 1)).all(), rate
        assert (rate[:, :2] == 1).all()


# -- contract: every family × curator × policy × shortcut ------------------------------------------

#: The settings each curator runs with in the contract (none of them an identity).
CURATOR_SETTINGS = {"none": {}, "best-of": {"k": 3},
                    "verifier": {"strictness": 2.0, "false_accept": 0.05},
                    "top": {"keep": 0.4}, "bottom": {"keep": 0.4},
                    "reweight": {"keep": 0.4, "power": 0.8}}
#: A reward per family (the n-gram's ``truth`` reward is −∞ for a smoothed model of a sparse truth,
#: as documented, so the contract uses ``self``).
REWARDS = {"coin": "0,1", "categorical": "rank", "gaussian": "target:0.5", "gmm": "truth",
           "ngram": "self", "mvgaussian": "truth", "regression": "truth", "kde": "truth",
           "vae": "confidence", "charlm": "self"}
N_SAMPLES, N_GENERATIONS, N_REPLICATES = 40, 4, 3


def make_family(name: str, **overrides) -> mc.Family:
    return mc.get_family(name, **{**FAMILY_SETTINGS.get(name, {}), **overrides})


def make_curator(name: str, family: mc.Family) -> mc.Curator:
    settings = dict(CURATOR_SETTINGS[name])
    if name == "verifier" and family.shiftable_belief:
        settings["shift"] = 0.3
    return mc.get_curator(name, **settings)


def curation_marks(name: str) -> list:
    """The n-gram family is skipped, saying why, until it supports curation (its own tests
    cover it); every other family must support it."""
    if name == "ngram" and "best-of" not in make_family(name).available_curators:
        return [pytest.mark.skip(reason="ngram does not support curation yet")]
    return []


FAMILY_CASES = [pytest.param(name, marks=curation_marks(name)) for name in mc.FAMILIES.names()]
CONTRACT_CASES = [pytest.param(family, curator, id=f"{family}-{curator}",
                               marks=curation_marks(family))
                  for family in mc.FAMILIES.names() for curator in CURATORS.names()]


def test_the_contract_covers_every_family_and_curator():
    assert len(mc.FAMILIES.names()) >= 4 and len(CURATORS.names()) >= 6, "empty registries"
    assert set(CURATOR_SETTINGS) == set(CURATORS.names())
    assert set(REWARDS) == set(mc.FAMILIES.names())
    assert set(POLICY_SETTINGS) == set(mc.POLICIES.names())
    assert len(CONTRACT_CASES) == len(mc.FAMILIES.names()) * len(CURATORS.names())
    assert all(not make_curator(name, mc.Gaussian()).is_identity
               for name in CURATORS.names() if name != "none")


@pytest.mark.parametrize(("family", "curator"), CONTRACT_CASES)
def test_contract_every_policy_shortcut_and_reward(family, curator):
    base = make_family(family)
    if curator not in base.available_curators:
        with pytest.raises(mc.ConfigError, match="curate"):
            mc.RunConfig(base, curation=make_curator(curator, base))
        return
    cases = itertools.product(mc.POLICIES.names(), shortcuts(base), (True, False))
    for policy, shortcut, with_reward in cases:
        fam = base if shortcut is None else make_family(family, shortcut=shortcut)
        cur = make_curator(curator, fam)
        if cur.uses_reward and not with_reward:
            continue  # best-of scores by a reward; RunConfig supplies the default or refuses
        reward = fam.reward(REWARDS[family]) if with_reward else None
        pol = mc.get_policy(policy, **POLICY_SETTINGS[policy])
        with no_warnings():
            result = simulate_block(fam, pol, n_samples=N_SAMPLES, n_generations=N_GENERATIONS,
                                    n_replicates=N_REPLICATES, rng=np.random.default_rng(SEED),
                                    curation=cur, reward=reward)
        where = f"{policy}, shortcut {shortcut}, reward {with_reward}"
        names = [*fam.metric_names, *(["reward"] if with_reward else []),
                 *(["accept_rate"] if not cur.is_identity else [])]
        assert list(result.metrics) == names, where
        for name, values in result.metrics.items():
            assert values.shape == (N_REPLICATES, N_GENERATIONS + 1), (name, where)
        assert_recorded(fam, result.metrics)
        if with_reward:
            truth_reward = reward.expected(fam.truth()[None])[0]
            np.testing.assert_allclose(result.metrics["reward"][:, 0], truth_reward, rtol=1e-13)
        bound = fam.for_run(N_SAMPLES, N_GENERATIONS, pol)  # a KDE's parameters hold its points
        assert result.final_params.shape == (N_REPLICATES, *bound.param_shape)


@pytest.mark.parametrize("family", ["coin", "categorical", "gaussian", "gmm"])
def test_a_run_records_the_metrics_its_config_names(family):
    fam = make_family(family)
    for curator in CURATORS.names():
        for reward in (REWARDS[family], None):
            cur = make_curator(curator, fam)
            if cur.uses_reward and reward is None and fam.default_reward is None:
                with pytest.raises(mc.ConfigError, match="reward is needed by best-of"):
                    mc.RunConfig(fam, curation=cur, reward=reward)
                continue
            config = mc.RunConfig(fam, curation=cur, reward=reward, n_samples=30,
                                  n_generations=3, n_replicates=2, seed=SEED)
            assert tuple(trajectories(config)) == config.metric_names
            assert ("reward" in config.metric_names) == (config.reward is not None)
            assert ("accept_rate" in config.metric_names) == (curator != "none")
            if cur.uses_reward and reward is None:
                assert config.reward == fam.default_reward
    config = mc.RunConfig(fam, curation=BestOf(k=2), reward=REWARDS[family], n_samples=30,
                          n_generations=3, n_replicates=2, seed=SEED)
    result = mc.simulate(config)
    assert tuple(result.metric_names) == config.metric_names
    assert result.config == config


# -- identities: a curator with no effect is no curation, bit for bit ---------------------------

IDENTITY_CURATORS = [BestOf(k=1), Top(keep=1.0), Bottom(keep=1.0), Verifier(strictness=0.0),
                     Verifier(strictness=3.0, shift=0.0, false_accept=1.0)]


@pytest.mark.parametrize("family", FAMILY_CASES)
def test_identity_curators_give_the_uncurated_run_bit_for_bit(family):
    fam = make_family(family)
    plain = mc.RunConfig(fam, policy=mc.Mix(real=0.2, synthetic=0.5), n_samples=N_SAMPLES,
                         n_generations=5, n_replicates=4, seed=SEED)
    expected = trajectories(plain)
    blocks = simulate_block(fam, plain.data_policy, n_samples=N_SAMPLES, n_generations=5,
                            n_replicates=4, rng=np.random.default_rng(SEED))
    for curator in IDENTITY_CURATORS:
        assert curator.is_identity, curator
        if curator.name not in fam.available_curators:
            continue  # refused for this family (test_contract_every_policy_shortcut_and_reward)
        config = mc.RunConfig(**{**plain.__dict__, "curation": curator})
        assert config.stream_key == plain.stream_key, curator
        assert config.metric_names == plain.metric_names
        got = trajectories(config)
        assert got.keys() == expected.keys()
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=f"{curator} {name}")
        direct = simulate_block(fam, plain.data_policy, n_samples=N_SAMPLES, n_generations=5,
                                n_replicates=4, rng=np.random.default_rng(SEED),
                                curation=curator)
        assert direct.metrics.keys() == blocks.metrics.keys()
        for name in blocks.metrics:
            np.testing.assert_array_equal(direct.metrics[name], blocks.metrics[name])


@pytest.mark.parametrize("family", list(OLD_KEYS))
def test_the_new_fields_leave_an_uncurated_runs_streams_alone(family):
    """``curation="none"``, an identity curator or a reward with no curator: the stream keys of
    before curation existed (pinned in test_loop_settings), and the same numbers."""
    reward = REWARDS[family]
    for policy, key in zip(("replace", mc.Mix(real=0.2)), OLD_KEYS[family], strict=True):
        for extra in ({}, {"curation": "none"}, {"reward": reward},
                      {"curation": "none", "reward": reward}, {"curation": BestOf(k=1)}):
            assert mc.RunConfig(family, policy=policy, **extra).stream_key == key, extra
    # a reward adds the metric ``reward`` and changes no other number
    plain = mc.RunConfig(family, n_samples=30, n_generations=4, n_replicates=5, seed=SEED)
    rewarded = mc.RunConfig(**{**plain.__dict__, "reward": reward})
    a, b = trajectories(plain), trajectories(rewarded)
    assert list(b) == [*a, "reward"]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("family", ["coin", "categorical", "gaussian", "gmm"])
def test_a_reward_moves_the_streams_only_of_a_curator_that_scores_by_it(family):
    other = {"coin": "1,0", "categorical": "truth", "gaussian": "truth", "gmm": "target:1"}
    fam = make_family(family)
    verifier = make_curator("verifier", fam)
    base = mc.RunConfig(fam, curation=verifier, n_samples=30, n_generations=4, n_replicates=3,
                        seed=SEED)
    rewarded = mc.RunConfig(**{**base.__dict__, "reward": REWARDS[family]})
    assert base.stream_key == rewarded.stream_key
    a, b = trajectories(base), trajectories(rewarded)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    best = [mc.RunConfig(fam, curation=BestOf(k=3), reward=spec).stream_key
            for spec in (REWARDS[family], other[family])]
    assert best[0] != best[1]
    assert mc.RunConfig(fam, curation=Top(keep=0.5)).stream_key != mc.RunConfig(
        fam, curation=Bottom(keep=0.5)).stream_key


# -- reproducibility: (config, seed) and nothing else -------------------------------------------

#: Curated configs spanning several replicate blocks where cheap (and their theory cheap too).
REPRO = {
    "coin-best-of": mc.RunConfig(mc.Coin(shortcut=False), n_samples=20, n_generations=6,
                                 n_replicates=50, curation=BestOf(k=3), reward="0,1"),
    "categorical-verifier": mc.RunConfig(mc.Categorical(vocab=30), n_samples=50,
                                         n_generations=6, n_replicates=300,
                                         curation=Verifier(strictness=1.5, false_accept=0.1)),
    "categorical-reweight": mc.RunConfig(mc.Categorical(vocab=30, temperature=1.5),
                                         policy="accumulate-subsample", n_samples=50,
                                         n_generations=5, n_replicates=300,
                                         curation=Reweight(keep=0.3, power=0.7)),
    "gaussian-top-raw": mc.RunConfig(mc.Gaussian(), policy=mc.Mix(0.1, 0.5), n_samples=2000,
                                     n_generations=4, n_replicates=20, curation=Top(keep=0.5)),
    "gaussian-verifier": mc.RunConfig(mc.Gaussian(), policy="accumulate", n_samples=20,
                                      n_generations=8, n_replicates=40,
                                      curation=Verifier(strictness=2.0, shift=0.5)),
    "gmm-bottom": mc.RunConfig(mc.GMM(), n_samples=1000, n_generations=3, n_replicates=20,
                               curation=Bottom(keep=0.5)),
}


def test_the_reproducibility_configs_span_blocks():
    spanning = [name for name, c in REPRO.items() if c.block_size < c.n_replicates]
    assert len(spanning) >= 4, spanning


@pytest.mark.parametrize("name", list(REPRO))
def test_curated_runs_are_the_same_whatever_the_workers(name):
    config = mc.RunConfig(**{**REPRO[name].__dict__, "seed": SEED})
    one, two = arrays(config, workers=1), arrays(config, workers=2)
    assert "accept_rate" in one
    for metric in one:
        np.testing.assert_array_equal(one[metric], two[metric], err_msg=metric)


@pytest.mark.parametrize("name", list(REPRO))
def test_curated_replicate_i_is_the_same_in_a_smaller_run(name):
    base = REPRO[name]
    big = arrays(mc.RunConfig(**{**base.__dict__, "seed": SEED + 1}))
    small = arrays(mc.RunConfig(**{**base.__dict__, "seed": SEED + 1, "n_replicates": 3}))
    for metric in big:
        np.testing.assert_array_equal(small[metric], big[metric][:3], err_msg=metric)


def test_a_curated_run_folder_is_the_in_memory_run(tmp_path):
    config = mc.RunConfig(**{**REPRO["gaussian-top-raw"].__dict__, "seed": SEED})
    written = mc.run(config, out=tmp_path / "r", plots=False, workers=2)
    memory = mc.simulate(config, workers=1)
    for metric in memory.metric_names:
        np.testing.assert_array_equal(written.trajectories(metric), memory.trajectories(metric))
    assert mc.load(tmp_path / "r").config == config


# -- exact laws by brute force ---------------------------------------------------------------------


def best_of_law(q, r, k: int) -> np.ndarray:
    """P(kept = v) for best-of-K by enumeration of every K-tuple of candidates."""
    q, w = np.asarray(q, dtype=float), np.exp(np.asarray(r, dtype=float))
    law = np.zeros(q.size)
    for draw in itertools.product(range(q.size), repeat=k):
        t = np.array(draw)
        law += np.prod(q[t]) * np.bincount(t, weights=w[t], minlength=q.size) / w[t].sum()
    return law


def best_of_formula(q, r, k: int) -> np.ndarray:
    """``K q_v e^{r_v} E[1 / (e^{r_v} + Σ_{j≥2} e^{r_{X_j}})]``, the expectation enumerated."""
    q, w = np.asarray(q, dtype=float), np.exp(np.asarray(r, dtype=float))
    law = np.zeros(q.size)
    for others in itertools.product(range(q.size), repeat=k - 1):
        t = np.array(others, dtype=int)
        law += np.prod(q[t]) / (w + w[t].sum())
    return k * q * w * law


def verifier_law(q, q0, strictness: float, false_accept: float) -> tuple[np.ndarray, float]:
    """The kept law ``∝ q_v a_v`` and the acceptance rate ``α = Σ q_v a_v``."""
    q, q0 = np.asarray(q, dtype=float), np.asarray(q0, dtype=float)
    a = false_accept + (1 - false_accept) * (q0 / q0.max()) ** strictness
    return q * a / (q @ a), float(q @ a)


def compositions(m: int, v: int):
    """Every count vector of ``m`` items over ``v`` categories."""
    for c in itertools.product(range(m + 1), repeat=v):
        if sum(c) == m:
            yield np.array(c)


def multinomial_pmf(c: np.ndarray, p: np.ndarray) -> float:
    coefficient = math.factorial(int(c.sum())) / math.prod(math.factorial(int(x)) for x in c)
    return coefficient * float(np.prod(p**c))


def reweight_law(q_sampling, weights, m: int) -> np.ndarray:
    """P(a kept slot = v): ``E[c_v w_v / Σ_u c_u w_u]`` over ``c ~ Multinomial(m, q_sampling)``."""
    q, w = np.asarray(q_sampling, dtype=float), np.asarray(weights, dtype=float)
    return sum(multinomial_pmf(c, q) * c * w / (c @ w) for c in compositions(m, q.size))


def coin_filter_law(p: float, m: int, n_units: int, *, keep_likely: bool) -> np.ndarray:
    """The law of the heads count among ``n_units`` kept of ``m`` tosses of a coin ``p ≠ ½``.

    The favoured side (the more likely one for top, the less likely for bottom) fills the kept
    units first: ``F ~ Binomial(m, p_favoured)`` of it are drawn and ``min(F, S)`` are kept.
    """
    heads_favoured = (p > 0.5) == keep_likely
    favoured = stats.binom(m, p if heads_favoured else 1 - p)
    kept = np.zeros(n_units + 1)  # law of min(F, S)
    kept[:n_units] = favoured.pmf(np.arange(n_units))
    kept[n_units] = favoured.sf(n_units - 1)
    return kept if heads_favoured else kept[::-1]


def normal_filter_mean_square(m: int, n_units: int, *, central: bool) -> float:
    """``E[(1/S) Σ_kept z²]`` when the ``S`` of ``m`` standard normals with the smallest
    (``central``) or largest ``|z|`` are kept.

    By exchangeability ``E Σ_kept z² = m E[z² 1(z is kept)]``, and a candidate at ``|z| = a`` is
    kept when at most ``S − 1`` of the other ``m − 1`` lie inside (central) or outside ``±a``.
    """
    def integrand(z):
        inside = special.erf(z / math.sqrt(2.0))
        share = inside if central else 1.0 - inside
        return z * z * stats.norm.pdf(z) * stats.binom.cdf(n_units - 1, m - 1, share)

    value, error = integrate.quad(integrand, 0.0, 40.0, epsabs=1e-13, epsrel=1e-12, limit=200)
    assert error < 1e-9
    return 2.0 * m * value / n_units


def pair_kept_moments(log_pdf, low: float, high: float, log_weight) -> tuple[float, float]:
    """``E kept``, ``E kept²`` when one of two i.i.d. candidates of the density ``p`` is kept with
    probability ``w(x) / (w(x) + w(y))``: ``2 ∫∫ p(x) p(y) w(x) / (w(x) + w(y)) f(x)``.

    On a uniform grid over ``[low, high]`` (14 standard deviations beyond every component):
    the trapezoid rule is exponentially accurate for these smooth, Gaussian-tailed integrands,
    far below 1e-9 here.
    """
    x = np.linspace(low, high, 2001)
    p = np.exp(log_pdf(x)) * (x[1] - x[0])
    lw = log_weight(x)
    w = np.exp(lw - lw.max())
    ratio = w[:, None] / (w[:, None] + w[None, :])
    kept = 2.0 * p * (ratio @ p)
    assert abs(kept.sum() - 1.0) < 1e-9
    return float(kept @ x), float(kept @ x**2)


def normal_pair_kept_moments(mean: float, var: float, log_weight) -> tuple[float, float]:
    sd = math.sqrt(var)
    return pair_kept_moments(lambda x: stats.norm.logpdf(x, mean, sd), mean - 14 * sd,
                             mean + 14 * sd, log_weight)


def mixture_logpdf(x, weights, means, variances) -> np.ndarray:
    """``log Σ_j w_j N(x; μ_j, σ_j²)`` by scipy (independent of the package's own)."""
    x = np.asarray(x, dtype=float)[..., None]
    terms = stats.norm.logpdf(x, np.asarray(means), np.sqrt(variances))
    return special.logsumexp(terms, b=np.asarray(weights), axis=-1)


def mixture_peak(weights, means, stds) -> float:
    """``max_x log p(x)`` of a normal mixture: a bounded search around every mean."""
    best = -np.inf
    for mu, sd in zip(means, stds, strict=True):
        found = optimize.minimize_scalar(
            lambda x: -float(mixture_logpdf(x, weights, means, np.square(stds))),
            bounds=(mu - 3 * sd, mu + 3 * sd), method="bounded", options={"xatol": 1e-12})
        best = max(best, -found.fun)
    return float(best)


def test_the_brute_force_laws_agree_with_their_closed_forms():
    q, r = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.0, 1.0, -0.5, 2.0])
    for k in (1, 2, 3, 4):
        np.testing.assert_allclose(best_of_law(q, r, k), best_of_formula(q, r, k), rtol=1e-12)
    np.testing.assert_allclose(best_of_law(q, r, 1), q, rtol=1e-12)  # K = 1: the model itself
    np.testing.assert_allclose(reweight_law(q, np.ones(4), 5), q, rtol=1e-12)  # β = 0
    law = coin_filter_law(0.7, 10, 4, keep_likely=True)
    assert abs(law.sum() - 1) < 1e-12 and law[-1] > 0.98  # 4 heads of 10 at p = 0.7, mostly
    # a central filter of every candidate keeps all of them: E z² = 1
    assert abs(normal_filter_mean_square(7, 7, central=True) - 1.0) < 1e-9
    assert abs(normal_filter_mean_square(7, 7, central=False) - 1.0) < 1e-9
    mean, square = normal_pair_kept_moments(0.5, 2.0, lambda x: np.zeros_like(x))
    assert abs(mean - 0.5) < 1e-9 and abs(square - 2.25) < 1e-9


# -- planted bugs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AntiBestOf(BestOf):
    """Bug: a candidate chosen with probability ∝ exp(−r(x)) (the reward's sign lost)."""

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        flipped = Reward(reward.spec, lambda units: -reward.score(units), reward.expected,
                         reward.words)
        return super().curate(family, fitted, sampling, n_units, rng, flipped)


@dataclass(frozen=True)
class ContraryVerifier(Verifier):
    """Bug: a candidate accepted when its uniform is above a(x), not below (P = 1 − a)."""

    def acceptance(self, family, units):
        return 1.0 - super().acceptance(family, units)


@dataclass(frozen=True)
class UnshiftedVerifier(Verifier):
    """Bug: the verifier's belief is the truth itself, its shift ignored."""

    def acceptance(self, family, units):
        return Verifier(self.strictness, 0.0, self.false_accept).acceptance(family, units)


class _CountingFamily:
    """A family that counts the candidates drawn through it (for :class:`AllDrawnVerifier`)."""

    def __init__(self, family):
        self._family, self.drawn = family, 0

    def __getattr__(self, name):
        return getattr(self._family, name)

    def draw_units(self, params, k, rng):
        self.drawn += k
        return self._family.draw_units(params, k, rng)


@dataclass(frozen=True)
class AllDrawnVerifier(Verifier):
    """Bug: every candidate the block drew is counted, not those up to the S-th acceptance."""

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        counting = _CountingFamily(family)
        out = super().curate(counting, fitted, sampling, n_units, rng, reward)
        return dataclasses.replace(out, candidates=np.full(out.candidates.shape, counting.drawn))


@dataclass(frozen=True)
class UpsideDownTop(Top):
    """Bug: top keeps the least likely candidates."""

    direction: ClassVar[int] = -1


@dataclass(frozen=True)
class UpsideDownBottom(Bottom):
    """Bug: bottom keeps the most likely candidates."""

    direction: ClassVar[int] = 1


@dataclass(frozen=True)
class SamplingRankedTop(Top):
    """Bug: candidates ranked by the biased sampling law instead of the model's own."""

    def curate(self, family, fitted, sampling, n_units, rng, reward):
        return super().curate(family, sampling, sampling, n_units, rng, reward)


def inverted_reweight(keep: float, power: float) -> Reweight:
    """Bug: weights ``(p_model / p_truth)^β``, the detector's ratio upside down."""
    curator = Reweight(keep=keep, power=power)
    object.__setattr__(curator, "power", -power)  # past the validation, as a bug would be
    return curator


@dataclass(frozen=True)
class UntemperedCategorical(mc.Categorical):
    """Bug: the importance weight's denominator is the untempered model, not the law drawn from."""

    def proposal_log_likelihood(self, params, units):
        return self.unit_log_likelihood(params, units)


@dataclass(frozen=True)
class UnscaledGaussian(mc.Gaussian):
    """Bug: the importance weight's denominator ignores the sampling scale."""

    def proposal_log_likelihood(self, params, units):
        return self.unit_log_likelihood(params, units)


@dataclass(frozen=True)
class ForgetfulRewardGaussian(mc.Gaussian):
    """Bug: ``E_model r`` of the truth reward taken at the model's mean, its variance forgotten."""

    def reward(self, spec):
        right = super().reward(spec)

        def expected(params):
            at_mean = np.array(params, dtype=float)
            at_mean[..., 1] = 0.0
            return right.expected(at_mean)

        return Reward(spec, right.score, expected, right.words)


# -- statistical checks of the kept laws ----------------------------------------------------------


def coin_best_of(curator: BestOf | None = None) -> list[Check]:
    """P(heads kept) for best-of-3 on a coin at p = 0.3 with rewards (0, 0.8)."""
    curator = curator or BestOf(k=3)
    family = mc.Coin()
    reward = family.reward("0,0.8")
    kept = curate(curator, family, 0.3, 10, 4000, seed=SEED, reward=reward).units.values
    exact = best_of_law([0.7, 0.3], [0.0, 0.8], 3)[1]
    return [proportion_check("coin best-of-3 P(heads)", kept == 1, exact)]


CATEGORICAL_Q = np.array([0.4, 0.3, 0.2, 0.1])
GMM_MODEL = np.array([[0.3, 0.7], [-1.5, 2.5], [0.5, 1.5]])  # weights, means, variances


def categorical_best_of(curator: BestOf | None = None) -> list[Check]:
    """The law of the kept token for best-of-3, V = 4, rewards (0, 1, −0.5, 2)."""
    curator = curator or BestOf(k=3)
    family = mc.Categorical(vocab=4)
    reward = family.reward("0,1,-0.5,2")
    kept = curate(curator, family, CATEGORICAL_Q, 10, 4000, seed=SEED + 1,
                  reward=reward).units.values
    law = best_of_law(CATEGORICAL_Q, [0.0, 1.0, -0.5, 2.0], 3)
    return [proportion_check(f"categorical best-of-3 P(token {v})", kept == v, law[v])
            for v in range(4)]


def gaussian_best_of(curator: BestOf | None = None) -> list[Check]:
    """E kept and E kept² for best-of-2 of N(0.5, 2) with the reward target:1."""
    curator = curator or BestOf(k=2)
    family = mc.Gaussian()
    reward = family.reward("target:1")
    kept = curate(curator, family, [0.5, 2.0], 1, 40_000, seed=SEED + 2,
                  reward=reward).units.values[:, 0]
    mean, square = normal_pair_kept_moments(0.5, 2.0, lambda x: -0.5 * (x - 1.0) ** 2)
    return [mean_check("gaussian best-of-2 E kept", kept, mean),
            mean_check("gaussian best-of-2 E kept²", kept**2, square)]


def gmm_best_of(curator: BestOf | None = None) -> list[Check]:
    """E kept for best-of-2 of a two-component mixture with the reward target:1 (S = 10 kept
    units per replicate: each slot's two candidates must be independent draws of the model)."""
    curator = curator or BestOf(k=2)
    family = mc.GMM()
    kept = curate(curator, family, GMM_MODEL, 10, 4000, seed=SEED + 7,
                  reward=family.reward("target:1")).units.values
    mean, _ = pair_kept_moments(lambda x: mixture_logpdf(x, *GMM_MODEL), -20.0, 20.0,
                                lambda x: -0.5 * (x - 1.0) ** 2)
    return [mean_check("gmm best-of-2 E kept", kept, mean)]


def categorical_verifier(curator: Verifier | None = None) -> list[Check]:
    """The kept law ∝ q_v a_v and the mean number of candidates S / α (s = 1.5, ε = 0.1)."""
    curator = curator or Verifier(strictness=1.5, false_accept=0.1)
    truth = (0.1, 0.2, 0.3, 0.4)
    family = mc.Categorical(probs=truth)
    n_units = 10
    out = curate(curator, family, CATEGORICAL_Q, n_units, 4000, seed=SEED + 3)
    law, alpha = verifier_law(CATEGORICAL_Q, truth, 1.5, 0.1)
    checks = [proportion_check(f"categorical verifier P(token {v})", out.units.values == v,
                               law[v]) for v in range(4)]
    # candidates up to the S-th acceptance: negative binomial, mean S/α, variance S(1 − α)/α²
    checks.append(mean_check("categorical verifier E candidates", out.candidates,
                             n_units / alpha, variance=n_units * (1 - alpha) / alpha**2))
    return checks


def gaussian_verifier(curator: type[Verifier] = Verifier) -> list[Check]:
    """The kept law of N(μ, σ²) under a verifier believing N(μ0 + δ, σ0²) with strictness s:
    exactly normal, precision 1/σ² + s/σ0², precision-weighted mean; with ε > 0 a mixture."""
    mu, var, mu0, var0, delta, s = 0.5, 2.0, 0.0, 1.0, 0.7, 2.0
    family = mc.Gaussian(mean=mu0, std=math.sqrt(var0))
    centre = mu0 + delta
    precision = 1.0 / var + s / var0
    kept_var = 1.0 / precision
    kept_mean = (mu / var + s * centre / var0) / precision
    # Z = E_model b(X)^s, by quadrature (its closed form is checked against it)
    z, _ = integrate.quad(lambda x: stats.norm.pdf(x, mu, math.sqrt(var))
                          * math.exp(-0.5 * s * (x - centre) ** 2 / var0), -40, 40,
                          epsabs=1e-14, epsrel=1e-13, limit=200)
    tau2 = var0 / s
    assert abs(z - math.sqrt(tau2 / (var + tau2)) * math.exp(
        -0.5 * (mu - centre) ** 2 / (var + tau2))) < 1e-12
    n_units = 5
    out = curate(curator(strictness=s, shift=delta), family, [mu, var], n_units, 20_000,
                 seed=SEED + 4)
    x = out.units.values.ravel()
    checks = [
        mean_check("gaussian verifier E kept", x, kept_mean, variance=kept_var),
        mean_check("gaussian verifier E (kept − m)²", (x - kept_mean) ** 2, kept_var,
                   variance=2 * kept_var**2),
        mean_check("gaussian verifier E candidates", out.candidates, n_units / z,
                   variance=n_units * (1 - z) / z**2),
    ]
    eps = 0.3
    noisy = curate(curator(strictness=s, shift=delta, false_accept=eps), family, [mu, var],
                   n_units, 20_000, seed=SEED + 5).units.values.ravel()
    mixed_mean = (eps * mu + (1 - eps) * z * kept_mean) / (eps + (1 - eps) * z)
    checks.append(mean_check("gaussian verifier ε = 0.3 E kept", noisy, mixed_mean))
    return checks


def gmm_verifier(curator: type[Verifier] = Verifier) -> list[Check]:
    """E kept and E candidates for a mixture model under a verifier believing the default
    truth moved by δ = 0.5 (s = 1): kept ∝ p_model(x) p_truth(x − δ) / max p_truth."""
    family = mc.GMM()
    delta = 0.5
    peak = mixture_peak(family.weights, family.means, family.stds)
    w, mu, var = GMM_MODEL

    def accept(x):
        return np.exp(mixture_logpdf(x - delta, family.weights, family.means,
                                     np.square(family.stds)) - peak)

    def moment(power):
        value, _ = integrate.quad(lambda x: x**power * np.exp(mixture_logpdf(x, w, mu, var))
                                  * accept(x), -30, 30, points=[-2.0, 2.5], epsabs=1e-13,
                                  epsrel=1e-12, limit=400)
        return value

    alpha = moment(0)
    n_units = 5
    out = curate(curator(strictness=1.0, shift=delta), family, GMM_MODEL, n_units, 8000,
                 seed=SEED + 6)
    return [mean_check("gmm verifier E kept", out.units.values.ravel(), moment(1) / alpha),
            mean_check("gmm verifier E candidates", out.candidates, n_units / alpha,
                       variance=n_units * (1 - alpha) / alpha**2)]


def filter_law(curator_cls: type, *, keep_likely: bool) -> list[Check]:
    """Top (``keep_likely``) or bottom: the heads count kept from ⌈S/q⌉ tosses of coins at
    p = 0.7 and 0.3 (S = 4, q = 0.4: 10 candidates), and the mean square of the S = 8 kept
    standardised samples of 16 candidates of N(0.5, 2)."""
    word = "top" if keep_likely else "bottom"
    checks = []
    n_units, keep = 4, 0.4
    for i, p in enumerate((0.7, 0.3)):
        kept = curate(curator_cls(keep=keep), mc.Coin(), p, n_units, 20_000,
                      seed=SEED + 10 + i).units.values
        law = coin_filter_law(p, math.ceil(n_units / keep), n_units, keep_likely=keep_likely)
        count = np.arange(n_units + 1)
        mean = float(law @ count)
        checks.append(mean_check(f"coin {word} p = {p} E heads kept", kept.sum(axis=1), mean,
                                 variance=float(law @ count**2) - mean**2))
    mu, var = 0.5, 2.0
    kept = curate(curator_cls(keep=0.5), mc.Gaussian(), [mu, var], 8, 4000,
                  seed=SEED + 12).units.values
    checks.append(mean_check(f"gaussian {word} E mean kept z²",
                             ((kept - mu) ** 2 / var).mean(axis=1),
                             normal_filter_mean_square(16, 8, central=keep_likely)))
    return checks


def top_law(curator_cls: type = Top) -> list[Check]:
    return filter_law(curator_cls, keep_likely=True)


def bottom_law(curator_cls: type = Bottom) -> list[Check]:
    return filter_law(curator_cls, keep_likely=False)


def reweight_checks(make=Reweight, categorical_cls=mc.Categorical,
                    gaussian_cls=mc.Gaussian) -> list[Check]:
    """Resampling with weights (p_truth / p_proposal)^β from the ⌈S/q⌉ candidates.

    * a tempered categorical (τ = 2, β = 1, S = 3 of 6): the share of each token among the kept,
      exact by enumeration of the candidates' counts;
    * a coin (β = 1, S = 2 of 5): the share of heads;
    * a Gaussian with sampling scale 1.2 (β = 0.8, S = 1 of 2): E kept and E kept².
    """
    checks = []
    truth = np.array([0.5, 0.3, 0.2])
    family = categorical_cls(probs=tuple(truth), temperature=2.0)
    fitted = np.array([0.2, 0.3, 0.5])
    kept = curate(make(keep=0.5, power=1.0), family, fitted, 3, 20_000,
                  seed=SEED + 20).units.values
    proposal = tempered(fitted, 2.0)
    law = reweight_law(proposal, truth / proposal, 6)
    checks += [mean_check(f"categorical τ = 2 reweight share of token {v}",
                          (kept == v).mean(axis=1), law[v]) for v in range(3)]

    coin = mc.Coin(p0=0.8)
    kept = curate(make(keep=0.4, power=1.0), coin, 0.4, 2, 20_000, seed=SEED + 21).units.values
    law = reweight_law([0.6, 0.4], np.array([0.2, 0.8]) / np.array([0.6, 0.4]), 5)
    checks.append(mean_check("coin reweight share of heads", kept.mean(axis=1), law[1]))

    gaussian = gaussian_cls(mean=0.0, std=1.0, sampling_scale=1.2)
    mu, var, beta = 0.5, 1.5625, 0.8  # sampled from N(0.5, 1.2² × 1.5625 = 2.25)
    kept = curate(make(keep=0.5, power=beta), gaussian, [mu, var], 1, 40_000,
                  seed=SEED + 22).units.values[:, 0]
    mean, square = normal_pair_kept_moments(mu, 2.25, lambda x: beta * (
        stats.norm.logpdf(x, 0.0, 1.0) - stats.norm.logpdf(x, mu, 1.5)))
    checks += [mean_check("gaussian λ = 1.2 reweight E kept", kept, mean),
               mean_check("gaussian λ = 1.2 reweight E kept²", kept**2, square)]
    return checks


def reward_expectations(gaussian_cls=mc.Gaussian) -> list[Check]:
    """Every reward's ``expected(params)`` against the mean of ``score`` over draws of the
    model (the coin, the categorical and the continuous families, each reward spec)."""
    cases = [
        (mc.Coin(), 0.3, ("0,1", "-1.5,2")),
        (mc.Categorical(vocab=5), [0.1, 0.3, 0.2, 0.25, 0.15], ("rank", "truth",
                                                                "0.5,-1,2,0,3")),
        (gaussian_cls(mean=0.3, std=1.2), [0.4, 1.7], ("truth", "target:1.5")),
        (mc.GMM(), GMM_MODEL, ("truth", "target:-1")),
    ]
    rng = np.random.default_rng(SEED + 30)
    checks = []
    for family, params, specs in cases:
        model = rows(params, 4)
        units = family.draw_units(model, 50_000, rng)
        for spec in specs:
            reward = family.reward(spec)
            expected = np.asarray(reward.expected(model))
            assert expected.shape == (4,) and np.ptp(expected) == 0
            checks.append(mean_check(f"{family.name} reward {spec} E r", reward.score(units),
                                     float(expected[0])))
    return checks


#: check → (number of sub-checks, the same check with each planted bug)
CHECKS = {
    "coin_best_of": (1, [lambda: coin_best_of(AntiBestOf(k=3))]),
    "categorical_best_of": (4, [lambda: categorical_best_of(AntiBestOf(k=3))]),
    "gaussian_best_of": (2, [lambda: gaussian_best_of(AntiBestOf(k=2))]),
    "gmm_best_of": (1, [lambda: gmm_best_of(AntiBestOf(k=2))]),
    "categorical_verifier": (5, [
        lambda: categorical_verifier(ContraryVerifier(strictness=1.5, false_accept=0.1)),
        lambda: categorical_verifier(AllDrawnVerifier(strictness=1.5, false_accept=0.1))]),
    "gaussian_verifier": (4, [lambda: gaussian_verifier(ContraryVerifier),
                              lambda: gaussian_verifier(UnshiftedVerifier),
                              lambda: gaussian_verifier(AllDrawnVerifier)]),
    "gmm_verifier": (2, [lambda: gmm_verifier(UnshiftedVerifier)]),
    "top_law": (3, [lambda: top_law(UpsideDownTop)]),
    "bottom_law": (3, [lambda: bottom_law(UpsideDownBottom)]),
    "reweight_checks": (6, [lambda: reweight_checks(make=inverted_reweight),
                            lambda: reweight_checks(categorical_cls=UntemperedCategorical,
                                                    gaussian_cls=UnscaledGaussian)]),
    "reward_expectations": (9, [lambda: reward_expectations(ForgetfulRewardGaussian)]),
}
FUNCTIONS = {name: globals()[name] for name in CHECKS}
PLANTED = [(name, i) for name, (_, bugs) in CHECKS.items() for i in range(len(bugs))]


def test_every_subcheck_is_counted_and_every_curator_has_a_planted_bug():
    assert CHECKS, "the kept-law suite must not be empty"
    assert sum(n for n, _ in CHECKS.values()) == N_SUBCHECKS
    planted = {AntiBestOf, ContraryVerifier, UnshiftedVerifier, AllDrawnVerifier, UpsideDownTop,
               UpsideDownBottom}
    bugged = {cls.__mro__[1].name for cls in planted} | {"reweight"}
    assert bugged == set(CURATORS.names()) - {"none"}


@pytest.mark.parametrize("name", list(CHECKS))
def test_kept_law_matches_the_exact_law(name):
    checks = FUNCTIONS[name]()
    assert len(checks) == CHECKS[name][0]
    assert all(c.critical == Z_CRIT for c in checks)
    assert all(c.passed for c in checks), report(checks)


@pytest.mark.parametrize(("name", "bug"), PLANTED, ids=[f"{n}-{i}" for n, i in PLANTED])
def test_planted_bug_is_caught(name, bug):
    checks = CHECKS[name][1][bug]()
    assert not all(c.passed for c in checks), "the planted bug went unnoticed:\n" + report(checks)


# -- exact, deterministic facts ------------------------------------------------------------------


def filter_kept(loglik: np.ndarray, values: np.ndarray, n_units: int, *, likely: bool):
    """The units top (``likely``) or bottom keeps by its definition: candidate i is kept when
    fewer than S candidates beat it (strictly better, or as good and drawn earlier)."""
    sign = 1.0 if likely else -1.0
    score = sign * loglik
    m = score.shape[1]
    better = score[:, None, :] > score[:, :, None]  # [r, i, j]: j beats i
    earlier = (score[:, None, :] == score[:, :, None]) & (np.arange(m)[None, :] <
                                                         np.arange(m)[:, None])
    kept = (better | earlier).sum(axis=2) < n_units
    assert (kept.sum(axis=1) == n_units).all()
    return values[kept].reshape(values.shape[0], n_units)


def independent_loglik(family: mc.Family, fitted: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``log p_model(x)`` computed here, not by the family."""
    if family.name == "coin":
        return np.log(np.where(values == 1, fitted[:, None], 1 - fitted[:, None]))
    if family.name == "categorical":
        return np.log(np.take_along_axis(fitted, values.astype(np.int64), axis=1))
    if family.name == "gaussian":
        return stats.norm.logpdf(values, fitted[:, :1], np.sqrt(fitted[:, 1:2]))
    return np.stack([mixture_logpdf(values[r], *fitted[r]) for r in range(fitted.shape[0])])


#: (family, one fitted model) for the deterministic filter checks: a coin with ties (p = ½),
#: a categorical with two equally likely tokens, a Gaussian, and a mixture sampled with a scale
#: (ranked by the model's own density, which then differs from the law drawn from).
FILTER_CASES = {
    "coin-ties": (mc.Coin(), 0.5),
    "coin": (mc.Coin(), 0.8),
    "categorical": (mc.Categorical(vocab=4), [0.3, 0.3, 0.15, 0.25]),
    "gaussian": (mc.Gaussian(sampling_scale=0.7), [1.0, 3.0]),
    "gmm": (mc.GMM(sampling_scale=2.0), [[0.8, 0.2], [-1.0, 1.5], [0.3, 0.05]]),
}


def kept_by_filter(curator, family, params, *, seed=SEED):
    """The units ``curator`` kept, and the units its definition says it keeps."""
    n_units, n_replicates = 6, 40
    fitted = rows(params, n_replicates)
    sampling = family.sampling_params(fitted)
    rng = np.random.default_rng(seed)
    twin = copy.deepcopy(rng)
    out = curator.curate(family, fitted, sampling, n_units, rng, None)
    m = math.ceil(n_units / curator.keep)
    candidates = family.draw_units(sampling, m, twin).values  # the same draws, in draw order
    assert (out.candidates == m).all()
    loglik = independent_loglik(family, fitted, candidates)
    expected = filter_kept(loglik, candidates, n_units, likely=curator.direction > 0)
    return out.units.values, expected


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize("curator_cls", [Top, Bottom])
def test_top_and_bottom_keep_the_most_or_least_likely_in_draw_order(case, curator_cls):
    family, params = FILTER_CASES[case]
    got, expected = kept_by_filter(curator_cls(keep=0.35), family, params)
    np.testing.assert_array_equal(got, expected)
    if case == "coin-ties":  # every candidate ties: the first S drawn are kept
        rng = np.random.default_rng(SEED)
        first = family.draw_units(rows(params, 40), math.ceil(6 / 0.35), rng).values[:, :6]
        np.testing.assert_array_equal(got, first)


@pytest.mark.parametrize(("bug", "case"), [(UpsideDownTop, "gaussian"), (UpsideDownTop, "coin"),
                                           (SamplingRankedTop, "gmm")])
def test_the_filter_check_catches_a_planted_bug(bug, case):
    family, params = FILTER_CASES[case]
    got, _ = kept_by_filter(bug(keep=0.35), family, params)
    _, expected = kept_by_filter(Top(keep=0.35), family, params)
    assert not np.array_equal(got, expected)


def test_top_ranks_the_kept_above_the_dropped():
    """The ordering fact itself, on the mixture: every kept log density ≥ every dropped one."""
    family, params = FILTER_CASES["gmm"]
    fitted = rows(params, 40)
    rng = np.random.default_rng(SEED)
    candidates = family.draw_units(family.sampling_params(fitted), 18, copy.deepcopy(rng)).values
    out = Top(keep=6 / 18).curate(family, fitted, family.sampling_params(fitted), 6, rng, None)
    for r in range(40):
        ll = mixture_logpdf(candidates[r], *params)
        kept = np.isin(candidates[r], out.units.values[r])
        assert kept.sum() == 6
        assert ll[kept].min() >= ll[~kept].max()


def gmm_expected_by_quad(family: mc.GMM, params: np.ndarray) -> float:
    """``Σ_j w_j ∫ N(x; μ_j, σ_j²) log p_truth(x) dx`` by adaptive quadrature (scalar maths:
    ``log p_truth`` as a log-sum-exp of the truth's components)."""
    terms = [(math.log(w) - 0.5 * math.log(2 * math.pi * sd**2), mu, sd**2)
             for w, mu, sd in zip(family.weights, family.means, family.stds, strict=True)]

    def log_truth(x):
        values = [c - 0.5 * (x - mu) ** 2 / var for c, mu, var in terms]
        top = max(values)
        return top + math.log(sum(math.exp(v - top) for v in values))

    total = 0.0
    for w, mu, var in params.T:
        if w == 0:
            continue
        sd = math.sqrt(var)
        value, error = integrate.quad(
            lambda x, mu=mu, sd=sd: math.exp(-0.5 * ((x - mu) / sd) ** 2)
            / (sd * math.sqrt(2 * math.pi)) * log_truth(x),
            mu - 40 * sd, mu + 40 * sd, points=[mu], epsabs=1e-13, epsrel=1e-13, limit=500)
        assert error < 1e-10
        total += w * value
    return total


#: Mixture models [weights, means, variances] whose E_model log p_truth is checked.
GMM_REWARD_MODELS = {
    "the truth": (mc.GMM().truth(), ()),
    "narrow components": (np.array([[0.5, 0.5], [-2.5, 1.0], [0.3, 0.2]]), ()),
    "one far component": (np.array([[1.0, 0.0], [8.0, 0.0], [0.8, 1.0]]), ()),
    "a floored component": (np.array([[0.5, 0.5], [-2.0, 0.3], [1e-6, 0.5]]), ()),
    "wide components": (GMM_MODEL, ()),
    "a far wide component": (np.array([[1.0, 0.0], [8.0, 0.0], [9.0, 1.0]]),
                             ()),
    "a very wide component": (np.array([[0.5, 0.5], [-2.0, 0.3], [1e-6, 4.0]]),
                              ()),
}


@pytest.mark.parametrize("model", [pytest.param(name, marks=marks)
                                   for name, (_, marks) in GMM_REWARD_MODELS.items()])
def test_gmm_truth_reward_expectation_matches_quadrature(model):
    family = mc.GMM()
    params = GMM_REWARD_MODELS[model][0]
    value = family.reward("truth").expected(params[None])[0]
    exact = gmm_expected_by_quad(family, params)
    assert abs(value - exact) <= 1e-8 * max(1.0, abs(exact)), (value, exact)


def test_the_gmm_target_reward_expectation_is_exact():
    models = np.stack([params for params, _ in GMM_REWARD_MODELS.values()])
    for value, (w, mu, var) in zip(mc.GMM().reward("target:-1").expected(models), models,
                                   strict=True):
        mean = w @ mu
        assert abs(value + 0.5 * (w @ (var + (mu - mean) ** 2) + (mean + 1) ** 2)) < 1e-12


def test_the_quadrature_check_catches_too_coarse_a_rule(monkeypatch):
    monkeypatch.setattr(continuous, "QUADRATURE_STEP", 1.5)
    family = mc.GMM()
    params = GMM_REWARD_MODELS["narrow components"][0]
    value = family.reward("truth").expected(params[None])[0]
    assert abs(value - gmm_expected_by_quad(family, params)) > 1e-8


def test_the_oracle_verifiers_reference_point_is_the_truths_peak():
    from modelcollapse.families.gmm.family import truth_log_peak

    for family in (mc.GMM(), mc.GMM(means=(-1.0, 0.5, 3.0), stds=(0.5, 1.5, 0.2),
                                    weights=(0.2, 0.5, 0.3))):
        peak = mixture_peak(family.weights, family.means, family.stds)
        assert abs(truth_log_peak(family.weights, family.means, family.stds) - peak) < 1e-9
        # so the belief's log relative density is ≤ 0 and reaches 0 at the (shifted) peak
        x = np.linspace(-6, 6, 400_001)[None]
        relative = family.belief_log_relative(Samples(x), 0.4)
        assert relative.max() <= 0 and relative.max() > -1e-5


# -- candidate accounting -------------------------------------------------------------------------


@pytest.mark.parametrize(("curator", "n_units", "candidates"), [
    (BestOf(k=4), 20, 80), (BestOf(k=7), 20, 140),
    (Top(keep=0.3), 20, 67), (Bottom(keep=0.3), 20, 67), (Reweight(keep=0.3), 20, 67),
    # S/q = 3/0.3 is 10.000000000000002 in floats; ⌈S/q⌉ is 10
    (Top(keep=0.3), 3, 10), (Bottom(keep=0.3), 3, 10), (Reweight(keep=0.3), 3, 10),
])
def test_accept_rate_is_the_kept_share_of_the_candidates(curator, n_units, candidates):
    """1/K for best-of, S/⌈S/q⌉ for top, bottom and reweight: per call and in the loop."""
    family = mc.Coin(p0=0.4)
    reward = family.reward("0,1")
    out = curate(curator, family, 0.4, n_units, 5, seed=SEED, reward=reward)
    np.testing.assert_array_equal(out.candidates, candidates)
    assert out.units.values.shape == (5, n_units)
    # in the loop: mix with real 0.2 and synthetic 0.5 of N = 40 (S = 20) or N = 6 (S = 3)
    n_samples = 40 if n_units == 20 else 6
    result = simulate_block(family, mc.Mix(real=0.2, synthetic=0.5), n_samples=n_samples,
                            n_generations=4, n_replicates=3, rng=np.random.default_rng(SEED),
                            curation=curator, reward=reward)
    rate = result.metrics["accept_rate"]
    assert (rate[:, :2] == 1).all()
    np.testing.assert_array_equal(rate[:, 2:], n_units / candidates)


_DRAWN: list[np.ndarray] = []


@dataclass(frozen=True)
class RecordingCoin(mc.Coin):
    """A coin that records every batch of candidates drawn for curation."""

    def draw_units(self, params, k, rng):
        units = super().draw_units(params, k, rng)
        _DRAWN.append(units.values.copy())
        return units


def test_the_verifier_counts_the_candidates_up_to_its_s_th_acceptance():
    """A verifier believing p0 = 0.9 with strictness 1e6 accepts heads and never tails, so the
    candidates it counts are the position of the S-th head in each replicate's stream."""
    family = RecordingCoin(p0=0.9)
    curator = Verifier(strictness=1e6)
    n_units, n_replicates = 7, 50
    _DRAWN.clear()
    with no_warnings():
        out = curate(curator, family, 0.3, n_units, n_replicates, seed=SEED)
    stream = np.concatenate(_DRAWN, axis=1)
    position = np.argmax(np.cumsum(stream == 1, axis=1) >= n_units, axis=1) + 1
    assert (np.cumsum(stream == 1, axis=1)[:, -1] >= n_units).all()
    np.testing.assert_array_equal(out.candidates, position)
    assert (out.units.values == 1).all()
    assert len(_DRAWN) > 1 and (out.candidates < stream.shape[1]).any()  # rounds of the block

    # the loop's accept_rate is S over that count, generation by generation
    _DRAWN.clear()
    marks: list[int] = []
    policy = mc.Mix(real=0.5)
    result = simulate_block(family, policy, n_samples=20, n_generations=5, n_replicates=8,
                            rng=np.random.default_rng(SEED), curation=curator,
                            on_generation=lambda t: marks.append(len(_DRAWN)))
    rate = result.metrics["accept_rate"]
    for t in range(2, 6):
        drawn = np.concatenate(_DRAWN[marks[t - 2]:marks[t - 1]], axis=1)
        position = np.argmax(np.cumsum(drawn == 1, axis=1) >= 10, axis=1) + 1
        np.testing.assert_array_equal(rate[:, t], 10 / position)


# -- degenerate data ----------------------------------------------------------------------------

#: Collapsed models: (family, fitted model, reward).
COLLAPSED = {
    "coin at 0": (mc.Coin(), 0.0, "0,1"),
    "coin at 1": (mc.Coin(), 1.0, "0,1"),
    "coin truth at 0": (mc.Coin(p0=0.0), 0.0, "0,1"),
    "categorical one token left": (mc.Categorical(vocab=5), [0, 0, 0, 0, 1.0], "truth"),
    "categorical tempered, one token left": (mc.Categorical(vocab=5, temperature=0.5),
                                             [0, 1.0, 0, 0, 0], "rank"),
    "gaussian var 0": (mc.Gaussian(), [0.3, 0.0], "truth"),
    "gaussian var 1e-300": (mc.Gaussian(), [0.0, 1e-300], "target:2"),
    "gaussian var 1e-300 at 0.3": (mc.Gaussian(sampling_scale=0.5), [0.3, 1e-300], "truth"),
    "gmm one floored component": (mc.GMM(), [[1.0, 0.0], [0.5, 3.0], [1e-6, 1e-6]], "truth"),
}


@pytest.mark.parametrize("case", list(COLLAPSED))
def test_a_collapsed_model_is_curated_without_warnings(case):
    family, params, spec = COLLAPSED[case]
    reward = family.reward(spec)
    for name in CURATORS.names():
        curator = make_curator(name, family)
        with no_warnings():
            out = curate(curator, family, params, 5, 3, seed=SEED, reward=reward)
            scores = reward.score(out.units)
            expected = reward.expected(rows(params, 1))
        assert out.units.values.shape == (3, 5), name
        assert np.isfinite(out.units.values).all() and np.isfinite(scores).all(), name
        assert np.isfinite(expected).all(), name
        assert (out.candidates >= 5).all() and (out.candidates <= MAX_CANDIDATES * 5).all()


#: Runs that collapse: (family, policy, N, generations, reward).
COLLAPSING_RUNS = {
    "coin N = 2": (mc.Coin(), "replace", 2, 30, "0,1"),
    "coin truth at 1": (mc.Coin(p0=1.0), "replace", 5, 5, "0,1"),
    "categorical one token": (mc.Categorical(probs=(1.0, 0.0, 0.0)), "replace", 10, 5, "rank"),
    "categorical N = 3": (mc.Categorical(vocab=50), "replace", 3, 30, "truth"),
    "gaussian N = 1": (mc.Gaussian(), "replace", 1, 6, "truth"),
    "gaussian N = 2 raw": (mc.Gaussian(shortcut=False), "accumulate-subsample", 2, 6,
                           "target:1"),
    "gmm N = 4": (mc.GMM(), "replace", 4, 5, "truth"),
}


@pytest.mark.parametrize("case", list(COLLAPSING_RUNS))
def test_collapsing_runs_under_every_curator_record_finite_metrics(case):
    family, policy, n_samples, n_generations, spec = COLLAPSING_RUNS[case]
    reward = family.reward(spec)
    for name in CURATORS.names():
        with no_warnings():
            result = simulate_block(family, mc.get_policy(policy), n_samples=n_samples,
                                    n_generations=n_generations, n_replicates=4,
                                    rng=np.random.default_rng(SEED),
                                    curation=make_curator(name, family), reward=reward)
        assert_recorded(family, result.metrics)


def test_a_verifier_far_from_a_collapsed_model_spends_its_budget_and_completes():
    family = mc.Gaussian()
    curator = Verifier(strictness=10.0, shift=50.0)
    fitted = rows([0.2, 1e-12], 4)
    rng = np.random.default_rng(SEED)
    twin = copy.deepcopy(rng)
    with no_warnings():
        out = curator.curate(family, fitted, fitted, 5, rng, None)
    assert (out.candidates == MAX_CANDIDATES * 5).all()
    # nothing was accepted: the fill is the earliest rejected candidates, the first round's
    np.testing.assert_array_equal(out.units.values, family.draw_units(fitted, 5, twin).values)

    for n_samples in (1, 5):  # a collapsed model (var 0 after one fit), and a healthy one
        with no_warnings():
            result = simulate_block(family, mc.Replace(), n_samples=n_samples, n_generations=6,
                                    n_replicates=4, rng=np.random.default_rng(SEED),
                                    curation=curator)
        assert_recorded(family, result.metrics)
        assert (result.metrics["accept_rate"][:, 2:] == 1 / MAX_CANDIDATES).all()
