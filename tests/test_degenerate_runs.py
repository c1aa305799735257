"""Degenerate but valid runs are recorded, never a crash or a hang; broken scales are refused.

Issue 19, "fix first": a GMM fit with dead (weight 0) and collapsed components crashed the
metrics with ZeroDivisionError; truths whose components are far apart made the quadrature's work
grow with the gap and ignore Ctrl-C; values whose squares overflow float64 ran for minutes; and a
categorical run over millions of tokens said nothing for ten minutes. Each case is checked here
against an independent computation (scipy's quadrature and root finders, numpy's own sampler,
the category-by-category sums it replaces), deterministically, and fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special

import modelcollapse as mc
from modelcollapse import api, cli, theory
from modelcollapse.families.categorical import Categorical, zipf_probabilities
from modelcollapse.families.discrete import SPARSE_DRAW_MIN, draw_counts
from modelcollapse.families.gmm import metrics as M
from modelcollapse.runner.duration import LONG_RUN_SECONDS

FIVE = (np.full(5, 0.2), np.array([-4.0, -2.0, 0.0, 2.0, 4.0]), np.ones(5))

#: Fits of the five-component truth from ``run gmm --means -4,-2,0,2,4 --samples 20``: dead
#: components (weight exactly 0) and collapsed ones (σ at the floor), with cumulative weights
#: that equal the truth's, so the fit's CDF is flat at a level the transport map must cross
#: (Halley's denominator underflowed to 0 there). The first two, as written, crashed the old
#: code with ZeroDivisionError; the third is a two-survivor plateau over a gap of 8.
CRASHED = {
    "numba fit": ([0.15, 0.45, 0.0, 0.25, 0.15], [-4.66, -1.44, 0.55, 2.25, 4.29],
                  [0.118, 1e-3, 1e-3, 0.048, 0.0016]),
    "scikit-learn fit": ([0.2228, 0.1272, 0.35, 0.1, 0.2], [-0.81, -0.47, 1.34, 2.3, 6.97],
                         [0.19, 0.15, 0.11, 0.0226, 0.0014]),
    "one survivor of two": ([0.0, 0.8, 0.0, 0.0, 0.2], [-5.47, -2.49, -1.28, -0.17, 5.53],
                            [0.033, 0.2, 1e-3, 1e-3, 1e-3]),
}


# -- independent references (scipy) -------------------------------------------------------------


def cdf(x, w, mu, sd):
    return float(np.sum(w * special.ndtr((x - mu) / sd)))


def sf(x, w, mu, sd):
    return float(np.sum(w * special.ndtr((mu - x) / sd)))


def quantile(u, w, mu, sd):
    """``F⁻¹(u)`` by Brent's method on the nearer tail, bracketed by the live components'."""
    live = w > 0
    z = special.ndtri(u)
    lo, hi = (mu + sd * z)[live].min() - 1e-9, (mu + sd * z)[live].max() + 1e-9
    if u <= 0.5:
        return optimize.brentq(lambda x: cdf(x, w, mu, sd) - u, lo, hi, xtol=1e-13, rtol=1e-15)
    return optimize.brentq(lambda x: (1.0 - u) - sf(x, w, mu, sd), lo, hi, xtol=1e-13,
                           rtol=1e-15)


def reference_w2(fitted, truth):
    """``W2 = (∫₀¹ (F⁻¹(u) − G⁻¹(u))² du)^½`` in probability space (not the kernel's x-space
    transport integral), split at both mixtures' cumulative weights."""
    points = sorted({float(c) for m in (fitted, truth) for c in np.cumsum(m[0])[:-1]
                     if 0 < c < 1})
    edges = [0.0, *points, 1.0]
    total = 0.0
    for a, b in pairwise(edges):
        value, _ = integrate.quad(lambda u: (quantile(u, *fitted) - quantile(u, *truth)) ** 2,
                                  a, b, limit=200, epsabs=1e-13, epsrel=1e-9)
        total += value
    return np.sqrt(total)


def log_pdf(x, w, mu, sd):
    """``log f(x)`` of a mixture, by log-sum-exp over its live components."""
    live = w > 0
    terms = (np.log(w[live]) - 0.5 * ((x - mu[live]) / sd[live]) ** 2
             - np.log(sd[live] * np.sqrt(2 * np.pi)))
    top = terms.max()
    return float(top + np.log(np.exp(terms - top).sum()))


