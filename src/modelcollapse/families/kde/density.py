"""Densities and distribution functions of a block of fitted KDEs (numba kernels).

A fitted KDE of row ``r`` is ``f_r(x) = Σ_i w_ri Π_j K((x_j − x_rij)/h_rj) / h_rj`` over its
first ``count_r`` points, with the Gaussian kernel ``K = φ`` or the tophat (box) kernel
``K(u) = ½·1{|u| ≤ 1}`` per coordinate. These kernels evaluate it at query points, exactly (no
truncation of the Gaussian's tails, no binning): ``O(count · queries · d)`` per row.

The two kernels call nothing in another file, and each other not at all, so they share this one
(numba's on-disk cache is per source file; see CONTRIBUTING "numba kernels"). Every loop is
bounded by the array sizes; a bandwidth of 0 (a collapsed KDE, a point mass) is handled
explicitly rather than divided by.
"""

from __future__ import annotations

import math

import numba

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_HALF = math.log(0.5)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
#: Beyond this many bandwidths a Gaussian term of :func:`density_cdf` counts as 0 or 1 (its
#: tail, ``Φ(−8.5) ≈ 1e-17``, and its density, ``φ(8.5) ≈ 5e-17``, are dropped).
FAR = 8.5


@numba.njit(cache=True, nogil=True, error_model="numpy")
def log_density(points, weights, count, h, gaussian, queries, out):
    """``out[r, m] = log f_r(queries[q, m])`` with ``q = r`` (or ``0`` when one set is shared).

    Parameters
    ----------
    points
        ``[R, C, d]``; only the first ``count[r]`` of row ``r`` are read.
    weights
        ``[R, C]``, each row summing to 1 over its live points.
    count
        ``[R]`` live points per row.
    h
        ``[R, d]`` bandwidths.
    gaussian
        ``[R]`` booleans: the row's kernel is Gaussian (else tophat).
    queries
        ``[R, M, d]`` or ``[1, M, d]``.
    out
        ``[R, M]``, written.

    Notes
    -----
    The Gaussian sum is taken plainly and, only where that underflows, again as a one-pass
    log-sum-exp (the running maximum rescales the running sum), so a query many bandwidths from
    every point gets its exact, finite log density instead of ``log 0``. A row with a zero
    bandwidth is a point mass: its density is 0 almost everywhere
    (``−inf``). A tophat row is 0 outside its support (``−inf``).
    """
    rows, _, d = points.shape
    shared = queries.shape[0] == 1
    n_queries = queries.shape[1]
    for r in range(rows):
        q_row = 0 if shared else r
        degenerate = False
        log_norm = 0.0
        for j in range(d):
            if not h[r, j] > 0.0:
                degenerate = True
            else:
                log_norm += math.log(h[r, j])
        n = count[r]
        for m in range(n_queries):
            if degenerate or n <= 0:
                out[r, m] = -math.inf
                continue
            if gaussian[r]:
                # A plain sum first (one exp per term); only where it underflows (a query
                # about 38 bandwidths from every point) the log-sum-exp pass.
                total = 0.0
                for i in range(n):
                    e = 0.0
                    for j in range(d):
                        u = (queries[q_row, m, j] - points[r, i, j]) / h[r, j]
                        e += u * u
                    total += weights[r, i] * math.exp(-0.5 * e)
                if total > 1e-280:
                    out[r, m] = math.log(total) - log_norm - d * _LOG_SQRT_2PI
                    continue
                top = -math.inf
                total = 0.0
                for i in range(n):
                    wi = weights[r, i]
                    if wi <= 0.0:
                        continue
                    e = 0.0
                    for j in range(d):
                        u = (queries[q_row, m, j] - points[r, i, j]) / h[r, j]
                        e += u * u
                    term = math.log(wi) - 0.5 * e
                    if term > top:
                        total = total * math.exp(top - term) + 1.0
                        top = term
                    else:
                        total += math.exp(term - top)
                out[r, m] = top + math.log(total) - log_norm - d * _LOG_SQRT_2PI
            else:
                mass = 0.0
                for i in range(n):
                    inside = True
                    for j in range(d):
                        u = (queries[q_row, m, j] - points[r, i, j]) / h[r, j]
                        if u > 1.0 or u < -1.0:
                            inside = False
                            break
                    if inside:
                        mass += weights[r, i]
                if mass > 0.0:
                    out[r, m] = math.log(mass) - log_norm + d * _LOG_HALF
                else:
                    out[r, m] = -math.inf


@numba.njit(cache=True, nogil=True, error_model="numpy")
def density_cdf(points, weights, count, h, gaussian, queries, dens, cdf, sf):
    """1-D: density, distribution function and survival function at per-row queries.

    ``queries[R, M]``; writes ``dens``, ``cdf = F(x)`` and ``sf = 1 − F(x)``, each ``[R, M]``.
    Each term's smaller tail is computed directly by ``erfc`` and the larger one as its
    complement, so neither ``F`` nor ``1 − F`` loses its relative precision where it is tiny.
    A zero bandwidth is a point mass: its distribution function is a step and its density 0.
    Gaussian terms more than ``FAR`` bandwidths away count as 0 or 1 without ``exp``/``erfc``.
    """
    rows = points.shape[0]
    n_queries = queries.shape[1]
    for r in range(rows):
        n = count[r]
        hr = h[r, 0]
        for m in range(n_queries):
            x = queries[r, m]
            f = 0.0
            lower = 0.0
            upper = 0.0
            for i in range(n):
                wi = weights[r, i]
                if wi <= 0.0:
                    continue
                if not hr > 0.0:
                    if x >= points[r, i, 0]:
                        lower += wi
                    else:
                        upper += wi
                    continue
                u = (x - points[r, i, 0]) / hr
                if gaussian[r] and abs(u) > FAR:  # the term's tail is below 1e-17: 0 or 1
                    if u > 0.0:
                        lower += wi
                    else:
                        upper += wi
                    continue
                if gaussian[r]:
                    f += wi * math.exp(-0.5 * u * u)
                    # One erfc per term: the small tail exactly, the other as its complement.
                    tail = 0.5 * math.erfc(abs(u) * _INV_SQRT2)
                    if u < 0.0:
                        lower += wi * tail
                        upper += wi * (1.0 - tail)
                    else:
                        upper += wi * tail
                        lower += wi * (1.0 - tail)
                else:
                    if -1.0 <= u <= 1.0:
                        f += wi
                    c = min(max(0.5 * (u + 1.0), 0.0), 1.0)
                    lower += wi * c
                    upper += wi * (1.0 - c)
            if hr > 0.0:
                dens[r, m] = f / hr * (math.exp(-_LOG_SQRT_2PI) if gaussian[r] else 0.5)
            else:
                dens[r, m] = 0.0
            cdf[r, m] = lower
            sf[r, m] = upper
