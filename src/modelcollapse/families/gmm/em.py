"""Fitting 1-D Gaussian mixtures to convergence, batched over replicates (numba kernels).

One EM step on data ``x_1..x_n`` from ``(w_k, μ_k, σ²_k)``:

E-step
    ``r_ik = w_k φ(x_i; μ_k, σ²_k) / Σ_j w_j φ(x_i; μ_j, σ²_j)`` in log space (far-away points never
    give 0/0), and the mean log-likelihood ``ℓ = (1/n) Σ_i log Σ_k w_k φ(x_i; μ_k, σ²_k)``.
M-step
    ``n_k = Σ_i r_ik``, ``w_k = n_k / n``, ``μ_k = Σ_i r_ik x_i / n_k``,
    ``σ²_k = max(Σ_i r_ik (x_i − μ_k)² / n_k, floor)``.

Sums are accumulated around each component's current mean, so a collapsed component
(σ² ≈ 1e-6 at μ ≈ 2) keeps its digits. A component whose responsibilities sum to less than
:data:`EMPTY` keeps its mean and variance and gets weight ``n_k / n`` (≈ 0): dead, recorded, never a
NaN.

Plain EM converges linearly and slowly (the slowest mode shrinks by ≈ 0.74 per step on the classic
two-component problem), so fits are accelerated with SQUAREM [1]_: two EM steps give a direction and
a curvature, the squared extrapolation jumps along them, and a third EM step stabilises; a jump that
does not improve the likelihood is discarded. It converges to the same fixed point as EM, to full
precision, in 12–20 E-steps. Iteration stops when the mean log-likelihood gains less than ``tol``
from one cycle to the next (scikit-learn's criterion, applied per cycle), after an M-step.

For two components (the classic case) the E-step is a dedicated kernel that LLVM vectorises: one
``exp`` and one ``log1p`` per point, from :func:`_exp_neg` and :func:`_log1p_unit` (polynomials
after exact range reduction, since numba has no vector ``exp`` without Intel's SVML), and one
division. Any other ``K`` uses a general scalar kernel.

Because every M-step sets the mixture's mean and total variance to the training sample's (for an
unfloored fit), ``E var_t = var_0 ((N−1)/N)^t`` under ``replace`` whatever EM does inside.

Which routine runs
------------------
:func:`fit_block_warm` (``--init warm``, the default) and :func:`fit_block` (``--init kmeans``:
k-means++ and Lloyd's iterations first, :func:`_kmeans_init`) fit each row. A warm start whose
components coincide is a fixed point of every routine below (EM gives coinciding components the
same update; the likelihood's gradient has no component that separates them), so the caller
splits them first (:mod:`~modelcollapse.families.gmm.warm_start`). Per row:

=============================================  ==============================================
situation                                      routine
=============================================  ==============================================
``--no-accelerate``                            :func:`_fit_plain`: plain EM, iteration for
                                               iteration as scikit-learn
one live component (the others dead)          :func:`_fit_single`: the sample's mean and
                                               variance, in closed form
two live components (the classic case)         :func:`_fit_newton2`: Newton's method on the
                                               likelihood, quadratic from a warm start
... Newton has no step (a non-concave ridge)   :func:`_fit_marquardt2`: Levenberg–Marquardt,
                                               damped until the region turns concave
anything else (K > 2, a variance on the        :func:`_fit_squarem`: SQUAREM-accelerated EM
floor, a weight within 1e-9 of 0 or 1)
=============================================  ==============================================

(:func:`_fit_accelerated` makes that choice.) :func:`m_step` and :func:`log_likelihood` are plain
numpy versions of one M-step and the likelihood, the independent reference the tests compare the
kernels with.

Why one file
------------
numba caches compiled code on disk per source file and notices only when *that* file changes: a
kernel that calls a kernel in another file would keep running stale machine code after an edit to
the callee. The fitting kernels call each other, so they share this file; the sampler, which
calls none of them, is :mod:`~modelcollapse.families.gmm.sampling`.

References
----------
.. [1] R. Varadhan and C. Roland, "Simple and globally convergent methods for accelerating the
   convergence of any EM algorithm", Scand. J. Statist. 35, 335–353 (2008).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: Levenberg–Marquardt gives up beyond this damping (steps 1e-100 of a gradient step): every
#: loop of the fitting kernels is bounded, whatever the data's scale.
MAX_DAMPING = 1e100

#: Responsibility mass below which a component counts as empty.
EMPTY = 1e-12

#: LLVM may reassociate sums and contract multiply-adds (so loops vectorise), but must keep
#: infinities and NaNs (a dead component has log-weight −inf).
FAST = {"reassoc", "contract", "nsz", "arcp", "afn"}

#: Beyond this log-density gap the minor responsibility is below 2e-22: exactly 0 for our sums.
_GAP = 50.0

_LN2_HI = 0.6931471803691238  # ln 2 split so k · ln2 is exact for |k| < 2^20

_LN2_LO = 1.9082149292705877e-10

_INV_LN2 = 1.4426950408889634


def m_step(x: np.ndarray, resp: np.ndarray, var_floor: float) -> tuple[np.ndarray, ...]:
    """Weights, means and variances maximising the expected log-likelihood (plain numpy).

    Parameters
    ----------
    x
        Data, shape ``[n]``.
    resp
        Responsibilities, shape ``[n, K]``, rows summing to 1.
    var_floor
        Lower bound on each variance.

    Returns
    -------
    w, mu, var
        Each of shape ``[K]``.
    """
    nk = resp.sum(axis=0)
    w = nk / x.size
    safe = np.where(nk > EMPTY, nk, 1.0)
    mu = (resp * x[:, None]).sum(axis=0) / safe
    var = (resp * (x[:, None] - mu) ** 2).sum(axis=0) / safe
    return w, mu, np.maximum(var, var_floor)


def log_likelihood(x: np.ndarray, w: np.ndarray, mu: np.ndarray, var: np.ndarray) -> float:
    """Mean log-likelihood of ``x`` under the mixture (plain numpy)."""
    with np.errstate(divide="ignore"):
        log_terms = (np.log(w) - 0.5 * np.log(2 * np.pi * var)
                     - (x[:, None] - mu) ** 2 / (2 * var))
    top = log_terms.max(axis=1, keepdims=True)
    return float(np.mean(top[:, 0] + np.log(np.exp(log_terms - top).sum(axis=1))))


@numba.njit(fastmath=FAST, error_model="numpy", inline="always")
def _exp_neg(y: float) -> float:
    """``exp(−y)`` for ``0 ≤ y ≤ 88``, to 5e-16 relative, in vectorisable arithmetic.

    ``y = m ln 2 − r`` with ``|r| ≤ ln 2 / 2`` (Cody–Waite: ``ln 2`` in two parts so ``m ln 2`` is
    exact); ``exp(r)`` by its Taylor polynomial of degree 12 (truncation < 1e-17) and ``2^−m``
    assembled from the bits of ``m`` by multiplications, since numba cannot build a float's
    exponent field in a vector loop.
    """
    m = math.floor(y * _INV_LN2 + 0.5)
    r = (m * _LN2_HI - y) + m * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (
            1 / 3628800 + r * (1 / 39916800 + r / 479001600)))))))))))
    k = np.int64(m)
    scale = ((1.0 - 0.5 * (k & 1)) * (1.0 - 0.75 * ((k >> 1) & 1))
             * (1.0 - 0.9375 * ((k >> 2) & 1)) * (1.0 - 0.99609375 * ((k >> 3) & 1))
             * (1.0 - (1.0 - 2.0**-16) * ((k >> 4) & 1))
             * (1.0 - (1.0 - 2.0**-32) * ((k >> 5) & 1))
             * (1.0 - (1.0 - 2.0**-64) * ((k >> 6) & 1)))
    return p * scale


@numba.njit(fastmath=FAST, error_model="numpy", inline="always")
def _log1p_unit(u: float) -> float:
    """``log(1 + u)`` for ``0 ≤ u ≤ 1``, to 5e-16 relative, in vectorisable arithmetic.

    ``log(1 + u) = 2 atanh(t)`` with ``t = u / (2 + u) ≤ 1/3``, and the series
    ``2(t + t³/3 + t⁵/5 + …)`` converges by a factor ``t² ≤ 1/9`` per term: 18 terms suffice,
    evaluated by Horner's rule (written out, so LLVM folds the constants and vectorises).
    """
    t = u / (2.0 + u)
    t2 = t * t
    s = 1 / 35
    s = s * t2 + 1 / 33
    s = s * t2 + 1 / 31
    s = s * t2 + 1 / 29
    s = s * t2 + 1 / 27
    s = s * t2 + 1 / 25
    s = s * t2 + 1 / 23
    s = s * t2 + 1 / 21
    s = s * t2 + 1 / 19
    s = s * t2 + 1 / 17
    s = s * t2 + 1 / 15
    s = s * t2 + 1 / 13
    s = s * t2 + 1 / 11
    s = s * t2 + 1 / 9
    s = s * t2 + 1 / 7
    s = s * t2 + 1 / 5
    s = s * t2 + 1 / 3
    s = s * t2 + 1 / 1
    return 2.0 * t * s


@numba.njit(fastmath=FAST, error_model="numpy", inline="always")
def _point2(xi, m0, m1, a0, a1, h0, h1):
    """One point of the two-component E-step.

    With ``lp_k = log w_k φ(x; μ_k, σ²_k)`` and ``d = lp_1 − lp_0``, ``u = exp(−|d|)`` gives both
    responsibilities exactly (``1/(1+u)`` and ``u/(1+u)``), and
    ``log Σ_k e^{lp_k} = max(lp_0, lp_1) + log(1 + u)``.
    """
    e0 = xi - m0
    e1 = xi - m1
    lp0 = a0 - h0 * e0 * e0
    lp1 = a1 - h1 * e1 * e1
    d = lp1 - lp0
    u = _exp_neg(min(abs(d), _GAP))
    inv = 1.0 / (1.0 + u)
    r1 = inv if d >= 0.0 else u * inv
    r0 = u * inv if d >= 0.0 else inv
    return e0, e1, max(lp0, lp1), u, inv, r0, r1


@numba.njit(cache=True, nogil=True, inline="always")
def _coefficients2(w, var):
    """``log w_k − ½ log(2π σ²_k)`` and ``1/(2σ²_k)`` for both components."""
    a0 = math.log(w[0]) - 0.5 * math.log(var[0]) - _LOG_SQRT_2PI
    a1 = math.log(w[1]) - 0.5 * math.log(var[1]) - _LOG_SQRT_2PI
    return a0, a1, 0.5 / var[0], 0.5 / var[1]


@numba.njit(fastmath=FAST, error_model="numpy", cache=True, nogil=True)
def _step2(x, w, mu, var, w_out, mu_out, var_out, var_floor):
    """One EM step for two live components; returns the mean log-likelihood at the input."""
    n = x.size
    a0, a1, h0, h1 = _coefficients2(w, var)
    m0 = mu[0]
    m1 = mu[1]
    n0 = 0.0
    s0 = 0.0
    q0 = 0.0
    n1 = 0.0
    s1 = 0.0
    q1 = 0.0
    log_sum = 0.0
    for i in range(n):
        e0, e1, top, u, _, r0, r1 = _point2(x[i], m0, m1, a0, a1, h0, h1)
        n0 += r0
        s0 += r0 * e0
        q0 += r0 * e0 * e0
        n1 += r1
        s1 += r1 * e1
        q1 += r1 * e1 * e1
        log_sum += top + _log1p_unit(u)
    _m_update(0, n0, s0, q0, n, w, mu, var, w_out, mu_out, var_out, var_floor)
    _m_update(1, n1, s1, q1, n, w, mu, var, w_out, mu_out, var_out, var_floor)
    return log_sum / n


@numba.njit(fastmath=FAST, error_model="numpy", cache=True, nogil=True)
def _step2_newton(x, w, mu, var, w_out, mu_out, var_out, var_floor, sums):
    """The E-step sums Newton's method needs, and the EM update, for two live components.

    ``sums`` receives ``n_k, Σ r_k (x − μ_k), Σ r_k (x − μ_k)²`` (k = 0, 1) and
    ``Σ r₀ r₁ (x − c)^j`` (j = 0..4, c = (μ₀ + μ₁)/2). No likelihood: Newton does not need it.
    """
    n = x.size
    a0, a1, h0, h1 = _coefficients2(w, var)
    m0 = mu[0]
    m1 = mu[1]
    centre = 0.5 * (m0 + m1)
    n0 = 0.0
    s0 = 0.0
    q0 = 0.0
    n1 = 0.0
    s1 = 0.0
    q1 = 0.0
    p0 = 0.0
    p1 = 0.0
    p2 = 0.0
    p3 = 0.0
    p4 = 0.0
    for i in range(n):
        e0, e1, _, u, inv, r0, r1 = _point2(x[i], m0, m1, a0, a1, h0, h1)
        n0 += r0
        s0 += r0 * e0
        q0 += r0 * e0 * e0
        n1 += r1
        s1 += r1 * e1
        q1 += r1 * e1 * e1
        rr = u * inv * inv  # r₀ r₁
        e = x[i] - centre
        e2 = e * e
        p0 += rr
        p1 += rr * e
        p2 += rr * e2
        p3 += rr * e2 * e
        p4 += rr * e2 * e2
    _m_update(0, n0, s0, q0, n, w, mu, var, w_out, mu_out, var_out, var_floor)
    _m_update(1, n1, s1, q1, n, w, mu, var, w_out, mu_out, var_out, var_floor)
    sums[0] = n0
    sums[1] = s0
    sums[2] = q0
    sums[3] = n1
    sums[4] = s1
    sums[5] = q1
    sums[6] = p0
    sums[7] = p1
    sums[8] = p2
    sums[9] = p3
    sums[10] = p4


@numba.njit(fastmath=FAST, error_model="numpy", cache=True, nogil=True)
def _sums2_full(x, w, mu, var, sums):
    """The sums of :func:`_step2_newton` and the mean log-likelihood at ``(w, mu, var)``."""
    n = x.size
    a0, a1, h0, h1 = _coefficients2(w, var)
    m0 = mu[0]
    m1 = mu[1]
    centre = 0.5 * (m0 + m1)
    n0 = 0.0
    s0 = 0.0
    q0 = 0.0
    n1 = 0.0
    s1 = 0.0
    q1 = 0.0
    p0 = 0.0
    p1 = 0.0
    p2 = 0.0
    p3 = 0.0
    p4 = 0.0
    log_sum = 0.0
    for i in range(n):
        e0, e1, top, u, inv, r0, r1 = _point2(x[i], m0, m1, a0, a1, h0, h1)
        n0 += r0
        s0 += r0 * e0
        q0 += r0 * e0 * e0
        n1 += r1
        s1 += r1 * e1
        q1 += r1 * e1 * e1
        rr = u * inv * inv
        e = x[i] - centre
        e2 = e * e
        p0 += rr
        p1 += rr * e
        p2 += rr * e2
        p3 += rr * e2 * e
        p4 += rr * e2 * e2
        log_sum += top + _log1p_unit(u)
    sums[0] = n0
    sums[1] = s0
    sums[2] = q0
    sums[3] = n1
    sums[4] = s1
    sums[5] = q1
    sums[6] = p0
    sums[7] = p1
    sums[8] = p2
    sums[9] = p3
    sums[10] = p4
    return log_sum / n


@numba.njit(cache=True, nogil=True, inline="always")
def _m_update(k, nk, shift_sum, square_sum, n, w, mu, var, w_out, mu_out, var_out, var_floor):
    """M-step for component ``k`` from sums centred at its current mean."""
    w_out[k] = nk / n
    if nk > EMPTY:
        shift = shift_sum / nk
        mu_out[k] = mu[k] + shift
        var_out[k] = max(square_sum / nk - shift * shift, var_floor)
    else:
        mu_out[k] = mu[k]
        var_out[k] = var[k]


@numba.njit(cache=True, nogil=True)
def _step_general(x, w, mu, var, w_out, mu_out, var_out, var_floor):
    """One EM step for any number of components; returns the mean log-likelihood at the input."""
    n = x.size
    k_count = w.size
    const = np.empty(k_count)
    inv2var = np.empty(k_count)
    log_p = np.empty(k_count)
    sums = np.zeros((3, k_count))
    for k in range(k_count):
        const[k] = (math.log(w[k]) - 0.5 * math.log(var[k]) - _LOG_SQRT_2PI if w[k] > 0.0
                    else -np.inf)
        inv2var[k] = 0.5 / var[k]
    total = 0.0
    for i in range(n):
        xi = x[i]
        best = -np.inf
        for k in range(k_count):
            d = xi - mu[k]
            log_p[k] = const[k] - d * d * inv2var[k]
            best = max(best, log_p[k])
        s = 0.0
        for k in range(k_count):
            log_p[k] = math.exp(log_p[k] - best)
            s += log_p[k]
        total += best + math.log(s)
        inv = 1.0 / s
        for k in range(k_count):
            r = log_p[k] * inv
            d = xi - mu[k]
            sums[0, k] += r
            sums[1, k] += r * d
            sums[2, k] += r * d * d
    for k in range(k_count):
        _m_update(k, sums[0, k], sums[1, k], sums[2, k], n, w, mu, var, w_out, mu_out, var_out,
                  var_floor)
    return total / n


@numba.njit(cache=True, nogil=True)
def em_step(x, w, mu, var, w_out, mu_out, var_out, var_floor):
    """One EM step from ``(w, mu, var)`` into the ``*_out`` arrays; returns ℓ at the input.

    Dispatches to the vectorised two-component kernel when exactly two components are alive.
    """
    if w.size == 2 and w[0] > 0.0 and w[1] > 0.0:
        return _step2(x, w, mu, var, w_out, mu_out, var_out, var_floor)
    return _step_general(x, w, mu, var, w_out, mu_out, var_out, var_floor)


@numba.njit(cache=True, nogil=True)
def _valid(theta, k_count, var_floor):
    for k in range(k_count):
        if not (0.0 <= theta[k] <= 1.0) or theta[2 * k_count + k] < var_floor:
            return False
        if not math.isfinite(theta[k_count + k]):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _step_theta(x, theta, out, k_count, var_floor):
    """EM step on the packed vector ``theta = (w, mu, var)``."""
    return em_step(x, theta[:k_count], theta[k_count:2 * k_count], theta[2 * k_count:],
                   out[:k_count], out[k_count:2 * k_count], out[2 * k_count:], var_floor)


@numba.njit(cache=True, nogil=True)
def _fit_plain(x, w, mu, var, tol, max_iter, var_floor):
    """Plain EM in place (scikit-learn's iteration); returns the number of E-steps."""
    k_count = w.size
    theta = np.concatenate((w, mu, var))
    out = np.empty_like(theta)
    previous = -np.inf
    steps = 0
    while steps < max_iter:
        ll = _step_theta(x, theta, out, k_count, var_floor)
        steps += 1
        theta, out = out, theta
        if abs(ll - previous) < tol:
            break
        previous = ll
    w[:] = theta[:k_count]
    mu[:] = theta[k_count:2 * k_count]
    var[:] = theta[2 * k_count:]
    return steps


@numba.njit(cache=True, nogil=True)
def _fit_squarem(x, w, mu, var, tol, max_iter, var_floor):
    """SQUAREM-accelerated EM in place (scheme S3); returns the number of E-steps.

    Each cycle: ``θ1 = M(θ0)``, ``θ2 = M(θ1)``, ``r = θ1 − θ0``, ``v = θ2 − 2θ1 + θ0``,
    ``α = −|r|/|v|`` (at most −1), ``θ' = θ0 − 2αr + α²v`` (halving ``α`` towards −1 until ``θ'`` is
    a valid mixture), then ``θ0 ← M(θ')`` if ``ℓ(θ') ≥ ℓ(θ1)``, else ``θ0 ← θ2``.
    """
    k_count = w.size
    theta0 = np.concatenate((w, mu, var))
    theta1 = np.empty_like(theta0)
    theta2 = np.empty_like(theta0)
    jump = np.empty_like(theta0)
    nxt = np.empty_like(theta0)
    previous = -np.inf
    steps = 0
    while steps < max_iter:
        ll0 = _step_theta(x, theta0, theta1, k_count, var_floor)
        steps += 1
        if abs(ll0 - previous) < tol or steps >= max_iter:
            theta0[:] = theta1
            break
        previous = ll0
        ll1 = _step_theta(x, theta1, theta2, k_count, var_floor)
        steps += 1
        rr = 0.0
        vv = 0.0
        for j in range(theta0.size):
            r = theta1[j] - theta0[j]
            v = theta2[j] - 2.0 * theta1[j] + theta0[j]
            rr += r * r
            vv += v * v
        # At the fixed point (or NaN, from an overflowed step: never a jump, whose halving
        # below would then never end).
        if not (vv > 0.0 and rr > 0.0) or steps >= max_iter:
            theta0[:] = theta2
            continue
        alpha = min(-math.sqrt(rr / vv), -1.0)
        while True:
            for j in range(theta0.size):
                r = theta1[j] - theta0[j]
                v = theta2[j] - 2.0 * theta1[j] + theta0[j]
                jump[j] = theta0[j] - 2.0 * alpha * r + alpha * alpha * v
            if _valid(jump, k_count, var_floor) or alpha >= -1.0:
                break
            alpha = 0.5 * (alpha - 1.0)
        if alpha >= -1.0 and not _valid(jump, k_count, var_floor):
            theta0[:] = theta2
            continue
        ll_jump = _step_theta(x, jump, nxt, k_count, var_floor)
        steps += 1
        if ll_jump >= ll1:
            theta0[:] = nxt
        else:  # the jump lost ground: keep the two plain EM steps
            theta0[:] = theta2
    w[:] = theta0[:k_count]
    mu[:] = theta0[k_count:2 * k_count]
    var[:] = theta0[2 * k_count:]
    return steps


@numba.njit(cache=True, nogil=True)
def _gradient_hessian(w, mu, var, sums, grad, hess):
    """Gradient and Hessian of the log-likelihood in θ = (w₁, μ₀, μ₁, σ²₀, σ²₁) from the sums.

    With ``s_k`` the score of ``log w_k φ_k`` in θ, the gradient is ``Σ_i Σ_k r_k s_k`` and the
    Hessian ``Σ_i [Σ_k r_k ∇s_k + r₀r₁ (s₁ − s₀)(s₁ − s₀)ᵀ]`` (the covariance of the scores over
    the two components). The first part needs only the centred sums of the E-step; every entry
    of ``s₁ − s₀`` is a polynomial of degree ≤ 2 in ``e = x − c``, so the second part is
    assembled from ``Σ r₀r₁ e^j``, ``j ≤ 4``.
    """
    a = w[1]
    n0, s0, q0, n1, s1, q1 = sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]
    power = sums[6:11]
    v0, v1 = var[0], var[1]
    grad[0] = n1 / a - n0 / (1.0 - a)
    grad[1] = s0 / v0
    grad[2] = s1 / v1
    grad[3] = (q0 - v0 * n0) / (2.0 * v0 * v0)
    grad[4] = (q1 - v1 * n1) / (2.0 * v1 * v1)
    hess[:, :] = 0.0
    hess[0, 0] = -n1 / (a * a) - n0 / ((1.0 - a) * (1.0 - a))
    hess[1, 1] = -n0 / v0
    hess[2, 2] = -n1 / v1
    hess[1, 3] = hess[3, 1] = -s0 / (v0 * v0)
    hess[2, 4] = hess[4, 2] = -s1 / (v1 * v1)
    hess[3, 3] = n0 / (2.0 * v0 * v0) - q0 / (v0 * v0 * v0)
    hess[4, 4] = n1 / (2.0 * v1 * v1) - q1 / (v1 * v1 * v1)
    # s₁ − s₀ as polynomials in e = x − c: rows of coefficients of (1, e, e²).
    centre = 0.5 * (mu[0] + mu[1])
    d0 = centre - mu[0]
    d1 = centre - mu[1]
    coef = np.zeros((5, 3))
    coef[0, 0] = 1.0 / a + 1.0 / (1.0 - a)
    coef[1, 0] = -d0 / v0
    coef[1, 1] = -1.0 / v0
    coef[2, 0] = d1 / v1
    coef[2, 1] = 1.0 / v1
    coef[3, 0] = -(d0 * d0 - v0) / (2.0 * v0 * v0)
    coef[3, 1] = -d0 / (v0 * v0)
    coef[3, 2] = -1.0 / (2.0 * v0 * v0)
    coef[4, 0] = (d1 * d1 - v1) / (2.0 * v1 * v1)
    coef[4, 1] = d1 / (v1 * v1)
    coef[4, 2] = 1.0 / (2.0 * v1 * v1)
    for i in range(5):
        for j in range(i, 5):
            total = 0.0
            for p in range(3):
                for q in range(3):
                    total += coef[i, p] * coef[j, q] * power[p + q]
            hess[i, j] += total
            if j != i:
                hess[j, i] += total


