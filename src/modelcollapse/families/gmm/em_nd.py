"""Fitting and sampling d-dimensional Gaussian mixtures with full covariances (numba kernels).

One EM step on points ``x_1..x_n ∈ R^d`` with weights ``ω_i`` (all 1 unless real data are
weighted) from ``(w_k, μ_k, Σ_k)``:

E-step
    ``r_ik = w_k φ(x_i; μ_k, Σ_k) / Σ_j w_j φ(x_i; μ_j, Σ_j)`` in log space, with
    ``log φ = −½‖L_k⁻¹(x − μ_k)‖² − Σ_j log L_k,jj − (d/2) log 2π`` for the Cholesky factor
    ``Σ_k = L_k L_kᵀ``; and the weighted mean log-likelihood ``ℓ = Σ_i ω_i log p(x_i) / Σ_i ω_i``.
M-step
    ``n_k = Σ_i ω_i r_ik``, ``w_k = n_k / Σ_i ω_i``, ``μ_k = Σ_i ω_i r_ik x_i / n_k``,
    ``Σ_k = Σ_i ω_i r_ik (x_i − μ_k)(x_i − μ_k)ᵀ / n_k + c I``,

with ``c`` = ``reg_covar`` (the family's ``var_floor``) *added* to the diagonal, exactly as
scikit-learn's ``GaussianMixture`` does, so a collapsed component (all its points equal) keeps a
positive definite covariance: recorded, never a crash. The E-step and the M-step's sums are one
pass over the data (sums accumulated around each component's current mean, so a collapsed
component keeps its digits). A component whose responsibilities sum to less than :data:`EMPTY`
keeps its mean and covariance and gets weight ``n_k / Σω`` (≈ 0): dead, never a NaN.

Iteration stops when ``ℓ`` changes by less than ``tol`` between iterations, after an M-step
(scikit-learn's criterion). Every fit therefore ends on an M-step, and summing the M-step over
components gives the **mixture-variance identity** in d dimensions: the fitted mixture's mean is
the sample's (weighted) mean and its total covariance
``Σ_k w_k (Σ_k + (μ_k − m)(μ_k − m)ᵀ)`` is the sample's covariance (divisor ``Σω``) plus ``c I``
(as long as no component is dead). Plain EM only: SQUAREM and Newton are 1-D
(:mod:`~modelcollapse.families.gmm.em`).

``--init kmeans`` seeds each fit by k-means++ (Arthur & Vassilvitskii 2007) on the points and
Lloyd's iterations, then the M-step of the hard assignment, as scikit-learn does.

References
----------
.. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from incomplete data via
   the EM algorithm", J. R. Statist. Soc. B 39, 1–38 (1977).
.. [2] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_LOG_2PI = math.log(2.0 * math.pi)
#: Responsibility sums below this mark a dead component (kept, weight ≈ 0).
EMPTY = 1e-12


@numba.njit(cache=True, nogil=True)
def cholesky(a, out, floor):
    """Lower Cholesky factor of ``a`` (d × d) into ``out``; a pivot ≤ 0 (a covariance that lost
    definiteness to rounding) is replaced by ``floor`` instead of failing.

    Returns ``Σ_j log L_jj`` (half the log-determinant).
    """
    d = a.shape[0]
    logdet = 0.0
    for j in range(d):
        s = a[j, j]
        for m in range(j):
            s -= out[j, m] * out[j, m]
        if not s > 0.0:
            s = floor if floor > 0.0 else 1e-300
        ljj = math.sqrt(s)
        out[j, j] = ljj
        logdet += math.log(ljj)
        for i in range(j + 1, d):
            t = a[i, j]
            for m in range(j):
                t -= out[i, m] * out[j, m]
            out[i, j] = t / ljj
        for i in range(j):
            out[i, j] = 0.0
    return logdet


@numba.njit(cache=True, nogil=True)
def _em_pass(x, omega, w, mu, cov, chol, logdet, s0, s1, s2, z, logp, floor):
    """One pass: E-step and the M-step's centred sums; returns the weighted mean log-likelihood."""
    n, d = x.shape
    k_count = w.size
    for k in range(k_count):
        logdet[k] = cholesky(cov[k], chol[k], floor)
    s0[:] = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        best = -np.inf
        for k in range(k_count):
            if w[k] <= 0.0:
                logp[k] = -np.inf
                continue
            # Forward substitution: z = L⁻¹ (x − μ).
            q = 0.0
            for a in range(d):
                t = x[i, a] - mu[k, a]
                for b in range(a):
                    t -= chol[k, a, b] * z[b]
                t /= chol[k, a, a]
                z[a] = t
                q += t * t
            logp[k] = math.log(w[k]) - 0.5 * q - logdet[k] - 0.5 * d * _LOG_2PI
            best = max(best, logp[k])
        acc = 0.0
        for k in range(k_count):
            if logp[k] > -np.inf:
                acc += math.exp(logp[k] - best)
        log_px = best + math.log(acc)
        oi = omega[i]
        total += oi * log_px
        weight_sum += oi
        for k in range(k_count):
            if logp[k] == -np.inf:
                continue
            r = oi * math.exp(logp[k] - log_px)
            if r == 0.0:
                continue
            s0[k] += r
            for a in range(d):
                da = x[i, a] - mu[k, a]
                s1[k, a] += r * da
                for b in range(a + 1):
                    s2[k, a, b] += r * da * (x[i, b] - mu[k, b])
    return total / weight_sum, weight_sum


