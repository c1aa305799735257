"""Exact first and second moments under every data policy, by linear recursions.

A policy builds training set ``t`` from groups (:class:`~modelcollapse.theory.assembly.Pieces`):
fresh draws of the truth, draws of model ``t − 1`` and samples carried over without replacement.
Given the past the groups are independent, and the expectation of a pooled set's sum of squares,
or of a token's count and its square, depends only on the groups' first two moments; both are
therefore linear in the previous generation's moments. Iterating the map gives ``E var_t``,
``E (mean_t − μ₀)²`` (:func:`variance_moments`), ``E q_t`` and ``E q_t²``
(:func:`proportion_moments`) exactly, for every policy, with no simulation and no approximation.
"""

from __future__ import annotations

import numpy as np

from .assembly import Pieces


def variance_moments(var0: float, n_samples: int, n_generations: int, parts: Pieces, *,
                     divisor: str = "mle") -> tuple[np.ndarray, np.ndarray]:
    """Exact ``E var_t`` and ``E (mean_t − μ₀)²`` of a normal (or GMM) refitted to its own data.

    Parameters
    ----------
    var0
        The truth's variance (of the mixture, for a GMM).
    n_samples
        ``N``.
    n_generations
        ``G``.
    parts
        The policy's :class:`Pieces`.
    divisor
        ``"mle"`` (a fit's variance is ``SS / n``; also every EM fit of a GMM, by the
        mixture-variance identity) or ``"unbiased"`` (``SS / (n − 1)``).

    Returns
    -------
    mean_var, mean_offset2
        Arrays ``[G + 1]``; generation 0 is the truth (``var0``, 0).

    Notes
    -----
    Only the fitted distribution's first two moments enter, so the result holds for any fitted
    family whose fit matches the sample's mean and variance exactly (normal MLE, EM for a
    Gaussian mixture) and for the unbiased normal fit. Variance floors are ignored.
    """
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry

    def div(size: float) -> float:
        return size if divisor == "mle" else size - 1.0

    mean_var = np.empty(g + 1)
    offset2 = np.empty(g + 1)
    mean_var[0], offset2[0] = var0, 0.0
    if g == 0:
        return mean_var, offset2
    # Generation 1: N fresh samples of the truth.
    ss = (n - 1) * var0            # E SS of the last training set (mix) or of the pool
    mean_var[1] = ss / div(n)
    offset2[1] = var0 / n
    if parts.kind == "mix":
        for t in range(2, g + 1):
            v, d, ss_prev = mean_var[t - 1], offset2[t - 1], ss
            between = ss_prev / (n - 1) if n > 1 else 0.0   # the old set's unbiased variance
            # within-group sums of squares
            ss = (max(m - 1, 0) * var0 + max(s - 1, 0) * v + max(c - 1, 0) * between)
            # Var of the group means (given the past) and of the pooled mean
            var_means = [var0 / m if m else 0.0, v / s if s else 0.0,
                         between * (1 / c - 1 / n) if c else 0.0]
            sizes = [m, s, c]
            total_var = sum(k * vm for k, vm in zip(sizes, var_means, strict=True))  # Σ n_g v_g
            pooled_var = sum(k * k * vm for k, vm in zip(sizes, var_means, strict=True)) / n
            # offsets: 0 for the real group, δ = M − μ₀ for the model and carried groups
            k_model = s + c
            ss += total_var - pooled_var + (k_model - k_model**2 / n) * d
            mean_var[t] = ss / div(n)
            offset2[t] = pooled_var / n + (k_model / n) ** 2 * d
        return mean_var, offset2
    if parts.kind == "accumulate":
        size = float(n)
        for t in range(2, g + 1):
            v, d = mean_var[t - 1], offset2[t - 1]
            new = size + n
            groups_var = (var0 if m else 0.0) + (v if s else 0.0)          # Σ n_g v_g
            pooled_var = ((m * var0 if m else 0.0) + (s * v if s else 0.0)) / new
            ss = (ss + max(m - 1, 0) * var0 + max(s - 1, 0) * v + groups_var - pooled_var
                  + (size + s - (size + s) ** 2 / new) * d)
            mean_var[t] = ss / div(new)
            offset2[t] = pooled_var / new + ((size + s) / new) ** 2 * d
            size = new
        return mean_var, offset2
    if parts.kind == "accumulate-subsample":
        # State: pool (E SS, E (mean_P − μ₀)²), model (E var, E (M − μ₀)²), cross E[(M−μ₀)(P−μ₀)].
        size = float(n)
        pool_ss, pool_d, cross = ss, var0 / n, var0 / n
        for t in range(2, g + 1):
            v, d = mean_var[t - 1], offset2[t - 1]
            new = size + n
            groups_var = (var0 if m else 0.0) + (v if s else 0.0)
            pooled_var = ((m * var0 if m else 0.0) + (s * v if s else 0.0)) / new
            # E[Σ n_g e_g² − new ē²] with e_old = π, e_model = δ: n_p π² + s δ² − (n_p π + s δ)²/new
            spread = (size * pool_d + s * d
                      - (size**2 * pool_d + 2 * size * s * cross + s**2 * d) / new)
            pool_ss = (pool_ss + max(m - 1, 0) * var0 + max(s - 1, 0) * v + groups_var
                       - pooled_var + spread)
            pool_d = (size**2 * pool_d + 2 * size * s * cross + s**2 * d) / new**2 \
                + pooled_var / new
            # training set: N drawn without replacement from the pool of `new`
            train_ss = (n - 1) * pool_ss / (new - 1)
            mean_var[t] = train_ss / div(n)
            offset2[t] = pool_d + pool_ss / (new - 1) * (1 / n - 1 / new)
            cross = pool_d
            size = new
        return mean_var, offset2
    raise ValueError(f"unknown policy kind {parts.kind!r}")


