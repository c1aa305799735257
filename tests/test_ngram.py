"""The n-gram family: counting, smoothing, decoding, corpora, and its statistics.

Statistical checks follow tests/test_statistical.py: each runs on the real family, where it must
pass, and on a copy with a planted bug, where it must fail; tolerances are z·SE with the suite's
critical value (harness.Z_CRIT: α = 1e-3, Bonferroni).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import modelcollapse as mc
from harness import SEED, Check, mean_check, report, simulate
from modelcollapse import theory
from modelcollapse.families.ngram import corpora
from modelcollapse.families.ngram.model import (
    conditional_probs,
    context_ids,
    decode,
    ngram_counts,
    sequence_lengths,
    starts_of,
)
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Sequences

SRC = Path(__file__).resolve().parents[1] / "src"


def seqs(*sequences: list[int]) -> Sequences:
    """One replicate's training text from hand-written sequences."""
    tokens = np.concatenate([np.asarray(s) for s in sequences])[None].astype(np.int32)
    lengths = np.array([len(s) for s in sequences])
    return Sequences(tokens, starts_of(lengths, 1))


# -- counting ---------------------------------------------------------------------------------


def test_context_ids_are_bos_padded_and_reset_at_each_sequence():
    data = seqs([0, 1, 2], [2, 0])
    base, bos = 4, 3  # V = 3
    ctx = context_ids(data.tokens, data.starts, vocab=3, order=3)[0]
    # (older, newer) → older·base + newer
    expected = [bos * base + bos, bos * base + 0, 0 * base + 1, bos * base + bos, bos * base + 2]
    np.testing.assert_array_equal(ctx, expected)


def test_bigram_counts_of_a_hand_made_corpus():
    counts = ngram_counts(seqs([0, 1, 1, 0], [1, 0]), vocab=2, order=2)[0]
    # contexts: token 0, token 1, BOS
    np.testing.assert_array_equal(counts, [[0, 1],    # 0→1
                                           [2, 1],    # 1→0 twice, 1→1
                                           [1, 1]])   # BOS→0, BOS→1
    assert counts.sum() == 6  # one n-gram per token


def test_unigram_counts_are_token_counts():
    counts = ngram_counts(seqs([2, 2, 0], [1]), vocab=3, order=1)[0]
    np.testing.assert_array_equal(counts, [[1, 1, 2]])


def test_counts_are_per_replicate():
    data = Sequences(np.array([[0, 0], [1, 1]], dtype=np.int32), starts_of(np.array([2]), 2))
    counts = ngram_counts(data, vocab=2, order=2)
    np.testing.assert_array_equal(counts[0], [[1, 0], [0, 0], [1, 0]])
    np.testing.assert_array_equal(counts[1], [[0, 0], [0, 1], [0, 1]])


def test_sequence_lengths_cover_n_tokens():
    np.testing.assert_array_equal(sequence_lengths(23, 10), [10, 10, 3])
    np.testing.assert_array_equal(sequence_lengths(20, 10), [10, 10])
    np.testing.assert_array_equal(sequence_lengths(4, 10), [4])


# -- smoothing ---------------------------------------------------------------------------------

# "0 1 1" as one sequence: bigrams BOS→0, 0→1, 1→1 (V = 2; contexts 0, 1, BOS).
HAND = ngram_counts(seqs([0, 1, 1]), vocab=2, order=2)


def test_mle_is_relative_frequency_and_backs_off_for_an_unseen_context():
    p = conditional_probs(ngram_counts(seqs([0, 1]), vocab=2, order=2), smoothing="mle")[0]
    np.testing.assert_allclose(p[0], [0, 1])      # 0→1
    np.testing.assert_allclose(p[2], [1, 0])      # BOS→0
    np.testing.assert_allclose(p[1], [0.5, 0.5])  # context 1 never continued: unigram MLE


def test_add_k():
    p = conditional_probs(HAND, smoothing="add-k", add_k=0.5)[0]
    np.testing.assert_allclose(p[0], [0.5 / 2, 1.5 / 2])  # (c + k)/(c(h) + kV), c(h) = 1
    np.testing.assert_allclose(p[2], [1.5 / 2, 0.5 / 2])


