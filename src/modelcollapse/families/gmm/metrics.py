"""The mixture family's metrics: distances and tail mass of 1-D Gaussian mixtures, by quadrature.

A mixture is three arrays ``w, mu, sd`` of length ``K``. Nothing here is estimated by sampling;
the quadrature error is below 1e-7 relative for the default truth whatever the fitted mixture
(collapsed, dead or far-away components included) and is measured in ``tests/test_mixtures.py``
against a much finer run of the same rules.

Quantiles
    ``F⁻¹(Φ(z))`` lies between ``min_k`` and ``max_k`` of the component quantiles ``μ_k + σ_k z``
    (a mixture CDF is a convex combination of its components'). That bracket safeguards Halley's
    iteration on ``log F`` (lower half) or ``log(1 − F)`` (upper half), so far tails keep full
    relative precision.
Wasserstein-2
    ``W2² = ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du = ∫ (x − T(x))² f(x) dx`` with the monotone transport map
    ``T = G⁻¹ ∘ F`` from the fitted mixture ``F`` to the truth ``G``. Composite Gauss–Legendre in
    ``x`` with panels on every fitted component's own scale (``μ_k + cσ_k``) resolves collapsed
    components; ``T`` is steep only where it crosses a gap between the truth's components, at
    ``F⁻¹(Σ_{j ≤ i} w0_j)``, and the panels are graded geometrically towards those points, with
    more levels the emptier the gap.
Kullback–Leibler
    ``KL(G ‖ F) = ∫ g (log g − log f) dx`` by composite Gauss–Legendre over the truth's
    components ± 8 standard deviations (empty gaps between them skipped), with panels broken
    around every fitted component so that a collapsed (spike-like) component is integrated, not
    stepped over.

Bounded work
    The panels follow the mass, never the span of the data: their number depends on the numbers
    of components only, so components a million standard deviations apart, or of very unequal
    widths, cost what neighbours do; quantile solves stop after 200 safeguarded steps and the
    truth's tables at :data:`MAX_KNOTS` knots. :func:`mixture_metrics` calls the kernel on
    :data:`METRICS_CHUNK` mixtures at a time so that Ctrl-C is seen between calls.

The kernels call one another (the W2 integral needs the truth's quantile function, the tail tables
need Halley's iteration), so they share one file: numba's on-disk cache is invalidated per source
file (see :mod:`modelcollapse.families.gmm.em`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Gauss–Legendre rules used on every panel of the W2 and KL integrals.
GL_NODES, GL_WEIGHTS = np.polynomial.legendre.leggauss(12)
KL_NODES, KL_WEIGHTS = np.polynomial.legendre.leggauss(8)
#: Panel breakpoints, in component standard deviations, of the W2 and KL integrals.
W2_BREAKS = np.arange(-7.0, 7.5, 2.0)  # beyond ±7σ a component holds < 3e-12
KL_BREAKS = np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])
#: The truth's quantile tables cover tail probabilities down to e^-100 ≈ 4e-44.
TAIL_LOG_MIN = -100.0
#: Standard-normal quantile bounding the central 99% interval.
Z_995 = 2.5758293035489004
#: Most knots of one half of the truth's quantile table (the default truth needs about 3000).
MAX_KNOTS = 1 << 16
#: Fitted mixtures per call of the compiled metrics kernel: Ctrl-C and SIGTERM, which Python
#: handles between calls only, are seen within a few milliseconds (one mixture takes about
#: 50 µs, and at most a few milliseconds whatever its scale).
METRICS_CHUNK = 256


@numba.njit(cache=True, nogil=True)
def _ndtr(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


@numba.njit(cache=True, nogil=True)
def _ndtri(p: float) -> float:
    """Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation refined by one Halley step."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    elif p > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    # One Halley step on Φ(x) − p brings Acklam's 1e-9 to full double precision.
    e = _ndtr(x) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@numba.njit(cache=True, nogil=True)
def _z_of_tail(lower: float, upper: float) -> float:
    """The z with Φ(z) = lower (if lower ≤ ½) or Φ(−z) = upper, whichever keeps precision."""
    if lower <= 0.5:
        return _ndtri(lower) if lower > 0.0 else -np.inf
    return -_ndtri(upper) if upper > 0.0 else np.inf


