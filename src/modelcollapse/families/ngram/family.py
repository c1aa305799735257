"""n-gram language models that are trained on text they generated, with decoding strategies.

An order-``n`` model predicts each token from the ``n − 1`` tokens before it. Text is a set of
sequences of length ``L`` (``--length``); each sequence starts from a context of ``n − 1``
beginning-of-sequence symbols (BOS), so the model learns how sequences begin, as a language model
trained on documents does. ``n = 1`` is the unigram, the :mod:`categorical` family in text form.

Truth (generation 0), one of

* a synthetic language (default): a random sparse Markov chain of order ``n − 1`` over ``V``
  tokens whose frequencies are Zipfian. For every context ``h`` each token ``v`` may follow
  with probability ``density`` (token 0 always may), and
  ``q(v | h) ∝ v^(−s) g_{h,v}`` on the allowed tokens, ``g ~ Exponential(1)``: contexts differ,
  the marginal keeps the Zipf shape. For ``n = 1`` the truth is exactly Zipf(``s``), as in
  ``categorical``. The chain is drawn from ``--truth-seed`` and its law is known exactly;
* a text corpus (``--corpus FILE`` or ``--corpus demo``, see
  :mod:`modelcollapse.families.ngram.corpora`): the last 10% of the text is held out for
  perplexity and never trained on; the truth is the rest. Fresh "real" data are ``L``-token
  chunks of it at uniformly random positions.

Fit: n-gram counts (a vectorised ``bincount`` of integer n-gram ids), smoothed by ``mle``,
``add-k`` or interpolated Kneser–Ney (``kn``, the default). Generation: token by token from the
smoothed model after decoding: temperature ``T``, then top-k, then top-p (nucleus) truncation,
renormalised. The truth's own samples are never decoded: real text is real text.

Metrics (per generation; "text t" is training set ``t``, the text model ``t`` was fitted to, which
under ``replace`` is what model ``t − 1`` generated; generation 0 describes the truth):

``perplexity``
    ``exp(−(1/M) Σ_i log p̂_t(w_i | h_i))`` over the ``M`` held-out tokens, under model ``t``
    with the chosen smoothing (without decoding). Under ``mle`` it is ``inf`` as soon as a
    held-out n-gram has probability 0 in the model (mathematically infinite, and recorded so);
    under ``add-k`` and ``kn`` every probability is positive and it stays finite. For the
    synthetic truth, generation 0 is the truth's own perplexity on the held-out text, whose
    logarithm estimates the truth's entropy rate.
``kl_rate`` (synthetic truth only)
    The KL divergence rate of the truth to model ``t`` per token of a length-``L`` sequence:
    ``(1/L) KL(P_truth(x_1..L) ‖ P_t(x_1..L)) = Σ_h F(h) Σ_w q(w|h) log(q(w|h) / p̂_t(w|h))``,
    ``F(h)`` the truth's average context occupancy over the ``L`` positions (exact, by forward
    propagation of the chain; no sampling). 0 at generation 0; ``inf`` under ``mle`` once a
    possible transition has probability 0. Not defined for a corpus (whose law is unknown), so
    corpus runs do not have this metric.
``support``
    Token types that occur in text ``t`` (for ``mle`` and ``n = 1``: the model's support, as in
    ``categorical``). Generation 0: types of positive probability.
``types_2`` (``n ≥ 2``)
    Distinct bigrams (two consecutive tokens, BOS excluded) in text ``t``.
``entropy``
    Entropy (nats) of the unigram frequencies of text ``t`` (as ``categorical``'s entropy).
``tail_share``
    The share of the tokens of text ``t`` that belong to the truth's tail: the ``⌈V/10⌉`` types
    of smallest probability under the truth (ties: the later id). For the synthetic truth,
    "probability" is the exact expected frequency in length-``L`` sequences, and generation 0 is
    its exact expectation; for a corpus, frequency in the training text. Its decline is the tail
    disappearing; ``collapse_time`` is the first generation at which it falls below
    ``--collapse-fraction`` (½) of the truth's.
``rare_mass``
    The share of the truth's rarest 10% of unigram mass whose tokens model ``t`` still has, as
    ``categorical``'s: the truth's rarest types holding at most 10% of its unigram mass
    (:func:`~modelcollapse.families.discrete.rarest_tokens`; the mass is the exact expected
    frequency for the synthetic truth, the training corpus's frequency for a corpus), each
    weighted by its mass, counted when it occurs in text ``t`` (smoothing gives every type some
    probability, so "has" means "was trained on", as for ``support``). 1 at generation 0.

Parameters of a model are its training text's n-gram frequencies, ``[1/N_t, c(h, w)/N_t ...]``
(``N_t`` tokens): the counts are a sufficient statistic for every smoothing, and the frequencies
have the same scale as the truth's, whose first entry is 0 (synthetic: exact expected
frequencies) or ``−1/N`` (corpus: its training text's frequencies). Contexts are numbered in base
``V + 1`` with BOS the digit ``V`` and the most recent token the lowest digit, so the next
context is ``(h (V + 1) + w) mod (V + 1)^(n−1)`` and the all-BOS start is the last context.

Curation (:mod:`modelcollapse.curation`) selects **whole sequences**: a unit is one generated
sequence of ``L`` tokens, drawn as the loop draws model text, and a training piece of ``n``
tokens is ``⌈n/L⌉`` kept sequences with the last cut to a prefix. A sequence's likelihood is the
probability with which the generator produced it, ``Π_i p(x_i | h_i)`` with BOS-padded contexts
for its first ``n − 1`` tokens (:mod:`~modelcollapse.families.ngram.scoring`): under the
model's smoothed law for ``top``/``bottom``, under the decoded law it was drawn from and the
synthetic truth's for ``reweight``. The verifier scores per token relative to the best
continuation of each context (:meth:`NGram.belief_log_relative`); the rewards ``truth`` and
``self`` are log-probabilities per token, and their expectation under a model is exact
(:meth:`NGram.reward`). With a corpus, whose law is unknown, ``verifier``, ``reweight`` and the
reward ``truth`` are not available.

References
----------
.. [1] R. Kneser and H. Ney, "Improved backing-off for m-gram language modeling", ICASSP (1995);
   S. F. Chen and J. Goodman, "An empirical study of smoothing techniques for language
   modeling", Computer Speech & Language 13, 359–394 (1999) (interpolated Kneser–Ney).
.. [2] A. Holtzman et al., "The curious case of neural text degeneration", ICLR (2020) (nucleus
   sampling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...rewards import Reward, unknown_reward
from ...training_sets import Sequences
from ...validation import check_choice, check_float, check_int
from .. import FAMILIES
from ..base import Family, option
from ..discrete import block_for, rarest_tokens
from . import corpora
from .language import Language, corpus_language, synthetic_language
from .model import (
    conditional_probs,
    decode,
    decoding_words,
    ngram_counts,
    sequence_lengths,
    starts_of,
)
from .scoring import (
    DrawnText,
    chunk_mean,
    expected_per_token,
    log_relative_to_best,
    mean_log_prob,
    per_sequence,
    sequence_log_likelihood,
    token_probs,
)

SMOOTHINGS = ("mle", "add-k", "kn")

#: Every curator, each handling whole sequences (:mod:`~.scoring`).
CURATORS = ("none", "best-of", "verifier", "top", "bottom", "reweight")

#: The curators that need a truth whose law is known (not available with a corpus).
NEED_LAW = ("verifier", "reweight")

#: What ``--reward`` takes.
REWARDS = ("truth (the synthetic truth's log-probability per token of a sequence) or self (the "
           "model's own)")

#: ``rare_mass`` follows the truth's rarest types that together hold this share of its mass.
RARE_SHARE = 0.1

#: Largest model table (contexts × tokens) per replicate: 4M probabilities, 32 MB.
MAX_TABLE = 1 << 22

#: Most held-out tokens of the synthetic truth (drawn once, kept in memory as int32).
MAX_HELDOUT = 10**8

#: Replicates whose sample texts are kept (see :meth:`NGram.excerpts`).
EXCERPT_ROWS = 3

#: Longest excerpt, in characters.
EXCERPT_CHARS = 400


@FAMILIES.register
@dataclass(frozen=True)
class NGram(Family):
    """An order-``n`` language model trained on its own generated text (see the module notes).

    Parameters
    ----------
    order
        ``n``: tokens per n-gram (context ``n − 1``).
    vocab, zipf
        Size ``V`` and Zipf exponent ``s`` of the synthetic truth (defaults 100 and 1).
    density
        Fraction of the vocabulary that may follow each context in the synthetic truth.
    truth_seed
        Seed of the synthetic truth's chain and held-out text (part of the truth, not the run).
    corpus
        A UTF-8 text file, or ``"demo"`` (Python's own documentation topics), instead of the
        synthetic truth.
    tokens, max_vocab
        Corpus tokenisation (``chars`` or ``words``) and vocabulary cap.
    length
        ``L``: tokens per sequence (training sets are ``N / L`` sequences).
    temperature, top_k, top_p
        Decoding of generated text (defaults: plain sampling).
    smoothing, add_k, discount
        ``mle``, ``add-k`` (with ``k``) or ``kn`` (interpolated Kneser–Ney with discount ``D``).
    heldout
        Held-out tokens drawn from the synthetic truth for perplexity.
    corpus_sha256
        SHA-256 of the corpus (filled in when built; a stored run with a different one refuses
        the changed file).
    """

    name: ClassVar[str] = "ngram"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 10_000, "n_generations": 50,
                                                "n_replicates": 20}
    collapse_metric: ClassVar[str | None] = "tail_share"
    curators: ClassVar[tuple[str, ...]] = CURATORS

    order: int = option(2, flag="order", kind="int",
                        help="n-gram order n: context of n-1 tokens (default 2)")
    vocab: int = option(None, flag="vocab", kind="int",
                        help="number of tokens V (default 100)")
    zipf: float = option(None, flag="zipf",
                         help="Zipf exponent s of the truth, q_v ∝ v^-s (default 1)")
    density: float = option(0.2, flag="density",
                            help="synthetic truth: share of tokens that may follow each context "
                                 "(default 0.2)")
    truth_seed: int = option(0, flag="truth-seed", kind="int",
                             help="synthetic truth: seed of its chain and held-out text (0)")
    corpus: str | None = option(None, flag="corpus", kind="str",
                                help="train on a UTF-8 text file, or 'demo' (Python's docs)")
    tokens: str = option("chars", flag="tokens", kind="str", choices=corpora.TOKENISERS,
                         help="corpus tokens: chars or words (default chars)")
    max_vocab: int = option(1000, flag="max-vocab", kind="int",
                            help="corpus vocabulary cap; rarer tokens become <unk> (1000)")
    length: int = option(50, flag="length", kind="int",
                         help="L: tokens per generated sequence (default 50)")
    temperature: float = option(1.0, flag="temperature",
                                help="decoding temperature (default 1)")
    top_k: int = option(0, flag="top-k", kind="int",
                        help="decoding: keep the k most probable tokens (default 0: all)")
    top_p: float = option(1.0, flag="top-p",
                          help="decoding: nucleus, keep the top tokens of this mass (default 1)")
    smoothing: str = option("kn", flag="smoothing", kind="str", choices=SMOOTHINGS,
                            help="mle, add-k or kn (interpolated Kneser-Ney; default)")
    add_k: float = option(1.0, flag="add-k", help="k of add-k smoothing (default 1)")
    discount: float = option(0.75, flag="discount",
                             help="Kneser-Ney discount D in (0, 1] (default 0.75)")
    heldout: int = option(10_000, flag="heldout", kind="int",
                          help="synthetic truth: held-out tokens for perplexity (10000)")
    corpus_sha256: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("order", check_int("order", self.order, minimum=1))
        set_("length", check_int("length", self.length, minimum=1))
        set_("temperature", check_float("temperature", self.temperature, low=0.0,
                                        low_open=True, what="a number > 0"))
        set_("top_k", check_int("top_k", self.top_k, minimum=0))
        set_("top_p", check_float("top_p", self.top_p, low=0.0, high=1.0, low_open=True,
                                  what="a number in (0, 1]"))
        check_choice("smoothing", self.smoothing, SMOOTHINGS)
        set_("add_k", check_float("add_k", self.add_k, low=0.0, low_open=True,
                                  what="a number > 0"))
        set_("discount", check_float("discount", self.discount, low=0.0, high=1.0,
                                     low_open=True, what="a number in (0, 1]"))
        if self.corpus is None:
            set_("vocab", 100 if self.vocab is None else check_int("vocab", self.vocab,
                                                                  minimum=2))
            set_("zipf", 1.0 if self.zipf is None else check_float(
                "zipf", self.zipf, low=0.0, what="a number ≥ 0"))
            set_("density", check_float("density", self.density, low=0.0, high=1.0,
                                        low_open=True, what="a number in (0, 1]"))
            set_("truth_seed", check_int("truth_seed", self.truth_seed, minimum=0))
            set_("heldout", check_int("heldout", self.heldout, minimum=1))
            if self.heldout > MAX_HELDOUT:
                raise ConfigError("heldout", "must be an integer between 1 and 10^8",
                                  self.heldout)
            self._check_table(self.vocab)
            return
        for name in ("vocab", "zipf"):
            if getattr(self, name) is not None:
                raise ConfigError(name, "sets the synthetic truth; it does not apply with corpus "
                                  "(cap a corpus's vocabulary with max-vocab)")
        if not isinstance(self.corpus, str) or not self.corpus.strip():
            raise ConfigError("corpus", "must be a file path or 'demo'", self.corpus)
        check_choice("tokens", self.tokens, corpora.TOKENISERS)
        set_("max_vocab", check_int("max_vocab", self.max_vocab, minimum=2))
        source = corpora.resolve_source(self.corpus)
        set_("corpus", source)
        # Reading a file is I/O; it happens here, once (cached), never in the loop.
        corpus = corpora.load_corpus(source, tokens=self.tokens, max_vocab=self.max_vocab)
        if self.corpus_sha256 is not None and self.corpus_sha256 != corpus.sha256:
            raise ConfigError("corpus", f"has changed since this configuration was made (its "
                              f"SHA-256 was {self.corpus_sha256[:12]}…, now "
                              f"{corpus.sha256[:12]}…)", source)
        set_("corpus_sha256", corpus.sha256)
        self._check_table(len(corpus.vocabulary))
        self.language()  # the held-out split and length check, now rather than mid-run

    def _check_table(self, vocab: int) -> None:
        """Refuse a model table over :data:`MAX_TABLE`, before computing its size: an order of
        50 (or 10^30) is refused by comparison with the largest order that fits."""
        if vocab > MAX_TABLE:
            raise ConfigError("vocab" if self.corpus is None else "max_vocab",
                              f"must be at most {MAX_TABLE:,} (one model's table of "
                              "probabilities would not fit)", vocab)
        largest = 1
        while (vocab + 1) ** largest * vocab <= MAX_TABLE:
            largest += 1
        if self.order > largest:
            cells = ((self.order - 1) * np.log10(vocab + 1) + np.log10(vocab))
            size = f"about 10^{cells:.0f}" if cells < 1000 else "far more"
            lower = "vocab" if self.corpus is None else "max-vocab"
            raise ConfigError("order", f"must be at most {largest} with V = {vocab} tokens: an "
                              f"order-n model has (V+1)^(n-1)·V probabilities ({size} for "
                              f"n = {self.order}), and at most {MAX_TABLE:,} fit; lower the "
                              f"order or the vocabulary ({lower})", self.order)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if self.length > n_samples:
            raise ConfigError("length", f"must be at most samples (N = {n_samples:,}, the "
                              "tokens of each training set, cut into sequences of length "
                              "L)", self.length)

    def idle_settings(self) -> dict[str, str]:
        """Smoothing constants of another smoothing, corpus settings without a corpus, and
        synthetic-truth settings with one (vocab and zipf are refused in ``__post_init__``)."""
        idle: dict[str, str] = {}
        if self.smoothing != "add-k":
            idle["add_k"] = (f"with smoothing {self.smoothing} (it is the k of add-k "
                             "smoothing)")
        if self.smoothing != "kn":
            idle["discount"] = (f"with smoothing {self.smoothing} (it is the discount of "
                                "Kneser-Ney smoothing, kn)")
        if self.corpus is None:
            for name, what in (("tokens", "how a corpus is split into tokens"),
                               ("max_vocab", "a corpus's vocabulary cap")):
                idle[name] = (f"without corpus (it sets {what}; the synthetic truth has "
                              "vocab tokens)")
        else:
            for name, what in (("density", "shapes the synthetic truth's chain"),
                               ("truth_seed", "seeds the synthetic truth"),
                               ("heldout", "sizes the synthetic truth's held-out text; a "
                                           "corpus holds out its last 10%")):
                idle[name] = f"with corpus (it {what})"
        return idle

    # -- the truth and its tables --------------------------------------------------------------

    def language(self) -> Language:
        """The truth's fixed tables (cached per setting)."""
        if self.corpus is None:
            return synthetic_language(self.vocab, self.zipf, self.order, self.density,
                                      self.truth_seed, self.length, self.heldout)
        return corpus_language(self.corpus, self.tokens, self.max_vocab, self.order,
                               self.length)

    @property
    def n_tokens(self) -> int:
        """``V``, the vocabulary size."""
        return self.language().vocab

    @property
    def param_shape(self) -> tuple[int, ...]:
        lang = self.language()
        return (1 + lang.n_contexts * lang.vocab,)

    @property
    def metric_names(self) -> tuple[str, ...]:
        names = ["perplexity"]
        if self.corpus is None:
            names.append("kl_rate")
        names += ["support"]
        if self.order >= 2:
            names.append("types_2")
        return (*names, "entropy", "tail_share", "rare_mass")

    @property
    def key_metrics(self) -> tuple[str, ...]:  # type: ignore[override]
        """The fan charts: the tail first, then diversity, then fit to the truth."""
        return tuple(m for m in ("tail_share", "rare_mass", "support", "types_2", "entropy",
                                 "perplexity", "kl_rate") if m in self.metric_names)

    def truth(self) -> np.ndarray:
        lang = self.language()
        marker = 0.0 if lang.probs is not None else -1.0 / lang.n_train
        return np.concatenate([[marker], lang.freq.ravel()])

    def block_size(self, policy: Policy, n_samples: int) -> int:
        lang = self.language()
        return block_for(max(n_samples, lang.n_contexts * lang.vocab), budget=1 << 16, cap=64)

    def kernels(self) -> tuple[Any, ...]:
        from .sampling import generate_tokens  # numba: imported when text is generated (start-up)

        return (generate_tokens,)

    # -- the loop's operations -----------------------------------------------------------------

    def _counts(self, params: np.ndarray) -> np.ndarray:
        """Counts ``[B, C, V]`` behind parameters ``[B, P]`` (a fit's, or a corpus truth's)."""
        lang = self.language()
        scale = 1.0 / np.abs(params[:, :1])
        freq = params[:, 1:].reshape(-1, lang.n_contexts, lang.vocab)
        return np.rint(freq * scale[:, :, None])

    def model_probs(self, params: np.ndarray) -> np.ndarray:
        """Smoothed ``p(w | h)`` ``[B, C, V]`` of parameters ``[B, P]`` (before decoding).

        The synthetic truth (first entry 0) gives its exact law; everything else its counts,
        smoothed.
        """
        params = np.asarray(params, dtype=float)
        lang = self.language()
        out = np.empty((params.shape[0], lang.n_contexts, lang.vocab))
        exact = params[:, 0] == 0.0
        if exact.any():
            assert lang.probs is not None
            out[exact] = lang.probs
        if (~exact).any():
            out[~exact] = conditional_probs(self._counts(params[~exact]),
                                            smoothing=self.smoothing, add_k=self.add_k,
                                            discount=self.discount)
        return out

    def sample(self, params, n, rng, *, stats):
        from .sampling import generate  # numba: imported when text is generated (start-up)

        params = np.asarray(params, dtype=float)
        rows = params.shape[0]
        lengths = sequence_lengths(n, self.length)
        lang = self.language()
        if (params[:, 0] <= 0.0).all():  # the truth: real text, never decoded
            if lang.train is None:
                assert lang.probs is not None
                return generate(lang.probs[None], lengths, rng, rows)
            return self._chunks(lang.train, lengths, rng, rows)
        probs = decode(self.model_probs(params), temperature=self.temperature,
                       top_k=self.top_k, top_p=self.top_p)
        return generate(probs, lengths, rng, rows)

    @staticmethod
    def _chunks(text: np.ndarray, lengths: np.ndarray, rng: np.random.Generator,
                rows: int) -> Sequences:
        """Contiguous chunks of ``text`` of the given lengths at uniformly random positions."""
        first = rng.integers(0, text.size - lengths + 1, size=(rows, lengths.size))
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths,
                                                            lengths)
        positions = np.repeat(first, lengths, axis=1) + offsets
        return Sequences(text[positions], starts_of(lengths, rows))

    def fit(self, data, *, rng, previous):
        lang = self.language()
        counts = ngram_counts(data, vocab=lang.vocab, order=lang.order)
        size = data.size
        params = np.empty((counts.shape[0], 1 + counts[0].size))
        params[:, 0] = 1.0 / size
        params[:, 1:] = counts.reshape(counts.shape[0], -1) / size
        return params, {}

    # -- curation: whole sequences are units ------------------------------------------------
    #
    # A unit is one sequence of L tokens, drawn as `sample` draws text; its likelihoods are those
    # of the generator (BOS-padded contexts for its first n − 1 tokens: scoring.py).

    @property
    def available_curators(self) -> tuple[str, ...]:
        """Every curator for the synthetic truth; with a corpus (whose law is unknown) not those
        that need the truth's law (:data:`NEED_LAW`: the verifier's belief, reweight's ratio)."""
        if self.language().probs is None:
            return tuple(c for c in self.curators if c not in NEED_LAW)
        return self.curators

    @property
    def default_reward(self) -> str | None:  # type: ignore[override]
        """``truth`` for the synthetic truth; none for a corpus (best-of then needs a reward
        given, ``self``: choosing one silently would be a scientific choice made for the user)."""
        return "truth" if self.corpus is None else None

    @property
    def reward_words(self) -> str:  # type: ignore[override]
        """What ``--reward`` takes (a corpus takes ``self`` only)."""
        if self.corpus is None:
            return REWARDS
        return ("self (the model's own log-probability per token of a sequence; truth needs a "
                "synthetic language)")

    def curation_units(self, n: int) -> int:
        """The sequences that make up ``n`` tokens: ``⌈n / L⌉`` (the last one cut to fit)."""
        return len(sequence_lengths(n, self.length))

    def draw_units(self, params, k, rng):
        """``k`` sequences of ``L`` tokens per replicate, drawn exactly as :meth:`sample` draws
        ``k L`` tokens (decoded model text; the truth's own text for the truth's parameters),
        with the drawing model attached (:class:`~.scoring.DrawnText`)."""
        text = self.sample(params, k * self.length, rng, stats=False)
        return DrawnText(text.tokens, text.starts, np.asarray(params, dtype=float))

    def take_units(self, units, index):
        """The sequences at ``index[R, S]`` of each replicate's candidates, in index order."""
        length = self.length
        tokens = per_sequence(np.asarray(units.tokens), length)
        chosen = np.take_along_axis(tokens, np.asarray(index)[:, :, None], axis=1)
        rows, count = index.shape
        return Sequences(chosen.reshape(rows, count * length),
                         starts_of(np.full(count, length, dtype=np.int64), rows))

    def training_form(self, units, n, *, stats):
        """The first ``n`` tokens of the kept sequences: ``⌊n/L⌋`` whole ones and, when ``L``
        does not divide ``n``, a prefix of the next (as :meth:`Sequences.subsample` cuts)."""
        return Sequences(np.ascontiguousarray(units.tokens[:, :n]),
                         np.ascontiguousarray(units.starts[:, :n]))

    def _generator_probs(self, params: np.ndarray) -> np.ndarray:
        """The table :meth:`sample` draws from for parameters ``[B, P]``: the decoded model, or
        the synthetic truth's law, undecoded, when every row is the truth."""
        params = np.asarray(params, dtype=float)
        if (params[:, 0] <= 0.0).all():
            lang = self.language()
            if lang.probs is None:
                raise ValueError("a corpus truth is sampled as chunks of its text; its law is "
                                 "not known")
            return lang.probs[None]
        return decode(self.model_probs(params), temperature=self.temperature, top_k=self.top_k,
                      top_p=self.top_p)

    def _truth_probs(self) -> np.ndarray:
        lang = self.language()
        if lang.probs is None:
            raise ValueError("a corpus truth's law is not known (curators that need it are not "
                             "available with a corpus)")
        return lang.probs[None]

    def unit_log_likelihood(self, params, units):
        """``log P(x) = Σ_i log p̂(x_i | h_i)`` of each sequence under the model's smoothed law
        (:meth:`model_probs`, undecoded: the model itself), contexts BOS-padded as the
        generator's (:mod:`~.scoring`)."""
        return sequence_log_likelihood(self.model_probs(params), units, order=self.order,
                                       length=self.length)

    def proposal_log_likelihood(self, params, units):
        """``log P(x)`` under the decoded law the candidates were drawn from (temperature, top-k,
        top-p): ``−∞`` for a sequence with a token decoding removed (it cannot have been
        drawn)."""
        return sequence_log_likelihood(self._generator_probs(params), units, order=self.order,
                                       length=self.length)

    def truth_log_likelihood(self, units):
        """``log P_truth(x) = Σ_i log q(x_i | h_i)`` under the synthetic truth's chain."""
        return sequence_log_likelihood(self._truth_probs(), units, order=self.order,
                                       length=self.length)

    def belief_log_relative(self, units, shift):
        """The oracle verifier's score of a sequence, per token relative to the best continuation.

        ``log(b(x) / max b) = (1/L) Σ_{i=1}^{L} [log q(x_i | h_i) − log max_w q(w | h_i)] ≤ 0``,
        ``q`` the synthetic truth's chain and ``h_i`` the BOS-padded contexts. It is 0 exactly
        for a sequence that always takes a most probable continuation, and ``−∞`` with a
        transition the truth forbids; the acceptance ``(b / max b)^s`` is the geometric mean over
        positions of ``(q(x_i | h_i) / max_w q(w | h_i))^s``.

        Why this form: per token (a mean, not a sum), so a sequence's length does not set how
        strict the verifier is; and relative to the best continuation of *each context*, so a
        sequence is judged by the choices it made, not penalised for passing through contexts
        whose continuations are many and evenly spread (a global ``max_{h,w} q`` would reject
        text for the entropy of its contexts, which is the truth's, not an error). For ``n = 1``
        and ``L = 1`` it is ``categorical``'s ``log(q_x / max q)``. ``shift`` does not apply
        (a discrete verifier's belief is the truth; ``shiftable_belief`` is false).
        """
        relative = _truth_relative(self.language())
        values = token_probs(relative, units, order=self.order)
        return per_sequence(values, self.length).mean(axis=-1)

    def reward(self, spec: str) -> Reward:
        """``truth`` or ``self``: a log-probability per token of a whole sequence.

        ``truth``: ``r(x) = (1/L) log P_truth(x)`` (synthetic truth only; ``−∞`` for a sequence
        with a transition the truth forbids). ``self``: ``r(x) = (1/L) log P̂(x)`` under the
        smoothed law of the model that drew ``x``, undecoded.

        ``expected(params)`` is ``E r`` over sequences of length ``L`` drawn as :meth:`sample`
        draws them (from the decoded model; the truth's own text at generation 0), exactly:
        ``(1/L) Σ_h Π(h) Σ_w p(w | h) log f(w | h)`` with ``Π`` the expected visits of each
        context, propagated from the all-BOS start over the ``L`` positions
        (:func:`~.scoring.expected_per_token`). For a corpus truth (generation 0 under
        ``self``) it is the exact mean over its chunks at uniformly random positions
        (:func:`~.scoring.chunk_mean`), scored by the smoothed model of the training text.
        Under ``truth`` a model that can generate a forbidden transition (any smoothed model
        of a sparse truth: ``density < 1``) has ``E r = −∞``, mathematically.

        Raises
        ------
        ConfigError
            For ``truth`` with a corpus, or any other text.
        """
        lang = self.language()
        order, length = self.order, self.length
        if spec == "truth":
            if lang.probs is None:
                raise ConfigError("reward", "truth needs a truth whose law is known: a "
                                  "synthetic language, not a corpus")
            truth = lang.probs[None]
            log_truth = _truth_log(lang)

            def score(units):
                return mean_log_prob(truth, units, order=order, length=length)

            return Reward(spec, score, lambda p: self._expected(p, lambda _: log_truth),
                          "reward: the truth's log-probability per token")
        if spec == "self":

            def score_self(units):
                model = getattr(units, "model", None)
                if model is None:
                    raise ValueError("the self reward scores sequences drawn by draw_units (it "
                                     "needs the model that drew them)")
                return mean_log_prob(self.model_probs(model), units, order=order, length=length)

            def log_model(probs):
                with np.errstate(divide="ignore"):
                    return np.log(probs)

            return Reward(spec, score_self, lambda p: self._expected(p, log_model),
                          "reward: the model's own log-probability per token")
        raise unknown_reward(spec, self.name, self.reward_words)

    def _expected(self, params: np.ndarray, log_values) -> np.ndarray:
        """``E r`` of every model ``params[..., P]`` for a per-token reward ``log_values(p̂)``
        (``p̂`` the model's undecoded table ``[B, C, V]`` → log values ``[B or 1, C, V]``)."""
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-1]
        flat = params.reshape(-1, params.shape[-1])
        out = np.empty(flat.shape[0])
        lang = self.language()
        is_truth = flat[:, 0] <= 0.0
        if is_truth.any():  # every truth row is the same truth
            own = self.model_probs(flat[is_truth][:1])
            if lang.probs is not None:
                value = expected_per_token(lang.probs[None], log_values(own), self.length)[0]
            else:
                assert lang.train is not None
                value = chunk_mean(log_values(own)[0], lang.train, order=self.order,
                                   length=self.length)
            out[is_truth] = value
        fitted = np.flatnonzero(~is_truth)
        chunk = max(1, (1 << 21) // (lang.n_contexts * lang.vocab))
        for lo in range(0, fitted.size, chunk):
            rows = fitted[lo:lo + chunk]
            probs = self.model_probs(flat[rows])
            drawn = decode(probs, temperature=self.temperature, top_k=self.top_k,
                           top_p=self.top_p)
            out[rows] = expected_per_token(drawn, log_values(probs), self.length)
        return out.reshape(lead)

    # -- metrics -----------------------------------------------------------------------------

    def metrics(self, params, info=None):
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-1]
        flat = params.reshape(-1, params.shape[-1])
        lang = self.language()
        freq = flat[:, 1:].reshape(-1, lang.n_contexts, lang.vocab)
        unigram = freq.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(unigram > 0, unigram * np.log(np.where(unigram > 0, unigram, 1.0)),
                             0.0)
        out: dict[str, np.ndarray] = {
            "support": (unigram > 0).sum(axis=1).astype(float),
            "entropy": -plogp.sum(axis=1),
            "tail_share": unigram[:, lang.tail].sum(axis=1),
            "rare_mass": self._rare_mass(unigram > 0),
        }
        if lang.order >= 2:
            base = lang.vocab + 1
            bigram = freq.reshape(-1, lang.n_contexts // base, base, lang.vocab)[:, :, :-1]
            out["types_2"] = (bigram.sum(axis=1) > 0).sum(axis=(1, 2)).astype(float)
        out.update(self._model_metrics(flat))
        return {name: out[name].reshape(lead) for name in self.metric_names}

    def _model_metrics(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Perplexity and KL rate, in chunks of rows (each needs a whole smoothed table)."""
        lang = self.language()
        rows = flat.shape[0]
        perplexity = np.empty(rows)
        kl = np.zeros(rows)
        held_total = lang.heldout_counts.sum()
        if lang.probs is not None:
            support = np.flatnonzero(lang.freq.ravel() > 0)
            weight = lang.freq.ravel()[support]
            self_term = float(weight @ np.log(lang.probs.ravel()[support]))
        chunk = max(1, (1 << 21) // (lang.n_contexts * lang.vocab))
        for lo in range(0, rows, chunk):
            part = flat[lo:lo + chunk]
            table = self.model_probs(part).reshape(part.shape[0], -1)
            with np.errstate(divide="ignore"):
                log_held = np.log(table[:, lang.heldout_ids])
                perplexity[lo:lo + chunk] = np.exp(-(log_held @ lang.heldout_counts)
                                                   / held_total)
                if lang.probs is not None:
                    cross = np.log(table[:, support]) @ weight
                    kl[lo:lo + chunk] = np.where(part[:, 0] == 0.0, 0.0, self_term - cross)
        out = {"perplexity": perplexity}
        if lang.probs is not None:
            out["kl_rate"] = np.maximum(kl, 0.0)  # rounding can leave −1e-17 for a perfect fit
        return out

    def _rare_mass(self, present: np.ndarray) -> np.ndarray:
        """The share of the truth's rarest 10% of unigram mass whose types occur in the text
        (``present[B, V]``)."""
        mass = self.language().freq.sum(axis=0)
        weight = np.where(rarest_tokens(mass, RARE_SHARE), mass, 0.0)
        # 1 minus the lost share, so a model that has every rare type scores exactly 1
        return 1.0 - ((~present) @ weight) / weight.sum()

    # -- sample texts --------------------------------------------------------------------------

    def excerpts(self, data) -> list[str] | None:
        """The first sequence of the first few rows of ``data``, as text."""
        lang = self.language()
        out = []
        for row in range(min(EXCERPT_ROWS, data.tokens.shape[0])):
            later = np.flatnonzero(data.starts[row, 1:])
            end = int(later[0]) + 1 if later.size else data.size
            text = lang.separator.join(lang.words[int(t)] for t in data.tokens[row, :end])
            out.append(text[:EXCERPT_CHARS])
        return out

    def describe(self) -> str:
        if self.corpus is None:
            truth = (f"synthetic order-{self.order} language, V = {self.vocab}, "
                     f"Zipf s = {self.zipf:g}")
        else:
            where = "demo corpus" if self.corpus == corpora.DEMO else self.corpus
            truth = f"{where} ({self.tokens}, V = {self.n_tokens}), order {self.order}"
        how = decoding_words(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        return f"ngram: {truth}; L = {self.length}, {self.smoothing}, {how}"


@lru_cache(maxsize=8)
def _truth_log(lang: Language) -> np.ndarray:
    """``log q`` ``[1, C, V]`` of a synthetic truth (``−∞`` for a forbidden transition)."""
    assert lang.probs is not None
    with np.errstate(divide="ignore"):
        out = np.log(lang.probs)[None]
    out.flags.writeable = False
    return out


@lru_cache(maxsize=8)
def _truth_relative(lang: Language) -> np.ndarray:
    """``log q(w | h) − log max_u q(u | h)`` ``[1, C, V]`` of a synthetic truth."""
    assert lang.probs is not None
    out = log_relative_to_best(lang.probs)[None]
    out.flags.writeable = False
    return out