def test_kneser_ney_by_hand():
    # Continuation counts: N1+(•0) = |{BOS}| = 1, N1+(•1) = |{0, 1}| = 2; total 3, 2 types.
    # p1(0) = (1 − D + D·2·½)/3 = 1/3, p1(1) = 2/3 with D = ¾.
    # p(·|0) = (max(c − D, 0) + D·1·p1)/1 = (¼·p1(0)·3, ¼ + ½) = (¼, ¾); same for context 1.
    # p(·|BOS) = (¼ + ¼, ½) = (½, ½).
    p = conditional_probs(HAND, smoothing="kn", discount=0.75)[0]
    np.testing.assert_allclose(p[0], [0.25, 0.75])
    np.testing.assert_allclose(p[1], [0.25, 0.75])
    np.testing.assert_allclose(p[2], [0.5, 0.5])


def test_smoothed_rows_are_distributions_and_kn_add_k_are_positive():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.3, size=(2, 11 * 11, 10))  # order 3, V = 10, sparse
    for smoothing in ("mle", "add-k", "kn"):
        p = conditional_probs(counts, smoothing=smoothing)
        np.testing.assert_allclose(p.sum(axis=-1), 1.0)
        if smoothing != "mle":
            assert (p > 0).all(), smoothing


# -- decoding: truncation only removes tokens ---------------------------------------------------


def test_top_p_keeps_the_smallest_nucleus():
    p = np.array([[0.5, 0.3, 0.15, 0.05]])
    np.testing.assert_allclose(decode(p, top_p=0.8), [[0.625, 0.375, 0, 0]])  # 0.5+0.3 reaches
    np.testing.assert_allclose(decode(p, top_p=0.81), [[0.5, 0.3, 0.15, 0]] / np.float64(0.95))
    np.testing.assert_allclose(decode(p, top_p=0.1), [[1, 0, 0, 0]])  # the top token always
    np.testing.assert_allclose(decode(p, top_p=1.0), p)


def test_top_k_and_temperature():
    p = np.array([[0.1, 0.6, 0.3]])
    np.testing.assert_allclose(decode(p, top_k=1), [[0, 1, 0]])
    np.testing.assert_allclose(decode(p, top_k=2), [[0, 2 / 3, 1 / 3]])
    cooled = p ** 2 / (p ** 2).sum()
    np.testing.assert_allclose(decode(p, temperature=0.5), cooled)
    assert (decode(p, temperature=0.5, top_p=0.5) == [[0, 1, 0]]).all()


def test_top_k_one_collapses_to_a_single_path():
    fam = mc.NGram(vocab=30, order=2, length=12, top_k=1, smoothing="mle")
    rng = np.random.default_rng(SEED)
    truth = fam.truth()[None].repeat(3, axis=0)
    params, _ = fam.fit(fam.sample(truth, 600, rng, stats=False), rng=rng, previous=truth)
    text = fam.sample(params, 600, rng, stats=False).tokens.reshape(3, 50, 12)
    assert (text == text[:, :1]).all()  # every sequence is the model's greedy path
    # ... and in the loop: from training set 2 on, at most L types and L bigrams survive
    result = simulate_block(fam, mc.Replace(), n_samples=600, n_generations=4, n_replicates=3,
                            rng=rng)
    assert (result.metrics["support"][:, 2:] <= 12).all()
    assert (result.metrics["types_2"][:, 2:] <= 11).all()
    assert (result.metrics["support"][:, 1] > 12).all()  # training set 1 is real text


def test_top_p_never_generates_a_token_outside_the_nucleus():
    fam = mc.NGram(vocab=40, order=2, length=10, top_p=0.6)
    rng = np.random.default_rng(SEED)
    truth = fam.truth()[None].repeat(2, axis=0)
    params, _ = fam.fit(fam.sample(truth, 2000, rng, stats=False), rng=rng, previous=truth)
    allowed = decode(fam.model_probs(params), top_p=0.6) > 0
    text = fam.sample(params, 20_000, rng, stats=False)
    seen = ngram_counts(text, vocab=40, order=2) > 0
    assert not (seen & ~allowed).any()
    assert (allowed.sum(axis=-1) < 40).all()  # and it does remove tokens


# -- the synthetic truth and its metrics ------------------------------------------------------