@numba.njit(cache=True, nogil=True)
def _newton_direction(n, w, mu, var, sums, step):
    """Newton's step from one E-step's sums (:func:`_gradient_hessian`); returns the decrement.

    Returns ``gᵀ(−H)⁻¹g / n``, the mean log-likelihood Newton's model expects to gain, or ``−1``
    when ``H`` is not negative definite (no Newton step).
    """
    grad = np.empty(5)
    hess = np.empty((5, 5))
    _gradient_hessian(w, mu, var, sums, grad, hess)
    if not _cholesky_solve(-hess, grad, step):
        return -1.0
    decrement = 0.0
    for i in range(5):
        decrement += grad[i] * step[i]
    return decrement / n


@numba.njit(cache=True, nogil=True)
def _unpack(theta, w, mu, var):
    w[0] = 1.0 - theta[0]
    w[1] = theta[0]
    mu[0] = theta[1]
    mu[1] = theta[2]
    var[0] = theta[3]
    var[1] = theta[4]


@numba.njit(cache=True, nogil=True)
def _fit_marquardt2(x, w, mu, var, tol, max_iter, var_floor):
    """Levenberg–Marquardt on the log-likelihood of two live components, in place.

    Where the likelihood is not concave (flat ridges of overlapping components, where EM
    crawls and Newton has no step), solve ``(−H + λ diag|H|) Δ = g`` with the damping ``λ`` raised
    until the system is positive definite and the step gains likelihood, and lowered after every
    accepted step; as the region turns concave ``λ → 0`` and Newton's quadratic convergence
    returns. Stops when an undamped step's decrement is below ``tol`` (done), or when steps no
    longer change the likelihood in double precision (done: the top of a flat ridge), or gives
    up (not done: SQUAREM takes over) when the damping passes :data:`MAX_DAMPING`, which only
    a Hessian or step that is not finite makes it do. Returns ``(E-steps, done)``.
    """
    n = x.size
    sums = np.empty(11)
    trial_sums = np.empty(11)
    grad = np.empty(5)
    hess = np.empty((5, 5))
    system = np.empty((5, 5))
    step = np.empty(5)
    theta = np.array([w[1], mu[0], mu[1], var[0], var[1]])
    trial = np.empty(5)
    tw, tmu, tvar = np.empty(2), np.empty(2), np.empty(2)
    ll = _sums2_full(x, w, mu, var, sums)
    steps = 1
    damping = 0.0
    while steps < max_iter:
        _unpack(theta, w, mu, var)
        _gradient_hessian(w, mu, var, sums, grad, hess)
        while True:
            for i in range(5):
                for j in range(5):
                    system[i, j] = -hess[i, j]
                system[i, i] += damping * max(abs(hess[i, i]), 1e-300)
            if _cholesky_solve(system, grad, step):
                break
            damping = max(4.0 * damping, 1e-4)
            if damping > MAX_DAMPING:  # never positive definite: a Hessian that overflowed
                _unpack(theta, w, mu, var)
                return steps, False
        decrement = 0.0
        for i in range(5):
            decrement += grad[i] * step[i]
        decrement /= n
        for i in range(5):
            trial[i] = theta[i] + step[i]
        valid = 0.0 < trial[0] < 1.0 and trial[3] > var_floor and trial[4] > var_floor
        if damping == 0.0 and decrement < tol and valid:
            _unpack(trial, w, mu, var)
            return steps, True
        if not valid:
            damping = max(4.0 * damping, 1e-4)
            if damping > MAX_DAMPING:  # no valid step however short (a NaN direction)
                _unpack(theta, w, mu, var)
                return steps, False
            continue
        _unpack(trial, tw, tmu, tvar)
        trial_ll = _sums2_full(x, tw, tmu, tvar, trial_sums)
        steps += 1
        if trial_ll >= ll:
            if trial_ll - ll <= 4e-16 * abs(ll) and damping > 0.0:
                _unpack(trial, w, mu, var)  # flat to double precision: as high as it gets
                return steps, True
            theta[:] = trial
            sums[:] = trial_sums
            ll = trial_ll
            damping = damping / 4.0 if damping > 1e-8 else 0.0
        else:
            damping = max(4.0 * damping, 1e-4)
    _unpack(theta, w, mu, var)
    return steps, False


