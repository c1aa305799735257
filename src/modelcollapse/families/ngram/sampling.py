"""Generating text from an n-gram model: token sequences drawn by inversion (a numba kernel).

:func:`generate` draws every uniform of a block from the block's generator at once, then the
compiled :func:`generate_tokens` walks each sequence from the all-BOS context, finding each next
token by binary search in its context's cumulative distribution (a token of probability 0 is
never chosen). It is kept apart from the counting so that nothing but generation imports numba.
"""

from __future__ import annotations

import numba
import numpy as np

from ...training_sets import Sequences
from .model import starts_of


@numba.njit(cache=True, nogil=True)
def generate_tokens(cdf, lengths, uniforms):  # pragma: no cover (compiled)
    """Token ids ``[R, Σ lengths]``: sequences from the all-BOS context, by inversion.

    ``cdf[r or 0, h]`` is the cumulative distribution of the next token after context ``h`` (last
    entry 1). A binary search finds the first entry above the uniform, so a token of probability
    0 (a flat step) is never chosen.
    """
    rows, n = uniforms.shape
    n_ctx, vocab = cdf.shape[1], cdf.shape[2]
    base = vocab + 1
    shared = cdf.shape[0] == 1
    out = np.empty((rows, n), dtype=np.int32)
    for r in range(rows):
        table = cdf[0] if shared else cdf[r]
        i = 0
        for length in lengths:
            ctx = n_ctx - 1
            for _ in range(length):
                u = uniforms[r, i]
                lo, hi = 0, vocab - 1
                while lo < hi:
                    mid = (lo + hi) // 2
                    if table[ctx, mid] > u:
                        hi = mid
                    else:
                        lo = mid + 1
                out[r, i] = lo
                ctx = (ctx * base + lo) % n_ctx
                i += 1
    return out


def generate(probs: np.ndarray, lengths: np.ndarray, rng: np.random.Generator,
             n_rows: int) -> Sequences:
    """Sample sequences of the given lengths from ``probs[1 or R, C, V]``."""
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[..., -1:]
    uniforms = rng.random((n_rows, int(lengths.sum())))
    tokens = generate_tokens(np.ascontiguousarray(cdf), lengths, uniforms)
    return Sequences(tokens, starts_of(lengths, n_rows))