def test_truth_is_exact_and_its_metrics_are_its_own():
    fam = mc.NGram(vocab=50, order=3, length=20)
    lang = fam.language()
    np.testing.assert_allclose(lang.probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(lang.freq.sum(), 1.0)
    m = fam.metrics(fam.truth()[None])
    assert m["kl_rate"][0] == 0.0
    assert m["support"][0] == 50
    np.testing.assert_allclose(m["tail_share"][0], lang.freq.sum(axis=0)[lang.tail].sum())
    assert lang.tail.sum() == 5


def test_order_one_truth_is_categoricals_zipf():
    fam, cat = mc.NGram(order=1, vocab=20, zipf=1.3), mc.Categorical(vocab=20, zipf=1.3)
    np.testing.assert_allclose(fam.language().probs[0], cat.truth())
    np.testing.assert_allclose(fam.metrics(fam.truth()[None])["entropy"],
                               cat.metrics(cat.truth()[None])["entropy"])


def test_mle_perplexity_is_infinite_when_a_held_out_ngram_is_lost_and_others_finite():
    results = {}
    for smoothing in ("mle", "add-k", "kn"):
        fam = mc.NGram(vocab=50, length=10, smoothing=smoothing)
        results[smoothing] = simulate_block(fam, mc.Replace(), n_samples=300, n_generations=3,
                                            n_replicates=2, rng=np.random.default_rng(1))
    assert np.isinf(results["mle"].metrics["perplexity"][:, 1:]).all()
    assert np.isinf(results["mle"].metrics["kl_rate"][:, 1:]).all()
    for smoothing in ("add-k", "kn"):
        for name, values in results[smoothing].metrics.items():
            assert np.isfinite(values).all(), (smoothing, name)


def test_degenerate_text_is_a_result():
    """A truth with all mass on one token after each context: zero counts everywhere else."""
    fam = mc.NGram(vocab=5, order=2, length=5, density=1e-9, zipf=30.0, smoothing="mle")
    result = simulate_block(fam, mc.Replace(), n_samples=50, n_generations=4, n_replicates=2,
                            rng=np.random.default_rng(0))
    assert (result.metrics["support"] == 1).all()
    assert (result.metrics["entropy"] == 0).all()
    assert np.isfinite(np.stack(list(result.metrics.values()))).all()


def test_sequences_subsample_keeps_whole_sequences():
    tokens = np.arange(40, dtype=np.int32).reshape(2, 20)
    data = Sequences(tokens, starts_of(np.array([5, 5, 5, 5]), 2))
    sub = data.subsample(10, np.random.default_rng(0))
    assert sub.size == 10
    for row in range(2):
        pieces = sub.tokens[row].reshape(2, 5)
        assert (np.diff(pieces, axis=1) == 1).all() and (pieces[:, 0] % 5 == 0).all()
        assert sub.starts[row, 0] and sub.starts[row, 5]
    cut = data.subsample(7, np.random.default_rng(1))  # one whole sequence and a prefix
    assert cut.starts.sum(axis=1).tolist() == [2, 2]


# -- statistics (each with a planted bug) -----------------------------------------------------


@dataclass(frozen=True)
class ShortSequenceNGram(mc.NGram):
    """Bug: each generated sequence loses its last token (an off-by-one in the length)."""

    def sample(self, params, n, rng, *, stats):
        return super().sample(params, n - n // self.length, rng, stats=stats)


@dataclass(frozen=True)
class ShuffledHeldoutNGram(mc.NGram):
    """Bug: the held-out text is shuffled (token order, hence every context, is lost)."""

    def language(self):
        lang = super().language()
        tokens = np.random.default_rng(0).permutation(lang.heldout.tokens[0])[None]
        held = Sequences(tokens, lang.heldout.starts)
        ids = (context_ids(held.tokens, held.starts, vocab=self.vocab, order=self.order)
               * self.vocab + held.tokens)[0]
        unique, counts = np.unique(ids, return_counts=True)
        return dataclasses.replace(lang, heldout=held, heldout_ids=unique,
                                   heldout_counts=counts.astype(float))


def order_one_support(family: mc.NGram) -> list[Check]:
    """Order 1 under ``replace`` is ``categorical``: exact E support_t (t = 1, 5)."""
    n, g = 50, 5
    q = mc.Categorical(vocab=family.vocab, zipf=family.zipf).truth()
    exact = theory.categorical_expected_support(q, n, g, theory.pieces(mc.Replace(), n))
    support = simulate(family, n_samples=n, n_generations=g,
                       n_replicates=4000).trajectories("support")
    return [mean_check(f"E support_{t}, order 1 = categorical", support[:, t], exact[t])
            for t in (1, g)]


def truth_perplexity(family: mc.NGram) -> list[Check]:
    """log perplexity of the truth on its held-out text = its entropy rate, within SE."""
    true_lang = mc.NGram(**{f.name: getattr(family, f.name)
                            for f in dataclasses.fields(mc.NGram)}).language()
    log_ppl = np.log(family.metrics(family.truth()[None])["perplexity"][0])
    # SE from the (true) held-out sequences, which are independent (each starts at BOS).
    held = true_lang.heldout
    ctx = context_ids(held.tokens, held.starts, vocab=family.vocab, order=family.order)[0]
    with np.errstate(divide="ignore"):
        loss = -np.log(true_lang.probs[ctx, held.tokens[0]])
    per_sequence = loss.reshape(-1, family.length).mean(axis=1)
    check = mean_check("log perplexity of the truth = entropy rate", per_sequence,
                       true_lang.entropy_rate)
    check = dataclasses.replace(check, simulated=float(log_ppl))
    return [check]


NGRAM_CHECKS = {
    "order_one_support": (lambda: order_one_support(
        mc.NGram(order=1, vocab=20, zipf=1.0, length=10, smoothing="mle")),
        lambda: order_one_support(
        ShortSequenceNGram(order=1, vocab=20, zipf=1.0, length=10, smoothing="mle"))),
    "truth_perplexity": (lambda: truth_perplexity(
        mc.NGram(vocab=100, order=2, length=50, heldout=100_000)),
        lambda: truth_perplexity(ShuffledHeldoutNGram(vocab=100, order=2, length=50,
                                                      heldout=100_000))),
}


@pytest.mark.parametrize("name", list(NGRAM_CHECKS))
def test_ngram_statistics(name):
    checks = NGRAM_CHECKS[name][0]()
    assert all(c.passed for c in checks), report(checks)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", list(NGRAM_CHECKS))
def test_ngram_planted_bug_is_caught(name):
    checks = NGRAM_CHECKS[name][1]()
    assert not all(c.passed for c in checks), report(checks)


def test_order_one_agrees_with_categorical_in_distribution():
    """Same support and entropy laws (two-sample: means within z·SE of each other)."""
    n, g, r = 50, 4, 2000
    ngram = simulate(mc.NGram(order=1, vocab=20, length=7, smoothing="mle"), n_samples=n,
                     n_generations=g, n_replicates=r)
    cat = simulate(mc.Categorical(vocab=20), n_samples=n, n_generations=g, n_replicates=r,
                   seed=SEED + 1)
    for metric in ("support", "entropy"):
        a, b = ngram.trajectories(metric)[:, g], cat.trajectories(metric)[:, g]
        z = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / r + b.var(ddof=1) / r)
        assert abs(z) < 4.0, (metric, z)


# -- corpora --------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "holds no"),
    (b"   \n\t ", "holds no"),
    (b"hello", "at least 2 distinct tokens"),
    (b"caf\xe9 au lait", "must be UTF-8 text; byte 0xe9 at offset 3"),
])
def test_corpus_edge_cases_give_clear_errors(tmp_path, data, message):
    path = write(tmp_path, "corpus.txt", data)
    with pytest.raises(mc.ConfigError, match=message) as err:
        mc.NGram(corpus=path, tokens="words")
    assert err.value.field == "corpus"


