"""Whole sequences as curation units: their likelihoods, and exact expectations over them.

Curation (:mod:`modelcollapse.curation`) treats each generated sequence of ``L`` tokens as one
unit. A sequence ``x = (x_1, …, x_L)`` is produced by the generator
(:mod:`~modelcollapse.families.ngram.sampling`) from the all-BOS context, each token drawn from
the row of its context, and the context then shifted (``h ← (h (V + 1) + x_i) mod C``). So the
first ``n − 1`` tokens are conditioned on *BOS-padded* contexts (``(BOS, BOS)``, then
``(BOS, x_1)`` for ``n = 3``), which are ordinary rows of the table (the fit counts them at every
sequence start, :func:`~modelcollapse.families.ngram.model.context_ids`), and the probability
with which the generator produced ``x`` from a table ``p`` is exactly

``P(x) = Π_{i=1}^{L} p(x_i | h_i)``, ``h_1 = (BOS, …, BOS)``, ``h_{i+1} = (h_i, x_i)`` truncated
to its last ``n − 1`` symbols.

No marginal or back-off law is used for short contexts: the BOS-padded row *is* the law the
generator used (:func:`sequence_log_likelihood`).

Expectations over sequences (the metric ``reward``, ``E_model r``) are exact: the law of the
context at position ``i``, ``π_i``, starts as the point mass on the all-BOS context and moves
by ``π_{i+1}(h') = Σ_{(h, w) → h'} π_i(h) p(w | h)`` (:func:`context_occupancy`), a batched
matrix–vector product per position over the ``C × V`` table; no sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...training_sets import Sequences
from .model import context_ids


@dataclass(frozen=True, eq=False)
class DrawnText(Sequences):
    """Candidate sequences together with the parameters of the model that drew them.

    The ``self`` reward scores a candidate by the log-probability the drawing model gives it,
    but a reward's ``score`` sees only the units; so :meth:`NGram.draw_units` attaches the
    model's parameters here. Joining or selecting units (``concat``, ``take_units``) gives plain
    :class:`~modelcollapse.training_sets.Sequences`.

    Parameters
    ----------
    model
        ``[R, P]``: the parameters the sequences were drawn from.
    """

    model: np.ndarray | None = None


def token_probs(table: np.ndarray, units: Sequences, *, order: int) -> np.ndarray:
    """``p(x_i | h_i)`` of every token of ``units`` under ``table``, with BOS-padded contexts.

    Any table of per-(context, token) values can be read this way (log values too).

    Parameters
    ----------
    table
        ``[R or 1, C, V]`` conditional probabilities (one shared table, or one per row of
        ``units``).
    units
        ``R`` rows of concatenated sequences.
    order
        ``n``.

    Returns
    -------
    numpy.ndarray
        ``float [R, m]``.
    """
    rows, n_ctx, vocab = table.shape
    tokens = np.asarray(units.tokens, dtype=np.int64)
    ids = context_ids(tokens, units.starts, vocab=vocab, order=order) * vocab + tokens
    flat = table.reshape(rows, n_ctx * vocab)
    if rows == 1:
        return flat[0][ids]
    return np.take_along_axis(flat, ids, axis=1)


def per_sequence(values: np.ndarray, length: int) -> np.ndarray:
    """``[R, k L] → [R, k, L]``: per-token values of whole length-``L`` sequences."""
    rows, m = values.shape
    if m % length:
        raise ValueError(f"units must be whole sequences of length {length}; got {m} tokens")
    return values.reshape(rows, m // length, length)


def mean_log_prob(table: np.ndarray, units: Sequences, *, order: int,
                  length: int) -> np.ndarray:
    """``(1/L) log P(x)``: the mean log-probability per token of each sequence, ``[R, k]``."""
    with np.errstate(divide="ignore"):
        logp = np.log(token_probs(table, units, order=order))
    return per_sequence(logp, length).mean(axis=-1)


def sequence_log_likelihood(table: np.ndarray, units: Sequences, *, order: int,
                            length: int) -> np.ndarray:
    """``log P(x) = Σ_i log p(x_i | h_i)`` of each length-``L`` sequence (see the module notes).

    ``units`` holds ``k`` whole sequences of length ``L`` per row, as drawn for curation;
    ``−∞`` for a sequence with a token of probability 0.

    Returns
    -------
    numpy.ndarray
        ``[R, k]``.
    """
    with np.errstate(divide="ignore"):
        logp = np.log(token_probs(table, units, order=order))
    return per_sequence(logp, length).sum(axis=-1)


def context_occupancy(probs: np.ndarray, length: int) -> np.ndarray:
    """``Π(h) = Σ_{i=1}^{L} π_i(h)``: expected visits of each context in a length-``L`` sequence.

    Parameters
    ----------
    probs
        ``[B, C, V]``: the generator's table of each row (after decoding).
    length
        ``L``.

    Notes
    -----
    With ``C = (V + 1)^(n−1)`` contexts numbered in base ``V + 1`` (the most recent token the
    lowest digit, BOS the digit ``V``), write ``h = o · C' + r`` with ``o`` the oldest digit and
    ``C' = C / (V + 1)``; the next context is ``r (V + 1) + w``. So

    ``π_{i+1}(r (V + 1) + w) = Σ_o π_i(o C' + r) p(w | o C' + r)``,

    one ``[1, V + 1] × [V + 1, V]`` product per ``(row, r)``: ``O(L B C V)`` in all, exact.
    Contexts whose newest digit is BOS are reached only at ``i = 1`` (the all-BOS start).
    """
    rows, n_ctx, vocab = probs.shape
    total = np.zeros((rows, n_ctx))
    if n_ctx == 1:  # order 1: one context, visited at every position
        total[:] = length
        return total
    base = vocab + 1
    low = n_ctx // base
    # [B, C', V + 1, V]: for each remaining context r, the rows of its V + 1 possible parents.
    parents = np.ascontiguousarray(probs.reshape(rows, base, low, vocab).transpose(0, 2, 1, 3))
    pi = np.zeros((rows, n_ctx))
    pi[:, -1] = 1.0
    total += pi
    for _ in range(length - 1):
        weights = pi.reshape(rows, base, low).transpose(0, 2, 1)[:, :, None, :]
        following = np.matmul(weights, parents)[:, :, 0, :]  # [B, C', V]
        pi = np.zeros((rows, n_ctx))
        pi.reshape(rows, low, base)[:, :, :vocab] = following
        total += pi
    return total


def expected_per_token(probs: np.ndarray, log_values: np.ndarray, length: int) -> np.ndarray:
    """``E[(1/L) Σ_i f(h_i, x_i)]`` over length-``L`` sequences drawn from ``probs``, exactly.

    ``= (1/L) Σ_h Π(h) Σ_w p(w | h) f(h, w)`` (:func:`context_occupancy`), with ``0 · f = 0``
    where ``p(w | h) = 0`` or the context is never reached (so ``f = −∞`` there costs nothing);
    ``−∞`` when a reachable transition of positive probability has ``f = −∞``.

    Parameters
    ----------
    probs
        ``[B, C, V]``, the generator's tables.
    log_values
        ``f``, ``[B or 1, C, V]`` (a log-probability table).
    length
        ``L``.

    Returns
    -------
    numpy.ndarray
        ``[B]``.
    """
    with np.errstate(invalid="ignore"):
        per_context = np.where(probs > 0, probs * log_values, 0.0).sum(axis=-1)  # [B, C]
    visits = context_occupancy(probs, length)
    with np.errstate(invalid="ignore"):
        return np.where(visits > 0, visits * per_context, 0.0).sum(axis=-1) / length


def chunk_mean(log_values: np.ndarray, text: np.ndarray, *, order: int,
               length: int) -> float:
    """``E[(1/L) Σ_i f(h_i, x_i)]`` over a chunk of ``L`` tokens of ``text`` at a uniformly random
    position (how a corpus truth is sampled), exactly.

    With ``S = T − L + 1`` positions, the mean is ``(1/(S L)) Σ_s Σ_{i=0}^{L−1} f(h_{s,i},
    x_{s+i})``, ``h_{s,i}`` the context inside the chunk (BOS-padded at its start). For
    ``i ≥ n − 1`` the context is the text's own, so that part is a difference of prefix sums of
    ``f`` along the text; the ``n − 1`` padded offsets are summed over every ``s`` directly:
    ``O(n T)``.

    Parameters
    ----------
    log_values
        ``f``, ``[C, V]``.
    text
        The corpus's training tokens ``[T]``.
    """
    vocab = log_values.shape[1]
    tokens = np.asarray(text, dtype=np.int64)
    positions = tokens.size - length + 1
    base = vocab + 1
    flat = log_values.ravel()
    starts = np.zeros(tokens.size, dtype=bool)
    starts[0] = True
    own = context_ids(tokens[None], starts[None], vocab=vocab, order=order)[0]
    values = flat[own * vocab + tokens]  # f at every position with its full context
    total = 0.0
    padded = min(order - 1, length)
    with np.errstate(invalid="ignore"):
        if padded < length:
            prefix = np.concatenate([[0.0], np.cumsum(values)])
            offsets = np.arange(padded, length)
            total += float((prefix[positions + offsets] - prefix[offsets]).sum())
        for i in range(padded):
            # Offset i: the i most recent context digits are real tokens, the older ones BOS.
            ctx = np.zeros(positions, dtype=np.int64)
            for d in range(1, order):
                digit = tokens[i - d:i - d + positions] if d <= i else vocab
                ctx += digit * base ** (d - 1)
            total += float(flat[ctx * vocab + tokens[i:i + positions]].sum())
    return total / (positions * length)


def log_relative_to_best(probs: np.ndarray) -> np.ndarray:
    """``log p(w | h) − log max_u p(u | h)`` for every cell of ``probs[..., C, V]`` (``≤ 0``;
    ``−∞`` for a transition of probability 0)."""
    with np.errstate(divide="ignore"):
        return np.log(probs) - np.log(probs.max(axis=-1, keepdims=True))