def proportion_moments(q0: np.ndarray | float, n_samples: int, n_generations: int,
                       parts: Pieces) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``E q_t`` and ``E q_t²`` of each category's fitted frequency (coin: ``q = p``).

    A category's count is binomial given the model and hypergeometric when carried over or
    subsampled, so its first two moments follow a linear recursion whatever the policy.

    Parameters
    ----------
    q0
        True probabilities, shape ``[V]`` (or a scalar for the coin).

    Returns
    -------
    mean, mean_square
        Arrays ``[G + 1, V]``.
    """
    q0 = np.atleast_1d(np.asarray(q0, dtype=float))
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry
    mean = np.empty((g + 1, q0.size))
    square = np.empty((g + 1, q0.size))
    mean[0], square[0] = q0, q0**2
    if g == 0:
        return mean, square
    # Generation 1: H ~ Bin(N, q0), q = H / N.
    mean[1] = q0
    square[1] = (n * q0 * (1 - q0) + (n * q0) ** 2) / n**2

    def binomial(size, prob_mean, prob_square):
        """E H, E H² of H ~ Bin(size, q) with q random: E q and E q² given."""
        return size * prob_mean, size * (prob_mean - prob_square) + size**2 * prob_square

    if parts.kind == "mix":
        for t in range(2, g + 1):
            a, b = mean[t - 1], square[t - 1]  # E q, E q² of model t − 1 (= the last set's)
            xr, xr2 = binomial(m, q0, q0**2)
            ys, ys2 = binomial(s, a, b)
            # carried: hypergeometric c of N from a set with H = N q heads
            zc = c * a
            zc2 = (c * (n - c) / (n - 1) * (a - b) + c * c * b) if n > 1 else c * c * b
            cross = 2 * (xr * ys + xr * zc) + 2 * s * c * b  # E[XY], E[XZ], E[YZ] = s c E q²
            mean[t] = (xr + ys + zc) / n
            square[t] = (xr2 + ys2 + zc2 + cross) / n**2
        return mean, square
    if parts.kind in ("accumulate", "accumulate-subsample"):
        size = float(n)
        h, h2 = n * mean[1], n * n * square[1]  # pool heads: E H, E H²
        model_q, model_q2 = mean[1], square[1]
        cross_qh = h2 / n  # E[q H] with q = H / N at t = 1
        for t in range(2, g + 1):
            new = size + n
            xr, xr2 = binomial(m, q0, q0**2)
            ys, ys2 = binomial(s, model_q, model_q2)
            ys_h = s * cross_qh          # E[Y H] = s E[q H]
            h_new = h + xr + ys
            h2_new = (h2 + xr2 + ys2 + 2 * (h * xr + ys_h + xr * ys))
            if parts.kind == "accumulate":
                model_q, model_q2 = h_new / new, h2_new / new**2
                cross_qh = h2_new / new
            else:  # N drawn without replacement from the pool: hypergeometric
                model_q = h_new / new
                var_part = (n * (new - n) / (new - 1)) * (h_new / new - h2_new / new**2)
                model_q2 = (var_part + n * n * h2_new / new**2) / n**2
                cross_qh = h2_new / new   # E[q H] = E[E[T|H] H] / N = E[H²] / new
            mean[t], square[t] = model_q, model_q2
            h, h2, size = h_new, h2_new, new
        return mean, square
    raise ValueError(f"unknown policy kind {parts.kind!r}")