@numba.njit(cache=True, nogil=True)
def _tails(x: float, w, mu, sd) -> tuple[float, float, float]:
    """``(F(x), 1 − F(x), f(x))`` of a mixture, each tail summed without cancellation."""
    lower = 0.0
    upper = 0.0
    dens = 0.0
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        z = (x - mu[k]) / sd[k]
        lower += w[k] * _ndtr(z)
        upper += w[k] * _ndtr(-z)
        dens += w[k] * math.exp(-0.5 * z * z) / (sd[k] * _SQRT_2PI)
    return lower, upper, dens


@numba.njit(cache=True, nogil=True)
def _lower_and_density(x: float, w, mu, sd) -> tuple[float, float]:
    """``(F(x), f(x))`` of a mixture."""
    lower = 0.0
    dens = 0.0
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        z = (x - mu[k]) / sd[k]
        lower += w[k] * _ndtr(z)
        dens += w[k] * math.exp(-0.5 * z * z) / (sd[k] * _SQRT_2PI)
    return lower, dens


@numba.njit(cache=True, nogil=True)
def _upper(x: float, w, mu, sd) -> float:
    """``1 − F(x)`` of a mixture, without cancellation."""
    upper = 0.0
    for k in range(w.size):
        if w[k] > 0.0:
            upper += w[k] * _ndtr((mu[k] - x) / sd[k])
    return upper


@numba.njit(cache=True, nogil=True)
def _tail_terms(x: float, w, mu, sd, upper: bool) -> tuple[float, float, float]:
    """One tail of a mixture at ``x`` with the density and its derivative: ``(tail, f, f′)``."""
    tail = 0.0
    dens = 0.0
    slope = 0.0
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        z = (x - mu[k]) / sd[k]
        tail += w[k] * _ndtr(-z if upper else z)
        phi = w[k] * math.exp(-0.5 * z * z) / (sd[k] * _SQRT_2PI)
        dens += phi
        slope -= phi * z / sd[k]
    return tail, dens, slope


@numba.njit(cache=True, nogil=True)
def quantile_and_density(z: float, w, mu, sd, guess: float,
                         log_tail: float = 1.0) -> tuple[float, float]:
    """``x = F⁻¹(Φ(z))`` of a mixture and the density ``f(x)`` there.

    ``log_tail`` is ``log Φ(z)`` (``z ≤ 0``) or ``log Φ(−z)`` (``z > 0``) when the caller already
    has it exactly; any positive value (the default) means "compute it from ``z``". (Not NaN:
    numba's cache compares default values, and NaN never equals itself, so a NaN default would
    recompile the function in every process.)

    Halley's iteration on ``log F(x) − log Φ(z)`` (``z ≤ 0``) or ``log(1 − F(x)) − log Φ(−z)``
    (``z > 0``), safeguarded by the bracket ``[min_k, max_k] (μ_k + σ_k z)``. Working with the log
    of the nearer tail keeps full relative precision far out in either tail. ``guess`` (ignored when
    outside the bracket) is typically a first-order prediction from a neighbouring node.
    """
    lo = np.inf
    hi = -np.inf
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        q = mu[k] + sd[k] * z
        lo = min(lo, q)
        hi = max(hi, q)
    upper = z > 0.0
    if hi - lo <= 1e-15 * (1.0 + abs(lo)):
        x = 0.5 * (lo + hi)
        _, dens, _ = _tail_terms(x, w, mu, sd, upper)
        return x, dens
    if log_tail > 0.0:
        target = math.log(_ndtr(-z)) if upper else math.log(_ndtr(z))
    else:
        target = log_tail
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    sign = -1.0 if upper else 1.0
    dens = 0.0
    width_before = np.inf
    width_last = np.inf
    for _ in range(200):
        tail, dens, slope = _tail_terms(x, w, mu, sd, upper)
        if tail <= 0.0:  # underflow far out in the tail being matched: move inwards
            if upper:
                hi = x
            else:
                lo = x
            x = 0.5 * (lo + hi)
            continue
        g = math.log(tail) - target
        if g == 0.0:
            return x, dens
        # g increases with x for the lower tail, decreases for the upper one.
        if (g > 0.0) != upper:
            hi = x
        else:
            lo = x
        if hi - lo <= 1e-15 * (1.0 + abs(x)):
            return x, dens
        # Bisect where the density underflows (a gap between collapsed components), or while
        # far from the root the bracket has not halved in two steps (Halley crawls in a
        # log-concave tail).
        crawling = abs(g) > 1e-3 and hi - lo > 0.5 * width_before
        width_before = width_last
        width_last = hi - lo
        if dens <= 0.0 or crawling:
            x = 0.5 * (lo + hi)
            continue
        g1 = sign * dens / tail
        g2 = sign * slope / tail - g1 * g1
        # Halley's denominator vanishes where the density is tiny but not zero: on a plateau
        # of F between collapsed components (the level is a cumulative weight of the fit, and
        # every x in the gap is a quantile to rounding), g1² underflows and g·g2 with it.
        # Halley's step is undefined there; Newton's (g1 ≠ 0 since f, tail > 0) is taken
        # instead, and bisection below when that leaves the bracket.
        halley = 2.0 * g1 * g1 - g * g2
        x_new = x - 2.0 * g * g1 / halley if halley != 0.0 else x - g / g1
        # Cubic convergence: after a step this small the error is far below double precision,
        # once near the root (|g| ≤ 1e-3, where crawling ends too). Far out on a flat stretch
        # of the tail (F ≈ a cumulative weight, f ≈ 0) Halley's step is about 1/|z| whatever
        # g is, which is "small" against |x| when the components sit at 1e9: not converged.
        # Tested before the bracket, since a converged step can round onto a bracket end.
        if abs(x_new - x) <= 1e-9 * (1.0 + abs(x)) and abs(g) <= 1e-3:
            return x_new, dens
        if not (lo < x_new < hi):
            x_new = x - g / g1  # Newton, if Halley left the bracket
            if not (lo < x_new < hi):
                x_new = 0.5 * (lo + hi)
        x = x_new
    return x, dens


