"""The n-gram model as pure functions on arrays: counting, smoothing, decoding.

Text is a :class:`~modelcollapse.training_sets.Sequences` (token ids and a start mask). Every
token's context (the ``n − 1`` tokens before it, BOS-padded at a sequence's start) is one integer
in base ``V + 1`` (:func:`context_ids`); counting every (context, token) pair of a whole block is
then one ``bincount`` (:func:`ngram_counts`). :func:`conditional_probs` turns counts into smoothed
``p(w | h)`` (``mle`` with back-off, ``add-k``, interpolated Kneser–Ney) and :func:`decode` applies
temperature, top-k and top-p to them. No loop over tokens in Python, no randomness here: drawing
text from the result is :mod:`~modelcollapse.families.ngram.sampling`.
"""

from __future__ import annotations

import numpy as np

from ...training_sets import Sequences
from ..discrete import tempered


def sequence_lengths(n_tokens: int, length: int) -> np.ndarray:
    """``⌊n/L⌋`` sequences of length ``L`` and, if ``L`` does not divide ``n``, one shorter."""
    full, rest = divmod(n_tokens, length)
    return np.array([length] * full + ([rest] if rest else []), dtype=np.int64)


def starts_of(lengths: np.ndarray, n_rows: int) -> np.ndarray:
    """The start mask ``[n_rows, Σ lengths]`` of consecutive sequences of these lengths."""
    starts = np.zeros(int(lengths.sum()), dtype=bool)
    starts[np.cumsum(lengths) - lengths] = True
    return np.broadcast_to(starts, (n_rows, starts.size)).copy()


def context_ids(tokens: np.ndarray, starts: np.ndarray, *, vocab: int, order: int) -> np.ndarray:
    """The context (previous ``n − 1`` tokens, BOS-padded) of every token, as an integer id.

    Parameters
    ----------
    tokens, starts
        ``[R, n]`` token ids and sequence-start mask.
    vocab, order
        ``V`` and ``n``.

    Returns
    -------
    numpy.ndarray
        ``int64 [R, n]``, ``Σ_{j=1}^{n−1} d_j (V + 1)^(j−1)`` with ``d_j`` the token ``j``
        places back, or ``V`` (BOS) where that lies before the sequence's start.
    """
    rows, n = tokens.shape
    ctx = np.zeros((rows, n), dtype=np.int64)
    if order == 1 or n == 0:
        return ctx
    index = np.arange(n)
    last_start = np.maximum.accumulate(np.where(starts, index, 0), axis=1)
    position = index - last_start  # 0 for a sequence's first token
    base = vocab + 1
    for j in range(1, order):
        digit = np.full((rows, n), vocab, dtype=np.int64)
        digit[:, j:] = tokens[:, :-j]
        digit[position < j] = vocab
        ctx += digit * base ** (j - 1)
    return ctx


def ngram_counts(data: Sequences, *, vocab: int, order: int) -> np.ndarray:
    """Counts ``c(h, w)`` of every (context, token) pair, ``int64 [R, C, V]``.

    One ``bincount`` over ``id = h V + w``, offset by row, for the whole block.
    """
    rows = data.tokens.shape[0]
    n_ctx = (vocab + 1) ** (order - 1)
    ids = context_ids(data.tokens, data.starts, vocab=vocab, order=order) * vocab + data.tokens
    cells = n_ctx * vocab
    ids += (np.arange(rows, dtype=np.int64) * cells)[:, None]
    flat = np.bincount(ids.ravel(), minlength=rows * cells)
    return flat.reshape(rows, n_ctx, vocab)


