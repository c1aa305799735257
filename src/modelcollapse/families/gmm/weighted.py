"""Weighted EM for 1-D Gaussian mixtures: the fit behind ``--real-weight`` (numba kernels).

With per-sample weights ``ω_i ≥ 0`` summing to 1 (the real samples of a training set together
``W_r``, the synthetic ones ``W_s``, :func:`~modelcollapse.training_sets.part_weights`), the
weighted log-likelihood ``ℓ = Σ_i ω_i log Σ_k w_k φ(x_i; μ_k, σ²_k)`` is maximised by EM with
the weights in the M-step:

E-step
    ``r_ik = w_k φ(x_i; μ_k, σ²_k) / Σ_j w_j φ(x_i; μ_j, σ²_j)``, in log space;
M-step
    ``n_k = Σ_i ω_i r_ik``, ``w_k = n_k``, ``μ_k = Σ_i ω_i r_ik x_i / n_k``,
    ``σ²_k = max(Σ_i ω_i r_ik (x_i − μ_k)² / n_k, floor)``.

Every unfloored M-step sets the mixture's mean and variance to the *weighted* sample's, so the
mixture-variance identity of :mod:`~modelcollapse.families.gmm.em` holds with weights, and the
Gaussian's weighted-fit theory gives the mixture's ``E var_t`` too. This is plain EM, started
from the previous generation's fit and stopped by the same criterion as the unweighted fit (the
weighted mean log-likelihood gains less than ``tol``); it converges linearly, so a weighted run
is slower than an unweighted one, whose fit is Newton's method (:mod:`.em`). A component whose
weighted responsibility falls below :data:`~.em.EMPTY` keeps its mean and variance and its
weight ``n_k`` (≈ 0): recorded, never a NaN.

The kernels are self-contained (they call nothing in another file) because numba's on-disk
cache notices only edits to the file a kernel is in.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: Weighted responsibility below which a component counts as empty (as in :mod:`.em`).
EMPTY = 1e-12


@numba.njit(cache=True, nogil=True)
def _weighted_step(x, omega, w, mu, var, w_out, mu_out, var_out, var_floor, log_terms):
    """One weighted EM step from ``(w, mu, var)`` into the ``*_out`` arrays; returns ``ℓ``."""
    k_count = w.size
    n = x.size
    nk = np.zeros(k_count)
    shift = np.zeros(k_count)
    square = np.zeros(k_count)
    log_w = np.empty(k_count)
    half_log_var = np.empty(k_count)
    for k in range(k_count):
        log_w[k] = math.log(w[k]) if w[k] > 0.0 else -np.inf
        half_log_var[k] = 0.5 * math.log(var[k])
    ll = 0.0
    for i in range(n):
        top = -np.inf
        for k in range(k_count):
            d = x[i] - mu[k]
            term = log_w[k] - half_log_var[k] - _LOG_SQRT_2PI - 0.5 * d * d / var[k]
            log_terms[k] = term
            if term > top:
                top = term
        total = 0.0
        for k in range(k_count):
            log_terms[k] = math.exp(log_terms[k] - top) if log_terms[k] > -np.inf else 0.0
            total += log_terms[k]
        ll += omega[i] * (top + math.log(total))
        for k in range(k_count):
            r = omega[i] * log_terms[k] / total
            d = x[i] - mu[k]  # sums around the current mean keep a collapsed component's digits
            nk[k] += r
            shift[k] += r * d
            square[k] += r * d * d
    for k in range(k_count):
        w_out[k] = nk[k]
        if nk[k] < EMPTY:
            mu_out[k] = mu[k]
            var_out[k] = var[k]
            continue
        step = shift[k] / nk[k]
        mu_out[k] = mu[k] + step
        var_out[k] = max(square[k] / nk[k] - step * step, var_floor)
    return ll


@numba.njit(cache=True, nogil=True)
def _sort_by_mean(w, mu, var):
    """Components in order of their means (insertion sort: K is small)."""
    for i in range(1, w.size):
        j = i
        while j > 0 and mu[j - 1] > mu[j]:
            w[j - 1], w[j] = w[j], w[j - 1]
            mu[j - 1], mu[j] = mu[j], mu[j - 1]
            var[j - 1], var[j] = var[j], var[j - 1]
            j -= 1


@numba.njit(cache=True, nogil=True)
def fit_block_weighted(x, omega, w, mu, var, tol, max_iter, var_floor):
    """Weighted EM on every row of ``x[R, n]`` with weights ``omega[R, n]``, in place.

    Starts from ``w, mu, var`` (``[R, K]``, the previous generation's fit), leaves the
    components sorted by mean and returns the E-steps used per row.
    """
    rows, k_count = w.shape
    steps = np.empty(rows, dtype=np.int64)
    w_next = np.empty(k_count)
    mu_next = np.empty(k_count)
    var_next = np.empty(k_count)
    log_terms = np.empty(k_count)
    for r in range(rows):
        previous = -np.inf
        used = 0
        while used < max_iter:
            ll = _weighted_step(x[r], omega[r], w[r], mu[r], var[r], w_next, mu_next, var_next,
                                var_floor, log_terms)
            used += 1
            w[r, :] = w_next
            mu[r, :] = mu_next
            var[r, :] = var_next
            if abs(ll - previous) < tol:
                break
            previous = ll
        steps[r] = used
        _sort_by_mean(w[r], mu[r], var[r])
    return steps
