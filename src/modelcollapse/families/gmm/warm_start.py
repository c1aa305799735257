"""The warm start of a mixture fit, with coinciding components split apart (plain numpy).

A warm start (``--init warm``, the default) starts each generation's EM at the previous
generation's fit, and generation 1's at the truth. If two or more live components of that start
coincide (the same mean and variance, whatever their weights), EM can never separate them: their
responsibilities stay proportional to their weights, so every M-step gives them the same mean and
variance again. The symmetric point is a fixed point of EM (and a critical point of the
likelihood, where Newton's method has no step either); started there, the fit stays a single
normal written as ``K`` components, and rounding noise, the only thing that tells them apart,
makes the fit crawl along an almost flat ridge instead of converging. This is what a truth with
coinciding components (``--means 0,0``: Shumailov et al.'s single blob fitted with two
components) does to every replicate from generation 1 on.

:func:`split_coinciding` breaks the symmetry before the fit, deterministically (no random draw,
so results stay a function of the configuration and the seed and no other draw moves). Each
group ``G`` of coinciding live components is replaced by the *hard split* of the normal with the
group's moments, ``N(M, V)`` with weights ``p_j = w_j / W``, ``W = Σ_{j∈G} w_j``,
``M = Σ p_j μ_j`` and ``V = Σ p_j (σ²_j + (μ_j − M)²)``: the real line is cut at the normal's
quantiles ``z_j = Φ⁻¹(p_1 + … + p_j)`` into slabs of probability ``p_j`` (in the components'
order), and component ``j`` becomes the normal's restriction to its slab ``(a, b)``, in standard
units

    μ_j = M + √V (φ(a) − φ(b)) / p_j,
    σ²_j = V [1 + (a φ(a) − b φ(b)) / p_j − ((φ(a) − φ(b)) / p_j)²],

the moments of a truncated normal. That is the M-step of the hard assignment k-means converges
to on a normal population, so the split start is where ``--init kmeans`` would start on a blob,
without drawing a random number. Weights are unchanged, and by the law of total variance the
split keeps the group's mean and variance, hence the mixture's mean and total variance: the
start moves only along the directions the symmetry had frozen. For two equal weights it is
``M ± 0.798 √V`` with variances ``0.363 V`` each.

Components coincide when their means differ by at most :data:`TIE` standard deviations and their
variances by at most :data:`TIE` relatively. A start with no coinciding components is returned
as it is (the same object), so every run without them draws and fits exactly as before.
"""

from __future__ import annotations

import numpy as np

#: Components whose means differ by at most ``TIE`` standard deviations and whose variances
#: differ by at most ``TIE`` relatively are one component for EM. ``TIE`` is about the square
#: root of float64's resolution: far above the rounding noise that separates components started
#: at the same point (about 1e-14 after 25 generations), and far below any separation a sample
#: can resolve (a mean's standard error is at least 1e-6 σ with N ≤ 10^12 samples).
TIE = 1e-8