def test_missing_corpus_and_misplaced_options(tmp_path):
    with pytest.raises(mc.ConfigError, match="existing text file"):
        mc.NGram(corpus=str(tmp_path / "nope.txt"))
    path = write(tmp_path, "c.txt", b"a b a c " * 20)
    with pytest.raises(mc.ConfigError, match="does not apply with corpus"):
        mc.NGram(corpus=path, vocab=10)
    with pytest.raises(mc.ConfigError, match="training text"):
        mc.NGram(corpus=path, tokens="words", length=1000)
    with pytest.raises(mc.ConfigError, match="lower the order"):
        mc.NGram(vocab=1000, order=3)


def test_corpus_cli_error_is_one_line(tmp_path):
    path = write(tmp_path, "empty.txt", b"")
    proc = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "ngram", "--corpus",
                           path, "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--corpus" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corpus_vocabulary_cap_and_text():
    corpus = corpora.load_corpus("demo", tokens="words", max_vocab=50)
    assert len(corpus.vocabulary) == 50 and corpus.vocabulary[-1] == corpora.UNKNOWN
    assert (corpus.tokens == 49).mean() > 0.1  # the long tail became <unk>
    chars = corpora.load_corpus("demo", tokens="chars", max_vocab=1000)
    assert corpora.UNKNOWN not in chars.vocabulary
    assert chars.text(chars.tokens[:200]) == corpora.demo_text()[:200]