@numba.njit(cache=True, nogil=True)
def _cholesky_solve(a, b, out):
    """Solve ``a out = b`` for a small symmetric positive definite ``a``; False if it is not.

    Written out rather than through ``np.linalg`` (LAPACK), which would add seconds to the
    first-run compilation for a 5 × 5 system.
    """
    n = b.size
    chol = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = a[i, j]
            for k in range(j):
                s -= chol[i, k] * chol[j, k]
            if i == j:
                if not s > 0.0:
                    return False
                chol[i, i] = math.sqrt(s)
            else:
                chol[i, j] = s / chol[j, j]
    for i in range(n):  # forward: chol y = b
        s = b[i]
        for k in range(i):
            s -= chol[i, k] * out[k]
        out[i] = s / chol[i, i]
    for i in range(n - 1, -1, -1):  # backward: cholᵀ x = y
        s = out[i]
        for k in range(i + 1, n):
            s -= chol[k, i] * out[k]
        out[i] = s / chol[i, i]
    return True


@numba.njit(cache=True, nogil=True)
def _fit_newton2(x, w, mu, var, tol, max_iter, var_floor):
    """Newton's method on the log-likelihood of two live components, in place.

    Each iteration is one E-step (with the Hessian's extra sums) and one Newton step; it stops when
    the Newton decrement ``gᵀ(−H)⁻¹g / n`` (the mean log-likelihood another step would gain) falls
    below ``tol`` and returns ``(E-steps, done)``. The decrement is also the merit function: it
    must fall at every step (quadratically, near the optimum), so no likelihood is computed.
    ``done`` is False when Newton cannot proceed (a Hessian not negative definite, a step leaving
    the parameter domain or raising the decrement, a weight within 1e-6 of 0 or 1): ``w, mu,
    var`` then hold an EM update, for SQUAREM to finish.
    """
    sums = np.empty(11)
    step = np.empty(5)
    w_em = np.empty(2)
    mu_em = np.empty(2)
    var_em = np.empty(2)
    previous_decrement = np.inf
    previous_em = np.empty(6)
    steps = 0
    while steps < max_iter:
        if not (1e-6 < w[1] < 1.0 - 1e-6) or min(var[0], var[1]) <= var_floor:
            break
        _step2_newton(x, w, mu, var, w_em, mu_em, var_em, var_floor, sums)
        steps += 1
        decrement = _newton_direction(x.size, w, mu, var, sums, step)
        if decrement >= previous_decrement:  # the last Newton step did not get closer
            w[:] = previous_em[0:2]
            mu[:] = previous_em[2:4]
            var[:] = previous_em[4:6]
            return steps, False
        if decrement < 0.0:
            break
        new_w1 = w[1] + step[0]
        new_mu0 = mu[0] + step[1]
        new_mu1 = mu[1] + step[2]
        new_v0 = var[0] + step[3]
        new_v1 = var[1] + step[4]
        if not (0.0 < new_w1 < 1.0 and new_v0 > var_floor and new_v1 > var_floor):
            break
        previous_decrement = decrement
        previous_em[0:2] = w_em
        previous_em[2:4] = mu_em
        previous_em[4:6] = var_em
        w[0] = 1.0 - new_w1
        w[1] = new_w1
        mu[0] = new_mu0
        mu[1] = new_mu1
        var[0] = new_v0
        var[1] = new_v1
        if decrement < tol:
            return steps, True
    # Newton cannot continue from here: hand over the EM update of the last E-step.
    if steps > 0:
        w[:] = w_em
        mu[:] = mu_em
        var[:] = var_em
    return steps, False