def coinciding(w: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Which pairs of live components coincide, ``[..., K, K]`` (the diagonal: live ones).

    Parameters
    ----------
    w, mu, var
        Weights, means and variances, each ``[..., K]``.

    Notes
    -----
    Components ``i`` and ``j`` coincide when both are alive (``w > 0``, finite variance) and
    ``|μ_i − μ_j| ≤ TIE · max(σ_i, σ_j)`` and ``|σ²_i − σ²_j| ≤ TIE · max(σ²_i, σ²_j)``. An
    infinite variance (a blown-up model) coincides with nothing.
    """
    with np.errstate(invalid="ignore"):
        wide = np.maximum(var[..., :, None], var[..., None, :])
        close = ((np.abs(mu[..., :, None] - mu[..., None, :]) <= TIE * np.sqrt(wide))
                 & (np.abs(var[..., :, None] - var[..., None, :]) <= TIE * wide))
    alive = (w > 0.0) & np.isfinite(var)  # |1 − ∞| ≤ TIE · ∞ would count as close
    return close & alive[..., :, None] & alive[..., None, :]


def split_coinciding(params: np.ndarray, var_floor: float) -> np.ndarray:
    """A warm start with every group of coinciding components split apart.

    Parameters
    ----------
    params
        The start, ``[R, 3, K]``: weights, means and variances of each replicate's mixture (the
        previous generation's fit, or the truth at generation 1).
    var_floor
        Lower bound on every variance; a split variance below it is raised to it.

    Returns
    -------
    numpy.ndarray
        ``params`` itself when no live components coincide (nothing is copied or changed);
        otherwise a new array in which each group ``G`` of coinciding components is the hard
        split of ``N(M, V)`` at its quantiles (the module's docstring): weights kept,

        .. math::

            μ_j = M + \\sqrt{V}\\, \\frac{φ(a_j) − φ(b_j)}{p_j}, \\qquad
            σ^2_j = V \\Bigl[1 + \\frac{a_j φ(a_j) − b_j φ(b_j)}{p_j}
                    − \\Bigl(\\frac{φ(a_j) − φ(b_j)}{p_j}\\Bigr)^2\\Bigr],

        with ``p_j = w_j / Σ_G w``, ``a_j = Φ⁻¹(Σ_{i<j} p_i)``, ``b_j = Φ⁻¹(Σ_{i≤j} p_i)``, so
        ``Σ_G p_j μ_j = M`` and ``Σ_G p_j (σ²_j + (μ_j − M)²) = V``.

    Notes
    -----
    Vectorised over replicates (no loop over rows): a group is named by its first member
    (the lowest index coinciding with a component), and sums over a group are sums over a
    ``[R, K, K]`` mask. Components not in a group of two or more keep their values bit for bit.
    """
    w, mu, var = params[:, 0], params[:, 1], params[:, 2]
    # Coinciding means are neighbours in the order of the means, within TIE of the widest
    # component: a test of K − 1 gaps per row that every ordinary start fails, so the loop pays
    # microseconds, not the pairwise test below, per generation.
    with np.errstate(invalid="ignore"):
        reach = TIE * np.sqrt(np.max(var, axis=-1, keepdims=True))
        if not (np.diff(np.sort(mu, axis=-1), axis=-1) <= reach).any():
            return params
    close = coinciding(w, mu, var)
    k_count = w.shape[-1]
    index = np.arange(k_count)
    # The first component each one coincides with names its group (always a live one); a dead
    # or blown-up component coincides with nothing, not even itself, so it is in no group.
    leader = np.where(close.any(axis=-2), np.argmax(close, axis=-2), index)
    grouped = np.asarray(close.any(axis=-1))  # live and finite: coincides with itself
    same = (leader[..., :, None] == leader[..., None, :]) & grouped[..., :, None]
    size = same.sum(axis=-2)  # [R, K]: members of each component's group (itself included)
    split = size >= 2
    if not split.any():
        return params

    # Sums over member j's group are sums over the rows i of `same[..., i, j]`; a member's
    # group mean is the same whichever member is asked, so (mu - mean) pairs each i with its own.
    total = np.where(split, np.einsum("...ij,...i->...j", same, w), 1.0)  # W > 0 in a group
    p = np.where(split, w / total, 1.0)
    mean = np.einsum("...ij,...i->...j", same, w * mu) / total
    group_var = np.einsum("...ij,...i->...j", same, w * (var + (mu - mean) ** 2)) / total
    # Each cut from the nearer tail, Φ⁻¹(q) below the median and −Φ⁻¹(1 − q) above it, with
    # 1 − q summed from the weights above the cut, not subtracted: a slab of probability 1e-17
    # next to the top keeps its width, and the outermost cuts are exactly ±∞.
    before = index[:, None] < index[None, :]  # [i, j]: i comes before j
    below = np.einsum("...ij,...i->...j", same & before, w) / total  # Σ_{i<j} p_i
    after = np.einsum("...ij,...i->...j", same & before.T, w) / total  # Σ_{i>j} p_i
    a = _cut(np.where(split, below, 0.0), np.where(split, p + after, 1.0))
    b = _cut(np.where(split, below + p, 1.0), np.where(split, after, 0.0))
    phi_a, phi_b = _phi(a), _phi(b)
    with np.errstate(invalid="ignore"):  # z φ(z) at z = ±∞ is 0, not ∞ · 0
        a_phi_a = np.where(np.isfinite(a), a * phi_a, 0.0)
        b_phi_b = np.where(np.isfinite(b), b * phi_b, 0.0)
    # p_j > 0 for every live member (a dead component is in no group), but a weight below
    # float64's resolution of its group's can make it a subnormal or 0.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shift = (phi_a - phi_b) / p
        scale = 1.0 + (a_phi_a - b_phi_b) / p - shift * shift
        # Near float64's resolution the differences above cancel; a truncated normal's mean
        # lies in its slab and its variance in (0, 1], so clip to those, and a slab that
        # rounding left without a width (a = b) keeps the group's moments.
        shift = np.clip(shift, a, b)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    scale = np.where(np.isfinite(scale), np.clip(scale, 0.0, 1.0), 1.0)
    sd = np.sqrt(group_var)
    new_mu = np.where(split, mean + sd * shift, mu)
    new_var = np.where(split, np.maximum(group_var * scale, var_floor), var)
    out = params.copy()
    out[:, 1] = new_mu
    out[:, 2] = new_var
    return out


def _cut(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The standard normal quantile of lower-tail probability ``lower = 1 − upper``, from
    whichever tail is smaller (``Φ⁻¹(0) = −∞``, ``Φ⁻¹(1) = +∞``)."""
    from scipy.special import ndtri

    return np.where(lower <= upper, ndtri(np.minimum(lower, 1.0)),
                    -ndtri(np.minimum(upper, 1.0)))


def _phi(z: np.ndarray) -> np.ndarray:
    """The standard normal density (0 at ±∞)."""
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
