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


class NotCovered(ValueError):
    """Theory has no exact result for this combination of settings (the message says which)."""


def variance_moments(var0: float, n_samples: int, n_generations: int, parts: Pieces, *,
                     divisor: str = "mle", scale: float = 1.0, known_var: bool = False,
                     real_weight: float | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    scale
        The sampling scale ``λ``: model ``t − 1`` is sampled with variance ``λ² var_{t−1}``, so
        wherever the model's group enters, its variance is ``λ² v`` (a normal only: for a
        mixture, scaling each component's deviation does not scale the total variance).
    known_var
        The fit refits only the mean; every model's variance is ``var0`` (``--fit mean``).
    real_weight
        ``w``: the weighted fit of :func:`~modelcollapse.families.gaussian.weighted_normal_fit`
        (real part weight ``W_r = w``, synthetic ``W_s = 1 − w``). Covered under ``mix`` without
        carry-over and under ``augment``, where the two parts have fixed sizes; raises
        :class:`NotCovered` elsewhere.

    Returns
    -------
    mean_var, mean_offset2
        Arrays ``[G + 1]``; generation 0 is the truth (``var0``, 0).

    Notes
    -----
    Only the fitted distribution's first two moments enter, so the result holds for any fitted
    family whose fit matches the sample's mean and variance exactly (normal MLE, EM for a
    Gaussian mixture) and for the unbiased normal fit. Variance floors are ignored.

    **Two parts** (:func:`two_part_moments`: fresh or fixed real data and model samples, no
    carry-over). With part weights ``W_r + W_s = 1`` the fit is
    ``μ = W_r m_r + W_s m_s`` and ``v = W_r v_r + W_s v_s + W_r W_s (m_r − m_s)²``; the pooled
    (unweighted) MLE is the case ``W_r = n_r / n``. With ``s`` model samples of variance
    ``λ² V`` (``V = E v_{t−1}``) and ``D = E (μ_{t−1} − c)²`` about the centre ``c`` the real
    part's mean is drawn around:

    * ``mix`` (``m`` fresh samples, ``c = μ₀``):
      ``D' = W_r² var0/m + W_s² (D + λ²V/s)`` and
      ``E v' = W_r (m−1)/m var0 + W_s (s−1)/s λ²V + W_r W_s (var0/m + λ²V/s + D)``;
    * ``augment`` (the real set of ``N`` kept, ``c`` = its mean, conditionally on it):
      ``D' = W_s² (D + λ²V/s)``, ``E v' = W_r (N−1)/N var0 + W_s (s−1)/s λ²V
      + W_r W_s (D + λ²V/s)``, and ``E (μ_t − μ₀)² = D_t + var0/N`` (the cross term vanishes
      because ``E[μ_t − m_r | real set] = 0``). The recursion is linear with coefficients that do
      not depend on the real set, so it holds unconditionally with ``E v_r = (N−1)/N var0``.
      The mean relaxes to the real set's mean, not to ``μ₀``.

    The unbiased fit multiplies the pooled MLE variance by ``n / (n − 1)``.

    A sampling scale ``λ > 1`` can make the moments grow geometrically; past the largest float
    they are ``inf`` from then on (never NaN).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        moments = _variance_moments(var0, n_samples, n_generations, parts, divisor=divisor,
                                    scale=scale, known_var=known_var, real_weight=real_weight)
    return tuple(_saturate(m) for m in moments)  # type: ignore[return-value]


def _saturate(values: np.ndarray) -> np.ndarray:
    """``values`` with ``inf`` from its first non-finite entry on (an overflowing recursion)."""
    bad = ~np.isfinite(values)
    if bad.any():
        values = values.copy()
        values[int(np.argmax(bad)):] = np.inf
    return values


