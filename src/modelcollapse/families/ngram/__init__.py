"""The n-gram language-model family: a model refitted to text it generated, with decoding.

=================  ==========================================================================
``family.py``      :class:`NGram`: settings, metrics, and the loop's fit/sample
``model.py``       counting n-grams, smoothing (mle, add-k, Kneser–Ney) and decoding
                   (temperature, top-k, top-p): pure functions on arrays
``sampling.py``    generating token sequences from a model (a compiled kernel)
``scoring.py``     whole sequences as curation units: their likelihoods under the generator's
                   law, and exact expectations over them (the metric ``reward``)
``language.py``    the truth: a synthetic Zipfian Markov chain or a corpus, with its tables
``corpora.py``     reading and tokenising a text file or the demo corpus
=================  ==========================================================================
"""

from __future__ import annotations

from .family import NGram

__all__ = ["NGram"]