@numba.njit(cache=True, nogil=True)
def quantile_at_z(z: float, w, mu, sd, guess: float) -> float:
    """``F⁻¹(Φ(z))`` of a mixture (see :func:`quantile_and_density`)."""
    return quantile_and_density(z, w, mu, sd, guess)[0]


@numba.njit(cache=True, nogil=True)
def _z_at(x: float, w, mu, sd) -> float:
    """``Φ⁻¹(F(x))``, computed from the nearer tail."""
    lower, upper, _ = _tails(x, w, mu, sd)
    return _z_of_tail(lower, upper)


@numba.njit(cache=True, nogil=True)
def _hermite(z, z0, z1, t0, t1, d0, d1):
    """Cubic Hermite interpolation on ``[z0, z1]`` from values ``t`` and slopes ``d``."""
    h = z1 - z0
    s = (z - z0) / h
    s2 = s * s
    s3 = s2 * s
    return ((2 * s3 - 3 * s2 + 1) * t0 + (s3 - 2 * s2 + s) * h * d0
            + (3 * s2 - 2 * s3) * t1 + (s3 - s2) * h * d1)


@numba.njit(cache=True, nogil=True)
def _tail_quantile(y, upper, w, mu, sd, guess):
    """``G⁻¹(e^y)`` (``upper=False``) or ``G⁻¹(1 − e^y)`` (``upper=True``) and ``dT/dy``."""
    z = _ndtri(math.exp(y))
    if upper:
        z = -z
    t, g = quantile_and_density(z, w, mu, sd, guess, y)
    slope = math.exp(y) / g if g > 0.0 else np.inf
    return t, (-slope if upper else slope)