def reference_kl(truth, fitted):
    """``KL(G ‖ F)`` by adaptive quadrature over each truth component's ±12σ, broken at every
    live fitted component's ``μ + cσ`` so that no spike is stepped over."""
    w, mu, sd = fitted
    live = w > 0
    total = 0.0
    for k in range(truth[0].size):
        a, b = truth[1][k] - 12 * truth[2][k], truth[1][k] + 12 * truth[2][k]
        inner = [m + c * s for m, s in zip(mu[live], sd[live], strict=True)
                 for c in (-8, -4, -2, -1, 0, 1, 2, 4, 8) if a < m + c * s < b]
        edges = [a, *sorted(inner), b]

        def part(x, k=k):  # this truth component's share of g (log g − log f)
            lg = log_pdf(x, *truth)
            share = truth[0][k] * np.exp(-0.5 * ((x - truth[1][k]) / truth[2][k]) ** 2) / (
                truth[2][k] * np.sqrt(2 * np.pi))
            return share * (lg - log_pdf(x, *fitted))

        for lo, hi in pairwise(edges):
            total += integrate.quad(part, lo, hi, limit=200, epsabs=1e-15, epsrel=1e-11)[0]
    return total


def reference_tail(fitted, truth):
    lo, hi = quantile(0.005, *truth), quantile(0.995, *truth)
    return cdf(lo, *fitted) + sf(hi, *fitted)


def metrics_of(fitted, truth):
    w, mu, sd = (np.asarray(a, dtype=float)[None] for a in fitted)
    return {k: float(v[0]) for k, v in M.mixture_metrics(w, mu, sd, truth).items()}


def as_arrays(fitted):
    return tuple(np.asarray(a, dtype=float) for a in fitted)


# -- 1. dead and collapsed components -----------------------------------------------------------


@pytest.mark.parametrize("name", list(CRASHED))
def test_dead_and_collapsed_components_are_measured_not_a_crash(name):
    fitted = as_arrays(CRASHED[name])
    m = metrics_of(fitted, FIVE)
    assert all(np.isfinite(m[k]) for k in ("w2", "kl", "tail_mass")), m
    assert m["w2"] == pytest.approx(reference_w2(fitted, FIVE), rel=1e-6)
    assert m["kl"] == pytest.approx(reference_kl(FIVE, fitted), rel=1e-6)
    assert m["tail_mass"] == pytest.approx(reference_tail(fitted, FIVE), rel=1e-9, abs=1e-13)


def test_a_flat_cdf_at_the_level_sought_has_a_quantile():
    """The fitted CDF is 0.8 (to rounding) over the whole gap from −2.49 to 5.53: any point of
    the gap is ``F⁻¹(0.8)``; the solver returns one instead of dividing 0 by 0."""
    w, mu, sd = as_arrays(CRASHED["one survivor of two"])
    x = M.quantile_at_z(special.ndtri(0.8), w, mu, sd, -np.inf)
    assert mu[1] + 5 * sd[1] < x < mu[4] - 5 * sd[4]
    assert cdf(x, w, mu, sd) == pytest.approx(0.8, abs=1e-12)


def test_a_run_that_kills_components_records_them():
    """``run gmm --means -4,-2,0,2,4 --samples 20`` (seed 2: the old code crashed on it)."""
    config = mc.RunConfig(mc.GMM(means=(-4, -2, 0, 2, 4)), n_samples=20, n_generations=10,
                          n_replicates=5, seed=2)
    result = mc.simulate(config)
    weights = np.stack([result.trajectories(f"weight_{i}") for i in range(5)])
    assert (weights == 0).any(), "components died"
    for name in config.model.metric_names:
        assert np.isfinite(result.trajectories(name)).all(), name


# -- 2. far-apart components: bounded work, right answers, Ctrl-C -------------------------------


def far_truth(gap):
    return (np.array([0.5, 0.5]), np.array([0.0, gap]), np.array([1.0, 1.0]))


def far_fit(gap):
    return (np.array([0.48, 0.52]), np.array([0.1, gap - 0.2]), np.array([0.9, 1.1]))