@numba.njit(cache=True, nogil=True)
def _kmeans_plus_plus(rng, x, k_count, centres):
    """k-means++ seeding: the first centre uniform, each next one with probability ∝ D²."""
    n = x.size
    centres[0] = x[rng.integers(0, n)]
    dist = np.empty(n)
    for i in range(n):
        dist[i] = (x[i] - centres[0]) ** 2
    for c in range(1, k_count):
        total = dist.sum()
        if total <= 0.0:  # every point coincides with a chosen centre
            centres[c] = x[rng.integers(0, n)]
        else:
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
            dist[i] = min(dist[i], (x[i] - centres[c]) ** 2)


@numba.njit(cache=True, nogil=True)
def _assign_general(x, centres, label):
    changed = 0
    for i in range(x.size):
        best = 0
        best_d = abs(x[i] - centres[0])
        for c in range(1, centres.size):
            d = abs(x[i] - centres[c])
            if d < best_d:
                best = c
                best_d = d
        changed += best != label[i]
        label[i] = best
    return changed


@numba.njit(fastmath=FAST, error_model="numpy", cache=True, nogil=True)
def _lloyd2(x, centres):
    """Lloyd's iterations for two centres in 1-D: the assignment is a threshold at the midpoint."""
    lo = min(centres[0], centres[1])
    hi = max(centres[0], centres[1])
    for _ in range(100):
        cut = 0.5 * (lo + hi)
        count = 0.0
        below = 0.0
        total = 0.0
        for i in range(x.size):
            is_low = x[i] < cut
            count += 1.0 if is_low else 0.0
            below += x[i] if is_low else 0.0
            total += x[i]
        n_high = x.size - count
        new_lo = below / count if count > 0 else lo
        new_hi = (total - below) / n_high if n_high > 0 else hi
        if new_lo == lo and new_hi == hi:
            break
        lo, hi = new_lo, new_hi
    centres[0] = lo
    centres[1] = hi