@numba.njit(cache=True, nogil=True)
def _build_tail_table(w, mu, sd, upper, y_min, step, rel_tol):
    """Knots ``y``, values ``T(y)`` and slopes ``T′(y)`` of half the truth's quantile function.

    ``y`` is the log of the tail probability: ``T(y) = G⁻¹(e^y)`` for the lower half,
    ``G⁻¹(1 − e^y)`` for the upper, ``y ≤ log ½``. Indexing by the log tail lets the W2 integral
    look quantiles up from ``log F(x)`` directly (no ``Φ⁻¹``), and keeps full precision deep in the
    tails. The grid starts uniform and every interval whose cubic Hermite interpolant misses the
    exact midpoint value (where the cubic's error peaks) by more than ``rel_tol`` relative, plus
    the exact value's own uncertainty, is bisected; one still failing at width 1e-7 (a nearly
    empty gap of the truth, or one so empty that the density underflows and a slope is
    infinite), or once the table holds :data:`MAX_KNOTS` knots, gets a NaN slope at its left
    knot, read as "solve exactly here": the cap bounds the work, never the accuracy.
    """
    y_max = math.log(0.5)
    count = math.ceil((y_max - y_min) / step) + 1
    grid = np.linspace(y_min, y_max, count)
    capacity = 4 * count
    knots_y = np.empty(capacity)
    knots_t = np.empty(capacity)
    knots_d = np.empty(capacity)
    # Pending right ends, nearest last: the uniform grid, plus midpoints pushed while refining.
    pending = np.empty(count + 64)
    pending[:count] = grid[::-1]
    top = count - 1
    t, d = _tail_quantile(grid[0], upper, w, mu, sd, -np.inf)
    knots_y[0], knots_t[0], knots_d[0] = grid[0], t, d
    size = 1
    while top > 0:
        y1 = pending[top - 1]
        y0 = knots_y[size - 1]
        t1, d1 = _tail_quantile(y1, upper, w, mu, sd, knots_t[size - 1])
        ym = 0.5 * (y0 + y1)
        tm, _ = _tail_quantile(ym, upper, w, mu, sd, knots_t[size - 1])
        estimate = _hermite(ym, y0, y1, knots_t[size - 1], t1, knots_d[size - 1], d1)
        allowed = rel_tol * (1.0 + abs(tm)) + 4e-16 * (1.0 + abs(ym)) * max(
            abs(knots_d[size - 1]), abs(d1))
        # An infinite slope (the truth's density underflows to 0 at a knot: a gap of many
        # standard deviations) makes ``allowed`` infinite; such an interval is never accepted.
        if not (abs(estimate - tm) <= allowed and math.isfinite(allowed)):
            if y1 - y0 > 1e-7 and top < pending.size and size < MAX_KNOTS:
                pending[top] = ym  # refine the left half first
                top += 1
                continue
            knots_d[size - 1] = np.nan  # too steep to tabulate: flag for exact solves
        top -= 1
        if size == capacity:
            capacity *= 2
            knots_y = _grown(knots_y, capacity)
            knots_t = _grown(knots_t, capacity)
            knots_d = _grown(knots_d, capacity)
        knots_y[size], knots_t[size], knots_d[size] = y1, t1, d1
        size += 1
    return knots_y[:size].copy(), knots_t[:size].copy(), knots_d[:size].copy()


@numba.njit(cache=True, nogil=True)
def _grown(values, capacity):
    out = np.empty(capacity)
    out[: values.size] = values
    return out


@numba.njit(cache=True, nogil=True)
def _lookup(y, upper, knots_y, knots_t, knots_d, w, mu, sd):
    """One half of the truth's quantile function at log tail ``y`` (table, or exact off it).

    A NaN slope flags the interval to its right for exact solves; it is also the right-hand
    slope of the interval before, which is then solved exactly too (its cubic would be NaN).
    """
    if y < knots_y[0]:
        return _tail_quantile(y, upper, w, mu, sd, -np.inf)[0]
    j = min(np.searchsorted(knots_y, y), knots_y.size - 1) - 1
    j = max(j, 0)
    if math.isnan(knots_d[j]) or math.isnan(knots_d[j + 1]):
        return _tail_quantile(y, upper, w, mu, sd, 0.5 * (knots_t[j] + knots_t[j + 1]))[0]
    return _hermite(y, knots_y[j], knots_y[j + 1], knots_t[j], knots_t[j + 1], knots_d[j],
                    knots_d[j + 1])


@numba.njit(cache=True, nogil=True)
def _sorted_unique(values):
    """Sorted values with near-duplicates (within 1e-12 relative) removed."""
    values = np.sort(values)
    out = np.empty_like(values)
    m = 0
    for v in values:
        if m == 0 or v > out[m - 1] + 1e-12 * (1.0 + abs(v)):
            out[m] = v
            m += 1
    return out[:m]


