"""A character-level transformer language model trained on text it generated.

The neural sibling of the :mod:`ngram <modelcollapse.families.ngram>` family on a corpus: the
same truth, the same text, the same decoding and the same text metrics, with a small
decoder-only transformer (:mod:`~.transformer`) in place of the n-gram counts, so that the two
can be compared metric by metric on one corpus and policy.

Truth (generation 0): a text corpus (``--corpus FILE``, or ``demo``, the default: Python's
documentation topics; :mod:`modelcollapse.families.ngram.corpora`) in **character** tokens, its
vocabulary capped by ``--max-vocab`` (rarer characters become ``<unk>``). Its last 10% is held out
and never trained on; the rest is the training text, and fresh "real" data are ``L``-token
chunks of it at uniformly random positions (``L`` = ``--length``), exactly as the n-gram family
draws them (:func:`~modelcollapse.families.ngram.language.corpus_language`). The truth has no
network: its parameter row is the marker 1 (:mod:`~.common`), and it is sampled as real text,
never decoded.

Model ``t``: a transformer (``--layers`` pre-LayerNorm blocks of ``--heads``-head causal
self-attention and a 4× GELU MLP, width ``--embedding``, a learned position embedding of
``--context`` positions, an untied output head), trained on training set ``t`` by teacher
forcing: each sequence ``x_1 … x_m`` (``m ≤ L ≤ context``) is read as ``[BOS, x_1 … x_{m−1}]``
and predicts ``x_1 … x_m``, and the loss of a minibatch of ``--batch-size`` sequences is the
mean cross-entropy per token, ``−(1/T) Σ log p(x_i | BOS, x_{<i})`` over its ``T`` tokens,
minimised by Adam (``--learning-rate``) for ``--epochs`` passes over the training set, from fresh
weights each generation (or the previous network with ``--warm-start``). Sequences are the
training set's own (:class:`~modelcollapse.training_sets.Sequences`): fresh chunks, generated
sequences and carried-over ones, each starting from BOS. The ``--stack`` replicates of a block
are trained together as one batched model (:mod:`~.stacked`): the same arithmetic as one
network at a time, one call per layer for the block.

Generation: token by token from BOS, from the network's next-token law after decoding exactly as
the n-gram family's (:func:`~modelcollapse.families.ngram.model.decode`: temperature ``T``, then
top-k, then top-p, renormalised), each token picked by inversion with a uniform drawn from the
block's numpy generator (``n`` uniforms for ``n`` tokens, as the n-gram generator draws them), so
the draws do not depend on the device. ``n`` tokens are ``⌊n/L⌋`` sequences of ``L`` and one
shorter (:func:`~modelcollapse.families.ngram.model.sequence_lengths`).

Metrics, named and defined as the n-gram family's for a corpus (``kl_rate`` is not defined: the
corpus's law is unknown). "Text t" is training set ``t``; generation 0 describes the truth.

``perplexity``
    ``exp(−(1/M) Σ_i log p_t(w_i | BOS, w_{<i}))`` of model ``t`` (undecoded) on held-out real
    text: the held-out split cut into consecutive chunks of ``L`` tokens (the last one shorter),
    each read from BOS, the same chunks and tokens as the n-gram family's perplexity. A corpus
    whose held-out split has more than :data:`MAX_HELDOUT_WINDOWS` chunks is measured on that
    many, evenly spaced (fixed once: the same ruler every generation). ``NaN`` at generation 0:
    the truth has no network, so no model perplexity is defined (the n-gram family's
    generation 0 is its own smoothed model of the training text, which has no neural
    counterpart).
``support``, ``types_2``, ``entropy``, ``tail_share``, ``rare_mass``
    Properties of text ``t``, computed by the n-gram family's own code on the same language
    (order 2): token types present, distinct bigrams (within sequences), the entropy of the
    unigram frequencies, the share of tokens among the truth's ``⌈V/10⌉`` rarest types, and the
    share of the truth's rarest 10% of unigram mass whose types occur. They are measured in
    :meth:`CharLM.fit`, which sees the text, and passed to :meth:`CharLM.metrics` in its
    ``info``; generation 0 has the training text's values (the n-gram family's for the
    corpus). ``collapse_time`` is the first generation at which ``tail_share`` falls below
    ``--collapse-fraction`` (½) of the truth's.

Curation (:mod:`modelcollapse.curation`) selects **whole sequences** (a unit is one generated
sequence of ``L`` tokens, drawn as :meth:`CharLM.sample` draws text): ``none``, ``best-of``,
``top`` and ``bottom``. A sequence's likelihood is the network's exact probability of it,
``log P(x) = Σ_i log p(x_i | BOS, x_{<i})`` (undecoded, for ``top`` and ``bottom``). The one
reward, ``self``, is the drawing model's log-probability per token, ``(1/L) log P(x)``; its
expectation under a model (the metric ``reward``) has no closed form for a network, so it is
**estimated**: the mean over :data:`REWARD_SEQUENCES` sequences drawn from the decoded model with
uniforms fixed once from a fixed seed (the same uniforms for every model: a fixed ruler, whose
noise is common to all generations; its standard error is about ``sd / 16`` with ``sd`` the
spread of the per-sequence reward, a few hundredths of a nat). ``NaN`` at generation 0 (no
network). ``verifier`` and ``reweight`` need the truth's law, which a corpus does not have.

No theory covers this family: :func:`modelcollapse.predict` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError
from ...policies import Policy
from ...rewards import Reward, unknown_reward
from ...training_sets import Sequences
from ...validation import check_float, check_int
from .. import FAMILIES
from ..base import option
from ..ngram import corpora
from ..ngram.family import NGram
from ..ngram.language import Language, corpus_language
from ..ngram.model import decode, decoding_words, sequence_lengths, starts_of
from ..ngram.scoring import DrawnText
from .common import NeuralFamily, device_option, warm_start_option
from .stacked import Layout, gather_rows, to_tensor, train
from .transformer import Architecture, decoded_log_probs, generate, token_log_probs

#: The text metrics (properties of the training text), as the n-gram family computes them.
TEXT_METRICS = ("support", "types_2", "entropy", "tail_share", "rare_mass")

#: The curators: whole sequences are units; verifier and reweight need the truth's law.
CURATORS = ("none", "best-of", "top", "bottom")

#: What ``--reward`` takes.
REWARDS = ("self (the model's own log-probability per token of a sequence; truth needs a "
           "synthetic language, which charlm does not have)")

#: Most held-out chunks the perplexity is measured on (evenly spaced when there are more).
MAX_HELDOUT_WINDOWS = 1024

#: Sequences behind the estimate of the ``self`` reward's expectation, and their fixed seed.
REWARD_SEQUENCES = 256
REWARD_SEED = 20_240_717

#: Largest vocabulary: the text metrics' bigram table has ``(V + 1) V`` cells.
MAX_VOCAB = 2000

#: Longest context (the attention matrix grows as its square).
MAX_CONTEXT = 4096

#: Nanoseconds of one core per multiply-add of a forward pass, measured at the defaults on
#: the CPU (a scheduling hint only: :attr:`CharLM.cost_ns`).
NS_PER_MAC = 0.06

#: Forward passes' worth of work per generated token (one position at a time, with its
#: decoding in numpy), measured likewise.
GENERATION_PASSES = 3


@FAMILIES.register
@dataclass(frozen=True)
class CharLM(NeuralFamily):
    """A character-level transformer refitted to the text it generated (see the module notes).

    Parameters
    ----------
    corpus
        A UTF-8 text file, or ``"demo"`` (Python's documentation topics; the default).
    max_vocab
        Vocabulary cap; rarer characters become ``<unk>``.
    length
        ``L``: tokens per sequence (at most ``context``).
    context
        Positions of the network's position embedding.
    embedding, layers, heads
        Width, depth and attention heads (``heads`` divides ``embedding``).
    temperature, top_k, top_p
        Decoding of generated text (defaults: plain sampling).
    epochs, batch_size, learning_rate
        Passes over each training set, sequences per Adam step, Adam's step size.
    warm_start
        Start each generation from the previous network instead of fresh weights.
    stack
        Replicates per block, trained together as one batched model.
    device
        ``cpu``, ``cuda`` or ``auto``.
    corpus_sha256
        SHA-256 of the corpus (filled in when built; a stored run refuses a changed file).
    """

    name: ClassVar[str] = "charlm"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 10_000, "n_generations": 10,
                                                "n_replicates": 4}
    key_metrics: ClassVar[tuple[str, ...]] = ("tail_share", "rare_mass", "support", "types_2",
                                              "entropy", "perplexity")
    collapse_metric: ClassVar[str | None] = "tail_share"
    model_only_metrics: ClassVar[tuple[str, ...]] = ("perplexity", "reward")
    curators: ClassVar[tuple[str, ...]] = CURATORS
    reward_words: ClassVar[str] = REWARDS

    corpus: str = option("demo", flag="corpus", kind="str",
                         help="train on a UTF-8 text file, or 'demo' (Python's docs; default)")
    max_vocab: int = option(1000, flag="max-vocab", kind="int",
                            help="corpus vocabulary cap; rarer tokens become <unk> (1000)")
    length: int = option(64, flag="length", kind="int",
                         help="L: tokens per generated sequence (default 64)")
    context: int = option(64, flag="context", kind="int",
                          help="positions the network sees, at least L (default 64)")
    embedding: int = option(64, flag="embedding", kind="int",
                            help="width of the transformer (default 64)")
    layers: int = option(2, flag="layers", kind="int",
                         help="transformer blocks (default 2)")
    heads: int = option(4, flag="heads", kind="int",
                        help="attention heads per block, dividing embedding (default 4)")
    temperature: float = option(1.0, flag="temperature",
                                help="decoding temperature (default 1)")
    top_k: int = option(0, flag="top-k", kind="int",
                        help="decoding: keep the k most probable tokens (default 0: all)")
    top_p: float = option(1.0, flag="top-p",
                          help="decoding: nucleus, keep the top tokens of this mass (default 1)")
    epochs: int = option(8, flag="epochs", kind="int",
                         help="passes over each training set (default 8)")
    batch_size: int = option(16, flag="batch-size", kind="int",
                             help="sequences per Adam step (default 16)")
    learning_rate: float = option(3e-3, flag="learning-rate",
                                  help="Adam's step size (default 0.003)")
    warm_start: bool = warm_start_option()
    stack: int = option(2, flag="stack", kind="int",
                        help="replicates trained together as one batched model (default 2; "
                             "more on a GPU; part of the run's definition, like the seed)")
    device: str = device_option()
    corpus_sha256: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        for name, low, high in (("context", 1, MAX_CONTEXT), ("embedding", 1, 1 << 14),
                                ("layers", 1, 256), ("heads", 1, 1 << 14),
                                ("stack", 1, 4096), ("max_vocab", 2, MAX_VOCAB)):
            set_(name, _bounded_int(name, getattr(self, name), low, high))
        set_("length", check_int("length", self.length, minimum=1))
        if self.length > self.context:
            raise ConfigError("length", f"must be at most context (C = {self.context}: a "
                              "sequence must fit in what the network sees; raise --context "
                              "or shorten --length)", self.length)
        if self.embedding % self.heads:
            raise ConfigError("heads", f"must divide embedding (E = {self.embedding}: each "
                              "head has E / heads dimensions)", self.heads)
        set_("temperature", check_float("temperature", self.temperature, low=0.0,
                                        low_open=True, what="a number > 0"))
        set_("top_k", check_int("top_k", self.top_k, minimum=0))
        set_("top_p", check_float("top_p", self.top_p, low=0.0, high=1.0, low_open=True,
                                  what="a number in (0, 1]"))
        self.check_training()
        if not isinstance(self.corpus, str) or not self.corpus.strip():
            raise ConfigError("corpus", "must be a file path or 'demo'", self.corpus)
        source = corpora.resolve_source(self.corpus)
        set_("corpus", source)
        # Reading a file is I/O; it happens here, once (cached), never in the loop.
        corpus = corpora.load_corpus(source, tokens="chars", max_vocab=self.max_vocab)
        if self.corpus_sha256 is not None and self.corpus_sha256 != corpus.sha256:
            raise ConfigError("corpus", f"has changed since this configuration was made (its "
                              f"SHA-256 was {self.corpus_sha256[:12]}…, now "
                              f"{corpus.sha256[:12]}…)", source)
        set_("corpus_sha256", corpus.sha256)
        self.language()  # the held-out split and the length check, now rather than mid-run
        self.check_size()

    # -- the truth, the text and the network -------------------------------------------------

    def language(self) -> Language:
        """The corpus's fixed tables (training text, held-out split, tail), as the n-gram
        family's of order 2 (cached per setting)."""
        return corpus_language(self.corpus, "chars", self.max_vocab, 2, self.length)

    def text_model(self) -> NGram:
        """The order-2 n-gram family on the same text: the text metrics are its own."""
        return _text_model(self.corpus, self.max_vocab, self.length, self.corpus_sha256)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("perplexity", *TEXT_METRICS)

    @property
    def n_tokens(self) -> int:
        """``V``, the vocabulary size."""
        return self.language().vocab

    @property
    def architecture(self) -> Architecture:
        return Architecture(self.n_tokens, self.context, self.embedding, self.layers,
                            self.heads)

    @property
    def layout(self) -> Layout:
        return self.architecture.layout

    def block_size(self, policy: Policy, n_samples: int) -> int:
        """``stack``: the replicates trained together (a setting, never the machine's)."""
        return self.stack

    @property
    def cost_ns(self) -> tuple[float, float]:  # type: ignore[override]
        """Rough ns of one core per token of a training set per generation: ``epochs`` forward
        and backward passes (about 3 forward passes each) and the token's generation."""
        passes = 3 * self.epochs + GENERATION_PASSES
        return (NS_PER_MAC * self._macs_per_token() * passes, 0.0)

    @property
    def generation_ns(self) -> float:  # type: ignore[override]
        """Rough ns per replicate-generation for the held-out perplexity."""
        windows = heldout_windows(self.language(), self.length)
        return NS_PER_MAC * self._macs_per_token() * windows.n_tokens

    def _macs_per_token(self) -> float:
        e, t = self.embedding, self.length
        per_layer = 12 * e * e + 2 * t * e  # qkv, out, MLP; attention over ~t/2 positions × 2
        return float(self.layers * per_layer + e * self.n_tokens)

    def validate_run(self, n_samples: int, policy: Policy) -> None:
        if self.length > n_samples:
            raise ConfigError("length", f"must be at most samples (N = {n_samples:,}, the "
                              "tokens of each training set, cut into sequences of length "
                              "L)", self.length)

    # -- the loop's operations ------------------------------------------------------------------

    def sample(self, params, n, rng, *, stats):
        """``n`` tokens per replicate: real chunks for the truth, decoded text of a network."""
        params = np.asarray(params, dtype=float)
        rows = params.shape[0]
        lengths = sequence_lengths(n, self.length)
        truth = self.is_truth(params)
        if truth.all():  # real text, never decoded
            train_text = self.language().train
            assert train_text is not None
            return NGram._chunks(train_text, lengths, rng, rows)
        if truth.any():
            raise ValueError("charlm samples a block of networks or the truth, not a mix")
        uniforms = rng.random((rows, n))
        count, length = lengths.size, self.length
        grid = np.zeros((rows, count * length))
        grid[:, :n] = uniforms  # sequence j takes uniforms j L … j L + L − 1 (the last fewer)
        tokens = self._generate(params, grid.reshape(rows, count, length))
        return Sequences(np.ascontiguousarray(tokens.reshape(rows, -1)[:, :n]),
                         starts_of(lengths, rows))

    def _decode(self) -> Callable[[np.ndarray], np.ndarray]:
        temperature, top_k, top_p = self.temperature, self.top_k, self.top_p
        return lambda probs: decode(probs, temperature=temperature, top_k=top_k, top_p=top_p)

    def _generate(self, params: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        device = self.resolved_device()
        views = self.layout.views(to_tensor(params[:, 1:], device))
        return generate(views, uniforms, self.architecture, decode=self._decode(),
                        device=device)

    def fit(self, data, *, rng, previous):
        """Train each replicate's network on its training text; measure the text.

        Returns the networks (marker 0) and, in ``info``, the text metrics of the training
        text (:data:`TEXT_METRICS`), which :meth:`metrics` reports.
        """
        torch = self.torch()
        device = self.resolved_device()
        arch, layout = self.architecture, self.layout
        tokens, mask = pack(data, self.length)
        targets = to_tensor(tokens, device, "int64")
        weights = to_tensor(mask, device)

        def loss(views, index):
            batch = gather_rows(targets, index)
            kept = gather_rows(weights, index)
            nll = -token_log_probs(views, batch, arch) * kept
            return nll.sum(dim=(1, 2)) / torch.clamp(kept.sum(dim=(1, 2)), min=1.0)

        start = self.initial_weights(rng, previous)
        fitted = train(start, loss, layout=layout, n=tokens.shape[1], epochs=self.epochs,
                       batch_size=self.batch_size, learning_rate=self.learning_rate,
                       rng=rng, device=device)
        return self.with_params(fitted), self.text_metrics(data)

    def text_metrics(self, data: Sequences) -> dict[str, np.ndarray]:
        """The text metrics ``[R]`` of each replicate's text, by the n-gram family's code."""
        ngram = self.text_model()
        # The n-gram fit is counting: it draws nothing from its generator.
        counts, _ = ngram.fit(data, rng=np.random.default_rng(0), previous=ngram.truth()[None])
        values = ngram.metrics(counts)
        return {name: np.asarray(values[name], dtype=float) for name in TEXT_METRICS}

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self, params, info=None):
        """The metrics of ``params[..., 1 + P]`` (see the module notes).

        The text metrics of a network's row come from ``info`` (they describe its training
        text, which its parameters do not hold); without ``info`` they are ``NaN`` there.
        """
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-1]
        flat = params.reshape(-1, params.shape[-1])
        truth = self.is_truth(flat)
        out = {name: np.full(flat.shape[0], np.nan) for name in self.metric_names}
        if truth.any():
            ngram = self.text_model()
            own = ngram.metrics(ngram.truth()[None])
            for name in TEXT_METRICS:
                out[name][truth] = own[name][0]
        if info is not None:
            for name in TEXT_METRICS:
                values = np.broadcast_to(np.asarray(info[name], dtype=float), lead).ravel()
                out[name][~truth] = values[~truth]
        if (~truth).any():
            out["perplexity"][~truth] = self.heldout_perplexity(flat[~truth])
        return {name: out[name].reshape(lead) for name in self.metric_names}

    def heldout_perplexity(self, params: np.ndarray) -> np.ndarray:
        """``exp`` of the mean negative log-probability per held-out token, ``[B]``, for
        networks ``params[B, 1 + P]`` (the fixed chunks of :func:`heldout_windows`)."""
        windows = heldout_windows(self.language(), self.length)
        total = self._log_probs(params, windows.tokens, mask=windows.mask)
        return np.exp(-total / windows.n_tokens)

    def _log_probs(self, params: np.ndarray, tokens: np.ndarray, *,
                   mask: np.ndarray | None = None,
                   law: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """``Σ_i log p(x_i | BOS, x_{<i})`` of each sequence ``tokens[B or 1, k, T]`` under
        networks ``params[B, 1 + P]`` (masked tokens left out), ``[B, k]`` or, with ``mask``
        (``[k, T]``, shared), the total over every sequence, ``[B]``.

        ``law`` maps the network's next-token probabilities (float64 ``[..., V]``) to the law
        the tokens are scored under (decoding); the default is the network itself.
        """
        torch = self.torch()
        device = self.resolved_device()
        arch, layout = self.architecture, self.layout
        rows = params.shape[0]
        count, length = tokens.shape[1], tokens.shape[2]
        group = min(rows, 8)  # networks per pass
        step = arch.chunk(group, length)
        per_sequence = np.zeros((rows, count))
        with torch.no_grad():
            for lo in range(0, rows, group):
                views = layout.views(to_tensor(params[lo:lo + group, 1:], device))
                size = min(group, rows - lo)
                for at in range(0, count, step):
                    part = tokens[:, at:at + step] if tokens.shape[0] == 1 else \
                        tokens[lo:lo + group, at:at + step]
                    # a writable copy: the fixed windows are read-only, and so is a broadcast
                    part = np.array(np.broadcast_to(part, (size, *part.shape[1:])))
                    x = to_tensor(part, device, "int64")
                    if law is None:
                        logp = token_log_probs(views, x, arch).to("cpu", torch.float64).numpy()
                    else:
                        logp = decoded_log_probs(views, x, arch, law)
                    if mask is not None:
                        logp = np.where(mask[at:at + step], logp, 0.0)
                    per_sequence[lo:lo + size, at:at + step] = logp.sum(axis=-1)
        return per_sequence.sum(axis=1) if mask is not None else per_sequence

    # -- sample texts ----------------------------------------------------------------------------

    def excerpts(self, data) -> list[str] | None:
        """The first sequence of the first few rows of ``data``, as text (as the n-gram's)."""
        return self.text_model().excerpts(data)

    def describe(self) -> str:
        where = "demo corpus" if self.corpus == corpora.DEMO else self.corpus
        how = decoding_words(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        start = "warm start" if self.warm_start else "fresh weights"
        return (f"charlm: {where} (chars, V = {self.n_tokens}); transformer {self.layers} × "
                f"{self.heads} heads, width {self.embedding}, context {self.context}; "
                f"L = {self.length}, {self.epochs} epochs, {start}; {how}")

    # -- curation: whole sequences are units ---------------------------------------------------

    @property
    def available_curators(self) -> tuple[str, ...]:
        return self.curators

    def curation_units(self, n: int) -> int:
        """The sequences that make up ``n`` tokens: ``⌈n / L⌉`` (the last one cut to fit)."""
        return len(sequence_lengths(n, self.length))

    def draw_units(self, params, k, rng):
        """``k`` sequences of ``L`` tokens per replicate, drawn exactly as :meth:`sample` draws
        ``k L`` tokens, with the drawing networks attached (for the ``self`` reward)."""
        text = self.sample(params, k * self.length, rng, stats=False)
        return DrawnText(text.tokens, text.starts, np.asarray(params, dtype=float))

    def take_units(self, units, index):
        """The sequences at ``index[R, S]`` of each replicate's candidates, in index order."""
        return self.text_model().take_units(units, index)

    def training_form(self, units, n, *, stats):
        """The first ``n`` tokens of the kept sequences (the last one cut to a prefix)."""
        return self.text_model().training_form(units, n, stats=stats)

    def _sequences(self, units: Sequences) -> np.ndarray:
        tokens = np.asarray(units.tokens)
        rows, m = tokens.shape
        if m % self.length:
            raise ValueError(f"units must be whole sequences of length {self.length}; got {m} "
                             "tokens")
        return tokens.reshape(rows, m // self.length, self.length)

    def _networks(self, params: np.ndarray) -> np.ndarray:
        params = np.asarray(params, dtype=float)
        if self.is_truth(params).any():
            raise ValueError("the charlm truth is real text: it has no network to score by")
        return params

    def unit_log_likelihood(self, params, units):
        """``log P(x) = Σ_i log p(x_i | BOS, x_{<i})`` of each sequence under the networks
        ``params`` (undecoded: the model itself), ``[R, k]``."""
        return self._log_probs(self._networks(params), self._sequences(units))

    def proposal_log_likelihood(self, params, units):
        """``log P(x)`` under the decoded law the candidates were drawn from (``−∞`` for a
        sequence with a token that decoding removed)."""
        return self._log_probs(self._networks(params), self._sequences(units),
                               law=self._decode())

    def reward(self, spec: str) -> Reward:
        """``self``: ``r(x) = (1/L) log P(x)`` under the network that drew ``x``, undecoded.

        ``expected(params)`` is an estimate (no closed form for a network): the mean of ``r``
        over :data:`REWARD_SEQUENCES` sequences drawn from each decoded network with uniforms
        fixed once (:data:`REWARD_SEED`), the same for every network; ``NaN`` for the truth
        (no network).

        Raises
        ------
        ConfigError
            For ``truth`` (a corpus's law is unknown) or any other text.
        """
        if spec == "truth":
            raise ConfigError("reward", "truth needs a truth whose law is known: a synthetic "
                              "language (family ngram), not a corpus")
        if spec != "self":
            raise unknown_reward(spec, self.name, self.reward_words)
        length = self.length

        def score(units):
            model = getattr(units, "model", None)
            if model is None:
                raise ValueError("the self reward scores sequences drawn by draw_units (it "
                                 "needs the model that drew them)")
            return self.unit_log_likelihood(model, units) / length

        return Reward(spec, score, self.expected_self_reward,
                      "reward: the model's own log-probability per token")

    def expected_self_reward(self, params: np.ndarray) -> np.ndarray:
        """The estimate of ``E r`` of the ``self`` reward for ``params[..., 1 + P]``."""
        params = np.asarray(params, dtype=float)
        lead = params.shape[:-1]
        flat = params.reshape(-1, params.shape[-1])
        out = np.full(flat.shape[0], np.nan)
        fitted = ~self.is_truth(flat)
        if fitted.any():
            rows = flat[fitted]
            uniforms = np.broadcast_to(_reward_uniforms(self.length),
                                       (rows.shape[0], REWARD_SEQUENCES, self.length))
            drawn = self._generate(rows, np.ascontiguousarray(uniforms))
            out[fitted] = self._log_probs(rows, drawn).mean(axis=1) / self.length
        return out.reshape(lead)


def _bounded_int(name: str, value: Any, low: int, high: int) -> int:
    number = check_int(name, value, minimum=low)
    if number > high:
        raise ConfigError(name, f"must be an integer between {low} and {high}", number)
    return number


@lru_cache(maxsize=8)
def _text_model(corpus: str, max_vocab: int, length: int, sha256: str | None) -> NGram:
    return NGram(corpus=corpus, tokens="chars", max_vocab=max_vocab, order=2, length=length,
                 corpus_sha256=sha256)


@lru_cache(maxsize=4)
def _reward_uniforms(length: int) -> np.ndarray:
    """The fixed uniforms ``[1, REWARD_SEQUENCES, L]`` of the ``self`` reward's estimate."""
    out = np.random.default_rng([REWARD_SEED, length]).random((1, REWARD_SEQUENCES, length))
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class Windows:
    """Fixed sequences ``tokens[1, W, T]`` and which of their entries are tokens, ``[W, T]``."""

    tokens: np.ndarray
    mask: np.ndarray

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("perplexity", *TEXT_METRICS)

    @property
    def n_tokens(self) -> int:
        return int(self.mask.sum())


@lru_cache(maxsize=8)
def heldout_windows(lang: Language, length: int) -> Windows:
    """The held-out chunks the perplexity is measured on: the held-out split in consecutive
    chunks of ``L`` tokens (the n-gram family's), at most :data:`MAX_HELDOUT_WINDOWS` of them,
    evenly spaced (fixed once, no random numbers)."""
    tokens, mask = pack(lang.heldout, length)
    count = tokens.shape[1]
    if count > MAX_HELDOUT_WINDOWS:
        keep = np.linspace(0, count - 1, MAX_HELDOUT_WINDOWS).round().astype(np.int64)
        tokens, mask = tokens[:, keep], mask[:, keep]
    tokens = np.ascontiguousarray(tokens)
    tokens.flags.writeable = False
    mask = np.ascontiguousarray(mask[0])
    mask.flags.writeable = False
    return Windows(tokens, mask)


def pack(data: Sequences, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Each replicate's sequences as rows of a padded array.

    Parameters
    ----------
    data
        ``R`` rows of concatenated sequences (a start mask marks each one's first token).
    length
        The longest sequence the network takes; a longer one (never made by the loop) is
        cut into pieces of at most ``length`` tokens, each read from BOS.

    Returns
    -------
    tokens
        ``int64 [R, M, T]``: sequence ``j`` of replicate ``r`` in ``tokens[r, j, :m_j]``, 0 after
        its end; ``M`` the most sequences of any replicate (a replicate with fewer has empty
        rows), ``T`` the longest sequence.
    mask
        ``bool [R, M, T]``: which entries are tokens.
    """
    tokens = np.asarray(data.tokens)
    starts = np.asarray(data.starts, dtype=bool)
    rows, n = tokens.shape
    index = np.arange(n)
    position = index - np.maximum.accumulate(np.where(starts, index, 0), axis=1)
    if n and position.max() >= length:
        starts = starts | (position % length == 0)
        position = index - np.maximum.accumulate(np.where(starts, index, 0), axis=1)
    sequence = np.cumsum(starts, axis=1) - 1
    count = int(sequence.max()) + 1 if n else 0
    width = int(position.max()) + 1 if n else 1
    out = np.zeros((rows, count, width), dtype=np.int64)
    mask = np.zeros((rows, count, width), dtype=bool)
    row = np.broadcast_to(np.arange(rows)[:, None], (rows, n))
    out[row, sequence, position] = tokens
    mask[row, sequence, position] = True
    return out, mask