@numba.njit(cache=True, nogil=True)
def _kmeans_init(rng, x, k_count, var_floor, w, mu, var):
    """k-means++ seeding, Lloyd's iterations, then the M-step of the hard assignment.

    As scikit-learn's default initialisation (Arthur & Vassilvitskii 2007); an empty cluster keeps
    the overall variance and weight 0.
    """
    n = x.size
    centres = np.empty(k_count)
    _kmeans_plus_plus(rng, x, k_count, centres)
    label = np.zeros(n, dtype=np.int64)
    if k_count == 2:
        _lloyd2(x, centres)
        cut = 0.5 * (centres[0] + centres[1])
        for i in range(n):
            label[i] = 1 if x[i] >= cut else 0
    else:
        _assign_general(x, centres, label)
        for _ in range(100):
            total = np.zeros(k_count)
            count = np.zeros(k_count)
            for i in range(n):
                count[label[i]] += 1.0
                total[label[i]] += x[i]
            for c in range(k_count):
                if count[c] > 0:
                    centres[c] = total[c] / count[c]
            if _assign_general(x, centres, label) == 0:
                break
    count = np.zeros(k_count)
    total = np.zeros(k_count)
    for i in range(n):
        count[label[i]] += 1.0
        total[label[i]] += x[i]
    spread = np.zeros(k_count)
    for c in range(k_count):
        mu[c] = total[c] / count[c] if count[c] > 0 else centres[c]
    for i in range(n):
        spread[label[i]] += (x[i] - mu[label[i]]) ** 2
    mean = x.mean()
    overall = 0.0
    for i in range(n):
        overall += (x[i] - mean) ** 2
    overall /= n
    for c in range(k_count):
        w[c] = count[c] / n
        var[c] = max(spread[c] / count[c], var_floor) if count[c] > 0 else max(overall, var_floor)