@numba.njit(cache=True, nogil=True)
def w2_squared(w, mu, sd, w0, mu0, sd0, nodes, weights, breaks, grading, low_y, low_t, low_d,
               high_y, high_t, high_d):
    """``W2²`` between a fitted mixture ``F = (w, mu, sd)`` and the truth ``G = (w0, mu0, sd0)``.

    ``W2² = ∫ (x − T(x))² f(x) dx`` with the monotone transport map ``T = G⁻¹ ∘ F``, by composite
    Gauss–Legendre in ``x``. Panels break at ``μ_k + cσ_k`` for every component of ``F`` and
    ``c ∈ breaks`` (each component's mass is resolved on its own scale, collapsed or not), and at
    ``x* = F⁻¹(Σ_{j ≤ i} w0_j)`` where ``T`` crosses a gap between components of ``G``. There
    ``T`` has a boundary layer as thin as the gap is empty, so the panels are graded geometrically
    towards ``x*``: breaks at ``x* ± s · grading`` with ``s`` the smallest fitted std.
    ``G⁻¹`` is read from the truth's log-tail tables (:func:`_build_tail_table`), exact to
    1e-12 relative; each node computes only the tail of ``F`` it needs.
    """
    cuts = w2_panel_breaks(w, mu, sd, w0, breaks, grading)
    total = 0.0
    for j in range(cuts.size - 1):
        a = cuts[j]
        half = 0.5 * (cuts[j + 1] - a)
        for i in range(nodes.size):
            x = a + half * (nodes[i] + 1.0)
            lower, dens = _lower_and_density(x, w, mu, sd)
            if dens <= 0.0:
                continue  # no mass here (a gap between collapsed components, or beyond)
            if lower <= 0.5:
                if lower <= 0.0:
                    continue
                y = _lookup(math.log(lower), False, low_y, low_t, low_d, w0, mu0, sd0)
            else:
                upper = _upper(x, w, mu, sd)
                if upper <= 0.0:
                    continue
                y = _lookup(math.log(upper), True, high_y, high_t, high_d, w0, mu0, sd0)
            total += half * weights[i] * (x - y) ** 2 * dens
    return total


@numba.njit(cache=True, nogil=True)
def w2_panel_breaks(w, mu, sd, w0, breaks, grading):
    """The sorted panel breaks of :func:`w2_squared`: ``μ_k + cσ_k`` for the fitted components,
    and each ``x*`` with its graded neighbours. At most ``K × breaks.size + (K0 − 1)(1 + 2 ×
    grading.size)`` of them, whatever the scale or spread of either mixture."""
    n_alive = 0
    s_min = np.inf
    for k in range(w.size):
        if w[k] > 0.0:
            n_alive += 1
            s_min = min(s_min, sd[k])
    cuts = np.empty(n_alive * breaks.size + (w0.size - 1) * (1 + 2 * grading.size))
    n_cuts = 0
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        for c in breaks:
            cuts[n_cuts] = mu[k] + c * sd[k]
            n_cuts += 1
    low = cuts[:n_cuts].min()
    high = cuts[:n_cuts].max()
    cumulative = 0.0
    for j in range(w0.size - 1):
        cumulative += w0[j]
        if not 0.0 < cumulative < 1.0:
            continue
        x_star = quantile_at_z(_ndtri(cumulative), w, mu, sd, -np.inf)
        cuts[n_cuts] = x_star
        n_cuts += 1
        for c in grading:
            for side in (-1.0, 1.0):
                x = x_star + side * c * s_min
                if low < x < high:
                    cuts[n_cuts] = x
                    n_cuts += 1
    return _sorted_unique(cuts[:n_cuts])


@numba.njit(cache=True, nogil=True)
def _log_density(x: float, w, mu, sd) -> float:
    best = -np.inf
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        z = (x - mu[k]) / sd[k]
        best = max(best, math.log(w[k]) - math.log(sd[k]) - _LOG_SQRT_2PI - 0.5 * z * z)
    if best == -np.inf:
        return best
    total = 0.0
    for k in range(w.size):
        if w[k] <= 0.0:
            continue
        z = (x - mu[k]) / sd[k]
        total += math.exp(math.log(w[k]) - math.log(sd[k]) - _LOG_SQRT_2PI - 0.5 * z * z - best)
    return best + math.log(total)


