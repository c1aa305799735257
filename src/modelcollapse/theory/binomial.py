"""Exact binomial and hypergeometric probabilities in numpy, to a few units in the last place.

The discrete chains of :mod:`modelcollapse.theory` (the coin's Wright–Fisher chain and its
``mix`` generalisation, the categorical family's per-token chains) need only these two mass
functions. They are computed here rather than by ``scipy.stats``, which costs about a second to
import on a small machine: enough to double the time of ``modelcollapse run coin``, whose summary
prints the exact chain's results.

Method (Loader 2000): with ``q = 1 − p``,

.. math::

    P(X = x) = \\frac{\\exp\\bigl(\\delta(n) − \\delta(x) − \\delta(n − x)
               − D(x, np) − D(n − x, nq)\\bigr)}{\\sqrt{2\\pi x (1 − x/n)}},

where ``δ(m) = log m! − log(√(2πm) (m/e)^m)`` is the error of Stirling's formula and
``D(x, μ) = x log(x/μ) + μ − x ≥ 0`` the deviance. Every term is computed without cancellation:
``δ`` by its asymptotic series for ``m > 15`` and from a table for ``m ≤ 15`` (computed once, to
40 digits, with :mod:`decimal`), ``D`` by a series in ``v = (x − μ)/(x + μ)`` when ``x`` is close
to ``μ``. So even far tails (``1e-300``) keep full relative precision. The hypergeometric mass is a
ratio of three such terms (Loader's identity):
``P(Y = y) = b(y; r, p) · b(n − y; s, p) / b(n; r + s, p)`` for ``r`` good and ``s`` bad items,
``n`` drawn and ``p = n/(r + s)``.

References
----------
.. [1] C. Loader, "Fast and accurate computation of binomial probabilities" (2000).
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np

_LN_2PI = math.log(2.0 * math.pi)


def _stirling_table(top: int = 15) -> np.ndarray:
    """``δ(m)`` for ``m = 0..top``, from exact factorials in 40-digit decimal arithmetic."""
    context = getcontext().copy()
    context.prec = 40
    ln_2pi = (Decimal(2) * Decimal("3.14159265358979323846264338327950288419716939937510")).ln(
        context)
    out = [0.0]  # δ(0) = 0 by convention (0! = 1, and the formula's limit term is dropped)
    for m in range(1, top + 1):
        d = Decimal(m)
        value = (Decimal(math.factorial(m)).ln(context) - (d + Decimal("0.5")) * d.ln(context)
                 + d - ln_2pi / 2)
        out.append(float(value))
    return np.array(out)


_STIRLING = _stirling_table()
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188


def stirling_error(m: np.ndarray) -> np.ndarray:
    """``δ(m) = log m! − log(√(2πm) (m/e)^m)`` for integers ``m ≥ 0`` (0 at ``m = 0``)."""
    m = np.asarray(m, dtype=float)
    small = m <= 15
    out = np.empty(m.shape)
    out[small] = _STIRLING[m[small].astype(np.int64)]
    big = m[~small]
    inv2 = 1.0 / (big * big)
    # Fewer terms where they no longer change the sum (the series is asymptotic).
    series = np.where(big > 500, _S0 - _S1 * inv2,
                      np.where(big > 80, _S0 - (_S1 - _S2 * inv2) * inv2,
                               np.where(big > 35, _S0 - (_S1 - (_S2 - _S3 * inv2) * inv2) * inv2,
                                        _S0 - (_S1 - (_S2 - (_S3 - _S4 * inv2) * inv2) * inv2)
                                        * inv2)))
    out[~small] = series / big
    return out


def deviance(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``D(x, μ) = x log(x/μ) + μ − x`` (``μ > 0``, ``x ≥ 0``), without cancellation near ``x = μ``.

    Where ``|x − μ| < 0.1 (x + μ)``: ``D = (x − μ) v + 2x Σ_{j≥1} v^{2j+1}/(2j + 1)`` with
    ``v = (x − μ)/(x + μ)``, ``|v| < 1/11``, summed until the terms vanish in double precision.
    """
    x, mean = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(mean, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.where(x > 0, x * np.log(x / mean), 0.0) + mean - x
    near = np.abs(x - mean) < 0.1 * (x + mean)
    if not near.any():
        return np.asarray(direct, dtype=float)
    xs, ms = x[near], mean[near]
    v = (xs - ms) / (xs + ms)
    total = (xs - ms) * v
    term = 2.0 * xs * v
    v2 = v * v
    for j in range(1, 40):
        term = term * v2
        step = term / (2 * j + 1)
        total = total + step
        if np.all(np.abs(step) <= 1e-17 * np.abs(total)):
            break
    out = np.array(direct, dtype=float)  # an array even for scalar arguments
    out[near] = total
    return out


def binomial_pmf(x: np.ndarray | int, n: np.ndarray | int,
                 p: np.ndarray | float) -> np.ndarray:
    """``P(X = x)`` for ``X ~ Binomial(n, p)``, broadcast over the arguments.

    Parameters
    ----------
    x
        Counts (integers; outside ``0..n`` the mass is 0).
    n
        Trials, integers ``≥ 0``.
    p
        Success probabilities in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        The masses, as accurate as ``scipy.stats.binom.pmf`` (a few units in the last place;
        ``tests/test_binomial.py`` compares the two).
    """
    x, n, p = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float),
                                  np.asarray(p, dtype=float))
    q = 1.0 - p
    inside = (x >= 0) & (x <= n)
    out = np.zeros(x.shape)
    # Degenerate probabilities: all mass on 0 or on n.
    at_zero, at_one = p == 0.0, q == 0.0
    out[inside & at_zero] = (x[inside & at_zero] == 0).astype(float)
    out[inside & at_one] = (x[inside & at_one] == n[inside & at_one]).astype(float)
    todo = inside & ~at_zero & ~at_one
    if not todo.any():
        return out
    xs, ns, ps, qs = x[todo], n[todo], p[todo], q[todo]
    values = np.empty(xs.shape)
    first, last = xs == 0, xs == ns
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # x = 0: q^n, by the deviance when p is small (so that 1 − p loses nothing).
        log_zero = np.where(ps < 0.1, -deviance(ns, ns * qs) - ns * ps, ns * np.log(qs))
        log_all = np.where(qs < 0.1, -deviance(ns, ns * ps) - ns * qs, ns * np.log(ps))
        middle = ~first & ~last
        xm, nm, pm, qm = xs[middle], ns[middle], ps[middle], qs[middle]
        lc = (stirling_error(nm) - stirling_error(xm) - stirling_error(nm - xm)
              - deviance(xm, nm * pm) - deviance(nm - xm, nm * qm))
        # log(2π x (n − x) / n) from exact integers: log1p(−x/n) would lose digits as x → n.
        lf = _LN_2PI + np.log(xm) + np.log(nm - xm) - np.log(nm)
        values[middle] = np.exp(lc - 0.5 * lf)
        values[first] = np.exp(log_zero[first])
        values[last & ~first] = np.exp(log_all[last & ~first])
    out[todo] = values
    return out


def hypergeometric_pmf(y: np.ndarray | int, total: int, good: np.ndarray | int,
                       drawn: int) -> np.ndarray:
    """``P(Y = y)`` for ``y`` good items among ``drawn`` drawn without replacement.

    The arguments mean what ``scipy.stats.hypergeom.pmf(y, total, good, drawn)``'s do: ``total``
    items of which ``good`` are good. Broadcast over ``y`` and ``good``.
    """
    y, good = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(good, dtype=float))
    bad = total - good
    inside = (y >= np.maximum(0, drawn - bad)) & (y <= np.minimum(drawn, good))
    out = np.zeros(y.shape)
    if drawn == 0:
        out[inside] = 1.0
        return out
    if not inside.any():
        return out
    p = drawn / total
    ys, gs, bs = y[inside], good[inside], bad[inside]
    out[inside] = (binomial_pmf(ys, gs, p) * binomial_pmf(drawn - ys, bs, p)
                   / binomial_pmf(drawn, total, p))
    return out