@numba.njit(cache=True, nogil=True)
def _m_update(w, mu, cov, s0, s1, s2, weight_sum, reg):
    """The M-step from the centred sums, in place (a dead component keeps mean and covariance)."""
    k_count, d = mu.shape
    for k in range(k_count):
        nk = s0[k]
        w[k] = nk / weight_sum
        if nk < EMPTY:
            continue
        for a in range(d):
            s1[k, a] /= nk
        for a in range(d):
            for b in range(a + 1):
                c = s2[k, a, b] / nk - s1[k, a] * s1[k, b]
                if a == b:
                    c = max(c, 0.0) + reg
                cov[k, a, b] = c
                cov[k, b, a] = c
        for a in range(d):
            mu[k, a] += s1[k, a]


@numba.njit(cache=True, nogil=True)
def fit_row(x, omega, w, mu, cov, tol, max_iter, reg):
    """EM on one replicate's points ``x[n, d]`` in place from ``(w[K], mu[K, d], cov[K, d, d])``;
    returns the E-steps used."""
    d = x.shape[1]
    k_count = w.size
    chol = np.zeros((k_count, d, d))
    logdet = np.zeros(k_count)
    s0 = np.zeros(k_count)
    s1 = np.zeros((k_count, d))
    s2 = np.zeros((k_count, d, d))
    z = np.zeros(d)
    logp = np.zeros(k_count)
    previous = -np.inf
    steps = 0
    for _ in range(max_iter):
        ll, weight_sum = _em_pass(x, omega, w, mu, cov, chol, logdet, s0, s1, s2, z, logp, reg)
        _m_update(w, mu, cov, s0, s1, s2, weight_sum, reg)
        steps += 1
        if abs(ll - previous) < tol:
            break
        previous = ll
    return steps


@numba.njit(cache=True, nogil=True)
def _sort_by_first(w, mu, cov):
    """Reorder one row's components by their means' first coordinate (insertion sort)."""
    k_count = w.size
    for i in range(1, k_count):
        j = i
        while j > 0 and mu[j - 1, 0] > mu[j, 0]:
            w[j - 1], w[j] = w[j], w[j - 1]
            for a in range(mu.shape[1]):
                mu[j - 1, a], mu[j, a] = mu[j, a], mu[j - 1, a]
                for b in range(mu.shape[1]):
                    cov[j - 1, a, b], cov[j, a, b] = cov[j, a, b], cov[j - 1, a, b]
            j -= 1


@numba.njit(cache=True, nogil=True)
def fit_block_nd(x, omega, w, mu, cov, tol, max_iter, reg):
    """Fit every row of ``x[R, n, d]`` (point weights ``omega[R, n]``) in place from
    ``w[R, K], mu[R, K, d], cov[R, K, d, d]``; components come out sorted by first coordinate.
    Returns the E-steps used per row."""
    rows = w.shape[0]
    steps = np.empty(rows, dtype=np.int64)
    for r in range(rows):
        steps[r] = fit_row(x[r], omega[r], w[r], mu[r], cov[r], tol, max_iter, reg)
        _sort_by_first(w[r], mu[r], cov[r])
    return steps


@numba.njit(cache=True, nogil=True)
def _dist2(x, i, c):
    s = 0.0
    for a in range(x.shape[1]):
        t = x[i, a] - c[a]
        s += t * t
    return s


