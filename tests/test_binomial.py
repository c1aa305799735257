"""The theory's own binomial and hypergeometric masses, against exact arithmetic and scipy.stats.

Error budget. A mass computed as ``exp`` of a sum of terms loses about ``|log P| · ε`` relatively
(``P = 1e-190`` → ~1e-13), and rounding ``μ = np`` to a float moves the deviance
``D(x, μ) = x log(x/μ) + μ − x`` by ``ε |x − μ|``: so the bound against 50-digit exact values is
``4ε (1 + |log P| + 2|x − np|)``, a few ulps per term. A wrong term anywhere (a table entry, a
series coefficient: relative changes of 1e-3 and more) fails it by orders of magnitude. Against
scipy.stats (which these functions replace, so that the coin's theory needs no scipy.stats at
start-up) the bound is ``1e-13 (1 + |log P|)`` plus the same ``|x − np|`` term: scipy itself errs
by up to 5e-14 at the edges (``binom.pmf(0, 2, 1e-300)`` is 0.99999999999997, not 1;
``binom.pmf(0, 15, 1/3)`` misses ``(2/3)^15`` by 3e-14), which the exact comparison shows these
functions do not.
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from math import comb

import numpy as np
import pytest
from scipy import stats

from modelcollapse.theory.binomial import (
    binomial_pmf,
    deviance,
    hypergeometric_pmf,
    stirling_error,
)

SIZES = [0, 1, 2, 3, 5, 10, 15, 16, 20, 35, 36, 50, 80, 81, 100, 500, 501, 1000, 2000]
PROBABILITIES = [0.0, 1e-300, 1e-12, 1e-5, 0.001, 0.05, 0.0999, 0.1, 0.3, 1 / 3, 0.5, 0.7, 0.9,
                 0.9001, 0.99, 1 - 1e-9, 1.0]


EPS = np.finfo(float).eps


def assert_close(ours: np.ndarray, reference: np.ndarray, what: str, *, spread: np.ndarray,
                 scale: float = 4 * EPS) -> None:
    """Relative error within ``scale (1 + |log P|) + 8ε · spread``; masses below 1e-290 within
    1e-280 absolutely. ``spread`` is ``|x − np|`` (see the module's error budget)."""
    big = reference > 1e-290
    tolerance = (scale * (1 + np.abs(np.log(np.where(big, reference, 1.0))))
                 + 8 * EPS * np.asarray(spread, dtype=float))
    error = np.abs(ours - reference) / np.where(big, reference, 1.0)
    worst = int(np.argmax(np.where(big, error / tolerance, 0.0)))
    assert np.all(error[big] <= tolerance[big]), (
        f"{what}: relative error {error[worst]:.3g} at index {worst} "
        f"(mass {reference[worst]:.3g}, tolerance {tolerance[worst]:.3g})")
    assert np.all(np.abs(ours[~big] - reference[~big]) <= 1e-280), what


@pytest.mark.parametrize("n", SIZES)
def test_binomial_matches_scipy_for_every_count_and_probability(n):
    x = np.arange(-1, n + 2)  # one count outside on each side
    for p in PROBABILITIES:
        ours = binomial_pmf(x, n, p)
        assert_close(ours, stats.binom.pmf(x, n, p), f"Binomial({n}, {p!r})",
                     spread=np.abs(x - n * p), scale=1e-13)
        assert ours[0] == 0.0 and ours[-1] == 0.0
        assert abs(ours.sum() - 1.0) <= 1e-12 * max(n, 1)


def exact_binomial(x: np.ndarray, n: int, p: float) -> np.ndarray:
    """50-digit exact masses of the binary value of ``p``."""
    getcontext().prec = 50
    return np.array([float(Decimal(comb(n, int(i))) * Decimal(p) ** int(i)
                           * (1 - Decimal(p)) ** (n - int(i))) for i in x])


@pytest.mark.parametrize("n", [1, 2, 5, 15, 16, 36, 100, 501, 2000])
@pytest.mark.parametrize("p", [1e-300, 1e-5, 0.0999, 0.3, 1 / 3, 0.5, 0.9001, 1 - 1e-9])
def test_binomial_agrees_with_exact_arithmetic(n, p):
    """In the bulk and in the tails, and at the edges where scipy errs by 3e-14."""
    x = np.unique(np.r_[0, 1, n - 1, n, np.linspace(0, n, 25).round()]).astype(int)
    x = x[(x >= 0) & (x <= n)]
    assert_close(binomial_pmf(x, n, p), exact_binomial(x, n, p),
                 f"Binomial({n}, {p!r}) against exact arithmetic", spread=np.abs(x - n * p))


def test_hypergeometric_agrees_with_exact_arithmetic():
    getcontext().prec = 50
    total, good, drawn = 1000, 333, 400
    y = np.arange(drawn + 1)
    exact = np.array([float(Decimal(comb(good, int(i)) * comb(total - good, drawn - int(i)))
                            / Decimal(comb(total, drawn))) for i in y])
    # Three binomial masses: three times each one's budget.
    assert_close(hypergeometric_pmf(y, total, good, drawn), exact,
                 "Hypergeometric(1000, 333, 400) against exact arithmetic",
                 spread=3 * np.abs(y - drawn * good / total) + drawn, scale=12 * EPS)


def test_binomial_broadcasts_rows_of_probabilities():
    states = np.arange(11)
    matrix = binomial_pmf(states[None, :], 10, states[:, None] / 10)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-14)
    assert matrix[0, 0] == 1.0 and matrix[10, 10] == 1.0 and matrix[0, 1:].sum() == 0.0


@pytest.mark.parametrize("total", [1, 2, 5, 10, 20, 50, 200, 1000])
def test_hypergeometric_matches_scipy(total):
    for good in sorted({0, 1, total // 3, total // 2, total - 1, total}):
        for drawn in sorted({0, 1, total // 3, total // 2, total}):
            y = np.arange(-1, drawn + 2)
            ours = hypergeometric_pmf(y, total, good, drawn)
            assert_close(ours, stats.hypergeom.pmf(y, total, good, drawn),
                         f"Hypergeometric({total}, {good}, {drawn})",
                         spread=3 * np.abs(y - drawn * good / total) + drawn, scale=1e-13)
            assert abs(ours.sum() - 1.0) <= 1e-12 * total


def test_the_pieces_against_their_definitions():
    m = np.arange(1, 60, dtype=float)
    getcontext().prec = 50
    two_pi = Decimal(2) * Decimal("3.14159265358979323846264338327950288419716939937510")
    exact = np.array([float(Decimal(math.factorial(int(k))).ln()
                            - (Decimal(int(k)) + Decimal("0.5")) * Decimal(int(k)).ln()
                            + Decimal(int(k)) - two_pi.ln() / 2) for k in m])
    np.testing.assert_allclose(stirling_error(m), exact, rtol=1e-13)
    x = np.array([0.0, 5.0, 10.0, 10.5, 1e6])
    mu = np.array([3.0, 5.0, 10.2, 10.0, 1e6 + 1])
    naive = np.where(x > 0, x * np.log(np.where(x > 0, x, 1) / mu), 0.0) + mu - x
    np.testing.assert_allclose(deviance(x, mu)[:2], naive[:2], rtol=1e-14)
    assert deviance(5.0, 5.0) == 0.0 and np.all(deviance(x, mu) >= 0.0)
    # Near x = μ the series keeps digits the naive formula loses: D ≈ (x − μ)²/(2μ).
    assert deviance(1e6, 1e6 + 1) == pytest.approx(1 / (2e6 + 1), rel=1e-9)
