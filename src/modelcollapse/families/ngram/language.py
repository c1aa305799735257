"""The n-gram family's truth: a synthetic Zipfian language or a corpus, with its fixed tables.

:func:`synthetic_language` draws a random sparse Markov chain of order ``n − 1`` over ``V``
Zipfian tokens from ``--truth-seed`` and tabulates what the metrics need exactly: the chain's
conditional probabilities, its expected context occupancy over a sequence of length ``L``
(:func:`occupancy`, for the exact KL rate), the tail's token ids and a held-out text.
:func:`corpus_language` does the same from a tokenised corpus (:mod:`~modelcollapse.families.
ngram.corpora`): the last 10% held out, the rest the truth to draw real chunks from. Both are
cached by their settings, so a family rebuilt many times builds its truth once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...errors import ConfigError
from ...training_sets import Sequences
from ..categorical import zipf_probabilities
from . import corpora
from .model import context_ids, ngram_counts, sequence_lengths, starts_of

#: Held-out share of a corpus (its end).
HELDOUT_SHARE = 0.1

#: Share of types counted as the tail.
TAIL_SHARE = 0.1


def _pseudo_word(v: int) -> str:
    """A pronounceable name for synthetic token ``v`` (frequent tokens get short names)."""
    syllables = [c + w for c in "bdfgklmnprstvz" for w in "aeiou"]
    word = syllables[v % len(syllables)]
    v //= len(syllables)
    while v:
        word += syllables[v % len(syllables)]
        v //= len(syllables)
    return word


@dataclass(frozen=True, eq=False)
class Language:
    """Everything fixed about a truth, computed once per setting (see :func:`_language`).

    Attributes
    ----------
    vocab, order, n_contexts
        ``V``, ``n``, ``C = (V + 1)^(n−1)``.
    probs
        Exact ``q(w | h)`` ``[C, V]`` (synthetic truth; ``None`` for a corpus).
    freq
        The truth's parameters: expected (synthetic) or observed (corpus) frequencies of
        (context, token) pairs in length-``L`` sequences, ``[C, V]``, summing to 1.
    heldout
        The held-out text.
    heldout_ids, heldout_counts
        Distinct held-out (context, token) ids ``h V + w`` and their counts.
    tail
        Boolean ``[V]``: the truth's rarest ``⌈V/10⌉`` types.
    words, separator
        Token strings and how to join them.
    train
        The corpus's training tokens (``None`` for the synthetic truth).
    n_train
        Tokens behind ``freq`` for a corpus (0 for the synthetic truth).
    """

    vocab: int
    order: int
    n_contexts: int
    probs: np.ndarray | None
    freq: np.ndarray
    heldout: Sequences
    heldout_ids: np.ndarray
    heldout_counts: np.ndarray
    tail: np.ndarray
    words: tuple[str, ...]
    separator: str
    train: np.ndarray | None
    n_train: int

    @property
    def entropy_rate(self) -> float:
        """``−Σ_h F(h) Σ_w q log q``: nats per token of a length-``L`` sequence (synthetic)."""
        assert self.probs is not None
        q = self.probs
        with np.errstate(divide="ignore", invalid="ignore"):
            logq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), 0.0)
        return float(-(self.freq * logq).sum())


def occupancy(probs: np.ndarray, length: int) -> np.ndarray:
    """Expected (context, token) frequencies ``F[h, w]`` over a length-``L`` sequence, exactly.

    ``π_1`` is the point mass on the all-BOS context; ``π_{i+1}(h') = Σ_{(h,w) → h'} π_i(h)
    q(w|h)``; ``F = (1/L) Σ_i π_i(h) q(w|h)``.
    """
    n_ctx, vocab = probs.shape
    following = ((np.arange(n_ctx)[:, None] * (vocab + 1) + np.arange(vocab)) % n_ctx).ravel()
    pi: np.ndarray = np.zeros(n_ctx)
    pi[-1] = 1.0
    freq = np.zeros_like(probs)
    for _ in range(length):
        joint = pi[:, None] * probs
        freq += joint
        pi = np.bincount(following, weights=joint.ravel(), minlength=n_ctx)
    return freq / length


def _tail(unigram: np.ndarray) -> np.ndarray:
    """The ``⌈V/10⌉`` types of smallest frequency (ties: the later id)."""
    vocab = unigram.size
    size = max(1, math.ceil(TAIL_SHARE * vocab))
    order = np.lexsort((-np.arange(vocab), unigram))  # ascending frequency, later id first
    tail = np.zeros(vocab, dtype=bool)
    tail[order[:size]] = True
    return tail


def _heldout_table(heldout: Sequences, vocab: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    ids = context_ids(heldout.tokens, heldout.starts, vocab=vocab, order=order) * vocab
    ids = (ids + heldout.tokens)[0]
    unique, counts = np.unique(ids, return_counts=True)
    return unique, counts.astype(float)


@lru_cache(maxsize=16)
def synthetic_language(vocab: int, zipf: float, order: int, density: float, truth_seed: int,
                       length: int, heldout: int) -> Language:
    """The synthetic truth: its chain, exact frequencies and a held-out sample."""
    n_ctx = (vocab + 1) ** (order - 1)
    weights = zipf_probabilities(vocab, zipf)
    if order == 1:
        probs = weights[None, :].copy()
    else:
        rng = np.random.default_rng([truth_seed, vocab, order])
        allowed = rng.random((n_ctx, vocab)) < density
        allowed[:, 0] = True  # every context can continue
        probs = weights * rng.exponential(size=(n_ctx, vocab)) * allowed
        probs /= probs.sum(axis=1, keepdims=True)
    from .sampling import generate  # numba: imported when a language is built (start-up)

    freq = occupancy(probs, length)
    lengths = sequence_lengths(heldout, length)
    text = generate(probs[None], lengths, np.random.default_rng([truth_seed, 1]), 1)
    ids, counts = _heldout_table(text, vocab, order)
    return Language(vocab, order, n_ctx, probs, freq, text, ids, counts,
                    _tail(freq.sum(axis=0)), tuple(_pseudo_word(v) for v in range(vocab)), " ",
                    None, 0)


@lru_cache(maxsize=8)
def corpus_language(source: str, tokens: str, max_vocab: int, order: int,
                    length: int) -> Language:
    """A corpus truth: training text, its n-gram frequencies, the held-out end."""
    corpus = corpora.load_corpus(source, tokens=tokens, max_vocab=max_vocab)
    vocab = len(corpus.vocabulary)
    n_held = max(1, math.floor(HELDOUT_SHARE * corpus.tokens.size))
    train, held = corpus.tokens[:-n_held], corpus.tokens[-n_held:]
    if train.size < length:
        where = "the demo corpus" if source == corpora.DEMO else source
        raise ConfigError("length", f"must be at most the training text of corpus {where} "
                          f"({train.size} {tokens} tokens after holding out the last {n_held}); "
                          "use a shorter length or a longer corpus", length)
    n_ctx = (vocab + 1) ** (order - 1)
    as_text = Sequences(train[None], starts_of(sequence_lengths(train.size, length), 1))
    freq = ngram_counts(as_text, vocab=vocab, order=order)[0] / train.size
    held_text = Sequences(held[None], starts_of(sequence_lengths(held.size, length), 1))
    ids, counts = _heldout_table(held_text, vocab, order)
    return Language(vocab, order, n_ctx, None, freq, held_text, ids, counts,
                    _tail(freq.sum(axis=0)), corpus.vocabulary, corpus.separator,
                    train, int(train.size))
