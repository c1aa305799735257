"""Text corpora for the n-gram family: a user's file or the built-in demo, as token ids.

This is the only module that reads text from disk for a family. The :class:`~modelcollapse.
families.ngram.NGram` family calls :func:`load_corpus` when it is built, never in the generation
loop, and identifies the corpus by its settings and the SHA-256 of its bytes (so a changed file
changes the random streams, and a stored run refuses a corpus that has changed since).

Tokenisation
    ``chars``: every Unicode character is a token (spaces and newlines included).
    ``words``: maximal runs of word characters and single punctuation marks (the regular expression
    ``\\w+|[^\\w\\s]``); whitespace only separates tokens. Case is kept.

Vocabulary
    Types are ranked by frequency (ties in code-point order), so token id 0 is the most frequent.
    With more than ``max_vocab`` types, the ``max_vocab − 1`` most frequent are kept and every
    other token becomes ``<unk>`` (the last id).

The demo corpus
    The documentation topics that ship with every CPython installation (``pydoc_data.topics``,
    the text behind ``help("if")`` and friends): about 465 000 characters, 114 000 word tokens, of
    real technical English, available offline. Its text (and hash) varies slightly between Python
    versions.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import ConfigError

#: ``--corpus`` value naming the built-in corpus.
DEMO = "demo"
TOKENISERS = ("chars", "words")
UNKNOWN = "<unk>"
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, eq=False)
class Corpus:
    """A tokenised text.

    Attributes
    ----------
    tokens
        Token ids, ``int32 [n]``, in text order.
    vocabulary
        The string of each id (id 0 the most frequent).
    separator
        What joins tokens back into text (``""`` for characters, ``" "`` for words).
    sha256
        Hex digest of the source's bytes (UTF-8 for the demo).
    source
        ``"demo"`` or the file's absolute path.
    """

    tokens: np.ndarray
    vocabulary: tuple[str, ...]
    separator: str
    sha256: str
    source: str

    def text(self, ids: np.ndarray) -> str:
        """Token ids back to text."""
        return self.separator.join(self.vocabulary[int(i)] for i in ids)


def demo_text() -> str:
    """The demo corpus: every topic of ``pydoc_data.topics``, in key order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))


def resolve_source(corpus: str) -> str:
    """``"demo"`` unchanged, a file path made absolute (so a stored run finds it again)."""
    if corpus == DEMO:
        return DEMO
    return str(Path(corpus).expanduser().resolve())


def read_source(source: str) -> tuple[str, str]:
    """The text of ``source`` and the SHA-256 of its bytes.

    Raises
    ------
    ConfigError
        For a missing or unreadable file, or one that is not UTF-8 text.
    """
    if source == DEMO:
        text = demo_text()
        return text, hashlib.sha256(text.encode()).hexdigest()
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("corpus", "must name an existing text file (or be 'demo')",
                          source) from None
    except IsADirectoryError:
        raise ConfigError("corpus", "must be a text file, not a folder", source) from None
    except OSError as err:
        raise ConfigError("corpus", f"cannot be read: {err.strerror}", source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError("corpus", f"must be UTF-8 text; byte 0x{data[err.start]:02x} at "
                          f"offset {err.start} is not (convert it, e.g. with iconv)",
                          source) from None
    return text, hashlib.sha256(data).hexdigest()


def tokenise(text: str, tokens: str) -> list[str]:
    """Split ``text`` into tokens (``"chars"`` or ``"words"``)."""
    if tokens == "chars":
        return list(text)
    return _WORD.findall(text)


@lru_cache(maxsize=8)
def load_corpus(source: str, *, tokens: str, max_vocab: int) -> Corpus:
    """Read, hash and tokenise a corpus (cached: families are rebuilt often, files read once).

    Parameters
    ----------
    source
        ``"demo"`` or an absolute file path (:func:`resolve_source`).
    tokens
        ``"chars"`` or ``"words"``.
    max_vocab
        Largest vocabulary; rarer types become ``<unk>``.

    Raises
    ------
    ConfigError
        An unreadable or non-UTF-8 file, one that is empty or only whitespace, or text with
        fewer than two distinct tokens.
    """
    text, digest = read_source(source)
    where = "the demo corpus" if source == DEMO else source
    if not text.strip():  # whitespace is a token of ``chars``, but no text to learn from
        raise ConfigError("corpus", "holds no text to learn from (the file is "
                          + ("empty)" if not text else "only whitespace)"), where)
    pieces = tokenise(text, tokens)
    if not pieces:
        raise ConfigError("corpus", f"holds no {tokens} tokens (the file is empty or only "
                          "whitespace)", where)
    counts = Counter(pieces)
    if len(counts) < 2:
        raise ConfigError("corpus", f"must hold at least 2 distinct tokens to learn from; it "
                          f"has {len(pieces)} token(s) of 1 type ({pieces[0]!r})", where)
    ranked = sorted(counts, key=lambda s: (-counts[s], s))
    if len(ranked) > max_vocab:
        kept = ranked[:max_vocab - 1]
        vocabulary = (*kept, UNKNOWN)
    else:
        vocabulary = tuple(ranked)
    index = {s: i for i, s in enumerate(vocabulary)}
    unknown = len(vocabulary) - 1
    ids = np.fromiter((index.get(s, unknown) for s in pieces), dtype=np.int32,
                      count=len(pieces))
    return Corpus(ids, vocabulary, "" if tokens == "chars" else " ", digest, source)
