"""Quadrature for mixture metrics: closed forms, self-convergence, degenerate mixtures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from modelcollapse.families.gaussian import normal_metrics
from modelcollapse.families.gmm import metrics as M

TRUTH = (np.array([0.5, 0.5]), np.array([-2.0, 2.0]), np.array([1.0, 1.0]))
FITTED = {
    "drifted": ([0.45, 0.55], [-1.9, 2.2], [0.9, 1.1]),
    "uneven": ([0.6, 0.4], [-2.3, 1.7], [0.7, 1.3]),
    "narrow": ([0.5, 0.5], [-2.0, 2.0], [0.05, 0.05]),
    "collapsed": ([0.3, 0.7], [-1.5, 2.5], [1e-3, 1e-3]),
    "dead component": ([0.0, 1.0], [-2.0, 2.0], [1.0, 0.8]),
    "far away": ([0.5, 0.5], [-20.0, 2.0], [1.0, 1.0]),
    "overlapping": ([0.5, 0.5], [-0.1, 0.1], [1.0, 2.0]),
    "spike in the gap": ([0.01, 0.99], [0.0, 2.0], [1e-3, 1.0]),
    "one point": ([0.5, 0.5], [0.3, 0.3], [1e-3, 1e-3]),
}

#: A "table" that sends every quantile to the exact solver (its only knot is +inf).
NO_TABLE = (np.array([np.inf]), np.array([0.0]), np.array([0.0])) * 2


def fine_w2(fitted, truth):
    """The same integral on a far finer grid (breaks every σ/8, 32 nodes, deep grading), with
    every quantile of the truth solved exactly instead of read from its table."""
    x, w = np.polynomial.legendre.leggauss(32)
    return np.sqrt(M.w2_squared(*fitted, *truth, x, w, np.arange(-10, 10.01, 0.125),
                                2.0 ** -np.arange(0, 30), *NO_TABLE))


def fine_kl(fitted, truth):
    x, w = np.polynomial.legendre.leggauss(24)
    return M.kl_divergence(*truth, *fitted, x, w, np.arange(-12, 12.01, 0.25))


def metrics_of(fitted, truth=TRUTH):
    w, mu, sd = (np.asarray(a, dtype=float)[None] for a in fitted)
    return {k: v[0] for k, v in M.mixture_metrics(w, mu, sd, truth).items()}


TRUTHS = {
    "default": TRUTH,
    "deep gap": (np.array([0.5, 0.5]), np.array([-4.0, 4.0]), np.array([1.0, 1.0])),
    "three unequal": (np.array([0.2, 0.5, 0.3]), np.array([-3.0, 0.0, 5.0]),
                      np.array([0.5, 1.0, 2.0])),
}
#: Worst relative error allowed per truth (measured: 7e-8, 4e-5, 1e-6; the deep gap is the
#: hardest case, a transport map that jumps across a nearly empty region).
W2_TOLERANCE = {"default": 2e-7, "deep gap": 1e-4, "three unequal": 3e-6}


@pytest.mark.parametrize("truth_name", list(TRUTHS))
@pytest.mark.parametrize("name", list(FITTED))
def test_w2_and_kl_agree_with_a_much_finer_quadrature(name, truth_name):
    truth = TRUTHS[truth_name]
    fitted = tuple(np.asarray(a, dtype=float) for a in FITTED[name])
    if len(fitted[0]) != 2:
        pytest.skip("two-component fits only")
    m = metrics_of(fitted, truth)
    assert m["w2"] == pytest.approx(fine_w2(fitted, truth), rel=W2_TOLERANCE[truth_name])
    assert m["kl"] == pytest.approx(fine_kl(fitted, truth), rel=1e-6)


@pytest.mark.parametrize("mean, sd", [(0.0, 1.0), (0.3, 0.5), (-2.0, 3.0), (1.0, 1e-3)])
def test_one_component_matches_the_normal_closed_forms(mean, sd):
    truth = (np.array([1.0]), np.array([0.0]), np.array([1.0]))
    m = metrics_of(([1.0], [mean], [sd]), truth)
    exact = normal_metrics(np.array(mean), np.array(sd**2), 0.0, 1.0)
    for key in ("mean", "var", "w2", "kl", "tail_mass"):
        # absolute 1e-11: the truth's quantile table is exact to 1e-12 relative
        assert m[key] == pytest.approx(float(exact[key]), rel=1e-9, abs=1e-11), key


def test_truth_against_itself():
    m = metrics_of(TRUTH)
    assert m["w2"] == pytest.approx(0.0, abs=1e-7)
    assert m["kl"] == pytest.approx(0.0, abs=1e-12)
    assert m["tail_mass"] == pytest.approx(0.01, rel=1e-10)
    assert m["var"] == pytest.approx(5.0) and m["mean"] == pytest.approx(0.0)


def test_w2_of_a_shift_is_the_shift():
    shifted = (TRUTH[0], TRUTH[1] + 0.7, TRUTH[2])
    assert metrics_of(shifted)["w2"] == pytest.approx(0.7, rel=1e-9)


@pytest.mark.parametrize("z", [-8.2, -3.0, -0.4, 0.0, 0.5, 2.9, 8.2])
def test_quantiles_match_brentq(z):
    fitted = tuple(np.asarray(a, dtype=float) for a in FITTED["uneven"])
    w, mu, sd = fitted
    u_lower, u_upper = special.ndtr(z), special.ndtr(-z)
    def tail(x):
        if z <= 0:
            return np.log((w * special.ndtr((x - mu) / sd)).sum()) - np.log(u_lower)
        return np.log(u_upper) - np.log((w * special.ndtr(-(x - mu) / sd)).sum())
    from scipy.optimize import brentq
    expected = brentq(tail, (mu + sd * z).min() - 1e-9, (mu + sd * z).max() + 1e-9, xtol=1e-14)
    assert M.quantile_at_z(z, w, mu, sd, -np.inf) == pytest.approx(expected, abs=1e-12)


def test_central_interval_is_the_truths_99_percent():
    lo, hi = M.truth_geometry(*map(tuple, TRUTH)).interval
    cdf = lambda x: (TRUTH[0] * stats.norm.cdf(x, TRUTH[1], TRUTH[2])).sum()  # noqa: E731
    assert cdf(lo) == pytest.approx(0.005, rel=1e-10) and cdf(hi) == pytest.approx(0.995)


def test_emptier_gaps_get_more_grading():
    def levels(gap):
        return len(M.truth_geometry((0.5, 0.5), (-gap, gap), (1.0, 1.0)).grading)

    assert len(M.truth_geometry((1.0,), (0.0,), (1.0,)).grading) == 0
    assert levels(2.0) == 0 < levels(3.0) < levels(4.0) < levels(6.0)