@pytest.mark.parametrize("gap", [1e4, 1e6])
def test_far_apart_components_agree_with_scipy(gap):
    truth, fitted = far_truth(gap), far_fit(gap)
    m = metrics_of(fitted, truth)
    # W2 is dominated by 2% of the mass carried across the gap: relative 1e-7
    assert m["w2"] == pytest.approx(reference_w2(fitted, truth), rel=1e-7)
    assert m["kl"] == pytest.approx(reference_kl(truth, fitted), rel=1e-7)
    assert m["tail_mass"] == pytest.approx(reference_tail(fitted, truth), rel=1e-7)
    truth_itself = metrics_of(truth, truth)
    assert truth_itself["w2"] < 1e-6 * gap and truth_itself["kl"] < 1e-12
    assert truth_itself["tail_mass"] == pytest.approx(0.01, rel=1e-7)


def test_the_quadrature_does_not_grow_with_the_gap():
    """The panels follow the mass: as many for components 10⁶ or 10¹² apart as for 10."""
    def panels(gap):
        truth, fitted = far_truth(gap), far_fit(gap)
        geometry = M.truth_geometry(*map(tuple, truth))
        kl = M.kl_panels(*truth, *fitted, M.KL_BREAKS)[0].size
        w2 = M.w2_panel_breaks(*fitted, truth[0], M.W2_BREAKS, geometry.grading).size - 1
        return kl, w2, max(t.size for t in geometry.tables)

    counts = {gap: panels(gap) for gap in (10.0, 1e4, 1e6, 1e9)}
    assert counts[1e9][0] == counts[1e6][0]  # scale-free once the windows are apart
    for kl, w2, knots in counts.values():
        # KL: 16 per truth component, plus the fitted breaks (9 per component, 2 crossings)
        # and the windows' edges; W2: 8 per fitted component, plus x* and 12 graded pairs
        assert kl <= 2 * 16 + (2 * 9 + 2) + 4 and w2 <= 2 * 8 + 1 + 2 * 12
        assert knots <= M.MAX_KNOTS


def test_unequal_widths_do_not_multiply_the_panels():
    """``--stds 1e-3,1e3``: panels one narrow σ wide over the wide component's ±8σ would be
    1.6 × 10⁷; each window gets panels of its own component's width."""
    truth = (np.array([0.5, 0.5]), np.array([0.0, 0.0]), np.array([1e-3, 1e3]))
    fitted = (np.array([0.5, 0.5]), np.array([1e-4, 20.0]), np.array([1.1e-3, 900.0]))
    starts, _ = M.kl_panels(*truth, *fitted, M.KL_BREAKS)
    assert starts.size < 200
    assert M.kl_divergence(*truth, *fitted, M.KL_NODES, M.KL_WEIGHTS, M.KL_BREAKS) == \
        pytest.approx(reference_kl(truth, fitted), rel=1e-6)


def test_tiny_scales_are_integrated_like_unit_ones():
    """Every length is measured in the truth's narrowest σ: scaled by 2⁻¹⁶⁶ (about 1e-50),
    the metrics are those of the unit problem (w2 scaled back)."""
    fitted = as_arrays(CRASHED["numba fit"])
    unit = metrics_of(fitted, FIVE)
    s = 2.0 ** -166
    tiny = metrics_of((fitted[0], fitted[1] * s, fitted[2] * s),
                      (FIVE[0], FIVE[1] * s, FIVE[2] * s))
    assert tiny["w2"] / s == pytest.approx(unit["w2"], rel=1e-12)
    assert tiny["kl"] == pytest.approx(unit["kl"], rel=1e-12)
    assert tiny["tail_mass"] == pytest.approx(unit["tail_mass"], rel=1e-12)


def test_a_run_with_far_apart_components_is_measured():
    """``run gmm --means 0,1e6 --samples 200 --generations 5 --replicates 2`` (over ten
    minutes, deaf to Ctrl-C, before)."""
    config = mc.RunConfig(mc.GMM(means=(0, 1e6)), n_samples=200, n_generations=5,
                          n_replicates=2, seed=1)
    result = mc.simulate(config)
    for name in ("w2", "kl", "tail_mass", "var"):
        assert np.isfinite(result.trajectories(name)).all(), name
    # A fit whose weights are off by Δw carries that mass across the gap: W2 ≈ √Δw × 10⁶
    # (to O(σ/gap)), and O(σ) when the weights are exact.
    shift = np.abs(result.trajectories("weight_0") - 0.5)
    np.testing.assert_allclose(result.trajectories("w2"), np.sqrt(shift) * 1e6, rtol=1e-3,
                               atol=2.0)


