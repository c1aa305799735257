"""Draws from a block of fitted 1-D Gaussian mixtures (a numba kernel).

:func:`sample_block` draws each row's component counts as a multinomial (a chain of binomials)
and then each component's normals with numpy's own ziggurat generator compiled by numba, from the
block's generator, so the draws are the same numbers on every machine.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def sample_block(rng, w, mu, sd, n, out):
    """``n`` draws from each row's mixture into ``out[R, n]``, grouped by component.

    Component counts are multinomial, drawn as a chain of binomials; the order of the draws within
    a row carries no information (every consumer treats a training set as a multiset).
    """
    rows, k_count = w.shape
    for r in range(rows):
        last = k_count - 1  # the last live component takes what the binomial chain leaves
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
            for i in range(start, start + count):
                out[r, i] = mu[r, k] + sd[r, k] * rng.standard_normal()
            start += count
            remaining -= count
            rest -= w[r, k]