def _variance_moments(var0: float, n_samples: int, n_generations: int, parts: Pieces, *,
                      divisor: str, scale: float, known_var: bool,
                      real_weight: float | None) -> tuple[np.ndarray, np.ndarray]:
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry
    scale2 = float(scale) ** 2
    if real_weight is not None and (parts.kind not in ("mix", "augment") or c):
        raise NotCovered(f"a weighted fit's moments are exact under mix without carry-over and "
                         f"under augment, not under {parts.kind}"
                         + (" with carry-over" if c else ""))
    if parts.kind == "augment" or (parts.kind == "mix" and c == 0):
        return two_part_moments(var0, n, g, parts, divisor=divisor, scale=scale,
                                known_var=known_var, real_weight=real_weight)

    def div(size: float) -> float:
        return size if divisor == "mle" else size - 1.0

    mean_var = np.empty(g + 1)
    offset2 = np.empty(g + 1)
    mean_var[0], offset2[0] = var0, 0.0
    if g == 0:
        return mean_var, offset2
    # Generation 1: N fresh samples of the truth.
    ss = (n - 1) * var0            # E SS of the last training set (mix) or of the pool
    mean_var[1] = var0 if known_var else ss / div(n)
    offset2[1] = var0 / n
    if parts.kind == "mix":  # with carry-over (no carry-over: two_part_moments)
        for t in range(2, g + 1):
            v, d, ss_prev = scale2 * mean_var[t - 1], offset2[t - 1], ss
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
            mean_var[t] = var0 if known_var else ss / div(n)
            offset2[t] = pooled_var / n + (k_model / n) ** 2 * d
        return mean_var, offset2
    if parts.kind == "accumulate":
        size = float(n)
        for t in range(2, g + 1):
            v, d = scale2 * mean_var[t - 1], offset2[t - 1]
            new = size + n
            groups_var = (var0 if m else 0.0) + (v if s else 0.0)          # Σ n_g v_g
            pooled_var = ((m * var0 if m else 0.0) + (s * v if s else 0.0)) / new
            ss = (ss + max(m - 1, 0) * var0 + max(s - 1, 0) * v + groups_var - pooled_var
                  + (size + s - (size + s) ** 2 / new) * d)
            mean_var[t] = var0 if known_var else ss / div(new)
            offset2[t] = pooled_var / new + ((size + s) / new) ** 2 * d
            size = new
        return mean_var, offset2
    if parts.kind == "accumulate-subsample":
        # State: pool (E SS, E (mean_P − μ₀)²), model (E var, E (M − μ₀)²), cross E[(M−μ₀)(P−μ₀)].
        size = float(n)
        pool_ss, pool_d, cross = ss, var0 / n, var0 / n
        for t in range(2, g + 1):
            v, d = scale2 * mean_var[t - 1], offset2[t - 1]
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
            mean_var[t] = var0 if known_var else train_ss / div(n)
            offset2[t] = pool_d + pool_ss / (new - 1) * (1 / n - 1 / new)
            cross = pool_d
            size = new
        return mean_var, offset2
    raise ValueError(f"unknown policy kind {parts.kind!r}")