def test_metrics_are_computed_in_chunks_and_the_same_as_in_one_call(monkeypatch):
    rng = np.random.default_rng(3)
    n = 3 * M.METRICS_CHUNK + 17
    w = rng.dirichlet(np.ones(2), n)
    mu = np.sort(rng.normal(0, 2, (n, 2)), axis=1)
    sd = np.exp(rng.normal(0, 0.5, (n, 2)))
    truth = (np.array([0.5, 0.5]), np.array([-2.0, 2.0]), np.ones(2))
    kernel = M._mixture_metrics
    rows = []

    def spy(w, *args):
        rows.append(w.shape[0])
        return kernel(w, *args)

    monkeypatch.setattr(M, "_mixture_metrics", spy)
    chunked = M.mixture_metrics(w, mu, sd, truth)
    assert rows == [M.METRICS_CHUNK] * 3 + [17]
    geometry = M.truth_geometry(*map(tuple, truth))
    whole = [np.empty(n) for _ in range(3)]
    kernel(w, mu, sd, *truth, M.GL_NODES, M.GL_WEIGHTS, M.KL_NODES, M.KL_WEIGHTS,
           M.W2_BREAKS, M.KL_BREAKS, geometry.grading, *geometry.tables, *geometry.interval,
           *whole)
    assert np.array_equal(chunked["w2"], whole[0]) and np.array_equal(chunked["kl"], whole[1])
    assert np.array_equal(chunked["tail_mass"], whole[2])


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signal handlers are installed from the main thread only")
def test_a_signal_during_the_metrics_stops_them_between_chunks(monkeypatch):
    """A signal that arrives while compiled code runs is handled by Python when the chunk
    returns, so the remaining chunks never start (Ctrl-C and SIGTERM work the same way)."""
    kernel = M._mixture_metrics
    calls = []

    def interrupted(*args):
        calls.append(1)
        kernel(*args)
        signal.raise_signal(signal.SIGUSR1)  # "arrives" while the kernel runs

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, stop)
    try:
        monkeypatch.setattr(M, "_mixture_metrics", interrupted)
        n = 10 * M.METRICS_CHUNK
        w = np.full((n, 2), 0.5)
        mu = np.tile([-2.0, 2.0], (n, 1))
        with pytest.raises(KeyboardInterrupt):
            M.mixture_metrics(w, mu, np.ones((n, 2)), (w[0], mu[0], np.ones(2)))
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(calls) == 1


# -- 3. scales that break float64 are refused up front ------------------------------------------


def cli_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "modelcollapse", "run", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


BROKEN_SCALES = [
    (["gmm", "--means", "0,1e300", "--samples", "200", "--generations", "5",
      "--replicates", "2"], "--means must each be between -1e50 and 1e50"),
    (["gmm", "--stds", "1e-300,1"], "--stds must each be between 1e-50 and 1e50"),
    (["gmm", "--means", "0,1e20"], "--stds must each be at least 1e-10 × |mean|"),
    (["gmm", "--var-floor", "1e-320"], "--var-floor must be a number between 1e-300 and 1e100"),
    (["gaussian", "--mean", "1e308", "--std", "1e308"],
     "--mean must be a number between -1e50 and 1e50"),
    (["gaussian", "--std", "1e-300"], "--std must be a number between 1e-50 and 1e50"),
    (["gaussian", "--mean", "1e12", "--std", "1"], "--std must be at least 1e-10 × |mean|"),
]


@pytest.mark.parametrize(("argv", "message"), BROKEN_SCALES,
                         ids=[" ".join(a) for a, _ in BROKEN_SCALES])