@numba.njit(cache=True, nogil=True)
def _crossings(w, mu, sd, out, start):
    """Points where two components' weighted log densities are equal.

    Between narrow components ``log f`` is close to the maximum of their parabolas, with a kink
    where they cross; a panel break there keeps the quadrature on smooth pieces.
    """
    for k in range(w.size):
        for j in range(k + 1, w.size):
            if w[k] <= 0.0 or w[j] <= 0.0:
                continue
            # log(w_k φ_k) − log(w_j φ_j) = a x² + b x + c
            a = 0.5 / sd[j] ** 2 - 0.5 / sd[k] ** 2
            b = mu[k] / sd[k] ** 2 - mu[j] / sd[j] ** 2
            c = (math.log(w[k] / sd[k]) - math.log(w[j] / sd[j])
                 - 0.5 * (mu[k] / sd[k]) ** 2 + 0.5 * (mu[j] / sd[j]) ** 2)
            if abs(a) <= 1e-12 * (abs(b) + abs(c)):
                if b != 0.0:
                    out[start] = -c / b
                    start += 1
                continue
            disc = b * b - 4.0 * a * c
            if disc < 0.0:
                continue
            root = math.sqrt(disc)
            out[start] = (-b - root) / (2.0 * a)
            out[start + 1] = (-b + root) / (2.0 * a)
            start += 2
    return start


@numba.njit(cache=True, nogil=True)
def kl_divergence(w0, mu0, sd0, w, mu, sd, nodes, weights, breaks):
    """``KL(G ‖ F)`` for the truth ``G = (w0, mu0, sd0)`` and a fitted ``F = (w, mu, sd)``.

    Composite Gauss–Legendre over the windows ``μ0_k ± 8σ0_k`` of ``G``'s components (beyond
    8σ of every component the truth holds less than 1.3e-15 of its mass per component),
    overlapping windows merged into clusters, each integrated on its own: a gap between
    far-apart components costs nothing, so the work does not grow with the scale of the data.
    Within a cluster the panels are at most one standard deviation of the narrowest truth
    component whose window they meet wide (where the cluster's components differ in width,
    the window edges are panel breaks too): at most 16 panels per truth component plus one per
    break, whatever the scale and spread of the data. They are broken
    at the crossings of ``F``'s component log densities (:func:`_crossings`) and, for every
    component of ``F`` narrower than the truth's widest, at ``μ + cσ`` (``c ∈ breaks``) so that
    its spike is integrated on its own scale. (With equal truth widths and overlapping windows
    this is the rule of the earlier single-interval version, number for number.)
    """
    n = _kl_panels(w0, mu0, sd0, w, mu, sd, breaks, np.empty(0), np.empty(0))
    starts = np.empty(n)
    widths = np.empty(n)
    _kl_panels(w0, mu0, sd0, w, mu, sd, breaks, starts, widths)
    total = 0.0
    for p in range(n):
        start = starts[p]
        h = widths[p]
        for i in range(nodes.size):
            x = start + 0.5 * h * (nodes[i] + 1.0)
            log_g = _log_density(x, w0, mu0, sd0)
            if log_g == -np.inf:
                continue
            total += 0.5 * h * weights[i] * math.exp(log_g) * (
                log_g - _log_density(x, w, mu, sd))
    return max(total, 0.0)


@numba.njit(cache=True, nogil=True)
def kl_panels(w0, mu0, sd0, w, mu, sd, breaks):
    """The panels of :func:`kl_divergence`: their left ends and widths, in order."""
    n = _kl_panels(w0, mu0, sd0, w, mu, sd, breaks, np.empty(0), np.empty(0))
    starts = np.empty(n)
    widths = np.empty(n)
    _kl_panels(w0, mu0, sd0, w, mu, sd, breaks, starts, widths)
    return starts, widths