def two_part_moments(var0: float, n_samples: int, n_generations: int, parts: Pieces, *,
                     divisor: str = "mle", scale: float = 1.0, known_var: bool = False,
                     real_weight: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``E var_t`` and ``E (mean_t − μ₀)²`` when every training set is a real and a model part.

    ``mix`` without carry-over (``m`` fresh samples and ``s`` of the model) and ``augment``
    (the fixed real set of ``N`` and ``s`` of the model); weighted or pooled. The recursion
    is in :func:`variance_moments`' notes.
    """
    n, g = n_samples, n_generations
    fixed = parts.kind == "augment"
    m, s = (n, parts.synthetic) if fixed else (parts.real, parts.synthetic)
    scale2 = float(scale) ** 2
    if real_weight is None:
        w_r = m / (m + s) if m + s else 1.0
    else:
        w_r = 1.0 if s == 0 else (0.0 if m == 0 else float(real_weight))
    w_s = 1.0 - w_r
    size = m + s
    # the unbiased fit rescales the pooled MLE variance (it is refused with weights)
    rescale = size / (size - 1.0) if divisor == "unbiased" and size > 1 else 1.0
    mean_var = np.empty(g + 1)
    offset2 = np.empty(g + 1)
    mean_var[0], offset2[0] = var0, 0.0
    if g == 0:
        return mean_var, offset2
    # Generation 1: N samples of the truth (the real set itself under augment).
    first = (n - 1) / n * var0 * (n / (n - 1.0) if divisor == "unbiased" and n > 1 else 1.0)
    mean_var[1] = var0 if known_var else first
    centred = 0.0 if fixed else var0 / n      # D: E (mean − centre)², centre m_r or μ₀
    offset2[1] = var0 / n
    real_within = (m - 1) / m * var0 if m else 0.0
    real_spread = 0.0 if fixed else (var0 / m if m else 0.0)   # Var of the real part's mean
    for t in range(2, g + 1):
        v = scale2 * mean_var[t - 1]
        model_spread = v / s if s else 0.0
        model_within = (s - 1) / s * v if s else 0.0
        gap = real_spread + model_spread + centred          # E (m_r − m_s)²
        var_mle = w_r * real_within + w_s * model_within + w_r * w_s * gap
        centred = w_r**2 * real_spread + w_s**2 * (centred + model_spread)
        mean_var[t] = var0 if known_var else var_mle * rescale
        offset2[t] = centred + (var0 / n if fixed else 0.0)
    return mean_var, offset2


def weighted_mean_stationary_var(var0: float, n_real: int, n_synthetic: int, real_weight: float,
                                 *, scale: float = 1.0) -> float:
    """``lim Var mean_t`` of the known-variance fit under ``mix`` with weights (no carry-over).

    From ``D' = w² var0/m + (1 − w)² (D + λ² var0/s)``:
    ``D* = var0 [w²/m + (1 − w)² λ²/s] / (1 − (1 − w)²)``. With ``m = s`` and ``λ = 1`` it is
    ``var0/m · (w² + (1 − w)²)/(w (2 − w))``, smallest at ``w = 1/φ = (√5 − 1)/2 ≈ 0.618``, the
    reciprocal of the golden ratio (He, Xu and Cheng, arXiv:2502.18049).
    """
    w = float(real_weight)
    if not 0.0 < w <= 1.0:
        raise ValueError("the weighted mean has a stationary variance only for 0 < w ≤ 1")
    return var0 * (w**2 / n_real + (1 - w) ** 2 * scale**2 / n_synthetic) / (1 - (1 - w) ** 2)


def optimal_real_weight(n_real: int, n_synthetic: int, *, scale: float = 1.0) -> float:
    """The ``w`` minimising :func:`weighted_mean_stationary_var`, by its closed form.

    With ``a = 1/m`` and ``b = λ²/s`` the stationary variance is ``(a w² + b (1 − w)²) /
    (w (2 − w))``; its derivative vanishes where ``a w² + b w − b = 0``, so
    ``w* = (−b + √(b² + 4ab)) / (2a)``: the root of ``w² + w − 1``, ``1/φ``, when ``a = b``.
    """
    a, b = 1.0 / n_real, scale**2 / n_synthetic
    return float((-b + np.sqrt(b * b + 4 * a * b)) / (2 * a))


def proportion_square_sum(q0: np.ndarray, n_samples: int, n_generations: int, parts: Pieces,
                          *, real_weight: float | None = None) -> np.ndarray:
    """``Σ_v E q_{t,v}²`` for ``t = 0..G``: one minus the expected Gini–Simpson diversity.

    Every recursion of :func:`proportion_moments` keeps ``E q_t = q0`` and is linear in
    ``E q_{t−1}²``, ``E q_{t−1}`` and the fresh real part's ``q0`` and ``q0²`` with coefficients
    that do not depend on the category, so ``E q_t² = α_t q0 + β_t q0²`` for every category.
    The sum over ``V`` categories is therefore ``α_t Σ q0 + β_t Σ q0²``, with ``α_t, β_t`` read
    off two categories (``q0 = 1`` and ``½``): O(G) work whatever ``V``, where summing the
    moments category by category costs O(V G) (minutes and gigabytes at ``V = 10⁶``).
    """
    q0 = np.asarray(q0, dtype=float)
    _, square = proportion_moments(np.array([1.0, 0.5]), n_samples, n_generations, parts,
                                   real_weight=real_weight)
    alpha = 4.0 * square[:, 1] - square[:, 0]   # s(1) = α + β, s(½) = α/2 + β/4
    beta = square[:, 0] - alpha
    return alpha * q0.sum() + beta * np.dot(q0, q0)


def proportion_moments(q0: np.ndarray | float, n_samples: int, n_generations: int,
                       parts: Pieces, *,
                       real_weight: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``E q_t`` and ``E q_t²`` of each category's fitted frequency (coin: ``q = p``).

    A category's count is binomial given the model and hypergeometric when carried over or
    subsampled, so its first two moments follow a linear recursion whatever the policy. (With
    a sampling temperature the model's tossing probability ``q^(1/τ)/…`` is not linear in ``q``
    and the recursion does not close; the coin's exact chain covers that case.)

    Parameters
    ----------
    q0
        True probabilities, shape ``[V]`` (or a scalar for the coin).
    real_weight
        ``w``: the weighted fit ``q = W_r X/m + W_s Y/s`` of a real part ``X`` and a model part
        ``Y`` (:func:`~modelcollapse.families.discrete.frequencies`); covered under ``mix``
        without carry-over and ``augment`` (:class:`NotCovered` elsewhere).

    Returns
    -------
    mean, mean_square
        Arrays ``[G + 1, V]``.

    Notes
    -----
    Two parts (``mix`` without carry-over, or ``augment``), part weights ``W_r + W_s = 1``
    (pooled: ``W_r = m/(m + s)``), ``Y ~ Bin(s, q_{t−1})`` per category:
    ``E q_t = W_r q0 + W_s E q_{t−1}`` and
    ``E q_t² = W_r² E(X/m)² + W_s² [(E q − E q²)/s + E q²]_{t−1} + 2 W_r W_s C_{t−1}``.
    Under ``mix`` the real part is fresh, ``E(X/m)² = q0(1 − q0)/m + q0²`` and
    ``C = q0 E q_{t−1}``. Under ``augment`` it is the same real set every generation, so
    ``C_t = E[(X/N) q_t] = W_r E(X/N)² + W_s C_{t−1}``, tracked alongside.
    """
    q0 = np.atleast_1d(np.asarray(q0, dtype=float))
    n, g = n_samples, n_generations
    m, s, c = parts.real, parts.synthetic, parts.carry
    if real_weight is not None and (parts.kind not in ("mix", "augment") or c):
        raise NotCovered(f"a weighted fit's moments are exact under mix without carry-over and "
                         f"under augment, not under {parts.kind}"
                         + (" with carry-over" if c else ""))
    mean = np.empty((g + 1, q0.size))
    square = np.empty((g + 1, q0.size))
    mean[0], square[0] = q0, q0**2
    if g == 0:
        return mean, square
    # Generation 1: H ~ Bin(N, q0), q = H / N.
    mean[1] = q0
    square[1] = (n * q0 * (1 - q0) + (n * q0) ** 2) / n**2
    if parts.kind == "augment" or real_weight is not None:
        w_r = m / (m + s) if real_weight is None else (
            1.0 if s == 0 else (0.0 if m == 0 else float(real_weight)))
        w_s = 1.0 - w_r
        real_square = square[1] if parts.kind == "augment" else (
            q0 * (1 - q0) / m + q0**2 if m else q0**2)
        cross = square[1]     # augment: E[(X/N) q_1] = E (X/N)², since q_1 = X/N
        for t in range(2, g + 1):
            a, b = mean[t - 1], square[t - 1]
            model_square = (a - b) / s + b if s else b
            pair = cross if parts.kind == "augment" else q0 * a
            mean[t] = w_r * q0 + w_s * a
            square[t] = w_r**2 * real_square + w_s**2 * model_square + 2 * w_r * w_s * pair
            if parts.kind == "augment":
                cross = w_r * real_square + w_s * cross
        return mean, square

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