def test_scales_that_break_float64_are_one_line_errors(tmp_path, argv, message):
    done = cli_run(*argv, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no runs/, no hidden partial folder


def test_the_bounds_are_stated_in_the_help(tmp_path):
    done = cli_run("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    for words in ("each between -1e50 and 1e50", "each between 1e-50 and 1e50",
                  "between 1e-300 and 1e100", "at least 1e-10 × |mean|"):
        assert words in flat, words


@pytest.mark.parametrize("means, stds", [((0.0, 1e50), (1.0, 1e40)), ((0.0, 1.0), (1e-50, 1e50)),
                                         ((0.0, 1e-40), (1e-50, 1e-50))])
def test_the_edges_of_the_allowed_range_run(means, stds):
    """Within the bounds, even at their edges, a run finishes with finite metrics (the EM's
    damping loop once spun forever on an overflowed Hessian at σ = 1e-50)."""
    family = mc.GMM(means=means, stds=stds, var_floor=min(1e-6, (min(stds) / 10) ** 2))
    result = mc.simulate(mc.RunConfig(family, n_samples=100, n_generations=3, n_replicates=1,
                                      seed=4))
    for name in ("mean", "var", "w2", "kl", "tail_mass"):
        assert np.isfinite(result.trajectories(name)).all(), name


# -- 4. a categorical run over millions of tokens -----------------------------------------------


def test_drawing_over_the_surviving_tokens_is_numpys_multinomial():
    """Same counts and the same generator state afterwards, bit for bit, as numpy's own
    draw over every category (which skips zero-probability categories without drawing)."""
    g = np.random.default_rng(5)
    for case in range(60):
        v = int(g.integers(SPARSE_DRAW_MIN, 3 * SPARSE_DRAW_MIN))
        probs = np.zeros((3, v))
        for row in probs:
            alive = g.choice(v, int(g.integers(1, 40)) if case % 4 else v // 2, replace=False)
            if case % 5 == 0:
                alive[0] = v - 1  # the last category alive too
            row[alive] = g.random(alive.size) ** 3
            if case % 7 == 0:
                row[alive[0]] = 1e-300
            row /= row.sum()
        n = int(g.integers(1, 10**6))
        dense, sparse = np.random.default_rng(case), np.random.default_rng(case)
        assert np.array_equal(draw_counts(probs, n, sparse).values, dense.multinomial(n, probs))
        assert sparse.bit_generator.state == dense.bit_generator.state


def test_categorical_metrics_are_the_dense_formulas():
    """Logarithms of the surviving tokens only, the same numbers as over all of them."""
    family = Categorical(vocab=5000, zipf=1.1)
    rng = np.random.default_rng(6)
    q = np.zeros((4, 5000))
    q[0] = family.truth()
    for row in q[1:]:
        row[rng.choice(5000, 30, replace=False)] = rng.random(30)
        row /= row.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    got = family.metrics(q)
    assert np.array_equal(got["entropy"], 0.0 - plogp.sum(axis=-1))
    assert np.array_equal(got["support"], (q > 0).sum(axis=-1).astype(float))
    assert np.array_equal(got["tv"], 0.5 * np.abs(q - family.truth()).sum(axis=-1))


def test_the_zipf_truth_is_computed_once_and_read_only():
    assert zipf_probabilities(1000, 1.0) is zipf_probabilities(1000, 1.0)
    assert not Categorical(vocab=1000).truth().flags.writeable


POLICY_PIECES = [("replace", theory.Pieces("mix", 0, 20)),
                 ("mix", theory.Pieces("mix", 4, 16)),
                 ("mix with carry-over", theory.Pieces("mix", 4, 8, 8)),
                 ("accumulate", theory.Pieces("accumulate", 4, 16)),
                 ("accumulate-subsample", theory.Pieces("accumulate-subsample", 4, 16)),
                 ("augment", theory.Pieces("augment", 20, 20))]


@pytest.mark.parametrize(("name", "parts"), POLICY_PIECES, ids=[p[0] for p in POLICY_PIECES])
def test_the_summed_second_moment_is_the_sum_over_tokens(name, parts):
    """``Σ_v E q_{t,v}²`` from two basis categories equals the category-by-category sum."""
    q = np.random.default_rng(7).dirichlet(np.full(300, 0.3))
    by_token = theory.proportion_moments(q, 20, 40, parts)[1].sum(axis=1)
    np.testing.assert_allclose(theory.proportion_square_sum(q, 20, 40, parts), by_token,
                               rtol=1e-12)


def test_the_expected_support_is_the_sum_over_tokens():
    """``E support_t`` with the tokens summed out first equals ``Σ_v P(H^v_t > 0)`` computed
    token by token from the same chain."""
    from modelcollapse.theory.binomial import binomial_pmf
    from modelcollapse.theory.coin import coin_mix_transition_matrix

    q, n, g = zipf_probabilities(400, 1.2), 15, 30
    parts = theory.Pieces("mix", 0, n)
    first = binomial_pmf(np.arange(n + 1)[None, :], n, q[:, None])
    matrix = coin_mix_transition_matrix(n, 0.5, parts)
    gone = (np.arange(n + 1) == 0).astype(float)
    by_token = [float(q.size)]
    for _ in range(g):
        by_token.append(float(np.sum(1.0 - first @ gone)))
        gone = matrix @ gone
    np.testing.assert_allclose(theory.categorical_expected_support(q, n, g, parts), by_token,
                               rtol=1e-12)


def test_a_long_categorical_run_says_so_before_it_starts(tmp_path, monkeypatch, capsys):
    """``run categorical --vocab 4000000 --samples 10``: the estimate is printed before any
    work (the blocks are replaced by an interrupt here, so nothing runs), and nothing is left."""
    config = mc.RunConfig(Categorical(vocab=4_000_000), n_samples=10, seed=1)
    estimate = api.estimate_duration(config, workers=2)
    assert estimate.long and estimate.seconds > 10 * LONG_RUN_SECONDS
    assert estimate.replicate_generations == 100 * 500

    from modelcollapse.runner import driver

    def no_work(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(driver, "iter_blocks", no_work)
    monkeypatch.chdir(tmp_path)
    terminate = signal.getsignal(signal.SIGTERM)  # cli.main installs its own
    try:
        status = cli.main(["run", "categorical", "--vocab", "4000000", "--samples", "10",
                           "--seed", "1", "--workers", "2", "--no-plots", "--no-progress"])
    finally:
        signal.signal(signal.SIGTERM, terminate)
    out = capsys.readouterr().out
    assert status == cli.EXIT_INTERRUPTED
    line = next(line for line in out.splitlines() if line.startswith("estimated time"))
    assert "min" in line or " h " in line, line
    assert "50,000 replicate-generations" in line and "Ctrl-C" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_short_run_is_not_announced():
    config = mc.RunConfig(Categorical(vocab=100), seed=1)
    assert not api.estimate_duration(config, workers=2).long


# -- 7. found by tests/test_properties.py: theory at the edges, without warnings ------------------


@pytest.mark.parametrize("temperature", [1e-3, 0.5, 2.0, 1e3])
def test_tempered_categorical_theory_with_a_dead_token_is_finite_and_quiet(temperature):
    """``run categorical --probs 0.5,0.3,0.2,0 --temperature 0.001``: the large-N map gave the
    dead token log 1 = 0 in the exponent, which overflowed (inf × 0 = NaN) at low τ and left
    the summary without theory. The map is that of the three live tokens."""
    config = mc.RunConfig(Categorical(probs=(0.5, 0.3, 0.2, 0.0), temperature=temperature),
                          n_samples=100, n_generations=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy = mc.predict(config).for_metric("entropy")[0].values
    live = mc.predict(mc.RunConfig(Categorical(probs=(0.5, 0.3, 0.2), temperature=temperature),
                                   n_samples=100, n_generations=4)).for_metric("entropy")[0]
    np.testing.assert_allclose(entropy, live.values, rtol=1e-12, atol=1e-300)
    assert np.isfinite(entropy).all()


@pytest.mark.parametrize("policy", ["accumulate", "replace", "mix"])
def test_a_token_of_probability_one_is_always_supported_without_warnings(policy):
    """``run categorical --probs 1,0 --policy accumulate``: log1p(−1) warned "divide by zero"
    (the value, −inf, was right: the token can never be lost)."""
    config = mc.RunConfig(Categorical(probs=(1.0, 0.0)), policy=policy, n_samples=130,
                          n_generations=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        support = mc.predict(config).for_metric("support")[0].values
        one = theory.categorical_expected_support_one(np.array([1.0, 0.0]), 10)
    np.testing.assert_array_equal(support, np.ones(6))
    assert one == 1.0