@numba.njit(cache=True, nogil=True)
def fit_block(rng, x, w, mu, var, tol, max_iter, var_floor, accelerate):
    """Fit every row of ``x[R, n]`` in place from a fresh k-means++ start drawn from ``rng``.

    Returns the E-steps used per row; ``w, mu, var`` are ``[R, K]``.
    """
    for r in range(w.shape[0]):
        _kmeans_init(rng, x[r], w.shape[1], var_floor, w[r], mu[r], var[r])
    return fit_block_warm(x, w, mu, var, tol, max_iter, var_floor, accelerate)


@numba.njit(cache=True, nogil=True)
def _sort_by_mean(w, mu, var):
    """Reorder one row's components by increasing mean (insertion sort: K is tiny)."""
    for i in range(1, mu.size):
        j = i
        while j > 0 and mu[j - 1] > mu[j]:
            w[j - 1], w[j] = w[j], w[j - 1]
            mu[j - 1], mu[j] = mu[j], mu[j - 1]
            var[j - 1], var[j] = var[j], var[j - 1]
            j -= 1


@numba.njit(cache=True, nogil=True)
def fit_block_warm(x, w, mu, var, tol, max_iter, var_floor, accelerate):
    """Fit every row of ``x[R, n]`` in place, starting from ``w, mu, var`` (``[R, K]``).

    Needs no random numbers (and no generator, whose unboxing costs microseconds per call).
    Components come out sorted by mean. Returns the E-steps used per row.
    """
    rows = w.shape[0]
    steps = np.empty(rows, dtype=np.int64)
    for r in range(rows):
        if not accelerate:
            steps[r] = _fit_plain(x[r], w[r], mu[r], var[r], tol, max_iter, var_floor)
        else:
            steps[r] = _fit_accelerated(x[r], w[r], mu[r], var[r], tol, max_iter, var_floor)
        _sort_by_mean(w[r], mu[r], var[r])
    return steps