@numba.njit(cache=True, nogil=True)
def _kl_panels(w0, mu0, sd0, w, mu, sd, breaks, out_starts, out_widths):
    """Count the panels of :func:`kl_divergence` and, where the outputs have room, write them."""
    widest = 0.0
    n_windows = 0
    for k in range(w0.size):
        if w0[k] > 0.0:
            widest = max(widest, sd0[k])
            n_windows += 1
    starts = np.empty(n_windows)
    ends = np.empty(n_windows)
    scales = np.empty(n_windows)
    n_windows = 0
    for k in range(w0.size):
        if w0[k] > 0.0:
            starts[n_windows] = mu0[k] - 8.0 * sd0[k]
            ends[n_windows] = mu0[k] + 8.0 * sd0[k]
            scales[n_windows] = sd0[k]
            n_windows += 1
    order = np.argsort(starts)
    starts, ends, scales = starts[order], ends[order], scales[order]
    fitted = np.empty(breaks.size * w.size + w.size * w.size)
    n_fitted = 0
    for k in range(w.size):
        if w[k] > 0.0 and sd[k] < widest:
            for c in breaks:
                fitted[n_fitted] = mu[k] + c * sd[k]
                n_fitted += 1
    n_fitted = _crossings(w, mu, sd, fitted, n_fitted)
    count = 0
    first = 0
    while first < n_windows:  # one cluster of overlapping windows per pass
        last = first
        right = ends[first]
        while last + 1 < n_windows and starts[last + 1] <= right:
            last += 1
            right = max(right, ends[last])
        left = starts[first]
        h_cluster = scales[first:last + 1].min()
        uniform = scales[first:last + 1].max() == h_cluster
        members = last + 1 - first
        cuts = np.empty(n_fitted + 2 + (0 if uniform else 2 * members))
        cuts[:n_fitted] = fitted[:n_fitted]
        m = n_fitted
        cuts[m] = left
        cuts[m + 1] = right
        m += 2
        if not uniform:
            for k in range(first, last + 1):
                cuts[m] = starts[k]
                cuts[m + 1] = ends[k]
                m += 2
        cuts = _sorted_unique(cuts[:m])
        for j in range(cuts.size - 1):
            a = max(cuts[j], left)
            b = min(cuts[j + 1], right)
            if b <= a:
                continue
            h = h_cluster
            if not uniform:  # the narrowest component whose window meets the panel
                h = np.inf
                for k in range(first, last + 1):
                    if starts[k] < b and ends[k] > a:
                        h = min(h, scales[k])
            n_sub = math.ceil((b - a) / h)
            h = (b - a) / n_sub
            for s in range(n_sub):
                if count < out_starts.size:
                    out_starts[count] = a + s * h
                    out_widths[count] = h
                count += 1
        first = last + 1
    return count


@numba.njit(cache=True, nogil=True)
def _mixture_metrics(w, mu, sd, w0, mu0, sd0, w2_nodes, w2_weights, kl_nodes, kl_weights,
                     w2_breaks, kl_breaks, grading, low_y, low_t, low_d, high_y, high_t, high_d,
                     lo, hi, out_w2, out_kl, out_tail):
    for r in range(w.shape[0]):
        w2 = w2_squared(w[r], mu[r], sd[r], w0, mu0, sd0, w2_nodes, w2_weights, w2_breaks,
                        grading, low_y, low_t, low_d, high_y, high_t, high_d)
        out_w2[r] = math.sqrt(max(w2, 0.0))
        out_kl[r] = kl_divergence(w0, mu0, sd0, w[r], mu[r], sd[r], kl_nodes, kl_weights,
                                  kl_breaks)
        below, _, _ = _tails(lo, w[r], mu[r], sd[r])
        _, above, _ = _tails(hi, w[r], mu[r], sd[r])
        out_tail[r] = below + above


@dataclass(frozen=True)
class TruthGeometry:
    """Quantities of the true mixture that every metric evaluation reuses.

    Attributes
    ----------
    interval
        The central 99% interval ``[G⁻¹(0.005), G⁻¹(0.995)]`` that defines ``tail_mass``.
    grading
        Relative distances (in fitted standard deviations) of the W2 panel breaks graded towards
        each point where the transport map crosses a gap of the truth; more levels the emptier
        the gap (none for a single component).
    tables
        Knots, values and slopes of the two halves of the truth's quantile function indexed by
        the log tail probability (:func:`_build_tail_table`), lower half then upper half.
    """

    interval: tuple[float, float]
    grading: np.ndarray
    tables: tuple[np.ndarray, ...]