def test_corpus_training_chunks_come_from_the_training_text(tmp_path):
    text = "".join(chr(ord("a") + (i * 7) % 26) for i in range(3000)).encode()
    fam = mc.NGram(corpus=write(tmp_path, "c.txt", text), length=20, order=3)
    lang = fam.language()
    train = "".join(lang.words[t] for t in lang.train)
    assert len(train) == 2700  # the last 10% is held out
    data = fam.sample(fam.truth()[None].repeat(2, axis=0), 95, np.random.default_rng(0),
                      stats=False)
    assert data.starts.sum(axis=1).tolist() == [5, 5]
    for row in range(2):
        chunk = "".join(lang.words[t] for t in data.tokens[row, :20])
        assert chunk in train
    assert "kl_rate" not in fam.metric_names


def test_corpus_hash_is_part_of_the_identity(tmp_path):
    path = write(tmp_path, "c.txt", b"the cat sat on the mat . " * 30)
    first = mc.RunConfig(mc.NGram(corpus=path, tokens="words"), seed=1)
    corpora.load_corpus.cache_clear()
    Path(path).write_bytes(b"the dog sat on the log . " * 30)
    second = mc.RunConfig(mc.NGram(corpus=path, tokens="words"), seed=1)
    assert first.stream_key != second.stream_key
    with pytest.raises(mc.ConfigError, match="has changed"):
        mc.RunConfig.from_dict(first.to_dict())


@pytest.mark.parametrize("policy", mc.POLICIES.names())
def test_demo_corpus_runs_under_every_policy(policy):
    settings = {"replace": {}, "augment": {"synthetic": 0.5}}.get(policy, {"real": 0.1})
    fam = mc.NGram(corpus="demo", order=2, length=30)
    result = simulate_block(fam, mc.get_policy(policy, **settings), n_samples=600,
                            n_generations=3, n_replicates=2, rng=np.random.default_rng(0))
    for name, values in result.metrics.items():
        assert np.isfinite(values).all(), name
    assert set(result.excerpts) == {0, 1, 2}


# -- the run's sample texts --------------------------------------------------------------------


def test_run_writes_sample_texts(tmp_path):
    config = mc.RunConfig(mc.NGram(vocab=30, length=8), n_samples=200, n_generations=4,
                          n_replicates=5, seed=3)
    result = mc.run(config, out=tmp_path / "run", plots=False)
    samples = mc.load(result.path).samples
    assert sorted(samples.replicate.unique()) == [0, 1, 2]
    assert sorted(samples.generation.unique()) == [0, 1, 2, 3]  # model 4 is never sampled
    assert samples.text.str.split().map(len).eq(8).all()
    assert result.manifest["files"]["samples"] == "samples.parquet"


# -- the decoding-truncation study -------------------------------------------------------------


def test_collapse_speed_ngram_orders_the_truncations(tmp_path):
    from modelcollapse.api import collapse_speed

    report_ = collapse_speed("ngram", out=tmp_path / "speed", plots=False, n_samples=2000,
                             n_generations=4, n_replicates=20, top_ps=(1.0, 0.8),
                             real_fractions=(0.0, 0.1), seed=SEED)
    result = report_.result
    assert len(result.cells) == 4 and len(result.table()) == 4
    assert len(result.curves()) == 4 * 5
    plain, cut = result.cell(1.0, 0.0), result.cell(0.8, 0.0)
    assert cut.tail[2] < plain.tail[2] - 5 * np.hypot(cut.tail_se[2], plain.tail_se[2])
    assert result.cell(0.8, 0.1).support[-1] > cut.support[-1]  # real text keeps types alive
    assert (tmp_path / "speed" / "collapse-speed.csv").is_file()
    with pytest.raises(mc.ConfigError, match="top_ps"):
        collapse_speed("ngram", out=tmp_path / "bad", top_ps=(1.2,))


def test_collapse_speed_cli_rejects_options_of_other_targets(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "modelcollapse", "collapse-speed", "ngram",
                           "--ks", "1,2", "--out", str(tmp_path / "x")], capture_output=True,
                          text=True, env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert proc.returncode == 2 and "--ks does not apply to collapse-speed ngram" in proc.stderr