@numba.njit(fastmath=FAST, error_model="numpy", cache=True, nogil=True)
def _fit_single(x, mu, var, k, var_floor):
    """The exact fit when only component ``k`` is alive: every responsibility is 1, so its
    mean and variance are the sample's (two passes, the second centred for precision)."""
    total = 0.0
    for i in range(x.size):
        total += x[i]
    mean = total / x.size
    square = 0.0
    for i in range(x.size):
        square += (x[i] - mean) ** 2
    mu[k] = mean
    var[k] = max(square / x.size, var_floor)


@numba.njit(cache=True, nogil=True)
def _fit_accelerated(x, w, mu, var, tol, max_iter, var_floor):
    """The fastest method that converges, in place; returns the E-steps (data passes) used.

    One live component (the others dead): its exact fit in closed form. Two live components:
    Newton from the start (no likelihood needed, quadratic convergence from a warm start); if it
    cannot proceed (a non-concave, flat likelihood of overlapping components),
    Levenberg–Marquardt, which damps Newton until the region turns concave. Other cases
    (K > 2, a variance on the floor, a weight within 1e-9 of 0 or 1): SQUAREM.
    """
    alive = 0
    last = 0
    for k in range(w.size):
        if w[k] > 0.0:
            alive += 1
            last = k
    if alive == 1:  # the others are dead (weight exactly 0): a single normal, in closed form
        w[:] = 0.0
        w[last] = 1.0
        _fit_single(x, mu, var, last, var_floor)
        return 1
    used = 0
    if w.size == 2 and w[0] > 0.0 and w[1] > 0.0:
        used, done = _fit_newton2(x, w, mu, var, tol, max_iter, var_floor)
        if done or used >= max_iter:
            return used
        if 1e-9 < w[1] < 1.0 - 1e-9 and min(var[0], var[1]) > var_floor:
            steps, done = _fit_marquardt2(x, w, mu, var, tol, max_iter - used, var_floor)
            used += steps
            if done or used >= max_iter:
                return used
    return used + _fit_squarem(x, w, mu, var, tol, max_iter - used, var_floor)