@lru_cache(maxsize=32)
def truth_geometry(w0: tuple[float, ...], mu0: tuple[float, ...],
                   sd0: tuple[float, ...]) -> TruthGeometry:
    """The :class:`TruthGeometry` of the mixture ``(w0, mu0, sd0)`` (cached)."""
    w, mu, sd = (np.asarray(a, dtype=float) for a in (w0, mu0, sd0))
    interval = (quantile_at_z(-Z_995, w, mu, sd, -np.inf), quantile_at_z(Z_995, w, mu, sd, -np.inf))
    # Depth of the emptiest gap: the density at each inner cumulative weight, relative to the
    # peak density of the narrowest component (1 for a single normal).
    depth = 1.0
    cumulative = np.cumsum(w)[:-1]
    for level in cumulative[(cumulative > 0) & (cumulative < 1)]:
        _, dens = quantile_and_density(_ndtri(level), w, mu, sd, -np.inf)
        depth = min(depth, dens * sd[w > 0].min() * _SQRT_2PI)
    # A gap at least a tenth of a peak deep needs no grading (measured: 7.8e-8 without, 7.4e-8
    # with, on the default truth); every factor 4 emptier adds a level.
    levels = min(max(math.ceil(math.log(0.1 / max(depth, 1e-300)) / math.log(4.0)), 0), 12)
    tables = (*_build_tail_table(w, mu, sd, False, TAIL_LOG_MIN, 0.25, 1e-12),
              *_build_tail_table(w, mu, sd, True, TAIL_LOG_MIN, 0.25, 1e-12))
    return TruthGeometry(interval, 4.0 ** -np.arange(1, levels + 1), tables)


def mixture_metrics(w: np.ndarray, mu: np.ndarray, sd: np.ndarray,
                    truth: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """``mean, var, w2, kl, tail_mass`` of fitted mixtures against the truth.

    Parameters
    ----------
    w, mu, sd
        Weights, means and standard deviations of the fitted mixtures, shape ``[..., K]``.
    truth
        ``(w0, mu0, sd0)`` of the true mixture.

    Returns
    -------
    dict
        Arrays of shape ``w.shape[:-1]``: the mixture's ``mean`` and total ``var``
        (``Σ w (σ² + (μ − mean)²)``), ``w2`` (Wasserstein-2 distance to the truth), ``kl``
        (``KL(truth ‖ fitted)``) and ``tail_mass`` (the fitted probability outside the truth's
        central 99% interval).

    Notes
    -----
    The quadrature's tolerances are absolute where a scale is needed (``1e-15 (1 + |x|)``), so
    every length is first divided by the power of two nearest the truth's narrowest standard
    deviation (exact in floating point, and 1 for unit-scale truths) and ``w2`` multiplied back:
    a truth of standard deviations 1e-40 is integrated as accurately as one of 1.
    """
    w0, mu0, sd0 = (np.ascontiguousarray(a, dtype=float) for a in truth)
    unit = 2.0 ** round(math.log2(sd0[w0 > 0].min()))
    lead = w.shape[:-1]
    k = w.shape[-1]
    flat = [np.ascontiguousarray(a, dtype=float).reshape(-1, k) for a in (w, mu, sd)]
    if unit != 1.0:
        mu0, sd0 = mu0 / unit, sd0 / unit
        flat[1], flat[2] = flat[1] / unit, flat[2] / unit
    geometry = truth_geometry(tuple(w0), tuple(mu0), tuple(sd0))
    n = flat[0].shape[0]
    out_w2, out_kl, out_tail = np.empty(n), np.empty(n), np.empty(n)
    # In chunks, so that Ctrl-C and SIGTERM (handled by Python between calls) stop a large
    # block promptly instead of after all of its mixtures.
    for start in range(0, n, METRICS_CHUNK):
        rows = slice(start, min(start + METRICS_CHUNK, n))
        _mixture_metrics(*(a[rows] for a in flat), w0, mu0, sd0,  # type: ignore[call-arg]
                         GL_NODES, GL_WEIGHTS, KL_NODES, KL_WEIGHTS, W2_BREAKS, KL_BREAKS,
                         geometry.grading, *geometry.tables, *geometry.interval,
                         out_w2[rows], out_kl[rows], out_tail[rows])
    mean = (w * mu).sum(axis=-1)
    # Centred form: no cancellation when var ≪ mean² (a collapsed mixture far from 0).
    var = (w * (sd**2 + (mu - mean[..., None]) ** 2)).sum(axis=-1)
    return {
        "mean": mean,
        "var": var,
        "w2": out_w2.reshape(lead) * unit,
        "kl": out_kl.reshape(lead),
        "tail_mass": out_tail.reshape(lead),
    }