def _lower_context(table: np.ndarray, base: int) -> np.ndarray:
    """Sum out the oldest context token: ``[B, base^(m−1), V] → [B, base^(m−2), V]``."""
    b, c, v = table.shape
    return table.reshape(b, base, c // base, v).sum(axis=1)


def _extend(lower: np.ndarray, base: int) -> np.ndarray:
    """A lower-order table seen from every context one token longer (the oldest one ignored)."""
    b, c, v = lower.shape
    return np.broadcast_to(lower[:, None], (b, base, c, v)).reshape(b, base * c, v)


def conditional_probs(counts: np.ndarray, *, smoothing: str, add_k: float = 1.0,
                      discount: float = 0.75) -> np.ndarray:
    """Smoothed conditional probabilities ``p(w | h)`` from counts ``[B, C, V]``.

    With ``c(h) = Σ_w c(h, w)``, ``h'`` the context without its oldest token:

    ``mle``
        ``c(h, w) / c(h)``; an unseen context (``c(h) = 0``, possible when an n-gram occurred
        only at the end of a sequence) backs off to the order-``n − 1`` MLE, recursively.
    ``add-k``
        ``(c(h, w) + k) / (c(h) + k V)`` (Lidstone; ``k = 1`` is Laplace).
    ``kn``
        Interpolated Kneser–Ney with discount ``D`` (Chen & Goodman 1999):
        ``p(w|h) = [max(a(h,w) − D, 0) + D T(h) p(w|h')] / a(h)``, where ``a`` is the raw count
        at the highest order and, at lower orders, the continuation count ``N₁₊(• h w)`` (number
        of distinct tokens, BOS included, seen before ``h w``); ``T(h)`` is the number of
        ``w`` with ``a(h, w) > 0``. The unigram level interpolates with the uniform ``1/V``, so
        every probability is positive. An unseen context takes ``p(w|h')``. Rows sum to 1
        because every positive ``a`` is ≥ 1 ≥ ``D``.

    Returns
    -------
    numpy.ndarray
        ``float64 [B, C, V]``, every row summing to 1.
    """
    counts = np.asarray(counts, dtype=float)
    b, n_ctx, vocab = counts.shape
    base = vocab + 1
    order, contexts = 1, n_ctx
    while contexts > 1:  # C = (V + 1)^(n − 1)
        contexts //= base
        order += 1
    if smoothing == "add-k":
        return (counts + add_k) / (counts.sum(axis=-1, keepdims=True) + add_k * vocab)
    # Tables of every order, lowest first: raw counts (mle) or continuation counts (kn).
    tables = [counts]
    raw = counts
    for _ in range(order - 1):
        lower = _lower_context(raw, base)
        if smoothing == "kn":
            b_, c_, v_ = raw.shape
            tables.insert(0, (raw.reshape(b_, base, c_ // base, v_) > 0).sum(axis=1)
                          .astype(float))
        else:
            tables.insert(0, lower)
        raw = lower
    probs = np.full((b, 1, vocab), 1.0 / vocab)  # order 0: uniform
    for m, a in enumerate(tables, start=1):
        lower = probs if m == 1 else _extend(probs, base)
        total = a.sum(axis=-1, keepdims=True)
        seen = total > 0
        safe = np.where(seen, total, 1.0)
        if smoothing == "kn":
            types = (a > 0).sum(axis=-1, keepdims=True)
            own = (np.maximum(a - discount, 0.0) + discount * types * lower) / safe
        else:
            own = a / safe
        probs = np.where(seen, own, lower)
    return probs


def decoding_words(*, temperature: float, top_k: int, top_p: float) -> str:
    """``"T = 0.8, top-k 5"``: the decoding settings that differ from plain sampling, in words
    (``"plain sampling"`` when none does), for a family's ``describe()``."""
    words = []
    if temperature != 1.0:
        words.append(f"T = {temperature:g}")
    if top_k:
        words.append(f"top-k {top_k}")
    if top_p < 1.0:
        words.append(f"top-p {top_p:g}")
    return ", ".join(words) or "plain sampling"


def decode(probs: np.ndarray, *, temperature: float = 1.0, top_k: int = 0,
           top_p: float = 1.0) -> np.ndarray:
    """The sampling distribution after temperature, top-k and top-p (nucleus) truncation.

    In this order, per context row ``p``: ``p^(1/T)`` renormalised; keep the ``k`` most probable
    tokens (``k = 0``: all); keep the smallest set of most probable tokens whose probability
    reaches ``top_p`` (a token is kept when the probability of the tokens ranked above it is
    below ``top_p``, so the most probable token always is); renormalise. Ties in rank go to the
    lower id. Truncation only removes tokens: every token it drops has probability 0 afterwards.

    Parameters
    ----------
    probs
        ``[..., V]``, rows summing to 1.
    """
    p = tempered(probs, temperature)
    vocab = p.shape[-1]
    if (top_k == 0 or top_k >= vocab) and top_p >= 1.0:
        return p
    order = np.argsort(-p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    keep = np.ones(ranked.shape, dtype=bool)
    if 0 < top_k < vocab:
        keep[..., top_k:] = False
    if top_p < 1.0:
        before = np.cumsum(ranked, axis=-1) - ranked
        keep &= before < top_p - 1e-12
    kept = np.where(keep, ranked, 0.0)
    out = np.empty_like(p)
    np.put_along_axis(out, order, kept, axis=-1)
    return out / out.sum(axis=-1, keepdims=True)
