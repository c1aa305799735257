"""n-gram fitting and sampling, tokens per second: a dictionary of counts against modelcollapse.

The reference is what one writes first: ``counts[context][token] += 1`` over every token with the
context a tuple, and generation token by token from the smoothed counts of the current context
(its cumulative weights cached per context, then a binary search: already the fast variant of
``random.choices``). modelcollapse counts with one ``bincount`` over integer n-gram ids and
generates with a compiled inversion kernel from the smoothed table. Both use add-one smoothing
(so every context has a distribution), BOS-padded sequences of length 50, one thread, in
process; timed side by side in interleaved rounds, medians.

    python benchmarks/bench_ngram.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
from collections import defaultdict
from functools import partial

import numpy as np
from common import interleaved, save, table

import modelcollapse as mc
from modelcollapse.families.ngram.model import sequence_lengths, starts_of
from modelcollapse.training_sets import Sequences

LENGTH = 50
SIZES = ((100, 2, 100_000), (1000, 2, 100_000), (30, 3, 100_000))  # V, n, tokens


def reference_fit(sequences: list[list[int]], order: int) -> dict[tuple[int, ...], dict[int, int]]:
    """Counts of every (context, token), the context a tuple of the previous n − 1 tokens."""
    counts: dict[tuple[int, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    start = (-1,) * (order - 1)  # BOS
    for sequence in sequences:
        context = start
        for token in sequence:
            counts[context][token] += 1
            context = (*context, token)[1:] if order > 1 else context
    return counts


def reference_sample(counts, vocab: int, order: int, n_tokens: int, add_k: float,
                     rng: random.Random) -> list[list[int]]:
    """Sequences of length ``LENGTH`` from the add-k smoothed counts."""
    cache: dict[tuple[int, ...], list[float]] = {}
    start = (-1,) * (order - 1)
    out = []
    for length in sequence_lengths(n_tokens, LENGTH):
        context, sequence = start, []
        for _ in range(int(length)):
            cdf = cache.get(context)
            if cdf is None:
                seen = counts.get(context, {})
                cdf = list(itertools.accumulate(seen.get(w, 0) + add_k for w in range(vocab)))
                cache[context] = cdf
            token = bisect.bisect_right(cdf, rng.random() * cdf[-1])
            sequence.append(token)
            context = (*context, token)[1:] if order > 1 else context
        out.append(sequence)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for vocab, order, n_tokens in SIZES:
        family = mc.NGram(vocab=vocab, order=order, length=LENGTH, smoothing="add-k")
        rng = np.random.default_rng(1)
        truth = family.truth()[None]
        text = family.sample(truth, n_tokens, rng, stats=False)  # training text from the truth
        params, _ = family.fit(text, rng=rng, previous=truth)
        lists = [s.tolist() for s in np.split(text.tokens[0], np.cumsum(
            sequence_lengths(n_tokens, LENGTH))[:-1])]
        ref_counts = reference_fit(lists, order)
        py_rng = random.Random(1)
        block = 16
        wide = Sequences(np.repeat(text.tokens, block, axis=0),
                         starts_of(sequence_lengths(n_tokens, LENGTH), block))
        many = np.repeat(params, block, axis=0)
        fit = partial(family.fit, rng=rng, previous=truth)
        sample = partial(family.sample, n=n_tokens, rng=rng, stats=False)
        times = interleaved({
            "reference fit": partial(reference_fit, lists, order),
            "fit": partial(fit, text),
            "fit ×16": partial(fit, wide),
            "reference sample": partial(reference_sample, ref_counts, vocab, order, n_tokens,
                                        1.0, py_rng),
            "sample": partial(sample, params),
            "sample ×16": partial(sample, many),
        }, args.repeats)
        rate = {name: (16 if "×16" in name else 1) * n_tokens / seconds
                for name, seconds in times.items()}
        rows.append({
            "V": vocab, "n": order, "tokens": n_tokens,
            "fit ref (Mtok/s)": rate["reference fit"] / 1e6,
            "fit (Mtok/s)": rate["fit"] / 1e6,
            "fit ×16 (Mtok/s)": rate["fit ×16"] / 1e6,
            "fit ratio": rate["fit"] / rate["reference fit"],
            "sample ref (Mtok/s)": rate["reference sample"] / 1e6,
            "sample (Mtok/s)": rate["sample"] / 1e6,
            "sample ×16 (Mtok/s)": rate["sample ×16"] / 1e6,
            "sample ratio": rate["sample"] / rate["reference sample"],
        })
    print(table(rows, list(rows[0])))
    print(f"written {save('ngram', {'repeats': args.repeats, 'length': LENGTH, 'rows': rows})}")


if __name__ == "__main__":
    main()