@numba.njit(cache=True, nogil=True)
def kmeans_init_row(rng, x, w, mu, cov, reg):
    """k-means++ seeding, Lloyd's iterations (at most 100), then the hard assignment's M-step.

    An empty cluster keeps its centre, the overall covariance and weight 0 (dead).
    """
    n, d = x.shape
    k_count = w.size
    centres = np.empty((k_count, d))
    centres[0] = x[rng.integers(0, n)]
    dist = np.empty(n)
    for i in range(n):
        dist[i] = _dist2(x, i, centres[0])
    for c in range(1, k_count):
        total = dist.sum()
        pick = rng.integers(0, n)
        if total > 0.0:
            target = rng.random() * total
            acc = 0.0
            pick = n - 1
            for i in range(n):
                acc += dist[i]
                if acc >= target:
                    pick = i
                    break
        centres[c] = x[pick]
        for i in range(n):
            dist[i] = min(dist[i], _dist2(x, i, centres[c]))
    label = np.full(n, -1, dtype=np.int64)
    count = np.zeros(k_count)
    for _ in range(100):
        changed = 0
        for i in range(n):
            best = 0
            best_d = _dist2(x, i, centres[0])
            for c in range(1, k_count):
                dc = _dist2(x, i, centres[c])
                if dc < best_d:
                    best, best_d = c, dc
            changed += best != label[i]
            label[i] = best
        if changed == 0:
            break
        sums = np.zeros((k_count, d))
        count[:] = 0.0
        for i in range(n):
            count[label[i]] += 1.0
            sums[label[i]] += x[i]
        for c in range(k_count):
            if count[c] > 0:
                centres[c] = sums[c] / count[c]
    count[:] = 0.0
    sums = np.zeros((k_count, d))
    for i in range(n):
        count[label[i]] += 1.0
        sums[label[i]] += x[i]
    scatter = np.zeros((k_count, d, d))
    for c in range(k_count):
        mu[c] = sums[c] / count[c] if count[c] > 0 else centres[c]
    for i in range(n):
        c = label[i]
        for a in range(d):
            for b in range(d):
                scatter[c, a, b] += (x[i, a] - mu[c, a]) * (x[i, b] - mu[c, b])
    mean = np.zeros(d)
    for i in range(n):
        mean += x[i]
    mean /= n
    overall = np.zeros((d, d))
    for i in range(n):
        for a in range(d):
            for b in range(d):
                overall[a, b] += (x[i, a] - mean[a]) * (x[i, b] - mean[b])
    overall /= n
    for c in range(k_count):
        w[c] = count[c] / n
        source = scatter[c] / count[c] if count[c] > 0 else overall
        for a in range(d):
            for b in range(d):
                cov[c, a, b] = source[a, b] + (reg if a == b else 0.0)


@numba.njit(cache=True, nogil=True)
def fit_block_nd_kmeans(rng, x, omega, w, mu, cov, tol, max_iter, reg):
    """:func:`fit_block_nd` from a fresh k-means++ start per row, drawn from ``rng``."""
    for r in range(w.shape[0]):
        kmeans_init_row(rng, x[r], w[r], mu[r], cov[r], reg)
    return fit_block_nd(x, omega, w, mu, cov, tol, max_iter, reg)


@numba.njit(cache=True, nogil=True)
def sample_block_nd(rng, w, mu, cov, n, out):
    """``n`` draws from each row's mixture into ``out[R, n, d]``, grouped by component.

    Component counts are multinomial (a chain of binomials, as the 1-D sampler), then each point
    is ``μ_k + L_k z`` with ``Σ_k = L_k L_kᵀ`` and ``z`` standard normal (numpy's ziggurat
    compiled by numba: the same numbers on every machine).
    """
    rows, k_count = w.shape
    d = mu.shape[2]
    chol = np.zeros((d, d))
    z = np.empty(d)
    for r in range(rows):
        last = k_count - 1
        while last > 0 and w[r, last] <= 0.0:
            last -= 1
        remaining = n
        rest = 1.0
        start = 0
        for k in range(last + 1):
            if k == last:
                count = remaining
            elif remaining == 0 or rest <= 0.0:
                count = 0
            else:
                p = min(max(w[r, k] / rest, 0.0), 1.0)
                count = rng.binomial(remaining, p)
            if count > 0:
                cholesky(cov[r, k], chol, 0.0)
            for i in range(start, start + count):
                for a in range(d):
                    z[a] = rng.standard_normal()
                for a in range(d):
                    t = mu[r, k, a]
                    for b in range(a + 1):
                        t += chol[a, b] * z[b]
                    out[r, i, a] = t
            start += count
            remaining -= count
            rest -= w[r, k]
