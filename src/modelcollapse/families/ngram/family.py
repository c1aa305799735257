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

Parameters of a model are its training text's n-gram frequencies, ``[1/N_t, c(h, w)/N_t ...]``
(``N_t`` tokens): the counts are a sufficient statistic for every smoothing, and the frequencies
have the same scale as the truth's, whose first entry is 0 (synthetic: exact expected
frequencies) or ``−1/N`` (corpus: its training text's frequencies). Contexts are numbered in base
``V + 1`` with BOS the digit ``V`` and the most recent token the lowest digit, so the next
context is ``(h (V + 1) + w) mod (V + 1)^(n−1)`` and the all-BOS start is the last context.

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
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...training_sets import Sequences
from ...validation import check_choice, check_float, check_int
from .. import FAMILIES
from ..base import Family, option
from ..discrete import block_for
from . import corpora
from .language import Language, corpus_language, synthetic_language
from .model import conditional_probs, decode, ngram_counts, sequence_lengths, starts_of

SMOOTHINGS = ("mle", "add-k", "kn")

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
        return (*names, "entropy", "tail_share")

    @property
    def key_metrics(self) -> tuple[str, ...]:  # type: ignore[override]
        """The fan charts: the tail first, then diversity, then fit to the truth."""
        return tuple(m for m in ("tail_share", "support", "types_2", "entropy", "perplexity",
                                 "kl_rate") if m in self.metric_names)

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
        decoding = []
        if self.temperature != 1.0:
            decoding.append(f"T = {self.temperature:g}")
        if self.top_k:
            decoding.append(f"top-k {self.top_k}")
        if self.top_p < 1.0:
            decoding.append(f"top-p {self.top_p:g}")
        how = ", ".join(decoding) or "plain sampling"
        return f"ngram: {truth}; L = {self.length}, {self.smoothing}, {how}"
